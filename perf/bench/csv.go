package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Sample is one row of redis-benchmark --csv output: one test of one run.
// Latencies are in milliseconds; a column the tool did not print is zero.
type Sample struct {
	Test  string  `json:"test"`
	RPS   float64 `json:"rps"`
	AvgMs float64 `json:"avg_ms"`
	MinMs float64 `json:"min_ms"`
	P50Ms float64 `json:"p50_ms"`
	P95Ms float64 `json:"p95_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// CPUUsPerOp is the CPU time the server's processes used during the
	// run, per request, in microseconds (from /proc/PID/stat); 0 when not
	// measured (runs of more than one test, memtier).
	CPUUsPerOp float64 `json:"cpu_us_per_op,omitempty"`
}

// csvColumns maps redis-benchmark's CSV header names to Sample fields.
var csvColumns = map[string]func(*Sample) *float64{
	"rps":            func(s *Sample) *float64 { return &s.RPS },
	"avg_latency_ms": func(s *Sample) *float64 { return &s.AvgMs },
	"min_latency_ms": func(s *Sample) *float64 { return &s.MinMs },
	"p50_latency_ms": func(s *Sample) *float64 { return &s.P50Ms },
	"p95_latency_ms": func(s *Sample) *float64 { return &s.P95Ms },
	"p99_latency_ms": func(s *Sample) *float64 { return &s.P99Ms },
	"max_latency_ms": func(s *Sample) *float64 { return &s.MaxMs },
}

// parseBenchmarkCSV parses redis-benchmark --csv output. The header names
// the columns (so their order may change); "test" and "rps" are required,
// unknown columns are ignored. Records before the header (the first record
// with a "test" field) are skipped.
func parseBenchmarkCSV(r io.Reader) ([]Sample, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var (
		header  []string
		testCol int
		samples []Sample
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("bench: redis-benchmark CSV: %w", err)
		}
		if header == nil {
			if testCol = slices.Index(rec, "test"); testCol >= 0 {
				header = slices.Clone(rec)
				if err := checkHeader(header); err != nil {
					return nil, err
				}
			}
			continue
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("bench: redis-benchmark CSV: record has %d fields, header has %d", len(rec), len(header))
		}
		s := Sample{Test: strings.ToUpper(strings.TrimSpace(rec[testCol]))}
		if s.Test == "" {
			return nil, fmt.Errorf("bench: redis-benchmark CSV: empty test name")
		}
		for i := range rec {
			field, ok := csvColumns[header[i]]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("bench: redis-benchmark CSV: test %s column %s: bad number %q", s.Test, header[i], rec[i])
			}
			*field(&s) = v
		}
		samples = append(samples, s)
	}
	if header == nil {
		return nil, fmt.Errorf("bench: redis-benchmark CSV: no header line")
	}
	return samples, nil
}

func checkHeader(h []string) error {
	seen := make(map[string]bool, len(h))
	for _, name := range h {
		if seen[name] {
			return fmt.Errorf("bench: redis-benchmark CSV: column %q repeated", name)
		}
		seen[name] = true
	}
	if !seen["rps"] {
		return fmt.Errorf("bench: redis-benchmark CSV: header has no rps column")
	}
	return nil
}
