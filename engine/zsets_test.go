package engine

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/kv"
	"shoal/resp"
)

// The sorted set tests that scripts cannot express: a randomized run
// against a model across the encoding conversions, blocking pops with
// several clients, allocations, benchmarks, fuzzing.

// zmodel is the reference: per key, member → score, and whether the key
// has become a skiplist.
type zmodel struct {
	sets     map[string]map[string]float64
	skiplist map[string]bool
	entries  int
	value    int
}

type zpair struct {
	m string
	s float64
}

// sorted returns a key's members in sorted set order.
func (m *zmodel) sorted(k string) []zpair {
	var out []zpair
	for mem, sc := range m.sets[k] {
		out = append(out, zpair{mem, sc})
	}
	slices.SortFunc(out, func(a, b zpair) int {
		if c := cmp.Compare(a.s, b.s); c != 0 {
			return c
		}
		return strings.Compare(a.m, b.m)
	})
	return out
}

// touch updates a key's expected encoding after members were added.
func (m *zmodel) touch(k string) {
	z := m.sets[k]
	if len(z) == 0 {
		delete(m.sets, k)
		delete(m.skiplist, k)
		return
	}
	if len(z) > m.entries {
		m.skiplist[k] = true
	}
	for mem := range z {
		if len(mem) > m.value {
			m.skiplist[k] = true
		}
	}
}

// store files a result built anew: a listpack when small enough.
func (m *zmodel) store(k string, res map[string]float64) {
	delete(m.skiplist, k)
	if len(res) == 0 {
		delete(m.sets, k)
		return
	}
	m.sets[k] = res
	m.touch(k)
}

func fmtScore(f float64) string { return string(resp.FormatDouble(nil, f)) }

func TestZsetsModel(t *testing.T) {
	for _, tc := range []struct{ entries, value, ops int }{
		{4, 4, 3000}, {8, 6, 3000}, {128, 64, 1500},
	} {
		t.Run(fmt.Sprintf("entries=%d/value=%d", tc.entries, tc.value), func(t *testing.T) {
			testZsetsModel(t, tc.entries, tc.value, tc.ops)
		})
	}
}

