package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	chartLeft      = 70  // room for the y-axis labels
	chartRight     = 20  // margin right of the last group
	chartTop       = 64  // title and legend
	chartPanelGap  = 70  // between the panels: group labels and the second title
	chartOpsHeight = 260 // ops/s panel
	chartP99Height = 180 // p99 panel
	chartBottom    = 40  // group labels of the lower panel and the note
	chartBarWidth  = 18
	chartBarGap    = 4
	chartGroupGap  = 24
	chartTicks     = 5
)

// chartPalette colours the servers, in order of first appearance.
var chartPalette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"}

// chartGroup is one cluster of bars: the rows of one client, workload and
// test, one per server.
type chartGroup struct {
	label string
	rows  []Row
}

// chartGroups groups rows by (client, workload, test), keeping the order
// rows come in. The client is named in the label only when the rows have
// more than one.
func chartGroups(rows []Row) []chartGroup {
	clients := map[string]bool{}
	for _, r := range rows {
		clients[clientOf(r.Client)] = true
	}
	var out []chartGroup
	index := map[string]int{}
	for _, r := range rows {
		label := r.Workload + " " + r.Test
		if len(clients) > 1 {
			label = clientOf(r.Client) + " " + label
		}
		i, ok := index[label]
		if !ok {
			i = len(out)
			index[label] = i
			out = append(out, chartGroup{label: label})
		}
		out[i].rows = append(out[i].rows, r)
	}
	return out
}

// niceScale returns the top of an axis showing values up to max and its
// tick step: a step of 1, 2 or 5 times a power of ten, about chartTicks
// ticks.
func niceScale(max float64) (top, step float64) {
	if !(max > 0) || math.IsInf(max, 0) {
		return 1, 1.0 / chartTicks
	}
	raw := max / chartTicks
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Ceil(max/step-1e-9) * step, step
}

