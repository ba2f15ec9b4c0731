package engine

import (
	"bytes"
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

// hashTest is a shard on a fake clock with one client, for hash tests
// that need what scripts cannot show: random replies, encodings reached
// by model runs, allocations.
type hashTest struct {
	*strTest
}

func newHashTest(t testing.TB) *hashTest { return &hashTest{newStrTest(t)} }

// exec runs argv and returns the parsed reply.
func (ht *hashTest) exec(args ...string) resp.Value {
	ht.t.Helper()
	ht.s.Tick()
	ht.c.Out = ht.c.Out[:0]
	ht.s.Exec(ht.c, argv(args...))
	r := bufioReader(ht.c.Out)
	v, err := resp.ReadReply(r)
	if err != nil || r.Buffered() != 0 {
		ht.t.Fatalf("%q: malformed reply %q: %v", args, ht.c.Out, err)
	}
	return v
}

func (ht *hashTest) encoding(key string) string {
	ht.t.Helper()
	v := ht.exec("OBJECT", "ENCODING", key)
	return string(v.Str)
}

// strs is the bulk strings of an array reply.
func strs(v resp.Value) []string {
	out := make([]string, len(v.Elems))
	for i := range v.Elems {
		out[i] = string(v.Elems[i].Str)
	}
	return out
}

// hashModel is the reference: a map plus what Redis's encoding rules
// predict for it.
type hashModel struct {
	m         map[string]string
	hashtable bool
}

// TestHashesModel runs random hash commands against a model, with limits
// small enough that hashes cross both conversions (by count and by
// length) many times, and checks every reply and the encoding.
func TestHashesModel(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) { hashModelRun(t, seed, 3000) })
	}
}

