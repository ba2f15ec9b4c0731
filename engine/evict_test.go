package engine

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// evictTest is a strTest filled with n string keys of 1 kB ("k0" ...),
// every command run from pre-built arguments so that the test itself
// leaves little garbage behind the guard's samples.
type evictTest struct {
	*strTest
	n   int
	val []byte
}

func newEvictTest(t *testing.T, policy string, n int) *evictTest {
	et := &evictTest{strTest: newStrTest(t), n: n, val: bytes.Repeat([]byte("v"), 1000)}
	if out := et.do("CONFIG SET maxmemory-policy " + policy); out != "+OK" {
		t.Fatalf("CONFIG SET maxmemory-policy %s: %s", policy, out)
	}
	// No time limit: the amounts checked must not depend on the
	// machine's speed (or the race detector's).
	et.do("CONFIG SET maxmemory-eviction-tenacity 100")
	for i := range n {
		et.exec("SET", et.key(i), string(et.val))
	}
	return et
}

func (et *evictTest) key(i int) string { return fmt.Sprintf("k%d", i) }

// exec runs one command, checking it did not fail.
func (et *evictTest) exec(args ...string) {
	et.t.Helper()
	a := make([][]byte, len(args))
	for i := range args {
		a[i] = []byte(args[i])
	}
	et.s.Tick()
	et.c.Out = et.c.Out[:0]
	et.s.Exec(et.c, a)
	if len(et.c.Out) > 0 && et.c.Out[0] == '-' {
		et.t.Fatalf("%v: %s", args, et.c.Out)
	}
}

// limit sets maxmemory to the guard's estimate less room bytes, without
// sampling again, so that the next command evicts about room bytes.
func (et *evictTest) limit(room int64) {
	runtime.GC()
	et.s.Config.Maxmemory = 100 << 30
	et.s.sampleMemory()
	et.s.Config.Maxmemory = et.s.usedMemory() - room
}

// alive reports which of the n keys are left.
func (et *evictTest) alive() []bool {
	live := make([]bool, et.n)
	for i := range live {
		live[i] = et.s.db.Find([]byte(et.key(i))) != 0
	}
	return live
}

// perKey is what a 1 kB string key counts for in the estimate.
func (et *evictTest) perKey() int64 {
	return et.s.db.DataBytes()/int64(et.s.db.Len()) + indexKeyBytes
}

// checkAmount fails unless the memory is under maxmemory and the keys
// evicted are no more than needed to free room plus a few.
func (et *evictTest) checkAmount(room int64) {
	et.t.Helper()
	if u := et.s.usedMemory(); u > et.s.Config.Maxmemory {
		et.t.Fatalf("used memory %d still past maxmemory %d", u, et.s.Config.Maxmemory)
	}
	need := (room + et.perKey() - 1) / et.perKey()
	if ev := et.s.Stats.EvictedKeys; ev < need-1 || ev > need+3 {
		et.t.Fatalf("evicted %d keys to free %d bytes; %d would do", ev, room, need)
	}
}

func TestEvictAllkeysLRU(t *testing.T) {
	et := newEvictTest(t, "allkeys-lru", 2000)
	et.now += 100_000
	for i := 1000; i < 2000; i++ { // the second half is used, the first idle
		et.exec("GET", et.key(i))
	}
	room := 300 * et.perKey()
	et.limit(room)
	et.exec("GET", "k1999") // any command evicts
	et.checkAmount(room)
	live := et.alive()
	hot := 0
	for i := 1000; i < 2000; i++ {
		if !live[i] {
			hot++
		}
	}
	if hot > 5 {
		t.Fatalf("%d of the keys just used were evicted", hot)
	}
	if out := et.do("INFO stats"); !strings.Contains(out, fmt.Sprintf("evicted_keys:%d", et.s.Stats.EvictedKeys)) {
		t.Fatalf("INFO stats does not count evicted_keys %d", et.s.Stats.EvictedKeys)
	}
}

