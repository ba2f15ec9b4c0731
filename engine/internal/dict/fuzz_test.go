package dict

import (
	"bytes"
	"testing"
)

// FuzzOps reads operations from the input and applies them to a hash and
// a set and to Go maps, checking every result and, at the end, every
// invariant. Each operation is an opcode byte, a key byte (256 keys, some
// long) and, for writes, a length byte for the value.
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 5, 0, 2, 200, 3, 1, 0, 2, 2, 0})
	f.Add(bytes.Repeat([]byte{0, 7, 40, 1, 9, 0, 4, 7, 0}, 50))
	f.Add(bytes.Repeat([]byte{0, 0, 255, 0, 0, 3}, 80))
	f.Fuzz(func(t *testing.T, ops []byte) {
		h, s := NewHash(0), NewSet(0)
		hm, sm := map[string]string{}, map[string]bool{}
		scanCursor := uint64(0)
		for len(ops) >= 2 {
			op, kb := ops[0], ops[1]
			ops = ops[2:]
			key := fuzzKey(kb)
			switch op % 8 {
			case 0, 1: // Set / Add
				n := 0
				if len(ops) > 0 {
					n = int(ops[0]) * (1 + int(ops[0])/64) // up to ~1 KiB and beyond
					ops = ops[1:]
				}
				val := bytes.Repeat([]byte{kb ^ byte(n)}, n)
				_, had := hm[string(key)]
				if op%8 == 0 {
					if h.Set(key, val) == had {
						t.Fatalf("Set(%q) inserted=%v with had=%v", key, !had, had)
					}
					hm[string(key)] = string(val)
				} else {
					if h.Add(key, val) == had {
						t.Fatalf("Add(%q) inserted=%v with had=%v", key, !had, had)
					}
					if !had {
						hm[string(key)] = string(val)
					}
				}
				if s.Add(key, nil) == sm[string(key)] {
					t.Fatalf("set Add(%q) wrong", key)
				}
				sm[string(key)] = true
			case 2, 3: // Delete
				_, had := hm[string(key)]
				if h.Delete(key) != had || s.Delete(key) != sm[string(key)] {
					t.Fatalf("Delete(%q) disagrees with model", key)
				}
				delete(hm, string(key))
				delete(sm, string(key))
			case 4: // Get
				v, ok := h.Get(key)
				mv, mok := hm[string(key)]
				if ok != mok || string(v) != mv || s.Exists(key) != sm[string(key)] {
					t.Fatalf("Get(%q) = %q,%v; model %q,%v", key, v, ok, mv, mok)
				}
			case 5: // Random
				k, v, ok := h.Random(uint64(kb) * 0x9e3779b97f4a7c15)
				if ok != (len(hm) > 0) {
					t.Fatalf("Random ok=%v with %d elements", ok, len(hm))
				}
				if mv, mok := hm[string(k)]; ok && (!mok || mv != string(v)) {
					t.Fatalf("Random returned %q=%q, not in model", k, v)
				}
			case 6: // Scan step
				scanCursor = s.Scan(scanCursor, int(kb%8), func(k, _ []byte) {
					if !sm[string(k)] {
						t.Fatalf("Scan returned %q, not in model", k)
					}
				})
			case 7: // idle housekeeping
				h.Rehash(int(kb % 4))
				s.Rehash(int(kb % 4))
			}
		}
		sameContents(t, h, hm)
		set := map[string]string{}
		for k := range sm {
			set[k] = ""
		}
		sameContents(t, s, set)
	})
}

func fuzzKey(b byte) []byte {
	if b >= 250 {
		return bytes.Repeat([]byte{b}, 300*int(b-249)) // long keys: huge records
	}
	return []byte{'k', b, b % 7}
}
