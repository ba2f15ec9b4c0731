package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"shoal/cluster"
	"shoal/engine"
	"shoal/internal/rlog"
)

// The cluster bus: in cluster mode, a PUBLISH on any node reaches the
// subscribers of every node, as in Redis Cluster. Each shard listens on
// its bus port (nodes.conf's cport) on its bind addresses, and dials the
// bus port of every other node of its nodes.conf, redialing with backoff
// when a link fails. A link carries frames one way: the dialer sends (a
// NODE frame naming itself, then PUBLISH frames), the acceptor reads.
// The frame format is engine.ParseBusFrame's. Links are accepted from the
// addresses of nodes.conf only, and must name a node of it first. A bus
// port that something else holds (an outgoing connection may get any port
// from 32768 up) is retried in the background: the shard serves its
// clients meanwhile.
//
// # Goroutines and ownership
//
// The links are served by ordinary goroutines with Go's net package, not
// by the loop's ring: bus traffic is rare next to client traffic. Per
// listener, one goroutine accepts; per peer, one goroutine dials and
// writes, and while a link is up a second one reads it only to see it
// close; per accepted link, one goroutine reads. None of them touches the
// engine; they wake the loop through its eventfd, which Run closes only
// after stopBus has waited for every one of them.
//
// The loop meets them through two kinds of buffer, each behind its own
// mutex held only to append or to swap:
//
//   - Each peer's queue (busLink.mu.buf). Once per turn the loop copies
//     the frames PUBLISH queued in the shard's outbox to the queue of every
//     peer whose link is up, and kicks its writer; the writer swaps the
//     queue with its own buffer and writes that buffer. The loop never
//     waits: a frame for a peer whose link is down, or whose queue already
//     holds busQueueMax bytes, is dropped, counted in the shard's BusStats
//     and logged at most every busDropLogEvery per peer.
//   - The inbox (bus.in.buf). Readers append the whole, checked frames
//     they receive; the one that makes it non-empty sets ready and writes
//     the loop's eventfd. The loop swaps the inbox with its own buffer and
//     delivers each message with a local-only publish. A reader finding the
//     inbox over busInboxMax waits for the loop to take it, so a busy shard
//     slows its peers' writers down instead of growing without bound.
//
// A shard with no bus costs the loop one nil test per turn; an idle bus, a
// length test and an atomic load.

// Bus tunables.
const (
	busDialTimeout  = 2 * time.Second
	busWriteTimeout = 10 * time.Second // a peer that takes nothing for this long is redialed
	busBackoffMin   = 50 * time.Millisecond
	busBackoffMax   = time.Second
	busQueueMax     = 8 << 20  // bytes queued for one peer
	busInboxMax     = 32 << 20 // bytes received and not yet delivered
	busReadChunk    = 64 << 10
	busKeep         = 1 << 20 // buffer capacity kept from one use to the next
	busDropLogEvery = int64(10 * time.Second)
)

// busHelloTimeout bounds the wait for an accepted link's NODE frame; a
// variable for tests.
var busHelloTimeout = 5 * time.Second

// bus is a shard's end of the cluster bus. The fields up to wg are set by
// newBus and read-only after; in is guarded by its mutex; inbox is the
// loop's.
type bus struct {
	log     *rlog.Logger
	wakeFD  int
	selfID  string
	maxBulk int64
	peers   map[string]*cluster.Node // every node but myself, by id
	allowed map[netip.Addr]bool      // the addresses of nodes.conf
	links   []*busLink
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	ready    atomic.Bool  // the inbox has frames, or a link changed state
	linksOut atomic.Int32 // links to peers that are up
	linksIn  atomic.Int32 // links from peers that named themselves
	drained  chan struct{}

	in struct {
		sync.Mutex
		buf   []byte                // checked PUBLISH frames from every peer, in arrival order per link
		conns map[net.Conn]struct{} // accepted links, closed by stop
		lns   []net.Listener        // closed by stop
	}
	inbox []byte // the loop's: the frames being delivered
}

