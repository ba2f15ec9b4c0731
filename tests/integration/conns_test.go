package integration

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// raiseNoFile raises this process's soft RLIMIT_NOFILE to its hard limit
// for the rest of the test, or skips the test when the hard limit is below
// need.
func raiseNoFile(t *testing.T, need uint64) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatalf("getrlimit: %v", err)
	}
	if old.Max < need {
		t.Skipf("RLIMIT_NOFILE hard limit is %d, below the %d this test needs (raise it with ulimit -Hn)", old.Max, need)
	}
	if old.Cur >= need {
		return
	}
	lim := syscall.Rlimit{Cur: old.Max, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("setrlimit: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// TestManyConnections opens 10,000 connections (1,000 with -short), each
// doing a PING and a SET/GET of its own key while they all stay open; INFO
// counts them, and counts them gone once they are closed.
func TestManyConnections(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	raiseNoFile(t, uint64(n)+512)
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend, "--maxclients", strconv.Itoa(n+100))
		conns := make([]*rawConn, n)
		defer func() {
			for _, c := range conns {
				if c != nil {
					c.Close()
				}
			}
		}()
		const workers = 32
		var wg sync.WaitGroup
		errc := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < n; i += workers {
					c, err := dialRaw(s.Addr)
					if err != nil {
						errc <- fmt.Errorf("connection %d: dial: %w", i, err)
						return
					}
					conns[i] = c
					if err := checkConn(c, i); err != nil {
						errc <- fmt.Errorf("connection %d: %w", i, err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		close(errc)
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		waitClients(t, s.Addr, n+1, 10*time.Second)
		// Every connection still works after all the others connected.
		for _, i := range []int{0, n / 2, n - 1} {
			if v, err := conns[i].Do("GET", "conn:"+strconv.Itoa(i)); err != nil || string(v.Str) != strconv.Itoa(i) {
				t.Fatalf("connection %d: GET = %q, %v", i, v.Raw, err)
			}
		}
		for i, c := range conns {
			c.Close()
			conns[i] = nil
		}
		waitClients(t, s.Addr, 1, 15*time.Second)
	})
}

// checkConn sends PING, SET and GET in one write and checks the replies.
func checkConn(c *rawConn, i int) error {
	k, v := "conn:"+strconv.Itoa(i), strconv.Itoa(i)
	req := appendCommand(appendCommand(command("PING"), "SET", k, v), "GET", k)
	if err := c.Write(req); err != nil {
		return err
	}
	for j, want := range []string{"+PONG\r\n", "+OK\r\n", bulk(v)} {
		got, err := c.Read()
		if err != nil {
			return fmt.Errorf("reply %d: %w", j, err)
		}
		if string(got.Raw) != want {
			return fmt.Errorf("reply %d = %q, want %q", j, got.Raw, want)
		}
	}
	return nil
}

// TestMaxClients checks that with --maxclients 10 the 11th connection gets
// Redis's error and is closed, and that a slot freed by a client leaving
// lets the next one in.
func TestMaxClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend, "--maxclients", "10")
		conns := make([]*rawConn, 10)
		for i := range conns {
			conns[i] = dial(t, s.Addr)
			if got := conns[i].do(t, "PING"); got != "+PONG\r\n" {
				t.Fatalf("connection %d: PING = %q", i+1, got)
			}
		}
		for try := 0; try < 3; try++ {
			c := dial(t, s.Addr)
			if got := c.reply(t); got != "-ERR max number of clients reached\r\n" {
				t.Fatalf("connection 11: got %q", got)
			}
			c.expectClosed(t)
		}
		for i, c := range conns {
			if got := c.do(t, "PING"); got != "+PONG\r\n" {
				t.Fatalf("connection %d after the refusals: PING = %q", i+1, got)
			}
		}
		// The refused connections were never clients, and were counted.
		v, err := conns[1].Do("INFO")
		if err != nil {
			t.Fatal(err)
		}
		m := parseInfo(string(v.Str))
		if m["connected_clients"] != "10" || m["rejected_connections"] != "3" || m["maxclients"] != "10" {
			t.Fatalf("INFO: connected_clients %q (want 10), rejected_connections %q (want 3), maxclients %q (want 10)",
				m["connected_clients"], m["rejected_connections"], m["maxclients"])
		}
		conns[0].Close()
		var last string
		waitFor(t, 5*time.Second, func() bool {
			c, err := dialRaw(s.Addr)
			if err != nil {
				last = err.Error()
				return false
			}
			defer c.Close()
			v, err := c.Do("PING")
			last = fmt.Sprintf("%q %v", v.Raw, err)
			return err == nil && string(v.Raw) == "+PONG\r\n"
		}, func() string { return "a new connection after one left: " + last })
	})
}

