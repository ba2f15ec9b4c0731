//go:build linux

package kv

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time of the calling thread.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

// TestInsertLatency grows a store to 4,000,000 keys and checks that no
// InsertString does O(n) work: resizing is incremental. Wall time per call
// is logged, but on a shared machine a call can be descheduled for tens of
// milliseconds, so the check is on the thread's CPU time, read once per
// batch of calls: a batch holding an O(n) step at 4M keys would take
// hundreds of milliseconds; a normal batch takes well under one.
func TestInsertLatency(t *testing.T) {
	skipBig(t)
	defer release()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const n, batch = 4_000_000, 256
	s := New()
	key, val := make([]byte, 0, 16), make([]byte, 64)
	lat := make([]time.Duration, n)
	var worstBatch time.Duration
	worstAt := 0
	cpu := threadCPU()
	for i := range n {
		key = benchKey(key, i)
		t0 := time.Now()
		s.InsertString(key, val, 0, 0)
		lat[i] = time.Since(t0)
		if i%batch == batch-1 {
			c := threadCPU()
			if c-cpu > worstBatch {
				worstBatch, worstAt = c-cpu, i
			}
			cpu = c
		}
	}
	worst := slices.Index(lat, slices.Max(lat))
	slices.Sort(lat)
	t.Logf("InsertString to %d keys, wall time: p50 %v, p99 %v, p99.99 %v, max %v (key %d)",
		n, lat[n/2], lat[n*99/100], lat[n*9999/10000], lat[n-1], worst)
	t.Logf("worst thread CPU time of %d inserts: %v (ending at key %d)", batch, worstBatch, worstAt)
	if worstBatch > 50*time.Millisecond {
		t.Errorf("%d inserts took %v of CPU", batch, worstBatch)
	}
}