// formatShort formats a count compactly for axis and bar labels: 950,
// 12.5k, 1.23M.
func formatShort(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trimZeros(strconv.FormatFloat(v/1e6, 'f', 2, 64)) + "M"
	case a >= 1e3:
		return trimZeros(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	case a >= 1 || a == 0:
		return trimZeros(strconv.FormatFloat(v, 'f', 1, 64))
	default:
		return trimZeros(strconv.FormatFloat(v, 'f', 3, 64))
	}
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// svgNum formats a coordinate with at most one decimal.
func svgNum(v float64) string { return trimZeros(strconv.FormatFloat(v, 'f', 1, 64)) }

// writeChart writes an SVG chart of res: grouped bars of the median ops/s
// of every (workload, test) and server with min–max whiskers, and below
// them the median p99 latency the same way. Rows with no successful run
// are marked with a cross.
func writeChart(w io.Writer, res *Results) error {
	groups := chartGroups(res.Rows)
	var servers []string
	for _, r := range res.Rows {
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
	}
	colour := func(srv string) string {
		for i, s := range servers {
			if s == srv {
				return chartPalette[i%len(chartPalette)]
			}
		}
		return "#888"
	}
	barsWidth := func(g chartGroup) float64 {
		return float64(len(g.rows))*(chartBarWidth+chartBarGap) - chartBarGap
	}
	// A group is at least wide enough for its label.
	groupWidth := func(g chartGroup) float64 {
		return math.Max(barsWidth(g), 7*float64(len(g.label))+8)
	}
	legendWidth := 0.0
	for _, s := range servers {
		legendWidth += 16 + 7*float64(len(s)) + 18
	}
	width := float64(chartLeft + chartRight)
	for _, g := range groups {
		width += groupWidth(g) + chartGroupGap
	}
	height := float64(chartTop + chartOpsHeight + chartPanelGap + chartP99Height + chartBottom)

	title := "Shoal benchmark"
	if res.Mode == "aof" {
		title = "Shoal AOF benchmark"
	}
	if res.Meta.Host != "" {
		title += " on " + res.Meta.Host
	}
	if !res.Meta.Started.IsZero() {
		title += ", " + res.Meta.Started.UTC().Format("2006-01-02 15:04 UTC")
	}
	title += fmt.Sprintf(": median of %d run(s), whiskers min–max", res.Meta.Repeats)
	width = math.Max(width, math.Max(chartLeft+legendWidth, chartLeft+8.6*float64(len(title))))

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="sans-serif" font-size="11">`+"\n",
		svgNum(width), svgNum(height), svgNum(width), svgNum(height))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="18" font-size="14" font-weight="bold">%s</text>`+"\n", chartLeft, html.EscapeString(title))
	// Legend.
	x := float64(chartLeft)
	for _, s := range servers {
		fmt.Fprintf(&b, `<rect x="%s" y="30" width="12" height="12" fill="%s"/><text x="%s" y="40">%s</text>`+"\n",
			svgNum(x), colour(s), svgNum(x+16), html.EscapeString(s))
		x += 16 + 7*float64(len(s)) + 18
	}

	panel := func(top, h float64, name, unit string, get func(Row) Spread) {
		max := 0.0
		for _, r := range res.Rows {
			if r.Runs > 0 {
				max = math.Max(max, get(r).Max)
			}
		}
		axisTop, step := niceScale(max)
		y := func(v float64) float64 { return top + h - v/axisTop*h }
		fmt.Fprintf(&b, `<text x="%d" y="%s" font-size="12" font-weight="bold">%s</text>`+"\n", chartLeft, svgNum(top-10), html.EscapeString(name))
		for v := 0.0; v <= axisTop+step/2; v += step {
			fmt.Fprintf(&b, `<line x1="%d" x2="%s" y1="%s" y2="%s" stroke="#ddd"/>`+"\n", chartLeft, svgNum(width-chartRight), svgNum(y(v)), svgNum(y(v)))
			fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%s</text>`+"\n", chartLeft-6, svgNum(y(v)+4), formatShort(v)+unit)
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%s" y2="%s" stroke="#333"/>`+"\n", chartLeft, chartLeft, svgNum(top), svgNum(top+h))
		gx := float64(chartLeft) + chartGroupGap/2
		for _, g := range groups {
			x0 := gx + (groupWidth(g)-barsWidth(g))/2
			for i, r := range g.rows {
				bx := x0 + float64(i)*(chartBarWidth+chartBarGap)
				mid := bx + chartBarWidth/2
				if r.Runs == 0 {
					fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="%s"><title>%s: no successful run</title>×</text>`+"\n",
						svgNum(mid), svgNum(top+h-3), colour(r.Server), html.EscapeString(r.Server))
					continue
				}
				s := get(r)
				tip := fmt.Sprintf("%s %s: median %s%s, min %s, max %s, %d run(s)", r.Server, g.label,
					formatShort(s.Median), unit, formatShort(s.Min), formatShort(s.Max), r.Runs)
				fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%d" height="%s" fill="%s"><title>%s</title></rect>`+"\n",
					svgNum(bx), svgNum(y(s.Median)), chartBarWidth, svgNum(top+h-y(s.Median)), colour(r.Server), html.EscapeString(tip))
				fmt.Fprintf(&b, `<path d="M%s %sV%sM%s %sH%sM%s %sH%s" stroke="#222" fill="none"/>`+"\n",
					svgNum(mid), svgNum(y(s.Min)), svgNum(y(s.Max)),
					svgNum(mid-4), svgNum(y(s.Min)), svgNum(mid+4),
					svgNum(mid-4), svgNum(y(s.Max)), svgNum(mid+4))
				ty := y(s.Max) - 4
				fmt.Fprintf(&b, `<text transform="translate(%s %s) rotate(-90)" font-size="9">%s</text>`+"\n",
					svgNum(mid+3), svgNum(ty), formatShort(s.Median))
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n",
				svgNum(gx+groupWidth(g)/2), svgNum(top+h+16), html.EscapeString(g.label))
			gx += groupWidth(g) + chartGroupGap
		}
	}
	panel(chartTop+16, chartOpsHeight-16, "ops/s (higher is better)", "",
		func(r Row) Spread { return r.RPS })
	panel(chartTop+chartOpsHeight+chartPanelGap, chartP99Height, "p99 latency, ms (lower is better)", "",
		func(r Row) Spread { return r.P99Ms })
	note := "client: " + strings.Join(res.Meta.Clients, ", ")
	if len(res.Meta.Clients) == 0 {
		note = "client: redis-benchmark"
	}
	if res.Meta.ServerCPUs != "" {
		note += fmt.Sprintf("; server on CPU %s, client on CPU %s", res.Meta.ServerCPUs, res.Meta.ClientCPUs)
	}
	if res.Meta.Shards > 0 {
		note += fmt.Sprintf("; clusters: %d shards, client shares their CPUs", res.Meta.Shards)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%s" fill="#555">%s</text>`+"\n", chartLeft, svgNum(height-10), html.EscapeString(note))
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// writeChartFile writes the chart of res to dir/chart.svg and returns its
// path.
func writeChartFile(dir string, res *Results) (string, error) {
	path := filepath.Join(dir, "chart.svg")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	if err := writeChart(f, res); err != nil {
		f.Close()
		return "", fmt.Errorf("bench: writing chart: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	return path, nil
}
