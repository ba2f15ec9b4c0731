package launcher

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shoal/cluster"
	"shoal/numa"
)

// testPlan is a plan of n shards from port base (the layout does not look
// at CPUs).
func testPlan(n, base int) *numa.Plan {
	p := &numa.Plan{BasePort: base}
	for i := range n {
		p.Shards = append(p.Shards, numa.ShardPlan{ID: i, CPUs: []int{i}, Port: base + i, MemNode: -1})
	}
	return p
}

var testIDs = []string{
	"1111111111111111111111111111111111111111",
	"2222222222222222222222222222222222222222",
	"3333333333333333333333333333333333333333",
}

func TestNodesConfLayouts(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		base int
		ip   string
		self int
		want string
	}{
		{"one shard", 1, 6379, "127.0.0.1", 0,
			"1111111111111111111111111111111111111111 127.0.0.1:6379@16379 myself,master - 0 0 1 connected 0-16383\n" +
				"vars currentEpoch 1 lastVoteEpoch 0\n"},
		{"two shards, first", 2, 7000, "127.0.0.1", 0,
			"1111111111111111111111111111111111111111 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n" +
				"2222222222222222222222222222222222222222 127.0.0.1:7001@17001 master - 0 0 2 connected 8192-16383\n" +
				"vars currentEpoch 2 lastVoteEpoch 0\n"},
		{"three shards, last, as redis-cli --cluster create splits", 3, 30000, "10.0.0.5", 2,
			"1111111111111111111111111111111111111111 10.0.0.5:30000@40000 master - 0 0 1 connected 0-5460\n" +
				"2222222222222222222222222222222222222222 10.0.0.5:30001@40001 master - 0 0 2 connected 5461-10922\n" +
				"3333333333333333333333333333333333333333 10.0.0.5:30002@40002 myself,master - 0 0 3 connected 10923-16383\n" +
				"vars currentEpoch 3 lastVoteEpoch 0\n"},
		{"IPv6 announce address", 1, 6379, "fd00::5", 0,
			"1111111111111111111111111111111111111111 [fd00::5]:6379@16379 myself,master - 0 0 1 connected 0-16383\n" +
				"vars currentEpoch 1 lastVoteEpoch 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ClusterConfig(testPlan(tc.n, tc.base), tc.ip, testIDs[:tc.n])
			if err != nil {
				t.Fatal(err)
			}
			got := string(NodesConf(c, tc.self))
			if got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
			// What the launcher writes, a shard reads back as the same
			// cluster, with itself as myself.
			back, err := cluster.ParseNodesConf([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if back.Myself() == nil || back.Myself().ID != testIDs[tc.self] || back.Assigned() != cluster.Slots {
				t.Errorf("read back: myself %v, %d slots", back.Myself(), back.Assigned())
			}
			for i, n := range c.Nodes {
				if n.Myself {
					t.Errorf("NodesConf changed its input: node %d is myself", i)
				}
			}
		})
	}
}

func TestClusterConfigRefusesPortsWithoutRoomForTheBus(t *testing.T) {
	if _, err := ClusterConfig(testPlan(2, 55535), "127.0.0.1", testIDs[:2]); err == nil ||
		!strings.Contains(err.Error(), "port 55536 of shard 1 leaves no room") {
		t.Fatalf("ClusterConfig: %v", err)
	}
	if _, err := ClusterConfig(testPlan(2, 55534), "127.0.0.1", testIDs[:2]); err != nil {
		t.Fatal(err)
	}
}

