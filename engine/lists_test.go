package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"shoal/resp"
)

// listTest is a shard on a fake clock with one client, for the list
// family's Go tests: the model test, allocations, benchmarks.
type listTest struct {
	t   testing.TB
	now int64
	s   *Shard
	c   *Client
}

func newListTest(t testing.TB) *listTest {
	lt := &listTest{t: t, now: scriptStart}
	lt.s = newTestShard(&lt.now)
	lt.c = lt.s.NewClient()
	return lt
}

// exec runs one command given as arguments and renders its reply.
func (lt *listTest) exec(args ...string) string {
	lt.t.Helper()
	a := make([][]byte, len(args))
	for i, s := range args {
		a[i] = []byte(s)
	}
	lt.c.Out = lt.c.Out[:0]
	lt.s.Exec(lt.c, a)
	if lt.s.Stats.UnexpectedErrors != 0 {
		lt.t.Fatalf("%q panicked", args)
	}
	r := bufioReader(lt.c.Out)
	v, err := resp.ReadReply(r)
	if err != nil || r.Buffered() != 0 {
		lt.t.Fatalf("%q: malformed reply %q: %v", args, lt.c.Out, err)
	}
	return renderReply(&v)
}

// Renderings of replies as renderReply writes them, for the model.
func lrInt(n int) string          { return ":" + strconv.Itoa(n) }
func lrBulk(s string) string      { return strconv.Quote(s) }
func lrArr(items []string) string { return "[" + strings.Join(items, " ") + "]" }
func lrBulks(elems []string) string {
	items := make([]string, len(elems))
	for i, e := range elems {
		items[i] = lrBulk(e)
	}
	return lrArr(items)
}

// listModel is the reference the randomized test checks the shard
// against: plain slices, Redis's semantics written out the slow way.
type listModel map[string][]string

func listReversed(s []string) []string {
	r := make([]string, len(s))
	for i, e := range s {
		r[len(s)-1-i] = e
	}
	return r
}

// listModelRange is LRANGE's clamping on a slice.
func listModelRange(l []string, start, stop int) []string {
	n := len(l)
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return nil
	}
	stop = min(stop, n-1)
	return l[start : stop+1]
}

func (m listModel) set(k string, l []string) {
	if len(l) == 0 {
		delete(m, k)
	} else {
		m[k] = l
	}
}

// listOpGen draws commands for the model test from a byte stream (the
// fuzzer's input, or random bytes), so that the same function serves
// both.
type listOpGen struct {
	b   []byte
	pos int
}

func (g *listOpGen) byte() byte {
	if g.pos >= len(g.b) {
		return 0
	}
	g.pos++
	return g.b[g.pos-1]
}

func (g *listOpGen) done() bool { return g.pos >= len(g.b) }

func (g *listOpGen) n(k int) int { return int(g.byte()) % k }

// elem is a short element (some integers, one non-canonical), now and
// then a long one that fills a node by itself.
func (g *listOpGen) elem() string {
	small := []string{"x", "y", "z", "1", "2", "-3", "01", "", "9223372036854775807", "hello world"}
	switch i := g.n(24); {
	case i < len(small):
		return small[i]
	case i < 22:
		return strconv.Itoa(g.n(200))
	default:
		return strings.Repeat(string(rune('a'+g.n(26))), 500+g.n(250)*10)
	}
}

func (g *listOpGen) key() string { return []string{"a", "b", "s"}[g.n(3)] }

func (g *listOpGen) index(n int) int { return g.n(2*n+6) - n - 3 }

func listSide(left bool) string {
	if left {
		return "LEFT"
	}
	return "RIGHT"
}

