package engine

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"shoal/cluster"
	"shoal/resp"
)

// clusterTest drives a shard in cluster mode, one command at a time.
type clusterTest struct {
	t   testing.TB
	now int64
	s   *Shard
	c   *Client
}

func newClusterTest(t testing.TB) *clusterTest {
	ct := &clusterTest{t: t, now: scriptStart}
	ct.s = newClusterTestShard(t, &ct.now)
	ct.c = ct.s.NewClient()
	return ct
}

// newClusterTestConf is newClusterTest on the configuration conf (a
// nodes.conf text).
func newClusterTestConf(t testing.TB, conf string) *clusterTest {
	cc, err := cluster.ParseNodesConf([]byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.ClusterEnabled, cfg.Cluster = true, cc
	ct := &clusterTest{t: t, now: scriptStart}
	ct.s = NewShard(cfg)
	ct.s.clock = func() int64 { return ct.now }
	ct.s.Tick()
	ct.c = ct.s.NewClient()
	return ct
}

// do runs one command line (split as redis-cli does) and renders its reply.
func (ct *clusterTest) do(line string) string {
	ct.t.Helper()
	args, err := resp.SplitArgs([]byte(line))
	if err != nil || len(args) == 0 {
		ct.t.Fatalf("bad command line %q: %v", line, err)
	}
	ct.c.Out = ct.c.Out[:0]
	ct.s.Exec(ct.c, args)
	lines := renderAll(ct.t, ct.c.Out)
	if len(lines) != 1 {
		ct.t.Fatalf("%s: %d replies %q", line, len(lines), ct.c.Out)
	}
	return lines[0]
}

// moved is the MOVED error for key in the fixture's cluster.
func moved(key string) string {
	slot := cluster.KeySlot([]byte(key))
	port := 30001
	switch {
	case slot >= 10923:
		port = 30003
	case slot >= 5461:
		port = 30002
	}
	return "-MOVED " + strconv.Itoa(int(slot)) + " 127.0.0.1:" + strconv.Itoa(port)
}

// TestClusterRouting runs commands of every key shape against the
// fixture's first node (slots 0-5460): keys served here run, keys served
// elsewhere are MOVED, keys of several slots are CROSSSLOT, and commands
// without keys always run. Each rejection counts in rejected_calls and in
// errorstats under its code.
func TestClusterRouting(t *testing.T) {
	// Keys of the fixture: bar, b, hello (here); c, z (30002); foo, a, x (30003).
	for _, k := range []string{"bar", "b", "hello"} {
		if slot := cluster.KeySlot([]byte(k)); slot > 5460 {
			t.Fatalf("%s is in slot %d, not on the first node", k, slot)
		}
	}
	tests := []struct {
		cmd, want string
	}{
		// Single key: here, elsewhere, hash tags.
		{"SET bar 1", "+OK"},
		{"GET bar", `"1"`},
		{"GET foo", moved("foo")},
		{"GET c", moved("c")},
		{"GET z", moved("z")},
		{"SET foo 1", moved("foo")},
		{"SET foo 1 GET", moved("foo")},
		{"GET {bar}.x", "(nil)"},
		{"GET {foo}.bar", moved("foo")},
		{"GET {}bar", moved("{}bar")},
		{"INCR {bar}n", ":1"},
		{"EXPIRE foo 10", moved("foo")},
		{"TTL bar", ":-1"},
		{"TYPE c", moved("c")},
		{"OBJECT ENCODING foo", moved("foo")},
		// Several keys: one slot, several slots, the first key's slot.
		{"MSET {bar}a 1 {bar}b 2", "+OK"},
		{"MGET bar {bar}a {bar}b", `["1" "1" "2"]`},
		{"MGET bar foo", "-" + errCrossSlot},
		{"MGET foo bar", "-" + errCrossSlot},
		{"MGET foo {foo}x", moved("foo")},
		{"MGET foo foo", moved("foo")},
		{"MSET {foo}a 1 {foo}b 2", moved("foo")},
		{"MSET bar 1 hello 2", "-" + errCrossSlot},
		{"DEL {bar}a {bar}b", ":2"},
		{"DEL b hello", "-" + errCrossSlot},
		{"EXISTS bar bar bar", ":3"},
		{"RENAME bar foo", "-" + errCrossSlot},
		{"RENAME bar {bar}2", "+OK"},
		{"COPY {bar}2 bar", ":1"},
		{"MSETNX {c}1 1 {c}2 2", moved("c")},
		// No keys: run here.
		{"PING", "+PONG"},
		{"ECHO foo", `"foo"`},
		{"DBSIZE", ":3"},
		{"CLUSTER KEYSLOT foo", ":12182"},
		{"CLUSTER COUNTKEYSINSLOT 5061", ":3"},
		{"COMMAND GETKEYS MGET foo bar", `["foo" "bar"]`},
		{"SCAN 0 MATCH foo", `["0" []]`},
		// An odd count of arguments: the range spec still takes a and c,
		// two slots, before MSET could report its arity.
		{"MSET a 1 c", "-" + errCrossSlot},
		// Errors before redirection: unknown command, arity.
		{"NOSUCH foo", "-ERR unknown command 'NOSUCH', with args beginning with: 'foo' "},
		{"GET foo bar", "-ERR wrong number of arguments for 'get' command"},
		{"MGET", "-ERR wrong number of arguments for 'mget' command"},
	}
	ct := newClusterTest(t)
	for _, tc := range tests {
		if got := ct.do(tc.cmd); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cmd, got, tc.want)
		}
	}
	// MSET a 1 c: Redis's range spec takes a and c, two slots.
	if got := ct.do("CLUSTER KEYSLOT a") + ct.do("CLUSTER KEYSLOT c"); got != ":15495:7365" {
		t.Fatalf("slots of a and c: %s", got)
	}

	// Counters: rejected_calls per command, errorstats per code.
	ct = newClusterTest(t)
	for _, line := range []string{"GET foo", "GET c", "GET bar", "MGET bar foo", "MGET foo", "SET foo 1", "NOSUCH"} {
		ct.do(line)
	}
	stats := ct.do("INFO commandstats")
	for _, want := range []string{
		`cmdstat_get:calls=1,usec=[0-9]+,usec_per_call=[0-9.]+,rejected_calls=2,failed_calls=0\\r\\n`,
		`cmdstat_mget:calls=0,usec=0,usec_per_call=0.00,rejected_calls=2,failed_calls=0\\r\\n`,
		`cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0\\r\\n`,
	} {
		if !regexp.MustCompile(want).MatchString(stats) {
			t.Errorf("INFO commandstats lacks %s: %s", want, stats)
		}
	}
	if got, want := ct.do("INFO errorstats"), `"# Errorstats\r\nerrorstat_CROSSSLOT:count=1\r\nerrorstat_ERR:count=1\r\nerrorstat_MOVED:count=4\r\n"`; got != want {
		t.Errorf("INFO errorstats: got %s, want %s", got, want)
	}
	if got := ct.do("INFO stats"); !strings.Contains(got, `total_error_replies:6\r\n`) {
		t.Errorf("INFO stats: total_error_replies not 6: %s", got)
	}
}

