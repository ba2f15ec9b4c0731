package main

import (
	"slices"
	"testing"
)

func TestParseInfo(t *testing.T) {
	in := "# Server\r\nredis_version:7.0.15\r\nos:Linux 6.1 x86_64\r\nprocess_id:42\r\n\r\n" +
		"# Memory\r\nused_memory:1024\r\nweird line\r\n:novalue\r\nheap_alloc:77\r\ngc_cycles:3\r\n" +
		"gc_pause_total_ns:1:2\r\nheapish:1\r\n"
	got := parseInfo(in)
	want := []infoField{
		{"Server", "redis_version", "7.0.15"},
		{"Server", "os", "Linux 6.1 x86_64"},
		{"Server", "process_id", "42"},
		{"Memory", "used_memory", "1024"},
		{"Memory", "heap_alloc", "77"},
		{"Memory", "gc_cycles", "3"},
		{"Memory", "gc_pause_total_ns", "1:2"},
		{"Memory", "heapish", "1"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("parseInfo:\n got %v\nwant %v", got, want)
	}
	if v := infoValue(got, "used_memory"); v != "1024" {
		t.Errorf("infoValue(used_memory) = %q", v)
	}
	if v := infoValue(got, "missing"); v != "" {
		t.Errorf("infoValue(missing) = %q", v)
	}
	rt := runtimeFields(got)
	wantRT := []infoField{want[4], want[5], want[6]}
	if !slices.Equal(rt, wantRT) {
		t.Errorf("runtimeFields = %v, want %v", rt, wantRT)
	}
	if len(parseInfo("")) != 0 || len(runtimeFields(nil)) != 0 {
		t.Error("empty input gave fields")
	}
}
