package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/kv"
	"shoal/resp"
)

// keysEnv is a shard on a fake clock with one client, for the key
// family's Go tests.
type keysEnv struct {
	t   testing.TB
	now int64
	s   *Shard
	c   *Client
}

func newKeysEnv(t testing.TB) *keysEnv {
	e := &keysEnv{t: t, now: scriptStart}
	e.s = newTestShard(&e.now)
	e.c = e.s.NewClient()
	return e
}

// advance moves the fake clock by ms.
func (e *keysEnv) advance(ms int64) {
	e.now += ms
	e.s.Tick()
}

// set stores a string as SET would, without depending on the string
// family.
func (e *keysEnv) set(key, val string) {
	e.s.setString([]byte(key), []byte(val), stringEncoding([]byte(val)), kv.NoExpire, false)
}

// exec runs one command and returns its parsed reply.
func (e *keysEnv) exec(args ...string) resp.Value {
	e.t.Helper()
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	e.c.Out = e.c.Out[:0]
	e.s.Tick()
	e.s.Exec(e.c, argv)
	r := bufio.NewReader(bytes.NewReader(e.c.Out))
	v, err := resp.ReadReply(r)
	if err != nil || r.Buffered() != 0 {
		e.t.Fatalf("%q: bad reply %q: %v", args, e.c.Out, err)
	}
	return v
}

// do runs one command and renders its reply on one line.
func (e *keysEnv) do(args ...string) string {
	e.t.Helper()
	v := e.exec(args...)
	return renderReply(&v)
}

func (e *keysEnv) expect(want string, args ...string) {
	e.t.Helper()
	if got := e.do(args...); got != want {
		e.t.Fatalf("%q: got %s, want %s", args, got, want)
	}
}

// scanAll runs a complete SCAN iteration with the given options and
// returns the keys seen (with repeats) and the number of calls.
func (e *keysEnv) scanAll(opts ...string) ([]string, int) {
	e.t.Helper()
	var keys []string
	cursor := "0"
	for calls := 1; ; calls++ {
		v := e.exec(append([]string{"SCAN", cursor}, opts...)...)
		if v.Type != resp.TypeArray || len(v.Elems) != 2 {
			e.t.Fatalf("SCAN reply %s", renderReply(&v))
		}
		for _, k := range v.Elems[1].Elems {
			keys = append(keys, string(k.Str))
		}
		cursor = string(v.Elems[0].Str)
		if cursor == "0" {
			return keys, calls
		}
		if calls > 1_000_000 {
			e.t.Fatal("SCAN does not end")
		}
	}
}

func sortedUnique(keys []string) []string {
	keys = slices.Clone(keys)
	sort.Strings(keys)
	return slices.Compact(keys)
}

// testObj stands for the object types (hashes, lists...) in tests of
// the generic commands: it copies itself for COPY.
type testObj struct{ fields map[string]string }

func (o *testObj) copyValue() any {
	cp := &testObj{fields: make(map[string]string, len(o.fields))}
	for k, v := range o.fields {
		cp.fields[k] = v
	}
	return cp
}

// opaqueObj is an object value without copyValue.
type opaqueObj struct{}

func (e *keysEnv) setObj(key string, typ, enc uint8, obj any) {
	if r := e.s.db.Find([]byte(key)); r != kv.Nil {
		e.s.db.Delete(r)
	}
	e.s.db.InsertObject([]byte(key), obj, makeMeta(typ, enc, e.s.lruClock), kv.NoExpire)
}

