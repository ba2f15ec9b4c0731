package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// host is where every server listens: loopback only.
const host = "127.0.0.1"

// Quick-mode sizes: seconds in all, for tests and smoke checks.
const (
	quickRequests = 10_000
	quickKeyspace = 100_000
	quickKeys     = 100_000
	quickAOFSize  = "100mb"
)

// defaultAOFSize is the size of the AOF the load rows of --aof mode load.
const defaultAOFSize = "1gb"

// config is the parsed command line.
type config struct {
	servers      []Target
	workloads    []Workload
	runs         int
	threads      int
	preload      bool
	quick        bool
	mem          bool // string rows and collection rows
	memColl      bool // collection rows only
	collElements int  // elements of each collection shape
	keys         int
	valueSize    int
	shoalBin     string
	ceilingBin   string
	memtierBin   string // "" or "none": memtier is not run
	redisCLIBin  string
	shards       int // nodes of each cluster target; 0: as the launcher plans
	compare      []string
	chart        bool
	redisBin     string
	benchBin     string
	serverCPUs   CPUSet // nil when pinning is off
	clientCPUs   CPUSet
	outDir       string
	startTimeout time.Duration
	runTimeout   time.Duration
	list         bool
	aof          bool     // AOF mode (aof.go)
	aofFsyncs    []string // policies of the SET rows: off, no, everysec, always
	aofSet       bool     // run the SET rows
	aofRewrite   bool     // let the servers rewrite their AOF during the SET rows
	aofSize      int64    // bytes of the AOF of the load rows; 0: no load rows
	aofDir       string   // where the data directories go ("": the temp dir)
	args         []string
}

