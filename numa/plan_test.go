package numa

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// 0.8 × a fixture node's MemTotal / shards on the node, rounded down to a MiB,
// worked out independently of the code under test.
const (
	c6gn_64  = 1675624448
	c6gn_60  = 1786773504
	c6gn_16  = 6703546368
	c6gn_2   = 53631516672
	c6gn_100 = 1071644672
	x0_16    = 4992270336
	x0_14    = 5706350592
	x0_3     = 26629636096
	x0_48    = 1664090112
	x0_24    = 3328180224
	x0_4     = 19972227072
	x1_16    = 5050990592
	x1_15    = 5387583488
	x1_2     = 40411070464
	x1_48    = 1682964480
	x1_24    = 3366977536
	n0_12    = 8982102016
	n0_11    = 9798942720
	n0_2     = 53894709248
	n0_1     = 107790467072
	n1_12    = 9016705024
	n1_11    = 9836691456
	n1_2     = 54105473024
	n2_12    = 9016705024
	n2_1     = 108211994624
	n3_12    = 9015656448
	n3_1     = 108197314560
	off_6    = 2225078272
	off_5    = 2670723072
	off_4    = 3338665984
	off_8    = 1669332992
	vm_1     = 6501171200
	vm_2     = 3250585600
	vm_3     = 2166358016
	vm_half  = 4063232000 // MemFraction 0.5, one shard

	gib = 1 << 30
)

// sh is one expected shard (ID and port are filled in by number).
func sh(node, memNode int, cpus string, memCap uint64) ShardPlan {
	c, err := ParseCPUList(cpus)
	if err != nil {
		panic(err)
	}
	return ShardPlan{Node: node, MemNode: memNode, CPUs: c, MemCap: memCap}
}