func hashModelRun(t *testing.T, seed int64, steps int) {
	rng := rand.New(rand.NewSource(seed))
	ht := newHashTest(t)
	const maxEntries, maxValue = 8, 6
	ht.do("CONFIG SET hash-max-listpack-entries " + strconv.Itoa(maxEntries))
	ht.do("CONFIG SET hash-max-listpack-value " + strconv.Itoa(maxValue))
	keys := []string{"h0", "h1", "h2"}
	model := map[string]*hashModel{}
	field := func() string {
		switch rng.Intn(4) {
		case 0:
			return strconv.Itoa(rng.Intn(30) - 10) // integer-looking
		case 1:
			return strings.Repeat("f", 1+rng.Intn(9)) // sometimes too long
		default:
			return "f" + strconv.Itoa(rng.Intn(20))
		}
	}
	value := func() string {
		switch rng.Intn(4) {
		case 0:
			return strconv.Itoa(rng.Intn(2000) - 1000)
		case 1:
			return strings.Repeat("v", rng.Intn(9))
		default:
			return "v" + strconv.Itoa(rng.Intn(50))
		}
	}
	conversions := 0
	convert := func(h *hashModel) {
		if !h.hashtable {
			conversions++
		}
		h.hashtable = true
	}
	// set applies one field write to the model as hashTypeSet does.
	set := func(h *hashModel, f, v string) bool {
		if len(f) > maxValue || len(v) > maxValue {
			convert(h)
		}
		_, had := h.m[f]
		h.m[f] = v
		if len(h.m) > maxEntries {
			convert(h)
		}
		return !had
	}
	get := func(k string) *hashModel {
		if model[k] == nil {
			model[k] = &hashModel{m: map[string]string{}}
		}
		return model[k]
	}
	drop := func(k string) {
		if h := model[k]; h != nil && len(h.m) == 0 {
			delete(model, k)
		}
	}
	for step := 0; step < steps; step++ {
		k := keys[rng.Intn(len(keys))]
		var args []string
		var want string
		switch op := rng.Intn(14); op {
		case 0, 1: // HSET with 1-3 pairs
			args = []string{"HSET", k}
			n := 1 + rng.Intn(3)
			for range n {
				args = append(args, field(), value())
			}
			h := get(k)
			for _, a := range args[2:] {
				if len(a) > maxValue {
					convert(h)
				}
			}
			created := 0
			for j := 2; j < len(args); j += 2 {
				if set(h, args[j], args[j+1]) {
					created++
				}
			}
			want = ":" + strconv.Itoa(created)
		case 2: // HSETNX
			f, v := field(), value()
			args = []string{"HSETNX", k, f, v}
			h := get(k)
			if _, ok := h.m[f]; ok {
				want = ":0"
			} else {
				set(h, f, v)
				want = ":1"
			}
		case 3, 4: // HDEL
			args = []string{"HDEL", k, field(), field()}
			n := 0
			if h := model[k]; h != nil {
				for _, f := range args[2:] {
					if _, ok := h.m[f]; ok {
						delete(h.m, f)
						n++
					}
				}
				drop(k)
			}
			want = ":" + strconv.Itoa(n)
		case 5: // HINCRBY
			f := field()
			incr := rng.Intn(200) - 100
			args = []string{"HINCRBY", k, f, strconv.Itoa(incr)}
			var cur int64
			h := model[k]
			if h != nil {
				if v, ok := h.m[f]; ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil || strconv.FormatInt(n, 10) != v {
						want = "-" + errHashNotInt
						break
					}
					cur = n
				}
			}
			cur += int64(incr)
			set(get(k), f, strconv.FormatInt(cur, 10))
			want = ":" + strconv.FormatInt(cur, 10)
		case 6: // HGET
			f := field()
			args = []string{"HGET", k, f}
			want = "(nil)"
			if h := model[k]; h != nil {
				if v, ok := h.m[f]; ok {
					want = strconv.Quote(v)
				}
			}
		case 7: // HMGET
			args = []string{"HMGET", k, field(), field(), field()}
			var parts []string
			for _, f := range args[2:] {
				p := "(nil)"
				if h := model[k]; h != nil {
					if v, ok := h.m[f]; ok {
						p = strconv.Quote(v)
					}
				}
				parts = append(parts, p)
			}
			want = "[" + strings.Join(parts, " ") + "]"
		case 8: // HLEN, HEXISTS, HSTRLEN
			f := field()
			var n, ex, sl int
			if h := model[k]; h != nil {
				n = len(h.m)
				if v, ok := h.m[f]; ok {
					ex, sl = 1, len(v)
				}
			}
			for _, c := range []struct {
				cmd  string
				want int
			}{{"HLEN " + k, n}, {"HEXISTS " + k + " " + f, ex}, {"HSTRLEN " + k + " " + f, sl}} {
				if got := ht.do(c.cmd); got != ":"+strconv.Itoa(c.want) {
					t.Fatalf("step %d: %s: got %s, want :%d", step, c.cmd, got, c.want)
				}
			}
			continue
		case 9: // HGETALL and HSCAN, compared as maps
			ht.checkAll(t, k, model[k], step)
			continue
		case 10: // HRANDFIELD with a count
			ht.checkRandfield(t, rng, k, model[k], step)
			continue
		case 11: // COPY to another key, REPLACE
			dst := keys[rng.Intn(len(keys))]
			args = []string{"COPY", k, dst, "REPLACE"}
			switch {
			case k == dst:
				want = "-" + errSameObject
			case model[k] == nil:
				want = ":0"
			default:
				cp := &hashModel{m: map[string]string{}, hashtable: model[k].hashtable}
				for f, v := range model[k].m {
					cp.m[f] = v
				}
				model[dst] = cp
				want = ":1"
			}
		case 12: // HINCRBYFLOAT on integer fields keeps integers
			f := field()
			args = []string{"HINCRBYFLOAT", k, f, "2"}
			var cur int64
			if h := model[k]; h != nil {
				if v, ok := h.m[f]; ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil || strconv.FormatInt(n, 10) != v {
						// A word: the model does not parse long doubles.
						want = "-" + errHashNotFloat
						if _, err := strconv.ParseFloat(v, 64); err == nil {
							continue
						}
						break
					}
					cur = n
				}
			}
			cur += 2
			set(get(k), f, strconv.FormatInt(cur, 10))
			want = strconv.Quote(strconv.FormatInt(cur, 10))
		case 13: // DEL, now and then
			if rng.Intn(4) != 0 {
				continue
			}
			args = []string{"DEL", k}
			want = ":0"
			if model[k] != nil {
				want = ":1"
				delete(model, k)
			}
		}
		if got := ht.do(joinArgs(args)); got != want {
			t.Fatalf("step %d: %s: got %s, want %s", step, joinArgs(args), got, want)
		}
		drop(k)
		for _, key := range keys {
			h := model[key]
			enc := ht.encoding(key)
			switch {
			case h == nil && enc != "":
				t.Fatalf("step %d: %s should not exist (encoding %q)", step, key, enc)
			case h != nil && h.hashtable && enc != "hashtable", h != nil && !h.hashtable && enc != "listpack":
				t.Fatalf("step %d (%s): %s has encoding %s, model says hashtable=%v (%d fields)",
					step, joinArgs(args), key, enc, h.hashtable, len(h.m))
			}
		}
	}
	t.Logf("%d conversions", conversions)
	if conversions < 20 {
		t.Fatalf("only %d conversions to hashtable in %d steps", conversions, steps)
	}
}

