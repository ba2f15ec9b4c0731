package engine

import (
	"os"
	"sort"
	"strings"
	"time"
	_ "unsafe" // for go:linkname

	"shoal/engine/internal/kv"
)

// nanotime is the runtime's monotonic clock: one vDSO call, cheaper than
// time.Now, which also reads the wall clock. Per-command timing for INFO
// commandstats and the slow log uses it twice per command, as Redis reads
// ustime twice.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// ServerInfo is what the loop tells the engine about itself for INFO and
// the log: which I/O backend runs and why, the listening port, the
// executable. Set once before serving.
type ServerInfo struct {
	IOBackend  string // "io_uring" or "epoll"
	IOReason   string // why this backend (flags it took, or why io_uring was refused)
	TCPPort    int
	Executable string
	ConfigFile string
	Version    string
}

// Stats are the shard's counters reported by INFO stats.
type Stats struct {
	ConnectionsReceived int64
	RejectedConnections int64
	CommandsProcessed   int64
	ErrorReplies        int64
	ExpiredKeys         int64
	EvictedKeys         int64
	ExpiredStalePerc    float64
	ExpiredTimeCapped   int64
	ExpireCycleTimeUsed int64 // ms
	KeyspaceHits        int64
	KeyspaceMisses      int64
	NetInputBytes       int64
	NetOutputBytes      int64
	UnexpectedErrors    int64 // commands that panicked; the client got an error, the shard went on
	IOReadsProcessed    int64
	IOWritesProcessed   int64
}

// Shard is one shard's whole state. It is owned by one goroutine, the
// shard's loop; see the package documentation.
type Shard struct {
	Config *Config
	Info   ServerInfo
	Stats  Stats

	// Pending lists the clients whose output grew or that must be closed,
	// each once; the loop sends their output and empties the list.
	Pending []*Client
	// Unblocked lists the clients that left a blocking command (served,
	// timed out, CLIENT UNBLOCK) since the loop last emptied it: the loop
	// runs the input each held back while blocked (blocking.go).
	Unblocked []*Client

	db         *kv.Store
	cmds       *commandTable
	clients    map[uint64]*Client
	nextID     uint64
	nowMs      int64 // cached wall clock for this batch of commands (unix ms)
	startMs    int64
	pid        int
	runID      string
	errorStats map[string]int64
	rng        uint64
	expire     expireCycle
	loading    bool
	lruClock   uint32 // Redis's LRU clock: seconds, 24 bits
	newClock   uint32 // the access field a new key's Meta gets (evict.go)
	lfu        bool   // the eviction policy is an LFU one
	evict      evictState
	dirty      int64 // changes since start, as Redis's server.dirty
	shutdown   bool
	memPeak    uint64
	metrics    instMetrics
	clock      func() int64   // unix ms; tests replace it
	cluster    *clusterState  // cluster mode's view of the cluster (clusterstate.go); nil when standalone
	mem        memGuard       // maxmemory's reading of used memory (maxmemory.go)
	lazy       lazyFree       // collections after large frees (lazyfree.go)
	monitors   []*Client      // MONITOR clients, in the order they asked (monitor.go)
	monBuf     []byte         // the line being shown to them
	block      blockState     // blocked clients and the keys they wait on (blocking.go)
	pause      pauseState     // CLIENT PAUSE (pause.go)
	pubsub     pubsubState    // channels, patterns and their subscribers (pubsub.go)
	watch      watchState     // the keys clients WATCH (multi.go)
	track      trackingState  // client-side caching: who read which key (tracking.go)
	lat        latencyState   // the latency monitor's events (latency.go)
	prop       propState      // what the AOF records of each command (propagate.go)
	aof        aofState       // the append-only file (aof.go)
	rwStat     rewriteStats   // AOF rewrites (aofrewrite.go)
	debug      debugState     // DEBUG's switches (debug.go)
	slow       slowState      // the slow log (slowlog.go)
	eval       *evalState     // the Lua state and script cache (eval.go); nil until the first script
	funcs      functionsState // the function libraries (functions.go)
	// preOOM: used memory was over maxmemory (eviction could not bring it
	// under) when the running command began, as Redis's
	// pre_command_oom_state. Read by scripts only when maxmemory is set.
	preOOM bool
	// errMark is ErrorReplies when the last call began or ended: a command
	// failed if it grew since. EXEC's queued commands, run by call, move it,
	// so their errors are theirs, not EXEC's, as in Redis.
	errMark int64
}

