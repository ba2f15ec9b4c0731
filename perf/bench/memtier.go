package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The benchmark clients.
const (
	clientRedisBenchmark = "redis-benchmark"
	clientMemtier        = "memtier"
)

// allClients lists the clients in run and report order.
var allClients = []string{clientRedisBenchmark, clientMemtier}

// memtierTests maps the redis-benchmark tests memtier can run to its
// --ratio (sets:gets) and the section of its JSON report.
var memtierTests = map[string]struct{ ratio, section string }{
	"set": {"1:0", "Sets"},
	"get": {"0:1", "Gets"},
}

// memtierFirstKey is memtier's --key-minimum: keys memtier-1 ..
// memtier-<keyspace>, the keyspace keys the harness preloads.
const memtierFirstKey = 1

// memtierShape splits the workload's connections over threads: clients
// per thread (rounded up) and requests per client, so that memtier opens
// about as many connections and sends about as many requests as
// redis-benchmark does for the workload.
func (w Workload) memtierShape(threads int) (clients, requests int) {
	threads = max(threads, 1)
	clients = max((w.Clients+threads-1)/threads, 1)
	requests = max(w.Requests/(clients*threads), 1)
	return clients, requests
}

// memtierArgs returns memtier_benchmark's arguments (without the program
// name) for one test (get or set) of w against host:port, writing its JSON
// report to jsonPath.
func (w Workload) memtierArgs(host string, port int, test string, threads int, cluster bool, jsonPath string) ([]string, error) {
	mt, ok := memtierTests[test]
	if !ok {
		return nil, fmt.Errorf("bench: memtier runs only get and set, not %s", test)
	}
	threads = max(threads, 1)
	clients, requests := w.memtierShape(threads)
	args := []string{
		"-s", host, "-p", strconv.Itoa(port), "--protocol", "redis",
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(clients),
		"--pipeline", strconv.Itoa(w.Pipeline),
		"-d", strconv.Itoa(w.DataSize),
		"--ratio", mt.ratio,
		"--key-pattern", "R:R",
		"--key-prefix", memtierKeys.Prefix,
		"--key-minimum", strconv.Itoa(memtierFirstKey),
		"--key-maximum", strconv.Itoa(memtierFirstKey + w.Keyspace - 1),
		"-n", strconv.Itoa(requests),
		"--distinct-client-seed",
		"--hide-histogram",
		"--print-percentiles", "50,95,99",
		"--json-out-file", jsonPath,
	}
	if cluster {
		args = append(args, "--cluster-mode")
	}
	return args, nil
}

// memtierStats is one section ("Sets", "Gets") of memtier's "ALL STATS".
type memtierStats struct {
	Count       *float64                   `json:"Count"`
	Ops         *float64                   `json:"Ops/sec"`
	Hits        *float64                   `json:"Hits/sec"`
	Misses      *float64                   `json:"Misses/sec"`
	Latency     *float64                   `json:"Latency"`
	Avg         *float64                   `json:"Average Latency"`
	Min         *float64                   `json:"Min Latency"`
	Max         *float64                   `json:"Max Latency"`
	Percentiles map[string]json.RawMessage `json:"Percentile Latencies"`
}

// bareNonNumber matches the nan, -nan, inf and -inf that some memtier
// versions print as JSON values.
var bareNonNumber = regexp.MustCompile(`([:,\[]\s*)-?(?:nan|inf)\b`)

// parseMemtierJSON reads the report memtier_benchmark --json-out-file
// writes and returns the sample of test (get or set): ops/s and latencies
// in ms from the "ALL STATS" section, and, for gets, the fraction that
// missed (-1 when memtier did not say).
func parseMemtierJSON(b []byte, test string) (Sample, float64, error) {
	mt, ok := memtierTests[test]
	if !ok {
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: no section for test %q", test)
	}
	b = bareNonNumber.ReplaceAll(b, []byte("${1}null"))
	var doc struct {
		All map[string]json.RawMessage `json:"ALL STATS"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: %w", err)
	}
	raw, ok := doc.All[mt.section]
	if !ok {
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: no %q under \"ALL STATS\"", mt.section)
	}
	var st memtierStats
	if err := json.Unmarshal(raw, &st); err != nil {
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: %s: %w", mt.section, err)
	}
	bad := func(name string, v *float64) error {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || *v < 0) {
			return fmt.Errorf("bench: memtier JSON: %s %s: bad number %v", mt.section, name, *v)
		}
		return nil
	}
	for name, v := range map[string]*float64{"Count": st.Count, "Ops/sec": st.Ops, "Hits/sec": st.Hits, "Misses/sec": st.Misses,
		"Latency": st.Latency, "Average Latency": st.Avg, "Min Latency": st.Min, "Max Latency": st.Max} {
		if err := bad(name, v); err != nil {
			return Sample{}, -1, err
		}
	}
	switch {
	case st.Ops == nil:
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: %s has no Ops/sec", mt.section)
	case st.Count != nil && *st.Count == 0, *st.Ops == 0:
		return Sample{}, -1, fmt.Errorf("bench: memtier JSON: no %s completed", strings.ToLower(mt.section))
	}
	s := Sample{Test: strings.ToUpper(test), RPS: *st.Ops}
	get := func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	}
	s.AvgMs = get(st.Avg)
	if st.Avg == nil {
		s.AvgMs = get(st.Latency)
	}
	s.MinMs, s.MaxMs = get(st.Min), get(st.Max)
	for name, dst := range map[string]*float64{"p50.00": &s.P50Ms, "p95.00": &s.P95Ms, "p99.00": &s.P99Ms} {
		v, ok := st.Percentiles[name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			continue
		}
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return Sample{}, -1, fmt.Errorf("bench: memtier JSON: %s percentile %s: bad number %s", mt.section, name, v)
		}
		*dst = f
	}
	miss := -1.0
	if test == "get" && st.Hits != nil && st.Misses != nil && *st.Hits+*st.Misses > 0 {
		miss = *st.Misses / (*st.Hits + *st.Misses)
	}
	return s, miss, nil
}
