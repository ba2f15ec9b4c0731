package engine

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shoal/cluster"
	"shoal/resp"
)

// sortModel is what SORT should answer, computed the plain way from the
// test's own copy of the data: elements, weights by key name, values.
type sortModel struct {
	elems []string          // the source, in its order (a list's, a sorted set's rank order)
	kv    map[string]string // string keys the patterns may read
}

type sortOpts struct {
	by          string // "" none, "nosort", or a pattern with '*'
	alpha, desc bool
	off, cnt    int64
	limit       bool
	gets        []string
}

func (o sortOpts) args(key string) []string {
	a := []string{"SORT", key}
	if o.by != "" {
		a = append(a, "BY", o.by)
	}
	if o.limit {
		a = append(a, "LIMIT", strconv.FormatInt(o.off, 10), strconv.FormatInt(o.cnt, 10))
	}
	for _, g := range o.gets {
		a = append(a, "GET", g)
	}
	if o.desc {
		a = append(a, "DESC")
	}
	if o.alpha {
		a = append(a, "ALPHA")
	}
	return a
}

// lookup is the value a pattern (one '*', no hash fields) names for e.
func (m *sortModel) lookup(p, e string) (string, bool) {
	if p == "#" {
		return e, true
	}
	i := strings.IndexByte(p, '*')
	if i < 0 {
		return "", false
	}
	v, ok := m.kv[p[:i]+e+p[i+1:]]
	return v, ok
}

// answer is the reply: the elements (or GET values, "(nil)" for none), or
// ok false for the conversion error.
func (m *sortModel) answer(o sortOpts) (out []string, ok bool) {
	type item struct {
		e      string
		w      float64
		aw     string
		hasAW  bool
		origin int
	}
	items := make([]item, len(m.elems))
	for i, e := range m.elems {
		items[i] = item{e: e, origin: i}
	}
	sorted := o.by != "nosort"
	if sorted {
		for i := range items {
			it := &items[i]
			w, found := it.e, true
			if o.by != "" {
				w, found = m.lookup(o.by, it.e)
			}
			if !found {
				continue
			}
			if o.alpha {
				it.aw, it.hasAW = w, true
				continue
			}
			f, err := strconv.ParseFloat(w, 64)
			if err != nil {
				return nil, false
			}
			it.w = f
		}
		slices.SortStableFunc(items, func(a, b item) int {
			c := 0
			switch {
			case !o.alpha:
				if c = cmp.Compare(a.w, b.w); c == 0 {
					c = strings.Compare(a.e, b.e)
				}
			case o.by != "":
				switch {
				case !a.hasAW && !b.hasAW:
				case !a.hasAW:
					c = -1
				case !b.hasAW:
					c = 1
				default:
					c = strings.Compare(a.aw, b.aw)
				}
			default:
				c = strings.Compare(a.e, b.e)
			}
			if o.desc {
				c = -c
			}
			return c
		})
	} else if o.desc {
		slices.Reverse(items)
	}
	lo, hi := 0, len(items)
	if o.limit {
		lo = int(max(o.off, 0))
		if lo > len(items) {
			lo = len(items)
		}
		if o.cnt >= 0 && int64(lo)+o.cnt < int64(hi) {
			hi = lo + int(o.cnt)
		}
	}
	for _, it := range items[lo:hi] {
		if len(o.gets) == 0 {
			out = append(out, strconv.Quote(it.e))
		}
		for _, g := range o.gets {
			if v, found := m.lookup(g, it.e); found {
				out = append(out, strconv.Quote(v))
			} else {
				out = append(out, "(nil)")
			}
		}
	}
	return out, true
}

