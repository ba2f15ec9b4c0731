package main

import (
	"testing"
)

func ptr(v float64) *float64 { return &v }

// testRuns is a small set of raw runs: two repeats of p1 (SET, GET) on
// redis and shoal-uring, where shoal-uring's second repeat failed, and one
// run of p30 on shoal-uring only.
func testRuns() []Run {
	s := func(test string, rps, p50, p99 float64) Sample {
		return Sample{Test: test, RPS: rps, AvgMs: p50, MinMs: p50 / 2, P50Ms: p50, P95Ms: p99 * 0.9, P99Ms: p99, MaxMs: p99 * 2}
	}
	return []Run{
		{Repeat: 1, Server: "redis", Workload: "p1", Samples: []Sample{s("SET", 100, 0.3, 0.5), s("GET", 120, 0.25, 0.4)}},
		{Repeat: 1, Server: "shoal-uring", Workload: "p1", Samples: []Sample{s("SET", 150, 0.2, 0.25), s("GET", 180, 0.2, 0.2)}},
		{Repeat: 1, Server: "shoal-uring", Workload: "p30", Samples: []Sample{s("SET", 900, 1, 2)}},
		{Repeat: 2, Server: "redis", Workload: "p1", Samples: []Sample{s("SET", 110, 0.3, 0.7), s("GET", 100, 0.25, 0.6)}},
		{Repeat: 2, Server: "shoal-uring", Workload: "p1", Error: "bench: shoal-uring exited"},
		{Repeat: 1, Server: "ceiling", Workload: "p1", Samples: []Sample{s("SET", 300, 0.1, 0.2), s("GET", 360, 0.1, 0.2)}},
	}
}

// testSpec is the aggregation spec of redis-benchmark runs of workloads
// on servers, each taking ratios against redis and the ceiling.
func aggTestSpec(workloads, servers []string, expect map[string][]string) aggSpec {
	s := aggSpec{clients: []string{clientRedisBenchmark}, workloads: workloads, servers: servers, expect: expect,
		baseline: map[string]string{}, ceiling: map[string]string{}}
	for _, srv := range servers {
		s.baseline[srv] = baseline
		s.ceiling[srv] = ceilingName
	}
	return s
}

func TestAggregate(t *testing.T) {
	expect := map[string][]string{"p1": {"GET", "SET"}, "p30": {"GET", "SET"}}
	rows := aggregate(testRuns(), aggTestSpec([]string{"p1", "p30"}, []string{"redis", "shoal-uring", "ceiling"}, expect))
	type want struct {
		workload, test, server string
		runs, failed           int
		rps, rpsMin, rpsMax    float64
		p99                    float64
		rpsRatio, p99Ratio     *float64
		ofCeiling              *float64
	}
	wants := []want{
		{"p1", "SET", "redis", 2, 0, 105, 100, 110, 0.6, ptr(1), ptr(1), ptr(105.0 / 300)},
		{"p1", "SET", "shoal-uring", 1, 1, 150, 150, 150, 0.25, ptr(150.0 / 105), ptr(0.25 / 0.6), ptr(150.0 / 300)},
		{"p1", "SET", "ceiling", 1, 0, 300, 300, 300, 0.2, ptr(300.0 / 105), ptr(0.2 / 0.6), ptr(1)},
		{"p1", "GET", "redis", 2, 0, 110, 100, 120, 0.5, ptr(1), ptr(1), ptr(110.0 / 360)},
		{"p1", "GET", "shoal-uring", 1, 1, 180, 180, 180, 0.2, ptr(180.0 / 110), ptr(0.2 / 0.5), ptr(180.0 / 360)},
		{"p1", "GET", "ceiling", 1, 0, 360, 360, 360, 0.2, ptr(360.0 / 110), ptr(0.2 / 0.5), ptr(1)},
		{"p30", "SET", "shoal-uring", 1, 0, 900, 900, 900, 2, nil, nil, nil},
		{"p30", "GET", "shoal-uring", 0, 1, 0, 0, 0, 0, nil, nil, nil},
	}
	if len(rows) != len(wants) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	eqPtr := func(a, b *float64) bool {
		if a == nil || b == nil {
			return a == b
		}
		return abs(*a-*b) < 1e-9
	}
	for i, w := range wants {
		r := rows[i]
		if r.Workload != w.workload || r.Test != w.test || r.Server != w.server || r.Runs != w.runs || r.Failed != w.failed ||
			abs(r.RPS.Median-w.rps) > 1e-9 || r.RPS.Min != w.rpsMin || r.RPS.Max != w.rpsMax || abs(r.P99Ms.Median-w.p99) > 1e-9 ||
			!eqPtr(r.RPSRatio, w.rpsRatio) || !eqPtr(r.P99Ratio, w.p99Ratio) || !eqPtr(r.CeilingRatio, w.ofCeiling) {
			t.Errorf("row %d = %+v (ratios %v %v %v), want %+v", i, r, deref(r.RPSRatio), deref(r.P99Ratio), deref(r.CeilingRatio), w)
		}
	}
}