// TestEvictHeldUntilCollected: a sample of used memory taken before the
// collector has run still counts the evicted keys (their records leave
// holes in the pages), so the guard must go on counting them as freed,
// or every cron tick would evict as much again.
func TestEvictHeldUntilCollected(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 4000)
	room := 500 * et.perKey()
	et.limit(room)
	et.exec("SET", "new", string(et.val))
	first := et.s.Stats.EvictedKeys
	if first < 500 {
		t.Fatalf("evicted %d keys for %d bytes", first, room)
	}
	et.s.sampleMemory() // the cron's sample, no collection in between
	et.exec("SET", "new2", string(et.val))
	if more := et.s.Stats.EvictedKeys - first; more > 30 {
		t.Fatalf("a sample before a collection made the shard evict %d more keys", more)
	}
	// Once the runtime has collected, the sample reads the memory as it
	// is and the credit is gone.
	runtime.GC()
	runtime.GC()
	et.s.sampleMemory()
	et.s.sampleMemory()
	if et.s.mem.heldOld != 0 || et.s.mem.heldNew != 0 {
		t.Fatalf("credit of %d+%d bytes kept after two collections", et.s.mem.heldOld, et.s.mem.heldNew)
	}
}

// TestEvictObjects: a hash's memory is outside the key space's figures;
// evicting it counts its object, so no more hashes go than needed.
func TestEvictObjects(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 0)
	fields := make([]string, 0, 2+2*200)
	fields = append(fields, "HSET", "")
	for f := range 200 {
		fields = append(fields, fmt.Sprintf("field:%d", f), "value")
	}
	for i := range 500 {
		fields[1] = fmt.Sprintf("h%d", i)
		et.exec(fields...)
	}
	per := int64(et.s.keyUsage(et.s.db.Find([]byte("h0")), 1))
	room := 50 * per
	et.limit(room)
	et.exec("PING")
	if ev := et.s.Stats.EvictedKeys; ev < 50 || ev > 53 {
		t.Fatalf("evicted %d hashes of %d bytes to free %d bytes", ev, per, room)
	}
}

func TestEvictAllkeysLFU(t *testing.T) {
	et := newEvictTest(t, "allkeys-lfu", 1000)
	et.exec("CONFIG", "SET", "lfu-log-factor", "0") // every access counts
	for i := 500; i < 1000; i++ {
		for range 10 {
			et.exec("GET", et.key(i))
		}
	}
	if out := et.do("OBJECT FREQ k999"); out != ":15" {
		t.Fatalf("OBJECT FREQ after 10 accesses: %s", out)
	}
	if out := et.do("OBJECT FREQ k0"); out != ":5" {
		t.Fatalf("OBJECT FREQ of a new key: %s", out)
	}
	et.now += 3 * 60_000 // the counters decay by one a minute
	if out := et.do("OBJECT FREQ k999"); out != ":12" {
		t.Fatalf("OBJECT FREQ 3 minutes later: %s", out)
	}
	room := 200 * et.perKey()
	et.limit(room)
	et.exec("PING")
	et.checkAmount(room)
	live := et.alive()
	hot := 0
	for i := 500; i < 1000; i++ {
		if !live[i] {
			hot++
		}
	}
	if hot > 5 { // the sampling is an approximation, as Redis's
		t.Fatalf("%d of the frequently used keys evicted", hot)
	}
}

