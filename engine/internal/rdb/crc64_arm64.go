package rdb

import "golang.org/x/sys/cpu"

// hasCLMUL: the crypto extension's 64-bit polynomial multiply present.
var hasCLMUL = cpu.ARM64.HasPMULL
