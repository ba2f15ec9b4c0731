//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shoal/resp"
	"shoal/uring"
)

// startLoop runs the loop on a free loopback port in this process and
// returns its address and a function that stops it and returns its
// counters; the loop is stopped and checked when the test ends.
func startLoop(t *testing.T, valueSize int) (string, func() loopStats) {
	t.Helper()
	lfd, port, err := listenTCP("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(lfd, newResponder(valueSize, port), &stop, func(uring.Features) { close(ready) })
	}()
	select {
	case <-ready:
	case err := <-done:
		if errors.Is(err, uring.ErrUnavailable) {
			t.Skipf("io_uring unavailable: %v", err)
		}
		t.Fatalf("loop ended at start: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("loop not ready within 5s")
	}
	var once sync.Once
	var stats loopStats
	stopLoop := func() loopStats {
		once.Do(func() {
			stop.Store(true)
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("loop: %v", err)
				}
				stats = lastStats
			case <-time.After(5 * time.Second):
				t.Errorf("loop did not stop within 5s")
			}
			closeFD(lfd)
		})
		return stats
	}
	t.Cleanup(func() { stopLoop() })
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), stopLoop
}

// roundTrip sends in on a new connection, half-closes it and returns all
// the server answered before closing its side.
func roundTrip(t *testing.T, addr string, in []byte) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
	}()
	out, err := io.ReadAll(c)
	wg.Wait()
	if err != nil {
		t.Fatalf("reading replies: %v", err)
	}
	return out
}

func TestLoopAnswersAndCloses(t *testing.T) {
	addr, _ := startLoop(t, 32)
	var in bytes.Buffer
	for range 1000 {
		in.WriteString(cmd("SET", "key:000000000001", strings.Repeat("v", 100)))
		in.WriteString(cmd("GET", "key:000000000001"))
	}
	out := roundTrip(t, addr, in.Bytes())
	if n := countReplies(out); n != 2000 {
		t.Fatalf("%d replies to 2000 commands", n)
	}
	if !bytes.HasSuffix(out, []byte(bulk(strings.Repeat("x", 32)))) {
		t.Errorf("last reply is not the GET value: %q", out[max(0, len(out)-50):])
	}
	// QUIT: the reply comes, then the server closes without reading on.
	if out := roundTrip(t, addr, []byte(cmd("PING")+cmd("QUIT")+cmd("PING"))); string(out) != "+PONG\r\n+OK\r\n" {
		t.Errorf("PING QUIT PING answered %q", out)
	}
}

// TestLoopTinyRings runs many clients against a loop with a tiny
// submission queue and two small receive buffers, so that SQEs run out and
// receives end with ENOBUFS: every client must still get every reply.
func TestLoopTinyRings(t *testing.T) {
	oldE, oldC, oldS := ringEntries, recvBufCount, recvBufSize
	ringEntries, recvBufCount, recvBufSize = 4, 2, 64
	t.Cleanup(func() { ringEntries, recvBufCount, recvBufSize = oldE, oldC, oldS })
	addr, stopLoop := startLoop(t, 200)
	var in bytes.Buffer
	for range 200 {
		in.WriteString(cmd("SET", "k", strings.Repeat("v", 50)) + cmd("GET", "k"))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			go c.Write(in.Bytes())
			rd := bufio.NewReader(c)
			for i := range 400 {
				v, err := resp.ReadReply(rd)
				if err != nil {
					errs <- "reply " + strconv.Itoa(i) + ": " + err.Error()
					return
				}
				if want := byte(resp.TypeSimple); i%2 == 1 {
					if v.Type != resp.TypeBulk || len(v.Str) != 200 {
						errs <- "GET answered " + string(v.Raw)
						return
					}
				} else if v.Type != want {
					errs <- "SET answered " + string(v.Raw)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	st := stopLoop()
	if st.accepted != 20 || st.sqFull == 0 || st.noBuffers == 0 {
		t.Errorf("the tiny rings were not exercised: %+v", st)
	}
}

// TestRedisBenchmark runs a real redis-benchmark -q against the ceiling:
// every test must report a rate, and no error may show.
func TestRedisBenchmark(t *testing.T) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		t.Skip("redis-benchmark not installed")
	}
	addr, _ := startLoop(t, 256)
	host, port, _ := net.SplitHostPort(addr)
	tests := []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "LPOP", "SADD", "HSET", "ZPOPMIN",
		"LRANGE_100", "MSET"}
	for _, pipeline := range []string{"1", "16"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "-q", "-n", "3000", "-c", "20", "-d", "256",
			"-P", pipeline, "-t", "ping,set,get,incr,lpush,lpop,sadd,hset,zpopmin,lrange_100,mset").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("redis-benchmark -P %s: %v\n%s", pipeline, err, out)
		}
		final := map[string]float64{}
		line := regexp.MustCompile(`^([A-Z_0-9]+)(?: \([^)]*\))?: ([0-9.]+) requests per second`)
		for _, l := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
			if m := line.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				final[m[1]], _ = strconv.ParseFloat(m[2], 64)
			}
			if strings.Contains(l, "ERR") || strings.Contains(l, "rror") {
				t.Errorf("redis-benchmark -P %s reported: %s", pipeline, l)
			}
		}
		for _, name := range tests {
			if final[name] <= 0 {
				t.Errorf("redis-benchmark -P %s: no rate for %s in:\n%s", pipeline, name, out)
			}
		}
	}
}
