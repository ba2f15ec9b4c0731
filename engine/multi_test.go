package engine

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// The transaction's state as CLIENT LIST shows it, with the values Redis
// 7.0.15 gives (multi-mem counts argument bytes plus a pointer each).
func TestMultiClientList(t *testing.T) {
	bt := newBlockTest(t)
	field := func(name, key string) string {
		line := bt.do("o", "CLIENT LIST ID "+strconv.FormatUint(bt.client(name).ID, 10))
		for _, f := range strings.Fields(strings.Trim(line, `"`)) {
			if v, ok := strings.CutPrefix(f, key+"="); ok {
				return v
			}
		}
		t.Fatalf("no %s in %s", key, line)
		return ""
	}
	check := func(what, flags, multi, mem string) {
		t.Helper()
		bt.expect(what+" flags", field("c", "flags"), flags)
		bt.expect(what+" multi", field("c", "multi"), multi)
		bt.expect(what+" multi-mem", field("c", "multi-mem"), mem)
	}
	check("idle", "N", "-1", "0")
	bt.do("c", "WATCH a b")
	check("watching", "N", "-1", "0")
	bt.do("c", "MULTI")
	check("multi", "x", "0", "0")
	bt.do("c", "SET a 1")
	check("one queued", "x", "1", "29")
	bt.do("c", "GET a")
	check("two queued", "x", "2", "49")
	bt.do("o", "SET b 2")
	check("dirty", "xd", "2", "49")
	bt.do("c", "GET b") // not kept: the transaction is doomed
	check("dirty, not kept", "xd", "2", "49")
	bt.expect("EXEC", bt.do("c", "EXEC"), "(nil-array)")
	check("after EXEC", "N", "-1", "0")
	bt.do("c", "WATCH a")
	bt.do("o", "SET a 1")
	check("dirty outside MULTI", "d", "-1", "0")
	bt.do("c", "UNWATCH")
	check("after UNWATCH", "N", "-1", "0")
	// CLIENT LIST run inside EXEC shows the client in MULTI, cmd=exec.
	bt.do("c", "MULTI")
	bt.do("c", "CLIENT INFO")
	got := bt.do("c", "EXEC")
	if !strings.Contains(got, " flags=x ") || !strings.Contains(got, " multi=1 ") ||
		!strings.Contains(got, " multi-mem=26 ") || !strings.Contains(got, " cmd=exec ") {
		t.Errorf("CLIENT INFO inside EXEC: %s", got)
	}
}

// Blocked clients are served after EXEC, not in the middle of it, and a
// blocked client served by a write changes the keys it pops from and
// pushes to for WATCH.
func TestMultiBlocking(t *testing.T) {
	bt := newBlockTest(t)
	bt.expect("BLPOP", bt.do("b", "BLPOP l 0"), noReply)
	bt.do("t", "MULTI")
	bt.do("t", "RPUSH l x")
	bt.do("t", "LLEN l")
	bt.expect("EXEC", bt.do("t", "EXEC"), "[:1 :1]")
	bt.expect("served after EXEC", bt.out("b"), `["l" "x"]`)
	bt.expect("EXISTS", bt.do("t", "EXISTS l"), ":0")

	bt.expect("BLMOVE", bt.do("b", "BLMOVE src dst LEFT LEFT 0"), noReply)
	bt.do("w", "WATCH dst")
	bt.do("p", "RPUSH src v")
	bt.expect("BLMOVE served", bt.out("b"), `"v"`)
	bt.do("w", "MULTI")
	bt.do("w", "PING")
	bt.expect("EXEC after BLMOVE's push", bt.do("w", "EXEC"), "(nil-array)")

	// A blocking command queued and run by EXEC does not stay blocked,
	// whatever its timeout.
	bt.do("t", "MULTI")
	bt.do("t", "BZPOPMIN z 0")
	bt.do("t", "BRPOP l 0")
	got := bt.do("t", "EXEC")
	if c := bt.client("t"); c.Blocked() || bt.s.BlockedClients() != 0 {
		t.Fatalf("a client blocked inside EXEC (%s)", got)
	}
	if !strings.HasSuffix(got, "(nil-array)]") {
		t.Errorf("BRPOP inside EXEC: %s", got)
	}
}

