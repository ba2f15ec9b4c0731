package engine

import (
	"strings"
	"testing"
)

// TestNameIndex checks the index against the map it is built from: every
// name in three cases, and names that are not commands.
func TestNameIndex(t *testing.T) {
	tab := newCommandTable()
	for name, want := range tab.byName {
		for _, form := range []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]} {
			if got := tab.index.find([]byte(form)); got != want {
				t.Errorf("find(%q) = %v, want %s", form, got, want.Name)
			}
		}
	}
	for _, name := range []string{"", "ge", "gett", "nosuchcommand", "get\x00", strings.Repeat("x", 33), "GET "} {
		if got := tab.index.find([]byte(name)); got != nil {
			t.Errorf("find(%q) = %s, want nil", name, got.Name)
		}
	}
	if n := testing.AllocsPerRun(100, func() { tab.index.find([]byte("HgetAll")) }); n != 0 {
		t.Errorf("find allocates %v times", n)
	}
}

func BenchmarkNameIndex(b *testing.B) {
	tab := newCommandTable()
	name := []byte("GET")
	b.ReportAllocs()
	for b.Loop() {
		if tab.index.find(name) == nil {
			b.Fatal("GET not found")
		}
	}
}

func BenchmarkNameMap(b *testing.B) {
	tab := newCommandTable()
	name := []byte("GET")
	b.ReportAllocs()
	for b.Loop() {
		if lookupName(tab.byName, name) == nil {
			b.Fatal("GET not found")
		}
	}
}
