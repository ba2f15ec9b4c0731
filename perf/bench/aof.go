package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// AOF mode (--aof) measures what Redis's append-only file costs, Shoal's
// against redis-server's, in two parts.
//
// SET rows: every selected server runs the SET workloads (p1, p30) once
// with appendonly no and once with appendonly yes per appendfsync policy
// (--aof-fsync), each variant a target of its own (aofTargets) started
// fresh with its data directory under one parent (--aof-dir), so all write
// to the same filesystem. Rows take their ratios against redis with the
// same policy, and against the same server without the AOF. After every
// run a server with an AOF must report a non-empty file written without
// error (INFO persistence), which is kept with the run. Servers rewrite
// the AOF as they do by default unless --aof-rewrite=false.
//
// Load rows: the harness writes one AOF of --aof-size bytes in Redis 7's
// multi-part layout (appendonlydir/ with a manifest and one base file of
// SET commands: keys key:%012d taken in turn over the key space, so later
// SETs overwrite earlier ones, each value stamped with the number of its
// command), copies it into a fresh directory for each start, and times
// each server from exec until it answers PING with PONG instead of
// -LOADING. Both must then hold the same DBSIZE and, for sampled keys,
// the value of the key's last SET.
//
// Both parts repeat --runs times, interleaved as the benchmark is.

// The appendfsync policies of --aof-fsync; aofOff runs appendonly no.
const aofOff = "off"

var aofPolicies = []string{aofOff, "no", "everysec", "always"}

// aofLoadPolicy is the appendfsync policy servers load the AOF with.
const aofLoadPolicy = "everysec"

// aofLoadPoll is how often the load rows PING a loading server.
const aofLoadPoll = 2 * time.Millisecond

// Goals checked in --aof mode, from the issue that asked for it.
const (
	goalRatio        = 1.0  // Shoal's ops/s over redis's, and redis's load time over Shoal's
	goalEverysecCost = 0.10 // what everysec may cost Shoal of its own ops/s without the AOF
)

// parseFsyncs validates an --aof-fsync list.
func parseFsyncs(list string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(list, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" || slices.Contains(out, p) {
			continue
		}
		if !slices.Contains(aofPolicies, p) {
			return nil, fmt.Errorf("bench: unknown appendfsync policy %q (known: %s)", p, strings.Join(aofPolicies, ","))
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: --aof-fsync names no policy")
	}
	return out, nil
}

// aofName is the name of server's target under policy: the server's own
// name without the AOF, "redis/aof-everysec" with it.
func aofName(server, policy string) string {
	if policy == aofOff {
		return server
	}
	return server + "/aof-" + policy
}

// aofTargets expands servers into one target per policy and server, policy
// by policy, so that redis and Shoal under one policy run next to each
// other. A target with an AOF takes its ratios against redis with the
// same policy and against itself without the AOF. No ceiling runs. With
// rewrite false, every server runs with auto-aof-rewrite-percentage 0.
func aofTargets(servers []Target, policies []string, rewrite bool) []Target {
	var out []Target
	for _, p := range policies {
		for _, t := range servers {
			v := t
			v.Name = aofName(t.Name, p)
			v.Baseline = aofName(baseline, p)
			v.Ceiling = ""
			v.AOF, v.NoAOF = "", ""
			if p != aofOff {
				v.AOF, v.NoAOF = p, t.Name
			}
			if !rewrite {
				v.Extra = append(slices.Clone(v.Extra), "--auto-aof-rewrite-percentage", "0")
			}
			out = append(out, v)
		}
	}
	return out
}

// parseSize parses a byte count as redis.conf writes them: a number with
// an optional unit, k/m/g for powers of 1000 and kb/mb/gb for powers of
// 1024, in any case ("1gb", "100mb", "5000000").
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mul    int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"b", 1}}
	mul := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mul = num, u.mul
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || t == "" || t[0] == '+' || t[0] == '-' {
		return 0, fmt.Errorf("bench: bad size %q (want a number of bytes, optionally with k, kb, m, mb, g or gb)", s)
	}
	if n > (1<<62)/mul {
		return 0, fmt.Errorf("bench: size %q too large", s)
	}
	return n * mul, nil
}

