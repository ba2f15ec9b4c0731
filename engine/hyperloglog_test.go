package engine

import (
	"bytes"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/redisfixture"
	"shoal/resp"
)

// hllDo runs args on st's shard and returns the reply as redisfixture
// returns Redis's (bulk []byte, status string, int64, nil, []any), so
// that replies of both compare with bytes.Equal / ==.
func hllDo(t testing.TB, st *strTest, args ...string) any {
	t.Helper()
	st.s.Tick()
	st.c.Out = st.c.Out[:0]
	st.s.Exec(st.c, argv(args...))
	r := bufioReader(st.c.Out)
	v, err := resp.ReadReply(r)
	if err != nil || r.Buffered() != 0 {
		t.Fatalf("%q: malformed reply %q: %v", args, st.c.Out, err)
	}
	return replyAny(&v)
}

func replyAny(v *resp.Value) any {
	switch {
	case v.Null:
		return nil
	case v.Type == resp.TypeInt:
		return v.Int
	case v.Type == resp.TypeBulk:
		return append([]byte{}, v.Str...)
	case v.Type == resp.TypeSimple:
		return string(v.Str)
	case v.IsError():
		return fmt.Errorf("%s", v.Str)
	}
	out := make([]any, len(v.Elems))
	for i := range v.Elems {
		out[i] = replyAny(&v.Elems[i])
	}
	return out
}

func sameReply(a, b any) bool { return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b) }

// hllModel is the reference for a HyperLogLog: its registers, each the
// largest run length seen for it, kept apart from any encoding.
type hllModel [hllRegisters]uint8

func (m *hllModel) add(ele []byte) bool {
	i, n := hllPatLen(ele)
	if n > m[i] {
		m[i] = n
		return true
	}
	return false
}

func (m *hllModel) count() uint64 {
	var histo [64]int
	for _, v := range m {
		histo[v]++
	}
	return hllCountHisto(&histo)
}

// decodeRegs reads the registers of an HLL value, failing t when corrupt.
func decodeRegs(t testing.TB, b []byte) *hllModel {
	t.Helper()
	if !hllValid(b) {
		t.Fatalf("not an HLL: %q", b)
	}
	var regs [hllRegisters]uint8
	if !hllMerge(&regs, b) {
		t.Fatalf("corrupt HLL: %q", b)
	}
	m := hllModel(regs)
	return &m
}

func randElement(rng *rand.Rand) []byte {
	b := make([]byte, rng.Intn(24))
	rng.Read(b)
	return b
}

// TestHLLModel adds random elements to HLLs with several sparse limits,
// so that they cross from sparse to dense, and checks after every PFADD
// the reply, the registers the value decodes to, the encoding Redis's
// rules predict, and PFCOUNT against the model's estimate.
func TestHLLModel(t *testing.T) {
	for _, limit := range []int{0, 40, 300, 3000, 20000} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(limit) + 1))
			st := newStrTest(t)
			st.s.Config.HLLSparseMaxBytes = int64(limit)
			var m hllModel
			wasDense := false
			for step := 0; step < 1500; step++ {
				args := []string{"PFADD", "h"}
				changed := step == 0
				for n := rng.Intn(8); n > 0; n-- {
					e := randElement(rng)
					if step > 700 && rng.Intn(2) == 0 {
						e = []byte(strconv.Itoa(rng.Intn(step * 10))) // repeats
					}
					args = append(args, string(e))
					if m.add(e) {
						changed = true
					}
				}
				got := hllDo(t, st, args...)
				if want := int64(map[bool]int{false: 0, true: 1}[changed]); got != want {
					t.Fatalf("step %d: PFADD = %v, want %d", step, got, want)
				}
				b := st.s.db.Str(st.ref("h"))
				if *decodeRegs(t, b) != m {
					t.Fatalf("step %d: registers differ from the model", step)
				}
				dense := b[4] == hllDense
				if wasDense && !dense {
					t.Fatalf("step %d: dense turned sparse", step)
				}
				if !dense && len(b) > max(limit, len(hllEmpty)) {
					t.Fatalf("step %d: sparse value of %d bytes over the limit %d", step, len(b), limit)
				}
				wasDense = dense
				if step%50 == 0 || step > 1480 {
					if got := hllDo(t, st, "PFCOUNT", "h"); got != int64(m.count()) {
						t.Fatalf("step %d: PFCOUNT = %v, model %d", step, got, m.count())
					}
				}
			}
			if limit <= 300 && !wasDense {
				t.Errorf("never turned dense with hll-sparse-max-bytes %d", limit)
			}
		})
	}
}

