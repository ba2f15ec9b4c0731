package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun with -update to accept):\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestWriteTable(t *testing.T) {
	expect := map[string][]string{"p1": {"GET", "SET"}, "p30": {"GET", "SET"}}
	rows := aggregate(testRuns(), aggTestSpec([]string{"p1", "p30"}, []string{"redis", "shoal-uring", "ceiling"}, expect))
	var buf bytes.Buffer
	if err := writeTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "table.golden", buf.Bytes())

	// The table must parse back: the same cells the rows hold.
	got, err := parseTable(buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("parsed %d rows, want %d", len(got), len(rows))
	}
	for i, r := range rows {
		if got[i]["server"] != r.Server || got[i]["test"] != r.Test || got[i]["workload"] != r.Workload {
			t.Errorf("row %d parsed as %v", i, got[i])
		}
	}
}

func TestWriteMemTable(t *testing.T) {
	mems := []MemResult{
		{Server: "redis", Keys: 1_000_000, ValueSize: 256, RSSBeforeKB: 8000, RSSAfterKB: 416000, PeakKB: 416100,
			UsedMemory: 409_426_864, DBSize: 1_000_000, Load: LoadStats{Keys: 1_000_000, Seconds: 1.25}},
		{Server: "shoal-uring", Keys: 1_000_000, ValueSize: 256, RSSBeforeKB: 4000, RSSAfterKB: 350000, PeakKB: 500000,
			DBSize: 1_000_000, Load: LoadStats{Keys: 1_000_000, Seconds: 0.9},
			Runtime: []infoField{{"Memory", "heap_alloc", "123"}, {"Memory", "gc_cycles", "4"}}},
		{Server: "shoal-epoll", Keys: 1_000_000, Error: "bench: shoal-epoll did not start: exited early\nmore"},
	}
	for i := range mems {
		mems[i].perKey()
	}
	var buf bytes.Buffer
	if err := writeMemTable(&buf, mems); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "mem.golden", buf.Bytes())
}

func TestFormatters(t *testing.T) {
	counts := map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", 999999.6: "1,000,000", -1234: "-1,234"}
	for v, want := range counts {
		if got := formatCount(v); got != want {
			t.Errorf("formatCount(%v) = %q, want %q", v, got, want)
		}
	}
	sizes := map[float64]string{0: "0 B", 418.05: "418 B", 1536: "1.5 KiB", 420444 * 1024: "410.6 MiB", -2048: "-2.0 KiB"}
	for v, want := range sizes {
		if got := formatBytes(v); got != want {
			t.Errorf("formatBytes(%v) = %q, want %q", v, got, want)
		}
	}
	if got := formatRatio(nil); got != "-" {
		t.Errorf("formatRatio(nil) = %q", got)
	}
	if got := formatRatio(ptr(1.005)); got != "1.00x" && got != "1.01x" {
		t.Errorf("formatRatio(1.005) = %q", got)
	}
	if got := formatMs(0.4791); got != "0.479" {
		t.Errorf("formatMs = %q", got)
	}
}

func TestWriteResults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	res := &Results{Schema: schemaVersion, Mode: "bench", Runs: testRuns()}
	res.Rows = aggregate(res.Runs, aggTestSpec([]string{"p1"}, []string{"redis"}, nil))
	path, err := writeResults(dir, res)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != len(res.Runs) || len(back.Rows) != 2 || back.Rows[0].RPS != res.Rows[0].RPS {
		t.Errorf("round trip lost data: %+v", back)
	}
}
