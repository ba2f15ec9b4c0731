package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/kv"
	"shoal/resp"
)

// strTest is a shard on a fake clock with one client, for tests that need
// what scripts cannot show: other value types, encodings, exact expire
// times, allocations.
type strTest struct {
	t   testing.TB
	now int64
	s   *Shard
	c   *Client
}

func newStrTest(t testing.TB) *strTest {
	st := &strTest{t: t, now: scriptStart}
	st.s = newTestShard(&st.now)
	st.c = st.s.NewClient()
	return st
}

// do runs one command line (split as redis-cli does) and renders its reply.
func (st *strTest) do(line string) string {
	st.t.Helper()
	args, err := resp.SplitArgs([]byte(line))
	if err != nil || len(args) == 0 {
		st.t.Fatalf("bad command line %q: %v", line, err)
	}
	st.s.Tick()
	st.c.Out = st.c.Out[:0]
	st.s.Exec(st.c, args)
	r := bufioReader(st.c.Out)
	v, err := resp.ReadReply(r)
	if err != nil || r.Buffered() != 0 {
		st.t.Fatalf("%s: malformed reply %q: %v", line, st.c.Out, err)
	}
	return renderReply(&v)
}

// addList stores a non-string value at key, as the list type will.
func (st *strTest) addList(key string) {
	st.s.db.InsertObject([]byte(key), []string{"a"}, makeMeta(typeList, encQuicklist, 0), kv.NoExpire)
}

func (st *strTest) ref(key string) kv.Ref { return st.s.db.Find([]byte(key)) }

// TestStringsWrongType checks every command against a key of another type
// (replies as Redis 7.0.15 gives them with an RPUSH'ed list).
func TestStringsWrongType(t *testing.T) {
	const wrong = "-" + errWrongType
	cases := []struct{ cmd, want string }{
		{"GET l", wrong},
		{"SET l v GET", wrong},
		{"SET l v NX GET", wrong},
		{"SET l v XX GET", wrong},
		{"GETSET l v", wrong},
		{"GETDEL l", wrong},
		{"GETEX l", wrong},
		{"GETEX l EX 0", wrong},
		{"GETEX l FOO", "-ERR syntax error"},
		{"MGET l", "[(nil)]"},
		{"APPEND l x", wrong},
		{"STRLEN l", wrong},
		{"INCR l", wrong},
		{"DECR l", wrong},
		{"INCRBY l 1", wrong},
		{"INCRBY l x", "-ERR value is not an integer or out of range"},
		{"DECRBY l 1", wrong},
		{"INCRBYFLOAT l 1", wrong},
		{"INCRBYFLOAT l x", wrong},
		{"GETRANGE l 0 1", wrong},
		{"GETRANGE l x 1", "-ERR value is not an integer or out of range"},
		{"SUBSTR l 0 1", wrong},
		{"SETRANGE l 0 x", wrong},
		{"SETRANGE l 0 \"\"", wrong},
		{"SETRANGE l -1 x", "-ERR offset is out of range"},
		{"LCS l l", "-" + errLCSWrongType},
		{"LCS l nokey FOO", "-" + errLCSWrongType},
		{"LCS nokey l", "-" + errLCSWrongType},
		{"MSETNX l 1", ":0"},
		{"SETNX l 1", ":0"},
		{"SET l v NX", "(nil)"},
	}
	for _, tc := range cases {
		st := newStrTest(t)
		st.addList("l")
		if got := st.do(tc.cmd); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cmd, got, tc.want)
		}
		if r := st.ref("l"); r == kv.Nil || st.s.typeOf(r) != typeList {
			t.Errorf("%s: the list was changed", tc.cmd)
		}
	}
	// Commands that store a whole value overwrite any type.
	for _, cmd := range []string{"SET l v", "SET l v XX", "MSET l v", "SETEX l 10 v", "PSETEX l 10000 v", "SET l v EX 100"} {
		st := newStrTest(t)
		st.addList("l")
		if got := st.do(cmd); got != "+OK" {
			t.Errorf("%s: got %s", cmd, got)
		}
		if got := st.do("GET l"); got != `"v"` {
			t.Errorf("%s: then GET l: %s", cmd, got)
		}
	}
}