// TestEvictVolatile: the volatile policies evict only keys with a time to
// live and, once none is left, the shard refuses writes (-OOM) and serves
// the rest.
func TestEvictVolatile(t *testing.T) {
	for _, policy := range []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			et := newEvictTest(t, policy, 2000)
			for i := 0; i < 2000; i += 2 { // even keys expire, the later the higher
				et.exec("EXPIRE", et.key(i), fmt.Sprint(1000+i))
			}
			et.now += 10_000
			room := 200 * et.perKey()
			et.limit(room)
			et.exec("PING")
			et.checkAmount(room)
			live := et.alive()
			for i := 1; i < 2000; i += 2 {
				if !live[i] {
					t.Fatalf("key %s without a time to live evicted", et.key(i))
				}
			}
			if policy == "volatile-ttl" {
				late := 0
				for i := 1000; i < 2000; i += 2 {
					if !live[i] {
						late++
					}
				}
				if late > 10 {
					t.Fatalf("%d of the keys expiring last evicted", late)
				}
			}
			// Past every volatile key: nothing left to evict.
			et.s.Config.Maxmemory = et.s.usedMemory() - 2000*et.perKey()
			if out := et.do("SET x y"); !strings.HasPrefix(out, "-OOM") {
				t.Fatalf("SET with nothing evictable: %s", out)
			}
			if et.s.db.Volatile() != 0 {
				t.Fatalf("%d volatile keys left", et.s.db.Volatile())
			}
			if out := et.do("GET k1"); out != `"`+string(et.val)+`"` {
				t.Fatalf("GET with nothing evictable: %.20s", out)
			}
		})
	}
}

func TestEvictNoeviction(t *testing.T) {
	et := newEvictTest(t, "noeviction", 100)
	et.limit(10 * et.perKey())
	if out := et.do("SET x y"); !strings.HasPrefix(out, "-OOM") {
		t.Fatalf("SET past maxmemory: %s", out)
	}
	if et.s.Stats.EvictedKeys != 0 || et.s.db.Len() != 100 {
		t.Fatalf("noeviction evicted %d keys", et.s.Stats.EvictedKeys)
	}
	// Inside MULTI, any command but EXEC, DISCARD, QUIT and RESET is
	// refused, as in Redis.
	et.do("MULTI")
	if out := et.do("GET k1"); !strings.HasPrefix(out, "-OOM") {
		t.Fatalf("GET queued past maxmemory: %s", out)
	}
	if out := et.do("DISCARD"); out != "+OK" {
		t.Fatalf("DISCARD past maxmemory: %s", out)
	}
}

// TestEvictSideEffects: an eviction sends "evicted", marks the clients
// WATCHing the key, and is recorded in the AOF as a DEL.
func TestEvictSideEffects(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 1)
	et.do("CONFIG SET notify-keyspace-events Ee")
	sub := et.s.NewClient()
	et.s.Exec(sub, argv("SUBSCRIBE", "__keyevent@0__:evicted"))
	watcher := et.s.NewClient()
	et.s.Exec(watcher, argv("WATCH", "k0"))
	sub.Out, watcher.Out = sub.Out[:0], watcher.Out[:0]
	et.s.prop.on = true
	et.s.aof.selected = true
	et.limit(100)
	et.exec("PING")
	if et.s.Stats.EvictedKeys != 1 || et.s.db.Len() != 0 {
		t.Fatalf("evicted %d keys, %d left", et.s.Stats.EvictedKeys, et.s.db.Len())
	}
	if want := "*3\r\n$7\r\nmessage\r\n$22\r\n__keyevent@0__:evicted\r\n$2\r\nk0\r\n"; string(sub.Out) != want {
		t.Fatalf("subscriber got %q, want %q", sub.Out, want)
	}
	rec := append(bytes.Join(et.s.aof.sealed, nil), et.s.aof.buf...)
	if want := "*2\r\n$3\r\nDEL\r\n$2\r\nk0\r\n"; string(rec) != want {
		t.Fatalf("AOF recorded %q, want %q", rec, want)
	}
	et.s.Config.Maxmemory = 0
	et.s.Exec(watcher, argv("MULTI"))
	et.s.Exec(watcher, argv("PING"))
	watcher.Out = watcher.Out[:0]
	et.s.Exec(watcher, argv("EXEC"))
	if string(watcher.Out) != "*-1\r\n" {
		t.Fatalf("EXEC after the watched key was evicted: %q", watcher.Out)
	}
}