// TestClusterDown routes on a configuration that leaves slots
// 10923-16383 unserved: keys of an unserved slot are refused as such, and
// every other key, here or elsewhere, because the cluster is down, as in
// Redis with cluster-require-full-coverage yes.
func TestClusterDown(t *testing.T) {
	ct := newClusterTestConf(t, `a1f0c3b2d4e5f60718293a4b5c6d7e8f90a1b2c3 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460
b2e1d4c3f5a6071829304b5c6d7e8f90a1b2c3d4 127.0.0.1:30002@40002 master - 0 0 2 connected 5461-10922
`)
	tests := []struct {
		cmd, want string
	}{
		{"GET foo", "-" + errSlotUnbound},
		{"GET bar", "-" + errClusterDown},
		{"GET c", "-" + errClusterDown},
		{"MGET foo bar", "-" + errSlotUnbound},
		{"MGET bar foo", "-" + errCrossSlot},
		{"MGET bar {bar}x", "-" + errClusterDown},
		{"PING", "+PONG"},
		{"DBSIZE", ":0"},
		{"CLUSTER SLOTS", `[[:0 :5460 ["127.0.0.1" :30001 "a1f0c3b2d4e5f60718293a4b5c6d7e8f90a1b2c3" []]] [:5461 :10922 ["127.0.0.1" :30002 "b2e1d4c3f5a6071829304b5c6d7e8f90a1b2c3d4" []]]]`},
	}
	for _, tc := range tests {
		if got := ct.do(tc.cmd); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cmd, got, tc.want)
		}
	}
	info := ct.do("CLUSTER INFO")
	for _, want := range []string{`cluster_state:fail\r\n`, `cluster_slots_assigned:10923\r\n`, `cluster_known_nodes:2\r\n`, `cluster_size:2\r\n`, `cluster_current_epoch:2\r\n`} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %s: %s", want, info)
		}
	}
}

