package engine

import (
	"math"

	"shoal/engine/internal/kv"
)

// Eviction, as Redis 7.0's evict.c: with maxmemory set, Exec calls
// performEvictions before every command (where Redis's processCommand
// does). Past the limit it deletes keys chosen by maxmemory-policy until
// the guard's estimate of used memory (maxmemory.go) is back under
// maxmemory or its time budget is spent; a command that may add memory
// (denyoom), or any command queued inside MULTI, is refused with -OOM
// only when nothing was left to evict.
//
// The LRU, LFU and TTL policies use Redis's approximation: each round
// samples maxmemory-samples keys (all keys, or only those with a time to
// live for volatile-*) into a pool of 16 candidates kept across rounds
// and commands, ranked by a score (idle seconds; 255 less the LFU
// counter; how soon the key expires), and evicts the best candidate that
// still exists. The random policies evict a random key (with a time to
// live for volatile-random). Each eviction deletes the key, counts it in
// INFO's evicted_keys, marks the clients WATCHing it, sends the
// "evicted" keyspace event and records a DEL in the AOF, as Redis
// propagates an eviction.
//
// maxmemory-eviction-tenacity sets the budget, as Redis's: 50 µs a step up
// to 10 (the default, 500 µs), then 15% more a step, unlimited at 100.
// It is checked every 16 keys. A command that used up its budget is run
// (the shard is not yet out of memory, only still evicting), and the
// cron goes on evicting hz times a second until the memory is under the
// limit or nothing is left to evict, as Redis's eviction time event.
// Setting maxmemory starts that too. Nothing is evicted while the AOF
// loads.
//
// # The access clock
//
// Each key's Meta holds 24 bits for the policy (db.go): Redis's LRU
// clock (seconds, wrapping after 194 days) under every policy but the
// LFU ones, and under those Redis's LFU field: the minute of the last
// decrement (16 bits) and a logarithmic access counter (8 bits) that a
// new key starts at 5, an access raises with probability
// 1/((counter-5)*lfu-log-factor+1), and idleness lowers by one every
// lfu-decay-time minutes. Reading commands that find a key refresh it
// (Shard.lookup); EXISTS, TYPE, TTL, OBJECT and the like do not
// (lookupNoTouch). Changing the policy between the two kinds does not
// rewrite the keys' fields: as in Redis, they take a while to mean
// something again.
//
// # Accounting for what an eviction frees
//
// The guard's estimate is a sample of used_memory taken by the cron, less
// the free slots of the key space's pages, plus what the key space grew
// by since (maxmemory.go). An evicted string key's record and index entry
// leave the key space's figures at once, so the estimate drops by them,
// and the slot it leaves is free space at the next sample too: the next
// records fill it, the page is not given back. A collection object's
// memory (MEMORY USAGE's estimate, objectUsage with one sample, as
// lazyfree.go counts a dropped object) is subtracted explicitly, but it
// is garbage until the collector runs: a sample taken before that reads
// it as still used, and the shard would evict as much again on every
// tick. So the guard keeps what evicted objects held (memGuard) and goes
// on subtracting it from every later sample until a collection that
// began after those evictions has completed. lazyfree.go counts the same
// objects toward its trigger, so the collection comes soon: once a share
// of the live heap was freed, or 1/64 of it while the memory without
// that credit is past maxmemory.

// Eviction policies, as Redis's MAXMEMORY_* values.
const (
	policyFlagLRU     = 1 << 0
	policyFlagLFU     = 1 << 1
	policyFlagAllKeys = 1 << 2

	policyVolatileLRU    = 0<<8 | policyFlagLRU
	policyVolatileLFU    = 1<<8 | policyFlagLFU
	policyVolatileTTL    = 2 << 8
	policyVolatileRandom = 3 << 8
	policyAllKeysLRU     = 4<<8 | policyFlagLRU | policyFlagAllKeys
	policyAllKeysLFU     = 5<<8 | policyFlagLFU | policyFlagAllKeys
	policyAllKeysRandom  = 6<<8 | policyFlagAllKeys
	policyNoEviction     = 7 << 8
)

// policyNames are maxmemory-policy's values, in the order Redis's error
// lists them.
var policyNames = [...]string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
	"allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}

