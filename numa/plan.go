package numa

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Defaults of PlanOptions.
const (
	DefaultBasePort    = 6379
	DefaultMemFraction = 0.8
	// MemCapAdvice is the per-shard memory above which MakePlan warns: Redis
	// advises keeping each shard well under 25 GB (fork, restart and
	// rebalancing times grow with the shard).
	MemCapAdvice = 25 << 30
	// PlanVersion is Plan.Version, raised on any incompatible change of the
	// JSON schema.
	PlanVersion = 1
)

// ErrPlan is wrapped by every MakePlan error: the options ask for something
// the machine cannot give.
var ErrPlan = errors.New("numa: impossible plan")

// PlanOptions say how to carve the machine into shards. The zero value is the
// default plan: one shard per physical core of every online CPU, grouped by
// node, ports from 6379, 80% of each node's memory shared by its shards.
type PlanOptions struct {
	// Shards is the total number of shards, spread over the nodes in
	// proportion to their usable cores (largest remainder; ties go to the
	// lower node). 0 leaves the count to ShardsPerNode.
	Shards int
	// ShardsPerNode is the number of shards on every node that has usable
	// cores. 0 (with Shards 0) means one shard per physical core.
	ShardsPerNode int
	// ReserveCores physical cores (all their SMT siblings) are left to the
	// kernel and NIC interrupts. They are taken one at a time from the node
	// with the most cores left (the lower node on ties), always its highest
	// numbered remaining core, so the reserve spreads evenly over the nodes
	// and sits at the end of each.
	ReserveCores int
	// CPUs restricts the plan to these CPUs, like taskset -c (every one must
	// be online). nil means every online CPU. A launcher running inside a
	// narrower cpuset passes GetAffinity(0) here.
	CPUs []int
	// BasePort is the port of shard 0; shard i listens on BasePort+i. 0
	// means 6379.
	BasePort int
	// MemCap is each shard's memory cap in bytes. 0 means the node's memory
	// × MemFraction / shards on the node, rounded down to a MiB.
	MemCap uint64
	// MemFraction is the share of a node's memory its shards may use
	// together when MemCap is 0; 0 means 0.8, leaving room for the kernel,
	// the page cache and buffers.
	MemFraction float64
}

// Plan is the carving of one machine into shards. Its JSON form (see the
// package documentation) is stable within a PlanVersion.
type Plan struct {
	Version int `json:"version"`
	// Topology is Topology.Summary() of the machine the plan is for.
	Topology string `json:"topology"`
	BasePort int    `json:"base_port"`
	// Shards are numbered node by node, and within a node by CPU.
	Shards []ShardPlan `json:"shards"`
	// Reserved are the CPUs left to the kernel and interrupts
	// (PlanOptions.ReserveCores), ascending.
	Reserved []int `json:"reserved_cpus"`
	// Idle are usable CPUs no shard runs on: those of nodes that got no
	// shard when PlanOptions.Shards is below the number of nodes.
	Idle []int `json:"idle_cpus"`
	// Warnings are the plan's doubtful points, one sentence each.
	Warnings []string `json:"warnings"`
}

// ShardPlan is what one shard process gets.
type ShardPlan struct {
	ID int `json:"id"`
	// Node is the NUMA node the shard's CPUs belong to.
	Node int `json:"node"`
	// MemNode is the node to bind the shard's memory to, or -1 to leave
	// the memory policy alone: on a single-node machine (binding gains
	// nothing there, and set_mempolicy is often filtered in containers) and
	// for a node without memory of its own.
	MemNode int `json:"mem_node"`
	// CPUs is the affinity set, ascending.
	CPUs []int `json:"cpus"`
	Port int   `json:"port"`
	// MemCap is the shard's memory cap in bytes; 0 means no cap.
	MemCap uint64 `json:"mem_cap"`
}

// nodeShards is one node's share of the plan while it is being made.
type nodeShards struct {
	node   Node
	cores  []Core
	shards int
}