// Check is one goal of --aof mode and whether this run met it.
type Check struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Goal  string  `json:"goal"`
	Met   bool    `json:"met"`
}

// String is a line of the report.
func (c Check) String() string {
	verdict := "met"
	if !c.Met {
		verdict = "NOT met"
	}
	return fmt.Sprintf("%s (goal %s): %s", c.What, c.Goal, verdict)
}

// aofChecks are the goals of the issue, for every Shoal row that has
// them: with an AOF, ops/s at least redis's with the same policy;
// everysec costing less than goalEverysecCost of its ops/s without the
// AOF (a ratio above 1-goalEverysecCost); an AOF loaded in no more time
// than redis takes.
func aofChecks(rows []Row, load *AOFLoadReport, ts []Target) []Check {
	kind := map[string]Target{}
	for _, t := range ts {
		kind[t.Name] = t
	}
	var out []Check
	for _, r := range rows {
		t, ok := kind[r.Server]
		if !ok || t.Kind != kindShoal || t.AOF == "" || r.Runs == 0 {
			continue
		}
		what := fmt.Sprintf("%s %s %s", r.Workload, r.Test, r.Server)
		if r.RPSRatio != nil {
			out = append(out, Check{
				What:  fmt.Sprintf("%s: %s %s's ops/s", what, formatCheckRatio(*r.RPSRatio), r.Baseline),
				Value: *r.RPSRatio, Goal: ">= " + formatRatioValue(goalRatio), Met: *r.RPSRatio >= goalRatio,
			})
		}
		if t.AOF == "everysec" && r.NoAOFRatio != nil {
			v := *r.NoAOFRatio
			out = append(out, Check{
				What:  fmt.Sprintf("%s: %s %s's ops/s (without the AOF)", what, formatCheckRatio(v), r.NoAOF),
				Value: v, Goal: "> " + formatRatioValue(1-goalEverysecCost), Met: v > 1-goalEverysecCost,
			})
		}
	}
	if load != nil {
		for _, r := range load.Rows {
			t, ok := kind[r.Server]
			if !ok || t.Kind != kindShoal || r.TimeRatio == nil {
				continue
			}
			out = append(out, Check{
				What:  fmt.Sprintf("AOF load %s: %s %s's time", r.Server, formatCheckRatio(*r.TimeRatio), baseline),
				Value: *r.TimeRatio, Goal: "<= " + formatRatioValue(goalRatio), Met: *r.TimeRatio <= goalRatio,
			})
		}
	}
	return out
}

// formatCheckRatio formats a ratio with three decimals, so that one just
// short of a goal does not read as meeting it: 0.998x, not 1.00x.
func formatCheckRatio(r float64) string { return strconv.FormatFloat(r, 'f', 3, 64) + "x" }

// AOFLoadReport is the load-time measurement of --aof mode.
type AOFLoadReport struct {
	File AOFFile      `json:"file"`
	Runs []AOFLoadRun `json:"runs"`
	Rows []AOFLoadRow `json:"rows"`
}

// AOFFile describes the AOF every server loads.
type AOFFile struct {
	Bytes        int64   `json:"bytes"`
	Commands     int64   `json:"commands"` // SETs in it
	Keys         int     `json:"keys"`     // distinct keys: what DBSIZE must be after loading
	ValueSize    int     `json:"value_size"`
	Manifest     string  `json:"manifest"`
	WriteSeconds float64 `json:"write_seconds"`
}