// parseFlags parses args (without the program name). Usage goes to w.
func parseFlags(args []string, w io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(w)
	var (
		cfg        = &config{args: append([]string(nil), args...)}
		servers    = fs.String("servers", defaultTargetNames(), "comma-separated servers to run, in this order ("+targetNames()+")")
		wls        = fs.String("workloads", workloadNames(), "comma-separated workloads to run ("+workloadNames()+")")
		tests      = fs.String("tests", "", "redis-benchmark -t list for every workload (default: each workload's own, get,set)")
		requests   = fs.Int("requests", 0, "redis-benchmark -n per test (default: each workload's own, a few seconds per row)")
		keyspace   = fs.Int("keyspace", 0, "redis-benchmark -r, keys preloaded before GET (default 1000000)")
		serverCPUs = fs.String("server-cpus", "", "CPUs the server under test is pinned to (default: the last allowed CPU)")
		clientCPUs = fs.String("client-cpus", "", "CPUs redis-benchmark is pinned to (default: all other allowed CPUs)")
		noPin      = fs.Bool("no-pin", false, "do not pin processes with taskset")
		aofFsync   = fs.String("aof-fsync", "off,everysec,always", "--aof: comma-separated appendfsync policies of the SET rows ("+strings.Join(aofPolicies, ",")+"; off: appendonly no)")
		aofSize    = fs.String("aof-size", defaultAOFSize, "--aof: size of the AOF the load rows time (k, kb, m, mb, g, gb as in redis.conf; 0: no load rows; --quick: "+quickAOFSize+")")
	)
	fs.IntVar(&cfg.runs, "runs", 3, "repetitions per (workload, server); rows report the median and min–max")
	fs.IntVar(&cfg.threads, "threads", 0, "redis-benchmark --threads (0: not passed)")
	fs.BoolVar(&cfg.preload, "preload", true, "load the keyspace before workloads that GET, so every GET hits")
	fs.BoolVar(&cfg.quick, "quick", false, fmt.Sprintf("smoke run: 1 run, -n %d, keyspace %d, --keys %d unless set", quickRequests, quickKeyspace, quickKeys))
	fs.BoolVar(&cfg.mem, "mem", false, "memory mode: load --keys keys into each server and report RSS per key, then the --mem-collections rows")
	fs.BoolVar(&cfg.memColl, "mem-collections", false, "memory mode, collections only: used_memory per element of hashes, lists, sets and sorted sets of 100 and 100,000 elements")
	fs.IntVar(&cfg.collElements, "coll-elements", collElements, "elements of each collection shape in memory mode (keys: this over the shape's size, at least 1)")
	fs.IntVar(&cfg.keys, "keys", 1_000_000, "keys loaded in --mem mode")
	fs.IntVar(&cfg.valueSize, "value-size", 256, "value bytes in --mem mode")
	fs.StringVar(&cfg.shoalBin, "shoal-bin", "", "shoal binary (default: go build ./cmd/shoal into a temp dir)")
	fs.StringVar(&cfg.ceilingBin, "ceiling-bin", "", "ceiling binary (default: go build ./perf/ceiling into a temp dir)")
	fs.StringVar(&cfg.memtierBin, "memtier-bin", "memtier_benchmark", "memtier_benchmark binary; runs when found on PATH (\"none\": never)")
	fs.StringVar(&cfg.redisCLIBin, "redis-cli-bin", "redis-cli", "redis-cli binary, to create a Redis Cluster of 3 or more nodes")
	fs.IntVar(&cfg.shards, "shards", 0, "nodes of redis-cluster and shoal-cluster (default: one per physical core, as shoal topo plans)")
	fs.BoolVar(&cfg.chart, "chart", true, "write chart.svg next to results.json")
	compare := fs.Bool("compare", false, "compare two results.json files given as arguments: --compare A.json B.json")
	fs.StringVar(&cfg.redisBin, "redis-bin", "redis-server", "redis-server binary")
	fs.StringVar(&cfg.benchBin, "benchmark-bin", "redis-benchmark", "redis-benchmark binary")
	fs.StringVar(&cfg.outDir, "out", "", "directory for results.json (default perf/results/<timestamp>)")
	fs.DurationVar(&cfg.startTimeout, "start-timeout", 10*time.Second, "longest wait for a server to answer PING")
	fs.DurationVar(&cfg.runTimeout, "run-timeout", 5*time.Minute, "longest redis-benchmark invocation or load")
	fs.BoolVar(&cfg.list, "list", false, "list servers and workloads, then exit")
	fs.BoolVar(&cfg.aof, "aof", false, "AOF mode: SET rows with appendonly no and each --aof-fsync policy, then the time to load an --aof-size AOF, against redis-server with the same settings")
	fs.BoolVar(&cfg.aofSet, "aof-set", true, "--aof: run the SET rows (false: only the load rows)")
	fs.BoolVar(&cfg.aofRewrite, "aof-rewrite", true, "--aof: let servers rewrite the AOF as by default (false: auto-aof-rewrite-percentage 0 for all)")
	fs.StringVar(&cfg.aofDir, "aof-dir", "", "--aof: directory the servers' data directories are made in, so every AOF is on its filesystem (default: the temp dir)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *compare {
		if fs.NArg() != 2 {
			return nil, fmt.Errorf("bench: --compare takes two results.json files, got %d arguments", fs.NArg())
		}
		cfg.compare = fs.Args()
		return cfg, nil
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	if cfg.servers, err = selectTargets(*servers); err != nil {
		return nil, err
	}
	if cfg.aof && cfg.memoryMode() {
		return nil, fmt.Errorf("bench: --aof and --mem are separate modes")
	}
	if cfg.memoryMode() || cfg.aof {
		// Memory and the AOF are measured on single servers that store
		// what they are sent.
		single := slices.DeleteFunc(slices.Clone(cfg.servers), func(t Target) bool { return t.cluster() || !t.hasKeyspace() })
		if set["servers"] && len(single) != len(cfg.servers) {
			mode := "--mem"
			if cfg.aof {
				mode = "--aof"
			}
			return nil, fmt.Errorf("bench: %s measures single servers that keep keys: not %s", mode, strings.Join(targetNamesOf(cfg.servers), ","))
		}
		cfg.servers = single
	}
	if cfg.workloads, err = selectWorkloads(*wls); err != nil {
		return nil, err
	}
	if cfg.quick {
		if !set["runs"] {
			cfg.runs = 1
		}
		if !set["requests"] {
			*requests = quickRequests
		}
		if !set["keyspace"] {
			*keyspace = quickKeyspace
		}
		if !set["keys"] {
			cfg.keys = quickKeys
		}
		if !set["coll-elements"] {
			cfg.collElements = quickCollElem
		}
		if !set["aof-size"] {
			*aofSize = quickAOFSize
		}
	}
	if cfg.aof {
		if cfg.aofFsyncs, err = parseFsyncs(*aofFsync); err != nil {
			return nil, err
		}
		if cfg.aofSize, err = parseSize(*aofSize); err != nil {
			return nil, err
		}
		if !cfg.aofSet && cfg.aofSize == 0 {
			return nil, fmt.Errorf("bench: --aof-set=false with --aof-size 0 leaves nothing to run")
		}
		if cfg.aofSize > 1<<40 {
			return nil, fmt.Errorf("bench: --aof-size %s over 1 TiB", *aofSize)
		}
	}
	for i := range cfg.workloads {
		w := &cfg.workloads[i]
		switch {
		case *tests != "":
			if w.Tests, err = parseTests(*tests); err != nil {
				return nil, err
			}
		case cfg.aof:
			w.Tests = []string{"set"}
		}
		if *requests > 0 {
			w.Requests = *requests
		}
		if *keyspace > 0 {
			w.Keyspace = *keyspace
		}
	}
	switch {
	case cfg.runs < 1 || cfg.runs > 1000:
		return nil, fmt.Errorf("bench: --runs %d out of range 1..1000", cfg.runs)
	case *requests < 0 || *keyspace < 0 || cfg.threads < 0:
		return nil, fmt.Errorf("bench: --requests, --keyspace and --threads must not be negative")
	case cfg.keys < 1 || cfg.keys > 1_000_000_000:
		return nil, fmt.Errorf("bench: --keys %d out of range 1..1e9", cfg.keys)
	case cfg.collElements < 1 || cfg.collElements > 1_000_000_000:
		return nil, fmt.Errorf("bench: --coll-elements %d out of range 1..1e9", cfg.collElements)
	case cfg.valueSize < 1 || cfg.valueSize > 1<<20:
		return nil, fmt.Errorf("bench: --value-size %d out of range 1..1MiB", cfg.valueSize)
	case cfg.shards < 0 || cfg.shards > 1024:
		return nil, fmt.Errorf("bench: --shards %d out of range 0..1024", cfg.shards)
	case cfg.startTimeout <= 0 || cfg.runTimeout <= 0:
		return nil, fmt.Errorf("bench: timeouts must be positive")
	}
	if !*noPin {
		if cfg.serverCPUs, cfg.clientCPUs, err = placeCPUs(*serverCPUs, *clientCPUs); err != nil {
			return nil, err
		}
	} else if *serverCPUs != "" || *clientCPUs != "" {
		return nil, fmt.Errorf("bench: --no-pin with --server-cpus or --client-cpus")
	}
	return cfg, nil
}

// placeCPUs resolves the server and client CPU sets from the flags and the
// CPUs this process may use.
func placeCPUs(serverFlag, clientFlag string) (server, client CPUSet, err error) {
	allowed, err := allowedCPUs()
	if err != nil {
		return nil, nil, err
	}
	server, client = splitCPUs(allowed)
	if serverFlag != "" {
		if server, err = ParseCPUList(serverFlag); err != nil {
			return nil, nil, err
		}
		if clientFlag == "" {
			client = nil
			for _, c := range allowed {
				if !slices.Contains(server, c) {
					client = append(client, c)
				}
			}
			if len(client) == 0 {
				client = server
			}
		}
	}
	if clientFlag != "" {
		if client, err = ParseCPUList(clientFlag); err != nil {
			return nil, nil, err
		}
	}
	return server, client, nil
}

// memoryMode reports whether the run measures memory (--mem or
// --mem-collections) rather than throughput.
func (c *config) memoryMode() bool { return c.mem || c.memColl }

// uses reports whether any selected server is of one of the kinds.
func (c *config) uses(kinds ...targetKind) bool {
	return slices.ContainsFunc(c.servers, func(t Target) bool { return slices.Contains(kinds, t.Kind) })
}

// usesShoal reports whether the shoal binary is needed: for Shoal itself,
// and for the plan the Redis Cluster is pinned by.
func (c *config) usesShoal() bool { return c.uses(kindShoal, kindShoalCluster, kindRedisCluster) }

// usesRedis reports whether redis-server is needed.
func (c *config) usesRedis() bool { return c.uses(kindRedis, kindRedisCluster) }

// usesCluster reports whether a cluster target is selected.
func (c *config) usesCluster() bool { return c.uses(kindRedisCluster, kindShoalCluster) }

// describeCPUs is a short statement of the placement.
func (c *config) describeCPUs() string {
	if c.serverCPUs == nil {
		return "not pinned"
	}
	s := fmt.Sprintf("server on CPU %s, client on CPU %s", c.serverCPUs, c.clientCPUs)
	if c.serverCPUs.Overlaps(c.clientCPUs) {
		s += " (shared!)"
	}
	return s
}

func listTargetsAndWorkloads(w io.Writer) {
	fmt.Fprintln(w, "servers:")
	for _, t := range targets {
		fmt.Fprintf(w, "  %-14s %s\n", t.Name, t.Doc)
	}
	fmt.Fprintln(w, "workloads (redis-benchmark):")
	for _, wl := range workloads {
		fmt.Fprintf(w, "  %-14s %s\n", wl.Name, wl.describe())
	}
	fmt.Fprintln(w, "memory mode (--mem): SET key:%012d with --value-size (256) byte values, pipelined, then RSS per key")
	fmt.Fprintln(w, "memory mode (--mem, --mem-collections alone): hashes, lists, sets, sorted sets of 100 and 100,000 elements, used_memory per element")
	fmt.Fprintln(w, "AOF mode (--aof): the workloads' SETs with appendonly no and each --aof-fsync policy, then the time to load an --aof-size AOF")
}
