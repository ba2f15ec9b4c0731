package kv

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestScanGuarantee runs full scans while keys are inserted and deleted
// between calls, enough to grow and shrink the table mid-scan, and checks
// Redis's guarantee: every key present for the whole scan is returned.
func TestScanGuarantee(t *testing.T) {
	// Between calls the test inserts `insert` keys while the store holds
	// fewer than peak keys (then switches to deleting), and deletes `del`
	// keys while it holds more than trough (then switches back). One key
	// in ten present at the start is never deleted.
	tests := []struct {
		name        string
		start       int // keys before the scan
		insert, del int // per call
		peak        int
		trough      int
		buckets     int // ScanBuckets budget; 0 uses Scan
		volatile    bool
	}{
		{"static", 3000, 0, 0, 0, 0, 0, false},
		{"growing", 200, 6, 0, 1 << 30, 0, 0, false},
		{"shrinking", 20000, 0, 25, 0, 0, 0, false},
		{"churn", 3000, 3, 3, 3500, 3000, 0, false},
		{"waves", 500, 20, 20, 9000, 600, 0, false},
		{"buckets growing", 200, 20, 0, 1 << 30, 0, 7, false},
		{"buckets shrinking", 20000, 0, 40, 0, 0, 5, false},
		{"buckets waves", 500, 40, 40, 9000, 600, 3, false},
		{"volatile waves", 500, 20, 20, 9000, 600, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, uint64(tc.start)))
			s := New()
			live := map[string]Ref{}
			next := 0
			insert := func() string {
				k := fmt.Sprint("scan:", next)
				next++
				var exp int64
				if tc.volatile && next%3 != 0 {
					exp = 1
				}
				live[k] = s.InsertString([]byte(k), nil, 0, exp)
				return k
			}
			for range tc.start {
				insert()
			}
			// Keys deleted during the scan are dropped from "stable".
			stable := map[string]bool{}
			keys := make([]string, 0, len(live)) // deletable keys
			for k, r := range live {
				if n := len(stable) + len(keys); n%10 == 0 {
					if !tc.volatile || s.Expire(r) != NoExpire {
						stable[k] = true
					}
				} else {
					keys = append(keys, k)
				}
			}
			seen := map[string]bool{}
			var collected []Ref
			collect := func(r Ref) { collected = append(collected, r) }
			var cursor uint64
			resizes, calls := 0, 0
			growing := true
			for {
				collected = collected[:0]
				switch {
				case tc.volatile:
					cursor = s.ScanVolatile(cursor, 10, collect)
				case tc.buckets > 0:
					cursor = s.ScanBuckets(cursor, tc.buckets, collect)
				default:
					cursor = s.Scan(cursor, collect)
				}
				calls++
				for _, r := range collected {
					if tc.volatile && s.Expire(r) == NoExpire {
						t.Fatalf("ScanVolatile returned %q with no expire", s.Key(r))
					}
					seen[string(s.Key(r))] = true
				}
				if cursor == 0 {
					break
				}
				was := s.rehashing
				if growing && len(live) >= tc.peak {
					growing = false
				} else if !growing && len(live) <= tc.trough {
					growing = true
				}
				for i := 0; growing && i < tc.insert; i++ {
					keys = append(keys, insert())
				}
				for i := 0; !growing && i < tc.del; i++ {
					if len(keys) == 0 {
						break
					}
					i := rng.IntN(len(keys))
					k := keys[i]
					keys[i] = keys[len(keys)-1]
					keys = keys[:len(keys)-1]
					s.Delete(live[k])
					delete(live, k)
				}
				if !was && s.rehashing {
					resizes++
				}
				if calls > 10_000_000 {
					t.Fatal("scan does not end")
				}
			}
			for k := range stable {
				if !seen[k] {
					t.Fatalf("key %q present for the whole scan was not returned (%d resizes)", k, resizes)
				}
			}
			if tc.insert+tc.del > 0 && tc.name != "churn" && resizes == 0 {
				t.Fatalf("no resize happened during the scan")
			}
			t.Logf("%d calls, %d resizes, %d stable keys, %d seen", calls, resizes, len(stable), len(seen))
			if err := s.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestScanMidRehash scans a table frozen in the middle of a resize (both
// tables populated) in both directions.
func TestScanMidRehash(t *testing.T) {
	for _, grow := range []bool{true, false} {
		s := New()
		var refs []Ref
		for i := range 5000 {
			refs = append(refs, s.InsertString(fmt.Appendf(nil, "m%d", i), nil, 0, 0))
		}
		for s.Rehash(100) {
		}
		if grow {
			for i := 0; !s.rehashing; i++ {
				refs = append(refs, s.InsertString(fmt.Appendf(nil, "g%d", i), nil, 0, 0))
			}
		} else {
			for len(refs) > 0 && !s.rehashing {
				s.Delete(refs[len(refs)-1])
				refs = refs[:len(refs)-1]
			}
		}
		s.Rehash(50)
		if !s.rehashing || s.t[0].used == 0 || s.t[1].used == 0 {
			t.Fatalf("grow %v: not mid-rehash", grow)
		}
		seen := map[Ref]int{}
		c := s.Scan(0, func(r Ref) { seen[r]++ })
		for c != 0 {
			c = s.Scan(c, func(r Ref) { seen[r]++ })
		}
		for _, r := range refs {
			if seen[r] != 1 {
				t.Fatalf("grow %v: ref %d seen %d times", grow, r, seen[r])
			}
		}
	}
}

// TestRandomFair checks Random on tables of several sizes and states:
// never Nil when not empty, deterministic for a seed, and every key chosen
// with a frequency within a factor of the mean.
func TestRandomFair(t *testing.T) {
	s := New()
	if s.Random(1) != Nil {
		t.Fatal("Random of an empty store")
	}
	for _, n := range []int{1, 2, 7, 100, 1000} {
		s.Clear()
		for i := range n {
			s.InsertString(fmt.Appendf(nil, "r%d", i), nil, 0, 0)
		}
		draws := n * 400
		counts := map[Ref]int{}
		for i := range draws {
			r := s.Random(uint64(i) * 0x9e3779b97f4a7c15)
			if r == Nil {
				t.Fatalf("n=%d: Random returned Nil", n)
			}
			counts[r]++
		}
		if len(counts) != n {
			t.Fatalf("n=%d: only %d distinct keys drawn", n, len(counts))
		}
		lo, hi := draws, 0
		for _, c := range counts {
			lo, hi = min(lo, c), max(hi, c)
		}
		t.Logf("n=%d: draws per key %d..%d, mean 400", n, lo, hi)
		if lo < 400/4 || hi > 400*4 {
			t.Fatalf("n=%d: draws per key range %d..%d, mean 400", n, lo, hi)
		}
		if s.Random(42) != s.Random(42) {
			t.Fatal("Random is not deterministic")
		}
	}
	// A sparse table mid-shrink after deleting almost everything.
	s.Clear()
	var refs []Ref
	for i := range 200000 {
		refs = append(refs, s.InsertString(fmt.Appendf(nil, "s%d", i), nil, 0, 0))
	}
	for _, r := range refs[:len(refs)-3] {
		s.Delete(r)
	}
	for i := range 10000 {
		if r := s.Random(uint64(i)); r == Nil {
			t.Fatalf("Random returned Nil with %d keys in %d+%d buckets", s.Len(), s.t[0].size(), s.t[1].size())
		}
	}
}

func TestSample(t *testing.T) {
	s := New()
	dst := make([]Ref, 50)
	if s.Sample(1, dst) != 0 {
		t.Fatal("Sample of an empty store")
	}
	want := map[Ref]bool{}
	for i := range 30 {
		want[s.InsertString(fmt.Appendf(nil, "x%d", i), nil, 0, 0)] = true
	}
	// 30 keys in 32 buckets: one sweep takes them all, once each.
	for seed := range uint64(20) {
		n := s.Sample(seed, dst)
		got := map[Ref]bool{}
		for _, r := range dst[:n] {
			if !want[r] || got[r] {
				t.Fatalf("seed %d: Sample returned %d twice or unknown", seed, r)
			}
			got[r] = true
		}
		if n != 30 {
			t.Fatalf("seed %d: Sample found %d of 30 keys", seed, n)
		}
	}
	if n := s.Sample(3, dst[:5]); n != 5 {
		t.Fatalf("Sample into 5 found %d", n)
	}
}

// TestSampleVolatile: only keys with an expire time, none when no key has
// one, and the few there are found among many without (in a table small
// enough for the fallback to cover it whole).
func TestSampleVolatile(t *testing.T) {
	s := New()
	dst := make([]Ref, 5)
	if n := s.SampleVolatile(1, dst); n != 0 {
		t.Fatalf("empty store: %d", n)
	}
	for i := range 2000 {
		s.InsertString([]byte(fmt.Sprintf("k%d", i)), []byte("v"), 0, NoExpire)
	}
	if n := s.SampleVolatile(1, dst); n != 0 {
		t.Fatalf("no volatile key: %d", n)
	}
	want := map[Ref]bool{}
	for i := range 3 {
		want[s.InsertString([]byte(fmt.Sprintf("v%d", i)), []byte("v"), 0, 1800000000000)] = true
	}
	seen := map[Ref]bool{}
	for seed := range uint64(200) {
		n := s.SampleVolatile(seed, dst)
		if n == 0 {
			t.Fatalf("seed %d: none of the 3 volatile keys among 2003 found", seed)
		}
		for _, r := range dst[:n] {
			if !want[r] {
				t.Fatalf("seed %d: sampled %d, which has no expire time", seed, r)
			}
			seen[r] = true
		}
	}
	if len(seen) != 3 {
		t.Fatalf("200 samples found %d of the 3 volatile keys", len(seen))
	}
}
