//go:build linux

package numa

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// childEnv makes the test binary, re-run as a child by TestStartPinnedChild,
// report the affinity and memory policy it was started with and exit.
const childEnv = "NUMA_TEST_REPORT_CHILD"

// startAffinity is the test process's Cpus_allowed_list before any test ran.
var startAffinity string

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(reportChild())
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			startAffinity = strings.TrimSpace(v)
		}
	}
	os.Exit(m.Run())
}

// reportChild prints "cpus=<list> policy=<mode> nodes=<list>" as seen by a
// thread of this process. Every thread of a freshly started Go process was
// cloned from its first one, so any thread shows what the process inherited.
func reportChild() int {
	runtime.LockOSThread()
	cpus, err := GetAffinity(0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mode, nodes, err := GetMemPolicy()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("cpus=%s policy=%s nodes=%s\n", FormatCPUList(cpus), mode, FormatCPUList(nodes))
	return 0
}

// lockThread locks the test goroutine to its thread and, at cleanup, unlocks
// it only if restore succeeds; otherwise the thread dies with the goroutine.
func lockThread(t *testing.T, restore func() error) {
	runtime.LockOSThread()
	t.Cleanup(func() {
		if err := restore(); err != nil {
			t.Errorf("restoring the thread: %v", err)
			return
		}
		runtime.UnlockOSThread()
	})
}

// memPolicyUsable skips the test where set_mempolicy is refused outright
// (seccomp filters in containers, kernels without CONFIG_NUMA).
func memPolicyUsable(t *testing.T) {
	t.Helper()
	var m nodeMask
	if _, err := getMemPolicy(&m); err != nil {
		t.Skipf("get_mempolicy unavailable: %v", err)
	}
	err := SetMemPolicy(MemDefault, nil)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOSYS) {
		t.Skipf("set_mempolicy unavailable: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// pinTarget returns a CPU this process may run on, preferring CPU 1, and all
// the CPUs it may run on.
func pinTarget(t *testing.T) (int, []int) {
	t.Helper()
	all, err := GetAffinity(0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(all, 1) {
		return 1, all
	}
	return all[len(all)-1], all
}

func TestAffinity(t *testing.T) {
	saved, err := GetAffinity(0)
	if err != nil {
		t.Fatal(err)
	}
	lockThread(t, func() error { return SetAffinity(0, saved) })
	target, _ := pinTarget(t)
	if err := SetAffinity(0, []int{target}); err != nil {
		t.Fatal(err)
	}
	got, err := GetAffinity(0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{target}) {
		t.Errorf("GetAffinity = %v after SetAffinity(%d)", got, target)
	}
	// Other threads are untouched: affinity is per thread.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if tid == unix.Gettid() {
			continue
		}
		other, err := GetAffinity(tid)
		if err != nil {
			continue // exited meanwhile
		}
		if !slices.Equal(other, saved) {
			t.Errorf("thread %d affinity changed to %v", tid, other)
		}
	}
	if err := SetAffinity(0, saved); err != nil {
		t.Fatal(err)
	}
	if got, _ := GetAffinity(0); !slices.Equal(got, saved) {
		t.Errorf("affinity %v after restoring %v", got, saved)
	}

	for _, tc := range []struct {
		cpus []int
		err  string
	}{
		{nil, "empty CPU set"},
		{[]int{-1}, "CPU -1 out of range"},
		{[]int{MaxAffinityCPU + 1}, "out of range"},
		{[]int{MaxAffinityCPU}, "invalid argument"}, // no such CPU: EINVAL
	} {
		err := SetAffinity(0, tc.cpus)
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("SetAffinity(%v) = %v, want error with %q", tc.cpus, err, tc.err)
		}
	}
	if got, _ := GetAffinity(0); !slices.Equal(got, saved) {
		t.Errorf("failed SetAffinity calls changed the affinity to %v", got)
	}
	if _, err := GetAffinity(-5); !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.EINVAL) {
		t.Errorf("GetAffinity(-5) = %v", err)
	}

	if n := testing.AllocsPerRun(100, func() {
		if err := SetAffinity(0, saved); err != nil {
			panic(err)
		}
	}); n != 0 {
		t.Errorf("SetAffinity allocates %v times, want 0", n)
	}
}

