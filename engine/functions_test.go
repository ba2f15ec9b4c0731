package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testLibA = "#!lua name=liba\nredis.register_function{function_name='fa', callback=function(keys, args) return redis.call('incrby', keys[1], args[1]) end, flags={'allow-oom'}, description='adds'}"
	testLibB = "#!lua name=libb\nredis.register_function('fb', function(keys, args) return 'b' end)"
)

// funcRun runs one command given as its arguments and lets the AOF write
// what it recorded.
func funcRun(t *testing.T, s *Shard, c *Client, args ...string) string {
	t.Helper()
	v := exec(t, s, c, args...)
	s.AOFTurn()
	s.AOFFlushSync(false)
	if v.Type == '-' {
		return "-" + string(v.Str)
	}
	return string(v.Str)
}

// libraries renders FUNCTION LIST WITHCODE.
func libraries(t *testing.T, s *Shard, c *Client) string {
	t.Helper()
	c.Out = c.Out[:0]
	s.Exec(c, [][]byte{[]byte("FUNCTION"), []byte("LIST"), []byte("WITHCODE")})
	return string(c.Out)
}

// TestFunctionsAOF checks that the libraries are part of the data set the
// AOF keeps: FUNCTION LOAD, DELETE, FLUSH and RESTORE are recorded and
// replayed, FLUSHALL keeps the libraries, and a rewrite (with and without
// an RDB preamble) writes every library into the new base, so that they
// survive it and a reload.
func TestFunctionsAOF(t *testing.T) {
	for _, preamble := range []bool{false, true} {
		name := "aof"
		if preamble {
			name = "rdb-preamble"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			now := scriptStart
			a := aofShardWith(t, dir, &now, func(cfg *Config) { cfg.AOFUseRDBPreamble = preamble })
			c := a.NewClient()
			if got := funcRun(t, a, c, "FUNCTION", "LOAD", testLibA); got != "liba" {
				t.Fatalf("FUNCTION LOAD: %q", got)
			}
			funcRun(t, a, c, "FUNCTION", "LOAD", testLibB)
			funcRun(t, a, c, "FUNCTION", "LOAD", "#!lua name=gone\nredis.register_function('fg', function() return 1 end)")
			funcRun(t, a, c, "FUNCTION", "DELETE", "gone")
			funcRun(t, a, c, "FCALL", "fa", "1", "counter", "5")
			funcRun(t, a, c, "FLUSHALL")
			funcRun(t, a, c, "FCALL", "fa", "1", "counter", "7")
			if got := funcRun(t, a, c, "FCALL", "fb", "0"); got != "b" {
				t.Fatalf("FCALL fb: %q", got)
			}

			if v := exec(t, a, c, "BGREWRITEAOF"); string(v.Str) != "Background append only file rewriting started" {
				t.Fatalf("BGREWRITEAOF: %+v", v)
			}
			deadline := time.Now().Add(20 * time.Second)
			for a.aof.rw != nil {
				if time.Now().After(deadline) {
					t.Fatal("rewrite does not finish")
				}
				a.AOFTurn()
				a.AOFFlushSync(false)
				if a.aof.rw != nil && a.aof.rw.syncing != nil {
					time.Sleep(100 * time.Microsecond)
				}
			}
			if a.rwStat.rewrites != 1 || !a.rwStat.lastOK {
				t.Fatalf("rewrite failed: %+v", a.rwStat)
			}
			base := readBase(t, dir)
			if !strings.Contains(base, "redis.register_function('fb'") || !strings.Contains(base, "function_name='fa'") {
				t.Errorf("the new base holds no library:\n%q", base)
			}
			if strings.Contains(base, "name=gone") {
				t.Errorf("the new base holds a deleted library:\n%q", base)
			}

			wantLibs := libraries(t, a, c)
			wantData := snapshot(a)
			a.StopPersistence()
			b := aofShardWith(t, dir, &now, func(cfg *Config) { cfg.AOFUseRDBPreamble = preamble })
			cb := b.NewClient()
			if got := libraries(t, b, cb); got != wantLibs {
				t.Errorf("libraries after reload:\n%q\nwant:\n%q", got, wantLibs)
			}
			if got := snapshot(b); got != wantData {
				t.Errorf("data after reload:\n%s\nwant:\n%s", got, wantData)
			}
			if got := funcRun(t, b, cb, "FCALL", "fa", "1", "counter", "1"); got != "" {
				// an integer reply: resp.Value's Str is empty
				t.Errorf("FCALL fa after reload: %q", got)
			}
			if v := exec(t, b, cb, "GET", "counter"); string(v.Str) != "8" {
				t.Errorf("counter after reload and FCALL: %q", v.Str)
			}

			// What follows the rewrite is in the incr file: a FLUSH and a
			// RESTORE of a dump taken before it.
			dump := exec(t, b, cb, "FUNCTION", "DUMP").Str
			funcRun(t, b, cb, "FUNCTION", "FLUSH")
			funcRun(t, b, cb, "FUNCTION", "RESTORE", string(dump))
			funcRun(t, b, cb, "FUNCTION", "DELETE", "libb")
			want := libraries(t, b, cb)
			b.StopPersistence()
			d := aofShardWith(t, dir, &now, func(cfg *Config) { cfg.AOFUseRDBPreamble = preamble })
			defer d.StopPersistence()
			d.Config.EnableDebugCommand = "yes"
			cd := d.NewClient()
			if got := libraries(t, d, cd); got != want || strings.Contains(got, "libb") || !strings.Contains(got, "liba") {
				t.Errorf("libraries after FLUSH, RESTORE and DELETE and a reload:\n%q\nwant:\n%q", got, want)
			}
			// DEBUG LOADAOF empties the data set, libraries included, and
			// loads the AOF again.
			if v := exec(t, d, cd, "DEBUG", "LOADAOF"); string(v.Str) != "OK" {
				t.Errorf("DEBUG LOADAOF: %+v", v)
			}
			if got := libraries(t, d, cd); got != want {
				t.Errorf("libraries after DEBUG LOADAOF:\n%q\nwant:\n%q", got, want)
			}
		})
	}
}

