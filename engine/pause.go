package engine

import "slices"

// CLIENT PAUSE and CLIENT UNPAUSE (Redis's pauseClients and
// unpauseClients in networking.c, the check in processCommand).
//
// A pause holds the commands of every client for a while: all of them
// (ALL, the default), or in WRITE mode only those that may change the data
// set or reach a replica: write commands, the may-replicate ones (PUBLISH,
// SPUBLISH, PFCOUNT) and an EXEC whose transaction holds one. A command is
// held after every check that may refuse it (unknown command, arity,
// cluster redirection, maxmemory, loading...), so a refused one is answered
// at once, and inside MULTI a write is held rather than queued, as in
// Redis. A pause given while one is in effect keeps the later end and the
// stricter mode of the two, whichever gave it (CLIENT PAUSE 1000 WRITE then
// CLIENT PAUSE 10 ALL holds everything for 1000 ms).
//
// A held client is blocked the way a client in BLPOP is (Client.Blocked,
// blocking.go): it counts in INFO's blocked_clients, shows flag b and the
// held command as cmd= in CLIENT LIST, and the loop runs none of its later
// input. CLIENT UNBLOCK answers 0 and leaves it held (Redis 7.0.15 aborts
// on UNBLOCK ... TIMEOUT of a paused client, and with ERROR both replies
// the error and runs the command later). Its command is copied and kept,
// in the order clients were held. A pause is the shard's own, as each
// node's is in a Redis Cluster.
//
// The pause ends with CLIENT UNPAUSE, or at the first cron tick (or lazy
// expiry check) after its end time, as in Redis, which lets commands that
// arrive in between wait with the others. Then every held client goes on
// Shard.Unblocked, still blocked, in the order it was held; the loop calls
// Shard.Resume for each, which runs the held command through Exec again
// (it may be held again by a new pause, block in BLPOP, or be refused),
// and then runs the input the client sent meanwhile. A client held or
// waiting to resume that disconnects or is killed is forgotten
// (Unregister).
//
// While a pause is in effect the data set stays as it is: the active
// expiry cycle does not run, and a key found past its time to live is
// reported missing but not deleted (no expired event, expired_keys does
// not move); once the pause ends the next access or cycle deletes it. The
// commands of a transaction that paused clients itself (MULTI, CLIENT
// PAUSE, SET..., EXEC) still run, as in Redis, and those may delete
// expired keys as they write. Keys are never evicted by a shard
// (maxmemory-policy is noeviction), so there is no eviction to hold.
//
// Costs: with no pause, Exec tests one byte. Holding a command copies its
// arguments (one allocation); ending a pause is O(held clients).

// pauseKind is a pause's mode, ordered by strictness as Redis's
// pause_type.
type pauseKind uint8

const (
	pauseOff pauseKind = iota
	pauseWrite
	pauseAll
)

// pauseState is the shard's side of CLIENT PAUSE.
type pauseState struct {
	kind pauseKind
	end  int64     // unix ms: the pause is in effect while the clock is at or before it
	held []*Client // the clients held, in the order their commands came
	// inTx: CLIENT PAUSE ran inside the EXEC now running; the rest of
	// the transaction runs and may delete expired keys it writes over.
	inTx bool
}

// Errors only CLIENT PAUSE replies.
const (
	errPauseMode    = "ERR CLIENT PAUSE mode must be WRITE or ALL"
	errPauseTimeout = "ERR timeout is not an integer or out of range"
)

// clientPauseRow and clientUnpauseRow are rows of CLIENT's table
// (connection.go).
var (
	clientPauseRow = &Command{Name: "pause", Arity: -3,
		Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "2.9.50",
		Summary:    "Stop processing commands from clients for some time",
		Complexity: "O(1)",
		History:    [][2]string{{"6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."}},
		Syntax:     "timeout:integer mode:[WRITE | ALL]@6.2.0",
		Proc:       clientPauseCmd,
	}
	clientUnpauseRow = &Command{Name: "unpause", Arity: 2,
		Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "6.2.0",
		Summary:    "Resume processing of clients that were paused",
		Complexity: "O(N) Where N is the number of paused clients",
		Proc:       clientUnpauseCmd,
	}
)

