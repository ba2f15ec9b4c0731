package listpack

import (
	"fmt"
	"runtime"
	"testing"

	"shoal/engine/internal/redisfixture"
)

// TestMemoryVsRedis compares a 100-field hash in a listpack (10-byte
// fields and values), here and in redis-server (HSET, encoding listpack):
// ours is the HeapAlloc delta per *Listpack over many of them, Redis's is
// MEMORY USAGE SAMPLES 0 minus the key's sds and dictEntry. Run with -v.
func TestMemoryVsRedis(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement: not in -short or -race runs")
	}
	const fields, hashes = 100, 1000
	r := redisfixture.Start(t)
	cmd := []string{"HSET", "h:000000"}
	for i := range fields {
		cmd = append(cmd, fmt.Sprintf("f%09d", i), fmt.Sprintf("v%09d", i))
	}
	r.Do(t, cmd...)
	if enc := r.String(t, "OBJECT", "ENCODING", "h:000000"); enc != "listpack" {
		t.Fatalf("redis encoding %q", enc)
	}
	usage := r.Int(t, "MEMORY", "USAGE", "h:000000", "SAMPLES", "0")
	redisObj := float64(usage - (16 + 24)) // sds of "h:000000" and dictEntry

	lps := make([]*Listpack, hashes)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for h := range lps {
		lp := new(Listpack)
		for i := range fields {
			lp.Append(fmt.Appendf(nil, "f%09d", i))
			lp.Append(fmt.Appendf(nil, "v%09d", i))
		}
		lps[h] = lp
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	ours := float64(ms1.HeapAlloc-ms0.HeapAlloc) / hashes
	runtime.KeepAlive(lps)
	ratio := ours / redisObj
	t.Logf("hash of %d x (10 B field, 10 B value): ours %.0f B (%.2f B/field, listpack %d B in %d); redis MEMORY USAGE %d (object %.0f, %.2f B/field); ratio %.3f",
		fields, ours, ours/fields, lps[0].Size(), lps[0].AllocSize(), usage, redisObj, redisObj/fields, ratio)
	if ratio > 1.2 {
		t.Errorf("%.3f x Redis", ratio)
	}
}
