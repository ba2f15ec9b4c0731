package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Memory per element of collections (--mem runs these rows after the
// string rows; --mem-collections runs only these). Each shape, a type
// (hash, list, set, sorted set) of a size (100 or 100,000 elements per
// key), is measured on a fresh server: MEMORY PURGE, used_memory from
// INFO memory, then enough keys of that shape for --coll-elements
// elements loaded pipelined over one connection, a check of what the
// server holds, MEMORY PURGE again and used_memory again. The difference
// divided by the elements loaded is the row's figure, set against
// redis's for the same shape.
//
// MEMORY PURGE before each reading makes a Go server's used_memory what
// it holds live (a collection, and the scavenger returning free pages)
// rather than what garbage the load left; Redis answers it too (jemalloc
// purges its dirty pages) and its used_memory, jemalloc's allocated bytes,
// does not move. RSS is reported beside, as the --mem string rows do.

// The shapes measured, in row order.
var (
	collTypes = []string{"hash", "list", "set", "zset"}
	collSizes = []int{100, 100_000}
)

const (
	collBatch     = 100       // elements per command
	collElements  = 1_000_000 // default --coll-elements
	quickCollElem = 100_000   // --coll-elements in --quick mode
)

// collShape is one type at one size.
type collShape struct {
	Type string
	Size int
}

// keys is how many keys of the shape hold about total elements (at
// least one).
func (s collShape) keys(total int) int { return max(1, total/s.Size) }

// collKey is the name of key k.
func appendCollKey(dst []byte, k int) []byte {
	dst = append(dst, "coll:"...)
	return appendPadded(dst, k, 8)
}

// appendPadded appends i in decimal, zero-padded to width digits.
func appendPadded(dst []byte, i, width int) []byte {
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], uint64(i), 10)
	for n := len(d); n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// commands is the number of commands that load keys keys of the shape.
func (s collShape) commands(keys int) int { return keys * ((s.Size + collBatch - 1) / collBatch) }

// appendCommand appends command i of the load: it adds elements
// [j, j+collBatch) of key i / (commands per key). Elements are
// "element:NNNNNNNN" (a hash's fields, "value:NNNNNNNN" their values;
// a sorted set's scores are the element's number), all 16 bytes or less:
// small enough for every compact encoding at 100 elements.
func (s collShape) appendCommand(dst []byte, i int) []byte {
	perKey := (s.Size + collBatch - 1) / collBatch
	k, from := i/perKey, (i%perKey)*collBatch
	n := min(collBatch, s.Size-from)
	var name string
	args := 2 + n
	switch s.Type {
	case "hash":
		name, args = "HSET", 2+2*n
	case "list":
		name = "RPUSH"
	case "set":
		name = "SADD"
	case "zset":
		name, args = "ZADD", 2+2*n
	}
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(args), 10)
	dst = append(dst, "\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(name)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, name...)
	dst = append(dst, "\r\n$13\r\n"...)
	dst = appendCollKey(dst, k)
	dst = append(dst, "\r\n"...)
	for j := from; j < from+n; j++ {
		if s.Type == "zset" {
			dst = appendBulkInt(dst, j)
		}
		dst = append(dst, "$16\r\nelement:"...)
		dst = appendPadded(dst, j, 8)
		dst = append(dst, "\r\n"...)
		if s.Type == "hash" {
			dst = append(dst, "$14\r\nvalue:"...)
			dst = appendPadded(dst, j, 8)
			dst = append(dst, "\r\n"...)
		}
	}
	return dst
}

func appendBulkInt(dst []byte, v int) []byte {
	var b [20]byte
	d := strconv.AppendInt(b[:0], int64(v), 10)
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(d)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, d...)
	return append(dst, "\r\n"...)
}

// cardCommand is the command that counts a key's elements.
func (s collShape) cardCommand() string {
	return map[string]string{"hash": "HLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD"}[s.Type]
}

