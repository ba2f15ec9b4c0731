package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"5000000", 5_000_000, false},
		{"1gb", 1 << 30, false},
		{"1GB", 1 << 30, false},
		{" 100mb ", 100 << 20, false},
		{"100m", 100_000_000, false},
		{"2k", 2000, false},
		{"2kb", 2048, false},
		{"3g", 3_000_000_000, false},
		{"17b", 17, false},
		{"", 0, true},
		{"gb", 0, true},
		{"-1", 0, true},
		{"+1", 0, true},
		{"1.5gb", 0, true},
		{"1tb", 0, true},
		{"99999999999gb", 0, true},
		{"1 gb", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseFsyncs(t *testing.T) {
	got, err := parseFsyncs(" Off,everysec,always,everysec,")
	if err != nil || !slices.Equal(got, []string{"off", "everysec", "always"}) {
		t.Errorf("parseFsyncs = %v, %v", got, err)
	}
	for _, bad := range []string{"", ",", "sometimes", "everysec,yes"} {
		if _, err := parseFsyncs(bad); err == nil {
			t.Errorf("parseFsyncs(%q) accepted", bad)
		}
	}
}

func TestAOFTargets(t *testing.T) {
	var servers []Target
	for _, name := range []string{"redis", "shoal-uring"} {
		tg, _ := findTarget(name)
		servers = append(servers, tg)
	}
	ts := aofTargets(servers, []string{"off", "everysec", "always"}, true)
	type want struct{ name, aof, baseline, noAOF string }
	wants := []want{
		{"redis", "", "redis", ""},
		{"shoal-uring", "", "redis", ""},
		{"redis/aof-everysec", "everysec", "redis/aof-everysec", "redis"},
		{"shoal-uring/aof-everysec", "everysec", "redis/aof-everysec", "shoal-uring"},
		{"redis/aof-always", "always", "redis/aof-always", "redis"},
		{"shoal-uring/aof-always", "always", "redis/aof-always", "shoal-uring"},
	}
	if len(ts) != len(wants) {
		t.Fatalf("%d targets, want %d", len(ts), len(wants))
	}
	for i, w := range wants {
		got := want{ts[i].Name, ts[i].AOF, ts[i].Baseline, ts[i].NoAOF}
		if got != w || ts[i].Ceiling != "" {
			t.Errorf("target %d = %+v (ceiling %q), want %+v", i, got, ts[i].Ceiling, w)
		}
	}
	if servers[1].AOF != "" || servers[1].Ceiling != ceilingName {
		t.Errorf("aofTargets changed its input: %+v", servers[1])
	}

	b := binaries{redis: "/r/redis-server", shoal: "/s/shoal"}
	argv := func(tg Target) string { return strings.Join(tg.argv(b, host, 7, "/d", 0), " ") }
	if got, want := argv(ts[2]), "/r/redis-server --port 7 --bind 127.0.0.1 --save  --appendonly yes --appendfsync everysec --dir /d --daemonize no --logfile "; got != want {
		t.Errorf("redis argv = %q, want %q", got, want)
	}
	if got, want := argv(ts[5]), "/s/shoal shard --port 7 --bind 127.0.0.1 --io uring --dir /d --appendonly yes --appendfsync always"; got != want {
		t.Errorf("shoal argv = %q, want %q", got, want)
	}
	if p := dirPrefix(ts[3].Name); strings.Contains(p, "/") {
		t.Errorf("dirPrefix(%q) = %q", ts[3].Name, p)
	}
	for _, tg := range aofTargets(servers, []string{"off", "always"}, false) {
		if got := argv(tg); !strings.Contains(got, " --auto-aof-rewrite-percentage 0") {
			t.Errorf("%s argv without rewrites = %q", tg.Name, got)
		}
	}
	if len(servers[0].Extra) != 0 {
		t.Errorf("aofTargets changed its input: %+v", servers[0])
	}
}

// aofTestRows aggregates runs of redis and shoal-uring without the AOF
// and with everysec and always, on p1 and p30.
func aofTestRows(t *testing.T) ([]Row, []Target) {
	t.Helper()
	var servers []Target
	for _, name := range []string{"redis", "shoal-uring"} {
		tg, _ := findTarget(name)
		servers = append(servers, tg)
	}
	ts := aofTargets(servers, []string{"off", "everysec", "always"}, true)
	ws, err := selectWorkloads("p1,p30")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		ws[i].Tests = []string{"set"}
	}
	s := func(rps, p99 float64) []Sample {
		return []Sample{{Test: "SET", RPS: rps, AvgMs: p99 / 3, P50Ms: p99 / 2, P99Ms: p99, MaxMs: p99 * 2}}
	}
	// cpu is s with the server's CPU time per request measured.
	cpu := func(rps, p99, us float64) []Sample {
		ss := s(rps, p99)
		ss[0].CPUUsPerOp = us
		return ss
	}
	runs := []Run{
		{Repeat: 1, Server: "redis", Workload: "p1", Samples: s(100, 1)},
		{Repeat: 1, Server: "shoal-uring", Workload: "p1", Samples: s(120, 0.5)},
		{Repeat: 1, Server: "redis/aof-everysec", Workload: "p1", Samples: s(90, 1.2)},
		{Repeat: 1, Server: "shoal-uring/aof-everysec", Workload: "p1", Samples: s(114, 0.6)},
		{Repeat: 1, Server: "redis/aof-always", Workload: "p1", Samples: s(40, 3)},
		{Repeat: 1, Server: "shoal-uring/aof-always", Workload: "p1", Samples: s(36, 4)},
		{Repeat: 1, Server: "redis", Workload: "p30", Samples: s(1000, 2)},
		{Repeat: 1, Server: "shoal-uring", Workload: "p30", Samples: cpu(1500, 2, 1.0)},
		{Repeat: 1, Server: "redis/aof-everysec", Workload: "p30", Samples: s(800, 3)},
		{Repeat: 1, Server: "shoal-uring/aof-everysec", Workload: "p30", Samples: cpu(1200, 3, 1.15)},
		{Repeat: 1, Server: "redis/aof-always", Workload: "p30", Samples: s(500, 5)},
		{Repeat: 1, Server: "shoal-uring/aof-always", Workload: "p30", Error: "bench: shoal-uring/aof-always exited"},
	}
	return aggregate(runs, specFor([]string{clientRedisBenchmark}, ws, ts)), ts
}

