package engine

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

const testNodeID = "0123456789abcdef0123456789abcdef01234567"

// TestBusFrameCodec checks what ParseBusFrame accepts and refuses, and
// that every proper prefix of a good frame asks for more.
func TestBusFrameCodec(t *testing.T) {
	pub := func(ch, msg string) []byte { return AppendPublishFrame(nil, []byte(ch), []byte(msg)) }
	for _, tc := range []struct {
		name  string
		in    []byte
		kind  int
		a, b  string // node id, or channel and message
		extra string // bytes after the frame, left alone
		err   error
	}{
		{name: "publish", in: pub("news", "hello"), kind: BusPublish, a: "news", b: "hello"},
		{name: "publish empty", in: pub("", ""), kind: BusPublish},
		{name: "publish binary", in: pub("a\r\nb", "\x00\r\n$3\r\n"), kind: BusPublish, a: "a\r\nb", b: "\x00\r\n$3\r\n"},
		{name: "publish then more", in: append(pub("c", "m"), "*3\r\n$7"...), kind: BusPublish, a: "c", b: "m", extra: "*3\r\n$7"},
		{name: "node", in: AppendNodeFrame(nil, testNodeID), kind: BusNode, a: testNodeID},
		{name: "text", in: []byte("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\nm\r\n"), kind: BusPublish, a: "ch", b: "m"},

		{name: "inline", in: []byte("PUBLISH ch m\r\n"), err: ErrBusFrame},
		{name: "lower case", in: []byte("*3\r\n$7\r\npublish\r\n$2\r\nch\r\n$1\r\nm\r\n"), err: ErrBusFrameKind},
		{name: "spublish", in: []byte("*3\r\n$8\r\nSPUBLISH\r\n$2\r\nch\r\n$1\r\nm\r\n"), err: ErrBusFrameKind},
		{name: "publish of 2", in: []byte("*2\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n"), err: ErrBusFrameKind},
		{name: "node of 3", in: []byte("*3\r\n$4\r\nNODE\r\n$1\r\na\r\n$1\r\nb\r\n"), err: ErrBusFrameKind},
		{name: "four elements", in: []byte("*4\r\n"), err: ErrBusFrameKind},
		{name: "one element", in: []byte("*1\r\n$4\r\nPING\r\n"), err: ErrBusFrameKind},
		{name: "node id short", in: []byte("*2\r\n$4\r\nNODE\r\n$3\r\nabc\r\n"), err: ErrBusFrame},
		{name: "node id upper", in: AppendNodeFrame(nil, strings.ToUpper(testNodeID)), err: ErrBusFrame},
		{name: "leading zero", in: []byte("*3\r\n$07\r\nPUBLISH\r\n"), err: ErrBusFrame},
		{name: "negative", in: []byte("*3\r\n$7\r\nPUBLISH\r\n$-1\r\n"), err: ErrBusFrame},
		{name: "plus", in: []byte("*+3\r\n"), err: ErrBusFrame},
		{name: "empty count", in: []byte("*\r\n"), err: ErrBusFrame},
		{name: "lf only", in: []byte("*3\n"), err: ErrBusFrame},
		{name: "cr then junk", in: []byte("*3\rx"), err: ErrBusFrame},
		{name: "bulk without crlf", in: []byte("*3\r\n$7\r\nPUBLISHxx"), err: ErrBusFrame},
		{name: "long number", in: []byte("*3\r\n$7\r\nPUBLISH\r\n$1234567890123456789"), err: ErrBusFrame},
		{name: "too big", in: []byte("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1025\r\n"), err: ErrBusFrameSize},
		{name: "array in array", in: []byte("*3\r\n*1\r\n"), err: ErrBusFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseBusFrame(tc.in, 1024)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				if n != 0 {
					t.Fatalf("n %d with an error", n)
				}
				return
			}
			if n != len(tc.in)-len(tc.extra) || f.Kind != tc.kind {
				t.Fatalf("n %d kind %d, want %d %d", n, f.Kind, len(tc.in)-len(tc.extra), tc.kind)
			}
			switch f.Kind {
			case BusNode:
				if string(f.NodeID) != tc.a {
					t.Fatalf("node id %q", f.NodeID)
				}
			case BusPublish:
				if string(f.Channel) != tc.a || string(f.Message) != tc.b {
					t.Fatalf("channel %q message %q", f.Channel, f.Message)
				}
			}
			for i := 0; i < n; i++ {
				if _, k, err := ParseBusFrame(tc.in[:i], 1024); k != 0 || err != nil {
					t.Fatalf("prefix of %d bytes: n %d err %v, want a request for more", i, k, err)
				}
			}
		})
	}
}

