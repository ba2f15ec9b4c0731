package main

import (
	"slices"
	"strings"
	"time"
)

// schemaVersion is bumped when results.json changes incompatibly. Version
// 2 added the client of each run and row, the baseline and ceiling ratios
// of rows, cluster nodes and notes; --compare reads versions 1 and 2.
const schemaVersion = 2

// Results is everything one invocation measured; it is what results.json
// holds.
type Results struct {
	Schema  int          `json:"schema"`
	Mode    string       `json:"mode"` // "bench", "mem" or "aof"
	Meta    Meta         `json:"meta"`
	Servers []ServerInfo `json:"servers"`
	Runs    []Run        `json:"runs,omitempty"`
	Rows    []Row        `json:"rows,omitempty"`
	Memory  []MemResult  `json:"memory,omitempty"`
	// Collections are the memory rows of collections (collections.go).
	Collections []CollMemResult `json:"collections,omitempty"`
	// AOFLoad is the load-time measurement of --aof mode (aof.go);
	// Checks are that mode's goals, each met or not.
	AOFLoad *AOFLoadReport `json:"aof_load,omitempty"`
	Checks  []Check        `json:"checks,omitempty"`
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
	Clients    []string  `json:"clients,omitempty"`   // benchmark clients run
	Memtier    string    `json:"memtier_version,omitempty"`
	Shards     int       `json:"cluster_shards,omitempty"` // nodes of each cluster target
	ShardCPUs  []string  `json:"cluster_cpus,omitempty"`   // planned CPUs of each shard
	Notes      []string  `json:"notes,omitempty"`          // what was skipped or shared, and why
	DataDir    string    `json:"data_dir,omitempty"`       // --aof mode: parent of the servers' data directories
	DataFS     string    `json:"data_fs,omitempty"`        // its filesystem, as /proc/self/mountinfo says
	Args       []string  `json:"args"`
}

// ServerInfo describes a server as first started.
type ServerInfo struct {
	Name        string     `json:"name"`
	Argv        []string   `json:"argv"`
	Version     string     `json:"version,omitempty"`      // INFO server redis_version
	CPUsAllowed string     `json:"cpus_allowed,omitempty"` // as seen in /proc/PID/status
	Nodes       []NodeInfo `json:"nodes,omitempty"`        // cluster targets: every node
}

// NodeInfo describes one node of a cluster target.
type NodeInfo struct {
	Port        int    `json:"port"`
	PID         int    `json:"pid"`
	ID          string `json:"id,omitempty"`           // cluster node id
	Slots       string `json:"slots,omitempty"`        // slot ranges it serves
	PlannedCPUs string `json:"planned_cpus,omitempty"` // as the launcher's plan says
	CPUsAllowed string `json:"cpus_allowed,omitempty"` // as seen in /proc/PID/status
}

// Run is one benchmark client invocation against one server.
type Run struct {
	Repeat   int       `json:"repeat"`           // 1-based
	Client   string    `json:"client,omitempty"` // "" (schema 1) means redis-benchmark
	Server   string    `json:"server"`
	Workload string    `json:"workload"`
	Tests    []string  `json:"tests,omitempty"` // upper case; empty: every test of the workload
	Argv     []string  `json:"argv"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`
	Samples  []Sample  `json:"samples"`
	// Persistence is what a server with an AOF reported under INFO
	// persistence after the run (aof_current_size, aof_rewrites, ...).
	Persistence []infoField `json:"persistence,omitempty"`
	Error       string      `json:"error,omitempty"`
}

// Row is the summary of one (client, workload, test, server) over the
// repeats. Ratios are against the medians of the row's baseline server, of
// its ceiling and of the same server without the AOF, for the same client,
// workload and test; nil when that row has no successful run.
type Row struct {
	Client       string   `json:"client,omitempty"`
	Workload     string   `json:"workload"`
	Test         string   `json:"test"`
	Server       string   `json:"server"`
	Runs         int      `json:"runs"`   // successful runs summarised
	Failed       int      `json:"failed"` // runs that produced no sample
	RPS          Spread   `json:"rps"`
	AvgMs        Spread   `json:"avg_ms"`
	P50Ms        Spread   `json:"p50_ms"`
	P95Ms        Spread   `json:"p95_ms"`
	P99Ms        Spread   `json:"p99_ms"`
	MaxMs        Spread   `json:"max_ms"`
	Baseline     string   `json:"baseline,omitempty"`
	RPSRatio     *float64 `json:"rps_ratio,omitempty"`
	P99Ratio     *float64 `json:"p99_ratio,omitempty"`
	CeilingRatio *float64 `json:"ceiling_ratio,omitempty"` // ops/s as a fraction of the ceiling's
	NoAOF        string   `json:"no_aof,omitempty"`        // the same server without the AOF
	NoAOFRatio   *float64 `json:"no_aof_ratio,omitempty"`  // ops/s over NoAOF's
	// CPUUsPerOp is the server's CPU time per request (zero when not
	// measured); NoAOFCPURatio is it over NoAOF's.
	CPUUsPerOp    Spread   `json:"cpu_us_per_op"`
	NoAOFCPURatio *float64 `json:"no_aof_cpu_ratio,omitempty"`
}

// clientOf is the client of a run or row; schema 1 files name none.
func clientOf(c string) string {
	if c == "" {
		return clientRedisBenchmark
	}
	return c
}

