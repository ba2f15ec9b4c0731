package kv

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func skipBig(t *testing.T) {
	if testing.Short() {
		t.Skip("loads millions of keys")
	}
	if raceEnabled {
		t.Skip("too slow under the race detector")
	}
}

func heapLive() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// release returns the memory of a big test to the OS for the next test.
func release() {
	runtime.GC()
	debug.FreeOSMemory()
}

// TestMemoryPerKey loads 1,000,000 keys of 16 bytes with 256-byte values
// and measures the bytes per key, by the store's own accounting and by the
// growth of the Go heap, standalone and tracking slots (cluster mode).
// Redis 7 needs about 414 bytes per such key.
func TestMemoryPerKey(t *testing.T) {
	skipBig(t)
	var heap [2]float64
	for i, track := range []bool{false, true} {
		heap[i] = memoryPerKey(t, track)
	}
	// Slot tracking costs a link per entry (8 bytes), its share of the
	// unused part of the last entry segment, and 128 KiB of slot heads.
	if extra := heap[1] - heap[0]; extra < slotLinkSize-1 || extra > slotLinkSize+2 {
		t.Errorf("tracking slots adds %.1f bytes/key to the heap, want about %d", extra, slotLinkSize)
	}
}

func memoryPerKey(t *testing.T, track bool) float64 {
	defer release()
	const n = 1_000_000
	before := heapLive()
	s := New()
	if track {
		s.TrackSlots()
	}
	key, val := make([]byte, 0, 16), make([]byte, 256)
	for i := range n {
		key = benchKey(key, i)
		s.InsertString(key, val, 0, 0)
	}
	for s.Rehash(1000) {
	}
	grown := heapLive() - before
	st := s.Stats()
	perKey, heapPerKey := float64(st.TotalBytes)/n, float64(grown)/n
	t.Logf("tracking slots %v: store accounting: %.1f bytes/key (pages %.1f, entries %.1f, index %.1f, slot lists %.1f; records %.1f, slots %.1f)",
		track, perKey, float64(st.PageBytes)/n, float64(st.EntryBytes)/n, float64(st.IndexBytes)/n,
		float64(st.SlotIndex)/n, float64(st.LiveBytes)/n, float64(st.SlotBytes)/n)
	t.Logf("tracking slots %v: Go heap growth: %.1f bytes/key", track, heapPerKey)
	if perKey > 360 || heapPerKey > 360 {
		t.Errorf("%.1f bytes/key by the store, %.1f by the heap: over 360", perKey, heapPerKey)
	}
	if s.Len() != n || s.Find(benchKey(key, n/2)) == Nil {
		t.Fatal("keys missing")
	}
	runtime.KeepAlive(s)
	return heapPerKey
}

// TestGCScan loads 2,000,000 keys and checks that the heap the GC must
// scan is under 10% of the live heap: no pointer per key.
func TestGCScan(t *testing.T) {
	skipBig(t)
	defer release()
	const n = 2_000_000
	s := New()
	key, val := make([]byte, 0, 16), make([]byte, 100)
	for i := range n {
		key = benchKey(key, i)
		r := s.InsertString(key, val, 0, 0)
		if i%1000 == 0 {
			s.SetObject(r, &obj{i}) // a few objects: one pointer each is fine
		}
	}
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	scan, live := sample[0].Value.Uint64(), sample[1].Value.Uint64()
	t.Logf("scannable heap %d bytes, live heap %d bytes (%.3f%%), %d keys", scan, live, 100*float64(scan)/float64(live), s.Len())
	if scan*10 >= live {
		t.Errorf("scannable heap %d is not under 10%% of the live heap %d", scan, live)
	}
	runtime.KeepAlive(s)
}