// joinArgs quotes arguments for SplitArgs.
func joinArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}

// checkAll compares HGETALL, HKEYS, HVALS and a full HSCAN of key with
// the model, as maps.
func (ht *hashTest) checkAll(t *testing.T, key string, h *hashModel, step int) {
	t.Helper()
	want := map[string]string{}
	if h != nil {
		want = h.m
	}
	pairs := strs(ht.exec("HGETALL", key))
	got := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		got[pairs[i]] = pairs[i+1]
	}
	if len(pairs) != 2*len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("step %d: HGETALL %s = %v, want %v", step, key, pairs, want)
	}
	fields, vals := strs(ht.exec("HKEYS", key)), strs(ht.exec("HVALS", key))
	for i := range fields {
		if i >= len(vals) || got[fields[i]] != vals[i] {
			t.Fatalf("step %d: HKEYS/HVALS %s disagree with HGETALL: %v %v", step, key, fields, vals)
		}
	}
	seen := map[string]string{}
	cursor := "0"
	for i := 0; ; i++ {
		v := ht.exec("HSCAN", key, cursor, "COUNT", "3")
		cursor = string(v.Elems[0].Str)
		els := strs(v.Elems[1])
		for j := 0; j+1 < len(els); j += 2 {
			seen[els[j]] = els[j+1]
		}
		if cursor == "0" {
			break
		}
		if i > 1000 {
			t.Fatalf("step %d: HSCAN %s does not end", step, key)
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("step %d: HSCAN %s = %v, want %v", step, key, seen, want)
	}
}

// checkRandfield checks HRANDFIELD's contract for random counts: positive
// counts give min(count, size) distinct fields, negative ones exactly
// -count fields of the hash, values matching.
func (ht *hashTest) checkRandfield(t *testing.T, rng *rand.Rand, key string, h *hashModel, step int) {
	t.Helper()
	count := rng.Intn(25) - 12
	v := ht.exec("HRANDFIELD", key, strconv.Itoa(count), "WITHVALUES")
	els := strs(v)
	size := 0
	if h != nil {
		size = len(h.m)
	}
	want := -count
	if count >= 0 {
		want = min(count, size)
	}
	if size == 0 {
		want = 0
	}
	if len(els) != 2*want {
		t.Fatalf("step %d: HRANDFIELD %s %d WITHVALUES (size %d) gave %d elements", step, key, count, size, len(els))
	}
	seen := map[string]bool{}
	for i := 0; i < len(els); i += 2 {
		if mv, ok := h.m[els[i]]; !ok || mv != els[i+1] {
			t.Fatalf("step %d: HRANDFIELD %s gave %q=%q, not in the hash", step, key, els[i], els[i+1])
		}
		if count > 0 && seen[els[i]] {
			t.Fatalf("step %d: HRANDFIELD %s %d repeated %q", step, key, count, els[i])
		}
		seen[els[i]] = true
	}
}

