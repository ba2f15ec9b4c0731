package quicklist

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"shoal/engine/internal/redisfixture"
)

// TestMemoryVsRedis builds lists of 10-byte strings by LPUSH, here and in
// a redis-server, and compares bytes per element. Ours: runtime.MemStats
// HeapAlloc delta over many lists (the Quicklist value, node array, node
// buffers). Redis: MEMORY USAGE key SAMPLES 0 minus the key's sds and
// dictEntry (which our kv package accounts for), cross-checked by the
// used_memory delta. Run with -v to see the numbers.
func TestMemoryVsRedis(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement: not in -short or -race runs")
	}
	r := redisfixture.Start(t)
	for _, tc := range []struct{ elems, lists int }{{100, 1000}, {100000, 2}} {
		// Redis.
		r.Do(t, "FLUSHALL")
		before := r.UsedMemory(t)
		for l := range tc.lists {
			key := fmt.Sprintf("l:%06d", l)
			for i := 0; i < tc.elems; i += 500 {
				cmd := []string{"LPUSH", key}
				for j := i; j < min(i+500, tc.elems); j++ {
					cmd = append(cmd, tenBytes(j))
				}
				r.Do(t, cmd...)
			}
		}
		after := r.UsedMemory(t)
		usage := r.Int(t, "MEMORY", "USAGE", "l:000000", "SAMPLES", "0")
		const keyOverhead = 16 + 24 // sds "l:000000" (12 B in a 16 B class) + dictEntry
		redisObj := float64(usage - keyOverhead)
		redisDelta := float64(after-before) / float64(tc.lists)

		// Ours.
		lists := make([]*Quicklist, tc.lists)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		for l := range lists {
			q := New(DefaultFill)
			for j := range tc.elems {
				q.PushHead([]byte(tenBytes(j)))
			}
			lists[l] = q
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		ours := float64(ms1.HeapAlloc-ms0.HeapAlloc) / float64(tc.lists)
		runtime.KeepAlive(lists)

		ratio := ours / redisObj
		t.Logf("LPUSH %d x 10 B: ours %.0f B/list (%.2f B/elem, %d nodes, AllocSize %d); redis MEMORY USAGE %d (object %.0f, %.2f B/elem), used_memory delta %.0f B/list; ratio %.3f",
			tc.elems, ours, ours/float64(tc.elems), lists[0].NodeCount(), lists[0].AllocSize(),
			usage, redisObj, redisObj/float64(tc.elems), redisDelta, ratio)
		if ratio > 1.2 {
			t.Errorf("%d elements: %.0f B per list, %.3f x Redis's %.0f", tc.elems, ours, ratio, redisObj)
		}
		if got := strconv.Itoa(lists[0].Len()); got != strconv.Itoa(tc.elems) {
			t.Fatalf("list of %s elements", got)
		}
	}
}
