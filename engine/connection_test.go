package engine

import (
	"bufio"
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shoal/resp"
)

// exec runs one command line for c and returns its reply, parsed.
func exec(t *testing.T, s *Shard, c *Client, args ...string) resp.Value {
	t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.Tick()
	c.Out = c.Out[:0]
	s.Exec(c, argv)
	v, err := resp.ReadReply(bufio.NewReader(bytes.NewReader(c.Out)))
	if err != nil {
		t.Fatalf("%v: unreadable reply %q: %v", args, c.Out, err)
	}
	return v
}

// execLine is exec rendered as the scripts render replies.
func execLine(t *testing.T, s *Shard, c *Client, args ...string) string {
	t.Helper()
	v := exec(t, s, c, args...)
	return renderReply(&v)
}

func newClientAt(s *Shard, addr, laddr string) *Client {
	c := s.NewClient()
	c.Addr, c.LAddr = addr, laddr
	return c
}

func TestHelloShapes(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	id := strconv.FormatUint(c.ID, 10)
	want := func(proto string) string {
		return `"server" "redis" "version" "` + RedisVersion + `" "proto" :` + proto +
			` "id" :` + id + ` "mode" "standalone" "role" "master" "modules" []`
	}
	tests := []struct {
		args  []string
		reply string
		resp3 bool
		name  string
	}{
		{[]string{"HELLO"}, "[" + want("2") + "]", false, ""},
		{[]string{"HELLO", "3"}, `{"server": "redis", "version": "` + RedisVersion + `", "proto": :3, "id": :` + id +
			`, "mode": "standalone", "role": "master", "modules": []}`, true, ""},
		{[]string{"HELLO"}, "", true, ""},
		{[]string{"HELLO", "4"}, "-NOPROTO unsupported protocol version", true, ""},
		{[]string{"HELLO", "2", "SETNAME", "x", "FOO"}, "-ERR Syntax error in HELLO option 'FOO'", true, ""},
		{[]string{"HELLO", "2", "AUTH", "default", "any", "SETNAME", "app"}, "[" + want("2") + "]", false, "app"},
		{[]string{"HELLO", "3", "AUTH", "bob", "pw"}, "-WRONGPASS invalid username-password pair or user is disabled.", false, "app"},
		{[]string{"HELLO", "3", "setname", "a", "SETNAME", "b"}, "", true, "b"},
		{[]string{"HELLO", "2", "SETNAME", ""}, "[" + want("2") + "]", false, ""},
	}
	for _, tt := range tests {
		got := execLine(t, s, c, tt.args...)
		if tt.reply != "" && got != tt.reply {
			t.Errorf("%v:\n got %s\nwant %s", tt.args, got, tt.reply)
		}
		if c.Resp3 != tt.resp3 || c.name != tt.name {
			t.Errorf("%v: resp3=%v name=%q, want %v %q", tt.args, c.Resp3, c.name, tt.resp3, tt.name)
		}
	}
	// The RESP3 reply is a map: check its encoding, not only its rendering.
	c.Resp3 = false
	exec(t, s, c, "HELLO", "3")
	if !bytes.HasPrefix(c.Out, []byte("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")) ||
		!bytes.HasSuffix(c.Out, []byte("$7\r\nmodules\r\n*0\r\n")) {
		t.Errorf("HELLO 3 reply %q", c.Out)
	}
}

// clientLines splits a CLIENT LIST reply into its lines' fields.
func clientLines(t *testing.T, v resp.Value) []map[string]string {
	t.Helper()
	text := string(v.Str)
	if text != "" && !strings.HasSuffix(text, "\n") {
		t.Fatalf("client list %q does not end with a newline", text)
	}
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := map[string]string{}
		for _, kv := range strings.Split(line, " ") {
			k, val, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("field %q of line %q", kv, line)
			}
			f[k] = val
		}
		out = append(out, f)
	}
	return out
}

func ids(lines []map[string]string) string {
	var b []string
	for _, l := range lines {
		b = append(b, l["id"])
	}
	return strings.Join(b, ",")
}

