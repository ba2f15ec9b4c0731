package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"shoal/resp"
)

// feed gives c the input in pieces cut at the given offsets and returns
// everything c answered.
func feed(t *testing.T, r *responder, in string, cuts ...int) (string, bool) {
	t.Helper()
	c := &conn{}
	ok := true
	prev := 0
	for _, cut := range append(cuts, len(in)) {
		if !c.consume(r, []byte(in[prev:cut])) {
			ok = false
		}
		prev = cut
	}
	return string(c.out), ok && len(c.in) == 0
}

func TestConsume(t *testing.T) {
	r := newResponder(4, 7000)
	v := bulk("xxxx")
	pipeline := cmd("SET", "a", "1") + cmd("GET", "a") + "PING\r\n" + cmd("INCR", "n")
	tests := []struct {
		name string
		in   string
		want string
		quit bool
	}{
		{"pipeline", pipeline, "+OK\r\n" + v + "+PONG\r\n:1\r\n", false},
		{"empty commands skipped", "*0\r\n\r\n" + cmd("PING"), "+PONG\r\n", false},
		{"quit stops reading", cmd("QUIT") + cmd("PING"), "+OK\r\n", true},
		{"protocol error answers and stops", "*1\r\n$x\r\n" + cmd("PING"), "-ERR Protocol error: invalid bulk length\r\n", true},
		{"bad multibulk length", "*-5\r\n", "", false},
		{"unbalanced quotes", "set \"a\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &conn{}
			c.consume(r, []byte(tt.in))
			if string(c.out) != tt.want || c.quit != tt.quit {
				t.Errorf("answered %q quit %v, want %q quit %v", c.out, c.quit, tt.want, tt.quit)
			}
		})
	}
}

// TestConsumeSplit feeds a pipeline cut at every position: the answer must
// not depend on how TCP split the bytes.
func TestConsumeSplit(t *testing.T) {
	r := newResponder(16, 7000)
	in := cmd("SET", "key:000000000042", strings.Repeat("v", 40)) + cmd("GET", "key:000000000042") +
		"ping\r\n" + cmd("LRANGE", "l", "0", "1") + cmd("MGET", "a", "b", "c")
	want, ok := feed(t, r, in)
	if !ok {
		t.Fatalf("whole input left unparsed bytes")
	}
	for a := 0; a <= len(in); a++ {
		got, ok := feed(t, r, in, a)
		if got != want || !ok {
			t.Fatalf("cut at %d: %q, want %q", a, got, want)
		}
	}
	for a := 0; a <= len(in); a += 7 {
		for b := a; b <= len(in); b += 5 {
			if got, ok := feed(t, r, in, a, b); got != want || !ok {
				t.Fatalf("cuts at %d,%d: %q, want %q", a, b, got, want)
			}
		}
	}
}

func TestConsumeQueryLimit(t *testing.T) {
	old := maxQuery
	maxQuery = 100
	defer func() { maxQuery = old }()
	r := newResponder(4, 7000)
	c := &conn{}
	if !c.consume(r, []byte("*2\r\n$3\r\nSET\r\n$1000\r\n")) {
		t.Fatal("a short incomplete command was refused")
	}
	if c.consume(r, bytes.Repeat([]byte("a"), 200)) {
		t.Fatalf("%d unparsed bytes were accepted with a limit of %d", len(c.in), maxQuery)
	}
}

// TestConsumeAllocs asserts the hot path, parsing a pipeline of SET and
// GET commands and appending the replies, allocates nothing once the
// connection's buffers have grown.
func TestConsumeAllocs(t *testing.T) {
	r := newResponder(256, 7000)
	var in []byte
	for i := range 30 {
		if i%2 == 0 {
			in = append(in, cmd("SET", "key:000000000123", strings.Repeat("v", 256))...)
		} else {
			in = append(in, cmd("GET", "key:000000000123")...)
		}
	}
	c := &conn{}
	half := len(in)/2 + 3 // inside a command: the tail goes through c.in
	run := func() {
		c.out = c.out[:0]
		c.consume(r, in[:half])
		c.consume(r, in[half:])
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("consume allocates %v times per pipeline", n)
	}
	if strings.Count(string(c.out), "+OK\r\n") != 15 || strings.Count(string(c.out), "$256\r\n") != 15 {
		t.Errorf("unexpected replies: %q", c.out[:min(len(c.out), 200)])
	}
}

// countReplies reads RESP replies from out until it ends and returns how
// many there were, or -1 when out is not a sequence of whole replies.
func countReplies(out []byte) int {
	rd := bufio.NewReader(bytes.NewReader(out))
	n := 0
	for {
		if _, err := rd.Peek(1); err != nil {
			return n
		}
		if _, err := resp.ReadReply(rd); err != nil {
			return -1
		}
		n++
	}
}

func BenchmarkConsume(b *testing.B) {
	r := newResponder(256, 7000)
	var in []byte
	for range 15 {
		in = append(in, cmd("SET", "key:000000000123", strings.Repeat("v", 256))...)
		in = append(in, cmd("GET", "key:000000000123")...)
	}
	c := &conn{}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		c.out = c.out[:0]
		c.consume(r, in)
	}
}
