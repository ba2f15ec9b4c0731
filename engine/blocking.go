package engine

import (
	"bytes"
	"math"
	"math/big"

	"shoal/engine/internal/kv"
)

// Blocking commands (Redis's blocked.c), used by the list family's BLPOP,
// BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP and the sorted set family's
// BZPOPMIN, BZPOPMAX and BZMPOP.
//
// A blocking command that finds nothing to serve calls Shard.blockClient: the
// client is filed, in arrival order, under each key it waits on, with a
// copy of its command and its deadline, and gets no reply. From then on:
//
//   - Exec, after every write command that names a key some client waits
//     on (by the command's key specs: pushes, LMOVE's destination, RENAME
//     and COPY onto it...), marks that key ready and serves it at once,
//     before the next command runs, as Redis does after each call: while
//     the key holds a non-empty list, the first client waiting on it runs
//     its command again, restricted to that key (block.retryKey), and is
//     unblocked with the reply that run wrote. Clients are served one at
//     a time in the order they blocked (fair FIFO); a client served by
//     BLMOVE pushes onto its destination, which may serve others in turn.
//   - Cron times out the clients whose deadline has passed, replying a
//     null array as Redis 7.0 does for every list command.
//   - CLIENT UNBLOCK ends the wait with that same timeout reply or an
//     UNBLOCKED error; a disconnection (Unregister) just forgets it.
//
// A client served or unblocked by CLIENT UNBLOCK has its command logged in
// the slow log then, not when it blocked (slowlog.go).
// A client whose command CLIENT PAUSE holds is blocked too, on no key and
// with no timeout (pause.go).
//
// Every unblocked client is queued on Shard.Unblocked. A blocked client's
// later commands (pipelined behind the blocking one) must not run while it
// waits: the loop stops feeding a client to Exec while Client.Blocked, and
// runs the input it held once the client shows up on Unblocked.
//
// Like the rest of the shard this is owned by the loop's goroutine. Costs:
// blocking is O(keys); serving a key O(waiters on it) per client served
// (removing it from the FIFO of each of its keys); the timeout scan in
// Cron is O(blocked clients) per tick.

// clientUnblockRow is CLIENT UNBLOCK's row, a subcommand in CLIENT's
// table (connection.go).
var clientUnblockRow = &Command{Name: "unblock", Arity: -3,
	Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
	ACL:   "@connection",
	Group: "connection", Since: "5.0.0",
	Summary:    "Unblock a client blocked in a blocking command from a different connection",
	Complexity: "O(log N) where N is the number of client connections",
	Syntax:     "client-id:integer [TIMEOUT | ERROR]",
	Proc:       clientUnblockCmd,
}

// Errors only blocking replies.
const (
	errTimeoutFloat    = "ERR timeout is not a float or out of range"
	errUnblockReason   = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
	errUnblockedClient = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
)

// blockedOn is what a blocked client waits for.
type blockedOn struct {
	cmd      *Command
	argv     [][]byte // a private copy of the command, run again when a key is ready
	keys     [][]byte // the keys waited on, each once (aliasing argv)
	deadline int64    // unix ms; 0 waits forever
	usec     int64    // how long the run that blocked took, for the slow log and the latency histograms
	idx      int      // position in blockState.clients; -1 once taken off it
	typ      uint8    // the value type that serves it (typeList, typeZSet)
	held     bool     // held by CLIENT PAUSE, waiting on no key (pause.go)
	released bool     // held, and the pause ended: Resume runs the command
}

// blockState is the shard's side of blocking.
type blockState struct {
	waiting  map[string][]*Client // by key: the clients waiting on it, in the order they blocked
	clients  []*Client            // every blocked client
	timeouts int                  // blocked clients with a deadline
	// next is a lower bound of the earliest deadline (unix ms), 0 when
	// none: the loop wakes for it (BlockedDeadline), so timeouts have
	// Redis's millisecond resolution, not the cron's.
	next     int64
	ready    [][]byte // keys written since the last serve that clients wait on, each once
	readySet map[string]bool

	// While a blocked client's command runs again: the key to serve
	// from, and whether the command found nothing and would block again.
	retryKey     []byte
	stillBlocked bool
}

