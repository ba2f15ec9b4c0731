package engine

import (
	"strings"

	"shoal/cluster"
	"shoal/engine/internal/kv"
)

// Transactions (Redis's multi.c): MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//
// # MULTI and EXEC
//
// After MULTI, Exec checks each command as it always does (unknown name,
// arity, cluster redirection, maxmemory, loading) and then, instead of
// running it, copies it into the client's queue and replies +QUEUED.
// EXEC, DISCARD, MULTI, WATCH, QUIT and RESET are never queued; commands
// flagged no_multi (SHUTDOWN, SAVE...) are refused. Any refusal while
// queueing flags the transaction, and EXEC then replies EXECABORT. EXEC
// runs the queue in one go, nothing else running in between, and replies
// an array of the replies in place, errors included. A blocking command
// inside EXEC never blocks: with nothing to serve it answers as if its
// timeout had passed at once (a null array, or a null for BLMOVE and
// BRPOPLPUSH, as Redis 7.0 answers for a client that may not block).
// Clients blocked on keys the transaction wrote are served after EXEC.
//
// In cluster mode each queued command's keys are checked as it is queued
// (MOVED, CROSSSLOT, CLUSTERDOWN flag the transaction), and EXEC checks
// every queued command's keys together, as Redis's getNodeByQuery does:
// all must hash to one slot served here, else EXEC replies the
// redirection or error and discards the transaction. Past maxmemory an
// EXEC holding a denyoom command is refused as a whole (EXECABORT ...
// because of: OOM ...), as while loading one holding a command that may
// not run then.
//
// # WATCH
//
// WATCH records keys; EXEC replies a null array when one of them was
// changed since, by any client. A key counts as changed when:
//
//   - a write command ran that names it in a key position its key spec
//     does not flag RO, the shard's change counter (s.dirty, Redis's
//     server.dirty) grew during the command, and the key existed (and
//     was not expired) before the command or does after it. This follows
//     the writes for which Redis calls signalModifiedKey, counting each
//     change in server.dirty as it does; see "Differences" below;
//   - it expired and was deleted (lazily or by the active cycle), or it
//     has expired by the time EXEC runs (Redis 7.0's isWatchedKeyExpired);
//     a key already expired when WATCH ran is not changed by its deletion
//     (as in Redis 7.0), only by a later write;
//   - FLUSHDB or FLUSHALL removed it (a watched key that does not exist
//     is not changed by a flush);
//   - a blocked client served by a write consumed it (the key it popped
//     from and the destination BLMOVE pushed to).
//
// A write that changed nothing (SET NX on an existing key, DEL of a
// missing key, PERSIST of a key without a time to live) does not count,
// as in Redis. The client's own writes count too, until EXEC begins.
//
// A command that changes one of its write keys and not another, while
// both exist, names the one it left alone in watch.unchanged (SMOVE of a
// member the destination already holds: Redis leaves the destination
// untouched), so that its watchers are not marked.
//
// # Costs and ownership
//
// Like the rest of the shard this is owned by the loop's goroutine.
// While no client watches a key, a write costs one map-length test more
// and allocates nothing. With watchers, a write command costs a map
// lookup per write key, and marking the watchers of a changed key is
// O(clients watching it). WATCH is O(keys × keys already watched by the
// client), as Redis's; UNWATCH, EXEC and DISCARD O(keys watched ×
// watchers of each). Queueing copies the arguments into the client's
// transaction buffer, which is reused, so a MULTI/.../EXEC cycle
// allocates nothing once the buffers have grown. The argument slices
// EXEC hands to the queued commands point into that buffer and are valid
// only during their call, as Exec's arguments are.

// Transaction errors, as Redis writes them.
const (
	errMultiNested   = "ERR MULTI calls can not be nested"
	errExecNoMulti   = "ERR EXEC without MULTI"
	errDiscardNoMult = "ERR DISCARD without MULTI"
	errWatchInMulti  = "ERR WATCH inside MULTI is not allowed"
	errNoMulti       = "ERR Command not allowed inside a transaction"
	errExecAbort     = "EXECABORT Transaction discarded because of previous errors."
	execAbortPrefix  = "EXECABORT Transaction discarded because of: "
)