// FuzzBusFrame: a frame built from any channel and message parses back to
// them; any input either asks for more, is refused, or is a frame whose
// encoding is exactly the bytes it took (the format has one spelling).
func FuzzBusFrame(f *testing.F) {
	f.Add([]byte("news"), []byte("hello"), []byte("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\nm\r\n"))
	f.Add([]byte(""), []byte("\r\n"), AppendNodeFrame(nil, testNodeID))
	f.Add([]byte("a"), []byte("b"), []byte("*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$-1\r\n"))
	f.Fuzz(func(t *testing.T, ch, msg, raw []byte) {
		frame := AppendPublishFrame(nil, ch, msg)
		fr, n, err := ParseBusFrame(frame, 1<<20)
		if err != nil || n != len(frame) || fr.Kind != BusPublish || !bytes.Equal(fr.Channel, ch) || !bytes.Equal(fr.Message, msg) {
			t.Fatalf("round trip of %q %q: %+v %d %v", ch, msg, fr, n, err)
		}
		fr, n, err = ParseBusFrame(raw, 64)
		switch {
		case err != nil:
			if n != 0 {
				t.Fatalf("%q: n %d with error %v", raw, n, err)
			}
		case n == 0:
		case n > len(raw):
			t.Fatalf("%q: n %d past the end", raw, n)
		default:
			var again []byte
			if fr.Kind == BusNode {
				again = AppendNodeFrame(nil, string(fr.NodeID))
			} else {
				again = AppendPublishFrame(nil, fr.Channel, fr.Message)
			}
			if !bytes.Equal(again, raw[:n]) {
				t.Fatalf("%q parsed as %+v, which encodes as %q", raw[:n], fr, again)
			}
		}
	})
}

