package server

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestClientPause drives CLIENT PAUSE over real sockets on each backend:
// a held client's pipelined commands wait behind the held one and run
// after it once the pause ends (CLIENT UNPAUSE, or its timeout at a cron
// tick); a held client that is killed or disconnects is dropped and the
// others go on.
func TestClientPause(t *testing.T) {
	for _, io := range backends(t) {
		t.Run(io, func(t *testing.T) {
			_, addr := startInProcess(t, io)
			st := sockTest{t, addr}
			dial, send, expect := st.dial, st.send, st.expect
			// query sends one command from admin and returns its bulk
			// reply's text.
			query := func(c net.Conn, cmd []byte) string {
				t.Helper()
				send(c, cmd)
				buf := make([]byte, 64<<10)
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, err := c.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				return string(buf[:n])
			}
			waitFor := func(admin net.Conn, cmd []byte, what string) string {
				t.Helper()
				for i := 0; ; i++ {
					got := query(admin, cmd)
					if strings.Contains(got, what) {
						return got
					}
					if i == 200 {
						t.Fatalf("waiting for %q: %q", what, got)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}

			admin, a, b := dial(), dial(), dial()
			send(admin, command("CLIENT", "PAUSE", "100000", "WRITE"))
			expect(admin, "+OK\r\n", 2*time.Second)
			send(a, command("SET", "k", "a"), command("GET", "k"), command("INCR", "n"))
			send(b, command("SET", "k", "b"))
			waitFor(admin, command("INFO", "clients"), "blocked_clients:2\r\n")
			list := query(admin, command("CLIENT", "LIST"))
			if strings.Count(list, "flags=b ") != 2 || strings.Count(list, "cmd=set ") != 2 {
				t.Errorf("CLIENT LIST while held:\n%s", list)
			}
			expect(a, "", 100*time.Millisecond)
			send(admin, command("GET", "k"))
			expect(admin, "$-1\r\n", 2*time.Second)
			send(admin, command("CLIENT", "UNPAUSE"))
			expect(admin, "+OK\r\n", 2*time.Second)
			expect(a, "+OK\r\n$1\r\na\r\n:1\r\n", 2*time.Second)
			expect(b, "+OK\r\n", 2*time.Second)
			send(admin, command("GET", "k"))
			expect(admin, "$1\r\nb\r\n", 2*time.Second)

			// The timeout ends it at a cron tick; ALL holds reads too.
			start := time.Now()
			send(admin, command("CLIENT", "PAUSE", "300"))
			expect(admin, "+OK\r\n", 2*time.Second)
			send(a, command("GET", "k"), command("PING"))
			expect(a, "$1\r\nb\r\n+PONG\r\n", 3*time.Second)
			if d := time.Since(start); d < 290*time.Millisecond {
				t.Errorf("CLIENT PAUSE 300 held a client for %v only", d)
			}

			// Killed or gone while held: dropped; the others are served.
			c, d := dial(), dial()
			send(admin, command("CLIENT", "PAUSE", "100000", "WRITE"))
			expect(admin, "+OK\r\n", 2*time.Second)
			send(c, command("CLIENT", "ID"), command("SET", "c", "1"))
			id := strings.TrimSpace(strings.TrimPrefix(query(c, nil), ":"))
			send(d, command("SET", "d", "1"))
			send(b, command("SET", "e", "1"), command("GET", "e"))
			waitFor(admin, command("INFO", "clients"), "blocked_clients:3\r\n")
			send(admin, command("CLIENT", "KILL", "ID", id))
			expect(admin, ":1\r\n", 2*time.Second)
			d.Close()
			waitFor(admin, command("INFO", "clients"), "blocked_clients:1\r\n")
			send(admin, command("CLIENT", "UNPAUSE"))
			expect(admin, "+OK\r\n", 2*time.Second)
			expect(b, "+OK\r\n$1\r\n1\r\n", 2*time.Second)
			send(admin, command("MGET", "c", "d", "e"))
			expect(admin, "*3\r\n$-1\r\n$-1\r\n$1\r\n1\r\n", 2*time.Second)
		})
	}
}
