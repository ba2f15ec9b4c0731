//go:build !(invariants || race)

package zset

// invariants enables cheap consistency checks (stale Refs, inserting a
// present member) in builds with the invariants or race tag.
const invariants = false