var policyCodes = map[string]int{
	"volatile-lru": policyVolatileLRU, "volatile-lfu": policyVolatileLFU,
	"volatile-random": policyVolatileRandom, "volatile-ttl": policyVolatileTTL,
	"allkeys-lru": policyAllKeysLRU, "allkeys-lfu": policyAllKeysLFU,
	"allkeys-random": policyAllKeysRandom, "noeviction": policyNoEviction,
}

const (
	evictPoolSize = 16  // EVPOOL_SIZE
	lfuInitVal    = 5   // LFU_INIT_VAL: a new key's counter
	evictCheckN   = 16  // keys evicted between two looks at the clock
	evictPickMax  = 100 // sampling rounds that found no candidate before giving up for now
)

// Results of performEvictions, as Redis's EVICT_*.
const (
	evictOK      = iota // under maxmemory, or evicting is not possible now
	evictRunning        // still over, the budget spent: the cron goes on
	evictFail           // over, and nothing left to evict
)

// evictState is eviction's state, owned by the loop.
type evictState struct {
	policy  int  // policyCodes[MaxmemoryPolicy]
	running bool // over maxmemory with keys left: the cron keeps evicting
	pool    [evictPoolSize]poolEntry
	sample  []kv.Ref
	key     []byte    // the key being evicted
	delArgv [2][]byte // its AOF record
	// The time the memory was last seen past maxmemory (ns, 0 when it is
	// not) and the total of those periods, for INFO.
	exceededSince int64
	exceededTotal int64
}

// poolEntry is a candidate: a copy of its key (the buffer is reused) and
// its score, higher evicting sooner.
type poolEntry struct {
	score uint64
	key   []byte
	used  bool
}

// policyChanged takes up a new maxmemory-policy. The candidates of the
// old policy are dropped: their scores mean nothing under the new one.
func (s *Shard) policyChanged() {
	s.evict.policy = policyCodes[s.Config.MaxmemoryPolicy]
	for i := range s.evict.pool {
		s.evict.pool[i].used = false
	}
	s.lfu = s.evict.policy&policyFlagLFU != 0
	s.tickClocks()
}

// evictionTimeLimitNs is the budget tenacity gives one call.
func evictionTimeLimitNs(tenacity int) int64 {
	switch {
	case tenacity <= 10:
		return 50 * int64(tenacity) * 1000
	case tenacity < 100:
		return int64(500*math.Pow(1.15, float64(tenacity-10))) * 1000
	}
	return math.MaxInt64
}

// oomRejects runs performEvictions before cmd and reports whether cmd
// must be refused with -OOM, as Redis's processCommand: when nothing was
// left to evict, a denyoom command, or inside MULTI any command but EXEC,
// DISCARD, QUIT and RESET. Only called with maxmemory set.
func (s *Shard) oomRejects(c *Client, cmd *Command) bool {
	s.preOOM = s.performEvictions() == evictFail
	if !s.preOOM {
		return false
	}
	if cmd.Flags&FlagDenyOOM != 0 {
		return true
	}
	if !c.inMulti() {
		return false
	}
	switch cmd.Name {
	case "exec", "discard", "quit", "reset":
		return cmd.parent != nil
	}
	return true
}

// performEvictions evicts keys while the estimate of used memory is over
// maxmemory, as Redis's performEvictions, and says how it stands. O(1)
// when under the limit; otherwise bounded by the tenacity's time budget
// (each key costs a sampling round: maxmemory-samples keys, and O(1) for
// the deletion of a string, O(elements) for a collection's).
func (s *Shard) performEvictions() int {
	if s.loading || s.Config.Maxmemory <= 0 || s.paused() {
		return evictOK // a pause keeps the data set still: no eviction either (pause.go)
	}
	ev := &s.evict
	if s.usedMemory() <= s.Config.Maxmemory {
		ev.running = false
		if ev.exceededSince != 0 {
			ev.exceededTotal += nanotime() - ev.exceededSince
			ev.exceededSince = 0
		}
		return evictOK
	}
	if ev.exceededSince == 0 {
		ev.exceededSince = nanotime()
	}
	if ev.policy == policyNoEviction {
		return evictFail
	}
	start := nanotime()
	lat := s.latencyStart()
	defer s.latencyEnd(eventEvictionCycle, lat)
	limit := evictionTimeLimitNs(s.Config.MaxmemoryEvictionTenacity)
	n := 0
	for s.usedMemory() > s.Config.Maxmemory {
		r := s.evictPick()
		if r == kv.Nil {
			ev.running = false
			return evictFail
		}
		s.evictKey(r)
		n++
		if n%evictCheckN == 0 && nanotime()-start > limit {
			ev.running = true
			return evictRunning
		}
	}
	ev.running = false
	return evictOK
}

