package engine

import (
	"fmt"
	"math/big"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/redisfixture"
	"shoal/resp"
)

// bitModel is the reference for the bitmap commands: plain byte slices
// (nil for a missing key), changed and read one bit at a time.
type bitModel map[string][]byte

func modelBit(v []byte, i int64) int64 {
	if i>>3 >= int64(len(v)) {
		return 0
	}
	return int64(v[i>>3]>>(7-i&7)) & 1
}

func modelSetBit(v []byte, i, on int64) {
	if on == 1 {
		v[i>>3] |= 1 << (7 - i&7)
	} else {
		v[i>>3] &^= 1 << (7 - i&7)
	}
}

func grow(v []byte, n int) []byte {
	for len(v) < n {
		v = append(v, 0)
	}
	return v
}

// bitModelRange is the documented meaning of a BITCOUNT/BITPOS range: in
// bytes or bits, negative counting from the end, clamped; ok false when
// empty. The result is in bits.
func bitModelRange(n int64, start, end int64, isBit bool) (lo, hi int64, ok bool) {
	total := n
	if isBit {
		total *= 8
	}
	if start < 0 {
		start = max(total+start, 0)
	}
	if end < 0 {
		end = max(total+end, 0)
	}
	end = min(end, total-1)
	if start > end {
		return 0, 0, false
	}
	if !isBit {
		return start * 8, end*8 + 7, true
	}
	return start, end, true
}

// fieldRange is the range of a BITFIELD type.
func fieldRange(signed bool, width int) (lo, hi *big.Int) {
	one := big.NewInt(1)
	if signed {
		hi = new(big.Int).Sub(new(big.Int).Lsh(one, uint(width-1)), one)
		lo = new(big.Int).Neg(new(big.Int).Lsh(one, uint(width-1)))
		return lo, hi
	}
	return big.NewInt(0), new(big.Int).Sub(new(big.Int).Lsh(one, uint(width)), one)
}

func modelGetField(v []byte, off int64, signed bool, width int) *big.Int {
	n := new(big.Int)
	for k := range int64(width) {
		n.Lsh(n, 1)
		n.Or(n, big.NewInt(modelBit(v, off+k)))
	}
	if signed && n.Bit(width-1) == 1 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(width)))
	}
	return n
}

func modelSetField(v []byte, off int64, width int, n *big.Int) {
	u := new(big.Int).Set(n)
	if u.Sign() < 0 {
		u.Add(u, new(big.Int).Lsh(big.NewInt(1), uint(width)))
	}
	for k := range width {
		modelSetBit(v, off+int64(k), int64(u.Bit(width-1-k)))
	}
}

// run applies a command to the model and renders the reply as the
// scripts do.
func (m bitModel) run(args []string) string {
	key := args[1]
	v, exists := m[key]
	num := func(i int) int64 { n, _ := strconv.ParseInt(args[i], 10, 64); return n }
	switch strings.ToUpper(args[0]) {
	case "SET":
		m[key] = []byte(args[2])
		return "+OK"
	case "GET":
		if !exists {
			return "(nil)"
		}
		return strconv.Quote(string(v))
	case "SETBIT":
		off, on := num(2), num(3)
		v = grow(v, int(off>>3)+1)
		old := modelBit(v, off)
		modelSetBit(v, off, on)
		m[key] = v
		return ":" + strconv.FormatInt(old, 10)
	case "GETBIT":
		return ":" + strconv.FormatInt(modelBit(v, num(2)), 10)
	case "BITCOUNT":
		lo, hi, ok := int64(0), int64(len(v))*8-1, len(v) > 0
		if len(args) > 2 {
			lo, hi, ok = bitModelRange(int64(len(v)), num(2), num(3), len(args) == 5 && args[4] == "BIT")
			if s, e := num(2), num(3); s < 0 && e < 0 && s > e {
				ok = false
			}
		}
		n := 0
		for i := lo; ok && i <= hi; i++ {
			n += int(modelBit(v, i))
		}
		return ":" + strconv.Itoa(n)
	case "BITPOS":
		bit := num(2)
		if !exists {
			return ":" + strconv.FormatInt(-bit, 10)
		}
		lo, hi, ok := int64(0), int64(len(v))*8-1, len(v) > 0
		endGiven := len(args) > 4
		if len(args) > 3 {
			isBit := len(args) == 6 && args[5] == "BIT"
			end := int64(len(v)) * 8
			if endGiven {
				end = num(4)
			}
			lo, hi, ok = bitModelRange(int64(len(v)), num(3), end, isBit)
		}
		if !ok {
			return ":-1"
		}
		for i := lo; i <= hi; i++ {
			if modelBit(v, i) == bit {
				return ":" + strconv.FormatInt(i, 10)
			}
		}
		if bit == 1 || endGiven {
			return ":-1"
		}
		return ":" + strconv.Itoa(len(v)*8)
	case "BITOP":
		dst, srcs := args[2], args[3:]
		n := 0
		for _, s := range srcs {
			n = max(n, len(m[s]))
		}
		res := make([]byte, n)
		for i := range res {
			at := func(s string) byte {
				if i < len(m[s]) {
					return m[s][i]
				}
				return 0
			}
			res[i] = at(srcs[0])
			for _, s := range srcs[1:] {
				switch args[1] {
				case "AND":
					res[i] &= at(s)
				case "OR":
					res[i] |= at(s)
				case "XOR":
					res[i] ^= at(s)
				}
			}
			if args[1] == "NOT" {
				res[i] = ^res[i]
			}
		}
		if n == 0 {
			delete(m, dst)
		} else {
			m[dst] = res
		}
		return ":" + strconv.Itoa(n)
	case "BITFIELD", "BITFIELD_RO":
		return m.bitfield(key, args[2:])
	}
	panic("model: " + args[0])
}