// TestAggregateClientsAndClusters checks that rows are kept apart by
// client, that cluster rows take their ratios against redis-cluster and
// have no ceiling, and that a memtier run asked for one test fails only
// that test.
func TestAggregateClientsAndClusters(t *testing.T) {
	s := func(test string, rps, p99 float64) Sample { return Sample{Test: test, RPS: rps, P99Ms: p99} }
	runs := []Run{
		{Repeat: 1, Server: "redis-cluster", Workload: "p1", Samples: []Sample{s("SET", 100, 1), s("GET", 100, 1)}},
		{Repeat: 1, Server: "shoal-cluster", Workload: "p1", Samples: []Sample{s("SET", 200, 0.5), s("GET", 150, 2)}},
		{Repeat: 1, Client: clientMemtier, Server: "redis-cluster", Workload: "p1", Tests: []string{"SET"}, Samples: []Sample{s("SET", 50, 4)}},
		{Repeat: 1, Client: clientMemtier, Server: "redis-cluster", Workload: "p1", Tests: []string{"GET"}, Error: "boom"},
		{Repeat: 1, Client: clientMemtier, Server: "shoal-cluster", Workload: "p1", Tests: []string{"SET"}, Samples: []Sample{s("SET", 75, 2)}},
		{Repeat: 1, Client: clientMemtier, Server: "shoal-cluster", Workload: "p1", Tests: []string{"GET"}, Samples: []Sample{s("GET", 80, 1)}},
	}
	var ts []Target
	for _, name := range []string{"redis-cluster", "shoal-cluster"} {
		tg, _ := findTarget(name)
		ts = append(ts, tg)
	}
	ws, _ := selectWorkloads("p1")
	rows := aggregate(runs, specFor([]string{clientRedisBenchmark, clientMemtier}, ws, ts))
	type want struct {
		client, test, server string
		runs, failed         int
		rpsRatio             *float64
	}
	wants := []want{
		{"", "SET", "redis-cluster", 1, 0, ptr(1)},
		{"", "SET", "shoal-cluster", 1, 0, ptr(2)},
		{"", "GET", "redis-cluster", 1, 0, ptr(1)},
		{"", "GET", "shoal-cluster", 1, 0, ptr(1.5)},
		{clientMemtier, "SET", "redis-cluster", 1, 0, ptr(1)},
		{clientMemtier, "SET", "shoal-cluster", 1, 0, ptr(1.5)},
		{clientMemtier, "GET", "redis-cluster", 0, 1, nil},
		{clientMemtier, "GET", "shoal-cluster", 1, 0, nil},
	}
	if len(rows) != len(wants) {
		t.Fatalf("got %d rows, want %d: %+v", len(rows), len(wants), rows)
	}
	for i, w := range wants {
		r := rows[i]
		gotRatio, wantRatio := deref(r.RPSRatio), deref(w.rpsRatio)
		if clientOf(r.Client) != clientOf(w.client) || r.Test != w.test || r.Server != w.server || r.Runs != w.runs ||
			r.Failed != w.failed || gotRatio != wantRatio || r.CeilingRatio != nil || r.Baseline != "redis-cluster" {
			t.Errorf("row %d = %+v (ratio %v), want %+v (ratio %v)", i, r, gotRatio, w, wantRatio)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestMemPerKey(t *testing.T) {
	m := MemResult{Keys: 1000, RSSBeforeKB: 1000, RSSAfterKB: 1500, PeakKB: 2000}
	m.perKey()
	if m.BytesPerKey != 512 || m.PeakBytesPerKey != 1024 {
		t.Errorf("perKey: %v, %v; want 512, 1024", m.BytesPerKey, m.PeakBytesPerKey)
	}
	z := MemResult{}
	z.perKey()
	if z.BytesPerKey != 0 {
		t.Error("zero keys gave a per-key figure")
	}
}