// TestSortModel runs random SORTs of lists and sorted sets (whose input
// order is known) against the model: numeric and ALPHA, BY patterns with
// missing and equal weights, constant BY, LIMIT windows of every kind,
// DESC, GET. Each SORT also runs as SORT_RO and with STORE, which must
// agree with it.
func TestSortModel(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	var errors, windows, gets int
	for round := range 300 {
		p := newPSTest(t)
		c := p.s.NewClient()
		m := &sortModel{kv: map[string]string{}}
		n := rng.Intn(40)
		numeric := rng.Intn(3) > 0
		word := func() string {
			if numeric {
				switch rng.Intn(4) {
				case 0:
					return strconv.Itoa(rng.Intn(20) - 10)
				case 1:
					return strconv.FormatFloat(float64(rng.Intn(100))/8, 'f', -1, 64)
				}
				return strconv.Itoa(rng.Intn(1000))
			}
			return string(rune('a'+rng.Intn(6))) + strconv.Itoa(rng.Intn(30))
		}
		zset := rng.Intn(3) == 0
		key := "src"
		seen := map[string]bool{}
		for range n {
			e := word()
			if zset && seen[e] {
				continue
			}
			seen[e] = true
			if zset {
				// Scores give the rank order; ties are broken by member.
				sc := rng.Intn(5)
				p.exec(c, fmt.Sprintf("ZADD %s %d %s", key, sc, e))
				m.elems = append(m.elems, e)
				continue
			}
			p.exec(c, "RPUSH "+key+" "+e)
			m.elems = append(m.elems, e)
		}
		if zset {
			got := p.exec(c, "ZRANGE "+key+" 0 -1")
			m.elems = m.elems[:0]
			if len(got) == 1 && got[0] != "[]" {
				for _, q := range strings.Fields(strings.Trim(got[0], "[]")) {
					s, _ := strconv.Unquote(q)
					m.elems = append(m.elems, s)
				}
			}
		}
		// Weights and values for some elements.
		for e := range seen {
			if rng.Intn(4) > 0 {
				w := strconv.Itoa(rng.Intn(6))
				if rng.Intn(15) == 0 {
					w = "x" + w // not a number: an error unless ALPHA
				}
				m.kv["w_"+e] = w
				p.exec(c, "SET w_"+e+" "+w)
			}
			if rng.Intn(2) == 0 {
				v := "v" + e
				m.kv["o_"+e] = v
				p.exec(c, "SET o_"+e+" "+v)
			}
		}
		var o sortOpts
		switch rng.Intn(4) {
		case 0:
			o.by = "w_*"
		case 1:
			o.by = "nosort"
		}
		o.alpha = !numeric || rng.Intn(3) == 0
		o.desc = rng.Intn(2) == 0
		if rng.Intn(2) == 0 {
			o.limit = true
			o.off = int64(rng.Intn(n+4) - 2)
			o.cnt = int64(rng.Intn(n+4) - 2)
		}
		for range rng.Intn(3) {
			o.gets = append(o.gets, []string{"#", "o_*", "w_*", "none"}[rng.Intn(4)])
		}
		args := o.args(key)
		want, ok := m.answer(o)
		line := strings.Join(args, " ")
		got := p.exec(c, line)
		if !ok {
			if len(got) != 1 || got[0] != "-"+errSortScore {
				t.Fatalf("round %d: %s: %v, want the conversion error", round, line, got)
			}
			errors++
			continue
		}
		wantS := "[" + strings.Join(want, " ") + "]"
		if len(got) != 1 || got[0] != wantS {
			t.Fatalf("round %d: %s (elements %q, weights %v):\n got %v\nwant %s", round, line, m.elems, m.kv, got, wantS)
		}
		ro := p.exec(c, "SORT_RO"+strings.TrimPrefix(line, "SORT"))
		if ro[0] != wantS {
			t.Fatalf("round %d: SORT_RO differs: %v", round, ro)
		}
		stored := p.exec(c, line+" STORE dst")
		if stored[0] != fmt.Sprintf(":%d", len(want)) {
			t.Fatalf("round %d: STORE replied %v, want :%d", round, stored, len(want))
		}
		if len(want) > 0 {
			// Stored: the same elements, "" where GET read nothing.
			wantStored := strings.ReplaceAll(wantS, "(nil)", `""`)
			if l := p.exec(c, "LRANGE dst 0 -1"); l[0] != wantStored {
				t.Fatalf("round %d: stored %v, want %s", round, l, wantStored)
			}
		} else if ex := p.exec(c, "EXISTS dst"); ex[0] != ":0" {
			t.Fatalf("round %d: empty result left dst", round)
		}
		if o.limit && len(want) > 0 {
			windows++
		}
		if len(o.gets) > 0 && len(want) > 0 {
			gets++
		}
	}
	if errors < 5 || windows < 50 || gets < 50 {
		t.Errorf("the rounds covered %d conversion errors, %d windows, %d GETs: too few", errors, windows, gets)
	}
}

// TestSortHashFields: BY and GET reading hash fields, a field of a
// non-hash key, a missing field, and a pattern whose "->" ends it.
func TestSortHashFields(t *testing.T) {
	e := newSetsEnv(t)
	e.do("RPUSH", "l", "1", "2", "3")
	e.do("HSET", "h1", "w", "30", "name", "one")
	e.do("HSET", "h2", "w", "10", "name", "two")
	e.do("SET", "h3", "plain")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SORT", "l", "BY", "h*->w"}, `["3" "2" "1"]`},
		{[]string{"SORT", "l", "BY", "h*->w", "GET", "h*->name"}, `[(nil) "two" "one"]`},
		{[]string{"SORT", "l", "BY", "h*->w", "GET", "h*->name", "GET", "#", "GET", "h*->nope"}, `[(nil) "3" (nil) "two" "2" (nil) "one" "1" (nil)]`},
		{[]string{"SORT", "l", "BY", "h*->", "GET", "h*"}, `[(nil) (nil) "plain"]`},
		{[]string{"SORT", "l", "BY", "nosort", "GET", "h*->w->x"}, `[(nil) (nil) (nil)]`},
		{[]string{"SORT", "l", "BY", "h*->w", "DESC", "LIMIT", "0", "1", "GET", "h*->name"}, `["one"]`},
	} {
		e.c.Out = e.c.Out[:0]
		e.s.Exec(e.c, argv(tc.args...))
		if got := strings.Join(renderAll(t, e.c.Out), " "); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.args, got, tc.want)
		}
	}
}

