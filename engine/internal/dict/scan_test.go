package dict

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestScanComplete checks that a scan of a dict that does not change
// returns every element exactly once, for sizes around table boundaries
// and for several COUNT values, including in the middle of a resize.
func TestScanComplete(t *testing.T) {
	for _, n := range []int{0, 1, 3, 4, 5, 100, 1000, 4097, 20000} {
		for _, count := range []int{1, 10, 1000} {
			for _, midResize := range []bool{false, true} {
				d := NewSet(0)
				for i := range n {
					d.Add(fmt.Appendf(nil, "m%d", i), nil)
				}
				if midResize && n > 16 {
					// Delete down to under 1/8 full and stop early in
					// the shrink; then add back to the same count.
					for i := range n {
						d.Delete(fmt.Appendf(nil, "m%d", i))
						if d.rehashing {
							break
						}
					}
				}
				if midResize && n > 16 && !d.rehashing {
					t.Fatalf("n=%d: no resize in progress", n)
				}
				want := check(t, d)
				seen := map[string]int{}
				cursor, calls := uint64(0), 0
				for {
					cursor = d.Scan(cursor, count, func(k, v []byte) { seen[string(k)]++ })
					calls++
					if cursor == 0 {
						break
					}
					if calls > 10*len(want)+100 {
						t.Fatalf("n=%d: scan does not end", n)
					}
				}
				for k := range want {
					if seen[k] != 1 {
						t.Fatalf("n=%d count=%d rehashing=%v: %q seen %d times", n, count, d.rehashing, k, seen[k])
					}
				}
				if len(seen) != len(want) {
					t.Fatalf("n=%d: scan returned %d keys, dict has %d", n, len(seen), len(want))
				}
			}
		}
	}
}

// TestScanAcrossResizes changes the dict between every pair of Scan
// calls so that it grows and shrinks several times during one scan, and
// checks Redis's guarantee: every element present from the start of the
// scan to its end is returned at least once.
func TestScanAcrossResizes(t *testing.T) {
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 99))
		d := NewHash(0)
		const stable = 300
		for i := range stable {
			d.Set(fmt.Appendf(nil, "stable:%d", i), fmt.Appendf(nil, "v%d", i))
		}
		churn := 0 // churn:0 .. churn:churn-1 may be present
		seen := map[string]bool{}
		sizes := map[uint64]bool{}
		grows, shrinks := 0, 0
		last := d.t[0].size()
		cursor := uint64(0)
		for calls := 0; ; calls++ {
			cursor = d.Scan(cursor, 1+rng.IntN(5), func(k, v []byte) {
				seen[string(k)] = true
			})
			if cursor == 0 {
				break
			}
			if calls > 1_000_000 {
				t.Fatal("scan does not end")
			}
			// Swing between growing to thousands and shrinking back.
			phase := (calls / 40) % 2
			for range 1 + rng.IntN(200) {
				if phase == 0 {
					d.Set(fmt.Appendf(nil, "churn:%d", churn), []byte("x"))
					churn++
				} else if churn > 0 {
					churn--
					d.Delete(fmt.Appendf(nil, "churn:%d", churn))
				}
			}
			if s := d.t[0].size(); s != last {
				if s > last {
					grows++
				} else {
					shrinks++
				}
				last = s
			}
			sizes[d.t[0].size()] = true
		}
		check(t, d)
		for i := range stable {
			if k := fmt.Sprintf("stable:%d", i); !seen[k] {
				t.Fatalf("seed %d: %q present throughout, never returned", seed, k)
			}
		}
		if grows < 2 || shrinks < 2 {
			t.Fatalf("seed %d: only %d grows and %d shrinks during the scan", seed, grows, shrinks)
		}
		t.Logf("seed %d: %d grows, %d shrinks, %d table sizes", seed, grows, shrinks, len(sizes))
	}
}

func TestScanBoundedWork(t *testing.T) {
	d := NewSet(1 << 16) // sparse: few elements, many buckets
	for i := range 10 {
		d.Add(fmt.Appendf(nil, "m%d", i), nil)
	}
	steps := 0
	cursor := uint64(0)
	for {
		cursor = d.Scan(cursor, 10, func(k, v []byte) {})
		steps++
		if cursor == 0 {
			break
		}
	}
	// Each call takes at most 100 steps: 65536 buckets need >= 655 calls.
	if steps < 1<<16/100 {
		t.Fatalf("%d calls for %d buckets: over 100 buckets per call", steps, 1<<16)
	}
}

