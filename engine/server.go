package engine

import (
	"strings"
	"time"
)

// The server family: INFO, CONFIG, TIME, LASTSAVE, DBSIZE, FLUSHDB,
// FLUSHALL and SHUTDOWN. INFO's sections are built in info.go, CONFIG's parameter table
// lives in config.go; this file parses the arguments and writes replies.

func init() {
	register(
		&Command{Name: "info", Arity: -1,
			Flags: FlagLoading | FlagStale,
			ACL:   "@dangerous",
			Group: "server", Since: "1.0.0",
			Summary:    "Get information and statistics about the server",
			Complexity: "O(1)",
			Tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			History:    [][2]string{{"7.0.0", "Added support for taking multiple section arguments."}},
			Syntax:     "[section...]",
			Proc:       infoCmd,
		},
		&Command{Name: "config", Arity: -2,
			Group: "server", Since: "2.0.0",
			Summary:    "A container for server configuration commands",
			Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "get", Arity: -3,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					Group: "server", Since: "2.0.0",
					Summary:    "Get the values of configuration parameters",
					Complexity: "O(N) when N is the number of configuration parameters provided",
					History:    [][2]string{{"7.0.0", "Added the ability to pass multiple pattern parameters in one call"}},
					Syntax:     "(parameter)...",
					Proc:       configGetCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					Group: "server", Since: "5.0.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       configHelpCmd,
				},
				{Name: "resetstat", Arity: 2,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					Group: "server", Since: "2.0.0",
					Summary:    "Reset the stats returned by INFO",
					Complexity: "O(1)",
					Proc:       configResetstatCmd,
				},
				{Name: "set", Arity: -4,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					Group: "server", Since: "2.0.0",
					Summary:    "Set configuration parameters to the given values",
					Complexity: "O(N) when N is the number of configuration parameters provided",
					Tips:       []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					History:    [][2]string{{"7.0.0", "Added the ability to set multiple parameters in one call."}},
					Syntax:     "(parameter value)...",
					Proc:       configSetCmd,
				},
			},
		},
		&Command{Name: "time", Arity: 1,
			Flags: FlagLoading | FlagStale | FlagFast,
			Group: "server", Since: "2.6.0",
			Summary:    "Return the current server time",
			Complexity: "O(1)",
			Tips:       []string{"nondeterministic_output"},
			Proc:       timeCmd,
		},
		&Command{Name: "lastsave", Arity: 1,
			Flags: FlagLoading | FlagStale | FlagFast,
			ACL:   "@admin @dangerous",
			Group: "server", Since: "1.0.0",
			Summary:    "Get the UNIX time stamp of the last successful save to disk",
			Complexity: "O(1)",
			Tips:       []string{"nondeterministic_output"},
			Proc:       lastsaveCmd,
		},
		&Command{Name: "dbsize", Arity: 1,
			Flags: FlagReadonly | FlagFast,
			ACL:   "@keyspace",
			Group: "server", Since: "1.0.0",
			Summary:    "Return the number of keys in the selected database",
			Complexity: "O(1)",
			Tips:       []string{"request_policy:all_shards", "response_policy:agg_sum"},
			Proc:       dbsizeCmd,
		},
		&Command{Name: "swapdb", Arity: 3,
			Flags: FlagWrite | FlagFast,
			ACL:   "@keyspace @dangerous",
			Group: "server", Since: "4.0.0",
			Summary:    "Swaps two Redis databases",
			Complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
			Syntax:     "index1:integer index2:integer",
			Proc:       swapdbCmd,
		},
		&Command{Name: "flushdb", Arity: -1,
			Flags: FlagWrite,
			ACL:   "@keyspace @dangerous",
			Group: "server", Since: "1.0.0",
			Summary:    "Remove all keys from the current database",
			Complexity: "O(N) where N is the number of keys in the selected database",
			Tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			History:    [][2]string{{"4.0.0", "Added the `ASYNC` flushing mode modifier."}, {"6.2.0", "Added the `SYNC` flushing mode modifier."}},
			Syntax:     "async:[ASYNC@4.0.0 | SYNC@6.2.0]",
			Proc:       flushdbCmd,
		},
		&Command{Name: "flushall", Arity: -1,
			Flags: FlagWrite,
			ACL:   "@keyspace @dangerous",
			Group: "server", Since: "1.0.0",
			Summary:    "Remove all keys from all databases",
			Complexity: "O(N) where N is the total number of keys in all databases",
			Tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			History:    [][2]string{{"4.0.0", "Added the `ASYNC` flushing mode modifier."}, {"6.2.0", "Added the `SYNC` flushing mode modifier."}},
			Syntax:     "async:[ASYNC@4.0.0 | SYNC@6.2.0]",
			Proc:       flushallCmd,
		},
		&Command{Name: "shutdown", Arity: -1,
			Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoMulti | FlagAllowBusy,
			Group: "server", Since: "1.0.0",
			Summary:    "Synchronously save the dataset to disk and then shut down the server",
			Complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			History:    [][2]string{{"7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."}},
			Syntax:     "[NOSAVE | SAVE] [NOW@7.0.0] [FORCE@7.0.0] [ABORT@7.0.0]",
			Proc:       shutdownCmd,
		},
	)
}