// Blocked reports whether c waits in a blocking command: the loop must
// not run its next command until it is on Shard.Unblocked.
func (c *Client) Blocked() bool { return c.blk != nil }

// BlockedClients is the number of clients blocked (INFO blocked_clients).
func (s *Shard) BlockedClients() int { return len(s.block.clients) }

// parseBlockTimeout reads a blocking command's timeout in seconds
// (fractional, as a long double) as Redis 7.0 does, and returns the
// deadline in unix ms, 0 for none. As in Redis: the milliseconds are
// rounded up (so any positive timeout waits at least 1 ms), a value
// beyond the int64 range is negative, and a deadline that overflows
// waits forever. It replies the error itself (ok false).
func (s *Shard) parseBlockTimeout(c *Client, arg []byte) (deadline int64, ok bool) {
	var ms int64
	if n, isInt := parseInt(arg); isInt {
		ms = n * 1000
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			ms = math.MinInt64 // C's conversion of an out-of-range long double
		}
	} else {
		f := parseLongDouble(arg)
		if f == nil {
			c.Error(errTimeoutFloat)
			return 0, false
		}
		ms = ceilMillis(f)
	}
	if ms < 0 {
		c.Error(errTimeoutNegative)
		return 0, false
	}
	if ms == 0 {
		return 0, true
	}
	if ms > math.MaxInt64-s.nowMs {
		return 0, true // Redis's deadline wraps and never comes
	}
	return s.nowMs + ms, true
}

