package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/engine/internal/hdrhist"
)

func init() {
	// The doctor's advice on transparent huge pages follows the process's
	// mappings; tests see none, so that reports do not depend on the
	// machine (TestLatencyDoctorHugePages sets some).
	anonHugePages = func() int64 { return 0 }
}

// TestLatencyPercentilesInfo records known durations and checks INFO
// latencystats' figures: each is the top of the histogram counter the
// percentile's sample falls in, in microseconds with three decimals.
func TestLatencyPercentilesInfo(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	get := s.cmds.lookupFullName([]byte("get"))
	list := s.cmds.lookupFullName([]byte("client|list"))
	// 0 us is recorded as 1 ns, 1 us in [1000, 1003] ns, 10 ms in
	// [9961472, 10027007] ns.
	for range 98 {
		get.recordLatency(0)
	}
	get.recordLatency(1)
	get.recordLatency(10_000)
	list.recordLatency(1)
	info := string(exec(t, s, c, "INFO", "latencystats").Str)
	want := "# Latencystats\r\n" +
		"latency_percentiles_usec_client|list:p50=1.003,p99=1.003,p99.9=1.003\r\n" +
		"latency_percentiles_usec_get:p50=0.001,p99=1.003,p99.9=10027.007\r\n"
	if info != want {
		t.Errorf("INFO latencystats:\n%q\nwant\n%q", info, want)
	}
	exec(t, s, c, "CONFIG", "SET", "latency-tracking-info-percentiles", "0 98.5 100 33.333")
	info = string(exec(t, s, c, "INFO", "latencystats").Str)
	if !strings.Contains(info, "latency_percentiles_usec_get:p0=0.001,p98.5=1.003,p100=10027.007,p33.333=0.001\r\n") {
		t.Errorf("INFO latencystats with other percentiles:\n%s", info)
	}
	// The INFO commands themselves and CONFIG SET are tracked too.
	for _, name := range []string{"info", "config|set"} {
		if !strings.Contains(info, "latency_percentiles_usec_"+name+":") {
			t.Errorf("INFO latencystats has no line for %s:\n%s", name, info)
		}
	}
	exec(t, s, c, "CONFIG", "SET", "latency-tracking", "no")
	if info = string(exec(t, s, c, "INFO", "latencystats").Str); info != "# Latencystats\r\n" {
		t.Errorf("INFO latencystats with tracking off: %q", info)
	}
}

// TestLatencyHistogramReply checks LATENCY HISTOGRAM's buckets for known
// durations: cumulative counts per power of two of microseconds, each
// bucket named by the top of the counter that closes it.
func TestLatencyHistogramReply(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	get := s.cmds.lookupFullName([]byte("get"))
	for _, us := range []int64{0, 0, 1, 2, 3, 700, 10_000, 2_000_000} {
		get.recordLatency(us)
	}
	got := execLine(t, s, c, "LATENCY", "HISTOGRAM", "get")
	want := `["get" ["calls" :8 "histogram_usec" [:1 :3 :2 :4 :4 :5 :1056 :6 :16908 :7 :1073741 :8]]]`
	if got != want {
		t.Errorf("LATENCY HISTOGRAM get:\n got %s\nwant %s", got, want)
	}
	exec(t, s, c, "HELLO", "3")
	got = execLine(t, s, c, "LATENCY", "HISTOGRAM", "GET")
	want = `{"get": {"calls": :8, "histogram_usec": {:1: :3, :2: :4, :4: :5, :1056: :6, :16908: :7, :1073741: :8}}}`
	if got != want {
		t.Errorf("LATENCY HISTOGRAM in RESP3:\n got %s\nwant %s", got, want)
	}
	// With no name: every command with a histogram, by full name.
	exec(t, s, c, "CLIENT", "ID")
	v := exec(t, s, c, "LATENCY", "HISTOGRAM")
	var names []string
	for i := 0; i < len(v.Elems); i += 2 {
		names = append(names, string(v.Elems[i].Str))
	}
	if g := strings.Join(names, " "); g != "client|id get hello latency|histogram" {
		t.Errorf("LATENCY HISTOGRAM lists %s", g)
	}
	exec(t, s, c, "CONFIG", "RESETSTAT")
	if got := execLine(t, s, c, "LATENCY", "HISTOGRAM", "get"); got != "{}" {
		t.Errorf("after CONFIG RESETSTAT: %s", got)
	}
}

