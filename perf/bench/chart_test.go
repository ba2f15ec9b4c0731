package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// chartResults is a fixed result set: the rows of testRuns plus cluster
// rows, as one invocation would hold them.
func chartResults() *Results {
	runs := append(testRuns(),
		Run{Repeat: 1, Server: "redis-cluster", Workload: "p1", Samples: []Sample{{Test: "SET", RPS: 190, P99Ms: 0.9}, {Test: "GET", RPS: 210, P99Ms: 0.8}}},
		Run{Repeat: 1, Server: "shoal-cluster", Workload: "p1", Samples: []Sample{{Test: "SET", RPS: 260, P99Ms: 0.5}, {Test: "GET", RPS: 290, P99Ms: 0.45}}},
	)
	var ts []Target
	for _, name := range []string{"redis", "shoal-uring", "ceiling", "redis-cluster", "shoal-cluster"} {
		tg, _ := findTarget(name)
		ts = append(ts, tg)
	}
	ws, _ := selectWorkloads("p1,p30")
	res := &Results{Schema: schemaVersion, Mode: "bench", Runs: runs}
	res.Meta = Meta{Host: "bench-host", Started: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC), Repeats: 2,
		ServerCPUs: "1", ClientCPUs: "0", Clients: []string{clientRedisBenchmark}, Shards: 2}
	res.Rows = aggregate(runs, specFor([]string{clientRedisBenchmark}, ws, ts))
	return res
}

func TestWriteChart(t *testing.T) {
	var buf bytes.Buffer
	if err := writeChart(&buf, chartResults()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "chart.svg", buf.Bytes())

	// Well-formed XML, one bar with a tooltip per successful row and both
	// panels' group labels.
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	rects, crosses := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			for _, a := range se.Attr {
				if a.Name.Local == "width" && a.Value == "18" {
					rects++
				}
			}
		}
		if cd, ok := tok.(xml.CharData); ok && string(cd) == "×" {
			crosses++
		}
	}
	ok := 0
	for _, r := range chartResults().Rows {
		if r.Runs > 0 {
			ok++
		}
	}
	if rects != 2*ok || crosses != 2 {
		t.Errorf("%d bars and %d crosses, want %d and 2", rects, crosses, 2*ok)
	}
	if n := strings.Count(buf.String(), ">p1 GET<"); n != 2 {
		t.Errorf("group label p1 GET appears %d times, want 2", n)
	}
}

func TestNiceScale(t *testing.T) {
	tests := []struct{ max, top, step float64 }{
		{0, 1, 0.2}, {1, 1, 0.2}, {7, 8, 2}, {123456, 150000, 50000}, {0.43, 0.5, 0.1}, {1e6, 1e6, 2e5},
	}
	for _, tt := range tests {
		top, step := niceScale(tt.max)
		if abs(top-tt.top) > 1e-9*tt.top || abs(step-tt.step) > 1e-9*tt.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.max, top, step, tt.top, tt.step)
		}
	}
	shorts := map[float64]string{0: "0", 950: "950", 12500: "12.5k", 1_234_567: "1.23M", 2e6: "2M", 0.25: "0.25", 1.5: "1.5"}
	for v, want := range shorts {
		if got := formatShort(v); got != want {
			t.Errorf("formatShort(%v) = %q, want %q", v, got, want)
		}
	}
}