func TestClientListAndInfo(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	a := newClientAt(s, "127.0.0.1:5001", "127.0.0.1:6379")
	b := newClientAt(s, "10.0.0.2:5002", "10.0.0.1:6379")
	c := newClientAt(s, "[::1]:5003", "[::1]:6379")
	a.FD, b.FD, c.FD = 7, 8, 9
	now += 3000
	exec(t, s, b, "CLIENT", "SETNAME", "worker")
	exec(t, s, b, "CLIENT", "SETINFO", "LIB-NAME", "go-redis")
	exec(t, s, b, "CLIENT", "SETINFO", "lib-ver", "9.5.1")
	exec(t, s, b, "CLIENT", "NO-EVICT", "on")
	now += 2000

	lines := clientLines(t, exec(t, s, a, "CLIENT", "LIST"))
	if got := ids(lines); got != "1,2,3" {
		t.Fatalf("CLIENT LIST ids %s", got)
	}
	wantOrder := []string{"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
		"psub", "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp",
		"obl", "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver"}
	v := exec(t, s, a, "CLIENT", "INFO")
	var keys []string
	for _, kv := range strings.Fields(string(v.Str)) {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	if strings.Join(keys, " ") != strings.Join(wantOrder, " ") {
		t.Errorf("CLIENT INFO fields:\n got %v\nwant %v", keys, wantOrder)
	}
	checks := []struct {
		line  map[string]string
		field string
		want  string
	}{
		{lines[0], "addr", "127.0.0.1:5001"},
		{lines[0], "laddr", "127.0.0.1:6379"},
		{lines[0], "fd", "7"},
		{lines[0], "cmd", "client|list"},
		{lines[0], "age", "5"},
		{lines[0], "idle", "0"},
		{lines[0], "flags", "N"},
		{lines[1], "name", "worker"},
		{lines[1], "flags", "e"},
		{lines[1], "lib-name", "go-redis"},
		{lines[1], "lib-ver", "9.5.1"},
		{lines[1], "idle", "2"},
		{lines[1], "cmd", "client|no-evict"},
		{lines[2], "addr", "[::1]:5003"},
		{lines[2], "cmd", "NULL"},
		{lines[2], "idle", "5"},
		{lines[2], "user", "default"},
		{lines[2], "resp", "2"},
	}
	for _, ck := range checks {
		if ck.line[ck.field] != ck.want {
			t.Errorf("client %s: %s=%q, want %q", ck.line["id"], ck.field, ck.line[ck.field], ck.want)
		}
	}

	if got := ids(clientLines(t, exec(t, s, a, "CLIENT", "LIST", "ID", "3", "1", "3", "99", "-1"))); got != "3,1,3" {
		t.Errorf("CLIENT LIST ID 3 1 3 99 -1 gave %s", got)
	}
	if got := ids(clientLines(t, exec(t, s, a, "CLIENT", "LIST", "TYPE", "Normal"))); got != "1,2,3" {
		t.Errorf("CLIENT LIST TYPE normal gave %s", got)
	}
	if got := exec(t, s, a, "CLIENT", "LIST", "TYPE", "pubsub"); string(got.Str) != "" {
		t.Errorf("CLIENT LIST TYPE pubsub gave %q", got.Str)
	}
	exec(t, s, c, "HELLO", "3")
	v = exec(t, s, c, "CLIENT", "INFO")
	if v.Type != resp.TypeVerbatim || v.Format != "txt" || !strings.Contains(string(v.Str), " resp=3 ") {
		t.Errorf("CLIENT INFO in RESP3: %s", renderReply(&v))
	}
	if v = exec(t, s, c, "CLIENT", "LIST"); v.Type != resp.TypeVerbatim || len(clientLines(t, v)) != 3 {
		t.Errorf("CLIENT LIST in RESP3: %s", renderReply(&v))
	}
	if got := execLine(t, s, c, "CLIENT", "ID"); got != ":3" {
		t.Errorf("CLIENT ID = %s", got)
	}
}

func TestClientKill(t *testing.T) {
	type setup struct {
		s                *Shard
		me, peer1, peer2 *Client
	}
	mk := func() setup {
		now := scriptStart
		s := newTestShard(&now)
		return setup{s,
			newClientAt(s, "127.0.0.1:5001", "127.0.0.1:6379"),
			newClientAt(s, "127.0.0.1:5002", "127.0.0.1:6379"),
			newClientAt(s, "10.0.0.9:5003", "10.0.0.1:6379")}
	}
	tests := []struct {
		args   []string
		reply  string
		killed []int // which of me, peer1, peer2 must be closed
	}{
		{[]string{"127.0.0.1:5002"}, "+OK", []int{1}},
		{[]string{"127.0.0.1:9999"}, "-ERR No such client", nil},
		{[]string{"127.0.0.1:5001"}, "+OK", []int{0}}, // the old form may kill the caller
		{[]string{"ADDR", "10.0.0.9:5003"}, ":1", []int{2}},
		{[]string{"ADDR", "127.0.0.1:5001"}, ":0", nil}, // SKIPME yes by default
		{[]string{"ADDR", "127.0.0.1:5001", "SKIPME", "no"}, ":1", []int{0}},
		{[]string{"LADDR", "127.0.0.1:6379"}, ":1", []int{1}},
		{[]string{"LADDR", "127.0.0.1:6379", "SKIPME", "NO"}, ":2", []int{0, 1}},
		{[]string{"ID", "3"}, ":1", []int{2}},
		{[]string{"ID", "1"}, ":0", nil},
		{[]string{"ID", "2", "ADDR", "10.0.0.9:5003"}, ":0", nil},
		{[]string{"TYPE", "normal"}, ":2", []int{1, 2}},
		{[]string{"TYPE", "master"}, ":0", nil},
		{[]string{"USER", "default", "SKIPME", "no"}, ":3", []int{0, 1, 2}},
		{[]string{"USER", "nobody"}, "-ERR No such user 'nobody'", nil},
		{[]string{"ID", "2", "TYPE", "bogus"}, "-ERR Unknown client type 'bogus'", nil},
	}
	for _, tt := range tests {
		st := mk()
		clients := []*Client{st.me, st.peer1, st.peer2}
		got := execLine(t, st.s, st.me, append([]string{"CLIENT", "KILL"}, tt.args...)...)
		if got != tt.reply {
			t.Errorf("CLIENT KILL %v = %s, want %s", tt.args, got, tt.reply)
		}
		for i, cl := range clients {
			want := false
			for _, k := range tt.killed {
				want = want || k == i
			}
			closing := cl.Flags&(CloseASAP|CloseAfterReply) != 0
			if closing != want {
				t.Errorf("CLIENT KILL %v: client %d closing=%v, want %v", tt.args, cl.ID, closing, want)
			}
			switch {
			case i == 0 && want && (cl.Flags&CloseASAP != 0 || cl.Flags&CloseAfterReply == 0):
				t.Errorf("CLIENT KILL %v: the caller must get its reply, then close (flags %b)", tt.args, cl.Flags)
			case i > 0 && want && cl.Flags&CloseASAP == 0:
				t.Errorf("CLIENT KILL %v: client %d not flagged CloseASAP", tt.args, cl.ID)
			}
			queued := false
			for _, p := range st.s.Pending {
				queued = queued || p == cl
			}
			if want && !queued {
				t.Errorf("CLIENT KILL %v: client %d not queued for the loop", tt.args, cl.ID)
			}
		}
	}

	// A killed client is no longer listed nor killed again.
	st := mk()
	exec(t, st.s, st.me, "CLIENT", "KILL", "127.0.0.1:5002")
	if got := execLine(t, st.s, st.me, "CLIENT", "KILL", "127.0.0.1:5002"); got != "-ERR No such client" {
		t.Errorf("second kill: %s", got)
	}
	if got := ids(clientLines(t, exec(t, st.s, st.me, "CLIENT", "LIST"))); got != "1,3" {
		t.Errorf("CLIENT LIST after kill: %s", got)
	}
	if got := ids(clientLines(t, exec(t, st.s, st.me, "CLIENT", "LIST", "ID", "2", "3"))); got != "3" {
		t.Errorf("CLIENT LIST ID after kill: %s", got)
	}
	if got := execLine(t, st.s, st.me, "CLIENT", "KILL", "TYPE", "normal"); got != ":1" {
		t.Errorf("CLIENT KILL TYPE normal after kill: %s", got)
	}
}

func TestResetAndQuit(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	for _, cmd := range [][]string{
		{"HELLO", "3", "SETNAME", "app"},
		{"CLIENT", "NO-EVICT", "on"},
		{"CLIENT", "SETINFO", "lib-name", "jedis"},
		{"CLIENT", "SETINFO", "lib-ver", "5.1"},
	} {
		exec(t, s, c, cmd...)
	}
	if got := execLine(t, s, c, "RESET"); got != "+RESET" {
		t.Fatalf("RESET = %s", got)
	}
	line := clientLines(t, exec(t, s, c, "CLIENT", "INFO"))[0]
	// CLIENT NO-EVICT survives RESET in Redis 7.0.15 (flags=e after it).
	for k, want := range map[string]string{"name": "", "flags": "e", "resp": "2", "db": "0",
		"lib-name": "jedis", "lib-ver": "5.1"} {
		if line[k] != want {
			t.Errorf("after RESET %s=%q, want %q", k, line[k], want)
		}
	}
	if c.Resp3 || c.Flags != 0 {
		t.Errorf("after RESET resp3=%v flags=%b", c.Resp3, c.Flags)
	}
	if got := execLine(t, s, c, "QUIT"); got != "+OK" || c.Flags&CloseAfterReply == 0 {
		t.Errorf("QUIT = %s, flags %b", got, c.Flags)
	}
}

func TestClientHelpFollowsTable(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	v := exec(t, s, c, "CLIENT", "HELP")
	var text []string
	for _, e := range v.Elems {
		text = append(text, string(e.Str))
	}
	all := strings.Join(text, "\n")
	for _, sub := range s.cmds.byName["client"].Subs {
		if !strings.Contains(all, "\n"+strings.ToUpper(sub.Name)) {
			t.Errorf("CLIENT HELP does not describe %s", sub.Name)
		}
	}
	if strings.Contains(all, "NO-TOUCH") {
		t.Errorf("CLIENT HELP describes a subcommand the table lacks:\n%s", all)
	}
}

func TestIsLocalAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:6379": true, "[::1]:6379": true, "/tmp/redis.sock:0": true,
		"127.0.0.2:6379": false, "10.0.0.1:6379": false, "[::2]:1": false, "": false,
	} {
		if got := isLocalAddr(addr); got != want {
			t.Errorf("isLocalAddr(%q) = %v", addr, got)
		}
	}
}

