package engine

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/cluster"
	"shoal/resp"
)

// Data-driven command tests. Each file in testdata/scripts holds blocks:
//
//	# a comment
//	run [resp3] [cluster] [shoal]
//	SET foo bar
//	GET foo
//	----
//	+OK
//	"bar"
//
// Every block runs on a fresh shard (a fresh connection to redis with
// -redis) and a client in RESP2 (resp3: after HELLO 3). A cluster block
// runs on a shard in cluster mode whose configuration is
// testdata/cluster/nodes.conf: three nodes at 127.0.0.1:30001-30003
// splitting the slots as redis-cli --cluster create does, this shard the
// first (slots 0-5460). Each command line
// is split as redis-cli would (quotes, \x escapes) and its reply rendered
// on one line by renderReply. Directives inside a block:
//
//	sleep 1500      advance the shard's clock by 1500 ms (real sleep with -redis),
//	                ending a client pause that ran out as the cron would
//	client 2        the following commands come from a second client
//	                (a command held by CLIENT PAUSE or a blocking one
//	                shows "(no reply)"; its reply comes with read)
//	read            the current client's output not yet read: messages
//	                published to it, further replies of a command that
//	                sent several (nothing when there is none)
//	mask 0 1 2 4    the next command's reply is an array of arrays (as
//	                SLOWLOG GET's): elements 0, 1, 2 and 4 of each show as
//	                *, for what differs from run to run (ids, times,
//	                durations, client addresses)
//	redact REGEXP   in every reply of the block (as rendered), what REGEXP
//	                matches is replaced by "*", or by TEXT with
//	redact REGEXP => TEXT  (regexp.Expand's $1 and the like, may be
//	                empty): for what changes from run to run (times,
//	                measured latencies, the order of Redis's hash tables),
//	                so that the rest of the reply is still compared
//
// An argument $idN is the client id of client N (opened if need be), for
// commands naming another client (CLIENT TRACKING ... REDIRECT $id2).
// Shoal's ids in a block are 1, 2, ... in the order the clients open; with
// -redis, an integer in a reply equal to a real id of the block's clients
// is shown as that number in the replies of CLIENT and HELLO and in
// pushes. After each command the shard ends its loop
// turn (Shard.TrackingTurn), as the loop does between reads.
//
// -rewrite writes the replies Shoal gives as the expected output. -redis
// ADDR runs every block not marked "shoal" or "cluster" against a real
// redis-server (flushed before each block) and compares its replies with
// the file: that is how the expectations are checked against Redis
// itself. -redis-cluster ADDR does the same for the cluster blocks, ADDR
// being the node serving slots 0-5460 of a real three-node Redis Cluster
// made by redis-cli --cluster create (its nodes split the slots as the
// fixture's do). The real cluster's node ids, ports and bus ports are
// replaced by the fixture's in its replies before they are compared.
var (
	rewrite          = flag.Bool("rewrite", false, "rewrite testdata/scripts expectations from Shoal's replies")
	redisAddr        = flag.String("redis", "", "check the expectations against the redis-server at this address instead of Shoal")
	redisClusterAddr = flag.String("redis-cluster", "", "check the cluster blocks' expectations against this node of a real Redis Cluster")
)

// clusterFixture is the configuration of the cluster blocks' shard.
const clusterFixture = "testdata/cluster/nodes.conf"