// TestLatencyTrackingAllocs: with the histograms made, recording a
// command allocates nothing, with the monitor off or on.
func TestLatencyTrackingAllocs(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	c.Out = make([]byte, 0, 4096)
	cmds := [][][]byte{argv("PING"), argv("SET", "k", "v"), argv("GET", "k"), argv("CLIENT", "ID")}
	for _, threshold := range []string{"0", "1000"} {
		exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", threshold)
		for _, a := range cmds {
			n := testing.AllocsPerRun(200, func() {
				c.Out = c.Out[:0]
				s.Exec(c, a)
				s.Pending = s.Pending[:0]
				c.Dequeued()
			})
			if n != 0 {
				t.Errorf("threshold %s: %s allocates %.1f times per call", threshold, a[0], n)
			}
		}
	}
	if h := s.cmds.lookupFullName([]byte("ping")).lat; h == nil || h.Total() < 400 {
		t.Errorf("PING's histogram: %v", h)
	}
	if n := testing.AllocsPerRun(1000, func() { s.commandLatency(c, s.cmds.lookupFullName([]byte("get")), 12) }); n != 0 {
		t.Errorf("commandLatency allocates %.1f times", n)
	}
}

// TestLatencyBlocked: a blocking command is recorded when served or
// unblocked by CLIENT UNBLOCK, with the time its first run took; not when
// it times out or its client leaves, as in Redis 7.0.
func TestLatencyBlocked(t *testing.T) {
	bt := newBlockTest(t)
	calls := func() int64 {
		if h := bt.s.cmds.lookupFullName([]byte("blpop")).lat; h != nil {
			return h.Total()
		}
		return 0
	}
	bt.do("a", "BLPOP l 0")
	bt.expect("recorded while blocked", calls(), int64(0))
	bt.do("b", "RPUSH l x")
	bt.expect("recorded once served", calls(), int64(1))
	bt.do("a", "BLPOP l 1")
	bt.advance(2000)
	bt.expect("timed out: no record", calls(), int64(1))
	bt.out("a")
	bt.do("a", "BLPOP l 0")
	id := bt.client("a").ID
	bt.expect("CLIENT UNBLOCK", bt.do("b", "CLIENT UNBLOCK "+strconv.FormatUint(id, 10)), ":1")
	bt.expect("recorded once unblocked", calls(), int64(2))
	bt.do("c", "BLPOP l 0")
	bt.s.Unregister(bt.client("c"))
	bt.expect("disconnected: no record", calls(), int64(2))
	bt.do("a", "CONFIG SET latency-tracking no")
	bt.do("a", "BLPOP l 0")
	bt.do("b", "RPUSH l y")
	bt.expect("tracking off when served", calls(), int64(2))
}