func TestConnectionAllocs(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	c.Out = make([]byte, 0, 4096)
	for _, args := range [][]string{{"PING"}, {"PING", "hello"}, {"ECHO", "hello world"}, {"CLIENT", "ID"}, {"SELECT", "0"}, {"AUTH", "default", "secret"}, {"LASTSAVE"}} {
		argv := make([][]byte, len(args))
		for i, a := range args {
			argv[i] = []byte(a)
		}
		n := testing.AllocsPerRun(200, func() {
			c.Out = c.Out[:0]
			s.Exec(c, argv)
			s.Pending = s.Pending[:0]
			c.Dequeued()
		})
		if n != 0 {
			t.Errorf("%v allocates %.1f times per call", args, n)
		}
	}
}

func BenchmarkPing(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	c.Out = make([]byte, 0, 4096)
	argv := [][]byte{[]byte("PING")}
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, argv)
		s.Pending = s.Pending[:0]
		c.Dequeued()
	}
}

func BenchmarkEcho(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	c.Out = make([]byte, 0, 4096)
	argv := [][]byte{[]byte("ECHO"), bytes.Repeat([]byte("x"), 64)}
	b.ReportAllocs()
	b.SetBytes(64)
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, argv)
		s.Pending = s.Pending[:0]
		c.Dequeued()
	}
}