// gen builds n expected shards from a closed form.
func gen(n int, f func(i int) ShardPlan) []ShardPlan {
	out := make([]ShardPlan, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func list(s ...ShardPlan) []ShardPlan { return s }

func capWarn(node int, c string) string {
	return fmt.Sprintf("node %d: memory cap %s per shard is above 25.0 GiB, the most Redis advises for one shard: plan more shards", node, c)
}

type planCase struct {
	fixture  string
	name     string
	opts     PlanOptions
	base     int
	shards   []ShardPlan
	reserved string
	idle     string
	warnings []string
}

func planCases() []planCase {
	f := fmt.Sprintf
	return []planCase{
		// AWS c6gn.16xlarge: 64 cores, one node, no SMT.
		{fixture: "c6gn.16xlarge", name: "default",
			shards: gen(64, func(i int) ShardPlan { return sh(0, -1, f("%d", i), c6gn_64) })},
		{fixture: "c6gn.16xlarge", name: "reserve4", opts: PlanOptions{ReserveCores: 4},
			shards:   gen(60, func(i int) ShardPlan { return sh(0, -1, f("%d", i), c6gn_60) }),
			reserved: "60-63"},
		{fixture: "c6gn.16xlarge", name: "shards16", opts: PlanOptions{Shards: 16},
			shards: gen(16, func(i int) ShardPlan { return sh(0, -1, f("%d-%d", 4*i, 4*i+3), c6gn_16) })},
		{fixture: "c6gn.16xlarge", name: "pernode2-port7000", opts: PlanOptions{ShardsPerNode: 2, BasePort: 7000},
			base:     7000,
			shards:   list(sh(0, -1, "0-31", c6gn_2), sh(0, -1, "32-63", c6gn_2)),
			warnings: []string{capWarn(0, "49.9 GiB")}},
		{fixture: "c6gn.16xlarge", name: "shards100", opts: PlanOptions{Shards: 100},
			shards:   gen(100, func(i int) ShardPlan { return sh(0, -1, f("%d", i%64), c6gn_100) }),
			warnings: []string{"node 0: 100 shards on 64 CPUs: shards share CPUs round robin"}},
		{fixture: "c6gn.16xlarge", name: "cpus0-7-reserve1-cap1g",
			opts:     PlanOptions{CPUs: []int{7, 6, 5, 4, 3, 2, 1, 0, 3}, ReserveCores: 1, MemCap: gib},
			shards:   gen(7, func(i int) ShardPlan { return sh(0, -1, f("%d", i), gib) }),
			reserved: "7"},
		{fixture: "c6gn.16xlarge", name: "shards4-cap40g", opts: PlanOptions{Shards: 4, MemCap: 40 * gib},
			shards: gen(4, func(i int) ShardPlan { return sh(0, -1, f("%d-%d", 16*i, 16*i+15), 40*gib) }),
			warnings: []string{
				"node 0: 4 shards × 40.0 GiB exceed the node's 124.9 GiB",
				"memory cap 40.0 GiB per shard is above 25.0 GiB, the most Redis advises for one shard",
			}},

		// Two sockets × 16 cores × 2 threads, siblings N and N+32.
		{fixture: "x86-2s-smt", name: "default",
			shards: slices.Concat(
				gen(16, func(i int) ShardPlan { return sh(0, 0, f("%d,%d", i, i+32), x0_16) }),
				gen(16, func(i int) ShardPlan { return sh(1, 1, f("%d,%d", 16+i, 48+i), x1_16) }))},
		{fixture: "x86-2s-smt", name: "reserve3", opts: PlanOptions{ReserveCores: 3},
			shards: slices.Concat(
				gen(14, func(i int) ShardPlan { return sh(0, 0, f("%d,%d", i, i+32), x0_14) }),
				gen(15, func(i int) ShardPlan { return sh(1, 1, f("%d,%d", 16+i, 48+i), x1_15) })),
			reserved: "14-15,31,46-47,63"},
		{fixture: "x86-2s-smt", name: "shards5", opts: PlanOptions{Shards: 5},
			shards: list(
				sh(0, 0, "0-5,32-37", x0_3), sh(0, 0, "6-10,38-42", x0_3), sh(0, 0, "11-15,43-47", x0_3),
				sh(1, 1, "16-23,48-55", x1_2), sh(1, 1, "24-31,56-63", x1_2)),
			warnings: []string{capWarn(1, "37.6 GiB")}},
		{fixture: "x86-2s-smt", name: "shards48", opts: PlanOptions{Shards: 48},
			shards: slices.Concat(
				gen(8, func(i int) ShardPlan { return sh(0, 0, f("%d,%d", i, i+32), x0_24) }),
				gen(16, func(m int) ShardPlan { return sh(0, 0, f("%d", 8+m/2+32*(m%2)), x0_24) }),
				gen(8, func(i int) ShardPlan { return sh(1, 1, f("%d,%d", 16+i, 48+i), x1_24) }),
				gen(16, func(m int) ShardPlan { return sh(1, 1, f("%d", 24+m/2+32*(m%2)), x1_24) })),
			warnings: []string{
				"node 0: 24 shards on 16 cores: shards run on single SMT threads and share cores",
				"node 1: 24 shards on 16 cores: shards run on single SMT threads and share cores",
			}},
		{fixture: "x86-2s-smt", name: "pernode48", opts: PlanOptions{ShardsPerNode: 48},
			shards: slices.Concat(
				gen(48, func(j int) ShardPlan { return sh(0, 0, f("%d", []int{j, j + 16, j - 32}[j/16]), x0_48) }),
				gen(48, func(j int) ShardPlan { return sh(1, 1, f("%d", 16+[]int{j, j + 16, j - 32}[j/16]), x1_48) })),
			warnings: []string{
				"node 0: 48 shards on 32 CPUs: shards share CPUs round robin",
				"node 1: 48 shards on 32 CPUs: shards share CPUs round robin",
			}},
		{fixture: "x86-2s-smt", name: "cpus-port7000",
			opts: PlanOptions{CPUs: []int{0, 1, 2, 3, 32, 33, 34, 35, 16, 17}, BasePort: 7000},
			base: 7000,
			shards: list(
				sh(0, 0, "0,32", x0_4), sh(0, 0, "1,33", x0_4), sh(0, 0, "2,34", x0_4), sh(0, 0, "3,35", x0_4),
				sh(1, 1, "16", x1_2), sh(1, 1, "17", x1_2)),
			warnings: []string{capWarn(1, "37.6 GiB")}},

		// Four nodes × 12 cores × 2 threads, siblings N and N+48.
		{fixture: "4node", name: "default",
			shards: slices.Concat(
				gen(12, func(i int) ShardPlan { return sh(0, 0, f("%d,%d", i, i+48), n0_12) }),
				gen(12, func(i int) ShardPlan { return sh(1, 1, f("%d,%d", 12+i, 60+i), n1_12) }),
				gen(12, func(i int) ShardPlan { return sh(2, 2, f("%d,%d", 24+i, 72+i), n2_12) }),
				gen(12, func(i int) ShardPlan { return sh(3, 3, f("%d,%d", 36+i, 84+i), n3_12) }))},
		{fixture: "4node", name: "reserve2", opts: PlanOptions{ReserveCores: 2},
			shards: slices.Concat(
				gen(11, func(i int) ShardPlan { return sh(0, 0, f("%d,%d", i, i+48), n0_11) }),
				gen(11, func(i int) ShardPlan { return sh(1, 1, f("%d,%d", 12+i, 60+i), n1_11) }),
				gen(12, func(i int) ShardPlan { return sh(2, 2, f("%d,%d", 24+i, 72+i), n2_12) }),
				gen(12, func(i int) ShardPlan { return sh(3, 3, f("%d,%d", 36+i, 84+i), n3_12) })),
			reserved: "11,23,59,71"},
		{fixture: "4node", name: "shards6", opts: PlanOptions{Shards: 6},
			shards: list(
				sh(0, 0, "0-5,48-53", n0_2), sh(0, 0, "6-11,54-59", n0_2),
				sh(1, 1, "12-17,60-65", n1_2), sh(1, 1, "18-23,66-71", n1_2),
				sh(2, 2, "24-35,72-83", n2_1), sh(3, 3, "36-47,84-95", n3_1)),
			warnings: []string{
				capWarn(0, "50.2 GiB"), capWarn(1, "50.4 GiB"), capWarn(2, "100.8 GiB"), capWarn(3, "100.8 GiB"),
			}},
		{fixture: "4node", name: "pernode3-cap8g-port30000",
			opts: PlanOptions{ShardsPerNode: 3, MemCap: 8 * gib, BasePort: 30000},
			base: 30000,
			shards: gen(12, func(i int) ShardPlan {
				a := 4 * i
				return sh(i/3, i/3, f("%d-%d,%d-%d", a, a+3, a+48, a+51), 8*gib)
			})},
		{fixture: "4node", name: "shards1", opts: PlanOptions{Shards: 1},
			shards: list(sh(0, 0, "0-11,48-59", n0_1)),
			idle:   "12-47,60-95",
			warnings: []string{
				capWarn(0, "100.4 GiB"),
				"node 1 gets no shard: CPUs 12-23,60-71 stay idle",
				"node 2 gets no shard: CPUs 24-35,72-83 stay idle",
				"node 3 gets no shard: CPUs 36-47,84-95 stay idle",
			}},

		// 8 cores × 2 threads; CPUs 6, 7, 13, 14, 15 offline.
		{fixture: "offline", name: "default",
			shards: list(sh(0, -1, "0,8", off_6), sh(0, -1, "1,9", off_6), sh(0, -1, "2,10", off_6),
				sh(0, -1, "3,11", off_6), sh(0, -1, "4,12", off_6), sh(0, -1, "5", off_6))},
		{fixture: "offline", name: "reserve1", opts: PlanOptions{ReserveCores: 1},
			shards: list(sh(0, -1, "0,8", off_5), sh(0, -1, "1,9", off_5), sh(0, -1, "2,10", off_5),
				sh(0, -1, "3,11", off_5), sh(0, -1, "4,12", off_5)),
			reserved: "5"},
		{fixture: "offline", name: "shards4", opts: PlanOptions{Shards: 4},
			shards: list(sh(0, -1, "0-1,8-9", off_4), sh(0, -1, "2-3,10-11", off_4),
				sh(0, -1, "4,12", off_4), sh(0, -1, "5", off_4))},
		{fixture: "offline", name: "shards8", opts: PlanOptions{Shards: 8},
			shards: list(sh(0, -1, "0,8", off_8), sh(0, -1, "1,9", off_8), sh(0, -1, "2,10", off_8),
				sh(0, -1, "3", off_8), sh(0, -1, "11", off_8), sh(0, -1, "4", off_8),
				sh(0, -1, "12", off_8), sh(0, -1, "5", off_8)),
			warnings: []string{"node 0: 8 shards on 6 cores: shards run on single SMT threads and share cores"}},

		// A 2-vCPU VM: one core, two threads, no node/ in sysfs.
		{fixture: "vm-2vcpu", name: "default", shards: list(sh(0, -1, "0-1", vm_1))},
		{fixture: "vm-2vcpu", name: "shards2", opts: PlanOptions{Shards: 2},
			shards:   list(sh(0, -1, "0", vm_2), sh(0, -1, "1", vm_2)),
			warnings: []string{"node 0: 2 shards on 1 core: shards run on single SMT threads and share cores"}},
		{fixture: "vm-2vcpu", name: "shards3", opts: PlanOptions{Shards: 3},
			shards:   list(sh(0, -1, "0", vm_3), sh(0, -1, "1", vm_3), sh(0, -1, "0", vm_3)),
			warnings: []string{"node 0: 3 shards on 2 CPUs: shards share CPUs round robin"}},
		{fixture: "vm-2vcpu", name: "port65535-half", opts: PlanOptions{BasePort: 65535, MemFraction: 0.5},
			base:   65535,
			shards: list(sh(0, -1, "0-1", vm_half))},
	}
}

func TestMakePlan(t *testing.T) {
	for _, tc := range planCases() {
		t.Run(tc.fixture+"/"+tc.name, func(t *testing.T) {
			topo := fixture(t, tc.fixture)
			p, err := MakePlan(topo, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			base := tc.base
			if base == 0 {
				base = DefaultBasePort
			}
			want := slices.Clone(tc.shards)
			for i := range want {
				want[i].ID, want[i].Port = i, base+i
			}
			if len(p.Shards) != len(want) {
				t.Errorf("%d shards, want %d", len(p.Shards), len(want))
			}
			for i := range min(len(p.Shards), len(want)) {
				g, w := p.Shards[i], want[i]
				if g.ID != w.ID || g.Node != w.Node || g.MemNode != w.MemNode || !slices.Equal(g.CPUs, w.CPUs) ||
					g.Port != w.Port || g.MemCap != w.MemCap {
					t.Errorf("shard %d = %s, want %s", i, fmtShard(g), fmtShard(w))
				}
			}
			if got := FormatCPUList(p.Reserved); got != tc.reserved {
				t.Errorf("Reserved = %q, want %q", got, tc.reserved)
			}
			if got := FormatCPUList(p.Idle); got != tc.idle {
				t.Errorf("Idle = %q, want %q", got, tc.idle)
			}
			if !slices.Equal(p.Warnings, tc.warnings) && len(p.Warnings)+len(tc.warnings) > 0 {
				t.Errorf("Warnings:\n got %q\nwant %q", p.Warnings, tc.warnings)
			}
			if p.BasePort != base || p.Version != PlanVersion || p.Topology != topo.Summary() {
				t.Errorf("header = %d %d %q", p.BasePort, p.Version, p.Topology)
			}
			checkPlan(t, topo, tc.opts, p)
			again, _ := MakePlan(topo, tc.opts)
			if a, b := mustJSON(t, p), mustJSON(t, again); !bytes.Equal(a, b) {
				t.Errorf("MakePlan is not deterministic")
			}
			checkGolden(t, tc.fixture+"_"+tc.name, p)
		})
	}
}

func fmtShard(s ShardPlan) string {
	return fmt.Sprintf("{id %d node %d mem %d cpus %s port %d cap %d}", s.ID, s.Node, s.MemNode,
		FormatCPUList(s.CPUs), s.Port, s.MemCap)
}

// checkPlan verifies what must hold for any plan: shards run only on usable
// CPUs of their own node, SMT siblings are never split unless shards share
// cores, nothing runs on reserved or idle CPUs, ports are consecutive, and
// every usable CPU is used, reserved or idle.
func checkPlan(t *testing.T, topo *Topology, o PlanOptions, p *Plan) {
	t.Helper()
	usable := map[int]bool{}
	for _, n := range topo.Nodes {
		for _, c := range n.CPUs {
			if o.CPUs == nil || slices.Contains(o.CPUs, c) {
				usable[c] = true
			}
		}
	}
	seen := map[int]bool{}
	for _, c := range p.Reserved {
		if !usable[c] || seen[c] {
			t.Errorf("reserved CPU %d is not usable or listed twice", c)
		}
		seen[c] = true
	}
	for _, c := range p.Idle {
		if !usable[c] || seen[c] {
			t.Errorf("idle CPU %d is not usable or also reserved", c)
		}
		seen[c] = true
	}
	sharing := slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "share") })
	used := map[int]bool{}
	for i, s := range p.Shards {
		if s.ID != i || s.Port != p.BasePort+i || len(s.CPUs) == 0 || !slices.IsSorted(s.CPUs) {
			t.Errorf("shard %d malformed: %s", i, fmtShard(s))
		}
		if s.MemNode != -1 && s.MemNode != s.Node {
			t.Errorf("shard %d binds memory to node %d but runs on node %d", i, s.MemNode, s.Node)
		}
		for _, c := range s.CPUs {
			cpu, _ := topo.CPU(c)
			if !usable[c] || seen[c] || cpu.Node != s.Node {
				t.Errorf("shard %d runs on CPU %d (node %d): unusable, reserved, idle or off-node", i, c, cpu.Node)
			}
			if !sharing {
				if used[c] {
					t.Errorf("CPU %d used by two shards without a sharing warning", c)
				}
				for _, sib := range cpu.Siblings {
					if usable[sib] && !seen[sib] && !slices.Contains(s.CPUs, sib) {
						t.Errorf("shard %d has CPU %d without its sibling %d", i, c, sib)
					}
				}
			}
			used[c] = true
		}
	}
	for c := range usable {
		if !used[c] && !seen[c] {
			t.Errorf("usable CPU %d is neither used, reserved nor idle", c)
		}
	}
}

