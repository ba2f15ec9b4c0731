package engine

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"shoal/cluster"
	"shoal/resp"
)

// Scripting: EVAL, EVALSHA, their _RO forms and SCRIPT, as Redis 7.0's
// eval.c. One Lua 5.1 state per shard (evallua.go), made at the first
// script, runs every script on the shard's loop; a script runs to its end
// before the loop serves anything else, as in Redis. Scripts are cached by
// the SHA1 of their body until SCRIPT FLUSH.
//
// The commands a script calls run through the same path as a client's
// (call: statistics, slow log, watched keys, blocking and keyspace
// notifications), for a client of the script's own that is not listed
// among the connections. What they change is recorded in the AOF as the
// commands themselves, wrapped in MULTI/EXEC when there are more than one
// (Redis 7's effects replication); EVAL itself is never recorded.
//
// Differences from Redis: a script that runs long is not interrupted and
// other clients wait for it (Redis answers them -BUSY after
// busy-reply-threshold and accepts SCRIPT KILL); SCRIPT KILL therefore
// always finds no script running. SCRIPT DEBUG (the Lua debugger) is not
// offered. Lua's own error messages are those of the embedded VM.

// scriptFlags are a script's shebang flags, as Redis's SCRIPT_FLAG_*.
type scriptFlags uint8

const (
	scriptNoWrites scriptFlags = 1 << iota
	scriptAllowOOM
	scriptAllowStale
	scriptNoCluster
	scriptAllowCrossSlot
	scriptCompat // no shebang: EVAL as before Redis 7
)

var scriptFlagNames = []struct {
	f    scriptFlags
	name string
}{
	{scriptNoWrites, "no-writes"}, {scriptAllowOOM, "allow-oom"},
	{scriptAllowStale, "allow-stale"}, {scriptNoCluster, "no-cluster"},
	{scriptAllowCrossSlot, "allow-cross-slot-keys"},
}

// luaScript is one cached script.
type luaScript struct {
	body  string
	fn    *lua.LFunction
	flags scriptFlags
}

const errNoScript = "NOSCRIPT No matching script. Please use EVAL."

func init() {
	register(
		evalRow("eval", "Execute a Lua script server side", "2.6.0", "script", false, false),
		evalRow("evalsha", "Execute a Lua script server side", "2.6.0", "sha1", true, false),
		evalRow("eval_ro", "Execute a read-only Lua script server side", "7.0.0", "script", false, true),
		evalRow("evalsha_ro", "Execute a read-only Lua script server side", "7.0.0", "sha1", true, true),
		&Command{Name: "script", Arity: -2, ACL: "@slow", Group: "scripting", Since: "2.6.0",
			Summary: "A container for Lua scripts management commands", Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "exists", Arity: -3, Flags: FlagNoScript, ACL: "@scripting",
					Since: "2.6.0", Summary: "Check existence of scripts in the script cache.",
					Complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					Syntax:     "sha1...", Tips: []string{"request_policy:all_shards", "response_policy:agg_logical_and"},
					Proc: scriptExistsCmd},
				{Name: "flush", Arity: -2, Flags: FlagNoScript, ACL: "@scripting",
					Since: "2.6.0", Summary: "Remove all the scripts from the script cache.",
					Complexity: "O(N) with N being the number of scripts in cache",
					Syntax:     "[ASYNC|SYNC]", Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					History: [][2]string{{"6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."}},
					Proc:    scriptFlushCmd},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, ACL: "@scripting",
					Since: "5.0.0", Summary: "Show helpful text about the different subcommands",
					Complexity: "O(1)", Proc: scriptHelpCmd},
				{Name: "kill", Arity: 2, Flags: FlagNoScript | FlagAllowBusy, ACL: "@scripting",
					Since: "2.6.0", Summary: "Kill the script currently in execution.",
					Complexity: "O(1)", Tips: []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					Proc: scriptKillCmd},
				{Name: "load", Arity: 3, Flags: FlagNoScript | FlagStale, ACL: "@scripting",
					Since: "2.6.0", Summary: "Load the specified Lua script into the script cache.",
					Complexity: "O(N) with N being the length in bytes of the script body.",
					Syntax:     "script", Tips: []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Proc: scriptLoadCmd},
			}},
	)
}

// evalRow is the table row of EVAL (by the script's body, or bySHA) or
// its read-only form.
func evalRow(name, summary, since, first string, bySHA, ro bool) *Command {
	flags := FlagNoScript | FlagSkipMonitor | FlagNoMandatoryKeys | FlagStale | FlagNoPropagate
	keyFlags := "RW ACCESS UPDATE"
	if ro {
		flags |= FlagReadonly
		keyFlags = "RO ACCESS"
	} else {
		flags |= FlagMayReplicate
	}
	return &Command{Name: name, Arity: -3, Flags: flags, ACL: "@scripting",
		Group: "scripting", Since: since, Summary: summary,
		Complexity: "Depends on the script that is executed.",
		Syntax:     first + " numkeys [key...] [arg...]",
		Keys:       []KeySpec{{Flags: keyFlags, Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}},
		Proc:       func(s *Shard, c *Client, argv [][]byte) { s.evalGeneric(c, argv, bySHA, ro) },
	}
}

