package main

import (
	"math"
	"slices"
)

// Spread summarises repeated measurements: the median and the range.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// summarize returns the median (mean of the two middle values for an even
// count) and min/max of xs. It does not modify xs. Empty input gives zero.
func summarize(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return Spread{Median: med, Min: s[0], Max: s[n-1]}
}

// RelSpread is (max-min)/median, the width of the range relative to the
// median; 0 when the median is 0.
func (s Spread) RelSpread() float64 {
	if s.Median == 0 {
		return 0
	}
	return (s.Max - s.Min) / math.Abs(s.Median)
}