func TestKeysHotPathsDoNotAllocate(t *testing.T) {
	e := newKeysEnv(t)
	for i := range 1000 {
		e.set("key:"+strconv.Itoa(i), "value")
	}
	e.set("ttl", "v")
	e.exec("EXPIRE", "ttl", "1000")
	e.c.Out = make([]byte, 0, 1<<16)
	cases := []struct {
		name string
		argv []string
	}{
		{"DEL missing", []string{"DEL", "nosuch", "nosuch2"}},
		{"UNLINK missing", []string{"UNLINK", "nosuch"}},
		{"EXISTS", []string{"EXISTS", "key:1", "key:2", "nosuch"}},
		{"TYPE", []string{"TYPE", "key:1"}},
		{"TOUCH", []string{"TOUCH", "key:1", "key:2"}},
		{"EXPIRE", []string{"EXPIRE", "key:3", "100"}},
		{"PEXPIRE GT", []string{"PEXPIRE", "key:3", "200000", "GT"}},
		{"EXPIREAT", []string{"EXPIREAT", "key:4", "33177117420"}},
		{"PERSIST", []string{"PERSIST", "key:4"}},
		{"TTL", []string{"TTL", "ttl"}},
		{"PTTL", []string{"PTTL", "ttl"}},
		{"EXPIRETIME", []string{"EXPIRETIME", "ttl"}},
		{"TTL missing", []string{"TTL", "nosuch"}},
		{"SCAN", []string{"SCAN", "0"}},
		{"SCAN MATCH COUNT TYPE", []string{"SCAN", "0", "MATCH", "key:1*", "COUNT", "100", "TYPE", "string"}},
		{"KEYS", []string{"KEYS", "key:1?"}},
		{"RANDOMKEY", []string{"RANDOMKEY"}},
		{"OBJECT ENCODING", []string{"OBJECT", "ENCODING", "key:1"}},
		{"OBJECT IDLETIME", []string{"OBJECT", "IDLETIME", "key:1"}},
	}
	for _, tc := range cases {
		argv := make([][]byte, len(tc.argv))
		for i, a := range tc.argv {
			argv[i] = []byte(a)
		}
		allocs := testing.AllocsPerRun(100, func() {
			e.c.Out = e.c.Out[:0]
			e.s.Exec(e.c, argv)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, allocs)
		}
		if bytes.HasPrefix(e.c.Out, []byte("-")) {
			t.Errorf("%s: error reply %q", tc.name, e.c.Out)
		}
	}

	// Deleting and re-adding a key reuses its slot.
	del := [][]byte{[]byte("DEL"), []byte("churn")}
	allocs := testing.AllocsPerRun(100, func() {
		e.s.setString([]byte("churn"), []byte("v"), encEmbstr, kv.NoExpire, false)
		e.c.Out = e.c.Out[:0]
		e.s.Exec(e.c, del)
	})
	if allocs != 0 {
		t.Errorf("DEL: %v allocations per call", allocs)
	}
}

func TestScanCursorParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"", 0, true},
		{"17", 17, true},
		{"007", 7, true},
		{"+5", 5, true},
		{"-1", 1<<64 - 1, true},
		{"-0", 0, true},
		{"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false},
		{"-18446744073709551615", 1, true},
		{"-18446744073709551616", 0, false},
		{"99999999999999999999999", 0, false},
		{"5\x00junk", 5, true},
		{"\x00", 0, true},
		{" 5", 0, false},
		{"\t5", 0, false},
		{"5 ", 0, false},
		{"-", 0, false},
		{"+", 0, false},
		{"+-1", 0, false},
		{"0x10", 0, false},
		{"1e3", 0, false},
		{"abc", 0, false},
	} {
		got, ok := parseScanCursor([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseScanCursor(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzScanCursor checks the cursor parser against strconv on the same
// rules (strtoul on a C string, no leading space).
func FuzzScanCursor(f *testing.F) {
	for _, s := range []string{"0", "", "-1", "+7", " 1", "18446744073709551616", "12\x0034", "-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseScanCursor(b)
		want, wantOK := uint64(0), true
		s := string(b)
		switch {
		case len(s) > 0 && strings.ContainsRune(" \t\n\v\f\r", rune(s[0])):
			wantOK = false
		default:
			if i := strings.IndexByte(s, 0); i >= 0 {
				s = s[:i]
			}
			if s == "" {
				break
			}
			neg := false
			if s[0] == '+' || s[0] == '-' {
				neg = s[0] == '-'
				s = s[1:]
			}
			if s == "" || strings.Trim(s, "0123456789") != "" {
				wantOK = false
				break
			}
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				wantOK = false
				break
			}
			if neg {
				v = -v
			}
			want = v
		}
		if ok != wantOK || (ok && got != want) {
			t.Fatalf("parseScanCursor(%q) = %d, %v; want %d, %v", b, got, ok, want, wantOK)
		}
	})
}

// FuzzKeysCommands runs the family's commands with arbitrary arguments
// on a small key space: no command may panic, and every reply must be
// one well-formed RESP reply.
func FuzzKeysCommands(f *testing.F) {
	seeds := []string{
		"SCAN\n0\nMATCH\nk*\nCOUNT\n3\nTYPE\nstring",
		"EXPIRE\nk1\n100\nGT",
		"PEXPIREAT\nk2\n-9223372036854775808",
		"COPY\nk1\nk9\nDB\n0\nREPLACE",
		"RENAME\nk1\nk2",
		"OBJECT\nENCODING\nk3",
		"KEYS\n[a-\\",
		"SCAN\n-1\nCOUNT\n9223372036854775807",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	names := []string{"del", "unlink", "exists", "type", "touch", "expire", "pexpire",
		"expireat", "pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist",
		"keys", "scan", "randomkey", "rename", "renamenx", "copy", "object"}
	f.Fuzz(func(t *testing.T, in []byte) {
		parts := bytes.Split(in, []byte("\n"))
		if len(parts) > 16 {
			parts = parts[:16]
		}
		if !slices.ContainsFunc(names, func(n string) bool { return eqFold(parts[0], n) }) {
			return
		}
		e := newKeysEnv(t)
		for i := range 20 {
			e.set("k"+strconv.Itoa(i), strconv.Itoa(i*997))
		}
		e.setObj("h", typeHash, encListpack, &testObj{fields: map[string]string{"a": "b"}})
		e.exec("PEXPIRE", "k5", "10")
		e.advance(20)
		e.c.Out = e.c.Out[:0]
		e.s.Exec(e.c, parts)
		if e.s.Stats.UnexpectedErrors != 0 {
			t.Fatalf("%q panicked", parts)
		}
		r := bufio.NewReader(bytes.NewReader(e.c.Out))
		if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
			t.Fatalf("%q: bad reply %q: %v", parts, e.c.Out, err)
		}
	})
}

func TestScanFullIteration(t *testing.T) {
	for _, n := range []int{0, 1, 7, 100, 3000} {
		for _, count := range []string{"1", "10", "1000"} {
			e := newKeysEnv(t)
			var want []string
			for i := range n {
				k := "key:" + strconv.Itoa(i)
				e.set(k, "v")
				want = append(want, k)
			}
			sort.Strings(want)
			got, calls := e.scanAll("COUNT", count)
			if len(got) != n {
				t.Errorf("n=%d COUNT %s: %d keys returned, want each once (no resize happened)", n, count, len(got))
			}
			if u := sortedUnique(got); !slices.Equal(u, want) && !(n == 0 && len(u) == 0) {
				t.Errorf("n=%d COUNT %s: keys differ: got %d, want %d", n, count, len(u), len(want))
			}
			if count == "1000" && n <= 100 && calls != 1 {
				t.Errorf("n=%d COUNT 1000: %d calls, want 1", n, calls)
			}
		}
	}
}

func TestScanFilters(t *testing.T) {
	e := newKeysEnv(t)
	var wantA []string
	for i := range 500 {
		k := "b:" + strconv.Itoa(i)
		if i%3 == 0 {
			k = "a:" + strconv.Itoa(i)
			wantA = append(wantA, k)
		}
		e.set(k, "v")
	}
	for i := range 50 {
		e.setObj("h:"+strconv.Itoa(i), typeHash, encListpack, &testObj{})
	}
	sort.Strings(wantA)
	got, _ := e.scanAll("MATCH", "a:*", "COUNT", "7")
	if !slices.Equal(sortedUnique(got), wantA) {
		t.Errorf("MATCH a:*: got %d keys, want %d", len(sortedUnique(got)), len(wantA))
	}
	got, _ = e.scanAll("TYPE", "HASH", "COUNT", "20")
	if len(sortedUnique(got)) != 50 || !strings.HasPrefix(got[0], "h:") {
		t.Errorf("TYPE hash: got %d keys", len(sortedUnique(got)))
	}
	got, _ = e.scanAll("TYPE", "list")
	if len(got) != 0 {
		t.Errorf("TYPE list: got %d keys", len(got))
	}
	got, _ = e.scanAll("TYPE", "nosuchtype")
	if len(got) != 0 {
		t.Errorf("TYPE nosuchtype: got %d keys", len(got))
	}
	// A TYPE argument is compared as a C string.
	got, _ = e.scanAll("TYPE", "hash\x00junk")
	if len(sortedUnique(got)) != 50 {
		t.Errorf("TYPE hash\\0junk: got %d keys", len(got))
	}
}

func TestScanExpiry(t *testing.T) {
	e := newKeysEnv(t)
	for i := range 100 {
		k := "k" + strconv.Itoa(i)
		e.set(k, "v")
		if i%2 == 0 {
			e.exec("PEXPIRE", k, "100")
		}
	}
	e.advance(200)
	hits, misses := e.s.Stats.KeyspaceHits, e.s.Stats.KeyspaceMisses
	got, _ := e.scanAll("COUNT", "1000")
	if len(got) != 50 {
		t.Errorf("SCAN returned %d keys, want the 50 live ones", len(got))
	}
	if e.s.db.Len() != 50 || e.s.Stats.ExpiredKeys != 50 {
		t.Errorf("after SCAN: %d keys, %d expired; want 50, 50", e.s.db.Len(), e.s.Stats.ExpiredKeys)
	}
	if e.s.Stats.KeyspaceHits != hits || e.s.Stats.KeyspaceMisses != misses {
		t.Error("SCAN without TYPE counted keyspace hits or misses")
	}

	// TYPE reads each key as a lookup: an expired key is deleted and
	// counted as a miss, and its type is "none", so TYPE none lists it.
	e = newKeysEnv(t)
	e.set("a", "1")
	e.set("b", "2")
	e.exec("PEXPIRE", "a", "1")
	e.advance(10)
	e.expect(`["0" ["a"]]`, "SCAN", "0", "TYPE", "none")
	if e.s.db.Len() != 1 {
		t.Errorf("%d keys left, want 1", e.s.db.Len())
	}
	if e.s.Stats.KeyspaceHits != 1 || e.s.Stats.KeyspaceMisses != 1 {
		t.Errorf("SCAN TYPE: hits %d misses %d, want 1 1", e.s.Stats.KeyspaceHits, e.s.Stats.KeyspaceMisses)
	}
}

// TestScanUnderChurn checks SCAN's guarantee while the key space changes
// between calls (keys added and removed, the table growing and
// shrinking): every key present for the whole iteration is returned.
func TestScanUnderChurn(t *testing.T) {
	var grew, shrank, midResize int
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 0x5ca9))
		e := newKeysEnv(t)
		stable := map[string]bool{}
		for i := range 100 + rng.IntN(1000) {
			k := "stable:" + strconv.Itoa(i)
			e.set(k, "v")
			stable[k] = true
		}
		var churn []string
		next := 0
		seen := map[string]bool{}
		count := strconv.Itoa(1 + rng.IntN(20))
		cursor := "0"
		buckets := e.s.db.Stats().Buckets
		for calls := 0; ; calls++ {
			if calls > 100000 {
				t.Fatal("SCAN does not end")
			}
			if e.s.db.Stats().Rehashing {
				midResize++
			}
			v := e.exec("SCAN", cursor, "COUNT", count)
			for _, k := range v.Elems[1].Elems {
				seen[string(k.Str)] = true
			}
			cursor = string(v.Elems[0].Str)
			if cursor == "0" {
				break
			}
			// Grow and shrink phases, so the table resizes both ways
			// while the scan goes on.
			grow := (calls/15)%2 == 0
			for range rng.IntN(400) {
				if grow || len(churn) == 0 {
					k := "churn:" + strconv.Itoa(next)
					next++
					e.set(k, "v")
					churn = append(churn, k)
				} else {
					i := rng.IntN(len(churn))
					e.exec("DEL", churn[i])
					churn[i] = churn[len(churn)-1]
					churn = churn[:len(churn)-1]
				}
			}
			e.s.db.Rehash(rng.IntN(64))
			switch b := e.s.db.Stats().Buckets; {
			case b > buckets:
				grew++
			case b < buckets:
				shrank++
			}
			buckets = e.s.db.Stats().Buckets
		}
		for k := range stable {
			if !seen[k] {
				t.Fatalf("seed %d: stable key %s not returned", seed, k)
			}
		}
	}
	t.Logf("resizes seen: %d grew, %d shrank, %d scans mid-resize", grew, shrank, midResize)
	if grew == 0 || shrank == 0 || midResize == 0 {
		t.Errorf("the table should grow, shrink and be mid-resize during scans: %d, %d, %d", grew, shrank, midResize)
	}
}