// TestSortPatternSlot checks the cluster rule for BY and GET patterns
// against the slots Redis computes (CLUSTER KEYSLOT of the tag or key).
func TestSortPatternSlot(t *testing.T) {
	slot := func(k string) int { return int(cluster.KeySlot([]byte(k))) }
	for _, tc := range []struct {
		pattern string
		want    int
	}{
		{"{user}:*", slot("user")},
		{"{user}*", slot("user")},
		{"x{user}y_*->f", slot("user")},
		{"{user}?*", slot("user")},
		{"*{user}", -1},
		{"w_*", -1},
		{"w_?", -1},
		{"w_[ab]", -1},
		{`{u\ser}*`, -1},
		{"{}{user}*", -1},
		{"{}{user}", slot("{}{user}")},
		{"{user", slot("{user")},
		{"plain", slot("plain")},
		{"", slot("")},
		{"{a{b}*", slot("a{b")},
	} {
		if got := patternSlot([]byte(tc.pattern)); got != tc.want {
			t.Errorf("patternSlot(%q) = %d, want %d", tc.pattern, got, tc.want)
		}
	}
}

// TestSortGetKeys: the keys SORT and SORT_RO name, as Redis's
// sortGetKeys and sortROGetKeys find them.
func TestSortGetKeys(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []keyPos
	}{
		{[]string{"SORT", "k"}, []keyPos{{1, "RO ACCESS"}}},
		{[]string{"SORT", "k", "STORE", "d"}, []keyPos{{1, "RO ACCESS"}, {3, "OW UPDATE"}}},
		{[]string{"SORT", "k", "STORE", "d", "STORE", "e"}, []keyPos{{1, "RO ACCESS"}, {5, "OW UPDATE"}}},
		{[]string{"SORT", "k", "BY", "store", "STORE"}, []keyPos{{1, "RO ACCESS"}}},
		{[]string{"SORT", "k", "GET", "store", "store", "x"}, []keyPos{{1, "RO ACCESS"}, {5, "OW UPDATE"}}},
		{[]string{"SORT", "k", "LIMIT", "store", "store", "STORE", "d"}, []keyPos{{1, "RO ACCESS"}, {6, "OW UPDATE"}}},
		{[]string{"SORT", "k", "STORE"}, []keyPos{{1, "RO ACCESS"}}},
	} {
		if got := sortGetKeys(argv(tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.args, got, tc.want)
		}
	}
	if got := sortROGetKeys(argv("SORT_RO", "k", "STORE", "d")); !slices.Equal(got, []keyPos{{1, "RO ACCESS"}}) {
		t.Errorf("SORT_RO: %v", got)
	}
}

// TestSortWatch: SORT ... STORE touches its destination for WATCH; a
// SORT without STORE touches nothing.
func TestSortWatch(t *testing.T) {
	p := newPSTest(t)
	c, other := p.s.NewClient(), p.s.NewClient()
	p.exec(other, "RPUSH l 2 1")
	for _, tc := range []struct {
		cmd     string
		aborted bool
	}{
		{"SORT l", false},
		{"SORT l STORE x", false},
		{"SORT l STORE dst", true},
	} {
		p.exec(c, "WATCH dst")
		p.exec(other, tc.cmd)
		p.exec(c, "MULTI")
		p.exec(c, "PING")
		got := p.exec(c, "EXEC")
		if aborted := got[0] == "(nil-array)"; aborted != tc.aborted {
			t.Errorf("%s: EXEC %v, aborted %v, want %v", tc.cmd, got, aborted, tc.aborted)
		}
	}
}

