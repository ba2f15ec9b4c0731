// Package server is a shard's event loop: it joins the network (io_uring,
// or epoll where io_uring is refused), the RESP parser and the engine.
//
// # Ownership
//
// Run locks its goroutine to its OS thread for its whole life. That one
// thread creates the ring (io_uring's SINGLE_ISSUER and DEFER_TASKRUN
// require it), owns every connection, calls the engine, and is the only
// one to submit to or reap from the ring. The engine is touched by no
// other goroutine. The others are the signal watcher, which writes to an
// eventfd the loop polls, and so wakes it to stop; in cluster mode, the
// cluster bus's link goroutines (bus.go), which hand PUBLISH frames to
// and from the loop through locked queues and the same eventfd; and the
// goroutines that fdatasync the AOF for the epoll backend and a
// rewrite's new base (engine/aof.go), which touch only a file
// descriptor.
//
// # A turn of the loop
//
//  1. Wait for completions (or readiness, with epoll) until the next cron
//     tick, submitting what was queued in the same system call.
//  2. For each: accept a connection, or parse what a connection sent and
//     execute each command it holds (engine.Shard.Exec appends the reply
//     to the client's Out), or finish a send.
//  3. Send the output of every client the engine queued on Pending, once
//     per turn, as Redis writes replies before it sleeps.
//  4. Run the engine's cron when its tick is due.
//
// # Buffers
//
// io_uring: received data lands in buffers of a provided-buffer ring; a
// buffer belongs to the kernel from the time it is published until a
// receive completion names it, then to the loop, which parses commands
// straight out of it, copies any incomplete tail to the connection's own
// input buffer, and gives the buffer back before it handles the next
// completion. A send hands the connection's output buffer to the kernel
// until its completion: meanwhile new replies go to a second buffer, and
// the two swap when the send is done.
//
// epoll: data is read into the connection's input buffer and replies are
// written with write(2) from its output buffer at the end of the turn;
// what the socket does not take waits for EPOLLOUT.
package server