// sha1hex is the lowercase hex SHA1 of b, as Redis names scripts.
func sha1hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// lowerSHA returns the 40-character name in lowercase, and false when it
// cannot be a script's name.
func lowerSHA(b []byte) (string, bool) {
	if len(b) != 40 {
		return "", false
	}
	return strings.ToLower(string(b)), true
}

// parseShebang reads the script's "#!lua flags=..." line, as Redis's
// evalExtractShebangFlags: without one the script runs in compatibility
// mode. It returns the flags and the length of the line (the line feed is
// kept, so line numbers stay the user's).
func parseShebang(body []byte) (scriptFlags, int, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return scriptCompat, 0, ""
	}
	end := strings.IndexByte(string(body), '\n')
	if end < 0 {
		return 0, 0, "Invalid script shebang"
	}
	parts, err := resp.SplitArgs(body[:end])
	if err != nil || len(parts) == 0 {
		return 0, 0, "Invalid engine in script shebang"
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, "Unexpected engine in script shebang: " + string(parts[0])
	}
	var flags scriptFlags
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(string(p), "flags=")
		if !ok {
			return 0, 0, "Unknown lua shebang option: " + string(p)
		}
		if v == "" {
			continue
		}
		for _, name := range strings.Split(v, ",") {
			f := scriptFlags(0)
			for _, d := range scriptFlagNames {
				if d.name == name {
					f = d.f
				}
			}
			if f == 0 {
				return 0, 0, "Unexpected flag in script shebang: " + name
			}
			flags |= f
		}
	}
	return flags, end, ""
}

// createScript compiles body and caches it, or finds it cached. On error
// it replies to c and returns nil.
func (s *Shard) createScript(c *Client, body []byte) (string, *luaScript) {
	sha := sha1hex(body)
	ev := s.evalState()
	if sc := ev.scripts[sha]; sc != nil {
		return sha, sc
	}
	flags, skip, err := parseShebang(body)
	if err != "" {
		c.Error("ERR " + err)
		return "", nil
	}
	fn, cerr := ev.compile(string(body[skip:]))
	if cerr != nil {
		c.Error("ERR Error compiling script (new function): " + cerr.Error())
		return "", nil
	}
	sc := &luaScript{body: string(body), fn: fn, flags: flags}
	ev.scripts[sha] = sc
	ev.mem += int64(len(body) + 40)
	return sha, sc
}

// evalGeneric runs EVAL, EVALSHA and their read-only forms.
func (s *Shard) evalGeneric(c *Client, argv [][]byte, bySHA, ro bool) {
	if len(s.monitors) > 0 {
		s.feedMonitors(c, argv) // before the commands the script calls
	}
	numkeys, ok := parseNumKeys(c, argv, errNotInt)
	if !ok {
		return
	}
	var sha string
	var sc *luaScript
	if bySHA {
		name, ok := lowerSHA(argv[1])
		if ok {
			sha, sc = name, s.evalState().scripts[name]
		}
		if sc == nil {
			c.Error(errNoScript)
			return
		}
	} else if sha, sc = s.createScript(c, argv[1]); sc == nil {
		return
	}
	run := scriptRun{caller: c, sha: sha}
	if !s.startRun(&run, argv, numkeys, sc.flags, ro) {
		return
	}
	s.evalState().call(&run, sc.fn, argv[3:3+numkeys], argv[3+numkeys:])
	s.endRun(&run)
}

// parseNumKeys reads EVAL's and FCALL's numkeys (notInt: the error when
// it is no integer), replying Redis's error when it does not fit.
func parseNumKeys(c *Client, argv [][]byte, notInt string) (int, bool) {
	numkeys, ok := parseInt(argv[2])
	switch {
	case !ok:
		c.Error(notInt)
	case numkeys > int64(len(argv)-3):
		c.Error("ERR Number of keys can't be greater than number of args")
	case numkeys < 0:
		c.Error("ERR Number of keys can't be negative")
	default:
		return int(numkeys), true
	}
	return 0, false
}

// startRun sets up the run of the script or function EVAL or FCALL argv
// calls, with numkeys declared keys, after prepareScript's checks; it
// replies and returns false when it may not run.
func (s *Shard) startRun(run *scriptRun, argv [][]byte, numkeys int, flags scriptFlags, ro bool) bool {
	run.argv, run.cmd, run.slot = argv, s.cmds.lookup(argv), -1
	if !s.prepareScript(run, flags, ro) {
		return false
	}
	if s.cluster != nil && numkeys > 0 {
		run.slot = int(cluster.KeySlot(argv[3]))
	}
	return true
}