func init() {
	register(
		&Command{Name: "multi", Arity: 1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy,
			ACL:   "@transaction",
			Group: "transactions", Since: "1.2.0",
			Summary:    "Mark the start of a transaction block",
			Complexity: "O(1)",
			Proc:       multiCmd,
		},
		&Command{Name: "exec", Arity: 1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog | FlagNoPropagate,
			ACL:   "@transaction",
			Group: "transactions", Since: "1.2.0",
			Summary:    "Execute all commands issued after MULTI",
			Complexity: "Depends on commands in the transaction",
			Proc:       execCmd,
		},
		&Command{Name: "discard", Arity: 1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy,
			ACL:   "@transaction",
			Group: "transactions", Since: "2.0.0",
			Summary:    "Discard all commands issued after MULTI",
			Complexity: "O(N), when N is the number of queued commands",
			Proc:       discardCmd,
		},
		&Command{Name: "watch", Arity: -2,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy,
			ACL:   "@transaction",
			Group: "transactions", Since: "2.2.0",
			Summary:    "Watch the given keys to determine execution of the MULTI/EXEC block",
			Complexity: "O(1) for every key.",
			Keys:       []KeySpec{{Flags: "RO", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "key...",
			Proc:       watchCmd,
		},
		&Command{Name: "unwatch", Arity: 1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy,
			ACL:   "@transaction",
			Group: "transactions", Since: "2.2.0",
			Summary:    "Forget about all watched keys",
			Complexity: "O(1)",
			Proc:       unwatchCmd,
		},
	)
}

// txState is a client's transaction and watch state. It is made on the
// client's first MULTI or WATCH and kept, with its buffers, for reuse.
type txState struct {
	multi   bool // in MULTI (CLIENT LIST flag x)
	aborted bool // a command was refused while queueing (Redis's CLIENT_DIRTY_EXEC)
	dirty   bool // a watched key changed (Redis's CLIENT_DIRTY_CAS, flag d)

	cmds      []queuedCmd
	buf       []byte   // the queued commands' arguments, back to back
	ends      []int    // the end offset in buf of each queued argument
	argv      [][]byte // EXEC's view of one queued command, reused
	mem       int      // CLIENT LIST multi-mem: argument bytes plus a pointer per argument
	flags     CmdFlags // the union of the queued commands' flags
	noLoading bool     // a queued command may not run while loading

	watched []*watchedKey
}

// queuedCmd is one queued command: its row and its arguments,
// ends[first:first+n].
type queuedCmd struct {
	cmd      *Command
	first, n int
}

// watchedKey is one key one client watches, listed both in the client's
// txState and under the key in watchState.keys.
type watchedKey struct {
	c       *Client
	key     string
	expired bool // the key existed but had expired when WATCH ran
}

// watchState is the shard's side of WATCH: who watches each key.
type watchState struct {
	keys map[string][]*watchedKey
	// unchanged is a write key the running command left as it was
	// (SMOVE's destination that already held the member), nil if none.
	unchanged []byte
}

// maxKeptTxBuf is the capacity of a transaction buffer kept for reuse
// after EXEC or DISCARD; a larger one is dropped for the GC.
const maxKeptTxBuf = 64 << 10

// inMulti reports whether c is between MULTI and EXEC/DISCARD.
func (c *Client) inMulti() bool { return c.tx != nil && c.tx.multi }

// txOf returns c's transaction state, making it on first use.
func (c *Client) txOf() *txState {
	if c.tx == nil {
		c.tx = &txState{}
	}
	return c.tx
}

// multiQueues reports whether a command given inside MULTI is queued
// rather than run: all but those that act on the transaction itself or
// the connection's end.
func multiQueues(cmd *Command) bool {
	if cmd.parent != nil {
		return true
	}
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	return true
}

// multiAdmits runs the checks Redis makes of a command inside MULTI
// before it reaches the cluster, memory and loading checks: a no_multi
// command is refused; EXEC is checked as a whole (cluster slots,
// maxmemory, loading) and, refused, discards the transaction. It
// replies the error and counts the rejection when it refuses (false).
func (s *Shard) multiAdmits(c *Client, cmd *Command) bool {
	if cmd.Flags&FlagNoMulti != 0 {
		cmd.rejected++
		c.lastCmd = cmd
		c.Error(errNoMulti)
		return false
	}
	if cmd.parent != nil || cmd.Name != "exec" {
		return true
	}
	tx := c.tx
	switch {
	case s.cluster != nil && !s.routeTx(c):
		s.discardTx(c)
	case tx.flags&FlagDenyOOM != 0 && s.overMaxmemory():
		s.execAbort(c, errOOM)
	case s.loading && tx.noLoading:
		s.execAbort(c, errLoading)
	default:
		return true
	}
	cmd.rejected++
	c.lastCmd = cmd
	return false
}

// execArityOK refuses, inside MULTI, an EXEC given arguments: as Redis
// does for a refused EXEC, the transaction is discarded with EXECABORT
// naming the error. Other commands pass.
func (s *Shard) execArityOK(c *Client, cmd *Command, argv [][]byte) bool {
	if cmd.parent != nil || cmd.Name != "exec" || cmd.arityOK(len(argv)) {
		return true
	}
	cmd.rejected++
	c.lastCmd = cmd
	s.execAbort(c, "wrong number of arguments for 'exec' command")
	return false
}

// execAbort discards c's transaction, replying why EXEC was refused.
func (s *Shard) execAbort(c *Client, why string) {
	s.discardTx(c)
	c.Error(execAbortPrefix + why)
}

// routeTx is routeHere for EXEC: every key of every queued command must
// hash to one slot, served here. It replies the redirection or error when
// not (false). O(keys queued).
func (s *Shard) routeTx(c *Client) bool {
	tx := c.tx
	cs := s.cluster
	slot := -1
	var owner *cluster.Node
	var buf [4]keyRange
	for i := range tx.cmds {
		q := &tx.cmds[i]
		argv := tx.queuedArgv(q)
		var ranges []keyRange
		var ok bool
		if !q.cmd.byGetKeys {
			ranges, ok = q.cmd.keyRanges(argv, buf[:0])
		} else if q.cmd.GetKeys != nil {
			ranges, ok = buf[:0], true
			for _, k := range q.cmd.GetKeys(argv) {
				ranges = append(ranges, keyRange{first: k.pos, last: k.pos, step: 1})
			}
		}
		if !ok {
			continue
		}
		for _, r := range ranges {
			for j := r.first; j <= r.last; j += r.step {
				ks := int(cluster.KeySlot(argv[j]))
				switch {
				case slot < 0:
					slot = ks
					if owner = cs.conf.Owner(uint16(slot)); owner == nil {
						c.Error(errSlotUnbound)
						return false
					}
				case ks != slot:
					c.Error(errCrossSlot)
					return false
				}
			}
		}
	}
	switch {
	case slot < 0 || owner == cs.myself && cs.ok:
		return true
	case !cs.ok:
		c.Error(errClusterDown)
	default:
		s.replyMoved(c, uint16(slot), owner)
	}
	return false
}

// queueMulti copies a command into c's transaction and replies +QUEUED.
// Once the transaction is doomed (a refused command, a changed watched
// key) nothing more is kept, as in Redis. O(total argument length).
func (s *Shard) queueMulti(c *Client, cmd *Command, argv [][]byte) {
	tx := c.tx
	if !tx.aborted && !tx.dirty {
		q := queuedCmd{cmd: cmd, first: len(tx.ends), n: len(argv)}
		for _, a := range argv {
			tx.buf = append(tx.buf, a...)
			tx.ends = append(tx.ends, len(tx.buf))
			tx.mem += len(a) + 8
		}
		tx.cmds = append(tx.cmds, q)
		tx.flags |= cmd.Flags
		if cmd.Flags&FlagLoading == 0 {
			tx.noLoading = true
		}
	}
	c.Out = append(c.Out, "+QUEUED\r\n"...)
}

// queuedArgv is the arguments of q, as slices of the transaction buffer
// (tx.argv reused).
func (tx *txState) queuedArgv(q *queuedCmd) [][]byte {
	argv := tx.argv[:0]
	start := 0
	if q.first > 0 {
		start = tx.ends[q.first-1]
	}
	for _, end := range tx.ends[q.first : q.first+q.n] {
		argv = append(argv, tx.buf[start:end:end])
		start = end
	}
	tx.argv = argv
	return argv
}

// discardTx ends c's transaction, if any, and forgets its watched keys.
func (s *Shard) discardTx(c *Client) {
	tx := c.tx
	if tx == nil {
		return
	}
	tx.multi, tx.aborted = false, false
	clear(tx.cmds)
	tx.cmds = tx.cmds[:0]
	tx.ends = tx.ends[:0]
	clear(tx.argv)
	tx.argv = tx.argv[:0]
	tx.mem, tx.flags, tx.noLoading = 0, 0, false
	if cap(tx.buf) > maxKeptTxBuf {
		tx.buf = nil
	} else {
		tx.buf = tx.buf[:0]
	}
	s.unwatchAll(c)
}

// MULTI: O(1).
func multiCmd(s *Shard, c *Client, argv [][]byte) {
	if c.inMulti() {
		c.Error(errMultiNested)
		return
	}
	c.txOf().multi = true
	c.OK()
}

// DISCARD: O(queued commands + watched keys).
func discardCmd(s *Shard, c *Client, argv [][]byte) {
	if !c.inMulti() {
		c.Error(errDiscardNoMult)
		return
	}
	s.discardTx(c)
	c.OK()
}

// EXEC: runs the queued commands; the cost is theirs, plus O(watched
// keys).
func execCmd(s *Shard, c *Client, argv [][]byte) {
	if !c.inMulti() {
		c.Error(errExecNoMulti)
		return
	}
	tx := c.tx
	if s.watchedKeyExpired(c) {
		tx.dirty = true
	}
	if tx.aborted || tx.dirty {
		if tx.aborted {
			c.Error(errExecAbort)
		} else {
			c.NullArray()
		}
		s.discardTx(c)
		return
	}
	s.unwatchAll(c) // its own writes must not mark it
	execRow := c.lastCmd
	c.ArrayLen(len(tx.cmds))
	wrote := false
	for i := range tx.cmds {
		q := &tx.cmds[i]
		qargv := tx.queuedArgv(q)
		s.run(c, q.cmd, qargv)
		if c.blk != nil {
			s.noBlocking(c, q.cmd)
		}
		if q.cmd.Flags&FlagWrite != 0 && len(s.block.waiting) > 0 {
			s.signalKeys(q.cmd, qargv)
			wrote = true
		}
	}
	s.discardTx(c)
	if wrote && execRow != nil {
		s.afterWrite(execRow, argv) // EXEC names no key: this serves the keys made ready
	}
	s.pause.inTx = false // a pause it began now holds expired keys too (pause.go)
}

// noBlocking answers a blocking command that found nothing where it may
// not block (inside EXEC or a script) as if it had timed out at once.
func (s *Shard) noBlocking(c *Client, cmd *Command) {
	s.forget(c)
	if cmd.Name == "blmove" || cmd.Name == "brpoplpush" {
		c.Null()
	} else {
		c.NullArray()
	}
}

// run calls cmd, noting the watched keys it changed (see the file's
// comment). Without watchers it is call.
func (s *Shard) run(c *Client, cmd *Command, argv [][]byte) {
	if cmd.Flags&FlagWrite == 0 || len(s.watch.keys) == 0 && !s.track.signals() {
		s.call(c, cmd, argv)
		// EVAL_RO and FCALL_RO remember keys only when their script reads
		// (scriptCall), as in Redis.
		if s.track.clients > 0 && cmd.Flags&FlagReadonly != 0 && c.tracking() && c.track.flags&trackBcast == 0 && cmd.Group != "scripting" {
			s.trackRead(c, cmd, argv) // tracking.go
		}
		return
	}
	type before struct {
		pos  int
		live bool
	}
	var buf [8]before
	pre := buf[:0]
	var rbuf [4]keyRange
	if !cmd.byGetKeys {
		ranges, ok := cmd.keyRanges(argv, rbuf[:0])
		if ok {
			for _, r := range ranges {
				if cmd.keyKinds[r.spec] == keyRO {
					continue
				}
				for i := r.first; i <= r.last; i += r.step {
					if s.isSignalled(argv[i]) {
						pre = append(pre, before{i, s.live(argv[i])})
					}
				}
			}
		}
	} else if cmd.GetKeys != nil {
		for _, k := range cmd.GetKeys(argv) {
			if keyKindOf(k.flags) != keyRO && s.isSignalled(argv[k.pos]) {
				pre = append(pre, before{k.pos, s.live(argv[k.pos])})
			}
		}
	}
	dirty := s.dirty
	s.watch.unchanged = nil
	s.call(c, cmd, argv)
	if s.dirty == dirty {
		return
	}
	s.track.by = c // the writer, for BCAST's NOLOOP (tracking.go): a script's caller for the commands it calls
	if c.scriptCaller != nil {
		s.track.by = c.scriptCaller
	}
	for _, p := range pre {
		if s.watch.unchanged != nil && string(argv[p.pos]) == string(s.watch.unchanged) {
			continue
		}
		if p.live || s.live(argv[p.pos]) {
			s.touchKey(argv[p.pos])
		}
	}
	s.track.by = nil
	s.watch.unchanged = nil
}

// live reports whether key exists and has not expired, without deleting
// it or touching its access clock.
func (s *Shard) live(key []byte) bool {
	r := s.db.Find(key)
	return r != kv.Nil && !s.expired(r)
}

// isWatched reports whether some client watches key. No allocation.
func (s *Shard) isWatched(key []byte) bool {
	_, ok := s.watch.keys[string(key)]
	return ok
}

// isSignalled reports whether a change of key must be signalled with
// touchKey: someone watches it, or tracking wants it (tracking.go).
func (s *Shard) isSignalled(key []byte) bool { return s.isWatched(key) || s.track.wants(key) }

// touchKey signals that key changed, as Redis's signalModifiedKey: it
// tells tracking (tracking.go) and marks the clients watching key as
// having seen it change (Redis's touchWatchedKey). A client that watched
// the key when it had already expired is not marked by its deletion,
// which is no logical change; from then on it watches a missing key.
func (s *Shard) touchKey(key []byte) {
	if s.track.signals() {
		s.trackChanged(key)
	}
	for _, wk := range s.watch.keys[string(key)] {
		if wk.expired {
			if s.db.Find(key) == kv.Nil {
				wk.expired = false
			}
			continue
		}
		wk.c.tx.dirty = true
	}
}

// watchedExpiring is the expiry hook: before the key at r is deleted
// because it expired, it returns a copy of the key when someone watches
// it or tracking wants it (nil otherwise, without allocating), for
// touchKey once it is gone.
func (s *Shard) watchedExpiring(r kv.Ref) []byte {
	if len(s.watch.keys) == 0 && !s.track.signals() {
		return nil
	}
	key := s.db.Key(r)
	if !s.isSignalled(key) {
		return nil
	}
	return append([]byte(nil), key...)
}

// touchFlushed is the flush hook, run before FLUSHDB or FLUSHALL empties
// the key space: every tracking client is told every key changed
// (tracking.go), and every watched key that exists is changed (one that
// had expired when watched just stops being so). O(watched keys +
// clients).
func (s *Shard) touchFlushed() {
	s.trackFlushed()
	for key, wks := range s.watch.keys {
		if s.db.Find([]byte(key)) == kv.Nil {
			continue
		}
		for _, wk := range wks {
			if wk.expired {
				wk.expired = false
				continue
			}
			wk.c.tx.dirty = true
		}
	}
}

// touchServed is the hook for a blocked client just served by a write
// (blocking.go): the key it was served from and the keys its command
// inserts into (BLMOVE's destination) changed.
func (s *Shard) touchServed(cmd *Command, argv [][]byte, from []byte) {
	if len(s.watch.keys) == 0 && !s.track.signals() {
		return
	}
	s.touchKey(from)
	var rbuf [4]keyRange
	ranges, ok := cmd.keyRanges(argv, rbuf[:0])
	if !ok {
		return
	}
	for _, r := range ranges {
		if !strings.Contains(cmd.Keys[r.spec].Flags, "INSERT") {
			continue
		}
		for i := r.first; i <= r.last; i += r.step {
			s.touchKey(argv[i])
		}
	}
}

// watchedKeyExpired reports whether a key c watches has expired since
// WATCH (and is not yet deleted), as Redis 7.0's isWatchedKeyExpired.
func (s *Shard) watchedKeyExpired(c *Client) bool {
	for _, wk := range c.tx.watched {
		if wk.expired {
			continue
		}
		if r := s.db.Find([]byte(wk.key)); r != kv.Nil && s.expired(r) {
			return true
		}
	}
	return false
}

// watchKey adds key to the keys c watches, once.
func (s *Shard) watchKey(c *Client, key []byte) {
	tx := c.txOf()
	for _, wk := range tx.watched {
		if wk.key == string(key) {
			return
		}
	}
	r := s.db.Find(key)
	expired := r != kv.Nil && s.expired(r)
	// Reuse the record (and its key, when the same) left by the last
	// unwatch, so a client watching the same keys transaction after
	// transaction allocates nothing.
	var wk *watchedKey
	if n := len(tx.watched); n < cap(tx.watched) {
		wk = tx.watched[:n+1][n]
	}
	if wk == nil {
		wk = &watchedKey{c: c}
	}
	if wk.key != string(key) {
		wk.key = string(key)
	}
	wk.expired = expired
	tx.watched = append(tx.watched, wk)
	if s.watch.keys == nil {
		s.watch.keys = make(map[string][]*watchedKey)
	}
	s.watch.keys[wk.key] = append(s.watch.keys[wk.key], wk)
}

// unwatchAll forgets every key c watches and clears its dirty mark. The
// records stay in tx.watched's spare capacity for watchKey to reuse.
func (s *Shard) unwatchAll(c *Client) {
	tx := c.tx
	if tx == nil {
		return
	}
	tx.dirty = false
	for _, wk := range tx.watched {
		list := s.watch.keys[wk.key]
		for j, x := range list {
			if x == wk {
				copy(list[j:], list[j+1:])
				list[len(list)-1] = nil
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(s.watch.keys, wk.key)
		} else {
			s.watch.keys[wk.key] = list
		}
	}
	tx.watched = tx.watched[:0]
}

// WATCH key [key ...]: O(1) for every key (plus the keys already
// watched, scanned for duplicates).
func watchCmd(s *Shard, c *Client, argv [][]byte) {
	if c.inMulti() {
		c.Error(errWatchInMulti)
		return
	}
	for _, key := range argv[1:] {
		s.watchKey(c, key)
	}
	c.OK()
}

// UNWATCH: O(watched keys).
func unwatchCmd(s *Shard, c *Client, argv [][]byte) {
	s.unwatchAll(c)
	c.OK()
}

// txInfo is what CLIENT LIST shows as multi= and multi-mem=: the number
// of queued commands (-1 outside MULTI) and the memory their arguments
// take, counted as Redis counts it.
func (c *Client) txInfo() (queued, mem int) {
	if !c.inMulti() {
		return -1, 0
	}
	return len(c.tx.cmds), c.tx.mem
}
