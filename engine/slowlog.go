package engine

import (
	"math"
	"strconv"
	"time"
)

// The slow log (Redis's slowlog.c): the last slowlog-max-len commands that
// took slowlog-log-slower-than microseconds or more, newest first, and
// SLOWLOG GET, LEN, RESET and HELP to read and clear them.
//
// # What is logged
//
// As in Redis 7.0, a command is considered when call (shard.go) ends it,
// with the duration call measures for INFO commandstats anyway:
//
//   - commands flagged skip_slowlog (EXEC) are not logged; the commands a
//     transaction runs are, each on its own;
//   - a command that blocked its client is not logged when it blocks. If
//     a write serves it, it is logged then, with its own arguments and
//     the time of the call that blocked plus the time of the run that
//     served it (Redis's updateStatsOnUnblock); CLIENT UNBLOCK logs it
//     with that first time and no arguments, as Redis's reset client
//     has none by then; a timeout or a disconnection logs nothing;
//   - arguments a command redacts (AUTH's password, HELLO's AUTH user and
//     password) are logged as "(redacted)";
//   - commands Redis never calls (unknown, wrong arity, refused, queued
//     in MULTI) are not logged.
//
// Each time a command is considered while the log is on (threshold >= 0),
// the log is cut to slowlog-max-len, dropping the oldest entries, whether
// or not that command was logged: so a CONFIG SET that lowers the limit
// cuts the log at once when the log is on, and otherwise when it next is.
//
// # Cost
//
// The common path, a command faster than the threshold, costs call one
// compare and branch of its duration against slowState.trigger and no
// allocation. trigger is the threshold while the log is on and within its
// limit, MaxInt64 while it is off, and MinInt64 when the end of the
// running command must be looked at whatever its duration: the log holds
// more entries than its limit, or the command redacted an argument (a
// command that blocked its client is logged when the wait ends, with
// the time call kept in blockedOn.usec). afterCall does what Redis's call does then and sets
// trigger again. Logging an entry allocates twice (a copy of the
// arguments and their headers): the arguments alias the connection's
// input buffer.
//
// Like the rest of the shard this is owned by the loop's goroutine.

func init() {
	register(
		&Command{Name: "slowlog", Arity: -2,
			Group: "server", Since: "2.2.12",
			Summary:    "A container for slow log commands",
			Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "get", Arity: -2,
					Flags: FlagAdmin | FlagLoading | FlagStale,
					Group: "server", Since: "2.2.12",
					Summary:    "Get the slow log's entries",
					Complexity: "O(N) where N is the number of entries returned",
					Tips:       []string{"request_policy:all_nodes", "nondeterministic_output"},
					History:    [][2]string{{"4.0.0", "Added client IP address, port and name to the reply."}},
					Syntax:     "[count:integer]",
					Proc:       slowlogGetCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					Group: "server", Since: "6.2.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       slowlogHelpCmd,
				},
				{Name: "len", Arity: 2,
					Flags: FlagAdmin | FlagLoading | FlagStale,
					Group: "server", Since: "2.2.12",
					Summary:    "Get the slow log's length",
					Complexity: "O(1)",
					Tips:       []string{"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"},
					Proc:       slowlogLenCmd,
				},
				{Name: "reset", Arity: 2,
					Flags: FlagAdmin | FlagLoading | FlagStale,
					Group: "server", Since: "2.2.12",
					Summary:    "Clear all entries from the slow log",
					Complexity: "O(N) where N is the number of entries in the slowlog",
					Tips:       []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Proc:       slowlogResetCmd,
				},
			},
		},
	)
}

// Limits of an entry, as Redis's SLOWLOG_ENTRY_MAX_ARGC and
// SLOWLOG_ENTRY_MAX_STRING.
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
)

const errSlowlogCount = "ERR count should be greater than or equal to -1"

// redacted stands for an argument a command hid (Redis's shared.redacted).
var redacted = []byte("(redacted)")

// slowEntry is one logged command.
type slowEntry struct {
	id   int64
	time int64 // unix seconds
	usec int64
	argv [][]byte // at most slowlogMaxArgc, each cut to slowlogMaxString; one buffer
	addr string
	name string
}

