package launcher

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"shoal/numa"
)

// bannerInfo is what the banner tells: the launch as it turned out.
type bannerInfo struct {
	Version    string
	Plan       *numa.Plan
	Shards     []ShardStatus
	Bind       string
	AnnounceIP string
	Dir        string
	IO         string // the backend asked for: auto, uring or epoll
	ShardArgs  []string
	Profile    string // every shard's --profile, "" for none
	Pprof      string // shard 0's --pprof address, "" for none
}

// formatBanner is the one block printed once every shard serves: what
// runs where, and the command lines to connect and to benchmark.
func formatBanner(b bannerInfo) string {
	var w strings.Builder
	rule := strings.Repeat("=", 72) + "\n"
	w.WriteString(rule)
	p := b.Plan
	ports := make([]int, len(b.Shards))
	var cpus []int
	nodes := map[int]bool{}
	for i, s := range b.Shards {
		ports[i] = s.Port
		cpus = append(cpus, s.CPUs...)
	}
	for _, s := range p.Shards {
		nodes[s.Node] = true
	}
	slices.Sort(cpus)
	cpus = slices.Compact(cpus)
	version := ""
	if b.Version != "" {
		version = " " + b.Version
	}
	fmt.Fprintf(&w, "Shoal%s is serving: %s on %s of %s, %s\n", version,
		pluralize(len(b.Shards), "shard"), pluralize(len(cpus), "CPU"), pluralize(len(nodes), "NUMA node"),
		describePorts(ports))
	fmt.Fprintf(&w, "  machine:   %s\n", p.Topology)
	fmt.Fprintf(&w, "  CPUs:      %s for shards", numa.FormatCPUList(cpus))
	if len(p.Reserved) > 0 {
		fmt.Fprintf(&w, ", %s reserved for the kernel and interrupts", numa.FormatCPUList(p.Reserved))
	}
	if len(p.Idle) > 0 {
		fmt.Fprintf(&w, ", %s idle", numa.FormatCPUList(p.Idle))
	}
	w.WriteString("\n")
	if b.Bind == b.AnnounceIP {
		fmt.Fprintf(&w, "  address:   %s\n", b.Bind)
	} else {
		fmt.Fprintf(&w, "  address:   listening on %s, announced to clients as %s\n", b.Bind, b.AnnounceIP)
	}
	fmt.Fprintf(&w, "  data:      %s/shard-<i>/\n", strings.TrimRight(b.Dir, "/"))
	fmt.Fprintf(&w, "  I/O:       %s\n", describeBackends(b.Shards, b.IO))
	if hasOption(b.ShardArgs, "appendonly") || hasOption(b.ShardArgs, "appendfsync") {
		w.WriteString("  persist:   append-only file as given after --\n")
	} else {
		fmt.Fprintf(&w, "  persist:   append-only file, fsync every second, in %s/shard-<i>/appendonlydir/\n", strings.TrimRight(b.Dir, "/"))
	}
	if len(p.Shards) > 0 && p.Shards[0].MemCap > 0 {
		if hasOption(b.ShardArgs, "maxmemory") {
			w.WriteString("  memory:    maxmemory as given after --\n")
		} else {
			policy := "noeviction: writes refused past it; -- --maxmemory-policy allkeys-lru to evict"
			if hasOption(b.ShardArgs, "maxmemory-policy") {
				policy = "maxmemory-policy as given after --"
			}
			fmt.Fprintf(&w, "  memory:    maxmemory %s per shard (%s)\n", numa.FormatBytes(p.Shards[0].MemCap), policy)
		}
	}
	if b.Profile != "" {
		fmt.Fprintf(&w, "  profile:   %s, written to each shard's data dir on stop (SIGUSR2 to a shard: a snapshot)\n", b.Profile)
	}
	if b.Pprof != "" {
		fmt.Fprintf(&w, "  pprof:     http://%s/debug/pprof/ (shard i: port + i)\n", b.Pprof)
	}

	tw := tabwriter.NewWriter(&w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  shard\tnode\tcpus\tport\tpid\tnode id")
	for i, s := range b.Shards {
		node := "-"
		if i < len(p.Shards) {
			node = strconv.Itoa(p.Shards[i].Node)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%d\t%s\n", s.ID, node, numa.FormatCPUList(s.CPUs), s.Port, s.PID, s.NodeID)
	}
	tw.Flush()

	host := ""
	if b.AnnounceIP != "127.0.0.1" {
		host = " -h " + b.AnnounceIP
	}
	base := "?"
	if len(ports) > 0 {
		base = strconv.Itoa(ports[0])
	}
	fmt.Fprintf(&w, "Connect:    redis-cli -c%s -p %s\n", host, base)
	fmt.Fprintf(&w, "Benchmark:  redis-benchmark --cluster%s -p %s -t set,get -d 256 -r 1000000 -c 50\n", host, base)
	fmt.Fprintf(&w, "            memtier_benchmark --cluster-mode -s %s -p %s\n", b.AnnounceIP, base)
	if isWildcard(b.Bind) && !hasOption(b.ShardArgs, "protected-mode") {
		w.WriteString("Note:       shards refuse clients from other hosts while protected-mode is yes (pass -- --protected-mode no)\n")
	}
	w.WriteString(rule)
	return w.String()
}

// describeBackends says which I/O backend the shards run: one name when
// they agree, else each backend with its count.
func describeBackends(shards []ShardStatus, asked string) string {
	count := map[string]int{}
	var names []string
	for _, s := range shards {
		b := s.IOBackend
		if b == "" {
			b = "unknown"
		}
		if count[b] == 0 {
			names = append(names, b)
		}
		count[b]++
	}
	slices.Sort(names)
	var parts []string
	for _, n := range names {
		if len(names) == 1 {
			parts = append(parts, n)
		} else {
			parts = append(parts, fmt.Sprintf("%s (%d)", n, count[n]))
		}
	}
	return strings.Join(parts, ", ") + " (--io " + asked + ")"
}
