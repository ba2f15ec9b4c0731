package intset

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/redisfixture"
)

var regen = flag.Bool("regen", false, "rebuild testdata/golden.txt from a real redis-server")

// edges are values at every encoding boundary.
var edges = []int64{0, 1, -1, math.MaxInt16, math.MinInt16, math.MaxInt16 + 1, math.MinInt16 - 1,
	math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1, math.MaxInt64, math.MinInt64}

// runOps applies the operations in data to an intset and to a sorted-slice
// model and checks they agree after every step.
func runOps(t testing.TB, data []byte) {
	var s Intset
	var m []int64
	maxEnc := 2
	for i := 0; i+2 < len(data) && i < 6000; i += 3 {
		var v int64
		switch c := data[i+1]; {
		case int(c) < len(edges):
			v = edges[c]
		default:
			v = int64(int8(data[i+2])) << (c % 64)
		}
		j, found := slices.BinarySearch(m, v)
		switch data[i] % 4 {
		case 0, 1:
			maxEnc = max(maxEnc, encodingOf(v))
			if added := s.Add(v); added == found {
				t.Fatalf("Add(%d) = %v, model had it: %v", v, added, found)
			}
			if !found {
				m = slices.Insert(m, j, v)
			}
		case 2:
			if removed := s.Remove(v); removed != found {
				t.Fatalf("Remove(%d) = %v, model had it: %v", v, removed, found)
			}
			if found {
				m = slices.Delete(m, j, j+1)
			}
		case 3:
			if got := s.Contains(v); got != found {
				t.Fatalf("Contains(%d) = %v, want %v", v, got, found)
			}
		}
		if s.Len() != len(m) {
			t.Fatalf("Len %d, model %d", s.Len(), len(m))
		}
		if s.Encoding() != maxEnc && s.Len() > 0 {
			t.Fatalf("encoding %d, widest value added needs %d", s.Encoding(), maxEnc)
		}
		for k, w := range m {
			if g := s.Get(k); g != w {
				t.Fatalf("Get(%d) = %d, want %d", k, g, w)
			}
		}
		if s.Len() > 0 {
			if err := Validate(s.Bytes(), true); err != nil {
				t.Fatal(err)
			}
		}
		if s.Size() != len(s.Bytes()) {
			t.Fatalf("Size %d, bytes %d", s.Size(), len(s.Bytes()))
		}
	}
}

func TestModelRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for run := range 200 {
		data := make([]byte, 900)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		t.Run(strconv.Itoa(run), func(t *testing.T) { runOps(t, data) })
	}
}

func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 20, 1, 0, 30, 2, 2, 20, 1, 0, 3, 0, 0, 9, 0})
	f.Fuzz(func(t *testing.T, data []byte) { runOps(t, data) })
}

func TestValidateCases(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		deep bool
		ok   bool
	}{
		{"one int16", "02000000" + "01000000" + "0500", true, true},
		{"empty", "02000000" + "00000000", true, false},
		{"short", "020000000100", true, false},
		{"bad encoding", "03000000" + "01000000" + "050000", true, false},
		{"length too long", "02000000" + "02000000" + "0500", true, false},
		{"trailing bytes", "02000000" + "01000000" + "050000", true, false},
		{"unsorted", "02000000" + "02000000" + "0500" + "0400", true, false},
		{"unsorted shallow", "02000000" + "02000000" + "0500" + "0400", false, true},
		{"duplicate", "04000000" + "02000000" + "05000000" + "05000000", true, false},
		{"huge length", "08000000" + "ffffffff" + "0100000000000000", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tc.hex)
			err := Validate(b, tc.deep)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v does not wrap ErrCorrupt", err)
			}
		})
	}
}

func FuzzValidate(f *testing.F) {
	var s Intset
	for _, v := range edges {
		s.Add(v)
	}
	f.Add(s.Bytes())
	f.Add([]byte{2, 0, 0, 0, 1, 0, 0, 0, 7, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		is, err := Load(bytes.Clone(b))
		if err != nil {
			return
		}
		for i := 1; i < is.Len(); i++ {
			if is.Get(i-1) >= is.Get(i) {
				t.Fatal("loaded intset not ascending")
			}
		}
		for i := range is.Len() {
			if !is.Contains(is.Get(i)) {
				t.Fatalf("Contains(%d) false", is.Get(i))
			}
		}
		v := is.Get(0)
		is.Remove(v)
		is.Add(v)
		if !bytes.Equal(is.Bytes(), b) {
			t.Fatal("remove+add changed the bytes")
		}
	})
}

