package launcher

import (
	"strings"
	"testing"

	"shoal/numa"
)

func TestBanner(t *testing.T) {
	plan := &numa.Plan{
		Topology: "2 nodes, 2 packages, 4 cores, 8 CPUs (2 threads per core), 64.0 GiB",
		BasePort: 7000,
		Shards: []numa.ShardPlan{
			{ID: 0, Node: 0, MemNode: 0, CPUs: []int{0, 4}, Port: 7000},
			{ID: 1, Node: 1, MemNode: 1, CPUs: []int{2, 6}, Port: 7001},
		},
		Reserved: []int{1, 3, 5, 7},
	}
	shards := []ShardStatus{
		{ID: 0, CPUs: []int{0, 4}, Port: 7000, PID: 4242, NodeID: testIDs[0], IOBackend: "io_uring"},
		{ID: 1, CPUs: []int{2, 6}, Port: 7001, PID: 4343, NodeID: testIDs[1], IOBackend: "io_uring"},
	}
	rule := strings.Repeat("=", 72) + "\n"
	for _, tc := range []struct {
		name string
		info bannerInfo
		want string
	}{
		{"loopback", bannerInfo{Version: "0.1.0", Plan: plan, Shards: shards, Bind: "127.0.0.1", AnnounceIP: "127.0.0.1",
			Dir: "/var/lib/shoal", IO: "auto"},
			rule +
				"Shoal 0.1.0 is serving: 2 shards on 4 CPUs of 2 NUMA nodes, ports 7000-7001\n" +
				"  machine:   2 nodes, 2 packages, 4 cores, 8 CPUs (2 threads per core), 64.0 GiB\n" +
				"  CPUs:      0,2,4,6 for shards, 1,3,5,7 reserved for the kernel and interrupts\n" +
				"  address:   127.0.0.1\n" +
				"  data:      /var/lib/shoal/shard-<i>/\n" +
				"  I/O:       io_uring (--io auto)\n" +
				"  persist:   append-only file, fsync every second, in /var/lib/shoal/shard-<i>/appendonlydir/\n" +
				"  shard  node  cpus  port  pid   node id\n" +
				"  0      0     0,4   7000  4242  " + testIDs[0] + "\n" +
				"  1      1     2,6   7001  4343  " + testIDs[1] + "\n" +
				"Connect:    redis-cli -c -p 7000\n" +
				"Benchmark:  redis-benchmark --cluster -p 7000 -t set,get -d 256 -r 1000000 -c 50\n" +
				"            memtier_benchmark --cluster-mode -s 127.0.0.1 -p 7000\n" +
				rule},
		{"wildcard", bannerInfo{Plan: plan, Shards: []ShardStatus{shards[0], {ID: 1, CPUs: []int{2, 6}, Port: 7001, PID: 4343, NodeID: testIDs[1], IOBackend: "epoll"}},
			Bind: "0.0.0.0", AnnounceIP: "10.0.0.5", Dir: "/d/", IO: "auto", Profile: "cpu", Pprof: "127.0.0.1:6060"},
			rule +
				"Shoal is serving: 2 shards on 4 CPUs of 2 NUMA nodes, ports 7000-7001\n" +
				"  machine:   2 nodes, 2 packages, 4 cores, 8 CPUs (2 threads per core), 64.0 GiB\n" +
				"  CPUs:      0,2,4,6 for shards, 1,3,5,7 reserved for the kernel and interrupts\n" +
				"  address:   listening on 0.0.0.0, announced to clients as 10.0.0.5\n" +
				"  data:      /d/shard-<i>/\n" +
				"  I/O:       epoll (1), io_uring (1) (--io auto)\n" +
				"  persist:   append-only file, fsync every second, in /d/shard-<i>/appendonlydir/\n" +
				"  profile:   cpu, written to each shard's data dir on stop (SIGUSR2 to a shard: a snapshot)\n" +
				"  pprof:     http://127.0.0.1:6060/debug/pprof/ (shard i: port + i)\n" +
				"  shard  node  cpus  port  pid   node id\n" +
				"  0      0     0,4   7000  4242  " + testIDs[0] + "\n" +
				"  1      1     2,6   7001  4343  " + testIDs[1] + "\n" +
				"Connect:    redis-cli -c -h 10.0.0.5 -p 7000\n" +
				"Benchmark:  redis-benchmark --cluster -h 10.0.0.5 -p 7000 -t set,get -d 256 -r 1000000 -c 50\n" +
				"            memtier_benchmark --cluster-mode -s 10.0.0.5 -p 7000\n" +
				"Note:       shards refuse clients from other hosts while protected-mode is yes (pass -- --protected-mode no)\n" +
				rule},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatBanner(tc.info); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	// The plan's memory cap is each shard's maxmemory, unless given after --.
	capped := *plan
	capped.Shards = []numa.ShardPlan{plan.Shards[0], plan.Shards[1]}
	capped.Shards[0].MemCap, capped.Shards[1].MemCap = 25<<30, 25<<30
	info := bannerInfo{Plan: &capped, Shards: shards, Bind: "127.0.0.1", AnnounceIP: "127.0.0.1"}
	if got := formatBanner(info); !strings.Contains(got, "  memory:    maxmemory 25.0 GiB per shard (noeviction: writes refused past it; -- --maxmemory-policy allkeys-lru to evict)\n") {
		t.Errorf("no memory line in\n%s", got)
	}
	info.ShardArgs = []string{"--MaxMemory", "1gb"}
	if got := formatBanner(info); !strings.Contains(got, "  memory:    maxmemory as given after --\n") {
		t.Errorf("no override memory line in\n%s", got)
	}
	// The note goes once protected-mode is set.
	info = bannerInfo{Plan: plan, Shards: shards, Bind: "*", AnnounceIP: "10.0.0.5", ShardArgs: []string{"--protected-mode", "no"}}
	if strings.Contains(formatBanner(info), "protected-mode is yes") {
		t.Error("protected-mode note despite --protected-mode")
	}
}