func testZsetsModel(t *testing.T, entries, value, ops int) {
	e := newSetsEnv(t)
	e.s.Config.ZsetMaxListpackEntries = entries
	e.s.Config.ZsetMaxListpackValue = int64(value)
	m := &zmodel{sets: map[string]map[string]float64{}, skiplist: map[string]bool{}, entries: entries, value: value}
	rng := rand.New(rand.NewSource(int64(entries*1000 + value)))
	keys := []string{"a", "b", "c"}
	member := func() string {
		if rng.Intn(10) == 0 {
			return strings.Repeat("m", value) + strconv.Itoa(rng.Intn(3))
		}
		return "m" + strconv.Itoa(rng.Intn(3*entries+5))
	}
	score := func() float64 {
		switch rng.Intn(10) {
		case 0:
			return math.Inf(1 - 2*rng.Intn(2))
		case 1:
			return float64(rng.Intn(5)) + 0.5
		}
		return float64(rng.Intn(20) - 5)
	}
	for i := range ops {
		k := keys[rng.Intn(len(keys))]
		z := m.sets[k]
		switch op := rng.Intn(13); op {
		case 0, 1, 2: // ZADD with options
			var opts []string
			nx, xx, gt, lt, ch := false, false, false, false, rng.Intn(2) == 0
			switch rng.Intn(5) {
			case 0:
				nx = true
				opts = append(opts, "NX")
			case 1:
				xx = true
				opts = append(opts, "XX")
			}
			if !nx {
				switch rng.Intn(4) {
				case 0:
					gt = true
					opts = append(opts, "GT")
				case 1:
					lt = true
					opts = append(opts, "LT")
				}
			}
			if ch {
				opts = append(opts, "CH")
			}
			args := append([]string{"ZADD", k}, opts...)
			pending := map[string]float64{}
			var order []string
			for range 1 + rng.Intn(5) {
				mem, sc := member(), score()
				args = append(args, fmtScore(sc), mem)
				if _, dup := pending[mem]; !dup {
					order = append(order, mem)
				}
				pending[mem] = sc
				_ = order
			}
			// Apply pair by pair as ZADD does (a member named twice is
			// processed twice).
			want := 0
			if z == nil && !xx {
				z = map[string]float64{}
				m.sets[k] = z
			}
			for j := 2 + len(opts); j < len(args); j += 2 {
				sc, _ := strconv.ParseFloat(args[j], 64)
				mem := args[j+1]
				if z == nil {
					break
				}
				cur, ok := z[mem]
				switch {
				case !ok && !xx:
					z[mem] = sc
					want++
				case ok && !nx && !(gt && sc <= cur) && !(lt && sc >= cur) && sc != cur:
					z[mem] = sc
					if ch {
						want++
					}
				}
			}
			if got := e.int(args...); got != int64(want) {
				t.Fatalf("op %d: %q = %d, want %d", i, args, got, want)
			}
			if z != nil {
				m.touch(k)
			}
		case 3: // ZINCRBY
			mem, inc := member(), float64(rng.Intn(7)-3)
			v := e.do("ZINCRBY", k, fmtScore(inc), mem)
			if z == nil {
				z = map[string]float64{}
				m.sets[k] = z
			}
			z[mem] += inc
			if string(v.Str) != fmtScore(z[mem]) {
				t.Fatalf("op %d: ZINCRBY %s %v %s = %q, want %v", i, k, inc, mem, v.Str, z[mem])
			}
			m.touch(k)
		case 4: // ZREM
			args := []string{"ZREM", k}
			want := 0
			seen := map[string]bool{}
			for range 1 + rng.Intn(3) {
				mem := member()
				args = append(args, mem)
				if _, ok := z[mem]; ok && !seen[mem] {
					want++
				}
				seen[mem] = true
			}
			if got := e.int(args...); got != int64(want) {
				t.Fatalf("op %d: %q = %d, want %d", i, args, got, want)
			}
			for mem := range seen {
				delete(z, mem)
			}
			m.touch(k)
		case 5: // ZRANGE by rank, both directions
			start, stop := rng.Intn(12)-6, rng.Intn(12)-6
			rev := rng.Intn(2) == 0
			args := []string{"ZRANGE", k, strconv.Itoa(start), strconv.Itoa(stop), "WITHSCORES"}
			all := m.sorted(k)
			if rev {
				args = append(args, "REV")
				slices.Reverse(all)
			}
			n := len(all)
			s, st := start, stop
			if s < 0 {
				s += n
			}
			if st < 0 {
				st += n
			}
			s = max(s, 0)
			var want []string
			if s <= st && s < n {
				for _, p := range all[s:min(st+1, n)] {
					want = append(want, p.m, fmtScore(p.s))
				}
			}
			checkStrs(t, i, args, e.strs(args...), want)
		case 6: // ZRANGEBYSCORE with LIMIT, ZCOUNT
			lo, hi := float64(rng.Intn(12)-6), float64(rng.Intn(12)-2)
			loEx := rng.Intn(2) == 0
			off, cnt := rng.Intn(4), rng.Intn(5)-1
			minArg := fmtScore(lo)
			if loEx {
				minArg = "(" + minArg
			}
			var want []string
			for _, p := range m.sorted(k) {
				if (p.s > lo || (!loEx && p.s == lo)) && p.s <= hi {
					want = append(want, p.m)
				}
			}
			if got := e.int("ZCOUNT", k, minArg, fmtScore(hi)); got != int64(len(want)) {
				t.Fatalf("op %d: ZCOUNT %s %s %v = %d, want %d", i, k, minArg, hi, got, len(want))
			}
			want = want[min(off, len(want)):]
			if cnt >= 0 {
				want = want[:min(cnt, len(want))]
			}
			args := []string{"ZRANGEBYSCORE", k, minArg, fmtScore(hi), "LIMIT", strconv.Itoa(off), strconv.Itoa(cnt)}
			checkStrs(t, i, args, e.strs(args...), want)
		case 7: // ZRANK, ZREVRANK, ZSCORE
			mem := member()
			all := m.sorted(k)
			idx := slices.IndexFunc(all, func(p zpair) bool { return p.m == mem })
			v := e.do("ZRANK", k, mem)
			rv := e.do("ZREVRANK", k, mem)
			sv := e.do("ZSCORE", k, mem)
			if idx < 0 {
				if !v.Null || !rv.Null || !sv.Null {
					t.Fatalf("op %d: rank of absent %s: %q %q %q", i, mem, v.Raw, rv.Raw, sv.Raw)
				}
			} else if v.Int != int64(idx) || rv.Int != int64(len(all)-1-idx) || string(sv.Str) != fmtScore(all[idx].s) {
				t.Fatalf("op %d: rank of %s: %q %q %q, want %d", i, mem, v.Raw, rv.Raw, sv.Raw, idx)
			}
		case 8: // ZPOPMIN / ZPOPMAX
			n := rng.Intn(4)
			all := m.sorted(k)
			cmd := "ZPOPMIN"
			if rng.Intn(2) == 0 {
				cmd = "ZPOPMAX"
				slices.Reverse(all)
			}
			var want []string
			for _, p := range all[:min(n, len(all))] {
				want = append(want, p.m, fmtScore(p.s))
				delete(z, p.m)
			}
			args := []string{cmd, k, strconv.Itoa(n)}
			checkStrs(t, i, args, e.strs(args...), want)
			m.touch(k)
		case 9: // ZREMRANGEBYSCORE / ZREMRANGEBYRANK
			all := m.sorted(k)
			var args []string
			var gone []zpair
			if rng.Intn(2) == 0 {
				lo, hi := float64(rng.Intn(10)-5), float64(rng.Intn(10)-3)
				args = []string{"ZREMRANGEBYSCORE", k, fmtScore(lo), fmtScore(hi)}
				for _, p := range all {
					if p.s >= lo && p.s <= hi {
						gone = append(gone, p)
					}
				}
			} else {
				start, stop := rng.Intn(6)-2, rng.Intn(6)-2
				args = []string{"ZREMRANGEBYRANK", k, strconv.Itoa(start), strconv.Itoa(stop)}
				n := len(all)
				if start < 0 {
					start += n
				}
				if stop < 0 {
					stop += n
				}
				start = max(start, 0)
				if start <= stop && start < n {
					gone = all[start:min(stop+1, n)]
				}
			}
			if got := e.int(args...); got != int64(len(gone)) {
				t.Fatalf("op %d: %q = %d, want %d", i, args, got, len(gone))
			}
			for _, p := range gone {
				delete(z, p.m)
			}
			m.touch(k)
		case 10: // ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE with weights
			k2 := keys[rng.Intn(len(keys))]
			dst := keys[rng.Intn(len(keys))]
			w1, w2 := float64(rng.Intn(3)), float64(rng.Intn(3)-1)
			res := map[string]float64{}
			a, b := m.sets[k], m.sets[k2]
			var args []string
			switch rng.Intn(3) {
			case 0:
				args = []string{"ZUNIONSTORE", dst, "2", k, k2, "WEIGHTS", fmtScore(w1), fmtScore(w2)}
				for mem, sc := range a {
					res[mem] = weighted(sc, w1)
				}
				for mem, sc := range b {
					if v, ok := res[mem]; ok {
						aggregate(&v, weighted(sc, w2), aggSum)
						res[mem] = v
					} else {
						res[mem] = weighted(sc, w2)
					}
				}
			case 1:
				args = []string{"ZINTERSTORE", dst, "2", k, k2, "WEIGHTS", fmtScore(w1), fmtScore(w2), "AGGREGATE", "MAX"}
				for mem, sc := range a {
					if sc2, ok := b[mem]; ok {
						res[mem] = max(weighted(sc, w1), weighted(sc2, w2))
					}
				}
			case 2:
				args = []string{"ZDIFFSTORE", dst, "2", k, k2}
				for mem, sc := range a {
					if _, ok := b[mem]; !ok {
						res[mem] = sc
					}
				}
			}
			if got := e.int(args...); got != int64(len(res)) {
				t.Fatalf("op %d: %q = %d, want %d", i, args, got, len(res))
			}
			m.store(dst, res)
		case 11: // ZRANGESTORE by score
			dst := keys[rng.Intn(len(keys))]
			lo := float64(rng.Intn(10) - 5)
			res := map[string]float64{}
			for mem, sc := range z {
				if sc >= lo {
					res[mem] = sc
				}
			}
			args := []string{"ZRANGESTORE", dst, k, fmtScore(lo), "+inf", "BYSCORE"}
			if got := e.int(args...); got != int64(len(res)) {
				t.Fatalf("op %d: %q = %d, want %d", i, args, got, len(res))
			}
			// ZRANGESTORE builds from a listpack and converts on the way,
			// as ZADD does.
			delete(m.skiplist, dst)
			if len(res) == 0 {
				delete(m.sets, dst)
			} else {
				m.sets[dst] = res
				m.touch(dst)
			}
		case 12: // a lex range over equal scores: ZRANGEBYLEX on a fresh key
			lk := "lex"
			e.do("DEL", lk)
			var mems []string
			for j := range 1 + rng.Intn(2*entries) {
				mems = append(mems, "0", "x"+strconv.Itoa(j*7%13))
			}
			e.do(append([]string{"ZADD", lk}, mems...)...)
			var want []string
			seen := map[string]bool{}
			for j := 1; j < len(mems); j += 2 {
				if !seen[mems[j]] && mems[j] >= "x3" && mems[j] < "x8" {
					want = append(want, mems[j])
				}
				seen[mems[j]] = true
			}
			slices.Sort(want)
			checkStrs(t, i, []string{"ZRANGEBYLEX"}, e.strs("ZRANGEBYLEX", lk, "[x3", "(x8"), want)
			slices.Reverse(want)
			checkStrs(t, i, []string{"ZREVRANGEBYLEX"}, e.strs("ZREVRANGEBYLEX", lk, "(x8", "[x3"), want)
			e.do("DEL", lk)
		}
		// Every key: contents, order and encoding.
		for _, key := range keys {
			want := m.sorted(key)
			got := e.strs("ZRANGE", key, "0", "-1", "WITHSCORES")
			var ws []string
			for _, p := range want {
				ws = append(ws, p.m, fmtScore(p.s))
			}
			checkStrs(t, i, []string{"ZRANGE", key, "(check)"}, got, ws)
			if len(want) == 0 {
				continue
			}
			enc := "listpack"
			if m.skiplist[key] {
				enc = "skiplist"
			}
			if v := e.do("OBJECT", "ENCODING", key); string(v.Str) != enc {
				t.Fatalf("op %d: encoding of %s is %s, want %s", i, key, v.Str, enc)
			}
			checkZsetKey(t, e.s, key)
		}
	}
}

