package engine

import "runtime/metrics"

// Maxmemory, as Redis's: once the memory the shard uses is past
// maxmemory, keys are evicted as maxmemory-policy says (evict.go); when
// none can be (noeviction, or nothing evictable), commands flagged
// denyoom (those that may add memory) are refused with -OOM; reads,
// deletes and everything else go on, so a client can free memory.
//
// The used memory is INFO's used_memory (the Go heap and runtime memory in
// use, from runtime/metrics), read once per cron tick because reading it
// costs microseconds, plus what the key space has grown by since that read:
// its record and value bytes (kv's DataBytes, O(1)) and indexKeyBytes per
// key added. A burst of writes between two ticks is so counted at once;
// growth inside collection objects, and index growth beyond the estimate,
// is seen at the next tick (at most 1/hz later).
//
// The sample leaves out the free slots of the key space's pages. Evicted
// objects are subtracted from the estimate until a collection has
// reclaimed them (evict.go says why): those evicted since the last sample,
// and those evicted before it, in two generations, each forgotten at the
// first sample after the runtime completed a collection that began after
// it.
type memGuard struct {
	used      int64 // used_memory at the last sample
	dataBytes int64 // the key space's DataBytes at the last sample
	keys      int   // keys at the last sample

	evictedObj int64 // objects evicted since the last sample
	heldOld    int64 // evicted before the sample that read cycles heldCycles
	heldNew    int64 // evicted since, before the last sample
	heldCycles uint64
}

// indexKeyBytes is what a key adds to the key space's index: its entry
// (32 bytes) and a bucket's share (8).
const indexKeyBytes = 40

// readUsedMemory is INFO's used_memory: memory the Go runtime has mapped,
// less heap that is free or returned to the OS. It costs a few
// microseconds.
// It leaves every one of memSamples read, for memSample.
func readUsedMemory() uint64 {
	metrics.Read(memSamples)
	return memSample(0) - memSample(1) - memSample(2)
}

// memSample is memSamples[i] as last read.
func memSample(i int) uint64 {
	if memSamples[i].Value.Kind() == metrics.KindUint64 {
		return memSamples[i].Value.Uint64()
	}
	return 0
}

// sampleMemory refreshes the guard's reading. The cron calls it while
// maxmemory is set, and setting maxmemory calls it.
func (s *Shard) sampleMemory() {
	m := &s.mem
	// Free slots in the key space's pages are not counted: the next
	// records fill them, and an eviction that empties a slot frees it so
	// (Redis's used memory likewise leaves out the allocator's free space).
	m.used = int64(readUsedMemory()) - s.db.FreeSlotBytes()
	m.dataBytes = s.db.DataBytes()
	m.keys = s.db.Len()
	m.heldNew += m.evictedObj
	m.evictedObj = 0
	if m.heldOld == 0 && m.heldNew == 0 {
		return
	}
	cycles := memSample(memSampleCycles)
	if m.heldOld != 0 && cycles >= m.heldCycles+2 { // a whole collection since
		m.heldOld = 0
	}
	if m.heldOld == 0 {
		m.heldOld, m.heldNew, m.heldCycles = m.heldNew, 0, cycles
	}
}

// memSampleCycles is the index in memSamples of the count of completed
// collections.
const memSampleCycles = 9

// usedMemory is the guard's estimate of used_memory now. O(1).
func (s *Shard) usedMemory() int64 {
	m := &s.mem
	return m.used + s.db.DataBytes() - m.dataBytes + int64(s.db.Len()-m.keys)*indexKeyBytes -
		m.heldOld - m.heldNew - m.evictedObj
}

// rawUsedMemory is usedMemory without the credit for evicted memory not
// yet collected: about what the runtime will report until it collects.
func (s *Shard) rawUsedMemory() int64 {
	m := &s.mem
	return s.usedMemory() + m.heldOld + m.heldNew + m.evictedObj
}

// overMaxmemory evicts as the policy allows and reports whether a
// denyoom command must still be refused (EXEC's check, multi.go).
func (s *Shard) overMaxmemory() bool {
	return s.Config.Maxmemory > 0 && s.performEvictions() == evictFail
}
