package launcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"shoal/cluster"
	"shoal/numa"
)

// NodesConfFile is the name of a shard's cluster configuration in its
// directory, as the launcher writes it and the shard reads it.
const NodesConfFile = "nodes.conf"

// clusterBusOffset is the distance from a node's port to the cluster bus
// port it announces, Redis's default.
const clusterBusOffset = 10000

// ErrLayout is wrapped when the data directory holds a layout the plan
// does not match, or one that cannot be read: starting anyway would put
// each shard's data under other slots.
var ErrLayout = errors.New("launcher: the data directory holds another layout")

// ShardDir is shard id's directory under the data directory dir.
func ShardDir(dir string, id int) string {
	return filepath.Join(dir, "shard-"+strconv.Itoa(id))
}

// Existing is what a data directory already holds.
type Existing struct {
	// Confs are the nodes.conf files found, by shard id.
	Confs map[int]*cluster.Config
	// NonEmpty are the ids of the shard-<i> directories that hold
	// anything, ascending.
	NonEmpty []int
}

// ReadExisting reads every dir/shard-<i>/nodes.conf. A missing dir is an
// empty Existing. A nodes.conf that does not parse is an error wrapping
// ErrLayout.
func ReadExisting(dir string) (*Existing, error) {
	ex := &Existing{Confs: map[int]*cluster.Config{}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return ex, nil
	}
	if err != nil {
		return nil, fmt.Errorf("launcher: reading the data directory: %w", err)
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "shard-")
		if !ok || !e.IsDir() {
			continue
		}
		id, err := strconv.Atoi(rest)
		if err != nil || id < 0 || strconv.Itoa(id) != rest {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		inside, err := os.ReadDir(sub)
		if err != nil {
			return nil, fmt.Errorf("launcher: reading %s: %w", sub, err)
		}
		if len(inside) > 0 {
			ex.NonEmpty = append(ex.NonEmpty, id)
		}
		path := filepath.Join(sub, NodesConfFile)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("launcher: reading %s: %w", path, err)
		}
		c, err := cluster.ParseNodesConf(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrLayout, path, err)
		}
		if c.Myself() == nil {
			return nil, fmt.Errorf("%w: %s names no node as myself", ErrLayout, path)
		}
		ex.Confs[id] = c
	}
	slices.Sort(ex.NonEmpty)
	return ex, nil
}

// NodeIDs checks what dir holds against plan p and returns the node id of
// every shard: the id a shard's own nodes.conf gives it, else the id the
// other shards' files give it, else a new one. It fails, wrapping
// ErrLayout, when a nodes.conf describes another number of shards, other
// slots or other ports, when a shard directory beyond the plan holds
// anything, or when two shards claim one id.
func NodeIDs(dir string, ex *Existing, p *numa.Plan) ([]string, error) {
	n := len(p.Shards)
	ranges := cluster.SplitSlots(n)
	ids := make([]string, n)
	peer := make([]string, n)
	for _, self := range sortedKeys(ex.Confs) {
		c := ex.Confs[self]
		path := filepath.Join(ShardDir(dir, self), NodesConfFile)
		if self >= n || len(c.Nodes) != n {
			return nil, fmt.Errorf("%w: %s describes %s, but the plan is %s%s",
				ErrLayout, path, describeConf(c), describePlan(p), layoutAdvice(dir, ex))
		}
		for _, node := range c.Nodes {
			k := slices.IndexFunc(p.Shards, func(s numa.ShardPlan) bool { return s.Port == node.Port })
			if k < 0 {
				return nil, fmt.Errorf("%w: %s describes %s, but the plan is %s%s",
					ErrLayout, path, describeConf(c), describePlan(p), layoutAdvice(dir, ex))
			}
			if len(node.Slots) != 1 || node.Slots[0] != ranges[k] {
				return nil, fmt.Errorf("%w: %s gives the node on port %d slots %s, but the plan gives it %s (the slots split evenly)%s",
					ErrLayout, path, node.Port, describeSlots(node.Slots), ranges[k], layoutAdvice(dir, ex))
			}
			if node.Myself != (k == self) {
				return nil, fmt.Errorf("%w: %s, in shard-%d's directory, does not name the node on port %d as myself",
					ErrLayout, path, self, p.Shards[self].Port)
			}
			if node.Myself {
				ids[k] = node.ID
			} else if peer[k] == "" {
				peer[k] = node.ID
			}
		}
	}
	for _, id := range ex.NonEmpty {
		if id >= n {
			return nil, fmt.Errorf("%w: %s is not empty, but the plan is %s%s",
				ErrLayout, ShardDir(dir, id), describePlan(p), layoutAdvice(dir, ex))
		}
	}
	owner := map[string]int{}
	for i := range ids {
		if ids[i] == "" {
			ids[i] = peer[i]
		}
		if ids[i] == "" {
			ids[i] = cluster.NewNodeID()
		}
		if j, dup := owner[ids[i]]; dup {
			return nil, fmt.Errorf("%w: shard-%d and shard-%d of %s both have node id %s (a shard directory copied from another?)",
				ErrLayout, j, i, dir, ids[i])
		}
		owner[ids[i]] = i
	}
	return ids, nil
}