// TestHLLSparseSetPromotes checks the promotion of a sparse value when a
// register needs more than a VAL opcode holds (a run of over 32 zeros,
// one hash in 2^32), and the splits of each opcode kind.
func TestHLLSparseSetPromotes(t *testing.T) {
	st := newStrTest(t)
	hllDo(t, st, "PFADD", "h")
	r := st.ref("h")
	h := hllValue{db: st.s.db, r: r, b: st.s.db.ResizeString(r, len(st.s.db.Str(r))), maxSparse: 3000}
	var m hllModel
	for _, reg := range []struct {
		i int
		v uint8
	}{{0, 1}, {16383, 2}, {100, 3}, {101, 3}, {102, 3}, {103, 3}, {104, 3}, {99, 3}, {100, 4}, {100, 4}, {5000, 32}, {100, 1}} {
		want := 0
		if reg.v > m[reg.i] {
			m[reg.i], want = reg.v, 1
		}
		if got := h.set(reg.i, reg.v); got != want {
			t.Fatalf("set(%d, %d) = %d, want %d", reg.i, reg.v, got, want)
		}
		if *decodeRegs(t, h.b) != m || h.b[4] != hllSparse {
			t.Fatalf("after set(%d, %d): registers or encoding wrong", reg.i, reg.v)
		}
	}
	if got := h.set(7, 33); got != 1 || h.b[4] != hllDense || len(h.b) != hllDenseSize {
		t.Fatalf("set(7, 33) = %d, encoding %d, length %d: want a dense value", got, h.b[4], len(h.b))
	}
	m[7] = 33
	if *decodeRegs(t, h.b) != m {
		t.Fatal("dense registers differ from the model")
	}
	if got := h.set(7, 63); got != 1 {
		t.Fatal("dense set of a larger value reported no change")
	}
	if hllDenseGet(h.b[hllHdrSize:], 7) != 63 || hllDenseGet(h.b[hllHdrSize:], 16383) != 2 {
		t.Fatal("dense registers wrong")
	}
}

