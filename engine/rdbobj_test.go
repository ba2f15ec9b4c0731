package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/rdb"
	"shoal/engine/internal/redisfixture"
	"shoal/resp"
)

// kvConn runs a command on one side of a comparison, a shard or a live
// redis-server, and returns its reply flattened to strings.
type kvConn interface {
	run(args ...string) []string
}

// shardConn is a shard on a fake clock with one client.
type shardConn struct {
	t   testing.TB
	now int64
	s   *Shard
	c   *Client
}

func newShardConn(t testing.TB) *shardConn {
	sc := &shardConn{t: t, now: scriptStart}
	sc.s = newTestShard(&sc.now)
	sc.c = sc.s.NewClient()
	return sc
}

func (sc *shardConn) run(args ...string) []string {
	sc.t.Helper()
	sc.s.Tick()
	sc.c.Out = sc.c.Out[:0]
	sc.s.Exec(sc.c, argv(args...))
	v, err := resp.ReadReply(bufioReader(sc.c.Out))
	if err != nil {
		sc.t.Fatalf("%.60q: bad reply %q: %v", args, sc.c.Out, err)
	}
	if v.IsError() {
		sc.t.Fatalf("%.60q: %s", args, v.Str)
	}
	if sc.s.Stats.UnexpectedErrors != 0 {
		sc.t.Fatalf("%.60q panicked", args)
	}
	var out []string
	var flat func(v *resp.Value)
	flat = func(v *resp.Value) {
		switch {
		case v.Type == resp.TypeInt:
			out = append(out, strconv.FormatInt(v.Int, 10))
		case v.Elems != nil:
			for i := range v.Elems {
				flat(&v.Elems[i])
			}
		default:
			out = append(out, string(v.Str))
		}
	}
	flat(&v)
	return out
}

type redisConn struct {
	t testing.TB
	r *redisfixture.Server
}

func (rc redisConn) run(args ...string) []string {
	rc.t.Helper()
	var out []string
	var flat func(v any)
	flat = func(v any) {
		switch v := v.(type) {
		case []byte:
			out = append(out, string(v))
		case string:
			out = append(out, v)
		case int64:
			out = append(out, strconv.FormatInt(v, 10))
		case []any:
			for _, e := range v {
				flat(e)
			}
		case nil:
			out = append(out, "")
		}
	}
	flat(rc.r.Do(rc.t, args...))
	return out
}

// describe renders key as its type, encoding, whether it has a TTL, and
// its value (members of sets and fields of hashes sorted), the same way
// for both sides.
func describe(c kvConn, key string) string { return describeAs(c, key, false) }

// describeLoaded is describe with a string's encoding replaced by the one
// it gets when loaded or restored (int, embstr or raw by its bytes, as
// Redis gives it whatever encoding the string had: APPEND's raw, PFADD's
// raw are not kept).
func describeLoaded(c kvConn, key string) string { return describeAs(c, key, true) }

func describeAs(c kvConn, key string, loaded bool) string {
	typ := c.run("TYPE", key)[0]
	if typ == "none" {
		return "none"
	}
	enc := c.run("OBJECT", "ENCODING", key)[0]
	var vals []string
	switch typ {
	case "string":
		vals = c.run("GET", key)
		if loaded {
			enc = encNames[stringEncoding([]byte(vals[0]))]
		}
	case "list":
		vals = c.run("LRANGE", key, "0", "-1")
	case "set":
		vals = c.run("SMEMBERS", key)
		slices.Sort(vals)
	case "zset":
		vals = c.run("ZRANGE", key, "0", "-1", "WITHSCORES")
	case "hash":
		kvs := c.run("HGETALL", key)
		pairs := make([]string, 0, len(kvs)/2)
		for i := 0; i+1 < len(kvs); i += 2 {
			pairs = append(pairs, kvs[i]+"="+kvs[i+1])
		}
		slices.Sort(pairs)
		vals = pairs
	}
	ttl := "persistent"
	if pttl, _ := strconv.ParseInt(c.run("PTTL", key)[0], 10, 64); pttl >= 0 {
		ttl = "volatile"
	}
	joined := strings.Join(vals, "\x00")
	head := vals[:min(len(vals), 3)]
	return fmt.Sprintf("%s %s %s n=%d crc=%016x head=%.80q", typ, enc, ttl, len(vals),
		rdb.CRC64(0, []byte(joined)), head)
}

// rdbCase builds one key, "k", by commands that both sides run.
type rdbCase struct {
	name  string
	build [][]string
	// ordered: the value's RDB bytes do not depend on hash table order,
	// so Shoal's DUMP equals Redis's byte for byte (without compression).
	ordered bool
}

