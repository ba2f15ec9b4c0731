package engine

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// debugShard is a shard on a fake clock that allows DEBUG, with a client.
func debugShard(t *testing.T, now *int64) (*Shard, *Client) {
	t.Helper()
	s := newTestShard(now)
	s.Config.EnableDebugCommand = "yes"
	return s, s.NewClient()
}

// raw runs a command and returns the bytes it wrote.
func raw(s *Shard, c *Client, args ...string) string {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.Tick()
	c.Out = c.Out[:0]
	s.Exec(c, argv)
	return string(c.Out)
}

func TestDebugAllowed(t *testing.T) {
	cases := []struct {
		setting, addr string
		allowed       bool
	}{
		{"no", "127.0.0.1:5000", false},
		{"no", "/tmp/shoal.sock:0", false},
		{"yes", "10.1.2.3:5000", true},
		{"yes", "127.0.0.1:5000", true},
		{"local", "127.0.0.1:5000", true},
		{"local", "[::1]:5000", true},
		{"local", "/tmp/shoal.sock:0", true},
		{"local", "10.1.2.3:5000", false},
		{"local", "[2001:db8::1]:5000", false},
	}
	for _, tc := range cases {
		now := scriptStart
		s := newTestShard(&now)
		s.Config.EnableDebugCommand = tc.setting
		c := newClientAt(s, tc.addr, "127.0.0.1:6379")
		got := raw(s, c, "DEBUG", "PROTOCOL", "integer")
		want := "-" + errDebugNotAllowed + "\r\n"
		if tc.allowed {
			want = ":12345\r\n"
		}
		if got != want {
			t.Errorf("enable-debug-command %s, client %s: got %q, want %q", tc.setting, tc.addr, got, want)
		}
	}
	// The default is Redis's: no.
	if DefaultConfig().EnableDebugCommand != "no" {
		t.Errorf("default enable-debug-command %q", DefaultConfig().EnableDebugCommand)
	}
}

// TestDebugProtocolRaw checks PROTOCOL's bytes, which the scripts'
// rendering does not show in full (attributes), against what Redis 7.0.15
// sends.
func TestDebugProtocolRaw(t *testing.T) {
	cases := []struct {
		typ        string
		resp2, rs3 string
	}{
		{"double", "$5\r\n3.141\r\n", ",3.141\r\n"},
		{"bignum", "$37\r\n1234567999999999999999999999999999999\r\n", "(1234567999999999999999999999999999999\r\n"},
		{"null", "$-1\r\n", "_\r\n"},
		{"set", "*3\r\n:0\r\n:1\r\n:2\r\n", "~3\r\n:0\r\n:1\r\n:2\r\n"},
		{"map", "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"},
		{"attrib", "$39\r\nSome real reply following the attribute\r\n",
			"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"},
		{"push", "-ERR RESP2 is not supported by this command\r\n",
			">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push reply\r\n"},
		{"verbatim", "$25\r\nThis is a verbatim\nstring\r\n", "=29\r\ntxt:This is a verbatim\nstring\r\n"},
		{"true", ":1\r\n", "#t\r\n"},
		{"false", ":0\r\n", "#f\r\n"},
	}
	now := scriptStart
	s, c2 := debugShard(t, &now)
	c3 := s.NewClient()
	raw(s, c3, "HELLO", "3")
	for _, tc := range cases {
		if got := raw(s, c2, "DEBUG", "PROTOCOL", tc.typ); got != tc.resp2 {
			t.Errorf("RESP2 %s: got %q, want %q", tc.typ, got, tc.resp2)
		}
		if got := raw(s, c3, "DEBUG", "PROTOCOL", tc.typ); got != tc.rs3 {
			t.Errorf("RESP3 %s: got %q, want %q", tc.typ, got, tc.rs3)
		}
	}
}

