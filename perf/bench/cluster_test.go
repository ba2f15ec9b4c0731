package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/cluster"
)

func TestParseClusterCreate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "cluster", "create-3.txt"))
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := parseClusterCreate(string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []NodeInfo{
		{ID: "0f9b319597628cac92250dc0584482fad4f1bccb", Port: 17201, Slots: "0-5460"},
		{ID: "0622e65f363e9a8851a0eb7bfe5fdc309f7a5f76", Port: 17202, Slots: "5461-10922"},
		{ID: "fd6f10ac131848e9719fc7488d2537a5d47642c0", Port: 17203, Slots: "10923-16383"},
	}
	if len(nodes) != len(want) {
		t.Fatalf("nodes %+v, want %+v", nodes, want)
	}
	for i := range want {
		if nodes[i] != want[i] {
			t.Errorf("node %d = %+v, want %+v", i, nodes[i], want[i])
		}
	}

	const id = "0f9b319597628cac92250dc0584482fad4f1bccb"
	ok := "[OK] All 16384 slots covered.\n"
	bad := []struct{ name, out, wantErr string }{
		{"refused", "*** ERROR: Invalid configuration for cluster creation.\n*** Redis Cluster requires at least 3 master nodes.\n", "did not cover"},
		{"no masters", ok, "0 masters"},
		{"slots short", "M: " + id + " 127.0.0.1:7000\n   slots:[0-100] (101 slots) master\n" + ok, "serving 101 slots"},
		{"count mismatch", "M: " + id + " 127.0.0.1:7000\n   slots:[0-16383] (5 slots) master\n" + ok, "do not make"},
		{"bad range", "M: " + id + " 127.0.0.1:7000\n   slots:[9-3] (16384 slots) master\n" + ok, "do not make"},
		{"no slots line", "M: " + id + " 127.0.0.1:7000\n" + ok, "bad slots line"},
		{"bad port", "M: " + id + " 127.0.0.1:99999\n   slots:[0-16383] (16384 slots) master\n" + ok, "bad port"},
	}
	for _, tt := range bad {
		if _, err := parseClusterCreate(tt.out); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
	// Slots given as ranges and single slots.
	split := "M: " + id + " 127.0.0.1:7000\n   slots:[0-100],[200],[201-16383] (16285 slots) master\n" +
		"M: 0622e65f363e9a8851a0eb7bfe5fdc309f7a5f76 127.0.0.1:7001\n   slots:[101-199] (99 slots) master\n" + ok
	if nodes, err := parseClusterCreate(split); err != nil || len(nodes) != 2 || nodes[0].Slots != "0-100 200 201-16383" {
		t.Errorf("split: %+v, %v", nodes, err)
	}
}

func TestParseClusterNodes(t *testing.T) {
	in := "0622e65f363e9a8851a0eb7bfe5fdc309f7a5f76 127.0.0.1:17202@27202 master - 0 1795523172790 2 connected 5461-10922\n" +
		"fd6f10ac131848e9719fc7488d2537a5d47642c0 127.0.0.1:17203@27203,host.example master - 0 1795523171988 3 connected 10923-16383\n" +
		"0f9b319597628cac92250dc0584482fad4f1bccb 127.0.0.1:17201@27201 myself,master - 0 0 1 connected 0-5460 [5461->-0622e65f363e9a8851a0eb7bfe5fdc309f7a5f76] 7000\n"
	nodes, err := parseClusterNodes(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 || nodes[1].Port != 17203 || nodes[2].Port != 17201 || !nodes[2].Myself || nodes[0].Myself ||
		!nodes[0].Master || strings.Join(nodes[2].Slots, " ") != "0-5460 7000" {
		t.Errorf("parsed %+v", nodes)
	}
	for _, bad := range []string{"", "abc 127.0.0.1:1@2 master", "id 127.0.0.1:x@2 master - 0 0 1 connected", "id h:1@2 master - 0 0 1 connected 5-99999"} {
		if _, err := parseClusterNodes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseShardPlan(t *testing.T) {
	plan, err := parseShardPlan([]byte(`{"version":1,"shards":[{"id":0,"cpus":[2,0],"port":6379},{"id":1,"cpus":[1],"port":6380}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[0].String() != "0,2" || plan[1].String() != "1" {
		t.Errorf("plan %v", plan)
	}
	for _, bad := range []string{`{}`, `{"shards":[{"id":1,"cpus":[0]}]}`, `{"shards":[{"id":0,"cpus":[]}]}`, `[`} {
		if _, err := parseShardPlan([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if got := roundRobinPlan(CPUSet{3, 5}, 3); len(got) != 3 || got[0].String() != "3" || got[1].String() != "5" || got[2].String() != "3" {
		t.Errorf("roundRobinPlan = %v", got)
	}
}

func TestKeysByNode(t *testing.T) {
	ranges := cluster.SplitSlots(3)
	var nodes []NodeInfo
	for i, r := range ranges {
		nodes = append(nodes, NodeInfo{Port: 7000 + i, Slots: r.String()})
	}
	nodes[2].Slots += " 0" // slot 0 listed twice: the last node wins
	sets, err := keysByNode(memtierKeys, 1, 5000, nodes)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, ks := range sets {
		total += ks.len()
		if ks.len() < 1000 {
			t.Errorf("node %d got only %d of 5000 keys", i, ks.len())
		}
		for j := range ks.len() {
			slot := cluster.KeySlot([]byte(ks.key(j)))
			if in := slot >= ranges[i].Start && slot <= ranges[i].End; !in && !(i == 2 && slot == 0) {
				t.Fatalf("key %s (slot %d) given to node %d serving %s", ks.key(j), slot, i, nodes[i].Slots)
			}
		}
	}
	if total != 5000 {
		t.Errorf("%d keys in all, want 5000", total)
	}
	if _, err := keysByNode(memtierKeys, 1, 10, nodes[:1]); err == nil {
		t.Error("keys of unserved slots accepted")
	}
	if _, err := keysByNode(memtierKeys, 1, 10, []NodeInfo{{Slots: "0-99999"}}); err == nil {
		t.Error("bad range accepted")
	}
}

func TestFreePortRange(t *testing.T) {
	base, err := freePortRange(host, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if base < 20000 || base+2+clusterBusOffset > 65535 {
		t.Errorf("base %d out of range", base)
	}
}

// TestRedisCluster forms Redis Clusters of 2 nodes (by hand: redis-cli
// refuses fewer than 3) and 3 nodes (redis-cli --cluster create), loads
// memtier's keys node by node and runs redis-benchmark --cluster against
// them, as the redis-cluster target does.
func TestRedisCluster(t *testing.T) {
	needRedis(t)
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	redis, _ := exec.LookPath("redis-server")
	bench, _ := exec.LookPath("redis-benchmark")
	allowed, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	target, _ := findTarget("redis-cluster")
	for _, n := range []int{2, 3} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			h := &harness{
				cfg:       &config{startTimeout: 10 * time.Second, runTimeout: 30 * time.Second, preload: true},
				bins:      binaries{redis: redis, redisCLI: cli, benchmark: bench},
				stdout:    io.Discard,
				stderr:    io.Discard,
				shardCPUs: roundRobinPlan(allowed, n),
				res:       &Results{},
			}
			ctx := context.Background()
			d := &deployment{target: target, dir: t.TempDir()}
			defer h.stop(d)
			if err := h.startRedisCluster(ctx, target, d); err != nil {
				t.Fatal(err)
			}
			slots := 0
			for _, node := range d.nodes {
				c, err := countSlots(strings.Fields(node.Slots))
				if err != nil || len(node.ID) != 40 || node.PID == 0 {
					t.Errorf("node %+v (%v)", node, err)
				}
				slots += c
			}
			if len(d.nodes) != n || slots != numSlots {
				t.Fatalf("%d nodes serving %d slots", len(d.nodes), slots)
			}
			w := Workload{Name: "t", Tests: []string{"get", "set"}, Clients: 4, DataSize: 32, Keyspace: 2000, Pipeline: 4, Requests: 2000}
			if err := h.preload(ctx, d, memtierKeys, w.Keyspace, w.DataSize); err != nil {
				t.Fatal(err)
			}
			keys := 0
			for _, a := range d.addrs() {
				c, err := dialClient(ctx, a, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				r, err := c.do("DBSIZE")
				c.close()
				if err != nil || r.Kind != ':' || r.Int == 0 {
					t.Fatalf("DBSIZE of %s: %v %v", a, r, err)
				}
				keys += int(r.Int)
			}
			if keys != w.Keyspace {
				t.Errorf("cluster holds %d keys, want %d", keys, w.Keyspace)
			}
			run := h.runBenchmark(ctx, d, w)
			if run.Error != "" || len(run.Samples) != 2 || !strings.Contains(strings.Join(run.Argv, " "), "--cluster") {
				t.Errorf("redis-benchmark --cluster: %+v", run)
			}
			h.describe(ctx, d)
		})
	}
}
