package engine

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newSlowlogTest is a blockTest whose clients have addresses, with the
// slow log logging every command.
func newSlowlogTest(t *testing.T) *blockTest {
	bt := newBlockTest(t)
	for i, name := range []string{"a", "b"} {
		bt.client(name).Addr = "127.0.0.1:" + strconv.Itoa(50000+i)
	}
	bt.s.Config.EnableDebugCommand = "yes"
	bt.do("a", "CONFIG SET slowlog-log-slower-than 0")
	bt.do("a", "SLOWLOG RESET")
	return bt
}

// slowlogLines are the slow log's entries, newest first, as id, time,
// arguments, address and name (without the duration).
func slowlogLines(s *Shard) []string {
	var out []string
	for i := 0; i < s.slow.n; i++ {
		e := s.slowlogNewest(i)
		var args []string
		for _, a := range e.argv {
			args = append(args, string(a))
		}
		out = append(out, strconv.FormatInt(e.id, 10)+" "+strconv.FormatInt(e.time, 10)+" ["+
			strings.Join(args, " ")+"] "+e.addr+" "+e.name)
	}
	return out
}

func checkSlowlog(t *testing.T, s *Shard, want ...string) {
	t.Helper()
	got := slowlogLines(s)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("slow log:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestSlowlogDefaults(t *testing.T) {
	cfg := DefaultConfig()
	if cfg.SlowlogLogSlowerThan != 10000 || cfg.SlowlogMaxLen != 128 {
		t.Errorf("defaults: slowlog-log-slower-than %d, slowlog-max-len %d", cfg.SlowlogLogSlowerThan, cfg.SlowlogMaxLen)
	}
	cfg, err := ParseArgs([]string{"--slowlog-log-slower-than", "-1", "--slowlog-max-len", "7"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SlowlogLogSlowerThan != -1 || cfg.SlowlogMaxLen != 7 {
		t.Errorf("from arguments: slowlog-log-slower-than %d, slowlog-max-len %d", cfg.SlowlogLogSlowerThan, cfg.SlowlogMaxLen)
	}
	if s := NewShard(cfg); s.slow.trigger != math.MaxInt64 {
		t.Errorf("a shard started with the log off looks at commands from %d us", s.slow.trigger)
	}
	if _, err := ParseArgs([]string{"--slowlog-log-slower-than", "-2"}); err == nil ||
		!strings.Contains(err.Error(), "argument must be between -1 and 9223372036854775807 inclusive") {
		t.Errorf("--slowlog-log-slower-than -2: %v", err)
	}
	help := ConfigHelp("")
	for _, want := range []string{"--slowlog-log-slower-than", "[10000]", "--slowlog-max-len", "[128]"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

// TestSlowlogEntries: ids count up and go on after SLOWLOG RESET;
// the time is the wall clock's second when the command ended; the
// address and name are the client's.
func TestSlowlogEntries(t *testing.T) {
	bt := newSlowlogTest(t)
	sec := scriptStart / 1000
	bt.do("a", "CLIENT SETNAME first")
	bt.now += 2000
	bt.do("b", "SET k v")
	// Id 0 was the CONFIG SET that turned the log on (newSlowlogTest).
	checkSlowlog(t, bt.s,
		"3 "+strconv.FormatInt(sec+2, 10)+" [SET k v] 127.0.0.1:50001 ",
		"2 "+strconv.FormatInt(sec, 10)+" [CLIENT SETNAME first] 127.0.0.1:50000 first",
		"1 "+strconv.FormatInt(sec, 10)+" [SLOWLOG RESET] 127.0.0.1:50000 ")
	bt.do("a", "SLOWLOG RESET")
	checkSlowlog(t, bt.s, "4 "+strconv.FormatInt(sec+2, 10)+" [SLOWLOG RESET] 127.0.0.1:50000 first")

	// SLOWLOG GET's reply, in full. The CONFIG SET that turns the log
	// off is not logged.
	bt.do("a", "CONFIG SET slowlog-log-slower-than -1")
	want := `\[\[:4 :` + strconv.FormatInt(sec+2, 10) + ` :\d+ \["SLOWLOG" "RESET"\] "127.0.0.1:50000" "first"\]\]`
	if got := bt.do("a", "SLOWLOG GET"); !matchRe(got, want) {
		t.Errorf("SLOWLOG GET: %s, want %s", got, want)
	}
}

func matchRe(s, re string) bool { return regexp.MustCompile("^" + re + "$").MatchString(s) }

// TestSlowlogDuration: the duration is the command's, in microseconds,
// and the threshold compares with it (>=).
func TestSlowlogDuration(t *testing.T) {
	bt := newSlowlogTest(t)
	bt.do("a", "CONFIG SET slowlog-log-slower-than 20000")
	bt.do("a", "SLOWLOG RESET")
	bt.do("a", "DEBUG SLEEP 0")
	bt.do("a", "DEBUG SLEEP 0.03")
	if bt.s.slow.n != 1 {
		t.Fatalf("%d entries, want DEBUG SLEEP 0.03's", bt.s.slow.n)
	}
	e := bt.s.slowlogNewest(0)
	if e.usec < 30000 || e.usec > 30000+int64(time.Second/time.Microsecond) {
		t.Errorf("DEBUG SLEEP 0.03 took %d us", e.usec)
	}
	if string(e.argv[2]) != "0.03" {
		t.Errorf("logged %q", e.argv)
	}
}

// TestSlowlogMaxLen: the ring keeps the newest entries in order across
// its growth and wrapping, and a lower limit cuts the oldest.
func TestSlowlogMaxLen(t *testing.T) {
	bt := newSlowlogTest(t)
	bt.do("a", "CONFIG SET slowlog-max-len 20")
	for i := 0; i < 100; i++ {
		bt.do("a", "SET k "+strconv.Itoa(i))
	}
	if bt.s.slow.n != 20 {
		t.Fatalf("%d entries, want 20", bt.s.slow.n)
	}
	for i := 0; i < 20; i++ {
		e := bt.s.slowlogNewest(i)
		if want := strconv.Itoa(99 - i); string(e.argv[2]) != want || e.id != int64(102-i) {
			t.Fatalf("entry %d: id %d %q, want SET k %s", i, e.id, e.argv, want)
		}
	}
	bt.do("a", "CONFIG SET slowlog-max-len 5")
	if bt.s.slow.n != 5 || string(bt.s.slowlogNewest(0).argv[1]) != "SET" || string(bt.s.slowlogNewest(4).argv[2]) != "96" {
		t.Errorf("after slowlog-max-len 5: %q", slowlogLines(bt.s))
	}
	if bt.s.slow.trigger != 0 {
		t.Errorf("trigger %d after the log was cut, want the threshold", bt.s.slow.trigger)
	}
	// CONFIG RESETSTAT leaves the log alone.
	bt.do("a", "CONFIG RESETSTAT")
	if bt.s.slow.n != 5 {
		t.Errorf("%d entries after CONFIG RESETSTAT", bt.s.slow.n)
	}
}

// TestSlowlogBlocked: a blocked command is logged when served, with the
// time of the call that blocked plus that of the serving run; CLIENT
// UNBLOCK logs it without arguments before its own entry; a timeout or a
// disconnection logs nothing.
func TestSlowlogBlocked(t *testing.T) {
	bt := newSlowlogTest(t)
	bt.do("a", "CONFIG SET slowlog-log-slower-than 40000")
	bt.do("b", "CLIENT SETNAME waiter")
	bt.do("b", "BLPOP q 0")
	bt.client("b").blk.usec = 50000 // as if the blocking call had taken 50 ms
	bt.do("a", "RPUSH q x")
	if got := bt.out("b"); got != `["q" "x"]` {
		t.Fatalf("BLPOP: %s", got)
	}
	if bt.s.slow.n != 2 {
		t.Fatalf("slow log %q, want BLPOP's entry after SLOWLOG RESET's", slowlogLines(bt.s))
	}
	if e := bt.s.slowlogNewest(0); e.usec < 50000 || e.name != "waiter" || len(e.argv) != 3 || string(e.argv[0]) != "BLPOP" {
		t.Errorf("served: %d us %q %q", e.usec, e.argv, e.name)
	}

	bt.do("a", "CONFIG SET slowlog-log-slower-than 0")
	bt.do("a", "SLOWLOG RESET")
	bt.do("b", "BLPOP q 0")
	bt.do("a", "CLIENT UNBLOCK "+strconv.FormatUint(bt.client("b").ID, 10))
	if got := bt.out("b"); got != "(nil-array)" {
		t.Fatalf("unblocked BLPOP: %s", got)
	}
	checkSlowlog(t, bt.s,
		"6 1700000000 [CLIENT UNBLOCK 2] 127.0.0.1:50000 ",
		"5 1700000000 [] 127.0.0.1:50001 waiter",
		"4 1700000000 [SLOWLOG RESET] 127.0.0.1:50000 ")

	bt.do("a", "SLOWLOG RESET")
	bt.do("b", "BLPOP q 0.5")
	bt.advance(1000)
	if got := bt.out("b"); got != "(nil-array)" {
		t.Fatalf("timed out BLPOP: %s", got)
	}
	bt.do("b", "BLPOP q 0")
	bt.s.Unregister(bt.client("b"))
	checkSlowlog(t, bt.s, "7 1700000000 [SLOWLOG RESET] 127.0.0.1:50000 ")
}

// TestSlowlogRedactScope: a redaction asked outside call (a command the
// AOF loader runs) hides nothing of the next command, and a fast command
// that redacted leaves the common path as it was.
func TestSlowlogRedactScope(t *testing.T) {
	bt := newSlowlogTest(t)
	loaded := argv("AUTH", "a", "b")
	bt.s.redactArg(loaded, 1)
	bt.do("a", "ECHO a")
	checkSlowlog(t, bt.s,
		"2 1700000000 [ECHO a] 127.0.0.1:50000 ",
		"1 1700000000 [SLOWLOG RESET] 127.0.0.1:50000 ")

	bt.do("a", "CONFIG SET slowlog-log-slower-than 1000000")
	bt.do("a", "AUTH user secret")
	if bt.s.slow.trigger != 1000000 || bt.s.slow.redactArgv != nil {
		t.Errorf("after a fast AUTH: trigger %d, redaction pending %v", bt.s.slow.trigger, bt.s.slow.redactArgv != nil)
	}
	bt.do("b", "BLPOP q 0")
	if bt.s.slow.trigger != 1000000 {
		t.Errorf("after a command blocked: trigger %d", bt.s.slow.trigger)
	}
}

// TestSlowlogNoAllocs: a command faster than the threshold, or with the
// log off, costs the slow log no allocation.
func TestSlowlogNoAllocs(t *testing.T) {
	for _, threshold := range []string{"10000", "-1"} {
		bt := newSlowlogTest(t)
		bt.do("a", "CONFIG SET slowlog-log-slower-than "+threshold)
		c := bt.client("a")
		for _, args := range [][][]byte{argv("PING"), argv("SET", "k", "v"), argv("GET", "k"), argv("INCR", "n")} {
			bt.s.Exec(c, args)
			allocs := testing.AllocsPerRun(200, func() {
				c.Out = c.Out[:0]
				bt.s.Exec(c, args)
			})
			if allocs != 0 {
				t.Errorf("slowlog-log-slower-than %s: %s: %v allocations per run", threshold, args[0], allocs)
			}
		}
		if n := bt.s.slow.n; n != 1 { // CONFIG SET's when it was 0
			t.Errorf("slowlog-log-slower-than %s: %d entries", threshold, n)
		}
	}
	// Logging does allocate: the runs above did not log.
	bt := newSlowlogTest(t)
	c := bt.client("a")
	args := argv("GET", "k")
	if allocs := testing.AllocsPerRun(200, func() {
		c.Out = c.Out[:0]
		bt.s.Exec(c, args)
	}); allocs == 0 {
		t.Errorf("logging GET allocated nothing")
	}
}

func BenchmarkSlowlogLogged(b *testing.B) {
	s := NewShard(nil)
	s.Config.SlowlogLogSlowerThan = 0
	s.slowlogConfigured()
	c := s.NewClient()
	args := argv("SET", "key", "value")
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, args)
	}
}