// TestStringsEncoding checks the encoding each command stores, as Redis's
// OBJECT ENCODING reports it (checked against Redis 7.0.15).
func TestStringsEncoding(t *testing.T) {
	long := strings.Repeat("x", 45)
	cases := []struct {
		cmds []string
		key  string
		enc  string
	}{
		{[]string{"SET a 123"}, "a", "int"},
		{[]string{"SET a -5"}, "a", "int"},
		{[]string{"SET a hello"}, "a", "embstr"},
		{[]string{"SET a " + long}, "a", "raw"},
		{[]string{"SET a " + long[:44]}, "a", "embstr"},
		{[]string{"SET a 12345678901234567890"}, "a", "embstr"},
		{[]string{"SET a -0"}, "a", "embstr"},
		{[]string{"SET a 01"}, "a", "embstr"},
		{[]string{"APPEND a 12"}, "a", "int"},
		{[]string{"APPEND a abc"}, "a", "embstr"},
		{[]string{"SET a 1", "APPEND a 2"}, "a", "raw"},
		{[]string{"SET a 1", "APPEND a \"\""}, "a", "raw"},
		{[]string{"SETRANGE a 0 12"}, "a", "raw"},
		{[]string{"SET a 5", "SETRANGE a 0 7"}, "a", "raw"},
		{[]string{"SET a 5", "SETRANGE a 0 \"\""}, "a", "int"},
		{[]string{"INCR a"}, "a", "int"},
		{[]string{"SET a 99999999999999999", "INCR a"}, "a", "int"},
		{[]string{"SET a 12", "SETRANGE a 0 3", "INCR a"}, "a", "int"},
		{[]string{"INCRBYFLOAT a 3"}, "a", "embstr"},
		{[]string{"SET a 1", "INCRBYFLOAT a 0"}, "a", "embstr"},
		{[]string{"INCRBYFLOAT a 1e30"}, "a", "embstr"},
		{[]string{"INCRBYFLOAT a 1e50"}, "a", "raw"},
		{[]string{"GETSET a 7"}, "a", "int"},
		{[]string{"MSET a 8"}, "a", "int"},
		{[]string{"MSETNX a 10"}, "a", "int"},
		{[]string{"SET a abc", "GETEX a EX 100"}, "a", "embstr"},
		{[]string{"SETNX a 1"}, "a", "int"},
		{[]string{"SETEX a 10 1"}, "a", "int"},
		{[]string{"PSETEX a 10 x"}, "a", "embstr"},
		{[]string{"SET a 1 GET"}, "a", "int"},
		{[]string{"SET a 12", "GETRANGE a 0 0"}, "a", "int"},
	}
	for _, tc := range cases {
		st := newStrTest(t)
		for _, cmd := range tc.cmds {
			if got := st.do(cmd); strings.HasPrefix(got, "-") {
				t.Fatalf("%v: %s: %s", tc.cmds, cmd, got)
			}
		}
		r := st.ref(tc.key)
		if r == kv.Nil {
			t.Fatalf("%v: no key", tc.cmds)
		}
		if got := encNames[metaEnc(st.s.db.Meta(r))]; got != tc.enc {
			t.Errorf("%v: encoding %s, want %s", tc.cmds, got, tc.enc)
		}
	}
}