// busLink is the link to one peer.
type busLink struct {
	node *cluster.Node
	addr string
	kick chan struct{} // one token: the queue has frames
	mu   struct {
		sync.Mutex
		up   bool
		buf  []byte   // frames for the writer; empty while the link is down
		conn net.Conn // the link, closed by stop
	}
	// The loop's: drops not logged yet, and when it last logged.
	dropped int64
	lastLog int64
}

var errBusClosed = errors.New("closed by the peer")

// startBus starts the cluster bus when the shard is in cluster mode with
// other nodes; otherwise it does nothing. Run calls it before serving.
func (s *Server) startBus() error {
	conf := s.cfg.Cluster
	if !s.cfg.ClusterEnabled || conf == nil || conf.Myself() == nil || len(conf.Nodes) < 2 {
		return nil
	}
	b, err := newBus(conf, s.cfg.Bind, s.cfg.ProtoMaxBulkLen, s.wakeFD, s.log)
	if err != nil {
		return err
	}
	s.bus = b
	s.shard.EnableBus(len(b.links))
	return nil
}

// stopBus closes every link and waits for the bus's goroutines.
func (s *Server) stopBus() {
	if s.bus != nil {
		s.bus.stop()
		s.bus = nil
	}
}

// busTurn is the loop's share of the bus, once per turn.
func (s *Server) busTurn() {
	if s.bus != nil {
		s.bus.turn(s.shard)
	}
}

// newBus listens on myself's bus port at every bind address (as listen
// does for clients: '-' marks an optional one, "*" and "::*" every
// address) and starts the goroutines. wakeFD is the loop's eventfd.
func newBus(conf *cluster.Config, bind []string, maxBulk int64, wakeFD int, log *rlog.Logger) (*bus, error) {
	me := conf.Myself()
	ctx, cancel := context.WithCancel(context.Background())
	b := &bus{
		log: log, wakeFD: wakeFD, selfID: me.ID, maxBulk: maxBulk,
		peers: map[string]*cluster.Node{}, allowed: map[netip.Addr]bool{},
		ctx: ctx, cancel: cancel, drained: make(chan struct{}, 1),
	}
	b.in.conns = map[net.Conn]struct{}{}
	for _, n := range conf.Nodes {
		if ip, err := netip.ParseAddr(n.IP); err == nil {
			b.allowed[ip.Unmap()] = true
		} else if !n.Myself {
			log.Logf(rlog.Warning, "Cluster bus: node %.40s has no IP address (%q): links from it are refused", n.ID, n.IP)
		}
		if n.Myself {
			continue
		}
		b.peers[n.ID] = n
		b.links = append(b.links, &busLink{node: n, addr: net.JoinHostPort(n.IP, strconv.Itoa(n.CPort)), kick: make(chan struct{}, 1)})
	}
	listening := 0 // listeners open or pending
	for _, a := range bind {
		optional := strings.HasPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		switch a {
		case "*":
			a = "0.0.0.0"
		case "::*":
			a = "::"
		}
		network, addr := "tcp4", joinHostPort(a, me.CPort)
		if strings.Contains(a, ":") {
			network = "tcp6"
		}
		ln, err := net.Listen(network, addr)
		switch {
		case err == nil:
			b.in.Lock()
			b.in.lns = append(b.in.lns, ln)
			b.in.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.accept(ln)
			}()
		case errors.Is(err, unix.EADDRINUSE):
			// Ports from 32768 up are also handed out to outgoing
			// connections, which come and go: keep trying.
			log.Logf(rlog.Warning, "Cluster bus: port %d of %s is in use; trying again in the background", me.CPort, a)
			b.wg.Add(1)
			go b.listenLater(network, addr)
		case optional:
			log.Logf(rlog.Verbose, "Could not create the cluster bus listening socket %s: %v", addr, err)
			continue
		default:
			b.stop()
			return nil, fmt.Errorf("server: cluster bus: can't listen on %s: %w", addr, err)
		}
		listening++
	}
	if listening == 0 {
		b.stop()
		return nil, fmt.Errorf("server: cluster bus: no bind address to listen on port %d", me.CPort)
	}
	for _, l := range b.links {
		b.wg.Add(1)
		go b.dial(l)
	}
	log.Logf(rlog.Notice, "Cluster bus: port %d, linking to %d peers", me.CPort, len(b.links))
	return b, nil
}