// TestDebugObject checks DEBUG OBJECT's line; the serialized lengths are
// those Redis 7.0.15 gives the same values.
func TestDebugObject(t *testing.T) {
	now := scriptStart
	s, c := debugShard(t, &now)
	for _, cmd := range []string{
		"SET s bar", "SET i 12345", "SET small 7", "SET big abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX",
		"RPUSH l a b 1", "SADD is 1 2 3", "SADD hs a b c", "ZADD z 1 a 2 b", "HSET h f v g 1",
		"CONFIG SET zset-max-listpack-entries 1", "ZADD zs 1 a 2.5 b",
	} {
		exec(t, s, c, strings.Fields(cmd)...)
	}
	cases := []struct{ key, refcount, enc, serialized, extra string }{
		{"s", "1", "embstr", "4", ""},
		{"i", "1", "int", "3", ""},
		{"small", "2147483647", "int", "2", ""},
		{"big", "1", "raw", "51", ""},
		{"l", "1", "quicklist", "18", " ql_nodes:1 ql_avg_node:3.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:15"},
		{"is", "1", "intset", "15", ""},
		{"hs", "1", "hashtable", "7", ""},
		{"z", "1", "listpack", "18", ""},
		{"h", "1", "listpack", "19", ""},
		{"zs", "1", "skiplist", "21", ""},
	}
	now += 7000
	lru := strconv.Itoa(int(uint32((scriptStart)/1000) & lruMask))
	for _, tc := range cases {
		got := raw(s, c, "DEBUG", "OBJECT", tc.key)
		re := regexp.MustCompile(`^\+Value at:0x[0-9a-f]+ refcount:` + tc.refcount + ` encoding:` + tc.enc +
			` serializedlength:` + tc.serialized + ` lru:` + lru + ` lru_seconds_idle:7` + regexp.QuoteMeta(tc.extra) + "\r\n$")
		if !re.MatchString(got) {
			t.Errorf("DEBUG OBJECT %s: got %q, want %s", tc.key, got, re)
		}
	}
	// A list of several nodes.
	exec(t, s, c, "CONFIG", "SET", "list-max-listpack-size", "2")
	exec(t, s, c, "RPUSH", "l2", "a", "b", "c", "d", "e")
	got := raw(s, c, "DEBUG", "OBJECT", "l2")
	if want := " serializedlength:43 lru:5501191 lru_seconds_idle:0 ql_nodes:3 ql_avg_node:1.67 ql_listpack_max:2 ql_compressed:0 ql_uncompressed_size:36\r\n"; !strings.HasSuffix(got, want) {
		t.Errorf("DEBUG OBJECT l2: got %q, want it to end in %q", got, want)
	}
	// An expired key not yet deleted is still there for DEBUG OBJECT.
	exec(t, s, c, "SET", "e", "v", "PX", "10")
	now += 100
	if got := raw(s, c, "DEBUG", "OBJECT", "e"); !strings.Contains(got, "encoding:embstr") {
		t.Errorf("DEBUG OBJECT of an expired key: %q", got)
	}
}

// fillRandom writes the same data set in an order and with encodings
// chosen by seed: the keys in a shuffled order, the members of sets and
// hashes in shuffled orders, and small limits sometimes, so that values
// take their big encodings and, with deletions, keep them.
func fillRandom(t *testing.T, s *Shard, c *Client, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	if seed%2 == 1 {
		for _, kv := range [][2]string{{"set-max-intset-entries", "3"}, {"hash-max-listpack-entries", "3"},
			{"zset-max-listpack-entries", "3"}, {"list-max-listpack-size", "2"}} {
			exec(t, s, c, "CONFIG", "SET", kv[0], kv[1])
		}
	}
	var groups [][][]string // each key's commands, in order
	for k := range 40 {
		var cmds [][]string
		key := "k" + strconv.Itoa(k)
		var members []string
		for m := range 1 + k%7 {
			members = append(members, strconv.Itoa(m*m-3))
		}
		switch k % 6 {
		case 0:
			cmds = append(cmds, []string{"SET", key, "v" + strconv.Itoa(k*k)})
		case 1:
			cmds = append(cmds, []string{"SET", key, strconv.Itoa(k * 1000)})
		case 2:
			cmds = append(cmds, append([]string{"RPUSH", key}, members...))
		case 3:
			rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
			cmds = append(cmds, append([]string{"SADD", key, "x"}, members...), []string{"SREM", key, "x"})
		case 4:
			var args []string
			for _, m := range members {
				args = append(args, m, "f"+m)
			}
			rng.Shuffle(len(args)/2, func(i, j int) {
				args[2*i], args[2*j] = args[2*j], args[2*i]
				args[2*i+1], args[2*j+1] = args[2*j+1], args[2*i+1]
			})
			cmds = append(cmds, append([]string{"HSET", key}, args...))
		case 5:
			var args []string
			for i, m := range members {
				args = append(args, strconv.FormatFloat(float64(i)/3, 'g', -1, 64), "m"+m)
			}
			cmds = append(cmds, append([]string{"ZADD", key}, args...))
		}
		if k%5 == 0 {
			cmds = append(cmds, []string{"EXPIRE", key, "1000"})
		}
		groups = append(groups, cmds)
	}
	rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	for _, cmds := range groups {
		for _, cmd := range cmds {
			exec(t, s, c, cmd...)
		}
	}
}

