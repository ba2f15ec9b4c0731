package numa

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) *Topology {
	t.Helper()
	topo, err := Read(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Read(%s): %v", name, err)
	}
	return topo
}

func TestReadFixtures(t *testing.T) {
	type nodeWant struct {
		cpus string
		kB   uint64
	}
	for _, tc := range []struct {
		name     string
		summary  string
		numa     bool
		present  int
		online   string
		possible string
		nodes    []nodeWant
		smt      int
		cores    int
		cpu      CPU // one CPU checked field by field
	}{
		{
			name:     "c6gn.16xlarge",
			summary:  "1 node, 1 package, 64 cores, 64 CPUs (no SMT), 124.9 GiB",
			numa:     true,
			present:  64,
			online:   "0-63",
			possible: "0-63",
			nodes:    []nodeWant{{"0-63", 130937276}},
			smt:      1,
			cores:    64,
			cpu:      CPU{ID: 17, Node: 0, Package: 0, Core: 17, Siblings: []int{17}, Online: true},
		},
		{
			name:     "x86-2s-smt",
			summary:  "2 nodes, 2 packages, 32 cores, 64 CPUs (SMT 2), 187.1 GiB",
			numa:     true,
			present:  64,
			online:   "0-63",
			possible: "0-63",
			nodes:    []nodeWant{{"0-15,32-47", 97520868}, {"16-31,48-63", 98661140}},
			smt:      2,
			cores:    32,
			cpu:      CPU{ID: 53, Node: 1, Package: 1, Core: 8, Siblings: []int{21, 53}, Online: true},
		},
		{
			name:     "4node",
			summary:  "4 nodes, 1 package, 48 cores, 96 CPUs (SMT 2), 503.4 GiB",
			numa:     true,
			present:  96,
			online:   "0-95",
			possible: "0-127",
			nodes: []nodeWant{
				{"0-11,48-59", 131580956}, {"12-23,60-71", 132095092},
				{"24-35,72-83", 132095092}, {"36-47,84-95", 132077364},
			},
			smt:   2,
			cores: 48,
			cpu:   CPU{ID: 30, Node: 2, Package: 0, Core: 30, Siblings: []int{30, 78}, Online: true},
		},
		{
			name:     "offline",
			summary:  "1 node, 1 package, 6 cores, 11 of 16 CPUs online (SMT 2), 15.5 GiB",
			numa:     true,
			present:  16,
			online:   "0-5,8-12",
			possible: "0-15",
			nodes:    []nodeWant{{"0-5,8-12", 16303932}},
			smt:      2,
			cores:    6,
			// Offline: no topology/, placed on its node by the cpu13/node0 link.
			cpu: CPU{ID: 13, Node: 0, Package: -1, Core: -1, Siblings: []int{13}, Online: false},
		},
		{
			name:     "vm-2vcpu",
			summary:  "1 node (no NUMA in sysfs), 1 package, 1 core, 2 CPUs (SMT 2), 7.6 GiB",
			numa:     false,
			present:  2,
			online:   "0-1",
			possible: "0-1",
			nodes:    []nodeWant{{"0-1", 7936036}},
			smt:      2,
			cores:    1,
			cpu:      CPU{ID: 1, Node: 0, Package: 0, Core: 0, Siblings: []int{0, 1}, Online: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := fixture(t, tc.name)
			if got := topo.Summary(); got != tc.summary {
				t.Errorf("Summary() = %q, want %q", got, tc.summary)
			}
			if topo.NUMA != tc.numa {
				t.Errorf("NUMA = %v, want %v", topo.NUMA, tc.numa)
			}
			if len(topo.CPUs) != tc.present {
				t.Errorf("%d CPUs, want %d", len(topo.CPUs), tc.present)
			}
			if got := FormatCPUList(topo.Online); got != tc.online {
				t.Errorf("Online = %s, want %s", got, tc.online)
			}
			if got := FormatCPUList(topo.Possible); got != tc.possible {
				t.Errorf("Possible = %s, want %s", got, tc.possible)
			}
			if len(topo.Nodes) != len(tc.nodes) {
				t.Fatalf("%d nodes, want %d", len(topo.Nodes), len(tc.nodes))
			}
			var mem uint64
			for i, n := range topo.Nodes {
				if n.ID != i || FormatCPUList(n.CPUs) != tc.nodes[i].cpus || n.MemBytes != tc.nodes[i].kB*1024 {
					t.Errorf("node %d = {%d %s %d}, want {%d %s %d}", i, n.ID, FormatCPUList(n.CPUs), n.MemBytes,
						i, tc.nodes[i].cpus, tc.nodes[i].kB*1024)
				}
				mem += tc.nodes[i].kB * 1024
			}
			if topo.MemBytes != mem {
				t.Errorf("MemBytes = %d, want %d", topo.MemBytes, mem)
			}
			if got := topo.ThreadsPerCore(); got != tc.smt {
				t.Errorf("ThreadsPerCore() = %d, want %d", got, tc.smt)
			}
			if topo.SMT() != (tc.smt > 1) {
				t.Errorf("SMT() = %v", topo.SMT())
			}
			if got := len(topo.Cores(-1)); got != tc.cores {
				t.Errorf("%d cores, want %d", got, tc.cores)
			}
			c, ok := topo.CPU(tc.cpu.ID)
			if !ok || c.ID != tc.cpu.ID || c.Node != tc.cpu.Node || c.Package != tc.cpu.Package ||
				c.Core != tc.cpu.Core || c.Online != tc.cpu.Online || !slices.Equal(c.Siblings, tc.cpu.Siblings) {
				t.Errorf("CPU(%d) = %+v, %v; want %+v", tc.cpu.ID, c, ok, tc.cpu)
			}
			checkPartition(t, topo)
		})
	}
}