func TestKeysCommand(t *testing.T) {
	e := newKeysEnv(t)
	model := map[string]bool{}
	for i := range 2000 {
		k := fmt.Sprintf("user:%d:name", i)
		if i%5 == 0 {
			k = fmt.Sprintf("item:%d", i)
		}
		e.set(k, "v")
		model[k] = true
	}
	e.set("a\x00b", "v")
	model["a\x00b"] = true
	for i := range 10 {
		k := fmt.Sprintf("user:%d:name", i)
		e.exec("PEXPIRE", k, "5")
		delete(model, k)
	}
	e.advance(10)
	for _, pat := range []string{"*", "user:*", "item:1?", "*:1*:*", "[a-i]*", "nomatch*", "a?b", "*\x00*"} {
		v := e.exec("KEYS", pat)
		var got, want []string
		for _, el := range v.Elems {
			got = append(got, string(el.Str))
		}
		for k := range model {
			if globMatch([]byte(pat), []byte(k), false) {
				want = append(want, k)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("KEYS %q: got %d keys, want %d", pat, len(got), len(want))
		}
	}
	// KEYS skips expired keys without deleting them.
	if e.s.db.Len() != 2001 || e.s.Stats.ExpiredKeys != 0 {
		t.Errorf("KEYS changed the store: %d keys, %d expired", e.s.db.Len(), e.s.Stats.ExpiredKeys)
	}
}

func TestRandomKey(t *testing.T) {
	e := newKeysEnv(t)
	e.expect("(nil)", "RANDOMKEY")
	for i := range 8 {
		e.set("k"+strconv.Itoa(i), "v")
	}
	seen := map[string]bool{}
	for range 400 {
		seen[e.do("RANDOMKEY")] = true
	}
	if len(seen) != 8 {
		t.Errorf("RANDOMKEY drew %d distinct keys of 8 in 400 draws", len(seen))
	}
	// Expired keys are deleted as they are drawn, until a live one (or
	// none) remains.
	for i := range 8 {
		e.exec("PEXPIRE", "k"+strconv.Itoa(i), "5")
	}
	e.set("live", "v")
	e.advance(10)
	e.expect(`"live"`, "RANDOMKEY")
	e.exec("DEL", "live")
	e.expect("(nil)", "RANDOMKEY")
	if e.s.db.Len() != 0 {
		t.Errorf("%d keys left", e.s.db.Len())
	}
}

func TestObjectClock(t *testing.T) {
	e := newKeysEnv(t)
	e.set("k", "v")
	e.expect(":0", "OBJECT", "IDLETIME", "k")
	e.advance(5500)
	// Reads that do not touch the clock.
	for _, cmd := range [][]string{{"EXISTS", "k"}, {"TYPE", "k"}, {"TTL", "k"},
		{"OBJECT", "ENCODING", "k"}, {"SCAN", "0", "TYPE", "string"}, {"KEYS", "*"}} {
		e.exec(cmd...)
	}
	e.expect(":5", "OBJECT", "IDLETIME", "k")
	e.expect(":1", "TOUCH", "k", "nosuch")
	e.expect(":0", "OBJECT", "IDLETIME", "k")
	e.advance(3000)
	e.exec("EXPIRE", "k", "100") // a write lookup touches
	e.expect(":0", "OBJECT", "IDLETIME", "k")

	// The 24-bit clock wraps.
	r := e.s.db.Find([]byte("k"))
	e.s.db.SetMeta(r, makeMeta(typeString, encEmbstr, lruMask-2))
	e.s.lruClock = 4
	if got := e.s.idleSeconds(r); got != 6 {
		t.Errorf("idle across the wrap = %d, want 6", got)
	}
}

func TestObjectRefcount(t *testing.T) {
	e := newKeysEnv(t)
	for _, tc := range []struct {
		val  string
		want string
	}{
		{"0", ":2147483647"}, {"9999", ":2147483647"}, {"10000", ":1"}, {"-1", ":1"},
		{"abc", ":1"}, {"01", ":1"}, {strings.Repeat("x", 100), ":1"},
	} {
		e.set("k", tc.val)
		e.expect(tc.want, "OBJECT", "REFCOUNT", "k")
	}
	// A raw string holding digits (as APPEND leaves it) is not shared.
	e.s.setString([]byte("r"), []byte("5"), encRaw, kv.NoExpire, false)
	e.expect(":1", "OBJECT", "REFCOUNT", "r")
	e.setObj("h", typeHash, encHashtable, &testObj{})
	e.expect(":1", "OBJECT", "REFCOUNT", "h")
	e.expect(`"hashtable"`, "OBJECT", "ENCODING", "h")
	e.expect("+hash", "TYPE", "h")
}

func TestObjectValues(t *testing.T) {
	e := newKeysEnv(t)
	orig := &testObj{fields: map[string]string{"f": "v"}}
	e.setObj("h", typeHash, encListpack, orig)
	e.exec("EXPIREAT", "h", "33177117420")

	// RENAME moves the object itself, with its TTL and encoding.
	e.expect("+OK", "RENAME", "h", "h2")
	r := e.s.db.Find([]byte("h2"))
	if r == kv.Nil || e.s.db.Obj(r) != any(orig) {
		t.Fatal("RENAME did not move the object")
	}
	e.expect(":33177117420", "EXPIRETIME", "h2")
	e.expect(`"listpack"`, "OBJECT", "ENCODING", "h2")
	e.expect(":0", "EXISTS", "h")

	// COPY makes an independent copy.
	e.expect(":1", "COPY", "h2", "h3")
	r3 := e.s.db.Find([]byte("h3"))
	cp, ok := e.s.db.Obj(r3).(*testObj)
	if !ok || cp == orig || cp.fields["f"] != "v" {
		t.Fatalf("COPY: got %#v", e.s.db.Obj(r3))
	}
	cp.fields["f"] = "changed"
	if orig.fields["f"] != "v" {
		t.Error("COPY shares state with the original")
	}
	e.expect(":33177117420", "EXPIRETIME", "h3")
	e.expect("+hash", "TYPE", "h3")

	// A string overwrites an object and an object a string.
	e.set("s", "str")
	e.expect("+OK", "RENAME", "s", "h3")
	e.expect("+string", "TYPE", "h3")
	e.expect(":-1", "TTL", "h3")
	e.expect(":1", "COPY", "h2", "h3", "REPLACE")
	e.expect("+hash", "TYPE", "h3")
	e.expect(":2", "DEL", "h2", "h3", "h2")
	if e.s.db.Len() != 0 {
		t.Errorf("%d keys left", e.s.db.Len())
	}

	// An object that cannot copy itself is a bug: the client gets an
	// error, nothing changes.
	e.setObj("o", typeSet, encHashtable, opaqueObj{})
	e.set("dst", "v")
	e.expect("-ERR internal error while executing 'copy'", "COPY", "o", "dst", "REPLACE")
	if r := e.s.db.Find([]byte("dst")); r == kv.Nil || string(e.s.db.Str(r)) != "v" {
		t.Error("a failed COPY changed the destination")
	}
	if e.s.Stats.UnexpectedErrors != 1 {
		t.Errorf("UnexpectedErrors = %d", e.s.Stats.UnexpectedErrors)
	}
}

// TestKeysModel drives the family with random commands, and checks each
// reply and the key space against a simple model.
func TestKeysModel(t *testing.T) {
	type entry struct {
		val    string
		expire int64 // 0: none
	}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		e := newKeysEnv(t)
		model := map[string]entry{}
		names := []string{"a", "b", "c", "d", "e", "f"}
		key := func() string { return names[rng.IntN(len(names))] }
		live := func(k string) (entry, bool) {
			v, ok := model[k]
			if ok && v.expire != 0 && v.expire <= e.now {
				delete(model, k)
				return v, false
			}
			return v, ok
		}
		for step := range 5000 {
			var want string
			var args []string
			switch op := rng.IntN(12); op {
			case 0:
				k, v := key(), strconv.Itoa(rng.IntN(100))
				e.set(k, v)
				model[k] = entry{val: v}
				continue
			case 1:
				e.advance(int64(rng.IntN(300)))
				continue
			case 2:
				a, b := key(), key()
				args = []string{"DEL", a, b}
				n := 0
				if _, ok := live(a); ok {
					n++
					delete(model, a)
				}
				if _, ok := live(b); ok {
					n++
					delete(model, b)
				}
				want = ":" + strconv.Itoa(n)
			case 3:
				a, b := key(), key()
				args = []string{"EXISTS", a, b, a}
				n := 0
				for _, k := range []string{a, b, a} {
					if _, ok := live(k); ok {
						n++
					}
				}
				want = ":" + strconv.Itoa(n)
			case 4:
				k, ms := key(), rng.IntN(1000)-100
				cond := []string{"", "NX", "XX", "GT", "LT"}[rng.IntN(5)]
				args = []string{"PEXPIRE", k, strconv.Itoa(ms)}
				if cond != "" {
					args = append(args, cond)
				}
				when := e.now + int64(ms)
				v, ok := live(k)
				has := v.expire != 0
				switch {
				case !ok:
					want = ":0"
				case cond == "NX" && has, cond == "XX" && !has,
					cond == "GT" && (!has || when <= v.expire),
					cond == "LT" && has && when >= v.expire:
					want = ":0"
				case when <= e.now:
					delete(model, k)
					want = ":1"
				default:
					model[k] = entry{val: v.val, expire: when}
					want = ":1"
				}
			case 5:
				k := key()
				args = []string{"PTTL", k}
				v, ok := live(k)
				switch {
				case !ok:
					want = ":-2"
				case v.expire == 0:
					want = ":-1"
				default:
					want = ":" + strconv.FormatInt(v.expire-e.now, 10)
				}
			case 6:
				k := key()
				args = []string{"TTL", k}
				v, ok := live(k)
				switch {
				case !ok:
					want = ":-2"
				case v.expire == 0:
					want = ":-1"
				default:
					want = ":" + strconv.FormatInt((v.expire-e.now+500)/1000, 10)
				}
			case 7:
				k := key()
				args = []string{"PERSIST", k}
				v, ok := live(k)
				if ok && v.expire != 0 {
					model[k] = entry{val: v.val}
					want = ":1"
				} else {
					want = ":0"
				}
			case 8, 9:
				a, b := key(), key()
				nx := op == 9
				args = []string{"RENAME", a, b}
				if nx {
					args[0] = "RENAMENX"
				}
				v, ok := live(a)
				_, dstOK := live(b)
				switch {
				case !ok:
					want = "-ERR no such key"
				case a == b && nx:
					want = ":0"
				case a == b:
					want = "+OK"
				case nx && dstOK:
					want = ":0"
				default:
					delete(model, a)
					model[b] = v
					want = "+OK"
					if nx {
						want = ":1"
					}
				}
			case 10:
				a, b := key(), key()
				replace := rng.IntN(2) == 0
				args = []string{"COPY", a, b}
				if replace {
					args = append(args, "REPLACE")
				}
				v, ok := live(a)
				_, dstOK := live(b)
				switch {
				case a == b:
					want = "-ERR source and destination objects are the same"
				case !ok:
					want = ":0"
				case dstOK && !replace:
					want = ":0"
				default:
					model[b] = v
					want = ":1"
				}
			case 11:
				k := key()
				args = []string{"TYPE", k}
				want = "+none"
				if _, ok := live(k); ok {
					want = "+string"
				}
			}
			if got := e.do(args...); got != want {
				t.Fatalf("seed %d step %d: %q = %s, want %s", seed, step, args, got, want)
			}
			// The store agrees with the model on every key.
			for _, k := range names {
				v, ok := live(k)
				r := e.s.db.Find([]byte(k))
				if r != kv.Nil && e.s.expired(r) {
					r = kv.Nil
				}
				if ok != (r != kv.Nil) {
					t.Fatalf("seed %d step %d after %q: key %s present=%v, model %v", seed, step, args, k, r != kv.Nil, ok)
				}
				if ok && (string(e.s.db.Str(r)) != v.val || e.s.db.Expire(r) != v.expire) {
					t.Fatalf("seed %d step %d after %q: key %s = %q/%d, model %q/%d", seed, step, args, k,
						e.s.db.Str(r), e.s.db.Expire(r), v.val, v.expire)
				}
			}
		}
	}
}

