//go:build !(invariants || race)

package dict

// invariants enables cheap consistency checks (changes inside All) in
// builds with the invariants or race tag.
const invariants = false