// TestPublishForwards: with the bus enabled, PUBLISH (also inside
// MULTI) replies the local receivers and queues one frame; SPUBLISH and
// keyspace notifications stay local; without the bus nothing is queued.
// A message from a peer reaches channel and pattern subscribers and is not
// queued again.
func TestPublishForwards(t *testing.T) {
	p := newPSTest(t)
	c, sub := p.s.NewClient(), p.s.NewClient()
	p.exec(sub, "SUBSCRIBE news")
	p.exec(sub, "PSUBSCRIBE n*")

	if got := p.exec(c, "PUBLISH news local"); got[0] != ":2" {
		t.Fatalf("PUBLISH without bus: %v", got)
	}
	if out, n := p.s.Outbox(); len(out) != 0 || n != 0 {
		t.Fatalf("outbox without bus: %q %d", out, n)
	}
	p.take(sub)

	p.s.EnableBus(2)
	p.exec(c, "CONFIG SET notify-keyspace-events KEA")
	for _, line := range []string{"PUBLISH news one", "PUBLISH other two", "SPUBLISH news three", "SET k v", "MULTI", "PUBLISH x four", "EXEC"} {
		p.exec(c, line)
	}
	out, n := p.s.Outbox()
	want := string(AppendPublishFrame(AppendPublishFrame(AppendPublishFrame(nil,
		[]byte("news"), []byte("one")), []byte("other"), []byte("two")), []byte("x"), []byte("four")))
	if string(out) != want || n != 3 {
		t.Fatalf("outbox %q (%d frames), want %q", out, n, want)
	}
	p.s.ClearOutbox()
	if out, n := p.s.Outbox(); len(out) != 0 || n != 0 {
		t.Fatalf("outbox after clear: %q %d", out, n)
	}
	p.take(sub)

	if got := p.s.PublishFromPeer([]byte("news"), []byte("remote")); got != 2 {
		t.Fatalf("PublishFromPeer receivers %d", got)
	}
	if got := p.s.PublishFromPeer([]byte("nothing-here"), []byte("x")); got != 1 {
		t.Fatalf("PublishFromPeer to the pattern only: %d", got)
	}
	got := p.take(sub)
	wantMsgs := []string{`["message" "news" "remote"]`, `["pmessage" "n*" "news" "remote"]`, `["pmessage" "n*" "nothing-here" "x"]`}
	if strings.Join(got, " ") != strings.Join(wantMsgs, " ") {
		t.Fatalf("subscriber got %q, want %q", got, wantMsgs)
	}
	if out, _ := p.s.Outbox(); len(out) != 0 {
		t.Fatalf("a peer's message was queued again: %q", out)
	}
	st := p.s.BusStats()
	if st.Received != 2 || st.Peers != 2 {
		t.Fatalf("stats %+v", *st)
	}
	st.Sent, st.Dropped, st.LinksOut, st.LinksIn = 10, 3, 2, 1
	w := &infoWriter{}
	p.s.infoBus(w)
	wantInfo := "cluster_bus_peers:2\r\ncluster_bus_links_out:2\r\ncluster_bus_links_in:1\r\n" +
		"cluster_bus_publish_sent:10\r\ncluster_bus_publish_received:2\r\ncluster_bus_publish_dropped:3\r\n"
	if w.b.String() != wantInfo {
		t.Fatalf("INFO fields:\n%s\nwant:\n%s", w.b.String(), wantInfo)
	}
}

// TestBusNoAlloc: forwarding a PUBLISH and delivering a peer's message
// allocate nothing once the buffers are warm.
func TestBusNoAlloc(t *testing.T) {
	p := newPSTest(t)
	c, sub := p.s.NewClient(), p.s.NewClient()
	p.exec(sub, "SUBSCRIBE ch")
	p.exec(sub, "PSUBSCRIBE c*")
	p.s.EnableBus(3)
	args := argv("PUBLISH", "ch", "hello")
	reset := func() {
		c.Out, sub.Out = c.Out[:0], sub.Out[:0]
		p.s.Pending = p.s.Pending[:0]
		c.pending, sub.pending = false, false
		p.s.ClearOutbox()
	}
	p.s.Exec(c, args)
	reset()
	if a := testing.AllocsPerRun(200, func() {
		reset()
		p.s.Exec(c, args)
	}); a != 0 {
		t.Errorf("PUBLISH with the bus: %v allocations", a)
	}
	ch, msg := []byte("ch"), []byte("hello")
	if a := testing.AllocsPerRun(200, func() {
		reset()
		p.s.PublishFromPeer(ch, msg)
	}); a != 0 {
		t.Errorf("PublishFromPeer: %v allocations", a)
	}
	frame := AppendPublishFrame(nil, ch, msg)
	if a := testing.AllocsPerRun(200, func() { ParseBusFrame(frame, 1<<20) }); a != 0 {
		t.Errorf("ParseBusFrame: %v allocations", a)
	}
}

func BenchmarkPublishForward(b *testing.B) {
	p := newPSTest(b)
	c := p.s.NewClient()
	p.s.EnableBus(3)
	args := argv("PUBLISH", "ch", "hello world")
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		p.s.Pending = p.s.Pending[:0]
		c.pending = false
		p.s.Exec(c, args)
		p.s.ClearOutbox()
	}
}

func BenchmarkParseBusFrame(b *testing.B) {
	frame := AppendPublishFrame(nil, []byte("channel:1234"), bytes.Repeat([]byte("m"), 64))
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, n, err := ParseBusFrame(frame, 1<<20); n != len(frame) || err != nil {
			b.Fatal(n, err)
		}
	}
}
