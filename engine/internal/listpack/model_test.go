package listpack

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

// values a model run draws elements from: every integer width and its
// edges, strings that look like integers but are not canonical, and
// strings at every length-encoding boundary.
var modelValues = func() [][]byte {
	var vs [][]byte
	for _, v := range []int64{0, 1, 127, 128, -1, 4095, -4096, 4096, -4097, 32767, -32768, 32768,
		-32769, 1<<23 - 1, -1 << 23, 1 << 23, 1<<31 - 1, -1 << 31, 1 << 31, 1<<63 - 1, -1 << 63} {
		vs = append(vs, []byte(strconv.FormatInt(v, 10)))
	}
	for _, s := range []string{"", "-", "-0", "01", "+1", " 1", "1 ", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "99999999999999999999", "1.5", "abc"} {
		vs = append(vs, []byte(s))
	}
	for _, n := range []int{1, 62, 63, 64, 125, 126, 127, 4094, 4095, 4096, 16377, 16378} {
		vs = append(vs, bytes.Repeat([]byte{'x'}, n))
	}
	return vs
}()

// opReader turns fuzz bytes into bounded choices.
type opReader struct {
	data []byte
	i    int
}

func (r *opReader) next() int {
	if r.i >= len(r.data) {
		return 0
	}
	r.i++
	return int(r.data[r.i-1])
}
func (r *opReader) done() bool { return r.i >= len(r.data) }

func (r *opReader) value() []byte {
	c := r.next()
	if c < len(modelValues) {
		return modelValues[c]
	}
	return []byte(fmt.Sprintf("v%d", c*r.next()))
}

// runOps applies the operations encoded in data to a listpack and to a
// [][]byte model, checking after every step that they agree.
func runOps(t testing.TB, data []byte) {
	var lp Listpack
	var m [][]byte
	r := &opReader{data: data}
	for step := 0; !r.done() && step < 2000; step++ {
		op := r.next() % 13
		switch op {
		case 0:
			v := r.value()
			p := lp.Append(v)
			m = append(m, v)
			expectAt(t, &lp, p, v)
		case 1:
			v := r.value()
			p := lp.Prepend(v)
			m = append([][]byte{v}, m...)
			expectAt(t, &lp, p, v)
		case 2, 3: // insert before/after index
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			v := r.value()
			p, ok := lp.Seek(i)
			if !ok {
				t.Fatalf("Seek(%d) of %d failed", i, len(m))
			}
			if op == 2 {
				p = lp.InsertBefore(p, v)
			} else {
				p = lp.InsertAfter(p, v)
				i++
			}
			m = append(m[:i], append([][]byte{v}, m[i:]...)...)
			expectAt(t, &lp, p, v)
		case 4:
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			v := r.value()
			p, _ := lp.Seek(i - len(m)) // negative index
			p = lp.Replace(p, v)
			m[i] = v
			expectAt(t, &lp, p, v)
		case 5:
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			p, _ := lp.Seek(i)
			next, ok := lp.Delete(p)
			m = append(m[:i], m[i+1:]...)
			if ok != (i < len(m)) {
				t.Fatalf("Delete(%d) ok=%v with %d left", i, ok, len(m))
			}
			if ok {
				expectAt(t, &lp, next, m[i])
			}
		case 6: // DeleteRange with a possibly negative start
			start := r.next()%(len(m)+3) - (len(m)+3)/2
			count := r.next() % 5
			lp.DeleteRange(start, count)
			s := start
			if s < 0 {
				s += len(m)
			}
			if s >= 0 && s < len(m) && count > 0 {
				e := min(s+count, len(m))
				m = append(m[:s], m[e:]...)
			}
		case 7:
			v := int64(r.next()-128) << (r.next() % 56)
			lp.AppendInt(v)
			m = append(m, []byte(strconv.FormatInt(v, 10)))
		case 8:
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			v := -int64(r.next()) << (r.next() % 56)
			p, _ := lp.Seek(i)
			lp.ReplaceInt(p, v)
			m[i] = []byte(strconv.FormatInt(v, 10))
		case 9: // Find with skip
			if len(m) == 0 {
				continue
			}
			v := m[r.next()%len(m)]
			skip := r.next() % 3
			from := r.next() % len(m)
			p, _ := lp.Seek(from)
			got, ok := lp.Find(p, v, skip)
			want := -1
			for i := from; i < len(m); i += skip + 1 {
				if bytes.Equal(m[i], v) {
					want = i
					break
				}
			}
			if ok != (want >= 0) {
				t.Fatalf("Find(%q, from %d, skip %d) ok=%v want index %d", v, from, skip, ok, want)
			}
			if ok {
				if wp, _ := lp.Seek(want); wp != got {
					t.Fatalf("Find(%q) at %d, want index %d at %d", v, got, want, wp)
				}
			}
		case 10: // split and concat back
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			p, _ := lp.Seek(i)
			tail := lp.SplitAt(p)
			check(t, &lp, m[:i])
			check(t, &tail, m[i:])
			lp.Concat(&tail)
		case 11:
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			p, _ := lp.Seek(i)
			lp.Truncate(p)
			m = m[:i]
		case 12:
			n := r.next() % 3
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			p, _ := lp.Seek(i)
			lp.DeleteN(p, n)
			m = append(m[:i], m[min(i+n, len(m)):]...)
		}
		check(t, &lp, m)
	}
}

