package engine

import (
	"regexp"
	"strings"
	"testing"
)

// TestMonitor: what a monitor is shown, in which form and order, and what
// it is not shown.
func TestMonitor(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	m := newClientAt(s, "127.0.0.1:40001", "127.0.0.1:6379")
	c := newClientAt(s, "127.0.0.1:40002", "127.0.0.1:6379")
	if got := execLine(t, s, m, "MONITOR"); got != "+OK" {
		t.Fatalf("MONITOR: %s", got)
	}
	m.Out = m.Out[:0]
	s.Exec(m, argv("MONITOR"))
	if len(m.Out) != 0 {
		t.Fatalf("a second MONITOR replied %q", m.Out)
	}
	for _, args := range [][]string{
		{"SET", "k", "a b\n\"\\\x01\xff"},
		{"GET", "k"},
		{"NOSUCH", "x"},                // refused before it ran: not shown
		{"GET"},                        // so is a wrong arity
		{"CONFIG", "GET", "maxmemory"}, // admin: not shown
		{"AUTH", "user", "pass"},       // shown, redacted
		{"HELLO", "2", "SETNAME", "auth", "AUTH", "u", "p"},
		{"MULTI"}, {"INCR", "n"}, {"EXEC"}, // INCR shown when EXEC runs it, before EXEC
		{"MULTI"}, {"MONITOR"}, {"EXEC"},
	} {
		exec(t, s, c, args...)
	}
	want := []string{
		`"SET" "k" "a b\n\"\\\x01\xff"`,
		`"GET" "k"`,
		`"AUTH" "(redacted)" "(redacted)"`,
		`"HELLO" "2" "SETNAME" "auth" "AUTH" "(redacted)" "(redacted)"`,
		`"MULTI"`, `"INCR" "n"`, `"EXEC"`,
		`"MULTI"`, `"EXEC"`,
	}
	line := regexp.MustCompile(`^\+\d+\.\d{6} \[0 127\.0\.0\.1:40002\] (.*)$`)
	got := strings.Split(strings.TrimSuffix(string(m.Out), "\r\n"), "\r\n")
	if len(got) != len(want) {
		t.Fatalf("monitor got %d lines, want %d:\n%s", len(got), len(want), m.Out)
	}
	for i, l := range got {
		sm := line.FindStringSubmatch(l)
		if sm == nil || sm[1] != want[i] {
			t.Errorf("line %d: %q, want ... %s", i, l, want[i])
		}
	}
	if l := execLine(t, s, c, "CLIENT", "LIST", "ID", "1"); !strings.Contains(l, " flags=O ") {
		t.Errorf("CLIENT LIST of the monitor: %s", l)
	}
	exec(t, s, c, "MULTI")
	exec(t, s, c, "MONITOR")
	if got := execLine(t, s, c, "EXEC"); got != "[-ERR MONITOR isn't allowed for DENY BLOCKING client]" {
		t.Errorf("MONITOR inside EXEC: %s", got)
	}
	// RESET ends monitoring; so does closing the connection.
	if got := execLine(t, s, m, "RESET"); got != "+RESET" {
		t.Fatalf("RESET: %s", got)
	}
	m.Out = m.Out[:0]
	exec(t, s, c, "GET", "k")
	if len(m.Out) != 0 || len(s.monitors) != 0 {
		t.Fatalf("after RESET the monitor got %q", m.Out)
	}
	exec(t, s, m, "MONITOR")
	s.Unregister(m)
	if len(s.monitors) != 0 {
		t.Fatalf("a closed monitor stays on the list")
	}
}

func TestAppendRepr(t *testing.T) {
	for in, want := range map[string]string{
		"":                  `""`,
		"plain 123":         `"plain 123"`,
		"\\\"\n\r\t\a\b":    `"\\\"\n\r\t\a\b"`,
		"\x00\x1f\x7f\x80é": `"\x00\x1f\x7f\x80\xc3\xa9"`,
	} {
		if got := string(appendRepr(nil, []byte(in))); got != want {
			t.Errorf("appendRepr(%q) = %s, want %s", in, got, want)
		}
	}
}