// TestEvictionTenacity: tenacity 0 gives each command a budget that lets
// it evict only 16 keys; the cron goes on, as Redis's eviction time event.
func TestEvictionTenacity(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 1000)
	et.do("CONFIG SET maxmemory-eviction-tenacity 0")
	room := 100 * et.perKey()
	et.limit(room)
	et.exec("SET", "x", "y") // not refused: still evicting
	if ev := et.s.Stats.EvictedKeys; ev != evictCheckN || !et.s.evict.running {
		t.Fatalf("evicted %d keys in a budget of 0 (running %v)", ev, et.s.evict.running)
	}
	max := et.s.Config.Maxmemory
	for range 10 {
		et.s.evictCron()
	}
	if et.s.usedMemory() > max || et.s.evict.running {
		t.Fatalf("the cron left used memory %d past %d", et.s.usedMemory(), max)
	}
}

// TestLookupTouchNoAlloc: the access clock costs no allocation, under LRU
// or LFU.
func TestLookupTouchNoAlloc(t *testing.T) {
	for _, policy := range []string{"noeviction", "allkeys-lfu"} {
		et := newEvictTest(t, policy, 1)
		a := argv("GET", "k0")
		if n := testing.AllocsPerRun(100, func() {
			et.c.Out = et.c.Out[:0]
			et.s.Exec(et.c, a)
		}); n != 0 {
			t.Fatalf("%s: GET allocates %v times", policy, n)
		}
	}
}

// TestEvictPausedAndTracked: a client pause keeps the data set still, so
// nothing is evicted until it ends; a key evicted then is invalidated for
// the clients that cached it (CLIENT TRACKING), as any other change.
func TestEvictPausedAndTracked(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 200)
	tc := et.s.NewClient()
	run := func(c *Client, args ...string) string {
		c.Out = c.Out[:0]
		et.s.Tick()
		et.s.Exec(c, argv(args...))
		return string(c.Out)
	}
	run(tc, "HELLO", "3")
	run(tc, "CLIENT", "TRACKING", "ON")
	for i := range et.n {
		run(tc, "GET", et.key(i))
	}
	tc.Out = tc.Out[:0]
	et.exec("CLIENT", "PAUSE", "100000", "WRITE")
	et.limit(20 * et.perKey())
	et.exec("GET", et.key(0))
	if n := et.s.Stats.EvictedKeys; n != 0 {
		t.Fatalf("%d keys evicted during a pause", n)
	}
	et.exec("CLIENT", "UNPAUSE")
	et.exec("GET", et.key(0))
	n := et.s.Stats.EvictedKeys
	if n == 0 {
		t.Fatal("nothing evicted once the pause ended")
	}
	if got := strings.Count(string(tc.Out), "invalidate"); int64(got) != n {
		t.Fatalf("%d keys evicted, %d invalidations: %q", n, got, tc.Out)
	}
}

// TestEvictLatencyEvents: an eviction round that takes the latency
// monitor's threshold or more is an "eviction-cycle" event.
func TestEvictLatencyEvents(t *testing.T) {
	et := newEvictTest(t, "allkeys-random", 40000)
	et.do("CONFIG SET latency-monitor-threshold 1")
	et.limit(30000 * et.perKey())
	start := time.Now()
	et.exec("GET", et.key(0))
	took := time.Since(start)
	if et.s.Stats.EvictedKeys < 20000 {
		t.Fatalf("%d keys evicted", et.s.Stats.EvictedKeys)
	}
	if took < 2*time.Millisecond {
		t.Skipf("evicting %d keys took %v, under the threshold", et.s.Stats.EvictedKeys, took)
	}
	if out := et.do("LATENCY LATEST"); !strings.Contains(out, `"eviction-cycle"`) {
		t.Fatalf("LATENCY LATEST after an eviction of %v: %s", took, out)
	}
	if out := et.do("LATENCY DOCTOR"); !strings.Contains(out, "forcing the server to block trying to evict keys") {
		t.Fatalf("LATENCY DOCTOR: %s", out)
	}
}