func digestOf(t *testing.T, s *Shard, c *Client) string {
	t.Helper()
	v := exec(t, s, c, "DEBUG", "DIGEST")
	if len(v.Str) != 40 {
		t.Fatalf("DEBUG DIGEST: %q", v.Str)
	}
	return string(v.Str)
}

// TestDebugDigestEqual: equal data sets have equal digests whatever the
// encodings and orders, before and after RELOAD; any change shows.
func TestDebugDigestEqual(t *testing.T) {
	var want string
	for seed := int64(1); seed <= 6; seed++ {
		now := scriptStart
		s, c := debugShard(t, &now)
		fillRandom(t, s, c, seed)
		d := digestOf(t, s, c)
		if want == "" {
			want = d
		} else if d != want {
			t.Errorf("seed %d: digest %s, want %s", seed, d, want)
		}
		before := snapshot(s)
		if got := raw(s, c, "DEBUG", "RELOAD"); got != "+OK\r\n" {
			t.Fatalf("DEBUG RELOAD: %q", got)
		}
		if got := snapshot(s); got != before {
			t.Errorf("seed %d: RELOAD changed the data:\n%s\nnow:\n%s", seed, before, got)
		}
		if d := digestOf(t, s, c); d != want {
			t.Errorf("seed %d: digest after RELOAD %s, want %s", seed, d, want)
		}
		for _, change := range [][]string{
			{"RPUSH", "k2", "-3"}, {"LPOP", "k2"}, {"HSET", "k4", "-3", "g"}, {"ZADD", "k5", "7", "m-3"},
			{"PERSIST", "k0"}, {"SET", "k1", "1001"},
		} {
			exec(t, s, c, change...)
			if d := digestOf(t, s, c); d == want {
				t.Errorf("seed %d: %v does not change the digest", seed, change)
			}
			s2, c2 := debugShard(t, &now)
			fillRandom(t, s2, c2, seed)
			s, c = s2, c2
		}
	}
}

func TestDebugSetActiveExpire(t *testing.T) {
	now := scriptStart
	s, c := debugShard(t, &now)
	for _, step := range []struct {
		arg  string
		gone bool
	}{{"0", false}, {"abc", false}, {"1", true}, {"0", false}, {"7", true}} {
		exec(t, s, c, "SET", "k", "v", "PX", "10")
		if got := raw(s, c, "DEBUG", "SET-ACTIVE-EXPIRE", step.arg); got != "+OK\r\n" {
			t.Fatalf("SET-ACTIVE-EXPIRE %s: %q", step.arg, got)
		}
		now += 100
		s.Tick()
		s.ActiveExpire(int64(time.Second))
		if gone := s.db.Len() == 0; gone != step.gone {
			t.Errorf("SET-ACTIVE-EXPIRE %s: key gone %v, want %v", step.arg, gone, step.gone)
		}
		exec(t, s, c, "DEL", "k")
	}
}