// listenLater retries a listener whose port was taken until it gets it,
// then accepts on it; it gives up when the bus stops.
func (b *bus) listenLater(network, addr string) {
	defer b.wg.Done()
	backoff := busBackoffMin
	for tries := 1; b.sleep(backoff); tries++ {
		backoff = min(2*backoff, busBackoffMax)
		ln, err := net.Listen(network, addr)
		if err != nil {
			if tries%60 == 0 {
				b.log.Logf(rlog.Warning, "Cluster bus: still can't listen on %s: %v", addr, err)
			}
			continue
		}
		b.in.Lock()
		if b.ctx.Err() != nil {
			b.in.Unlock()
			ln.Close()
			return
		}
		b.in.lns = append(b.in.lns, ln)
		b.in.Unlock()
		b.log.Logf(rlog.Notice, "Cluster bus: listening on %s", addr)
		b.accept(ln)
		return
	}
}

// stop ends every goroutine of the bus and waits for them. Frames still
// queued are dropped.
func (b *bus) stop() {
	b.cancel()
	b.in.Lock()
	for _, ln := range b.in.lns {
		ln.Close()
	}
	for c := range b.in.conns {
		c.Close()
	}
	b.in.Unlock()
	for _, l := range b.links {
		l.mu.Lock()
		if l.mu.conn != nil {
			l.mu.conn.Close()
		}
		l.mu.Unlock()
	}
	b.wg.Wait()
}

// wake makes the loop run a turn: a write to its eventfd.
func (b *bus) wake() {
	one := [8]byte{1}
	unix.Write(b.wakeFD, one[:])
}

// notify tells the loop that something changed for it.
func (b *bus) notify() {
	b.ready.Store(true)
	b.wake()
}

// turn hands the frames PUBLISH queued this turn to the links, and
// delivers what peers sent. Loop goroutine only.
func (b *bus) turn(sh *engine.Shard) {
	if out, n := sh.Outbox(); n > 0 {
		b.forward(sh.BusStats(), out, n)
		sh.ClearOutbox()
	}
	if b.ready.Load() {
		b.deliver(sh)
	}
}

// forward copies n frames to the queue of every peer whose link is up and
// has room, and counts the others as dropped. O(peers × len(out)).
func (b *bus) forward(st *engine.BusStats, out []byte, n int) {
	for _, l := range b.links {
		l.mu.Lock()
		up := l.mu.up
		room := len(l.mu.buf) == 0 || len(l.mu.buf)+len(out) <= busQueueMax
		if up && room {
			l.mu.buf = append(l.mu.buf, out...)
		}
		l.mu.Unlock()
		if up && room {
			st.Sent += int64(n)
			select {
			case l.kick <- struct{}{}:
			default:
			}
			continue
		}
		st.Dropped += int64(n)
		l.dropped += int64(n)
		if now := nanotime(); l.lastLog == 0 || now-l.lastLog >= busDropLogEvery {
			why := "link down"
			if up {
				why = "queue full"
			}
			b.log.Logf(rlog.Warning, "Cluster bus: dropped %d PUBLISH messages for node %.40s at %s (%s)", l.dropped, l.node.ID, l.addr, why)
			l.dropped, l.lastLog = 0, now
		}
	}
}

