// Package redisfixture starts a real redis-server for tests that build
// golden data (listpacks, intsets, quicklists as Redis 7 encodes them) or
// measure Redis's memory side by side with ours. It speaks just enough RESP
// for that and parses the RDB payloads DUMP returns.
//
// A Server belongs to the test that started it: one goroutine issues its
// commands; the process is stopped (by its PID) and its directory removed
// by the test's Cleanup.
package redisfixture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RDB value types that carry compact encodings (Redis 7.0 rdb.h).
const (
	TypeSetIntset       = 11
	TypeHashListpack    = 16
	TypeZsetListpack    = 17
	TypeListQuicklist2  = 18
	QuicklistNodePlain  = 1
	QuicklistNodePacked = 2
)

// Server is a running redis-server and one connection to it.
type Server struct {
	cmd  *exec.Cmd
	conn net.Conn
	r    *bufio.Reader
}

// Start runs redis-server on a free loopback port with persistence and
// RDB compression off plus the given config pairs, or skips the test if
// redis-server is not installed.
func Start(t testing.TB, config ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--rdbcompression", "no", "--dir", dir, "--logfile", dir + "/log"}
	for i := 0; i+1 < len(config); i += 2 {
		args = append(args, "--"+config[i], config[i+1])
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Server{cmd: cmd}
	t.Cleanup(func() {
		if s.conn != nil {
			s.conn.Close()
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			s.conn, s.r = c, bufio.NewReader(c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return s
}

// Do sends a command and returns its reply: []byte for bulk strings, string
// for simple strings, int64, nil, []any for arrays; an error reply fails t.
func (s *Server) Do(t testing.TB, args ...string) any {
	t.Helper()
	s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := s.conn.Write(buf); err != nil {
		t.Fatal(err)
	}
	v, err := s.read()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

// Bulks runs a command whose reply is an array of bulk strings.
func (s *Server) Bulks(t testing.TB, args ...string) [][]byte {
	t.Helper()
	arr, ok := s.Do(t, args...).([]any)
	if !ok {
		t.Fatalf("%v: not an array", args)
	}
	out := make([][]byte, len(arr))
	for i, v := range arr {
		out[i], _ = v.([]byte)
	}
	return out
}

// String runs a command whose reply is a bulk or simple string.
func (s *Server) String(t testing.TB, args ...string) string {
	t.Helper()
	switch v := s.Do(t, args...).(type) {
	case []byte:
		return string(v)
	case string:
		return v
	default:
		t.Fatalf("%v: reply %T", args, v)
	}
	return ""
}

// Int runs a command whose reply is an integer.
func (s *Server) Int(t testing.TB, args ...string) int64 {
	t.Helper()
	v, ok := s.Do(t, args...).(int64)
	if !ok {
		t.Fatalf("%v: not an integer", args)
	}
	return v
}

func (s *Server) read() (any, error) {
	line, err := s.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, errors.New("short reply line")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, errors.New(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		b := make([]byte, n+2)
		if _, err := readFull(s.r, b); err != nil {
			return nil, err
		}
		return b[:n], nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		arr := make([]any, n)
		for i := range arr {
			if arr[i], err = s.read(); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}

func readFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ParseDump splits a DUMP payload of an uncompressed compact encoding into
// its RDB type and raw blobs: one for listpack and intset types, one per
// node for quicklists (with each node's container type in containers).
func ParseDump(payload []byte) (typ int, blobs [][]byte, containers []int, err error) {
	if len(payload) < 11 {
		return 0, nil, nil, errors.New("payload too short")
	}
	body := payload[:len(payload)-10] // RDB version (2) and CRC64 (8)
	typ = int(body[0])
	p := 1
	switch typ {
	case TypeSetIntset, TypeHashListpack, TypeZsetListpack:
		b, err := rdbString(body, &p)
		return typ, [][]byte{b}, nil, err
	case TypeListQuicklist2:
		n, err := rdbLen(body, &p)
		if err != nil {
			return 0, nil, nil, err
		}
		for range n {
			c, err := rdbLen(body, &p)
			if err != nil {
				return 0, nil, nil, err
			}
			b, err := rdbString(body, &p)
			if err != nil {
				return 0, nil, nil, err
			}
			blobs = append(blobs, b)
			containers = append(containers, int(c))
		}
		return typ, blobs, containers, nil
	}
	return 0, nil, nil, fmt.Errorf("RDB type %d not handled", typ)
}

func rdbLen(b []byte, p *int) (uint64, error) {
	if *p >= len(b) {
		return 0, errors.New("truncated length")
	}
	c := b[*p]
	*p++
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3F), nil
	case 1:
		if *p >= len(b) {
			return 0, errors.New("truncated length")
		}
		*p++
		return uint64(c&0x3F)<<8 | uint64(b[*p-1]), nil
	case 2:
		switch c {
		case 0x80:
			if *p+4 > len(b) {
				return 0, errors.New("truncated length")
			}
			*p += 4
			return uint64(binary.BigEndian.Uint32(b[*p-4:])), nil
		case 0x81:
			if *p+8 > len(b) {
				return 0, errors.New("truncated length")
			}
			*p += 8
			return binary.BigEndian.Uint64(b[*p-8:]), nil
		}
	}
	return 0, fmt.Errorf("special or unknown length encoding 0x%02x (compressed?)", c)
}

func rdbString(b []byte, p *int) ([]byte, error) {
	n, err := rdbLen(b, p)
	if err != nil {
		return nil, err
	}
	if uint64(len(b)-*p) < n {
		return nil, errors.New("truncated string")
	}
	s := b[*p : *p+int(n)]
	*p += int(n)
	return s, nil
}

// UsedMemory returns INFO memory's used_memory.
func (s *Server) UsedMemory(t testing.TB) int64 {
	t.Helper()
	info := s.String(t, "INFO", "memory")
	const key = "used_memory:"
	for i := 0; i+len(key) <= len(info); i++ {
		if info[i:i+len(key)] == key {
			j := i + len(key)
			k := j
			for k < len(info) && info[k] >= '0' && info[k] <= '9' {
				k++
			}
			v, err := strconv.ParseInt(info[j:k], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatal("no used_memory in INFO")
	return 0
}

// Version returns the server's redis_version.
func (s *Server) Version(t testing.TB) string {
	t.Helper()
	info := s.String(t, "INFO", "server")
	const key = "redis_version:"
	for i := 0; i+len(key) <= len(info); i++ {
		if info[i:i+len(key)] == key {
			j := i + len(key)
			k := j
			for k < len(info) && info[k] != '\r' && info[k] != '\n' {
				k++
			}
			return info[j:k]
		}
	}
	return "unknown"
}