// TestLatencyMonitorSamples: one sample a second (the largest), 160 kept,
// the all-time maximum, "fast-command" for fast commands, the threshold.
func TestLatencyMonitorSamples(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	get := s.cmds.lookupFullName([]byte("get"))
	set := s.cmds.lookupFullName([]byte("set"))
	s.commandLatency(c, set, 50_000)
	if got := execLine(t, s, c, "LATENCY", "LATEST"); got != "[]" {
		t.Errorf("monitor off: LATEST %s", got)
	}
	exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", "20")
	s.commandLatency(c, set, 19_999) // 19 ms: under the threshold
	s.commandLatency(c, set, 30_999)
	s.commandLatency(c, set, 25_000) // same second: the larger one stays
	s.commandLatency(c, get, 20_000) // fast
	now += 1000
	s.commandLatency(c, set, 40_000)
	if got, want := execLine(t, s, c, "LATENCY", "HISTORY", "command"), "[[:1700000000 :30] [:1700000001 :40]]"; got != want {
		t.Errorf("HISTORY command %s, want %s", got, want)
	}
	if got, want := execLine(t, s, c, "LATENCY", "LATEST"), `[["command" :1700000001 :40 :40] ["fast-command" :1700000000 :20 :20]]`; got != want {
		t.Errorf("LATEST %s, want %s", got, want)
	}
	for i := range 200 {
		now += 1000
		s.addLatencySample(eventCommand, int64(100+i))
	}
	v := exec(t, s, c, "LATENCY", "HISTORY", "command")
	if len(v.Elems) != latencyHistoryLen {
		t.Fatalf("%d samples kept", len(v.Elems))
	}
	if first, last := renderReply(&v.Elems[0]), renderReply(&v.Elems[159]); first != "[:1700000042 :140]" || last != "[:1700000201 :299]" {
		t.Errorf("oldest %s, latest %s", first, last)
	}
	s.addLatencySample(eventCommand, 5)
	if got := execLine(t, s, c, "LATENCY", "LATEST"); !strings.HasPrefix(got, `[["command" :1700000201 :299 :299]`) {
		t.Errorf("LATEST after a smaller sample in the same second: %s", got)
	}
	if got := execLine(t, s, c, "LATENCY", "RESET", "FAST-COMMAND", "fast-command", "x"); got != ":1" {
		t.Errorf("RESET %s", got)
	}
	if got := execLine(t, s, c, "LATENCY", "RESET"); got != ":1" {
		t.Errorf("RESET all %s", got)
	}
	// A new class starts afresh: its maximum too.
	s.addLatencySample(eventCommand, 7)
	if got, want := execLine(t, s, c, "LATENCY", "LATEST"), `[["command" :1700000201 :7 :7]]`; got != want {
		t.Errorf("LATEST after RESET %s, want %s", got, want)
	}
}

// TestLatencyGraphDoctor compares GRAPH and DOCTOR with what Redis 7.0.15
// replied for the same samples (20, 50, 34, 2, 90 and 11 ms a second
// apart, asked 7 s after the first).
func TestLatencyGraphDoctor(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	// 10 ms: no advice on slowlog-log-slower-than at its default.
	exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", "10")
	for _, ms := range []int64{20, 50, 34, 2, 90, 11} {
		s.addLatencySample(eventCommand, ms)
		now += 1000
	}
	now += 1000
	graph := string(exec(t, s, c, "LATENCY", "GRAPH", "command").Str)
	want := "command - high 90 ms, low 2 ms (all time high 90 ms)\n" +
		strings.Repeat("-", 80) + "\n" +
		"    # \n" +
		" _  | \n" +
		" |o | \n" +
		"#||_|o\n" +
		"      \n" +
		"765432\n" +
		"ssssss\n"
	if graph != want {
		t.Errorf("GRAPH:\n%s\nwant\n%s", graph, want)
	}
	doctor := string(exec(t, s, c, "LATENCY", "DOCTOR").Str)
	want = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n" +
		"1. command: 6 latency spikes (average 34ms, mean deviation 23ms, period 1.17 sec). Worst all time event 90ms.\n" +
		"\nI have a few advices for you:\n\n" +
		"- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n" +
		"- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n"
	if doctor != want {
		t.Errorf("DOCTOR:\n%s\nwant\n%s", doctor, want)
	}

	// More than 80 samples: blocks of 80 columns, an empty line between.
	// Labels count minutes, hours, days.
	exec(t, s, c, "LATENCY", "RESET")
	for i := range 100 {
		s.addLatencySample(eventExpireCycle, int64(10+i%7))
		now += 1000
	}
	graph = string(exec(t, s, c, "LATENCY", "GRAPH", "expire-cycle").Str)
	lines := strings.Split(graph, "\n")
	if len(lines) != 2+8+1+8+1 || len(lines[2]) != 80 || len(lines[11]) != 20 || lines[10] != "" {
		t.Errorf("GRAPH of 100 samples:\n%s", graph)
	}
	if got := lines[7] + "|" + lines[8]; !strings.HasPrefix(got, "1111111111111111111111111111111111111111") {
		t.Errorf("labels of samples 100 to 60 s old: %q", got)
	}
	for secs, want := range map[int64]string{0: "0s", 59: "59s", 60: "1m", 3599: "59m", 3600: "1h", 86399: "23h", 86400: "1d", 10 * 86400: "10d"} {
		if got := agoLabel(secs); got != want {
			t.Errorf("agoLabel(%d) = %s, want %s", secs, got, want)
		}
	}
}