func checkStrs(t *testing.T, op int, args, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	// A listpack keeps a negative zero score as 0 (Redis's d2string), a
	// skiplist keeps its sign: the model does not track which.
	eq := func(a, b string) bool { return a == b || (a == "0" && b == "-0") || (a == "-0" && b == "0") }
	if !slices.EqualFunc(got, want, eq) {
		t.Fatalf("op %d: %q\n got %q\nwant %q", op, args, got, want)
	}
}

// checkZsetKey checks the invariants of the sorted set at key: not empty,
// its Meta naming its encoding, a listpack ordered by (score, member).
func checkZsetKey(t testing.TB, s *Shard, key string) {
	t.Helper()
	r := s.db.Find([]byte(key))
	if r == kv.Nil || s.typeOf(r) != typeZSet {
		return
	}
	z := s.zsetAt(r)
	if z.size() == 0 {
		t.Fatalf("%s: empty sorted set in the key space", key)
	}
	if metaEnc(s.db.Meta(r)) != z.enc() {
		t.Fatalf("%s: Meta says encoding %d, value is %d", key, metaEnc(s.db.Meta(r)), z.enc())
	}
	var prevM []byte
	prevS := math.Inf(-1)
	n := 0
	z.each(func(m []byte, sc float64) bool {
		if n > 0 && (sc < prevS || (sc == prevS && bytes.Compare(prevM, m) >= 0)) {
			t.Fatalf("%s: out of order at %d: %q %v after %q %v", key, n, m, sc, prevM, prevS)
		}
		if got, ok := z.score(m); !ok || got != sc {
			t.Fatalf("%s: member %q not found by its score lookup", key, m)
		}
		prevM, prevS = append(prevM[:0], m...), sc
		n++
		return true
	})
	if n != z.size() {
		t.Fatalf("%s: iterated %d members, size %d", key, n, z.size())
	}
}

