package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Workload is one redis-benchmark invocation, as data. Each test it runs
// (SET, GET, ...) becomes one row per server.
type Workload struct {
	Name     string   // row label and --workloads key
	Tests    []string // redis-benchmark -t
	Clients  int      // -c
	DataSize int      // -d, value bytes
	Keyspace int      // -r; keys are key:%012d for 0..Keyspace-1
	Pipeline int      // -P
	Requests int      // -n per test; sized so a test takes a few seconds
}

// workloads lists every workload the harness knows, in run order.
var workloads = []Workload{
	{Name: "p1", Tests: []string{"get", "set"}, Clients: 50, DataSize: 256, Keyspace: 1_000_000, Pipeline: 1, Requests: 200_000},
	{Name: "p30", Tests: []string{"get", "set"}, Clients: 50, DataSize: 256, Keyspace: 1_000_000, Pipeline: 30, Requests: 2_000_000},
}

// needsPreload reports whether the workload reads keys that must exist.
func (w Workload) needsPreload() bool {
	return slices.Contains(w.Tests, "get")
}

// benchmarkArgs returns redis-benchmark's arguments (without the program
// name) for a server at host:port.
func (w Workload) benchmarkArgs(host string, port, threads int) []string {
	args := []string{
		"-h", host, "-p", strconv.Itoa(port),
		"-t", strings.Join(w.Tests, ","),
		"-c", strconv.Itoa(w.Clients),
		"-d", strconv.Itoa(w.DataSize),
		"-r", strconv.Itoa(w.Keyspace),
		"-P", strconv.Itoa(w.Pipeline),
		"-n", strconv.Itoa(w.Requests),
		"--csv",
	}
	if threads > 0 {
		args = append(args, "--threads", strconv.Itoa(threads))
	}
	return args
}

// describe is a short form of the parameters for headers and --list.
func (w Workload) describe() string {
	return fmt.Sprintf("-t %s -c %d -d %d -r %d -P %d -n %d",
		strings.Join(w.Tests, ","), w.Clients, w.DataSize, w.Keyspace, w.Pipeline, w.Requests)
}

// selectWorkloads resolves a comma-separated list of workload names, keeping
// the given order and dropping repeats.
func selectWorkloads(list string) ([]Workload, error) {
	var out []Workload
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		i := slices.IndexFunc(workloads, func(w Workload) bool { return w.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("bench: unknown workload %q (known: %s)", name, workloadNames())
		}
		seen[name] = true
		w := workloads[i]
		w.Tests = slices.Clone(w.Tests)
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no workloads selected")
	}
	return out, nil
}

func workloadNames() string {
	names := make([]string, len(workloads))
	for i, w := range workloads {
		names[i] = w.Name
	}
	return strings.Join(names, ",")
}

// parseTests validates a -t list: lower-case redis-benchmark test names.
func parseTests(list string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(list, ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || slices.Contains(out, t) {
			continue
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
				return nil, fmt.Errorf("bench: bad test name %q", t)
			}
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no tests selected")
	}
	return out, nil
}