// slowState is the shard's slow log.
type slowState struct {
	// trigger: call looks at a command's end when its duration in
	// microseconds is at least this (see the file's comment).
	trigger int64
	// ring holds the entries, oldest at head; its length is a power of
	// two, grown when full.
	ring   []slowEntry
	head   int
	n      int
	nextID int64
	// redact has bit j set for argument j (< 64) of the running command
	// that must be logged as "(redacted)"; redactArgv identifies that
	// command's arguments, so that a redaction by a command not run by
	// call is never applied to another's.
	redact     uint64
	redactArgv *[]byte
}

// slowlogConfigured sets trigger from the configuration and the log's
// length; every change to either that can change it calls it.
func (s *Shard) slowlogConfigured() {
	switch t := s.Config.SlowlogLogSlowerThan; {
	case t < 0:
		s.slow.trigger = math.MaxInt64
	case int64(s.slow.n) > s.Config.SlowlogMaxLen:
		s.slow.trigger = math.MinInt64 // cut it after the next command
	default:
		s.slow.trigger = t
	}
}

// slowlogWatch makes call look at the end of the running command whatever
// its duration (a redaction).
func (s *Shard) slowlogWatch() { s.slow.trigger = math.MinInt64 }

// redactArg has argument j of the running command (argv, as call was
// given it) logged as "(redacted)", as Redis's redactClientCommandArgument.
func (s *Shard) redactArg(argv [][]byte, j int) {
	if j >= 64 {
		return // beyond what an entry shows (slowlogMaxArgc)
	}
	if s.slow.redactArgv != &argv[0] {
		s.slow.redact, s.slow.redactArgv = 0, &argv[0]
	}
	s.slow.redact |= 1 << j
	s.slowlogWatch()
}

// afterCall is the end of a command that took usec microseconds when that
// is at least the trigger: Redis's slowlogPushCurrentCommand from call.
func (s *Shard) afterCall(c *Client, cmd *Command, argv [][]byte, usec int64) {
	var redact uint64
	if s.slow.redactArgv != nil {
		if len(argv) > 0 && s.slow.redactArgv == &argv[0] {
			redact = s.slow.redact
		}
		s.slow.redact, s.slow.redactArgv = 0, nil
	}
	if !c.blockedByCall() { // a blocked command is logged when served or unblocked
		s.slowlogPush(c, cmd, argv, redact, usec)
	}
	s.slowlogConfigured()
}

// slowlogPush logs cmd (Redis's slowlogPushEntryIfNeeded, after the
// skip_slowlog test of slowlogPushCurrentCommand) when it took usec or
// more than the threshold, then cuts the log to its limit. Arguments
// whose bit is set in redact are logged as "(redacted)".
func (s *Shard) slowlogPush(c *Client, cmd *Command, argv [][]byte, redact uint64, usec int64) {
	if cmd.Flags&FlagSkipSlowlog != 0 || s.Config.SlowlogLogSlowerThan < 0 {
		return
	}
	if usec >= s.Config.SlowlogLogSlowerThan {
		s.slowlogAdd(s.slowEntry(c, argv, redact, usec))
	}
	for int64(s.slow.n) > s.Config.SlowlogMaxLen {
		s.slowlogDropOldest()
	}
	s.slowlogConfigured()
}

// slowEntry makes the entry of a command, copying what it keeps of the
// arguments into one buffer. Two allocations.
func (s *Shard) slowEntry(c *Client, argv [][]byte, redact uint64, usec int64) slowEntry {
	argc := min(len(argv), slowlogMaxArgc)
	shown := func(j int) []byte {
		if redact&(1<<j) != 0 {
			return redacted
		}
		return argv[j]
	}
	size := 0
	for j := 0; j < argc; j++ {
		size += min(len(shown(j)), slowlogMaxString) + 32 // room for a suffix
	}
	buf := make([]byte, 0, size)
	out := make([][]byte, argc)
	for j := 0; j < argc; j++ {
		start := len(buf)
		if argc != len(argv) && j == argc-1 {
			buf = append(buf, "... ("...)
			buf = strconv.AppendInt(buf, int64(len(argv)-argc+1), 10)
			buf = append(buf, " more arguments)"...)
		} else if a := shown(j); len(a) > slowlogMaxString {
			buf = append(buf, a[:slowlogMaxString]...)
			buf = append(buf, "... ("...)
			buf = strconv.AppendInt(buf, int64(len(a)-slowlogMaxString), 10)
			buf = append(buf, " more bytes)"...)
		} else {
			buf = append(buf, a...)
		}
		out[j] = buf[start:len(buf):len(buf)]
	}
	e := slowEntry{id: s.slow.nextID, usec: usec, argv: out, addr: c.Addr, name: c.name}
	s.slow.nextID++
	if s.clock != nil {
		e.time = s.clock() / 1000
	} else {
		e.time = time.Now().Unix()
	}
	return e
}