// TestLatencyDoctorAdvice: the advice each class brings, with Redis's
// conditions on hz and appendfsync, and the huge pages check.
func TestLatencyDoctorAdvice(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", "100")
	doctor := func() string { return string(exec(t, s, c, "LATENCY", "DOCTOR").Str) }
	if got := doctor(); !strings.HasPrefix(got, "Dave, no latency spike was observed") {
		t.Errorf("no event: %s", got)
	}
	for _, ev := range []string{eventFastCommand, eventAOFPendingSync, eventAOFActiveChild, eventAOFAlone, eventAOFSyncAlways, eventExpireCycle, eventAOFWrite} {
		s.addLatencySample(ev, 150)
	}
	got := doctor()
	for _, want := range []string{
		"2. aof-write-pending-fsync: 1 latency spikes (average 150ms, mean deviation 0ms, period 1.00 sec). Worst all time event 150ms.\n",
		"7. aof-write: 1 latency spikes",
		"- The system is slow to execute Redis code paths",
		"- It is strongly advised to use local disks",
		"- SSD disks are able to reduce fsync latency",
		"- Mounting ext3/4 filesystems with data=writeback",
		"- Try to lower the disk contention.",
		"- Assuming from the point of view of data safety",
		"- In order to make the Redis keys expiring process more incremental",
		"- Deleting, expiring or evicting",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("DOCTOR lacks %q:\n%s", want, got)
		}
	}
	for _, absent := range []string{"Your fsync policy is set to 'always'", "anonymous huge pages", "Slow Log"} {
		if strings.Contains(got, absent) {
			t.Errorf("DOCTOR says %q:\n%s", absent, got)
		}
	}
	s.Config.AppendFsync, s.Config.Hz = "always", 100
	got = doctor()
	if !strings.Contains(got, "Your fsync policy is set to 'always'") || strings.Contains(got, "'hz'") {
		t.Errorf("DOCTOR with appendfsync always and hz 100:\n%s", got)
	}

	exec(t, s, c, "LATENCY", "RESET")
	s.addLatencySample(eventAOFWrite, 150)
	if got := doctor(); !strings.Contains(got, "While there are latency events logged, I'm not able to suggest any easy fix.") {
		t.Errorf("DOCTOR with an event that brings no advice:\n%s", got)
	}
}

func TestLatencyDoctorHugePages(t *testing.T) {
	defer func(f func() int64) { anonHugePages = f }(anonHugePages)
	anonHugePages = func() int64 { return 2048 }
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", "100")
	got := string(exec(t, s, c, "LATENCY", "DOCTOR").Str)
	if !strings.HasPrefix(got, "\nI have a few advices for you:\n\n- I detected a non zero amount of anonymous huge pages") {
		t.Errorf("DOCTOR with huge pages:\n%s", got)
	}
	if n := readAnonHugePages(); n < 0 {
		t.Errorf("readAnonHugePages = %d", n)
	}
}