// deliver takes the inbox and publishes each message locally, then
// refreshes the link counts. The readers queue only whole frames they
// checked, so parsing them again cannot fail.
func (b *bus) deliver(sh *engine.Shard) {
	b.ready.Store(false)
	b.in.Lock()
	b.inbox, b.in.buf = b.in.buf, b.inbox[:0]
	b.in.Unlock()
	select {
	case b.drained <- struct{}{}:
	default:
	}
	st := sh.BusStats()
	st.LinksOut, st.LinksIn = int(b.linksOut.Load()), int(b.linksIn.Load())
	for p := b.inbox; len(p) > 0; {
		f, n, err := engine.ParseBusFrame(p, b.maxBulk)
		if err != nil || n == 0 {
			break
		}
		sh.PublishFromPeer(f.Channel, f.Message)
		p = p[n:]
	}
	b.inbox = b.inbox[:0]
	if cap(b.inbox) > busKeep {
		b.inbox = nil
	}
}

// queueIn appends checked frames to the inbox, waking the loop when it
// was empty, and waits while the inbox is over its limit. It reports
// false when the bus is stopping.
func (b *bus) queueIn(frames []byte) bool {
	for {
		b.in.Lock()
		n := len(b.in.buf)
		if n == 0 || n+len(frames) <= busInboxMax {
			b.in.buf = append(b.in.buf, frames...)
			b.in.Unlock()
			if n == 0 {
				b.notify()
			}
			return true
		}
		b.in.Unlock()
		select {
		case <-b.drained:
		case <-b.ctx.Done():
			return false
		}
	}
}

// accept takes links from peers: from the addresses of nodes.conf only.
func (b *bus) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			b.log.Logf(rlog.Warning, "Cluster bus: accepting a link: %v", err)
			if !b.sleep(busBackoffMin) {
				return
			}
			continue
		}
		if ip := remoteIP(c); !b.allowed[ip] {
			b.log.Logf(rlog.Verbose, "Cluster bus: refused a link from %s, not a node of nodes.conf", c.RemoteAddr())
			c.Close()
			continue
		}
		b.in.Lock()
		if b.ctx.Err() != nil {
			b.in.Unlock()
			c.Close()
			return
		}
		b.in.conns[c] = struct{}{}
		b.in.Unlock()
		b.wg.Add(1)
		go b.serveInbound(c)
	}
}

func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// serveInbound reads a link from a peer: a NODE frame naming a node of
// nodes.conf, then PUBLISH frames, queued whole for the loop. Anything
// else closes the link.
func (b *bus) serveInbound(c net.Conn) {
	defer b.wg.Done()
	defer func() {
		b.in.Lock()
		delete(b.in.conns, c)
		b.in.Unlock()
		c.Close()
	}()
	c.SetReadDeadline(time.Now().Add(busHelloTimeout))
	var peer *cluster.Node
	defer func() {
		if peer != nil {
			b.linksIn.Add(-1)
			b.notify()
			b.log.Logf(rlog.Verbose, "Cluster bus: link from node %.40s closed", peer.ID)
		}
	}()
	buf := make([]byte, 0, busReadChunk)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, rerr := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		start, off := 0, 0
		for {
			f, k, err := engine.ParseBusFrame(buf[off:], b.maxBulk)
			if err != nil {
				b.log.Logf(rlog.Warning, "Cluster bus: closing the link from %s: %v", c.RemoteAddr(), err)
				return
			}
			if k == 0 {
				break
			}
			off += k
			switch {
			case peer == nil && f.Kind == engine.BusNode && b.peers[string(f.NodeID)] != nil:
				peer = b.peers[string(f.NodeID)]
				start = off
				c.SetReadDeadline(time.Time{})
				b.linksIn.Add(1)
				b.notify()
				b.log.Logf(rlog.Verbose, "Cluster bus: link from node %.40s at %s", peer.ID, c.RemoteAddr())
			case peer == nil:
				b.log.Logf(rlog.Warning, "Cluster bus: closing the link from %s: it does not name a node of nodes.conf first", c.RemoteAddr())
				return
			case f.Kind != engine.BusPublish:
				b.log.Logf(rlog.Warning, "Cluster bus: closing the link from node %.40s: unexpected frame", peer.ID)
				return
			}
		}
		if off > start && !b.queueIn(buf[start:off]) {
			return
		}
		buf = buf[:copy(buf, buf[off:])]
		if len(buf) == 0 && cap(buf) > busKeep {
			buf = make([]byte, 0, busReadChunk)
		}
		if rerr != nil {
			if peer != nil && rerr != io.EOF && b.ctx.Err() == nil {
				b.log.Logf(rlog.Verbose, "Cluster bus: reading the link from node %.40s: %v", peer.ID, rerr)
			}
			return
		}
	}
}

