package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// harness runs one invocation. It is used by one goroutine.
type harness struct {
	cfg    *config
	bins   binaries
	stdout io.Writer // the report
	stderr io.Writer // progress and warnings
	tmp    string    // removed at the end
	res    *Results
}

// run is the whole program: parse args, run the selected mode, print the
// report to stdout and write results.json.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.list {
		listTargetsAndWorkloads(stdout)
		return nil
	}
	started := time.Now()
	tmp, err := os.MkdirTemp("", "shoal-bench-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(tmp)

	h := &harness{cfg: cfg, stdout: stdout, stderr: stderr, tmp: tmp}
	if err := h.resolveBinaries(ctx); err != nil {
		return err
	}
	if cfg.outDir == "" {
		cfg.outDir = defaultOutDir(started)
	}
	h.res = &Results{Schema: schemaVersion, Mode: "bench", Meta: h.meta(ctx, started)}
	if cfg.mem {
		h.res.Mode = "mem"
		err = h.memory(ctx)
	} else {
		err = h.bench(ctx)
	}
	h.res.Meta.Seconds = time.Since(started).Seconds()
	path, werr := writeResults(cfg.outDir, h.res)
	if werr == nil {
		fmt.Fprintf(stderr, "results: %s\n", path)
	}
	return errors.Join(err, werr)
}

func defaultOutDir(t time.Time) string {
	rel := filepath.Join("perf", "results", t.Format("20060102-150405"))
	if root, err := moduleRoot(); err == nil {
		return filepath.Join(root, rel)
	}
	return rel
}

// resolveBinaries finds or builds every program the selected mode needs.
func (h *harness) resolveBinaries(ctx context.Context) error {
	var err error
	look := func(name string) string {
		if err != nil {
			return ""
		}
		var p string
		if p, err = exec.LookPath(name); err != nil {
			err = fmt.Errorf("bench: %w", err)
		}
		return p
	}
	if h.cfg.usesRedis() {
		h.bins.redis = look(h.cfg.redisBin)
	}
	if !h.cfg.mem {
		h.bins.benchmark = look(h.cfg.benchBin)
	}
	if h.cfg.serverCPUs != nil {
		h.bins.taskset = look("taskset")
		if err != nil {
			return fmt.Errorf("%w (or pass --no-pin)", err)
		}
	}
	if h.cfg.usesShoal() {
		if h.cfg.shoalBin != "" {
			h.bins.shoal = look(h.cfg.shoalBin)
		} else if err == nil {
			fmt.Fprintln(h.stderr, "building shoal ...")
			h.bins.shoal, err = buildShoal(ctx, h.tmp)
		}
	}
	return err
}

