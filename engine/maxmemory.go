package engine

import "runtime/metrics"

// Maxmemory with the noeviction policy, as Redis's: once the memory the
// shard uses is past maxmemory, commands flagged denyoom (those that may
// add memory) are refused with -OOM; reads, deletes and everything else go
// on, so a client can free memory.
//
// The used memory is INFO's used_memory (the Go heap and runtime memory in
// use, from runtime/metrics), read once per cron tick because reading it
// costs microseconds, plus what the key space has grown by since that read:
// its record and value bytes (kv's DataBytes, O(1)) and indexKeyBytes per
// key added. A burst of writes between two ticks is so counted at once;
// growth inside collection objects, and index growth beyond the estimate,
// is seen at the next tick (at most 1/hz later).
type memGuard struct {
	used      int64 // used_memory at the last sample
	dataBytes int64 // the key space's DataBytes at the last sample
	keys      int   // keys at the last sample
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
	s.mem.used = int64(readUsedMemory())
	s.mem.dataBytes = s.db.DataBytes()
	s.mem.keys = s.db.Len()
}

// usedMemory is the guard's estimate of used_memory now. O(1).
func (s *Shard) usedMemory() int64 {
	return s.mem.used + s.db.DataBytes() - s.mem.dataBytes + int64(s.db.Len()-s.mem.keys)*indexKeyBytes
}

// overMaxmemory reports whether a denyoom command must be refused.
func (s *Shard) overMaxmemory() bool {
	return s.Config.Maxmemory > 0 && s.usedMemory() > s.Config.Maxmemory
}