// checkPartition verifies that the cores of every node cover its online CPUs
// exactly once, and only CPUs of that node.
func checkPartition(t *testing.T, topo *Topology) {
	t.Helper()
	for _, n := range topo.Nodes {
		var all []int
		for _, core := range topo.Cores(n.ID) {
			if core.Node != n.ID || len(core.CPUs) == 0 {
				t.Errorf("node %d has core %+v", n.ID, core)
			}
			all = append(all, core.CPUs...)
		}
		slices.Sort(all)
		if !slices.Equal(all, n.CPUs) {
			t.Errorf("node %d: cores cover %s, node has %s", n.ID, FormatCPUList(all), FormatCPUList(n.CPUs))
		}
	}
}

func TestCores(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		node    int
		want    []string
	}{
		{"offline", 0, []string{"0,8", "1,9", "2,10", "3,11", "4,12", "5"}},
		{"vm-2vcpu", 0, []string{"0-1"}},
		{"x86-2s-smt", 1, []string{
			"16,48", "17,49", "18,50", "19,51", "20,52", "21,53", "22,54", "23,55",
			"24,56", "25,57", "26,58", "27,59", "28,60", "29,61", "30,62", "31,63",
		}},
		{"4node", 5, nil},
	} {
		var got []string
		for _, c := range fixture(t, tc.fixture).Cores(tc.node) {
			got = append(got, FormatCPUList(c.CPUs))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Cores(%d) = %q, want %q", tc.fixture, tc.node, got, tc.want)
		}
	}
	// The x86 fixture's core IDs have gaps, as Intel numbers them.
	var ids []int
	for _, c := range fixture(t, "x86-2s-smt").Cores(0) {
		ids = append(ids, c.ID)
	}
	if want := []int{0, 1, 2, 3, 4, 8, 9, 10, 11, 16, 17, 18, 19, 20, 24, 25}; !slices.Equal(ids, want) {
		t.Errorf("x86 core IDs = %v, want %v", ids, want)
	}
}

// TestReadDamaged builds small trees with broken or missing files.
func TestReadDamaged(t *testing.T) {
	type files map[string]string
	for _, tc := range []struct {
		name    string
		files   files
		err     string // substring of the error; "" means success
		summary string
	}{
		{
			name:  "no cpu files at all",
			files: files{"sys/devices/system/node/online": "0"},
			err:   "no CPUs",
		},
		{
			name:  "bad online list",
			files: files{"sys/devices/system/cpu/present": "0-1", "sys/devices/system/cpu/online": "0-x"},
			err:   "bad cpu list",
		},
		{
			name: "bad core_id",
			files: files{
				"sys/devices/system/cpu/present":               "0",
				"sys/devices/system/cpu/cpu0/topology/core_id": "zero",
			},
			err: "core_id",
		},
		{
			name: "bad meminfo",
			files: files{
				"sys/devices/system/cpu/present":        "0",
				"sys/devices/system/node/online":        "0",
				"sys/devices/system/node/node0/cpulist": "0",
				"sys/devices/system/node/node0/meminfo": "Node 0 MemFree: 12 kB\n",
			},
			err: "no MemTotal",
		},
		{
			name: "cpu dirs only, no lists, no memory",
			files: files{
				"sys/devices/system/cpu/cpu0/online": "1",
				"sys/devices/system/cpu/cpu1/online": "0",
				"sys/devices/system/cpu/cpu2/online": "1",
				"sys/devices/system/cpu/cpufreq/x":   "",
			},
			summary: "1 node (no NUMA in sysfs), 2 cores, 2 of 3 CPUs online (no SMT), 0 B",
		},
		{
			name: "node dirs without online list, memory-only node",
			files: files{
				"sys/devices/system/cpu/present":        "0-3",
				"sys/devices/system/node/node0/cpulist": "0-3",
				"sys/devices/system/node/node0/meminfo": "Node 0 MemTotal: 1048576 kB\n",
				"sys/devices/system/node/node1/cpulist": "\n",
				"sys/devices/system/node/node1/meminfo": "Node 1 MemTotal: 2097152 kB\n",
			},
			summary: "2 nodes, 4 cores, 4 CPUs (no SMT), 3.0 GiB",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := Read(writeTree(t, tc.files))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "numa: ") {
					t.Fatalf("Read error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := topo.Summary(); got != tc.summary {
				t.Errorf("Summary() = %q, want %q", got, tc.summary)
			}
			checkPartition(t, topo)
		})
	}
}