func BenchmarkKeys(b *testing.B) {
	e := newKeysEnv(b)
	for i := range 100000 {
		e.set("key:"+strconv.Itoa(i), "value")
	}
	e.c.Out = make([]byte, 0, 1<<20)
	for _, bc := range []struct {
		name string
		argv []string
	}{
		{"EXISTS", []string{"EXISTS", "key:12345"}},
		{"DEL-missing", []string{"DEL", "nosuch"}},
		{"EXPIRE", []string{"EXPIRE", "key:12345", "1000"}},
		{"TTL", []string{"TTL", "key:12345"}},
		{"TYPE", []string{"TYPE", "key:12345"}},
		{"SCAN-COUNT-100", []string{"SCAN", "0", "COUNT", "100"}},
		{"RANDOMKEY", []string{"RANDOMKEY"}},
	} {
		argv := make([][]byte, len(bc.argv))
		for i, a := range bc.argv {
			argv[i] = []byte(a)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.c.Out = e.c.Out[:0]
				e.s.Exec(e.c, argv)
			}
		})
	}
	b.Run("DEL-SET", func(b *testing.B) {
		argv := [][]byte{[]byte("DEL"), []byte("churn")}
		b.ReportAllocs()
		for b.Loop() {
			e.s.setString([]byte("churn"), []byte("v"), encEmbstr, kv.NoExpire, false)
			e.c.Out = e.c.Out[:0]
			e.s.Exec(e.c, argv)
		}
	})
	b.Run("KEYS-100k", func(b *testing.B) {
		argv := [][]byte{[]byte("KEYS"), []byte("key:1234*")}
		b.ReportAllocs()
		for b.Loop() {
			e.c.Out = e.c.Out[:0]
			e.s.Exec(e.c, argv)
		}
	})
}

