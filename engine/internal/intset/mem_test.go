package intset

import (
	"runtime"
	"strconv"
	"testing"

	"shoal/engine/internal/redisfixture"
)

// TestMemoryVsRedis compares sets of n integers (up to 4e9: 64-bit encoding) as
// intsets, here and in redis-server (SADD, set-max-intset-entries raised so
// that 100,000 stay an intset): ours is the HeapAlloc delta per *Intset,
// Redis's MEMORY USAGE SAMPLES 0 minus the key's sds and dictEntry. Run
// with -v.
func TestMemoryVsRedis(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement: not in -short or -race runs")
	}
	r := redisfixture.Start(t, "set-max-intset-entries", "200000")
	for _, tc := range []struct{ n, sets int }{{100, 1000}, {100000, 4}} {
		r.Do(t, "DEL", "s:000000")
		for i := 0; i < tc.n; i += 1000 {
			cmd := []string{"SADD", "s:000000"}
			for j := i; j < min(i+1000, tc.n); j++ {
				cmd = append(cmd, strconv.Itoa(j*40000))
			}
			r.Do(t, cmd...)
		}
		if enc := r.String(t, "OBJECT", "ENCODING", "s:000000"); enc != "intset" {
			t.Fatalf("redis encoding %q", enc)
		}
		usage := r.Int(t, "MEMORY", "USAGE", "s:000000", "SAMPLES", "0")
		redisObj := float64(usage - (16 + 24))

		sets := make([]*Intset, tc.sets)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		for k := range sets {
			s := new(Intset)
			for j := range tc.n {
				s.Add(int64(j * 40000))
			}
			sets[k] = s
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		ours := float64(ms1.HeapAlloc-ms0.HeapAlloc) / float64(tc.sets)
		runtime.KeepAlive(sets)
		ratio := ours / redisObj
		t.Logf("intset of %d (%d-byte encoding): ours %.0f B (%.2f B/elem, %d in %d); redis MEMORY USAGE %d (object %.0f, %.2f B/elem); ratio %.3f",
			tc.n, sets[0].Encoding(), ours, ours/float64(tc.n), sets[0].Size(), sets[0].AllocSize(), usage, redisObj, redisObj/float64(tc.n), ratio)
		if ratio > 1.2 {
			t.Errorf("%d elements: %.3f x Redis", tc.n, ratio)
		}
	}
}