// Errors only this family replies.
const (
	errNoShutdown     = "ERR No shutdown in progress."
	errShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs."
)

// infoCmd replies the requested INFO sections (info.go) as one bulk
// string, verbatim ("txt") in RESP3 as Redis does.
func infoCmd(s *Shard, c *Client, argv [][]byte) {
	c.Verbatim([]byte(s.info(argv[1:])))
}

// configGetCmd replies every parameter matching any of the arguments, as
// a map (a flat array in RESP2), each parameter once. An argument without
// glob characters is looked up by name (ignoring case) and reported under
// the name as written; a pattern matches the parameter names, ignoring
// case. The order is that of the arguments, then of the parameter table.
func configGetCmd(s *Shard, c *Client, argv [][]byte) {
	type match struct {
		name string
		p    *param
	}
	var found []match
	seen := make(map[string]bool)
	for _, a := range argv[2:] {
		if !strings.ContainsAny(string(a), "[*?") {
			lname := strings.ToLower(string(a))
			if seen[lname] {
				continue
			}
			if p := findParam(string(a)); p != nil {
				seen[lname] = true
				found = append(found, match{string(a), p})
			}
			continue
		}
		for _, p := range params {
			if !seen[p.name] && globMatch(a, []byte(p.name), true) {
				seen[p.name] = true
				found = append(found, match{p.name, p})
			}
		}
	}
	c.MapLen(len(found))
	for _, m := range found {
		c.BulkString(m.name)
		c.BulkString(m.p.get(s.Config))
	}
}

func configSetCmd(s *Shard, c *Client, argv [][]byte) {
	if (len(argv)-2)%2 != 0 {
		c.Error(errSyntax)
		return
	}
	if msg := s.configSet(c, argv[2:]); msg != "" {
		c.Error(msg)
		return
	}
	c.OK()
}

// configResetstatCmd zeroes what INFO reports as counters: the stats, the
// per-command statistics, latency histograms and the error statistics,
// the instantaneous rates and the memory peak.
func configResetstatCmd(s *Shard, c *Client, argv [][]byte) {
	s.Stats = Stats{}
	s.lazy.reclaimed = 0
	var walk func([]*Command)
	walk = func(cmds []*Command) {
		for _, cmd := range cmds {
			cmd.calls, cmd.usec, cmd.rejected, cmd.failed = 0, 0, 0, 0
			walk(cmd.Subs)
		}
	}
	walk(s.cmds.sorted)
	s.resetLatencyHistograms()
	clear(s.errorStats)
	s.metrics = instMetrics{}
	s.memPeak = 0
	c.OK()
}

// configHelp is Redis's CONFIG HELP text, in its order.
var configHelp = []helpEntry{
	{"get", []string{"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values."}},
	{"set", []string{"SET <directive> <value>",
		"    Set the configuration <directive> to <value>."}},
	{"resetstat", []string{"RESETSTAT",
		"    Reset statistics reported by the INFO command."}},
	{"rewrite", []string{"REWRITE",
		"    Rewrite the configuration file."}},
}

func configHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "CONFIG", s.helpLines("config", configHelp))
}

// timeCmd replies the server's time as seconds and microseconds, both as
// bulk strings.
func timeCmd(s *Shard, c *Client, argv [][]byte) {
	var us int64
	if s.clock != nil {
		us = s.clock() * 1000
	} else {
		us = time.Now().UnixMicro()
	}
	c.ArrayLen(2)
	c.BulkInt(us / 1e6)
	c.BulkInt(us % 1e6)
}