// TestHrandfieldStrategies runs each of HRANDFIELD's strategies (drawn
// with repetition; the whole hash; selection sampling of a listpack;
// removal from a copy; drawing distinct fields) and checks the replies
// and that every field can come out, roughly uniformly.
func TestHrandfieldStrategies(t *testing.T) {
	cases := []struct {
		name   string
		size   int
		count  int
		maxEnt int
	}{
		{"listpack negative", 50, -40, 512},
		{"listpack negative batches", 5, -2500, 512},
		{"listpack distinct", 50, 20, 512},
		{"listpack whole", 10, 10, 512},
		{"hashtable negative", 300, -100, 16},
		{"hashtable copy and remove", 300, 150, 16},
		{"hashtable draw distinct", 300, 40, 16},
		{"hashtable whole", 300, 1000, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ht := newHashTest(t)
			ht.do("CONFIG SET hash-max-listpack-entries " + strconv.Itoa(tc.maxEnt))
			args := []string{"HSET", "h"}
			for i := range tc.size {
				args = append(args, "f"+strconv.Itoa(i), strconv.Itoa(i*7))
			}
			ht.exec(args...)
			wantEnc := "listpack"
			if tc.size > tc.maxEnt {
				wantEnc = "hashtable"
			}
			if enc := ht.encoding("h"); enc != wantEnc {
				t.Fatalf("encoding %s, want %s", enc, wantEnc)
			}
			hits := map[string]int{}
			// Enough rounds for about 40 draws of each field.
			perRound := max(-tc.count, min(tc.count, tc.size))
			rounds := (40*tc.size + perRound - 1) / perRound
			for range rounds {
				els := strs(ht.exec("HRANDFIELD", "h", strconv.Itoa(tc.count), "WITHVALUES"))
				want := -tc.count
				if tc.count > 0 {
					want = min(tc.count, tc.size)
				}
				if len(els) != 2*want {
					t.Fatalf("%d elements, want %d", len(els), 2*want)
				}
				seen := map[string]bool{}
				for i := 0; i < len(els); i += 2 {
					n, err := strconv.Atoi(strings.TrimPrefix(els[i], "f"))
					if err != nil || n >= tc.size || els[i+1] != strconv.Itoa(n*7) {
						t.Fatalf("bad pair %q %q", els[i], els[i+1])
					}
					if tc.count > 0 && seen[els[i]] {
						t.Fatalf("field %s twice", els[i])
					}
					seen[els[i]] = true
					hits[els[i]]++
				}
			}
			if len(hits) != tc.size {
				t.Fatalf("only %d of %d fields ever drawn", len(hits), tc.size)
			}
			if tc.count < 0 || tc.count < tc.size {
				mean := float64(rounds*perRound) / float64(tc.size)
				for f, n := range hits {
					// Six standard deviations (at most sqrt(mean)) apart.
					if math.Abs(float64(n)-mean) > 6*math.Sqrt(mean) {
						t.Errorf("field %s drawn %d times, mean %.1f", f, n, mean)
					}
				}
			}
		})
	}
}

