package engine

import (
	"strconv"
	"testing"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/rdb"
)

// TestRestorePropagation checks what the AOF records of RESTORE, as Redis
// 7.0 propagates it: a relative TTL as an absolute one with ABSTTL, a
// past TTL that deleted the old key as DEL, nothing when nothing changed.
func TestRestorePropagation(t *testing.T) {
	p := string(rdb.AppendDumpFooter([]byte("\x00\x05hello"), 0))
	abs := strconv.FormatInt(scriptStart+5000, 10)
	for _, tc := range []struct {
		name   string
		exists bool
		args   []string
		want   []string // nil: nothing recorded
	}{
		{"no ttl", false, []string{"RESTORE", "k", "0", p}, []string{"RESTORE", "k", "0", p}},
		{"relative ttl", false, []string{"RESTORE", "k", "5000", p},
			[]string{"RESTORE", "k", abs, p, "ABSTTL"}},
		{"relative ttl with options", true, []string{"RESTORE", "k", "5000", p, "REPLACE", "IDLETIME", "10"},
			[]string{"RESTORE", "k", abs, p, "REPLACE", "IDLETIME", "10", "ABSTTL"}},
		{"absolute ttl", false, []string{"RESTORE", "k", abs, p, "ABSTTL"}, []string{"RESTORE", "k", abs, p, "ABSTTL"}},
		{"past ttl replacing", true, []string{"RESTORE", "k", "1", p, "ABSTTL", "REPLACE"}, []string{"DEL", "k"}},
		{"past ttl, nothing there", false, []string{"RESTORE", "k", "1", p, "ABSTTL"}, nil},
		{"busy key", true, []string{"RESTORE", "k", "0", p}, nil},
	} {
		sc := newShardConn(t)
		if tc.exists {
			sc.run("SET", "k", "old")
		}
		sc.s.prop.on = true
		sc.s.aof.selected = true
		sc.c.Out = sc.c.Out[:0]
		sc.s.Exec(sc.c, argv(tc.args...))
		var want []byte
		if tc.want != nil {
			want = appendCommand(nil, argv(tc.want...))
		}
		if got := sc.s.aof.buf; string(got) != string(want) {
			t.Errorf("%s: recorded %q, want %q (reply %q)", tc.name, got, want, sc.c.Out)
		}
	}
}

// TestRestoreKeyState checks the key RESTORE makes: expire time, access
// clock, and that REPLACE takes an expired key as deleted.
func TestRestoreKeyState(t *testing.T) {
	p := string(rdb.AppendDumpFooter([]byte("\x00\x05hello"), 0))
	sc := newShardConn(t)
	sc.run("RESTORE", "k", "5000", p, "IDLETIME", "30")
	r := sc.s.db.Find([]byte("k"))
	if got := sc.s.db.Expire(r); got != scriptStart+5000 {
		t.Errorf("expire %d, want %d", got, scriptStart+5000)
	}
	if got := sc.s.idleSeconds(r); got != 30 {
		t.Errorf("idle %d, want 30", got)
	}
	sc.run("SET", "e", "v", "PX", "10")
	sc.now += 100
	before := sc.s.Stats.ExpiredKeys
	sc.run("RESTORE", "e", "0", p, "REPLACE")
	if sc.run("GET", "e")[0] != "hello" || sc.s.Stats.ExpiredKeys != before {
		t.Errorf("REPLACE of an expired key: %q, expired keys %d -> %d", sc.run("GET", "e"), before, sc.s.Stats.ExpiredKeys)
	}
	if r := sc.s.db.Find([]byte("e")); sc.s.db.Expire(r) != kv.NoExpire {
		t.Error("the restored key kept the old expire time")
	}
}