// lastSave is the unix time, in seconds, of the last successful save of
// the dataset to disk. Shoal writes no RDB snapshot, so it is what a Redis
// that never saved reports: the time the server started, at which Redis
// considers the dataset saved. LASTSAVE and INFO persistence's
// rdb_last_save_time both report it.
func (s *Shard) lastSave() int64 { return s.startMs / 1000 }

func lastsaveCmd(s *Shard, c *Client, argv [][]byte) { c.Int(s.lastSave()) }

func dbsizeCmd(s *Shard, c *Client, argv [][]byte) { c.Int(int64(s.db.Len())) }

// flushMode checks FLUSHDB/FLUSHALL's optional ASYNC or SYNC. Both modes
// return at once: clearing the key space is O(1) and the garbage
// collector frees the memory in the background, which is what ASYNC
// promises, while SYNC's promise (the keys are gone when the reply comes)
// holds as well.
func flushMode(c *Client, argv [][]byte) bool {
	if len(argv) == 1 || len(argv) == 2 && (eqFold(argv[1], "async") || eqFold(argv[1], "sync")) {
		return true
	}
	c.Error(errSyntax)
	return false
}

// SWAPDB index1 index2. A shard has one database, as Redis with databases
// 1: swapping it with itself is all there is to do (and counts as a
// change, as in Redis, so that it is recorded).
func swapdbCmd(s *Shard, c *Client, argv [][]byte) {
	if s.cluster != nil {
		c.Error("ERR SWAPDB is not allowed in cluster mode")
		return
	}
	var ids [2]int64
	for i, msg := range [2]string{"ERR invalid first DB index", "ERR invalid second DB index"} {
		id, ok := parseInt(argv[1+i])
		if !ok || id != int64(int32(id)) {
			c.Error(msg)
			return
		}
		ids[i] = id
	}
	if ids[0] != 0 || ids[1] != 0 {
		c.Error("ERR DB index is out of range")
		return
	}
	s.dirty++
	c.OK()
}

// flush empties the key space and returns how many keys it held.
func (s *Shard) flush() int64 {
	s.touchFlushed() // watched keys that exist change (multi.go)
	n := int64(s.db.Len())
	objects, heap := s.db.Stats().Objects, int64(readUsedMemory())
	s.db.Clear()
	s.flushed(objects, heap)
	s.expire.cursor, s.expire.avgTTL = 0, 0
	s.dirty += n
	return n
}

func flushdbCmd(s *Shard, c *Client, argv [][]byte) {
	if !flushMode(c, argv) {
		return
	}
	s.flush()
	c.OK()
}

// flushallCmd is FLUSHDB for a shard's one database; like Redis it counts
// one more change besides the keys removed.
func flushallCmd(s *Shard, c *Client, argv [][]byte) {
	if !flushMode(c, argv) {
		return
	}
	s.flush()
	s.dirty++
	c.OK()
}

// shutdownCmd stops the shard: it asks the loop to finish its turn, close
// every connection and return (the loop flushes what it must persist).
// No reply is sent, as in Redis, unless the shutdown is refused.
//
// Modifiers are checked as Redis checks them. NOW and FORCE change
// nothing: a shard has no replicas to wait for and no save to fail. Shoal
// writes no RDB snapshot, so SAVE (save the dataset even with no save
// points) cannot be honoured: as Redis does when its save fails, the
// shutdown is refused, unless FORCE says to stop anyway. ABORT finds no
// shutdown in progress: one never waits.
func shutdownCmd(s *Shard, c *Client, argv [][]byte) {
	var nosave, save, now, force, abort bool
	for _, a := range argv[1:] {
		switch {
		case eqFold(a, "nosave"):
			nosave = true
		case eqFold(a, "save"):
			save = true
		case eqFold(a, "now"):
			now = true
		case eqFold(a, "force"):
			force = true
		case eqFold(a, "abort"):
			abort = true
		default:
			c.Error(errSyntax)
			return
		}
	}
	if abort && (nosave || save || now || force) || nosave && save {
		c.Error(errSyntax)
		return
	}
	if abort {
		c.Error(errNoShutdown)
		return
	}
	if save && !force {
		logf("warning", "SHUTDOWN SAVE: Shoal writes no RDB snapshot, so the dataset cannot be saved; use SHUTDOWN NOSAVE, or SHUTDOWN SAVE FORCE to stop anyway.")
		logf("warning", "Errors trying to shut down the server. Check the logs for more information.")
		c.Error(errShutdownFailed)
		return
	}
	s.shutdown = true
}
