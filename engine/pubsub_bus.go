package engine

import (
	"errors"

	"shoal/resp"
)

// PUBLISH across the cluster, as Redis Cluster does it: a message
// published on any node reaches the subscribers (of channels and of
// patterns) of every node. The message travels on the cluster bus, whose
// links package server keeps; this file is the engine's side of it and the
// bus's frame format.
//
// Outgoing: once the loop has called EnableBus (cluster mode with at least
// one other node), PUBLISH delivers locally, replies the local receiver
// count (as Redis Cluster's PUBLISH counts the receivers of the node that
// got the command) and appends one PUBLISH frame to the shard's outbox.
// The loop takes the outbox once per turn (Outbox, ClearOutbox) and hands
// the frames to the links. SPUBLISH is not forwarded: shard channels live
// on the node serving their slot, where clients are sent by MOVED.
// Keyspace notifications stay local too, as in Redis Cluster.
//
// Incoming: the loop delivers each message a peer sent with
// PublishFromPeer, a local-only publish: the message is not forwarded
// again, so every node delivers it exactly once.
//
// Ownership: the outbox and the counters belong to the loop goroutine, as
// the rest of the shard. The frame codec (AppendPublishFrame,
// AppendNodeFrame, ParseBusFrame) is pure and safe from any goroutine.
//
// # Frames
//
// A frame is a RESP array of bulk strings, so the bytes on a link read as
// commands would:
//
//	*2\r\n$4\r\nNODE\r\n$40\r\n<node id>\r\n         first frame of a link: who dials
//	*3\r\n$7\r\nPUBLISH\r\n$<n>\r\n<channel>\r\n$<m>\r\n<message>\r\n
//
// Anything else (another name, another element count, a malformed
// header, a bulk longer than the limit) is an error: the link cannot be
// resynchronised after it and is closed.

// busState is the shard's side of the cluster bus.
type busState struct {
	on    bool   // EnableBus was called: PUBLISH queues frames
	out   []byte // PUBLISH frames queued since the loop last took them
	outN  int    // frames in out
	stats BusStats
}

// BusStats count the cluster bus's work, for INFO. The loop updates them;
// only the loop goroutine may touch them.
type BusStats struct {
	Peers    int   // other nodes of the cluster
	LinksOut int   // links to peers that are up (this node sends on them)
	LinksIn  int   // links from peers that are up (this node receives on them)
	Sent     int64 // frames queued on a peer's link, one per peer per message
	Dropped  int64 // frames not queued: the peer's link was down or its queue full
	Received int64 // messages from peers delivered here
}

// EnableBus makes PUBLISH queue its messages for the cluster's other
// nodes (peers is how many). The loop calls it once, before serving,
// when the shard is in cluster mode with other nodes.
func (s *Shard) EnableBus(peers int) {
	s.pubsub.bus.on = true
	s.pubsub.bus.stats.Peers = peers
}

// BusStats gives the bus counters for the loop to update.
func (s *Shard) BusStats() *BusStats { return &s.pubsub.bus.stats }

// Outbox gives the PUBLISH frames queued since ClearOutbox and how many
// there are. The bytes stay the shard's: the loop copies them out before
// it calls ClearOutbox, and before it runs another command.
func (s *Shard) Outbox() (frames []byte, n int) { return s.pubsub.bus.out, s.pubsub.bus.outN }

// ClearOutbox empties the outbox, keeping its buffer unless a burst made
// it big.
func (s *Shard) ClearOutbox() {
	b := &s.pubsub.bus
	b.out, b.outN = b.out[:0], 0
	if cap(b.out) > outboxKeep {
		b.out = nil
	}
}

// outboxKeep is the outbox capacity kept from one turn to the next.
const outboxKeep = 1 << 20

// forward queues a PUBLISH for the peers, when there are any. O(len).
func (s *Shard) forward(channel, msg []byte) {
	b := &s.pubsub.bus
	if !b.on {
		return
	}
	b.out = AppendPublishFrame(b.out, channel, msg)
	b.outN++
}

// PublishFromPeer delivers a message another node published to this
// node's subscribers and patterns, without forwarding it, and returns how
// many received it. O(N+M), as publish.
func (s *Shard) PublishFromPeer(channel, msg []byte) int {
	s.pubsub.bus.stats.Received++
	return s.publish(channel, msg)
}

// infoBus writes the bus counters as INFO fields (section cluster).
func (s *Shard) infoBus(w *infoWriter) {
	st := &s.pubsub.bus.stats
	if st.Peers == 0 {
		return // no bus: INFO cluster is Redis's one line
	}
	w.kv("cluster_bus_peers", st.Peers)
	w.kv("cluster_bus_links_out", st.LinksOut)
	w.kv("cluster_bus_links_in", st.LinksIn)
	w.kv("cluster_bus_publish_sent", st.Sent)
	w.kv("cluster_bus_publish_received", st.Received)
	w.kv("cluster_bus_publish_dropped", st.Dropped)
}