// TestStringsExpireTimes checks the exact expire times commands set, keep
// or drop.
func TestStringsExpireTimes(t *testing.T) {
	const keep = -1 // the expire time set by the first command
	now := scriptStart
	cases := []struct {
		cmds []string
		want int64 // expire time of k afterwards; keep: as after cmds[0]
	}{
		{[]string{"SET k v EX 10"}, now + 10000},
		{[]string{"SET k v PX 10"}, now + 10},
		{[]string{"SET k v EXAT 2000000000"}, 2000000000000},
		{[]string{"SET k v PXAT 2000000000123"}, 2000000000123},
		{[]string{"SET k v EX 10 EX 20"}, now + 20000},
		{[]string{"SETEX k 7 v"}, now + 7000},
		{[]string{"PSETEX k 7 v"}, now + 7},
		{[]string{"SET k v EX 10", "SET k w KEEPTTL"}, keep},
		{[]string{"SET k v EX 10", "SET k w KEEPTTL GET"}, keep},
		{[]string{"SET k v EX 10", "SET k w XX KEEPTTL"}, keep},
		{[]string{"SET k v EX 10", "SET k w"}, kv.NoExpire},
		{[]string{"SET k v EX 10", "SET k w GET"}, kv.NoExpire},
		{[]string{"SET k v EX 10", "SET k w NX"}, keep},
		{[]string{"SET k v EX 10", "GETSET k w"}, kv.NoExpire},
		{[]string{"SET k v EX 10", "MSET k w"}, kv.NoExpire},
		{[]string{"SET k 1 EX 10", "INCR k"}, keep},
		{[]string{"SET k 1 EX 10", "DECRBY k 5"}, keep},
		{[]string{"SET k 1 EX 10", "INCRBYFLOAT k 0.5"}, keep},
		{[]string{"SET k 1 EX 10", "APPEND k x"}, keep},
		{[]string{"SET k 1 EX 10", "SETRANGE k 3 x"}, keep},
		{[]string{"SET k 1 EX 10", "GETEX k"}, keep},
		{[]string{"SET k 1 EX 10", "GETEX k PERSIST"}, kv.NoExpire},
		{[]string{"SET k 1 EX 10", "GETEX k PX 5"}, now + 5},
		{[]string{"SET k 1 EX 10", "GETEX k EXAT 2000000000"}, 2000000000000},
		{[]string{"SET k 1 EX 10", "GET k"}, keep},
		{[]string{"SET k v KEEPTTL"}, kv.NoExpire},
	}
	for _, tc := range cases {
		st := newStrTest(t)
		var first int64
		for i, cmd := range tc.cmds {
			if got := st.do(cmd); strings.HasPrefix(got, "-") {
				t.Fatalf("%v: %s: %s", tc.cmds, cmd, got)
			}
			if i == 0 {
				first = st.s.db.Expire(st.ref("k"))
			}
		}
		want := tc.want
		if want == keep {
			want = first
		}
		if got := st.s.db.Expire(st.ref("k")); got != want {
			t.Errorf("%v: expire %d, want %d", tc.cmds, got, want)
		}
		wantVolatile := 1
		if want == kv.NoExpire {
			wantVolatile = 0
		}
		if v := st.s.db.Volatile(); v != wantVolatile {
			t.Errorf("%v: %d volatile keys, want %d", tc.cmds, v, wantVolatile)
		}
	}
}

// TestStringsProtoMaxBulkLen checks APPEND, SETRANGE and LCS against a
// small proto-max-bulk-len.
func TestStringsProtoMaxBulkLen(t *testing.T) {
	st := newStrTest(t)
	st.s.Config.ProtoMaxBulkLen = 100
	tooBig := "-" + errStringTooBig
	steps := []struct{ cmd, want string }{
		{"SET k " + strings.Repeat("a", 90), "+OK"},
		{"APPEND k " + strings.Repeat("b", 10), ":100"},
		{"APPEND k x", tooBig},
		{"APPEND k \"\"", ":100"},
		{"SETRANGE k 99 z", ":100"},
		{"SETRANGE k 100 z", tooBig},
		{"SETRANGE k 100 \"\"", ":100"},
		{"SETRANGE n 99 z", ":100"},
		{"SETRANGE m 100 z", tooBig},
		{"SETRANGE m 0 " + strings.Repeat("c", 101), tooBig},
		{"GET m", "(nil)"},
		{"STRLEN k", ":100"},
		// (4+1)*(4+1)*4 = 100 fits, (5+1)*(4+1)*4 = 120 does not.
		{"SET a abcd", "+OK"},
		{"SET b bcde", "+OK"},
		{"LCS a b", `"bcd"`},
		{"SET a abcde", "+OK"},
		{"LCS a b", "-" + errLCSMemory},
	}
	for _, step := range steps {
		if got := st.do(step.cmd); got != step.want {
			t.Errorf("%s: got %s, want %s", step.cmd, got, step.want)
		}
	}
}

