package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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
	cfg       *config
	bins      binaries
	stdout    io.Writer // the report
	stderr    io.Writer // progress and warnings
	tmp       string    // removed at the end
	data      string    // parent of the servers' data directories: tmp, or under --aof-dir
	res       *Results
	clients   []string // benchmark clients that run, in order
	shardCPUs []CPUSet // CPUs of each node of a cluster target
}

// run is the whole program: parse args, run the selected mode, print the
// report to stdout and write results.json (and chart.svg).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.list {
		listTargetsAndWorkloads(stdout)
		return nil
	}
	if cfg.compare != nil {
		return compareFiles(stdout, cfg.compare[0], cfg.compare[1])
	}
	started := time.Now()
	tmp, err := os.MkdirTemp("", "shoal-bench-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(tmp)

	h := &harness{cfg: cfg, stdout: stdout, stderr: stderr, tmp: tmp, data: tmp, clients: []string{clientRedisBenchmark}}
	h.res = &Results{Schema: schemaVersion, Mode: "bench"}
	if cfg.aof && cfg.aofDir != "" {
		if h.data, err = os.MkdirTemp(cfg.aofDir, "shoal-bench-"); err != nil {
			return fmt.Errorf("bench: --aof-dir: %w", err)
		}
		defer os.RemoveAll(h.data)
	}
	if err := h.resolveBinaries(ctx); err != nil {
		return err
	}
	if cfg.outDir == "" {
		cfg.outDir = defaultOutDir(started)
	}
	if err := h.planClusters(ctx); err != nil {
		return err
	}
	h.res.Meta = h.meta(ctx, started)
	switch {
	case cfg.memoryMode():
		h.res.Mode = "mem"
		err = h.memory(ctx)
	case cfg.aof:
		h.res.Mode = "aof"
		err = h.aofMode(ctx)
	default:
		err = h.bench(ctx)
	}
	h.res.Meta.Seconds = time.Since(started).Seconds()
	path, werr := writeResults(cfg.outDir, h.res)
	if werr == nil {
		fmt.Fprintf(stderr, "results: %s\n", path)
	}
	if !cfg.memoryMode() && len(h.res.Rows) > 0 && cfg.chart && werr == nil {
		var cerr error
		if path, cerr = writeChartFile(cfg.outDir, h.res); cerr == nil {
			fmt.Fprintf(stderr, "chart:   %s\n", path)
		}
		werr = cerr
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

// note records something skipped or shared, for the report and the JSON.
func (h *harness) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(h.res.Meta.Notes, msg) {
		h.res.Meta.Notes = append(h.res.Meta.Notes, msg)
	}
}

// resolveBinaries finds or builds every program the selected mode needs.
// memtier_benchmark is optional: without it the memtier rows are skipped
// with a note.
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
	if !h.cfg.memoryMode() {
		h.bins.benchmark = look(h.cfg.benchBin)
	}
	if h.cfg.uses(kindRedisCluster) {
		h.bins.redisCLI = look(h.cfg.redisCLIBin)
	}
	if h.cfg.serverCPUs != nil {
		h.bins.taskset = look("taskset")
		if err != nil {
			return fmt.Errorf("%w (or pass --no-pin)", err)
		}
	}
	if !h.cfg.memoryMode() && h.cfg.memtierBin != "" && h.cfg.memtierBin != "none" {
		if p, lerr := exec.LookPath(h.cfg.memtierBin); lerr == nil {
			h.bins.memtier = p
			h.clients = append(h.clients, clientMemtier)
		} else {
			h.note("%s not on PATH: memtier rows skipped", h.cfg.memtierBin)
		}
	}
	build := func(dst *string, given string, what string, b func(context.Context, string) (string, error)) {
		switch {
		case err != nil:
		case given != "":
			*dst = look(given)
		default:
			fmt.Fprintf(h.stderr, "building %s ...\n", what)
			*dst, err = b(ctx, h.tmp)
		}
	}
	if h.cfg.usesShoal() {
		build(&h.bins.shoal, h.cfg.shoalBin, "shoal", buildShoal)
	}
	if slices.ContainsFunc(h.cfg.servers, func(t Target) bool { return t.NoPGO }) {
		build(&h.bins.shoalNoPGO, "", "shoal with -pgo=off", buildShoalNoPGO)
	}
	if h.cfg.uses(kindCeiling) {
		build(&h.bins.ceiling, h.cfg.ceilingBin, "ceiling", buildCeiling)
	}
	return err
}