// MakePlan carves t according to o. It fails (wrapping ErrPlan) when the
// request is impossible: no usable CPU, a CPU in o.CPUs that is not online,
// a reserve that leaves no core, ports beyond 65535, negative counts.
func MakePlan(t *Topology, o PlanOptions) (*Plan, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	p := &Plan{
		Version:  PlanVersion,
		Topology: t.Summary(),
		BasePort: o.BasePort,
		Shards:   []ShardPlan{},
		Reserved: []int{},
		Idle:     []int{},
		Warnings: []string{},
	}
	if p.BasePort == 0 {
		p.BasePort = DefaultBasePort
	}
	frac := o.MemFraction
	if frac == 0 {
		frac = DefaultMemFraction
	}

	nodes, err := usableNodes(t, o.CPUs)
	if err != nil {
		return nil, err
	}
	if err := reserve(nodes, o.ReserveCores, p); err != nil {
		return nil, err
	}
	total := spread(nodes, o)
	if last := p.BasePort + total - 1; last > math.MaxUint16 {
		return nil, fmt.Errorf("%w: %d shards from port %d run past 65535", ErrPlan, total, p.BasePort)
	}

	for _, ns := range nodes {
		if ns.shards == 0 {
			if len(ns.cores) > 0 {
				idle := flatten(ns.cores)
				p.Idle = append(p.Idle, idle...)
				p.warnf("node %d gets no shard: CPUs %s stay idle", ns.node.ID, FormatCPUList(idle))
			}
			continue
		}
		memNode := -1
		if len(t.Nodes) > 1 && ns.node.MemBytes > 0 {
			memNode = ns.node.ID
		}
		if len(t.Nodes) > 1 && ns.node.MemBytes == 0 {
			p.warnf("node %d has no memory of its own: its shards allocate from any node", ns.node.ID)
		}
		memCap := o.MemCap
		if memCap == 0 {
			memCap = defaultMemCap(t, ns, total, frac, p)
		} else if ns.node.MemBytes > 0 && memCap > ns.node.MemBytes/uint64(ns.shards) {
			p.warnf("node %d: %d shards × %s exceed the node's %s", ns.node.ID, ns.shards,
				FormatBytes(memCap), FormatBytes(ns.node.MemBytes))
		}
		if memCap > MemCapAdvice && o.MemCap == 0 {
			p.warnf("node %d: memory cap %s per shard is above %s, the most Redis advises for one shard: plan more shards",
				ns.node.ID, FormatBytes(memCap), FormatBytes(MemCapAdvice))
		}
		for _, cpus := range assign(ns, p) {
			slices.Sort(cpus)
			id := len(p.Shards)
			p.Shards = append(p.Shards, ShardPlan{
				ID:      id,
				Node:    ns.node.ID,
				MemNode: memNode,
				CPUs:    cpus,
				Port:    p.BasePort + id,
				MemCap:  memCap,
			})
		}
	}
	if o.MemCap > MemCapAdvice {
		p.warnf("memory cap %s per shard is above %s, the most Redis advises for one shard",
			FormatBytes(o.MemCap), FormatBytes(MemCapAdvice))
	}
	slices.Sort(p.Reserved)
	slices.Sort(p.Idle)
	return p, nil
}

func (o *PlanOptions) check() error {
	switch {
	case o.Shards < 0:
		return fmt.Errorf("%w: %d shards", ErrPlan, o.Shards)
	case o.ShardsPerNode < 0:
		return fmt.Errorf("%w: %d shards per node", ErrPlan, o.ShardsPerNode)
	case o.Shards > 0 && o.ShardsPerNode > 0:
		return fmt.Errorf("%w: both a shard total (%d) and shards per node (%d)", ErrPlan, o.Shards, o.ShardsPerNode)
	case o.ReserveCores < 0:
		return fmt.Errorf("%w: %d reserved cores", ErrPlan, o.ReserveCores)
	case o.BasePort < 0 || o.BasePort > math.MaxUint16:
		return fmt.Errorf("%w: base port %d", ErrPlan, o.BasePort)
	case math.IsNaN(o.MemFraction) || o.MemFraction < 0 || o.MemFraction > 1:
		return fmt.Errorf("%w: memory fraction %g outside (0, 1]", ErrPlan, o.MemFraction)
	case o.CPUs != nil && len(o.CPUs) == 0:
		return fmt.Errorf("%w: empty CPU list", ErrPlan)
	case o.Shards > math.MaxUint16:
		// Checked here too so that no count arithmetic can overflow.
		return fmt.Errorf("%w: %d shards run past port 65535", ErrPlan, o.Shards)
	case o.ShardsPerNode > math.MaxUint16:
		return fmt.Errorf("%w: %d shards per node run past port 65535", ErrPlan, o.ShardsPerNode)
	}
	return nil
}

// usableNodes returns, for every node with usable CPUs, its physical cores
// restricted to those CPUs.
func usableNodes(t *Topology, only []int) ([]nodeShards, error) {
	var want []int
	if only != nil {
		want = slices.Clone(only)
		slices.Sort(want)
		want = slices.Compact(want)
		for _, id := range want {
			c, ok := t.CPU(id)
			if !ok || !c.Online {
				return nil, fmt.Errorf("%w: CPU %d is not online", ErrPlan, id)
			}
			if _, ok := t.Node(c.Node); !ok {
				return nil, fmt.Errorf("%w: CPU %d is on no online node", ErrPlan, id)
			}
		}
	}
	var nodes []nodeShards
	for _, n := range t.Nodes {
		cpus := n.CPUs
		if want != nil {
			cpus = nil
			for _, c := range n.CPUs {
				if _, in := slices.BinarySearch(want, c); in {
					cpus = append(cpus, c)
				}
			}
		}
		if len(cpus) == 0 {
			continue
		}
		nodes = append(nodes, nodeShards{node: n, cores: t.coresOf(cpus)})
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no usable CPUs, so 0 shards", ErrPlan)
	}
	return nodes, nil
}

