//go:build race

package engine

// setsRace is true in race builds, where the race detector and the
// invariant checks of the internal containers allocate: the allocation
// tests of the set family skip there.
const setsRace = true