// aggSpec says how aggregate orders rows and takes ratios.
type aggSpec struct {
	clients   []string            // row order of clients
	workloads []string            // row order of workloads
	servers   []string            // row order of servers
	expect    map[string][]string // workload → tests asked for, upper case
	baseline  map[string]string   // server → its baseline server
	ceiling   map[string]string   // server → its ceiling server
	noAOF     map[string]string   // server → the same server without the AOF
}

// specFor builds the aggregation spec of the targets, clients and
// workloads of a run.
func specFor(clients []string, ws []Workload, ts []Target) aggSpec {
	s := aggSpec{clients: clients, expect: map[string][]string{}, baseline: map[string]string{}, ceiling: map[string]string{},
		noAOF: map[string]string{}}
	for _, w := range ws {
		s.workloads = append(s.workloads, w.Name)
		for _, t := range w.Tests {
			s.expect[w.Name] = append(s.expect[w.Name], strings.ToUpper(t))
		}
	}
	for _, t := range ts {
		s.servers = append(s.servers, t.Name)
		s.baseline[t.Name] = t.Baseline
		s.ceiling[t.Name] = t.Ceiling
		s.noAOF[t.Name] = t.NoAOF
	}
	return s
}

// aggregate turns raw runs into rows ordered by client and workload (as in
// the spec), test (in the order the client printed them), then server (as
// in the spec). A run that failed, or lacks one of the tests it was asked
// for (Run.Tests, else the workload's), counts as failed for that test.
func aggregate(runs []Run, spec aggSpec) []Row {
	type key struct{ client, workload, test, server string }
	type cw struct{ client, workload string }
	samples := map[key][]Sample{}
	failed := map[key]int{}
	tests := map[cw][]string{} // tests in order
	addTest := func(k cw, t string) {
		if !slices.Contains(tests[k], t) {
			tests[k] = append(tests[k], t)
		}
	}
	for _, r := range runs {
		c := clientOf(r.Client)
		got := map[string]bool{}
		for _, s := range r.Samples {
			addTest(cw{c, r.Workload}, s.Test)
			k := key{c, r.Workload, s.Test, r.Server}
			samples[k] = append(samples[k], s)
			got[s.Test] = true
		}
		asked := r.Tests
		if len(asked) == 0 {
			asked = spec.expect[r.Workload]
		}
		for _, t := range asked {
			if !got[t] {
				addTest(cw{c, r.Workload}, t)
				failed[key{c, r.Workload, t, r.Server}]++
			}
		}
	}
	var rows []Row
	for _, c := range spec.clients {
		for _, w := range spec.workloads {
			for _, t := range tests[cw{c, w}] {
				for _, srv := range spec.servers {
					k := key{c, w, t, srv}
					ss := samples[k]
					if len(ss) == 0 && failed[k] == 0 {
						continue
					}
					r := summarizeRow(w, t, srv, ss, failed[k])
					r.Client = c
					r.Baseline = spec.baseline[srv]
					r.NoAOF = spec.noAOF[srv]
					rows = append(rows, r)
				}
			}
		}
	}
	addRatios(rows, spec.ceiling)
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
	var cpu []float64 // the runs that measured it
	for _, s := range ss {
		if s.CPUUsPerOp > 0 {
			cpu = append(cpu, s.CPUUsPerOp)
		}
	}
	return Row{
		Workload: workload, Test: test, Server: srv, Runs: len(ss), Failed: failed,
		RPS:        pick(func(s Sample) float64 { return s.RPS }),
		AvgMs:      pick(func(s Sample) float64 { return s.AvgMs }),
		P50Ms:      pick(func(s Sample) float64 { return s.P50Ms }),
		P95Ms:      pick(func(s Sample) float64 { return s.P95Ms }),
		P99Ms:      pick(func(s Sample) float64 { return s.P99Ms }),
		MaxMs:      pick(func(s Sample) float64 { return s.MaxMs }),
		CPUUsPerOp: summarize(cpu),
	}
}

// addRatios fills the ratios of each row against its baseline row, its
// ceiling row (ceiling maps a server to its ceiling) and its row without
// the AOF, of the same client, workload and test.
func addRatios(rows []Row, ceiling map[string]string) {
	type key struct{ client, workload, test, server string }
	ok := map[key]Row{}
	for _, r := range rows {
		if r.Runs > 0 {
			ok[key{clientOf(r.Client), r.Workload, r.Test, r.Server}] = r
		}
	}
	ratio := func(a, b float64) *float64 {
		if b <= 0 {
			return nil
		}
		v := a / b
		return &v
	}
	for i := range rows {
		r := &rows[i]
		if r.Runs == 0 {
			continue
		}
		c := clientOf(r.Client)
		if b, found := ok[key{c, r.Workload, r.Test, r.Baseline}]; found && r.Baseline != "" {
			r.RPSRatio = ratio(r.RPS.Median, b.RPS.Median)
			r.P99Ratio = ratio(r.P99Ms.Median, b.P99Ms.Median)
		}
		if name := ceiling[r.Server]; name != "" {
			if ce, found := ok[key{c, r.Workload, r.Test, name}]; found {
				r.CeilingRatio = ratio(r.RPS.Median, ce.RPS.Median)
			}
		}
		if r.NoAOF != "" {
			if off, found := ok[key{c, r.Workload, r.Test, r.NoAOF}]; found {
				r.NoAOFRatio = ratio(r.RPS.Median, off.RPS.Median)
				if r.CPUUsPerOp.Median > 0 {
					r.NoAOFCPURatio = ratio(r.CPUUsPerOp.Median, off.CPUUsPerOp.Median)
				}
			}
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