func TestMakePlanErrors(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		opts    PlanOptions
		err     string
	}{
		{"c6gn.16xlarge", PlanOptions{ReserveCores: 64}, "reserving 64 cores of 64 leaves none"},
		{"c6gn.16xlarge", PlanOptions{CPUs: []int{0, 1}, ReserveCores: 2}, "reserving 2 cores of 2 leaves none"},
		{"c6gn.16xlarge", PlanOptions{BasePort: 65500}, "64 shards from port 65500 run past 65535"},
		{"c6gn.16xlarge", PlanOptions{Shards: 60000}, "60000 shards from port 6379 run past 65535"},
		{"c6gn.16xlarge", PlanOptions{Shards: math.MaxInt}, "shards run past port 65535"},
		{"x86-2s-smt", PlanOptions{ShardsPerNode: math.MaxInt/2 + 1}, "shards per node run past port 65535"},
		{"x86-2s-smt", PlanOptions{ShardsPerNode: 30000}, "60000 shards from port 6379 run past 65535"},
		{"c6gn.16xlarge", PlanOptions{CPUs: []int{64}}, "CPU 64 is not online"},
		{"c6gn.16xlarge", PlanOptions{CPUs: []int{}}, "empty CPU list"},
		{"c6gn.16xlarge", PlanOptions{Shards: 5, ShardsPerNode: 1}, "both a shard total"},
		{"c6gn.16xlarge", PlanOptions{Shards: -1}, "-1 shards"},
		{"c6gn.16xlarge", PlanOptions{ShardsPerNode: -2}, "-2 shards per node"},
		{"c6gn.16xlarge", PlanOptions{ReserveCores: -1}, "-1 reserved cores"},
		{"c6gn.16xlarge", PlanOptions{BasePort: -1}, "base port -1"},
		{"c6gn.16xlarge", PlanOptions{BasePort: 70000}, "base port 70000"},
		{"c6gn.16xlarge", PlanOptions{MemFraction: 1.5}, "memory fraction 1.5"},
		{"c6gn.16xlarge", PlanOptions{MemFraction: -0.1}, "memory fraction -0.1"},
		{"c6gn.16xlarge", PlanOptions{MemFraction: math.NaN()}, "memory fraction NaN"},
		{"offline", PlanOptions{CPUs: []int{0, 6}}, "CPU 6 is not online"},
		{"offline", PlanOptions{ReserveCores: 6}, "reserving 6 cores of 6"},
		{"vm-2vcpu", PlanOptions{ReserveCores: 1}, "reserving 1 cores of 1"},
		{"vm-2vcpu", PlanOptions{Shards: 2, BasePort: 65535}, "2 shards from port 65535"},
		{"x86-2s-smt", PlanOptions{CPUs: []int{-1}}, "CPU -1 is not online"},
	} {
		p, err := MakePlan(fixture(t, tc.fixture), tc.opts)
		if err == nil {
			t.Errorf("%s %+v: got a plan of %d shards, want error %q", tc.fixture, tc.opts, len(p.Shards), tc.err)
			continue
		}
		if !errors.Is(err, ErrPlan) || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("%s %+v: error %q, want ErrPlan containing %q", tc.fixture, tc.opts, err, tc.err)
		}
	}
	empty := &Topology{Nodes: []Node{{ID: 0}}}
	if _, err := MakePlan(empty, PlanOptions{}); err == nil || !strings.Contains(err.Error(), "0 shards") {
		t.Errorf("plan for a machine without CPUs: %v", err)
	}
}

