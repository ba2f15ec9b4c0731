package hdrhist

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestLayout checks the counters against the layout the package
// documents: every value maps to a counter whose range holds it, ranges
// follow each other without gap, and their width keeps two digits.
func TestLayout(t *testing.T) {
	if countsLen != 3072 {
		t.Fatalf("countsLen = %d", countsLen)
	}
	if i := index(Highest); i >= countsLen {
		t.Fatalf("index(Highest) = %d", i)
	}
	for _, v := range []int64{1, 2, 255, 256, 257, 511, 512, 1000, 1023, 1024, 4095, 65537, 999_999, 1e6, 123_456_789, Highest} {
		lo, hi := lowestEquivalent(v), highestEquivalent(v)
		if lo > v || v > hi {
			t.Errorf("%d counted in [%d, %d]", v, lo, hi)
		}
		if index(lo) != index(v) || index(hi) != index(v) || index(hi+1) != index(v)+1 {
			t.Errorf("%d: range [%d, %d] is not its counter's", v, lo, hi)
		}
		if w := hi - lo + 1; w > 1 && w*100 > lo {
			t.Errorf("%d: width %d loses the second digit", v, w)
		}
	}
	for i := 1; i < countsLen; i++ {
		if valueAt(i) != highestEquivalent(valueAt(i-1))+1 {
			t.Fatalf("counter %d starts at %d, counter %d ends at %d", i, valueAt(i), i-1, highestEquivalent(valueAt(i-1)))
		}
	}
}

// TestPercentilesSorted compares percentiles with a sorted copy of random
// samples: the reported value is the top of the sample's own counter, the
// sample at the rank HdrHistogram takes (p/100 of the count, rounded half
// up, at least 1).
func TestPercentilesSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var h Hist
		n := 1 + rng.IntN(2000)
		samples := make([]int64, n)
		for i := range samples {
			bitsLen := 1 + rng.IntN(30)
			v := 1 + rng.Int64N(1<<bitsLen)
			if round%2 == 1 {
				v = max(v/1000*1000, 1) // whole microseconds, as commands are recorded
			}
			samples[i] = min(v, Highest)
			h.Record(v)
		}
		slices.Sort(samples)
		if h.Total() != int64(n) {
			t.Fatalf("total %d, recorded %d", h.Total(), n)
		}
		for _, p := range []float64{0, 0.1, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100} {
			rank := max(int(float64(p/100*float64(n))+0.5), 1)
			ref := samples[rank-1]
			got := h.ValueAtPercentile(p)
			want := highestEquivalent(ref)
			if p == 0 {
				want = lowestEquivalent(ref)
			}
			if got != want {
				t.Fatalf("round %d, %d samples: p%g = %d, the sample there is %d (counter [%d, %d])",
					round, n, p, got, ref, lowestEquivalent(ref), highestEquivalent(ref))
			}
			if d := got - ref; d < 0 && p != 0 || d*128 > ref {
				t.Fatalf("p%g = %d is not within resolution of %d", p, got, ref)
			}
		}
	}
}

// TestCumulativeSorted checks each cumulative bucket against the sorted
// samples: Count samples are at most Top, none of the others is.
func TestCumulativeSorted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		var h Hist
		var samples []int64
		for range 1 + rng.IntN(500) {
			v := min(1+rng.Int64N(1<<(1+rng.IntN(31))), Highest)
			samples = append(samples, v)
			h.Record(v)
		}
		slices.Sort(samples)
		pts := h.AppendCumulative(nil, 1024)
		if len(pts) == 0 || pts[len(pts)-1].Count != int64(len(samples)) {
			t.Fatalf("cumulative %v does not end at %d", pts, len(samples))
		}
		for i, p := range pts {
			n, _ := slices.BinarySearch(samples, p.Top+1)
			if int64(n) != p.Count {
				t.Fatalf("bucket %d: %d samples <= %d, reported %d", i, n, p.Top, p.Count)
			}
			if i > 0 && (p.Top <= pts[i-1].Top || p.Count <= pts[i-1].Count) {
				t.Fatalf("buckets %v and %v out of order", pts[i-1], p)
			}
		}
	}
}

func splitmix(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// TestGolden compares with HdrHistogram's own results (testdata/golden.txt).
func TestGolden(t *testing.T) {
	f, err := os.Open("testdata/golden.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var h *Hist
	var name string
	cases := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		words := strings.Fields(line)
		switch words[0] {
		case "case":
			var seed uint64
			var n, kind, nbits int
			if _, err := fmt.Sscanf(line, "case seed=%d n=%d kind=%d bits=%d", &seed, &n, &kind, &nbits); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			name, h = line, new(Hist)
			for range n {
				k := 1 + splitmix(&seed)%uint64(nbits)
				v := int64(splitmix(&seed)%(1<<k)) + 1
				if kind == 1 {
					v = v / 1000 * 1000
				}
				h.Record(v)
			}
			cases++
		case "percentiles":
			for _, w := range words[1:] {
				ps, vs, _ := strings.Cut(w, "=")
				p, _ := strconv.ParseFloat(ps, 64)
				want, _ := strconv.ParseInt(vs, 10, 64)
				if got := h.ValueAtPercentile(p); got != want {
					t.Errorf("%s: p%s = %d, HdrHistogram %d", name, ps, got, want)
				}
			}
		case "cumulative":
			var got []string
			for _, p := range h.AppendCumulative(nil, 1024) {
				got = append(got, fmt.Sprintf("%d:%d", p.Top, p.Count))
			}
			if g, w := strings.Join(got, " "), strings.Join(words[1:], " "); g != w {
				t.Errorf("%s: cumulative\n got %s\nwant %s", name, g, w)
			}
		}
	}
	if cases == 0 {
		t.Fatal("no cases")
	}
}

func TestEmptyAndClamp(t *testing.T) {
	var h Hist
	if v := h.ValueAtPercentile(50); v != 0 {
		t.Errorf("empty p50 = %d", v)
	}
	if pts := h.AppendCumulative(nil, 1024); len(pts) != 0 {
		t.Errorf("empty cumulative %v", pts)
	}
	h.Record(0)
	h.Record(-5)
	h.Record(5 * Highest)
	if v := h.ValueAtPercentile(50); v != 1 {
		t.Errorf("p50 of 0, -5 and 5e9 = %d, want 1", v)
	}
	if v := h.ValueAtPercentile(100); v != highestEquivalent(Highest) {
		t.Errorf("p100 = %d, want the top of Highest's counter", v)
	}
}

func TestRecordAllocs(t *testing.T) {
	var h Hist
	v := int64(1)
	if n := testing.AllocsPerRun(1000, func() { h.Record(v); v = v*3 + 1 }); n != 0 {
		t.Errorf("Record allocates %.1f times", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Hist
	v := int64(12_000)
	for b.Loop() {
		h.Record(v)
		v ^= 0x3f000
	}
}

func BenchmarkValueAtPercentile(b *testing.B) {
	var h Hist
	for i := range int64(10000) {
		h.Record(i * 997)
	}
	for b.Loop() {
		h.ValueAtPercentile(99.9)
	}
}