// TestStringsResp3 checks the RESP3 shapes of the family's replies.
func TestStringsResp3(t *testing.T) {
	st := newStrTest(t)
	st.c.Resp3 = true
	steps := []struct{ cmd, want string }{
		{"GET nokey", "_"},
		{"SET k v GET", "_"},
		{"SET k v2 NX", "_"},
		{"GETDEL nokey", "_"},
		{"GETEX nokey", "_"},
		{"GETSET new v", "_"},
		{"MGET k nokey", `["v" _]`},
		{"MSET a ohmytext b mynewtext", "+OK"},
		{"LCS a b IDX", `{"matches": [[[:4 :7] [:5 :8]] [[:2 :3] [:0 :1]]], "len": :6}`},
		{"LCS a b IDX WITHMATCHLEN MINMATCHLEN 4", `{"matches": [[[:4 :7] [:5 :8] :4]], "len": :6}`},
		{"LCS a nokey IDX", `{"matches": [], "len": :0}`},
		{"GETRANGE nokey 0 -1", `""`},
		{"INCRBYFLOAT f 1.5", `"1.5"`},
	}
	for _, step := range steps {
		if got := st.do(step.cmd); got != step.want {
			t.Errorf("%s: got %s, want %s", step.cmd, got, step.want)
		}
	}
}

// TestStringsStats checks keyspace hits and misses: reads count them,
// writes do not, as Redis's lookupKeyRead/lookupKeyWrite.
func TestStringsStats(t *testing.T) {
	cases := []struct {
		cmd          string
		hits, misses int64
	}{
		{"GET k", 1, 0},
		{"GET nokey", 0, 1},
		{"MGET k nokey k", 2, 1},
		{"STRLEN k", 1, 0},
		{"GETRANGE k 0 1", 1, 0},
		{"GETEX k", 1, 0},
		{"GETDEL k", 1, 0},
		{"GETSET k v", 1, 0},
		{"SET k v GET", 1, 0},
		{"SET k v", 0, 0},
		{"INCR n", 0, 0},
		{"APPEND k x", 0, 0},
		{"LCS k nokey", 1, 1},
	}
	for _, tc := range cases {
		st := newStrTest(t)
		st.do("SET k v")
		st.do(tc.cmd)
		if h, m := st.s.Stats.KeyspaceHits, st.s.Stats.KeyspaceMisses; h != tc.hits || m != tc.misses {
			t.Errorf("%s: hits %d misses %d, want %d %d", tc.cmd, h, m, tc.hits, tc.misses)
		}
	}
}

// TestStringsModel runs random commands against a map model of the key
// space: values, lengths and integer replies must agree throughout.
func TestStringsModel(t *testing.T) {
	st := newStrTest(t)
	model := map[string][]byte{}
	rng := rand.New(rand.NewSource(1))
	keys := []string{"a", "b", "c", "d"}
	randVal := func() []byte {
		b := make([]byte, rng.Intn(12))
		for i := range b {
			b[i] = "ab\x00\r\n0123456789"[rng.Intn(15)]
		}
		return b
	}
	quote := func(b []byte) string { return strconv.Quote(string(b)) }
	for i := 0; i < 5000; i++ {
		k := keys[rng.Intn(len(keys))]
		old, exists := model[k]
		var cmd, want string
		switch op := rng.Intn(9); op {
		case 0:
			v := randVal()
			cmd, want = "SET "+k+" "+quote(v), "+OK"
			model[k] = v
		case 1:
			v := randVal()
			cmd = "APPEND " + k + " " + quote(v)
			model[k] = append(append([]byte{}, old...), v...)
			want = ":" + strconv.Itoa(len(model[k]))
		case 2:
			off, v := rng.Intn(16), randVal()
			cmd = "SETRANGE " + k + " " + strconv.Itoa(off) + " " + quote(v)
			switch {
			case len(v) == 0:
				want = ":" + strconv.Itoa(len(old))
			default:
				nv := append([]byte{}, old...)
				for len(nv) < off+len(v) {
					nv = append(nv, 0)
				}
				copy(nv[off:], v)
				model[k] = nv
				want = ":" + strconv.Itoa(len(nv))
			}
		case 3:
			start, end := rng.Intn(30)-15, rng.Intn(30)-15
			cmd = fmt.Sprintf("GETRANGE %s %d %d", k, start, end)
			want = quote(modelRange(old, start, end))
		case 4:
			cmd, want = "STRLEN "+k, ":"+strconv.Itoa(len(old))
		case 5:
			by := rng.Int63n(2001) - 1000
			cmd = fmt.Sprintf("INCRBY %s %d", k, by)
			n, err := strconv.ParseInt(string(old), 10, 64)
			switch {
			case !exists:
				n, err = 0, nil
			case err == nil && string(old) != strconv.FormatInt(n, 10):
				err = fmt.Errorf("not canonical")
			}
			if err != nil {
				want = "-" + errNotInt
			} else {
				model[k] = []byte(strconv.FormatInt(n+by, 10))
				want = ":" + strconv.FormatInt(n+by, 10)
			}
		case 6:
			cmd = "GETDEL " + k
			if exists {
				want = quote(old)
			} else {
				want = "(nil)"
			}
			delete(model, k)
		case 7:
			cmd = "GET " + k
			if exists {
				want = quote(old)
			} else {
				want = "(nil)"
			}
		case 8:
			v := randVal()
			cmd = "SETNX " + k + " " + quote(v)
			if exists {
				want = ":0"
			} else {
				want = ":1"
				model[k] = v
			}
		}
		if got := st.do(cmd); got != want {
			t.Fatalf("step %d: %s: got %s, want %s", i, cmd, got, want)
		}
	}
}

