// Command bench compares Shoal with redis-server side by side, and both
// with a ceiling server that does nothing but answer.
//
//	go run ./perf/bench                    # throughput and latency table, chart
//	go run ./perf/bench --mem              # memory per key, then per collection element
//	go run ./perf/bench --mem-collections  # per element of hashes, lists, sets, sorted sets
//	go run ./perf/bench --aof              # SET with the AOF off, everysec, always; time to load an AOF
//	go run ./perf/bench --list             # servers and workloads it knows
//	go run ./perf/bench --compare A.json B.json
//
// See perf/README.md for how to run it and read the output.
//
// # Shape
//
// Servers under test (targets.go) and workloads (workloads.go) are data. A
// target is one process (redis, shoal-uring, shoal-epoll, ceiling) or a
// cluster (redis-cluster: redis-server processes joined by the harness;
// shoal-cluster: one `shoal launch`), see cluster.go; server.go starts one
// process pinned with taskset, waits for PING, and stops it by PID.
// runner.go holds the schedule: repetition by repetition, each target in
// turn on fresh processes runs every workload with every client
// (redis-benchmark, and memtier_benchmark when it is on PATH, memtier.go),
// so drift on a shared machine hits all servers alike. The results model
// (results.go) keeps every raw run and aggregates rows of median and
// min–max with ratios to each row's baseline and to the ceiling; report.go
// prints the table and writes results.json, svg.go the chart, compare.go
// the side-by-side table of two results files. loader.go is the pipelined
// raw-RESP loader used to preload the keyspace (node by node in a
// cluster) and by --mem; collections.go loads and measures the collection
// rows of memory mode, one shape per fresh server. aof.go is AOF mode: the
// SET workloads against each server without the AOF and with it under each
// appendfsync policy (targets of their own, with their data directories on
// one filesystem, named from /proc/self/mountinfo by mountinfo.go), then
// the time each server takes to load one AOF the harness writes, and the
// goals each Shoal row met or not. The parsers (csv.go, info.go,
// procfs.go, cpus.go, resp.go, memtier.go, cluster.go, mountinfo.go, and
// parseSize) are fuzzed.
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
//     before loadKeys returns. loadCollections does the same with the
//     commands of a collection shape.
//
// Every wait is bounded: server start (--start-timeout; a cluster's
// forming gets that plus 20 s), each benchmark client run and each load
// (--run-timeout; also a server loading an AOF), server stop (SIGTERM,
// then SIGKILL; 25 s of grace for shoal launch, which stops its shards
// first). Temporary directories, --aof-dir's included, are removed on
// return, also on ^C.
package main
