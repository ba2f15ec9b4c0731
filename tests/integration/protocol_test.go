package integration

import (
	"strings"
	"testing"
	"time"
)

// TestProtocolErrors sends malformed requests: the client gets Redis's exact
// "-ERR Protocol error: ..." reply, after the replies to the commands before
// it, and then the server closes that connection without running anything
// sent after the error, while another client keeps working throughout.
func TestProtocolErrors(t *testing.T) {
	long := strings.Repeat("1", 70000) // longer than the 64 KB inline limit
	const poison = "SET poison 1\r\n"
	cases := []struct {
		name string
		send string // after a PING; poison follows when suffix is set
		// suffix appends a command after the error; the bad input must end
		// its line for the command not to join it.
		suffix bool
		want   string
	}{
		{"multibulk length not a number", "*abc\r\n", true, "invalid multibulk length"},
		{"multibulk length with a sign", "*+1\r\n", true, "invalid multibulk length"},
		{"multibulk length over INT_MAX", "*2147483648\r\n", true, "invalid multibulk length"},
		{"bulk length not a number", "*1\r\n$abc\r\n", true, "invalid bulk length"},
		{"negative bulk length", "*1\r\n$-1\r\n", true, "invalid bulk length"},
		{"bulk over proto-max-bulk-len", "*2\r\n$4\r\nECHO\r\n$1048577\r\n", true, "invalid bulk length"},
		{"garbage instead of a bulk", "*1\r\nfoo\r\n", true, "expected '$', got 'f'"},
		{"garbage after the first argument", "*2\r\n$4\r\nECHO\r\n:1\r\n", true, "expected '$', got ':'"},
		{"unbalanced double quote", "SET \"a b\r\n", true, "unbalanced quotes in request"},
		{"unbalanced single quote", "SET 'a\r\n", true, "unbalanced quotes in request"},
		{"closing quote not followed by a space", "SET \"a\"b c\r\n", true, "unbalanced quotes in request"},
		{"multibulk count line too long", "*" + long, false, "too big mbulk count string"},
		{"bulk count line too long", "*1\r\n$" + long, false, "too big bulk count string"},
		{"inline line too long", "SET k " + long, false, "too big inline request"},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend, "--proto-max-bulk-len", "1mb")
		w := startWatcher(t, s.Addr)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s.Addr)
				msg := "*1\r\n$4\r\nPING\r\n" + tc.send
				if tc.suffix {
					msg += poison
				}
				c.send(t, msg)
				if got := c.reply(t); got != "+PONG\r\n" {
					t.Fatalf("reply to the PING before the error = %q", got)
				}
				if got, want := c.reply(t), "-ERR Protocol error: "+tc.want+"\r\n"; got != want {
					t.Fatalf("got %q, want %q", got, want)
				}
				c.expectClosed(t)
			})
		}
		if n, err := w.rdb.Exists(ctx(t), "poison").Result(); n != 0 || err != nil {
			t.Fatalf("a command sent after a protocol error ran: EXISTS poison = %d, %v", n, err)
		}
		w.finish(t)
	})
}

// TestProtocolErrorSplit sends the malformed header in pieces, so the
// error is found after more bytes arrive on a later read.
func TestProtocolErrorSplit(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)
		c := dial(t, s.Addr)
		c.send(t, "*2\r\n$3\r\nGET\r\n$")
		c.expectSilence(t, 100*time.Millisecond)
		c.send(t, "1x")
		c.expectSilence(t, 100*time.Millisecond)
		c.send(t, "\r\n")
		if got, want := c.reply(t), "-ERR Protocol error: invalid bulk length\r\n"; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
		c.expectClosed(t)
		w.finish(t)
	})
}

// TestInline sends commands as telnet does: words on a line, with Redis's
// quoting rules (sdssplitargs).
func TestInline(t *testing.T) {
	type step struct{ send, want string }
	cases := []struct {
		name  string
		steps []step
	}{
		{"ping", []step{{"PING\r\n", "+PONG\r\n"}, {"ping\r\n", "+PONG\r\n"}}},
		{"bare LF ends a line", []step{{"PING\n", "+PONG\r\n"}, {"ECHO hi\n", bulk("hi")}}},
		{"set get", []step{{"SET k v\r\n", "+OK\r\n"}, {"GET k\r\n", bulk("v")}}},
		{"extra spaces and tabs", []step{{"   SET \t k2    v2   \r\n", "+OK\r\n"}, {"GET k2\r\n", bulk("v2")}}},
		{"double quotes", []step{{"SET \"a b\" \"c d\"\r\n", "+OK\r\n"}, {"GET \"a b\"\r\n", bulk("c d")}}},
		{"escapes in double quotes", []step{
			{`SET esc "tab\there\x41\n\"q\"\\"` + "\r\n", "+OK\r\n"},
			{"GET esc\r\n", bulk("tab\thereA\n\"q\"\\")}}},
		{"hex escape of a high byte", []step{{`ECHO "\xff\x00z"` + "\r\n", bulk("\xff\x00z")}}},
		{"bad hex escape is literal", []step{{`ECHO "\xzz"` + "\r\n", bulk("xzz")}}},
		{"single quotes", []step{{`SET sq 'it\'s "raw" \n'` + "\r\n", "+OK\r\n"}, {"GET sq\r\n", bulk(`it's "raw" \n`)}}},
		{"empty quoted argument", []step{{`ECHO ""` + "\r\n", bulk("")}, {`ECHO ''` + "\r\n", bulk("")}}},
		{"empty lines are ignored", []step{{"\r\n\r\n\n", ""}, {"PING\r\n", "+PONG\r\n"}}},
		{"pipelined inline lines", []step{{"INCR n\r\nINCR n\r\nINCR n\r\n", ":1\r\n:2\r\n:3\r\n"}}},
		{"inline and multibulk mixed", []step{{"ECHO a\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\nECHO c\r\n", bulk("a") + bulk("b") + bulk("c")}}},
		{"wrong arity", []step{{"GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n"}}},
		{"unknown command", []step{{"FOO bar baz\r\n", "-ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' \r\n"}}},
		{"empty and null multibulks are skipped", []step{{"*0\r\n*-1\r\n*-5\r\nPING\r\n", "+PONG\r\n"}}},
		{"a 60 KB inline line", []step{{"SET long " + strings.Repeat("v", 60<<10) + "\r\n", "+OK\r\n"}, {"STRLEN long\r\n", ":61440\r\n"}}},
		{"line split across writes", []step{{"SET spl", ""}, {"it 12", ""}, {"3\r\n", "+OK\r\n"}, {"GET split\r\n", bulk("123")}}},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s.Addr)
				for _, st := range tc.steps {
					c.send(t, st.send)
					if st.want == "" {
						c.expectSilence(t, 50*time.Millisecond)
						continue
					}
					var got strings.Builder
					for got.Len() < len(st.want) {
						got.WriteString(c.reply(t))
					}
					if got.String() != st.want {
						t.Fatalf("sent %q: got %q, want %q", st.send, got.String(), st.want)
					}
				}
				if got := c.do(t, "PING"); got != "+PONG\r\n" {
					t.Fatalf("PING afterwards: %q", got)
				}
			})
		}
	})
}