func TestMemPolicy(t *testing.T) {
	var savedNodes nodeMask
	savedMode, err := getMemPolicy(&savedNodes)
	if err != nil {
		t.Skipf("get_mempolicy unavailable: %v", err)
	}
	lockThread(t, func() error { return setMemPolicy(savedMode, &savedNodes) })
	memPolicyUsable(t)

	var u unix.Utsname
	_ = unix.Uname(&u)
	major, minor, _ := parseKernelRelease(unix.ByteSliceToString(u.Release[:]))
	many := MemPreferredMany
	if major < 5 || major == 5 && minor < 15 {
		many = MemPreferred // the documented fallback
	}
	for _, tc := range []struct {
		mode      MemPolicy
		nodes     []int
		wantMode  MemPolicy
		wantNodes []int
	}{
		{MemBind, []int{0}, MemBind, []int{0}},
		{MemPreferred, []int{0}, MemPreferred, []int{0}},
		{MemInterleave, []int{0}, MemInterleave, []int{0}},
		{MemPreferredMany, []int{0}, many, []int{0}},
		{MemLocal, nil, MemLocal, nil},
		{MemDefault, nil, MemDefault, nil},
	} {
		if err := SetMemPolicy(tc.mode, tc.nodes); err != nil {
			t.Errorf("SetMemPolicy(%v, %v): %v", tc.mode, tc.nodes, err)
			continue
		}
		mode, nodes, err := GetMemPolicy()
		if err != nil {
			t.Fatal(err)
		}
		if mode != tc.wantMode || !slices.Equal(nodes, tc.wantNodes) {
			t.Errorf("after SetMemPolicy(%v, %v): GetMemPolicy = %v %v, want %v %v",
				tc.mode, tc.nodes, mode, nodes, tc.wantMode, tc.wantNodes)
		}
	}

	for _, tc := range []struct {
		mode  MemPolicy
		nodes []int
		err   string
	}{
		{MemDefault, []int{0}, "takes no nodes"},
		{MemLocal, []int{0}, "takes no nodes"},
		{MemPreferred, []int{0, 1}, "takes one node, not 2"},
		{MemPreferred, nil, "takes one node, not 0"},
		{MemBind, nil, "needs nodes"},
		{MemBind, []int{-1}, "node -1 out of range"},
		{MemBind, []int{MaxMemNode + 1}, "out of range"},
		{MemBind, []int{MaxMemNode}, "invalid argument"}, // no such node
		{MemPolicy(42), nil, "unknown mode 42"},
	} {
		err := SetMemPolicy(tc.mode, tc.nodes)
		if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "numa: ") {
			t.Errorf("SetMemPolicy(%v, %v) = %v, want error with %q", tc.mode, tc.nodes, err, tc.err)
		}
	}

	one := []int{0}
	for _, tc := range []struct {
		mode  MemPolicy
		nodes []int
	}{{MemBind, one}, {MemDefault, nil}} {
		if n := testing.AllocsPerRun(100, func() {
			if err := SetMemPolicy(tc.mode, tc.nodes); err != nil {
				panic(err)
			}
		}); n != 0 {
			t.Errorf("SetMemPolicy(%v) allocates %v times, want 0", tc.mode, n)
		}
	}
}

func TestMemPolicyString(t *testing.T) {
	for m, want := range map[MemPolicy]string{
		MemDefault: "default", MemPreferred: "prefer", MemBind: "bind", MemInterleave: "interleave",
		MemLocal: "local", MemPreferredMany: "prefer (many)", MemWeightedInterleave: "weighted interleave",
		MemPolicy(9): "MemPolicy(9)",
	} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(m), got, want)
		}
	}
}

// procStatus returns one field of /proc/PID/status (or /proc/self/task/TID).
func procStatus(t *testing.T, dir, field string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s/status has no %s", dir, field)
	return ""
}