// loadCollections runs the n commands gen appends over one pipelined
// connection to addr: a writer goroutine (owning its buffer) sends them
// in batches while the calling goroutine reads the replies, each of which
// must be an integer. Every wait is bounded by loadIdle without progress.
func loadCollections(ctx context.Context, addr string, n int, gen func(dst []byte, i int) []byte) (LoadStats, error) {
	start := time.Now()
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return LoadStats{}, fmt.Errorf("bench: load: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	type writeResult struct {
		bytes int64
		err   error
	}
	done := make(chan writeResult, 1)
	const perWrite = 64
	go func() {
		var res writeResult
		var buf []byte
		for from := 0; from < n && res.err == nil; from += perWrite {
			buf = buf[:0]
			for i := from; i < min(from+perWrite, n); i++ {
				buf = gen(buf, i)
			}
			var w int
			w, res.err = conn.Write(buf)
			res.bytes += int64(w)
		}
		if res.err != nil {
			_ = conn.SetReadDeadline(time.Unix(1, 0))
		}
		done <- res
	}()

	rd := bufio.NewReaderSize(conn, 64<<10)
	var readErr error
	for got := 0; got < n && readErr == nil; got++ {
		if got%deadlineGap == 0 {
			if readErr = conn.SetReadDeadline(time.Now().Add(loadIdle)); readErr != nil {
				break
			}
		}
		var r reply
		if r, readErr = readReply(rd); readErr == nil && r.Kind != ':' {
			readErr = fmt.Errorf("command %d answered %s", got, r)
		}
	}
	if readErr != nil {
		_ = conn.SetWriteDeadline(time.Unix(1, 0))
	}
	wr := <-done
	stats := LoadStats{Keys: n, Bytes: wr.bytes, Seconds: time.Since(start).Seconds()}
	switch {
	case ctx.Err() != nil:
		return stats, fmt.Errorf("bench: load: %w", ctx.Err())
	case readErr != nil:
		return stats, fmt.Errorf("bench: load: %w", readErr)
	case wr.err != nil:
		return stats, fmt.Errorf("bench: load: write: %w", wr.err)
	}
	return stats, nil
}

// CollMemResult is the memory measurement of one shape on one server.
type CollMemResult struct {
	Server          string    `json:"server"`
	Type            string    `json:"type"`             // hash, list, set, zset
	Size            int       `json:"elements_per_key"` // elements in each key
	Keys            int       `json:"keys"`             // keys loaded
	Elements        int       `json:"elements"`         // Keys * Size
	Encoding        string    `json:"encoding"`         // OBJECT ENCODING of the first key
	UsedBefore      int64     `json:"used_memory_before"`
	UsedAfter       int64     `json:"used_memory_after"`
	BytesPerElement float64   `json:"used_bytes_per_element"` // (after-before)/elements
	RSSBeforeKB     int64     `json:"rss_before_kb"`
	RSSAfterKB      int64     `json:"rss_after_kb"`
	RSSPerElement   float64   `json:"rss_bytes_per_element"`
	Ratio           *float64  `json:"used_ratio,omitempty"` // BytesPerElement over the baseline's for the shape
	Purged          bool      `json:"purged"`               // MEMORY PURGE was answered OK before each reading
	Load            LoadStats `json:"load"`                 // Keys counts commands here
	Error           string    `json:"error,omitempty"`
}