// AOFLoadRun is one start of one server on a copy of the AOF.
type AOFLoadRun struct {
	Repeat  int       `json:"repeat"`
	Server  string    `json:"server"`
	Argv    []string  `json:"argv,omitempty"`
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"` // exec to the first PONG
	DBSize  int64     `json:"dbsize"`
	Error   string    `json:"error,omitempty"`
}

// AOFLoadRow summarises one server's load runs.
type AOFLoadRow struct {
	Server    string   `json:"server"`
	Runs      int      `json:"runs"`
	Failed    int      `json:"failed"`
	Seconds   Spread   `json:"seconds"`
	MBPerSec  float64  `json:"mib_per_sec"` // the file's MiB over the median seconds
	DBSize    int64    `json:"dbsize"`      // of the last successful run
	TimeRatio *float64 `json:"time_vs_redis,omitempty"`
}

// aggregateLoads summarises load runs per server, in the order of
// servers, each against redis's median time.
func aggregateLoads(runs []AOFLoadRun, servers []string, file AOFFile) []AOFLoadRow {
	var rows []AOFLoadRow
	for _, srv := range servers {
		r := AOFLoadRow{Server: srv, DBSize: -1}
		var secs []float64
		for _, run := range runs {
			switch {
			case run.Server != srv:
			case run.Error != "":
				r.Failed++
			default:
				secs = append(secs, run.Seconds)
				r.DBSize = run.DBSize
			}
		}
		if len(secs) == 0 && r.Failed == 0 {
			continue
		}
		r.Runs = len(secs)
		r.Seconds = summarize(secs)
		if r.Seconds.Median > 0 {
			r.MBPerSec = float64(file.Bytes) / (1 << 20) / r.Seconds.Median
		}
		rows = append(rows, r)
	}
	i := slices.IndexFunc(rows, func(r AOFLoadRow) bool { return r.Server == baseline })
	for j := range rows {
		if i >= 0 && rows[i].Runs > 0 && rows[j].Runs > 0 && rows[i].Seconds.Median > 0 {
			v := rows[j].Seconds.Median / rows[i].Seconds.Median
			rows[j].TimeRatio = &v
		}
	}
	return rows
}

// aofLoadHeader is the header of the load table.
var aofLoadHeader = []string{"server", "runs", "load s", "load s min–max", "MiB/s", "dbsize", "time vs " + baseline}