// TestAllDelete deletes every other element inside All.
func TestAllDelete(t *testing.T) {
	for _, midResize := range []bool{false, true} {
		d := NewHash(0)
		model := map[string]string{}
		for i := range 5000 {
			k, v := fmt.Sprint("f", i), fmt.Sprint("v", i)
			d.Set([]byte(k), []byte(v))
			model[k] = v
		}
		if midResize {
			for i := 0; !d.rehashing; i++ {
				k := fmt.Sprint("g", i)
				d.Set([]byte(k), nil)
				model[k] = ""
			}
		}
		n, visited := 0, 0
		for k, v := range d.All() {
			visited++
			if model[string(k)] != string(v) {
				t.Fatalf("All yielded %q=%q, model %q", k, v, model[string(k)])
			}
			if n++; n%2 == 0 {
				delete(model, string(k))
				if !d.Delete(k) {
					t.Fatalf("Delete(%q) inside All failed", k)
				}
			}
		}
		if visited != n || n != len(model)+n/2 {
			t.Fatalf("visited %d, model %d", visited, len(model))
		}
		sameContents(t, d, model)
		// Stop early: the iteration count is restored.
		for range d.All() {
			break
		}
		if d.iterating != 0 {
			t.Fatal("iterating not reset after break")
		}
	}
}

func TestChangeInsideAllPanics(t *testing.T) {
	if !invariants {
		t.Skip("checked in invariants and race builds")
	}
	d := NewHash(0)
	d.Set([]byte("a"), []byte("1"))
	d.Set([]byte("b"), []byte("2"))
	for _, tc := range []struct {
		name string
		fn   func(k []byte)
	}{
		{"set", func(k []byte) { d.Set([]byte("c"), nil) }},
		{"delete other", func(k []byte) {
			o := []byte("a")
			if string(k) == "a" {
				o = []byte("b")
			}
			d.Delete(o)
		}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s inside All: no panic", tc.name)
				}
			}()
			for k := range d.All() {
				tc.fn(k)
			}
		}()
	}
}

// TestRandom checks that Random finds elements in every state, and that
// its picks are close to uniform (a chi-square test as Redis's own
// SRANDMEMBER distribution test does).
func TestRandom(t *testing.T) {
	d := NewSet(0)
	if _, _, ok := d.Random(1); ok {
		t.Fatal("Random on empty dict")
	}
	for _, n := range []int{1, 2, 50, 1000} {
		d := NewSet(0)
		for i := range n {
			d.Add(fmt.Appendf(nil, "m%d", i), nil)
		}
		hist := map[string]int{}
		draws := 200 * n
		rng := rand.New(rand.NewPCG(uint64(n), 5))
		for range draws {
			k, _, ok := d.Random(rng.Uint64())
			if !ok {
				t.Fatal("Random failed on non-empty dict")
			}
			hist[string(k)]++
		}
		if len(hist) != n {
			t.Fatalf("n=%d: only %d distinct elements in %d draws", n, len(hist), draws)
		}
		exp := float64(draws) / float64(n)
		chi := 0.0
		for _, c := range hist {
			chi += (float64(c) - exp) * (float64(c) - exp) / exp
		}
		// For n-1 degrees of freedom the statistic has mean n-1 and
		// standard deviation sqrt(2(n-1)): allow six of them.
		limit := float64(n-1) + 6*math.Sqrt(2*float64(n-1))
		t.Logf("n=%d: chi-square %.1f (limit %.1f)", n, chi, limit)
		if chi > limit {
			t.Fatalf("n=%d: chi-square %.1f over %.1f", n, chi, limit)
		}
	}
}

// TestRandomSparse finds the one element left in a huge table in the
// middle of a shrink.
func TestRandomSparse(t *testing.T) {
	d := NewSet(0)
	for i := range 100_000 {
		d.Add(fmt.Appendf(nil, "m%d", i), nil)
	}
	for i := range 100_000 - 1 {
		d.Delete(fmt.Appendf(nil, "m%d", i))
	}
	want := fmt.Sprintf("m%d", 100_000-1)
	for i := range 100 {
		k, _, ok := d.Random(uint64(i))
		if !ok || string(k) != want {
			t.Fatalf("Random = %q, %v; want %q", k, ok, want)
		}
	}
	check(t, d)
}
