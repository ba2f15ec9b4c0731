package numa

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Topology is the machine as sysfs describes it: NUMA nodes, CPUs and how the
// CPUs group into physical cores. Read builds it; it is immutable afterwards
// and safe to share between goroutines.
type Topology struct {
	// NUMA reports whether sysfs has a node/ directory. Without one (a kernel
	// built without CONFIG_NUMA) Nodes holds one synthetic node 0 with every
	// online CPU and the memory from /proc/meminfo.
	NUMA bool `json:"numa"`
	// Nodes are the online nodes, ascending by ID, including nodes without
	// CPUs (memory-only nodes such as CXL expanders).
	Nodes []Node `json:"nodes"`
	// CPUs are the present CPUs, online or not, ascending by ID.
	CPUs []CPU `json:"cpus"`
	// Online are the IDs of the online CPUs, ascending.
	Online []int `json:"online"`
	// Possible is cpu/possible (CPUs the kernel could ever bring up,
	// hot-plug slots included); nil when sysfs does not say.
	Possible []int `json:"possible"`
	// PossibleNodes is node/possible; nil when sysfs does not say.
	PossibleNodes []int `json:"possible_nodes"`
	// MemBytes is the memory of all Nodes together.
	MemBytes uint64 `json:"mem_bytes"`
}

// Node is one NUMA node.
type Node struct {
	ID int `json:"id"`
	// CPUs are the node's online CPUs, ascending.
	CPUs []int `json:"cpus"`
	// MemBytes is the node's MemTotal; 0 for a node without memory or
	// without a readable meminfo.
	MemBytes uint64 `json:"mem_bytes"`
}

// CPU is one logical CPU (a hardware thread).
type CPU struct {
	ID int `json:"id"`
	// Node is the NUMA node, or -1 when sysfs does not place the CPU.
	Node int `json:"node"`
	// Package is physical_package_id (the socket), -1 when unknown.
	Package int `json:"package"`
	// Core is core_id: unique within a package only, and not necessarily
	// contiguous. -1 when unknown.
	Core int `json:"core"`
	// Siblings are the CPUs sharing this CPU's physical core, itself
	// included (core_cpus_list, or thread_siblings_list on kernels before
	// 5.7). The kernel lists only online siblings. A CPU without a topology
	// directory (offline CPUs lose it) is its own only sibling.
	Siblings []int `json:"siblings"`
	Online   bool  `json:"online"`
}

// Core is one physical core of a node: the online CPUs it runs, ascending.
type Core struct {
	Node    int   `json:"node"`
	Package int   `json:"package"`
	ID      int   `json:"id"`
	CPUs    []int `json:"cpus"`
}

const (
	cpuSysDir  = "sys/devices/system/cpu"
	nodeSysDir = "sys/devices/system/node"
)