// TestZsetsBlocking serves BZPOPMIN, BZPOPMAX and BZMPOP from ZADD and
// the *STORE commands, first come first served, and times them out.
func TestZsetsBlocking(t *testing.T) {
	bt := newBlockTest(t)
	bt.expect("c1", bt.do("c1", "BZPOPMIN z 0"), noReply)
	bt.expect("c2", bt.do("c2", "BZPOPMAX nokey z 0"), noReply)
	bt.expect("c3", bt.do("c3", "BZMPOP 0 1 z MAX COUNT 5"), noReply)
	bt.expect("blocked", bt.s.BlockedClients(), 3)
	bt.expect("ZADD", bt.do("p", "ZADD z 1 a 2 b 3 c 4 d"), ":4")
	bt.expect("c1", bt.out("c1"), `["z" "a" "1"]`)
	bt.expect("c2", bt.out("c2"), `["z" "d" "4"]`)
	bt.expect("c3", bt.out("c3"), `["z" [["c" "3"] ["b" "2"]]]`)
	bt.expect("EXISTS", bt.do("p", "EXISTS z"), ":0")
	bt.expect("blocked", bt.s.BlockedClients(), 0)

	// A list on the key does not serve a sorted set waiter, and the
	// other way round; a ZUNIONSTORE onto the key does.
	bt.expect("c1", bt.do("c1", "BZPOPMIN k 0"), noReply)
	bt.expect("c2", bt.do("c2", "BLPOP k 0"), noReply)
	bt.expect("RPUSH", bt.do("p", "RPUSH k x"), ":1")
	bt.expect("c1 waits", bt.out("c1"), noReply)
	bt.expect("c2", bt.out("c2"), `["k" "x"]`)
	bt.expect("ZADD src", bt.do("p", "ZADD src 5 m"), ":1")
	bt.expect("ZUNIONSTORE", bt.do("p", "ZUNIONSTORE k 1 src"), ":1")
	bt.expect("c1", bt.out("c1"), `["k" "m" "5"]`)

	// Timeouts: a null array, in RESP3 too.
	bt.expect("c1", bt.do("c1", "BZPOPMIN t 0.5"), noReply)
	bt.do("c3", "HELLO 3")
	bt.expect("c3", bt.do("c3", "BZMPOP 1 1 t MIN"), noReply)
	bt.advance(600)
	bt.expect("c1 timeout", bt.out("c1"), "(nil-array)")
	bt.expect("c3 waits", bt.out("c3"), noReply)
	bt.advance(500)
	bt.expect("c3 timeout", bt.out("c3"), "_")
	// RESP3 served reply: a double score.
	bt.expect("c3", bt.do("c3", "BZPOPMAX r 0"), noReply)
	bt.expect("ZADD r", bt.do("p", "ZADD r 1.5 x"), ":1")
	bt.expect("c3 served", bt.out("c3"), `["r" "x" ,1.5]`)
}