func TestDebugSleep(t *testing.T) {
	now := scriptStart
	s, c := debugShard(t, &now)
	for _, tc := range []struct {
		arg      string
		min, max time.Duration
	}{
		{"0.05", 50 * time.Millisecond, 2 * time.Second},
		{"0", 0, 20 * time.Millisecond},
		{"-3", 0, 20 * time.Millisecond},
		{"inf", 0, 20 * time.Millisecond},
		{"x", 0, 20 * time.Millisecond},
	} {
		start := time.Now()
		if got := raw(s, c, "DEBUG", "SLEEP", tc.arg); got != "+OK\r\n" {
			t.Fatalf("SLEEP %s: %q", tc.arg, got)
		}
		if d := time.Since(start); d < tc.min || d > tc.max {
			t.Errorf("SLEEP %s took %v, want %v..%v", tc.arg, d, tc.min, tc.max)
		}
	}
}

func TestStrtodPrefix(t *testing.T) {
	cases := []struct {
		in   string
		want float64
	}{
		{"1.5", 1.5}, {"  2", 2}, {"\t-0.25x", -0.25}, {".5", 0.5}, {"5.", 5}, {"1e3", 1000}, {"1e", 1},
		{"1e+", 1}, {"2E-2s", 0.02}, {"abc", 0}, {"", 0}, {".", 0}, {"-", 0}, {"+7", 7},
		{"inf", math.Inf(1)}, {"-Infinity", math.Inf(-1)}, {"INFx", math.Inf(1)}, {"1e999", math.Inf(1)},
		{"3\x009", 3},
	}
	for _, tc := range cases {
		if got := strtodPrefix([]byte(tc.in)); got != tc.want {
			t.Errorf("strtodPrefix(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if f := strtodPrefix([]byte("nan")); !math.IsNaN(f) {
		t.Errorf("strtodPrefix(nan) = %v", f)
	}
}

func TestAtoi(t *testing.T) {
	cases := []struct {
		in   string
		want int64
	}{{"0", 0}, {"1", 1}, {" 12x", 12}, {"-3", -3}, {"+4", 4}, {"x1", 0}, {"", 0}, {"99999999999999999999", math.MaxInt64}, {"-99999999999999999999", math.MinInt64},
		{"9223372036854775807", math.MaxInt64}, {"-9223372036854775808", math.MinInt64}}
	for _, tc := range cases {
		if got := atoi([]byte(tc.in)); got != tc.want {
			t.Errorf("atoi(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestDebugLoadAOF: LOADAOF reads back what the AOF holds, which is the
// data set; a broken AOF is an error reply and the shard goes on.
func TestDebugLoadAOF(t *testing.T) {
	dir := t.TempDir()
	now := scriptStart
	s := aofShard(t, dir, &now, "everysec")
	defer s.StopPersistence()
	s.Config.EnableDebugCommand = "yes"
	c := s.NewClient()
	rng := rand.New(rand.NewSource(7))
	for range 300 {
		run(t, s, c, randomWrite(rng))
	}
	want, wantDigest := snapshot(s), digestOf(t, s, c)
	if got := raw(s, c, "DEBUG", "LOADAOF"); got != "+OK\r\n" {
		t.Fatalf("DEBUG LOADAOF: %q", got)
	}
	if got := snapshot(s); got != want {
		t.Errorf("LOADAOF changed the data:\n%s\nnow:\n%s", want, got)
	}
	if d := digestOf(t, s, c); d != wantDigest {
		t.Errorf("digest after LOADAOF %s, want %s", d, wantDigest)
	}
	// What was written since the last turn is loaded too.
	exec(t, s, c, "SET", "fresh", "1")
	if got := raw(s, c, "DEBUG", "LOADAOF"); got != "+OK\r\n" {
		t.Fatalf("DEBUG LOADAOF: %q", got)
	}
	if v := exec(t, s, c, "GET", "fresh"); string(v.Str) != "1" {
		t.Errorf("GET fresh after LOADAOF: %+v", v)
	}
	// An incr file with something not a command at its end does not load.
	files, _ := filepath.Glob(filepath.Join(dir, "*.incr.aof"))
	if len(files) == 0 {
		t.Fatal("no incr file")
	}
	f, err := os.OpenFile(files[len(files)-1], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("garbage\r\n")
	f.Close()
	if got := raw(s, c, "DEBUG", "LOADAOF"); !strings.HasPrefix(got, "-ERR ") {
		t.Errorf("DEBUG LOADAOF of a broken AOF: %q", got)
	}
	if got := raw(s, c, "PING"); got != "+PONG\r\n" {
		t.Errorf("PING after a failed LOADAOF: %q", got)
	}
}

// TestDebugReloadDuringRewrite: a RELOAD while an AOF rewrite is under way
// leaves an AOF that loads into the data set.
func TestDebugReloadDuringRewrite(t *testing.T) {
	old := rewriteSliceBytes
	rewriteSliceBytes = 256
	defer func() { rewriteSliceBytes = old }()
	dir := t.TempDir()
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	a.Config.EnableDebugCommand = "yes"
	c := a.NewClient()
	rng := rand.New(rand.NewSource(3))
	for range 600 {
		run(t, a, c, randomWrite(rng))
	}
	if v := exec(t, a, c, "BGREWRITEAOF"); string(v.Str) != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF: %+v", v)
	}
	run(t, a, c, randomWrite(rng))
	if a.aof.rw == nil || a.aof.rw.walked {
		t.Fatal("the rewrite is not under way")
	}
	if got := raw(a, c, "DEBUG", "RELOAD"); got != "+OK\r\n" {
		t.Fatalf("DEBUG RELOAD: %q", got)
	}
	for i := 0; a.aof.rw != nil; i++ {
		if i > 100000 {
			t.Fatal("rewrite does not finish")
		}
		run(t, a, c, randomWrite(rng))
		now += 3
	}
	if !a.rwStat.lastOK {
		t.Fatalf("rewrite failed: %+v", a.rwStat)
	}
	checkReload(t, a, dir, &now)
}

// TestDebugPopulateWatch: POPULATE's new keys count as changes for WATCH.
func TestDebugPopulateWatch(t *testing.T) {
	now := scriptStart
	s, c := debugShard(t, &now)
	exec(t, s, c, "WATCH", "key:1")
	raw(s, s.NewClient(), "DEBUG", "POPULATE", "2")
	exec(t, s, c, "MULTI")
	exec(t, s, c, "GET", "key:1")
	if got := raw(s, c, "EXEC"); got != "*-1\r\n" {
		t.Errorf("EXEC after POPULATE of a watched key: %q", got)
	}
}

func TestDebugListpackQuicklist(t *testing.T) {
	now := scriptStart
	s, c := debugShard(t, &now)
	exec(t, s, c, "HSET", "h", "a", "1", "b", strings.Repeat("x", 40))
	exec(t, s, c, "RPUSH", "l", "a", "2", "c")
	for _, tc := range []struct{ args, want string }{
		{"LISTPACK h", "+Listpack structure printed on stdout\r\n"},
		{"QUICKLIST l", "+Quicklist structure printed on stdout\r\n"},
		{"QUICKLIST l 1", "+Quicklist structure printed on stdout\r\n"},
		{"LISTPACK l", "-ERR Not a listpack encoded object.\r\n"},
		{"QUICKLIST h", "-ERR Not a quicklist encoded object.\r\n"},
	} {
		if got := raw(s, c, append([]string{"DEBUG"}, strings.Fields(tc.args)...)...); got != tc.want {
			t.Errorf("DEBUG %s: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

// FuzzDebugNumbers checks SLEEP's and SET-ACTIVE-EXPIRE's number readers:
// no input makes them fail, and where Go reads the whole input as a
// plain decimal number they agree with it.
func FuzzDebugNumbers(f *testing.F) {
	for _, s := range []string{"1.5", " -2e3x", "inf", "nan", "99999999999999999999", "-0", ".", "1e", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, n := strtodPrefix([]byte(s)), atoi([]byte(s))
		plain := s != "" && strings.Trim(s, "0123456789.eE+-") == ""
		if want, err := strconv.ParseFloat(s, 64); plain && err == nil && d != want {
			t.Errorf("strtodPrefix(%q) = %v, want %v", s, d, want)
		}
		if want, err := strconv.ParseInt(s, 10, 64); err == nil && n != want {
			t.Errorf("atoi(%q) = %d, want %d", s, n, want)
		}
	})
}