// step runs one command drawn from g on both the shard and the model and
// returns the command, the shard's reply and the model's.
func (m listModel) step(lt *listTest, g *listOpGen) (cmd []string, got, want string) {
	const wrongType = "-" + errWrongType
	k := g.key()
	l := m[k]
	isStr := k == "s"
	// Pushes weigh most so that lists grow long; LTRIM and DEL least.
	ops := [...]int{0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12, 13}
	switch op := ops[g.n(len(ops))]; op {
	case 0, 1: // LPUSH RPUSH LPUSHX RPUSHX
		head, x := g.n(2) == 0, g.n(4) == 0
		name := map[bool]string{true: "LPUSH", false: "RPUSH"}[head]
		if x {
			name += "X"
		}
		cmd = []string{name, k}
		var es []string
		for i := 0; i <= g.n(6); i++ {
			es = append(es, g.elem())
		}
		cmd = append(cmd, es...)
		switch {
		case isStr:
			want = wrongType
		case x && len(l) == 0:
			want = ":0"
		default:
			for _, e := range es {
				if head {
					l = append([]string{e}, l...)
				} else {
					l = append(l, e)
				}
			}
			m.set(k, l)
			want = lrInt(len(l))
		}
	case 2: // LPOP RPOP [count]
		head := g.n(2) == 0
		cmd = []string{map[bool]string{true: "LPOP", false: "RPOP"}[head], k}
		count := -1
		if g.n(2) == 0 {
			count = g.n(6)
			cmd = append(cmd, strconv.Itoa(count))
		}
		switch {
		case isStr:
			want = wrongType
		case len(l) == 0 && count >= 0:
			want = "(nil-array)"
		case len(l) == 0:
			want = "(nil)"
		case count == 0:
			want = "[]"
		default:
			n := min(max(count, 1), len(l))
			var popped []string
			if head {
				popped, l = append([]string(nil), l[:n]...), l[n:]
			} else {
				popped, l = listReversed(l[len(l)-n:]), l[:len(l)-n]
			}
			m.set(k, l)
			if count < 0 {
				want = lrBulk(popped[0])
			} else {
				want = lrBulks(popped)
			}
		}
	case 3: // LLEN LINDEX
		if g.n(2) == 0 {
			cmd = []string{"LLEN", k}
			want = lrInt(len(l))
		} else {
			i := g.index(len(l))
			cmd = []string{"LINDEX", k, strconv.Itoa(i)}
			if i < 0 {
				i += len(l)
			}
			want = "(nil)"
			if i >= 0 && i < len(l) {
				want = lrBulk(l[i])
			}
		}
		if isStr {
			want = wrongType
		}
	case 4: // LRANGE
		start, stop := g.index(len(l)), g.index(len(l))
		cmd = []string{"LRANGE", k, strconv.Itoa(start), strconv.Itoa(stop)}
		want = lrBulks(listModelRange(l, start, stop))
		if isStr {
			want = wrongType
		}
	case 5: // LSET
		i, e := g.index(len(l)), g.elem()
		cmd = []string{"LSET", k, strconv.Itoa(i), e}
		j := i
		if j < 0 {
			j += len(l)
		}
		switch {
		case isStr:
			want = wrongType
		case len(l) == 0:
			want = "-" + errNoSuchKey
		case j < 0 || j >= len(l):
			want = "-" + errIndexRange
		default:
			l[j] = e
			want = "+OK"
		}
	case 6: // LINSERT
		after := g.n(2) == 0
		pivot, e := g.elem(), g.elem()
		cmd = []string{"LINSERT", k, map[bool]string{true: "AFTER", false: "BEFORE"}[after], pivot, e}
		switch {
		case isStr:
			want = wrongType
		case len(l) == 0:
			want = ":0"
		default:
			want = ":-1"
			for i, x := range l {
				if x == pivot {
					if after {
						i++
					}
					l = append(l[:i], append([]string{e}, l[i:]...)...)
					m.set(k, l)
					want = lrInt(len(l))
					break
				}
			}
		}
	case 7: // LREM
		count, e := g.n(7)-3, g.elem()
		cmd = []string{"LREM", k, strconv.Itoa(count), e}
		if isStr {
			want = wrongType
			break
		}
		keep := append([]string(nil), l...)
		removed := 0
		limit := count
		if limit < 0 {
			limit = -limit
		}
		if count >= 0 {
			for i := 0; i < len(keep); i++ {
				if keep[i] == e && (limit == 0 || removed < limit) {
					keep = append(keep[:i], keep[i+1:]...)
					removed++
					i--
				}
			}
		} else {
			for i := len(keep) - 1; i >= 0; i-- {
				if keep[i] == e && removed < limit {
					keep = append(keep[:i], keep[i+1:]...)
					removed++
				}
			}
		}
		m.set(k, keep)
		want = lrInt(removed)
	case 8: // LTRIM, mostly trimming a little at each end
		start, stop := g.index(len(l)), g.index(len(l))
		if g.n(4) != 0 {
			start, stop = g.n(3), -1-g.n(3)
		}
		cmd = []string{"LTRIM", k, strconv.Itoa(start), strconv.Itoa(stop)}
		if isStr {
			want = wrongType
			break
		}
		m.set(k, append([]string(nil), listModelRange(l, start, stop)...))
		want = "+OK"
	case 9: // LPOS
		e := g.elem()
		cmd = []string{"LPOS", k, e}
		rank, count, maxlen := 1, -1, 0
		if g.n(2) == 0 {
			rank = g.n(7) - 3
			if rank == 0 {
				rank = 1
			}
			cmd = append(cmd, "RANK", strconv.Itoa(rank))
		}
		if g.n(2) == 0 {
			count = g.n(4)
			cmd = append(cmd, "COUNT", strconv.Itoa(count))
		}
		if g.n(2) == 0 {
			maxlen = g.n(len(l) + 2)
			cmd = append(cmd, "MAXLEN", strconv.Itoa(maxlen))
		}
		if isStr {
			want = wrongType
			break
		}
		var found []string
		matches := 0
		for j := 0; j < len(l) && (maxlen == 0 || j < maxlen); j++ {
			i := j
			if rank < 0 {
				i = len(l) - 1 - j
			}
			if l[i] != e {
				continue
			}
			matches++
			if matches >= max(rank, -rank) {
				found = append(found, lrInt(i))
				if count == -1 || count > 0 && len(found) == count {
					break
				}
			}
		}
		switch {
		case count != -1:
			want = lrArr(found)
		case len(found) > 0:
			want = found[0]
		default:
			want = "(nil)"
		}
	case 10, 11: // LMOVE RPOPLPUSH
		dst := g.key()
		from, to := g.n(2) == 0, g.n(2) == 0
		if op == 10 {
			cmd = []string{"LMOVE", k, dst, listSide(from), listSide(to)}
		} else {
			cmd = []string{"RPOPLPUSH", k, dst}
			from, to = false, true
		}
		switch {
		case isStr:
			want = wrongType
		case len(l) == 0:
			want = "(nil)"
		case dst == "s":
			want = wrongType
		default:
			var e string
			if from {
				e, l = l[0], l[1:]
			} else {
				e, l = l[len(l)-1], l[:len(l)-1]
			}
			m.set(k, l)
			d := append([]string(nil), m[dst]...)
			if to {
				d = append([]string{e}, d...)
			} else {
				d = append(d, e)
			}
			m.set(dst, d)
			want = lrBulk(e)
		}
	case 12: // LMPOP
		keys := []string{g.key(), g.key()}
		left := g.n(2) == 0
		cmd = []string{"LMPOP", "2", keys[0], keys[1], listSide(left)}
		count := 1
		if g.n(2) == 0 {
			count = g.n(5) + 1
			cmd = append(cmd, "COUNT", strconv.Itoa(count))
		}
		want = "(nil-array)"
		for _, key := range keys {
			if key == "s" {
				want = wrongType
				break
			}
			kl := m[key]
			if len(kl) == 0 {
				continue
			}
			n := min(count, len(kl))
			var popped []string
			if left {
				popped, kl = append([]string(nil), kl[:n]...), kl[n:]
			} else {
				popped, kl = listReversed(kl[len(kl)-n:]), kl[:len(kl)-n]
			}
			m.set(key, kl)
			want = "[" + lrBulk(key) + " " + lrBulks(popped) + "]"
			break
		}
	default: // COPY and DEL keep the model honest about deep copies.
		if g.n(2) == 0 || isStr {
			dst := map[string]string{"a": "b", "b": "a", "s": "a"}[k]
			cmd = []string{"COPY", k, dst, "REPLACE"}
			if isStr {
				// Leave the string alone: COPY would turn a list key into it.
				cmd = []string{"LLEN", dst}
				want = lrInt(len(m[dst]))
				break
			}
			if len(l) == 0 {
				want = ":0"
				break
			}
			m.set(dst, append([]string(nil), l...))
			want = ":1"
		} else {
			cmd = []string{"DEL", k}
			want = lrInt(min(len(l), 1))
			delete(m, k)
		}
	}
	got = lt.exec(cmd...)
	return cmd, got, want
}

