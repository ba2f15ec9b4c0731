package engine

import (
	"strconv"
	"strings"
	"testing"
)

// pauseLoop stands in for the loop around a blockTest: each client has
// input (commands pipelined, not yet run), fed to Exec while the client is
// not blocked; clients on Unblocked are resumed (Shard.Resume) and their
// input run, as server.resumeUnblocked does.
type pauseLoop struct {
	*blockTest
	input map[string][]string
	names map[*Client]string
}

func newPauseLoop(t *testing.T) *pauseLoop {
	return &pauseLoop{blockTest: newBlockTest(t), input: map[string][]string{}, names: map[*Client]string{}}
}

// send pipelines lines from client name and runs what may run.
func (l *pauseLoop) send(name string, lines ...string) {
	l.names[l.client(name)] = name
	l.input[name] = append(l.input[name], lines...)
	l.feed(name)
	l.turn()
}

func (l *pauseLoop) feed(name string) {
	c := l.client(name)
	for len(l.input[name]) > 0 && !c.Blocked() && !c.closed {
		line := l.input[name][0]
		l.input[name] = l.input[name][1:]
		l.s.Tick()
		l.s.Exec(c, argv(strings.Fields(line)...))
	}
}

// turn resumes the clients a pause released, in order, each with its input.
func (l *pauseLoop) turn() {
	for len(l.s.Unblocked) > 0 {
		c := l.s.Unblocked[0]
		l.s.Unblocked = l.s.Unblocked[1:]
		l.s.Resume(c)
		if name, ok := l.names[c]; ok {
			l.feed(name)
		}
	}
}

func (l *pauseLoop) advance(ms int64) {
	l.blockTest.advance(ms)
	l.turn()
}

func (l *pauseLoop) info(field string) string {
	l.t.Helper()
	out := l.do("info", "INFO")
	for _, line := range strings.Split(out, `\r\n`) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	l.t.Fatalf("INFO has no %s: %s", field, out)
	return ""
}

// Pipelined commands behind a held one wait behind it, and clients resume
// in the order they were held, each with its own input before the next.
func TestPauseResumeInOrder(t *testing.T) {
	l := newPauseLoop(t)
	l.expect("pause", l.do("admin", "CLIENT PAUSE 100000 WRITE"), "+OK")
	l.send("a", "SET k a1", "GET k", "SET k a2")
	l.send("b", "SET k b1", "INCR n")
	l.expect("a held", l.out("a"), "(no reply)")
	l.expect("b held", l.out("b"), "(no reply)")
	l.expect("reads go on", l.do("admin", "GET k"), "(nil)")
	l.expect("blocked_clients", l.info("blocked_clients"), "2")
	l.expect("clients_in_timeout_table", l.info("clients_in_timeout_table"), "0")
	list := l.do("admin", "CLIENT LIST")
	if !strings.Contains(list, "flags=b db=0") || !strings.Contains(list, "cmd=set ") {
		t.Errorf("CLIENT LIST of held clients: %s", list)
	}
	l.expect("unpause", l.do("admin", "CLIENT UNPAUSE"), "+OK")
	l.turn()
	l.expect("a", l.out("a"), `+OK "a1" +OK`)
	l.expect("b", l.out("b"), "+OK :1")
	l.expect("last write wins", l.do("admin", "GET k"), `"b1"`)
	l.expect("blocked_clients after", l.info("blocked_clients"), "0")
	if list := l.do("admin", "CLIENT LIST"); strings.Contains(list, "flags=b") {
		t.Errorf("CLIENT LIST after the pause: %s", list)
	}
}

// A pause ends at the first cron tick after its time, not before; the
// commands that came in the meantime wait with the rest and run after
// those held earlier.
func TestPauseTimeout(t *testing.T) {
	l := newPauseLoop(t)
	l.do("admin", "CLIENT PAUSE 500 ALL")
	l.send("a", "RPUSH q a")
	l.advance(300)
	l.expect("still held", l.out("a"), "(no reply)")
	l.advance(200) // at the end: still paused, as Redis (end < now ends it)
	l.expect("at the end", l.out("a"), "(no reply)")
	l.now++ // past the end, but no tick yet
	l.send("b", "RPUSH q b")
	l.expect("b waits for the tick", l.out("b"), "(no reply)")
	l.advance(0)
	l.expect("a", l.out("a"), ":1")
	l.expect("b", l.out("b"), ":2")
	l.expect("order", l.do("admin", "LRANGE q 0 -1"), `["a" "b"]`)
}

