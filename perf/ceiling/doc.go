// Command ceiling is the benchmark harness's reference server: the least a
// Redis-compatible server on Shoal's own I/O path can do. It accepts
// connections, parses every command with resp.Parser and answers each with
// a constant reply of the shape the benchmark expects (+OK for SET, one
// fixed --value-size byte bulk for GET, :1 for INCR, ...), and touches no
// key space. The harness (perf/bench, target "ceiling") runs the same
// client against it as against Shoal and redis-server, so the table shows
// Shoal as a fraction of what the kernel, the loop and the client allow on
// the machine.
//
//	ceiling --port 7000 [--bind 127.0.0.1] [--value-size 256]
//
// It runs on io_uring only (Linux 6.0 or later: multishot accept, multishot
// receive, provided-buffer rings), built the way server/ runs a shard: one
// goroutine locked to its OS thread owns the ring, the listener and every
// connection; one submit-and-wait per loop turn; a multishot accept; one
// multishot receive per connection taking buffers from a provided-buffer
// ring; replies appended to the connection's output buffer while the turn
// handles completions, and one send per connection per turn. It stops on
// SIGTERM or SIGINT within one wait slice (100 ms).
//
// # Who owns what
//
//   - The loop goroutine (server.run) owns the Ring, the BufRing, the
//     listener and every conn: nothing here takes a lock. The only other
//     goroutine is the signal watcher, which sets the stop flag the loop
//     reads once per turn.
//   - A provided buffer is the kernel's until a receive completion names
//     it, then the loop's: it parses commands straight out of it, copies an
//     incomplete tail into conn.in, and recycles the buffer before handling
//     the next completion.
//   - conn.sending is the kernel's from the send's submission until its
//     completion; replies produced meanwhile go to conn.out, and the two
//     buffers swap when the send completes. A conn (and so its buffers)
//     stays in the connection table until its last request has completed,
//     even after it was closed.
//
// # Replies
//
// reply.go holds the table of commands and reply shapes. Arity is not
// checked: the ceiling answers the shape of a well-formed benchmark
// command, and anything it does not know with an unknown-command error.
// DBSIZE answers 0 and INFO describes the ceiling itself, so tools that
// look can tell it holds nothing.
package main