// TestMakePlanOddNodes covers a node with CPUs but no memory and a node with
// memory but no CPUs.
func TestMakePlanOddNodes(t *testing.T) {
	root := writeTree(t, map[string]string{
		"sys/devices/system/cpu/present":        "0-3",
		"sys/devices/system/node/online":        "0-2",
		"sys/devices/system/node/node0/cpulist": "0-1",
		"sys/devices/system/node/node0/meminfo": "Node 0 MemTotal: 4194304 kB\n",
		"sys/devices/system/node/node1/cpulist": "2-3",
		"sys/devices/system/node/node2/cpulist": "",
		"sys/devices/system/node/node2/meminfo": "Node 2 MemTotal: 1048576 kB\n",
	})
	topo, err := Read(root)
	if err != nil {
		t.Fatal(err)
	}
	p, err := MakePlan(topo, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Node 0: 0.8 × 4 GiB / 2. Node 1 has no memory: 0.8 × the machine's
	// 5 GiB / 4 shards.
	want := []string{
		"{id 0 node 0 mem 0 cpus 0 port 6379 cap 1717567488}",
		"{id 1 node 0 mem 0 cpus 1 port 6380 cap 1717567488}",
		"{id 2 node 1 mem -1 cpus 2 port 6381 cap 1073741824}",
		"{id 3 node 1 mem -1 cpus 3 port 6382 cap 1073741824}",
	}
	var got []string
	for _, s := range p.Shards {
		got = append(got, fmtShard(s))
	}
	if !slices.Equal(got, want) {
		t.Errorf("shards:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if w := []string{"node 1 has no memory of its own: its shards allocate from any node"}; !slices.Equal(p.Warnings, w) {
		t.Errorf("warnings %q, want %q", p.Warnings, w)
	}
	checkPlan(t, topo, PlanOptions{}, p)
}

// TestMakePlanRandom checks the plan invariants over random options on
// every fixture.
func TestMakePlanRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"c6gn.16xlarge", "x86-2s-smt", "4node", "offline", "vm-2vcpu"}
	topos := map[string]*Topology{}
	for _, n := range names {
		topos[n] = fixture(t, n)
	}
	for range 400 {
		name := names[rng.IntN(len(names))]
		topo := topos[name]
		var o PlanOptions
		switch rng.IntN(3) {
		case 0:
			o.Shards = rng.IntN(2 * len(topo.Online))
		case 1:
			o.ShardsPerNode = rng.IntN(len(topo.Online))
		}
		o.ReserveCores = rng.IntN(4)
		if rng.IntN(3) == 0 {
			for _, c := range topo.Online {
				if rng.IntN(2) == 0 {
					o.CPUs = append(o.CPUs, c)
				}
			}
		}
		p, err := MakePlan(topo, o)
		if err != nil {
			if !errors.Is(err, ErrPlan) {
				t.Fatalf("%s %+v: %v", name, o, err)
			}
			continue
		}
		want := o.Shards
		if want == 0 && o.ShardsPerNode > 0 {
			nodes := map[int]bool{}
			for _, c := range topo.Online {
				if cpu, _ := topo.CPU(c); (o.CPUs == nil || slices.Contains(o.CPUs, c)) && !slices.Contains(p.Reserved, c) {
					nodes[cpu.Node] = true
				}
			}
			want = o.ShardsPerNode * len(nodes)
		}
		if want > 0 && len(p.Shards) != want {
			t.Errorf("%s %+v: %d shards, want %d", name, o, len(p.Shards), want)
		}
		checkPlan(t, topo, o, p)
		if t.Failed() {
			t.Fatalf("%s %+v", name, o)
		}
	}
}

