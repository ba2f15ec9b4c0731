package engine

import (
	"strconv"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/rdb"
	"shoal/resp"
)

// DUMP and RESTORE: a key's value in Redis's DUMP format (rdbobj.go),
// byte-compatible with redis-server's in both directions, with Redis
// 7.0's options, replies and errors (cluster.c's dumpCommand and
// restoreCommand).

// Errors only this family replies.
const (
	errBusyKey         = "BUSYKEY Target key name already exists."
	errDumpPayload     = "ERR DUMP payload version or checksum are wrong"
	errBadDataFormat   = "ERR Bad data format"
	errRestoreTTL      = "ERR Invalid TTL value, must be >= 0"
	errRestoreIdletime = "ERR Invalid IDLETIME value, must be >= 0"
	errRestoreFreq     = "ERR Invalid FREQ value, must be >= 0 and <= 255"
)

func init() {
	register(
		&Command{Name: "dump", Arity: 2,
			Flags: FlagReadonly,
			ACL:   "@keyspace",
			Group: "generic", Since: "2.6.0",
			Summary:    "Return a serialized version of the value stored at the specified key.",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
			Tips:       []string{"nondeterministic_output"},
			Keys:       []KeySpec{{Flags: "RO ACCESS", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "key",
			Proc:       dumpCmd,
		},
		&Command{Name: "restore", Arity: -4,
			Flags: FlagWrite | FlagDenyOOM,
			ACL:   "@keyspace @dangerous",
			Group: "generic", Since: "2.6.0",
			Summary:    "Create a key using the provided serialized value, previously obtained using DUMP.",
			Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
			Keys:       []KeySpec{{Flags: "OW UPDATE", Begin: 1, LastKey: 0, Step: 1}},
			History:    [][2]string{{"3.0.0", "Added the `REPLACE` modifier."}, {"5.0.0", "Added the `ABSTTL` modifier."}, {"5.0.0", "Added the `IDLETIME` and `FREQ` options."}},
			Syntax:     "key ttl:integer serialized-value [REPLACE@3.0.0] [ABSTTL@5.0.0] [IDLETIME seconds:integer@5.0.0] [FREQ frequency:integer@5.0.0]",
			Proc:       restoreCmd,
		},
	)
}

// DUMP key: the value's payload (value type, value, RDB version, CRC64),
// or nil. The payload is built in place in the reply and its bulk header
// put in front once its length is known: no allocation beyond Out's
// growth. O(size of the value).
func dumpCmd(s *Shard, c *Client, argv [][]byte) {
	r := s.lookupRead(argv[1])
	if r == kv.Nil {
		c.Null()
		return
	}
	start := len(c.Out)
	c.Out = s.rdbDump(c.Out, r, rdbCompress)
	n := len(c.Out) - start
	var hb [24]byte
	h := resp.AppendBulkLen(hb[:0], n)
	c.Out = append(c.Out, h...)
	copy(c.Out[start+len(h):], c.Out[start:start+n])
	copy(c.Out[start:], h)
	c.Out = append(c.Out, '\r', '\n')
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
// [FREQ frequency]: creates key from a DUMP payload. Checks run in
// Redis's order: the options, then the key's absence (unless REPLACE),
// the TTL, the payload's version and checksum, the value itself. A TTL
// already past creates nothing (and deletes the key REPLACE would have
// replaced) and replies OK, as Redis does outside of loading. FREQ is
// set the key's LFU counter under an LFU policy, IDLETIME its LRU clock
// under the others; the other one is ignored, as in Redis.
func restoreCmd(s *Shard, c *Client, argv [][]byte) {
	replace, absttl := false, false
	idle, freq := int64(-1), int64(-1)
	for j := 4; j < len(argv); j++ {
		more := len(argv) - j - 1
		switch {
		case eqFold(argv[j], "replace"):
			replace = true
		case eqFold(argv[j], "absttl"):
			absttl = true
		case eqFold(argv[j], "idletime") && more >= 1 && freq == -1:
			v, ok := parseInt(argv[j+1])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if v < 0 {
				c.Error(errRestoreIdletime)
				return
			}
			idle = v
			j++
		case eqFold(argv[j], "freq") && more >= 1 && idle == -1:
			v, ok := parseInt(argv[j+1])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if v < 0 || v > 255 {
				c.Error(errRestoreFreq)
				return
			}
			freq = v
			j++
		default:
			c.Error(errSyntax)
			return
		}
	}
	key := argv[1]
	if !replace && s.lookup(key) != kv.Nil {
		c.Error(errBusyKey)
		return
	}
	ttl, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if ttl < 0 {
		c.Error(errRestoreTTL)
		return
	}
	body, _, ok := rdb.CheckDumpPayload(argv[3])
	if !ok {
		c.Error(errDumpPayload)
		return
	}
	v, ok := s.restoreValue(body)
	if !ok {
		c.Error(errBadDataFormat)
		return
	}

	// REPLACE deletes whatever is there, expired or not, as Redis's
	// dbDelete does (an expired key then counts as deleted, not expired).
	deleted := false
	if replace {
		if r := s.db.Find(key); r != kv.Nil {
			s.db.Delete(r)
			deleted = true
		}
	}
	if ttl != 0 && !absttl {
		ttl += s.nowMs // wraps on overflow, as Redis's does: then it is past
	}
	if ttl != 0 && !s.loading && ttl <= s.nowMs {
		if deleted {
			s.propagateDel(key)
			s.notify(notifyGeneric, "del", key)
			s.dirty++
		}
		c.OK()
		return
	}
	expire := kv.NoExpire
	if ttl != 0 {
		expire = ttl
	}
	s.insertRDB(key, kv.Hash(key), &v, expire, s.restoredClock(idle, freq))
	s.notifyNew(key)
	if ttl != 0 && !absttl {
		// Recorded with the absolute time, as Redis propagates it.
		rec := make([][]byte, 0, len(argv)+1)
		rec = append(rec, argv...)
		rec[2] = strconv.AppendInt(nil, ttl, 10)
		s.propagateAs(append(rec, []byte("ABSTTL"))...)
	}
	s.notify(notifyGeneric, "restore", key)
	s.dirty++
	c.OK()
}

// restoreValue reads the value of a DUMP payload whose footer was
// checked (body: value type and value), under the shard's encoding
// limits. ok is false for anything but exactly one valid, non-empty value.
// The value's string, if any, aliases body.
func (s *Shard) restoreValue(body []byte) (v rdbValue, ok bool) {
	rd := rdb.NewBytesReader(body)
	t, err := rd.ReadByte()
	if err != nil || !rdb.IsValueType(t) {
		return rdbValue{}, false
	}
	d := rdbDecoder{rd: rd, cfg: s.Config}
	v, err = d.readValue(t)
	if err != nil || rd.Buffered() != 0 {
		return rdbValue{}, false
	}
	return v, true
}
