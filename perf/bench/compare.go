package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// compareHeader is the header of the --compare table.
var compareHeader = []string{
	"workload", "test", "server", "client", "A ops/s", "B ops/s", "B/A ops/s", "A p99 ms", "B p99 ms", "B/A p99",
}

// readResultsFile reads a results.json of schema 1 or 2 in bench or aof
// mode.
func readResultsFile(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", path, err)
	}
	switch {
	case res.Schema < 1 || res.Schema > schemaVersion:
		return nil, fmt.Errorf("bench: %s: schema %d, this harness reads 1..%d", path, res.Schema, schemaVersion)
	case res.Mode != "bench" && res.Mode != "aof":
		return nil, fmt.Errorf("bench: %s: a %q run, not a benchmark run", path, res.Mode)
	}
	return &res, nil
}

// compareFiles prints the rows of two results files side by side.
func compareFiles(w io.Writer, pathA, pathB string) error {
	a, err := readResultsFile(pathA)
	if err != nil {
		return err
	}
	b, err := readResultsFile(pathB)
	if err != nil {
		return err
	}
	if a.Mode != b.Mode {
		return fmt.Errorf("bench: %s is a %q run and %s a %q run: nothing to compare", pathA, a.Mode, pathB, b.Mode)
	}
	fmt.Fprintf(w, "# A: %s (%s, %s, %d run(s))\n", pathA, a.Meta.Started.Format("2006-01-02 15:04:05"), a.Meta.Host, a.Meta.Repeats)
	fmt.Fprintf(w, "# B: %s (%s, %s, %d run(s))\n", pathB, b.Meta.Started.Format("2006-01-02 15:04:05"), b.Meta.Host, b.Meta.Repeats)
	if a.Meta.Host != b.Meta.Host || a.Meta.CPUs != b.Meta.CPUs {
		fmt.Fprintf(w, "# note: the runs were on different machines or CPU sets (%s %s vs %s %s)\n",
			a.Meta.Host, a.Meta.CPUs, b.Meta.Host, b.Meta.CPUs)
	}
	if err := writeCompare(w, a.Rows, b.Rows); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// writeCompare prints one line per (workload, test, server, client) found
// in either row set: A's rows in their order, then the rows only B has.
// A side without a successful run shows "-".
func writeCompare(w io.Writer, rowsA, rowsB []Row) error {
	type key struct{ workload, test, server, client string }
	keyOf := func(r Row) key { return key{r.Workload, r.Test, r.Server, clientOf(r.Client)} }
	byB := map[key]Row{}
	for _, r := range rowsB {
		byB[keyOf(r)] = r
	}
	var order []key
	byA := map[key]Row{}
	for _, r := range rowsA {
		k := keyOf(r)
		if _, dup := byA[k]; !dup {
			order = append(order, k)
		}
		byA[k] = r
	}
	for _, r := range rowsB {
		if _, inA := byA[keyOf(r)]; !inA {
			order = append(order, keyOf(r))
			byA[keyOf(r)] = Row{}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(compareHeader, "\t"))
	for _, k := range order {
		ra, rb := byA[k], byB[k]
		cell := func(r Row, f func(Row) string) string {
			if r.Runs == 0 {
				return "-"
			}
			return f(r)
		}
		ratio := func(get func(Row) float64) string {
			if ra.Runs == 0 || rb.Runs == 0 || get(ra) <= 0 {
				return "-"
			}
			return formatRatioValue(get(rb) / get(ra))
		}
		rps := func(r Row) float64 { return r.RPS.Median }
		p99 := func(r Row) float64 { return r.P99Ms.Median }
		fmt.Fprintln(tw, strings.Join([]string{
			k.workload, k.test, k.server, k.client,
			cell(ra, func(r Row) string { return formatCount(r.RPS.Median) }),
			cell(rb, func(r Row) string { return formatCount(r.RPS.Median) }),
			ratio(rps),
			cell(ra, func(r Row) string { return formatMs(r.P99Ms.Median) }),
			cell(rb, func(r Row) string { return formatMs(r.P99Ms.Median) }),
			ratio(p99),
		}, "\t"))
	}
	return tw.Flush()
}
