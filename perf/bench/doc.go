// Command bench compares a Shoal shard with redis-server side by side.
//
//	go run ./perf/bench                  # throughput and latency table
//	go run ./perf/bench --mem            # resident memory per key
//	go run ./perf/bench --list           # servers and workloads it knows
//
// See perf/README.md for how to run it and read the output.
//
// # Shape
//
// Servers under test (targets.go) and redis-benchmark workloads
// (workloads.go) are data. server.go starts one server pinned with taskset,
// waits for PING, and stops it by PID. runner.go holds the schedule:
// repetition by repetition, each server in turn on a fresh process runs
// every workload, so drift on a shared machine hits all servers alike. The
// results model (results.go) keeps every raw run and aggregates rows of
// median and min–max; report.go prints the table and writes results.json.
// loader.go is the pipelined raw-RESP loader used to preload the keyspace
// and by --mem. The parsers (csv.go, info.go, procfs.go, cpus.go, resp.go)
// are fuzzed.
//
// # Goroutines and ownership
//
// One goroutine (the caller of run) drives everything: the harness, every
// server value and every control client belong to it. Two kinds of helper
// goroutine exist:
//   - per started server, one goroutine waits for the process and then
//     closes server.exited; server.waitErr may be read only after that.
//   - per load, loadKeys starts one writer goroutine that owns the command
//     buffer and the value template until it returns its result on a
//     channel; the calling goroutine owns the connection's reader. Both end
//     before loadKeys returns.
//
// Every wait is bounded: server start (--start-timeout), each
// redis-benchmark run and each load (--run-timeout), server stop (SIGTERM,
// then SIGKILL). Temporary directories are removed on return, also on
// ^C.
package main
