package launcher

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestReadBulk(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"$5\r\nhello\r\n", "hello", ""},
		{"$0\r\n\r\n", "", ""},
		{"=9\r\ntxt:hello\r\n", "txt:hello", ""},
		{"-ERR unknown command\r\n", "", `INFO answered "-ERR unknown command"`},
		{"$-1\r\n", "", `INFO answered "$-1"`},
		{"$99999999\r\n", "", "INFO answered"},
		{"$5\r\nhel", "", "EOF"},
	} {
		got, err := readBulk(bufio.NewReader(strings.NewReader(tc.in)))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %q, %v; want error %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzReadBulk(f *testing.F) {
	f.Add([]byte("$5\r\nhello\r\n"))
	f.Add([]byte("=3\r\nabc\r\n"))
	f.Add([]byte("$-1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := readBulk(bufio.NewReader(strings.NewReader(string(in))))
		if err == nil && len(got) > len(in) {
			t.Fatalf("read %d bytes out of %d", len(got), len(in))
		}
	})
}

// serveOnce answers the first request on a loopback listener with reply.
func serveOnce(t *testing.T, reply string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Read(make([]byte, 512))
		c.Write([]byte(reply))
	}()
	return ln.Addr().String()
}

func TestPingAndInfo(t *testing.T) {
	if err := ping(serveOnce(t, "+PONG\r\n"), time.Second); err != nil {
		t.Errorf("PONG: %v", err)
	}
	if err := ping(serveOnce(t, "-LOADING Redis is loading the dataset in memory\r\n"), time.Second); err != errLoading {
		t.Errorf("LOADING: %v", err)
	}
	if err := ping(serveOnce(t, "-NOAUTH Authentication required.\r\n"), time.Second); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Errorf("NOAUTH: %v", err)
	}
	body := "# Server\r\nredis_version:7.0.15\r\nio_backend:io_uring\r\n"
	v, err := infoField(serveOnce(t, "$"+strconv.Itoa(len(body))+"\r\n"+body+"\r\n"), "server", "io_backend", time.Second)
	if err != nil || v != "io_uring" {
		t.Errorf("io_backend %q, %v", v, err)
	}
	v, err = infoField(serveOnce(t, "$"+strconv.Itoa(len(body))+"\r\n"+body+"\r\n"), "server", "nothing", time.Second)
	if err != nil || v != "" {
		t.Errorf("missing field %q, %v", v, err)
	}
}