// runListModel runs the commands ops draws on a fresh shard whose lists
// are made with node size fill, checking every reply and, after each
// third command and at the end, both lists in full and that an emptied
// list is gone.
func runListModel(t *testing.T, ops []byte, fill int) (maxLen, maxNodes int) {
	lt := newListTest(t)
	lt.s.Config.ListMaxListpackSize = fill
	lt.exec("SET", "s", "str")
	m := listModel{}
	g := &listOpGen{b: ops}
	var cmds [][]string
	for steps := 0; !g.done() && steps < 20000; steps++ {
		cmd, got, want := m.step(lt, g)
		cmds = append(cmds, cmd)
		if got != want {
			t.Fatalf("fill %d, after %d commands (last ones %q):\n%q\ngot  %s\nwant %s", fill, len(cmds),
				cmds[max(0, len(cmds)-6):], cmd, got, want)
		}
		if steps%3 != 0 && !g.done() {
			continue
		}
		for _, k := range []string{"a", "b"} {
			if got, want := lt.exec("LRANGE", k, "0", "-1"), lrBulks(m[k]); got != want {
				t.Fatalf("fill %d, after %q: LRANGE %s = %s, model %s", fill, cmd, k, got, want)
			}
			if got, want := lt.exec("EXISTS", k), lrInt(min(len(m[k]), 1)); got != want {
				t.Fatalf("fill %d, after %q: EXISTS %s = %s, model %s", fill, cmd, k, got, want)
			}
			if r := lt.s.db.Find([]byte(k)); r != 0 {
				maxLen = max(maxLen, len(m[k]))
				maxNodes = max(maxNodes, lt.s.listAt(r).NodeCount())
			}
		}
	}
	return maxLen, maxNodes
}