// TestClientKill kills a connection from another with each form of CLIENT
// KILL: the victim is closed without a reply, the killer gets Redis's
// answer, and a kill that matches nobody says so.
func TestClientKill(t *testing.T) {
	cases := []struct {
		name   string
		args   func(id, addr string) []string
		want   string
		killed bool
	}{
		{"ID", func(id, _ string) []string { return []string{"CLIENT", "KILL", "ID", id} }, ":1\r\n", true},
		{"ADDR", func(_, addr string) []string { return []string{"CLIENT", "KILL", "ADDR", addr} }, ":1\r\n", true},
		{"legacy address form", func(_, addr string) []string { return []string{"CLIENT", "KILL", addr} }, "+OK\r\n", true},
		{"ID and ADDR", func(id, addr string) []string { return []string{"CLIENT", "KILL", "ID", id, "ADDR", addr} }, ":1\r\n", true},
		{"unknown ID", func(string, string) []string { return []string{"CLIENT", "KILL", "ID", "999999"} }, ":0\r\n", false},
		{"legacy unknown address", func(string, string) []string { return []string{"CLIENT", "KILL", "127.0.0.1:1"} }, "-ERR No such client\r\n", false},
		{"ID of another with a wrong ADDR", func(id, _ string) []string { return []string{"CLIENT", "KILL", "ID", id, "ADDR", "127.0.0.1:1"} }, ":0\r\n", false},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				victim := dial(t, s.Addr)
				v, err := victim.Do("CLIENT", "ID")
				if err != nil || v.Type != ':' {
					t.Fatalf("CLIENT ID = %q, %v", v.Raw, err)
				}
				id := strconv.FormatInt(v.Int, 10)
				addr := victim.c.LocalAddr().String()
				killer := dial(t, s.Addr)
				if got := killer.do(t, tc.args(id, addr)...); got != tc.want {
					t.Fatalf("%v = %q, want %q", tc.args(id, addr), got, tc.want)
				}
				if tc.killed {
					victim.expectClosed(t)
				} else if got := victim.do(t, "PING"); got != "+PONG\r\n" {
					t.Fatalf("the client that was not killed: PING = %q", got)
				}
				if got := killer.do(t, "PING"); got != "+PONG\r\n" {
					t.Fatalf("killer: PING = %q", got)
				}
			})
		}
		t.Run("a client in the middle of a big reply", func(t *testing.T) {
			victim := dial(t, s.Addr)
			if got := victim.do(t, "SET", "big", string(pattern(20<<20, 5))); got != "+OK\r\n" {
				t.Fatalf("SET = %q", got)
			}
			v, err := victim.Do("CLIENT", "ID")
			if err != nil {
				t.Fatal(err)
			}
			victim.send(t, string(command("GET", "big"))+string(command("GET", "big")))
			victim.c.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := victim.r.Peek(1); err != nil {
				t.Fatalf("no reply started: %v", err)
			}
			killer := dial(t, s.Addr)
			if got := killer.do(t, "CLIENT", "KILL", "ID", strconv.FormatInt(v.Int, 10)); got != ":1\r\n" {
				t.Fatalf("CLIENT KILL = %q", got)
			}
			// What was already sent may still arrive; then the connection
			// ends, well before 40 MB went through.
			victim.c.SetReadDeadline(time.Now().Add(ioTimeout))
			n, err := io.Copy(io.Discard, victim.r)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("reading the killed connection: %v after %d bytes", err, n)
			}
			if n >= 40<<20 {
				t.Fatalf("the killed client got its whole reply (%d bytes)", n)
			}
			waitClients(t, s.Addr, 2, 5*time.Second) // the killer and the asking connection
		})
		t.Run("SKIPME no kills the caller after its reply", func(t *testing.T) {
			c := dial(t, s.Addr)
			v, err := c.Do("CLIENT", "ID")
			if err != nil {
				t.Fatal(err)
			}
			id := strconv.FormatInt(v.Int, 10)
			if got := c.do(t, "CLIENT", "KILL", "ID", id, "SKIPME", "no"); got != ":1\r\n" {
				t.Fatalf("CLIENT KILL ID self SKIPME no = %q", got)
			}
			c.expectClosed(t)
		})
	})
}