// readBase returns the content of the base file the AOF directory's
// manifest names.
func readBase(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".manifest") {
			continue
		}
		m, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(m), "\n") {
			f := strings.Fields(line)
			if len(f) >= 6 && f[0] == "file" && f[4] == "type" && f[5] == "b" {
				b, err := os.ReadFile(filepath.Join(dir, f[1]))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
		}
	}
	t.Fatalf("no manifest naming a base in %s", dir)
	return ""
}

// TestFunctionsDirty checks that the commands changing the libraries count
// as changes (INFO's rdb_changes_since_last_save, what the AOF records)
// and those that fail do not.
func TestFunctionsDirty(t *testing.T) {
	s := NewShard(DefaultConfig())
	c := s.NewClient()
	for _, tc := range []struct {
		args  []string
		dirty int64
	}{
		{[]string{"FUNCTION", "LOAD", testLibB}, 1},
		{[]string{"FUNCTION", "LOAD", testLibB}, 0},
		{[]string{"FUNCTION", "LOAD", "REPLACE", testLibB}, 1},
		{[]string{"FUNCTION", "DELETE", "nope"}, 0},
		{[]string{"FUNCTION", "DELETE", "libb"}, 1},
		{[]string{"FUNCTION", "FLUSH"}, 1},
		{[]string{"FUNCTION", "LIST"}, 0},
		{[]string{"FUNCTION", "RESTORE", "bad"}, 0},
	} {
		before := s.dirty
		exec(t, s, c, tc.args...)
		if got := s.dirty - before; got != tc.dirty {
			t.Errorf("%q: dirty grew by %d, want %d", tc.args, got, tc.dirty)
		}
	}
}

// TestFunctionsScriptFlushKeepsThem checks that the functions' Lua state
// is not EVAL's: SCRIPT FLUSH leaves the libraries callable.
func TestFunctionsScriptFlushKeepsThem(t *testing.T) {
	s := NewShard(DefaultConfig())
	c := s.NewClient()
	exec(t, s, c, "FUNCTION", "LOAD", testLibB)
	exec(t, s, c, "EVAL", "return 1", "0")
	exec(t, s, c, "SCRIPT", "FLUSH")
	if v := exec(t, s, c, "FCALL", "fb", "0"); string(v.Str) != "b" {
		t.Errorf("FCALL after SCRIPT FLUSH: %+v", v)
	}
	info := exec(t, s, c, "INFO", "memory").Str
	for _, want := range []string{"number_of_functions:1\r\n", "number_of_libraries:1\r\n", "used_memory_functions:", "used_memory_vm_functions:"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("INFO memory lacks %q", want)
		}
	}
}

// TestFunctionLoadTimeout checks that a library whose body does not end
// is stopped, as Redis's 500 ms limit.
func TestFunctionLoadTimeout(t *testing.T) {
	s := NewShard(DefaultConfig())
	c := s.NewClient()
	v := exec(t, s, c, "FUNCTION", "LOAD", "#!lua name=loop\nwhile true do end")
	if string(v.Str) != "ERR Error registering functions: ERR FUNCTION LOAD timeout" {
		t.Errorf("FUNCTION LOAD of an endless body: %+v", v)
	}
	if v := exec(t, s, c, "FUNCTION", "LOAD", testLibB); string(v.Str) != "libb" {
		t.Errorf("FUNCTION LOAD after a timeout: %+v", v)
	}
	if v := exec(t, s, c, "FCALL", "fb", "0"); string(v.Str) != "b" {
		t.Errorf("FCALL after a timeout: %+v", v)
	}
}