func rdbCases() []rdbCase {
	rng := rand.New(rand.NewSource(42))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.Intn(36)]
		}
		return string(b)
	}
	push := func(cmd string, n int, elem func(i int) []string) [][]string {
		var out [][]string
		for i := 0; i < n; {
			args := []string{cmd, "k"}
			for ; i < n && len(args) < 200; i++ {
				args = append(args, elem(i)...)
			}
			out = append(out, args)
		}
		return out
	}
	one := func(args ...string) [][]string { return [][]string{args} }
	binary := string([]byte{0, 1, 2, 0xff, '\r', '\n', 0x80})
	return []rdbCase{
		{"embstr", one("SET", "k", "hello world"), true},
		{"empty string", one("SET", "k", ""), true},
		{"binary", one("SET", "k", binary), true},
		{"int small", one("SET", "k", "-7"), true},
		{"int 32", one("SET", "k", "2147483647"), true},
		{"int 64", one("SET", "k", "-9223372036854775808"), true},
		{"not canonical", one("SET", "k", "0123"), true},
		{"raw", one("SET", "k", word(120)), true},
		{"compressible", one("SET", "k", strings.Repeat("abcabcabd", 200)), true},
		{"big", one("SET", "k", word(70000)), true},
		{"incr", [][]string{{"SET", "k", "99"}, {"INCRBY", "k", "5000000000"}}, true},
		{"append", [][]string{{"SET", "k", "12"}, {"APPEND", "k", "34"}}, true},
		{"hll", one("PFADD", "k", "a", "b", "c", "d"), true},
		{"with ttl", one("SET", "k", "v", "PX", "100000000"), true},
		{"list small", one("RPUSH", "k", "a", "1", "-2", "300", binary, ""), true},
		{"list nodes", push("RPUSH", 3000, func(i int) []string { return []string{word(rng.Intn(12)) + strconv.Itoa(i)} }), true},
		{"list big elements", one("RPUSH", "k", word(10000), "x", word(9000)), true},
		{"list lzf nodes", push("RPUSH", 500, func(i int) []string { return []string{"item:" + strconv.Itoa(i%7)} }), true},
		{"intset", one("SADD", "k", "1", "-5", "70000", "5000000000", "-9223372036854775808"), true},
		{"intset limit", push("SADD", 512, func(i int) []string { return []string{strconv.Itoa(i * 3)} }), true},
		{"intset over", push("SADD", 513, func(i int) []string { return []string{strconv.Itoa(i * 3)} }), false},
		{"set strings", one("SADD", "k", "a", "b", "c", binary), false},
		{"set big", push("SADD", 2000, func(i int) []string { return []string{word(8) + strconv.Itoa(i)} }), false},
		{"zset small", one("ZADD", "k", "1", "a", "2.5", "b", "-inf", "c", "+inf", "d", "0", "e", "1e300", "f", "-0.1", "g", "3", "12"), true},
		{"zset ties", one("ZADD", "k", "5", "b", "5", "a", "5", "c"), true},
		{"zset limit", push("ZADD", 128, func(i int) []string { return []string{strconv.Itoa(i % 17), word(6)} }), true},
		{"zset over", push("ZADD", 129, func(i int) []string { return []string{strconv.Itoa(i % 17), word(6)} }), true},
		{"zset long member", one("ZADD", "k", "1", word(65), "2", "b"), true},
		{"zset big", push("ZADD", 1500, func(i int) []string {
			return []string{strconv.FormatFloat(rng.NormFloat64()*1000, 'g', -1, 64), word(10)}
		}), true},
		{"hash small", one("HSET", "k", "f", "v", "n", "12", "neg", "-3", "e", ""), true},
		{"hash limit", push("HSET", 512, func(i int) []string { return []string{"f" + strconv.Itoa(i), word(5)} }), true},
		{"hash over", push("HSET", 513, func(i int) []string { return []string{"f" + strconv.Itoa(i), word(5)} }), false},
		{"hash long value", one("HSET", "k", "f", word(65), "g", "1"), false},
		{"hash big", push("HSET", 3000, func(i int) []string { return []string{word(10), word(30)} }), false},
	}
}

// buildCase runs c's commands on conn after deleting k.
func buildCase(conn kvConn, c rdbCase) {
	conn.run("DEL", "k")
	for _, cmd := range c.build {
		conn.run(cmd...)
	}
}

func startRedis(t *testing.T) redisConn {
	t.Helper()
	r := redisfixture.Start(t)
	if v := r.Version(t); v != RedisVersion {
		t.Logf("redis-server %s, not %s", v, RedisVersion)
	}
	return redisConn{t, r}
}

// TestRDBGoldenRedis moves every case between a live redis-server and a
// shard through DUMP and RESTORE, both ways, with and without Redis's LZF
// compression, and compares the values and encodings; where the bytes do
// not depend on hash table order, Shoal's DUMP must be Redis's.
func TestRDBGoldenRedis(t *testing.T) {
	redis := startRedis(t)
	for _, c := range rdbCases() {
		t.Run(c.name, func(t *testing.T) {
			redis.t = t
			buildCase(redis, c)
			for _, compress := range []string{"no", "yes"} {
				redis.run("CONFIG", "SET", "rdbcompression", compress)
				payload := redis.run("DUMP", "k")[0]
				// What Redis itself makes of its payload is the reference.
				redis.run("RESTORE", "ref", "0", payload, "REPLACE")
				want := describe(redis, "ref")
				if orig := describeLoaded(redis, "k"); strings.Replace(orig, "volatile", "persistent", 1) != want {
					t.Fatalf("Redis restored\n%s\nfrom\n%s", want, orig)
				}

				// Redis -> Shoal: same value, same encoding.
				sc := newShardConn(t)
				sc.run("RESTORE", "k", "0", payload)
				if got := describe(sc, "k"); got != want {
					t.Fatalf("rdbcompression %s: RESTORE in Shoal gave\n%s\nRedis gives\n%s", compress, got, want)
				}
				if compress == "no" && c.ordered {
					r := sc.s.db.Find([]byte("k"))
					if mine := sc.s.rdbDump(nil, r, false); string(mine) != payload {
						t.Fatalf("Shoal's DUMP of the restored key differs from Redis's:\n%.200q\n%.200q", mine, payload)
					}
				}

				// Shoal -> Redis: the value built in Shoal restores in
				// Redis as Redis's own payload does.
				src := newShardConn(t)
				buildCase(src, c)
				if got, orig := describeLoaded(src, "k"), describeLoaded(redis, "k"); got != orig {
					t.Fatalf("the same commands gave\n%s\nin Shoal and\n%s\nin Redis", got, orig)
				}
				redis.run("RESTORE", "k2", "0", src.run("DUMP", "k")[0], "REPLACE")
				if got := describe(redis, "k2"); got != want {
					t.Fatalf("Shoal's DUMP restored in Redis as\n%s\nwant\n%s", got, want)
				}
			}
			redis.run("DEL", "k2", "ref")
		})
	}
}

// writeRDB serializes every key of s as a file, the way the AOF's base
// is written.
func writeRDB(s *Shard) []byte {
	b := rdb.AppendHeader(nil, rdb.StandardAux(RedisVersion, s.Now()/1000, 1<<20, true))
	b = rdb.AppendSelectDB(b, 0)
	b = rdb.AppendResizeDB(b, s.db.Len(), s.db.Volatile())
	var refs []kv.Ref
	cursor := uint64(0)
	for {
		cursor = s.db.Scan(cursor, func(r kv.Ref) { refs = append(refs, r) })
		if cursor == 0 {
			break
		}
	}
	for _, r := range refs {
		b = s.rdbAppendKey(b, r, rdbCompress)
	}
	return rdb.AppendEOF(b, rdb.CRC64(0, b))
}

