package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"shoal/cluster"
)

// numSlots is the number of Redis Cluster hash slots.
const numSlots = 16384

// clusterBusOffset is where redis-server puts its cluster bus: port+10000.
const clusterBusOffset = 10000

// shardPlan is the part of `shoal topo --json` the harness reads: the CPUs
// of every shard.
type shardPlan struct {
	Shards []struct {
		ID   int   `json:"id"`
		CPUs []int `json:"cpus"`
		Port int   `json:"port"`
	} `json:"shards"`
}

// parseShardPlan reads `shoal topo --json` and returns the CPUs of each
// shard in shard order.
func parseShardPlan(b []byte) ([]CPUSet, error) {
	var p shardPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("bench: shoal topo --json: %w", err)
	}
	if len(p.Shards) == 0 {
		return nil, fmt.Errorf("bench: shoal topo --json: no shards planned")
	}
	out := make([]CPUSet, len(p.Shards))
	for i, s := range p.Shards {
		if s.ID != i || len(s.CPUs) == 0 {
			return nil, fmt.Errorf("bench: shoal topo --json: shard %d (id %d) has CPUs %v", i, s.ID, s.CPUs)
		}
		cs := CPUSet(slices.Clone(s.CPUs))
		slices.Sort(cs)
		out[i] = cs
	}
	return out, nil
}

// planShards asks the launcher for its plan of shards shards (0: its
// default) on the CPUs this process may use.
func planShards(ctx context.Context, shoalBin string, shards int) ([]CPUSet, error) {
	args := []string{"topo", "--json"}
	if shards > 0 {
		args = append(args, "--shards", strconv.Itoa(shards))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, shoalBin, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: shoal %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parseShardPlan(out)
}

// roundRobinPlan places shards shards one CPU each, in turn over allowed:
// the plan when the launcher cannot be asked.
func roundRobinPlan(allowed CPUSet, shards int) []CPUSet {
	out := make([]CPUSet, shards)
	for i := range out {
		out[i] = CPUSet{allowed[i%len(allowed)]}
	}
	return out
}

// freePortRange finds n consecutive free TCP ports on host, and with bus
// also their cluster bus ports (port+10000), and returns the first. The
// ports are free when checked; another process may take one before the
// servers bind it, which then fails to start and is reported.
func freePortRange(host string, n int, bus bool) (int, error) {
	const lo, hi = 20000, 55000 - clusterBusOffset
	free := func(p int) bool {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			return false
		}
		l.Close()
		return true
	}
	for range 100 {
		base := lo + rand.IntN(hi-lo-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = free(p) && (!bus || free(p+clusterBusOffset))
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("bench: no %d consecutive free ports on %s", n, host)
}

// ansiEscape matches the colour sequences redis-cli --cluster prints.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// createdNode matches "M: <40 hex> host:port" in redis-cli --cluster output.
var createdNode = regexp.MustCompile(`^M: ([0-9a-f]{40}) (\S+):(\d+)$`)

// createdSlots matches the "slots:[0-5460],[7000] (5461 slots) master" line
// under a node.
var createdSlots = regexp.MustCompile(`^slots:(\S*) \((\d+) slots\) master$`)

// parseClusterCreate reads what `redis-cli --cluster create ...
// --cluster-replicas 0 --cluster-yes` printed and returns the masters of
// the final check (id, port, slot ranges), in the order printed. It fails
// unless redis-cli said every slot is covered and the slot counts add up
// to 16384.
func parseClusterCreate(out string) ([]NodeInfo, error) {
	out = ansiEscape.ReplaceAllString(out, "")
	if !strings.Contains(out, "[OK] All 16384 slots covered.") {
		return nil, fmt.Errorf("bench: redis-cli --cluster create did not cover every slot:\n%s", strings.TrimSpace(out))
	}
	// The node list is printed twice: as planned, then as checked. Keep
	// the last one.
	if i := strings.LastIndex(out, ">>> Performing Cluster Check"); i >= 0 {
		out = out[i:]
	}
	var nodes []NodeInfo
	total := 0
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		m := createdNode.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil {
			continue
		}
		port, err := strconv.Atoi(m[3])
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("bench: redis-cli --cluster create: bad port in %q", lines[i])
		}
		if i+1 >= len(lines) {
			return nil, fmt.Errorf("bench: redis-cli --cluster create: no slots line after %q", lines[i])
		}
		s := createdSlots.FindStringSubmatch(strings.TrimSpace(lines[i+1]))
		if s == nil {
			return nil, fmt.Errorf("bench: redis-cli --cluster create: bad slots line %q", lines[i+1])
		}
		n, err := strconv.Atoi(s[2])
		if err != nil {
			return nil, fmt.Errorf("bench: redis-cli --cluster create: bad slot count in %q", lines[i+1])
		}
		ranges := strings.NewReplacer("[", "", "]", "").Replace(s[1])
		if got, err := countSlots(strings.Split(ranges, ",")); err != nil || got != n {
			return nil, fmt.Errorf("bench: redis-cli --cluster create: slots %q do not make %d (%v)", s[1], n, err)
		}
		total += n
		nodes = append(nodes, NodeInfo{ID: m[1], Port: port, Slots: strings.ReplaceAll(ranges, ",", " ")})
		i++
	}
	if len(nodes) == 0 || total != numSlots {
		return nil, fmt.Errorf("bench: redis-cli --cluster create: %d masters serving %d slots", len(nodes), total)
	}
	return nodes, nil
}

