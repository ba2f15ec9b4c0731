//go:build !race

package quicklist

const raceEnabled = false