// TestZsetsNoAllocs asserts that the common single-member commands do not
// allocate once the sets exist, in both encodings.
func TestZsetsNoAllocs(t *testing.T) {
	if setsRace {
		t.Skip("allocations are not measured in race builds")
	}
	e := newSetsEnv(t)
	for i := range 100 {
		e.int("ZADD", "small", strconv.Itoa(i), "member:"+strconv.Itoa(i%50))
		e.int("ZADD", "big", strconv.Itoa(i), "member:"+strconv.Itoa(i))
		e.int("ZADD", "big", strconv.Itoa(i)+".5", "m:"+strconv.Itoa(i))
	}
	if v := e.do("OBJECT", "ENCODING", "small"); string(v.Str) != "listpack" {
		t.Fatalf("small is %s", v.Str)
	}
	if v := e.do("OBJECT", "ENCODING", "big"); string(v.Str) != "skiplist" {
		t.Fatalf("big is %s", v.Str)
	}
	for _, tc := range []struct {
		name  string
		argvs [][][]byte
	}{
		{"ZADD existing listpack", [][][]byte{argv("ZADD", "small", "7", "member:7")}},
		{"ZADD existing skiplist", [][][]byte{argv("ZADD", "big", "7.25", "member:7")}},
		{"ZADD+ZREM listpack", [][][]byte{argv("ZADD", "small", "3.5", "x"), argv("ZREM", "small", "x")}},
		{"ZADD+ZREM skiplist", [][][]byte{argv("ZADD", "big", "3.5", "x"), argv("ZREM", "big", "x")}},
		{"ZINCRBY skiplist", [][][]byte{argv("ZINCRBY", "big", "1", "member:9")}},
		{"ZSCORE listpack", [][][]byte{argv("ZSCORE", "small", "member:20")}},
		{"ZSCORE skiplist", [][][]byte{argv("ZSCORE", "big", "member:20")}},
		{"ZMSCORE", [][][]byte{argv("ZMSCORE", "big", "member:20", "nope")}},
		{"ZRANK skiplist", [][][]byte{argv("ZRANK", "big", "member:20")}},
		{"ZCARD", [][][]byte{argv("ZCARD", "big")}},
		{"ZCOUNT", [][][]byte{argv("ZCOUNT", "big", "(10", "+inf")}},
		{"ZRANGE 10 skiplist", [][][]byte{argv("ZRANGE", "big", "0", "9", "WITHSCORES")}},
		{"ZRANGE 10 listpack", [][][]byte{argv("ZRANGE", "small", "0", "9", "WITHSCORES")}},
		{"ZRANGEBYSCORE LIMIT", [][][]byte{argv("ZRANGEBYSCORE", "big", "10", "50", "LIMIT", "2", "5")}},
		{"ZPOPMIN+ZADD skiplist", [][][]byte{argv("ZPOPMIN", "big"), argv("ZADD", "big", "0", "member:0")}},
		{"ZPOPMIN+ZADD listpack", [][][]byte{argv("ZPOPMIN", "small"), argv("ZADD", "small", "0", "member:0")}},
		{"ZRANDMEMBER", [][][]byte{argv("ZRANDMEMBER", "big")}},
	} {
		run := e.runner(tc.argvs)
		for range 3 {
			run()
		}
		if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

// TestZsetsNotifyNoAllocs: with keyspace notifications on and a pattern
// subscriber, the sorted set writes send their events without allocating.
func TestZsetsNotifyNoAllocs(t *testing.T) {
	if setsRace {
		t.Skip("allocations are not measured in race builds")
	}
	p := newPSTest(t)
	c, psub := p.s.NewClient(), p.s.NewClient()
	p.exec(c, "CONFIG SET notify-keyspace-events KEA")
	p.exec(psub, "PSUBSCRIBE __key*")
	for i := range 200 {
		p.exec(c, fmt.Sprintf("ZADD big %d m%d", i, i))
	}
	p.exec(c, "ZADD small 1 a 2 b 3 c")
	for _, tc := range []struct {
		name  string
		argvs [][][]byte
	}{
		{"ZADD+ZREM skiplist", [][][]byte{argv("ZADD", "big", "3.5", "x"), argv("ZREM", "big", "x")}},
		{"ZINCRBY listpack", [][][]byte{argv("ZINCRBY", "small", "1", "a")}},
		{"ZPOPMIN+ZADD skiplist", [][][]byte{argv("ZPOPMIN", "big"), argv("ZADD", "big", "0", "m0")}},
		{"ZREMRANGEBYSCORE+ZADD", [][][]byte{argv("ZREMRANGEBYSCORE", "small", "3", "3"), argv("ZADD", "small", "3", "c")}},
	} {
		run := func() {
			for _, a := range tc.argvs {
				c.Out, psub.Out = c.Out[:0], psub.Out[:0]
				p.s.Pending = p.s.Pending[:0]
				c.pending, psub.pending = false, false
				p.s.Exec(c, a)
			}
		}
		run()
		if len(psub.Out) == 0 {
			t.Fatalf("%s: no event published", tc.name)
		}
		if allocs := testing.AllocsPerRun(500, run); allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

func BenchmarkZsets(b *testing.B) {
	e := newSetsEnv(b)
	for i := range 1000 {
		e.int("ZADD", "big", strconv.Itoa(i), "element:"+strconv.Itoa(i))
		e.int("ZADD", "big2", strconv.Itoa(i*2), "element:"+strconv.Itoa(i*2))
	}
	for i := range 100 {
		e.int("ZADD", "small", strconv.Itoa(i), "element:"+strconv.Itoa(i))
	}
	for _, bc := range []struct {
		name  string
		argvs [][][]byte
	}{
		{"ZADD/existing/skiplist", [][][]byte{argv("ZADD", "big", "5", "element:5")}},
		{"ZADD/existing/listpack", [][][]byte{argv("ZADD", "small", "5", "element:5")}},
		{"ZADD+ZREM/skiplist", [][][]byte{argv("ZADD", "big", "1.5", "x"), argv("ZREM", "big", "x")}},
		{"ZADD+ZREM/listpack", [][][]byte{argv("ZADD", "small", "1.5", "x"), argv("ZREM", "small", "x")}},
		{"ZPOPMIN+ZADD/skiplist", [][][]byte{argv("ZPOPMIN", "big"), argv("ZADD", "big", "0", "element:0")}},
		{"ZPOPMIN+ZADD/listpack", [][][]byte{argv("ZPOPMIN", "small"), argv("ZADD", "small", "0", "element:0")}},
		{"ZSCORE/skiplist", [][][]byte{argv("ZSCORE", "big", "element:500")}},
		{"ZRANK/skiplist", [][][]byte{argv("ZRANK", "big", "element:500")}},
		{"ZRANGE/100/skiplist", [][][]byte{argv("ZRANGE", "big", "100", "199", "WITHSCORES")}},
		{"ZRANGE/100/listpack", [][][]byte{argv("ZRANGE", "small", "0", "-1", "WITHSCORES")}},
		{"ZRANGEBYSCORE/10", [][][]byte{argv("ZRANGEBYSCORE", "big", "(500", "+inf", "LIMIT", "0", "10")}},
		{"ZUNION/1000+1000", [][][]byte{argv("ZUNION", "2", "big", "big2")}},
		{"ZINTERCARD/1000x1000", [][][]byte{argv("ZINTERCARD", "2", "big", "big2")}},
		{"ZSCAN", [][][]byte{argv("ZSCAN", "big", "0", "COUNT", "10")}},
	} {
		run := e.runner(bc.argvs)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
		})
	}
}

// TestStrtod checks the C strtod reading against cases glibc documents.
func TestStrtod(t *testing.T) {
	for _, tc := range []struct {
		in     string
		f      float64
		n      int
		erange bool
	}{
		{"1.5", 1.5, 3, false},
		{"  -2e3x", -2000, 6, false},
		{"+.5", 0.5, 3, false},
		{"5.", 5, 2, false},
		{"1e", 1, 1, false},
		{"1e+", 1, 1, false},
		{"0x10", 16, 4, false},
		{"0x1p-2", 0.25, 6, false},
		{"0x1.8P1", 3, 7, false},
		{"0x", 0, 1, false},
		{"0xg", 0, 1, false},
		{"inf", math.Inf(1), 3, false},
		{"-Infinity", math.Inf(-1), 9, false},
		{"infinit", math.Inf(1), 3, false},
		{"1e400", math.Inf(1), 5, true},
		{"-1e400", math.Inf(-1), 6, true},
		{"1e-400", 0, 6, true},
		{"0e-400", 0, 6, false},
		{"", 0, 0, false},
		{"x", 0, 0, false},
		{".", 0, 0, false},
		{"-", 0, 0, false},
		{"12345678901234567890123456789012345678901234567890", 12345678901234567890123456789012345678901234567890.0, 50, false},
	} {
		f, n, er := strtod([]byte(tc.in))
		if f != tc.f || n != tc.n || er != tc.erange {
			t.Errorf("strtod(%q) = %v, %d, %v; want %v, %d, %v", tc.in, f, n, er, tc.f, tc.n, tc.erange)
		}
	}
	if f, n, _ := strtod([]byte("nan(abc)x")); f == f || n != 8 {
		t.Errorf("strtod(nan(abc)x) = %v, %d", f, n)
	}
	if f, _, _ := strtod([]byte("-0")); f != 0 || !math.Signbit(f) {
		t.Errorf("strtod(-0) = %v", f)
	}
}

// FuzzStrtod checks that strtod never panics, never reads past the input,
// and agrees with strconv.ParseFloat on the decimal numbers both accept.
func FuzzStrtod(f *testing.F) {
	for _, s := range []string{"1.5", "-0x1p3", "inf", "nan(x)", "1e400", "  +.5e-3", "0x.8", "1e-320"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, n, erange := strtod([]byte(s))
		if n < 0 || n > len(s) {
			t.Fatalf("strtod(%q) took %d bytes", s, n)
		}
		if n == 0 && (v != 0 || erange) {
			t.Fatalf("strtod(%q): no conversion but %v, %v", s, v, erange)
		}
		if g, err := strconv.ParseFloat(s, 64); err == nil && n == len(s) && !strings.ContainsAny(s, "xX_") &&
			!math.IsNaN(g) && g != v {
			t.Fatalf("strtod(%q) = %v, ParseFloat %v", s, v, g)
		}
	})
}

// FuzzZsetCommands runs lines of sorted set commands (the first word
// steered to a command of the family) and checks that none panics, each
// writes one well-formed reply, and every sorted set left in the key
// space is consistent.
func FuzzZsetCommands(f *testing.F) {
	for _, s := range []string{
		"ZADD z 1 a 2 b\nZRANGE z 0 -1 WITHSCORES", "ZADD z GT CH INCR 1 a\nZPOPMIN z 5",
		"ZUNIONSTORE d 2 a z WEIGHTS 2 inf AGGREGATE MIN", "ZRANGESTORE d z (1 +inf BYSCORE LIMIT 1 2",
		"ZREMRANGEBYLEX z [a (c\nZRANDMEMBER z -5 WITHSCORES", "ZSCAN z 0 MATCH a* COUNT 2",
		"ZMPOP 2 a z MAX COUNT 3\nZINTERCARD 2 a z LIMIT 1", "ZADD z 0x1p3 a -inf b nan c",
	} {
		f.Add(s)
	}
	names := []string{"zadd", "zincrby", "zrem", "zcard", "zscore", "zmscore", "zrank", "zrevrank",
		"zcount", "zlexcount", "zrange", "zrangestore", "zrangebyscore", "zrevrangebyscore",
		"zrangebylex", "zrevrangebylex", "zrevrange", "zpopmin", "zpopmax", "zmpop",
		"zremrangebyrank", "zremrangebyscore", "zremrangebylex", "zunion", "zinter", "zdiff",
		"zunionstore", "zinterstore", "zdiffstore", "zintercard", "zrandmember", "zscan"}
	f.Fuzz(func(t *testing.T, script string) {
		e := newSetsEnv(t)
		e.s.Config.ZsetMaxListpackEntries = 3
		e.s.Config.ZsetMaxListpackValue = 4
		e.do("ZADD", "a", "1", "x", "2", "y", "3", "zzzzzz")
		e.do("SADD", "s", "x", "1")
		lines := strings.Split(script, "\n")
		if len(lines) > 20 {
			lines = lines[:20]
		}
		for _, line := range lines {
			words := strings.Fields(line)
			if len(words) == 0 || len(words) > 12 {
				continue
			}
			if !slices.Contains(names, strings.ToLower(words[0])) {
				words[0] = names[int(words[0][0])%len(names)]
			}
			for i, w := range words {
				if n, err := strconv.Atoi(w); err == nil && (n > 1000 || n < -1000) && i > 1 {
					words[i] = strconv.Itoa(n % 1000) // keep counts small
				}
			}
			e.c.Out = e.c.Out[:0]
			e.s.Tick()
			e.s.Exec(e.c, argv(words...))
			r := bufioReader(e.c.Out)
			if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
				t.Fatalf("%q: malformed reply %q: %v", words, e.c.Out, err)
			}
		}
		for _, k := range []string{"a", "z", "d", "s", "b"} {
			checkZsetKey(t, e.s, k)
		}
	})
}