func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/scripts/*.txt")
	if len(files) == 0 {
		t.Fatal("no scripts")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) { runScriptFile(t, f) })
	}
}

type scriptBlock struct {
	line     int
	args     []string
	cmds     []string
	expected []string
}

func parseScript(t *testing.T, data string) (blocks []*scriptBlock, between [][]string) {
	lines := strings.Split(data, "\n")
	var cur *scriptBlock
	var pre []string
	inExpect := false
	for i, l := range lines {
		switch {
		case cur == nil && strings.HasPrefix(l, "run"):
			cur = &scriptBlock{line: i + 1, args: strings.Fields(l)[1:]}
			between = append(between, pre)
			pre = nil
		case cur == nil:
			pre = append(pre, l)
		case !inExpect && l == "----":
			inExpect = true
		case !inExpect:
			cur.cmds = append(cur.cmds, l)
		case l == "":
			blocks = append(blocks, cur)
			cur, inExpect = nil, false
			pre = append(pre, l)
		default:
			cur.expected = append(cur.expected, l)
		}
	}
	if cur != nil {
		blocks = append(blocks, cur)
	}
	between = append(between, pre)
	return blocks, between
}

func runScriptFile(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, between := parseScript(t, string(data))
	againstRedis := *redisAddr != "" || *redisClusterAddr != ""
	for _, b := range blocks {
		addr := *redisAddr
		if hasArg(b.args, "cluster") {
			addr = *redisClusterAddr
		}
		if againstRedis && (addr == "" || hasArg(b.args, "shoal")) {
			continue
		}
		var got []string
		if againstRedis {
			got = runBlockRedis(t, b, addr)
		} else {
			got = runBlock(t, b)
		}
		if *rewrite {
			b.expected = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(b.expected, "\n") {
			t.Errorf("%s:%d:\ncommands:\n  %s\nexpected:\n  %s\ngot:\n  %s", path, b.line,
				strings.Join(b.cmds, "\n  "), strings.Join(b.expected, "\n  "), strings.Join(got, "\n  "))
		}
	}
	if *rewrite {
		var out strings.Builder
		for i, b := range blocks {
			for _, l := range between[i] {
				out.WriteString(l + "\n")
			}
			out.WriteString(strings.Join(append([]string{"run"}, b.args...), " ") + "\n")
			for _, c := range b.cmds {
				out.WriteString(c + "\n")
			}
			out.WriteString("----\n")
			for _, e := range b.expected {
				out.WriteString(e + "\n")
			}
		}
		for _, l := range between[len(blocks)] {
			out.WriteString(l + "\n")
		}
		if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

// scriptStart is the fake clock's start in scripts: a fixed instant, so
// absolute times in replies are stable.
const scriptStart = int64(1_700_000_000_000)

// newTestShard makes a shard on a fake clock for tests.
func newTestShard(now *int64) *Shard {
	s := NewShard(nil)
	s.clock = func() int64 { return *now }
	s.Tick()
	return s
}

// newClusterTestShard makes a shard in cluster mode on a fake clock, with
// the cluster of testdata/cluster/nodes.conf.
func newClusterTestShard(t testing.TB, now *int64) *Shard {
	data, err := os.ReadFile(clusterFixture)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := cluster.ParseNodesConf(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Port = conf.Myself().Port
	cfg.ClusterEnabled, cfg.Cluster = true, conf
	s := NewShard(cfg)
	s.clock = func() int64 { return *now }
	s.Tick()
	return s
}

func runBlock(t *testing.T, b *scriptBlock) []string {
	now := scriptStart
	var s *Shard
	if hasArg(b.args, "cluster") {
		s = newClusterTestShard(t, &now)
	} else {
		s = newTestShard(&now)
	}
	s.Config.EnableDebugCommand = "yes" // scripts use DEBUG: run redis-server with --enable-debug-command yes for -redis
	clients := map[string]*Client{"1": s.NewClient()}
	c := clients["1"]
	var got []string
	var mask []int
	var red redactions
	defer func() { red.apply(got) }()
	if hasArg(b.args, "resp3") {
		s.Exec(c, [][]byte{[]byte("HELLO"), []byte("3")})
		c.Out = c.Out[:0]
	}
	for _, line := range b.cmds {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "sleep":
			ms, _ := strconv.ParseInt(f[1], 10, 64)
			now += ms
			// A client pause that ran out ends at the next cron tick.
			s.Tick()
			s.pauseCron()
			resumeAll(s)
			continue
		case len(f) > 1 && f[0] == "mask":
			mask = parseMask(t, f[1:])
			continue
		case len(f) == 2 && f[0] == "client":
			if clients[f[1]] == nil {
				clients[f[1]] = s.NewClient()
			}
			c = clients[f[1]]
			continue
		case len(f) >= 2 && f[0] == "redact":
			red.add(t, line)
			continue
		case len(f) == 1 && f[0] == "read":
			if len(c.Out) > 0 {
				got = append(got, renderAll(t, c.Out)...)
			}
			c.Out = c.Out[:0]
			continue
		}
		args, err := resp.SplitArgs([]byte(line))
		if err != nil || len(args) == 0 {
			t.Fatalf("bad command line %q: %v", line, err)
		}
		for i, a := range args {
			if name, ok := bytes.CutPrefix(a, []byte("$id")); ok && len(name) > 0 {
				if clients[string(name)] == nil {
					clients[string(name)] = s.NewClient()
				}
				args[i] = strconv.AppendUint(nil, clients[string(name)].ID, 10)
			}
		}
		s.Tick()
		c.Out = c.Out[:0]
		s.Exec(c, args)
		resumeAll(s)
		s.TrackingTurn()
		got = append(got, renderMasked(t, c.Out, mask)...)
		mask = nil
		c.Out = c.Out[:0] // rendered; what others publish to c comes after
	}
	return got
}

// parseMask reads the element positions of a mask directive.
func parseMask(t *testing.T, f []string) []int {
	var mask []int
	for _, x := range f {
		i, err := strconv.Atoi(x)
		if err != nil {
			t.Fatalf("bad mask %q", strings.Join(f, " "))
		}
		mask = append(mask, i)
	}
	return mask
}

// maskedType marks an element a mask directive hid; renderReply shows it
// as *.
const maskedType = 0

// maskReply hides elements mask of each array in the array v.
func maskReply(v *resp.Value, mask []int) {
	for i := range v.Elems {
		e := &v.Elems[i]
		for _, j := range mask {
			if j < len(e.Elems) {
				e.Elems[j] = resp.Value{Type: maskedType}
			}
		}
	}
}

// renderMasked is renderAll with every reply's elements hidden as mask
// says (none when mask is nil).
func renderMasked(t testing.TB, out []byte, mask []int) []string {
	if mask == nil || len(out) == 0 {
		return renderAll(t, out)
	}
	var lines []string
	r := bufio.NewReader(bytes.NewReader(out))
	for r.Buffered() > 0 || len(lines) == 0 {
		v, err := resp.ReadReply(r)
		if err != nil {
			t.Fatalf("unreadable reply %q: %v", out, err)
		}
		maskReply(&v, mask)
		lines = append(lines, renderReply(&v))
	}
	return lines
}

// resumeAll does what the loop does after a command: it runs the
// commands a pause held, for the clients it released (Shard.Resume).
func resumeAll(s *Shard) {
	for len(s.Unblocked) > 0 {
		u := s.Unblocked[0]
		s.Unblocked = s.Unblocked[1:]
		s.Resume(u)
	}
}

// noReply stands for a command that sent nothing (CLIENT REPLY OFF).
const noReply = "(no reply)"

// renderAll renders every reply in out (a command may write more than
// one, as SUBSCRIBE does), each on its own line.
func renderAll(t testing.TB, out []byte) []string {
	if len(out) == 0 {
		return []string{noReply}
	}
	var lines []string
	r := bufio.NewReader(bytes.NewReader(out))
	for {
		v, err := resp.ReadReply(r)
		if err != nil {
			if r.Buffered() > 0 || len(lines) == 0 {
				t.Fatalf("unreadable reply %q: %v", out, err)
			}
			return lines
		}
		lines = append(lines, renderReply(&v))
		if r.Buffered() == 0 {
			return lines
		}
	}
}

func runBlockRedis(t *testing.T, b *scriptBlock, addr string) []string {
	conns := map[string]net.Conn{}
	readers := map[string]*bufio.Reader{}
	realIDs := map[string]int64{} // client name -> its id in redis
	shownID := map[int64]int64{}  // redis's id -> the id Shoal would give
	dial := func(id string) {
		conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns[id], readers[id] = conn, bufio.NewReader(conn)
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write([]byte("*2\r\n$6\r\nCLIENT\r\n$2\r\nID\r\n"))
		v, err := resp.ReadReply(readers[id])
		if err != nil || v.Type != resp.TypeInt {
			t.Fatalf("CLIENT ID: %v %v", v, err)
		}
		realIDs[id] = v.Int
		shownID[v.Int] = int64(len(conns))
	}
	render := func(v *resp.Value, ids bool) string {
		if !ids {
			return renderReply(v)
		}
		var walk func(v *resp.Value)
		walk = func(v *resp.Value) {
			if n, ok := shownID[v.Int]; ok && v.Type == resp.TypeInt {
				v.Int = n
			}
			for i := range v.Elems {
				walk(&v.Elems[i])
			}
		}
		walk(v)
		return renderReply(v)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial("1")
	// Every client the block names is connected, and its id read, before
	// the first command runs: a CLIENT PAUSE in the block would hold the
	// CLIENT ID of a connection made later.
	for _, line := range b.cmds {
		for i, w := range strings.Fields(line) {
			name, ok := strings.CutPrefix(w, "$id")
			if i == 1 && strings.HasPrefix(line, "client ") {
				name, ok = w, true
			}
			if ok && name != "" && conns[name] == nil {
				dial(name)
			}
		}
	}
	id := "1"
	var mask []int
	do := func(args [][]byte) []string {
		var buf []byte
		buf = resp.AppendArrayLen(buf, len(args))
		for _, a := range args {
			buf = resp.AppendBulk(buf, a)
		}
		conns[id].SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conns[id].Write(buf); err != nil {
			t.Fatal(err)
		}
		// A command may send nothing (CLIENT REPLY OFF): what does not
		// come within a short wait counts as no reply.
		conns[id].SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := readers[id].Peek(1); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return []string{noReply}
			}
			t.Fatal(err)
		}
		conns[id].SetReadDeadline(time.Now().Add(5 * time.Second))
		v, err := resp.ReadReply(readers[id])
		if err != nil {
			t.Fatal(err)
		}
		maskReply(&v, mask)
		ids := len(args) > 0 && (bytes.EqualFold(args[0], []byte("client")) || bytes.EqualFold(args[0], []byte("hello")))
		return []string{render(&v, ids || v.Type == resp.TypePush)}
	}
	if hasArg(b.args, "cluster") {
		fixture := fixtureReplacer(t, do([][]byte{[]byte("CLUSTER"), []byte("NODES")})[0])
		plain := do
		do = func(args [][]byte) []string {
			got := plain(args)
			for i := range got {
				got[i] = fixture.Replace(got[i])
			}
			return got
		}
	}
	do([][]byte{[]byte("FLUSHALL")})
	do([][]byte{[]byte("FUNCTION"), []byte("FLUSH")}) // FLUSHALL leaves the libraries
	if hasArg(b.args, "resp3") {
		do([][]byte{[]byte("HELLO"), []byte("3")})
	}
	var got []string
	var red redactions
	defer func() { red.apply(got) }()
	for _, line := range b.cmds {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "sleep":
			ms, _ := strconv.ParseInt(f[1], 10, 64)
			time.Sleep(time.Duration(ms) * time.Millisecond)
			continue
		case len(f) > 1 && f[0] == "mask":
			mask = parseMask(t, f[1:])
			continue
		case len(f) >= 2 && f[0] == "redact":
			red.add(t, line)
			continue
		case len(f) == 2 && f[0] == "client":
			if conns[f[1]] == nil {
				dial(f[1])
			}
			id = f[1]
			continue
		case len(f) == 1 && f[0] == "read":
			for {
				conns[id].SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				if _, err := readers[id].Peek(1); err != nil {
					break
				}
				v, err := resp.ReadReply(readers[id])
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, render(&v, v.Type == resp.TypePush))
			}
			continue
		}
		args, _ := resp.SplitArgs([]byte(line))
		for i, a := range args {
			if name, ok := bytes.CutPrefix(a, []byte("$id")); ok && len(name) > 0 {
				if conns[string(name)] == nil {
					dial(string(name))
				}
				args[i] = strconv.AppendInt(nil, realIDs[string(name)], 10)
			}
		}
		got = append(got, do(args)...)
		mask = nil
	}
	return got
}

// redactions are a block's redact directives, in order.
type redactions []redaction

type redaction struct {
	re   *regexp.Regexp
	with string
}

func (r *redactions) add(t *testing.T, line string) {
	expr := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "redact"))
	with := "*"
	if i := strings.Index(expr, " =>"); i >= 0 {
		expr, with = expr[:i], strings.TrimPrefix(expr[i+3:], " ")
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		t.Fatalf("bad redact line %q: %v", line, err)
	}
	*r = append(*r, redaction{re, with})
}

// apply makes the replacements in the replies.
func (r redactions) apply(got []string) {
	for i := range got {
		for _, x := range r {
			got[i] = x.re.ReplaceAllString(got[i], x.with)
		}
	}
}

// fixtureReplacer maps a real Redis Cluster's node ids, ports and bus
// ports to those of the fixture's node serving the same first slot, given
// the real node's CLUSTER NODES (rendered). The real node must be the one
// the fixture calls myself.
func fixtureReplacer(t *testing.T, nodes string) *strings.Replacer {
	text, err := strconv.Unquote(nodes)
	if err != nil {
		t.Fatalf("CLUSTER NODES of -redis-cluster: %s", nodes)
	}
	real, err := cluster.ParseNodesConf([]byte(text))
	if err != nil {
		t.Fatalf("CLUSTER NODES of -redis-cluster: %v", err)
	}
	data, err := os.ReadFile(clusterFixture)
	if err != nil {
		t.Fatal(err)
	}
	fix, err := cluster.ParseNodesConf(data)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, f := range fix.Nodes {
		r := real.Owner(f.Slots[0].Start)
		if r == nil || len(r.Slots) != len(f.Slots) || r.Slots[0] != f.Slots[0] || r.Myself != f.Myself {
			t.Fatalf("-redis-cluster must be the node serving slots %v of a cluster split as %s", fix.Myself().Slots, clusterFixture)
		}
		pairs = append(pairs, r.ID, f.ID, strconv.Itoa(r.Port), strconv.Itoa(f.Port), strconv.Itoa(r.CPort), strconv.Itoa(f.CPort))
	}
	return strings.NewReplacer(pairs...)
}

// renderReply writes a reply on one line, showing its RESP type:
// +simple -error :int "bulk" (nil) (nil-array) _ ,double #t =txt:verbatim
// (bignum [array] ~[set] {map} >[push].
func renderReply(v *resp.Value) string {
	var b strings.Builder
	renderTo(&b, v)
	return b.String()
}

func renderTo(b *strings.Builder, v *resp.Value) {
	switch v.Type {
	case maskedType:
		b.WriteString("*")
	case resp.TypeSimple:
		b.WriteString("+" + string(v.Str))
	case resp.TypeError:
		b.WriteString("-" + string(v.Str))
	case resp.TypeInt:
		b.WriteString(":" + strconv.FormatInt(v.Int, 10))
	case resp.TypeBulk:
		if v.Null {
			b.WriteString("(nil)")
		} else {
			b.WriteString(strconv.Quote(string(v.Str)))
		}
	case resp.TypeNull:
		b.WriteString("_")
	case resp.TypeDouble:
		b.WriteString("," + string(v.Str))
	case resp.TypeBool:
		if v.Int != 0 {
			b.WriteString("#t")
		} else {
			b.WriteString("#f")
		}
	case resp.TypeVerbatim:
		b.WriteString("=" + v.Format + ":" + strconv.Quote(string(v.Str)))
	case resp.TypeBigNumber:
		b.WriteString("(" + string(v.Str))
	case resp.TypeBulkError:
		b.WriteString("!" + strconv.Quote(string(v.Str)))
	case resp.TypeArray, resp.TypeSet, resp.TypePush:
		if v.Null {
			b.WriteString("(nil-array)")
			return
		}
		open := map[byte]string{resp.TypeArray: "[", resp.TypeSet: "~[", resp.TypePush: ">["}[v.Type]
		b.WriteString(open)
		for i := range v.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			renderTo(b, &v.Elems[i])
		}
		b.WriteByte(']')
	case resp.TypeMap:
		b.WriteByte('{')
		for i := 0; i+1 < len(v.Elems); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			renderTo(b, &v.Elems[i])
			b.WriteString(": ")
			renderTo(b, &v.Elems[i+1])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "?%q", v.Raw)
	}
}