func expectAt(t testing.TB, lp *Listpack, p int, v []byte) {
	t.Helper()
	var buf [IntBufSize]byte
	if got := lp.GetBytes(p, &buf); !bytes.Equal(got, v) {
		t.Fatalf("entry at %d = %q, want %q", p, got, v)
	}
}

// check verifies lp against the model: validity of the encoding, its
// length, every entry forwards and backwards, and the canonical encoding
// of each entry (the same bytes as a fresh listpack of the model).
func check(t testing.TB, lp *Listpack, m [][]byte) {
	t.Helper()
	if lp.Len() != len(m) {
		t.Fatalf("Len %d, model %d", lp.Len(), len(m))
	}
	n, err := validate(lp.Bytes(), true)
	if err != nil {
		t.Fatalf("invalid after ops: %v\n%x", err, lp.Bytes())
	}
	if n != len(m) {
		t.Fatalf("validate counted %d, model %d", n, len(m))
	}
	var buf [IntBufSize]byte
	i := 0
	for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
		if got := lp.GetBytes(p, &buf); !bytes.Equal(got, m[i]) {
			t.Fatalf("forward entry %d = %q, want %q", i, got, m[i])
		}
		i++
	}
	if i != len(m) {
		t.Fatalf("forward walk saw %d entries, want %d", i, len(m))
	}
	for p, ok := lp.Last(); ok; p, ok = lp.Prev(p) {
		i--
		if got := lp.GetBytes(p, &buf); !bytes.Equal(got, m[i]) {
			t.Fatalf("backward entry %d = %q, want %q", i, got, m[i])
		}
	}
	fresh := New()
	for _, v := range m {
		fresh.Append(v)
	}
	if !bytes.Equal(fresh.Bytes(), lp.Bytes()) {
		t.Fatalf("encoding differs from a fresh build:\n got %x\nwant %x", lp.Bytes(), fresh.Bytes())
	}
}

func TestModelRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runs := 300
	if testing.Short() {
		runs = 50
	}
	for run := range runs {
		data := make([]byte, 200+rng.IntN(400))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		t.Run(strconv.Itoa(run), func(t *testing.T) { runOps(t, data) })
	}
}

func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 1, 3, 2, 0, 4, 5, 9, 0, 0, 1})
	f.Add([]byte{0, 40, 0, 41, 0, 44, 10, 1, 6, 0, 3, 7, 200, 3, 12, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) { runOps(t, data) })
}