// loadRDB loads file into a fresh shard, a few keys per step.
func loadRDB(t testing.TB, file []byte, step int) *shardConn {
	sc := newShardConn(t)
	br := bufio.NewReaderSize(bytes.NewReader(file), 64)
	l := sc.s.newRDBLoader(br, "test.rdb")
	for i := 0; ; i++ {
		done, err := l.Step(step)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > len(file) {
			t.Fatal("the loader does not end")
		}
	}
	if l.Offset() != int64(len(file)) {
		t.Fatalf("loader stopped at offset %d of %d", l.Offset(), len(file))
	}
	return sc
}

// shoalWithCases makes a shard holding every case under its name.
func shoalWithCases(t testing.TB) (*shardConn, []string) {
	sc := newShardConn(t)
	sc.now = time.Now().UnixMilli() // expire times must be ahead for redis-server too
	var names []string
	for _, c := range rdbCases() {
		buildCase(sc, c)
		sc.run("RENAME", "k", c.name)
		names = append(names, c.name)
	}
	sc.run("SET", "expired", "x", "PX", "1")
	sc.now += 10 // expired, not yet deleted: written all the same
	return sc, names
}

// TestRDBFileRoundTrip writes a shard as a file and loads it into another.
func TestRDBFileRoundTrip(t *testing.T) {
	src, names := shoalWithCases(t)
	file := writeRDB(src.s)
	for _, step := range []int{1, 7, 1000} {
		dst := loadRDB(t, file, step)
		if dst.s.db.Len() != len(names)+1 {
			t.Fatalf("step %d: %d keys loaded, want %d", step, dst.s.db.Len(), len(names)+1)
		}
		for _, name := range names {
			if got, want := describe(dst, name), describeLoaded(src, name); got != want {
				t.Fatalf("%s: loaded as\n%s\nwant\n%s", name, got, want)
			}
		}
		r := dst.s.db.Find([]byte("expired"))
		if r == kv.Nil || dst.s.db.Expire(r) != src.s.db.Expire(src.s.db.Find([]byte("expired"))) {
			t.Fatalf("the expired key was not loaded with its expire time")
		}
	}
}