// TestSortLarge sorts sets and sorted sets big enough for their larger
// encodings, and a list of many nodes, and checks the order in full.
func TestSortLarge(t *testing.T) {
	e := newSetsEnv(t)
	const n = 3000
	rng := rand.New(rand.NewSource(3))
	var nums []int
	for i := range n {
		v := rng.Intn(1_000_000)
		nums = append(nums, v)
		e.do("RPUSH", "l", strconv.Itoa(v))
		e.do("SADD", "s", "m"+strconv.Itoa(i))
		e.do("ZADD", "z", strconv.Itoa(v), "m"+strconv.Itoa(i))
	}
	slices.Sort(nums)
	got := e.strs("SORT", "l")
	for i, v := range nums {
		if got[i] != strconv.Itoa(v) {
			t.Fatalf("SORT l: element %d is %s, want %d", i, got[i], v)
		}
	}
	got = e.strs("SORT", "s", "ALPHA", "DESC", "LIMIT", "0", "5")
	want := []string{"m999", "m998", "m997", "m996", "m995"}
	if !slices.Equal(got, want) {
		t.Fatalf("SORT s: %v, want %v", got, want)
	}
	if got := e.strs("SORT", "z", "BY", "nosort", "LIMIT", "0", "3"); !slices.Equal(got, e.strs("ZRANGE", "z", "0", "2")) {
		t.Fatalf("SORT z BY nosort: %v", got)
	}
	if n := e.int("SORT", "s", "BY", "nosort", "STORE", "d"); n != 3000 {
		t.Fatalf("STORE: %d", n)
	}
	if got := e.strs("LRANGE", "d", "0", "2"); !slices.Equal(got, []string{"m0", "m1", "m10"}) {
		t.Fatalf("a stored set is sorted ALPHA: %v", got)
	}
}

// FuzzSortCommands runs SORT and SORT_RO with arbitrary options over a
// fixed data set: every reply must be well formed, and no command may
// fail inside (a panic turned into an error). An array reply holds at
// most the source's elements (times the GET patterns).
func FuzzSortCommands(f *testing.F) {
	for _, s := range []string{
		"l BY w_* GET # GET o_* LIMIT 1 2 DESC",
		"z ALPHA STORE d", "s BY nosort STORE d LIMIT -1 9",
		"l BY h_*->f GET h_*->g ALPHA", "n LIMIT 0 -1 BY nosort DESC",
		"l GET", "l STORE", "l LIMIT 9223372036854775807 9223372036854775807",
		"z BY {x}* GET #", "s foo",
	} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, line string, ro bool) {
		e := newSetsEnv(t)
		e.do("RPUSH", "l", "3", "1", "b", "2")
		e.do("RPUSH", "n", "3", "1", "2.5", "-1")
		e.do("SADD", "s", "x", "y", "1")
		e.do("ZADD", "z", "1", "a", "2", "b", "3", "c")
		e.do("MSET", "w_3", "1", "w_1", "2", "o_b", "B", "w_a", "x")
		e.do("HSET", "h_1", "f", "9", "g", "G")
		words := strings.Fields(line)
		if len(words) > 16 {
			words = words[:16]
		}
		name := "SORT"
		if ro {
			name = "SORT_RO"
		}
		args := append([]string{name}, words...)
		if len(args) < 2 {
			args = append(args, "l")
		}
		e.c.Out = e.c.Out[:0]
		e.s.Exec(e.c, argv(args...))
		r := bufioReader(e.c.Out)
		v, err := resp.ReadReply(r)
		if err != nil || r.Buffered() != 0 {
			t.Fatalf("%q: malformed reply %q: %v", args, e.c.Out, err)
		}
		if e.s.Stats.UnexpectedErrors != 0 || bytes.Contains(e.c.Out, []byte("internal error")) {
			t.Fatalf("%q: %q", args, e.c.Out)
		}
		if v.Type == resp.TypeArray && len(v.Elems) > 4*max(1, strings.Count(strings.ToUpper(line), "GET")) {
			t.Fatalf("%q: %d elements from a source of at most 4", args, len(v.Elems))
		}
	})
}

func BenchmarkSort(b *testing.B) {
	e := newSetsEnv(b)
	for i := range 1000 {
		v := strconv.Itoa((i * 7919) % 1000)
		e.do("RPUSH", "l", v)
		e.do("SADD", "s", "member:"+v)
		e.do("SET", "w_"+v, strconv.Itoa(i))
	}
	for _, bc := range []struct {
		name string
		args [][]byte
	}{
		{"numeric/1000", argv("SORT", "l")},
		{"numeric/1000/limit10", argv("SORT", "l", "LIMIT", "0", "10")},
		{"alpha/set1000", argv("SORT", "s", "ALPHA")},
		{"by/1000", argv("SORT", "l", "BY", "w_*")},
		{"nosort/limit10", argv("SORT", "l", "BY", "nosort", "LIMIT", "100", "10")},
		{"get/1000", argv("SORT", "l", "GET", "w_*")},
		{"store/1000", argv("SORT", "l", "STORE", "dst")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.c.Out = e.c.Out[:0]
				e.s.Exec(e.c, bc.args)
			}
		})
	}
}
