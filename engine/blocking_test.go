package engine

import (
	"strconv"
	"strings"
	"testing"
)

// blockTest drives several clients of one shard on a fake clock. Each
// client's output is read (and consumed) by out.
type blockTest struct {
	t   *testing.T
	now int64
	s   *Shard
	cs  map[string]*Client
}

func newBlockTest(t *testing.T) *blockTest {
	bt := &blockTest{t: t, now: scriptStart, cs: map[string]*Client{}}
	bt.s = newTestShard(&bt.now)
	return bt
}

func (bt *blockTest) client(name string) *Client {
	c := bt.cs[name]
	if c == nil {
		c = bt.s.NewClient()
		bt.cs[name] = c
	}
	return c
}

// do runs a command line as client name and returns what that client has
// received since its output was last read, rendered.
func (bt *blockTest) do(name, line string) string {
	bt.t.Helper()
	c := bt.client(name)
	if c.Blocked() {
		bt.t.Fatalf("%s is blocked: the loop would not run %q", name, line)
	}
	bt.s.Tick()
	bt.s.Exec(c, argv(strings.Fields(line)...))
	return bt.out(name)
}

// out renders and consumes what client name received.
func (bt *blockTest) out(name string) string {
	bt.t.Helper()
	c := bt.client(name)
	got := strings.Join(renderAll(bt.t, c.Out), " ")
	c.Out = c.Out[:0]
	return got
}

// advance moves the clock by ms and runs the cron.
func (bt *blockTest) advance(ms int64) {
	bt.now += ms
	bt.s.Cron()
}