// TestHscanHashtable scans large hashtables with various COUNTs, with
// fields added and removed between calls: every field present throughout
// is returned, and COUNT bounds each call's work.
func TestHscanHashtable(t *testing.T) {
	ht := newHashTest(t)
	args := []string{"HSET", "h"}
	for i := range 3000 {
		args = append(args, "field:"+strconv.Itoa(i), "v")
	}
	ht.exec(args...)
	if enc := ht.encoding("h"); enc != "hashtable" {
		t.Fatalf("encoding %s", enc)
	}
	for _, count := range []string{"1", "2", "10", "100", "100000"} {
		seen := map[string]bool{}
		cursor := "0"
		calls := 0
		for {
			v := ht.exec("HSCAN", "h", cursor, "COUNT", count, "MATCH", "field:*")
			cursor = string(v.Elems[0].Str)
			els := strs(v.Elems[1])
			n, _ := strconv.Atoi(count)
			if len(els) > 2*max(n, 1)+40 {
				t.Fatalf("COUNT %s: one call returned %d entries", count, len(els))
			}
			for j := 0; j < len(els); j += 2 {
				seen[els[j]] = true
			}
			calls++
			// Churn: fields outside the stable set come and go.
			ht.exec("HSET", "h", "extra:"+strconv.Itoa(calls), "x")
			if calls%3 == 0 {
				ht.exec("HDEL", "h", "extra:"+strconv.Itoa(calls-1))
			}
			if cursor == "0" {
				break
			}
			if calls > 20000 {
				t.Fatal("HSCAN does not end")
			}
		}
		for i := range 3000 {
			if !seen["field:"+strconv.Itoa(i)] {
				t.Fatalf("COUNT %s: field:%d never returned", count, i)
			}
		}
	}
	// MATCH filters after the visit: a pattern nothing matches still
	// makes progress.
	v := ht.exec("HSCAN", "h", "0", "MATCH", "nothing*", "COUNT", "100")
	if len(v.Elems[1].Elems) != 0 || string(v.Elems[0].Str) == "0" {
		t.Fatalf("HSCAN MATCH nothing: %v", strs(v.Elems[1]))
	}
}

// TestHashesGeneric checks the generic commands on both encodings: TYPE,
// OBJECT ENCODING, COPY (deep), RENAME, EXPIRE, SCAN TYPE, FLUSHALL and
// the INFO keyspace line.
func TestHashesGeneric(t *testing.T) {
	for _, enc := range []string{"listpack", "hashtable"} {
		t.Run(enc, func(t *testing.T) {
			ht := newHashTest(t)
			if enc == "hashtable" {
				ht.do("CONFIG SET hash-max-listpack-entries 2")
			}
			ht.do("HSET h a 1 b 2 c 3")
			checks := []struct{ cmd, want string }{
				{"TYPE h", "+hash"},
				{"OBJECT ENCODING h", `"` + enc + `"`},
				{"COPY h h2", ":1"},
				{"HSET h2 a changed", ":0"},
				{"HGET h a", `"1"`},
				{"HDEL h b", ":1"},
				{"HLEN h2", ":3"},
				{"OBJECT ENCODING h2", `"` + enc + `"`},
				{"RENAME h2 h3", "+OK"},
				{"HGET h3 a", `"changed"`},
				{"EXISTS h2", ":0"},
				{"SET s v", "+OK"},
				{"SCAN 0 TYPE hash COUNT 100", `["0" ["h" "h3"]]`},
				{"EXPIRE h 10", ":1"},
				{"HSET h z 26", ":1"},
				{"TTL h", ":10"},
			}
			for _, c := range checks {
				got := ht.do(c.cmd)
				if c.cmd == "SCAN 0 TYPE hash COUNT 100" {
					v := ht.exec("SCAN", "0", "TYPE", "hash", "COUNT", "100")
					ks := strs(v.Elems[1])
					slices.Sort(ks)
					got = fmt.Sprintf(`["%s" ["%s"]]`, v.Elems[0].Str, strings.Join(ks, `" "`))
				}
				if got != c.want {
					t.Errorf("%s: got %s, want %s", c.cmd, got, c.want)
				}
			}
			info := string(ht.exec("INFO", "keyspace").Str)
			if !strings.Contains(info, "db0:keys=3,expires=1,") {
				t.Errorf("INFO keyspace: %q", info)
			}
			ht.now += 11_000
			if got := ht.do("HGETALL h"); got != "[]" {
				t.Errorf("HGETALL of an expired hash: %s", got)
			}
			if got := ht.do("FLUSHALL"); got != "+OK" {
				t.Fatal(got)
			}
			if got := ht.do("DBSIZE"); got != ":0" {
				t.Errorf("DBSIZE after FLUSHALL: %s", got)
			}
		})
	}
}