// Bus frame kinds.
const (
	BusNode    = 1 // NODE <id>: the first frame of a link, naming the node that dialed
	BusPublish = 2 // PUBLISH <channel> <message>
)

// BusFrame is one parsed frame. Its slices alias the parsed buffer.
type BusFrame struct {
	Kind    int
	NodeID  []byte // BusNode
	Channel []byte // BusPublish
	Message []byte // BusPublish
}

// AppendPublishFrame appends the frame carrying a PUBLISH of msg on
// channel.
func AppendPublishFrame(dst, channel, msg []byte) []byte {
	dst = append(dst, "*3\r\n$7\r\nPUBLISH\r\n"...)
	dst = resp.AppendBulk(dst, channel)
	return resp.AppendBulk(dst, msg)
}

// AppendNodeFrame appends the frame with which a link's dialer names
// itself.
func AppendNodeFrame(dst []byte, id string) []byte {
	dst = append(dst, "*2\r\n$4\r\nNODE\r\n"...)
	return resp.AppendBulkString(dst, id)
}

// Frame errors. A link that sends one is closed.
var (
	ErrBusFrame     = errors.New("engine: malformed cluster bus frame")
	ErrBusFrameKind = errors.New("engine: unknown cluster bus frame")
	ErrBusFrameSize = errors.New("engine: cluster bus frame larger than the limit")
)

// maxDigits bounds the number in a frame's header line: 18 digits cannot
// overflow an int64.
const maxDigits = 18

// maxBusBulk caps the limit ParseBusFrame is given, so that offsets never
// overflow.
const maxBusBulk = 1 << 40

// ParseBusFrame reads the frame at the start of b. It returns the number
// of bytes it takes, 0 (and no error) when b holds only the beginning of
// one. maxBulk bounds each element's length. It allocates nothing; the
// frame's slices alias b.
func ParseBusFrame(b []byte, maxBulk int64) (f BusFrame, n int, err error) {
	maxBulk = min(maxBulk, maxBusBulk)
	count, off, err := busHeader(b, 0, '*')
	switch {
	case err != nil || off == 0:
		return f, 0, err
	case count != 2 && count != 3:
		return f, 0, ErrBusFrameKind
	}
	var elems [3][]byte
	for i := 0; i < int(count); i++ {
		size, next, err := busHeader(b, off, '$')
		switch {
		case err != nil || next == 0:
			return BusFrame{}, 0, err
		case size > maxBulk:
			return BusFrame{}, 0, ErrBusFrameSize
		case i == 0 && size != 4 && size != 7:
			return BusFrame{}, 0, ErrBusFrameKind
		}
		end := next + int(size)
		if end+2 > len(b) {
			return BusFrame{}, 0, nil
		}
		if b[end] != '\r' || b[end+1] != '\n' {
			return BusFrame{}, 0, ErrBusFrame
		}
		elems[i] = b[next:end]
		off = end + 2
		if i == 0 {
			switch {
			case count == 3 && string(elems[0]) == "PUBLISH":
				f.Kind = BusPublish
			case count == 2 && string(elems[0]) == "NODE":
				f.Kind = BusNode
			default:
				return BusFrame{}, 0, ErrBusFrameKind
			}
		}
	}
	if f.Kind == BusNode {
		if !validNodeID(elems[1]) {
			return BusFrame{}, 0, ErrBusFrame
		}
		f.NodeID = elems[1]
	} else {
		f.Channel, f.Message = elems[1], elems[2]
	}
	return f, off, nil
}

// busHeader reads the header line at b[off:]: prefix, a decimal number
// without sign or leading zero, CRLF. next is the offset after it, 0 when
// the line is not complete yet.
func busHeader(b []byte, off int, prefix byte) (v int64, next int, err error) {
	if off >= len(b) {
		return 0, 0, nil
	}
	if b[off] != prefix {
		return 0, 0, ErrBusFrame
	}
	i := off + 1
	for ; i < len(b) && b[i] != '\r'; i++ {
		c := b[i]
		if c < '0' || c > '9' || i-off > maxDigits || i > off+1 && b[off+1] == '0' {
			return 0, 0, ErrBusFrame
		}
		v = v*10 + int64(c-'0')
	}
	switch {
	case i+1 >= len(b):
		return 0, 0, nil // no CRLF yet
	case i == off+1 || b[i+1] != '\n':
		return 0, 0, ErrBusFrame
	}
	return v, i + 2, nil
}

// validNodeID reports whether id has the form of a node id: 40 lowercase
// hex digits.
func validNodeID(id []byte) bool {
	if len(id) != 40 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