// ShutdownAsked reports whether a SHUTDOWN command asked the loop to stop.
func (s *Shard) ShutdownAsked() bool { return s.shutdown }

// ProtocolError replies a RESP protocol error to c and marks it to be
// closed once the reply is sent; the loop discards the rest of its input.
func (s *Shard) ProtocolError(c *Client, msg string) {
	logf("verbose", "Protocol error (%s) from client: id=%d addr=%s", msg, c.ID, c.Addr)
	c.Error(msg)
	c.Flags |= CloseAfterReply
	s.queue(c)
}

// NewShard makes a shard with an empty key space. In cluster mode,
// cfg.Cluster must hold the cluster's configuration (Config.LoadCluster).
func NewShard(cfg *Config) *Shard {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	now := time.Now()
	s := &Shard{
		Config:     cfg,
		db:         kv.New(),
		cmds:       newCommandTable(),
		clients:    make(map[uint64]*Client),
		nextID:     1,
		nowMs:      now.UnixMilli(),
		startMs:    now.UnixMilli(),
		pid:        os.Getpid(),
		errorStats: make(map[string]int64),
		rng:        uint64(now.UnixNano()) | 1,
	}
	s.db.OnDrop(s.dropped)
	s.runID = s.randomHex(40)
	s.slowlogConfigured()
	s.policyChanged()
	s.aof.fd, s.aof.st.dfd = -1, -1
	if cfg.ClusterEnabled {
		if cfg.Cluster == nil {
			panic("engine: cluster mode without a cluster configuration: call Config.LoadCluster before NewShard")
		}
		if err := checkCluster(cfg.Cluster); err != nil {
			panic("engine: cluster configuration: " + err.Error())
		}
		s.cluster = newClusterState(cfg.Cluster)
		s.db.TrackSlots()
	}
	return s
}

// Tick refreshes the shard's cached clock. The loop calls it before each
// batch of commands it reads from a connection, so every command of a
// batch sees the same time, and expiry decisions within it agree.
func (s *Shard) Tick() {
	if s.clock != nil {
		s.nowMs = s.clock()
	} else {
		s.nowMs = time.Now().UnixMilli()
	}
	s.tickClocks()
}

// Now is the cached time in unix milliseconds.
func (s *Shard) Now() int64 { return s.nowMs }

// rand64 is a xorshift generator for RANDOMKEY and sampling; not for
// anything security related.
func (s *Shard) rand64() uint64 {
	x := s.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	s.rng = x
	return x
}

func (s *Shard) randomHex(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[s.rand64()>>60]
	}
	return string(b)
}

// NewClient registers a connection's client and returns it. The loop fills
// Addr, LAddr and FD.
func (s *Shard) NewClient() *Client {
	c := &Client{ID: s.nextID, shard: s, created: s.nowMs, lastAt: s.nowMs}
	s.nextID++
	s.clients[c.ID] = c
	s.Stats.ConnectionsReceived++
	return c
}

// Unregister forgets a client whose connection is closed. Its Out is
// dropped.
func (s *Shard) Unregister(c *Client) {
	if c.closed {
		return
	}
	c.closed = true
	delete(s.clients, c.ID)
	s.dropBlocked(c)
	s.dropSubscriptions(c)
	s.discardTx(c)
	s.stopMonitor(c)
	s.disableTracking(c)
}

// Clients returns the number of registered clients.
func (s *Shard) Clients() int { return len(s.clients) }

