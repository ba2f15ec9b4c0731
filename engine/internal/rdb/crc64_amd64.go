package rdb

import "golang.org/x/sys/cpu"

// hasCLMUL: PCLMULQDQ, and SSE4.1 for PEXTRQ, present.
var hasCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41