func (m bitModel) bitfield(key string, ops []string) string {
	v := m[key]
	// Grow first to the farthest bit any write reaches, as Redis does.
	need, writes := 0, false
	for j := 0; j < len(ops); {
		switch ops[j] {
		case "OVERFLOW":
			j += 2
		case "GET":
			j += 3
		default:
			signed, width, _ := parseBitfieldType([]byte(ops[j+1]))
			_ = signed
			off := fieldOffset(ops[j+2], width)
			need = max(need, int((off+int64(width)-1)>>3)+1)
			writes = true
			j += 4
		}
	}
	if writes {
		v = grow(v, need)
		m[key] = v
	}
	var out []string
	ow := "WRAP"
	for j := 0; j < len(ops); {
		if ops[j] == "OVERFLOW" {
			ow = ops[j+1]
			j += 2
			continue
		}
		signed, width, _ := parseBitfieldType([]byte(ops[j+1]))
		off := fieldOffset(ops[j+2], width)
		old := modelGetField(v, off, signed, width)
		if ops[j] == "GET" {
			out = append(out, ":"+old.String())
			j += 3
			continue
		}
		arg, _ := strconv.ParseInt(ops[j+3], 10, 64)
		n := big.NewInt(arg)
		if !signed && ops[j] == "SET" {
			n.SetUint64(uint64(arg)) // Redis reads the value as unsigned
		}
		if ops[j] == "INCRBY" {
			n.Add(n, old)
		}
		lo, hi := fieldRange(signed, width)
		if n.Cmp(lo) < 0 || n.Cmp(hi) > 0 {
			switch ow {
			case "FAIL":
				out = append(out, "(nil)")
				j += 4
				continue
			case "SAT":
				if n.Cmp(lo) < 0 {
					n.Set(lo)
				} else {
					n.Set(hi)
				}
			default:
				mod := new(big.Int).Lsh(big.NewInt(1), uint(width))
				n.Mod(n.Sub(n, lo), mod).Add(n, lo)
			}
		}
		if ops[j] == "SET" {
			out = append(out, ":"+old.String())
		} else {
			out = append(out, ":"+n.String())
		}
		modelSetField(v, off, width, n)
		j += 4
	}
	return "[" + strings.Join(out, " ") + "]"
}

func fieldOffset(arg string, width int) int64 {
	if arg[0] == '#' {
		n, _ := strconv.ParseInt(arg[1:], 10, 64)
		return n * int64(width)
	}
	n, _ := strconv.ParseInt(arg, 10, 64)
	return n
}

