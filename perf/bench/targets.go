package main

import (
	"fmt"
	"strconv"
	"strings"
)

// targetKind says what a Target runs.
type targetKind int

const (
	kindRedis        targetKind = iota // one redis-server
	kindShoal                          // one shoal shard
	kindCeiling                        // perf/ceiling: constant replies, no key space
	kindRedisCluster                   // a Redis Cluster of redis-server processes
	kindShoalCluster                   // every shard started by shoal launch
)

// Target is a server under test, as data.
type Target struct {
	Name string     // row label and --servers key
	Kind targetKind // what runs
	IO   string     // Shoal's --io backend (kindShoal)
	Doc  string     // one line for --list
	// Baseline is the target whose medians this one's ratios are taken
	// against; Ceiling the target its "of ceiling" fraction is taken
	// against ("" for none).
	Baseline string
	Ceiling  string
	// NoPGO runs a shoal built with -pgo=off: beside a shoal built as
	// usual (with cmd/shoal/default.pgo) it measures what PGO gains.
	NoPGO bool
	// Optional targets run only when --servers names them.
	Optional bool
	// AOF is the appendfsync policy the server runs with appendonly yes
	// (always, everysec or no); "" runs it with appendonly no. Only --aof
	// mode makes targets with an AOF (aof.go).
	AOF string
	// NoAOF is the target that is this one without the AOF: its ops/s
	// are what the AOF costs is taken against ("" for none).
	NoAOF string
	// Extra are server options added after the others (single servers).
	Extra []string
}

// The baselines and the ceiling.
const (
	baseline        = "redis"
	clusterBaseline = "redis-cluster"
	ceilingName     = "ceiling"
)

// cluster reports whether t is a set of shards that clients reach in
// cluster mode.
func (t Target) cluster() bool { return t.Kind == kindRedisCluster || t.Kind == kindShoalCluster }

// hasKeyspace reports whether t stores what it is sent (the ceiling does
// not, so there is nothing to preload or verify).
func (t Target) hasKeyspace() bool { return t.Kind != kindCeiling }

// targets lists every server the harness knows, in default run order.
var targets = []Target{
	{Name: "redis", Kind: kindRedis, Baseline: baseline, Ceiling: ceilingName,
		Doc: `redis-server --save "" --appendonly no`},
	{Name: "shoal-uring", Kind: kindShoal, IO: "uring", Baseline: baseline, Ceiling: ceilingName,
		Doc: "shoal shard --io uring"},
	{Name: "shoal-epoll", Kind: kindShoal, IO: "epoll", Baseline: baseline, Ceiling: ceilingName,
		Doc: "shoal shard --io epoll"},
	{Name: "shoal-nopgo", Kind: kindShoal, IO: "uring", NoPGO: true, Optional: true, Baseline: baseline, Ceiling: ceilingName,
		Doc: "shoal shard --io uring built with -pgo=off (beside shoal-uring: what default.pgo gains; not run by default)"},
	{Name: ceilingName, Kind: kindCeiling, Baseline: baseline, Ceiling: ceilingName,
		Doc: "perf/ceiling: io_uring loop, resp.Parser, constant replies, no key space"},
	{Name: clusterBaseline, Kind: kindRedisCluster, Baseline: clusterBaseline,
		Doc: "Redis Cluster of --shards redis-server processes pinned as shoal launch plans its shards"},
	{Name: "shoal-cluster", Kind: kindShoalCluster, Baseline: clusterBaseline,
		Doc: "shoal launch --shards N: every shard, pinned by the launcher"},
}

// binaries are the programs the harness runs.
type binaries struct {
	redis      string // redis-server
	redisCLI   string // redis-cli, to create a Redis Cluster of 3 or more nodes
	shoal      string // shoal
	shoalNoPGO string // shoal built with -pgo=off
	ceiling    string // perf/ceiling
	benchmark  string // redis-benchmark
	memtier    string // memtier_benchmark; empty when not used
	taskset    string // taskset; empty when pinning is off
}

// argv returns the command line that starts single-server target t
// listening on host:port with its data in dir, in the foreground.
func (t Target) argv(b binaries, host string, port int, dir string, valueSize int) []string {
	p := strconv.Itoa(port)
	switch t.Kind {
	case kindShoal:
		bin := b.shoal
		if t.NoPGO {
			bin = b.shoalNoPGO
		}
		argv := []string{bin, "shard", "--port", p, "--bind", host, "--io", t.IO, "--dir", dir}
		if t.AOF != "" {
			argv = append(argv, "--appendonly", "yes", "--appendfsync", t.AOF)
		} else {
			argv = append(argv, "--appendonly", "no")
		}
		return append(argv, t.Extra...)
	case kindCeiling:
		return []string{b.ceiling, "--port", p, "--bind", host, "--value-size", strconv.Itoa(valueSize)}
	default:
		aof := []string{"--appendonly", "no"}
		if t.AOF != "" {
			aof = []string{"--appendonly", "yes", "--appendfsync", t.AOF}
		}
		argv := []string{b.redis, "--port", p, "--bind", host, "--save", ""}
		argv = append(argv, aof...)
		argv = append(argv, "--dir", dir, "--daemonize", "no", "--logfile", "")
		return append(argv, t.Extra...)
	}
}

// selectTargets resolves a comma-separated list of target names, keeping the
// given order and dropping repeats.
func selectTargets(list string) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		t, ok := findTarget(name)
		if !ok {
			return nil, fmt.Errorf("bench: unknown server %q (known: %s)", name, targetNames())
		}
		seen[name] = true
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no servers selected")
	}
	return out, nil
}

func findTarget(name string) (Target, bool) {
	for _, t := range targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

func targetNames() string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}

// defaultTargetNames are the targets run when --servers is not given:
// every one but the optional ones.
func defaultTargetNames() string {
	var names []string
	for _, t := range targets {
		if !t.Optional {
			names = append(names, t.Name)
		}
	}
	return strings.Join(names, ",")
}

func targetNamesOf(ts []Target) []string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return names
}
