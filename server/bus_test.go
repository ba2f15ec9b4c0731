package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shoal/cluster"
	"shoal/engine"
	"shoal/internal/rlog"
	"shoal/resp"
)

// testLog is a logger whose lines go to the test's log.
func testLog(t testing.TB) *rlog.Logger {
	return rlog.New(tlogWriter{t}, rlog.Verbose, 'M')
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testNodes is a cluster of n loopback nodes on free ports, with the slots
// split between them.
func testNodes(t testing.TB, n int) []*cluster.Node {
	ranges := cluster.SplitSlots(n)
	nodes := make([]*cluster.Node, n)
	for i := range nodes {
		nodes[i] = &cluster.Node{ID: cluster.NewNodeID(), IP: "127.0.0.1", Port: freePort(t), CPort: freePort(t),
			Epoch: uint64(i + 1), Slots: []cluster.Range{ranges[i]}}
	}
	return nodes
}

// confFor is the configuration of nodes as node self sees it.
func confFor(t testing.TB, nodes []*cluster.Node, self int) *cluster.Config {
	c := &cluster.Config{CurrentEpoch: uint64(len(nodes))}
	for i, n := range nodes {
		cp := *n
		cp.Myself = i == self
		c.Nodes = append(c.Nodes, &cp)
	}
	if err := c.Index(); err != nil {
		t.Fatal(err)
	}
	return c
}

// busNode is a bus and an engine shard with the test goroutine as their
// loop: a subscriber to channel "ch" and pattern "c*", and a publisher.
type busNode struct {
	t        testing.TB
	b        *bus
	sh       *engine.Shard
	efd      int
	sub, pub *engine.Client
	got      []string // what sub received: "message ch m", "pmessage c* ch m"
}

func startBusNode(t testing.TB, nodes []*cluster.Node, self int) *busNode {
	t.Helper()
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newBus(confFor(t, nodes, self), []string{"127.0.0.1"}, 1<<20, efd, testLog(t))
	if err != nil {
		unix.Close(efd)
		t.Fatal(err)
	}
	n := &busNode{t: t, b: b, sh: engine.NewShard(nil), efd: efd}
	n.sh.EnableBus(len(b.links))
	n.sub, n.pub = n.sh.NewClient(), n.sh.NewClient()
	n.sh.Exec(n.sub, [][]byte{[]byte("SUBSCRIBE"), []byte("ch")})
	n.sh.Exec(n.sub, [][]byte{[]byte("PSUBSCRIBE"), []byte("c*")})
	n.sub.Out = n.sub.Out[:0]
	t.Cleanup(n.stop)
	return n
}

func (n *busNode) stop() {
	if n.b != nil {
		n.b.stop()
		n.b = nil
		unix.Close(n.efd)
	}
}

// turn is one turn of the node's loop: hand off, deliver, and read what
// the subscriber got.
func (n *busNode) turn() {
	n.t.Helper()
	n.b.turn(n.sh)
	for _, c := range n.sh.Pending {
		c.Dequeued()
	}
	n.sh.Pending = n.sh.Pending[:0]
	r := bufio.NewReader(bytes.NewReader(n.sub.Out))
	for {
		v, err := resp.ReadReply(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			n.t.Fatalf("subscriber output: %v", err)
		}
		var parts []string
		for _, e := range v.Elems {
			parts = append(parts, string(e.Str))
		}
		n.got = append(n.got, strings.Join(parts, " "))
	}
	n.sub.Out = n.sub.Out[:0]
}

// publish runs PUBLISH on the node and returns its reply.
func (n *busNode) publish(ch, msg string) string {
	n.sh.Exec(n.pub, [][]byte{[]byte("PUBLISH"), []byte(ch), []byte(msg)})
	r := string(n.pub.Out)
	n.pub.Out = n.pub.Out[:0]
	return r
}

func (n *busNode) linked() bool {
	st := n.sh.BusStats()
	return st.LinksOut == st.Peers && st.LinksIn == st.Peers
}

// turnUntil turns the nodes' loops until cond holds, sleeping on their
// eventfds in between as the loop sleeps on its ring.
func turnUntil(t testing.TB, within time.Duration, what string, cond func() bool, nodes ...*busNode) {
	t.Helper()
	deadline := time.Now().Add(within)
	fds := make([]unix.PollFd, len(nodes))
	for {
		for _, n := range nodes {
			n.turn()
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		for i, n := range nodes {
			fds[i] = unix.PollFd{Fd: int32(n.efd), Events: unix.POLLIN}
		}
		unix.Poll(fds, 20)
		var x [8]byte
		for _, n := range nodes {
			unix.Read(n.efd, x[:])
		}
	}
}

// expectClosed reads c until the other side closes it.
func expectClosed(t testing.TB, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf [256]byte
	for {
		_, err := c.Read(buf[:])
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s: the link was not closed", what)
		}
		return
	}
}

// TestBusLinks runs two buses linked over loopback, the test driving both
// loops: every message reaches the other node's channel and pattern
// subscribers exactly once and in order, both ways, big ones too; nothing
// comes back; links that do not come from a node of nodes.conf, do not
// name one, or send anything but frames are closed; a node that stops and
// comes back on the same port is linked to again, and what was published
// meanwhile is counted as dropped.
func TestBusLinks(t *testing.T) {
	hello := busHelloTimeout
	t.Cleanup(func() { busHelloTimeout = hello }) // after the buses' cleanups have stopped them
	busHelloTimeout = time.Second
	nodes := testNodes(t, 2)
	a, b := startBusNode(t, nodes, 0), startBusNode(t, nodes, 1)
	turnUntil(t, 5*time.Second, "links up", func() bool { return a.linked() && b.linked() }, a, b)

	exchange := func(t *testing.T, from, to *busNode, tag string) {
		t.Helper()
		from.got, to.got = nil, nil
		var want []string
		for i := range 60 {
			msg := tag + strconv.Itoa(i)
			if i == 30 {
				msg = tag + strings.Repeat("x", 300<<10)
			}
			if got := from.publish("ch", msg); got != ":2\r\n" {
				t.Fatalf("PUBLISH reply %q, want the local receivers", got)
			}
			want = append(want, "message ch "+msg, "pmessage c* ch "+msg)
			if i%7 == 0 {
				from.turn() // several turns' worth of frames
			}
		}
		turnUntil(t, 5*time.Second, "delivery", func() bool { return len(to.got) >= len(want) }, from, to)
		for range 5 { // and nothing more
			from.turn()
			to.turn()
			time.Sleep(5 * time.Millisecond)
		}
		for _, got := range [][]string{from.got, to.got} {
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Fatalf("subscriber got %d messages, want %d:\n%.300q\nwant\n%.300q", len(got), len(want), g, w)
			}
		}
		if out, n := to.sh.Outbox(); n != 0 {
			t.Fatalf("a peer's messages were queued again: %q", out)
		}
	}
	t.Run("a to b", func(t *testing.T) { exchange(t, a, b, "ab") })
	t.Run("b to a", func(t *testing.T) { exchange(t, b, a, "ba") })
	if st := a.sh.BusStats(); st.Sent != 60 || st.Received != 60 || st.Dropped != 0 {
		t.Errorf("a's stats %+v", *st)
	}

	t.Run("stray links", func(t *testing.T) {
		a.got = nil
		pub := engine.AppendPublishFrame(nil, []byte("ch"), []byte("stray"))
		node := func(id string) []byte { return engine.AppendNodeFrame(nil, id) }
		for _, tc := range []struct {
			name  string
			local string
			send  []byte
		}{
			{"not from a node's address", "127.0.0.2", append(node(nodes[1].ID), pub...)},
			{"no NODE first", "", pub},
			{"unknown node", "", append(node(cluster.NewNodeID()), pub...)},
			{"myself", "", append(node(nodes[0].ID), pub...)},
			{"NODE twice", "", append(node(nodes[1].ID), node(nodes[1].ID)...)},
			{"a command after NODE", "", append(node(nodes[1].ID), "PING\r\n"...)},
			{"silence", "", nil},
		} {
			d := net.Dialer{Timeout: 2 * time.Second}
			if tc.local != "" {
				d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(tc.local)}
			}
			c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(nodes[0].CPort)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			if tc.name == "silence" {
				start := time.Now()
				expectClosed(t, c, tc.name)
				if d := time.Since(start); d < busHelloTimeout/2 {
					t.Errorf("a silent link closed after %v", d)
				}
			} else {
				expectClosed(t, c, tc.name)
			}
			c.Close()
		}
		for range 3 {
			a.turn()
			time.Sleep(5 * time.Millisecond)
		}
		if len(a.got) != 0 {
			t.Errorf("stray links delivered %.300q", strings.Join(a.got, "\n"))
		}
	})

	t.Run("peer restarts", func(t *testing.T) {
		b.stop()
		turnUntil(t, 5*time.Second, "links down", func() bool {
			st := a.sh.BusStats()
			return st.LinksOut == 0 && st.LinksIn == 0
		}, a)
		st := a.sh.BusStats()
		sent, dropped := st.Sent, st.Dropped
		a.publish("ch", "lost")
		a.turn()
		if st.Dropped != dropped+1 || st.Sent != sent {
			t.Errorf("publish with the link down: sent %d dropped %d, was %d %d", st.Sent, st.Dropped, sent, dropped)
		}
		b2 := startBusNode(t, nodes, 1)
		turnUntil(t, 5*time.Second, "links up again", func() bool { return a.linked() && b2.linked() }, a, b2)
		exchange(t, a, b2, "again-ab")
		exchange(t, b2, a, "again-ba")
	})
}