// TestListModel checks the list commands against the model on random
// command streams, with node sizes from one entry to 8 KB so that the
// lists cross many node splits and merges.
func TestListModel(t *testing.T) {
	steps := 2000
	if testing.Short() {
		steps = 500
	}
	for _, fill := range []int{-2, -1, 1, 3, 16} {
		for seed := uint64(1); seed <= 2; seed++ {
			rng := rand.New(rand.NewPCG(seed, uint64(fill+100)))
			ops := make([]byte, steps*8)
			for i := range ops {
				ops[i] = byte(rng.Uint32())
			}
			maxLen, maxNodes := runListModel(t, ops, fill)
			// The streams must reach lists of many nodes, or the
			// test says little about splits and merges.
			if maxLen < 40 || maxNodes < 3 {
				t.Errorf("fill %d seed %d: lists reached only %d elements in %d nodes", fill, seed, maxLen, maxNodes)
			}
			t.Logf("fill %d seed %d: up to %d elements, %d nodes", fill, seed, maxLen, maxNodes)
		}
	}
}

// FuzzListModel runs the model test on the fuzzer's command streams.
func FuzzListModel(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"), int8(-2))
	f.Add(bytes.Repeat([]byte("\x01\x00\x01\x03\x05\x17\x02\x07\x09\x0b"), 30), int8(2))
	f.Add(bytes.Repeat([]byte("\x00\x01\x00\x03\x16\x17\x16\x0a\x0b\x0c\x0d\x06"), 40), int8(-1))
	f.Fuzz(func(t *testing.T, ops []byte, fill int8) {
		if len(ops) > 4000 {
			ops = ops[:4000]
		}
		runListModel(t, ops, int(fill))
	})
}

// FuzzListCommands feeds arbitrary arguments to the list commands: no
// panic, and always one well-formed reply.
func FuzzListCommands(f *testing.F) {
	for _, s := range []string{
		"RPUSH l a b c\nLPOS l b RANK -1 COUNT 0 MAXLEN 2", "LMPOP 2 l m LEFT COUNT 3",
		"LINSERT l BEFORE a x", "LTRIM l -9223372036854775808 9223372036854775807",
		"LREM l -9223372036854775808 a", "LMOVE l l RIGHT LEFT", "LPOP l 0", "RPOP l 9223372036854775807",
		"LMPOP 9223372036854775807 l LEFT", "LSET l -1 z", "LRANGE l 1 0",
	} {
		f.Add(s)
	}
	names := []string{"lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange",
		"lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop"}
	f.Fuzz(func(t *testing.T, script string) {
		lt := newListTest(t)
		lt.s.Config.ListMaxListpackSize = 2
		lt.exec("RPUSH", "l", "a", "b", "1", "c", "a")
		lt.exec("SET", "s", "v")
		for _, line := range strings.Split(script, "\n") {
			args := bytes.Fields([]byte(line))
			if len(args) == 0 || len(args) > 12 {
				continue
			}
			if lookupName(lt.s.cmds.byName, args[0]) == nil {
				args[0] = []byte(names[int(args[0][0])%len(names)])
			}
			lt.c.Out = lt.c.Out[:0]
			lt.s.Exec(lt.c, args)
			if lt.s.Stats.UnexpectedErrors != 0 {
				t.Fatalf("%q panicked", line)
			}
			r := bufioReader(lt.c.Out)
			if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
				t.Fatalf("%q: malformed reply %q", line, lt.c.Out)
			}
		}
		// No key is left holding an empty list.
		for _, k := range []string{"l", "m"} {
			if r := lt.s.db.Find([]byte(k)); r != 0 && lt.s.typeOf(r) == typeList && lt.s.listAt(r).Len() == 0 {
				t.Fatalf("%s holds an empty list", k)
			}
		}
	})
}

