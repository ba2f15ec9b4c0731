//go:build invariants || race

package kv

// invariants enables cheap consistency checks (stale Refs, inserting a
// present key) in builds with the invariants or race tag.
const invariants = true
