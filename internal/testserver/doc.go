// Package testserver starts real server processes for tests: the shoal
// binary (built once per test binary from ./cmd/shoal) or Debian's
// redis-server, the reference for Redis behaviour. The integration tests,
// the differential test and the benchmark harness share it.
//
// # Ownership
//
// Start, BuildShoal, RequireRedis and IOBackends may be called from any
// goroutine; BuildShoal builds at most once per process however many
// goroutines ask. A *Server is owned by the test that started it: its
// process lives until Stop, Kill or the test's cleanup, whichever comes
// first. Stop, Kill and Output are safe for concurrent use; Stop and Kill
// are idempotent. The process's stdout and stderr are captured into one
// buffer that the package owns; Output returns a copy.
//
// Every process is started in its own process group with SIGKILL as its
// parent-death signal, so a crashed or killed test binary leaves no server
// behind; Stop and Kill signal the process by PID and, after a SIGKILL,
// its group (a launcher's children included).
//
// # Failure reporting
//
// A server that exits by itself before it is stopped, that exits with a
// non-zero status or an unexpected signal when stopped, or that needs
// SIGKILL because it ignored SIGTERM for 5 s, is reported by the test's
// cleanup with t.Errorf, together with its captured output. Kill is the
// way to end a server on purpose without a report.
//
// # Environment
//
//   - SHOAL_BIN: a prebuilt shoal binary to use instead of building one.
//   - SHOAL_IO: restricts IOBackends to the listed backends ("uring",
//     "epoll", or both separated by commas).
package testserver
