// Package hdrhist is a high dynamic range histogram of one fixed shape:
// values from 1 to 1,000,000,000 (nanoseconds: 1 ns to 1 s) kept to two
// significant decimal digits, the shape Redis gives its per-command
// latency histograms. The layout of the counts, the percentile rule and
// the logarithmic walk are those of HdrHistogram, so the same samples give
// the same percentiles and the same cumulative buckets as Redis reports.
//
// # Layout
//
// Two significant digits need 200 distinct steps within a power of two,
// rounded up to 256 sub-buckets. Values below 256 each have a counter of
// their own; above, bucket b (b >= 1) covers [128<<b, 256<<b) in 128
// sub-buckets of width 1<<b. Twenty-three buckets reach past 10^9, which
// makes 3072 counters: a value's counter is b*128 + v>>b, where b is the
// bit length of v less 8 (0 for v < 256). Every value of a sub-bucket is
// "equivalent": a percentile is reported as the highest value equivalent
// to the sample it falls on, which is within 1/128 of that sample.
//
// A Hist is a plain array with no pointers (24 KiB), so the garbage
// collector never scans it. It has no locks: one goroutine owns it.
// Record never allocates and touches one counter.
package hdrhist

import "math/bits"

// Lowest and Highest bound the values recorded: Record clamps to them.
const (
	Lowest  = 1
	Highest = 1_000_000_000
)

const (
	subBits     = 8 // 256 sub-buckets: the first power of two >= 2 * 10^2
	halfBits    = subBits - 1
	halfCount   = 1 << halfBits
	bucketCount = 23 // 256 << 22 is the first top past Highest
	countsLen   = (bucketCount + 1) * halfCount
)

// Hist counts values in their sub-buckets. The zero value is empty.
// There is no running total: Record increments one counter and nothing
// else, and the readers, far rarer, sum the counters.
type Hist struct {
	counts [countsLen]int64
}

// index is the counter of value v, 1 <= v <= Highest.
func index(v int64) int {
	b := bits.Len64(uint64(v)|(1<<subBits-1)) - subBits
	return b<<halfBits + int(v>>uint(b))
}

// valueAt is the lowest value that counter i counts.
func valueAt(i int) int64 {
	b := i>>halfBits - 1
	sub := int64(i&(halfCount-1)) + halfCount
	if b < 0 {
		sub -= halfCount
		b = 0
	}
	return sub << uint(b)
}

// lowestEquivalent is the lowest value counted with v.
func lowestEquivalent(v int64) int64 { return valueAt(index(v)) }

// highestEquivalent is the highest value counted with v.
func highestEquivalent(v int64) int64 {
	b := max(bits.Len64(uint64(v)|(1<<subBits-1))-subBits, 0)
	return lowestEquivalent(v) + 1<<uint(b) - 1
}

// Record counts v, clamped to [Lowest, Highest]. O(1), no allocation.
func (h *Hist) Record(v int64) {
	v = min(max(v, Lowest), Highest)
	h.counts[index(v)]++
}

// Total is the number of values recorded. O(3072).
func (h *Hist) Total() int64 {
	var n int64
	for _, c := range h.counts {
		n += c
	}
	return n
}

// ValueAtPercentile is the value at or below which percentile p (0 to
// 100) of the recorded values lie, as HdrHistogram reports it: the count
// p/100 of the total (rounded half up, at least 1) is found in the
// counters in order, and the highest value equivalent to that counter's
// is reported (for p = 0, the lowest). 0 when nothing was recorded.
// O(3072).
func (h *Hist) ValueAtPercentile(p float64) int64 {
	// The conversion rounds the product on its own, so that it is not
	// fused with the addition: the count is the one C computes.
	want := int64(float64(min(p, 100)/100*float64(h.Total())) + 0.5)
	want = max(want, 1)
	var cum int64
	for i, n := range h.counts {
		cum += n
		if cum >= want {
			if p == 0 {
				return lowestEquivalent(valueAt(i))
			}
			return highestEquivalent(valueAt(i))
		}
	}
	return 0
}

// Point is one bucket of a cumulative distribution: Count values are at
// most Top.
type Point struct {
	Top   int64
	Count int64
}

// AppendCumulative appends the cumulative distribution over buckets that
// double from first on, as HdrHistogram's logarithmic iteration with base
// 2 walks it (what Redis's LATENCY HISTOGRAM replies): for each level
// first, 2*first, ... the walk stops at the first counter at or past the
// level and reports the highest value that counter holds and the count of
// every value up to it. Buckets that add no value are left out; values
// past the last level reachable are reported at the last counter's top.
// O(3072).
func (h *Hist) AppendCumulative(dst []Point, first int64) []Point {
	level := first
	levelLow := lowestEquivalent(level)
	i := -1
	total := h.Total()
	var value, top, cum, prev int64
	for cum < total || i < countsLen && valueAt(i+1) > levelLow {
		for {
			if value >= levelLow {
				level *= 2
				levelLow = lowestEquivalent(level)
				break
			}
			i++
			if i >= countsLen {
				break
			}
			cum += h.counts[i]
			value = valueAt(i)
			top = highestEquivalent(value)
		}
		if cum > prev {
			dst = append(dst, Point{Top: top, Count: cum})
		}
		prev = cum
	}
	return dst
}