func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var s Intset
	for i := range 500 {
		s.Add(int64(i * 7))
	}
	x, i := 0, 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Contains hit", func() {
			if s.Contains(int64(i%500) * 7) {
				x++
			}
		}},
		{"Contains miss", func() {
			if s.Contains(int64(i%500)*7 + 1) {
				x++
			}
		}},
		{"Get", func() { x += int(s.Get(i % 500)) }},
		{"Random", func() { v, _ := s.Random(uint64(i)); x += int(v) }},
		{"Iterate", func() {
			for k := range s.Len() {
				x += int(s.Get(k))
			}
		}},
		{"Remove+Add", func() { s.Remove(70); s.Add(70) }},
	}
	for _, tc := range tests {
		tc.fn()
		if a := testing.AllocsPerRun(500, func() { tc.fn(); i++ }); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
	_ = x
}

func BenchmarkContains(b *testing.B) {
	for _, n := range []int{16, 512} {
		var s Intset
		for i := range n {
			s.Add(int64(i*3 - n))
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			x := 0
			for i := 0; b.Loop(); i++ {
				if s.Contains(int64(i%(3*n) - n)) {
					x++
				}
			}
			_ = x
		})
	}
}

func BenchmarkAddRemove(b *testing.B) {
	var s Intset
	for i := range 512 {
		s.Add(int64(i * 2))
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		v := int64(i%512)*2 + 1
		s.Add(v)
		s.Remove(v)
	}
}

// Golden cases: testdata/golden.txt holds intsets made by redis-server
// 7.0.15; each case is a sequence of SADD/SREM commands on one key and the
// intset in the key's DUMP payload. Regenerate with -regen.
type goldenCase struct {
	name string
	ops  [][]string
	blob []byte
}

var goldenOps = []goldenCase{
	{name: "small", ops: [][]string{{"SADD", "5", "1", "3", "-2"}}},
	{name: "upgrade-32", ops: [][]string{{"SADD", "1", "2", "3"}, {"SADD", "70000"}}},
	{name: "upgrade-64-negative", ops: [][]string{{"SADD", "1", "2", "3"}, {"SADD", "-5000000000"}}},
	{name: "no-downgrade", ops: [][]string{{"SADD", "1", "9223372036854775807", "-9223372036854775808"},
		{"SREM", "9223372036854775807", "-9223372036854775808"}}},
	{name: "edges", ops: [][]string{{"SADD", "0", "32767", "-32768", "32768", "-32769", "2147483647",
		"-2147483648", "2147483648", "-2147483649"}}},
}

func TestGolden(t *testing.T) {
	const file = "testdata/golden.txt"
	if *regen {
		r := redisfixture.Start(t)
		var w bytes.Buffer
		fmt.Fprintf(&w, "# Intsets made by redis-server %s: ops on one key, then the intset of its DUMP payload.\n", r.Version(t))
		w.WriteString("# Regenerate: go test -run TestGolden -regen\n")
		for _, c := range goldenOps {
			r.Do(t, "DEL", "k")
			fmt.Fprintf(&w, "\ncase %s\n", c.name)
			for _, op := range c.ops {
				r.Do(t, append([]string{op[0], "k"}, op[1:]...)...)
				fmt.Fprintf(&w, "op %s\n", strings.Join(op, " "))
			}
			typ, blobs, _, err := redisfixture.ParseDump([]byte(r.String(t, "DUMP", "k")))
			if err != nil || typ != redisfixture.TypeSetIntset {
				t.Fatalf("%s: type %d, %v", c.name, typ, err)
			}
			fmt.Fprintf(&w, "blob %x\n", blobs[0])
		}
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, w.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		switch key {
		case "case":
			cases = append(cases, goldenCase{name: val})
		case "op":
			cases[len(cases)-1].ops = append(cases[len(cases)-1].ops, strings.Fields(val))
		case "blob":
			cases[len(cases)-1].blob, err = hex.DecodeString(val)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(cases) != len(goldenOps) {
		t.Fatalf("%d golden cases, want %d", len(cases), len(goldenOps))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Intset
			for _, op := range c.ops {
				for _, a := range op[1:] {
					v, err := strconv.ParseInt(a, 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					if op[0] == "SADD" {
						s.Add(v)
					} else {
						s.Remove(v)
					}
				}
			}
			if !bytes.Equal(s.Bytes(), c.blob) {
				t.Fatalf("bytes differ from redis-server:\n got %x\nwant %x", s.Bytes(), c.blob)
			}
			if _, err := Load(bytes.Clone(c.blob)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