// A time in the past given to EXPIRE deletes the key explicitly (Redis
// propagates a DEL): it is not counted as an expired key. A key found
// expired by DEL is.
func TestExpireStats(t *testing.T) {
	e := newKeysEnv(t)
	e.set("k", "v")
	dirty := e.s.dirty
	e.expect(":1", "EXPIRE", "k", "-1")
	if e.s.Stats.ExpiredKeys != 0 || e.s.dirty != dirty+1 || e.s.db.Len() != 0 {
		t.Errorf("EXPIRE in the past: expired_keys %d, dirty +%d, %d keys", e.s.Stats.ExpiredKeys, e.s.dirty-dirty, e.s.db.Len())
	}
	e.set("k", "v")
	e.exec("PEXPIRE", "k", "1")
	e.advance(5)
	e.expect(":0", "DEL", "k")
	if e.s.Stats.ExpiredKeys != 1 || e.s.db.Len() != 0 {
		t.Errorf("DEL of an expired key: expired_keys %d, %d keys", e.s.Stats.ExpiredKeys, e.s.db.Len())
	}
	// Refused conditions change nothing.
	e.set("k", "v")
	dirty = e.s.dirty
	e.expect(":0", "EXPIRE", "k", "10", "XX")
	e.expect(":0", "PERSIST", "k")
	if e.s.dirty != dirty {
		t.Errorf("refused EXPIRE/PERSIST changed dirty by %d", e.s.dirty-dirty)
	}
}
