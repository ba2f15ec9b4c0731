package main

import (
	"slices"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		in   []float64
		want Spread
		rel  float64
	}{
		{in: nil, want: Spread{}},
		{in: []float64{5}, want: Spread{5, 5, 5}},
		{in: []float64{3, 1, 2}, want: Spread{2, 1, 3}, rel: 1},
		{in: []float64{4, 1, 3, 2}, want: Spread{2.5, 1, 4}, rel: 1.2},
		{in: []float64{10, 10, 10, 100, 0}, want: Spread{10, 0, 100}, rel: 10},
		{in: []float64{0, 0}, want: Spread{0, 0, 0}, rel: 0},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		got := summarize(in)
		if got != tt.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("summarize modified its input: %v", in)
		}
		if r := got.RelSpread(); r != tt.rel {
			t.Errorf("RelSpread(%v) = %v, want %v", tt.in, r, tt.rel)
		}
	}
}