func modelRange(s []byte, start, end int) []byte {
	n := len(s)
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return s[start : end+1]
}

// TestLCSModel checks LCS on random strings: LEN against a plain
// dynamic-programming length, the string is a common subsequence of that
// length, and every IDX range matches in both strings, in descending order,
// without overlapping, and covers the whole LCS.
func TestLCSModel(t *testing.T) {
	st := newStrTest(t)
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 300; i++ {
		a, b := randLCSString(rng), randLCSString(rng)
		st.do("MSET a " + strconv.Quote(a) + " b " + strconv.Quote(b))
		want := lcsLen(a, b)
		if got := st.do("LCS a b LEN"); got != ":"+strconv.Itoa(want) {
			t.Fatalf("LCS %q %q LEN: got %s, want %d", a, b, got, want)
		}
		got := st.do("LCS a b")
		s, err := strconv.Unquote(got)
		if err != nil || len(s) != want || !isSubsequence(s, a) || !isSubsequence(s, b) {
			t.Fatalf("LCS %q %q: got %s (LCS length %d)", a, b, got, want)
		}
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, [][]byte{[]byte("LCS"), []byte("a"), []byte("b"), []byte("IDX"), []byte("WITHMATCHLEN")})
		v, err := resp.ReadReply(bufioReader(st.c.Out))
		if err != nil || len(v.Elems) != 4 {
			t.Fatalf("LCS IDX reply %q: %v", st.c.Out, err)
		}
		total, lastA, lastB := 0, len(a), len(b)
		for _, m := range v.Elems[1].Elems {
			as, ae := int(m.Elems[0].Elems[0].Int), int(m.Elems[0].Elems[1].Int)
			bs, be := int(m.Elems[1].Elems[0].Int), int(m.Elems[1].Elems[1].Int)
			n := int(m.Elems[2].Int)
			if ae-as+1 != n || be-bs+1 != n || a[as:ae+1] != b[bs:be+1] || ae >= lastA || be >= lastB {
				t.Fatalf("LCS %q %q IDX: bad range %d-%d %d-%d len %d", a, b, as, ae, bs, be, n)
			}
			lastA, lastB = as, bs
			total += n
		}
		if total != want || v.Elems[3].Int != int64(want) {
			t.Fatalf("LCS %q %q IDX: ranges cover %d, len %d, want %d", a, b, total, v.Elems[3].Int, want)
		}
	}
}

func randLCSString(rng *rand.Rand) string {
	b := make([]byte, rng.Intn(20))
	for i := range b {
		b[i] = "abc"[rng.Intn(3)]
	}
	return string(b)
}

func lcsLen(a, b string) int {
	prev := make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
			} else {
				cur[j] = max(prev[j], cur[j-1])
			}
		}
		prev = cur
	}
	return prev[len(b)]
}