func sortedKeys(m map[int]*cluster.Config) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func describeSlots(rs []cluster.Range) string {
	if len(rs) == 0 {
		return "none"
	}
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// describeConf says what layout a nodes.conf describes: "3 shards on ports
// 7000-7002".
func describeConf(c *cluster.Config) string {
	ports := make([]int, 0, len(c.Nodes))
	for _, n := range c.Nodes {
		ports = append(ports, n.Port)
	}
	slices.Sort(ports)
	return pluralize(len(c.Nodes), "shard") + " on " + describePorts(ports)
}

func describePlan(p *numa.Plan) string {
	ports := make([]int, 0, len(p.Shards))
	for _, s := range p.Shards {
		ports = append(ports, s.Port)
	}
	return pluralize(len(p.Shards), "shard") + " on " + describePorts(ports)
}

func describePorts(ports []int) string {
	switch {
	case len(ports) == 0:
		return "no ports"
	case len(ports) == 1:
		return "port " + strconv.Itoa(ports[0])
	case ports[len(ports)-1]-ports[0] == len(ports)-1:
		return "ports " + strconv.Itoa(ports[0]) + "-" + strconv.Itoa(ports[len(ports)-1])
	}
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return "ports " + strings.Join(s, ",")
}

// layoutAdvice tells the operator how to start on what dir holds.
func layoutAdvice(dir string, ex *Existing) string {
	const why = ": each shard's data belongs to its slots, so Shoal does not re-slot it."
	for _, k := range sortedKeys(ex.Confs) {
		c := ex.Confs[k]
		ports := make([]int, 0, len(c.Nodes))
		for _, n := range c.Nodes {
			ports = append(ports, n.Port)
		}
		slices.Sort(ports)
		if len(ports) > 0 && ports[len(ports)-1]-ports[0] == len(ports)-1 {
			return fmt.Sprintf("%s Launch with the layout %s was made with (--shards %d --port %d), or use another --dir.",
				why, dir, len(ports), ports[0])
		}
		break // the first file speaks for the layout
	}
	return why + " Launch with the layout " + dir + " was made with, or use another --dir."
}

func pluralize(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// ClusterConfig is the cluster the launcher writes for plan p: node i is
// shard i with node id ids[i], reached at announceIP and the shard's port
// (bus port +10000), config epoch i+1 and the i-th of SplitSlots(n); the
// current epoch is n. No node is myself; NodesConf picks one.
func ClusterConfig(p *numa.Plan, announceIP string, ids []string) (*cluster.Config, error) {
	n := len(p.Shards)
	if len(ids) != n {
		return nil, fmt.Errorf("launcher: %d node ids for %d shards", len(ids), n)
	}
	ranges := cluster.SplitSlots(n)
	if ranges == nil {
		return nil, fmt.Errorf("launcher: %d shards cannot split %d slots", n, cluster.Slots)
	}
	if err := checkBusPorts(p); err != nil {
		return nil, err
	}
	c := &cluster.Config{CurrentEpoch: uint64(n)}
	for i, s := range p.Shards {
		c.Nodes = append(c.Nodes, &cluster.Node{
			ID:    ids[i],
			IP:    announceIP,
			Port:  s.Port,
			CPort: s.Port + clusterBusOffset,
			Epoch: uint64(i + 1),
			Slots: []cluster.Range{ranges[i]},
		})
	}
	if err := c.Index(); err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	return c, nil
}

// checkBusPorts refuses ports whose cluster bus port (port+10000, which
// nodes.conf and CLUSTER NODES announce) would run past 65535, as Redis
// refuses them.
func checkBusPorts(p *numa.Plan) error {
	for _, s := range p.Shards {
		if s.Port+clusterBusOffset > 65535 {
			return fmt.Errorf("%w: port %d of shard %d leaves no room for its cluster bus port (port+%d, as in Redis): use ports up to %d",
				ErrUsage, s.Port, s.ID, clusterBusOffset, 65535-clusterBusOffset)
		}
	}
	return nil
}

// NodesConf is the nodes.conf of node self of c: c's nodes with self
// flagged myself. c is not changed.
func NodesConf(c *cluster.Config, self int) []byte {
	own := &cluster.Config{CurrentEpoch: c.CurrentEpoch}
	for i, n := range c.Nodes {
		cp := *n
		cp.Myself = i == self
		own.Nodes = append(own.Nodes, &cp)
	}
	return own.MarshalNodesConf()
}

// WriteLayout creates every shard's directory under dir and writes its
// nodes.conf, each file replaced atomically (written aside, synced,
// renamed over).
func WriteLayout(dir string, c *cluster.Config) error {
	for i := range c.Nodes {
		sub := ShardDir(dir, i)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("launcher: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(sub, NodesConfFile), NodesConf(c, i)); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("launcher: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("launcher: writing %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