func TestPlanJSONSchema(t *testing.T) {
	p, err := MakePlan(fixture(t, "x86-2s-smt"), PlanOptions{ReserveCores: 1})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(mustJSON(t, p), &doc); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"base_port", "idle_cpus", "reserved_cpus", "shards", "topology", "version", "warnings"}; !slices.Equal(keys, want) {
		t.Errorf("plan keys = %v, want %v", keys, want)
	}
	shard := doc["shards"].([]any)[0].(map[string]any)
	keys = keys[:0]
	for k := range shard {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"cpus", "id", "mem_cap", "mem_node", "node", "port"}; !slices.Equal(keys, want) {
		t.Errorf("shard keys = %v, want %v", keys, want)
	}
	if doc["warnings"] == nil || doc["idle_cpus"] == nil {
		t.Errorf("empty lists must be [], not null: %v %v", doc["warnings"], doc["idle_cpus"])
	}
	var back Plan
	if err := json.Unmarshal(mustJSON(t, p), &back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(mustJSON(t, &back), mustJSON(t, p)) {
		t.Error("JSON round trip changed the plan")
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(b), nil
}

func TestWriteTableError(t *testing.T) {
	p, err := MakePlan(fixture(t, "offline"), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for n := range 4 {
		if err := p.WriteTable(&failWriter{n: n}); err == nil || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("WriteTable after %d writes: %v", n, err)
		}
	}
}

func mustJSON(t *testing.T, p *Plan) []byte {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares the table and the JSON of p with
// testdata/golden/<name>.txt, or rewrites it under -update.
func checkGolden(t *testing.T, name string, p *Plan) {
	t.Helper()
	var b bytes.Buffer
	if err := p.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("----\n")
	b.Write(mustJSON(t, p))
	b.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s differs from the golden file; got:\n%s", path, b.Bytes())
	}
}

func BenchmarkMakePlan(b *testing.B) {
	topo := fixture(b, "4node")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MakePlan(topo, PlanOptions{ReserveCores: 2}); err != nil {
			b.Fatal(err)
		}
	}
}