// Read reads the topology from the sysfs tree under root ("/" on a live
// system; a fixture directory in tests). Missing optional files are
// tolerated: a machine without node/ is one node, a CPU without topology/
// is its own core, a missing cpu/online means every present CPU whose
// cpuN/online is not 0 is online. A file that exists but does not parse is an
// error.
func Read(root string) (*Topology, error) {
	if root == "" {
		root = "/"
	}
	cpuDir := filepath.Join(root, cpuSysDir)
	t := &Topology{}

	present, ok, err := readCPUListFile(filepath.Join(cpuDir, "present"))
	if err != nil {
		return nil, err
	}
	if !ok {
		if present, err = listIndexedDirs(cpuDir, "cpu"); err != nil {
			return nil, err
		}
	}
	if len(present) == 0 {
		return nil, fmt.Errorf("numa: no CPUs under %s", cpuDir)
	}
	online, haveOnline, err := readCPUListFile(filepath.Join(cpuDir, "online"))
	if err != nil {
		return nil, err
	}
	if t.Possible, _, err = readCPUListFile(filepath.Join(cpuDir, "possible")); err != nil {
		return nil, err
	}

	t.CPUs = make([]CPU, 0, len(present))
	for _, id := range present {
		c, err := readCPU(cpuDir, id, online, haveOnline)
		if err != nil {
			return nil, err
		}
		t.CPUs = append(t.CPUs, c)
		if c.Online {
			t.Online = append(t.Online, id)
		}
	}

	numa, err := t.readNodes(root, cpuDir)
	if err != nil {
		return nil, err
	}
	if !numa {
		mem, err := readMemTotal(filepath.Join(root, "proc/meminfo"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		t.Nodes = []Node{{ID: 0, CPUs: slices.Clone(t.Online), MemBytes: mem}}
		for i := range t.CPUs {
			t.CPUs[i].Node = 0
		}
	}
	t.NUMA = numa
	for _, n := range t.Nodes {
		t.MemBytes += n.MemBytes
	}
	return t, nil
}

func readCPU(cpuDir string, id int, online []int, haveOnline bool) (CPU, error) {
	c := CPU{ID: id, Node: -1, Package: -1, Core: -1}
	dir := filepath.Join(cpuDir, "cpu"+strconv.Itoa(id))
	if haveOnline {
		_, c.Online = slices.BinarySearch(online, id)
	} else {
		v, ok, err := readIntFile(filepath.Join(dir, "online"))
		if err != nil {
			return c, err
		}
		c.Online = !ok || v != 0
	}
	topo := filepath.Join(dir, "topology")
	var err error
	if c.Core, _, err = readIntFileOr(filepath.Join(topo, "core_id"), -1); err != nil {
		return c, err
	}
	if c.Package, _, err = readIntFileOr(filepath.Join(topo, "physical_package_id"), -1); err != nil {
		return c, err
	}
	for _, name := range []string{"core_cpus_list", "thread_siblings_list"} {
		sib, ok, err := readCPUListFile(filepath.Join(topo, name))
		if err != nil {
			return c, err
		}
		if ok {
			c.Siblings = sib
			break
		}
	}
	if _, in := slices.BinarySearch(c.Siblings, id); !in {
		c.Siblings = insertSorted(c.Siblings, id)
	}
	return c, nil
}

// readNodes fills t.Nodes, t.PossibleNodes and CPU.Node from node/. It
// reports false when there is no usable node/ directory.
func (t *Topology) readNodes(root, cpuDir string) (bool, error) {
	nodeDir := filepath.Join(root, nodeSysDir)
	if _, err := os.Stat(nodeDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("numa: %w", err)
	}
	ids, ok, err := readCPUListFile(filepath.Join(nodeDir, "online"))
	if err != nil {
		return false, err
	}
	if !ok {
		if ids, err = listIndexedDirs(nodeDir, "node"); err != nil {
			return false, err
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	if t.PossibleNodes, _, err = readCPUListFile(filepath.Join(nodeDir, "possible")); err != nil {
		return false, err
	}
	for _, id := range ids {
		dir := filepath.Join(nodeDir, "node"+strconv.Itoa(id))
		cpus, _, err := readCPUListFile(filepath.Join(dir, "cpulist"))
		if err != nil {
			return false, err
		}
		mem, err := readMemTotal(filepath.Join(dir, "meminfo"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
		n := Node{ID: id, MemBytes: mem}
		for _, c := range cpus {
			cpu := t.cpu(c)
			if cpu == nil || cpu.Node >= 0 {
				continue
			}
			cpu.Node = id
			if cpu.Online {
				n.CPUs = append(n.CPUs, c)
			}
		}
		t.Nodes = append(t.Nodes, n)
	}
	// Some architectures drop offline CPUs from the node's cpulist; the
	// cpuN/nodeM link the driver core made at registration still places them.
	for i := range t.CPUs {
		c := &t.CPUs[i]
		if c.Node >= 0 {
			continue
		}
		if c.Node, err = nodeLink(filepath.Join(cpuDir, "cpu"+strconv.Itoa(c.ID))); err != nil {
			return false, err
		}
		if c.Node >= 0 && c.Online {
			if n := t.node(c.Node); n != nil {
				n.CPUs = insertSorted(n.CPUs, c.ID)
			}
		}
	}
	return true, nil
}

// nodeLink returns M for the first "nodeM" entry in a cpuN directory, or -1.
func nodeLink(dir string) (int, error) {
	ids, err := listIndexedDirs(dir, "node")
	if err != nil || len(ids) == 0 {
		return -1, err
	}
	return ids[0], nil
}

// CPU returns the present CPU with this ID.
func (t *Topology) CPU(id int) (CPU, bool) {
	if c := t.cpu(id); c != nil {
		return *c, true
	}
	return CPU{}, false
}

// Node returns the online node with this ID.
func (t *Topology) Node(id int) (Node, bool) {
	if n := t.node(id); n != nil {
		return *n, true
	}
	return Node{}, false
}

func (t *Topology) cpu(id int) *CPU {
	i, ok := slices.BinarySearchFunc(t.CPUs, id, func(c CPU, id int) int { return c.ID - id })
	if !ok {
		return nil
	}
	return &t.CPUs[i]
}

func (t *Topology) node(id int) *Node {
	i, ok := slices.BinarySearchFunc(t.Nodes, id, func(n Node, id int) int { return n.ID - id })
	if !ok {
		return nil
	}
	return &t.Nodes[i]
}

// Cores returns the physical cores of a node (every node when node < 0) built
// from its online CPUs, ordered by their lowest CPU.
func (t *Topology) Cores(node int) []Core {
	var cpus []int
	for _, n := range t.Nodes {
		if node < 0 || n.ID == node {
			cpus = append(cpus, n.CPUs...)
		}
	}
	slices.Sort(cpus)
	return t.coresOf(cpus)
}

// coresOf partitions cpus (sorted, online) into physical cores: each CPU joins
// the core of its lowest sibling that is in cpus and on the same node. The
// result covers every CPU of cpus exactly once even when sysfs sibling lists
// disagree with each other.
func (t *Topology) coresOf(cpus []int) []Core {
	var cores []Core
	taken := make(map[int]bool, len(cpus))
	for _, id := range cpus {
		if taken[id] {
			continue
		}
		c := t.cpu(id)
		if c == nil {
			continue
		}
		core := Core{Node: c.Node, Package: c.Package, ID: c.Core, CPUs: []int{id}}
		taken[id] = true
		for _, s := range c.Siblings {
			if s == id || taken[s] {
				continue
			}
			if _, in := slices.BinarySearch(cpus, s); !in {
				continue
			}
			if sc := t.cpu(s); sc == nil || sc.Node != c.Node {
				continue
			}
			taken[s] = true
			core.CPUs = append(core.CPUs, s)
		}
		slices.Sort(core.CPUs)
		cores = append(cores, core)
	}
	return cores
}

// ThreadsPerCore is the largest number of online CPUs sharing one physical
// core: 1 without SMT, 2 with Hyper-Threading, 4 or 8 on POWER.
func (t *Topology) ThreadsPerCore() int {
	most := 0
	for _, c := range t.Cores(-1) {
		most = max(most, len(c.CPUs))
	}
	return most
}

// SMT reports whether any physical core runs more than one online CPU.
func (t *Topology) SMT() bool { return t.ThreadsPerCore() > 1 }

// Packages returns the distinct physical package IDs of the online CPUs.
func (t *Topology) Packages() []int {
	var pk []int
	for _, c := range t.CPUs {
		if c.Online && c.Package >= 0 {
			if _, in := slices.BinarySearch(pk, c.Package); !in {
				pk = insertSorted(pk, c.Package)
			}
		}
	}
	return pk
}

// Summary is a one-line description, for example
// "2 nodes, 2 packages, 32 cores, 64 CPUs (SMT 2), 188.0 GiB".
func (t *Topology) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", plural(len(t.Nodes), "node"))
	if !t.NUMA {
		b.WriteString(" (no NUMA in sysfs)")
	}
	if pk := len(t.Packages()); pk > 0 {
		fmt.Fprintf(&b, ", %s", plural(pk, "package"))
	}
	fmt.Fprintf(&b, ", %s", plural(len(t.Cores(-1)), "core"))
	if len(t.Online) == len(t.CPUs) {
		fmt.Fprintf(&b, ", %s", plural(len(t.CPUs), "CPU"))
	} else {
		fmt.Fprintf(&b, ", %d of %d CPUs online", len(t.Online), len(t.CPUs))
	}
	if tpc := t.ThreadsPerCore(); tpc > 1 {
		fmt.Fprintf(&b, " (SMT %d)", tpc)
	} else {
		b.WriteString(" (no SMT)")
	}
	fmt.Fprintf(&b, ", %s", FormatBytes(t.MemBytes))
	return b.String()
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// FormatBytes formats a byte count with a binary unit and one decimal
// ("188.0 GiB", "512.0 MiB", "900 B").
func FormatBytes(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(1024), 0
	for m := n / 1024; m >= 1024 && exp < len(units)-1; m /= 1024 {
		div *= 1024
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + units[exp:exp+1] + "iB"
}

// readCPUListFile reads a cpulist-syntax file. ok is false when it does not
// exist.
func readCPUListFile(path string) (list []int, ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("numa: %w", err)
	}
	list, err = ParseCPUList(string(data))
	if err != nil {
		return nil, false, fmt.Errorf("%w (in %s)", err, path)
	}
	return list, true, nil
}

// readIntFile reads a file holding one decimal integer. ok is false when it
// does not exist.
func readIntFile(path string) (v int, ok bool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("numa: %w", err)
	}
	v, err = strconv.Atoi(string(bytes.TrimSpace(data)))
	if err != nil {
		return 0, false, fmt.Errorf("numa: %s: %w", path, err)
	}
	return v, true, nil
}

func readIntFileOr(path string, def int) (int, bool, error) {
	v, ok, err := readIntFile(path)
	if !ok {
		v = def
	}
	return v, ok, err
}

// readMemTotal reads MemTotal from a meminfo file (/proc/meminfo or a node's
// meminfo). The error wraps fs.ErrNotExist when the file is missing.
func readMemTotal(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("numa: %w", err)
	}
	v, err := ParseMemTotal(data)
	if err != nil {
		return 0, fmt.Errorf("%w (in %s)", err, path)
	}
	return v, nil
}

// ParseMemTotal returns MemTotal in bytes from meminfo text in either the
// /proc/meminfo form ("MemTotal:  24684084 kB") or the per-node form
// ("Node 0 MemTotal:  4155596 kB").
func ParseMemTotal(data []byte) (uint64, error) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		f := bytes.Fields(line)
		for i, w := range f {
			if string(w) != "MemTotal:" {
				continue
			}
			if i+1 >= len(f) {
				return 0, fmt.Errorf("numa: MemTotal without a value")
			}
			v, err := strconv.ParseUint(string(f[i+1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("numa: MemTotal: %w", err)
			}
			mul := uint64(1)
			if i+2 < len(f) {
				switch string(f[i+2]) {
				case "kB":
					mul = 1024
				default:
					return 0, fmt.Errorf("numa: MemTotal: unknown unit %q", f[i+2])
				}
			}
			if v > ^uint64(0)/mul {
				return 0, fmt.Errorf("numa: MemTotal: %d kB overflows", v)
			}
			return v * mul, nil
		}
	}
	return 0, fmt.Errorf("numa: no MemTotal in meminfo")
}

// listIndexedDirs returns the N of every "<prefix>N" entry of dir, ascending.
func listIndexedDirs(dir, prefix string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("numa: %w", err)
	}
	var ids []int
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		num := name[len(prefix):]
		if num == "" || num[0] == '+' || num[0] == '-' {
			continue
		}
		if v, err := strconv.Atoi(num); err == nil {
			ids = append(ids, v)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func insertSorted(s []int, v int) []int {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}