// measureCollections measures every shape on every server (fresh servers
// each time), prints the table and fills h.res.Collections.
func (h *harness) measureCollections(ctx context.Context) error {
	var errs []error
	for _, typ := range collTypes {
		for _, size := range collSizes {
			shape := collShape{Type: typ, Size: size}
			for _, t := range h.cfg.servers {
				if ctx.Err() != nil {
					break
				}
				m := h.measureShape(ctx, t, shape)
				if m.Error != "" {
					fmt.Fprintf(h.stderr, "%s %s/%d: FAILED: %s\n", t.Name, typ, size, m.Error)
					errs = append(errs, fmt.Errorf("bench: %s %s/%d memory run failed", t.Name, typ, size))
				} else {
					fmt.Fprintf(h.stderr, "%s %s/%d: %s elements (%s) in %.1f s, %s used per element\n",
						t.Name, typ, size, formatCount(float64(m.Elements)), m.Encoding, m.Load.Seconds, formatBytes(m.BytesPerElement))
				}
				h.res.Collections = append(h.res.Collections, m)
			}
		}
	}
	collRatios(h.res.Collections)
	fmt.Fprintf(h.stdout, "# collections: about %d elements of each shape, 16-byte elements (hash values 14 bytes); "+
		"used_memory from INFO memory after MEMORY PURGE, before and after the load; %s\n",
		h.cfg.collElements, h.cfg.serverPlacement())
	if err := writeCollTable(h.stdout, h.res.Collections); err != nil {
		errs = append(errs, fmt.Errorf("bench: %w", err))
	}
	if ctx.Err() != nil {
		errs = append(errs, fmt.Errorf("bench: interrupted: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// measureShape starts t, loads the shape and measures it.
func (h *harness) measureShape(ctx context.Context, t Target, shape collShape) CollMemResult {
	keys := shape.keys(h.cfg.collElements)
	m := CollMemResult{Server: t.Name, Type: shape.Type, Size: shape.Size, Keys: keys, Elements: keys * shape.Size}
	fail := func(err error) CollMemResult {
		m.Error = err.Error()
		return m
	}
	d, err := h.start(ctx, t)
	if err != nil {
		return fail(err)
	}
	defer h.stop(d)
	c, err := dialClient(ctx, d.addr(), 30*time.Second)
	if err != nil {
		return fail(err)
	}
	defer c.close()
	pid := d.procs[0].pid
	purgedBefore, before, rssBefore, err := h.readUsed(c, pid)
	if err != nil {
		return fail(err)
	}
	lctx, cancel := context.WithTimeout(ctx, h.cfg.runTimeout)
	defer cancel()
	if m.Load, err = loadCollections(lctx, d.addr(), shape.commands(keys), shape.appendCommand); err != nil {
		return fail(err)
	}
	if m.Encoding, err = verifyCollections(c, shape, keys); err != nil {
		return fail(fmt.Errorf("bench: %s: %w", t.Name, err))
	}
	purgedAfter, after, rssAfter, err := h.readUsed(c, pid)
	if err != nil {
		return fail(err)
	}
	m.Purged = purgedBefore && purgedAfter
	m.UsedBefore, m.UsedAfter = before, after
	m.RSSBeforeKB, m.RSSAfterKB = rssBefore, rssAfter
	m.BytesPerElement = float64(after-before) / float64(m.Elements)
	m.RSSPerElement = float64(rssAfter-rssBefore) * 1024 / float64(m.Elements)
	return m
}

// readUsed runs MEMORY PURGE (purged: it answered OK) and reads
// used_memory, and the server's RSS.
func (h *harness) readUsed(c *client, pid int) (purged bool, used, rssKB int64, err error) {
	r, err := c.do("MEMORY", "PURGE")
	if err != nil {
		return false, 0, 0, err
	}
	purged = r.Kind == '+' && r.Str == "OK"
	if !purged {
		h.note("MEMORY PURGE answered %s: used_memory read without it", r)
	}
	s, err := c.doString("INFO", "memory")
	if err != nil {
		return purged, 0, 0, err
	}
	v := infoValue(parseInfo(s), "used_memory")
	if used, err = strconv.ParseInt(v, 10, 64); err != nil {
		return purged, 0, 0, fmt.Errorf("bench: INFO memory used_memory %q: %w", v, err)
	}
	st, err := readProcStatus(pid)
	if err != nil {
		return purged, 0, 0, err
	}
	return purged, used, st.VmRSSKB, nil
}

// verifyCollections checks the server holds keys keys of the shape: DBSIZE,
// and the size of the first and last key. It returns the first key's
// encoding.
func verifyCollections(c *client, shape collShape, keys int) (string, error) {
	r, err := c.do("DBSIZE")
	if err != nil {
		return "", err
	}
	if r.Kind != ':' || r.Int != int64(keys) {
		return "", fmt.Errorf("DBSIZE answered %s after loading %d keys", r, keys)
	}
	for _, k := range []int{0, keys - 1} {
		key := string(appendCollKey(nil, k))
		r, err := c.do(shape.cardCommand(), key)
		if err != nil {
			return "", err
		}
		if r.Kind != ':' || r.Int != int64(shape.Size) {
			return "", fmt.Errorf("%s %s answered %s, want %d", shape.cardCommand(), key, r, shape.Size)
		}
	}
	return c.doString("OBJECT", "ENCODING", string(appendCollKey(nil, 0)))
}

// serverPlacement says where the server under test runs.
func (c *config) serverPlacement() string {
	if c.serverCPUs == nil {
		return "server not pinned"
	}
	return "server on CPU " + c.serverCPUs.String()
}

// collRatios sets each result's ratio to the baseline's result of its
// shape.
func collRatios(rs []CollMemResult) {
	type key struct {
		typ  string
		size int
	}
	base := map[key]float64{}
	for _, r := range rs {
		if r.Server == baseline && r.Error == "" && r.BytesPerElement > 0 {
			base[key{r.Type, r.Size}] = r.BytesPerElement
		}
	}
	for i := range rs {
		r := &rs[i]
		if b, ok := base[key{r.Type, r.Size}]; ok && r.Error == "" {
			v := r.BytesPerElement / b
			r.Ratio = &v
		}
	}
}

// collHeader is the header of the collections table.
var collHeader = []string{"type", "elements/key", "keys", "server", "encoding",
	"used/element", "rss/element", "used vs " + baseline, "load s"}

// writeCollTable prints one line per (shape, server), shapes in order and
// each shape's servers together.
func writeCollTable(w io.Writer, rs []CollMemResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(collHeader, "\t"))
	for _, r := range rs {
		cells := []string{r.Type, formatCount(float64(r.Size)), formatCount(float64(r.Keys)), r.Server}
		if r.Error != "" {
			cells = append(cells, "failed: "+firstLine(r.Error))
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
			continue
		}
		ratio := "-"
		if r.Ratio != nil {
			ratio = formatRatioValue(*r.Ratio)
		}
		cells = append(cells, r.Encoding, formatBytes(r.BytesPerElement), formatBytes(r.RSSPerElement), ratio,
			strconv.FormatFloat(r.Load.Seconds, 'f', 1, 64))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