// TestQuit checks that QUIT answers +OK and closes, ignoring whatever was
// pipelined after it.
func TestQuit(t *testing.T) {
	cases := []struct{ name, send, want string }{
		{"multibulk", string(command("QUIT")), "+OK\r\n"},
		{"inline", "quit\r\n", "+OK\r\n"},
		{"after a PING", "PING\r\nQUIT\r\n", "+PONG\r\n+OK\r\n"},
		{"followed by more commands", "QUIT\r\nSET afterquit 1\r\nPING\r\n", "+OK\r\n"},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s.Addr)
				c.send(t, tc.send)
				var got string
				for len(got) < len(tc.want) {
					got += c.reply(t)
				}
				if got != tc.want {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
				c.expectClosed(t)
			})
		}
		c := dial(t, s.Addr)
		if got := c.do(t, "EXISTS", "afterquit"); got != ":0\r\n" {
			t.Fatalf("a command after QUIT ran: EXISTS afterquit = %q", got)
		}
	})
}

// TestIdleTimeout checks that with --timeout 1 an idle client is closed
// after about a second or two, while a busy one is not.
func TestIdleTimeout(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend, "--timeout", "1")
		idle := dial(t, s.Addr)
		half := dial(t, s.Addr)
		busy := dial(t, s.Addr)
		begin := time.Now()
		if got := idle.do(t, "PING"); got != "+PONG\r\n" {
			t.Fatalf("PING = %q", got)
		}
		half.send(t, "*2\r\n$4\r\nECHO\r\n$5\r\nab")

		var wg sync.WaitGroup
		var busyErr error
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
				}
				if v, err := busy.Do("PING"); err != nil || string(v.Raw) != "+PONG\r\n" {
					busyErr = fmt.Errorf("PING = %q, %v", v.Raw, err)
					return
				}
			}
		}()
		halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
		defer halt()

		for name, c := range map[string]*rawConn{"idle": idle, "half a command": half} {
			if err := c.closedErr(6 * time.Second); err != nil {
				t.Fatalf("%s client with --timeout 1: %v", name, err)
			}
			if d := time.Since(begin); d < 900*time.Millisecond {
				t.Fatalf("%s client closed after %v, before its second of idleness", name, d)
			}
		}
		if d := time.Since(begin); d > 5*time.Second {
			t.Errorf("idle clients were closed only after %v", d)
		}
		halt()
		if busyErr != nil {
			t.Fatalf("a busy client: %v", busyErr)
		}
		if got := busy.do(t, "PING"); got != "+PONG\r\n" {
			t.Fatalf("busy client after %v: PING = %q", time.Since(begin), got)
		}
	})
}