// sleep waits for d, or until the bus stops (false).
func (b *bus) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.ctx.Done():
		return false
	}
}

// dial keeps the link to one peer: it dials, names this node, writes
// what the loop queues until the link fails, and dials again after a
// backoff that doubles from busBackoffMin to busBackoffMax.
func (b *bus) dial(l *busLink) {
	defer b.wg.Done()
	backoff := busBackoffMin
	d := net.Dialer{Timeout: busDialTimeout}
	hello := engine.AppendNodeFrame(nil, b.selfID)
	for b.ctx.Err() == nil {
		c, err := d.DialContext(b.ctx, "tcp", l.addr)
		if err == nil {
			c.SetWriteDeadline(time.Now().Add(busWriteTimeout))
			if _, err = c.Write(hello); err != nil {
				c.Close()
			}
		}
		if err != nil {
			if b.ctx.Err() == nil {
				b.log.Logf(rlog.Verbose, "Cluster bus: can't link to node %.40s at %s: %v", l.node.ID, l.addr, err)
			}
			if !b.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, busBackoffMax)
			continue
		}
		backoff = busBackoffMin
		err = b.serveOutbound(l, c)
		if b.ctx.Err() == nil {
			b.log.Logf(rlog.Notice, "Cluster bus: link to node %.40s at %s lost: %v", l.node.ID, l.addr, err)
		}
	}
}

// serveOutbound runs an established link to a peer until it fails or the
// bus stops.
func (b *bus) serveOutbound(l *busLink, c net.Conn) error {
	l.mu.Lock()
	if b.ctx.Err() != nil { // stop has already closed the links it knew
		l.mu.Unlock()
		c.Close()
		return nil
	}
	l.mu.up, l.mu.conn = true, c
	l.mu.Unlock()
	b.linksOut.Add(1)
	b.notify()
	b.log.Logf(rlog.Verbose, "Cluster bus: linked to node %.40s at %s", l.node.ID, l.addr)

	// The peer never writes on this link: a read returns when it closes.
	closed := make(chan struct{})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer close(closed)
		var x [64]byte
		for {
			if _, err := c.Read(x[:]); err != nil {
				return
			}
		}
	}()
	err := b.pump(l, c, closed)

	l.mu.Lock()
	l.mu.up, l.mu.conn = false, nil
	l.mu.buf = l.mu.buf[:0]
	l.mu.Unlock()
	c.Close()
	<-closed
	b.linksOut.Add(-1)
	b.notify()
	return err
}

// pump writes what the loop queues for l until the write fails, the peer
// closes the link or the bus stops.
func (b *bus) pump(l *busLink, c net.Conn, closed <-chan struct{}) error {
	var out []byte
	for {
		select {
		case <-l.kick:
		case <-closed:
			return errBusClosed
		case <-b.ctx.Done():
			return nil
		}
		l.mu.Lock()
		out, l.mu.buf = l.mu.buf, out[:0]
		l.mu.Unlock()
		if len(out) == 0 {
			continue
		}
		c.SetWriteDeadline(time.Now().Add(busWriteTimeout))
		if _, err := c.Write(out); err != nil {
			return err
		}
		if cap(out) > busKeep {
			out = nil
		}
	}
}