// evictCron goes on with an eviction a command's budget did not finish.
func (s *Shard) evictCron() {
	if s.evict.running {
		s.performEvictions()
	}
}

// evictPick chooses the key to evict, Nil when there is none.
func (s *Shard) evictPick() kv.Ref {
	ev := &s.evict
	volatile := ev.policy&policyFlagAllKeys == 0
	if (volatile && s.db.Volatile() == 0) || s.db.Len() == 0 {
		return kv.Nil
	}
	if ev.policy == policyAllKeysRandom {
		return s.db.Random(s.rand64())
	}
	n := max(s.Config.MaxmemorySamples, 1)
	if cap(ev.sample) < n {
		ev.sample = make([]kv.Ref, n)
	}
	sample := ev.sample[:n]
	for range evictPickMax {
		var got int
		if volatile {
			got = s.db.SampleVolatile(s.rand64(), sample)
		} else {
			got = s.db.Sample(s.rand64(), sample)
		}
		if ev.policy == policyVolatileRandom {
			if got > 0 {
				return sample[s.rand64()%uint64(got)]
			}
			continue
		}
		for _, r := range sample[:got] {
			s.poolInsert(r, s.evictScore(r))
		}
		for k := evictPoolSize - 1; k >= 0; k-- {
			e := &ev.pool[k]
			if !e.used {
				continue
			}
			e.used = false
			r := s.db.Find(e.key)
			if r != kv.Nil && (!volatile || s.db.Expire(r) != kv.NoExpire) {
				return r
			}
			// a ghost: evicted, deleted or persisted since
		}
	}
	return kv.Nil
}

// evictScore is the key's score under the policy: the higher, the sooner
// it goes.
func (s *Shard) evictScore(r kv.Ref) uint64 {
	switch {
	case s.evict.policy&policyFlagLRU != 0:
		return uint64(s.idleSeconds(r))
	case s.evict.policy&policyFlagLFU != 0:
		return 255 - uint64(s.lfuDecayed(metaLRU(s.db.Meta(r))))
	}
	return math.MaxUint64 - uint64(s.db.Expire(r)) // volatile-ttl: the sooner the better
}

// poolInsert puts a sampled key into the pool, as Redis's
// evictionPoolPopulate: in score order, pushing out the lowest when the
// pool is full, ignored when it scores below all of a full pool.
func (s *Shard) poolInsert(r kv.Ref, score uint64) {
	pool := &s.evict.pool
	k := 0
	for k < evictPoolSize && pool[k].used && pool[k].score < score {
		k++
	}
	switch {
	case k == 0 && pool[evictPoolSize-1].used:
		return
	case k < evictPoolSize && !pool[k].used:
	case !pool[evictPoolSize-1].used:
		spare := pool[evictPoolSize-1].key
		copy(pool[k+1:], pool[k:evictPoolSize-1])
		pool[k].key = spare
	default:
		k--
		spare := pool[0].key
		copy(pool[:k], pool[1:k+1])
		pool[k].key = spare
	}
	pool[k] = poolEntry{score: score, key: append(pool[k].key[:0], s.db.Key(r)...), used: true}
}

// evictKey deletes the key at r as an eviction and accounts what it
// frees (see the file's doc).
func (s *Shard) evictKey(r kv.Ref) {
	ev := &s.evict
	ev.key = append(ev.key[:0], s.db.Key(r)...)
	freed := s.lazy.freed
	lat := s.latencyStart()
	s.db.Delete(r)
	s.latencyEnd(eventEvictionDel, lat)
	s.mem.evictedObj += s.lazy.freed - freed // what dropped (lazyfree.go) counted for its object, if any
	s.Stats.EvictedKeys++
	if s.isSignalled(ev.key) { // WATCH and client-side caching (tracking.go)
		s.touchKey(ev.key)
	}
	s.notify(notifyEvicted, "evicted", ev.key)
	s.propagateEvicted(ev.key)
}