// planClusters decides the CPUs of every node of the cluster targets: the
// launcher's plan (`shoal topo`) for --shards shards, used for Shoal's
// shards and the Redis Cluster's processes alike.
func (h *harness) planClusters(ctx context.Context) error {
	if !h.cfg.usesCluster() || h.cfg.memoryMode() {
		return nil
	}
	plan, err := planShards(ctx, h.bins.shoal, h.cfg.shards)
	if err != nil {
		return err
	}
	h.shardCPUs = plan
	return nil
}

func (h *harness) meta(ctx context.Context, started time.Time) Meta {
	m := Meta{
		Started:   started,
		GoVersion: runtime.Version(),
		Repeats:   h.cfg.runs,
		Quick:     h.cfg.quick,
		Preload:   h.cfg.preload,
		Args:      h.cfg.args,
		Notes:     h.res.Meta.Notes,
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
	if !h.cfg.memoryMode() {
		m.Clients = h.clients
		for _, w := range h.cfg.workloads {
			m.Workloads = append(m.Workloads, w.Name+": "+w.describe())
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(cctx, h.bins.benchmark, "--version").Output(); err == nil {
			m.Benchmark = strings.TrimSpace(string(out))
		}
		if h.bins.memtier != "" {
			if out, err := exec.CommandContext(cctx, h.bins.memtier, "--version").Output(); err == nil {
				m.Memtier = firstLine(strings.TrimSpace(string(out)))
			}
		}
	}
	if h.cfg.aof {
		m.DataDir = h.data
		if fs, err := filesystemOf(h.data); err != nil {
			m.DataFS = "an unknown filesystem"
			h.warnf("%v", err)
		} else {
			m.DataFS = fs.String()
			if fs.memoryFS() {
				h.note("the data directories are on %s, in memory: fsync costs nothing there; pass --aof-dir on a disk", fs.FSType)
				m.Notes = h.res.Meta.Notes
			}
		}
	}
	if len(h.shardCPUs) > 0 {
		m.Shards = len(h.shardCPUs)
		for _, c := range h.shardCPUs {
			m.ShardCPUs = append(m.ShardCPUs, c.String())
		}
		var all CPUSet
		for _, c := range h.shardCPUs {
			all = append(all, c...)
		}
		slices.Sort(all)
		all = slices.Compact(all)
		placement := "redis-cluster's processes on the same CPUs"
		if h.bins.taskset == "" {
			placement = "redis-cluster's processes not pinned (--no-pin)"
		}
		h.note("cluster rows: %d shards on CPUs %s as shoal topo plans them, %s; "+
			"the client is not pinned and shares those CPUs", len(h.shardCPUs), all, placement)
		h.note("cluster rows: redis-benchmark --cluster puts a random hash tag of the node's slots in every key, " +
			"so the key space cannot be preloaded and its GETs mostly miss, on both clusters alike")
		if h.cfg.quick {
			h.note("cluster rows: in --quick mode redis-benchmark --cluster's start-up dominates the few requests; " +
				"their ops/s mean little")
		}
		m.Notes = h.res.Meta.Notes
	}
	return m
}

// deployment is one started target: a single server, or the processes of
// a cluster (redis-server per node, or the one shoal launch process).
type deployment struct {
	target Target
	port   int       // where clients connect: the server, or node 0
	dir    string    // removed on stop
	procs  []*server // processes started by the harness
	nodes  []NodeInfo
}

// cpuSeconds is the CPU time the deployment's processes have used so far;
// ok is false when it cannot be read.
func (d *deployment) cpuSeconds() (total float64, ok bool) {
	for _, p := range d.procs {
		s, err := readProcCPU(p.pid)
		if err != nil {
			return 0, false
		}
		total += s
	}
	return total, len(d.procs) > 0
}

// hostAddr is host:port on the loopback address servers listen on.
func hostAddr(port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

func (d *deployment) addr() string { return hostAddr(d.port) }

// alive reports whether every process started is running.
func (d *deployment) alive() bool {
	for _, p := range d.procs {
		if !p.alive() {
			return false
		}
	}
	return true
}

// exitReport describes the processes that exited, with their output.
func (d *deployment) exitReport() string {
	var parts []string
	for _, p := range d.procs {
		if !p.alive() {
			parts = append(parts, fmt.Sprintf("%s exited (%v)\n%s", p.name, p.waitErr, p.tail()))
		}
	}
	return strings.Join(parts, "\n")
}

// addrs is the address of every node (one for a single server).
func (d *deployment) addrs() []string {
	if len(d.nodes) == 0 {
		return []string{d.addr()}
	}
	out := make([]string, len(d.nodes))
	for i, n := range d.nodes {
		out[i] = hostAddr(n.Port)
	}
	return out
}

// start starts target t in a fresh data directory and, the first time,
// records what it is and where it runs.
func (h *harness) start(ctx context.Context, t Target) (*deployment, error) {
	dir, err := os.MkdirTemp(h.data, dirPrefix(t.Name))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	d := &deployment{target: t, dir: dir}
	switch t.Kind {
	case kindRedisCluster:
		err = h.startRedisCluster(ctx, t, d)
	case kindShoalCluster:
		err = h.startShoalCluster(ctx, t, d)
	default:
		var port int
		if port, err = freePort(host); err != nil {
			break
		}
		d.port = port
		var srv *server
		srv, err = startServer(ctx, serverSpec{
			name: t.Name, argv: t.argv(h.bins, host, port, dir, h.valueSize()), cpus: h.cfg.serverCPUs,
			taskset: h.bins.taskset, host: host, port: port, dir: dir, startTimeout: h.cfg.startTimeout,
		})
		if err == nil {
			d.procs = append(d.procs, srv)
			if h.cfg.aof {
				err = h.checkAOFConfig(ctx, d)
			}
		}
	}
	if err != nil {
		h.stop(d)
		return nil, err
	}
	if !slices.ContainsFunc(h.res.Servers, func(s ServerInfo) bool { return s.Name == t.Name }) {
		h.res.Servers = append(h.res.Servers, h.describe(ctx, d))
	}
	return d, nil
}

// valueSize is the value size the ceiling answers GET with: the workloads'
// (they all use one size), else --value-size.
func (h *harness) valueSize() int {
	if len(h.cfg.workloads) > 0 && !h.cfg.memoryMode() {
		return h.cfg.workloads[0].DataSize
	}
	return h.cfg.valueSize
}

func (h *harness) describe(ctx context.Context, d *deployment) ServerInfo {
	info := ServerInfo{Name: d.target.Name, Argv: d.procs[0].argv}
	if fields, err := h.infoAt(ctx, d.port, "server"); err == nil {
		info.Version = infoValue(fields, "redis_version")
		if p := infoValue(fields, "process_id"); p != "" && len(d.nodes) == 0 && p != strconv.Itoa(d.procs[0].pid) {
			h.warnf("%s reports process_id %s but was started as pid %d", d.target.Name, p, d.procs[0].pid)
		}
	}
	if len(d.nodes) == 0 {
		if st, err := readProcStatus(d.procs[0].pid); err == nil {
			info.CPUsAllowed = st.CPUsAllowed
			if h.cfg.serverCPUs != nil {
				if got, err := ParseCPUList(st.CPUsAllowed); err != nil || !slices.Equal(got, h.cfg.serverCPUs) {
					h.warnf("%s runs on CPUs %s, not %s", d.target.Name, st.CPUsAllowed, h.cfg.serverCPUs)
				}
			}
		}
		return info
	}
	for _, n := range d.nodes {
		if st, err := readProcStatus(n.PID); err == nil {
			n.CPUsAllowed = st.CPUsAllowed
			pinnedHere := d.target.Kind == kindShoalCluster || h.bins.taskset != ""
			if got, err := ParseCPUList(st.CPUsAllowed); pinnedHere && (err != nil || got.String() != n.PlannedCPUs) {
				h.warnf("%s node %d runs on CPUs %s, not %s as planned", d.target.Name, n.Port, st.CPUsAllowed, n.PlannedCPUs)
			}
		}
		info.Nodes = append(info.Nodes, n)
	}
	return info
}

// stop stops every process of d and removes its data directory.
func (h *harness) stop(d *deployment) {
	for _, p := range slices.Backward(d.procs) {
		if err := p.stop(); err != nil {
			h.warnf("%v", err)
		}
	}
	os.RemoveAll(d.dir)
}

func (h *harness) warnf(format string, args ...any) {
	fmt.Fprintf(h.stderr, "warning: "+format+"\n", args...)
}

// infoAt runs INFO section on the server at port and parses the reply.
func (h *harness) infoAt(ctx context.Context, port int, section string) ([]infoField, error) {
	c, err := dialClient(ctx, hostAddr(port), 5*time.Second)
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
// fresh process (or set of processes). Then it prints the table.
func (h *harness) bench(ctx context.Context) error {
	for rep := 1; rep <= h.cfg.runs && ctx.Err() == nil; rep++ {
		for _, t := range h.cfg.servers {
			if ctx.Err() != nil {
				break
			}
			h.session(ctx, rep, t)
		}
	}
	h.res.Rows = aggregate(h.res.Runs, specFor(h.clients, h.cfg.workloads, h.cfg.servers))

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
		return fmt.Errorf("bench: interrupted after %d runs: %w", len(h.res.Runs), ctx.Err())
	case failed > 0:
		return fmt.Errorf("bench: %d of %d runs failed (see above and results.json)", failed, len(h.res.Runs))
	}
	return nil
}

func (h *harness) printBenchHeader() {
	ver := h.res.Meta.Benchmark
	if ver == "" {
		ver = "redis-benchmark"
	}
	if h.res.Meta.Memtier != "" {
		ver += "; " + h.res.Meta.Memtier
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
	fmt.Fprintf(h.stdout, "# vs base: single servers against %s, cluster rows against %s; of ceiling: ops/s as a fraction of %s's\n",
		baseline, clusterBaseline, ceilingName)
	for _, n := range h.res.Meta.Notes {
		fmt.Fprintf(h.stdout, "# note: %s\n", n)
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

// session starts target t once and runs every workload against it with
// every client.
func (h *harness) session(ctx context.Context, rep int, t Target) {
	record := func(r Run) {
		r.Repeat = rep
		h.res.Runs = append(h.res.Runs, r)
		label := fmt.Sprintf("run %d/%d  %-13s %-15s %-5s", rep, h.cfg.runs, t.Name, r.Client, r.Workload)
		if r.Error != "" {
			fmt.Fprintf(h.stderr, "%s FAILED: %s\n", label, r.Error)
			return
		}
		var parts []string
		for _, s := range r.Samples {
			parts = append(parts, fmt.Sprintf("%s %s ops/s p99 %s ms", s.Test, formatCount(s.RPS), formatMs(s.P99Ms)))
		}
		fmt.Fprintf(h.stderr, "%s %s (%.1f s)\n", label, strings.Join(parts, ", "), r.Seconds)
	}
	failRun := func(client string, w Workload, tests []string, err error) {
		record(Run{Client: client, Server: t.Name, Workload: w.Name, Tests: tests, Started: time.Now(), Error: err.Error()})
	}
	d, err := h.start(ctx, t)
	if err != nil {
		for _, c := range h.clients {
			for _, w := range h.cfg.workloads {
				failRun(c, w, nil, err)
			}
		}
		return
	}
	defer h.stop(d)

	loaded := map[keyNames]int{} // key names → keyspace loaded
	ensure := func(names keyNames, w Workload) error {
		if !h.cfg.preload || !t.hasKeyspace() || loaded[names] == w.Keyspace {
			return nil
		}
		if err := h.preload(ctx, d, names, w.Keyspace, w.DataSize); err != nil {
			return err
		}
		loaded[names] = w.Keyspace
		return nil
	}
	for _, c := range h.clients {
		for _, w := range h.cfg.workloads {
			if ctx.Err() != nil {
				return
			}
			if !d.alive() {
				failRun(c, w, nil, fmt.Errorf("bench: %s", d.exitReport()))
				continue
			}
			switch c {
			case clientRedisBenchmark:
				// In cluster mode redis-benchmark's keys carry random hash
				// tags, so there is nothing to preload.
				if w.needsPreload() && !t.cluster() {
					if err := ensure(benchmarkKeys, w); err != nil {
						failRun(c, w, nil, err)
						continue
					}
				}
				cpu0, cpuOK := d.cpuSeconds()
				r := h.runBenchmark(ctx, d, w)
				if ctx.Err() != nil {
					return // interrupted: not a result
				}
				if cpu1, ok := d.cpuSeconds(); ok && cpuOK && len(r.Samples) == 1 && w.Requests > 0 {
					r.Samples[0].CPUUsPerOp = (cpu1 - cpu0) * 1e6 / float64(w.Requests)
				}
				h.afterAOFRun(ctx, d, &r)
				record(r)
			case clientMemtier:
				for _, test := range []string{"set", "get"} {
					if !slices.Contains(w.Tests, test) {
						continue
					}
					if test == "get" {
						if err := ensure(memtierKeys, w); err != nil {
							failRun(c, w, []string{"GET"}, err)
							continue
						}
					}
					r := h.runMemtier(ctx, d, w, test)
					if ctx.Err() != nil {
						return
					}
					h.afterAOFRun(ctx, d, &r)
					record(r)
				}
				for _, test := range w.Tests {
					if _, ok := memtierTests[test]; !ok {
						h.note("memtier runs only get and set: %s of workload %s skipped", test, w.Name)
					}
				}
			}
		}
	}
}

// preload stores keys names 0..keys-1 (memtier's from 1) with size-byte
// values, node by node in a cluster, and checks the server holds them.
func (h *harness) preload(ctx context.Context, d *deployment, names keyNames, keys, size int) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	first := 0
	if names == memtierKeys {
		first = memtierFirstKey
	}
	sets := []keySet{rangeKeys(names, first, keys)}
	if len(d.nodes) > 0 {
		var err error
		if sets, err = keysByNode(names, first, keys, d.nodes); err != nil {
			return err
		}
	}
	for i, ks := range sets {
		addr := d.addrs()[i]
		if _, err := loadKeys(ctx, addr, ks, size); err != nil {
			return err
		}
		if _, err := h.verifyLoaded(ctx, d.target.Name, addr, ks, size); err != nil {
			return err
		}
	}
	return nil
}

// verifyLoaded checks a freshly loaded server: DBSIZE is at least the
// number of keys of ks (-1 is returned when the server does not know
// DBSIZE) and the first and last keys of ks hold size-byte values.
func (h *harness) verifyLoaded(ctx context.Context, name, addr string, ks keySet, size int) (int64, error) {
	c, err := dialClient(ctx, addr, 10*time.Second)
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
		if dbsize < int64(ks.len()) {
			return dbsize, fmt.Errorf("bench: %s (%s) holds %d keys after loading %d", name, addr, dbsize, ks.len())
		}
	default:
		h.warnf("%s: DBSIZE answered %s", name, r)
	}
	if ks.len() == 0 {
		return dbsize, nil
	}
	for _, j := range []int{0, ks.len() - 1} {
		key := ks.key(j)
		r, err := c.do("GET", key)
		if err != nil {
			return dbsize, err
		}
		if r.Kind != '$' || r.Null || len(r.Str) != size {
			return dbsize, fmt.Errorf("bench: %s (%s): GET %s after load answered %s, want %d bytes", name, addr, key, r, size)
		}
	}
	return dbsize, nil
}

// clientArgv pins a client's command line: to the client CPUs for a
// single server, not at all for a cluster (its nodes take every CPU the
// plan has; the client shares them).
func (h *harness) clientArgv(d *deployment, argv []string) []string {
	if d.target.cluster() {
		return argv
	}
	return pinned(h.bins.taskset, h.cfg.clientCPUs, argv)
}

// runClient runs argv with --run-timeout and returns its stdout, or the
// run's error with the client's stderr and the output of any server
// process that died.
func (h *harness) runClient(ctx context.Context, d *deployment, client string, argv []string) ([]byte, string, error) {
	cctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String())
	if err != nil {
		if cctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, cctx.Err())
		}
		if !d.alive() {
			msg += "\n" + d.exitReport()
		}
		return nil, msg, fmt.Errorf("bench: %s against %s: %w: %s", client, d.target.Name, err, msg)
	}
	return stdout.Bytes(), msg, nil
}

// runBenchmark runs workload w against d with redis-benchmark (--cluster
// for a cluster target).
func (h *harness) runBenchmark(ctx context.Context, d *deployment, w Workload) Run {
	args := w.benchmarkArgs(host, d.port, h.cfg.threads)
	if d.target.cluster() {
		args = append(args, "--cluster")
	}
	argv := h.clientArgv(d, append([]string{h.bins.benchmark}, args...))
	r := Run{Client: clientRedisBenchmark, Server: d.target.Name, Workload: w.Name, Argv: argv, Started: time.Now()}
	out, msg, err := h.runClient(ctx, d, clientRedisBenchmark, argv)
	r.Seconds = time.Since(r.Started).Seconds()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if msg != "" {
		h.warnf("redis-benchmark against %s: %s", d.target.Name, msg)
	}
	samples, err := parseBenchmarkCSV(bytes.NewReader(out))
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

// runMemtier runs one test (get or set) of workload w against d with
// memtier_benchmark (--cluster-mode for a cluster target) and reads its
// JSON report.
func (h *harness) runMemtier(ctx context.Context, d *deployment, w Workload, test string) Run {
	r := Run{Client: clientMemtier, Server: d.target.Name, Workload: w.Name, Tests: []string{strings.ToUpper(test)}, Started: time.Now()}
	jsonPath := filepath.Join(d.dir, fmt.Sprintf("memtier-%s-%s.json", w.Name, test))
	args, err := w.memtierArgs(host, d.port, test, h.cfg.threads, d.target.cluster(), jsonPath)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Argv = h.clientArgv(d, append([]string{h.bins.memtier}, args...))
	_, _, err = h.runClient(ctx, d, clientMemtier, r.Argv)
	r.Seconds = time.Since(r.Started).Seconds()
	if err != nil {
		r.Error = err.Error()
		return r
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		r.Error = fmt.Sprintf("bench: memtier report: %v", err)
		return r
	}
	s, miss, err := parseMemtierJSON(b, test)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	if test == "get" && miss > 0.01 && h.cfg.preload && d.target.hasKeyspace() {
		h.warnf("memtier against %s: %.1f%% of GETs missed after the preload", d.target.Name, miss*100)
	}
	r.Samples = []Sample{s}
	return r
}

// memory runs memory mode: with --mem, it loads cfg.keys keys into each
// server in turn and reports the resident memory each one needs per key;
// then (and alone with --mem-collections) the collection rows.
func (h *harness) memory(ctx context.Context) error {
	var errs []error
	if h.cfg.mem {
		errs = append(errs, h.memoryStrings(ctx))
	}
	if ctx.Err() == nil {
		errs = append(errs, h.measureCollections(ctx))
	}
	return errors.Join(errs...)
}

// memoryStrings loads cfg.keys keys into each server in turn and reports
// the resident memory each one needs per key.
func (h *harness) memoryStrings(ctx context.Context) error {
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
	fmt.Fprintf(h.stdout, "# memory: %d keys key:%%012d, %d-byte values, loaded pipelined; RSS from /proc/PID/status; %s\n",
		h.cfg.keys, h.cfg.valueSize, h.cfg.serverPlacement())
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
	d, err := h.start(ctx, t)
	if err != nil {
		return fail(err)
	}
	defer h.stop(d)
	pid := d.procs[0].pid
	before, err := readProcStatus(pid)
	if err != nil {
		return fail(err)
	}
	lctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	ks := rangeKeys(benchmarkKeys, 0, h.cfg.keys)
	if m.Load, err = loadKeys(lctx, d.addr(), ks, h.cfg.valueSize); err != nil {
		return fail(err)
	}
	if m.DBSize, err = h.verifyLoaded(lctx, t.Name, d.addr(), ks, h.cfg.valueSize); err != nil {
		return fail(err)
	}
	after, err := readProcStatus(pid)
	if err != nil {
		return fail(err)
	}
	m.RSSBeforeKB, m.RSSAfterKB, m.PeakKB = before.VmRSSKB, after.VmRSSKB, after.VmHWMKB
	m.perKey()
	if fields, err := h.infoAt(ctx, d.port, "memory"); err != nil {
		h.warnf("%s: INFO memory: %v", t.Name, err)
	} else {
		m.UsedMemory, _ = strconv.ParseInt(infoValue(fields, "used_memory"), 10, 64)
		m.Runtime = runtimeFields(fields)
	}
	return m
}
