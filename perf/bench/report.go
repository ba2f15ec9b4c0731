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
var tableHeader = []string{
	"workload", "test", "server", "client", "runs", "ops/s", "ops/s min–max",
	"p50 ms", "p99 ms", "p99 min–max", "ops/s vs base", "p99 vs base", "of ceiling",
}

// writeTable prints one line per row: medians, min–max ranges, the ratios
// to the row's baseline and its ops/s as a fraction of the ceiling's. A
// row with no successful run shows "-" in every measured column.
func writeTable(w io.Writer, rows []Row) error {
	clients := map[string]bool{}
	for _, r := range rows {
		clients[clientOf(r.Client)] = true
	}
	multi := len(clients) > 1
	header := tableHeader
	if !multi {
		header = slices.DeleteFunc(slices.Clone(header), func(s string) bool { return s == "client" })
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := []string{r.Workload, r.Test, r.Server}
		if multi {
			cells = append(cells, clientOf(r.Client))
		}
		cells = append(cells, fmt.Sprintf("%d/%d", r.Runs, r.Runs+r.Failed))
		if r.Runs == 0 {
			for range len(header) - len(cells) {
				cells = append(cells, "-")
			}
		} else {
			cells = append(cells,
				formatCount(r.RPS.Median),
				formatCount(r.RPS.Min)+"–"+formatCount(r.RPS.Max),
				formatMs(r.P50Ms.Median),
				formatMs(r.P99Ms.Median),
				formatMs(r.P99Ms.Min)+"–"+formatMs(r.P99Ms.Max),
				formatRatio(r.RPSRatio),
				formatRatio(r.P99Ratio),
				formatFraction(r.CeilingRatio),
			)
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