// TestHashesResp3Shapes checks the RESP3 types of the replies that have
// them (maps, nulls, pair arrays) on a hashtable too.
func TestHashesResp3Shapes(t *testing.T) {
	ht := newHashTest(t)
	ht.do("HELLO 3")
	ht.do("CONFIG SET hash-max-listpack-entries 1")
	ht.do("HSET h a 1 b 2")
	v := ht.exec("HGETALL", "h")
	if v.Type != resp.TypeMap || len(v.Elems) != 4 {
		t.Fatalf("HGETALL: %s", renderReply(&v))
	}
	v = ht.exec("HRANDFIELD", "h", "-3", "WITHVALUES")
	if v.Type != resp.TypeArray || len(v.Elems) != 3 || v.Elems[0].Type != resp.TypeArray || len(v.Elems[0].Elems) != 2 {
		t.Fatalf("HRANDFIELD -3 WITHVALUES: %s", renderReply(&v))
	}
	v = ht.exec("HRANDFIELD", "h", "1", "WITHVALUES")
	if len(v.Elems) != 1 || len(v.Elems[0].Elems) != 2 {
		t.Fatalf("HRANDFIELD 1 WITHVALUES: %s", renderReply(&v))
	}
	if got := ht.do("HGET h nofield"); got != "_" {
		t.Fatalf("HGET of a missing field: %s", got)
	}
}

// TestHashesWrongTypeUnchanged checks that no hash command changes a key
// of another type, and that failed writes leave no empty hash behind.
func TestHashesWrongTypeUnchanged(t *testing.T) {
	ht := newHashTest(t)
	ht.addList("l")
	for _, cmd := range []string{"HSET l f v", "HSETNX l f v", "HDEL l f", "HINCRBY l f 1",
		"HINCRBYFLOAT l f 1", "HMSET l f v"} {
		if got := ht.do(cmd); got != "-"+errWrongType {
			t.Errorf("%s: %s", cmd, got)
		}
		if r := ht.ref("l"); r == kv.Nil || ht.s.typeOf(r) != typeList {
			t.Fatalf("%s changed the list", cmd)
		}
	}
	for _, cmd := range []string{"HINCRBY h f x", "HINCRBYFLOAT h f inf", "HINCRBYFLOAT h f x", "HSET h f"} {
		ht.do(cmd)
		if got := ht.do("EXISTS h"); got != ":0" {
			t.Errorf("%s left a key behind", cmd)
		}
	}
}