// reserve takes n cores off the nodes into p.Reserved, one at a time from the
// node with the most cores left (lower node on ties), its last core.
func reserve(nodes []nodeShards, n int, p *Plan) error {
	total := 0
	for _, ns := range nodes {
		total += len(ns.cores)
	}
	if n >= total {
		return fmt.Errorf("%w: reserving %d cores of %d leaves none for shards", ErrPlan, n, total)
	}
	for range n {
		best := 0
		for i := range nodes {
			if len(nodes[i].cores) > len(nodes[best].cores) {
				best = i
			}
		}
		cores := nodes[best].cores
		p.Reserved = append(p.Reserved, cores[len(cores)-1].CPUs...)
		nodes[best].cores = cores[:len(cores)-1]
	}
	return nil
}

// spread sets nodes[i].shards and returns the total.
func spread(nodes []nodeShards, o PlanOptions) int {
	total := 0
	switch {
	case o.Shards > 0:
		cores := 0
		for _, ns := range nodes {
			cores += len(ns.cores)
		}
		// Largest remainder: everyone gets the floor of their quota, the
		// leftover shards go to the biggest remainders, lower node first.
		rems := make([]int, len(nodes))
		given := 0
		for i := range nodes {
			q := o.Shards * len(nodes[i].cores)
			nodes[i].shards = q / cores
			rems[i] = q % cores
			given += nodes[i].shards
		}
		for ; given < o.Shards; given++ {
			best := -1
			for i := range nodes {
				if best < 0 || rems[i] > rems[best] {
					best = i
				}
			}
			nodes[best].shards++
			rems[best] = -1
		}
		total = o.Shards
	case o.ShardsPerNode > 0:
		for i := range nodes {
			if len(nodes[i].cores) > 0 {
				nodes[i].shards = o.ShardsPerNode
				total += o.ShardsPerNode
			}
		}
	default:
		for i := range nodes {
			nodes[i].shards = len(nodes[i].cores)
			total += nodes[i].shards
		}
	}
	return total
}

// assign returns the CPU sets of one node's shards. Up to one shard per core,
// each shard gets whole cores (the first shards one more core when they do
// not divide evenly). Up to one shard per CPU, each gets a contiguous run of
// CPUs in core order, so shards get single SMT threads and share cores. Past
// that, each shard gets one CPU, round robin over the first thread of every
// core, then the second, and so on.
func assign(ns nodeShards, p *Plan) [][]int {
	k, c := ns.shards, len(ns.cores)
	flat := flatten(ns.cores)
	out := make([][]int, 0, k)
	switch {
	case k <= c:
		next := 0
		for i := range k {
			n := c / k
			if i < c%k {
				n++
			}
			out = append(out, flatten(ns.cores[next:next+n]))
			next += n
		}
	case k <= len(flat):
		p.warnf("node %d: %d shards on %s: shards run on single SMT threads and share cores",
			ns.node.ID, k, plural(c, "core"))
		next := 0
		for i := range k {
			n := len(flat) / k
			if i < len(flat)%k {
				n++
			}
			out = append(out, slices.Clone(flat[next:next+n]))
			next += n
		}
	default:
		p.warnf("node %d: %d shards on %s: shards share CPUs round robin", ns.node.ID, k, plural(len(flat), "CPU"))
		var order []int
		for th := 0; len(order) < len(flat); th++ {
			for _, core := range ns.cores {
				if th < len(core.CPUs) {
					order = append(order, core.CPUs[th])
				}
			}
		}
		for i := range k {
			out = append(out, []int{order[i%len(order)]})
		}
	}
	return out
}

// defaultMemCap is frac of the node's memory shared by its shards, rounded
// down to a MiB. A node without memory of its own takes its shards' share of
// the machine's memory instead.
func defaultMemCap(t *Topology, ns nodeShards, total int, frac float64, p *Plan) uint64 {
	mem, shards := ns.node.MemBytes, ns.shards
	if mem == 0 {
		mem, shards = t.MemBytes, total
	}
	if mem == 0 {
		p.warnf("node %d: no memory size known: its shards run without a memory cap", ns.node.ID)
		return 0
	}
	c := uint64(float64(mem)*frac) / uint64(shards)
	if r := c &^ (1<<20 - 1); r > 0 {
		return r
	}
	return max(c, 1) // never 0, which would mean no cap

}

func flatten(cores []Core) []int {
	var out []int
	for _, c := range cores {
		out = append(out, c.CPUs...)
	}
	return out
}

func (p *Plan) warnf(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}