func isSubsequence(s, of string) bool {
	i := 0
	for j := 0; j < len(of) && i < len(s); j++ {
		if s[i] == of[j] {
			i++
		}
	}
	return i == len(s)
}

// TestStringsNoAlloc asserts that the hot paths allocate nothing once the
// key exists: GET, SET of a same-size value (with and without options),
// MGET, INCR, STRLEN, GETRANGE.
func TestStringsNoAlloc(t *testing.T) {
	st := newStrTest(t)
	st.do("SET key value-0001")
	st.do("SET other value-0002")
	st.do("SET n 1000")
	cases := []struct {
		name string
		argv [][]byte
	}{
		{"GET", argv("GET", "key")},
		{"GET missing", argv("GET", "nokey")},
		{"SET", argv("SET", "key", "value-0003")},
		{"SET EX", argv("SET", "key", "value-0004", "EX", "100")},
		{"SET XX GET", argv("SET", "key", "value-0005", "XX", "GET")},
		{"MGET", argv("MGET", "key", "other", "nokey")},
		{"INCR", argv("INCR", "n")},
		{"STRLEN", argv("STRLEN", "key")},
		{"GETRANGE", argv("GETRANGE", "key", "1", "-2")},
	}
	for _, tc := range cases {
		st.s.Exec(st.c, tc.argv) // warm up: Out's capacity
		allocs := testing.AllocsPerRun(200, func() {
			st.c.Out = st.c.Out[:0]
			st.s.Exec(st.c, tc.argv)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

func argv(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestLongDoubleParse checks parseLongDouble's rounding against an exact
// oracle: for random decimal strings, the result must be the long double
// nearest to the exact rational (ties to even), found by searching the
// neighbours of a candidate.
func TestLongDoubleParse(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 3000; i++ {
		var sb strings.Builder
		if rng.Intn(2) == 0 {
			sb.WriteByte('-')
		}
		for n := 1 + rng.Intn(30); n > 0; n-- {
			sb.WriteByte(byte('0' + rng.Intn(10)))
		}
		if rng.Intn(2) == 0 {
			sb.WriteByte('.')
			for n := rng.Intn(30); n > 0; n-- {
				sb.WriteByte(byte('0' + rng.Intn(10)))
			}
		}
		exp := 0
		switch rng.Intn(3) {
		case 0:
			exp = rng.Intn(80) - 40
		case 1:
			exp = rng.Intn(9900) - 4950
		}
		if exp != 0 {
			fmt.Fprintf(&sb, "e%d", exp)
		}
		s := sb.String()
		checkLongDouble(t, s)
	}
	for i := 0; i < 1000; i++ {
		var sb strings.Builder
		sb.WriteString("0x")
		for n := 1 + rng.Intn(24); n > 0; n-- {
			sb.WriteByte("0123456789abcdefABCDEF"[rng.Intn(22)])
		}
		if rng.Intn(2) == 0 {
			sb.WriteByte('.')
			for n := 1 + rng.Intn(20); n > 0; n-- {
				sb.WriteByte("0123456789abcdef"[rng.Intn(16)])
			}
		}
		fmt.Fprintf(&sb, "p%d", rng.Intn(33000)-16500)
		checkLongDouble(t, sb.String())
	}
	for _, s := range []string{"0.1", "0.2", "0.3", "1e400", "1e-400", "3.6451995318824746025e-4951",
		"1.8225997659412373013e-4951", "1.8225997659412373012e-4951", "1.18973149535723176502e+4932",
		"1.18973149535723176508e+4932", "3.3621031431120935063e-4932", "9223372036854775807.5",
		"18446744073709551615", "18446744073709551617", "0.000000000000000000000000000001"} {
		checkLongDouble(t, s)
	}
}

// checkLongDouble compares parseLongDouble(s) with the exact value of s.
func checkLongDouble(t *testing.T, s string) {
	t.Helper()
	exact, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("oracle cannot read %q", s)
	}
	got := parseLongDouble([]byte(s))
	want, refused := nearestLongDouble(exact)
	if refused {
		if got != nil {
			t.Errorf("%q: got %s, want refused", s, got.Text('g', 25))
		}
		return
	}
	if got == nil {
		t.Errorf("%q: refused, want %s", s, want.RatString())
		return
	}
	if r, _ := got.Rat(nil); r.Cmp(want) != 0 {
		t.Errorf("%q: got %s, want %s", s, got.Text('g', 25), new(big.Float).SetRat(want).Text('g', 25))
	}
}

// nearestLongDouble finds the long double nearest to x (ties to even) by
// plain rational arithmetic: the grid spacing at x's magnitude, the two
// grid points around x, and a comparison of distances. refused reports
// overflow or a nonzero x that rounds to zero.
func nearestLongDouble(x *big.Rat) (nearest *big.Rat, refused bool) {
	if x.Sign() == 0 {
		return x, false
	}
	ax := new(big.Rat).Abs(x)
	// e such that 2^e <= |x| < 2^(e+1).
	e := ax.Num().BitLen() - ax.Denom().BitLen()
	for pow2Rat(e).Cmp(ax) > 0 {
		e--
	}
	for pow2Rat(e+1).Cmp(ax) <= 0 {
		e++
	}
	q := max(e-63, ldQuantum) // grid spacing 2^q
	scaled := new(big.Rat).Mul(ax, pow2Rat(-q))
	lo := new(big.Int).Quo(scaled.Num(), scaled.Denom())
	frac := new(big.Rat).Sub(scaled, new(big.Rat).SetInt(lo))
	switch c := frac.Cmp(big.NewRat(1, 2)); {
	case c > 0 || c == 0 && lo.Bit(0) == 1:
		lo.Add(lo, big.NewInt(1))
	}
	if lo.Sign() == 0 {
		return nil, true
	}
	r := new(big.Rat).Mul(new(big.Rat).SetInt(lo), pow2Rat(q))
	if r.Cmp(pow2Rat(ldMaxExp)) >= 0 {
		return nil, true
	}
	if x.Sign() < 0 {
		r.Neg(r)
	}
	return r, false
}

func pow2Rat(e int) *big.Rat {
	if e >= 0 {
		return new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), uint(e)))
	}
	return new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), uint(-e)))
}

