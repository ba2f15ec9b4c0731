package integration

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedis drives a server with go-redis v9 as applications use it, over
// RESP3 (the library's default: HELLO 3 on connect) and RESP2.
func TestGoRedis(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, proto := range []int{3, 2} {
			t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
				rdb := newClient(t, s.Addr, proto)
				c := ctx(t)
				pfx := fmt.Sprintf("p%d:", proto)

				// The handshake took: the connection speaks the protocol asked
				// for, and CLIENT SETINFO named the library.
				ci, err := rdb.Do(c, "CLIENT", "INFO").Text()
				if err != nil {
					t.Fatalf("CLIENT INFO: %v", err)
				}
				fields := strings.Fields(ci)
				if !slices.Contains(fields, "resp="+strconv.Itoa(proto)) {
					t.Errorf("CLIENT INFO does not say resp=%d: %q", proto, ci)
				}
				// While a command runs, its client's query buffer holds it, as
				// in Redis: CLIENT INFO's 26 bytes.
				if !slices.Contains(fields, "qbuf=26") {
					t.Errorf("CLIENT INFO does not show its own 26 bytes as qbuf: %q", ci)
				}
				// CLIENT SETINFO and lib-name came with Redis 7.2.
				if v := info(t, s.Addr, "server")["redis_version"]; versionAtLeast(v, 7, 2) &&
					!slices.ContainsFunc(fields, func(f string) bool { return strings.HasPrefix(f, "lib-name=go-redis") }) {
					t.Errorf("CLIENT INFO (redis_version %s) lacks the lib-name go-redis sent with CLIENT SETINFO: %q", v, ci)
				}
				// CONFIG GET answers a map in RESP3, a flat array in RESP2.
				cfg, err := rdb.Do(c, "CONFIG", "GET", "maxclients").Result()
				if err != nil {
					t.Fatalf("CONFIG GET: %v", err)
				}
				switch v := cfg.(type) {
				case map[interface{}]interface{}:
					if proto != 3 || fmt.Sprint(v["maxclients"]) != "10000" {
						t.Errorf("RESP%d CONFIG GET maxclients = map %v", proto, v)
					}
				case []interface{}:
					if proto != 2 || len(v) != 2 || fmt.Sprint(v[1]) != "10000" {
						t.Errorf("RESP%d CONFIG GET maxclients = array %v", proto, v)
					}
				default:
					t.Errorf("CONFIG GET answered %T %v", cfg, cfg)
				}

				if err := rdb.Set(c, pfx+"a", "1", 0).Err(); err != nil {
					t.Fatalf("SET: %v", err)
				}
				if v, err := rdb.Get(c, pfx+"a").Result(); v != "1" || err != nil {
					t.Fatalf("GET = %q, %v", v, err)
				}
				if _, err := rdb.Get(c, pfx+"missing").Result(); !errors.Is(err, redis.Nil) {
					t.Fatalf("GET of a missing key: %v, want redis.Nil", err)
				}
				if v, err := rdb.Incr(c, pfx+"a").Result(); v != 2 || err != nil {
					t.Fatalf("INCR = %d, %v", v, err)
				}
				if v, err := rdb.IncrBy(c, pfx+"a", -5).Result(); v != -3 || err != nil {
					t.Fatalf("INCRBY = %d, %v", v, err)
				}
				if err := rdb.Set(c, pfx+"s", "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
				if err := rdb.Incr(c, pfx+"s").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
					t.Fatalf("INCR of a non-number: %v", err)
				}
				if v, err := rdb.TTL(c, pfx+"a").Result(); v != -1 || err != nil {
					t.Fatalf("TTL of a persistent key = %v, %v (go-redis gives -1ns)", v, err)
				}
				if v, err := rdb.TTL(c, pfx+"missing").Result(); v != -2 || err != nil {
					t.Fatalf("TTL of a missing key = %v, %v", v, err)
				}
				if ok, err := rdb.Expire(c, pfx+"a", 100*time.Second).Result(); !ok || err != nil {
					t.Fatalf("EXPIRE = %v, %v", ok, err)
				}
				if v, err := rdb.TTL(c, pfx+"a").Result(); v < 99*time.Second || v > 100*time.Second || err != nil {
					t.Fatalf("TTL after EXPIRE 100 = %v, %v", v, err)
				}
				if ok, err := rdb.Expire(c, pfx+"missing", time.Second).Result(); ok || err != nil {
					t.Fatalf("EXPIRE of a missing key = %v, %v", ok, err)
				}
				// A key with a short TTL goes away.
				if err := rdb.Set(c, pfx+"short", "v", 50*time.Millisecond).Err(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 3*time.Second, func() bool {
					return errors.Is(rdb.Get(c, pfx+"short").Err(), redis.Nil)
				}, func() string { return "a key SET with PX 50 is still there" })

				if err := rdb.MSet(c, pfx+"m1", "v1", pfx+"m2", "v2", pfx+"m3", "").Err(); err != nil {
					t.Fatalf("MSET: %v", err)
				}
				vals, err := rdb.MGet(c, pfx+"m1", pfx+"nope", pfx+"m2", pfx+"m3").Result()
				if err != nil {
					t.Fatalf("MGET: %v", err)
				}
				if got := fmt.Sprintf("%q", vals); got != `["v1" <nil> "v2" ""]` {
					t.Fatalf("MGET = %s", got)
				}
				if n, err := rdb.Del(c, pfx+"m1", pfx+"m2", pfx+"nope").Result(); n != 2 || err != nil {
					t.Fatalf("DEL = %d, %v", n, err)
				}
				if n, err := rdb.Exists(c, pfx+"m1", pfx+"m3").Result(); n != 1 || err != nil {
					t.Fatalf("EXISTS after DEL = %d, %v", n, err)
				}
				if err := rdb.Do(c, "NOSUCHCOMMAND", "x").Err(); err == nil ||
					!strings.HasPrefix(err.Error(), "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x'") {
					t.Fatalf("unknown command: %v", err)
				}
				if err := rdb.Do(c, "GET").Err(); err == nil || err.Error() != "ERR wrong number of arguments for 'get' command" {
					t.Fatalf("GET without a key: %v", err)
				}
			})
		}
	})
}

