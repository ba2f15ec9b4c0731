package server

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"shoal/engine"
	"shoal/internal/rlog"
	"shoal/resp"
)

// Backend names, as --io takes them.
const (
	IOUring = "uring"
	IOEpoll = "epoll"
)

// Options configure a Server.
type Options struct {
	Config  *engine.Config
	Version string
	// Ready, when set, is called on the loop thread once the listeners
	// accept connections, before the first turn.
	Ready func(s *Server)
}

// Server is one shard: its listeners, connections, engine and loop.
// Everything in it belongs to the goroutine running Run, except stop and
// wakeFD, which the signal watcher uses.
type Server struct {
	cfg             *engine.Config
	shard           *engine.Shard
	opts            Options
	lns             []listener
	conns           []*conn // by slot; nil for free slots
	free            []int32
	gens            []uint32 // by slot: the generation of its latest connection
	live            int
	wakeFD          int
	stop            atomic.Bool
	stopWhy         atomic.Value // string
	holds           []hold       // clients waiting for the AOF (aof.go), oldest first
	limits          resp.Limits
	epoch           uint64 // the shard's ConfigEpoch when limits were derived
	turnNs          int64  // cron period
	nextCron        int64
	lastClientsCron int64
	log             *rlog.Logger
	bus             *bus // the cluster bus (bus.go); nil unless cluster mode has other nodes
}

// conn is one client connection. Fields below "uring" are used by the
// io_uring backend only, those below "epoll" by the epoll backend only.
type conn struct {
	cli    *engine.Client
	fd     int
	slot   int32
	gen    uint32
	in     []byte // input not yet parsed: an incomplete command at its start
	parser *resp.Parser

	// uring
	sending   []byte // owned by the kernel while a send is in flight
	sendOff   int
	spare     []byte // the next output buffer once sending completes
	inflight  int    // SQEs whose completion is still to come
	recvArmed bool
	closing   bool

	// epoll
	wantWrite bool

	// held: the output waits for the AOF to be durable (server/aof.go)
	held bool
}

// New prepares a shard server: it sets up the engine and raises the
// open-files limit as Redis does. Listening starts in Run.
func New(o Options) *Server {
	s := &Server{cfg: o.Config, opts: o, wakeFD: -1, log: rlog.Default}
	s.shard = engine.NewShard(o.Config)
	s.limits = o.Config.ParserLimits()
	return s
}

// Shard gives the engine, for tests and the launcher's in-process uses.
// Only the loop goroutine may touch it while Run runs.
func (s *Server) Shard() *engine.Shard { return s.shard }

// Addrs lists the addresses the server listens on (after Run started).
func (s *Server) Addrs() []string {
	var a []string
	for _, l := range s.lns {
		a = append(a, l.addr)
	}
	return a
}

// Stop asks the loop to finish its turn and shut down. Safe from any
// goroutine.
func (s *Server) Stop(why string) {
	s.stopWhy.Store(why)
	s.stop.Store(true)
	if s.wakeFD >= 0 {
		var one = [8]byte{1}
		unix.Write(s.wakeFD, one[:])
	}
}