// countSlots counts the slots of ranges "a-b" and single slots "a",
// rejecting anything outside 0..16383.
func countSlots(ranges []string) (int, error) {
	n := 0
	for _, r := range ranges {
		if r == "" {
			continue
		}
		a, b, isRange := strings.Cut(r, "-")
		lo, err1 := strconv.Atoi(a)
		hi := lo
		var err2 error
		if isRange {
			hi, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi >= numSlots {
			return 0, fmt.Errorf("bad slot range %q", r)
		}
		n += hi - lo + 1
	}
	return n, nil
}

// clusterNode is one line of CLUSTER NODES.
type clusterNode struct {
	ID     string
	Port   int
	Myself bool
	Master bool
	Slots  []string // "0-5460", "7000"; importing/migrating entries dropped
}

// parseClusterNodes parses a CLUSTER NODES reply.
func parseClusterNodes(s string) ([]clusterNode, error) {
	var out []clusterNode
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("bench: CLUSTER NODES: short line %q", line)
		}
		addr, _, _ := strings.Cut(f[1], "@")
		addr, _, _ = strings.Cut(addr, ",")
		i := strings.LastIndexByte(addr, ':')
		port, err := strconv.Atoi(addr[i+1:])
		if i < 0 || err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("bench: CLUSTER NODES: bad address in %q", line)
		}
		flags := strings.Split(f[2], ",")
		n := clusterNode{ID: f[0], Port: port, Myself: slices.Contains(flags, "myself"), Master: slices.Contains(flags, "master")}
		for _, r := range f[8:] {
			if strings.HasPrefix(r, "[") {
				continue
			}
			if _, err := countSlots([]string{r}); err != nil {
				return nil, fmt.Errorf("bench: CLUSTER NODES: %v in %q", err, line)
			}
			n.Slots = append(n.Slots, r)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: CLUSTER NODES: empty")
	}
	return out, nil
}

