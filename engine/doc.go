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
// # Files
//
// One command family per file (strings.go, keys.go, connection.go,
// server.go, cluster.go), each registering its commands in the table; keyspace work
// (db.go) apart from argument parsing and reply writing; error strings in
// errors.go.
package engine
