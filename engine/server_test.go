package engine

import (
	"errors"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shoal/internal/rlog"
	"shoal/resp"
)

// infoTitles lists the section titles of an INFO text, checking that
// every other line is "field:value" and that sections are separated by
// one empty line.
func infoTitles(t *testing.T, text string) []string {
	t.Helper()
	var titles []string
	field := regexp.MustCompile(`^[a-z0-9_|]+:[^\r\n]*$`)
	for i, sec := range strings.Split(text, "\r\n\r\n") {
		if sec == "" {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(sec, "\r\n"), "\r\n")
		if !strings.HasPrefix(lines[0], "# ") {
			t.Fatalf("section %d starts with %q", i, lines[0])
		}
		titles = append(titles, lines[0][2:])
		for _, l := range lines[1:] {
			if !field.MatchString(l) {
				t.Errorf("section %s: bad line %q", lines[0], l)
			}
		}
	}
	return titles
}

func TestInfoSections(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	defaults := "Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace"
	all := "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Latencystats Cluster Keyspace"
	tests := []struct {
		args []string
		want string
	}{
		{nil, defaults},
		{[]string{"default"}, defaults},
		{[]string{"DEFAULT", "server"}, defaults},
		{[]string{"default", "commandstats"}, "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Cluster Keyspace"},
		{[]string{"all"}, all},
		{[]string{"everything"}, all},
		{[]string{"All", "nosuch", "server"}, all},
		{[]string{"keyspace", "SERVER", "server", "cpu"}, "Server CPU Keyspace"},
		{[]string{"commandstats"}, "Commandstats"},
		{[]string{"latencystats"}, "Latencystats"},
		{[]string{"module_list"}, "Modules"},
		{[]string{"nosuch"}, ""},
	}
	for _, tt := range tests {
		v := exec(t, s, c, append([]string{"INFO"}, tt.args...)...)
		if got := strings.Join(infoTitles(t, string(v.Str)), " "); got != tt.want {
			t.Errorf("INFO %v sections:\n got %s\nwant %s", tt.args, got, tt.want)
		}
	}
	exec(t, s, c, "HELLO", "3")
	if v := exec(t, s, c, "INFO", "server"); v.Type != resp.TypeVerbatim || v.Format != "txt" {
		t.Errorf("INFO in RESP3 is %s", renderReply(&v))
	}
}

// infoFields parses INFO's text into its fields.
func infoFields(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			m[k] = v
		}
	}
	return m
}