// TestRDBFileToRedis writes a shard's keys as a file that redis-check-rdb
// accepts and redis-server loads with the same values.
func TestRDBFileToRedis(t *testing.T) {
	if _, err := osexec.LookPath("redis-check-rdb"); err != nil {
		t.Skip("redis-check-rdb not installed")
	}
	if _, err := osexec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	src, names := shoalWithCases(t)
	src.run("DEL", "expired") // Redis would drop it on load
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "shoal.rdb"), writeRDB(src.s), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := osexec.Command("redis-check-rdb", filepath.Join(dir, "shoal.rdb")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "RDB looks OK") {
		t.Fatalf("redis-check-rdb: %v\n%s", err, out)
	}
	redis := redisConn{t, redisfixture.Start(t, "dir", dir, "dbfilename", "shoal.rdb")}
	if n := redis.run("DBSIZE")[0]; n != strconv.Itoa(len(names)) {
		t.Fatalf("redis-server loaded %s keys, want %d", n, len(names))
	}
	for _, name := range names {
		if got, want := describe(redis, name), describeLoaded(src, name); got != want {
			t.Errorf("%s: redis-server loaded\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestRDBFileFromRedis loads the file redis-server's SAVE writes.
func TestRDBFileFromRedis(t *testing.T) {
	redis := startRedis(t)
	redis.run("CONFIG", "SET", "rdbcompression", "yes")
	var names []string
	for _, c := range rdbCases() {
		buildCase(redis, c)
		redis.run("RENAME", "k", c.name)
		names = append(names, c.name)
	}
	redis.run("SAVE")
	dir := redis.run("CONFIG", "GET", "dir")[1]
	file, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	sc := loadRDB(t, file, 5)
	if sc.s.db.Len() != len(names) {
		t.Fatalf("%d keys loaded, want %d", sc.s.db.Len(), len(names))
	}
	for _, name := range names {
		if got, want := describe(sc, name), describeLoaded(redis, name); got != want {
			t.Errorf("%s: loaded as\n%s\nRedis has\n%s", name, got, want)
		}
	}
}

// TestRDBRoundTrip moves every case from shard to shard by DUMP and
// RESTORE (no redis-server needed), compressed or not.
func TestRDBRoundTrip(t *testing.T) {
	for _, c := range rdbCases() {
		src := newShardConn(t)
		buildCase(src, c)
		want := strings.Replace(describeLoaded(src, "k"), " volatile ", " persistent ", 1)
		for _, compress := range []bool{false, true} {
			payload := src.s.rdbDump(nil, src.s.db.Find([]byte("k")), compress)
			dst := newShardConn(t)
			dst.run("RESTORE", "k", "0", string(payload))
			if got := describe(dst, "k"); got != want {
				t.Fatalf("%s (compress %v): restored as\n%s\nwant\n%s", c.name, compress, got, want)
			}
		}
	}
}

// TestRDBLoadEncodings checks that values take the encoding the shard's
// limits give them, as Redis converts on load.
func TestRDBLoadEncodings(t *testing.T) {
	for _, tc := range []struct {
		build  []string
		config []string
		enc    string
	}{
		{[]string{"HSET", "k", "a", "1", "b", "2", "c", "3"}, []string{"hash-max-listpack-entries", "2"}, "hashtable"},
		{[]string{"HSET", "k", "a", "1", "b", "2", "c", "3"}, []string{"hash-max-listpack-entries", "3"}, "listpack"},
		// A listpack is not checked for long values on load (Redis does not).
		{[]string{"HSET", "k", "a", "123456"}, []string{"hash-max-listpack-value", "2"}, "listpack"},
		{[]string{"ZADD", "k", "1", "a", "2", "b"}, []string{"zset-max-listpack-entries", "1"}, "skiplist"},
		{[]string{"SADD", "k", "1", "2", "3"}, []string{"set-max-intset-entries", "2"}, "hashtable"},
		// Plain encodings come back small when they fit.
		{[]string{"SADD", "k", "1", "2", "x"}, []string{"set-max-intset-entries", "512"}, "hashtable"},
	} {
		src := newShardConn(t)
		src.run(tc.build...)
		payload := src.run("DUMP", "k")[0]
		dst := newShardConn(t)
		dst.run(append([]string{"CONFIG", "SET"}, tc.config...)...)
		dst.run("RESTORE", "k", "0", payload)
		if got := dst.run("OBJECT", "ENCODING", "k")[0]; got != tc.enc {
			t.Errorf("%v under %v: %s, want %s", tc.build, tc.config, got, tc.enc)
		}
	}
	// A skiplist or hashtable dump comes back small where it fits.
	src := newShardConn(t)
	src.run("CONFIG", "SET", "zset-max-listpack-entries", "0")
	src.run("ZADD", "k", "2", "b", "1", "a")
	src.run("CONFIG", "SET", "hash-max-listpack-entries", "0")
	src.run("HSET", "h", "f", "v")
	for _, key := range []string{"k", "h"} {
		payload := src.run("DUMP", key)[0]
		dst := newShardConn(t)
		dst.run("RESTORE", key, "0", payload)
		if got := dst.run("OBJECT", "ENCODING", key)[0]; got != "listpack" {
			t.Errorf("%s: %s, want listpack", key, got)
		}
		if got, want := describe(dst, key), strings.Replace(describe(src, key), "skiplist", "listpack", 1); key == "k" && got != want {
			t.Errorf("got %s want %s", got, want)
		}
	}
}

// payload wraps an RDB value (type byte and value) in a DUMP footer.
func payload(body ...[]byte) string {
	b := bytes.Join(body, nil)
	return string(rdb.AppendDumpFooter(b, 0))
}

// testZiplist encodes entries as a ziplist: integers 0..12 as immediate
// values, everything else as strings of under 64 bytes.
func testZiplist(entries ...string) []byte {
	zl := make([]byte, 10)
	prev, last := 0, 10
	for _, e := range entries {
		start := len(zl)
		zl = append(zl, byte(prev))
		if v, err := strconv.Atoi(e); err == nil && v >= 0 && v <= 12 && strconv.Itoa(v) == e {
			zl = append(zl, 0xf1+byte(v))
		} else {
			zl = append(zl, byte(len(e)))
			zl = append(zl, e...)
		}
		prev, last = len(zl)-start, start
	}
	zl = append(zl, 0xff)
	zl[0], zl[1], zl[2], zl[3] = byte(len(zl)), byte(len(zl)>>8), 0, 0
	zl[4], zl[5] = byte(last), byte(last>>8)
	zl[8] = byte(len(entries))
	return zl
}

func str(s string) []byte  { return rdb.AppendString(nil, []byte(s), false) }
func blob(b []byte) []byte { return rdb.AppendString(nil, b, false) }
func ln(n uint64) []byte   { return rdb.AppendLen(nil, n) }
func bin(f float64) []byte { return rdb.AppendBinaryDouble(nil, f) }
func dbl(f float64) []byte { return rdb.AppendDouble(nil, f) }
func typ(t byte) []byte    { return []byte{t} }
func lpOf(es ...string) []byte {
	var b []byte
	b = append(b, 0, 0, 0, 0, byte(len(es)), 0)
	for _, e := range es {
		if len(e) >= 64 {
			panic("lpOf: short strings only")
		}
		b = append(b, 0x80|byte(len(e)))
		b = append(b, e...)
		b = append(b, byte(1+len(e)))
	}
	b = append(b, 0xff)
	b[0], b[1] = byte(len(b)), byte(len(b)>>8)
	return b
}

// TestRestoreOldTypes restores the types older and newer Redis write:
// each must give the value (and the encoding) Redis 7.0 would.
func TestRestoreOldTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		body [][]byte
		want [][]string // commands to build the same value, for describe
	}{
		{"linked list", [][]byte{typ(rdb.TypeList), ln(3), str("a"), str("7"), str("c")},
			[][]string{{"RPUSH", "k", "a", "7", "c"}}},
		{"ziplist list", [][]byte{typ(rdb.TypeListZiplist), blob(testZiplist("x", "3", "yy"))},
			[][]string{{"RPUSH", "k", "x", "3", "yy"}}},
		{"quicklist of ziplists", [][]byte{typ(rdb.TypeListQuicklist), ln(2), blob(testZiplist("a", "b")), blob(testZiplist("12", "c"))},
			[][]string{{"RPUSH", "k", "a", "b", "12", "c"}}},
		{"quicklist plain node", [][]byte{typ(rdb.TypeListQuicklist2), ln(2), ln(rdb.ContainerPacked), blob(lpOf("a")), ln(rdb.ContainerPlain), str("big")},
			[][]string{{"RPUSH", "k", "a", "big"}}},
		{"plain set of ints", [][]byte{typ(rdb.TypeSet), ln(3), str("3"), str("1"), str("2")},
			[][]string{{"SADD", "k", "1", "2", "3"}}},
		{"plain set mixed", [][]byte{typ(rdb.TypeSet), ln(3), str("3"), str("x"), str("2")},
			[][]string{{"SADD", "k", "x", "2", "3"}}},
		{"listpack set (7.2)", [][]byte{typ(rdb.TypeSetListpack), blob(lpOf("b", "a"))},
			[][]string{{"SADD", "k", "a", "b"}}},
		{"listpack set of ints (7.2)", [][]byte{typ(rdb.TypeSetListpack), blob(lpOf("5", "-1"))},
			[][]string{{"SADD", "k", "5", "-1"}}},
		{"zset string scores", [][]byte{typ(rdb.TypeZset), ln(3), str("b"), dbl(2.5), str("a"), dbl(-1), str("c"), dbl(7)},
			[][]string{{"ZADD", "k", "2.5", "b", "-1", "a", "7", "c"}}},
		{"zset2", [][]byte{typ(rdb.TypeZset2), ln(2), str("b"), bin(2), str("a"), bin(1)},
			[][]string{{"ZADD", "k", "2", "b", "1", "a"}}},
		{"ziplist zset", [][]byte{typ(rdb.TypeZsetZiplist), blob(testZiplist("a", "1", "b", "2.5"))},
			[][]string{{"ZADD", "k", "1", "a", "2.5", "b"}}},
		{"ziplist hash", [][]byte{typ(rdb.TypeHashZiplist), blob(testZiplist("f", "v", "g", "12"))},
			[][]string{{"HSET", "k", "f", "v", "g", "12"}}},
		{"zipmap hash", [][]byte{typ(rdb.TypeHashZipmap), blob([]byte("\x02\x03foo\x03\x00bar\x05hello\x05\x00world\xff"))},
			[][]string{{"HSET", "k", "foo", "bar", "hello", "world"}}},
		{"plain hash", [][]byte{typ(rdb.TypeHash), ln(2), str("f"), str("v"), str("g"), str("1")},
			[][]string{{"HSET", "k", "f", "v", "g", "1"}}},
		{"plain hash, long value", [][]byte{typ(rdb.TypeHash), ln(2), str("f"), str("v"), str("g"), str(strings.Repeat("x", 100))},
			[][]string{{"HSET", "k", "f", "v", "g", strings.Repeat("x", 100)}}},
	} {
		sc := newShardConn(t)
		sc.run("RESTORE", "k", "0", payload(tc.body...))
		ref := newShardConn(t)
		for _, cmd := range tc.want {
			ref.run(cmd...)
		}
		if got, want := describe(sc, "k"), describe(ref, "k"); got != want {
			t.Errorf("%s: restored as\n%s\nwant\n%s", tc.name, got, want)
		}
	}
}

// TestRestoreCorrupt checks that payloads with a good footer but a bad
// value are refused with Redis's error, and nothing is created.
func TestRestoreCorrupt(t *testing.T) {
	lpBadBacklen := lpOf("a", "b")
	lpBadBacklen[8] = 9
	for _, tc := range []struct {
		name string
		body [][]byte
	}{
		{"empty", nil},
		{"unknown type", [][]byte{typ(8)}},
		{"truncated string", [][]byte{typ(rdb.TypeString), ln(10), []byte("abc")}},
		{"trailing bytes", [][]byte{typ(rdb.TypeString), str("a"), []byte("x")}},
		{"empty list", [][]byte{typ(rdb.TypeListQuicklist2), ln(0)}},
		{"list of empty nodes", [][]byte{typ(rdb.TypeListQuicklist2), ln(1), ln(rdb.ContainerPacked), blob(lpOf())}},
		{"empty node blob", [][]byte{typ(rdb.TypeListQuicklist2), ln(1), ln(rdb.ContainerPacked), str("")}},
		{"bad container", [][]byte{typ(rdb.TypeListQuicklist2), ln(1), ln(3), blob(lpOf("a"))}},
		{"bad listpack", [][]byte{typ(rdb.TypeListQuicklist2), ln(1), ln(rdb.ContainerPacked), blob(lpBadBacklen)}},
		{"huge count", [][]byte{typ(rdb.TypeSet), ln(1 << 40), str("a")}},
		{"set repeats", [][]byte{typ(rdb.TypeSet), ln(2), str("a"), str("a")}},
		{"intset repeats", [][]byte{typ(rdb.TypeSet), ln(2), str("1"), str("1")}},
		{"intset unsorted", [][]byte{typ(rdb.TypeSetIntset), blob([]byte{2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0})}},
		{"intset empty", [][]byte{typ(rdb.TypeSetIntset), blob([]byte{2, 0, 0, 0, 0, 0, 0, 0})}},
		{"set listpack repeats", [][]byte{typ(rdb.TypeSetListpack), blob(lpOf("a", "a"))}},
		{"hash listpack repeats", [][]byte{typ(rdb.TypeHashListpack), blob(lpOf("f", "1", "f", "2"))}},
		{"hash listpack odd", [][]byte{typ(rdb.TypeHashListpack), blob(lpOf("f", "1", "g"))}},
		{"hash listpack empty", [][]byte{typ(rdb.TypeHashListpack), blob(lpOf())}},
		{"plain hash repeats", [][]byte{typ(rdb.TypeHash), ln(2), str("f"), str("1"), str("f"), str("2")}},
		{"plain hash repeats past conversion", [][]byte{typ(rdb.TypeHash), ln(3), str("f"), str("1"), str("g"), str(strings.Repeat("x", 100)), str("f"), str("2")}},
		{"plain hash repeats before conversion", [][]byte{typ(rdb.TypeHash), ln(3), str("f"), str("1"), str("f"), str("2"), str("g"), str(strings.Repeat("x", 100))}},
		{"zset NaN", [][]byte{typ(rdb.TypeZset2), ln(1), str("a"), bin(nan())}},
		{"zset string NaN", [][]byte{typ(rdb.TypeZset), ln(1), str("a"), dbl(nan())}},
		{"zset repeats", [][]byte{typ(rdb.TypeZset2), ln(2), str("a"), bin(1), str("a"), bin(2)}},
		{"zset listpack unordered", [][]byte{typ(rdb.TypeZsetListpack), blob(lpOf("a", "2", "b", "1"))}},
		{"zset listpack tie unordered", [][]byte{typ(rdb.TypeZsetListpack), blob(lpOf("b", "1", "a", "1"))}},
		{"zset listpack bad score", [][]byte{typ(rdb.TypeZsetListpack), blob(lpOf("a", "x"))}},
		{"zset listpack NaN score", [][]byte{typ(rdb.TypeZsetListpack), blob(lpOf("a", "nan"))}},
		{"zset listpack repeats", [][]byte{typ(rdb.TypeZsetListpack), blob(lpOf("a", "1", "a", "2"))}},
		{"ziplist hash repeats", [][]byte{typ(rdb.TypeHashZiplist), blob(testZiplist("f", "v", "f", "w"))}},
		{"zipmap repeats", [][]byte{typ(rdb.TypeHashZipmap), blob([]byte("\x02\x01f\x01\x00a\x01f\x01\x00b\xff"))}},
		{"module", [][]byte{typ(rdb.TypeModule2), ln(1)}},
		{"stream", [][]byte{typ(rdb.TypeStreamListpacks2), ln(0)}},
		{"hash with field expiration", [][]byte{typ(rdb.TypeHashListpackEx), ln(0)}},
	} {
		sc := newShardConn(t)
		sc.c.Out = sc.c.Out[:0]
		sc.s.Exec(sc.c, argv("RESTORE", "k", "0", payload(tc.body...)))
		if got := string(sc.c.Out); got != "-"+errBadDataFormat+"\r\n" {
			t.Errorf("%s: %q", tc.name, got)
		}
		if sc.s.db.Len() != 0 || sc.s.Stats.UnexpectedErrors != 0 {
			t.Errorf("%s: a key was created or the command panicked", tc.name)
		}
	}
}

func nan() float64 { f, _ := strconv.ParseFloat("NaN", 64); return f }

// TestRDBLoaderErrors checks what a load refuses, and that the error
// names the file and the record's offset.
func TestRDBLoaderErrors(t *testing.T) {
	head := rdb.AppendHeader(nil, rdb.StandardAux(RedisVersion, 0, 0, false))
	key := func(k, v string) []byte {
		return append(append(typ(rdb.TypeString), str(k)...), str(v)...)
	}
	withEOF := func(parts ...[]byte) []byte {
		b := bytes.Join(append([][]byte{head}, parts...), nil)
		return rdb.AppendEOF(b, rdb.CRC64(0, b))
	}
	good := withEOF(key("a", "1"))
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	noSum := bytes.Clone(good)
	copy(noSum[len(noSum)-8:], make([]byte, 8))
	for _, tc := range []struct {
		name   string
		file   []byte
		err    error  // wrapped, nil for success
		offset int64  // of the failing record
		text   string // in the message
	}{
		{"good", good, nil, 0, ""},
		{"no checksum", noSum, nil, 0, ""},
		{"old version, no checksum", append(append([]byte("REDIS0004"), key("a", "1")...), rdb.OpEOF), nil, 0, ""},
		{"bad checksum", badSum, rdb.ErrCorrupt, int64(len(good) - 9), "checksum"},
		{"not rdb", []byte("*1\r\n$4\r\nPING\r\n"), rdb.ErrCorrupt, 0, "signature"},
		{"newer version", []byte("REDIS0013"), rdb.ErrUnsupported, 0, "version 13"},
		{"truncated", good[:len(good)-12], io.ErrUnexpectedEOF, int64(len(head)), ""},
		{"no EOF", bytes.Join([][]byte{head, key("a", "1")}, nil), io.ErrUnexpectedEOF, int64(len(head) + 5), ""},
		{"duplicate key", withEOF(key("a", "1"), key("a", "2")), errDuplicateKey, int64(len(head) + 5), `"a"`},
		{"other database", withEOF(rdb.AppendSelectDB(nil, 1)), rdb.ErrUnsupported, int64(len(head)), "database 1"},
		{"bad value", withEOF(typ(rdb.TypeSet), str("k"), ln(2), str("x"), str("x")), rdb.ErrCorrupt, int64(len(head)), `(key "k")`},
		{"stream", withEOF(typ(rdb.TypeStreamListpacks), str("k"), ln(0)), rdb.ErrUnsupported, int64(len(head)), "stream"},
		{"function", withEOF(typ(rdb.OpFunction2), str("#!lua name=x\nredis.register_function('f', function() return 1 end)"), key("a", "1")), nil, 0, ""},
		{"bad function", withEOF(typ(rdb.OpFunction2), str("#!lua name=x")), rdb.ErrCorrupt, int64(len(head)), "function library: Invalid library metadata"},
		{"unknown opcode", withEOF(typ(243)), rdb.ErrCorrupt, int64(len(head)), "243"},
	} {
		sc := newShardConn(t)
		l := sc.s.newRDBLoader(bufio.NewReader(bytes.NewReader(tc.file)), "base.file")
		var err error
		for range 100 {
			var done bool
			if done, err = l.Step(1); done || err != nil {
				break
			}
		}
		if tc.err == nil {
			if err != nil || l.Keys() != 1 {
				t.Errorf("%s: %v (%d keys)", tc.name, err, l.Keys())
			}
			continue
		}
		var le *rdbLoadError
		if !errors.Is(err, tc.err) || !errors.As(err, &le) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			continue
		}
		prefix := "rdb: base.file: offset " + strconv.FormatInt(tc.offset, 10) + ": "
		if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.text) ||
			strings.Count(err.Error(), "rdb:") != 1 {
			t.Errorf("%s: message %q, want prefix %q and %q", tc.name, err, prefix, tc.text)
		}
		if _, again := l.Step(1); again != err {
			t.Errorf("%s: the error is not sticky", tc.name)
		}
	}
}

