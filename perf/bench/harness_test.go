package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func readResults(t *testing.T, dir string) Results {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results.json does not parse: %v", err)
	}
	return res
}

func runHarness(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err = run(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}

// TestQuickRedis runs the whole harness in --quick mode against redis-server.
func TestQuickRedis(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	stdout, stderr, err := runHarness(t, "--quick", "--servers", "redis", "--memtier-bin", "none", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	rows, err := parseTable(stdout)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	wantRows := [][2]string{{"p1", "SET"}, {"p1", "GET"}, {"p30", "SET"}, {"p30", "GET"}}
	if len(rows) != len(wantRows) {
		t.Fatalf("table has %d rows, want %d:\n%s", len(rows), len(wantRows), stdout)
	}
	for i, w := range wantRows {
		r := rows[i]
		if r["workload"] != w[0] || r["test"] != w[1] || r["server"] != "redis" || r["runs"] != "1/1" {
			t.Errorf("row %d = %v, want %v on redis, 1/1 runs", i, r, w)
		}
		ops, err := strconv.ParseFloat(strings.ReplaceAll(r["ops/s"], ",", ""), 64)
		if err != nil || ops <= 0 {
			t.Errorf("row %d ops/s %q", i, r["ops/s"])
		}
		if p99, err := strconv.ParseFloat(r["p99 ms"], 64); err != nil || p99 <= 0 {
			t.Errorf("row %d p99 %q", i, r["p99 ms"])
		}
		if r["ops/s vs base"] != "1.00x" || r["p99 vs base"] != "1.00x" || r["of ceiling"] != "-" {
			t.Errorf("row %d ratios to itself: %q %q, of ceiling %q", i, r["ops/s vs base"], r["p99 vs base"], r["of ceiling"])
		}
	}
	if !strings.Contains(stdout, "100000 keys preloaded") {
		t.Errorf("header does not state the preload:\n%s", stdout)
	}

	res := readResults(t, dir)
	if res.Schema != schemaVersion || res.Mode != "bench" || !res.Meta.Quick || res.Meta.Repeats != 1 {
		t.Errorf("meta: %+v", res.Meta)
	}
	if len(res.Runs) != 2 || len(res.Rows) != 4 {
		t.Fatalf("%d runs and %d rows, want 2 and 4", len(res.Runs), len(res.Rows))
	}
	for _, r := range res.Runs {
		if r.Error != "" || len(r.Samples) != 2 || r.Server != "redis" || r.Argv[0] == "" {
			t.Errorf("run %+v", r)
		}
	}
	for _, r := range res.Rows {
		if r.Runs != 1 || r.RPS.Median <= 0 || r.RPS.Min != r.RPS.Max || r.P50Ms.Median <= 0 || r.P99Ms.Median < r.P50Ms.Median ||
			r.RPSRatio == nil || *r.RPSRatio != 1 {
			t.Errorf("row %+v", r)
		}
	}
	if len(res.Servers) != 1 || res.Servers[0].Version == "" {
		t.Errorf("servers: %+v", res.Servers)
	}
	if res.Meta.ServerCPUs != "" && res.Servers[0].CPUsAllowed != res.Meta.ServerCPUs {
		t.Errorf("server ran on %q, want %q", res.Servers[0].CPUsAllowed, res.Meta.ServerCPUs)
	}
}

// TestQuickMemRedis runs --mem against redis-server with few keys.
func TestQuickMemRedis(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	const keys = 50_000
	stdout, stderr, err := runHarness(t, "--mem", "--quick", "--servers", "redis", "--keys", strconv.Itoa(keys), "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "rss/key") || !strings.Contains(stdout, "50,000") {
		t.Errorf("memory table missing:\n%s", stdout)
	}
	res := readResults(t, dir)
	if res.Mode != "mem" || len(res.Memory) != 1 {
		t.Fatalf("results: %+v", res)
	}
	m := res.Memory[0]
	if m.Error != "" || m.DBSize != keys || m.Load.Keys != keys {
		t.Fatalf("memory result %+v", m)
	}
	// 256-byte values: Redis needs more than the value and far less than 4 KiB.
	if m.BytesPerKey < 256 || m.BytesPerKey > 4096 || m.UsedMemory < keys*256 {
		t.Errorf("implausible memory per key: %+v", m)
	}
}

// TestServerFailureIsReported checks that a server that cannot start makes
// the run fail, shows its output, and still yields a table and JSON.
func TestServerFailureIsReported(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	bin := writeScript(t, t.TempDir(), "redis-server", "echo 'fatal: cannot allocate' >&2\nexit 1")
	stdout, stderr, err := runHarness(t, "--quick", "--servers", "redis", "--redis-bin", bin, "--out", dir)
	if err == nil || !strings.Contains(err.Error(), "2 of 2 runs failed") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(stderr, "fatal: cannot allocate") {
		t.Errorf("server output not shown:\n%s", stderr)
	}
	rows, perr := parseTable(stdout)
	if perr != nil || len(rows) != 4 {
		t.Fatalf("table: %v\n%s", perr, stdout)
	}
	for _, r := range rows {
		if r["runs"] != "0/1" || r["ops/s"] != "-" {
			t.Errorf("failed row shown as %v", r)
		}
	}
	res := readResults(t, dir)
	if len(res.Runs) != 2 || res.Runs[0].Error == "" {
		t.Errorf("runs: %+v", res.Runs)
	}
}

func TestList(t *testing.T) {
	stdout, _, err := runHarness(t, "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"redis", "shoal-uring", "shoal-epoll", "p1", "p30", "-P 30"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--list lacks %q:\n%s", want, stdout)
		}
	}
}