// waitClusterOK polls every node until CLUSTER INFO says cluster_state:ok
// with all nodes known, then fills each node's id and slots from its
// CLUSTER NODES line for itself.
func waitClusterOK(ctx context.Context, nodes []NodeInfo, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for i := range nodes {
		addr := net.JoinHostPort(host, strconv.Itoa(nodes[i].Port))
		var last error
		for {
			if last = checkClusterNode(ctx, addr, len(nodes), &nodes[i]); last == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("bench: cluster node %s not ready within %v: %w", addr, timeout, last)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

func checkClusterNode(ctx context.Context, addr string, want int, n *NodeInfo) error {
	c, err := dialClient(ctx, addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.close()
	s, err := c.doString("CLUSTER", "INFO")
	if err != nil {
		return err
	}
	fields := parseInfo(s)
	if st := infoValue(fields, "cluster_state"); st != "ok" {
		return fmt.Errorf("cluster_state %q", st)
	}
	if k := infoValue(fields, "cluster_known_nodes"); k != strconv.Itoa(want) {
		return fmt.Errorf("cluster_known_nodes %s, want %d", k, want)
	}
	s, err = c.doString("CLUSTER", "NODES")
	if err != nil {
		return err
	}
	all, err := parseClusterNodes(s)
	if err != nil {
		return err
	}
	for _, cn := range all {
		if cn.Myself {
			n.ID, n.Slots = cn.ID, strings.Join(cn.Slots, " ")
			return nil
		}
	}
	return errors.New("CLUSTER NODES has no myself line")
}

// formRedisCluster joins the started redis-server nodes into one cluster
// owning all 16384 slots, split as evenly as the launcher splits them:
// with redis-cli --cluster create for 3 or more nodes (redis-cli refuses
// fewer), else by CLUSTER ADDSLOTSRANGE and CLUSTER MEET.
func (h *harness) formRedisCluster(ctx context.Context, nodes []NodeInfo) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.startTimeout+30*time.Second)
	defer cancel()
	if len(nodes) >= 3 {
		argv := []string{h.bins.redisCLI, "--cluster", "create"}
		for _, n := range nodes {
			argv = append(argv, net.JoinHostPort(host, strconv.Itoa(n.Port)))
		}
		argv = append(argv, "--cluster-replicas", "0", "--cluster-yes")
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("bench: %s: %w\n%s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
		}
		created, err := parseClusterCreate(string(out))
		if err != nil {
			return err
		}
		if len(created) != len(nodes) {
			return fmt.Errorf("bench: redis-cli --cluster create made %d masters of %d nodes", len(created), len(nodes))
		}
	} else {
		ranges := cluster.SplitSlots(len(nodes))
		for i, n := range nodes {
			c, err := dialClient(ctx, net.JoinHostPort(host, strconv.Itoa(n.Port)), 5*time.Second)
			if err != nil {
				return err
			}
			cmds := [][]string{{"CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(int(ranges[i].Start)), strconv.Itoa(int(ranges[i].End))}}
			if i > 0 {
				cmds = append(cmds, []string{"CLUSTER", "MEET", host, strconv.Itoa(nodes[0].Port)})
			}
			for _, cmd := range cmds {
				r, err := c.do(cmd...)
				if err == nil && (r.Kind != '+' || r.Str != "OK") {
					err = fmt.Errorf("bench: %s answered %s", strings.Join(cmd, " "), r)
				}
				if err != nil {
					c.close()
					return err
				}
			}
			c.close()
		}
	}
	return waitClusterOK(ctx, nodes, h.cfg.startTimeout+20*time.Second)
}

// startRedisCluster starts one redis-server per planned shard, each in its
// own directory and pinned to that shard's CPUs, and forms the cluster.
func (h *harness) startRedisCluster(ctx context.Context, t Target, d *deployment) error {
	base, err := freePortRange(host, len(h.shardCPUs), true)
	if err != nil {
		return err
	}
	d.port = base
	for i, cpus := range h.shardCPUs {
		port := base + i
		dir := filepath.Join(d.dir, "node-"+strconv.Itoa(i))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		argv := append(Target{Kind: kindRedis}.argv(h.bins, host, port, dir, 0),
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
		taskset := h.bins.taskset
		srv, err := startServer(ctx, serverSpec{
			name: fmt.Sprintf("%s/%d", t.Name, i), argv: argv, cpus: cpus, taskset: taskset,
			host: host, port: port, dir: dir, startTimeout: h.cfg.startTimeout,
		})
		if err != nil {
			return err
		}
		d.procs = append(d.procs, srv)
		d.nodes = append(d.nodes, NodeInfo{Port: port, PID: srv.pid, PlannedCPUs: cpus.String()})
	}
	return h.formRedisCluster(ctx, d.nodes)
}

// startShoalCluster runs `shoal launch` for the planned number of shards,
// unpinned (the launcher pins every shard itself), and waits until every
// shard serves its slots.
func (h *harness) startShoalCluster(ctx context.Context, t Target, d *deployment) error {
	n := len(h.shardCPUs)
	base, err := freePortRange(host, n, true)
	if err != nil {
		return err
	}
	d.port = base
	data := filepath.Join(d.dir, "data")
	// The launcher turns the AOF on unless told otherwise; the Redis
	// Cluster beside it keeps none.
	argv := []string{h.bins.shoal, "launch", "--shards", strconv.Itoa(n), "--port", strconv.Itoa(base),
		"--bind", host, "--dir", data, "--io", "uring", "--", "--appendonly", "no"}
	srv, err := startServer(ctx, serverSpec{
		name: t.Name, argv: argv, host: host, port: base, dir: d.dir,
		startTimeout: h.cfg.startTimeout + 10*time.Second, termGrace: 25 * time.Second,
	})
	if err != nil {
		return err
	}
	d.procs = append(d.procs, srv)
	for i := range n {
		d.nodes = append(d.nodes, NodeInfo{Port: base + i, PlannedCPUs: h.shardCPUs[i].String()})
	}
	if err := waitClusterOK(ctx, d.nodes, h.cfg.startTimeout+20*time.Second); err != nil {
		return fmt.Errorf("%w\n%s", err, srv.tail())
	}
	for i := range d.nodes {
		fields, err := h.infoAt(ctx, d.nodes[i].Port, "server")
		if err != nil {
			return err
		}
		if d.nodes[i].PID, err = strconv.Atoi(infoValue(fields, "process_id")); err != nil {
			return fmt.Errorf("bench: %s shard %d: INFO server has no process_id", t.Name, i)
		}
	}
	return nil
}

// keysByNode splits the key indices first .. first+count-1 by the node
// whose slots hold each key's name, for loading a cluster node by node.
func keysByNode(names keyNames, first, count int, nodes []NodeInfo) ([]keySet, error) {
	owner := make([]int16, numSlots)
	for i := range owner {
		owner[i] = -1
	}
	for ni, n := range nodes {
		for _, r := range strings.Fields(n.Slots) {
			a, b, isRange := strings.Cut(r, "-")
			lo, err1 := strconv.Atoi(a)
			hi := lo
			var err2 error
			if isRange {
				hi, err2 = strconv.Atoi(b)
			}
			if err1 != nil || err2 != nil || lo < 0 || hi < lo || hi >= numSlots {
				return nil, fmt.Errorf("bench: node %d: bad slot range %q", n.Port, r)
			}
			for s := lo; s <= hi; s++ {
				owner[s] = int16(ni)
			}
		}
	}
	sets := make([]keySet, len(nodes))
	for i := range sets {
		sets[i] = keySet{Names: names, IDs: []int32{}}
	}
	var buf []byte
	for i := first; i < first+count; i++ {
		buf = names.appendKey(buf[:0], i)
		o := owner[cluster.KeySlot(buf)]
		if o < 0 {
			return nil, fmt.Errorf("bench: no node serves slot %d of key %s", cluster.KeySlot(buf), buf)
		}
		sets[o].IDs = append(sets[o].IDs, int32(i))
	}
	return sets, nil
}