// A client's watched keys go with it when it disconnects; FLUSHALL and
// expiry find nobody to mark.
func TestMultiUnregister(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("c", "WATCH a b c")
	bt.do("d", "WATCH a")
	bt.s.Unregister(bt.client("c"))
	if n := len(bt.s.watch.keys); n != 1 {
		t.Fatalf("%d watched keys after the disconnection, want 1", n)
	}
	bt.s.Unregister(bt.client("d"))
	if n := len(bt.s.watch.keys); n != 0 {
		t.Fatalf("%d watched keys, want 0", n)
	}
	bt.do("e", "SET a 1 PX 10")
	bt.advance(20)
	bt.do("e", "FLUSHALL")
}

// Active expiry (the cron) deleting a watched key changes it.
func TestMultiActiveExpiry(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("c", "SET k v PX 100")
	bt.do("c", "WATCH k")
	bt.advance(200)
	for i := 0; i < 10 && bt.s.db.Len() > 0; i++ {
		bt.s.ActiveExpire(1e9)
	}
	if bt.s.db.Len() != 0 {
		t.Fatal("the active cycle left the key")
	}
	bt.do("c", "MULTI")
	bt.expect("EXEC", bt.do("c", "EXEC"), "(nil-array)")
}

// EXEC refused as a whole past maxmemory, and the statistics Redis keeps
// for transactions.
func TestMultiOOMAndStats(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("c", "MULTI")
	bt.do("c", "SET a 1")
	bt.do("c", "GET a")
	bt.s.Config.Maxmemory = 1
	bt.s.mem.used = 1 << 30
	bt.expect("EXEC past maxmemory", bt.do("c", "EXEC"),
		"-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")
	bt.expect("EXEC after", bt.do("c", "EXEC"), "-ERR EXEC without MULTI")
	// Inside MULTI even a read is refused past maxmemory, as in Redis
	// (queueing takes memory); DISCARD is not.
	bt.do("c", "MULTI")
	bt.expect("GET queued past maxmemory", bt.do("c", "GET a"), "-OOM command not allowed when used memory > 'maxmemory'.")
	bt.expect("DISCARD past maxmemory", bt.do("c", "DISCARD"), "+OK")
	bt.s.Config.Maxmemory = 0

	bt.do("c", "CONFIG RESETSTAT")
	bt.do("c", "MULTI")
	bt.do("c", "NOSUCH")
	bt.do("c", "GET")
	bt.do("c", "EXEC")
	bt.do("c", "MULTI")
	bt.do("c", "EXEC x")
	bt.do("c", "MULTI")
	bt.do("c", "INCR a")
	bt.do("c", "SET a x")
	bt.do("c", "INCR a")
	bt.do("c", "EXEC")
	stats := bt.do("c", "INFO commandstats")
	for _, want := range []string{
		"cmdstat_exec:calls=2,", // the EXECABORT one and the one that ran
		"rejected_calls=1,failed_calls=1\\r\\n",
		"cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0",
		"cmdstat_incr:calls=2,",
	} {
		if !strings.Contains(stats, want) {
			t.Errorf("INFO commandstats lacks %q:\n%s", want, stats)
		}
	}
	errs := bt.do("c", "INFO errorstats")
	if !strings.Contains(errs, "errorstat_EXECABORT:count=2") || !strings.Contains(errs, "errorstat_ERR:count=3") {
		t.Errorf("INFO errorstats: %s", errs)
	}
}

