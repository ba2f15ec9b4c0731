package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"shoal/resp"
)

// cmd encodes args as a RESP multibulk command.
func cmd(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func TestReplies(t *testing.T) {
	r := newResponder(8, 7000)
	v := bulk("xxxxxxxx")
	tests := []struct {
		name string
		in   string
		want string
		quit bool
	}{
		{"ping", cmd("PING"), "+PONG\r\n", false},
		{"ping message", cmd("ping", "hello"), bulk("hello"), false},
		{"echo", cmd("ECHO", "hi"), bulk("hi"), false},
		{"inline ping", "ping\r\n", "+PONG\r\n", false},
		{"set", cmd("SET", "key:000000000001", "value"), "+OK\r\n", false},
		{"set lower case", cmd("set", "k", "v"), "+OK\r\n", false},
		{"mset", cmd("MSET", "a", "1", "b", "2"), "+OK\r\n", false},
		{"get", cmd("GET", "key:000000000001"), v, false},
		{"get mixed case", cmd("gEt", "k"), v, false},
		{"lpop", cmd("LPOP", "mylist"), v, false},
		{"incr", cmd("INCR", "counter"), ":1\r\n", false},
		{"lpush", cmd("LPUSH", "mylist", "x"), ":1\r\n", false},
		{"hset", cmd("HSET", "h", "f", "v"), ":1\r\n", false},
		{"dbsize", cmd("DBSIZE"), ":0\r\n", false},
		{"zpopmin", cmd("ZPOPMIN", "z"), "*2\r\n" + v + bulk("0"), false},
		{"lrange", cmd("LRANGE", "mylist", "0", "2"), "*3\r\n" + v + v + v, false},
		{"lrange one", cmd("LRANGE", "mylist", "4", "4"), "*1\r\n" + v, false},
		{"lrange negative", cmd("LRANGE", "mylist", "0", "-1"), "*0\r\n", false},
		{"lrange reversed", cmd("LRANGE", "mylist", "5", "1"), "*0\r\n", false},
		{"lrange not a number", cmd("LRANGE", "mylist", "a", "1"), "*0\r\n", false},
		{"lrange short", cmd("LRANGE", "mylist"), "*0\r\n", false},
		{"mget", cmd("MGET", "a", "b"), "*2\r\n" + v + v, false},
		{"config get", cmd("CONFIG", "GET", "save"), "*2\r\n" + bulk("save") + "$0\r\n\r\n", false},
		{"config get lower", cmd("config", "get", "appendonly"), "*2\r\n" + bulk("appendonly") + "$0\r\n\r\n", false},
		{"config set", cmd("CONFIG", "SET", "save", ""), "+OK\r\n", false},
		{"command", cmd("COMMAND", "DOCS"), "*0\r\n", false},
		{"flushall", cmd("FLUSHALL"), "+OK\r\n", false},
		{"quit", cmd("QUIT"), "+OK\r\n", true},
		{"unknown", cmd("FOO", "bar"), "-ERR unknown command 'FOO'\r\n", false},
		{"unknown with CR", cmd("F\rO\nO"), "-ERR unknown command 'F O O'\r\n", false},
		{"too long to be known", cmd("GETGETGETGETGETGET"), "-ERR unknown command 'GETGETGETGETGETGET'\r\n", false},
		{"long unknown is cut", cmd(strings.Repeat("A", 300)), "-ERR unknown command '" + strings.Repeat("A", maxEcho) + "'\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p resp.Parser
			args, n, err := p.Parse([]byte(tt.in))
			if err != nil || n != len(tt.in) {
				t.Fatalf("test input does not parse: %v (%d of %d bytes)", err, n, len(tt.in))
			}
			got, quit := r.appendReply(nil, args)
			if string(got) != tt.want || quit != tt.quit {
				t.Errorf("reply %q quit %v, want %q quit %v", got, quit, tt.want, tt.quit)
			}
			// Every reply is one well-formed RESP value.
			rd := bufio.NewReader(bytes.NewReader(got))
			if _, err := resp.ReadReply(rd); err != nil || rd.Buffered() != 0 {
				t.Errorf("reply %q is not one RESP value: %v", got, err)
			}
		})
	}
}

func TestInfoReply(t *testing.T) {
	r := newResponder(256, 7001)
	got, _ := r.appendReply(nil, [][]byte{[]byte("INFO"), []byte("server")})
	v, err := resp.ReadReply(bufio.NewReader(bytes.NewReader(got)))
	if err != nil || v.Type != resp.TypeBulk {
		t.Fatalf("INFO reply %q: %v", got, err)
	}
	for _, want := range []string{"server_name:shoal-ceiling\r\n", "process_id:" + strconv.Itoa(os.Getpid()) + "\r\n",
		"tcp_port:7001\r\n", "value_size:256\r\n"} {
		if !strings.Contains(string(v.Str), want) {
			t.Errorf("INFO lacks %q:\n%s", want, v.Str)
		}
	}
}

func TestRangeLen(t *testing.T) {
	tests := []struct {
		start, stop string
		want        int
	}{
		{"0", "99", 100}, {"0", "0", 1}, {"10", "19", 10}, {"0", "999999", maxRange},
		{"-1", "5", 0}, {"0", "-1", 0}, {"3", "2", 0}, {"", "1", 0}, {"1", "x", 0},
		{"0", "1234567890123456789", 0}, {"-", "1", 0},
	}
	for _, tt := range tests {
		if got := rangeLen([]byte(tt.start), []byte(tt.stop)); got != tt.want {
			t.Errorf("rangeLen(%q, %q) = %d, want %d", tt.start, tt.stop, got, tt.want)
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	names := [][]byte{[]byte("get"), []byte("SET"), []byte("unknowncommand"), []byte("waytoolongtobeacommandname")}
	if n := testing.AllocsPerRun(100, func() {
		for _, nm := range names {
			lookup(nm)
		}
	}); n != 0 {
		t.Errorf("lookup allocates %v times per run", n)
	}
}
