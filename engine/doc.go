// Package engine is one shard's data and command execution: the key space,
// the command table and every command, configuration, INFO and statistics.
//
// # Ownership
//
// A Shard and everything reachable from it (the key space, every Client,
// the command table's counters) is owned by one goroutine: the shard's loop,
// locked to its OS thread. No method is safe for concurrent use and none
// takes a lock. The loop (package server) feeds each parsed command to
// Shard.Exec, which appends the reply to Client.Out; the loop sends Out once
// per turn and trims what the kernel took.
//
// The engine knows nothing of sockets. What it needs from the connection
// side (addresses, buffer sizes for CLIENT LIST, closing a killed client) it
// gets through fields of Client that the loop fills, and through the Pending
// list: every client whose Out grew or that must be closed is queued there
// once, and the loop drains it at the end of the turn.
//
// # Cluster mode
//
// With cluster-enabled yes, the process calls Config.LoadCluster once at
// start, before NewShard and before any loop runs: it reads (or creates)
// nodes.conf and leaves the configuration in Config.Cluster. The shard
// keeps it read-only for its life; Exec redirects commands whose keys
// another node serves before running them (clusterstate.go), and the
// CLUSTER family reads it (cluster.go).
//
// # Blocking commands
//
// A client in BLPOP and the like is parked (blocking.go): Client.Blocked
// tells the loop not to run its next commands, a write to a key someone
// waits on serves the waiters in arrival order at once, Cron times them
// out, and every client that leaves the state is listed in
// Shard.Unblocked for the loop to run the input it held back.
//
// # Client pause
//
// CLIENT PAUSE holds the commands of every client, or in WRITE mode those
// that may change the data set, until it ends (pause.go). Exec blocks a
// held client as a blocking command does, with its command copied; when
// the pause ends each goes on Shard.Unblocked, in the order it was held,
// and the loop calls Shard.Resume, which runs that command, before it runs
// the client's later input. While paused, expired keys are not deleted.
//
// # Transactions
//
// A client in MULTI has each command checked by Exec as usual and then
// queued instead of run; EXEC runs the queue with nothing in between
// (multi.go). Exec runs write commands through Shard.run, which marks the
// clients WATCHing a key the command changed; expiry (db.go), flushes
// (server.go) and blocked clients served by a write (blocking.go) mark
// them too. With no key watched, this costs one map-length test.
//
// # Client-side caching
//
// CLIENT TRACKING (tracking.go) rides on the same points: a change WATCH
// sees is also an invalidation for the clients that read the key (sent
// during the command, the running client's own after its reply), and
// BCAST's prefixes are sent by Shard.TrackingTurn, which the loop calls
// once a turn before it sends the output.
//
// # Persistence
//
// Commands record what they change in the AOF buffer as they run
// (propagate.go); the loop writes the buffer through its ring or with
// pwrite and reports back (aof.go, which says who owns which buffer until
// which completion). Loading (aofload.go) runs in slices inside the loop,
// and so does a rewrite (aofrewrite.go), which copies a key out before a
// command changes it. aofmanifest.go is the manifest of Redis 7's
// multi-part AOF; aofrdb.go joins the AOF to the RDB format (rdbobj.go,
// engine/internal/rdb), which DUMP and RESTORE use too (dump.go).
//
// # Files
//
// One command family per file (strings.go, keys.go, hashes.go, sets.go,
// lists.go with blocking.go, zsets.go, geo.go, bitops.go, hyperloglog.go,
// multi.go, pubsub.go with pubsub_bus.go, tracking.go, sort.go, dump.go,
// memory.go, debug.go, connection.go with pause.go, server.go with
// monitor.go and replication.go (ROLE, WAIT), slowlog.go, cluster.go,
// eval.go with evallua.go (scripts on a Lua state, its libraries in
// engine/internal/lualib) and functions.go), each registering its commands
// in the table; each collection
// type's value in a file of its own
// (hashobj.go, setobj.go, listobj.go, zsetobj.go, hllobj.go) over the
// containers of engine/internal (listpack, intset, quicklist, dict, zset,
// rdb) and the geohash arithmetic of engine/internal/geohash; keyspace
// work (db.go) apart from argument parsing and reply writing; error
// strings in errors.go; maxmemory.go the memory limit, evict.go the
// eviction policies and the access clock, lazyfree.go the collections
// after large frees; notify.go keyspace notifications; latency.go the
// LATENCY command, the latency monitor and the per-command latency
// histograms (engine/internal/hdrhist).
package engine