// writeAOFLoadTable prints one line per server of the load rows.
func writeAOFLoadTable(w io.Writer, rows []AOFLoadRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(aofLoadHeader, "\t"))
	for _, r := range rows {
		cells := []string{r.Server, fmt.Sprintf("%d/%d", r.Runs, r.Runs+r.Failed)}
		if r.Runs == 0 {
			for range len(aofLoadHeader) - len(cells) {
				cells = append(cells, "-")
			}
		} else {
			cells = append(cells,
				formatSeconds(r.Seconds.Median),
				formatSeconds(r.Seconds.Min)+"–"+formatSeconds(r.Seconds.Max),
				strconv.FormatFloat(r.MBPerSec, 'f', 1, 64),
				formatCount(float64(r.DBSize)),
				formatRatio(r.TimeRatio),
			)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func formatSeconds(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// The files of the AOF the load rows write, named as Redis 7 names them
// (appendfilename "appendonly.aof", appenddirname "appendonlydir").
const (
	aofDirName      = "appendonlydir"
	aofBaseName     = "appendonly.aof.1.base.aof"
	aofManifestName = "appendonly.aof.manifest"
)

// aofLoadSpec is what the load rows' AOF holds: SETs of size bytes in all
// (the last one may end past it), over keys keys, of valueSize-byte values.
type aofLoadSpec struct {
	size      int64
	keys      int
	valueSize int
}

// commandKey is the key index of SET number c.
func (s aofLoadSpec) commandKey(c int64) int { return int(c % int64(s.keys)) }

// lastCommand is the number of the last of n SETs that sets key k (k <
// min(keys, n)).
func (s aofLoadSpec) lastCommand(n int64, k int) int64 {
	return int64(k) + int64(s.keys)*((n-1-int64(k))/int64(s.keys))
}

// value returns the value SET number c writes, in buf (valueSize bytes).
func (s aofLoadSpec) value(buf []byte, c int64) []byte {
	if len(buf) != s.valueSize {
		buf = newValue(s.valueSize)
	}
	stampValue(buf, int(c))
	return buf
}

// writeAOF writes the AOF of spec under dir: dir/appendonlydir/ with the
// manifest and the base file, fsynced. It returns what it wrote.
func writeAOF(dir string, spec aofLoadSpec) (AOFFile, error) {
	start := time.Now()
	file := AOFFile{ValueSize: spec.valueSize}
	if spec.size <= 0 || spec.keys <= 0 || spec.valueSize <= 0 {
		return file, fmt.Errorf("bench: AOF of %d bytes over %d keys of %d-byte values", spec.size, spec.keys, spec.valueSize)
	}
	ad := filepath.Join(dir, aofDirName)
	if err := os.MkdirAll(ad, 0o755); err != nil {
		return file, fmt.Errorf("bench: %w", err)
	}
	f, err := os.Create(filepath.Join(ad, aofBaseName))
	if err != nil {
		return file, fmt.Errorf("bench: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	var cmd []byte
	value := newValue(spec.valueSize)
	var c int64
	for ; file.Bytes < spec.size; c++ {
		cmd = appendSet(cmd[:0], benchmarkKeys, spec.commandKey(c), spec.value(value, c))
		if _, err := bw.Write(cmd); err != nil {
			f.Close()
			return file, fmt.Errorf("bench: writing the AOF: %w", err)
		}
		file.Bytes += int64(len(cmd))
	}
	file.Commands = c
	file.Keys = int(min(int64(spec.keys), c))
	err = bw.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return file, fmt.Errorf("bench: writing the AOF: %w", err)
	}
	file.Manifest = "file " + aofBaseName + " seq 1 type b\n"
	if err := writeFileSync(filepath.Join(ad, aofManifestName), []byte(file.Manifest)); err != nil {
		return file, err
	}
	file.WriteSeconds = time.Since(start).Seconds()
	return file, nil
}

// writeFileSync writes b to a new file at path and fsyncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// copyTree copies the regular files and directories under src to dst
// (created), fsyncing every file, so a server may change its copy and the
// copy's write-back does not run during the load that follows.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("bench: copying %s: not a regular file", path)
		}
		return copyFile(path, to)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bench: copying %s: %w", src, err)
	}
	return nil
}

// aofMode runs --aof mode: the SET rows, then the load rows, then the
// checks. It prints the report.
func (h *harness) aofMode(ctx context.Context) error {
	h.printAOFHeader()
	var errs []error
	var ts []Target
	if h.cfg.aofSet {
		ts = aofTargets(h.cfg.servers, h.cfg.aofFsyncs, h.cfg.aofRewrite)
		for rep := 1; rep <= h.cfg.runs && ctx.Err() == nil; rep++ {
			for _, t := range ts {
				if ctx.Err() != nil {
					break
				}
				h.session(ctx, rep, t)
			}
		}
		h.res.Rows = aggregate(h.res.Runs, specFor(h.clients, h.cfg.workloads, ts))
		if err := writeAOFTable(h.stdout, h.res.Rows); err != nil {
			errs = append(errs, fmt.Errorf("bench: %w", err))
		}
		h.printNoise()
		failed := 0
		for _, r := range h.res.Runs {
			if r.Error != "" {
				failed++
			}
		}
		if failed > 0 {
			errs = append(errs, fmt.Errorf("bench: %d of %d runs failed (see above and results.json)", failed, len(h.res.Runs)))
		}
	}
	if h.cfg.aofSize > 0 && ctx.Err() == nil {
		if h.cfg.aofSet {
			fmt.Fprintln(h.stdout)
		}
		errs = append(errs, h.aofLoad(ctx))
	}
	ts = append(ts, h.cfg.servers...)
	h.res.Checks = aofChecks(h.res.Rows, h.res.AOFLoad, ts)
	if len(h.res.Checks) > 0 {
		fmt.Fprintln(h.stdout)
	}
	for _, c := range h.res.Checks {
		fmt.Fprintf(h.stdout, "# check: %s\n", c)
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("bench: interrupted: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// printAOFHeader says what the SET rows run and where the data goes.
func (h *harness) printAOFHeader() {
	ver := h.res.Meta.Benchmark
	if ver == "" {
		ver = "redis-benchmark"
	}
	fmt.Fprintf(h.stdout, "# %s; %s; %d run(s) per row: median, min–max\n", ver, h.cfg.describeCPUs(), h.cfg.runs)
	fmt.Fprintf(h.stdout, "# data: every server in a fresh directory under %s, on %s\n", h.res.Meta.DataDir, h.res.Meta.DataFS)
	for _, n := range h.res.Meta.Notes {
		fmt.Fprintf(h.stdout, "# note: %s\n", n)
	}
	if !h.cfg.aofSet {
		return
	}
	var policies []string
	for _, p := range h.cfg.aofFsyncs {
		if p == aofOff {
			policies = append(policies, "appendonly no")
		} else {
			policies = append(policies, "appendonly yes, appendfsync "+p)
		}
	}
	rewrites := "AOF rewrites as each server does by default (auto-aof-rewrite-percentage 100, min size 64mb)"
	if !h.cfg.aofRewrite {
		rewrites = "no AOF rewrites (auto-aof-rewrite-percentage 0)"
	}
	fmt.Fprintf(h.stdout, "# each server with %s; redis-server also --save \"\"; %s\n", strings.Join(policies, "; "), rewrites)
	for _, w := range h.cfg.workloads {
		fmt.Fprintf(h.stdout, "# %s: %s\n", w.Name, w.describe())
	}
	fmt.Fprintf(h.stdout, "# vs base: against %s with the same appendfsync; vs no AOF: against the same server with appendonly no\n", baseline)
}

// checkAOFConfig checks that the server of d runs with the AOF its
// target asks for: INFO persistence aof_enabled, and appendfsync.
func (h *harness) checkAOFConfig(ctx context.Context, d *deployment) error {
	c, err := dialClient(ctx, d.addr(), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.close()
	s, err := c.doString("INFO", "persistence")
	if err != nil {
		return err
	}
	want := "0"
	if d.target.AOF != "" {
		want = "1"
	}
	if got := infoValue(parseInfo(s), "aof_enabled"); got != want {
		return fmt.Errorf("bench: %s: INFO persistence aof_enabled is %q, want %s", d.target.Name, got, want)
	}
	if d.target.AOF == "" {
		return nil
	}
	r, err := c.do("CONFIG", "GET", "appendfsync")
	if err != nil {
		return err
	}
	if r.Kind != '*' || len(r.Elems) != 2 || r.Elems[1].Str != d.target.AOF {
		return fmt.Errorf("bench: %s: CONFIG GET appendfsync answered %s, want %s", d.target.Name, r, d.target.AOF)
	}
	return nil
}

// aofRunFields are the INFO persistence fields kept with a run.
var aofRunFields = []string{"aof_current_size", "aof_base_size", "aof_rewrites", "aof_last_write_status",
	"aof_last_bgrewrite_status", "aof_delayed_fsync"}

// afterAOFRun keeps the persistence fields of a server with an AOF with
// run r, and fails r if the server wrote no AOF or a write failed.
func (h *harness) afterAOFRun(ctx context.Context, d *deployment, r *Run) {
	if d.target.AOF == "" || r.Error != "" {
		return
	}
	fields, err := h.infoAt(ctx, d.port, "persistence")
	if err != nil {
		r.Error = err.Error()
		return
	}
	for _, f := range fields {
		if slices.Contains(aofRunFields, f.Key) {
			r.Persistence = append(r.Persistence, f)
		}
	}
	size, _ := strconv.ParseInt(infoValue(fields, "aof_current_size"), 10, 64)
	switch {
	case size <= 0:
		r.Error = fmt.Sprintf("bench: %s: aof_current_size is %q after the run", d.target.Name, infoValue(fields, "aof_current_size"))
	case infoValue(fields, "aof_last_write_status") != "ok":
		r.Error = fmt.Sprintf("bench: %s: aof_last_write_status is %q", d.target.Name, infoValue(fields, "aof_last_write_status"))
	}
}

// aofLoad writes the AOF once, then times every server loading a copy of
// it, runs times, interleaved, and prints the load table.
func (h *harness) aofLoad(ctx context.Context) error {
	spec := aofLoadSpec{size: h.cfg.aofSize, keys: h.cfg.workloads[0].Keyspace, valueSize: h.cfg.workloads[0].DataSize}
	src, err := os.MkdirTemp(h.data, "aof-source-")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	defer os.RemoveAll(src)
	fmt.Fprintf(h.stderr, "writing a %s AOF ...\n", formatBytes(float64(spec.size)))
	file, err := writeAOF(src, spec)
	if err != nil {
		return err
	}
	rep := &AOFLoadReport{File: file}
	h.res.AOFLoad = rep
	fmt.Fprintf(h.stderr, "AOF: %s, %s SETs of %s keys, written in %.1f s\n",
		formatBytes(float64(file.Bytes)), formatCount(float64(file.Commands)), formatCount(float64(file.Keys)), file.WriteSeconds)

	var names []string
	for _, t := range h.cfg.servers {
		names = append(names, t.Name)
	}
	for r := 1; r <= h.cfg.runs && ctx.Err() == nil; r++ {
		for _, t := range h.cfg.servers {
			if ctx.Err() != nil {
				break
			}
			run := h.loadOnce(ctx, t, src, spec, file)
			if ctx.Err() != nil {
				break // interrupted: not a result
			}
			run.Repeat = r
			rep.Runs = append(rep.Runs, run)
			label := fmt.Sprintf("load %d/%d  %-13s", r, h.cfg.runs, t.Name)
			if run.Error != "" {
				fmt.Fprintf(h.stderr, "%s FAILED: %s\n", label, run.Error)
			} else {
				fmt.Fprintf(h.stderr, "%s %.3f s to PONG, DBSIZE %d\n", label, run.Seconds, run.DBSize)
			}
		}
	}
	rep.Rows = aggregateLoads(rep.Runs, names, file)

	overwrite := ""
	if file.Commands > int64(file.Keys) {
		overwrite = ", later SETs overwriting earlier ones"
	}
	fmt.Fprintf(h.stdout, "# AOF load: %s in %s/%s (manifest and one base file of commands, as Redis 7 lays them out): "+
		"%s SETs over %s keys of %d bytes%s\n",
		formatBytes(float64(file.Bytes)), aofDirName, aofBaseName, formatCount(float64(file.Commands)),
		formatCount(float64(file.Keys)), file.ValueSize, overwrite)
	fmt.Fprintf(h.stdout, "# each start on a fresh fsynced copy (in the page cache) with appendonly yes, appendfsync %s; "+
		"load s: exec until PING answers PONG (polled every %v), then DBSIZE and sampled values checked; %d run(s): median, min–max\n",
		aofLoadPolicy, aofLoadPoll, h.cfg.runs)
	if err := writeAOFLoadTable(h.stdout, rep.Rows); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	failed := 0
	for _, run := range rep.Runs {
		if run.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("bench: %d of %d AOF loads failed (see above and results.json)", failed, len(rep.Runs))
	}
	return nil
}

// loadOnce copies the AOF under src into a fresh directory, starts server
// t on it and times it until PONG, then checks what it loaded.
func (h *harness) loadOnce(ctx context.Context, t Target, src string, spec aofLoadSpec, file AOFFile) AOFLoadRun {
	run := AOFLoadRun{Server: t.Name, DBSize: -1}
	fail := func(err error) AOFLoadRun {
		run.Error = err.Error()
		return run
	}
	dir, err := os.MkdirTemp(h.data, dirPrefix(t.Name)+"load-")
	if err != nil {
		return fail(fmt.Errorf("bench: %w", err))
	}
	defer os.RemoveAll(dir)
	if err := copyTree(filepath.Join(src, aofDirName), filepath.Join(dir, aofDirName)); err != nil {
		return fail(err)
	}
	port, err := freePort(host)
	if err != nil {
		return fail(err)
	}
	lt := t
	lt.AOF = aofLoadPolicy
	srv, err := startServer(ctx, serverSpec{
		name: t.Name, argv: lt.argv(h.bins, host, port, dir, 0), cpus: h.cfg.serverCPUs, taskset: h.bins.taskset,
		host: host, port: port, dir: dir, startTimeout: h.cfg.runTimeout, pollEvery: aofLoadPoll,
	})
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := srv.stop(); err != nil {
			h.warnf("%v", err)
		}
	}()
	run.Argv, run.Started = srv.argv, srv.started
	run.Seconds = srv.ready.Sub(srv.started).Seconds()
	run.DBSize, err = h.verifyAOFLoad(ctx, t.Name, srv.addr(), spec, file)
	if err != nil {
		return fail(err)
	}
	return run
}

// verifyAOFLoad checks a server that loaded the AOF: no longer loading,
// the AOF on, DBSIZE the number of distinct keys, and the first, a middle
// and the last key holding the value of their last SET. It returns DBSIZE.
func (h *harness) verifyAOFLoad(ctx context.Context, name, addr string, spec aofLoadSpec, file AOFFile) (int64, error) {
	c, err := dialClient(ctx, addr, 10*time.Second)
	if err != nil {
		return -1, err
	}
	defer c.close()
	s, err := c.doString("INFO", "persistence")
	if err != nil {
		return -1, err
	}
	fields := parseInfo(s)
	if v := infoValue(fields, "loading"); v != "0" {
		return -1, fmt.Errorf("bench: %s answered PONG with INFO persistence loading:%s", name, v)
	}
	if v := infoValue(fields, "aof_enabled"); v != "1" {
		return -1, fmt.Errorf("bench: %s: aof_enabled:%s after loading", name, v)
	}
	r, err := c.do("DBSIZE")
	if err != nil {
		return -1, err
	}
	if r.Kind != ':' {
		return -1, fmt.Errorf("bench: %s: DBSIZE answered %s", name, r)
	}
	if r.Int != int64(file.Keys) {
		return r.Int, fmt.Errorf("bench: %s holds %d keys after loading an AOF of %d", name, r.Int, file.Keys)
	}
	var want []byte
	for _, k := range []int{0, file.Keys / 2, file.Keys - 1} {
		key := string(appendKey(nil, k))
		want = spec.value(want, spec.lastCommand(file.Commands, k))
		g, err := c.do("GET", key)
		if err != nil {
			return r.Int, err
		}
		if g.Kind != '$' || g.Null || g.Str != string(want) {
			return r.Int, fmt.Errorf("bench: %s: GET %s after loading answered %.40s, want the value of SET number %d",
				name, key, g, spec.lastCommand(file.Commands, k))
		}
	}
	return r.Int, nil
}

// dirPrefix is a MkdirTemp pattern prefix for a target's data directory.
func dirPrefix(name string) string { return strings.ReplaceAll(name, "/", "_") + "-" }