func TestAggregateAOF(t *testing.T) {
	rows, _ := aofTestRows(t)
	type ratios struct {
		server        string
		vsBase, noAOF any
	}
	want := []ratios{
		{"redis", 1.0, nil}, {"shoal-uring", 1.2, nil},
		{"redis/aof-everysec", 1.0, 0.9}, {"shoal-uring/aof-everysec", 114.0 / 90, 0.95},
		{"redis/aof-always", 1.0, 0.4}, {"shoal-uring/aof-always", 0.9, 0.3},
		{"redis", 1.0, nil}, {"shoal-uring", 1.5, nil},
		{"redis/aof-everysec", 1.0, 0.8}, {"shoal-uring/aof-everysec", 1.5, 0.8},
		{"redis/aof-always", 1.0, 0.5}, {"shoal-uring/aof-always", nil, nil},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		r := rows[i]
		got := ratios{r.Server, deref(r.RPSRatio), deref(r.NoAOFRatio)}
		if !closeRatios(got.vsBase, w.vsBase) || !closeRatios(got.noAOF, w.noAOF) || got.server != w.server {
			t.Errorf("row %d (%s %s) = %+v, want %+v", i, r.Workload, r.Server, got, w)
		}
	}
	if last := rows[len(rows)-1]; last.Runs != 0 || last.Failed != 1 {
		t.Errorf("failed row: %+v", last)
	}
	for _, r := range rows {
		cpu := deref(r.NoAOFCPURatio)
		if r.Workload == "p30" && r.Server == "shoal-uring/aof-everysec" {
			if !closeRatios(cpu, 1.15) || r.CPUUsPerOp.Median != 1.15 {
				t.Errorf("%s %s: CPU %v us/op, %v of no AOF's; want 1.15, 1.15", r.Workload, r.Server, r.CPUUsPerOp.Median, cpu)
			}
		} else if cpu != nil {
			t.Errorf("%s %s: CPU ratio %v without a measurement", r.Workload, r.Server, cpu)
		}
	}
}