// TestHashesNoAlloc asserts that the common single-field commands do not
// allocate, on both encodings.
func TestHashesNoAlloc(t *testing.T) {
	for _, enc := range []string{"listpack", "hashtable"} {
		t.Run(enc, func(t *testing.T) {
			ht := newHashTest(t)
			args := []string{"HSET", "h"}
			n := 20
			if enc == "hashtable" {
				n = 1000
			}
			for i := range n {
				args = append(args, "field:"+strconv.Itoa(i), "value:"+strconv.Itoa(i))
			}
			ht.exec(args...)
			ht.exec("HSET", "h", "n", "100", "fl", "1.5")
			if got := ht.encoding("h"); got != enc {
				t.Fatalf("encoding %s", got)
			}
			cases := []struct {
				name string
				argv [][]byte
			}{
				{"HGET", argv("HGET", "h", "field:7")},
				{"HGET int", argv("HGET", "h", "n")},
				{"HGET missing", argv("HGET", "h", "nofield")},
				{"HGET nokey", argv("HGET", "nokey", "f")},
				{"HSET update", argv("HSET", "h", "field:3", "value:9")},
				{"HSET same", argv("HSET", "h", "field:3", "value:9", "field:4", "value:4")},
				{"HMSET", argv("HMSET", "h", "field:5", "value:1")},
				{"HSETNX present", argv("HSETNX", "h", "field:5", "x")},
				{"HINCRBY", argv("HINCRBY", "h", "n", "1")},
				{"HEXISTS", argv("HEXISTS", "h", "field:9")},
				{"HSTRLEN", argv("HSTRLEN", "h", "field:9")},
				{"HLEN", argv("HLEN", "h")},
				{"HMGET", argv("HMGET", "h", "field:1", "nofield", "n")},
				{"HDEL missing", argv("HDEL", "h", "nofield")},
				{"HRANDFIELD", argv("HRANDFIELD", "h")},
			}
			if enc == "hashtable" {
				// Deleting and re-adding a field reuses the dict's space.
				cases = append(cases, struct {
					name string
					argv [][]byte
				}{"HDEL+HSET", nil})
			}
			del, add := argv("HDEL", "h", "field:11"), argv("HSET", "h", "field:11", "value:11")
			for _, tc := range cases {
				run := func() {
					ht.c.Out = ht.c.Out[:0]
					if tc.argv == nil {
						ht.s.Exec(ht.c, del)
						ht.s.Exec(ht.c, add)
						return
					}
					ht.s.Exec(ht.c, tc.argv)
				}
				for range 3 {
					run() // warm up: Out's capacity, listpack and dict space
				}
				if allocs := testing.AllocsPerRun(200, run); allocs != 0 {
					t.Errorf("%s: %v allocations per run", tc.name, allocs)
				}
			}
		})
	}
}

