//go:build race

package quicklist

const raceEnabled = true