// TestListCopyIsDeep changes a many-node list and its COPY apart.
func TestListCopyIsDeep(t *testing.T) {
	lt := newListTest(t)
	lt.s.Config.ListMaxListpackSize = 4
	for i := 0; i < 50; i++ {
		lt.exec("RPUSH", "l", strconv.Itoa(i), "e"+strconv.Itoa(i))
	}
	want := lt.exec("LRANGE", "l", "0", "-1")
	if got := lt.exec("COPY", "l", "c"); got != ":1" {
		t.Fatalf("COPY: %s", got)
	}
	if got := lt.exec("LRANGE", "c", "0", "-1"); got != want {
		t.Fatalf("copy differs: %s", got)
	}
	lt.exec("LSET", "c", "10", "changed")
	lt.exec("LREM", "c", "0", "e3")
	lt.exec("LTRIM", "l", "5", "-5")
	lt.exec("LINSERT", "l", "AFTER", "e20", "new")
	if got := lt.exec("LINDEX", "l", "5"); got != `"5"` {
		t.Fatalf("original after changes: LINDEX 5 = %s", got)
	}
	if got := lt.exec("LINDEX", "c", "9"); got != `"changed"` { // e3 went before it
		t.Fatalf("copy after changes: LINDEX 9 = %s", got)
	}
	if got := lt.exec("LLEN", "c"); got != ":99" {
		t.Fatalf("copy after changes: LLEN = %s", got)
	}
	if got := lt.exec("OBJECT", "ENCODING", "c"); got != `"quicklist"` {
		t.Fatalf("copy's encoding: %s", got)
	}
}

// TestListNodeSize checks that lists keep the node size they were made
// with, and that list-max-listpack-size shapes new ones (counted nodes).
func TestListNodeSize(t *testing.T) {
	lt := newListTest(t)
	lt.exec("CONFIG", "SET", "list-max-ziplist-size", "3")
	for i := 0; i < 10; i++ {
		lt.exec("RPUSH", "small", strconv.Itoa(i))
	}
	lt.exec("CONFIG", "SET", "list-max-listpack-size", "-2")
	for i := 0; i < 10; i++ {
		lt.exec("RPUSH", "small", strconv.Itoa(i))
		lt.exec("RPUSH", "big", strconv.Itoa(i))
	}
	for _, tc := range []struct {
		key   string
		nodes int
	}{{"small", 7}, {"big", 1}} {
		l := lt.s.listAt(lt.s.db.Find([]byte(tc.key)))
		if l.NodeCount() != tc.nodes {
			t.Errorf("%s: %d nodes, want %d", tc.key, l.NodeCount(), tc.nodes)
		}
	}
	// Keyspace INFO counts lists as keys.
	if info := lt.exec("INFO", "keyspace"); !strings.Contains(info, "keys=2,") {
		t.Errorf("INFO keyspace: %s", info)
	}
}