// TestHashesConfigAliases checks that the ziplist names set the same
// limits as the listpack names, in the config file too.
func TestHashesConfigAliases(t *testing.T) {
	cfg, err := ParseArgs([]string{"--hash-max-ziplist-entries", "7", "--hash-max-ziplist-value", "2kb"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HashMaxListpackEntries != 7 || cfg.HashMaxListpackValue != 2048 {
		t.Fatalf("got %d %d", cfg.HashMaxListpackEntries, cfg.HashMaxListpackValue)
	}
	d := DefaultConfig()
	if d.HashMaxListpackEntries != 512 || d.HashMaxListpackValue != 64 {
		t.Fatalf("defaults %d %d, Redis 7.0 has 512 and 64", d.HashMaxListpackEntries, d.HashMaxListpackValue)
	}
}

// FuzzHashCommands runs command lines steered to the hash family on small
// limits and checks that every reply is well formed, nothing panics, and
// no key is left holding an empty hash.
func FuzzHashCommands(f *testing.F) {
	for _, s := range []string{
		"HSET h a 1 b 2\nHDEL h a b\nHGETALL h", "HRANDFIELD h -5 WITHVALUES", "HSCAN h 0 MATCH a* COUNT 2",
		"HINCRBYFLOAT h f 1e30\nHINCRBY h f 1", "HSETNX h f 12345678", "HMSET h a 1 b 2 c 3 d 4 e 5",
		"HRANDFIELD h 3", "HSTRLEN h a\nHEXISTS h a\nHMGET h a b c",
	} {
		f.Add(s)
	}
	names := []string{"hset", "hsetnx", "hget", "hmget", "hmset", "hdel", "hlen", "hstrlen", "hexists",
		"hkeys", "hvals", "hgetall", "hincrby", "hincrbyfloat", "hrandfield", "hscan"}
	f.Fuzz(func(t *testing.T, script string) {
		ht := newHashTest(t)
		ht.do("CONFIG SET hash-max-listpack-entries 4")
		ht.do("CONFIG SET hash-max-listpack-value 8")
		ht.do("HSET h a 1 b 2 c 3")
		ht.do("HSET big a 1 b 2 c 3 d 4 e 5 f 6")
		ht.addList("l")
		for _, line := range strings.Split(script, "\n") {
			args := bytes.Fields([]byte(line))
			if len(args) == 0 || len(args) > 12 {
				continue
			}
			if lookupName(ht.s.cmds.byName, args[0]) == nil {
				args[0] = []byte(names[int(args[0][0])%len(names)])
			}
			// Keep counts small: a huge negative count is a huge reply.
			if eqFold(args[0], "hrandfield") && len(args) > 2 {
				if n, ok := parseInt(args[2]); ok && (n > 1000 || n < -1000) {
					args[2] = []byte(strconv.FormatInt(n%1000, 10))
				}
			}
			ht.c.Out = ht.c.Out[:0]
			ht.s.Exec(ht.c, args)
			if ht.s.Stats.UnexpectedErrors != 0 {
				t.Fatalf("%q panicked", line)
			}
			r := bufioReader(ht.c.Out)
			if _, err := resp.ReadReply(r); err != nil || r.Buffered() != 0 {
				t.Fatalf("%q: malformed reply %q", line, ht.c.Out)
			}
			if len(args) > 1 {
				if r := ht.s.db.Find(args[1]); r != kv.Nil && ht.s.typeOf(r) == typeHash {
					h := ht.s.hashAt(r)
					if h.len() == 0 {
						t.Fatalf("%q left an empty hash", line)
					}
					if metaEnc(ht.s.db.Meta(r)) != h.encoding() {
						t.Fatalf("%q: Meta says %s, the hash is %s", line,
							encNames[metaEnc(ht.s.db.Meta(r))], encNames[h.encoding()])
					}
				}
			}
		}
	})
}

func benchHash(b *testing.B, fields int, cmd ...string) {
	ht := newHashTest(b)
	args := []string{"HSET", "h"}
	for i := range fields {
		args = append(args, "field:"+strconv.Itoa(i), "value:"+strconv.Itoa(i))
	}
	ht.exec(args...)
	a := argv(cmd...)
	ht.s.Exec(ht.c, a)
	b.ReportAllocs()
	for b.Loop() {
		ht.c.Out = ht.c.Out[:0]
		ht.s.Exec(ht.c, a)
	}
}

func BenchmarkHGetListpack(b *testing.B)  { benchHash(b, 100, "HGET", "h", "field:50") }
func BenchmarkHGetHashtable(b *testing.B) { benchHash(b, 10000, "HGET", "h", "field:5000") }
func BenchmarkHSetListpack(b *testing.B)  { benchHash(b, 100, "HSET", "h", "field:50", "value:xx") }
func BenchmarkHSetHashtable(b *testing.B) {
	benchHash(b, 10000, "HSET", "h", "field:5000", "value:xx")
}
func BenchmarkHIncrBy(b *testing.B)         { benchHash(b, 10, "HINCRBY", "h", "counter", "1") }
func BenchmarkHGetAllListpack(b *testing.B) { benchHash(b, 100, "HGETALL", "h") }
func BenchmarkHRandfield(b *testing.B)      { benchHash(b, 10000, "HRANDFIELD", "h", "-10", "WITHVALUES") }

// BenchmarkHSetNewKeys measures HSET creating small hashes, as
// redis-benchmark's hset test does with -r.
func BenchmarkHSetNewKeys(b *testing.B) {
	ht := newHashTest(b)
	keys := make([][][]byte, 4096)
	for i := range keys {
		keys[i] = argv("HSET", "myhash:"+strconv.Itoa(i), "element:"+strconv.Itoa(i), "xxx")
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ht.c.Out = ht.c.Out[:0]
		ht.s.Exec(ht.c, keys[i&4095])
		i++
		if i&4095 == 0 {
			ht.s.db.Clear()
		}
	}
}
