package engine

import (
	"strings"
	"testing"
)

// TestEvalAOF: what a script changes is recorded as the commands it
// called (wrapped in MULTI/EXEC when more than one), never as EVAL;
// redis.set_repl without REPL_AOF leaves the commands after it out.
func TestEvalAOF(t *testing.T) {
	tests := []struct {
		script string
		want   []string
	}{
		{"return redis.call('get', 'k')", nil},
		{"return redis.call('set', 'k', 'v2')", []string{"set k v2"}},
		{"redis.call('set', 'a', 1); redis.call('incr', 'a'); return 1",
			[]string{"MULTI", "set a 1", "incr a", "EXEC"}},
		{"redis.call('set', 'k', 'v', 'EX', 100); return 1", []string{"SET k v PXAT 1700000100000"}},
		{"redis.call('set', 'a', 1); redis.set_repl(redis.REPL_NONE); redis.call('set', 'b', 2); redis.set_repl(redis.REPL_ALL); redis.call('set', 'c', 3)",
			[]string{"MULTI", "set a 1", "set c 3", "EXEC"}},
		{"redis.set_repl(redis.REPL_REPLICA); redis.call('set', 'b', 2)", nil},
		{"redis.call('set', 'a', 1); error('after a write')", []string{"set a 1"}},
		{"redis.pcall('incr', 'k'); return 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			now := scriptStart
			s := newTestShard(&now)
			c := s.NewClient()
			exec(t, s, c, "SET", "k", "v")
			s.prop.on = true
			s.aof.selected = true
			exec(t, s, c, "EVAL", tt.script, "0")
			var want []byte
			for _, w := range tt.want {
				want = appendCommand(want, argv(strings.Fields(w)...))
			}
			if got := string(s.aof.buf); got != string(want) {
				t.Errorf("recorded %q, want %q", got, want)
			}
		})
	}
}

// TestEvalOOM: past maxmemory a script in compatibility mode fails at
// its first command that may grow memory, unless it wrote already; a
// script with flags is refused before it runs unless it has no-writes or
// allow-oom.
func TestEvalOOM(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	exec(t, s, c, "SET", "k", "v")
	exec(t, s, c, "CONFIG", "SET", "maxmemory", "1")
	for _, tt := range []struct{ script, want string }{
		{"return redis.call('get', 'k')", "v"},
		{"return redis.call('set', 'k', 'x')", "OOM command not allowed when used memory > 'maxmemory'. script: "},
		{"redis.call('del', 'nokey'); return redis.call('set', 'k', 'x')", "OK"},
		{"#!lua\nreturn 1", "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"},
		{"#!lua flags=no-writes\nreturn redis.call('get', 'k')", "x"},
		{"#!lua flags=allow-oom\nreturn redis.call('set', 'k', 'y')", "OK"},
	} {
		v := exec(t, s, c, "EVAL", tt.script, "0")
		if got := string(v.Str); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.script, got, tt.want)
		}
	}
	exec(t, s, c, "CONFIG", "SET", "maxmemory", "0")
}

// TestEvalScriptClientUnlisted: the client scripts run commands for is
// not among the connections, and a script's statistics count the
// commands it called.
func TestEvalScriptClientUnlisted(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	exec(t, s, c, "EVAL", "return redis.call('set', 'k', 'v')", "0")
	if v := exec(t, s, c, "CLIENT", "LIST"); strings.Count(string(v.Str), "\n") != 1 {
		t.Errorf("CLIENT LIST: %q", v.Str)
	}
	v := exec(t, s, c, "INFO", "commandstats")
	for _, want := range []string{"cmdstat_eval:calls=1", "cmdstat_set:calls=1"} {
		if !strings.Contains(string(v.Str), want) {
			t.Errorf("INFO commandstats lacks %s: %s", want, v.Str)
		}
	}
}