// TestBusForwardDrops: the loop drops frames for a peer whose link is
// down or whose queue is full (a frame bigger than the queue still goes
// when the queue is empty), counts them, and logs at most every
// busDropLogEvery per peer.
func TestBusForwardDrops(t *testing.T) {
	var logBuf bytes.Buffer
	b := &bus{log: rlog.New(&logBuf, rlog.Notice, 'M'), wakeFD: -1, maxBulk: 1 << 30, drained: make(chan struct{}, 1)}
	up, down := testLink(true), testLink(false)
	b.links = []*busLink{up, down}
	st := &engine.BusStats{}
	frame := engine.AppendPublishFrame(nil, []byte("ch"), []byte("m"))

	b.forward(st, frame, 1)
	if st.Sent != 1 || st.Dropped != 1 || string(up.mu.buf) != string(frame) || len(down.mu.buf) != 0 {
		t.Fatalf("up and down: %+v, queues %q %q", *st, up.mu.buf, down.mu.buf)
	}
	if len(up.kick) != 1 {
		t.Fatal("the writer was not kicked")
	}
	b.forward(st, frame, 1) // logged 0s ago: not again
	if n := strings.Count(logBuf.String(), "dropped"); n != 1 || !strings.Contains(logBuf.String(), "dropped 1 PUBLISH messages for node "+down.node.ID+" at "+down.addr+" (link down)") {
		t.Fatalf("log:\n%s", logBuf.String())
	}

	big := engine.AppendPublishFrame(nil, []byte("ch"), bytes.Repeat([]byte("x"), busQueueMax))
	b.links = []*busLink{up}
	up.mu.buf = up.mu.buf[:0]
	up.lastLog = 0
	b.forward(st, big, 1) // empty queue: taken whole
	if len(up.mu.buf) != len(big) || st.Sent != 3 {
		t.Fatalf("a big frame on an empty queue: queue %d bytes, %+v", len(up.mu.buf), *st)
	}
	b.forward(st, frame, 1)
	if len(up.mu.buf) != len(big) || st.Dropped != 3 {
		t.Fatalf("a full queue: queue %d bytes, %+v", len(up.mu.buf), *st)
	}
	if !strings.Contains(logBuf.String(), "(queue full)") {
		t.Fatalf("log:\n%s", logBuf.String())
	}
}

