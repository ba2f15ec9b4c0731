package engine

import "shoal/engine/internal/kv"

// Value types, numbered as Redis numbers them (OBJ_STRING ...).
const (
	typeString uint8 = 0
	typeList   uint8 = 1
	typeSet    uint8 = 2
	typeZSet   uint8 = 3
	typeHash   uint8 = 4
	typeStream uint8 = 6
)

var typeNames = [...]string{typeString: "string", typeList: "list", typeSet: "set",
	typeZSet: "zset", typeHash: "hash", 5: "", typeStream: "stream"}

// Encodings, numbered as Redis numbers them (OBJ_ENCODING_*), so that
// OBJECT ENCODING answers with Redis's names where the representation
// matches.
const (
	encRaw       uint8 = 0
	encInt       uint8 = 1
	encHashtable uint8 = 2
	encIntset    uint8 = 6
	encSkiplist  uint8 = 7
	encEmbstr    uint8 = 8
	encQuicklist uint8 = 9
	encStream    uint8 = 10
	encListpack  uint8 = 11
)

var encNames = [...]string{encRaw: "raw", encInt: "int", encHashtable: "hashtable",
	3: "zipmap", 4: "linkedlist", 5: "ziplist", encIntset: "intset", encSkiplist: "skiplist",
	encEmbstr: "embstr", encQuicklist: "quicklist", encStream: "stream", encListpack: "listpack"}

// A key's Meta packs its type (4 bits), encoding (4 bits) and the access
// field of the eviction policy (24 bits, as Redis's robj lru): the LRU
// clock of its last access (seconds), or under an LFU policy the LFU
// minute and counter (evict.go).
const lruMask = 1<<24 - 1

func makeMeta(typ, enc uint8, lru uint32) kv.Meta {
	return kv.Meta(uint32(typ)&0xf | uint32(enc)&0xf<<4 | lru<<8)
}

func metaType(m kv.Meta) uint8 { return uint8(m & 0xf) }
func metaEnc(m kv.Meta) uint8  { return uint8(m >> 4 & 0xf) }
func metaLRU(m kv.Meta) uint32 { return uint32(m >> 8) }

// expired reports whether the key at r has passed its expire time: as
// in Redis, a key lives through its expire millisecond and is gone once
// the clock is past it. While the AOF loads, no key expires: the commands
// that follow in the file may still change its time to live.
func (s *Shard) expired(r kv.Ref) bool {
	at := s.db.Expire(r)
	return at != kv.NoExpire && at < s.nowMs && !s.loading
}

// expireNow deletes the key at r because its time to live ran out.
func (s *Shard) expireNow(r kv.Ref) {
	s.notifyExpired(r) // "expired", while the key's name is still there (notify.go)
	// watched is nil unless a client watches the key (multi.go).
	watched := s.watchedExpiring(r)
	s.propagateExpired(s.db.Key(r))
	s.db.Delete(r)
	s.Stats.ExpiredKeys++
	s.dirty++
	if watched != nil {
		s.touchKey(watched)
	}
}

// lookup finds key, deleting it first if it has expired (lazy expiry;
// while clients are paused the key stays, reported missing), and
// refreshes its access clock. It does not count hits and misses. Only
// writes that may run during a pause (pause.go) may insert key after
// lookup found it missing.
func (s *Shard) lookup(key []byte) kv.Ref {
	r := s.db.Find(key)
	if r == kv.Nil {
		return kv.Nil
	}
	if s.expired(r) {
		if !s.expiryHeld() { // a pause keeps it (pause.go)
			s.expireNow(r)
		}
		return kv.Nil
	}
	if m := s.db.Meta(r); metaLRU(m) != s.lruClock || s.lfu {
		s.touchMeta(r, m) // evict.go
	}
	return r
}

// lookupRead is lookup for reading commands: it counts keyspace hits and
// misses for INFO stats.
func (s *Shard) lookupRead(key []byte) kv.Ref {
	r := s.lookup(key)
	if r == kv.Nil {
		s.Stats.KeyspaceMisses++
		s.notify(notifyKeyMiss, "keymiss", key)
	} else {
		s.Stats.KeyspaceHits++
	}
	return r
}

// exists is lookup without touching the access clock or counting hits,
// for internal checks such as COPY's destination.
func (s *Shard) exists(key []byte) kv.Ref {
	r := s.db.Find(key)
	if r != kv.Nil && s.expired(r) {
		if !s.expiryHeld() {
			s.expireNow(r)
		}
		return kv.Nil
	}
	return r
}

// typeOf is the type of the key at r.
func (s *Shard) typeOf(r kv.Ref) uint8 { return metaType(s.db.Meta(r)) }

// lookupTyped finds key for a command on values of type typ: for reading
// (lookupRead: keyspace hits and misses counted) or for writing (lookup,
// as Redis's lookupKeyWrite). r is kv.Nil when the key is absent; ok is
// false after a WRONGTYPE reply for a key of another type. Every family's
// typed lookup is this one.
func (s *Shard) lookupTyped(c *Client, key []byte, typ uint8, read bool) (r kv.Ref, ok bool) {
	if read {
		r = s.lookupRead(key)
	} else {
		r = s.lookup(key)
	}
	if r != kv.Nil && s.typeOf(r) != typ {
		c.Error(errWrongType)
		return kv.Nil, false
	}
	return r, true
}

// lookupString finds a string key for reading, replying WRONGTYPE when it
// holds another type (ok is then false and the reply is written).
func (s *Shard) lookupString(c *Client, key []byte) (r kv.Ref, ok bool) {
	return s.lookupTyped(c, key, typeString, true)
}

// setString stores val at key with the given encoding and expire time,
// overwriting whatever was there (any type). keepTTL keeps the existing
// expire time instead.
func (s *Shard) setString(key, val []byte, enc uint8, expire int64, keepTTL bool) kv.Ref {
	m := makeMeta(typeString, enc, s.newClock)
	r := s.db.Find(key)
	if r == kv.Nil {
		if keepTTL {
			expire = kv.NoExpire
		}
		s.dirty++
		r = s.db.InsertString(key, val, m, expire)
		s.notifyNew(key)
		return r
	}
	if s.expired(r) {
		s.expireNow(r)
		if keepTTL {
			expire = kv.NoExpire
		}
		s.dirty++
		r = s.db.InsertString(key, val, m, expire)
		s.notifyNew(key)
		return r
	}
	s.db.SetString(r, val)
	s.db.SetMeta(r, s.overwriteMeta(r, m))
	if !keepTTL {
		s.db.SetExpire(r, expire)
	}
	s.dirty++
	return r
}

// deleteKey removes key if present (after lazy expiry) and reports
// whether it was there.
func (s *Shard) deleteKey(key []byte) bool {
	r := s.lookup(key)
	if r == kv.Nil {
		return false
	}
	s.db.Delete(r)
	s.dirty++
	return true
}
