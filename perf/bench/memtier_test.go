package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseMemtierJSON(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "memtier", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, file, test string
		doc              []byte
		want             Sample
		miss             float64
		wantErr          string
	}{
		{name: "set", file: "set.json", test: "set",
			want: Sample{Test: "SET", RPS: 80123.45, AvgMs: 0.612, MinMs: 0.055, P50Ms: 0.575, P95Ms: 0.911, P99Ms: 1.343, MaxMs: 7.935}, miss: -1},
		{name: "get with old Latency field", file: "get.json", test: "get",
			want: Sample{Test: "GET", RPS: 95000, AvgMs: 0.52, MinMs: 0.04, P50Ms: 0.495, P95Ms: 0.807, P99Ms: 1.103, MaxMs: 5.1}, miss: 0.01},
		{name: "no gets ran", file: "set.json", test: "get", wantErr: "no gets completed"},
		{name: "unknown test", file: "set.json", test: "incr", wantErr: "no section"},
		{name: "not json", doc: []byte("ALL STATS"), test: "set", wantErr: "memtier JSON"},
		{name: "no section", doc: []byte(`{"ALL STATS": {}}`), test: "set", wantErr: `no "Sets"`},
		{name: "no ops", doc: []byte(`{"ALL STATS": {"Sets": {"Count": 3}}}`), test: "set", wantErr: "no Ops/sec"},
		{name: "negative", doc: []byte(`{"ALL STATS": {"Sets": {"Ops/sec": -1}}}`), test: "set", wantErr: "bad number"},
		{name: "bad percentile", doc: []byte(`{"ALL STATS": {"Sets": {"Ops/sec": 5, "Percentile Latencies": {"p99.00": "x"}}}}`),
			test: "set", wantErr: "percentile"},
		{name: "nan percentile is absent", doc: []byte(`{"ALL STATS": {"Sets": {"Ops/sec": 5, "Percentile Latencies": {"p99.00": -nan}}}}`),
			test: "set", want: Sample{Test: "SET", RPS: 5}, miss: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if tt.file != "" {
				doc = read(tt.file)
			}
			s, miss, err := parseMemtierJSON(doc, tt.test)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s != tt.want || abs(miss-tt.miss) > 1e-9 {
				t.Errorf("got %+v miss %v, want %+v miss %v", s, miss, tt.want, tt.miss)
			}
		})
	}
}

func TestMemtierArgs(t *testing.T) {
	w := workloads[1] // p30
	args, err := w.memtierArgs("127.0.0.1", 7000, "get", 2, true, "/t/out.json")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(args, " ")
	for _, want := range []string{"-s 127.0.0.1 -p 7000", "--ratio 0:1", "-d 256", "--pipeline 30", "-t 2 -c 25",
		"--key-minimum 1 --key-maximum 1000000", "-n 40000", "--hide-histogram", "--json-out-file /t/out.json"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	if !slices.Contains(args, "--cluster-mode") {
		t.Errorf("cluster args lack --cluster-mode: %q", got)
	}
	args, _ = w.memtierArgs("127.0.0.1", 7000, "set", 0, false, "/t/o.json")
	if slices.Contains(args, "--cluster-mode") || !strings.Contains(strings.Join(args, " "), "--ratio 1:0") {
		t.Errorf("single-server set args: %q", args)
	}
	if _, err := w.memtierArgs("127.0.0.1", 7000, "lpush", 1, false, "/t/o.json"); err == nil {
		t.Error("lpush accepted")
	}
}