// TestHLLAgainstRedis runs the same PFADD, PFCOUNT and PFMERGE sequences
// on Shoal and on a real redis-server (skipped when none is installed)
// and compares every reply and every value byte for byte, with several
// sparse limits; values are also moved between the two with GET and SET.
func TestHLLAgainstRedis(t *testing.T) {
	rs := redisfixture.Start(t)
	st := newStrTest(t)
	both := func(args ...string) any {
		t.Helper()
		want := rs.Do(t, args...)
		got := hllDo(t, st, args...)
		if !sameReply(got, want) {
			t.Fatalf("%.200q: Shoal %.200q, Redis %.200q", args, got, want)
		}
		return got
	}
	for run, limit := range []string{"3000", "3000", "100", "0", "8000"} {
		rng := rand.New(rand.NewSource(int64(run)))
		both("FLUSHALL")
		both("CONFIG", "SET", "hll-sparse-max-bytes", limit)
		keys := []string{"a", "b", "c"}
		size := []int{100, 2000, 30000}[run%3]
		for step := 0; step < 60; step++ {
			key := keys[rng.Intn(len(keys))]
			args := []string{"PFADD", key}
			for n := rng.Intn(size/30 + 2); n > 0; n-- {
				switch rng.Intn(3) {
				case 0:
					args = append(args, string(randElement(rng)))
				case 1:
					args = append(args, strconv.Itoa(rng.Intn(size)))
				default:
					args = append(args, "element:"+strconv.Itoa(rng.Intn(size*2)))
				}
			}
			both(args...)
			switch rng.Intn(6) {
			case 0:
				both("PFCOUNT", key)
			case 1:
				both("PFCOUNT", "a", "b", "c", "missing")
			case 2:
				both("PFMERGE", keys[rng.Intn(3)], keys[rng.Intn(3)], keys[rng.Intn(3)])
			case 3:
				both("PFMERGE", "m"+strconv.Itoa(step%3), "a", "c")
				both("PFCOUNT", "m"+strconv.Itoa(step%3))
			}
			both("GET", key)
		}
		for _, k := range keys {
			both("PFCOUNT", k)
			both("GET", k)
			both("PFDEBUG", "ENCODING", k)
		}
		// Values move both ways: Redis's into Shoal, Shoal's into Redis.
		v := rs.Do(t, "GET", "a").([]byte)
		hllDo(t, st, "SET", "x", string(v))
		rs.Do(t, "SET", "x", string(v))
		both("PFADD", "x", "moved", "in")
		both("PFCOUNT", "x")
		w := hllDo(t, st, "GET", "b").([]byte)
		rs.Do(t, "SET", "y", string(w))
		hllDo(t, st, "SET", "y", string(w))
		both("PFCOUNT", "y")
		both("PFADD", "y", "again")
		both("GET", "y")
	}
	both("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
}

// TestHLLCountAgainstRedis compares PFCOUNT for many cardinalities, small
// and large: every count a register histogram can give must agree.
func TestHLLCountAgainstRedis(t *testing.T) {
	rs := redisfixture.Start(t)
	st := newStrTest(t)
	for _, n := range []int{1, 2, 3, 10, 100, 250, 1000, 5000, 20000, 120000} {
		key := "n" + strconv.Itoa(n)
		var model hllModel
		for i := 0; i < n; i += 1000 {
			args := []string{"PFADD", key}
			for j := i; j < min(n, i+1000); j++ {
				e := strconv.Itoa(j*7919) + ":x"
				args = append(args, e)
				model.add([]byte(e))
			}
			rs.Do(t, args...)
			hllDo(t, st, args...)
		}
		want := rs.Int(t, "PFCOUNT", key)
		if got := hllDo(t, st, "PFCOUNT", key); got != want || uint64(want) != model.count() {
			t.Errorf("%d elements: Shoal %v, Redis %d, model %d", n, got, want, model.count())
		}
		if got, want := hllDo(t, st, "GET", key).([]byte), rs.Do(t, "GET", key).([]byte); !bytes.Equal(got, want) {
			t.Errorf("%d elements: values differ", n)
		}
	}
}

// TestHLLKeyspace checks what the generic commands do with HLL values.
func TestHLLKeyspace(t *testing.T) {
	st := newStrTest(t)
	for _, tc := range []struct{ cmd, want string }{
		{"PFADD h a b c", ":1"},
		{"TYPE h", "+string"},
		{"OBJECT ENCODING h", `"raw"`},
		{"COPY h h2", ":1"},
		{"PFCOUNT h2", ":3"},
		{"PFADD h2 d", ":1"},
		{"PFCOUNT h h2", ":4"},
		{"PFCOUNT h", ":3"},
		{"RENAME h2 h3", "+OK"},
		{"PFCOUNT h3", ":4"},
		{"EXPIRE h3 10", ":1"},
		{"PFADD h3 e", ":1"},
		{"TTL h3", ":10"},
		{"DEL h", ":1"},
		{"SCAN 0 TYPE string", `["0" ["h3"]]`},
		{"PFCOUNT h", ":0"},
		{"FLUSHALL", "+OK"},
		{"PFCOUNT h3", ":0"},
	} {
		if got := st.do(tc.cmd); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.cmd, got, tc.want)
		}
	}
	// Lazy expiry: an expired HLL is gone for PFADD and PFCOUNT.
	st.do("PFADD e x")
	st.do("PEXPIRE e 10")
	st.now += 20
	if got := st.do("PFADD e"); got != ":1" {
		t.Errorf("PFADD on an expired key = %s, want :1 (a new HLL)", got)
	}
	want := hllEmpty
	want[15] |= 0x80 // PFADD marks the cached cardinality stale
	if got := st.s.db.Str(st.ref("e")); !bytes.Equal(got, want[:]) {
		t.Errorf("new HLL = %q, want %q", got, want)
	}
}