// TestListAllocs asserts that the common single-element reads and writes
// allocate nothing once the client's output buffer has grown.
func TestListAllocs(t *testing.T) {
	lt := newListTest(t)
	for i := 0; i < 300; i++ {
		lt.exec("RPUSH", "l", "element:"+strconv.Itoa(i))
	}
	lt.exec("RPUSH", "m", "x", "y") // two: a pop never empties it
	cases := []struct {
		name string
		argv [][]byte
	}{
		{"LPUSH+RPOP", nil},
		{"RPUSH+LPOP", nil},
		{"LLEN", argv("LLEN", "l")},
		{"LINDEX", argv("LINDEX", "l", "-3")},
		{"LSET", argv("LSET", "l", "100", "element:100")},
		{"LRANGE 100", argv("LRANGE", "l", "0", "99")},
		{"LPOS", argv("LPOS", "l", "element:250")},
		{"LPOS COUNT", argv("LPOS", "l", "element:250", "COUNT", "0")},
		{"LMOVE", argv("LMOVE", "l", "l", "LEFT", "RIGHT")},
		{"RPOPLPUSH", argv("RPOPLPUSH", "m", "m")},
		{"LMPOP+RPUSH", nil},
		{"LINSERT+LREM", nil},
	}
	pairs := map[string][2][][]byte{
		"LPUSH+RPOP":   {argv("LPUSH", "l", "element:new"), argv("RPOP", "l")},
		"RPUSH+LPOP":   {argv("RPUSH", "l", "element:new"), argv("LPOP", "l")},
		"LMPOP+RPUSH":  {argv("LMPOP", "1", "m", "LEFT"), argv("RPUSH", "m", "x")},
		"LINSERT+LREM": {argv("LINSERT", "l", "BEFORE", "element:200", "y"), argv("LREM", "l", "1", "y")},
	}
	for _, tc := range cases {
		run := func() {
			lt.c.Out = lt.c.Out[:0]
			if p, ok := pairs[tc.name]; ok {
				lt.s.Exec(lt.c, p[0])
				lt.s.Exec(lt.c, p[1])
			} else {
				lt.s.Exec(lt.c, tc.argv)
			}
		}
		run() // warm up: Out's capacity
		if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

func benchList(b *testing.B, setup [][]byte, cmds ...[][]byte) {
	lt := newListTest(b)
	if setup != nil {
		lt.s.Exec(lt.c, setup)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range cmds {
			lt.c.Out = lt.c.Out[:0]
			lt.s.Exec(lt.c, a)
		}
	}
}

// BenchmarkLPushRPop is a queue at steady length: one push, one pop.
func BenchmarkLPushRPop(b *testing.B) {
	benchList(b, argv("RPUSH", "q", "a", "b", "c"), argv("LPUSH", "q", "xxx"), argv("RPOP", "q"))
}

// BenchmarkLPush grows one list without bound, as redis-benchmark's
// LPUSH test does.
func BenchmarkLPush(b *testing.B) {
	benchList(b, nil, argv("LPUSH", "mylist", "xxx"))
}

func BenchmarkLRange100(b *testing.B) {
	setup := [][]byte{[]byte("RPUSH"), []byte("l")}
	for i := 0; i < 600; i++ {
		setup = append(setup, []byte("xxx"))
	}
	benchList(b, setup, argv("LRANGE", "l", "0", "99"))
}

func BenchmarkLIndexMiddle(b *testing.B) {
	setup := [][]byte{[]byte("RPUSH"), []byte("l")}
	for i := 0; i < 10000; i++ {
		setup = append(setup, []byte(strconv.Itoa(i)))
	}
	benchList(b, setup, argv("LINDEX", "l", "5000"))
}

// TestListCompressDepth: a list made under list-compress-depth 1 keeps
// its inner nodes compressed (DEBUG OBJECT says so, MEMORY USAGE is
// smaller than the same list's without), reads and writes see the same
// elements, and a list keeps the depth it was made with.
func TestListCompressDepth(t *testing.T) {
	s := NewShard(DefaultConfig())
	s.Config.EnableDebugCommand = "yes"
	c := s.NewClient()
	push := func(key string) {
		for i := range 500 {
			exec(t, s, c, "RPUSH", key, strings.Repeat("v", 50)+strconv.Itoa(i))
		}
	}
	push("raw")
	exec(t, s, c, "CONFIG", "SET", "list-compress-depth", "1")
	push("z")
	usage := func(key string) int64 { return exec(t, s, c, "MEMORY", "USAGE", key).Int }
	if r, z := usage("raw"), usage("z"); z*2 > r {
		t.Errorf("MEMORY USAGE %d compressed against %d raw", z, r)
	}
	dbg := string(exec(t, s, c, "DEBUG", "OBJECT", "z").Str)
	if !strings.Contains(dbg, "ql_compressed:1") {
		t.Errorf("DEBUG OBJECT: %s", dbg)
	}
	if dbg := string(exec(t, s, c, "DEBUG", "OBJECT", "raw").Str); !strings.Contains(dbg, "ql_compressed:0") {
		t.Errorf("DEBUG OBJECT of the list made before: %s", dbg)
	}
	exec(t, s, c, "LSET", "z", "250", "changed")
	exec(t, s, c, "LSET", "raw", "250", "changed")
	exec(t, s, c, "LREM", "z", "0", strings.Repeat("v", 50)+"100")
	exec(t, s, c, "LREM", "raw", "0", strings.Repeat("v", 50)+"100")
	a := exec(t, s, c, "LRANGE", "z", "0", "-1")
	b := exec(t, s, c, "LRANGE", "raw", "0", "-1")
	if len(a.Elems) != 499 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("the compressed list reads %d elements, differing from the raw one's %d", len(a.Elems), len(b.Elems))
	}
}