func closeRatios(a, b any) bool {
	af, aok := a.(float64)
	bf, bok := b.(float64)
	if aok != bok {
		return false
	}
	return !aok || abs(af-bf) < 1e-9
}

func TestWriteAOFTable(t *testing.T) {
	rows, _ := aofTestRows(t)
	var buf bytes.Buffer
	if err := writeAOFTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "aof.golden", buf.Bytes())
	got, err := parseTable(buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) || got[3]["ops/s vs no AOF"] != "0.95x" || got[3]["ops/s vs base"] != "1.27x" {
		t.Errorf("parsed back: %v", got)
	}
	if _, ok := got[0]["of ceiling"]; ok {
		t.Errorf("the --aof table has a ceiling column: %v", got[0])
	}
}

func TestAggregateLoads(t *testing.T) {
	file := AOFFile{Bytes: 100 << 20, Keys: 1000}
	runs := []AOFLoadRun{
		{Repeat: 1, Server: "redis", Seconds: 2, DBSize: 1000},
		{Repeat: 1, Server: "shoal-uring", Seconds: 1, DBSize: 1000},
		{Repeat: 1, Server: "shoal-epoll", Error: "bench: shoal-epoll holds 3 keys"},
		{Repeat: 2, Server: "redis", Seconds: 2.5, DBSize: 1000},
		{Repeat: 2, Server: "shoal-uring", Seconds: 1.5, DBSize: 1000},
		{Repeat: 2, Server: "shoal-epoll", Error: "bench: shoal-epoll did not start"},
		{Repeat: 3, Server: "redis", Seconds: 3, DBSize: 1000},
		{Repeat: 3, Server: "shoal-uring", Seconds: 0.5, DBSize: 1000},
	}
	rows := aggregateLoads(runs, []string{"redis", "shoal-uring", "shoal-epoll", "ceiling"}, file)
	if len(rows) != 3 {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	r, s, e := rows[0], rows[1], rows[2]
	if r.Runs != 3 || r.Seconds != (Spread{2.5, 2, 3}) || r.MBPerSec != 40 || deref(r.TimeRatio) != 1.0 {
		t.Errorf("redis row %+v", r)
	}
	if s.Runs != 3 || s.Seconds.Median != 1 || deref(s.TimeRatio) != 0.4 || s.DBSize != 1000 {
		t.Errorf("shoal-uring row %+v", s)
	}
	if e.Runs != 0 || e.Failed != 2 || e.TimeRatio != nil || e.DBSize != -1 {
		t.Errorf("shoal-epoll row %+v", e)
	}
	var buf bytes.Buffer
	if err := writeAOFLoadTable(&buf, rows); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "aofload.golden", buf.Bytes())

	// Without a redis row there is nothing to take ratios against.
	if rows := aggregateLoads(runs, []string{"shoal-uring"}, file); len(rows) != 1 || rows[0].TimeRatio != nil {
		t.Errorf("rows without redis: %+v", rows)
	}
}