func testLink(up bool) *busLink {
	l := &busLink{node: &cluster.Node{ID: cluster.NewNodeID()}, addr: "127.0.0.1:17000", kick: make(chan struct{}, 1)}
	l.mu.up = up
	return l
}

// TestBusTurnNoAlloc: the loop's bus hook allocates nothing: without a
// bus, with an idle one, forwarding a PUBLISH and delivering a peer's.
func TestBusTurnNoAlloc(t *testing.T) {
	s := &Server{shard: engine.NewShard(nil)}
	if a := testing.AllocsPerRun(100, s.busTurn); a != 0 {
		t.Errorf("no bus: %v allocations", a)
	}
	sh := s.shard
	sh.EnableBus(1)
	l := testLink(true)
	s.bus = &bus{log: testLog(t), wakeFD: -1, maxBulk: 1 << 20, drained: make(chan struct{}, 1), links: []*busLink{l}}
	if a := testing.AllocsPerRun(100, s.busTurn); a != 0 {
		t.Errorf("idle bus: %v allocations", a)
	}

	pub, sub := sh.NewClient(), sh.NewClient()
	sh.Exec(sub, [][]byte{[]byte("SUBSCRIBE"), []byte("ch")})
	args := [][]byte{[]byte("PUBLISH"), []byte("ch"), []byte("hello")}
	frame := engine.AppendPublishFrame(nil, args[1], args[2])
	reset := func() {
		pub.Out, sub.Out = pub.Out[:0], sub.Out[:0]
		for _, c := range sh.Pending {
			c.Dequeued()
		}
		sh.Pending = sh.Pending[:0]
		l.mu.buf = l.mu.buf[:0]
		select {
		case <-l.kick:
		default:
		}
	}
	forward := func() {
		reset()
		sh.Exec(pub, args)
		s.busTurn()
	}
	forward()
	if a := testing.AllocsPerRun(100, forward); a != 0 {
		t.Errorf("forwarding a PUBLISH: %v allocations", a)
	}
	if string(l.mu.buf) != string(frame) {
		t.Fatalf("queued %q", l.mu.buf)
	}
	deliver := func() {
		reset()
		s.bus.in.buf = append(s.bus.in.buf, frame...)
		s.bus.ready.Store(true)
		s.busTurn()
	}
	deliver()
	if a := testing.AllocsPerRun(100, deliver); a != 0 {
		t.Errorf("delivering a peer's PUBLISH: %v allocations", a)
	}
	if !bytes.Contains(sub.Out, []byte("hello")) {
		t.Fatalf("subscriber got %q", sub.Out)
	}
}