// The common transaction and a write with nobody watching allocate
// nothing once the buffers have grown; nor does a write while another
// key is watched.
func TestMultiNoAlloc(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	tx := [][][]byte{argv("MULTI"), argv("SET", "k", "v"), argv("INCR", "n"), argv("GET", "k"), argv("EXEC")}
	run := func() {
		for _, a := range tx {
			s.Exec(c, a)
		}
		c.Out = c.Out[:0]
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("MULTI/SET/INCR/GET/EXEC: %v allocations", n)
	}
	set := argv("HSET", "h", "f", "v")
	s.Exec(c, set)
	if n := testing.AllocsPerRun(200, func() { c.Out = c.Out[:0]; s.Exec(c, set) }); n != 0 {
		t.Errorf("HSET, nobody watching: %v allocations", n)
	}
	w := s.NewClient()
	s.Exec(w, argv("WATCH", "other"))
	if n := testing.AllocsPerRun(200, func() { c.Out = c.Out[:0]; s.Exec(c, set) }); n != 0 {
		t.Errorf("HSET, another key watched: %v allocations", n)
	}
	s.Exec(w, argv("WATCH", "h"))
	if n := testing.AllocsPerRun(200, func() { c.Out = c.Out[:0]; s.Exec(c, set) }); n != 0 {
		t.Errorf("HSET of a watched key: %v allocations", n)
	}
}

// txModel is a reference for WATCH/MULTI/EXEC over string keys: the
// values, and per client what it watches, whether a watched key changed,
// and its queue.
type txModel struct {
	vals    map[string]string
	watched []map[string]bool
	dirty   []bool
	multi   []bool
	queue   [][][]string
}

// change notes that key changed.
func (m *txModel) change(key string) {
	for i, w := range m.watched {
		if w[key] {
			m.dirty[i] = true
		}
	}
}

// apply runs a write or read on the model and returns the rendered reply.
func (m *txModel) apply(cmd []string) string {
	switch cmd[0] {
	case "SET":
		if len(cmd) == 4 { // NX
			if _, ok := m.vals[cmd[1]]; ok {
				return "(nil)"
			}
		}
		m.vals[cmd[1]] = cmd[2]
		m.change(cmd[1])
		return "+OK"
	case "GET":
		if v, ok := m.vals[cmd[1]]; ok {
			return strconv.Quote(v)
		}
		return "(nil)"
	case "DEL":
		n := 0
		for _, k := range cmd[1:] {
			if _, ok := m.vals[k]; ok {
				delete(m.vals, k)
				m.change(k)
				n++
			}
		}
		return ":" + strconv.Itoa(n)
	case "APPEND":
		v := m.vals[cmd[1]] + cmd[2]
		m.vals[cmd[1]] = v
		m.change(cmd[1])
		return ":" + strconv.Itoa(len(v))
	case "FLUSHALL":
		for k := range m.vals {
			m.change(k)
		}
		clear(m.vals)
		return "+OK"
	}
	panic("model: " + cmd[0])
}

