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
	keyPrefix   = "key:"
	keyDigits   = 12               // redis-benchmark's __rand_int__ width
	loadBatch   = 1024             // SETs per write
	loadIdle    = 30 * time.Second // longest wait for progress on replies
	deadlineGap = 4096             // replies between read-deadline refreshes
)

// appendKey appends redis-benchmark's key for index i: "key:" and i
// zero-padded to 12 digits.
func appendKey(dst []byte, i int) []byte {
	dst = append(dst, keyPrefix...)
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], uint64(i), 10)
	for n := len(d); n < keyDigits; n++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

func keyLen(i int) int {
	n := 1
	for v := uint64(i); v >= 10; v /= 10 {
		n++
	}
	return len(keyPrefix) + max(n, keyDigits)
}

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

// appendSet appends "SET key:<i> value" as a RESP array.
func appendSet(dst []byte, i int, value []byte) []byte {
	dst = append(dst, "*3\r\n$3\r\nSET\r\n$"...)
	dst = strconv.AppendInt(dst, int64(keyLen(i)), 10)
	dst = append(dst, '\r', '\n')
	dst = appendKey(dst, i)
	dst = append(dst, "\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(value)), 10)
	dst = append(dst, '\r', '\n')
	dst = append(dst, value...)
	return append(dst, '\r', '\n')
}

// appendSetBatch appends SETs for keys [from, to), stamping value for each.
func appendSetBatch(dst []byte, from, to int, value []byte) []byte {
	for i := from; i < to; i++ {
		stampValue(value, i)
		dst = appendSet(dst, i, value)
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

// loadKeys stores keys key:%012d for 0..keys-1, each with a valueSize-byte
// value, over one pipelined connection: a writer goroutine sends SETs in
// batches of loadBatch (it owns its buffer and the value template) while
// the calling goroutine reads the replies. TCP flow control bounds what is
// in flight.
func loadKeys(ctx context.Context, addr string, keys, valueSize int) (LoadStats, error) {
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
			buf = appendSetBatch(buf[:0], from, min(from+loadBatch, keys), value)
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
