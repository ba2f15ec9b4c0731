package main

import (
	"shoal/resp"
)

// maxQuery is the most unparsed input a connection may hold, Redis's
// default client-query-buffer-limit.
var maxQuery = 1 << 30

// conn is one client connection. The fields above "loop" are what parsing
// and replying need and are used on every OS; the rest belong to the
// io_uring loop. A conn belongs to the loop goroutine.
type conn struct {
	parser resp.Parser
	in     []byte // input not yet parsed: an incomplete command at its start
	out    []byte // replies not yet handed to the kernel
	quit   bool   // close once out is sent: QUIT, a protocol error, end of input

	// loop
	fd        int
	slot      int32
	gen       uint32
	sending   []byte // the kernel's while a send is in flight
	sendOff   int
	spare     []byte // out's next buffer once sending completes
	inflight  int    // submitted requests whose final completion is to come
	recvArmed bool
	closing   bool
	queued    bool // on the loop's list of connections to flush this turn
}

// consume handles bytes received on c: it parses every complete command
// (in place when c holds no earlier partial command) and appends each
// reply to c.out. It reports false when c must be closed at once (its
// unparsed input passed maxQuery). Once c.quit is set, further input is
// ignored, as Redis ignores what follows QUIT or a protocol error.
func (c *conn) consume(r *responder, data []byte) bool {
	if c.quit {
		return true
	}
	if len(c.in) == 0 {
		n := c.process(r, data)
		if n < len(data) {
			c.in = append(c.in, data[n:]...)
		}
	} else {
		c.in = append(c.in, data...)
		n := c.process(r, c.in)
		c.in = c.in[:copy(c.in, c.in[n:])]
	}
	if c.quit {
		c.in = c.in[:0]
	}
	if len(c.in) == 0 && cap(c.in) > 64<<10 {
		c.in = nil // give back what one big command needed
	}
	return len(c.in) <= maxQuery
}

// process parses and answers the commands at the start of buf and returns
// how many bytes it used: everything up to an incomplete command, or all
// of buf after a protocol error or QUIT.
func (c *conn) process(r *responder, buf []byte) int {
	off := 0
	for off < len(buf) {
		args, n, err := c.parser.Parse(buf[off:])
		if err != nil {
			c.out = resp.AppendError(c.out, err.Error())
			c.quit = true
			return len(buf)
		}
		if n == 0 {
			break
		}
		off += n
		if len(args) == 0 {
			continue
		}
		var quit bool
		c.out, quit = r.appendReply(c.out, args)
		if quit {
			c.quit = true
			return len(buf)
		}
	}
	return off
}
