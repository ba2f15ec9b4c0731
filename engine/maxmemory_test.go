package engine

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestMaxmemoryBetweenSamples: writes between two samples of used_memory
// count at once, so a burst past maxmemory is refused before the next
// cron tick reads used_memory again.
func TestMaxmemoryBetweenSamples(t *testing.T) {
	st := newStrTest(t)
	// Setting maxmemory samples used_memory, the whole process's: a
	// collection of earlier tests' garbage between that sample and the one
	// the limit is computed from would widen the room. So the limit counts
	// from the guard's own sample, and is set without sampling again.
	runtime.GC()
	if out := st.do("CONFIG SET maxmemory 100gb"); out != "+OK" {
		t.Fatalf("CONFIG SET maxmemory: %s", out)
	}
	st.s.Config.Maxmemory = st.s.usedMemory() + 1<<20
	val := strings.Repeat("v", 4096)
	oom := -1
	for i := 0; i < 1024 && oom < 0; i++ { // 4 MB at most, no cron in between
		if out := st.do("SET k" + fmt.Sprint(i) + " " + val); strings.HasPrefix(out, "-OOM") {
			oom = i
		} else if out != "+OK" {
			t.Fatalf("SET %d: %s", i, out)
		}
	}
	// 1 MB of room holds about 250 values of 4 kB; the estimate may be off
	// by the index's share, not by the values.
	if oom < 200 || oom > 300 {
		t.Fatalf("first -OOM after %d SETs of 4 kB with 1 MB of room", oom)
	}
	if out := st.do("GET k0"); out != `"`+val+`"` {
		t.Fatalf("GET past maxmemory: %.40s", out)
	}
	if out := st.do("DEL k0 k1 k2"); out != ":3" {
		t.Fatalf("DEL past maxmemory: %s", out)
	}
}

// BenchmarkSetMaxmemory is BenchmarkSet with maxmemory set, as the
// launcher sets it on every shard: the check must cost next to nothing.
func BenchmarkSetMaxmemory(b *testing.B) {
	st := newStrTest(b)
	st.s.Exec(st.c, argv("CONFIG", "SET", "maxmemory", "10gb"))
	a := argv("SET", "key:000001", strings.Repeat("v", 32))
	st.s.Exec(st.c, a)
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}