// BenchmarkBusTurn: one PUBLISH handed to three peers' queues, and one
// peer's message delivered, per turn.
func BenchmarkBusTurn(b *testing.B) {
	s := &Server{shard: engine.NewShard(nil)}
	sh := s.shard
	sh.EnableBus(3)
	links := []*busLink{testLink(true), testLink(true), testLink(true)}
	s.bus = &bus{log: rlog.New(io.Discard, rlog.Warning, 'M'), wakeFD: -1, maxBulk: 1 << 20, drained: make(chan struct{}, 1), links: links}
	pub, sub := sh.NewClient(), sh.NewClient()
	sh.Exec(sub, [][]byte{[]byte("SUBSCRIBE"), []byte("ch")})
	args := [][]byte{[]byte("PUBLISH"), []byte("ch"), []byte("hello world")}
	frame := engine.AppendPublishFrame(nil, args[1], args[2])
	b.ReportAllocs()
	for b.Loop() {
		pub.Out, sub.Out = pub.Out[:0], sub.Out[:0]
		for _, c := range sh.Pending {
			c.Dequeued()
		}
		sh.Pending = sh.Pending[:0]
		for _, l := range links {
			l.mu.buf = l.mu.buf[:0]
		}
		sh.Exec(pub, args)
		s.bus.in.buf = append(s.bus.in.buf, frame...)
		s.bus.ready.Store(true)
		s.busTurn()
	}
}

// startClusterServer runs a Server in cluster mode on node self of nodes,
// in this process. stop stops it and waits for Run.
func startClusterServer(t *testing.T, backend string, nodes []*cluster.Node, self int) (s *Server, stop func()) {
	t.Helper()
	cfg := engine.DefaultConfig()
	cfg.Port, cfg.Bind, cfg.IO = nodes[self].Port, []string{"127.0.0.1"}, backend
	cfg.ClusterEnabled, cfg.Cluster = true, confFor(t, nodes, self)
	ready := make(chan struct{})
	s = New(Options{Config: cfg, Version: "test", Ready: func(*Server) { close(ready) }})
	s.log = testLog(t)
	done := make(chan error, 1)
	go func() { done <- s.Run() }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			s.Stop("test")
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("server did not stop")
			}
		})
	}
	select {
	case <-ready:
		t.Cleanup(stop)
		return s, stop
	case err := <-done:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	return nil, nil
}