func TestInfoCounters(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	s.Info = ServerInfo{IOBackend: "epoll", TCPPort: 7001, Executable: "/usr/bin/shoal", Version: "1.2.3"}
	c := s.NewClient()
	s.NewClient()
	exec(t, s, c, "SET", "a", "1")
	exec(t, s, c, "SET", "b", "2", "PX", "100000")
	exec(t, s, c, "GET", "a")
	exec(t, s, c, "GET", "nosuch")
	exec(t, s, c, "NOSUCHCMD")
	exec(t, s, c, "GET")
	exec(t, s, c, "SELECT", "1")
	f := infoFields(string(exec(t, s, c, "INFO", "everything").Str))
	for k, want := range map[string]string{
		"redis_version":               RedisVersion,
		"shoal_version":               "1.2.3",
		"multiplexing_api":            "epoll",
		"tcp_port":                    "7001",
		"executable":                  "/usr/bin/shoal",
		"process_id":                  strconv.Itoa(os.Getpid()),
		"arch_bits":                   strconv.Itoa(strconv.IntSize),
		"connected_clients":           "2",
		"maxclients":                  "10000",
		"total_connections_received":  "2",
		"total_commands_processed":    "5", // as Redis: rejected commands and this INFO not counted
		"keyspace_hits":               "1",
		"keyspace_misses":             "1",
		"total_error_replies":         "3",
		"errorstat_ERR":               "count=3",
		"cmdstat_get":                 "calls=2,usec=",
		"cmdstat_select":              "calls=1,usec=",
		"db0":                         "keys=2,expires=1,avg_ttl=0",
		"role":                        "master",
		"cluster_enabled":             "0",
		"loading":                     "0",
		"rdb_changes_since_last_save": "2",
	} {
		if got, ok := f[k]; !ok || !strings.HasPrefix(got, want) {
			t.Errorf("INFO %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasSuffix(f["cmdstat_get"], "rejected_calls=1,failed_calls=0") {
		t.Errorf("cmdstat_get = %s", f["cmdstat_get"])
	}
	if !strings.HasSuffix(f["cmdstat_select"], "rejected_calls=0,failed_calls=1") {
		t.Errorf("cmdstat_select = %s", f["cmdstat_select"])
	}
}

func TestConfigResetstat(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	exec(t, s, c, "SET", "a", "1")
	exec(t, s, c, "GET", "a")
	exec(t, s, c, "GET", "b")
	exec(t, s, c, "GET")
	exec(t, s, c, "NOSUCH")
	if got := execLine(t, s, c, "CONFIG", "RESETSTAT"); got != "+OK" {
		t.Fatalf("CONFIG RESETSTAT = %s", got)
	}
	f := infoFields(string(exec(t, s, c, "INFO", "stats", "commandstats", "errorstats").Str))
	for _, k := range []string{"total_connections_received", "keyspace_hits", "keyspace_misses",
		"total_error_replies", "expired_keys", "rejected_connections"} {
		if f[k] != "0" {
			t.Errorf("after RESETSTAT %s = %s", k, f[k])
		}
	}
	if f["total_commands_processed"] != "1" { // INFO itself
		t.Errorf("after RESETSTAT total_commands_processed = %s", f["total_commands_processed"])
	}
	for k := range f {
		if strings.HasPrefix(k, "errorstat_") || k == "cmdstat_get" || k == "cmdstat_set" {
			t.Errorf("after RESETSTAT %s is still reported", k)
		}
	}
	if !strings.HasPrefix(f["cmdstat_config|resetstat"], "calls=1,") {
		t.Errorf("cmdstat_config|resetstat = %q", f["cmdstat_config|resetstat"])
	}
	if got := infoFields(string(exec(t, s, c, "INFO", "keyspace").Str))["db0"]; got != "keys=1,expires=0,avg_ttl=0" {
		t.Errorf("RESETSTAT touched the key space: %s", got)
	}
}

func TestConfigSetRollback(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	t.Cleanup(func() { rlog.Default.SetLevel(rlog.Notice) })
	get := func(name string) string {
		v := exec(t, s, c, "CONFIG", "GET", name)
		if len(v.Elems) != 2 {
			t.Fatalf("CONFIG GET %s = %s", name, renderReply(&v))
		}
		return string(v.Elems[1].Str)
	}
	epoch := s.ConfigEpoch()
	if got := execLine(t, s, c, "CONFIG", "SET", "hz", "20", "timeout", "30", "loglevel", "debug", "proto-max-bulk-len", "2mb"); got != "+OK" {
		t.Fatalf("CONFIG SET = %s", got)
	}
	if s.Config.Hz != 20 || s.Config.Timeout != 30 || s.Config.LogLevel != "debug" || !rlog.Default.Enabled(rlog.Debug) {
		t.Fatalf("config not applied: %+v", s.Config)
	}
	if s.ConfigEpoch() != epoch+1 || s.Config.ParserLimits().MaxBulkLen != 2<<20 {
		t.Errorf("epoch %d (was %d), parser limit %d", s.ConfigEpoch(), epoch, s.Config.ParserLimits().MaxBulkLen)
	}
	before := *s.Config
	failing := [][]string{
		{"hz", "50", "timeout", "-1"},
		{"loglevel", "warning", "hz", "abc"},
		{"timeout", "1", "proto-max-bulk-len", "1k", "hz", "5"},
		{"hz", "50", "port", "1"},
		{"hz", "50", "nosuch", "1"},
		{"loglevel", "notice", "LOGLEVEL", "notice"},
	}
	for _, pairs := range failing {
		if got := execLine(t, s, c, append([]string{"CONFIG", "SET"}, pairs...)...); !strings.HasPrefix(got, "-ERR ") {
			t.Errorf("CONFIG SET %v = %s, want an error", pairs, got)
		}
		if !reflect.DeepEqual(*s.Config, before) {
			t.Errorf("CONFIG SET %v changed the config:\n%+v\nwas\n%+v", pairs, *s.Config, before)
		}
		if !rlog.Default.Enabled(rlog.Debug) {
			t.Errorf("CONFIG SET %v changed the log level", pairs)
		}
	}
	if s.ConfigEpoch() != epoch+1 {
		t.Errorf("failed CONFIG SETs moved the epoch to %d", s.ConfigEpoch())
	}
	if get("hz") != "20" || get("timeout") != "30" || get("loglevel") != "debug" {
		t.Errorf("CONFIG GET after failures: hz %s timeout %s loglevel %s", get("hz"), get("timeout"), get("loglevel"))
	}
}

// TestConfigSetApplyRollback makes an apply hook fail (maxclients beyond
// the open files hard limit) after another hook ran, and checks that both
// are rolled back.
func TestConfigSetApplyRollback(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Max > math.MaxUint32/2 {
		t.Skip("no finite open files hard limit")
	}
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	t.Cleanup(func() { rlog.Default.SetLevel(rlog.Notice) })
	tooMany := strconv.FormatUint(lim.Max-reservedFDs+1, 10)
	want := "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with " +
		strconv.FormatUint(lim.Max-reservedFDs, 10)
	before := *s.Config
	if got := execLine(t, s, c, "CONFIG", "SET", "loglevel", "warning", "maxclients", tooMany, "hz", "33"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !reflect.DeepEqual(*s.Config, before) || !rlog.Default.Enabled(rlog.Notice) {
		t.Errorf("not rolled back: %+v", *s.Config)
	}
	ok := strconv.FormatUint(lim.Max-reservedFDs, 10)
	if got := execLine(t, s, c, "CONFIG", "SET", "maxclients", ok); got != "+OK" {
		t.Errorf("CONFIG SET maxclients %s = %s", ok, got)
	}
}

func TestConfigSetDir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	dir := t.TempDir()
	now := scriptStart
	s := newTestShard(&now)
	local := newClientAt(s, "127.0.0.1:5000", "127.0.0.1:6379")
	remote := newClientAt(s, "10.1.2.3:5000", "10.0.0.1:6379")
	protected := "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
	if got := execLine(t, s, local, "CONFIG", "SET", "dir", dir); got != protected {
		t.Errorf("enable-protected-configs no: %s", got)
	}
	s.Config.EnableProtectedConfigs = "local"
	if got := execLine(t, s, remote, "CONFIG", "SET", "dir", dir); got != protected {
		t.Errorf("enable-protected-configs local, remote client: %s", got)
	}
	if got := execLine(t, s, local, "CONFIG", "SET", "dir", dir); got != "+OK" {
		t.Fatalf("enable-protected-configs local, local client: %s", got)
	}
	cur, _ := os.Getwd()
	resolved, _ := filepath.EvalSymlinks(dir)
	if cur != resolved && cur != dir {
		t.Errorf("cwd %s, want %s", cur, dir)
	}
	if got := exec(t, s, local, "CONFIG", "GET", "dir"); len(got.Elems) != 2 || string(got.Elems[1].Str) != cur {
		t.Errorf("CONFIG GET dir = %s", renderReply(&got))
	}
	s.Config.EnableProtectedConfigs = "yes"
	missing := filepath.Join(dir, "missing")
	want := "-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
	if got := execLine(t, s, remote, "CONFIG", "SET", "dir", missing, "timeout", "9"); got != want {
		t.Errorf("missing dir: %s", got)
	}
	if now, _ := os.Getwd(); now != cur || s.Config.Timeout != 0 || s.Config.Dir != dir {
		t.Errorf("failed dir change left cwd %s timeout %d dir %s", now, s.Config.Timeout, s.Config.Dir)
	}
}

func TestConfigGetAll(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	v := exec(t, s, c, "CONFIG", "GET", "*")
	if len(v.Elems) != 2*len(params) {
		t.Fatalf("CONFIG GET * gave %d elements for %d parameters", len(v.Elems), len(params))
	}
	for i, p := range params {
		if string(v.Elems[2*i].Str) != p.name {
			t.Errorf("CONFIG GET * element %d = %q, want %q", 2*i, v.Elems[2*i].Str, p.name)
		}
	}
	// Every parameter's value, as CONFIG GET writes it, is one CONFIG SET
	// (or the config file) takes back unchanged.
	for _, p := range params {
		cfg := *s.Config
		val := p.get(&cfg)
		if p.name == "dir" || p.immutable {
			continue
		}
		if err := p.set(&cfg, []string{val}); err != nil || p.get(&cfg) != val {
			t.Errorf("%s: value %q does not round-trip: %v, %q", p.name, val, err, p.get(&cfg))
		}
	}
	v = exec(t, s, c, "CONFIG", "GET", "*axc*", "maxclients", "MAXCLIENTS", "[pt]*o*")
	var names []string
	for i := 0; i < len(v.Elems); i += 2 {
		names = append(names, string(v.Elems[i].Str))
	}
	if got := strings.Join(names, " "); got != "maxclients port timeout tcp-backlog proto-max-bulk-len protected-mode" {
		t.Errorf("CONFIG GET patterns gave %s", got)
	}
}

func TestMemtoull(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"b", 0, true}, {"1", 1, true}, {"1b", 1, true},
		{"1k", 1000, true}, {"1K", 1000, true}, {"1kb", 1024, true}, {"1KB", 1024, true},
		{"2m", 2000000, true}, {"2mB", 2 << 20, true}, {"3g", 3e9, true}, {"3Gb", 3 << 30, true},
		{"007", 7, true}, {"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", math.MaxUint64, true}, {"17179869184gb", math.MaxUint64, true},
		{"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1t", 0, false},
		{"1kbb", 0, false}, {"0x10", 0, false}, {"1.5", 0, false}, {strings.Repeat("1", 128), 0, false},
	}
	for _, tt := range tests {
		got, ok := memtoull(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("memtoull(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzMemtoull checks memtoull against a model with unbounded integers.
func FuzzMemtoull(f *testing.F) {
	for _, s := range []string{"0", "1kb", "512mb", "18446744073709551616", "-1", "1gB", "kb"} {
		f.Add(s)
	}
	units := map[string]int64{"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1e6, "mb": 1 << 20, "g": 1e9, "gb": 1 << 30}
	maxU := new(big.Int).SetUint64(math.MaxUint64)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := memtoull(s)
		i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
		if i < 0 {
			i = len(s)
		}
		mul, known := units[strings.ToLower(s[i:])]
		if !known || i >= 128 {
			if ok {
				t.Fatalf("memtoull(%q) accepted", s)
			}
			return
		}
		want := new(big.Int)
		if i > 0 {
			want.SetString(s[:i], 10)
		}
		if want.Cmp(maxU) > 0 {
			want.Set(maxU)
		}
		want.Mul(want, big.NewInt(mul))
		if want.Cmp(maxU) > 0 {
			want.Set(maxU)
		}
		if !ok || got != want.Uint64() {
			t.Fatalf("memtoull(%q) = %d, %v; want %s", s, got, ok, want)
		}
	})
}

// FuzzConfigSet sends CONFIG SET with arbitrary pairs: it never panics,
// and either every pair is applied or the configuration is unchanged.
func FuzzConfigSet(f *testing.F) {
	f.Add("hz", "20", "timeout", "5")
	f.Add("hz", "abc", "timeout", "5")
	f.Add("proto-max-bulk-len", "2mb", "client-query-buffer-limit", "1gb")
	f.Add("maxclients", "0", "hz", "1")
	f.Add("protected-mode", "no", "loglevel", "verbose")
	f.Add("save", "", "HZ", "7")
	f.Add("bind", "1.2.3.4", "io", "epoll")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		now := scriptStart
		s := newTestShard(&now)
		c := s.NewClient()
		for _, n := range []string{n1, n2} {
			if p := findParam(n); p != nil && (p.apply != nil || p.protected) {
				return // hooks with effects outside the shard (log level, rlimit, cwd)
			}
		}
		before := *s.Config
		s.Exec(c, [][]byte{[]byte("CONFIG"), []byte("SET"), []byte(n1), []byte(v1), []byte(n2), []byte(v2)})
		switch {
		case string(c.Out) == "+OK\r\n":
			for _, nv := range [][2]string{{n1, v1}, {n2, v2}} {
				p := findParam(nv[0])
				want := before
				if err := p.set(&want, []string{nv[1]}); err != nil {
					t.Fatalf("accepted %s=%q that set refuses: %v", nv[0], nv[1], err)
				}
				if p.get(s.Config) != p.get(&want) {
					t.Fatalf("%s = %q after CONFIG SET %q", nv[0], p.get(s.Config), nv[1])
				}
			}
		case strings.HasPrefix(string(c.Out), "-ERR "):
			if !reflect.DeepEqual(*s.Config, before) {
				t.Fatalf("failed CONFIG SET changed the config: %q", c.Out)
			}
		default:
			t.Fatalf("reply %q", c.Out)
		}
	})
}

func TestTime(t *testing.T) {
	now := scriptStart + 1234
	s := newTestShard(&now)
	c := s.NewClient()
	if got := execLine(t, s, c, "TIME"); got != `["1700000001" "234000"]` {
		t.Errorf("TIME on the test clock = %s", got)
	}
	s.clock = nil
	before := time.Now().UnixMicro()
	v := exec(t, s, c, "TIME")
	after := time.Now().UnixMicro()
	if len(v.Elems) != 2 {
		t.Fatalf("TIME = %s", renderReply(&v))
	}
	sec, _ := strconv.ParseInt(string(v.Elems[0].Str), 10, 64)
	us, _ := strconv.ParseInt(string(v.Elems[1].Str), 10, 64)
	if got := sec*1e6 + us; got < before || got > after || us >= 1e6 {
		t.Errorf("TIME = %d.%06d, not within [%d, %d]", sec, us, before, after)
	}
}

// TestLastsave checks that LASTSAVE answers the shard's start time (no
// save ever happens) in seconds, the value INFO persistence reports as
// rdb_last_save_time, and that it stays put as time and changes go by.
func TestLastsave(t *testing.T) {
	before := time.Now().Unix()
	now := scriptStart
	s := newTestShard(&now)
	after := time.Now().Unix()
	c := s.NewClient()
	v := exec(t, s, c, "LASTSAVE")
	if v.Type != resp.TypeInt || v.Int < before || v.Int > after {
		t.Fatalf("LASTSAVE = %s, want an integer within [%d, %d]", renderReply(&v), before, after)
	}
	exec(t, s, c, "SET", "k", "v")
	now += 5000
	if w := exec(t, s, c, "LASTSAVE"); w.Int != v.Int {
		t.Errorf("LASTSAVE moved from %d to %d without a save", v.Int, w.Int)
	}
	info := exec(t, s, c, "INFO", "persistence")
	want := "rdb_last_save_time:" + strconv.FormatInt(v.Int, 10) + "\r\n"
	if !strings.Contains(string(info.Str), want) {
		t.Errorf("INFO persistence has no %q:\n%s", want, info.Str)
	}
}

func TestShutdown(t *testing.T) {
	tests := []struct {
		args  []string
		reply string // "" for none
		stops bool
	}{
		{nil, "", true},
		{[]string{"NOSAVE"}, "", true},
		{[]string{"nosave", "now", "force"}, "", true},
		{[]string{"NOW"}, "", true},
		{[]string{"SAVE"}, "-ERR Errors trying to SHUTDOWN. Check logs.", false},
		{[]string{"SAVE", "FORCE"}, "", true},
		{[]string{"ABORT"}, "-ERR No shutdown in progress.", false},
		{[]string{"SAVE", "NOSAVE"}, "-ERR syntax error", false},
		{[]string{"NOW", "ABORT"}, "-ERR syntax error", false},
		{[]string{"LATER"}, "-ERR syntax error", false},
	}
	for _, tt := range tests {
		now := scriptStart
		s := newTestShard(&now)
		c := s.NewClient()
		c.Out = c.Out[:0]
		s.Exec(c, append([][]byte{[]byte("SHUTDOWN")}, toArgv(tt.args)...))
		if tt.reply == "" && len(c.Out) != 0 {
			t.Errorf("SHUTDOWN %v replied %q", tt.args, c.Out)
		}
		if tt.reply != "" && string(c.Out) != tt.reply+"\r\n" {
			t.Errorf("SHUTDOWN %v = %q, want %s", tt.args, c.Out, tt.reply)
		}
		if s.ShutdownAsked() != tt.stops {
			t.Errorf("SHUTDOWN %v: ShutdownAsked = %v", tt.args, s.ShutdownAsked())
		}
	}
}

func toArgv(args []string) [][]byte {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	return argv
}

func TestFlushCountsChanges(t *testing.T) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	for _, k := range []string{"a", "b", "c"} {
		exec(t, s, c, "SET", k, "v", "EX", "100")
	}
	s.expire.avgTTL = 5000
	d := s.dirty
	exec(t, s, c, "FLUSHDB")
	if s.dirty != d+3 || s.db.Len() != 0 || s.db.Volatile() != 0 || s.expire.avgTTL != 0 {
		t.Errorf("FLUSHDB: dirty +%d, %d keys, %d volatile, avg ttl %d", s.dirty-d, s.db.Len(), s.db.Volatile(), s.expire.avgTTL)
	}
	exec(t, s, c, "SET", "a", "v")
	d = s.dirty
	exec(t, s, c, "FLUSHALL", "ASYNC")
	if s.dirty != d+2 || s.db.Len() != 0 {
		t.Errorf("FLUSHALL: dirty +%d, %d keys", s.dirty-d, s.db.Len())
	}
	d = s.dirty
	exec(t, s, c, "FLUSHDB", "SYNC")
	if s.dirty != d {
		t.Errorf("FLUSHDB of nothing: dirty +%d", s.dirty-d)
	}
}

func TestApplyDirMessage(t *testing.T) {
	s := NewShard(nil)
	s.Config.Dir = filepath.Join(t.TempDir(), "nope")
	err := applyDir(s)
	if err == nil || err.Error() != "No such file or directory" {
		t.Errorf("applyDir = %v", err)
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		t.Errorf("applyDir returned the raw errno")
	}
}

func BenchmarkInfo(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	argv := [][]byte{[]byte("INFO")}
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, argv)
		s.Pending = s.Pending[:0]
		c.Dequeued()
	}
}

func BenchmarkConfigGet(b *testing.B) {
	now := scriptStart
	s := newTestShard(&now)
	c := s.NewClient()
	argv := [][]byte{[]byte("CONFIG"), []byte("GET"), []byte("maxclients")}
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, argv)
		s.Pending = s.Pending[:0]
		c.Dequeued()
	}
}