func BenchmarkClientList(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	var c *Client
	for i := 0; i < 100; i++ {
		c = newClientAt(s, "127.0.0.1:"+strconv.Itoa(10000+i), "127.0.0.1:6379")
	}
	argv := [][]byte{[]byte("CLIENT"), []byte("LIST")}
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, argv)
		s.Pending = s.Pending[:0]
		c.Dequeued()
	}
}

// FuzzConnectionCommands runs arbitrary arguments through the connection
// and server families' parsers (one command per input, arguments split at
// newlines): no panic, exactly one well-formed reply (none for a SHUTDOWN
// that stops), and a client name, library name and version that always
// keep CLIENT LIST parseable.
func FuzzConnectionCommands(f *testing.F) {
	seeds := []string{
		"CLIENT\nKILL\nID\n2\nSKIPME\nno",
		"CLIENT\nKILL\n127.0.0.1:5002",
		"CLIENT\nLIST\nID\n1\n2\n3",
		"CLIENT\nSETNAME\nfoo",
		"CLIENT\nSETINFO\nlib-name\nx y",
		"HELLO\n3\nAUTH\ndefault\npw\nSETNAME\napp",
		"SELECT\n-2147483649",
		"CONFIG\nGET\n*a*\nhz",
		"CONFIG\nSET\nhz\n100\ntimeout\n5",
		"INFO\nall\nserver",
		"SHUTDOWN\nNOW\nABORT",
		"FLUSHALL\nASYNC",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	names := []string{"ping", "echo", "hello", "select", "quit", "reset", "client", "info",
		"config", "time", "dbsize", "flushdb", "flushall", "shutdown"}
	f.Fuzz(func(t *testing.T, in []byte) {
		argv := bytes.Split(in, []byte("\n"))
		if len(argv) > 16 || !slices.ContainsFunc(names, func(n string) bool { return eqFold(argv[0], n) }) {
			return
		}
		if eqFold(argv[0], "config") && len(argv) > 1 && eqFold(argv[1], "set") {
			for _, a := range argv[2:] {
				if p := findParam(string(a)); p != nil && (p.apply != nil || p.protected) {
					return // hooks with effects outside the shard
				}
			}
		}
		now := scriptStart
		s := newTestShard(&now)
		c := newClientAt(s, "127.0.0.1:5001", "127.0.0.1:6379")
		newClientAt(s, "127.0.0.1:5002", "127.0.0.1:6379")
		s.Exec(c, argv)
		if s.Stats.UnexpectedErrors != 0 {
			t.Fatalf("%q panicked", argv)
		}
		if len(c.Out) == 0 && s.ShutdownAsked() {
			return
		}
		r := bufio.NewReader(bytes.NewReader(c.Out))
		if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
			t.Fatalf("%q: bad reply %q: %v", argv, c.Out, err)
		}
		for _, v := range []string{c.name, c.libName, c.libVer} {
			if !validClientAttr([]byte(v)) {
				t.Fatalf("%q left a client attribute %q", argv, v)
			}
		}
	})
}