// randBitCommand makes a valid random bitmap command over keys a, b, c
// with offsets up to maxBit.
func randBitCommand(rng *rand.Rand, maxBit int) []string {
	keys := []string{"a", "b", "c"}
	key := keys[rng.Intn(3)]
	idx := func() string {
		n := rng.Intn(maxBit/4 + 2)
		if rng.Intn(3) == 0 {
			n = -n
		}
		return strconv.Itoa(n)
	}
	ftype := func() (string, int) {
		if rng.Intn(2) == 0 {
			w := rng.Intn(64) + 1
			return "i" + strconv.Itoa(w), w
		}
		w := rng.Intn(63) + 1
		return "u" + strconv.Itoa(w), w
	}
	fval := func() string {
		switch rng.Intn(4) {
		case 0:
			return strconv.FormatInt(rng.Int63()-rng.Int63(), 10)
		case 1:
			return strconv.Itoa(rng.Intn(600) - 300)
		default:
			return strconv.Itoa(rng.Intn(20) - 10)
		}
	}
	switch rng.Intn(14) {
	case 0:
		return []string{"SET", key, []string{"", "12345", "hello world", "\xff\x00\xf0"}[rng.Intn(4)]}
	case 1, 2, 3:
		return []string{"SETBIT", key, strconv.Itoa(rng.Intn(maxBit)), strconv.Itoa(rng.Intn(2))}
	case 4:
		return []string{"GETBIT", key, strconv.Itoa(rng.Intn(maxBit + 16))}
	case 5:
		switch rng.Intn(3) {
		case 0:
			return []string{"BITCOUNT", key}
		case 1:
			return []string{"BITCOUNT", key, idx(), idx()}
		}
		return []string{"BITCOUNT", key, idx(), idx(), []string{"BIT", "BYTE"}[rng.Intn(2)]}
	case 6, 7:
		bit := strconv.Itoa(rng.Intn(2))
		switch rng.Intn(4) {
		case 0:
			return []string{"BITPOS", key, bit}
		case 1:
			return []string{"BITPOS", key, bit, idx()}
		case 2:
			return []string{"BITPOS", key, bit, idx(), idx()}
		}
		return []string{"BITPOS", key, bit, idx(), idx(), []string{"BIT", "BYTE"}[rng.Intn(2)]}
	case 8:
		op := []string{"AND", "OR", "XOR", "NOT"}[rng.Intn(4)]
		args := []string{"BITOP", op, keys[rng.Intn(3)], key}
		if op != "NOT" {
			for n := rng.Intn(3); n > 0; n-- {
				args = append(args, keys[rng.Intn(3)])
			}
		}
		return args
	case 9:
		return []string{"GET", key}
	default:
		args := []string{"BITFIELD", key}
		ro := rng.Intn(5) == 0
		if ro {
			args[0] = "BITFIELD_RO"
		}
		for n := rng.Intn(4) + 1; n > 0; n-- {
			t, w := ftype()
			off := strconv.Itoa(rng.Intn(maxBit))
			if rng.Intn(3) == 0 {
				off = "#" + strconv.Itoa(rng.Intn(maxBit/w+1))
			}
			switch op := rng.Intn(5); {
			case ro || op == 0:
				args = append(args, "GET", t, off)
			case op == 1:
				args = append(args, "OVERFLOW", []string{"WRAP", "SAT", "FAIL"}[rng.Intn(3)])
				n++
			case op == 2:
				args = append(args, "SET", t, off, fval())
			default:
				args = append(args, "INCRBY", t, off, fval())
			}
		}
		return args
	}
}

// TestBitopsModel runs random bitmap commands against the model and
// checks every reply, the values, and that written values are raw.
func TestBitopsModel(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			st := newStrTest(t)
			m := bitModel{}
			for step := 0; step < 3000; step++ {
				args := randBitCommand(rng, []int{64, 300, 3000, 40000}[seed-1])
				want := m.run(args)
				got := execArgs(t, st, args)
				if got != want {
					t.Fatalf("step %d: %q = %s, model %s", step, args, got, want)
				}
				if dst := writtenKey(args); dst != "" && m[dst] != nil {
					if enc := st.do("OBJECT ENCODING " + dst); enc != `"raw"` {
						t.Fatalf("step %d: %q left encoding %s", step, args, enc)
					}
				}
			}
			for _, k := range []string{"a", "b", "c"} {
				want := m.run([]string{"GET", k})
				if got := execArgs(t, st, []string{"GET", k}); got != want {
					t.Fatalf("%s = %s, model %s", k, got, want)
				}
			}
		})
	}
}

// writtenKey is the key a bitmap command writes, or "".
func writtenKey(args []string) string {
	switch args[0] {
	case "SETBIT":
		return args[1]
	case "BITOP":
		return args[2]
	case "BITFIELD":
		if cmdWrote(args[2:]) {
			return args[1]
		}
	}
	return ""
}

func execArgs(t testing.TB, st *strTest, args []string) string {
	t.Helper()
	st.s.Tick()
	st.c.Out = st.c.Out[:0]
	st.s.Exec(st.c, argv(args...))
	r := bufioReader(st.c.Out)
	v, err := resp.ReadReply(r)
	if err != nil {
		t.Fatalf("%q: malformed reply %q: %v", args, st.c.Out, err)
	}
	return renderReply(&v)
}