// TestHLLAllocs checks that the common HLL commands allocate nothing,
// PFCOUNT of several keys included (its registers live on the stack).
func TestHLLAllocs(t *testing.T) {
	st := newStrTest(t)
	st.do("PFADD sparse a b c d")
	st.do("PFADD big " + func() string {
		var b bytes.Buffer
		for i := range 3000 {
			fmt.Fprintf(&b, "e%d ", i)
		}
		return b.String()
	}())
	if b := st.s.db.Str(st.ref("big")); b[4] != hllDense {
		t.Fatal("big is not dense")
	}
	n := 0
	cases := []struct {
		name string
		argv func() [][]byte
	}{
		{"PFADD sparse", func() [][]byte { return argv("PFADD", "sparse", "a", "b") }},
		{"PFADD dense", func() [][]byte { return argv("PFADD", "big", "x", "y", "z") }},
		{"PFCOUNT cached", func() [][]byte { return argv("PFCOUNT", "big") }},
		{"PFCOUNT stale", func() [][]byte { st.do("PFADD big n" + strconv.Itoa(n)); n++; return argv("PFCOUNT", "big") }},
		{"PFCOUNT keys", func() [][]byte { return argv("PFCOUNT", "big", "sparse", "missing") }},
	}
	for _, tc := range cases {
		a := tc.argv()
		st.s.Exec(st.c, a)
		allocs := testing.AllocsPerRun(100, func() {
			st.c.Out = st.c.Out[:0]
			st.s.Exec(st.c, a)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

// TestHLLPatLen checks hashing against the registers Redis 7.0.15 fills
// (PFDEBUG DECODE after one PFADD into an empty HLL), across tail lengths
// of MurmurHash64A.
func TestHLLPatLen(t *testing.T) {
	for _, tc := range []struct {
		in    string
		index int
		count uint8
	}{
		{"", 5938, 2},
		{"a", 12711, 2},
		{"hello", 9216, 1},
		{"12345678", 10579, 3},
		{"123456789abcdef", 1977, 3},
		{"0123456789abcdefg", 14057, 2},
		{"element:42", 9122, 3},
	} {
		if i, n := hllPatLen([]byte(tc.in)); i != tc.index || n != tc.count {
			t.Errorf("%q: register %d count %d, Redis %d %d", tc.in, i, n, tc.index, tc.count)
		}
	}
}

func BenchmarkPFADD(b *testing.B) {
	for _, kind := range []string{"sparse", "dense"} {
		b.Run(kind, func(b *testing.B) {
			st := newStrTest(b)
			st.do("PFADD h seed")
			if kind == "dense" {
				st.do("PFDEBUG TODENSE h")
			}
			args := argv("PFADD", "h", "element")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				args[2] = strconv.AppendInt(args[2][:0], int64(i%200), 10)
				st.c.Out = st.c.Out[:0]
				st.s.Exec(st.c, args)
			}
		})
	}
}

func BenchmarkPFCOUNT(b *testing.B) {
	st := newStrTest(b)
	for i := range 20 {
		st.do(fmt.Sprintf("PFADD h%d %d a b c %d", i%2, i, i*7))
	}
	st.do("PFDEBUG TODENSE h1")
	for _, tc := range []struct {
		name string
		args [][]byte
	}{
		{"cached", argv("PFCOUNT", "h0")},
		{"two keys", argv("PFCOUNT", "h0", "h1")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st.c.Out = st.c.Out[:0]
				st.s.Exec(st.c, tc.args)
			}
		})
	}
}

func BenchmarkPFMERGE(b *testing.B) {
	st := newStrTest(b)
	for i := range 2000 {
		st.do(fmt.Sprintf("PFADD h%d %d", i%2, i))
	}
	args := argv("PFMERGE", "d", "h0", "h1")
	b.ReportAllocs()
	for b.Loop() {
		st.c.Out = st.c.Out[:0]
		st.s.Exec(st.c, args)
	}
}

// FuzzHLLValue stores arbitrary bytes after a valid header as an HLL and
// runs every HLL command on it: none may panic, a value that decodes
// must count as the model of its registers, one that does not must get
// INVALIDOBJ from PFCOUNT, and whatever PFADD or PFMERGE leave must
// still decode when they succeed.
func FuzzHLLValue(f *testing.F) {
	f.Add(byte(hllSparse), []byte{0x7f, 0xff}, []byte("a"))
	f.Add(byte(hllSparse), []byte{0x7f, 0xfe, 0x80}, []byte("b"))
	f.Add(byte(hllSparse), []byte{0x00, 0x7f, 0xfd, 0x90}, []byte("c"))
	f.Add(byte(hllSparse), []byte{0x7f}, []byte(""))
	f.Add(byte(hllSparse), []byte{0xff, 0xff, 0xff, 0x7f, 0xf0, 0x3f}, []byte("xyz"))
	f.Add(byte(hllDense), bytes.Repeat([]byte{0xff}, hllDenseSize-hllHdrSize), []byte("d"))
	f.Fuzz(func(t *testing.T, enc byte, body, ele []byte) {
		if len(body) > 4*hllDenseSize {
			return
		}
		val := append([]byte("HYLL\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80"), body...)
		val[4] = enc
		st := newStrTest(t)
		st.s.Config.HLLSparseMaxBytes = 64
		st.s.setString([]byte("h"), val, encRaw, kv.NoExpire, false)
		valid := hllValid(val)
		var regs [hllRegisters]uint8
		decodes := valid && hllMerge(&regs, val)
		m := hllModel(regs)
		got := hllDo(t, st, "PFCOUNT", "h")
		switch {
		case !valid:
			if !sameReply(got, fmt.Errorf("%s", errNotHLL)) {
				t.Fatalf("PFCOUNT of an invalid value = %v", got)
			}
			return
		case !decodes:
			if !sameReply(got, fmt.Errorf("%s", errInvalidHLL)) {
				t.Fatalf("PFCOUNT of a corrupt value = %v", got)
			}
		case got != int64(m.count()):
			t.Fatalf("PFCOUNT = %v, model %d", got, m.count())
		}
		hllDo(t, st, "PFCOUNT", "h", "h")
		if _, failed := hllDo(t, st, "PFADD", "h", string(ele)).(error); !failed {
			b := st.s.db.Str(st.ref("h"))
			if b[4] == hllDense && len(b) != hllDenseSize {
				t.Fatalf("dense value of %d bytes", len(b))
			}
			if decodes {
				m.add(ele)
				if *decodeRegs(t, b) != m {
					t.Fatal("registers after PFADD differ from the model")
				}
			}
		}
		hllDo(t, st, "PFMERGE", "d", "h")
		hllDo(t, st, "PFDEBUG", "DECODE", "h")
		hllDo(t, st, "PFDEBUG", "GETREG", "h")
	})
}

// TestPFSelfTest runs PFSELFTEST: this implementation passes Redis's own
// self test, and the key space is left as it was.
func TestPFSelfTest(t *testing.T) {
	if setsRace {
		t.Skip("tens of millions of register updates: too slow under the race detector")
	}
	s := NewShard(DefaultConfig())
	c := s.NewClient()
	exec(t, s, c, "SET", "k", "v")
	start := time.Now()
	if v := exec(t, s, c, "PFSELFTEST"); v.Type != '+' || string(v.Str) != "OK" {
		t.Fatalf("PFSELFTEST: %+v", v)
	}
	t.Logf("PFSELFTEST took %v", time.Since(start))
	if n := s.db.Len(); n != 1 {
		t.Errorf("%d keys after PFSELFTEST, want 1", n)
	}
	if v := exec(t, s, c, "PFSELFTEST", "x"); v.Type != '-' || !strings.Contains(string(v.Str), "wrong number of arguments") {
		t.Errorf("PFSELFTEST x: %+v", v)
	}
}