func (h *harness) meta(ctx context.Context, started time.Time) Meta {
	m := Meta{
		Started:   started,
		GoVersion: runtime.Version(),
		Repeats:   h.cfg.runs,
		Quick:     h.cfg.quick,
		Preload:   h.cfg.preload,
		Args:      h.cfg.args,
	}
	m.Host, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if cpus, err := allowedCPUs(); err == nil {
		m.CPUs = cpus.String()
	}
	if h.cfg.serverCPUs != nil {
		m.ServerCPUs = h.cfg.serverCPUs.String()
		m.ClientCPUs = h.cfg.clientCPUs.String()
	}
	if !h.cfg.mem {
		for _, w := range h.cfg.workloads {
			m.Workloads = append(m.Workloads, w.Name+": "+w.describe())
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(cctx, h.bins.benchmark, "--version").Output(); err == nil {
			m.Benchmark = strings.TrimSpace(string(out))
		}
	}
	return m
}

// start starts target t in a fresh data directory and, the first time,
// records what it is and where it runs.
func (h *harness) start(ctx context.Context, t Target) (*server, error) {
	dir, err := os.MkdirTemp(h.tmp, t.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	port, err := freePort(host)
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, serverSpec{
		name: t.Name, argv: t.argv(h.bins, host, port, dir), cpus: h.cfg.serverCPUs,
		taskset: h.bins.taskset, host: host, port: port, dir: dir, startTimeout: h.cfg.startTimeout,
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if !slices.ContainsFunc(h.res.Servers, func(s ServerInfo) bool { return s.Name == t.Name }) {
		h.res.Servers = append(h.res.Servers, h.describeServer(ctx, srv))
	}
	return srv, nil
}

func (h *harness) describeServer(ctx context.Context, srv *server) ServerInfo {
	info := ServerInfo{Name: srv.name, Argv: srv.argv}
	if st, err := readProcStatus(srv.pid); err == nil {
		info.CPUsAllowed = st.CPUsAllowed
		if h.cfg.serverCPUs != nil {
			if got, err := ParseCPUList(st.CPUsAllowed); err != nil || !slices.Equal(got, h.cfg.serverCPUs) {
				h.warnf("%s runs on CPUs %s, not %s", srv.name, st.CPUsAllowed, h.cfg.serverCPUs)
			}
		}
	}
	if fields, err := h.info(ctx, srv, "server"); err == nil {
		info.Version = infoValue(fields, "redis_version")
		if p := infoValue(fields, "process_id"); p != "" && p != strconv.Itoa(srv.pid) {
			h.warnf("%s reports process_id %s but was started as pid %d", srv.name, p, srv.pid)
		}
	}
	return info
}

// stop stops srv and removes its data directory.
func (h *harness) stop(srv *server) {
	if err := srv.stop(); err != nil {
		h.warnf("%v", err)
	}
	os.RemoveAll(srv.dir)
}

func (h *harness) warnf(format string, args ...any) {
	fmt.Fprintf(h.stderr, "warning: "+format+"\n", args...)
}

// info runs INFO section on srv and parses the reply.
func (h *harness) info(ctx context.Context, srv *server, section string) ([]infoField, error) {
	c, err := dialClient(ctx, srv.addr(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.close()
	s, err := c.doString("INFO", section)
	if err != nil {
		return nil, err
	}
	return parseInfo(s), nil
}

// bench runs every workload against every server, runs times, interleaved:
// repetition by repetition, each server in turn runs all workloads on a
// fresh process. Then it prints the table.
func (h *harness) bench(ctx context.Context) error {
	total := h.cfg.runs * len(h.cfg.servers) * len(h.cfg.workloads)
	for rep := 1; rep <= h.cfg.runs && ctx.Err() == nil; rep++ {
		for _, t := range h.cfg.servers {
			if ctx.Err() != nil {
				break
			}
			h.session(ctx, rep, t)
		}
	}
	expect := map[string][]string{}
	var workloadOrder, serverOrder []string
	for _, w := range h.cfg.workloads {
		workloadOrder = append(workloadOrder, w.Name)
		for _, t := range w.Tests {
			expect[w.Name] = append(expect[w.Name], strings.ToUpper(t))
		}
	}
	for _, t := range h.cfg.servers {
		serverOrder = append(serverOrder, t.Name)
	}
	h.res.Rows = aggregate(h.res.Runs, workloadOrder, serverOrder, expect)

	h.printBenchHeader()
	if err := writeTable(h.stdout, h.res.Rows); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	h.printNoise()
	failed := 0
	for _, r := range h.res.Runs {
		if r.Error != "" {
			failed++
		}
	}
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("bench: interrupted after %d of %d runs: %w", len(h.res.Runs), total, ctx.Err())
	case failed > 0:
		return fmt.Errorf("bench: %d of %d runs failed (see above and results.json)", failed, total)
	}
	return nil
}

func (h *harness) printBenchHeader() {
	ver := h.res.Meta.Benchmark
	if ver == "" {
		ver = "redis-benchmark"
	}
	fmt.Fprintf(h.stdout, "# %s; %s; %d run(s) per row: median, min–max\n", ver, h.cfg.describeCPUs(), h.cfg.runs)
	for _, w := range h.cfg.workloads {
		note := ""
		if w.needsPreload() {
			if h.cfg.preload {
				note = fmt.Sprintf(" (%d keys preloaded: every GET hits)", w.Keyspace)
			} else {
				note = " (not preloaded: GETs mostly miss)"
			}
		}
		fmt.Fprintf(h.stdout, "# %s: %s%s\n", w.Name, w.describe(), note)
	}
}

// noisySpread is the ops/s range, relative to the median, beyond which a
// row is called noisy.
const noisySpread = 0.10

// printNoise says how many rows have a wide ops/s range.
func (h *harness) printNoise() {
	noisy, multi := 0, 0
	for _, r := range h.res.Rows {
		if r.Runs < 2 {
			continue
		}
		multi++
		if r.RPS.RelSpread() > noisySpread {
			noisy++
		}
	}
	if noisy > 0 {
		fmt.Fprintf(h.stdout, "# %d of %d rows have an ops/s range wider than %.0f%% of the median: the machine is noisy,\n"+
			"# trust only differences larger than the ranges, or rerun with more --runs\n", noisy, multi, noisySpread*100)
	}
}

// session starts target t once and runs every workload against it.
func (h *harness) session(ctx context.Context, rep int, t Target) {
	fail := func(w Workload, err error) {
		h.res.Runs = append(h.res.Runs, Run{Repeat: rep, Server: t.Name, Workload: w.Name, Started: time.Now(), Error: err.Error()})
		fmt.Fprintf(h.stderr, "run %d/%d  %-12s %-5s FAILED: %v\n", rep, h.cfg.runs, t.Name, w.Name, err)
	}
	srv, err := h.start(ctx, t)
	if err != nil {
		fmt.Fprintf(h.stderr, "run %d/%d  %-12s FAILED: %v\n", rep, h.cfg.runs, t.Name, err)
		for _, w := range h.cfg.workloads {
			h.res.Runs = append(h.res.Runs, Run{Repeat: rep, Server: t.Name, Workload: w.Name, Started: time.Now(), Error: err.Error()})
		}
		return
	}
	defer h.stop(srv)

	type dataset struct{ keys, size int }
	var loaded dataset
	for _, w := range h.cfg.workloads {
		if ctx.Err() != nil {
			return
		}
		if !srv.alive() {
			fail(w, fmt.Errorf("bench: %s exited (%v)\n%s", t.Name, srv.waitErr, srv.tail()))
			continue
		}
		if want := (dataset{w.Keyspace, w.DataSize}); h.cfg.preload && w.needsPreload() && loaded != want {
			if err := h.preload(ctx, srv, w.Keyspace, w.DataSize); err != nil {
				fail(w, err)
				continue
			}
			loaded = want
		}
		r := h.benchmark(ctx, srv, w)
		if ctx.Err() != nil {
			return // interrupted: not a result
		}
		r.Repeat = rep
		h.res.Runs = append(h.res.Runs, r)
		if r.Error != "" {
			fmt.Fprintf(h.stderr, "run %d/%d  %-12s %-5s FAILED: %s\n", rep, h.cfg.runs, t.Name, w.Name, r.Error)
			continue
		}
		var parts []string
		for _, s := range r.Samples {
			parts = append(parts, fmt.Sprintf("%s %s ops/s p99 %s ms", s.Test, formatCount(s.RPS), formatMs(s.P99Ms)))
		}
		fmt.Fprintf(h.stderr, "run %d/%d  %-12s %-5s %s (%.1f s)\n", rep, h.cfg.runs, t.Name, w.Name, strings.Join(parts, ", "), r.Seconds)
	}
}

// preload stores keys key:%012d for 0..keys-1 with size-byte values and
// checks the server holds them.
func (h *harness) preload(ctx context.Context, srv *server, keys, size int) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	if _, err := loadKeys(ctx, srv.addr(), keys, size); err != nil {
		return err
	}
	_, err := h.verifyLoaded(ctx, srv, keys, size)
	return err
}

// verifyLoaded checks a freshly loaded server: DBSIZE equals keys (-1 is
// returned when the server does not know DBSIZE) and the first and last
// keys hold size-byte values.
func (h *harness) verifyLoaded(ctx context.Context, srv *server, keys, size int) (int64, error) {
	c, err := dialClient(ctx, srv.addr(), 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.close()
	dbsize := int64(-1)
	r, err := c.do("DBSIZE")
	switch {
	case err != nil:
		return 0, err
	case r.Kind == ':':
		dbsize = r.Int
		if dbsize != int64(keys) {
			return dbsize, fmt.Errorf("bench: %s holds %d keys after loading %d", srv.name, dbsize, keys)
		}
	default:
		h.warnf("%s: DBSIZE answered %s", srv.name, r)
	}
	for _, i := range []int{0, keys - 1} {
		key := string(appendKey(nil, i))
		r, err := c.do("GET", key)
		if err != nil {
			return dbsize, err
		}
		if r.Kind != '$' || r.Null || len(r.Str) != size {
			return dbsize, fmt.Errorf("bench: %s: GET %s after load answered %s, want %d bytes", srv.name, key, r, size)
		}
	}
	return dbsize, nil
}

// benchmark runs workload w against srv with redis-benchmark, pinned to the
// client CPUs.
func (h *harness) benchmark(ctx context.Context, srv *server, w Workload) Run {
	argv := pinned(h.bins.taskset, h.cfg.clientCPUs,
		append([]string{h.bins.benchmark}, w.benchmarkArgs(host, srv.port, h.cfg.threads)...))
	r := Run{Server: srv.name, Workload: w.Name, Argv: argv, Started: time.Now()}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	r.Seconds = time.Since(r.Started).Seconds()
	msg := strings.TrimSpace(stderr.String())
	if err != nil {
		if cctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, cctx.Err())
		}
		if !srv.alive() {
			msg += "\n" + srv.tail()
		}
		r.Error = fmt.Sprintf("bench: redis-benchmark against %s: %v: %s", srv.name, err, msg)
		return r
	}
	if msg != "" {
		h.warnf("redis-benchmark against %s: %s", srv.name, msg)
	}
	samples, err := parseBenchmarkCSV(&stdout)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Samples = samples
	for _, t := range w.Tests {
		if !slices.ContainsFunc(samples, func(s Sample) bool { return s.Test == strings.ToUpper(t) }) {
			r.Error = fmt.Sprintf("bench: redis-benchmark printed no %s row", strings.ToUpper(t))
		}
	}
	return r
}

// memory loads cfg.keys keys into each server in turn and reports the
// resident memory each one needs per key.
func (h *harness) memory(ctx context.Context) error {
	var errs []error
	for _, t := range h.cfg.servers {
		if ctx.Err() != nil {
			break
		}
		m := h.measureMemory(ctx, t)
		if m.Error != "" {
			fmt.Fprintf(h.stderr, "%s: FAILED: %s\n", t.Name, m.Error)
			errs = append(errs, fmt.Errorf("bench: %s memory run failed", t.Name))
		} else {
			fmt.Fprintf(h.stderr, "%s: %s keys loaded in %.1f s, %s RSS per key\n",
				t.Name, formatCount(float64(m.Keys)), m.Load.Seconds, formatBytes(m.BytesPerKey))
		}
		h.res.Memory = append(h.res.Memory, m)
	}
	placement := "server not pinned"
	if h.cfg.serverCPUs != nil {
		placement = "server on CPU " + h.cfg.serverCPUs.String()
	}
	fmt.Fprintf(h.stdout, "# memory: %d keys key:%%012d, %d-byte values, loaded pipelined; RSS from /proc/PID/status; %s\n",
		h.cfg.keys, h.cfg.valueSize, placement)
	if err := writeMemTable(h.stdout, h.res.Memory); err != nil {
		errs = append(errs, fmt.Errorf("bench: %w", err))
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("bench: interrupted: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

func (h *harness) measureMemory(ctx context.Context, t Target) MemResult {
	m := MemResult{Server: t.Name, Keys: h.cfg.keys, ValueSize: h.cfg.valueSize, DBSize: -1}
	fail := func(err error) MemResult {
		m.Error = err.Error()
		return m
	}
	srv, err := h.start(ctx, t)
	if err != nil {
		return fail(err)
	}
	defer h.stop(srv)
	before, err := readProcStatus(srv.pid)
	if err != nil {
		return fail(err)
	}
	lctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	if m.Load, err = loadKeys(lctx, srv.addr(), h.cfg.keys, h.cfg.valueSize); err != nil {
		return fail(err)
	}
	if m.DBSize, err = h.verifyLoaded(lctx, srv, h.cfg.keys, h.cfg.valueSize); err != nil {
		return fail(err)
	}
	after, err := readProcStatus(srv.pid)
	if err != nil {
		return fail(err)
	}
	m.RSSBeforeKB, m.RSSAfterKB, m.PeakKB = before.VmRSSKB, after.VmRSSKB, after.VmHWMKB
	m.perKey()
	if fields, err := h.info(ctx, srv, "memory"); err != nil {
		h.warnf("%s: INFO memory: %v", t.Name, err)
	} else {
		m.UsedMemory, _ = strconv.ParseInt(infoValue(fields, "used_memory"), 10, 64)
		m.Runtime = runtimeFields(fields)
	}
	return m
}