// Run serves until Stop is called or SIGTERM/SIGINT arrives, then closes
// every connection and listener and returns. It locks the calling
// goroutine to its thread for its whole life.
func (s *Server) Run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	s.adjustOpenFilesLimit()
	var err error
	s.wakeFD, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("server: eventfd: %w", err)
	}
	defer unix.Close(s.wakeFD)

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case sig := <-sigs:
			name := "SIGTERM"
			if sig == syscall.SIGINT {
				name = "SIGINT"
			}
			s.log.Logf(rlog.Warning, "Received %s scheduling shutdown...", name)
			s.Stop(name)
		case <-done:
		}
	}()

	if err := s.listen(); err != nil {
		return err
	}
	defer s.closeListeners()
	if err := s.startBus(); err != nil {
		return err
	}
	defer s.stopBus()

	if err := s.shard.StartPersistence(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	b, why, err := s.pickBackend()
	if err != nil {
		return err
	}
	s.shard.Info = engine.ServerInfo{
		IOBackend:  b.name(),
		IOReason:   why,
		TCPPort:    s.cfg.Port,
		ConfigFile: s.cfg.ConfigFile,
		Version:    s.opts.Version,
	}
	if exe, err := os.Executable(); err == nil {
		s.shard.Info.Executable = exe
	}
	s.log.Logf(rlog.Notice, "I/O backend: %s (%s)", b.name(), why)
	s.log.Logf(rlog.Notice, "Ready to accept connections tcp")
	s.turnNs = int64(time.Second) / int64(max(s.cfg.Hz, 1))
	s.nextCron = nanotime() + s.turnNs
	if s.opts.Ready != nil {
		s.opts.Ready(s)
	}
	err = b.run()
	s.shutdown(b)
	return err
}

// backend is an event loop implementation.
type backend interface {
	name() string
	// run turns the loop until s.stop is set.
	run() error
	// closeAll tears down every connection at shutdown.
	closeAll()
}

// pickBackend creates the io_uring backend unless --io epoll was asked or
// the kernel refuses io_uring, in which case it says why and uses epoll.
func (s *Server) pickBackend() (backend, string, error) {
	if s.cfg.IO == IOEpoll {
		b, err := newEpollBackend(s)
		return b, "chosen with --io epoll", err
	}
	b, err := newUringBackend(s)
	if err == nil {
		return b, b.describe(), nil
	}
	if s.cfg.IO == IOUring {
		return nil, "", fmt.Errorf("server: --io uring was asked but io_uring is not usable: %w", err)
	}
	eb, eerr := newEpollBackend(s)
	return eb, "io_uring refused: " + err.Error(), eerr
}

// newConn registers an accepted socket as a connection in a free slot.
func (s *Server) newConn(fd int, peer, local string) *conn {
	var slot int32
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		slot = int32(len(s.conns))
		s.conns = append(s.conns, nil)
	}
	c := &conn{fd: fd, slot: slot, parser: resp.NewParser(s.limits)}
	c.gen = s.nextGen(slot)
	c.cli = s.shard.NewClient()
	c.cli.Addr, c.cli.LAddr, c.cli.FD = peer, local, fd
	c.cli.Handle = slot
	s.conns[slot] = c
	s.live++
	return c
}

// nextGen gives a slot a new generation so that a late completion for an
// earlier connection in the same slot is recognized and dropped.
func (s *Server) nextGen(slot int32) uint32 {
	for int(slot) >= len(s.gens) {
		s.gens = append(s.gens, 0)
	}
	s.gens[slot] = (s.gens[slot] + 1) & genMask
	return s.gens[slot]
}

// freeConn releases c's slot and file descriptor; the engine has
// already forgotten its client.
func (s *Server) freeConn(c *conn) {
	if c.fd < 0 {
		return
	}
	unix.Close(c.fd)
	c.fd = -1
	s.conns[c.slot] = nil
	s.free = append(s.free, c.slot)
	s.live--
}

// admit applies maxclients and protected mode to a new connection, as
// Redis does before it creates a client: a refused one gets Redis's error
// written directly and is closed. It reports whether c may stay.
func (s *Server) admit(fd int, peer string) bool {
	var msg string
	switch {
	case s.live >= s.cfg.MaxClients:
		msg = "-ERR max number of clients reached\r\n"
		s.shard.Stats.RejectedConnections++
	case s.cfg.ProtectedMode && !isLoopback(peer):
		msg = protectedModeError
		s.shard.Stats.RejectedConnections++
	default:
		return true
	}
	unix.Write(fd, []byte(msg))
	unix.Close(fd)
	return false
}

// protectedModeError is what Redis tells a remote client when protected
// mode refuses it.
const protectedModeError = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