// ceilMillis is ceil(f*1000) in long double precision, converted to int64
// as x86 does: math.MinInt64 when out of range (infinities included).
func ceilMillis(f *big.Float) int64 {
	if f.IsInf() {
		return math.MinInt64
	}
	m := new(big.Float).SetPrec(64).Mul(f, big.NewFloat(1000))
	i, acc := m.Int(nil) // truncated towards zero
	if acc == big.Below && m.Sign() > 0 {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() {
		return math.MinInt64
	}
	return i.Int64()
}

// retrySkips reports whether a blocking command, run again to serve a
// ready key, must leave key alone: it serves from that key only, as
// Redis serves a blocked client from the key that became ready.
func (s *Shard) retrySkips(key []byte) bool {
	return s.block.retryKey != nil && !bytes.Equal(key, s.block.retryKey)
}

// blockClient makes c wait on argv[first..last] (each key once) until deadline
// (unix ms, 0 for ever), for the command running now. Called again while
// the command is retried, it only notes that the client stays blocked.
// O(len(argv)), with one allocation for the command's copy.
func (s *Shard) blockClient(c *Client, argv [][]byte, first, last int, deadline int64) {
	s.blockClientOn(c, argv, first, last, deadline, typeList)
}

// blockClientOn is blockClient for a command that a key of type typ
// serves (typeList for the list family, typeZSet for BZPOPMIN and the
// like).
func (s *Shard) blockClientOn(c *Client, argv [][]byte, first, last int, deadline int64, typ uint8) {
	if s.block.retryKey != nil {
		s.block.stillBlocked = true
		return
	}
	cp := cloneArgv(argv)
	b := &blockedOn{cmd: c.lastCmd, argv: cp, deadline: deadline, idx: len(s.block.clients), typ: typ}
	if s.block.waiting == nil {
		s.block.waiting = make(map[string][]*Client)
		s.block.readySet = make(map[string]bool)
	}
	for _, key := range cp[first : last+1] {
		w := s.block.waiting[string(key)]
		if len(w) > 0 && w[len(w)-1] == c {
			continue // a key named twice
		}
		s.block.waiting[string(key)] = append(w, c)
		b.keys = append(b.keys, key)
	}
	c.blk = b
	s.block.clients = append(s.block.clients, c)
	if deadline != 0 {
		s.block.timeouts++
		if s.block.next == 0 || deadline < s.block.next {
			s.block.next = deadline
		}
	}
}

// cloneArgv copies a command's arguments into one buffer.
func cloneArgv(argv [][]byte) [][]byte {
	size := 0
	for _, a := range argv {
		size += len(a)
	}
	buf := make([]byte, 0, size)
	cp := make([][]byte, len(argv))
	for i, a := range argv {
		buf = append(buf, a...)
		cp[i] = buf[len(buf)-len(a) : len(buf) : len(buf)]
	}
	return cp
}

// BlockedDeadline is when the loop must run ExpireBlocked next (unix ms),
// 0 when no blocked client has a timeout.
func (s *Shard) BlockedDeadline() int64 {
	if s.block.timeouts == 0 {
		return 0
	}
	return s.block.next
}

// ExpireBlocked times out the blocked clients whose deadline passed, if
// one may have; the loop calls it each turn. O(1) unless one is due.
func (s *Shard) ExpireBlocked() {
	if s.block.timeouts > 0 && s.block.next != 0 && s.block.next <= s.nowMs {
		s.expireBlocked()
	}
}

// forget takes c, blocked, out of every waiting list.
func (s *Shard) forget(c *Client) {
	b := c.blk
	s.unlistBlocked(c)
	c.blk = nil
	for _, key := range b.keys {
		w := s.block.waiting[string(key)]
		for i, x := range w {
			if x == c {
				w = append(w[:i], w[i+1:]...)
				break
			}
		}
		if len(w) == 0 {
			delete(s.block.waiting, string(key))
		} else {
			s.block.waiting[string(key)] = w
		}
	}
}

// unlistBlocked takes c off the list of blocked clients (INFO
// blocked_clients, the timeout scan), if it is still on it.
func (s *Shard) unlistBlocked(c *Client) {
	b := c.blk
	if b.idx < 0 {
		return
	}
	last := len(s.block.clients) - 1
	moved := s.block.clients[last]
	s.block.clients[b.idx] = moved
	moved.blk.idx = b.idx
	s.block.clients[last] = nil
	s.block.clients = s.block.clients[:last]
	if b.deadline != 0 {
		s.block.timeouts--
	}
	b.idx = -1
}

// unblock ends c's wait once its reply is written: its output and the
// input it held go to the loop.
func (s *Shard) unblock(c *Client) {
	s.forget(c)
	s.queue(c)
	s.Unblocked = append(s.Unblocked, c)
}

// signalKeys marks ready the keys of a write command that clients wait
// on. Commands whose keys only GetKeys finds create no list and are
// skipped. No allocation unless a key is waited on.
func (s *Shard) signalKeys(cmd *Command, argv [][]byte) {
	var buf [4]keyRange
	ranges, ok := cmd.keyRanges(argv, buf[:0])
	if !ok {
		return
	}
	for _, r := range ranges {
		for i := r.first; i <= r.last; i += r.step {
			key := argv[i]
			if _, waited := s.block.waiting[string(key)]; waited && !s.block.readySet[string(key)] {
				s.block.readySet[string(key)] = true
				s.block.ready = append(s.block.ready, bytes.Clone(key))
			}
		}
	}
}

// afterWrite is what Exec does after a write command while clients are
// blocked: signal its keys and serve every key made ready.
func (s *Shard) afterWrite(cmd *Command, argv [][]byte) {
	s.signalKeys(cmd, argv)
	for len(s.block.ready) > 0 {
		keys := s.block.ready
		s.block.ready = nil
		clear(s.block.readySet)
		for _, key := range keys {
			s.serveKey(key)
		}
	}
}

// serveKey serves the clients waiting on key, first come first served,
// while it holds a value: each round serves the first client waiting for
// the key's type (a list or a sorted set), or stops.
func (s *Shard) serveKey(key []byte) {
	for n := len(s.block.waiting[string(key)]); n > 0; n-- {
		r := s.exists(key)
		if r == kv.Nil {
			return
		}
		typ := s.typeOf(r)
		var next *Client
		for _, w := range s.block.waiting[string(key)] {
			if w.blk.typ == typ {
				next = w
				break
			}
		}
		if next == nil || !s.retry(next, key) {
			return
		}
	}
}

// retry runs blocked client c's command again, serving from key only, and
// unblocks c unless the command would block again (false). A served
// BLMOVE signals its destination.
func (s *Shard) retry(c *Client, key []byte) bool {
	b := c.blk
	s.block.retryKey, s.block.stillBlocked = key, false
	start := nanotime()
	func() {
		var mark int64
		unit := s.prop.on
		if unit {
			if s.aof.rw != nil {
				s.rewriteBefore(b.cmd, b.argv)
			}
			mark = s.beginUnit()
		}
		defer func() {
			if r := recover(); r != nil {
				s.Stats.UnexpectedErrors++
				logf("warning", "blocked command %s panicked: %v", b.cmd.FullName, r)
				c.Error("ERR internal error while executing '" + b.cmd.FullName + "'")
			}
			if unit {
				s.endUnit(b.cmd, b.argv, mark)
			}
		}()
		b.cmd.Proc(s, c, b.argv)
	}()
	s.block.retryKey = nil
	if s.block.stillBlocked {
		return false
	}
	s.slowlogUnblocked(c, true, (nanotime()-start)/1000)
	s.unblock(c)
	s.unblockedLatency(b)
	s.touchServed(b.cmd, b.argv, key) // for WATCH (multi.go)
	s.signalKeys(b.cmd, b.argv)
	return true
}

// expireBlocked times out the blocked clients whose deadline has passed
// (Cron). O(blocked clients).
func (s *Shard) expireBlocked() {
	if s.block.timeouts == 0 {
		return
	}
	next := int64(0)
	for i := len(s.block.clients) - 1; i >= 0; i-- {
		if i >= len(s.block.clients) {
			continue
		}
		c := s.block.clients[i]
		d := c.blk.deadline
		if d != 0 && d <= s.nowMs {
			c.blk.timedOut(c)
			s.unblock(c)
			continue
		}
		if d != 0 && (next == 0 || d < next) {
			next = d
		}
	}
	s.block.next = next
}

// timedOut writes the reply of a wait that timed out: a null array, as
// Redis 7.0 answers every blocking list and sorted set command, and for
// WAIT the replicas that acknowledged, none.
func (b *blockedOn) timedOut(c *Client) {
	if b.typ == typeNone {
		c.Int(0)
		return
	}
	c.NullArray()
}

// blockedByCall says whether the command call just ran blocked c (inside
// EXEC nothing blocks: execCmd answers such a command at once), so that
// its time is kept in blockedOn.usec and counted when the wait ends.
func (c *Client) blockedByCall() bool { return c.blk != nil && !c.inMulti() }

// dropBlocked forgets a blocked client that disconnected, or one held by
// a pause (pause.go).
func (s *Shard) dropBlocked(c *Client) {
	if c.blk != nil {
		if c.blk.held && !c.blk.released {
			s.dropHeld(c)
		}
		s.forget(c)
	}
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]: 1 if that client was blocked
// and is now unblocked, with its timeout reply or an UNBLOCKED error; 0
// otherwise. O(keys it waited on).
func clientUnblockCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 4 {
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(argv[1]), 128) + "'. Try CLIENT HELP.")
		return
	}
	withError := false
	if len(argv) == 4 {
		switch {
		case eqFold(argv[3], "timeout"):
		case eqFold(argv[3], "error"):
			withError = true
		default:
			c.Error(errUnblockReason)
			return
		}
	}
	id, ok := parseInt(argv[2])
	if !ok {
		c.Error(errNotInt)
		return
	}
	target := s.clients[uint64(id)]
	if target == nil || target.blk == nil || target.blk.held {
		c.Int(0)
		return
	}
	if withError {
		target.Error(errUnblockedClient)
	} else {
		target.blk.timedOut(target)
	}
	b := target.blk
	s.slowlogUnblocked(target, false, 0)
	s.unblock(target)
	s.unblockedLatency(b)
	c.Int(1)
}