// TestLongDoubleFormat checks LD_STR_HUMAN formatting of values whose
// printf("%.17Lf") output is known.
func TestLongDoubleFormat(t *testing.T) {
	cases := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"1", "1"},
		{"-1.5", "-1.5"},
		{"0.1", "0.1"},
		{"1e-17", "0.00000000000000001"},
		{"4e-18", "0"},
		{"-4e-18", "0"},
		{"6e-18", "0.00000000000000001"},
		{"0x1p-18", "0.00000381469726562"}, // a tie at the 18th decimal: to even
		{"0x3p-18", "0.00001144409179688"},
		{"123456789012345678", "123456789012345678"},
		{"1e20", "100000000000000000000"},
		{"inf", "inf"},
		{"-inf", "-inf"},
	}
	for _, tc := range cases {
		x := parseLongDouble([]byte(tc.in))
		if x == nil {
			t.Fatalf("%q refused", tc.in)
		}
		if got := string(appendLongDoubleHuman(nil, x)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzLongDouble checks parseLongDouble on arbitrary input: it never
// panics, refuses what strtold would not consume whole, and when the input
// is a plain decimal (which big.Rat reads exactly) gives the nearest long
// double. Formatting the result never panics either.
func FuzzLongDouble(f *testing.F) {
	for _, s := range []string{"0.1", "-1e400", "0x1.8p3", "inf", "nan", " 1", "1e", "0x", "1e-4951",
		"00.000e-00", "+.5", "1e999999999999999999", "0x1p-16446"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x := parseLongDouble([]byte(s))
		if x != nil {
			appendLongDoubleHuman(nil, x)
			if x.Prec() != ldMantBits && !x.IsInf() {
				t.Fatalf("%q: precision %d", s, x.Prec())
			}
		}
		if len(s) > 200 || !plainDecimal(s) {
			return
		}
		checkLongDouble(t, s)
	})
}

// plainDecimal reports whether s is a decimal float with a small exponent,
// a form big.Rat and strtold read alike.
func plainDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			if digits == 0 || (c != 'e' && c != 'E') {
				return false
			}
			e, err := strconv.Atoi(s[i+1:])
			return err == nil && e > -6000 && e < 6000 && s[i+1] != '+' && s[i+1] != ' '
		}
	}
	return digits > 0
}