// numaMapsPolicies returns the distinct policy words of /proc/.../numa_maps
// ("default", "bind:0", ...).
func numaMapsPolicies(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "numa_maps"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !slices.Contains(out, fields[1]) {
			out = append(out, fields[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func stop(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// pinSettings returns what the tests pin children to: CPU 1 (or the last
// CPU this process may use) and node 0 when set_mempolicy works here.
func pinSettings(t *testing.T) (cpu, node int) {
	t.Helper()
	cpu, _ = pinTarget(t)
	node = 0
	runtime.LockOSThread()
	err := SetMemPolicy(MemDefault, nil)
	runtime.UnlockOSThread()
	if err != nil {
		t.Logf("memory policy not testable here (%v): pinning CPUs only", err)
		node = -1
	}
	return cpu, node
}

// checkThreadsUntouched verifies that no thread of the test process kept a
// child's settings.
func checkThreadsUntouched(t *testing.T, want string) {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		dir := filepath.Join("/proc/self/task", task.Name())
		data, err := os.ReadFile(filepath.Join(dir, "status"))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
			continue // the thread exited meanwhile
		}
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok && strings.TrimSpace(v) != want {
				t.Errorf("thread %s has Cpus_allowed_list %s, want %s", task.Name(), strings.TrimSpace(v), want)
			}
		}
		maps, err := os.ReadFile(filepath.Join(dir, "numa_maps"))
		if err != nil {
			continue
		}
		if bytes.Contains(maps, []byte(" bind:")) {
			t.Errorf("thread %s still binds memory", task.Name())
		}
	}
}

// TestStartPinnedSleep starts a real sleep pinned to one CPU and node 0 and
// reads what the kernel says about it.
func TestStartPinnedSleep(t *testing.T) {
	cpu, node := pinSettings(t)
	cmd := exec.Command("sleep", "5")
	if err := StartPinned(cmd, []int{cpu}, node); err != nil {
		t.Fatal(err)
	}
	defer stop(t, cmd)
	dir := "/proc/" + strconv.Itoa(cmd.Process.Pid)
	if got := procStatus(t, dir, "Cpus_allowed_list"); got != strconv.Itoa(cpu) {
		t.Errorf("child Cpus_allowed_list = %s, want %d", got, cpu)
	}
	if node >= 0 {
		// Mems_allowed_list is the cpuset, not the policy: numa_maps
		// shows the task policy on every mapping without its own.
		pols := numaMapsPolicies(t, dir)
		if want := []string{"bind:" + strconv.Itoa(node)}; !slices.Equal(pols, want) {
			t.Errorf("child numa_maps policies = %v, want %v", pols, want)
		}
	}
	if comm := procStatus(t, dir, "Name"); comm != "sleep" {
		t.Errorf("child is %q, not sleep", comm)
	}
	checkThreadsUntouched(t, startAffinity)
}

// TestStartPinnedChild re-runs the test binary pinned, and the child reports
// its own affinity and get_mempolicy.
func TestStartPinnedChild(t *testing.T) {
	cpu, node := pinSettings(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := StartPinned(cmd, []int{cpu}, node); err != nil {
		if errors.Is(err, syscall.ENOEXEC) {
			// The test binary runs under an emulator (qemu-user for
			// arm64 in CI) that the kernel cannot exec by itself.
			t.Skipf("the test binary cannot exec itself here: %v", err)
		}
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v: %s", err, errOut.Bytes())
	}
	want := fmt.Sprintf("cpus=%d policy=bind nodes=%d\n", cpu, node)
	if node < 0 {
		want = fmt.Sprintf("cpus=%d policy=default nodes=\n", cpu)
	}
	if out.String() != want {
		t.Errorf("child reports %q, want %q", out.String(), want)
	}
}

// TestStartPinnedRestores runs the locked part on this test's own thread and
// checks the thread got its settings back, after success and failures alike.
func TestStartPinnedRestores(t *testing.T) {
	cpu, node := pinSettings(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	savedCPUs, err := GetAffinity(0)
	if err != nil {
		t.Fatal(err)
	}
	savedMode, savedNodes, err := GetMemPolicy()
	if err != nil && node >= 0 {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  *exec.Cmd
		cpus []int
		node int
		err  string
	}{
		{"ok", exec.Command("sleep", "5"), []int{cpu}, node, ""},
		{"cpus only", exec.Command("sleep", "5"), []int{cpu}, -1, ""},
		{"nothing", exec.Command("sleep", "5"), nil, -1, ""},
		{"bad cpu", exec.Command("sleep", "5"), []int{-1}, node, "CPU -1 out of range"},
		{"bad node", exec.Command("sleep", "5"), []int{cpu}, MaxMemNode, "set_mempolicy"},
		{"no binary", exec.Command(filepath.Join(t.TempDir(), "missing")), []int{cpu}, node, "no such file"},
	} {
		if tc.name == "bad node" && node < 0 {
			continue
		}
		restored, err := startPinnedLocked(tc.cmd, tc.cpus, tc.node)
		if !restored {
			t.Fatalf("%s: thread not restored", tc.name)
		}
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
		if started := tc.cmd.Process != nil; started != (tc.err == "") {
			t.Errorf("%s: child started = %v", tc.name, started)
		}
		stop(t, tc.cmd)
		if got, _ := GetAffinity(0); !slices.Equal(got, savedCPUs) {
			t.Errorf("%s: thread affinity %v, want %v", tc.name, got, savedCPUs)
		}
		if node >= 0 {
			mode, nodes, _ := GetMemPolicy()
			if mode != savedMode || !slices.Equal(nodes, savedNodes) {
				t.Errorf("%s: thread policy %v %v, want %v %v", tc.name, mode, nodes, savedMode, savedNodes)
			}
		}
	}
}

// TestStartPinnedConcurrent starts children on different CPUs at once.
func TestStartPinnedConcurrent(t *testing.T) {
	_, all := pinTarget(t)
	_, node := pinSettings(t)
	const n = 6
	cmds := make([]*exec.Cmd, n)
	errs := make(chan error, n)
	for i := range cmds {
		cmds[i] = exec.Command("sleep", "5")
		go func() { errs <- StartPinned(cmds[i], []int{all[i%len(all)]}, node) }()
	}
	deadline := time.After(10 * time.Second)
	for range n {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-deadline:
			t.Fatal("StartPinned did not return")
		}
	}
	for i, cmd := range cmds {
		defer stop(t, cmd)
		if cmd.Process == nil {
			continue
		}
		got := procStatus(t, "/proc/"+strconv.Itoa(cmd.Process.Pid), "Cpus_allowed_list")
		if want := strconv.Itoa(all[i%len(all)]); got != want {
			t.Errorf("child %d Cpus_allowed_list = %s, want %s", i, got, want)
		}
	}
	checkThreadsUntouched(t, startAffinity)
}

func BenchmarkSetAffinity(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpus, err := GetAffinity(0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := SetAffinity(0, cpus); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSetMemPolicy(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := SetMemPolicy(MemDefault, nil); err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := SetMemPolicy(MemDefault, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStartPinned(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		cmd := exec.Command("true")
		if err := StartPinned(cmd, []int{0}, -1); err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