// TestRDBLoaderOpcodes covers the records around keys: expire times in
// both units, IDLE, FREQ, aux fields, slot info, an empty key skipped,
// and an AOF tail left in the reader.
func TestRDBLoaderOpcodes(t *testing.T) {
	b := []byte("REDIS0012")
	b = rdb.AppendAux(b, "redis-ver", "7.4.0")
	b = rdb.AppendAux(b, "%unknown", "x")
	b = rdb.AppendSelectDB(b, 0)
	b = rdb.AppendResizeDB(b, 3, 2)
	b = append(b, rdb.OpSlotInfo)
	b = append(b, ln(5)...)
	b = append(b, ln(3)...)
	b = append(b, ln(0)...)
	b = rdb.AppendExpireMs(b, 4102444800123)
	b = append(append(append(b, rdb.TypeString), str("ms")...), str("1")...)
	b = append(b, rdb.OpExpireTime, 0x00, 0x2e, 0x86, 0x6a) // 1787178496 s, little endian
	b = append(append(append(b, rdb.TypeString), str("sec")...), str("2")...)
	b = append(b, rdb.OpIdle)
	b = append(b, ln(100)...)
	b = append(b, rdb.OpFreq, 5)
	b = append(append(append(b, rdb.TypeString), str("idle")...), str("3")...)
	b = append(append(append(b, rdb.TypeHashListpack), str("empty")...), blob(lpOf())...)
	b = rdb.AppendExpireMs(b, 0)
	b = append(append(append(b, rdb.TypeString), str("epoch")...), str("4")...)
	b = rdb.AppendEOF(b, rdb.CRC64(0, b))
	tail := "*1\r\n$4\r\nPING\r\n"
	br := bufio.NewReaderSize(bytes.NewReader(append(bytes.Clone(b), tail...)), 16)
	sc := newShardConn(t)
	l := sc.s.newRDBLoader(br, "x.aof")
	for {
		done, err := l.Step(1)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	if l.Keys() != 4 || l.Offset() != int64(len(b)) {
		t.Fatalf("%d keys, offset %d of %d", l.Keys(), l.Offset(), len(b))
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != tail {
		t.Fatalf("left %q in the reader", rest)
	}
	db := sc.s.db
	for _, tc := range []struct {
		key    string
		expire int64
	}{{"ms", 4102444800123}, {"sec", 1787178496000}, {"idle", kv.NoExpire}, {"epoch", -1}} {
		r := db.Find([]byte(tc.key))
		if r == kv.Nil || db.Expire(r) != tc.expire {
			t.Errorf("%s: expire %d, want %d", tc.key, db.Expire(r), tc.expire)
		}
	}
	if got := sc.s.idleSeconds(db.Find([]byte("idle"))); got != 100 {
		t.Errorf("idle %d, want 100", got)
	}
	if db.Find([]byte("empty")) != kv.Nil {
		t.Error("an empty hash was loaded")
	}
}

func TestLRUFromIdle(t *testing.T) {
	for _, tc := range []struct {
		clock uint32
		idle  int64
		want  uint32
	}{
		{1000, 10, 990},
		{10, 20, lruMask - 10},
		{5, 1 << 40, uint32((5 - (1 << 40) + lruMask) & lruMask)},
	} {
		if got := lruFromIdle(tc.clock, tc.idle); got != tc.want {
			t.Errorf("lruFromIdle(%d, %d) = %d, want %d", tc.clock, tc.idle, got, tc.want)
		}
	}
}

// TestRDBAppendKeyNoAlloc: serializing a string key allocates nothing
// beyond the buffer's growth, compressed or not, with an expire time.
func TestRDBAppendKeyNoAlloc(t *testing.T) {
	sc := newShardConn(t)
	sc.run("SET", "user:1000:profile:settings:theme", strings.Repeat("dark-mode;", 20), "PX", "100000")
	sc.run("SET", "n", "12345")
	sc.run("SET", "s", "short value")
	dst := make([]byte, 0, 4096)
	for _, k := range []string{"user:1000:profile:settings:theme", "n", "s"} {
		r := sc.s.db.Find([]byte(k))
		n := testing.AllocsPerRun(200, func() { dst = sc.s.rdbAppendKey(dst[:0], r, rdbCompress) })
		if n != 0 {
			t.Errorf("%s: %v allocations", k, n)
		}
	}
	var c Client
	c.Out = make([]byte, 0, 4096)
	args := argv("DUMP", "user:1000:profile:settings:theme")
	n := testing.AllocsPerRun(200, func() {
		c.Out = c.Out[:0]
		dumpCmd(sc.s, &c, args)
	})
	if n != 0 {
		t.Errorf("DUMP: %v allocations", n)
	}
}

// restoreCheck restores body into a fresh shard and, when it is accepted,
// checks that the value is sound: its DUMP restores to the same value, and
// reading it in every way panics nowhere.
func restoreCheck(t *testing.T, body []byte) {
	sc := newShardConn(t)
	sc.c.Out = sc.c.Out[:0]
	sc.s.Exec(sc.c, argv("RESTORE", "k", "0", string(rdb.AppendDumpFooter(bytes.Clone(body), 0))))
	if string(sc.c.Out) != "+OK\r\n" {
		if string(sc.c.Out) != "-"+errBadDataFormat+"\r\n" || sc.s.db.Len() != 0 {
			t.Fatalf("RESTORE replied %q", sc.c.Out)
		}
		return
	}
	r := sc.s.db.Find([]byte("k"))
	if metaEnc(sc.s.db.Meta(r)) != valueEncoding(sc.s, r) {
		t.Fatalf("key's encoding %d, its value's %d", metaEnc(sc.s.db.Meta(r)), valueEncoding(sc.s, r))
	}
	want := describe(sc, "k")
	switch sc.run("TYPE", "k")[0] {
	case "zset":
		members := sc.run("ZRANGE", "k", "0", "-1")
		for _, m := range members[:min(len(members), 20)] {
			sc.run("ZRANK", "k", m)
			sc.run("ZSCORE", "k", m)
		}
		sc.run("ZRANGEBYSCORE", "k", "-inf", "+inf")
		sc.run("ZRANGEBYLEX", "k", "-", "+")
	case "hash":
		fields := sc.run("HKEYS", "k")
		for _, f := range fields[:min(len(fields), 20)] {
			sc.run("HGET", "k", f)
		}
	case "set":
		members := sc.run("SMEMBERS", "k")
		for _, m := range members[:min(len(members), 20)] {
			sc.run("SISMEMBER", "k", m)
		}
	case "list":
		sc.run("LINDEX", "k", "-1")
		sc.run("LPOS", "k", "x")
	}
	again := sc.run("DUMP", "k")[0]
	dst := newShardConn(t)
	dst.run("RESTORE", "k", "0", again)
	if got := describe(dst, "k"); got != want {
		t.Fatalf("a restored value does not survive DUMP and RESTORE:\n%s\n%s", got, want)
	}
}

// valueEncoding is the encoding of the value at r, from the value itself.
func valueEncoding(s *Shard, r kv.Ref) uint8 {
	if !s.db.IsObject(r) {
		return metaEnc(s.db.Meta(r)) // strings: int/embstr/raw, checked by describe
	}
	switch o := s.db.Obj(r).(type) {
	case *listObj:
		return encQuicklist
	case *setObj:
		return o.enc()
	case *zsetObj:
		return o.enc()
	case *hashObj:
		return o.encoding()
	}
	return 255
}

// FuzzRestore restores arbitrary values (type byte and value; the footer
// is added): never a panic, and nothing accepted that does not behave.
func FuzzRestore(f *testing.F) {
	for _, c := range rdbCases() {
		if len(c.build) > 3 {
			continue // keep seeds small
		}
		sc := newShardConn(f)
		buildCase(sc, c)
		p := sc.s.rdbDump(nil, sc.s.db.Find([]byte("k")), true)
		if len(p) > 2048 {
			continue // the fuzzer spends its time minimizing big inputs
		}
		f.Add(p[:len(p)-10])
	}
	f.Add(bytes.Join([][]byte{typ(rdb.TypeHashZiplist), blob(testZiplist("f", "v", "g", "12"))}, nil))
	f.Add(bytes.Join([][]byte{typ(rdb.TypeZset), ln(2), str("b"), dbl(2.5), str("a"), dbl(-1)}, nil))
	f.Add(bytes.Join([][]byte{typ(rdb.TypeListQuicklist), ln(1), blob(testZiplist("a", "1"))}, nil))
	f.Add(bytes.Join([][]byte{typ(rdb.TypeSetListpack), blob(lpOf("1", "x"))}, nil))
	f.Fuzz(restoreCheck)
}

// FuzzRDBLoad loads arbitrary bytes after a valid header: never a panic,
// and what loads survives a round trip through a file.
func FuzzRDBLoad(f *testing.F) {
	src, _ := shoalWithCases(f)
	src.run("FLUSHALL")
	src.run("SET", "a", "1")
	src.run("RPUSH", "l", "x", "y")
	src.run("HSET", "h", "f", "v")
	src.run("SET", "e", "v", "PX", "1000")
	file := writeRDB(src.s)
	hl := len(rdb.AppendHeader(nil, rdb.StandardAux(RedisVersion, src.s.Now()/1000, 1<<20, true)))
	f.Add(file[hl:])
	f.Add([]byte{rdb.OpEOF, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, body []byte) {
		in := append([]byte("REDIS0010"), body...)
		sc := newShardConn(t)
		l := sc.s.newRDBLoader(bufio.NewReaderSize(bytes.NewReader(in), 16), "fuzz.rdb")
		var done bool
		var err error
		for i := 0; i <= len(in) && !done && err == nil; i++ {
			done, err = l.Step(3)
		}
		if err != nil {
			if !errors.Is(err, rdb.ErrCorrupt) && !errors.Is(err, rdb.ErrUnsupported) &&
				!errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errDuplicateKey) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !done || l.Offset() > int64(len(in)) || sc.s.Stats.UnexpectedErrors != 0 {
			t.Fatalf("done %v, offset %d of %d", done, l.Offset(), len(in))
		}
		again := loadRDB(t, writeRDB(sc.s), 2)
		if again.s.db.Len() != sc.s.db.Len() {
			t.Fatalf("%d keys, %d after a round trip", sc.s.db.Len(), again.s.db.Len())
		}
	})
}

// BenchmarkRDBWrite measures serializing 1M small string keys into a file
// (throughput in bytes of file), taking the keys in the key space's scan
// order (hash order: every key's entry and record are a cache miss) or
// in the order they were inserted (memory order).
func BenchmarkRDBWrite(b *testing.B) {
	for _, order := range []string{"scan", "memory"} {
		b.Run(order, func(b *testing.B) { benchRDBWrite(b, order == "memory") })
	}
}

func benchRDBWrite(b *testing.B, sorted bool) {
	sc := benchShard(b)
	refs := make([]kv.Ref, 0, sc.s.db.Len())
	for cursor := uint64(0); ; {
		cursor = sc.s.db.Scan(cursor, func(r kv.Ref) { refs = append(refs, r) })
		if cursor == 0 {
			break
		}
	}
	if sorted {
		slices.Sort(refs)
	}
	buf := make([]byte, 0, 64<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = buf[:0]
		for _, r := range refs {
			buf = sc.s.rdbAppendKey(buf, r, rdbCompress)
		}
		b.SetBytes(int64(len(buf)))
	}
}

// BenchmarkRDBLoad measures loading a file of 1M small string keys into
// an empty shard (throughput in bytes of file).
func BenchmarkRDBLoad(b *testing.B) {
	file := writeRDB(benchShard(b).s)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		sc := newShardConn(b)
		br := bufio.NewReaderSize(bytes.NewReader(file), 1<<20)
		b.StartTimer()
		l := sc.s.newRDBLoader(br, "bench.rdb")
		for {
			done, err := l.Step(1024)
			if err != nil {
				b.Fatal(err)
			}
			if done {
				break
			}
		}
	}
}

// benchShard holds 1M string keys "key:N" with 16-byte values, a tenth
// of them with an expire time.
func benchShard(b *testing.B) *shardConn {
	sc := newShardConn(b)
	val := []byte("value-0123456789")
	var kb []byte
	for i := range 1_000_000 {
		kb = strconv.AppendInt(append(kb[:0], "key:"...), int64(i), 10)
		exp := kv.NoExpire
		if i%10 == 0 {
			exp = scriptStart + 3600_000
		}
		sc.s.db.InsertString(kb, val, makeMeta(typeString, encEmbstr, 0), exp)
	}
	return sc
}
