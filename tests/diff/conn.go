package diff

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"syscall"
	"time"
)

// Outcome is what one server did in answer to one step.
type Outcome struct {
	// Replies are the complete replies read, as sent (for a SCAN-family
	// command, the synthesized reply of the complete iteration).
	Replies [][]byte
	// Rest are bytes received after the last complete reply that do not
	// form one (a cut or malformed reply).
	Rest []byte
	// End says why reading stopped early, "" when it did not: "EOF" (the
	// server closed the connection; a reset counts as a close), "timeout",
	// "closed" (the connection had ended at an earlier step), or a framing
	// or write error.
	End string
}

// side is one server's connection during a case. It is used by one
// goroutine.
type side struct {
	conn    *net.TCPConn
	buf     []byte // received bytes not yet consumed
	dead    bool   // the connection ended at an earlier step
	timeout time.Duration
}

func dialSide(addr string, timeout time.Duration) (*side, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("diff: dial %s: %w", addr, err)
	}
	return &side{conn: c.(*net.TCPConn), timeout: timeout}, nil
}

func (s *side) close() { s.conn.Close() }

// run performs st (other than StepSleep) and returns what came back.
func (s *side) run(st *Step) Outcome {
	var o Outcome
	if s.dead {
		o.End = "closed"
		return o
	}
	if st.Kind == StepShutdown {
		if err := s.conn.CloseWrite(); err != nil {
			o.End = "shutdown failed"
			s.dead = true
			return o
		}
	} else {
		s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
		if _, err := s.conn.Write(st.Raw); err != nil {
			// Whether a write to a closing connection fails at once or the
			// close shows up on the next read depends on timing: read what
			// the server sent before it closed, then report the close.
			s.readUntilEOF(&o)
			if o.End == "" {
				o.End = "EOF"
			}
			s.dead = true
			return o
		}
	}
	if st.Replies == ReadToEOF {
		s.readUntilEOF(&o)
		s.dead = true
		return o
	}
	for i := 0; i < st.Replies; i++ {
		r, err := s.readReply()
		if err != nil {
			s.fail(&o, err)
			return o
		}
		if i == 0 && st.Replies == 1 && isScan(st) {
			r, err = s.completeScan(st, r)
			if err != nil {
				s.fail(&o, err)
				return o
			}
		}
		o.Replies = append(o.Replies, r)
	}
	return o
}

// readUntilEOF reads replies until the server closes the connection.
func (s *side) readUntilEOF(o *Outcome) {
	for {
		r, err := s.readReply()
		if err != nil {
			s.fail(o, err)
			return
		}
		o.Replies = append(o.Replies, r)
	}
}

// fail records why reading stopped and marks the connection ended.
func (s *side) fail(o *Outcome, err error) {
	s.dead = true
	o.Rest = s.buf
	s.buf = nil
	switch {
	case errors.Is(err, io.EOF):
		o.End = "EOF"
	case errors.Is(err, os.ErrDeadlineExceeded):
		o.End = "timeout"
	default:
		o.End = err.Error()
	}
}

// readReply returns the next complete reply.
func (s *side) readReply() ([]byte, error) {
	deadline := time.Now().Add(s.timeout)
	for {
		n, err := Frame(s.buf)
		if err == nil {
			r := bytes.Clone(s.buf[:n])
			s.buf = s.buf[n:]
			return r, nil
		}
		if !errors.Is(err, errIncomplete) {
			return nil, err
		}
		if len(s.buf) == cap(s.buf) {
			s.buf = slices.Grow(s.buf, max(4096, len(s.buf)))
		}
		s.conn.SetReadDeadline(deadline)
		m, err := s.conn.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if m > 0 {
			continue
		}
		if errors.Is(err, syscall.ECONNRESET) {
			err = io.EOF
		}
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
}
