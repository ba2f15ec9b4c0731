package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	// A: a schema 1 file (no client names); B: schema 2 with a memtier row
	// and without p30.
	a := &Results{Schema: 1, Mode: "bench", Meta: Meta{Host: "h", CPUs: "0-1", Repeats: 3}, Rows: []Row{
		{Workload: "p1", Test: "SET", Server: "redis", Runs: 3, RPS: Spread{Median: 100}, P99Ms: Spread{Median: 0.5}},
		{Workload: "p1", Test: "SET", Server: "shoal-uring", Runs: 3, RPS: Spread{Median: 120}, P99Ms: Spread{Median: 0.4}},
		{Workload: "p30", Test: "GET", Server: "shoal-uring", Runs: 0, Failed: 3},
	}}
	b := &Results{Schema: schemaVersion, Mode: "bench", Meta: Meta{Host: "h2", CPUs: "0-1", Repeats: 3}, Rows: []Row{
		{Client: clientRedisBenchmark, Workload: "p1", Test: "SET", Server: "shoal-uring", Runs: 3, RPS: Spread{Median: 150}, P99Ms: Spread{Median: 0.2}},
		{Client: clientRedisBenchmark, Workload: "p1", Test: "SET", Server: "redis", Runs: 3, RPS: Spread{Median: 100}, P99Ms: Spread{Median: 0.5}},
		{Client: clientMemtier, Workload: "p1", Test: "SET", Server: "redis", Runs: 3, RPS: Spread{Median: 90}, P99Ms: Spread{Median: 0.7}},
	}}
	pa, err := writeResults(filepath.Join(dir, "a"), a)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := writeResults(filepath.Join(dir, "b"), b)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"--compare", pa, pb}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	want := [][]string{
		{"p1", "SET", "redis", "redis-benchmark", "100", "100", "1.00x", "0.500", "0.500", "1.00x"},
		{"p1", "SET", "shoal-uring", "redis-benchmark", "120", "150", "1.25x", "0.400", "0.200", "0.50x"},
		{"p30", "GET", "shoal-uring", "redis-benchmark", "-", "-", "-", "-", "-", "-"},
		{"p1", "SET", "redis", "memtier", "-", "90", "-", "-", "0.700", "-"},
	}
	var got [][]string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "workload") {
			continue
		}
		got = append(got, strings.Fields(line))
	}
	if len(got) != len(want) {
		t.Fatalf("compare printed:\n%s", out.String())
	}
	for i := range want {
		if strings.Join(got[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("line %d = %q, want %q", i, got[i], want[i])
		}
	}
	if !strings.Contains(out.String(), "different machines") {
		t.Errorf("no note that the hosts differ:\n%s", out.String())
	}

	// Files that cannot be compared.
	mem := &Results{Schema: schemaVersion, Mode: "mem"}
	pm, err := writeResults(filepath.Join(dir, "m"), mem)
	if err != nil {
		t.Fatal(err)
	}
	future := filepath.Join(dir, "future.json")
	if err := os.WriteFile(future, []byte(`{"schema": 99, "mode": "bench"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	aof := &Results{Schema: schemaVersion, Mode: "aof", Rows: b.Rows}
	paof, err := writeResults(filepath.Join(dir, "aof"), aof)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t.Context(), []string{"--compare", paof, paof}, &out, &errb); err != nil || !strings.Contains(out.String(), "1.00x") {
		t.Errorf("two --aof runs: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"--compare", pa, pm}, {"--compare", pa, paof}, {"--compare", future, pa}, {"--compare", pa}, {"--compare", pa, filepath.Join(dir, "none.json")}} {
		if err := run(t.Context(), args, &out, &errb); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
