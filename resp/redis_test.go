package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startRedis runs a throwaway redis-server on a free loopback port and
// returns its address; the server is stopped when the test ends.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		dir := t.TempDir()
		cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "",
			"--appendonly", "no", "--dir", dir, "--logfile", dir+"/redis.log", "--daemonize", "no")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if out, err := roundTrip(addr, []byte("PING\r\n"), 200*time.Millisecond); err == nil && string(out) == "+PONG\r\n" {
				t.Cleanup(func() {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				})
				return addr
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log, _ := os.ReadFile(dir + "/redis.log")
		t.Logf("redis-server on port %d did not start: %s", port, log)
	}
	t.Fatal("cannot start redis-server")
	return ""
}

// roundTrip sends in on a new connection and returns everything the server
// sends back until it closes the connection or wait passes. It reads while
// it writes, so a server that closes early (and resets the connection
// because input is left unread) still has its reply seen.
func roundTrip(addr string, in []byte, wait time.Duration) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(in)
		werr <- err
	}()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err == nil {
			continue
		}
		var ne net.Error
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) || errors.As(err, &ne) && ne.Timeout() {
			break
		}
		return out, err
	}
	c.Close()
	<-werr // a write cut short by the server's close is expected
	return out, nil
}

// expectedReplies is what a server running our parser would answer to the
// parsed commands, for the few commands the differential test sends (nil
// where any reply will do), and whether it closes the connection.
func expectedReplies(o outcome) (replies [][]byte, closes bool) {
	for _, cmd := range o.cmds {
		if len(cmd) == 0 {
			continue
		}
		switch {
		case strings.EqualFold(cmd[0], "PING") && len(cmd) == 1:
			replies = append(replies, ReplyPong)
		case strings.EqualFold(cmd[0], "ECHO") && len(cmd) == 2:
			replies = append(replies, AppendBulkString(nil, cmd[1]))
		case strings.EqualFold(cmd[0], "QUIT"):
			return append(replies, ReplyOK), true
		default:
			replies = append(replies, nil)
		}
	}
	if o.err != "" {
		return append(replies, AppendError(nil, o.err)), true
	}
	return replies, false
}

// diffCases are streams beyond parseCases for the differential test.
var diffCases = []string{
	"PING\r\nPING\n  PING  \r\n\r\n\n   \r\n\r\r\nQUIT\r\n",
	"ECHO \"a\\x41\\n\\t\\\\\\q\"\r\nECHO 'a\\'b'\r\nECHO a\vb\r\n\vECHO x\r\nECHO \"x\"\v\r\nECHO ab\"cd ef\"\r\nQUIT\r\n",
	"ECHO \"\\x4g\"\r\nECHO \"\\x\"\r\nECHO ''\r\nECHO \"\"\r\nECHO a\rb\r\nQUIT\r\n",
	"*1\r\n$4\r\nPINGXY*2\rX$4\rXECHO\rX$3\rXa\x00bXY*0\r\n*-7\r\n*1\r\n$4\r\nQUIT\r\n",
	"*2\r\n$4\r\nECHO\r\n$10\r\na\r\n\x00b\r\ncde\r\nQUIT\r\n",
	"*2\r\n$4\r\nECHO\r\n$20000\r\n" + strings.Repeat("e", 20000) + "\r\nQUIT\r\n",
	"ECHO " + strings.Repeat("i", 65000) + "\r\nQUIT\r\n",
	"*1\r\n$4\r\nPING\r\n*3\r\n$4\r\nECHO\r\n$1\r\nx\r\n*1\r\n\r\n",
	"PING\r\nECHO \"unterminated\r\n",
	"*1\r\n$4\r\nPING\r\n" + strings.Repeat("x", 90000),
}

// notDifferential lists parse cases whose line length lies between 64 KB
// and 64 KB plus one of Redis's 16 KB reads, where Redis's verdict depends
// on how its reads fell (see the package doc).
var notDifferential = map[string]bool{
	"too big mbulk count terminated": true,
	"inline over limit":              true,
}

// TestDifferentialRedis sends raw streams to a real redis-server and checks
// that it answers what our parser implies: one reply per command, the exact
// protocol error, and the connection closed after it (or kept open, with
// nothing sent, where our parser waits for more bytes).
func TestDifferentialRedis(t *testing.T) {
	addr := startRedis(t)
	type dcase struct {
		name string
		in   string
		auth bool
	}
	var cases []dcase
	for _, c := range parseCases {
		if c.lim == (Limits{}) && !notDifferential[c.name] {
			cases = append(cases, dcase{c.name, c.in, c.auth})
		}
	}
	for i, s := range diffCases {
		cases = append(cases, dcase{fmt.Sprintf("extra %d", i), s, false})
	}
	// Streams our parser reads completely get a QUIT appended, so Redis
	// closes the connection at once; the rest must leave Redis waiting.
	type result struct {
		c      dcase
		o      outcome
		want   [][]byte
		closes bool
		out    []byte
		err    error
	}
	run := func(cs []dcase) []*result {
		rs := make([]*result, len(cs))
		done := make(chan struct{}, len(cs))
		for i, c := range cs {
			p := NewParser(Limits{})
			p.SetAuthRequired(c.auth)
			o := feed(t, p, whole(c.in))
			if o.err == "" && o.pending == 0 && !strings.HasSuffix(c.in, "QUIT\r\n") {
				c.in += mb("QUIT")
				p = NewParser(Limits{})
				p.SetAuthRequired(c.auth)
				o = feed(t, p, whole(c.in))
			}
			r := &result{c: c, o: o}
			r.want, r.closes = expectedReplies(o)
			rs[i] = r
			go func() {
				wait := 3 * time.Second
				if !r.closes {
					wait = 300 * time.Millisecond
				}
				r.out, r.err = roundTrip(addr, []byte(c.in), wait)
				done <- struct{}{}
			}()
		}
		for range cs {
			<-done
		}
		return rs
	}
	check := func(t *testing.T, r *result) {
		if r.err != nil {
			t.Fatalf("redis: %v", r.err)
		}
		rd := bufio.NewReader(bytes.NewReader(r.out))
		for i, w := range r.want {
			v, err := ReadReply(rd)
			if err != nil {
				t.Fatalf("reply %d of %d: %v; redis sent %.200q", i+1, len(r.want), err, r.out)
			}
			if w != nil && !bytes.Equal(v.Raw, w) {
				t.Fatalf("reply %d: redis %.200q, want %.200q", i+1, v.Raw, w)
			}
		}
		if rest, _ := io.ReadAll(rd); len(rest) > 0 {
			t.Fatalf("redis sent more: %.200q", rest)
		}
	}
	var plain, unauth []dcase
	for _, c := range cases {
		if c.auth {
			unauth = append(unauth, c)
		} else {
			plain = append(plain, c)
		}
	}
	for _, r := range run(plain) {
		t.Run(r.c.name, func(t *testing.T) { check(t, r) })
	}
	// With a password set, new connections are unauthenticated.
	if out, err := roundTrip(addr, []byte("CONFIG SET requirepass pw\r\nQUIT\r\n"), time.Second); err != nil || string(out) != "+OK\r\n+OK\r\n" {
		t.Fatalf("CONFIG SET requirepass: %q %v", out, err)
	}
	for _, r := range run(unauth) {
		t.Run("unauth "+r.c.name, func(t *testing.T) { check(t, r) })
	}
}
