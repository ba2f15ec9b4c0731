package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"shoal/internal/pagecache"
	"shoal/internal/testserver"
	"shoal/resp"
)

// The append-only file, end to end: a shard killed with SIGKILL under
// load recovers every acknowledged write (appendfsync always) or all but
// the last two seconds (everysec); the launcher persists by default and
// restarts a killed shard with its data; Redis's redis-check-aof and
// redis-server read Shoal's files and Shoal reads Redis's; a file cut
// short is cut back, a corrupt one refused untouched; a full disk gives
// -MISCONF until space returns; CONFIG SET turns the AOF on at run time.
//
// Helpers here are prefixed with "aof" so they cannot collide with the
// rest of the package. Ownership as in doc.go: helpers taking a testing.TB
// run on the test's goroutine; an aofWriter's fields belong to its
// goroutine while a round runs and to the test's goroutine between rounds.

// aofDirName is the default appenddirname, under --dir.
const aofDirName = "appendonlydir"

// aofArgs are the options of a server keeping an AOF with policy.
func aofArgs(policy string, more ...string) []string {
	return append([]string{"--appendonly", "yes", "--appendfsync", policy}, more...)
}

// aofStart starts the server under test in dir (which outlives it, for
// restarts) with args. For Redis, testserver's own "--appendonly no"
// comes first and args override it.
func aofStart(t *testing.T, backend, dir string, args ...string) *testserver.Server {
	t.Helper()
	o := testserver.Options{Dir: dir, Args: args}
	if targetRedis() {
		o.Kind = testserver.Redis
	} else {
		o.Kind, o.IO = testserver.Shoal, backend
	}
	return testserver.Start(t, o)
}

// aofClient is a go-redis client (RESP2, no retries: a write retried after
// a kill could be applied twice) closed when the test ends.
func aofClient(t testing.TB, addr string) *redis.Client {
	return newClient(t, addr, 2, func(o *redis.Options) { o.PoolSize = 4 })
}

// aofStop stops s gracefully and fails the test when it did not exit
// cleanly.
func aofStop(t testing.TB, s *testserver.Server) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

// aofCheckHealthy checks INFO persistence of a server that just loaded
// its AOF: enabled, loaded, writing.
func aofCheckHealthy(t testing.TB, addr string) {
	t.Helper()
	m := info(t, addr, "persistence")
	for k, want := range map[string]string{"aof_enabled": "1", "loading": "0", "aof_last_write_status": "ok"} {
		if m[k] != want {
			t.Errorf("INFO persistence %s:%s, want %s", k, m[k], want)
		}
	}
}

// aofWaitRewrite waits until at least n rewrites finished and none runs
// or is scheduled.
func aofWaitRewrite(t testing.TB, addr string, n int) {
	t.Helper()
	var m map[string]string
	var err error
	waitFor(t, 15*time.Second, func() bool {
		m, err = infoErr(addr, "persistence")
		if err != nil {
			return false
		}
		done, _ := strconv.Atoi(m["aof_rewrites"])
		return done >= n && m["aof_rewrite_in_progress"] == "0" && m["aof_rewrite_scheduled"] == "0"
	}, func() string {
		return fmt.Sprintf("AOF rewrite %d to finish: aof_rewrites:%s in_progress:%s scheduled:%s status:%s (%v)",
			n, m["aof_rewrites"], m["aof_rewrite_in_progress"], m["aof_rewrite_scheduled"], m["aof_last_bgrewrite_status"], err)
	})
	if m["aof_last_bgrewrite_status"] != "ok" {
		t.Fatalf("aof_last_bgrewrite_status:%s", m["aof_last_bgrewrite_status"])
	}
}

// aofManifestFiles reads the manifest in aofDir: its files by type.
func aofManifestFiles(t testing.TB, aofDir string) (base string, incrs []string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(aofDir, "appendonly.aof.manifest"))
	if err != nil {
		t.Fatalf("the AOF manifest: %v", err)
	}
	for line := range strings.Lines(string(text)) {
		f := strings.Fields(line)
		if len(f) != 6 || f[0] != "file" || f[2] != "seq" || f[4] != "type" {
			t.Fatalf("manifest line %q", line)
		}
		switch f[5] {
		case "b":
			base = f[1]
		case "i":
			incrs = append(incrs, f[1])
		}
	}
	return base, incrs
}

// aofLastIncr is the path of the last incr file the manifest in dir's AOF
// directory names.
func aofLastIncr(t testing.TB, dir string) string {
	t.Helper()
	_, incrs := aofManifestFiles(t, filepath.Join(dir, aofDirName))
	if len(incrs) == 0 {
		t.Fatal("the manifest names no incr file")
	}
	return filepath.Join(dir, aofDirName, incrs[len(incrs)-1])
}

func aofFileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// aofCopyTree copies the regular files and directories under src to dst.
func aofCopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// aofReadTree reads every regular file under dir, by relative path.
func aofReadTree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// ---------------------------------------------------------------------
// Crash safety: SIGKILL under load.

// aofOp is what an acknowledged write did.
type aofOp uint8

const (
	aofIncr aofOp = iota // INCR: n is the value it returned
	aofPush              // RPUSH: n is the index of the element pushed
	aofSet               // SET of a unique key: n is the key's index
)

type aofAck struct {
	op aofOp
	n  int64
	at time.Time // when the reply had arrived
}

// aofWriter is one client writing its own keys: a counter it INCRs, a
// list it RPUSHes numbered elements to, and unique keys it SETs. It
// records every acknowledged write. Between rounds the test verifies the
// record against what the restarted server holds and resynchronises.
type aofWriter struct {
	id int
	// What the server held at the last verification (0 at first), and
	// the same counts as acknowledged writes move them on.
	ctrBase, listBase int64
	ctr, list         int64
	// The most a write left unacknowledged by the kill may have made them.
	ctrTried, listTried int64
	nextKey             int64
	keysOK              []int64 // unique keys verified present, checked again each time
	acks                []aofAck
	pause               time.Duration
	err                 error // a failure that was not caused by the kill
}

func (w *aofWriter) ctrKey() string  { return "crash:ctr:" + strconv.Itoa(w.id) }
func (w *aofWriter) listKey() string { return "crash:list:" + strconv.Itoa(w.id) }
func (w *aofWriter) elem(i int64) string {
	return "w" + strconv.Itoa(w.id) + ":e" + strconv.FormatInt(i, 10)
}
func (w *aofWriter) key(i int64) string {
	return "crash:key:" + strconv.Itoa(w.id) + ":" + strconv.FormatInt(i, 10)
}
func (w *aofWriter) val(i int64) string {
	return "value " + strconv.FormatInt(i, 10) + " of writer " + strconv.Itoa(w.id) + strings.Repeat(".", int(i%37))
}

// run writes until stop is closed or a write fails. A failure while
// killed is false is recorded in w.err: the server refused or dropped a
// write it should have taken.
func (w *aofWriter) run(c *redis.Client, stop <-chan struct{}, killed *atomic.Bool) {
	fail := func(what string, err error) {
		if !killed.Load() {
			w.err = fmt.Errorf("writer %d: %s: %w", w.id, what, err)
		}
	}
	bg := context.Background()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if w.pause > 0 {
			time.Sleep(w.pause)
		}
		switch i % 3 {
		case 0:
			w.ctrTried = w.ctr + 1
			v, err := c.Incr(bg, w.ctrKey()).Result()
			if err != nil {
				fail("INCR "+w.ctrKey(), err)
				return
			}
			if v != w.ctr+1 {
				w.err = fmt.Errorf("writer %d: INCR %s = %d, want %d", w.id, w.ctrKey(), v, w.ctr+1)
				return
			}
			w.ctr = v
			w.acks = append(w.acks, aofAck{aofIncr, v, time.Now()})
		case 1:
			idx := w.list
			w.listTried = idx + 1
			n, err := c.RPush(bg, w.listKey(), w.elem(idx)).Result()
			if err != nil {
				fail("RPUSH "+w.listKey(), err)
				return
			}
			if n != idx+1 {
				w.err = fmt.Errorf("writer %d: RPUSH %s = %d, want %d", w.id, w.listKey(), n, idx+1)
				return
			}
			w.list = n
			w.acks = append(w.acks, aofAck{aofPush, idx, time.Now()})
		default:
			idx := w.nextKey
			w.nextKey++
			if err := c.Set(bg, w.key(idx), w.val(idx), 0).Err(); err != nil {
				fail("SET "+w.key(idx), err)
				return
			}
			w.acks = append(w.acks, aofAck{aofSet, idx, time.Now()})
		}
	}
}