// TestClusterNoAlloc asserts that routing adds no allocation to the hot
// paths: single-key and multi-key commands served here, and the MOVED and
// CROSSSLOT replies.
func TestClusterNoAlloc(t *testing.T) {
	ct := newClusterTest(t)
	ct.do("SET bar value-0001")
	ct.do("SET {bar}2 value-0002")
	cases := []struct {
		name string
		argv [][]byte
	}{
		{"GET", argv("GET", "bar")},
		{"GET missing", argv("GET", "{bar}none")},
		{"SET", argv("SET", "bar", "value-0003")},
		{"SET EX", argv("SET", "bar", "value-0004", "EX", "100")},
		{"SET XX GET", argv("SET", "bar", "value-0005", "XX", "GET")},
		{"MGET", argv("MGET", "bar", "{bar}2", "{bar}3")},
		{"EXISTS", argv("EXISTS", "bar", "{bar}2")},
		{"MOVED", argv("GET", "foo")},
		{"MOVED MGET", argv("MGET", "foo", "{foo}2")},
		{"CROSSSLOT", argv("MGET", "bar", "foo")},
	}
	for _, tc := range cases {
		ct.s.Exec(ct.c, tc.argv) // warm up: Out's capacity, errorstats
		allocs := testing.AllocsPerRun(200, func() {
			ct.c.Out = ct.c.Out[:0]
			ct.s.Exec(ct.c, tc.argv)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

// TestKeyRanges checks the allocation-free key walk of routing on real
// commands and on key specs of every kind (range, keyword searched
// forwards and backwards, key count), as Redis's getKeysUsingKeySpecs
// finds them: the positions of the keys, or no keys when the arguments fit
// no spec.
func TestKeyRanges(t *testing.T) {
	s := newTestShard(new(int64))
	zunion := &Command{Name: "zunionstore", Keys: []KeySpec{
		{Begin: 1, LastKey: 0, Step: 1},
		{Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1}}}
	migrate := &Command{Name: "migrate", Keys: []KeySpec{
		{Begin: 3, LastKey: 0, Step: 1},
		{Keyword: "KEYS", StartFrom: -2, LastKey: -1, Step: 1}}}
	georadius := &Command{Name: "georadius", Keys: []KeySpec{
		{Begin: 1, LastKey: 0, Step: 1},
		{Keyword: "STORE", StartFrom: 6, LastKey: 0, Step: 1}}}
	tests := []struct {
		cmd  *Command // nil: the table's
		args string
		want []int // nil with ok false: fits no spec
		ok   bool
	}{
		{nil, "GET k", []int{1}, true},
		{nil, "SET k v GET", []int{1}, true},
		{nil, "MGET a b c", []int{1, 2, 3}, true},
		{nil, "MSET a 1 b 2", []int{1, 3}, true},
		{nil, "MSET a 1 b", []int{1, 3}, true},
		{nil, "DEL a b", []int{1, 2}, true},
		{nil, "RENAME a b", []int{1, 2}, true},
		{nil, "COPY a b DB 0", []int{1, 2}, true},
		{nil, "OBJECT ENCODING k", []int{2}, true},
		{nil, "PING", nil, true},
		{zunion, "ZUNIONSTORE d 2 a b WEIGHTS 1 2", []int{1, 3, 4}, true},
		{zunion, "ZUNIONSTORE d 3 a b", nil, false},
		{zunion, "ZUNIONSTORE d x a b", nil, false},
		{zunion, "ZUNIONSTORE d -1 a", nil, false},
		{migrate, "MIGRATE h p k 0 5000", []int{3}, true},
		{migrate, `MIGRATE h p "" 0 5000 KEYS a b`, []int{3, 7, 8}, true},
		{migrate, "MIGRATE keys p x 0 5000", []int{3, 2, 3, 4, 5}, true},
		{georadius, "GEORADIUS k 1 2 3 m STORE d", []int{1, 7}, true},
		{georadius, "GEORADIUS k 1 2 3 m", []int{1}, true},
		{georadius, "GEORADIUS k 1 2 3 m store", []int{1}, true},
	}
	for _, tc := range tests {
		args, err := resp.SplitArgs([]byte(tc.args))
		if err != nil {
			t.Fatal(err)
		}
		cmd := tc.cmd
		if cmd == nil {
			cmd = s.cmds.lookup(args)
		}
		var buf [4]keyRange
		ranges, ok := cmd.keyRanges(args, buf[:0])
		var got []int
		for _, r := range ranges {
			for i := r.first; i <= r.last; i += r.step {
				got = append(got, i)
			}
		}
		if !ok {
			got = nil
		}
		if ok != tc.ok || !equalInts(got, tc.want) {
			t.Errorf("%s: keys at %v (ok %v), want %v (ok %v)", tc.args, got, ok, tc.want, tc.ok)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLoadCluster starts cluster mode from a missing, empty, valid and
// bad nodes.conf: a missing or empty one is created (this shard alone,
// every slot) and its node id kept across restarts; a bad one is an error
// naming the file and the problem.
func TestLoadCluster(t *testing.T) {
	const other = "b2e1d4c3f5a6071829304b5c6d7e8f90a1b2c3d4 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n"
	const mine = "a1f0c3b2d4e5f60718293a4b5c6d7e8f90a1b2c3 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n"
	bad := []struct {
		name, data, problem string
	}{
		{"garbage", "hello world\n", "too few fields"},
		{"bad slot", strings.Replace(mine, "0-8191", "0-16384", 1), `bad slot range "0-16384"`},
		{"slot twice", mine + strings.Replace(other, "8192-16383", "8000-16383", 1), "slot 8000 owned by both"},
		{"bad id", strings.Replace(mine, "a1f0", "zzzz", 1), "invalid node id"},
		{"no myself", other, "no node is flagged myself"},
		{"replica", mine + strings.Replace(other, "master", "slave", 1), "replicas are not supported"},
		{"other port", strings.Replace(mine, ":7000@", ":7005@", 1), "at port 7005, but the shard's port is 7000"},
		{"migrating", strings.Replace(mine, "0-8191", "0-8191 [8192->-b2e1d4c3f5a6071829304b5c6d7e8f90a1b2c3d4]", 1), "migrating or importing"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nodes.conf")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			cfg.Port, cfg.ClusterEnabled, cfg.ClusterConfigFile = 7000, true, path
			err := cfg.LoadCluster()
			if err == nil {
				t.Fatalf("loaded %q", tc.data)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "engine: ") || !strings.Contains(msg, path) || !strings.Contains(msg, tc.problem) {
				t.Fatalf("error %q does not name the file %s and the problem %q", msg, path, tc.problem)
			}
			if cfg.Cluster != nil {
				t.Fatal("a configuration was set despite the error")
			}
		})
	}

	t.Run("unreadable", func(t *testing.T) {
		path := t.TempDir() // a directory
		cfg := DefaultConfig()
		cfg.ClusterEnabled, cfg.ClusterConfigFile = true, path
		if err := cfg.LoadCluster(); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("reading a directory: %v", err)
		}
	})

	t.Run("valid", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nodes.conf")
		if err := os.WriteFile(path, []byte(mine+other+"vars currentEpoch 5 lastVoteEpoch 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Port, cfg.ClusterEnabled, cfg.ClusterConfigFile = 7000, true, path
		if err := cfg.LoadCluster(); err != nil {
			t.Fatal(err)
		}
		if me := cfg.Cluster.Myself(); me == nil || me.ID != "a1f0c3b2d4e5f60718293a4b5c6d7e8f90a1b2c3" || len(cfg.Cluster.Nodes) != 2 {
			t.Fatalf("loaded %+v", cfg.Cluster)
		}
		s := NewShard(cfg)
		c := s.NewClient()
		s.Exec(c, argv("CLUSTER", "INFO"))
		if out := string(c.Out); !strings.Contains(out, "cluster_current_epoch:5\r\n") || !strings.Contains(out, "cluster_state:ok\r\n") {
			t.Fatalf("CLUSTER INFO: %q", out)
		}
	})

	t.Run("disabled", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nodes.conf")
		cfg := DefaultConfig()
		cfg.ClusterConfigFile = path
		if err := cfg.LoadCluster(); err != nil || cfg.Cluster != nil {
			t.Fatalf("cluster mode off: %v, %v", err, cfg.Cluster)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("cluster mode off wrote a nodes.conf")
		}
	})

	for _, empty := range []bool{false, true} {
		t.Run("created/empty="+strconv.FormatBool(empty), func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			if empty {
				if err := os.WriteFile("nodes.conf", nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			load := func() *cluster.Config {
				cfg := DefaultConfig()
				cfg.Port, cfg.Bind, cfg.ClusterEnabled = 7002, []string{"*", "-::*", "10.1.2.3"}, true
				if err := cfg.LoadCluster(); err != nil {
					t.Fatal(err)
				}
				return cfg.Cluster
			}
			first := load()
			me := first.Myself()
			if me == nil || !cluster.ValidNodeID(me.ID) || me.IP != "10.1.2.3" || me.Port != 7002 || me.CPort != 17002 ||
				len(first.Nodes) != 1 || first.Assigned() != cluster.Slots || first.Owner(0) != me || first.Owner(16383) != me {
				t.Fatalf("created %+v, myself %+v", first, me)
			}
			data, err := os.ReadFile(filepath.Join(dir, "nodes.conf"))
			if err != nil {
				t.Fatal(err)
			}
			want := me.ID + " 10.1.2.3:7002@17002 myself,master - 0 0 0 connected 0-16383\nvars currentEpoch 0 lastVoteEpoch 0\n"
			if string(data) != want {
				t.Fatalf("nodes.conf:\n%s\nwant:\n%s", data, want)
			}
			if again := load(); again.Myself().ID != me.ID {
				t.Fatalf("restart changed the node id: %s, then %s", me.ID, again.Myself().ID)
			}
			if tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp*")); len(tmp) != 0 {
				t.Fatalf("temporary files left: %v", tmp)
			}
		})
	}
}

// BenchmarkClusterGet is BenchmarkGet's GET in cluster mode: the cost of
// routing (a CRC16 and a slot lookup) on top of the command.
func BenchmarkClusterGet(b *testing.B) {
	for _, mode := range []string{"standalone", "cluster", "moved"} {
		b.Run(mode, func(b *testing.B) {
			var s *Shard
			now := scriptStart
			if mode == "standalone" {
				s = newTestShard(&now)
			} else {
				s = newClusterTestShard(b, &now)
			}
			c := s.NewClient()
			s.Exec(c, argv("SET", "bar", "value"))
			get := argv("GET", "bar")
			if mode == "moved" {
				get = argv("GET", "foo")
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Out = c.Out[:0]
				s.Exec(c, get)
			}
		})
	}
}

// BenchmarkClusterMGet routes a 10-key MGET whose keys share a hash tag.
func BenchmarkClusterMGet(b *testing.B) {
	now := scriptStart
	s := newClusterTestShard(b, &now)
	c := s.NewClient()
	args := []string{"MGET"}
	for i := range 10 {
		k := "{bar}" + strconv.Itoa(i)
		s.Exec(c, argv("SET", k, "value"))
		args = append(args, k)
	}
	mget := argv(args...)
	b.ReportAllocs()
	for b.Loop() {
		c.Out = c.Out[:0]
		s.Exec(c, mget)
	}
}

// TestClusterModeReplies checks what reports cluster mode: HELLO's mode,
// INFO's redis_mode and cluster_enabled, in cluster mode and outside it.
func TestClusterModeReplies(t *testing.T) {
	ct := newClusterTest(t)
	st := newStrTest(t)
	for _, tc := range []struct {
		cmd, cluster, standalone string
	}{
		{"HELLO 3", `"mode": "cluster"`, `"mode": "standalone"`},
		{"INFO server", `redis_mode:cluster\r\n`, `redis_mode:standalone\r\n`},
		{"INFO cluster", `cluster_enabled:1\r\n`, `cluster_enabled:0\r\n`},
	} {
		if got := ct.do(tc.cmd); !strings.Contains(got, tc.cluster) {
			t.Errorf("cluster mode: %s: %s lacks %s", tc.cmd, got, tc.cluster)
		}
		if got := st.do(tc.cmd); !strings.Contains(got, tc.standalone) {
			t.Errorf("standalone: %s: %s lacks %s", tc.cmd, got, tc.standalone)
		}
	}
}
