package engine

import (
	"bufio"
	"time"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/rdb"
)

// The AOF's use of the RDB format (rdbobj.go, internal/rdb): a rewrite
// writes its base as an RDB file when aof-use-rdb-preamble is yes (Redis's
// default), and the loader reads an RDB base, or an AOF that starts with
// an RDB preamble, with the incremental RDB loader.

// aofRDBHeader starts an RDB base: "REDIS0010", Redis 7.0's aux fields
// with aof-base 1, the function libraries, database 0 and its sizes.
func (s *Shard) aofRDBHeader(b []byte) []byte {
	b = rdb.AppendHeader(b, rdb.StandardAux(RedisVersion, time.Now().Unix(), s.usedMemory(), true))
	b = s.appendFunctionsRDB(b, false)
	b = rdb.AppendSelectDB(b, 0)
	return rdb.AppendResizeDB(b, s.db.Len(), s.db.Volatile())
}

// aofRDBKey writes a key of a rewrite's base. Strings are not LZF-
// compressed: the shard writes the base inside its loop, and trying LZF
// on values that do not compress took more than half of a rewrite's time
// (random 256-byte values: 56% of 0.78 s for 865k keys); the base is
// read the same either way.
// A string key, most keys, is written from one look at its entry and
// record (rdbAppendKey looks four times).
func (s *Shard) aofRDBKey(b []byte, r kv.Ref) []byte {
	key, val, at, ok := s.db.String(r)
	if !ok {
		return s.rdbAppendKey(b, r, false)
	}
	if at != kv.NoExpire {
		b = rdb.AppendExpireMs(b, at)
	}
	b = append(b, rdb.TypeString)
	b = rdb.AppendString(b, key, false)
	return rdb.AppendString(b, val, false)
}

func (s *Shard) aofRDBPart(r *bufio.Reader, name string) (aofRDBPart, error) {
	return s.newRDBLoader(r, name), nil
}
