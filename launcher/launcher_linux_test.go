//go:build linux

package launcher

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"shoal/numa"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeModeEnv) != "" {
		os.Exit(fakeShardMain())
	}
	os.Exit(m.Run())
}

// syncBuffer is a launcher's Out that tests read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits (bounded) until the output holds want.
func (s *syncBuffer) waitFor(t *testing.T, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(s.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the launcher's output within %v:\n%s", want, within, s.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// freeBase finds n consecutive loopback ports that are free now, whose
// bus ports (+10000) stay within range.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func selfBin(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// fakeOptions launches n fake shards in mode on free ports in a fresh
// directory, with quick restarts.
func fakeOptions(t *testing.T, mode string, n int) Options {
	return Options{
		Plan:         numa.PlanOptions{Shards: n, BasePort: freeBase(t, n)},
		Dir:          t.TempDir(),
		Bin:          selfBin(t),
		Env:          []string{fakeModeEnv + "=" + mode},
		ReadyTimeout: 10 * time.Second,
		StopTimeout:  5 * time.Second,
		Restart: RestartPolicy{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			StableAfter: time.Minute, LoopExits: 3, LoopWindow: time.Minute},
		Version: "test",
	}
}

// running is a launcher under test.
type running struct {
	l      *Launcher
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// launch starts Run in the background; the test's cleanup stops it.
func launch(t *testing.T, o Options) *running {
	t.Helper()
	out := &syncBuffer{}
	o.Out = out
	l, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{l: l, out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- l.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Run and returns its error (bounded).
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // later calls see it too
		return err
	case <-time.After(30 * time.Second):
		r.l.Kill()
		t.Fatalf("Run did not return 30s after its context ended:\n%s", r.out.String())
		return nil
	}
}

// ready waits for the banner and returns the shards' status.
func (r *running) ready(t *testing.T) []ShardStatus {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned %v before serving:\n%s", err, r.out.String())
	default:
	}
	r.out.waitFor(t, "is serving", 15*time.Second)
	return r.l.Status()
}

func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list for pid %d", pid)
	return ""
}

// command sends one command of bulk strings and returns the reply's
// first line, or the bulk string's content.
func command(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	req := "*" + strconv.Itoa(len(args)) + "\r\n"
	for _, a := range args {
		req += "$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n"
	}
	if _, err := c.Write([]byte(req)); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(line, "$") {
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return strings.TrimSpace(line), nil
}

func addrOf(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestLaunchServesPinnedShardsAndStops(t *testing.T) {
	o := fakeOptions(t, "serve", 2)
	r := launch(t, o)
	st := r.ready(t)
	plan := r.l.Plan()
	if len(st) != 2 {
		t.Fatalf("%d shards, want 2", len(st))
	}
	for i, s := range st {
		if s.PID == 0 || !s.Ready || s.Restarts != 0 {
			t.Fatalf("shard %d: %+v", i, s)
		}
		if got, want := cpusAllowed(t, s.PID), numa.FormatCPUList(plan.Shards[i].CPUs); got != want {
			t.Errorf("shard %d (pid %d): Cpus_allowed_list %s, plan %s", i, s.PID, got, want)
		}
		if s.Port != o.Plan.BasePort+i {
			t.Errorf("shard %d on port %d, want %d", i, s.Port, o.Plan.BasePort+i)
		}
		if got, err := command(addrOf(s.Port), "PING"); err != nil || got != "+PONG" {
			t.Errorf("shard %d PING: %q %v", i, got, err)
		}
		if got, err := command(addrOf(s.Port), "CLUSTER", "MYID"); err != nil || got != s.NodeID {
			t.Errorf("shard %d CLUSTER MYID: %q %v, want %s", i, got, err, s.NodeID)
		}
		conf, err := os.ReadFile(filepath.Join(s.Dir, NodesConfFile))
		if err != nil || !strings.Contains(string(conf), s.NodeID+" 127.0.0.1:"+strconv.Itoa(s.Port)+"@"+strconv.Itoa(s.Port+10000)+" myself,master") {
			t.Errorf("shard %d nodes.conf (%v):\n%s", i, err, conf)
		}
		if s.Dir != filepath.Join(r.l.Dir(), "shard-"+strconv.Itoa(i)) {
			t.Errorf("shard %d dir %s", i, s.Dir)
		}
	}
	out := r.out.String()
	for _, want := range []string{
		"shard-0  | fake shard: serving port " + strconv.Itoa(o.Plan.BasePort) + " as " + st[0].NodeID + "\n",
		"shard-1  | fake shard: serving port " + strconv.Itoa(o.Plan.BasePort+1) + " as " + st[1].NodeID + "\n",
		"shard-1  | fake shard: a line on stderr\n",
		"shard-0  | fake shard: a line written in two pieces\n",
		"Shoal test is serving: 2 shards on ",
		"redis-cli -c -p " + strconv.Itoa(o.Plan.BasePort) + "\n",
		"redis-benchmark --cluster -p " + strconv.Itoa(o.Plan.BasePort),
		"I/O:       fake (--io auto)",
		"data:      " + r.l.Dir() + "/shard-<i>/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "is serving"); n != 1 {
		t.Errorf("%d banners", n)
	}
	for line := range strings.Lines(out) {
		if strings.Contains(line, "fake shard") && !strings.HasPrefix(line, "shard-") {
			t.Errorf("shard output without its prefix: %q", line)
		}
	}

	if err := r.stop(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	out = r.out.String()
	for _, s := range st {
		if want := fmt.Sprintf("%s (pid %d) stopped: exited with status 0", s.Name, s.PID); !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
		if !processGone(s.PID) {
			t.Errorf("%s (pid %d) still exists after Run returned", s.Name, s.PID)
		}
	}
	if !strings.Contains(out, "fake shard: SIGTERM, exiting") {
		t.Errorf("the shards were not stopped with SIGTERM:\n%s", out)
	}
}

func TestKilledShardIsRestartedWhileOthersServe(t *testing.T) {
	r := launch(t, fakeOptions(t, "serve", 2))
	st := r.ready(t)

	// shard-0 must answer throughout.
	var failures, pings atomic.Int64
	stopPing := make(chan struct{})
	pinged := make(chan struct{})
	var stopOnce sync.Once
	stopPinging := func() {
		stopOnce.Do(func() { close(stopPing) })
		<-pinged
	}
	defer stopPinging() // also when the test fails half way
	go func() {
		defer close(pinged)
		for {
			select {
			case <-stopPing:
				return
			case <-time.After(10 * time.Millisecond):
			}
			pings.Add(1)
			if got, err := command(addrOf(st[0].Port), "PING"); err != nil || got != "+PONG" {
				failures.Add(1)
			}
		}
	}()

	killed := time.Now()
	if err := syscall.Kill(st[1].PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	r.out.waitFor(t, fmt.Sprintf("shard-1 (pid %d) killed by signal 9 (SIGKILL) after ", st[1].PID), 5*time.Second)
	r.out.waitFor(t, "shard-1 is back: pid ", 5*time.Second)
	back := time.Since(killed)
	stopPinging()

	now := r.l.Status()
	if now[1].PID == st[1].PID || now[1].PID == 0 || now[1].Restarts != 1 || !now[1].Ready {
		t.Errorf("shard-1 after the kill: %+v (was pid %d)", now[1], st[1].PID)
	}
	if now[0].PID != st[0].PID || now[0].Restarts != 0 {
		t.Errorf("shard-0 changed: %+v (was pid %d)", now[0], st[0].PID)
	}
	if got, err := command(addrOf(now[1].Port), "CLUSTER", "MYID"); err != nil || got != st[1].NodeID {
		t.Errorf("restarted shard-1 CLUSTER MYID %q %v, want the same id %s", got, err, st[1].NodeID)
	}
	if got := cpusAllowed(t, now[1].PID); got != numa.FormatCPUList(now[1].CPUs) {
		t.Errorf("restarted shard-1 Cpus_allowed_list %s, want %s", got, numa.FormatCPUList(now[1].CPUs))
	}
	if failures.Load() != 0 || pings.Load() == 0 {
		t.Errorf("shard-0 failed %d of %d PINGs while shard-1 restarted", failures.Load(), pings.Load())
	}
	t.Logf("shard-1 back %v after SIGKILL; shard-0 answered %d PINGs meanwhile", back.Round(time.Millisecond), pings.Load())
}

func TestCrashLoopIsReported(t *testing.T) {
	o := fakeOptions(t, "serve", 2)
	crash := filepath.Join(t.TempDir(), "crash")
	o.Env = append(o.Env, fakeCrashFileEnv+"="+crash)
	r := launch(t, o)
	st := r.ready(t)

	if err := os.WriteFile(crash, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(st[0].PID, syscall.SIGKILL)
	r.out.waitFor(t, "shard-0 (pid ", 5*time.Second)
	r.out.waitFor(t, "exited with status 3 after ", 5*time.Second)
	r.out.waitFor(t, "CRASH LOOP: shard-0 has exited 3 times in the last 1m0s (last: exited with status 3)", 5*time.Second)
	// And it keeps being reported.
	r.out.waitFor(t, "CRASH LOOP: shard-0 has exited 4 times", 5*time.Second)
	r.out.waitFor(t, "shard-0  | fake shard: crashing at once\n", time.Second)

	// The other shard never stopped; the looping one comes back once it
	// can.
	if now := r.l.Status(); now[1].PID != st[1].PID {
		t.Errorf("shard-1 changed while shard-0 looped: %+v", now[1])
	}
	os.Remove(crash)
	r.out.waitFor(t, "shard-0 is back: pid ", 5*time.Second)
	if got, err := command(addrOf(st[0].Port), "PING"); err != nil || got != "+PONG" {
		t.Errorf("shard-0 after the loop: %q %v", got, err)
	}
}

func TestShardFailingAtStartFailsTheLaunch(t *testing.T) {
	r := launch(t, fakeOptions(t, "crash", 2))
	var err error
	select {
	case err = <-r.done:
		r.done <- err
	case <-time.After(15 * time.Second):
		t.Fatalf("Run still running:\n%s", r.out.String())
	}
	if err == nil || !strings.Contains(err.Error(), "exited with status 3 before it answered PING") {
		t.Fatalf("Run: %v", err)
	}
	out := r.out.String()
	if !strings.Contains(out, "| fake shard: crashing at once\n") || strings.Contains(out, "is serving") {
		t.Errorf("output:\n%s", out)
	}
}

func TestNodeIDsSurviveARestartAndOtherLayoutsAreRefused(t *testing.T) {
	o := fakeOptions(t, "serve", 2)
	r := launch(t, o)
	first := r.ready(t)
	conf0, _ := os.ReadFile(filepath.Join(first[0].Dir, NodesConfFile))
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}

	r2 := launch(t, o)
	second := r2.ready(t)
	for i := range first {
		if first[i].NodeID != second[i].NodeID {
			t.Errorf("shard %d: node id %s, then %s", i, first[i].NodeID, second[i].NodeID)
		}
		if got, err := command(addrOf(second[i].Port), "CLUSTER", "MYID"); err != nil || got != first[i].NodeID {
			t.Errorf("shard %d CLUSTER MYID after restart: %q %v", i, got, err)
		}
	}
	if again, _ := os.ReadFile(filepath.Join(first[0].Dir, NodesConfFile)); !bytes.Equal(conf0, again) {
		t.Errorf("nodes.conf changed across a restart:\n%s\n----\n%s", conf0, again)
	}

	// While it runs, the directory is locked.
	other := o
	other.Plan.BasePort = freeBase(t, 2)
	if err := runOnce(t, other); err == nil || !strings.Contains(err.Error(), "in use by another launcher") {
		t.Errorf("second launcher on a locked dir: %v", err)
	}
	if err := r2.stop(t); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		shard int
		port  int
		want  string
	}{
		{"fewer shards", 1, o.Plan.BasePort, "describes 2 shards on ports " + strconv.Itoa(o.Plan.BasePort)},
		{"other ports", 2, other.Plan.BasePort, "but the plan is 2 shards on ports " + strconv.Itoa(other.Plan.BasePort)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := o
			changed.Plan.Shards, changed.Plan.BasePort = tc.shard, tc.port
			err := runOnce(t, changed)
			if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want ErrLayout with %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("--shards 2 --port %d", o.Plan.BasePort)) {
				t.Errorf("no advice in %v", err)
			}
		})
	}
	if again, _ := os.ReadFile(filepath.Join(first[0].Dir, NodesConfFile)); !bytes.Equal(conf0, again) {
		t.Errorf("a refused launch changed nodes.conf")
	}
}

// runOnce runs a launcher that is expected to fail before serving.
func runOnce(t *testing.T, o Options) error {
	t.Helper()
	out := &syncBuffer{}
	o.Out = out
	l, err := New(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = l.Run(ctx)
	if strings.Contains(out.String(), " started: pid ") {
		t.Errorf("a refused launch started shards:\n%s", out.String())
	}
	return err
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	o := fakeOptions(t, "ignore-term", 2)
	o.StopTimeout = 300 * time.Millisecond
	r := launch(t, o)
	st := r.ready(t)
	begin := time.Now()
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("stop took %v", d)
	}
	for _, s := range st {
		for _, want := range []string{
			fmt.Sprintf("%s (pid %d) did not exit within 300ms of SIGTERM: sending SIGKILL", s.Name, s.PID),
			fmt.Sprintf("%s (pid %d) stopped: killed by signal 9 (SIGKILL)", s.Name, s.PID),
		} {
			if !strings.Contains(r.out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, r.out.String())
			}
		}
		if !processGone(s.PID) {
			t.Errorf("pid %d still exists", s.PID)
		}
	}
}

func TestKillDoesNotWaitForTheStopTimeout(t *testing.T) {
	o := fakeOptions(t, "ignore-term", 1)
	o.StopTimeout = time.Minute
	r := launch(t, o)
	st := r.ready(t)
	r.cancel()
	r.out.waitFor(t, "Stopping: SIGTERM sent to 1 shard", 5*time.Second)
	begin := time.Now()
	r.l.Kill()
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Run returned %v after Kill", d)
	}
	if !processGone(st[0].PID) {
		t.Errorf("pid %d still exists", st[0].PID)
	}
}

func TestTakenPortIsReported(t *testing.T) {
	o := fakeOptions(t, "serve", 2)
	ln, err := net.Listen("tcp", addrOf(o.Plan.BasePort+1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = runOnce(t, o)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port %d of shard-1 is not free", o.Plan.BasePort+1)) {
		t.Fatalf("Run: %v", err)
	}
}