func isLoopback(addr string) bool {
	host := addr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	return strings.HasPrefix(host, "127.") || host == "::1" || host == "::ffff:127.0.0.1" || strings.HasPrefix(host, "/")
}

// process parses and executes the commands at the start of buf and
// returns how many bytes it consumed: everything up to an incomplete
// command. After a protocol error, or once the client is to be closed, the
// rest of its input is discarded, as Redis does.
func (s *Server) process(c *conn, buf []byte) int {
	c.cli.QueryBuf = len(buf) // what CLIENT LIST shows while these commands run, as Redis's query buffer
	off := 0
	for off < len(buf) {
		if c.cli.Flags&(engine.CloseAfterReply|engine.CloseASAP) != 0 {
			return len(buf)
		}
		if c.cli.Blocked() || c.held {
			break // the rest waits in c.in until resumeUnblocked or releaseHolds
		}
		args, n, err := c.parser.Parse(buf[off:])
		if err != nil {
			s.shard.ProtocolError(c.cli, err.Error())
			return len(buf)
		}
		if n == 0 {
			break
		}
		off += n
		if len(args) > 0 {
			s.shard.Exec(c.cli, args)
		}
	}
	return off
}

// consume handles data received for c: parsed in place when c holds no
// earlier partial command, else appended to what it holds. What stays
// unparsed is kept in c.in. It reports false when the client exceeded the
// query buffer limit and must be closed.
func (s *Server) consume(c *conn, data []byte) bool {
	s.shard.Stats.NetInputBytes += int64(len(data))
	if len(c.in) == 0 {
		n := s.process(c, data)
		if n < len(data) {
			c.in = s.grow(c, c.in, len(data)-n)
			c.in = append(c.in, data[n:]...)
		}
	} else {
		c.in = s.grow(c, c.in, len(data))
		c.in = append(c.in, data...)
		n := s.process(c, c.in)
		c.in = c.in[:copy(c.in, c.in[n:])]
	}
	c.cli.QueryBuf, c.cli.QueryFree = len(c.in), cap(c.in)-len(c.in)
	if int64(len(c.in)) > s.cfg.ClientQueryBufferLimit {
		s.log.Logf(rlog.Warning, "Closing client that reached max query buffer length: id=%d addr=%s (qbuf initial bytes: %q)",
			c.cli.ID, c.cli.Addr, truncateBytes(c.in, 64))
		return false
	}
	if len(c.in) == 0 && cap(c.in) > 64<<10 {
		c.in = nil // give back a buffer a big command needed
	}
	return true
}

