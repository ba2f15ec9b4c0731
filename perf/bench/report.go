package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// tableHeader is the header of the benchmark table, tab separated. The
// client column is printed only when more than one client ran.
var tableHeader = append([]string{"workload", "test", "server", "client", "runs"}, columnNames(benchColumns)...)

// column is one measured column of a rows table: its header and its cell
// for a row with a successful run.
type column struct {
	name string
	cell func(Row) string
}

// benchColumns are the measured columns of the benchmark table: medians,
// min–max ranges, the ratios to the row's baseline and its ops/s as a
// fraction of the ceiling's.
var benchColumns = []column{
	{"ops/s", func(r Row) string { return formatCount(r.RPS.Median) }},
	{"ops/s min–max", func(r Row) string { return formatCount(r.RPS.Min) + "–" + formatCount(r.RPS.Max) }},
	{"p50 ms", func(r Row) string { return formatMs(r.P50Ms.Median) }},
	{"p99 ms", func(r Row) string { return formatMs(r.P99Ms.Median) }},
	{"p99 min–max", func(r Row) string { return formatMs(r.P99Ms.Min) + "–" + formatMs(r.P99Ms.Max) }},
	{"ops/s vs base", func(r Row) string { return formatRatio(r.RPSRatio) }},
	{"p99 vs base", func(r Row) string { return formatRatio(r.P99Ratio) }},
	{"of ceiling", func(r Row) string { return formatFraction(r.CeilingRatio) }},
}

// aofColumns are the measured columns of the --aof table: the benchmark
// table's without the ceiling (none runs), with the ops/s as a ratio of
// the same server's without the AOF, and the server's CPU time per SET,
// alone and as that ratio.
var aofColumns = append(slices.Clone(benchColumns[:len(benchColumns)-1]),
	column{"ops/s vs no AOF", func(r Row) string { return formatRatio(r.NoAOFRatio) }},
	column{"CPU us/op", func(r Row) string { return formatCPU(r.CPUUsPerOp.Median) }},
	column{"CPU vs no AOF", func(r Row) string { return formatRatio(r.NoAOFCPURatio) }})

// formatCPU is a CPU time per request in microseconds, "-" when not
// measured.
func formatCPU(us float64) string {
	if us <= 0 {
		return "-"
	}
	return strconv.FormatFloat(us, 'f', 3, 64)
}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// writeTable prints the benchmark table: one line per row. A row with no
// successful run shows "-" in every measured column.
func writeTable(w io.Writer, rows []Row) error { return writeRowTable(w, rows, benchColumns) }

// writeAOFTable prints the table of --aof mode's SET rows.
func writeAOFTable(w io.Writer, rows []Row) error { return writeRowTable(w, rows, aofColumns) }

// writeRowTable prints one line per row: workload, test, server, client
// (when more than one client ran), runs, then the measured columns.
func writeRowTable(w io.Writer, rows []Row, cols []column) error {
	clients := map[string]bool{}
	for _, r := range rows {
		clients[clientOf(r.Client)] = true
	}
	multi := len(clients) > 1
	header := []string{"workload", "test", "server"}
	if multi {
		header = append(header, "client")
	}
	header = append(append(header, "runs"), columnNames(cols)...)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{r.Workload, r.Test, r.Server}
		if multi {
			cells = append(cells, clientOf(r.Client))
		}
		cells = append(cells, fmt.Sprintf("%d/%d", r.Runs, r.Runs+r.Failed))
		for _, c := range cols {
			if r.Runs == 0 {
				cells = append(cells, "-")
			} else {
				cells = append(cells, c.cell(r))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// formatFraction formats a fraction as a percentage: 0.834 → "83%".
func formatFraction(r *float64) string {
	if r == nil {
		return "-"
	}
	return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
}

// memHeader is the header of the memory table.
var memHeader = []string{
	"server", "keys", "rss before", "rss after", "rss/key", "peak/key", "used_memory/key", "rss/key vs " + baseline, "load s",
}

// writeMemTable prints one line per server, then the Go runtime fields
// (gc_*, heap_*) each server reported under INFO memory.
func writeMemTable(w io.Writer, mems []MemResult) error {
	var base *MemResult
	for i := range mems {
		if mems[i].Server == baseline && mems[i].Error == "" {
			base = &mems[i]
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(memHeader, "\t"))
	for _, m := range mems {
		if m.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tfailed: %s\n", m.Server, formatCount(float64(m.Keys)), firstLine(m.Error))
			continue
		}
		used := "-"
		if m.UsedMemory > 0 && m.Keys > 0 {
			used = formatBytes(float64(m.UsedMemory) / float64(m.Keys))
		}
		ratio := "-"
		if base != nil && base.BytesPerKey > 0 {
			ratio = formatRatioValue(m.BytesPerKey / base.BytesPerKey)
		}
		fmt.Fprintln(tw, strings.Join([]string{
			m.Server,
			formatCount(float64(m.Keys)),
			formatBytes(float64(m.RSSBeforeKB) * 1024),
			formatBytes(float64(m.RSSAfterKB) * 1024),
			formatBytes(m.BytesPerKey),
			formatBytes(m.PeakBytesPerKey),
			used,
			ratio,
			strconv.FormatFloat(m.Load.Seconds, 'f', 1, 64),
		}, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, m := range mems {
		if len(m.Runtime) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s INFO memory (Go runtime):\n", m.Server)
		for _, f := range m.Runtime {
			fmt.Fprintf(w, "  %s:%s\n", f.Key, f.Value)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// formatCount formats a non-negative count rounded to an integer with
// thousands separators: 1234567.4 → "1,234,567".
func formatCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// formatMs formats milliseconds as redis-benchmark prints them.
func formatMs(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func formatRatio(r *float64) string {
	if r == nil {
		return "-"
	}
	return formatRatioValue(*r)
}

func formatRatioValue(r float64) string { return strconv.FormatFloat(r, 'f', 2, 64) + "x" }

// formatBytes formats a byte count with a binary unit: "312 B", "1.5 KiB",
// "412.3 MiB".
func formatBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	neg := v < 0
	v = math.Abs(v)
	u := 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	sign := ""
	if neg {
		sign = "-"
	}
	if u == 0 {
		return sign + strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	return sign + strconv.FormatFloat(v, 'f', 1, 64) + " " + units[u]
}

// writeResults writes res as indented JSON to dir/results.json, creating
// dir, and returns the file's path.
func writeResults(dir string, res *Results) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return "", fmt.Errorf("bench: encoding results: %w", err)
	}
	path := filepath.Join(dir, "results.json")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return path, nil
}