// verify checks the server against the record: every write acknowledged
// at or before cutoff is there, nothing is there that was never sent.
// Writes acknowledged after cutoff may be missing: lost counts those. It
// then takes what the server holds as the new starting point.
func (w *aofWriter) verify(c *redis.Client, cutoff time.Time) (lost int, err error) {
	cx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	must := func(a aofAck) bool { return !a.at.After(cutoff) }

	v, err := c.Get(cx, w.ctrKey()).Int64()
	if errors.Is(err, redis.Nil) {
		v, err = 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", w.ctrKey(), err)
	}
	need := w.ctrBase
	for _, a := range w.acks {
		if a.op == aofIncr {
			if must(a) {
				need = max(need, a.n)
			} else if a.n > v {
				lost++
			}
		}
	}
	if v < need {
		return lost, fmt.Errorf("%s = %d, but INCR had acknowledged %d", w.ctrKey(), v, need)
	}
	if v > max(w.ctrTried, w.ctr) {
		return lost, fmt.Errorf("%s = %d, more than any INCR sent (%d)", w.ctrKey(), v, max(w.ctrTried, w.ctr))
	}

	elems, err := c.LRange(cx, w.listKey(), 0, -1).Result()
	if err != nil {
		return lost, fmt.Errorf("LRANGE %s: %w", w.listKey(), err)
	}
	for i, e := range elems {
		if e != w.elem(int64(i)) {
			return lost, fmt.Errorf("%s[%d] = %q, want %q (elements out of order or foreign)", w.listKey(), i, e, w.elem(int64(i)))
		}
	}
	l := int64(len(elems))
	needL := w.listBase
	for _, a := range w.acks {
		if a.op == aofPush {
			if must(a) {
				needL = max(needL, a.n+1)
			} else if a.n >= l {
				lost++
			}
		}
	}
	if l < needL {
		return lost, fmt.Errorf("%s has %d elements, but RPUSH had acknowledged %d", w.listKey(), l, needL)
	}
	if l > max(w.listTried, w.list) {
		return lost, fmt.Errorf("%s has %d elements, more than RPUSH sent (%d)", w.listKey(), l, max(w.listTried, w.list))
	}

	var check, maybe []int64
	check = append(check, w.keysOK...)
	for _, a := range w.acks {
		if a.op == aofSet {
			if must(a) {
				check = append(check, a.n)
			} else {
				maybe = append(maybe, a.n)
			}
		}
	}
	present := func(idx []int64) ([]bool, error) {
		out := make([]bool, 0, len(idx))
		for len(idx) > 0 {
			batch := idx[:min(len(idx), 500)]
			idx = idx[len(batch):]
			keys := make([]string, len(batch))
			for i, k := range batch {
				keys[i] = w.key(k)
			}
			vals, err := c.MGet(cx, keys...).Result()
			if err != nil {
				return nil, err
			}
			for i, v := range vals {
				s, ok := v.(string)
				if ok && s != w.val(batch[i]) {
					return nil, fmt.Errorf("%s = %q, want %q", keys[i], s, w.val(batch[i]))
				}
				out = append(out, ok)
			}
		}
		return out, nil
	}
	ok, err := present(check)
	if err != nil {
		return lost, err
	}
	for i, p := range ok {
		if !p {
			return lost, fmt.Errorf("%s is missing, but SET had been acknowledged", w.key(check[i]))
		}
	}
	okMaybe, err := present(maybe)
	if err != nil {
		return lost, err
	}
	w.keysOK = check
	for i, p := range okMaybe {
		if p {
			w.keysOK = append(w.keysOK, maybe[i])
		} else {
			lost++
		}
	}
	w.ctrBase, w.ctr, w.ctrTried = v, v, v
	w.listBase, w.list, w.listTried = l, l, l
	w.acks = w.acks[:0]
	return lost, nil
}

// aofRound runs the writers against addr for d, then either kills the
// server (kill not nil; returns the moment just before) or stops them.
// It fails the test when a writer failed before the kill.
func aofRound(t *testing.T, addr string, ws []*aofWriter, d time.Duration, kill func()) time.Time {
	t.Helper()
	var killed atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	clients := make([]*redis.Client, len(ws))
	for i, w := range ws {
		clients[i] = redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, PoolSize: 1, MaxRetries: -1,
			DialTimeout: ioTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(clients[i], stop, &killed)
		}()
	}
	time.Sleep(d)
	at := time.Now()
	if kill != nil {
		killed.Store(true)
		kill()
	}
	close(stop)
	joined := make(chan struct{})
	go func() { wg.Wait(); close(joined) }()
	select {
	case <-joined:
	case <-time.After(2 * ioTimeout):
		t.Fatal("writers still running 30 s after the round ended")
	}
	for _, c := range clients {
		c.Close()
	}
	for _, w := range ws {
		if w.err != nil {
			t.Fatalf("a write failed while the server was up: %v", w.err)
		}
	}
	return at
}

// aofCrashRounds kills the server under load kills times at random
// moments (roundLen), restarting it on the same directory, and checks
// after each restart that every write acknowledged more than window before
// the kill is there (window 0: every write). Then it checks a last
// round live, and again after a graceful restart, where nothing may be
// missing.
func aofCrashRounds(t *testing.T, backend, policy string, writers, kills int, roundLen func() time.Duration, window, pause time.Duration) {
	dir := t.TempDir()
	args := aofArgs(policy)
	srv := aofStart(t, backend, dir, args...)
	ws := make([]*aofWriter, writers)
	for i := range ws {
		ws[i] = &aofWriter{id: i, pause: pause}
	}
	verifyAll := func(addr string, cutoff time.Time, what string) int {
		t.Helper()
		c := aofClient(t, addr)
		lost := 0
		for _, w := range ws {
			n, err := w.verify(c, cutoff)
			if err != nil {
				t.Fatalf("%s: writer %d: %v", what, w.id, err)
			}
			lost += n
		}
		return lost
	}
	acked := func() (n int) {
		for _, w := range ws {
			n += len(w.acks)
		}
		return n
	}
	total := 0
	for k := 1; k <= kills; k++ {
		d := roundLen()
		killAt := aofRound(t, srv.Addr, ws, d, srv.Kill)
		n := acked()
		total += n
		srv = aofStart(t, backend, dir, args...)
		aofCheckHealthy(t, srv.Addr)
		cutoff := time.Now().Add(time.Hour) // every acknowledged write
		if window > 0 {
			cutoff = killAt.Add(-window)
		}
		lost := verifyAll(srv.Addr, cutoff, fmt.Sprintf("after kill %d (%v of load, %d acknowledged writes)", k, d.Round(time.Millisecond), n))
		t.Logf("kill %d after %v: %d acknowledged writes, %d of them (all within %v of the kill) missing after the restart",
			k, d.Round(time.Millisecond), n, lost, window)
	}
	// No kill: everything acknowledged is there, live and after a
	// graceful restart.
	aofRound(t, srv.Addr, ws, 300*time.Millisecond, nil)
	total += acked()
	if lost := verifyAll(srv.Addr, time.Now().Add(time.Hour), "live after the last round"); lost != 0 {
		t.Fatalf("%d writes missing on the live server", lost)
	}
	aofStop(t, srv)
	srv = aofStart(t, backend, dir, args...)
	aofCheckHealthy(t, srv.Addr)
	if lost := verifyAll(srv.Addr, time.Now().Add(time.Hour), "after a graceful restart"); lost != 0 {
		t.Fatalf("%d writes missing after a graceful restart", lost)
	}
	t.Logf("%d acknowledged writes by %d writers over %d kills", total, writers, kills)
}

// TestAOFWriterVerify checks the crash tests' own bookkeeping against a
// server the test changes behind the writer's back: each change must be
// caught, and a write missing within the allowed window is counted, not
// refused.
func TestAOFWriterVerify(t *testing.T) {
	srv := start(t, "")
	c := aofClient(t, srv.Addr)
	cx := ctx(t)
	for i, tc := range []struct {
		name   string
		change func(w *aofWriter) error
		want   string // in verify's error; "" for none
	}{
		{"nothing changed", func(w *aofWriter) error { return nil }, ""},
		{"an acknowledged SET lost", func(w *aofWriter) error { return c.Del(cx, w.key(0)).Err() }, "is missing"},
		{"a SET's value changed", func(w *aofWriter) error { return c.Set(cx, w.key(0), "other", 0).Err() }, `want "value 0`},
		{"an acknowledged INCR lost", func(w *aofWriter) error { return c.Decr(cx, w.ctrKey()).Err() }, "INCR had acknowledged"},
		{"an INCR never sent", func(w *aofWriter) error { return c.IncrBy(cx, w.ctrKey(), 2).Err() }, "more than any INCR sent"},
		{"an acknowledged RPUSH lost", func(w *aofWriter) error { return c.RPop(cx, w.listKey()).Err() }, "RPUSH had acknowledged"},
		{"an RPUSH never sent", func(w *aofWriter) error {
			n, err := c.LLen(cx, w.listKey()).Result()
			if err == nil {
				err = c.RPush(cx, w.listKey(), w.elem(n)).Err()
			}
			return err
		}, "more than RPUSH sent"},
		{"list elements out of order", func(w *aofWriter) error { return c.LSet(cx, w.listKey(), 0, w.elem(1)).Err() }, "out of order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &aofWriter{id: 1000 + i}
			aofRound(t, srv.Addr, []*aofWriter{w}, 50*time.Millisecond, nil)
			if w.ctr < 2 || w.list < 2 || w.nextKey < 2 {
				t.Fatalf("too few writes to check: %d INCR, %d RPUSH, %d SET", w.ctr, w.list, w.nextKey)
			}
			if err := tc.change(w); err != nil {
				t.Fatal(err)
			}
			lost, err := w.verify(c, time.Now().Add(time.Hour))
			switch {
			case tc.want == "" && (err != nil || lost != 0):
				t.Fatalf("verify: %v (%d lost)", err, lost)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("verify: %v, want an error with %q", err, tc.want)
			}
		})
	}
	t.Run("lost within the window", func(t *testing.T) {
		w := &aofWriter{id: 2000}
		aofRound(t, srv.Addr, []*aofWriter{w}, 50*time.Millisecond, nil)
		last := w.acks[len(w.acks)-1]
		var undo error
		switch last.op {
		case aofIncr:
			undo = c.Decr(cx, w.ctrKey()).Err()
		case aofPush:
			undo = c.RPop(cx, w.listKey()).Err()
		case aofSet:
			undo = c.Del(cx, w.key(last.n)).Err()
		}
		if undo != nil {
			t.Fatal(undo)
		}
		lost, err := w.verify(c, last.at.Add(-time.Nanosecond))
		if err != nil || lost != 1 {
			t.Fatalf("verify with the last write after the cutoff: %v, %d lost, want 1", err, lost)
		}
	})
}