// A randomized run of several clients watching, queueing and writing,
// against the model.
func TestMultiModel(t *testing.T) {
	const clients, steps = 3, 4000
	rng := rand.New(rand.NewSource(1))
	bt := newBlockTest(t)
	m := &txModel{vals: map[string]string{}}
	for i := 0; i < clients; i++ {
		m.watched = append(m.watched, map[string]bool{})
		m.dirty = append(m.dirty, false)
		m.multi = append(m.multi, false)
		m.queue = append(m.queue, nil)
	}
	key := func() string { return "k" + strconv.Itoa(rng.Intn(6)) }
	for step := 0; step < steps; step++ {
		i := rng.Intn(clients)
		name := "c" + strconv.Itoa(i)
		var cmd []string
		want := ""
		switch r := rng.Intn(100); {
		case r < 12:
			cmd = []string{"WATCH", key(), key()}
			if m.multi[i] {
				want = "-ERR WATCH inside MULTI is not allowed"
			} else {
				m.watched[i][cmd[1]], m.watched[i][cmd[2]] = true, true
				want = "+OK"
			}
		case r < 15:
			cmd = []string{"UNWATCH"}
			if m.multi[i] {
				m.queue[i] = append(m.queue[i], cmd)
				want = "+QUEUED"
			} else {
				clear(m.watched[i])
				m.dirty[i] = false
				want = "+OK"
			}
		case r < 25:
			cmd = []string{"MULTI"}
			if m.multi[i] {
				want = "-ERR MULTI calls can not be nested"
			} else {
				m.multi[i] = true
				want = "+OK"
			}
		case r < 35:
			cmd = []string{"EXEC"}
			switch {
			case !m.multi[i]:
				want = "-ERR EXEC without MULTI"
			case m.dirty[i]:
				want = "(nil-array)"
			default:
				clear(m.watched[i])
				var replies []string
				for _, q := range m.queue[i] {
					if q[0] == "UNWATCH" {
						replies = append(replies, "+OK")
						continue
					}
					replies = append(replies, m.apply(q))
				}
				want = "[" + strings.Join(replies, " ") + "]"
			}
			if m.multi[i] {
				m.multi[i], m.queue[i], m.dirty[i] = false, nil, false
				clear(m.watched[i])
			}
		case r < 38:
			cmd = []string{"DISCARD"}
			if !m.multi[i] {
				want = "-ERR DISCARD without MULTI"
			} else {
				m.multi[i], m.queue[i], m.dirty[i] = false, nil, false
				clear(m.watched[i])
				want = "+OK"
			}
		default:
			switch rng.Intn(7) {
			case 0, 1:
				cmd = []string{"SET", key(), strconv.Itoa(rng.Intn(3))}
			case 2:
				cmd = []string{"SET", key(), "n", "NX"}
			case 3:
				cmd = []string{"DEL", key(), key()}
			case 4:
				cmd = []string{"APPEND", key(), "x"}
			case 5:
				cmd = []string{"GET", key()}
			case 6:
				if rng.Intn(8) == 0 {
					cmd = []string{"FLUSHALL"}
				} else {
					cmd = []string{"GET", key()}
				}
			}
			if m.multi[i] {
				m.queue[i] = append(m.queue[i], cmd)
				want = "+QUEUED"
			} else {
				want = m.apply(cmd)
			}
		}
		got := bt.do(name, strings.Join(cmd, " "))
		if got != want {
			t.Fatalf("step %d: %s: %s: got %s, want %s", step, name, strings.Join(cmd, " "), got, want)
		}
	}
	// Everything the clients watch is in the shard's index, and only that.
	n := 0
	for _, wks := range bt.s.watch.keys {
		n += len(wks)
	}
	total := 0
	for i := 0; i < clients; i++ {
		total += len(bt.client(fmt.Sprintf("c%d", i)).tx.watched)
	}
	if n != total {
		t.Errorf("the shard lists %d watchers, the clients %d", n, total)
	}
}

func BenchmarkMultiExec(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	tx := [][][]byte{argv("MULTI"), argv("SET", "k", "v"), argv("INCR", "n"), argv("EXEC")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, a := range tx {
			s.Exec(c, a)
		}
		c.Out = c.Out[:0]
	}
}

func BenchmarkWatchExec(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	tx := [][][]byte{argv("WATCH", "k"), argv("GET", "k"), argv("MULTI"), argv("SET", "k", "v"), argv("EXEC")}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, a := range tx {
			s.Exec(c, a)
		}
		c.Out = c.Out[:0]
	}
}

// A write to a key while other clients watch other keys.
func BenchmarkSetWithWatchers(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	for i := 0; i < 100; i++ {
		s.Exec(s.NewClient(), argv("WATCH", "w"+strconv.Itoa(i)))
	}
	c := s.NewClient()
	set := argv("HSET", "h", "f", "v")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Exec(c, set)
		c.Out = c.Out[:0]
	}
}

// QUIT inside MULTI is not queued: it answers and closes the connection;
// the queued commands never run.
func TestMultiQuit(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("c", "MULTI")
	bt.do("c", "SET a 1")
	bt.expect("QUIT", bt.do("c", "QUIT"), "+OK")
	if bt.client("c").Flags&CloseAfterReply == 0 {
		t.Error("QUIT inside MULTI did not close the connection")
	}
	bt.s.Unregister(bt.client("c"))
	bt.expect("GET", bt.do("o", "GET a"), "(nil)")
}