// endRun serves the clients blocked on keys the run wrote.
func (s *Shard) endRun(run *scriptRun) {
	if run.wrote && len(s.block.waiting) > 0 {
		s.afterWrite(run.cmd, run.argv)
	}
}

// prepareScript checks what a script's flags allow before it runs, as
// Redis's scriptPrepareForRun, and sets up run; it replies and returns
// false when the script may not run.
func (s *Shard) prepareScript(run *scriptRun, flags scriptFlags, ro bool) bool {
	c := run.caller
	if flags&scriptCompat == 0 {
		if flags&scriptNoCluster != 0 && s.cluster != nil {
			c.Error("ERR Can not run script on cluster, 'no-cluster' flag is set.")
			return false
		}
		if flags&scriptNoWrites == 0 {
			if s.aof.writeErr != 0 && s.prop.on {
				c.Error("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. " +
					"Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: " + errnoString(s.aof.writeErr))
				return false
			}
			if ro {
				c.Error("ERR Can not execute a script with write flag using *_ro command.")
				return false
			}
		}
		if s.Config.Maxmemory > 0 && s.preOOM && flags&(scriptAllowOOM|scriptNoWrites) == 0 {
			c.Error("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'")
			return false
		}
		if flags&scriptNoWrites != 0 {
			run.readOnly = true
		}
		if flags&scriptAllowOOM != 0 {
			run.allowOOM = true
		}
	}
	if ro {
		run.readOnly = true
	}
	run.crossSlot = flags&(scriptCompat|scriptAllowCrossSlot) != 0
	run.oom = s.Config.Maxmemory > 0 && s.preOOM
	return true
}

// scriptCmdFlags are the flags EVAL, EVALSHA, FCALL and their read-only
// forms run with, as Redis's evalGetCommandFlags and fcallGetCommandFlags:
// a script or function that declares its flags runs with write, denyoom
// and stale as they say (and without may-replicate); one in compatibility
// mode, or not found, with the command's own. O(length of the script) for
// an EVAL whose script is not cached.
func (s *Shard) scriptCmdFlags(cmd *Command, argv [][]byte) CmdFlags {
	if len(argv) < 2 {
		return cmd.Flags
	}
	var flags scriptFlags
	switch cmd.Name {
	case "eval", "eval_ro":
		var sc *luaScript
		if s.eval != nil {
			sc = s.eval.scripts[sha1hex(argv[1])]
		}
		if sc != nil {
			flags = sc.flags
		} else if f, _, err := parseShebang(argv[1]); err == "" {
			flags = f
		} else {
			return cmd.Flags
		}
	case "evalsha", "evalsha_ro":
		name, ok := lowerSHA(argv[1])
		if !ok || s.eval == nil || s.eval.scripts[name] == nil {
			return cmd.Flags
		}
		flags = s.eval.scripts[name].flags
	case "fcall", "fcall_ro":
		f := s.funcs.funcs[strings.ToLower(string(argv[1]))]
		if f == nil {
			return cmd.Flags
		}
		flags = f.flags
	default:
		return cmd.Flags
	}
	if flags&scriptCompat != 0 {
		return cmd.Flags
	}
	out := cmd.Flags &^ (FlagStale | FlagDenyOOM | FlagWrite | FlagMayReplicate)
	if flags&(scriptAllowOOM|scriptNoWrites) == 0 {
		out |= FlagDenyOOM
	}
	if flags&scriptNoWrites == 0 {
		out |= FlagWrite
	}
	if flags&scriptAllowStale != 0 {
		out |= FlagStale
	}
	return out
}

func scriptExistsCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(len(argv) - 2)
	for _, a := range argv[2:] {
		name, ok := lowerSHA(a)
		if ok && s.eval != nil && s.eval.scripts[name] != nil {
			c.Int(1)
		} else {
			c.Int(0)
		}
	}
}

func scriptFlushCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 3 || len(argv) == 3 && !eqFold(argv[2], "sync") && !eqFold(argv[2], "async") {
		c.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	if s.eval != nil {
		s.eval.close()
		s.eval = nil
	}
	c.OK()
}

func scriptKillCmd(s *Shard, c *Client, argv [][]byte) {
	c.Error("NOTBUSY No scripts in execution right now.")
}

func scriptLoadCmd(s *Shard, c *Client, argv [][]byte) {
	if sha, sc := s.createScript(c, argv[2]); sc != nil {
		c.BulkString(sha)
	}
}

func scriptHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "SCRIPT", []string{
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}
