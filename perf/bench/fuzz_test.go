package main

import (
	"bufio"
	"bytes"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/.

func FuzzParseCPUList(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseCPUList(s)
		if err != nil {
			return
		}
		if len(set) == 0 || !slices.IsSorted(set) || set[len(set)-1] > maxCPU {
			t.Fatalf("ParseCPUList(%q) = %v", s, set)
		}
		for i := 1; i < len(set); i++ {
			if set[i] == set[i-1] {
				t.Fatalf("duplicate CPU in %v", set)
			}
		}
		again, err := ParseCPUList(set.String())
		if err != nil || !slices.Equal(again, set) {
			t.Fatalf("String %q does not round-trip: %v, %v", set.String(), again, err)
		}
	})
}

func FuzzParseProcStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseProcStatus(b)
		if err != nil {
			return
		}
		if st.VmRSSKB < 0 || st.VmHWMKB < 0 || strings.Contains(st.CPUsAllowed, "\n") {
			t.Fatalf("parseProcStatus(%q) = %+v", b, st)
		}
	})
}

func FuzzReadReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := bufio.NewReader(bytes.NewReader(b))
		r, err := readReply(rd)
		if err != nil {
			return
		}
		// A decoded reply re-encodes to bytes that decode to the same reply.
		enc := appendReply(nil, r)
		back, err := readReply(bufio.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip changed %#v into %#v", r, back)
		}
	})
}

func FuzzReadOKs(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, n uint8) {
		err := readOKs(bufio.NewReader(bytes.NewReader(b)), int(n))
		if err == nil && int(n) > bytes.Count(b, []byte("\r\n")) {
			t.Fatalf("readOKs accepted %d replies from %q", n, b)
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		for _, fl := range parseInfo(s) {
			if fl.Key == "" || strings.ContainsAny(fl.Key, ":\n") || strings.Contains(fl.Value, "\n") || strings.Contains(fl.Section, "\n") {
				t.Fatalf("parseInfo(%q) gave field %+v", s, fl)
			}
		}
	})
}

func FuzzParseBenchmarkCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		samples, err := parseBenchmarkCSV(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, sm := range samples {
			if sm.Test == "" || sm.Test != strings.ToUpper(sm.Test) {
				t.Fatalf("bad test name in %+v", sm)
			}
			for _, v := range []float64{sm.RPS, sm.AvgMs, sm.MinMs, sm.P50Ms, sm.P95Ms, sm.P99Ms, sm.MaxMs} {
				if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("bad number in %+v", sm)
				}
			}
		}
	})
}

func FuzzParseClusterCreate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := parseClusterCreate(s)
		if err != nil {
			return
		}
		total := 0
		for _, n := range nodes {
			c, err := countSlots(strings.Fields(n.Slots))
			if err != nil || len(n.ID) != 40 || n.Port < 1 || n.Port > 65535 {
				t.Fatalf("accepted node %+v (%v)", n, err)
			}
			total += c
		}
		if total != numSlots {
			t.Fatalf("accepted %d slots in all: %+v", total, nodes)
		}
	})
}

func FuzzParseClusterNodes(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		nodes, err := parseClusterNodes(s)
		if err != nil {
			return
		}
		for _, n := range nodes {
			if _, err := countSlots(n.Slots); err != nil || n.Port < 0 || n.Port > 65535 {
				t.Fatalf("accepted node %+v (%v)", n, err)
			}
		}
	})
}

func FuzzParseMemtierJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, get bool) {
		test := "set"
		if get {
			test = "get"
		}
		s, miss, err := parseMemtierJSON(b, test)
		if err != nil {
			return
		}
		for _, v := range []float64{s.RPS, s.AvgMs, s.MinMs, s.MaxMs, s.P50Ms, s.P95Ms, s.P99Ms} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("accepted bad number in %+v", s)
			}
		}
		if s.RPS <= 0 || s.Test != strings.ToUpper(test) || miss > 1 || (miss < 0 && miss != -1) {
			t.Fatalf("sample %+v miss %v", s, miss)
		}
	})
}

func FuzzParseShardPlan(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		plan, err := parseShardPlan(b)
		if err != nil {
			return
		}
		for _, cs := range plan {
			if len(cs) == 0 || !slices.IsSorted(cs) {
				t.Fatalf("plan %v", plan)
			}
		}
	})
}

func FuzzParseMountInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseMountInfo(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.MountPoint, "/") || e.FSType == "" || strings.ContainsAny(e.FSType, " \t\n") {
				t.Fatalf("parseMountInfo(%q) gave %+v", b, e)
			}
			if m, ok := mountOf(entries, e.MountPoint); !ok || len(m.MountPoint) < len(e.MountPoint) {
				t.Fatalf("mountOf(%q) = %+v, %v", e.MountPoint, m, ok)
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d", s, n)
		}
		if back, err := parseSize(strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Fatalf("parseSize(%d) = %d, %v", n, back, err)
		}
	})
}