// writeConf writes dir/shard-<self>/nodes.conf for a plan of n shards from
// base with ids.
func writeConf(t *testing.T, dir string, n, base, self int, ids []string) {
	t.Helper()
	c, err := ClusterConfig(testPlan(n, base), "127.0.0.1", ids)
	if err != nil {
		t.Fatal(err)
	}
	sub := ShardDir(dir, self)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, NodesConfFile), NodesConf(c, self), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNodeIDs(t *testing.T) {
	ids2 := testIDs[:2]
	for _, tc := range []struct {
		name    string
		setup   func(t *testing.T, dir string)
		n, base int
		want    []string // nil: fresh ids
		err     string   // substring of an ErrLayout error
	}{
		{name: "empty dir", setup: func(*testing.T, string) {}, n: 2, base: 7000},
		{name: "same layout", n: 2, base: 7000, want: ids2, setup: func(t *testing.T, d string) {
			writeConf(t, d, 2, 7000, 0, ids2)
			writeConf(t, d, 2, 7000, 1, ids2)
		}},
		{name: "one file lost: the peer's file keeps its id", n: 2, base: 7000, want: ids2, setup: func(t *testing.T, d string) {
			writeConf(t, d, 2, 7000, 0, ids2)
		}},
		{name: "a shard's own id wins over its peers'", n: 2, base: 7000, want: ids2, setup: func(t *testing.T, d string) {
			writeConf(t, d, 2, 7000, 0, []string{testIDs[0], testIDs[2]})
			writeConf(t, d, 2, 7000, 1, ids2)
		}},
		{name: "more shards before", n: 2, base: 7000, err: "describes 3 shards on ports 7000-7002, but the plan is 2 shards on ports 7000-7001",
			setup: func(t *testing.T, d string) {
				for i := range 3 {
					writeConf(t, d, 3, 7000, i, testIDs)
				}
			}},
		{name: "fewer shards before", n: 3, base: 7000, err: "describes 2 shards on ports 7000-7001, but the plan is 3 shards",
			setup: func(t *testing.T, d string) { writeConf(t, d, 2, 7000, 0, ids2) }},
		{name: "other ports", n: 2, base: 6379, err: "(--shards 2 --port 7000)",
			setup: func(t *testing.T, d string) { writeConf(t, d, 2, 7000, 1, ids2) }},
		{name: "data beyond the plan", n: 1, base: 7000, err: "shard-1 is not empty, but the plan is 1 shard on port 7000",
			setup: func(t *testing.T, d string) {
				os.MkdirAll(ShardDir(d, 1), 0o755)
				os.WriteFile(filepath.Join(ShardDir(d, 1), "appendonly.aof"), nil, 0o644)
			}},
		{name: "empty dir beyond the plan is fine", n: 1, base: 7000,
			setup: func(t *testing.T, d string) { os.MkdirAll(ShardDir(d, 4), 0o755) }},
		{name: "copied shard directory", n: 2, base: 7000, err: "both have node id",
			setup: func(t *testing.T, d string) {
				writeConf(t, d, 2, 7000, 0, ids2)
				writeConf(t, d, 2, 7000, 1, []string{testIDs[2], testIDs[0]})
			}},
		{name: "unreadable nodes.conf", n: 2, base: 7000, err: "nodes.conf line 1",
			setup: func(t *testing.T, d string) {
				os.MkdirAll(ShardDir(d, 0), 0o755)
				os.WriteFile(filepath.Join(ShardDir(d, 0), NodesConfFile), []byte("garbage\n"), 0o644)
			}},
		{name: "nodes.conf of another shard", n: 2, base: 7000, err: "in shard-1's directory, does not name the node on port 7001 as myself",
			setup: func(t *testing.T, d string) {
				writeConf(t, d, 2, 7000, 0, ids2)
				os.MkdirAll(ShardDir(d, 1), 0o755)
				os.Rename(filepath.Join(ShardDir(d, 0), NodesConfFile), filepath.Join(ShardDir(d, 1), NodesConfFile))
			}},
		{name: "nodes.conf without myself", n: 1, base: 7000, err: "names no node as myself",
			setup: func(t *testing.T, d string) {
				c, _ := ClusterConfig(testPlan(1, 7000), "127.0.0.1", testIDs[:1])
				os.MkdirAll(ShardDir(d, 0), 0o755)
				os.WriteFile(filepath.Join(ShardDir(d, 0), NodesConfFile), c.MarshalNodesConf(), 0o644)
			}},
		{name: "other slots", n: 2, base: 7000, err: "gives the node on port 7000 slots 0-100, but the plan gives it 0-8191",
			setup: func(t *testing.T, d string) {
				os.MkdirAll(ShardDir(d, 0), 0o755)
				os.WriteFile(filepath.Join(ShardDir(d, 0), NodesConfFile), []byte(
					testIDs[0]+" 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-100\n"+
						testIDs[1]+" 127.0.0.1:7001@17001 master - 0 0 2 connected 101-16383\n"), 0o644)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			ex, err := ReadExisting(dir)
			if err == nil {
				var got []string
				got, err = NodeIDs(dir, ex, testPlan(tc.n, tc.base))
				if err == nil && tc.err == "" {
					checkIDs(t, got, tc.n, tc.want)
					return
				}
			}
			if tc.err == "" {
				t.Fatal(err)
			}
			if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want ErrLayout with %q", err, tc.err)
			}
		})
	}
}

func checkIDs(t *testing.T, got []string, n int, want []string) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d ids for %d shards", len(got), n)
	}
	seen := map[string]bool{}
	for i, id := range got {
		if !cluster.ValidNodeID(id) || seen[id] {
			t.Errorf("id %d %q invalid or repeated", i, id)
		}
		seen[id] = true
		if want != nil && id != want[i] {
			t.Errorf("id %d = %s, want %s", i, id, want[i])
		}
	}
}

func TestReadExistingOfAMissingDir(t *testing.T) {
	ex, err := ReadExisting(filepath.Join(t.TempDir(), "none"))
	if err != nil || len(ex.Confs) != 0 || len(ex.NonEmpty) != 0 {
		t.Fatalf("%+v %v", ex, err)
	}
}

func TestWriteLayoutReplacesFiles(t *testing.T) {
	dir := t.TempDir()
	c, err := ClusterConfig(testPlan(3, 7000), "127.0.0.1", testIDs)
	if err != nil {
		t.Fatal(err)
	}
	writeConf(t, dir, 3, 7000, 1, []string{testIDs[2], testIDs[1], testIDs[0]})
	if err := WriteLayout(dir, c); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := os.ReadFile(filepath.Join(ShardDir(dir, i), NodesConfFile))
		if err != nil || string(got) != string(NodesConf(c, i)) {
			t.Errorf("shard %d: %v\n%s", i, err, got)
		}
		if _, err := os.Stat(filepath.Join(ShardDir(dir, i), NodesConfFile+".tmp")); !os.IsNotExist(err) {
			t.Errorf("shard %d: temporary file left: %v", i, err)
		}
	}
}