// slowlogAdd puts e as the newest entry, growing the ring when full.
func (s *Shard) slowlogAdd(e slowEntry) {
	sl := &s.slow
	if sl.n == len(sl.ring) {
		ring := make([]slowEntry, max(16, 2*len(sl.ring)))
		for i := 0; i < sl.n; i++ {
			ring[i] = sl.ring[(sl.head+i)&(len(sl.ring)-1)]
		}
		sl.ring, sl.head = ring, 0
	}
	sl.ring[(sl.head+sl.n)&(len(sl.ring)-1)] = e
	sl.n++
}

func (s *Shard) slowlogDropOldest() {
	sl := &s.slow
	sl.ring[sl.head] = slowEntry{}
	sl.head = (sl.head + 1) & (len(sl.ring) - 1)
	sl.n--
}

// slowlogNewest returns the i-th newest entry (0 the newest).
func (s *Shard) slowlogNewest(i int) *slowEntry {
	sl := &s.slow
	return &sl.ring[(sl.head+sl.n-1-i)&(len(sl.ring)-1)]
}

// slowlogUnblocked logs the command of blocked client c, which is being
// unblocked: after a run that served it, with its arguments and usec the
// time of that run (added to that of the call that blocked), or by CLIENT
// UNBLOCK, without arguments (served false).
func (s *Shard) slowlogUnblocked(c *Client, served bool, usec int64) {
	b := c.blk
	var argv [][]byte
	if served {
		argv = b.argv
	}
	s.slowlogPush(c, b.cmd, argv, 0, b.usec+usec)
}

// SLOWLOG GET [count]: the newest count entries (10 by default, all for
// -1), each as id, unix time, microseconds, arguments, client address and
// client name. O(count).
func slowlogGetCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 3 {
		c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(argv[1]), 128) + "'. Try SLOWLOG HELP.")
		return
	}
	count := int64(10)
	if len(argv) == 3 {
		n, ok := parseInt(argv[2])
		if !ok || n < -1 {
			c.Error(errSlowlogCount)
			return
		}
		count = n
		if count == -1 {
			count = int64(s.slow.n)
		}
	}
	sent := int(min(count, int64(s.slow.n)))
	c.ArrayLen(sent)
	for i := 0; i < sent; i++ {
		e := s.slowlogNewest(i)
		c.ArrayLen(6)
		c.Int(e.id)
		c.Int(e.time)
		c.Int(e.usec)
		c.ArrayLen(len(e.argv))
		for _, a := range e.argv {
			c.Bulk(a)
		}
		c.BulkString(e.addr)
		c.BulkString(e.name)
	}
}

// SLOWLOG LEN: the number of entries. O(1).
func slowlogLenCmd(s *Shard, c *Client, argv [][]byte) { c.Int(int64(s.slow.n)) }

// SLOWLOG RESET: drops every entry; ids go on from where they were.
// O(entries).
func slowlogResetCmd(s *Shard, c *Client, argv [][]byte) {
	s.slow.ring, s.slow.head, s.slow.n = nil, 0, 0
	s.slowlogConfigured()
	c.OK()
}

// slowlogHelp is Redis's SLOWLOG HELP text, in its order.
var slowlogHelp = []helpEntry{
	{"get", []string{"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name"}},
	{"len", []string{"LEN",
		"    Return the length of the slowlog."}},
	{"reset", []string{"RESET",
		"    Reset the slowlog."}},
}

func slowlogHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "SLOWLOG", s.helpLines("slowlog", slowlogHelp))
}