// TestAOFCrashAlways kills a shard with appendfsync always under load
// from concurrent writers, three times: after each restart on the same
// directory every acknowledged INCR, RPUSH and SET is there, in order, and
// the shard takes writes at once.
func TestAOFCrashAlways(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		aofCrashRounds(t, backend, "always", 8, 3, func() time.Duration {
			return time.Duration(150+rand.IntN(350)) * time.Millisecond
		}, 0, 0)
	})
}

// TestAOFCrashEverysec does the same with appendfsync everysec: what a
// kill loses is bounded, every write acknowledged more than 2 s before it
// survives.
func TestAOFCrashEverysec(t *testing.T) {
	aofEachBackendParallel(t, func(t *testing.T, backend string) {
		kills := 2
		if testing.Short() {
			kills = 1
		}
		aofCrashRounds(t, backend, "everysec", 4, kills, func() time.Duration {
			return time.Duration(2300+rand.IntN(600)) * time.Millisecond
		}, 2*time.Second, 500*time.Microsecond)
	})
}

// aofEachBackendParallel is eachBackend with the backends' subtests run
// in parallel, for tests that mostly wait.
func aofEachBackendParallel(t *testing.T, f func(t *testing.T, backend string)) {
	if targetRedis() {
		eachBackend(t, f)
		return
	}
	for _, b := range testserver.IOBackends() {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// ---------------------------------------------------------------------
// The launcher persists by default.

// TestAOFLaunchedRestart launches two shards with `shoal launch` and no
// persistence options: each keeps an AOF fsynced every second; a shard
// killed with SIGKILL is restarted by the launcher with the data written
// before (1.5 s before the kill).
func TestAOFLaunchedRestart(t *testing.T) {
	shoalOnly(t)
	s := launchSet(t, 2)
	for i := range s.n {
		c := dial(t, s.addr(i))
		for _, kv := range [][2]string{{"appendonly", "yes"}, {"appendfsync", "everysec"}} {
			if got, want := c.do(t, "CONFIG", "GET", kv[0]), "*2\r\n"+bulk(kv[0])+bulk(kv[1]); got != want {
				t.Errorf("shard %d: CONFIG GET %s = %q, want %q", i, kv[0], got, want)
			}
		}
		if got := info(t, s.addr(i), "persistence")["aof_enabled"]; got != "1" {
			t.Errorf("shard %d: aof_enabled:%s", i, got)
		}
		man := filepath.Join(s.dir, "shard-"+strconv.Itoa(i), aofDirName, "appendonly.aof.manifest")
		if _, err := os.Stat(man); err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}

	keys := slotKeys()
	cc := newClusterClient(t, s.addr(0))
	c := ctx(t)
	var written []string
	for slot := 0; slot < len(keys); slot += 7 {
		written = append(written, keys[slot])
	}
	if _, err := cc.Pipelined(c, func(p redis.Pipeliner) error {
		for _, k := range written {
			p.Set(c, k, "before-kill:"+k, 0)
			p.RPush(c, "{"+k+"}:list", "a", "b", k)
		}
		return nil
	}); err != nil {
		t.Fatalf("writes through the cluster client: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // everysec: on disk by now

	pid := s.pid(t, 1)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.out.waitFor(t, "shard-1 (pid "+strconv.Itoa(pid)+") killed by signal 9 (SIGKILL)", 5*time.Second)
	s.out.waitFor(t, "shard-1 is back: pid ", 10*time.Second)
	if got := s.pid(t, 1); got == pid {
		t.Fatalf("shard 1 still has pid %d", got)
	}

	fresh := newClusterClient(t, s.addr(0))
	probe := keys[16383]
	var lastErr error
	waitFor(t, 10*time.Second, func() bool {
		_, lastErr = fresh.Get(context.Background(), probe).Result()
		return lastErr == nil || errors.Is(lastErr, redis.Nil)
	}, func() string { return fmt.Sprintf("GET %s on the restarted shard: %v", probe, lastErr) })
	gets := make([]*redis.StringCmd, len(written))
	lists := make([]*redis.StringSliceCmd, len(written))
	fresh.Pipelined(c, func(p redis.Pipeliner) error {
		for i, k := range written {
			gets[i] = p.Get(c, k)
			lists[i] = p.LRange(c, "{"+k+"}:list", 0, -1)
		}
		return nil
	})
	missing := 0
	for i, k := range written {
		v, err := gets[i].Result()
		l, lerr := lists[i].Result()
		if err != nil || v != "before-kill:"+k || lerr != nil || !slices.Equal(l, []string{"a", "b", k}) {
			if missing++; missing <= 5 {
				t.Errorf("after the restart %s = %q (%v), its list %q (%v)", k, v, err, l, lerr)
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d keys lost or wrong after shard 1 was killed and restarted", missing, len(written))
	}
	m := info(t, s.addr(1), "persistence")
	if m["aof_enabled"] != "1" || m["loading"] != "0" {
		t.Errorf("restarted shard: aof_enabled:%s loading:%s", m["aof_enabled"], m["loading"])
	}
}

// ---------------------------------------------------------------------
// Data sets compared key by key.

// aofKey is one key as a client sees it.
type aofKey struct {
	typ      string
	val      string // the value, rendered by type
	expireAt int64  // unix ms, -1 for none
}

// aofSnapshot reads every key of the server at addr: TYPE, the value by
// type (sets and hashes sorted) and the absolute expire time.
func aofSnapshot(t testing.TB, addr string) map[string]aofKey {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1,
		DialTimeout: ioTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
	defer c.Close()
	cx, cancel := context.WithTimeout(context.Background(), 4*ioTimeout)
	defer cancel()
	keys, err := c.Keys(cx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS * on %s: %v", addr, err)
	}
	types := make([]*redis.StatusCmd, len(keys))
	ttls := make([]*redis.Cmd, len(keys))
	if _, err := c.Pipelined(cx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			types[i] = p.Type(cx, k)
			ttls[i] = p.Do(cx, "PTTL", k)
		}
		return nil
	}); err != nil {
		t.Fatalf("TYPE/PTTL on %s: %v", addr, err)
	}
	now := time.Now().UnixMilli()
	vals := make([]redis.Cmder, len(keys))
	if _, err := c.Pipelined(cx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			switch types[i].Val() {
			case "string":
				vals[i] = p.Get(cx, k)
			case "list":
				vals[i] = p.LRange(cx, k, 0, -1)
			case "set":
				vals[i] = p.SMembers(cx, k)
			case "hash":
				vals[i] = p.HGetAll(cx, k)
			case "zset":
				vals[i] = p.ZRangeWithScores(cx, k, 0, -1)
			}
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatalf("reading values on %s: %v", addr, err)
	}
	out := make(map[string]aofKey, len(keys))
	for i, k := range keys {
		kk := aofKey{typ: types[i].Val(), expireAt: -1}
		if ms, err := ttls[i].Int64(); err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		} else if ms >= 0 {
			kk.expireAt = now + ms
		} else if ms == -2 {
			continue // expired between KEYS and PTTL
		}
		switch v := vals[i].(type) {
		case *redis.StringCmd:
			kk.val = strconv.Quote(v.Val())
		case *redis.StringSliceCmd:
			l := v.Val()
			if kk.typ == "set" {
				l = slices.Clone(l)
				sort.Strings(l)
			}
			kk.val = fmt.Sprintf("%q", l)
		case *redis.MapStringStringCmd:
			var l []string
			for f, x := range v.Val() {
				l = append(l, f+"="+x)
			}
			sort.Strings(l)
			kk.val = fmt.Sprintf("%q", l)
		case *redis.ZSliceCmd:
			var l []string
			for _, z := range v.Val() {
				l = append(l, fmt.Sprint(z.Member)+"="+strconv.FormatFloat(z.Score, 'g', 17, 64))
			}
			kk.val = fmt.Sprintf("%q", l)
		default:
			kk.val = "(type " + kk.typ + " not compared)"
		}
		out[k] = kk
	}
	return out
}

// aofCompare fails the test when got and want hold different keys, types
// or values, or expire times more than a second apart.
func aofCompare(t testing.TB, what string, got, want map[string]aofKey) {
	t.Helper()
	if diffs := aofDiff(got, want); len(diffs) > 0 {
		n := len(diffs)
		t.Fatalf("%s: %d of %d keys differ:\n  %s", what, n, len(want), strings.Join(diffs[:min(n, 25)], "\n  "))
	}
}

// aofDiff lists the differences between two data sets, sorted.
func aofDiff(got, want map[string]aofKey) []string {
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%q missing (want %s %s)", k, w.typ, abbrev(w.val)))
		case g.typ != w.typ:
			diffs = append(diffs, fmt.Sprintf("%q is a %s, want a %s", k, g.typ, w.typ))
		case g.val != w.val:
			diffs = append(diffs, fmt.Sprintf("%q = %s, want %s", k, abbrev(g.val), abbrev(w.val)))
		case (g.expireAt < 0) != (w.expireAt < 0) || math.Abs(float64(g.expireAt-w.expireAt)) > 1000:
			diffs = append(diffs, fmt.Sprintf("%q expires at %d, want %d (ms, -1 none)", k, g.expireAt, w.expireAt))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%q (%s %s) should not exist", k, g.typ, abbrev(g.val)))
		}
	}
	sort.Strings(diffs)
	return diffs
}

// TestAOFDiff checks the comparison the data-set tests rely on.
func TestAOFDiff(t *testing.T) {
	base := map[string]aofKey{
		"s": {"string", `"v"`, -1},
		"l": {"list", `["a" "b"]`, 1_700_000_000_000},
	}
	with := func(k string, v aofKey, drop string) map[string]aofKey {
		m := maps.Clone(base)
		if k != "" {
			m[k] = v
		}
		delete(m, drop)
		return m
	}
	for _, tc := range []struct {
		name string
		got  map[string]aofKey
		want string // in the only difference; "" for none
	}{
		{"equal", with("", aofKey{}, ""), ""},
		{"expire 900 ms apart", with("l", aofKey{"list", `["a" "b"]`, 1_700_000_000_900}, ""), ""},
		{"missing", with("", aofKey{}, "s"), `"s" missing`},
		{"extra", with("x", aofKey{"set", `["1"]`, -1}, ""), `"x" (set ["1"]) should not exist`},
		{"type", with("s", aofKey{"list", `["v"]`, -1}, ""), `"s" is a list, want a string`},
		{"value", with("l", aofKey{"list", `["b" "a"]`, 1_700_000_000_000}, ""), `"l" = ["b" "a"], want ["a" "b"]`},
		{"expire 1.1 s apart", with("l", aofKey{"list", `["a" "b"]`, 1_700_000_001_100}, ""), `"l" expires at`},
		{"expire lost", with("l", aofKey{"list", `["a" "b"]`, -1}, ""), `"l" expires at -1`},
		{"expire gained", with("s", aofKey{"string", `"v"`, 5}, ""), `"s" expires at 5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := aofDiff(tc.got, base)
			switch {
			case tc.want == "" && len(d) != 0:
				t.Fatalf("differences %q, want none", d)
			case tc.want != "" && (len(d) != 1 || !strings.Contains(d[0], tc.want)):
				t.Fatalf("differences %q, want one with %q", d, tc.want)
			}
		})
	}
}

// aofMixOne and aofMixTwo are a workload touching every type and every
// command whose record in the AOF differs from what the client sent:
// relative expires, SET EX, INCRBYFLOAT, HINCRBYFLOAT, SPOP, blocking and
// multi-key pops, GETDEL, GETEX, an EXPIRE into the past, MULTI/EXEC.
var aofMixOne = [][]string{
	{"SET", "str:plain", "hello"},
	{"SET", "str:ex", "v", "EX", "1000"},
	{"SET", "str:px", "v", "PX", "900000"},
	{"SETEX", "str:setex", "500", "v"},
	{"PSETEX", "str:psetex", "800000", "v"},
	{"SET", "str:bin", "\x00\xff\r\n*1\r\n$4\r\nPING\r\n binary"},
	{"SET", "str:big", string(pattern(16<<10, 99))},
	{"APPEND", "str:plain", " world"},
	{"SETRANGE", "str:range", "5", "abc"},
	{"INCR", "n:int"}, {"INCRBY", "n:int", "41"}, {"DECRBY", "n:int", "2"},
	{"INCRBYFLOAT", "n:float", "3.14159"}, {"INCRBYFLOAT", "n:float", "1e3"},
	{"SET", "n:floatttl", "1.5", "EX", "600"}, {"INCRBYFLOAT", "n:floatttl", "2"},
	{"MSET", "m:a", "1", "m:b", "2"}, {"SETNX", "m:c", "3"}, {"GETSET", "m:a", "10"}, {"GETDEL", "m:b"},
	{"SET", "getex:k", "v"}, {"GETEX", "getex:k", "EX", "700"},
	{"SET", "persist:k", "v", "EX", "100"}, {"PERSIST", "persist:k"},
	{"SET", "exp:k", "v"}, {"EXPIRE", "exp:k", "1000"},
	{"SET", "pexp:k", "v"}, {"PEXPIRE", "pexp:k", "1500000"},
	{"SET", "expat:k", "v"}, {"EXPIREAT", "expat:k", "4102444800"},
	{"SET", "gone:k", "v"}, {"EXPIRE", "gone:k", "-1"},
	{"SET", "short:k", "v", "PX", "20"},
	{"SETBIT", "bits:k", "7", "1"}, {"SETBIT", "bits:k", "100", "1"}, {"BITOP", "OR", "bits:or", "bits:k", "str:plain"},
	{"PFADD", "hll:k", "a", "b", "c", "d", "e"},
	{"RPUSH", "list:a", "a", "b", "c", "d", "e"}, {"LPUSH", "list:a", "z", "y"}, {"LPOP", "list:a"}, {"RPOP", "list:a"},
	{"LINSERT", "list:a", "BEFORE", "c", "bc"}, {"LSET", "list:a", "0", "first"}, {"LREM", "list:a", "1", "d"},
	{"LTRIM", "list:a", "0", "10"},
	aofSeq("RPUSH", "list:big", "", 300), {"EXPIRE", "list:big", "2000"},
	{"RPUSH", "list:pop", "a", "b", "c", "d", "e", "f"}, {"BLPOP", "list:pop", "1"}, {"BRPOP", "list:pop", "1"},
	{"LMOVE", "list:pop", "list:moved", "LEFT", "RIGHT"}, {"RPOPLPUSH", "list:a", "list:moved"},
	{"LMPOP", "1", "list:pop", "LEFT"}, {"BLMOVE", "list:pop", "list:moved", "RIGHT", "LEFT", "1"},
	{"SADD", "set:int", "1", "2", "3", "100", "-5"}, {"SADD", "set:str", "a", "b", "c", "d", "e", "f"},
	{"SREM", "set:str", "f"}, {"SPOP", "set:str", "2"}, {"SPOP", "set:int"},
	{"SADD", "set:src", "m1", "m2"}, {"SMOVE", "set:src", "set:moved", "m1"},
	aofSeq("SADD", "set:big", "", 600),
	{"SINTERSTORE", "set:inter", "set:int", "set:big"}, {"SUNIONSTORE", "set:union", "set:str", "set:moved"},
	{"HSET", "hash:a", "f1", "v1", "f2", "v2", "f3", "v3"}, {"HINCRBY", "hash:a", "n", "5"},
	{"HINCRBYFLOAT", "hash:a", "fl", "2.5"}, {"HDEL", "hash:a", "f2"}, {"HSETNX", "hash:a", "f4", "v4"},
	aofPairs("HSET", "hash:big", 200),
	{"ZADD", "zset:a", "1", "a", "2", "b", "3.5", "c"}, {"ZINCRBY", "zset:a", "10", "a"}, {"ZREM", "zset:a", "b"},
	{"ZADD", "zset:a", "+inf", "top", "-inf", "bottom", "0.001", "tiny", "-2.5e-7", "neg"},
	aofPairs("ZADD", "zset:big", 200), {"ZPOPMIN", "zset:big"}, {"BZPOPMAX", "zset:big", "1"},
	{"ZUNIONSTORE", "zset:union", "2", "zset:a", "zset:big"}, {"ZRANGESTORE", "zset:rs", "zset:big", "0", "9"},
	{"RENAME", "m:c", "m:renamed"}, {"COPY", "str:plain", "str:copy"}, {"DEL", "str:range"},
	{"HSET", "hash:exp", "f", "v"}, {"EXPIRE", "hash:exp", "3000"},
	{"SADD", "set:exp", "1", "2"}, {"PEXPIREAT", "set:exp", "4102444800000"},
}

var aofMixTwo = [][]string{
	{"APPEND", "str:plain", "!"}, {"SET", "str:ex", "changed", "KEEPTTL"}, {"RPUSH", "list:big", "300"},
	{"SREM", "set:big", "0"}, {"SPOP", "set:big", "3"}, {"SADD", "set:int", "7"},
	{"HSET", "hash:big", "f0", "changed"}, {"HINCRBYFLOAT", "hash:big", "num", "0.5"},
	{"ZADD", "zset:big", "1000", "new"}, {"ZINCRBY", "zset:big", "-1.25", "m5"},
	{"EXPIRE", "hash:a", "900"}, {"DEL", "list:a"}, {"SET", "new:k", "v", "EX", "1200"},
	{"INCRBYFLOAT", "n:float", "0.1"}, {"PERSIST", "list:big"}, {"PFADD", "hll:k", "f", "g"},
	{"RPUSH", "list:pop2", "p1", "p2", "p3"}, {"BLMPOP", "1", "1", "list:pop2", "RIGHT", "COUNT", "2"},
	{"ZADD", "zset:pop", "1", "a", "2", "b"}, {"BZMPOP", "1", "1", "zset:pop", "MIN"},
	{"SET", "gone2:k", "v"}, {"PEXPIREAT", "gone2:k", "1000"},
	{"SETBIT", "bits:k", "3", "1"}, {"INCR", "n:int"},
}

// aofSeq is cmd key then members prefix0 ... prefix<n-1> (numbers alone
// when prefix is empty: an intset, a list of small integers).
func aofSeq(cmd, key, prefix string, n int) []string {
	a := []string{cmd, key}
	for i := range n {
		a = append(a, prefix+strconv.Itoa(i))
	}
	return a
}

// aofPairs is cmd key with n field/value (HSET) or score/member (ZADD)
// pairs.
func aofPairs(cmd, key string, n int) []string {
	a := []string{cmd, key}
	for i := range n {
		if cmd == "ZADD" {
			a = append(a, strconv.FormatFloat(float64(i)*1.5, 'g', -1, 64), "m"+strconv.Itoa(i))
		} else {
			a = append(a, "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
		}
	}
	return a
}

// aofRunMix sends cmds one by one; any error reply fails the test.
func aofRunMix(t testing.TB, c *redis.Client, cmds [][]string) {
	t.Helper()
	cx := ctx(t)
	for _, cmd := range cmds {
		args := make([]any, len(cmd))
		for i, a := range cmd {
			args[i] = a
		}
		if err := c.Do(cx, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
			t.Fatalf("%q: %v", abbrev(strings.Join(cmd, " ")), err)
		}
	}
}

// aofMix writes the whole workload, in two phases around after (a
// rewrite, for example), plus a MULTI/EXEC and pops served to clients
// that were blocked waiting.
func aofMix(t testing.TB, addr string, after func()) {
	t.Helper()
	c := aofClient(t, addr)
	cx := ctx(t)
	aofRunMix(t, c, aofMixOne)
	if _, err := c.TxPipelined(cx, func(p redis.Pipeliner) error {
		p.Incr(cx, "tx:n")
		p.RPush(cx, "tx:l", "a", "b")
		p.SAdd(cx, "tx:s", "x")
		return nil
	}); err != nil {
		t.Fatalf("MULTI/EXEC: %v", err)
	}
	aofServeBlocked(t, c, addr, "blocked:list", func(b *redis.Client) error {
		return b.BLPop(cx, 5*time.Second, "blocked:list").Err()
	}, func() error { return c.RPush(cx, "blocked:list", "x", "y", "z").Err() })
	if after != nil {
		after()
	}
	aofRunMix(t, c, aofMixTwo)
	aofServeBlocked(t, c, addr, "blocked:zset", func(b *redis.Client) error {
		return b.BZPopMin(cx, 5*time.Second, "blocked:zset").Err()
	}, func() error {
		return c.ZAdd(cx, "blocked:zset", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}).Err()
	})
	// Let short:k's 20 ms pass for good.
	time.Sleep(30 * time.Millisecond)
}

// aofServeBlocked blocks a second client with block, waits until the
// server counts it blocked, then runs feed, which serves it.
func aofServeBlocked(t testing.TB, c *redis.Client, addr, key string, block func(*redis.Client) error, feed func() error) {
	t.Helper()
	b := aofClient(t, addr)
	done := make(chan error, 1)
	go func() { done <- block(b) }()
	waitFor(t, 5*time.Second, func() bool {
		m, err := infoErr(addr, "clients")
		return err == nil && m["blocked_clients"] == "1"
	}, func() string { return "a client blocked on " + key })
	if err := feed(); err != nil {
		t.Fatalf("serving the blocked client: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the blocked client on %s: %v", key, err)
		}
	case <-time.After(ioTimeout):
		t.Fatalf("the client blocked on %s was not served", key)
	}
}

// aofCheckMixTypes guards the comparisons against an empty or partial
// data set: the workload made keys of every type, with and without
// expire times.
func aofCheckMixTypes(t testing.TB, snap map[string]aofKey) {
	t.Helper()
	seen := map[string]bool{}
	expiring := 0
	for _, k := range snap {
		seen[k.typ] = true
		if k.expireAt >= 0 {
			expiring++
		}
	}
	for _, typ := range []string{"string", "list", "set", "hash", "zset"} {
		if !seen[typ] {
			t.Fatalf("the data set has no %s (%d keys)", typ, len(snap))
		}
	}
	if expiring < 5 {
		t.Fatalf("the data set has %d keys with an expire time", expiring)
	}
	for _, gone := range []string{"short:k", "gone:k", "gone2:k", "m:b", "str:range", "list:a"} {
		if _, ok := snap[gone]; ok {
			t.Fatalf("%s should not exist", gone)
		}
	}
}

// aofRedisCheck runs redis-check-aof on the manifest in aofDir and
// expects it to find every file valid.
func aofRedisCheck(t *testing.T, aofDir string) {
	t.Helper()
	check := requireTool(t, "redis-check-aof")
	out, errOut, err := tool(t, "", check, filepath.Join(aofDir, "appendonly.aof.manifest"))
	if err != nil || !strings.Contains(out, "All AOF files and manifest are valid") {
		t.Fatalf("redis-check-aof: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
}

// TestAOFReadByRedis writes every type through Shoal, rewrites its AOF
// while writes go on (copy before write), writes more, and then hands the
// directory to Redis's tools: redis-check-aof finds it valid and
// redis-server loads the same data set; Shoal itself reloads it too.
func TestAOFReadByRedis(t *testing.T) {
	shoalOnly(t)
	testserver.RequireRedis(t)
	requireTool(t, "redis-check-aof")
	eachBackend(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		srv := aofStart(t, backend, dir, aofArgs("everysec")...)
		c := aofClient(t, srv.Addr)
		cx := ctx(t)
		// Enough data that the rewrite takes many turns of the loop.
		const fill = 8000
		for i := 0; i < fill; i += 500 {
			if _, err := c.Pipelined(cx, func(p redis.Pipeliner) error {
				for j := i; j < i+500; j++ {
					p.Set(cx, "fill:"+strconv.Itoa(j), string(pattern(200, uint64(j))), 0)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		aofMix(t, srv.Addr, func() {
			if got, err := c.Do(cx, "BGREWRITEAOF").Text(); err != nil || !strings.HasPrefix(got, "Background append only file rewriting") {
				t.Fatalf("BGREWRITEAOF: %q %v", got, err)
			}
			// Change keys the rewrite has probably not reached yet (the
			// newest), in small pipelines so that the loop's turns
			// interleave them with the rewrite's slices.
			for i := fill - 1; i >= 0; i -= 100 {
				if _, err := c.Pipelined(cx, func(p redis.Pipeliner) error {
					for j := i; j > i-100 && j >= 0; j-- {
						k := "fill:" + strconv.Itoa(j)
						switch j % 5 {
						case 0:
							p.Append(cx, k, "+appended")
						case 1:
							p.Del(cx, k)
						case 2:
							p.Expire(cx, k, time.Hour)
						case 3:
							p.Set(cx, "during:"+strconv.Itoa(j), "new", 0)
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			aofWaitRewrite(t, srv.Addr, 1)
		})
		want := aofSnapshot(t, srv.Addr)
		aofCheckMixTypes(t, want)
		if len(want) < fill*3/4 {
			t.Fatalf("only %d keys", len(want))
		}
		aofStop(t, srv)

		aofDir := filepath.Join(dir, aofDirName)
		base, incrs := aofManifestFiles(t, aofDir)
		if base != "appendonly.aof.2.base.aof" && base != "appendonly.aof.2.base.rdb" || len(incrs) != 1 {
			t.Errorf("after one rewrite the manifest names base %q and incr files %q", base, incrs)
		}
		aofRedisCheck(t, aofDir)

		copyDir := t.TempDir()
		aofCopyTree(t, aofDir, filepath.Join(copyDir, aofDirName))
		ref := testserver.Start(t, testserver.Options{Kind: testserver.Redis, Dir: copyDir, Args: []string{"--appendonly", "yes"}})
		aofCompare(t, "redis-server on Shoal's AOF", aofSnapshot(t, ref.Addr), want)
		aofStop(t, ref)

		again := aofStart(t, backend, dir, aofArgs("everysec")...)
		aofCompare(t, "Shoal restarted on its AOF", aofSnapshot(t, again.Addr), want)
	})
}

// aofRedisProc is a redis-server this file runs itself, to stop it with
// SHUTDOWN.
func aofRedisProc(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	testserver.RequireRedis(t)
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		full := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir}, args...)
		p := run(t, "", "redis-server", full...)
		p.port, p.addr = port, "127.0.0.1:"+strconv.Itoa(port)
		err := p.waitReady(10 * time.Second)
		if err == nil {
			return p
		}
		p.cmd.Process.Kill()
		<-p.exited
		if attempt < 3 && strings.Contains(strings.ToLower(p.out.String()), "address already in use") {
			continue
		}
		t.Fatalf("redis-server: %v\n%s", err, p.out.String())
	}
}

// aofShardProc runs `shoal shard` (or redis-server, when that is the
// target) on dir without waiting for it: for servers expected to exit.
func aofShardProc(t *testing.T, backend, dir string, args ...string) *proc {
	t.Helper()
	port := freePort(t)
	var bin string
	var full []string
	if targetRedis() {
		testserver.RequireRedis(t)
		bin = "redis-server"
		full = []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir}
	} else {
		bin = testserver.BuildShoal(t)
		full = []string{"shard", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--io", backend, "--dir", dir}
	}
	p := run(t, "", bin, append(full, args...)...)
	p.port, p.addr = port, "127.0.0.1:"+strconv.Itoa(port)
	return p
}

// TestAOFFromRedis has redis-server write an AOF (the workload, a
// rewrite, more of it), stops it with SHUTDOWN, and starts Shoal on a copy
// of its directory: the same data set. With aof-use-rdb-preamble yes the
// base is an RDB file.
func TestAOFFromRedis(t *testing.T) {
	shoalOnly(t)
	testserver.RequireRedis(t)
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble "+preamble, func(t *testing.T) {
			rdir := t.TempDir()
			r := aofRedisProc(t, rdir, "--appendonly", "yes", "--appendfsync", "everysec", "--aof-use-rdb-preamble", preamble)
			aofMix(t, r.addr, func() {
				c := aofClient(t, r.addr)
				if err := c.Do(ctx(t), "BGREWRITEAOF").Err(); err != nil {
					t.Fatalf("BGREWRITEAOF: %v", err)
				}
				aofWaitRewrite(t, r.addr, 1)
			})
			want := aofSnapshot(t, r.addr)
			aofCheckMixTypes(t, want)
			c := dial(t, r.addr)
			c.send(t, string(command("SHUTDOWN")))
			c.expectClosed(t)
			if code := r.wait(t, 10*time.Second); code != 0 {
				t.Fatalf("redis-server exit code %d\n%s", code, r.out.String())
			}
			base, _ := aofManifestFiles(t, filepath.Join(rdir, aofDirName))
			if wantExt := map[string]string{"no": ".aof", "yes": ".rdb"}[preamble]; !strings.HasSuffix(base, wantExt) {
				t.Fatalf("Redis's base is %s, want a %s file", base, wantExt)
			}
			for _, backend := range testserver.IOBackends() {
				t.Run(backend, func(t *testing.T) {
					dir := t.TempDir()
					aofCopyTree(t, filepath.Join(rdir, aofDirName), filepath.Join(dir, aofDirName))
					p := aofShardProc(t, backend, dir, aofArgs("everysec")...)
					if err := p.waitReady(10 * time.Second); err != nil {
						out := p.out.String()
						if preamble == "yes" && regexp.MustCompile(`(?i)RDB.*not supported`).MatchString(out) {
							t.Skipf("Shoal does not read RDB bases: %s", aofLogLine(out, "not supported"))
						}
						t.Fatalf("Shoal on Redis's AOF: %v\n%s", err, out)
					}
					aofCompare(t, "Shoal on Redis's AOF", aofSnapshot(t, p.addr), want)
					p.cmd.Process.Signal(syscall.SIGTERM)
					if code := p.wait(t, 5*time.Second); code != 0 {
						t.Fatalf("exit code %d\n%s", code, p.out.String())
					}
				})
			}
		})
	}
}

// aofLogLine is the first line of out containing s.
func aofLogLine(out, s string) string {
	for line := range strings.Lines(out) {
		if strings.Contains(line, s) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// ---------------------------------------------------------------------
// Truncated and corrupt files.

// TestAOFDamagedFile starts a server on an AOF damaged while it was
// stopped. Half a command (or a MULTI without its EXEC) at the end of the
// last incr file is cut off with Redis's warnings and the data before it
// loads; the file then takes new writes. Garbage in the middle of the file
// stops the server with an error naming the file (and, for Shoal, the
// offset) and leaves every file as it was.
func TestAOFDamagedFile(t *testing.T) {
	const tailKey = "cut:tail"
	cases := []struct {
		name    string
		damage  func(path string, good int64) []byte // returns the file's new contents
		refused bool
	}{
		{"half a command at the end", func(path string, good int64) []byte {
			b := aofMustRead(t, path)
			return append(b, "*3\r\n$3\r\nSET\r\n$8\r\n"+tailKey+"\r\n$10\r\nabc"...)
		}, false},
		{"a header cut short at the end", func(path string, good int64) []byte {
			return append(aofMustRead(t, path), "*3\r\n$3"...)
		}, false},
		{"MULTI without EXEC at the end", func(path string, good int64) []byte {
			b := aofMustRead(t, path)
			b = append(b, "*1\r\n$5\r\nMULTI\r\n"...)
			b = appendCommand(b, "SET", tailKey, "in-multi")
			return appendCommand(b, "INCR", "damaged:n")
		}, false},
		{"garbage in the middle", func(path string, good int64) []byte {
			b := aofMustRead(t, path)
			return slices.Concat(b[:good], []byte("this is not RESP\r\n"), b[good:])
		}, true},
		{"a bad bulk length in the middle", func(path string, good int64) []byte {
			b := aofMustRead(t, path)
			return slices.Concat(b[:good], []byte("*2\r\n$3\r\nDEL\r\n$x\r\n"), b[good:])
		}, true},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dir := t.TempDir()
				args := aofArgs("always")
				p := aofShardProc(t, backend, dir, args...)
				if err := p.waitReady(10 * time.Second); err != nil {
					t.Fatalf("%v\n%s", err, p.out.String())
				}
				c := aofClient(t, p.addr)
				cx := ctx(t)
				for i := range 20 {
					if err := c.Set(cx, "first:"+strconv.Itoa(i), "v"+strconv.Itoa(i), 0).Err(); err != nil {
						t.Fatal(err)
					}
				}
				// appendfsync always: the acknowledged SETs are in the file,
				// which ends at a command's end.
				incr := aofLastIncr(t, dir)
				good := aofFileSize(t, incr)
				for i := range 20 {
					if err := c.RPush(cx, "second:list", strconv.Itoa(i)).Err(); err != nil {
						t.Fatal(err)
					}
				}
				p.cmd.Process.Signal(syscall.SIGTERM)
				if code := p.wait(t, 5*time.Second); code != 0 {
					t.Fatalf("exit code %d\n%s", code, p.out.String())
				}
				whole := aofFileSize(t, incr)
				if err := os.WriteFile(incr, tc.damage(incr, good), 0o644); err != nil {
					t.Fatal(err)
				}
				name := filepath.Base(incr)

				if tc.refused {
					before := aofReadTree(t, dir)
					q := aofShardProc(t, backend, dir, args...)
					code := q.wait(t, 10*time.Second)
					out := q.out.String()
					if code == 0 {
						t.Fatalf("the server exited 0 on a corrupt AOF\n%s", out)
					}
					if !strings.Contains(out, "Bad file format reading the append only file "+name) {
						t.Errorf("the log does not name the bad file %s:\n%s", name, out)
					}
					if !targetRedis() && !strings.Contains(out, "offset "+strconv.FormatInt(good, 10)) {
						t.Errorf("the log does not name the offset %d:\n%s", good, out)
					}
					after := aofReadTree(t, dir)
					if len(after) != len(before) {
						t.Errorf("files before %d, after %d", len(before), len(after))
					}
					for n, b := range before {
						equalBytes(t, "after the refused start, "+n, after[n], b)
					}
					return
				}

				q := aofShardProc(t, backend, dir, args...)
				if err := q.waitReady(10 * time.Second); err != nil {
					t.Fatalf("%v\n%s", err, q.out.String())
				}
				out := q.out.String()
				for _, re := range []string{
					`!!! Warning: short read while loading the AOF file ` + regexp.QuoteMeta(name) + ` ?!!!`,
					`!!! Truncating the AOF ` + regexp.QuoteMeta(name) + ` at offset ` + strconv.FormatInt(whole, 10) + ` !!!`,
					`AOF ` + regexp.QuoteMeta(name) + ` loaded anyway because aof-load-truncated is enabled`,
				} {
					if !regexp.MustCompile(re).MatchString(out) {
						t.Errorf("the log lacks /%s/:\n%s", re, out)
					}
				}
				if got := aofFileSize(t, incr); got != whole {
					t.Errorf("%s is %d bytes after the load, want it cut back to %d", name, got, whole)
				}
				c = aofClient(t, q.addr)
				aofCheckDamagedData(t, c, tailKey)
				aofCheckHealthy(t, q.addr)
				// The file cut back takes new writes, which load again.
				if err := c.Set(cx, "after:cut", "yes", 0).Err(); err != nil {
					t.Fatal(err)
				}
				q.cmd.Process.Signal(syscall.SIGTERM)
				if code := q.wait(t, 5*time.Second); code != 0 {
					t.Fatalf("exit code %d\n%s", code, q.out.String())
				}
				aofRedisCheck(t, filepath.Join(dir, aofDirName))
				r := aofShardProc(t, backend, dir, args...)
				if err := r.waitReady(10 * time.Second); err != nil {
					t.Fatalf("%v\n%s", err, r.out.String())
				}
				c = aofClient(t, r.addr)
				aofCheckDamagedData(t, c, tailKey)
				if got, err := c.Get(cx, "after:cut").Result(); err != nil || got != "yes" {
					t.Errorf("after:cut = %q %v", got, err)
				}
			})
		}
	})
}

func aofMustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// aofCheckDamagedData checks what TestAOFDamagedFile wrote before the
// damage, and that nothing of the damaged tail was applied.
func aofCheckDamagedData(t testing.TB, c *redis.Client, tailKey string) {
	t.Helper()
	cx := ctx(t)
	for i := range 20 {
		if got, err := c.Get(cx, "first:"+strconv.Itoa(i)).Result(); err != nil || got != "v"+strconv.Itoa(i) {
			t.Fatalf("first:%d = %q %v", i, got, err)
		}
	}
	l, err := c.LRange(cx, "second:list", 0, -1).Result()
	if want := aofSeq("", "", "", 20)[2:]; err != nil || !slices.Equal(l, want) {
		t.Fatalf("second:list = %q %v, want %q", l, err, want)
	}
	for _, k := range []string{tailKey, "damaged:n"} {
		if n, err := c.Exists(cx, k).Result(); err != nil || n != 0 {
			t.Fatalf("%s exists (%d %v): the damaged tail was applied", k, n, err)
		}
	}
}

// ---------------------------------------------------------------------
// A full disk.

// aofNamespaceScript runs in a mount namespace of its own: it mounts a
// 2 MB tmpfs on $1, fills most of it with a filler file, runs the server
// (the remaining arguments) with its data in $1/data, reports its exit
// status, and keeps the namespace (and so the tmpfs) alive until its
// standard input closes.
const aofNamespaceScript = `
D="$1"; shift
mount -t tmpfs -o size=2m tmpfs "$D" || { echo "aoftest: mount failed"; exit 97; }
head -c 1400000 /dev/zero > "$D/filler" || exit 98
mkdir "$D/data" || exit 98
echo "aoftest: tmpfs ready"
"$@"
echo "aoftest: server exited with status $?"
read -r _ || true
`

// aofFullDisk is a server running on a small tmpfs in a mount namespace.
type aofFullDisk struct {
	p     *proc
	stdin io.WriteCloser
	mnt   string // the mount point (as the test sees it: through /proc)
	addr  string
}

// aofStartFullDisk starts the server under test on a 2 MB tmpfs of its
// own; it skips the test when mount namespaces or tmpfs mounts are not
// permitted.
func aofStartFullDisk(t *testing.T, backend, policy string) *aofFullDisk {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare (util-linux) is not on PATH")
	}
	mnt := t.TempDir()
	port := freePort(t)
	var server []string
	if targetRedis() {
		testserver.RequireRedis(t)
		server = []string{"redis-server", "--save", ""}
	} else {
		server = []string{testserver.BuildShoal(t), "shard", "--io", backend}
	}
	server = append(server, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", mnt+"/data")
	server = append(server, aofArgs(policy)...)
	args := append([]string{"--mount", "--propagation", "private", "sh", "-c", aofNamespaceScript, "sh", mnt}, server...)
	f := &aofFullDisk{p: &proc{out: &lockedBuffer{}, exited: make(chan struct{})}, addr: "127.0.0.1:" + strconv.Itoa(port)}
	cmd := exec.Command(unshare, args...)
	cmd.Stdout, cmd.Stderr = f.p.out, f.p.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if f.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	f.p.cmd = cmd
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(f.p.exited)
	}()
	t.Cleanup(func() {
		// The script waits for the server, then for its input to close.
		f.stdin.Close()
		if !strings.Contains(f.p.out.String(), "aoftest: server exited") {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		select {
		case <-f.p.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-f.p.exited
		}
	})
	f.mnt = "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/root" + mnt
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(f.p.out.String(), "aoftest: tmpfs ready") {
		select {
		case <-f.p.exited:
			out := f.p.out.String()
			if strings.Contains(out, "aoftest: mount failed") || strings.Contains(out, "unshare failed") ||
				strings.Contains(out, "Operation not permitted") {
				t.Skipf("a private tmpfs is not permitted here: %s", strings.TrimSpace(out))
			}
			t.Fatalf("the namespace script exited: %s", out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tmpfs after 10 s: %s", f.p.out.String())
		}
	}
	f.p.addr, f.p.port = f.addr, port
	if err := f.p.waitReady(10 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, f.p.out.String())
	}
	return f
}

// stopServer stops the server inside with SIGTERM (kill: SIGKILL) and
// waits for the script to report its end; the namespace stays.
func (f *aofFullDisk) stopServer(t *testing.T, kill bool) {
	t.Helper()
	m, err := infoErr(f.addr, "server")
	if err == nil {
		pid, _ := strconv.Atoi(m["process_id"])
		sig := syscall.SIGTERM
		if kill {
			sig = syscall.SIGKILL
		}
		if pid > 0 {
			syscall.Kill(pid, sig)
		}
	}
	waitFor(t, 10*time.Second, func() bool {
		return strings.Contains(f.p.out.String(), "aoftest: server exited with status")
	}, func() string { return "the server to exit:\n" + f.p.out.String() })
	if !kill && !strings.Contains(f.p.out.String(), "aoftest: server exited with status 0") {
		t.Fatalf("the server did not exit 0 after SIGTERM:\n%s", f.p.out.String())
	}
}

// TestAOFDiskFull fills a small tmpfs until writes get Redis's -MISCONF
// (PING too; reads go on). With appendfsync always the write that met the
// full disk is not acknowledged until its data is durable: its reply is
// held, or the server exits as Redis does. Then either space is freed,
// writes resume by themselves and every acknowledged write (and none
// refused) is in the AOF after a restart; or, with always, the server is
// killed while the disk is still full and every write acknowledged before
// is in the file.
func TestAOFDiskFull(t *testing.T) {
	scenarios := []struct {
		policy string
		free   bool // free space, then stop (always: SIGKILL) and restart; else SIGKILL while full
	}{
		{"everysec", true},
		{"always", true},
		{"always", false},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		for _, sc := range scenarios {
			name := sc.policy + ", space freed"
			if !sc.free {
				name = sc.policy + ", killed while full"
			}
			t.Run(name, func(t *testing.T) {
				if sc.free && sc.policy == "always" && targetRedis() {
					t.Skip("Redis exits on an AOF write error with appendfsync always")
				}
				aofDiskFull(t, backend, sc.policy, sc.free)
			})
		}
	})
}

func aofDiskFull(t *testing.T, backend, policy string, free bool) {
	const misconf = "MISCONF Errors writing to the AOF file: No space left on device"
	value := strings.Repeat("x", 4000)
	f := aofStartFullDisk(t, backend, policy)
	raw := dial(t, f.addr)
	var acked []string
	var held, refused string
	exited := false
	for i := 0; i < 1000 && held == "" && refused == ""; i++ {
		k := "full:" + strconv.Itoa(i)
		if err := raw.Write(command("SET", k, value)); err != nil {
			t.Fatal(err)
		}
		raw.c.SetReadDeadline(time.Now().Add(2 * time.Second))
		v, err := resp.ReadReply(raw.r)
		switch {
		case err == nil && string(v.Raw) == "+OK\r\n":
			acked = append(acked, k)
		case err == nil && strings.HasPrefix(string(v.Raw), "-MISCONF"):
			if got := string(v.Raw); got != "-"+misconf+"\r\n" {
				t.Errorf("SET = %q, want %q", got, "-"+misconf)
			}
			refused = k
		case isTimeout(err) && policy == "always":
			held = k // not durable, not acknowledged
		case err != nil && policy == "always" && targetRedis():
			refused, exited = k, true // Redis exits on a write error with always
		default:
			t.Fatalf("SET %s = %q, %v", k, v.Raw, err)
		}
	}
	if held == "" && refused == "" {
		t.Fatalf("1000 SETs of 4 kB fitted in a tmpfs with 600 kB free")
	}
	switch {
	case held != "":
		t.Logf("%d SETs acknowledged, then the reply to SET %s held", len(acked), held)
	case exited:
		t.Logf("%d SETs acknowledged, then the server exited at SET %s", len(acked), refused)
	default:
		t.Logf("%d SETs acknowledged, then SET %s refused", len(acked), refused)
	}
	if !exited {
		inMemory := len(acked)
		if held != "" {
			inMemory++ // run, but its reply waits
		}
		aofCheckMisconf(t, f.addr, acked, inMemory, misconf)
	}
	cx := ctx(t)
	if free {
		if err := os.Remove(f.mnt + "/filler"); err != nil {
			t.Fatal(err)
		}
		freed := time.Now()
		if held != "" {
			raw.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			v, err := resp.ReadReply(raw.r)
			if err != nil || string(v.Raw) != "+OK\r\n" {
				t.Fatalf("the held SET %s after space was freed: %q %v", held, v.Raw, err)
			}
			acked = append(acked, held)
			t.Logf("the held SET was acknowledged %v after space was freed", time.Since(freed).Round(time.Millisecond))
		}
		c := aofClient(t, f.addr)
		var err error
		waitFor(t, 5*time.Second, func() bool {
			err = c.Set(cx, "resumed", "yes", 0).Err()
			return err == nil
		}, func() string { return fmt.Sprintf("writes to resume after space was freed: %v", err) })
		t.Logf("writes resumed %v after space was freed", time.Since(freed).Round(time.Millisecond))
		for i := range 20 {
			k := "after:" + strconv.Itoa(i)
			if err := c.Set(cx, k, value, 0).Err(); err != nil {
				t.Fatalf("SET %s after space was freed: %v", k, err)
			}
			acked = append(acked, k)
		}
		acked = append(acked, "resumed")
		if got := info(t, f.addr, "persistence")["aof_last_write_status"]; got != "ok" {
			t.Errorf("aof_last_write_status:%s after writes resumed", got)
		}
		// always: what was acknowledged is in the file already.
		f.stopServer(t, policy == "always")
	} else {
		f.stopServer(t, true)
	}
	copyDir := t.TempDir()
	aofCopyTree(t, f.mnt+"/data/"+aofDirName, filepath.Join(copyDir, aofDirName))
	srv := aofStart(t, backend, copyDir, aofArgs("everysec")...)
	rc := aofClient(t, srv.Addr)
	missing := 0
	for _, k := range acked {
		v, err := rc.Get(cx, k).Result()
		if k == "resumed" && v == "yes" || v == value {
			continue
		}
		if missing++; missing <= 5 {
			t.Errorf("%s, acknowledged, is missing after the restart (%q, %v)", k, abbrev(v), err)
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes missing after the restart (appendfsync %s): "+
			"the server acknowledged writes its AOF did not hold", missing, len(acked), policy)
	}
	if refused != "" {
		if n, err := rc.Exists(cx, refused).Result(); err != nil || n != 0 {
			t.Errorf("%s, refused with -MISCONF, exists after the restart", refused)
		}
	}
}

// aofCheckMisconf checks a server whose AOF writes fail: writes and PING
// get -MISCONF, reads are served, INFO says so.
func aofCheckMisconf(t *testing.T, addr string, acked []string, inMemory int, misconf string) {
	t.Helper()
	raw := dial(t, addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "v"}, "-" + misconf + "\r\n"},
		{[]string{"PING"}, "-" + misconf + "\r\n"},
		{[]string{"INCR", "n"}, "-" + misconf + "\r\n"},
		{[]string{"DEL", acked[0]}, "-" + misconf + "\r\n"},
		{[]string{"EXISTS", acked[0]}, ":1\r\n"},
		{[]string{"STRLEN", acked[len(acked)-1]}, ":4000\r\n"},
		{[]string{"GET", "k"}, "$-1\r\n"},
		{[]string{"ECHO", "e"}, bulk("e")},
	} {
		if got := raw.do(t, tc.args...); got != tc.want {
			t.Errorf("%q while the disk is full = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := raw.do(t, "DBSIZE"); got != ":"+strconv.Itoa(inMemory)+"\r\n" {
		t.Errorf("DBSIZE = %q, want %d", got, inMemory)
	}
	if got := info(t, addr, "persistence")["aof_last_write_status"]; got != "err" {
		t.Errorf("aof_last_write_status:%s while writes fail", got)
	}
}

// ---------------------------------------------------------------------
// CONFIG SET.

// TestAOFConfigSet turns the AOF on at run time (the data set becomes its
// base), switches appendfsync through its three values, and checks the
// INFO persistence fields against Redis's names; a restart loads it all.
func TestAOFConfigSet(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		srv := aofStart(t, backend, dir)
		c := aofClient(t, srv.Addr)
		cx := ctx(t)
		aofRunMix(t, c, aofMixOne)
		if got := info(t, srv.Addr, "persistence")["aof_enabled"]; got != "0" {
			t.Fatalf("aof_enabled:%s without appendonly", got)
		}
		aofSameFields(t, "appendonly no", info(t, srv.Addr, "persistence"), aofReferenceFields(t, false))
		if _, err := os.Stat(filepath.Join(dir, aofDirName, "appendonly.aof.manifest")); err == nil {
			t.Fatal("a manifest exists before appendonly was turned on")
		}

		if err := c.ConfigSet(cx, "appendonly", "yes").Err(); err != nil {
			t.Fatalf("CONFIG SET appendonly yes: %v", err)
		}
		aofWaitRewrite(t, srv.Addr, 0)
		m := info(t, srv.Addr, "persistence")
		if m["aof_enabled"] != "1" || m["aof_last_write_status"] != "ok" {
			t.Fatalf("after CONFIG SET appendonly yes: aof_enabled:%s aof_last_write_status:%s", m["aof_enabled"], m["aof_last_write_status"])
		}
		aofSameFields(t, "appendonly yes", m, aofReferenceFields(t, true))
		for _, f := range []string{"aof_current_size", "aof_base_size", "aof_buffer_length", "aof_delayed_fsync"} {
			if _, err := strconv.ParseInt(m[f], 10, 64); err != nil {
				t.Errorf("%s:%q is not a number", f, m[f])
			}
		}
		base, _ := aofManifestFiles(t, filepath.Join(dir, aofDirName))
		if base == "" || aofFileSize(t, filepath.Join(dir, aofDirName, base)) < 1000 {
			t.Fatalf("the base %q does not hold the data set written before appendonly was turned on", base)
		}

		for _, policy := range []string{"always", "no", "everysec"} {
			if err := c.ConfigSet(cx, "appendfsync", policy).Err(); err != nil {
				t.Fatalf("CONFIG SET appendfsync %s: %v", policy, err)
			}
			if got, err := c.ConfigGet(cx, "appendfsync").Result(); err != nil || got["appendfsync"] != policy {
				t.Fatalf("CONFIG GET appendfsync = %v %v, want %s", got, err, policy)
			}
			for i := range 20 {
				if err := c.RPush(cx, "policy:"+policy, strconv.Itoa(i)).Err(); err != nil {
					t.Fatalf("RPUSH with appendfsync %s: %v", policy, err)
				}
			}
		}
		err := c.ConfigSet(cx, "appendfsync", "sometimes").Err()
		if err == nil || !strings.HasPrefix(err.Error(), "ERR CONFIG SET failed (possibly related to argument 'appendfsync')") {
			t.Errorf("CONFIG SET appendfsync sometimes: %v", err)
		}
		want := aofSnapshot(t, srv.Addr)
		aofStop(t, srv)
		again := aofStart(t, backend, dir, aofArgs("everysec")...)
		aofCheckHealthy(t, again.Addr)
		aofCompare(t, "restarted with the AOF turned on at run time", aofSnapshot(t, again.Addr), want)
	})
}

// aofReferenceFields are the INFO persistence fields of the AOF and of
// loading that Debian's redis-server 7.0 reports, with appendonly off or
// on; nil when it is not installed.
func aofReferenceFields(t *testing.T, on bool) map[string]string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Log("redis-server is not on PATH: INFO persistence names not compared with Redis's")
		return nil
	}
	var args []string
	if on {
		args = []string{"--appendonly", "yes"}
	}
	r := testserver.Start(t, testserver.Options{Kind: testserver.Redis, Args: args})
	if on {
		aofWaitRewrite(t, r.Addr, 0)
	}
	m := info(t, r.Addr, "persistence")
	aofStop(t, r)
	return m
}

// aofSameFields checks that got has every AOF and loading field of ref.
func aofSameFields(t *testing.T, what string, got, ref map[string]string) {
	t.Helper()
	if ref != nil && !aofHasKey(ref, "aof_enabled") {
		t.Fatalf("redis-server's INFO persistence has no aof_enabled: %v", ref)
	}
	var missing []string
	for k := range ref {
		if (strings.HasPrefix(k, "aof_") || strings.HasPrefix(k, "loading") || k == "async_loading") && !aofHasKey(got, k) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("INFO persistence with %s lacks Redis's fields %s", what, strings.Join(missing, ", "))
	}
}

func aofHasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// TestAOFPageCache: a shard drops what is durable of its incr file from
// the page cache, so writing 48 MB leaves only the last few MB cached (on
// both backends; Redis keeps it all).
func TestAOFPageCache(t *testing.T) {
	if targetRedis() {
		t.Skip("Redis leaves its AOF in the page cache")
	}
	aofEachBackendParallel(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		if !pagecache.Droppable(dir) {
			t.Skip("the temp dir is in memory")
		}
		s := aofStart(t, backend, dir, aofArgs("everysec", "--auto-aof-rewrite-percentage", "0")...)
		defer aofStop(t, s)
		c := aofClient(t, s.Addr)
		ctx := context.Background()
		val := strings.Repeat("p", 4000)
		for i := range 12 {
			p := c.Pipeline()
			for j := range 1000 {
				p.Set(ctx, "k"+strconv.Itoa(j), val, 0)
			}
			if _, err := p.Exec(ctx); err != nil {
				t.Fatalf("batch %d: %v", i, err)
			}
		}
		incr := aofLastIncr(t, dir)
		var resident, size int
		var err error
		waitFor(t, 10*time.Second, func() bool {
			resident, size, err = pagecache.Resident(incr)
			return err == nil && size > 48_000_000 && resident < 4096
		}, func() string {
			return fmt.Sprintf("%d of the incr file's %d pages to leave the page cache (%v)", resident, size/4096, err)
		})
	})
}

// TestAOFDirectStream: a stream of SETs from several clients, large
// enough that the io_uring writer sends it to the incr file with
// O_DIRECT (checked in /proc: the shard holds the file open with the
// flag), with a rewrite's cut in the middle of it, is all in the files once
// the stream pauses: a SIGKILL then loses nothing, redis-check-aof finds
// the files valid and the restarted shard holds every key.
func TestAOFDirectStream(t *testing.T) {
	shoalOnly(t)
	requireTool(t, "redis-check-aof")
	eachBackend(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		srv := aofStart(t, backend, dir, aofArgs("everysec", "--auto-aof-rewrite-percentage", "0")...)
		const clients, rounds, batch = 4, 6, 1000
		errs := make(chan error, clients)
		cx := ctx(t)
		for w := range clients {
			c := aofClient(t, srv.Addr)
			go func() {
				for r := range rounds {
					_, err := c.Pipelined(cx, func(p redis.Pipeliner) error {
						for i := range batch {
							n := (w*rounds+r)*batch + i
							p.Set(cx, "stream:"+strconv.Itoa(n), string(pattern(1000, uint64(n))), 0)
						}
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		time.Sleep(50 * time.Millisecond) // a rewrite's cut in the middle of the stream
		if got, err := aofClient(t, srv.Addr).Do(cx, "BGREWRITEAOF").Text(); err != nil || !strings.HasPrefix(got, "Background append only file rewriting") {
			t.Fatalf("BGREWRITEAOF: %q %v", got, err)
		}
		for range clients {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		aofWaitRewrite(t, srv.Addr, 1)
		if _, err := aofClient(t, srv.Addr).Pipelined(cx, func(p redis.Pipeliner) error {
			for i := range batch { // and a stream into the new incr file
				n := clients*rounds*batch + i
				p.Set(cx, "stream:"+strconv.Itoa(n), string(pattern(1000, uint64(n))), 0)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		incr := aofLastIncr(t, dir)
		if direct := aofOpenDirect(t, srv.PID, incr); direct != (backend == "uring") {
			t.Errorf("%s: incr file open with O_DIRECT: %v", backend, direct)
		}
		want := aofSnapshot(t, srv.Addr)
		if len(want) != (clients*rounds+1)*batch {
			t.Fatalf("%d keys, want %d", len(want), (clients*rounds+1)*batch)
		}
		time.Sleep(200 * time.Millisecond) // the stream paused: what is staged goes out
		srv.Kill()
		aofRedisCheck(t, filepath.Join(dir, aofDirName))
		again := aofStart(t, backend, dir, aofArgs("everysec")...)
		aofCompare(t, "restarted after SIGKILL", aofSnapshot(t, again.Addr), want)
	})
}

// aofOpenDirect says whether process pid holds a file whose name ends
// with name open with O_DIRECT (/proc/PID/fd and fdinfo).
func aofOpenDirect(t *testing.T, pid int, name string) bool {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name()))
		if err != nil || !strings.HasSuffix(target, "/"+filepath.Base(name)) {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name()))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				if fl, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64); err == nil && fl&unix.O_DIRECT != 0 {
					return true
				}
			}
		}
	}
	return false
}
