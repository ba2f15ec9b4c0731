package zset

import (
	"fmt"
	"testing"
)

// TestScanDuringResize checks Redis's SCAN guarantee across index resizes:
// elements present for the whole scan are returned at least once while
// other elements are added (growing the index) or removed (shrinking it)
// between calls.
func TestScanDuringResize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		start, add int
		del        int
	}{
		{"grow", 1000, 20, 0},
		{"shrink", 20000, 0, 40},
		{"both", 5000, 30, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			keep := map[string]bool{}
			for i := range tc.start {
				m := fmt.Sprintf("m%d", i)
				s.Insert([]byte(m), float64(i))
				if i%10 == 0 {
					keep[m] = true
				}
			}
			seen := map[string]bool{}
			next, del, calls := tc.start, 0, 0
			resized := false
			for cur := uint64(0); ; {
				cur = s.Scan(cur, func(r Ref) { seen[string(s.Member(r))] = true })
				calls++
				if cur == 0 {
					break
				}
				if calls > 1<<16 {
					t.Fatal("scan does not end")
				}
				for k := 0; k < tc.add && calls < 200; k++ {
					s.Insert([]byte(fmt.Sprintf("m%d", next)), 0)
					next++
				}
				for k := 0; k < tc.del && del < tc.start; del++ {
					if del%10 != 0 {
						s.Delete([]byte(fmt.Sprintf("m%d", del)))
						k++
					}
				}
				resized = resized || s.d.rehashing
			}
			if !resized {
				t.Error("the index never resized during the scan")
			}
			for m := range keep {
				if !seen[m] {
					t.Fatalf("%q present throughout but not returned", m)
				}
			}
			if err := s.checkInvariants(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