// FuzzStringCommands runs arbitrary argument lists through the family's
// commands: no command may panic, and every reply must be well-formed.
func FuzzStringCommands(f *testing.F) {
	for _, s := range []string{
		"SET k v EX 10 GET", "SET k v NX XX", "GETEX k PXAT 1", "SETRANGE k 5 abc", "GETRANGE k -3 -1",
		"LCS a b IDX MINMATCHLEN 2 WITHMATCHLEN", "INCRBYFLOAT k 0x1p3", "MSETNX a 1 b 2", "APPEND k x",
		"DECRBY k -9223372036854775808", "SET k 10\nINCR k\nGETRANGE k 0 -1",
	} {
		f.Add(s)
	}
	names := []string{"get", "set", "setnx", "setex", "psetex", "getset", "getdel", "getex", "mget",
		"mset", "msetnx", "append", "strlen", "incr", "decr", "incrby", "decrby", "incrbyfloat",
		"getrange", "substr", "setrange", "lcs"}
	f.Fuzz(func(t *testing.T, script string) {
		st := newStrTest(t)
		st.s.Config.ProtoMaxBulkLen = 1 << 16
		st.do("SET a abcabc")
		st.addList("l")
		for _, line := range strings.Split(script, "\n") {
			args := bytes.Fields([]byte(line))
			if len(args) == 0 || len(args) > 12 {
				continue
			}
			// Steer the first word to a command of this family.
			if lookupName(st.s.cmds.byName, args[0]) == nil {
				args[0] = []byte(names[int(args[0][0])%len(names)])
			}
			st.c.Out = st.c.Out[:0]
			st.s.Exec(st.c, args)
			if st.s.Stats.UnexpectedErrors != 0 {
				t.Fatalf("%q panicked", line)
			}
			r := bufioReader(st.c.Out)
			if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
				t.Fatalf("%q: malformed reply %q", line, st.c.Out)
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	st := newStrTest(b)
	st.do("SET key:000001 " + strings.Repeat("v", 32))
	a := argv("GET", "key:000001")
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}

func BenchmarkSet(b *testing.B) {
	st := newStrTest(b)
	a := argv("SET", "key:000001", strings.Repeat("v", 32))
	st.s.Exec(st.c, a)
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}

// BenchmarkPipeline runs batches of 16 commands (half GET, half SET over
// 1000 keys) into one output buffer, as the loop does for a pipelined
// client; ns/op is per command.
func BenchmarkPipeline(b *testing.B) {
	st := newStrTest(b)
	const keys = 1000
	var batch [][][]byte
	for i := 0; i < keys; i++ {
		k := fmt.Sprintf("key:%06d", i)
		st.s.Exec(st.c, argv("SET", k, strings.Repeat("v", 32)))
		if i%2 == 0 {
			batch = append(batch, argv("GET", k))
		} else {
			batch = append(batch, argv("SET", k, strings.Repeat("w", 32)))
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%16 == 0 {
			st.c.Out = st.c.Out[:0]
		}
		st.s.Exec(st.c, batch[i%keys])
		i++
	}
}

func BenchmarkMGet(b *testing.B) {
	st := newStrTest(b)
	a := [][]byte{[]byte("MGET")}
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("key:%06d", i)
		st.do("SET " + k + " value")
		a = append(a, []byte(k))
	}
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}

func BenchmarkIncr(b *testing.B) {
	st := newStrTest(b)
	a := argv("INCR", "counter")
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}

func BenchmarkIncrByFloat(b *testing.B) {
	st := newStrTest(b)
	a := argv("INCRBYFLOAT", "f", "0.1")
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}

func BenchmarkLCS(b *testing.B) {
	st := newStrTest(b)
	st.do("SET a " + strings.Repeat("ohmytext", 32))
	st.do("SET b " + strings.Repeat("mynewtext", 32))
	a := argv("LCS", "a", "b", "IDX")
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, a)
	}
}
