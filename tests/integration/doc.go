// Package integration tests the real shoal binary from the outside, as a
// user's clients and tools see it: go-redis (RESP2 and RESP3), rueidis
// (its client-side caching over CLIENT TRACKING), raw sockets
// sending well-formed, malformed, split, inline and enormous input,
// redis-cli and redis-benchmark, signals, configuration files and
// command-line options.
//
// The package holds tests only. Each test starts its own `shoal shard`
// (internal/testserver builds ./cmd/shoal once per test binary, or uses
// $SHOAL_BIN) on a free loopback port, and runs once per I/O backend
// (testserver.IOBackends: "uring" and "epoll", narrowed with $SHOAL_IO) as
// subtests named after the backend.
//
// # Targets
//
// SHOAL_INTEGRATION_TARGET=redis runs the same tests against Debian's
// redis-server 7.0 instead (one subtest named "redis", tests of
// Shoal-only features skipped). That is how the expectations themselves are
// checked: a test that fails against Redis is wrong, not Shoal. Where
// Redis's own behaviour has a latitude (how long after --timeout an idle
// client goes, how much memory garbage holds), the tests accept both.
//
// # Bounds
//
// Every socket operation has a deadline, every wait a timeout, every loop
// a limit. Every goroutine a test starts is joined before the test
// returns; every process is stopped (testserver's cleanup, or this
// package's own launcher for the tests that need the exact exit status and
// a config-file path first on the command line), by PID.
//
// The heaviest tests (10,000 connections, megabyte pipelines, 100 MB
// values) stay in the default run; -short shrinks the connection count to
// 1,000. redis-cli and redis-benchmark tests skip when the tools are not
// installed (Debian's redis-tools).
//
// BenchmarkPing and BenchmarkPipelinedSet measure loopback round trips to
// the real binary, per backend (or to redis-server, as above).
//
// # Ownership
//
// Helpers that take a testing.TB (and may call Fatal) run on the test's
// own goroutine; the ones called from goroutines a test starts return
// errors instead. A rawConn belongs to one goroutine at a time.
package integration