// TestInterrupt cancels a long run: it must stop promptly, say so, and
// leave no server behind.
func TestInterrupt(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out, errb bytes.Buffer
	start := time.Now()
	err := run(ctx, []string{"--quick", "--servers", "redis", "--workloads", "p1", "--requests", "5000000", "--out", dir}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v\nstderr:\n%s", err, errb.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupt took %v", d)
	}
	res := readResults(t, dir)
	if len(res.Runs) != 0 {
		t.Errorf("an interrupted run was recorded: %+v", res.Runs)
	}
	// The server's argv names its port: nothing may listen there any more.
	if len(res.Servers) != 1 {
		t.Fatalf("servers: %+v", res.Servers)
	}
	argv := res.Servers[0].Argv
	port := ""
	for i := range argv[:len(argv)-1] {
		if argv[i] == "--port" {
			port = argv[i+1]
		}
	}
	if port == "" {
		t.Fatalf("no --port in %q", argv)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), time.Second); err == nil {
		c.Close()
		t.Errorf("something still listens on port %s after the interrupt", port)
	}
}

// TestQuickCeiling runs the harness against redis-server and the ceiling
// server: the ceiling's rows are 100% of themselves, redis's rows are a
// fraction of them, and chart.svg is written next to results.json.
func TestQuickCeiling(t *testing.T) {
	needRedis(t)
	bin, err := buildCeiling(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stdout, stderr, err := runHarness(t, "--quick", "--servers", "redis,ceiling", "--workloads", "p30",
		"--requests", "20000", "--ceiling-bin", bin, "--memtier-bin", "none", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	rows, err := parseTable(stdout)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	if len(rows) != 4 {
		t.Fatalf("table has %d rows, want 4:\n%s", len(rows), stdout)
	}
	for _, r := range rows {
		switch r["server"] {
		case "ceiling":
			if r["of ceiling"] != "100%" {
				t.Errorf("ceiling row %v", r)
			}
		case "redis":
			if !strings.HasSuffix(r["of ceiling"], "%") {
				t.Errorf("redis row %v", r)
			}
		default:
			t.Errorf("row of %q", r["server"])
		}
	}
	res := readResults(t, dir)
	if len(res.Servers) != 2 || res.Servers[1].Name != "ceiling" || res.Servers[1].CPUsAllowed == "" {
		t.Errorf("servers %+v", res.Servers)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "chart.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg ")) || !bytes.Contains(svg, []byte(">p30 GET<")) {
		t.Errorf("chart.svg: %v\n%.300s", err, svg)
	}
}

// TestQuickFakeMemtier runs the memtier client path against redis-server
// with a stand-in memtier_benchmark that checks its arguments and writes
// a recorded JSON report: memtier rows get their own client column, and
// memtier's keys are preloaded before its GETs.
func TestQuickFakeMemtier(t *testing.T) {
	needRedis(t)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed")
	}
	dir := t.TempDir()
	fixtures, err := filepath.Abs(filepath.Join("testdata", "memtier"))
	if err != nil {
		t.Fatal(err)
	}
	fake := writeScript(t, dir, "memtier_benchmark", `
case "$*" in --version) echo "memtier_benchmark 0.0.0-fake"; exit 0;; esac
out= ratio= prev= port=
for a in "$@"; do
	case "$prev" in --json-out-file) out=$a;; --ratio) ratio=$a;; -p) port=$a;; esac
	prev=$a
done
if [ "$ratio" = 0:1 ] && [ "$(redis-cli -p "$port" STRLEN memtier-100000)" != 256 ]; then
	echo "memtier keys not preloaded" >&2; exit 4
fi
case "$*" in *"--key-prefix memtier- "*"--key-maximum 100000 "*"--hide-histogram"*) ;; *) echo "bad args: $*" >&2; exit 2;; esac
case "$ratio" in 1:0) cp `+fixtures+`/set.json "$out";; 0:1) cp `+fixtures+`/get.json "$out";; *) exit 3;; esac`)
	stdout, stderr, err := runHarness(t, "--quick", "--servers", "redis", "--workloads", "p1", "--memtier-bin", fake, "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	rows, err := parseTable(stdout)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	var memtier []string
	for _, r := range rows {
		if r["client"] == clientMemtier {
			memtier = append(memtier, r["test"]+" "+r["ops/s"])
		}
	}
	if strings.Join(memtier, ",") != "SET 80,123,GET 95,000" || len(rows) != 4 {
		t.Errorf("memtier rows %q in:\n%s", memtier, stdout)
	}
	res := readResults(t, dir)
	if res.Meta.Memtier != "memtier_benchmark 0.0.0-fake" || !slices.Equal(res.Meta.Clients, []string{clientRedisBenchmark, clientMemtier}) {
		t.Errorf("meta %+v", res.Meta)
	}
	// The GET fixture reports 1% misses: within what the harness accepts.
	if strings.Contains(stderr, "GETs missed") {
		t.Errorf("miss warning:\n%s", stderr)
	}
}
