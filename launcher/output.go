package launcher

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds a line the launcher holds while waiting for its end: a
// longer one is passed on in pieces of maxLine bytes, each a line of its
// own.
const maxLine = 64 << 10

// sink is the launcher's output: every Write is passed on whole, so that
// writers holding whole lines never interleave. Safe for concurrent use.
type sink struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// lineWriter prefixes every line written to it and passes complete lines
// to its sink, a batch of lines per Write. A partial line stays in the
// writer until its newline arrives, Flush is called, or it reaches
// maxLine. It is safe for concurrent use, but lines only make sense from
// one writer at a time (one stream of one process). Once its buffers have
// grown to the size of the writes it sees, Write does not allocate.
type lineWriter struct {
	mu      sync.Mutex
	out     io.Writer
	prefix  []byte
	partial []byte // the unfinished last line, without prefix
	batch   []byte // complete prefixed lines being assembled for out
}

func newLineWriter(out io.Writer, prefix string) *lineWriter {
	return &lineWriter{out: out, prefix: []byte(prefix)}
}

// Write always reports len(p) written: a failing sink (a closed terminal)
// must not stop the shard whose output this is.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	w.batch = w.batch[:0]
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(w.partial)
			if len(p) < room {
				w.partial = append(w.partial, p...)
				break
			}
			w.partial = append(w.partial, p[:room]...)
			p = p[room:]
			w.emitPartial()
			continue
		}
		if len(w.partial)+i > maxLine {
			room := maxLine - len(w.partial)
			w.partial = append(w.partial, p[:room]...)
			p = p[room:]
			w.emitPartial()
			continue
		}
		w.batch = append(w.batch, w.prefix...)
		w.batch = append(w.batch, w.partial...)
		w.batch = append(w.batch, p[:i+1]...)
		w.partial = w.partial[:0]
		p = p[i+1:]
	}
	if len(w.batch) > 0 {
		w.out.Write(w.batch)
	}
	return n, nil
}

// emitPartial moves the partial line into the batch as a line of its own.
func (w *lineWriter) emitPartial() {
	w.batch = append(w.batch, w.prefix...)
	w.batch = append(w.batch, w.partial...)
	w.batch = append(w.batch, '\n')
	w.partial = w.partial[:0]
}

// Flush passes on an unfinished last line, ended with a newline: the
// stream it came from has ended.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.partial) == 0 {
		return
	}
	w.batch = w.batch[:0]
	w.emitPartial()
	w.out.Write(w.batch)
}