// lfuMinutes is Redis's LFUGetTimeInMinutes: the clock's minutes, 16 bits.
func (s *Shard) lfuMinutes() uint32 { return uint32(s.nowMs/60000) & 0xffff }

// lfuDecayed is the LFU counter of the field f once decayed for the time
// since its last decrement (Redis's LFUDecrAndReturn); f is not changed.
func (s *Shard) lfuDecayed(f uint32) uint32 {
	ldt, counter := f>>8, f&0xff
	if s.Config.LFUDecayTime <= 0 {
		return counter
	}
	now := s.lfuMinutes()
	var elapsed uint32
	if now >= ldt {
		elapsed = now - ldt
	} else {
		elapsed = 0xffff - ldt + now
	}
	periods := elapsed / uint32(s.Config.LFUDecayTime)
	if periods >= counter {
		return 0
	}
	return counter - periods
}

// lfuTouched is the LFU field f after an access (Redis's updateLFU):
// decayed, then raised logarithmically, stamped with the current minute.
func (s *Shard) lfuTouched(f uint32) uint32 {
	counter := s.lfuDecayed(f)
	if counter < 255 {
		base := float64(counter) - lfuInitVal
		if base < 0 {
			base = 0
		}
		p := 1 / (base*float64(s.Config.LFULogFactor) + 1)
		if float64(s.rand64()>>11)/(1<<53) < p {
			counter++
		}
	}
	return s.lfuMinutes()<<8 | counter
}

// touchMeta refreshes the access field of the key at r whose Meta is m,
// for a lookup (Shard.lookup): the LRU clock, or under an LFU policy
// the LFU field.
func (s *Shard) touchMeta(r kv.Ref, m kv.Meta) {
	if s.lfu {
		s.db.SetMeta(r, m&0xff|kv.Meta(s.lfuTouched(metaLRU(m)))<<8)
		return
	}
	s.db.SetMeta(r, m&0xff|kv.Meta(s.lruClock)<<8)
}

// tickClocks sets the field a new key's Meta starts with (Shard.newClock)
// from the clock: the LRU clock, or under an LFU policy the current
// minute with the counter at 5.
func (s *Shard) tickClocks() {
	s.lruClock = uint32(s.nowMs/1000) & lruMask
	if s.lfu {
		s.newClock = s.lfuMinutes()<<8 | lfuInitVal
	} else {
		s.newClock = s.lruClock
	}
}

// restoredClock is the access field of a key RESTOREd or loaded with an
// IDLETIME (idle, seconds) or FREQ (freq), -1 for none: as Redis's
// objectSetLRUOrLFU, the one the policy's kind uses, the other ignored.
func (s *Shard) restoredClock(idle, freq int64) uint32 {
	if s.lfu {
		if freq >= 0 {
			return s.lfuMinutes()<<8 | uint32(freq)
		}
	} else if idle >= 0 {
		return lruFromIdle(s.lruClock, idle)
	}
	return s.newClock
}

// propagateEvicted records an evicted key's deletion as a DEL, apart
// from any command's records, as Redis propagates an eviction.
func (s *Shard) propagateEvicted(key []byte) {
	if !s.prop.on {
		return
	}
	if s.prop.depth == 0 {
		s.prop.ops = 0
	}
	s.evict.delArgv[0], s.evict.delArgv[1] = delName, key
	s.feed(s.evict.delArgv[:])
}

var delName = []byte("DEL")

// noSharedIntegers reports whether small integers get objects of their
// own, as Redis's MAXMEMORY_FLAG_NO_SHARED_INTEGERS: with maxmemory set
// and an LRU or LFU policy.
func (s *Shard) noSharedIntegers() bool {
	return s.Config.Maxmemory > 0 && s.evict.policy&(policyFlagLRU|policyFlagLFU) != 0
}

// overwriteMeta is the Meta m of a value replacing the one at r: under an
// LFU policy it keeps r's LFU field, as Redis's dbOverwrite does.
func (s *Shard) overwriteMeta(r kv.Ref, m kv.Meta) kv.Meta {
	if s.lfu {
		return m&0xff | s.db.Meta(r)&^0xff
	}
	return m
}