// TestLatencyAOFAndExpireEvents: the loop's AOF writes are told apart by
// what runs beside them, the fsync of appendfsync always and the expiry
// cycle are sampled, and nothing is timed with the monitor off.
func TestLatencyAOFAndExpireEvents(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	if s.latencyStart() != 0 {
		t.Error("the monitor is off but latencyStart read the clock")
	}
	exec(t, s, c, "CONFIG", "SET", "latency-monitor-threshold", "1")
	long := func() int64 { return nanotime() - 3e6 } // a write that began 3 ms ago
	s.aofWriteLatency(long())
	s.aof.syncInflight = true
	s.aofWriteLatency(long())
	s.aof.syncInflight = false
	s.aof.rw = &aofRewrite{}
	s.aofWriteLatency(long())
	s.aof.rw = nil
	s.latencyEnd(eventAOFSyncAlways, long())
	s.aofWriteLatency(nanotime()) // under the threshold
	var names []string
	for _, ev := range s.lat.events {
		if ev.name != eventCommand { // CONFIG SET itself may take past 1 ms on a slow host
			names = append(names, ev.name)
		}
	}
	want := "aof-write-alone aof-write aof-write-pending-fsync aof-write-active-child aof-fsync-always"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
	if ev := s.latencyEvent(eventAOFWrite); ev == nil || ev.max < 3 {
		t.Errorf("aof-write: %+v", ev)
	}

	// An active expiry cycle that deletes many keys takes past 1 ms.
	exec(t, s, c, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	for i := range 200_000 {
		s.Exec(c, argv("SET", "k"+strconv.Itoa(i), "v", "PX", "1"))
	}
	c.Out = c.Out[:0]
	exec(t, s, c, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	now += 10
	s.Tick()
	deadline := time.Now().Add(10 * time.Second)
	for s.db.Len() > 0 && time.Now().Before(deadline) {
		s.ActiveExpire(1e9)
	}
	if s.latencyEvent(eventExpireCycle) == nil {
		t.Errorf("no expire-cycle event; events %v", names)
	}
}

func TestLatencyPercentilesParam(t *testing.T) {
	cfg, err := ParseArgs([]string{"--latency-tracking-info-percentiles", "1", "99.5", "--latency-monitor-threshold", "25", "--latency-tracking", "no"})
	if err != nil {
		t.Fatal(err)
	}
	if got := formatPercentiles(cfg.LatencyTrackingPercentiles); got != "1 99.5" || cfg.LatencyMonitorThreshold != 25 || cfg.LatencyTracking {
		t.Errorf("parsed %s %d %v", got, cfg.LatencyMonitorThreshold, cfg.LatencyTracking)
	}
	if cfg, err = ParseArgs([]string{"--latency-tracking-info-percentiles", "50 90"}); err != nil || formatPercentiles(cfg.LatencyTrackingPercentiles) != "50 90" {
		t.Errorf("one word: %v %v", cfg, err)
	}
	if _, err = ParseArgs([]string{"--latency-tracking-info-percentiles", "50", "x"}); err == nil {
		t.Error("x accepted")
	}
	for p, want := range map[float64]string{50: "50", 99.9: "99.9", 0: "0", 100: "100", 0.0000004: "0", 12.5: "12.5", 99.99999: "99.99999"} {
		if got := string(appendPercentile(nil, p)); got != want {
			t.Errorf("appendPercentile(%v) = %s, want %s", p, got, want)
		}
	}
	var h hdrhist.Hist
	if h.Total() != 0 {
		t.Error("empty histogram counts")
	}
}

// BenchmarkLatencyTracking is PING through Exec with latency tracking on
// and off: the difference is what recording costs per command.
func BenchmarkLatencyTracking(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			now := scriptStart
			s := newTestShard(&now)
			s.Config.LatencyTracking = on
			c := s.NewClient()
			c.Out = make([]byte, 0, 4096)
			a := argv("PING")
			b.ReportAllocs()
			for b.Loop() {
				c.Out = c.Out[:0]
				s.Exec(c, a)
				s.Pending = s.Pending[:0]
				c.Dequeued()
			}
		})
	}
}

// BenchmarkCommandLatency is the recording alone.
func BenchmarkCommandLatency(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	cmd := s.cmds.lookupFullName([]byte("get"))
	us := int64(0)
	for b.Loop() {
		s.commandLatency(c, cmd, us)
		us ^= 3
	}
}

// TestLatencyBlockingInExec: a blocking command inside EXEC does not
// block, so its run is recorded at once, as any command's.
func TestLatencyBlockingInExec(t *testing.T) {
	bt := newBlockTest(t)
	bt.do("a", "MULTI")
	bt.do("a", "BLPOP nokey 0")
	bt.expect("EXEC", bt.do("a", "EXEC"), "[(nil-array)]")
	if out := bt.do("a", "LATENCY HISTOGRAM blpop"); !strings.Contains(out, `"calls" :1`) {
		t.Fatalf("LATENCY HISTOGRAM blpop after BLPOP inside EXEC: %s", out)
	}
}