// writeTree writes a sysfs-like tree of files into a temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestReadThisMachine reads the live sysfs: it must work wherever the tests run.
func TestReadThisMachine(t *testing.T) {
	if _, err := os.Stat("/sys/devices/system/cpu"); err != nil {
		t.Skipf("no sysfs here: %v", err)
	}
	topo, err := Read("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("this machine: %s", topo.Summary())
	if len(topo.Online) == 0 || len(topo.Nodes) == 0 || len(topo.Cores(-1)) == 0 {
		t.Fatalf("implausible topology: %+v", topo)
	}
	checkPartition(t, topo)
	p, err := MakePlan(topo, PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Shards) != len(topo.Cores(-1)) {
		t.Errorf("default plan has %d shards for %d cores", len(p.Shards), len(topo.Cores(-1)))
	}
}

func TestParseMemTotal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{"MemTotal:       24684084 kB\nMemFree: 1 kB\n", 24684084 * 1024, false},
		{"Node 0 MemTotal:       4155596 kB\nNode 0 MemFree: 3962280 kB\n", 4155596 * 1024, false},
		{"Node 3 MemFree: 1 kB\nNode 3 MemTotal: 2 kB", 2048, false},
		{"MemTotal: 4096", 4096, false},
		{"MemTotal: 0 kB", 0, false},
		{"", 0, true},
		{"MemFree: 1 kB\n", 0, true},
		{"MemTotal:\n", 0, true},
		{"MemTotal: -1 kB\n", 0, true},
		{"MemTotal: 12 MB\n", 0, true},
		{"MemTotal: 18446744073709551615 kB\n", 0, true},
	} {
		got, err := ParseMemTotal([]byte(tc.in))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMemTotal(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParseMemTotal(f *testing.F) {
	for _, s := range []string{"MemTotal: 24684084 kB\n", "Node 0 MemTotal: 4155596 kB\n", "MemTotal: 12", "MemTotal:\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := ParseMemTotal(data)
		if err != nil {
			if v != 0 || !strings.HasPrefix(err.Error(), "numa: ") {
				t.Fatalf("ParseMemTotal(%q) = %d, %v", data, v, err)
			}
			return
		}
		if !strings.Contains(string(data), "MemTotal:") {
			t.Fatalf("ParseMemTotal(%q) = %d without a MemTotal field", data, v)
		}
	})
}

func TestParseKernelRelease(t *testing.T) {
	for _, tc := range []struct {
		in           string
		major, minor int
		ok           bool
	}{
		{"6.18.44-fc-v669", 6, 18, true},
		{"5.15.0-91-generic", 5, 15, true},
		{"4.19", 4, 19, true},
		{"5.4.0", 5, 4, true},
		{"6", 0, 0, false},
		{"", 0, 0, false},
		{"x.1", 0, 0, false},
		{"5.x", 0, 0, false},
	} {
		major, minor, ok := parseKernelRelease(tc.in)
		if major != tc.major || minor != tc.minor || ok != tc.ok {
			t.Errorf("parseKernelRelease(%q) = %d, %d, %v", tc.in, major, minor, ok)
		}
	}
}

func TestReadMissingRoot(t *testing.T) {
	_, err := Read(filepath.Join(t.TempDir(), "nothing"))
	if err == nil {
		t.Fatal("Read of an empty tree succeeded")
	}
	if errors.Is(err, ErrPlan) {
		t.Fatalf("unexpected error kind: %v", err)
	}
}

func BenchmarkRead(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("testdata/x86-2s-smt"); err != nil {
			b.Fatal(err)
		}
	}
}