// CLIENT PAUSE timeout [WRITE|ALL]: the mode is checked before the
// timeout, as in Redis. A timeout of 0 pauses nothing (its end has
// passed); one whose end overflows wraps into the past, as Redis's does.
func clientPauseCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 4 {
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(argv[1]), 128) + "'. Try CLIENT HELP.")
		return
	}
	kind := pauseAll
	if len(argv) == 4 {
		switch {
		case eqFold(argv[3], "write"):
			kind = pauseWrite
		case eqFold(argv[3], "all"):
		default:
			c.Error(errPauseMode)
			return
		}
	}
	ms, ok := parseInt(argv[2])
	if !ok {
		c.Error(errPauseTimeout)
		return
	}
	if ms < 0 {
		c.Error(errTimeoutNegative)
		return
	}
	end := int64(0)
	if ms > 0 {
		end = s.nowMs + ms // wraps negative past the int64 range, as in Redis
	}
	s.pauseClients(kind, end)
	if c.inMulti() { // run by EXEC: the rest of the transaction goes on
		s.pause.inTx = true
	}
	c.OK()
}

// CLIENT UNPAUSE: ends the pause, if any. O(held clients).
func clientUnpauseCmd(s *Shard, c *Client, argv [][]byte) {
	s.unpause()
	c.OK()
}

// pauseClients merges a pause of kind until end (unix ms) into the one in
// effect: the stricter kind and the later end.
func (s *Shard) pauseClients(kind pauseKind, end int64) {
	p := &s.pause
	if p.kind == pauseOff {
		p.kind, p.end = kind, end
	} else {
		p.kind, p.end = max(p.kind, kind), max(p.end, end)
	}
	if p.end < s.nowMs {
		s.unpause()
	}
}

// unpause ends the pause and hands every held client to the loop, in the
// order they were held (see Resume). O(held clients).
func (s *Shard) unpause() {
	s.pause.kind, s.pause.end = pauseOff, 0
	for _, c := range s.pause.held {
		s.unlistBlocked(c)
		c.blk.released = true
		s.Unblocked = append(s.Unblocked, c)
	}
	clear(s.pause.held)
	s.pause.held = s.pause.held[:0]
}

// paused reports whether a pause is in effect, ending it first when its
// time has passed, as Redis's checkClientPauseTimeoutAndReturnIfPaused.
func (s *Shard) paused() bool {
	if s.pause.kind == pauseOff {
		return false
	}
	if s.pause.end < s.nowMs {
		s.unpause()
		return false
	}
	return true
}

// pauseCron ends a pause whose time has passed (Cron).
func (s *Shard) pauseCron() { s.paused() }

// expiryHeld reports whether an expired key must be left in place: a pause
// is in effect and no transaction that paused clients itself is writing.
func (s *Shard) expiryHeld() bool {
	return s.pause.kind != pauseOff && !s.pause.inTx && s.paused()
}

// pauseHolds reports whether the pause in effect holds cmd for c.
func (s *Shard) pauseHolds(c *Client, cmd *Command, argv [][]byte) bool {
	const mayChange = FlagWrite | FlagMayReplicate
	flags := cmd.Flags
	if cmd.Group == "scripting" && cmd.parent == nil {
		flags = s.scriptCmdFlags(cmd, argv)
	}
	switch {
	case s.pause.kind == pauseAll, flags&mayChange != 0:
		return true
	case cmd.parent == nil && cmd.Name == "exec":
		return c.inMulti() && c.tx.flags&mayChange != 0
	}
	return false
}

// hold blocks c with its command cmd (c.lastCmd) until the pause ends. The
// arguments are copied: Exec's alias the connection's input.
func (s *Shard) hold(c *Client, argv [][]byte) {
	c.blk = &blockedOn{cmd: c.lastCmd, argv: cloneArgv(argv), idx: len(s.block.clients), held: true}
	s.block.clients = append(s.block.clients, c)
	s.pause.held = append(s.pause.held, c)
}

// Resume runs the command a pause held c with, once the pause has ended:
// the loop calls it for each client on Unblocked before it runs the input
// that client sent meanwhile. For any other client it does nothing.
func (s *Shard) Resume(c *Client) {
	b := c.blk
	if b == nil || !b.released {
		return
	}
	c.blk = nil
	if c.closed {
		return
	}
	s.Exec(c, b.argv)
}

// dropHeld forgets c, held by a pause, as it disconnects.
func (s *Shard) dropHeld(c *Client) {
	if i := slices.Index(s.pause.held, c); i >= 0 {
		s.pause.held = slices.Delete(s.pause.held, i, i+1)
	}
}

// randomkeyTries is how many keys RANDOMKEY draws, while a pause keeps
// expired keys, before it returns an expired one when every key has a time
// to live (they might all have expired), as Redis's dbRandomKey does on a
// replica, which keeps expired keys too (Redis 7.0.15 loops for ever on a
// paused primary).
const randomkeyTries = 100