func (bt *blockTest) expect(what string, got, want any) {
	bt.t.Helper()
	if got != want {
		bt.t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func TestBlockingServedInOrder(t *testing.T) {
	bt := newBlockTest(t)
	for _, n := range []string{"c1", "c2", "c3"} {
		bt.expect(n+" BLPOP", bt.do(n, "BLPOP q 0"), noReply)
	}
	bt.expect("INFO", strings.Contains(bt.do("p", "INFO clients"), "blocked_clients:3"), true)
	// Two elements: the first two to block get one each, in order.
	bt.expect("RPUSH", bt.do("p", "RPUSH q a b"), ":2")
	bt.expect("c1", bt.out("c1"), `["q" "a"]`)
	bt.expect("c2", bt.out("c2"), `["q" "b"]`)
	bt.expect("c3", bt.out("c3"), noReply)
	bt.expect("EXISTS", bt.do("p", "EXISTS q"), ":0")
	if len(bt.s.Unblocked) != 2 || bt.s.Unblocked[0] != bt.client("c1") || bt.s.Unblocked[1] != bt.client("c2") {
		t.Errorf("Unblocked = %v, want c1, c2", bt.s.Unblocked)
	}
	bt.expect("c3 still blocked", bt.client("c3").Blocked(), true)
	bt.expect("CLIENT LIST", strings.Contains(bt.do("p", "CLIENT LIST"), "flags=b"), true)
	bt.expect("LPUSH", bt.do("p", "LPUSH q z"), ":1")
	bt.expect("c3", bt.out("c3"), `["q" "z"]`)
	bt.expect("INFO", strings.Contains(bt.do("p", "INFO clients"), "blocked_clients:0"), true)
}

func TestBlockingShapes(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("r3", "HELLO 3")
	cases := []struct {
		block, push, want string
		left              string // what stays in the key waited on
	}{
		{"BRPOP a b 0", "RPUSH b x y", `["b" "y"]`, `["x"]`},
		{"BLMPOP 0 2 a b RIGHT COUNT 5", "RPUSH b x y", `["b" ["y" "x"]]`, `[]`},
		{"BLMPOP 0 2 a b LEFT", "RPUSH b x y", `["b" ["x"]]`, `["y"]`},
		{"BLMOVE b d RIGHT LEFT 0", "RPUSH b x y", `"y"`, `["x"]`},
		{"BRPOPLPUSH b d 0", "RPUSH b x y", `"y"`, `["x"]`},
	}
	for _, tc := range cases {
		bt.do("p", "FLUSHALL")
		bt.expect(tc.block, bt.do("c", tc.block), noReply)
		bt.do("p", tc.push)
		bt.expect(tc.block, bt.out("c"), tc.want)
		bt.expect(tc.block+" leaves", bt.do("p", "LRANGE b 0 -1"), tc.left)
	}
	bt.expect("moved", bt.do("p", "LRANGE d 0 -1"), `["y"]`)
	// Timeout replies: a null array for every list command, _ in RESP3.
	for _, cmd := range []string{"BLPOP e 1", "BRPOP e 1", "BLMOVE e d LEFT LEFT 1", "BRPOPLPUSH e d 1", "BLMPOP 1 1 e LEFT"} {
		bt.expect(cmd, bt.do("c", cmd), noReply)
		bt.expect(cmd, bt.do("r3", cmd), noReply)
		bt.advance(1000)
		bt.expect(cmd, bt.out("c"), "(nil-array)")
		bt.expect(cmd+" RESP3", bt.out("r3"), "_")
	}
}

func TestBlockingTimeouts(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("f", "BLPOP q 0") // for ever
	bt.do("c", "BLPOP q 0.5")
	bt.do("d", "BLPOP q 0.0001") // rounds up to 1 ms
	bt.expect("INFO", strings.Contains(bt.do("p", "INFO clients"), "clients_in_timeout_table:2"), true)
	bt.advance(1)
	bt.expect("1 ms", bt.out("d"), "(nil-array)")
	bt.advance(498)
	bt.expect("499 ms", bt.out("c"), noReply)
	bt.advance(1)
	bt.expect("500 ms", bt.out("c"), "(nil-array)")
	bt.advance(1e9)
	bt.expect("for ever", bt.out("f"), noReply)
	bt.expect("still blocked", bt.client("f").Blocked(), true)
	bt.do("p", "RPUSH q x")
	bt.expect("for ever", bt.out("f"), `["q" "x"]`)
	// A deadline past the int64 range waits for ever, as in Redis.
	bt.do("g", "BLPOP q 9223372036854775")
	bt.advance(1e9)
	bt.expect("huge", bt.client("g").Blocked(), true)
}

func TestBlockingUnblockAndDisconnect(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("a", "BLPOP q 0")
	bt.do("b", "BLPOP q 0")
	bt.do("c", "BLMOVE q d LEFT LEFT 0")
	id := func(n string) string { return strconv.FormatUint(bt.client(n).ID, 10) }
	bt.expect("UNBLOCK", bt.do("p", "CLIENT UNBLOCK "+id("a")), ":1")
	bt.expect("a", bt.out("a"), "(nil-array)")
	bt.expect("UNBLOCK ERROR", bt.do("p", "CLIENT UNBLOCK "+id("b")+" error"), ":1")
	bt.expect("b", bt.out("b"), "-UNBLOCKED client unblocked via CLIENT UNBLOCK")
	bt.expect("UNBLOCK again", bt.do("p", "CLIENT UNBLOCK "+id("b")+" TIMEOUT"), ":0")
	bt.expect("UNBLOCK self", bt.do("p", "CLIENT UNBLOCK "+id("p")), ":0")
	bt.expect("UNBLOCK bad", bt.do("p", "CLIENT UNBLOCK x"), "-ERR value is not an integer or out of range")
	bt.expect("UNBLOCK reason", bt.do("p", "CLIENT UNBLOCK 1 later"), "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
	// c disconnects: nobody takes what is pushed next.
	bt.s.Unregister(bt.client("c"))
	bt.expect("RPUSH", bt.do("p", "RPUSH q x"), ":1")
	bt.expect("kept", bt.do("p", "LRANGE q 0 -1"), `["x"]`)
	bt.expect("INFO", strings.Contains(bt.do("p", "INFO clients"), "blocked_clients:0"), true)
	bt.expect("waiting", len(bt.s.block.waiting), 0)
}

func TestBlockingKeyEvents(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("c", "BLPOP a b 0")
	// A string at a waited key serves nobody; LPUSH to another key neither.
	bt.do("p", "SET a str")
	bt.do("p", "RPUSH other x")
	bt.expect("not served", bt.out("c"), noReply)
	// A list renamed onto a waited key serves the client.
	bt.do("p", "RENAME other b")
	bt.expect("RENAME", bt.out("c"), `["b" "x"]`)
	bt.expect("b gone", bt.do("p", "EXISTS b"), ":0")
	// LMOVE into a waited key serves; a served BLMOVE serves the next.
	bt.do("m", "BLMOVE src mid LEFT RIGHT 0")
	bt.do("c", "BLPOP mid 0")
	bt.do("p", "RPUSH x 1")
	bt.do("p", "LMOVE x src LEFT LEFT")
	bt.expect("BLMOVE", bt.out("m"), `"1"`)
	bt.expect("chained", bt.out("c"), `["mid" "1"]`)
	bt.expect("all moved", bt.do("p", "EXISTS src mid x"), ":0")
	// A served BLMOVE whose destination is of another type gets
	// WRONGTYPE and is unblocked; the element stays.
	bt.do("p", "SET dst str")
	bt.do("m", "BLMOVE src dst LEFT LEFT 0")
	bt.do("p", "RPUSH src e")
	bt.expect("BLMOVE wrongtype", bt.out("m"), "-"+errWrongType)
	bt.expect("element stays", bt.do("p", "LRANGE src 0 -1"), `["e"]`)
	bt.expect("unblocked", bt.client("m").Blocked(), false)
	// A read of the waited key changes nothing; the push serves.
	bt.do("p", "DEL src")
	bt.do("c", "BLPOP k 0")
	bt.do("p", "LLEN k")
	bt.expect("read", bt.out("c"), noReply)
	bt.do("p", "RPUSH k v")
	bt.expect("served once", bt.out("c"), `["k" "v"]`)
	// The same key twice waits once.
	bt.do("c", "BLPOP z z 0")
	bt.expect("waiters", len(bt.s.block.waiting["z"]), 1)
	bt.do("p", "RPUSH z 1 2")
	bt.expect("twice", bt.out("c"), `["z" "1"]`)
	bt.expect("left", bt.do("p", "LRANGE z 0 -1"), `["2"]`)
}

func TestBlockingErrors(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("p", "SET s v")
	for _, tc := range []struct{ cmd, want string }{
		{"BLPOP a -1", "-ERR timeout is negative"},
		{"BLPOP a abc", "-ERR timeout is not a float or out of range"},
		{"BLPOP a inf", "-ERR timeout is negative"},
		{"BLPOP a nan", "-ERR timeout is not a float or out of range"},
		{"BLPOP a 1e300", "-ERR timeout is negative"},
		{"BLPOP a 9223372036854776", "-ERR timeout is negative"},
		{"BLPOP a 9223372036854775807", "-ERR timeout is negative"},
		{"BLPOP s 0", "-" + errWrongType},
		{"BLPOP a s 0", "-" + errWrongType},
		{"BLMPOP 0.01 0 a left", "-ERR numkeys should be greater than 0"},
		{"BLMPOP x 0 a left", "-ERR numkeys should be greater than 0"},
		{"BLMPOP x 1 a left", "-ERR timeout is not a float or out of range"},
		{"BLMPOP 0 1 a middle", "-ERR syntax error"},
		{"BLMPOP 0 1 a left count 0", "-ERR count should be greater than 0"},
		{"BLMOVE a b up left 0", "-ERR syntax error"},
		{"BLMOVE a b left left -1", "-ERR timeout is negative"},
		{"BRPOPLPUSH a b x", "-ERR timeout is not a float or out of range"},
		{"BLMOVE s b left left 0", "-" + errWrongType},
	} {
		bt.expect(tc.cmd, bt.do("c", tc.cmd), tc.want)
	}
	bt.expect("nothing blocked", bt.s.BlockedClients(), 0)
}

// TestBlockingAllocs: a BLPOP that finds data allocates nothing.
func TestBlockingAllocs(t *testing.T) {
	lt := newListTest(t)
	lt.exec("RPUSH", "q", "a", "b")
	pop, push := argv("BLPOP", "q", "0"), argv("RPUSH", "q", "a")
	run := func() {
		lt.c.Out = lt.c.Out[:0]
		lt.s.Exec(lt.c, pop)
		lt.s.Exec(lt.c, push)
	}
	run()
	if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
		t.Errorf("BLPOP with data: %v allocations per run", allocs)
	}
}

// BenchmarkBlockedServe is one wait and one serve: BLPOP on an empty list,
// then another client's RPUSH that hands it the element.
func BenchmarkBlockedServe(b *testing.B) {
	s := NewShard(nil)
	waiter, pusher := s.NewClient(), s.NewClient()
	pop, push := argv("BLPOP", "q", "0"), argv("RPUSH", "q", "x")
	b.ReportAllocs()
	for b.Loop() {
		waiter.Out, pusher.Out = waiter.Out[:0], pusher.Out[:0]
		s.Exec(waiter, pop)
		s.Exec(pusher, push)
		if waiter.Blocked() {
			b.Fatal("not served")
		}
		s.Unblocked = s.Unblocked[:0]
		s.Pending = s.Pending[:0]
		waiter.Dequeued()
		pusher.Dequeued()
	}
}