func TestAOFChecks(t *testing.T) {
	rows, ts := aofTestRows(t)
	load := &AOFLoadReport{Rows: []AOFLoadRow{
		{Server: "redis", Runs: 1, TimeRatio: ptr(1)},
		{Server: "shoal-uring", Runs: 1, TimeRatio: ptr(1.25)},
	}}
	tg, _ := findTarget("shoal-uring")
	ts = append(ts, tg)
	var got []string
	for _, c := range aofChecks(rows, load, ts) {
		got = append(got, c.String())
	}
	want := []string{
		"p1 SET shoal-uring/aof-everysec: 1.267x redis/aof-everysec's ops/s (goal >= 1.00x): met",
		"p1 SET shoal-uring/aof-everysec: 0.950x shoal-uring's ops/s (without the AOF) (goal > 0.90x): met",
		"p1 SET shoal-uring/aof-always: 0.900x redis/aof-always's ops/s (goal >= 1.00x): NOT met",
		"p30 SET shoal-uring/aof-everysec: 1.500x redis/aof-everysec's ops/s (goal >= 1.00x): met",
		"p30 SET shoal-uring/aof-everysec: 0.800x shoal-uring's ops/s (without the AOF) (goal > 0.90x): NOT met",
		"AOF load shoal-uring: 1.250x redis's time (goal <= 1.00x): NOT met",
	}
	if !slices.Equal(got, want) {
		t.Errorf("checks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// readAOFCommands reads the SETs of an AOF file back with the harness's
// own RESP reader.
func readAOFCommands(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	var out [][]string
	for {
		r, err := readReply(rd)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("command %d: %v", len(out), err)
		}
		if r.Kind != '*' {
			t.Fatalf("command %d is %s, not an array", len(out), r)
		}
		var args []string
		for _, e := range r.Elems {
			if e.Kind != '$' {
				t.Fatalf("command %d has argument %s", len(out), e)
			}
			args = append(args, e.Str)
		}
		out = append(out, args)
	}
}

func TestWriteAOF(t *testing.T) {
	tests := []aofLoadSpec{
		{size: 10_000, keys: 7, valueSize: 20},
		{size: 10_000, keys: 1000, valueSize: 256}, // fewer SETs than keys
		{size: 1, keys: 3, valueSize: 5},           // one SET; the stamp cut to 5 digits
	}
	for _, spec := range tests {
		dir := t.TempDir()
		file, err := writeAOF(dir, spec)
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := os.ReadFile(filepath.Join(dir, aofDirName, aofManifestName))
		if err != nil || string(manifest) != "file appendonly.aof.1.base.aof seq 1 type b\n" || file.Manifest != string(manifest) {
			t.Errorf("manifest %q, %v", manifest, err)
		}
		base := filepath.Join(dir, aofDirName, aofBaseName)
		st, err := os.Stat(base)
		if err != nil || st.Size() != file.Bytes {
			t.Fatalf("base file: %v, size %d, reported %d", err, st.Size(), file.Bytes)
		}
		cmds := readAOFCommands(t, base)
		cmdLen := file.Bytes / int64(len(cmds))
		if int64(len(cmds)) != file.Commands || file.Bytes < spec.size || file.Bytes >= spec.size+cmdLen {
			t.Errorf("%+v: %d bytes in %d commands (reported %d), want just over %d", spec, file.Bytes, len(cmds), file.Commands, spec.size)
		}
		// Replay: the last SET of each key is the one lastCommand names,
		// and its value is the one value computes.
		last := map[string]string{}
		for c, args := range cmds {
			key := string(appendKey(nil, spec.commandKey(int64(c))))
			if len(args) != 3 || args[0] != "SET" || args[1] != key || args[2] != string(spec.value(nil, int64(c))) {
				t.Fatalf("command %d = %q", c, args)
			}
			last[args[1]] = args[2]
		}
		if len(last) != file.Keys || file.Keys != min(spec.keys, len(cmds)) {
			t.Errorf("%d distinct keys, reported %d", len(last), file.Keys)
		}
		for k := range file.Keys {
			c := spec.lastCommand(file.Commands, k)
			if got := last[string(appendKey(nil, k))]; got != string(spec.value(nil, c)) || spec.commandKey(c) != k || c+int64(spec.keys) < file.Commands {
				t.Errorf("key %d: lastCommand %d does not hold its last value", k, c)
			}
		}
	}
	if _, err := writeAOF(t.TempDir(), aofLoadSpec{size: 0, keys: 1, valueSize: 1}); err == nil {
		t.Error("an empty AOF was written")
	}
}

func TestCopyTree(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{"a/m": "manifest", "a/b.aof": strings.Repeat("x", 100_000), "top": ""}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		b, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(b) != body {
			t.Errorf("%s: %v, %d bytes, want %d", name, err, len(b), len(body))
		}
	}
	if err := os.Symlink("top", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := copyTree(src, filepath.Join(t.TempDir(), "copy2")); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("copying a symlink: %v", err)
	}
}

// TestQuickAOFRedis runs --aof mode against redis-server with tiny sizes:
// the SET rows with and without the AOF, then the load rows.
func TestQuickAOFRedis(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	stdout, stderr, err := runHarness(t, "--aof", "--quick", "--servers", "redis", "--workloads", "p1", "--requests", "2000",
		"--keyspace", "1000", "--aof-fsync", "off,everysec,always", "--aof-size", "1mb", "--aof-dir", t.TempDir(),
		"--memtier-bin", "none", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	setRows, _, ok := strings.Cut(stdout, "# AOF load")
	if !ok {
		t.Fatalf("no load rows:\n%s", stdout)
	}
	rows, err := parseTable(setRows)
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s", err, stdout)
	}
	wantServers := []string{"redis", "redis/aof-everysec", "redis/aof-always"}
	if len(rows) != len(wantServers) {
		t.Fatalf("table has %d rows:\n%s", len(rows), stdout)
	}
	for i, srv := range wantServers {
		r := rows[i]
		noAOF := r["ops/s vs no AOF"]
		if r["server"] != srv || r["test"] != "SET" || r["runs"] != "1/1" || r["ops/s vs base"] != "1.00x" ||
			(i == 0) != (noAOF == "-") || (i > 0 && !strings.HasSuffix(noAOF, "x")) {
			t.Errorf("row %d = %v, want %s", i, r, srv)
		}
	}
	for _, want := range []string{"# data: every server in a fresh directory under ", "appendfsync always",
		"# AOF load: 1.0 MiB", "over 1,000 keys", "redis   1/1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}

	res := readResults(t, dir)
	if res.Mode != "aof" || res.Meta.DataFS == "" || res.Meta.DataDir == "" || len(res.Checks) != 0 {
		t.Errorf("results: mode %q, data %q on %q, checks %v", res.Mode, res.Meta.DataDir, res.Meta.DataFS, res.Checks)
	}
	if _, err := os.Stat(res.Meta.DataDir); !os.IsNotExist(err) {
		t.Errorf("data directory %s left behind: %v", res.Meta.DataDir, err)
	}
	for _, r := range res.Runs {
		size := infoValue(r.Persistence, "aof_current_size")
		if r.Error != "" || (r.Server == "redis") != (size == "") {
			t.Errorf("run %s: error %q, aof_current_size %q", r.Server, r.Error, size)
		}
	}
	l := res.AOFLoad
	if l == nil || l.File.Bytes < 1<<20 || l.File.Keys != 1000 || l.File.Commands < 1<<20/300 ||
		len(l.Runs) != 1 || len(l.Rows) != 1 {
		t.Fatalf("aof_load: %+v", l)
	}
	run := l.Runs[0]
	if run.Error != "" || run.DBSize != int64(l.File.Keys) || run.Seconds <= 0 || !slices.Contains(run.Argv, "--appendonly") {
		t.Errorf("load run %+v", run)
	}
	if row := l.Rows[0]; row.Runs != 1 || deref(row.TimeRatio) != 1.0 || row.Seconds.Median != run.Seconds {
		t.Errorf("load row %+v", row)
	}
}

// TestAOFFailsWithoutAOF runs --aof mode against a redis-server that
// always turns the AOF off: every run with an AOF and every load must fail.
func TestAOFFailsWithoutAOF(t *testing.T) {
	needRedis(t)
	redis, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip(err)
	}
	bin := writeScript(t, t.TempDir(), "redis-server", `exec `+strconv.Quote(redis)+` "$@" --appendonly no`)
	dir := t.TempDir()
	_, stderr, err := runHarness(t, "--aof", "--quick", "--servers", "redis", "--workloads", "p1", "--requests", "1000",
		"--aof-fsync", "everysec", "--aof-size", "100kb", "--redis-bin", bin, "--memtier-bin", "none", "--out", dir)
	if err == nil || !strings.Contains(err.Error(), "1 of 1 runs failed") || !strings.Contains(err.Error(), "1 of 1 AOF loads failed") {
		t.Fatalf("err = %v\nstderr:\n%s", err, stderr)
	}
	res := readResults(t, dir)
	if len(res.Runs) != 1 || !strings.Contains(res.Runs[0].Error, "aof_enabled") {
		t.Errorf("runs: %+v", res.Runs)
	}
	if res.AOFLoad == nil || len(res.AOFLoad.Runs) != 1 || !strings.Contains(res.AOFLoad.Runs[0].Error, "aof_enabled:0") {
		t.Errorf("load runs: %+v", res.AOFLoad)
	}
}
