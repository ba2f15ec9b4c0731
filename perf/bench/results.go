package main

import (
	"slices"
	"time"
)

// schemaVersion is bumped when results.json changes incompatibly.
const schemaVersion = 1

// Results is everything one invocation measured; it is what results.json
// holds.
type Results struct {
	Schema  int          `json:"schema"`
	Mode    string       `json:"mode"` // "bench" or "mem"
	Meta    Meta         `json:"meta"`
	Servers []ServerInfo `json:"servers"`
	Runs    []Run        `json:"runs,omitempty"`
	Rows    []Row        `json:"rows,omitempty"`
	Memory  []MemResult  `json:"memory,omitempty"`
}

// Meta records the conditions of the invocation.
type Meta struct {
	Started    time.Time `json:"started"`
	Seconds    float64   `json:"seconds"`
	Host       string    `json:"host"`
	Kernel     string    `json:"kernel"`
	GoVersion  string    `json:"go_version"`
	Benchmark  string    `json:"benchmark_version,omitempty"`
	CPUs       string    `json:"cpus_allowed"`
	ServerCPUs string    `json:"server_cpus,omitempty"`
	ClientCPUs string    `json:"client_cpus,omitempty"`
	Repeats    int       `json:"runs"`
	Quick      bool      `json:"quick"`
	Preload    bool      `json:"preload"`
	Workloads  []string  `json:"workloads,omitempty"` // name: redis-benchmark parameters
	Args       []string  `json:"args"`
}

// ServerInfo describes a server as first started.
type ServerInfo struct {
	Name        string   `json:"name"`
	Argv        []string `json:"argv"`
	Version     string   `json:"version,omitempty"`      // INFO server redis_version
	CPUsAllowed string   `json:"cpus_allowed,omitempty"` // as seen in /proc/PID/status
}

// Run is one redis-benchmark invocation against one server.
type Run struct {
	Repeat   int       `json:"repeat"` // 1-based
	Server   string    `json:"server"`
	Workload string    `json:"workload"`
	Argv     []string  `json:"argv"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Samples  []Sample  `json:"samples"`
	Error    string    `json:"error,omitempty"`
}

// Row is the summary of one (workload, test, server) over the repeats.
// Ratios are against the baseline server's medians; nil when the baseline
// has no successful run for the same workload and test.
type Row struct {
	Workload string   `json:"workload"`
	Test     string   `json:"test"`
	Server   string   `json:"server"`
	Runs     int      `json:"runs"`   // successful runs summarised
	Failed   int      `json:"failed"` // runs that produced no sample
	RPS      Spread   `json:"rps"`
	AvgMs    Spread   `json:"avg_ms"`
	P50Ms    Spread   `json:"p50_ms"`
	P95Ms    Spread   `json:"p95_ms"`
	P99Ms    Spread   `json:"p99_ms"`
	MaxMs    Spread   `json:"max_ms"`
	RPSRatio *float64 `json:"rps_ratio,omitempty"`
	P99Ratio *float64 `json:"p99_ratio,omitempty"`
}

// aggregate turns raw runs into rows ordered by workload (as in
// workloadOrder), test (in the order redis-benchmark printed them), then
// server (as in serverOrder).
// expect names the tests each workload was asked for, upper case; a run
// that failed, or lacks one of them, counts as failed for that test.
func aggregate(runs []Run, workloadOrder, serverOrder []string, expect map[string][]string) []Row {
	type key struct{ workload, test, server string }
	samples := map[key][]Sample{}
	failed := map[key]int{}
	tests := map[string][]string{} // workload → tests in order
	addTest := func(w, t string) {
		if !slices.Contains(tests[w], t) {
			tests[w] = append(tests[w], t)
		}
	}
	for _, r := range runs {
		got := map[string]bool{}
		for _, s := range r.Samples {
			addTest(r.Workload, s.Test)
			k := key{r.Workload, s.Test, r.Server}
			samples[k] = append(samples[k], s)
			got[s.Test] = true
		}
		for _, t := range expect[r.Workload] {
			if !got[t] {
				failed[key{r.Workload, t, r.Server}]++
			}
		}
	}
	for _, w := range workloadOrder {
		for _, t := range expect[w] {
			addTest(w, t) // tests no run produced go last
		}
	}
	var rows []Row
	for _, w := range workloadOrder {
		for _, t := range tests[w] {
			for _, srv := range serverOrder {
				k := key{w, t, srv}
				ss := samples[k]
				if len(ss) == 0 && failed[k] == 0 {
					continue
				}
				rows = append(rows, summarizeRow(w, t, srv, ss, failed[k]))
			}
		}
	}
	addRatios(rows)
	return rows
}

func summarizeRow(workload, test, srv string, ss []Sample, failed int) Row {
	pick := func(f func(Sample) float64) Spread {
		xs := make([]float64, len(ss))
		for i, s := range ss {
			xs[i] = f(s)
		}
		return summarize(xs)
	}
	return Row{
		Workload: workload, Test: test, Server: srv, Runs: len(ss), Failed: failed,
		RPS:   pick(func(s Sample) float64 { return s.RPS }),
		AvgMs: pick(func(s Sample) float64 { return s.AvgMs }),
		P50Ms: pick(func(s Sample) float64 { return s.P50Ms }),
		P95Ms: pick(func(s Sample) float64 { return s.P95Ms }),
		P99Ms: pick(func(s Sample) float64 { return s.P99Ms }),
		MaxMs: pick(func(s Sample) float64 { return s.MaxMs }),
	}
}

// addRatios fills the ratios of each row against the baseline row of the
// same workload and test.
func addRatios(rows []Row) {
	base := map[[2]string]Row{}
	for _, r := range rows {
		if r.Server == baseline && r.Runs > 0 {
			base[[2]string{r.Workload, r.Test}] = r
		}
	}
	for i := range rows {
		r := &rows[i]
		b, ok := base[[2]string{r.Workload, r.Test}]
		if !ok || r.Runs == 0 {
			continue
		}
		if b.RPS.Median > 0 {
			v := r.RPS.Median / b.RPS.Median
			r.RPSRatio = &v
		}
		if b.P99Ms.Median > 0 {
			v := r.P99Ms.Median / b.P99Ms.Median
			r.P99Ratio = &v
		}
	}
}

// MemResult is the memory measurement of one server.
type MemResult struct {
	Server          string      `json:"server"`
	Keys            int         `json:"keys"`
	ValueSize       int         `json:"value_size"`
	RSSBeforeKB     int64       `json:"rss_before_kb"`
	RSSAfterKB      int64       `json:"rss_after_kb"`
	PeakKB          int64       `json:"peak_kb"`
	BytesPerKey     float64     `json:"rss_bytes_per_key"`  // (after-before)/keys
	PeakBytesPerKey float64     `json:"peak_bytes_per_key"` // (peak-before)/keys
	UsedMemory      int64       `json:"used_memory,omitempty"`
	DBSize          int64       `json:"dbsize"` // -1 when DBSIZE is not supported
	Load            LoadStats   `json:"load"`
	Runtime         []infoField `json:"runtime,omitempty"` // INFO memory gc_* and heap_*
	Error           string      `json:"error,omitempty"`
}

// perKey computes the per-key figures from the raw ones.
func (m *MemResult) perKey() {
	if m.Keys <= 0 {
		return
	}
	m.BytesPerKey = float64(m.RSSAfterKB-m.RSSBeforeKB) * 1024 / float64(m.Keys)
	m.PeakBytesPerKey = float64(m.PeakKB-m.RSSBeforeKB) * 1024 / float64(m.Keys)
}