// sortedClients lists clients in id order (creation order), as Redis's
// client list is.
func (s *Shard) sortedClients() []*Client {
	list := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// queue puts c on the Pending list once.
func (s *Shard) queue(c *Client) {
	if !c.pending && !c.closed {
		c.pending = true
		s.Pending = append(s.Pending, c)
	}
}

// Dequeued tells the shard the loop took c off the Pending list.
func (c *Client) Dequeued() { c.pending = false }

// Exec runs one command for c. argv[0] is the command name; the slices
// may alias the connection's input buffer and are not kept after Exec
// returns. The reply is appended to c.Out and c is queued on Pending.
func (s *Shard) Exec(c *Client, argv [][]byte) {
	c.lastAt = s.nowMs
	mark := len(c.Out)
	if c.reply&(replyOff|replySkip) != 0 {
		c.reply |= replySilenced
	}
	if s.track.clients > 0 {
		s.trackingLimit() // before the command, as Redis's processCommand (tracking.go)
	}
	s.track.current = c
	cmd := s.cmds.lookup(argv)
	admitted := false // run or queued; any refusal flags a transaction (multi.go)
	switch {
	case cmd == nil:
		s.rejectUnknown(c, argv)
	case c.inMulti() && !s.execArityOK(c, cmd, argv):
		// EXEC with arguments discards the transaction (multi.go)
	case !cmd.arityOK(len(argv)):
		cmd.rejected++
		c.lastCmd = cmd
		c.Error(errWrongArgs(cmd.FullName))
	case cmd.Proc == nil: // a container given no known subcommand
		cmd.rejected++
		c.Error(errUnknownSubcommand(argv[1], string(argv[0])))
	case c.inMulti() && !s.multiAdmits(c, cmd):
		// refused inside MULTI: no_multi, or EXEC as a whole (multi.go)
	case s.cluster != nil && cmd.hasKeys() && !s.routeHere(c, cmd, argv):
		cmd.rejected++ // redirected (MOVED) or refused (CROSSSLOT, CLUSTERDOWN)
		c.lastCmd = cmd
	case s.Config.Maxmemory > 0 && s.oomRejects(c, cmd): // evicts first (evict.go)
		cmd.rejected++
		c.lastCmd = cmd
		c.Error(errOOM)
	case s.aof.writeErr != 0 && s.prop.on && (cmd.Flags&FlagWrite != 0 || cmd.Name == "ping"):
		// The AOF cannot be written: writes (and PING, as in Redis) are
		// refused until it can (aof.go).
		cmd.rejected++
		c.lastCmd = cmd
		c.Error(s.aofMisconf())
	case c.subs != nil && !c.Resp3 && c.subscribed() && !subscribedModeAllows(cmd):
		cmd.rejected++
		c.lastCmd = cmd
		c.Error(errSubscribedMode(cmd))
	case s.loading && cmd.Flags&FlagLoading == 0:
		cmd.rejected++
		c.Error(errLoading)
	case s.pause.kind != pauseOff && s.pauseHolds(c, cmd, argv):
		// Held until the pause ends (pause.go); the reply mode applies
		// when it runs.
		c.lastCmd = cmd
		s.hold(c, argv)
		c.reply &^= replySilenced
		return
	case c.inMulti() && multiQueues(cmd):
		admitted = true
		c.lastCmd = cmd
		s.queueMulti(c, cmd, argv)
	default:
		admitted = true
		c.lastCmd = cmd
		s.run(c, cmd, argv)
		if len(s.block.waiting) > 0 && cmd.Flags&FlagWrite != 0 && c.blk == nil {
			s.afterWrite(cmd, argv) // serve clients blocked on the keys it wrote
		}
	}
	if !admitted && c.inMulti() {
		c.tx.aborted = true // EXEC will reply EXECABORT
	}
	if len(s.track.pending) > 0 {
		s.sendPending(c) // its own invalidations, after its reply (tracking.go)
	}
	s.track.current = nil
	if c.track != nil {
		c.endCaching(cmd)
	}
	if c.reply != 0 {
		c.applyReplyMode(mark)
	}
	s.queue(c)
}

// applyReplyMode drops the reply just written when CLIENT REPLY OFF or
// SKIP says so, but not the pushes among it (pub/sub confirmations and
// messages, which Redis sends whatever the reply mode), and moves a
// pending SKIP on to the next command, as Redis does when it resets a
// client after each command.
func (c *Client) applyReplyMode(mark int) {
	if c.reply&(replyOff|replySkip) != 0 {
		n := mark
		for i := 0; i+1 < len(c.pushes); i += 2 {
			n += copy(c.Out[n:], c.Out[c.pushes[i]:c.pushes[i+1]])
		}
		c.Out = c.Out[:n]
	}
	c.pushes = c.pushes[:0]
	c.reply &^= replySkip | replySilenced
	if c.reply&replySkipNext != 0 {
		c.reply = c.reply&^replySkipNext | replySkip
	}
}

// call runs cmd with its statistics and the slow log. A panic inside a command is a bug in
// the shard; it is turned into an error reply for that client so that no
// other client is disturbed, and counted.
func (s *Shard) call(c *Client, cmd *Command, argv [][]byte) {
	s.errMark = s.Stats.ErrorReplies
	start := nanotime()
	var mark int64
	unit := s.prop.on
	if unit {
		if s.aof.rw != nil {
			s.rewriteBefore(cmd, argv)
		}
		mark = s.beginUnit()
	}
	defer func() {
		if r := recover(); r != nil {
			s.Stats.UnexpectedErrors++
			logf("warning", "command %s panicked: %v", cmd.FullName, r)
			c.Error("ERR internal error while executing '" + cmd.FullName + "'")
		}
		if unit {
			s.endUnit(cmd, argv, mark)
		}
		if len(s.monitors) > 0 && cmd.Flags&(FlagAdmin|FlagSkipMonitor) == 0 {
			s.feedMonitors(c, argv)
		}
		us := (nanotime() - start) / 1000
		cmd.calls++
		cmd.usec += us
		if c.blockedByCall() {
			c.blk.usec = us // for the slow log and the latency histograms when the wait ends
		}
		s.commandLatency(c, cmd, us)
		if us >= s.slow.trigger { // false for most commands: slowlog.go
			s.afterCall(c, cmd, argv, us)
		}
		s.Stats.CommandsProcessed++
		if s.Stats.ErrorReplies > s.errMark { // not after CONFIG RESETSTAT zeroed it
			cmd.failed++
		}
		s.errMark = s.Stats.ErrorReplies
	}()
	cmd.Proc(s, c, argv)
}

// rejectUnknown replies Redis's error for a command name it does not
// know, or for an unknown subcommand of a container command.
func (s *Shard) rejectUnknown(c *Client, argv [][]byte) {
	if len(argv) > 1 {
		if base := lookupName(s.cmds.byName, argv[0]); base != nil && base.subs != nil {
			c.Error(errUnknownSubcommand(argv[1], string(argv[0])))
			return
		}
	}
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(truncate(cString(argv[0]), 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range argv[1:] {
		if n >= 128 {
			break
		}
		a = cString(a) // Redis prints them with %s: a NUL ends each
		room := 128 - n
		if len(a) > room {
			a = a[:room]
		}
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		n += len(a) + 3
	}
	c.Error(b.String())
}

// countError records an error reply for INFO errorstats: the error code
// is its first word ("ERR", "WRONGTYPE").
func (s *Shard) countError(msg string) {
	s.Stats.ErrorReplies++
	code := msg
	if i := strings.IndexByte(code, ' '); i >= 0 {
		code = code[:i]
	}
	if n, ok := s.errorStats[code]; ok {
		s.errorStats[code] = n + 1
		return
	}
	if len(s.errorStats) >= 128 { // as Redis, cap the number of distinct codes
		return
	}
	s.errorStats[strings.Clone(code)] = 1
}
