// Command shoal runs Shoal, a Redis-compatible datastore.
//
//	shoal [launch] [options] [-- shard options]    run the whole machine as shards (package launcher)
//	shoal topo [--json] [plan options]             print the topology and the shard plan
//	shoal shard [config-file] [--name value ...]   run one shard in the foreground
//	shoal version                                  print the version
//
// Options of a shard take Redis's names and forms (--port 7000, --bind
// 127.0.0.1 -::1, --dir /data, --maxclients 10000), on the command line as
// redis-server accepts them and in a redis.conf-style file; CONFIG GET and
// CONFIG SET use the same names. Shoal's own option --io uring|epoll
// chooses the I/O backend.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"shoal/engine"
	"shoal/internal/rlog"
	"shoal/server"
)

// version is Shoal's own version; INFO reports it as shoal_version.
const version = "0.1.0"

const usage = `Shoal %s — a Redis-compatible in-memory datastore

Usage:
  shoal [launch] [options] [-- shard options ...]
      Run this machine as Shoal: one shard per physical core (or as the
      options say), pinned to its CPUs and NUMA node, serving the key space
      through the Redis Cluster protocol on ports 6379 and up; supervised
      until SIGTERM/SIGINT. "shoal launch --help" lists its options.
  shoal topo [--json] [plan options]
      Print the CPU/NUMA topology and the shard plan; start nothing.
  shoal shard [config-file] [--name value ...]
      Run one shard in the foreground. Options are Redis's configuration
      names, given as --name value on the command line or "name value"
      lines in the config file ("-" reads it from standard input):
%s
      and, not being Redis options, on the command line only:
        --profile cpu|mem|allocs|block|mutex|trace|goroutine
            profile the shard: written to DIR/<kind>.pprof (trace:
            DIR/trace.out) on a clean stop, and a snapshot to
            DIR/<kind>-<time>.pprof on SIGUSR2, profiling going on
        --pprof [HOST:]PORT
            serve net/http/pprof there (host 127.0.0.1 when only a port)
  shoal version
      Print the version.
  shoal help
      Print this help.

Examples:
  shoal                                  # every core, then: redis-cli -c -p 6379
  shoal --shards 4 --port 7000 -- --maxclients 20000
  shoal topo --reserve-cores 2
  shoal shard --port 7000
  shoal shard /etc/shoal/shard.conf --io epoll
  shoal shard --port 7000 --profile cpu --pprof 6060
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runLaunch(nil, stdout, stderr)
	}
	switch args[0] {
	case "launch":
		return runLaunch(args[1:], stdout, stderr)
	case "topo":
		return runTopo(args[1:], stdout, stderr)
	case "shard":
		return runShard(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "Shoal v=%s (Redis-compatible, protocol of Redis %s)\n", version, engine.RedisVersion)
		return 0
	case "help", "--help", "-h":
		fmt.Fprintf(stdout, usage, version, engine.ConfigHelp("        "))
		return 0
	}
	if strings.HasPrefix(args[0], "-") {
		return runLaunch(args, stdout, stderr) // "shoal --port 7000" is "shoal launch --port 7000"
	}
	fmt.Fprintf(stderr, "shoal: unknown command %q\n", args[0])
	fmt.Fprintf(stderr, usage, version, engine.ConfigHelp("        "))
	return 1
}

// keepTwoPs gives the Go runtime at least two Ps, even when the shard is
// pinned to one CPU. With a single P, each time the loop blocks in
// io_uring_enter or epoll_wait for more than 20 µs the runtime's monitor
// takes the P away and starts a thread to look for other work, on the
// shard's own core; with a second (idle) P it leaves the waiting loop
// alone. Measured at -P 1 on one pinned CPU: 0.29 context switches per
// request with one P, 0.22 with two (redis-server: 0.19). An explicit
// GOMAXPROCS in the environment is respected.
func keepTwoPs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

func runShard(args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "--help" || a == "-h" {
			fmt.Fprintf(stdout, usage, version, engine.ConfigHelp("        "))
			return 0
		}
	}
	args, prof, err := cutProfilingArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "shoal: %v\n", err)
		return 1
	}
	cfg, err := engine.ParseArgs(args)
	if err != nil {
		var ce *engine.ConfigError
		if errors.As(err, &ce) {
			fmt.Fprintln(stderr, ce.Error())
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "Can't open the log file: %v\n", err)
			return 1
		}
		defer f.Close()
		rlog.Default.SetOutput(f)
	} else {
		rlog.Default.SetOutput(stdout)
	}
	level, _ := rlog.ParseLevel(cfg.LogLevel)
	rlog.Default.SetLevel(level)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		rlog.Logf(rlog.Warning, "Can't create the working directory %s: %v", cfg.Dir, err)
		return 1
	}
	if err := os.Chdir(cfg.Dir); err != nil {
		rlog.Logf(rlog.Warning, "Can't chdir to '%s': %v", cfg.Dir, err)
		return 1
	}
	rlog.Logf(rlog.Notice, "Shoal version=%s, bits=64, pid=%d, just started", version, os.Getpid())
	if cfg.ConfigFile == "" {
		rlog.Logf(rlog.Notice, "No config file specified, using the defaults and the command line options")
	} else {
		rlog.Logf(rlog.Notice, "Configuration loaded from %s", cfg.ConfigFile)
	}
	// Cluster mode reads (or creates) its nodes.conf in dir; a bad file is
	// fatal, as in Redis.
	if err := cfg.LoadCluster(); err != nil {
		rlog.Logf(rlog.Warning, "Unrecoverable error: %v", err)
		if cfg.LogFile != "" {
			fmt.Fprintf(stderr, "shoal: %v\n", err)
		}
		return 1
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			rlog.Logf(rlog.Warning, "Failed to write PID file: %v", err)
		}
	}
	keepTwoPs()
	dir, err := os.Getwd()
	if err != nil {
		dir = "."
	}
	stopProfiling, err := startProfiling(prof, dir)
	if err != nil {
		rlog.Logf(rlog.Warning, "%v", err)
		return 1
	}
	defer stopProfiling()
	srv := server.New(server.Options{Config: cfg, Version: version})
	if err := srv.Run(); err != nil {
		rlog.Logf(rlog.Warning, "%v", err)
		return 1
	}
	return 0
}
