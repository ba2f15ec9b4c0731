package server

import (
	"bytes"
	"net"
	"testing"
	"time"
)

// sockTest drives real connections to a server at addr for test t.
type sockTest struct {
	t    *testing.T
	addr string
}

// dial connects, to be closed when the test ends.
func (st sockTest) dial() net.Conn {
	c, err := net.DialTimeout("tcp", st.addr, 2*time.Second)
	if err != nil {
		st.t.Fatal(err)
	}
	st.t.Cleanup(func() { c.Close() })
	return c
}

// send writes the commands in one write.
func (st sockTest) send(c net.Conn, cmds ...[]byte) {
	if _, err := c.Write(bytes.Join(cmds, nil)); err != nil {
		st.t.Fatal(err)
	}
}

// expect reads exactly want within d; nothing at all when want is empty.
func (st sockTest) expect(c net.Conn, want string, d time.Duration) {
	st.t.Helper()
	buf := make([]byte, 0, len(want)+64)
	c.SetReadDeadline(time.Now().Add(d))
	for len(buf) < len(want) || want == "" {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if string(buf) != want {
		st.t.Fatalf("got %q, want %q", buf, want)
	}
}