// TestServerBus runs a real shard loop, on each backend, in cluster mode
// with one peer that the test plays on raw sockets: the shard dials the
// peer and names itself; a message the peer sends reaches the shard's
// subscribers (the reader wakes the loop); a PUBLISH on the shard replies
// its local receivers and reaches the peer as one frame; SPUBLISH does not.
func TestServerBus(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			peerLn, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer peerLn.Close()
			nodes := testNodes(t, 2)
			nodes[0].Slots = []cluster.Range{{Start: 0, End: cluster.Slots - 1}}
			nodes[1].Slots = nil
			nodes[1].CPort = peerLn.Addr().(*net.TCPAddr).Port
			s, stop := startClusterServer(t, backend, nodes, 0)

			// The shard dials the peer and names itself.
			peerLn.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
			in, err := peerLn.Accept()
			if err != nil {
				t.Fatalf("the shard did not dial its peer: %v", err)
			}
			defer in.Close()
			readExact := func(c net.Conn, want string) {
				t.Helper()
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				got := make([]byte, len(want))
				if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
					t.Fatalf("read %q %v, want %q", got, err, want)
				}
			}
			readExact(in, string(engine.AppendNodeFrame(nil, nodes[0].ID)))

			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(nodes[0].Port))
			dial := func(addr string) net.Conn {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
				return c
			}
			sub, pub := dial(addr), dial(addr)
			sub.Write(append(command("SUBSCRIBE", "ch"), command("PSUBSCRIBE", "c*")...))
			readExact(sub, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n")

			// The peer links to the shard and publishes.
			out := dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(nodes[0].CPort)))
			out.Write(append(engine.AppendNodeFrame(nil, nodes[1].ID), engine.AppendPublishFrame(nil, []byte("ch"), []byte("from-peer"))...))
			readExact(sub, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$9\r\nfrom-peer\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$9\r\nfrom-peer\r\n")

			// The shard publishes: local receivers, one frame to the peer;
			// SPUBLISH stays here.
			pub.Write(append(append(command("PUBLISH", "ch", "local"), command("SPUBLISH", "ch", "shard-only")...), command("PUBLISH", "zz", "nobody")...))
			readExact(pub, ":2\r\n:0\r\n:0\r\n")
			readExact(in, string(engine.AppendPublishFrame(engine.AppendPublishFrame(nil, []byte("ch"), []byte("local")), []byte("zz"), []byte("nobody"))))
			readExact(sub, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nlocal\r\n*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$5\r\nlocal\r\n")

			stop()
			st := s.Shard().BusStats()
			if st.Peers != 1 || st.Sent != 2 || st.Received != 1 || st.Dropped != 0 {
				t.Errorf("bus stats %+v", *st)
			}
			expectClosed(t, in, "the shard's link after stop")
		})
	}
}

// TestBusPortBusy: a bus whose port is taken (as by another process's
// outgoing connection) still starts, and listens once the port is free:
// its peer then links to it.
func TestBusPortBusy(t *testing.T) {
	nodes := testNodes(t, 2)
	// An outgoing connection from b's bus port holds it.
	sink, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nodes[1].CPort}}
	blocker, err := d.Dial("tcp4", sink.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	far, err := sink.Accept()
	if err != nil {
		t.Fatal(err)
	}
	a, b := startBusNode(t, nodes, 0), startBusNode(t, nodes, 1)
	turnUntil(t, 5*time.Second, "b links to a", func() bool { return b.sh.BusStats().LinksOut == 1 }, a, b)
	for range 5 {
		a.turn()
		time.Sleep(10 * time.Millisecond)
	}
	if st := a.sh.BusStats(); st.LinksOut != 0 {
		t.Fatalf("a linked to b's taken port: %+v", *st)
	}
	// The far end closes first, so that the port is not left in TIME_WAIT.
	far.Close()
	expectClosed(t, blocker, "the blocking connection")
	blocker.Close()
	turnUntil(t, 5*time.Second, "links up once the port is free", func() bool { return a.linked() && b.linked() }, a, b)
	a.publish("ch", "hello")
	turnUntil(t, 5*time.Second, "delivery", func() bool { return len(b.got) == 2 }, a, b)
}
