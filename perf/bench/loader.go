package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

const (
	keyDigits   = 12               // redis-benchmark's __rand_int__ width
	loadBatch   = 1024             // SETs per write
	loadIdle    = 30 * time.Second // longest wait for progress on replies
	deadlineGap = 4096             // replies between read-deadline refreshes
)

// keyNames is how a benchmark client names its keys: Prefix, then the
// key's index in decimal, zero-padded to Pad digits.
type keyNames struct {
	Prefix string `json:"prefix"`
	Pad    int    `json:"pad"`
}

// The key names of the clients: redis-benchmark's key:__rand_int__ and
// memtier_benchmark's --key-prefix. (redis-benchmark --cluster puts a
// random hash tag after "key:", so its cluster keys are not preloaded.)
var (
	benchmarkKeys = keyNames{Prefix: "key:", Pad: keyDigits}
	memtierKeys   = keyNames{Prefix: "memtier-"}
)

// appendKey appends the name of key i.
func (k keyNames) appendKey(dst []byte, i int) []byte {
	dst = append(dst, k.Prefix...)
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], uint64(i), 10)
	for n := len(d); n < k.Pad; n++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// keyLen is len(k.appendKey(nil, i)).
func (k keyNames) keyLen(i int) int {
	n := 1
	for v := uint64(i); v >= 10; v /= 10 {
		n++
	}
	return len(k.Prefix) + max(n, k.Pad)
}

// appendKey appends redis-benchmark's key for index i: "key:" and i
// zero-padded to 12 digits.
func appendKey(dst []byte, i int) []byte { return benchmarkKeys.appendKey(dst, i) }

func keyLen(i int) int { return benchmarkKeys.keyLen(i) }

// keySet is the keys one load stores: the names of indices First ..
// First+Count-1, or of the indices in IDs when IDs is not nil (the keys of
// one cluster node).
type keySet struct {
	Names keyNames
	First int
	Count int
	IDs   []int32
}

// rangeKeys is the key set of indices first .. first+count-1.
func rangeKeys(names keyNames, first, count int) keySet {
	return keySet{Names: names, First: first, Count: count}
}

// len is the number of keys in the set.
func (s keySet) len() int {
	if s.IDs != nil {
		return len(s.IDs)
	}
	return s.Count
}

// index is the index of the j-th key of the set.
func (s keySet) index(j int) int {
	if s.IDs != nil {
		return int(s.IDs[j])
	}
	return s.First + j
}

// key is the name of the j-th key of the set.
func (s keySet) key(j int) string { return string(s.Names.appendKey(nil, s.index(j))) }

// stampValue writes the decimal index i into the head of value so values
// differ from key to key; the rest of value is left as it is.
func stampValue(value []byte, i int) {
	for p := min(len(value), keyDigits) - 1; p >= 0; p-- {
		value[p] = byte('0' + i%10)
		i /= 10
	}
}

// newValue returns a value template of size bytes.
func newValue(size int) []byte {
	v := make([]byte, size)
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for i := range v {
		v[i] = alphabet[i%len(alphabet)]
	}
	return v
}

// appendSet appends "SET <key i> value" as a RESP array.
func appendSet(dst []byte, names keyNames, i int, value []byte) []byte {
	dst = append(dst, "*3\r\n$3\r\nSET\r\n$"...)
	dst = strconv.AppendInt(dst, int64(names.keyLen(i)), 10)
	dst = append(dst, '\r', '\n')
	dst = names.appendKey(dst, i)
	dst = append(dst, "\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(value)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// appendSetBatch appends SETs for the keys from .. to-1 of ks, stamping
// value with each key's index.
func appendSetBatch(dst []byte, ks keySet, from, to int, value []byte) []byte {
	for j := from; j < to; j++ {
		i := ks.index(j)
		stampValue(value, i)
		dst = appendSet(dst, ks.Names, i, value)
	}
	return dst
}

// readOKs reads n simple-string replies. Any error reply fails the load.
func readOKs(rd *bufio.Reader, n int) error {
	for i := 0; i < n; i++ {
		line, err := readLine(rd)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return fmt.Errorf("%w: empty reply line", errProtocol)
		}
		switch line[0] {
		case '+':
		case '-':
			return fmt.Errorf("SET answered %q", line)
		default:
			return fmt.Errorf("%w: SET answered %q", errProtocol, line)
		}
	}
	return nil
}

// LoadStats describes one load.
type LoadStats struct {
	Keys    int     `json:"keys"`
	Bytes   int64   `json:"bytes_sent"`
	Seconds float64 `json:"seconds"`
}

// loadKeys stores every key of ks, each with a valueSize-byte value, over
// one pipelined connection to addr: a writer goroutine sends SETs in
// batches of loadBatch (it owns its buffer and the value template) while
// the calling goroutine reads the replies. TCP flow control bounds what is
// in flight.
func loadKeys(ctx context.Context, addr string, ks keySet, valueSize int) (LoadStats, error) {
	keys := ks.len()
	if keys < 0 || valueSize < 0 {
		return LoadStats{}, fmt.Errorf("bench: load: bad size %d keys of %d bytes", keys, valueSize)
	}
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
	go func() {
		var res writeResult
		value := newValue(valueSize)
		buf := make([]byte, 0, loadBatch*(valueSize+64))
		for from := 0; from < keys && res.err == nil; from += loadBatch {
			buf = appendSetBatch(buf[:0], ks, from, min(from+loadBatch, keys), value)
			var n int
			n, res.err = conn.Write(buf)
			res.bytes += int64(n)
		}
		if res.err != nil {
			// Wake the reader: no more replies are coming.
			_ = conn.SetReadDeadline(time.Unix(1, 0))
		}
		done <- res
	}()

	rd := bufio.NewReaderSize(conn, 64<<10)
	var readErr error
	for got := 0; got < keys && readErr == nil; got += deadlineGap {
		if readErr = conn.SetReadDeadline(time.Now().Add(loadIdle)); readErr == nil {
			readErr = readOKs(rd, min(deadlineGap, keys-got))
		}
	}
	if readErr != nil {
		// Unblock the writer if the server stopped reading.
		_ = conn.SetWriteDeadline(time.Unix(1, 0))
	}
	wr := <-done
	stats := LoadStats{Keys: keys, Bytes: wr.bytes, Seconds: time.Since(start).Seconds()}
	switch {
	case ctx.Err() != nil:
		return stats, fmt.Errorf("bench: load: %w", ctx.Err())
	case wr.err != nil && !errors.Is(readErr, errProtocol) && (readErr == nil || isTimeout(readErr)):
		return stats, fmt.Errorf("bench: load: write: %w", wr.err)
	case readErr != nil:
		return stats, fmt.Errorf("bench: load: reading replies: %w", readErr)
	}
	return stats, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
