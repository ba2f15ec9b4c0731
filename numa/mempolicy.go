package numa

import "strconv"

// MemPolicy is a Linux NUMA memory policy mode (MPOL_* in
// linux/mempolicy.h).
type MemPolicy int

// Memory policy modes.
const (
	// MemDefault falls back to the process default: allocate on the node
	// of the CPU that faults the page in.
	MemDefault MemPolicy = 0
	// MemPreferred allocates on one node while it has free memory, then
	// anywhere.
	MemPreferred MemPolicy = 1
	// MemBind allocates only on the given nodes (the OOM killer acts when
	// they are full).
	MemBind MemPolicy = 2
	// MemInterleave spreads pages round robin over the given nodes.
	MemInterleave MemPolicy = 3
	// MemLocal allocates on the node of the allocating CPU.
	MemLocal MemPolicy = 4
	// MemPreferredMany prefers a set of nodes (Linux 5.15).
	MemPreferredMany MemPolicy = 5
	// MemWeightedInterleave interleaves by per-node weights (Linux 6.9).
	MemWeightedInterleave MemPolicy = 6
)

// String is the policy's name as /proc/PID/numa_maps prints it.
func (m MemPolicy) String() string {
	switch m {
	case MemDefault:
		return "default"
	case MemPreferred:
		return "prefer"
	case MemBind:
		return "bind"
	case MemInterleave:
		return "interleave"
	case MemLocal:
		return "local"
	case MemPreferredMany:
		return "prefer (many)"
	case MemWeightedInterleave:
		return "weighted interleave"
	}
	return "MemPolicy(" + strconv.Itoa(int(m)) + ")"
}

// MaxMemNode bounds the node IDs SetMemPolicy and GetMemPolicy handle: the
// largest MAX_NUMNODES Linux can be built with is 1024.
const MaxMemNode = 1023

// mpolModeFlags are the MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES and
// MPOL_F_NUMA_BALANCING bits get_mempolicy ORs into the mode.
const mpolModeFlags = 0xe000

// parseKernelRelease returns the major and minor version of a kernel release
// string such as "6.18.44-fc-v669" or "5.15.0-91-generic".
func parseKernelRelease(rel string) (major, minor int, ok bool) {
	var part [2]int
	i := 0
	for k := range part {
		start := i
		for i < len(rel) && rel[i] >= '0' && rel[i] <= '9' && i-start < 6 {
			part[k] = part[k]*10 + int(rel[i]-'0')
			i++
		}
		if i == start {
			return 0, 0, false
		}
		if k == 0 {
			if i >= len(rel) || rel[i] != '.' {
				return 0, 0, false
			}
			i++
		}
	}
	return part[0], part[1], true
}
