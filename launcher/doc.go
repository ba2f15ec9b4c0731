// Package launcher runs a whole machine as Shoal: it plans the shards
// (numa.MakePlan on the machine's topology), lays out their data directory
// and cluster configuration, starts one `shoal shard` process per shard
// pinned to its CPUs and memory node, waits until every shard serves,
// prints the banner, and supervises the shards until it is told to stop.
// cmd/shoal's `launch` and `topo` commands are thin layers over it.
//
// # Data directory
//
// Options.Dir holds shoal.lock (flock'd by the running launcher, so two
// launchers never share a directory) and shard-<i>/ for every shard: that
// shard's --dir, with the nodes.conf the launcher writes before starting
// it. Every nodes.conf lists all shards in Redis's format: node id,
// announce IP, port, bus port (port+10000), config epoch i+1, the i-th of
// cluster.SplitSlots(n), this shard flagged myself, currentEpoch n. Node
// ids are made once: a later launch reuses the ids it finds (NodeIDs). A
// directory laid out for another number of shards, other slots or other
// ports is refused (ErrLayout), since each shard's data belongs to its
// slots.
//
// # Processes and goroutines
//
// Run is called once, from one goroutine, and owns the launch until it
// returns. Each shard has one supervisor goroutine that starts its
// process (numa.StartPinned, in a process group of its own, with
// SIGTERM as its parent-death signal), polls it with PING, waits for it
// and restarts it with backoff (RestartPolicy); a Wait goroutine per
// process and exec's two output-copying goroutines run beside it. The
// process handle, its readiness and restart count live in the shard's
// mutex-guarded fields; Status reads them from any goroutine. The
// launcher signals only processes it started, through their os.Process
// (a pidfd), never by name or by a PID that may have been reused.
//
// The package installs no signal handlers: the caller turns SIGTERM and
// SIGINT into the end of Run's context (a graceful stop: SIGTERM to every
// shard, SIGKILL after Options.StopTimeout) and may call Kill on a second
// signal.
//
// # Output
//
// Everything goes to Options.Out through one mutex-guarded sink: the
// banner as one block, the launcher's Redis-style log lines (role L) and
// every line of every shard's stdout and stderr, each prefixed with its
// source ("shard-3  | ..."). A lineWriter holds a stream's unfinished line
// until its newline (or 64 KiB), so lines of different shards never
// interleave; its buffers belong to it and are reused.
package launcher