// grow makes room for n more bytes in buf, sized to what the parser says
// the pending command needs, so that a big bulk is received into a buffer
// allocated once.
func (s *Server) grow(c *conn, buf []byte, n int) []byte {
	need := len(buf) + n
	if need <= cap(buf) {
		return buf
	}
	if want := c.parser.Need(); want > need && int64(want) <= s.cfg.ClientQueryBufferLimit+1 {
		need = want
	}
	if need < 2*cap(buf) {
		need = 2 * cap(buf)
	}
	if need < 1024 {
		need = 1024
	}
	nb := make([]byte, len(buf), need)
	copy(nb, buf)
	return nb
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// cron runs the engine's periodic work and closes idle clients when
// timeout is set. It reports the nanotime of the next tick.
func (s *Server) cron(now int64, closeConn func(*conn)) {
	if now < s.nextCron {
		return
	}
	s.shard.Cron()
	if e := s.shard.ConfigEpoch(); e != s.epoch {
		s.epoch = e
		s.limits = s.cfg.ParserLimits()
		for _, c := range s.conns {
			if c != nil {
				c.parser.SetLimits(s.limits)
			}
		}
	}
	s.turnNs = int64(time.Second) / int64(max(s.cfg.Hz, 1))
	s.nextCron = now + s.turnNs
	if s.cfg.Timeout > 0 && now-s.lastClientsCron >= int64(time.Second) {
		s.lastClientsCron = now
		limit := s.shard.Now() - int64(s.cfg.Timeout)*1000
		for _, c := range s.conns {
			if c != nil && !c.closing && !c.cli.Blocked() && c.cli.LastActive() < limit {
				s.log.Logf(rlog.Verbose, "Closing idle client")
				closeConn(c)
			}
		}
	}
}

// waitTime is how long the loop may sleep: until the next tick, or not at
// all while the AOF loads.
func (s *Server) waitTime() time.Duration {
	if s.shard.Loading() {
		return 0
	}
	d := s.untilCron()
	if rw, ok := s.shard.AOFRewriteWait(); ok {
		d = min(d, rw) // an AOF rewrite goes on while the shard is idle
	}
	if at := s.shard.BlockedDeadline(); at != 0 {
		// A blocked client's timeout, to the millisecond as in Redis: the
		// first turn after its deadline passed.
		until := time.Duration(at-time.Now().UnixMilli()) * time.Millisecond
		d = max(min(d, until), 0)
	}
	return d
}

// loadStep loads a slice of the AOF while it loads; an error ends the
// shard (the AOF is not valid).
func (s *Server) loadStep() error {
	if !s.shard.Loading() {
		return nil
	}
	if _, err := s.shard.LoadStep(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// untilCron is how long the loop may sleep before the next tick.
func (s *Server) untilCron() time.Duration {
	d := s.nextCron - nanotime()
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}

func (s *Server) shutdown(b backend) {
	why, _ := s.stopWhy.Load().(string)
	if why == "" {
		why = "request"
	}
	s.log.Logf(rlog.Warning, "User requested shutdown (%s)...", why)
	if s.shard.AOFOn() {
		s.log.Logf(rlog.Notice, "Calling fsync() on the AOF file.")
	}
	s.shard.StopPersistence()
	b.closeAll()
	s.closeListeners()
	if s.cfg.PidFile != "" {
		s.log.Logf(rlog.Notice, "Removing the pid file.")
		os.Remove(s.cfg.PidFile)
	}
	s.log.Logf(rlog.Warning, "Shoal is now ready to exit, bye bye...")
}

var errStopped = errors.New("server: stopped")

// connOf finds the connection of an engine client, nil when it is gone.
func (s *Server) connOf(cli *engine.Client) *conn {
	h := int(cli.Handle)
	if h < 0 || h >= len(s.conns) {
		return nil
	}
	if c := s.conns[h]; c != nil && c.cli == cli {
		return c
	}
	return nil
}

// resumeUnblocked runs the commands that clients which left a blocking
// command or a client pause (engine.Shard.Unblocked) received while they
// were blocked: first the command a pause held (Shard.Resume), then their
// input. A command run here may unblock others, who are then run in turn;
// each client's held input is finite, so the list drains.
func (s *Server) resumeUnblocked() {
	for i := 0; i < len(s.shard.Unblocked); i++ {
		cli := s.shard.Unblocked[i]
		c := s.connOf(cli)
		if c == nil || c.closing {
			continue
		}
		s.shard.Resume(cli)
		if len(c.in) == 0 {
			continue
		}
		n := s.process(c, c.in)
		c.in = c.in[:copy(c.in, c.in[n:])]
		c.cli.QueryBuf, c.cli.QueryFree = len(c.in), cap(c.in)-len(c.in)
	}
	clear(s.shard.Unblocked)
	s.shard.Unblocked = s.shard.Unblocked[:0]
}

// consumeInPlace handles n bytes the kernel wrote directly after c.in.
func (s *Server) consumeInPlace(c *conn, n int) bool {
	s.shard.Stats.NetInputBytes += int64(n)
	c.in = c.in[:len(c.in)+n]
	k := s.process(c, c.in)
	c.in = c.in[:copy(c.in, c.in[k:])]
	c.cli.QueryBuf, c.cli.QueryFree = len(c.in), cap(c.in)-len(c.in)
	return int64(len(c.in)) <= s.cfg.ClientQueryBufferLimit
}
