package server

import (
	"bytes"
	"testing"
	"time"
)

// TestBlockingClients drives blocking list commands over real sockets on
// each backend: a blocked client's pipelined commands wait behind it and
// run once it is served; a timeout answers and releases them too; a
// disconnected blocked client takes nothing.
func TestBlockingClients(t *testing.T) {
	for _, io := range backends(t) {
		t.Run(io, func(t *testing.T) {
			_, addr := startInProcess(t, io)
			st := sockTest{t, addr}
			dial, send, expect := st.dial, st.send, st.expect
			a, b := dial(), dial()
			send(a, command("BLPOP", "q", "0"), command("PING"), command("RPUSH", "after", "1"))
			expect(a, "", 200*time.Millisecond) // blocked, and PING held
			send(b, command("LLEN", "after"))
			expect(b, ":0\r\n", 2*time.Second)
			send(b, command("RPUSH", "q", "x"))
			expect(b, ":1\r\n", 2*time.Second)
			expect(a, "*2\r\n$1\r\nq\r\n$1\r\nx\r\n+PONG\r\n:1\r\n", 2*time.Second)

			// A timeout releases the held commands as well.
			start := time.Now()
			send(a, command("BRPOP", "q", "0.2"), command("PING"))
			expect(a, "*-1\r\n+PONG\r\n", 3*time.Second)
			if d := time.Since(start); d < 190*time.Millisecond { // the shard's clock is cached to the ms
				t.Errorf("BRPOP 0.2 answered after %v", d)
			}

			// A blocked client that goes away is forgotten.
			c := dial()
			send(c, command("BLPOP", "gone", "0"))
			// waitBlocked polls INFO until n clients are blocked: other
			// connections' events arrive in their own time.
			waitBlocked := func(n string) {
				info := make([]byte, 4096)
				for i := 0; ; i++ {
					send(b, command("INFO", "clients"))
					b.SetReadDeadline(time.Now().Add(2 * time.Second))
					k, _ := b.Read(info)
					if bytes.Contains(info[:k], []byte("blocked_clients:"+n+"\r\n")) {
						return
					}
					if i == 200 {
						t.Fatalf("INFO clients, waiting for %s blocked: %q", n, info[:k])
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			waitBlocked("1")
			c.Close()
			waitBlocked("0")
			send(b, command("RPUSH", "gone", "v"), command("LLEN", "gone"))
			expect(b, ":1\r\n:1\r\n", 2*time.Second)
		})
	}
}