// TestBitopsAgainstRedis runs the same random commands on Shoal and on a
// real redis-server (skipped when none is installed) and compares every
// reply and, at the end, every value.
func TestBitopsAgainstRedis(t *testing.T) {
	rs := redisfixture.Start(t)
	st := newStrTest(t)
	rng := rand.New(rand.NewSource(7))
	for step := 0; step < 3000; step++ {
		args := randBitCommand(rng, []int{40, 500, 5000}[step/1000])
		want := rs.Do(t, args...)
		got := hllDo(t, st, args...)
		if !sameReply(got, want) {
			t.Fatalf("step %d: %q: Shoal %.300q, Redis %.300q", step, args, got, want)
		}
	}
	for _, k := range []string{"a", "b", "c"} {
		if got, want := hllDo(t, st, "GET", k), rs.Do(t, "GET", k); !sameReply(got, want) {
			t.Fatalf("%s: Shoal %q, Redis %q", k, got, want)
		}
	}
}

// TestBitopsKeyspace checks the generic commands on bitmaps and the
// dirty counter.
func TestBitopsKeyspace(t *testing.T) {
	st := newStrTest(t)
	steps := []struct {
		cmd, want string
		dirty     int64 // changes the command counts
	}{
		{"SETBIT k 10 1", ":0", 1},
		{"SETBIT k 10 1", ":1", 0},
		{"SETBIT k 2 0", ":0", 0},
		{"SETBIT k 100 0", ":0", 1},
		{"GETBIT k 10", ":1", 0},
		{"BITFIELD k GET u8 0", "[:0]", 0},
		{"BITFIELD k SET u8 0 1 INCRBY u8 0 1 OVERFLOW FAIL INCRBY u8 0 255", "[:0 :2 (nil)]", 2},
		{"BITOP NOT n k", ":13", 1},
		{"BITOP AND n missing", ":0", 1},
		{"BITOP AND n missing", ":0", 0},
		{"EXPIRE k 100", ":1", 1},
		{"SETBIT k 0 1", ":0", 1},
		{"TTL k", ":100", 0},
		{"COPY k c", ":1", 1},
		{"BITCOUNT c", ":3", 0},
		{"RENAME c r", "+OK", 1},
		{"TYPE r", "+string", 0},
		{"OBJECT ENCODING r", `"raw"`, 0},
		{"SCAN 0 TYPE string", `["0" ["k" "r"]]`, 0},
		{"DEL r", ":1", 1},
	}
	for _, s := range steps {
		before := st.s.dirty
		if got := st.do(s.cmd); got != s.want && !(strings.HasPrefix(s.cmd, "SCAN") && got == `["0" ["r" "k"]]`) {
			t.Errorf("%s = %s, want %s", s.cmd, got, s.want)
		}
		if d := st.s.dirty - before; d != s.dirty {
			t.Errorf("%s: dirty +%d, want +%d", s.cmd, d, s.dirty)
		}
	}
	st.do("PEXPIRE k 10")
	st.now += 20
	if got := st.do("GETBIT k 0"); got != ":0" {
		t.Errorf("GETBIT of an expired key = %s", got)
	}
	if got := st.do("BITPOS k 0"); got != ":0" {
		t.Errorf("BITPOS of an expired key = %s", got)
	}
}

// TestBitopsLarge builds a bitmap at the far end of a 1 MB limit and
// checks the counts and searches that cross it word by word.
func TestBitopsLarge(t *testing.T) {
	st := newStrTest(t)
	st.s.Config.ProtoMaxBulkLen = 1 << 20
	last := int64(1<<23 - 1)
	for _, tc := range []struct{ cmd, want string }{
		{fmt.Sprintf("SETBIT k %d 1", last+1), "-" + errBitOffset},
		{fmt.Sprintf("SETBIT k %d 1", last), ":0"},
		{"SETBIT k 5 1", ":0"},
		{"STRLEN k", ":1048576"},
		{"BITCOUNT k", ":2"},
		{"BITCOUNT k 1 -1", ":1"},
		{"BITCOUNT k 6 -2 BIT", ":0"},
		{"BITPOS k 1 1", fmt.Sprintf(":%d", last)},
		{"BITPOS k 1 6 -1 BIT", fmt.Sprintf(":%d", last)},
		{"BITPOS k 0 0 -1 BIT", ":0"},
		{"BITOP NOT n k", ":1048576"},
		{"BITPOS n 0", ":5"},
		{"BITPOS n 0 1", fmt.Sprintf(":%d", last)},
		{"BITPOS n 1 -1 -1", fmt.Sprintf(":%d", last-7)},
		{fmt.Sprintf("BITFIELD k GET u1 %d GET i2 %d", last, last), "[:1 :-2]"},
	} {
		if got := st.do(tc.cmd); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.cmd, got, tc.want)
		}
	}
}