// TestGoRedisScan writes 10,000 keys and reads them back with SCAN, both
// with the go-redis iterator and by hand with MATCH and COUNT.
func TestGoRedisScan(t *testing.T) {
	const n = 10000
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, proto := range []int{3, 2} {
			t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
				rdb := newClient(t, s.Addr, proto)
				c := ctx(t)
				if err := rdb.FlushAll(c).Err(); err != nil {
					t.Fatalf("FLUSHALL: %v", err)
				}
				want := make(map[string]bool, n)
				pipe := rdb.Pipeline()
				for i := 0; i < n; i++ {
					k := "scan:" + strconv.Itoa(i)
					want[k] = true
					pipe.Set(c, k, i, 0)
				}
				if _, err := pipe.Exec(c); err != nil {
					t.Fatalf("pipelined SETs: %v", err)
				}
				if v, err := rdb.DBSize(c).Result(); v != n || err != nil {
					t.Fatalf("DBSIZE = %d, %v", v, err)
				}

				seen := make(map[string]int, n)
				it := rdb.Scan(c, 0, "", 0).Iterator()
				for i := 0; it.Next(c); i++ {
					if i > 4*n {
						t.Fatalf("SCAN iteration did not end after %d keys", i)
					}
					seen[it.Val()]++
				}
				if err := it.Err(); err != nil {
					t.Fatalf("SCAN: %v", err)
				}
				if len(seen) != n {
					t.Fatalf("SCAN saw %d distinct keys, want %d", len(seen), n)
				}
				for k := range seen {
					if !want[k] {
						t.Fatalf("SCAN returned %q, which was never written", k)
					}
				}

				// By hand: MATCH scan:1* (1, 10-19, 100-199, 1000-1999: 1111
				// keys), COUNT 100, every cursor followed to 0.
				matched := make(map[string]bool)
				var cursor uint64
				for calls := 0; ; calls++ {
					if calls > n {
						t.Fatalf("SCAN MATCH did not return to cursor 0 after %d calls", calls)
					}
					keys, next, err := rdb.Scan(c, cursor, "scan:1*", 100).Result()
					if err != nil {
						t.Fatalf("SCAN %d MATCH: %v", cursor, err)
					}
					for _, k := range keys {
						if !strings.HasPrefix(k, "scan:1") {
							t.Fatalf("SCAN MATCH scan:1* returned %q", k)
						}
						matched[k] = true
					}
					if cursor = next; cursor == 0 {
						break
					}
				}
				if len(matched) != 1111 {
					t.Fatalf("SCAN MATCH scan:1* saw %d keys, want 1111", len(matched))
				}
			})
		}
	})
}

// TestGoRedisPipeline sends pipelines of 1,000 commands and checks that
// every reply comes back, in order, with the right value.
func TestGoRedisPipeline(t *testing.T) {
	const n = 1000
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, proto := range []int{3, 2} {
			t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
				rdb := newClient(t, s.Addr, proto)
				c := ctx(t)
				ctr := fmt.Sprintf("pipe:%d:ctr", proto)
				for round := 0; round < 3; round++ {
					pipe := rdb.Pipeline()
					incrs := make([]*redis.IntCmd, n)
					for i := range incrs {
						incrs[i] = pipe.Incr(c, ctr)
					}
					if _, err := pipe.Exec(c); err != nil {
						t.Fatalf("round %d: pipeline: %v", round, err)
					}
					for i, cmd := range incrs {
						if want := int64(round*n + i + 1); cmd.Val() != want {
							t.Fatalf("round %d: reply %d of the pipeline = %d, want %d", round, i, cmd.Val(), want)
						}
					}
				}

				// A mixed pipeline: SET, GET, a failing INCR and a missing key,
				// each reply where it belongs.
				pipe := rdb.Pipeline()
				type step struct {
					cmd  redis.Cmder
					want string
				}
				var steps []step
				for i := 0; i < n/4; i++ {
					k := fmt.Sprintf("pipe:%d:%d", proto, i)
					steps = append(steps,
						step{pipe.Set(c, k, "v"+strconv.Itoa(i), 0), "OK"},
						step{pipe.Get(c, k), "v" + strconv.Itoa(i)},
						step{pipe.Incr(c, k), "ERR value is not an integer or out of range"},
						step{pipe.Get(c, k+":missing"), "redis: nil"},
					)
				}
				pipe.Exec(c) // errors are per command, checked below
				for i, st := range steps {
					var got string
					if err := st.cmd.Err(); err != nil {
						got = err.Error()
					} else {
						switch cmd := st.cmd.(type) {
						case *redis.StatusCmd:
							got = cmd.Val()
						case *redis.StringCmd:
							got = cmd.Val()
						default:
							got = fmt.Sprint(st.cmd.Args())
						}
					}
					if got != st.want {
						t.Fatalf("mixed pipeline reply %d (%v) = %q, want %q", i, st.cmd.Args(), got, st.want)
					}
				}
			})
		}
	})
}

// versionAtLeast reports whether a "major.minor.patch" version is at least
// major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var ma, mi int
	if _, err := fmt.Sscanf(v, "%d.%d", &ma, &mi); err != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