// A held client that disconnects, or is killed, is forgotten; the others
// are not disturbed.
func TestPauseDisconnect(t *testing.T) {
	l := newPauseLoop(t)
	l.do("admin", "CLIENT PAUSE 100000 WRITE")
	l.send("a", "SET a 1")
	l.send("b", "SET b 1")
	l.send("c", "SET c 1")
	l.s.Unregister(l.client("a"))
	id := l.client("b").ID
	l.expect("kill", l.do("admin", "CLIENT KILL ID "+strconv.FormatUint(id, 10)), ":1")
	if l.client("b").Flags&CloseASAP == 0 {
		t.Fatal("killed client not flagged CloseASAP")
	}
	l.s.Unregister(l.client("b")) // the loop closes it
	l.expect("blocked_clients", l.info("blocked_clients"), "1")
	l.do("admin", "CLIENT UNPAUSE")
	l.turn()
	l.expect("c", l.out("c"), "+OK")
	l.expect("keys", l.do("admin", "MGET a b c"), `[(nil) (nil) "1"]`)

	// Released, then gone before the loop resumed it.
	l.do("admin", "CLIENT PAUSE 100000 WRITE")
	l.send("d", "SET d 1")
	l.do("admin", "CLIENT UNPAUSE")
	l.s.Unregister(l.client("d"))
	l.turn()
	l.expect("d", l.do("admin", "EXISTS d"), ":0")
	l.expect("blocked_clients at the end", l.info("blocked_clients"), "0")
}

// While paused, neither the active cycle nor lookups delete expired keys;
// once the pause ends they go.
func TestPauseHoldsExpiry(t *testing.T) {
	l := newPauseLoop(t)
	l.s.Config.EnableDebugCommand = "yes"
	for _, k := range []string{"a", "b", "key:0"} {
		l.do("admin", "SET "+k+" v PX 100")
	}
	l.do("admin", "CLIENT PAUSE 100000 WRITE")
	l.advance(1000)
	l.advance(1000)
	l.expect("GET", l.do("admin", "GET a"), "(nil)")
	l.expect("SCAN", l.do("admin", "SCAN 0"), `["0" []]`)
	l.expect("DBSIZE", l.do("admin", "DBSIZE"), ":3")
	l.expect("expired_keys", l.info("expired_keys"), "0")
	// DEBUG POPULATE, which runs during a WRITE pause, replaces an
	// expired key rather than adding another.
	l.expect("POPULATE", l.do("admin", "DEBUG POPULATE 2"), "+OK")
	l.expect("DBSIZE after POPULATE", l.do("admin", "DBSIZE"), ":4")
	l.do("admin", "CLIENT UNPAUSE")
	l.advance(100)
	l.expect("DBSIZE after", l.do("admin", "DBSIZE"), ":2")
	l.expect("expired_keys after", l.info("expired_keys"), "3")
}

// A blocked client waiting before the pause times out during it, as in
// Redis; CLIENT REPLY SKIP given before a held command silences it when
// it runs.
func TestPauseBlockedAndReplyMode(t *testing.T) {
	l := newPauseLoop(t)
	l.send("w", "BLPOP q 1")
	l.do("admin", "CLIENT PAUSE 100000 WRITE")
	l.advance(1100)
	l.expect("timed out", l.out("w"), "(nil-array)")

	l.send("s", "CLIENT REPLY SKIP", "SET k v", "GET k")
	l.expect("held", l.out("s"), "(no reply)")
	l.do("admin", "CLIENT UNPAUSE")
	l.turn()
	l.expect("skipped", l.out("s"), `"v"`)
}

// Without a pause, Exec's check allocates nothing.
func TestPauseNoAllocs(t *testing.T) {
	l := newPauseLoop(t)
	c := l.client("a")
	args := argv("SET", "k", "v")
	l.s.Exec(c, args)
	if n := testing.AllocsPerRun(200, func() {
		c.Out = c.Out[:0]
		l.s.Exec(c, args)
	}); n != 0 {
		t.Errorf("SET allocates %v times", n)
	}
}
