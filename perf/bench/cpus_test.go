package main

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    CPUSet
		str     string
		wantErr bool
	}{
		{in: "0", want: CPUSet{0}, str: "0"},
		{in: "1", want: CPUSet{1}, str: "1"},
		{in: "0-3", want: CPUSet{0, 1, 2, 3}, str: "0-3"},
		{in: "0-1,3,5-6", want: CPUSet{0, 1, 3, 5, 6}, str: "0-1,3,5-6"},
		{in: "5,3,4", want: CPUSet{3, 4, 5}, str: "3-5"},
		{in: "2,2,1-2", want: CPUSet{1, 2}, str: "1-2"},
		{in: " 7\n", want: CPUSet{7}, str: "7"},
		{in: "8191", want: CPUSet{8191}, str: "8191"},
		{in: "", wantErr: true},
		{in: "8192", wantErr: true},
		{in: "3-1", wantErr: true},
		{in: "1,", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1-", wantErr: true},
		{in: "a", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "1-2-3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCPUList(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseCPUList(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseCPUList(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
	}
}

func TestSplitCPUs(t *testing.T) {
	tests := []struct {
		allowed, server, client CPUSet
	}{
		{allowed: CPUSet{0, 1}, server: CPUSet{1}, client: CPUSet{0}},
		{allowed: CPUSet{0}, server: CPUSet{0}, client: CPUSet{0}},
		{allowed: CPUSet{2, 4, 6, 8}, server: CPUSet{8}, client: CPUSet{2, 4, 6}},
		{allowed: nil, server: nil, client: nil},
	}
	for _, tt := range tests {
		s, c := splitCPUs(tt.allowed)
		if !slices.Equal(s, tt.server) || !slices.Equal(c, tt.client) {
			t.Errorf("splitCPUs(%v) = %v, %v; want %v, %v", tt.allowed, s, c, tt.server, tt.client)
		}
	}
}

func TestAllowedCPUs(t *testing.T) {
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if len(cpus) == 0 {
		t.Fatal("no allowed CPUs")
	}
}

func TestOverlaps(t *testing.T) {
	if !(CPUSet{0, 1}).Overlaps(CPUSet{1}) || (CPUSet{0}).Overlaps(CPUSet{1, 2}) || (CPUSet{}).Overlaps(CPUSet{0}) {
		t.Error("Overlaps wrong")
	}
}