// TestZsetsRandMember checks ZRANDMEMBER's counts in both encodings:
// distinct members of the set for a positive count below the size, the
// whole set from the top for a larger one, repeats allowed for a negative
// one, and that every member turns up.
func TestZsetsRandMember(t *testing.T) {
	e := newSetsEnv(t)
	for i := range 200 {
		e.int("ZADD", "big", strconv.Itoa(i), "m"+strconv.Itoa(i))
		if i < 20 {
			e.int("ZADD", "small", strconv.Itoa(i), "m"+strconv.Itoa(i))
		}
	}
	for _, tc := range []struct {
		key  string
		size int
	}{{"small", 20}, {"big", 200}} {
		seen := map[string]bool{}
		for _, n := range []int{1, 3, tc.size / 3, tc.size/3 + 1, tc.size - 1} {
			for range 20 {
				got := e.strs("ZRANDMEMBER", tc.key, strconv.Itoa(n), "WITHSCORES")
				if len(got) != 2*n {
					t.Fatalf("%s count %d: %d replies", tc.key, n, len(got))
				}
				distinct := map[string]bool{}
				for j := 0; j < len(got); j += 2 {
					if "m"+got[j+1] != got[j] {
						t.Fatalf("%s: member %s with score %s", tc.key, got[j], got[j+1])
					}
					distinct[got[j]] = true
					seen[got[j]] = true
				}
				if len(distinct) != n {
					t.Fatalf("%s count %d: %d distinct members", tc.key, n, len(distinct))
				}
			}
		}
		if len(seen) != tc.size {
			t.Errorf("%s: %d of %d members ever picked", tc.key, len(seen), tc.size)
		}
		if got := e.strs("ZRANDMEMBER", tc.key, "-500"); len(got) != 500 {
			t.Errorf("%s count -500: %d replies", tc.key, len(got))
		}
		all := e.strs("ZRANDMEMBER", tc.key, strconv.Itoa(tc.size+5))
		if len(all) != tc.size || all[0] != "m"+strconv.Itoa(tc.size-1) || all[tc.size-1] != "m0" {
			t.Errorf("%s: whole set not from the top: %q...", tc.key, all[:3])
		}
	}
}
