package engine

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
)

// Giving freed memory back. A deleted value becomes garbage for the Go
// collector, which runs when the heap has grown by GOGC percent since the
// last collection, not when memory was freed: a shard that deleted a large
// value would go on counting it in used_memory, and past maxmemory refuse
// every write, until allocation alone made the runtime collect, which a
// shard refusing writes may never do. So the shard counts what its
// deletions let go of (the objects the key space drops, at MEMORY USAGE's
// estimate with one sample; the pages and huge values it releases; the
// memory in use, on FLUSHALL) and, when that is a fair part of the heap
// the last collection found live (the collector's work is proportional to
// that), has the collector run on a goroutine of its own while the loop
// goes on: Redis's lazy free, the collector being the background thread.
//
// INFO's lazyfree_pending_objects counts the values dropped and not known
// to be collected yet, lazyfreed_objects those known to be: after a
// collection of the shard's own, or after two of the runtime's (the second
// began after the values were counted).
//
// Everything here runs on the shard's loop but busy, which the collecting
// goroutine clears when its collection is complete.
type lazyFree struct {
	freed    int64 // bytes estimated let go of since the last collection began
	released int64 // the key space's Released() when last read
	pending  int64 // values dropped since the last snapshot
	// The snapshot, while snap: gen values and genFreed bytes were let go
	// of before the runtime had completed cycles collections.
	snap      bool
	gen       int64
	genFreed  int64
	cycles    uint64
	running   int64       // values the collection under way reclaims
	reclaimed int64       // lazyfreed_objects
	busy      atomic.Bool // a collection of the shard's is under way
	samples   []metrics.Sample
}

const (
	lazyFreeMin      = 1 << 20 // least freed memory worth a collection
	lazyFreeShare    = 8       // ... when at least 1/8 of the live heap
	lazyFreeOOMShare = 64      // ... or 1/64 of it while used memory is past maxmemory
)

// dropped is the key space's OnDrop: obj was deleted or overwritten.
// O(1).
func (s *Shard) dropped(obj any) {
	s.lazy.freed += int64(objectUsage(obj, 1))
	s.lazy.pending++
}

// kept takes back a dropped(obj) for an object that lives on under another
// key (RENAME).
func (s *Shard) kept(obj any) {
	s.lazy.freed -= int64(objectUsage(obj, 1))
	s.lazy.pending--
}

// flushed counts a FLUSHALL that let go of objects values that are not
// strings and heap bytes of memory in use: all of it, counted so instead
// of through Released().
func (s *Shard) flushed(objects int, heap int64) {
	s.lazy.pending += int64(objects)
	s.lazy.freed += heap
	s.lazy.released = s.db.Released()
}

// lazyFreeCron accounts collections that finished and starts one when
// enough was freed since the last. The cron calls it before it samples the
// memory maxmemory checks against. O(1); it reads the runtime's metrics
// (about a microsecond) only while something was freed.
func (s *Shard) lazyFreeCron() {
	lf := &s.lazy
	if lf.busy.Load() {
		return
	}
	lf.reclaimed += lf.running
	lf.running = 0
	rel := s.db.Released()
	lf.freed += rel - lf.released
	lf.released = rel
	if !lf.snap && lf.pending == 0 && lf.freed == 0 {
		return
	}
	if lf.samples == nil {
		lf.samples = []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	}
	metrics.Read(lf.samples)
	cycles, live := metricU64(&lf.samples[0]), int64(metricU64(&lf.samples[1]))
	if lf.snap && cycles >= lf.cycles+2 { // the runtime collected the snapshot
		lf.reclaimed += lf.gen
		lf.freed -= lf.genFreed
		lf.snap, lf.gen, lf.genFreed = false, 0, 0
	}
	if !lf.snap {
		lf.snap, lf.gen, lf.genFreed, lf.cycles = true, lf.pending, lf.freed, cycles
		lf.pending = 0
	}
	if lf.freed < lazyFreeMin {
		return
	}
	over := s.Config.Maxmemory > 0 && s.rawUsedMemory() > s.Config.Maxmemory
	if lf.freed*lazyFreeShare < live && !(over && lf.freed*lazyFreeOOMShare >= live) {
		return
	}
	lf.running, lf.pending, lf.freed = lf.gen+lf.pending, 0, 0
	lf.snap, lf.gen, lf.genFreed = false, 0, 0
	lf.busy.Store(true)
	go func() {
		runtime.GC()
		lf.busy.Store(false)
	}()
}

// lazyFreePending is INFO's lazyfree_pending_objects.
func (s *Shard) lazyFreePending() int64 { return s.lazy.pending + s.lazy.gen + s.lazy.running }