// TestBitopsAllocs checks that the single-bit commands and short
// BITFIELDs allocate nothing.
func TestBitopsAllocs(t *testing.T) {
	st := newStrTest(t)
	st.do("SETBIT k 1000 1")
	for _, tc := range []struct {
		name string
		argv [][]byte
	}{
		{"SETBIT", argv("SETBIT", "k", "77", "1")},
		{"SETBIT clear", argv("SETBIT", "k", "77", "0")},
		{"GETBIT", argv("GETBIT", "k", "77")},
		{"GETBIT missing", argv("GETBIT", "nokey", "77")},
		{"BITCOUNT", argv("BITCOUNT", "k")},
		{"BITCOUNT range", argv("BITCOUNT", "k", "3", "-3", "BIT")},
		{"BITPOS", argv("BITPOS", "k", "1")},
		{"BITPOS range", argv("BITPOS", "k", "0", "1", "100", "BIT")},
		{"BITFIELD", argv("BITFIELD", "k", "INCRBY", "u8", "#3", "1", "GET", "i16", "5", "OVERFLOW", "SAT", "SET", "i8", "0", "-200")},
		{"BITFIELD_RO", argv("BITFIELD_RO", "k", "GET", "u8", "#3")},
	} {
		st.s.Exec(st.c, tc.argv)
		allocs := testing.AllocsPerRun(200, func() {
			st.c.Out = st.c.Out[:0]
			st.s.Exec(st.c, tc.argv)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

func BenchmarkBitops(b *testing.B) {
	st := newStrTest(b)
	st.do("SETBIT big 8000000 1")
	for _, tc := range []struct {
		name string
		args [][]byte
	}{
		{"SETBIT", argv("SETBIT", "k", "1000", "1")},
		{"GETBIT", argv("GETBIT", "k", "1000")},
		{"BITFIELD INCRBY", argv("BITFIELD", "k", "INCRBY", "u32", "#4", "1")},
		{"BITCOUNT 1MB", argv("BITCOUNT", "big")},
		{"BITPOS 1MB", argv("BITPOS", "big", "1")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			st.s.Exec(st.c, tc.args)
			b.ReportAllocs()
			for b.Loop() {
				st.c.Out = st.c.Out[:0]
				st.s.Exec(st.c, tc.args)
			}
		})
	}
}

// FuzzBitfield runs BITFIELD, BITPOS and BITCOUNT with arbitrary
// arguments on a small value: no panic, a well-formed reply, and a value
// that never grows beyond what the offsets parsed allow.
func FuzzBitfield(f *testing.F) {
	f.Add("GET u8 0 SET i5 #3 -7 OVERFLOW SAT INCRBY u63 100 9223372036854775807")
	f.Add("OVERFLOW FAIL INCRBY i64 0 -9223372036854775808 GET i64 #1")
	f.Add("SET u8 #-1 1 GET x8 0")
	f.Add("GET u1 1048575 SET u8 8388600 255")
	f.Add("1 0 -1 BIT")
	f.Add("0 5 2 BYTE extra")
	f.Fuzz(func(t *testing.T, line string) {
		fields := strings.Fields(line)
		if len(fields) > 40 {
			return
		}
		st := newStrTest(t)
		st.s.Config.ProtoMaxBulkLen = 1 << 20
		st.do(`SET k "\x12\x34\x56"`)
		for _, cmd := range []string{"BITFIELD", "BITFIELD_RO", "BITPOS", "BITCOUNT"} {
			args := append([]string{cmd, "k"}, fields...)
			execArgs(t, st, args)
			if n := len(st.s.db.Str(st.ref("k"))); n > 1<<20+8 {
				t.Fatalf("%q grew the value to %d bytes", args, n)
			}
		}
		if got := st.do("GETRANGE k 0 2"); cmdWrote(fields) == false && got != `"\x124V"` {
			t.Fatalf("value changed without a write: %s", got)
		}
	})
}

// cmdWrote reports whether fields may hold a BITFIELD write.
func cmdWrote(fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, "set") || strings.EqualFold(f, "incrby") {
			return true
		}
	}
	return false
}
