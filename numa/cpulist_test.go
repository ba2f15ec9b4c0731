package numa

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"", nil},
		{"\n", nil},
		{"0", []int{0}},
		{"0\n", []int{0}},
		{" 7 ", []int{7}},
		{"0-3", []int{0, 1, 2, 3}},
		{"0,2", []int{0, 2}},
		{"0-3,8-11", []int{0, 1, 2, 3, 8, 9, 10, 11}},
		{"8-11,0-3", []int{0, 1, 2, 3, 8, 9, 10, 11}},
		{"0-2,1-4,4", []int{0, 1, 2, 3, 4}},
		{"5-5", []int{5}},
		{"63-65", []int{63, 64, 65}},
		{"0-15:2/4", []int{0, 1, 4, 5, 8, 9, 12, 13}},
		{"0-9:3/4", []int{0, 1, 2, 4, 5, 6, 8, 9}},
		{"2-6:1/1", []int{2, 3, 4, 5, 6}},
		{"65535", []int{65535}},
	} {
		got, err := ParseCPUList(tc.in)
		if err != nil {
			t.Errorf("ParseCPUList(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseCPUListErrors(t *testing.T) {
	for _, in := range []string{
		",", "0,", ",0", "0,,1", "a", "-1", "1-", "-", "3-1", "0-3:", "0-3:2", "0-3:0/2",
		"0-3:3/2", "0-3:2/0", "1:1/2", "0 - 3", "0x1", "65536", "0-65536", "1234567",
		"0-3:2/4/8", "+1", "1.5",
	} {
		got, err := ParseCPUList(in)
		if err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrCPUList) || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("ParseCPUList(%q) error %q does not wrap ErrCPUList", in, err)
		}
	}
}

func TestFormatCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{}, ""},
		{[]int{0}, "0"},
		{[]int{0, 1}, "0-1"},
		{[]int{0, 2}, "0,2"},
		{[]int{0, 1, 2, 3, 8, 9, 10, 11}, "0-3,8-11"},
		{[]int{11, 10, 9, 8, 3, 2, 1, 0}, "0-3,8-11"},
		{[]int{0, 0, 1, 1, 5}, "0-1,5"},
		{[]int{0, 32}, "0,32"},
		{[]int{-3, -2, 0, 1}, "0-1"},
		{[]int{-1}, ""},
		{[]int{-2, 3}, "3"},
		{[]int{1, 3, 5, 6, 7, 9}, "1,3,5-7,9"},
	} {
		if got := FormatCPUList(tc.in); got != tc.want {
			t.Errorf("FormatCPUList(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCPUListAllocs(t *testing.T) {
	cpus := []int{0, 1, 2, 3, 8, 9, 10, 11, 32, 33, 34, 35, 40, 41, 42, 43}
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { buf = AppendCPUList(buf[:0], cpus) }); n != 0 {
		t.Errorf("AppendCPUList allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseCPUList("0-3,8-11,32-35,40-43\n") }); n != 1 {
		t.Errorf("ParseCPUList allocates %v times, want 1 (the result)", n)
	}
}

// checkCPUList verifies the invariants ParseCPUList promises and that its
// output survives a format/parse round trip unchanged.
func checkCPUList(t *testing.T, in string) {
	got, err := ParseCPUList(in)
	if err != nil {
		if !errors.Is(err, ErrCPUList) {
			t.Fatalf("ParseCPUList(%q): error %v does not wrap ErrCPUList", in, err)
		}
		return
	}
	for i, c := range got {
		if c < 0 || c > MaxCPUListID || (i > 0 && c <= got[i-1]) {
			t.Fatalf("ParseCPUList(%q) = %v: not ascending within [0, %d]", in, got, MaxCPUListID)
		}
	}
	s := FormatCPUList(got)
	again, err := ParseCPUList(s)
	if err != nil {
		t.Fatalf("ParseCPUList(FormatCPUList(%v) = %q): %v", got, s, err)
	}
	if !slices.Equal(again, got) {
		t.Fatalf("round trip of %q: %v -> %q -> %v", in, got, s, again)
	}
	if s2 := FormatCPUList(again); s2 != s {
		t.Fatalf("format not canonical: %q then %q", s, s2)
	}
}

func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"", "0", "0-3,8-11", "0,2", "0-15:2/4", "1-", "65535", "0-63\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkCPUList(t, s) })
}

func BenchmarkParseCPUList(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCPUList("0-15,32-47\n"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendCPUList(b *testing.B) {
	cpus, _ := ParseCPUList("0-15,32-47")
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendCPUList(buf[:0], cpus)
	}
}
