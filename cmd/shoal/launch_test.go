package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shoal/launcher"
	"shoal/numa"
)

// asShoalEnv makes the test binary run as the shoal command itself, so a
// test can start a real launcher whose shards (the same binary, "shard")
// are real shards.
const asShoalEnv = "SHOAL_TEST_AS_SHOAL"

func TestMain(m *testing.M) {
	if os.Getenv(asShoalEnv) != "" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestTopo(t *testing.T) {
	fixture := "../../numa/testdata/x86-2s-smt"
	golden, err := os.ReadFile("../../numa/testdata/golden/x86-2s-smt_reserve3.txt")
	if err != nil {
		t.Fatal(err)
	}
	// The golden file is numa's: the table, "----", the JSON.
	table, planJSON, ok := strings.Cut(string(golden), "\n----\n")
	if !ok {
		t.Fatalf("golden plan without its JSON")
	}
	table += "\n"
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  []string // substrings of stdout
		err  string   // substring of stderr
	}{
		{name: "this machine", args: []string{"topo"}, out: []string{"node 0: CPUs ", "plan: ", "shard  node"}},
		{name: "fixture", args: []string{"topo", "--sys-root", fixture, "--reserve-cores", "3"},
			out: []string{"node 0: CPUs 0-15,32-47, 16 cores, 93.0 GiB\n", "node 1: CPUs ", "GiB\n" + table}},
		{name: "fixture JSON", args: []string{"topo", "--json", "--sys-root", fixture, "--reserve-cores", "3"},
			out: []string{planJSON}},
		{name: "help", args: []string{"topo", "--help"}, out: []string{launcher.TopoHelp()}},
		{name: "bad option", args: []string{"topo", "--dir", "x"}, code: 1,
			err: "unknown option --dir for shoal topo\nRun 'shoal topo --help'"},
		{name: "bad plan", args: []string{"topo", "--sys-root", fixture, "--cpus", "1000"}, code: 1, err: "shoal: numa: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, want := range tc.out {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
				}
			}
			if !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, stderr.String())
			}
		})
	}
}

func TestTopoJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"topo", "--json", "--sys-root", "../../numa/testdata/c6gn.16xlarge", "--shards", "40", "--port", "7000"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var p numa.Plan
	if err := json.Unmarshal(stdout.Bytes(), &p); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	if len(p.Shards) != 40 || p.BasePort != 7000 || p.Shards[39].Port != 7039 || len(p.Shards[0].CPUs) == 0 {
		t.Errorf("plan %+v", p)
	}
}

func TestLaunchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{args: []string{"launch", "--help"}, out: launcher.LaunchHelp()},
		{args: []string{"--help"}, out: "shoal [launch] [options] [-- shard options ...]"},
		{args: []string{"--shards", "two"}, code: 1, err: "--shards two: must be a whole number"},
		{args: []string{"launch", "--bind", "0.0.0.0"}, code: 1, err: "say with --announce-ip"},
		{args: []string{"--port", "7000", "--", "--port", "7001"}, code: 1, err: "sets --port of every shard itself"},
		{args: []string{"launch", "--port", "60000"}, code: 1, err: "leaves no room for its cluster bus port"},
		{args: []string{"nonsense"}, code: 1, err: `unknown command "nonsense"`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.out) || !strings.Contains(stderr.String(), tc.err) {
			t.Errorf("%q: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, stdout.String(), stderr.String())
		}
	}
}

// lockedBuffer collects a process's output while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) waitFor(t *testing.T, want string, within time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(within); !strings.Contains(l.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v in:\n%s", want, within, l.String())
		}
	}
}

// freePorts finds n consecutive free loopback ports with room for their
// cluster bus ports.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(30000)
		free := true
		for p := base; p < base+n && free; p++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				continue
			}
			ln.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// do sends one command and returns its reply's first line (or bulk body).
func do(t *testing.T, port int, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		t.Fatalf("port %d: %v", port, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	var req strings.Builder
	req.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		req.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	io.WriteString(c, req.String())
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("port %d %q: %v", port, args, err)
	}
	if n, ok := strings.CutPrefix(strings.TrimSpace(line), "$"); ok && n != "-1" {
		size, _ := strconv.Atoi(n)
		body := make([]byte, size+2)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		return string(body[:size])
	}
	return strings.TrimSpace(line)
}

// TestLaunchAndSIGTERM runs `shoal launch` as its own process with two
// real shards: the banner, prefixed shard logs, every shard serving its
// slots under the node id in its nodes.conf and its pprof on its own port,
// and SIGTERM to the launcher stopping every shard with exit status 0,
// each leaving its CPU profile in its data directory.
func TestLaunchAndSIGTERM(t *testing.T) {
	base := freePorts(t, 2)
	pprofBase := freePorts(t, 2)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "launch", "--shards", "2", "--port", strconv.Itoa(base),
		"--dir", dir, "--ready-timeout", "10s", "--stop-timeout", "5s",
		"--profile", "cpu", "--pprof", strconv.Itoa(pprofBase), "--", "--save", "")
	cmd.Env = append(os.Environ(), asShoalEnv+"=1")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	})

	out.waitFor(t, "is serving: 2 shards", 15*time.Second)
	banner := out.String()
	for _, want := range []string{
		"Connect:    redis-cli -c -p " + strconv.Itoa(base) + "\n",
		"redis-benchmark --cluster -p " + strconv.Itoa(base),
		"data:      " + dir + "/shard-<i>/",
		"profile:   cpu,",
		"pprof:     http://127.0.0.1:" + strconv.Itoa(pprofBase) + "/debug/pprof/",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	var pids []int
	for i := range 2 {
		port := base + i
		if got := do(t, port, "PING"); got != "+PONG" {
			t.Errorf("shard %d PING: %q", i, got)
		}
		conf, err := os.ReadFile(filepath.Join(dir, "shard-"+strconv.Itoa(i), "nodes.conf"))
		if err != nil {
			t.Fatal(err)
		}
		var myID string
		for line := range strings.Lines(string(conf)) {
			if f := strings.Fields(line); len(f) > 2 && strings.Contains(f[2], "myself") {
				myID = f[0]
			}
		}
		if got := do(t, port, "CLUSTER", "MYID"); got != myID || len(myID) != 40 {
			t.Errorf("shard %d CLUSTER MYID %q, nodes.conf says %q", i, got, myID)
		}
		// Slot 0 (key "{06S}") is shard 0's and slot 16383 ("{apX}")
		// shard 1's.
		key, other := "{06S}", "{apX}"
		if i == 1 {
			key, other = other, key
		}
		if got := do(t, port, "SET", key, "v"); got != "+OK" {
			t.Errorf("shard %d SET of its own key: %q", i, got)
		}
		if got, want := do(t, port, "GET", other), "-MOVED "+map[int]string{0: "16383", 1: "0"}[i]+" 127.0.0.1:"+strconv.Itoa(base+1-i); got != want {
			t.Errorf("shard %d GET of another's key: %q, want %q", i, got, want)
		}
		pprofURL := "http://127.0.0.1:" + strconv.Itoa(pprofBase+i) + "/debug/pprof/cmdline"
		if resp, err := http.Get(pprofURL); err != nil {
			t.Errorf("shard %d pprof: %v", i, err)
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), "shard-"+strconv.Itoa(i)) {
				t.Errorf("shard %d: %s answered %q", i, pprofURL, body)
			}
		}
		// Each shard runs with its share of the machine's memory as maxmemory.
		if mem := do(t, port, "INFO", "memory"); !strings.Contains(mem, "maxmemory_policy:noeviction") ||
			strings.Contains(mem, "maxmemory:0\r\n") || !strings.Contains(mem, "maxmemory:") {
			t.Errorf("shard %d runs without the plan's maxmemory:\n%s", i, mem)
		}
		info := do(t, port, "INFO", "server")
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
				n, _ := strconv.Atoi(v)
				pids = append(pids, n)
			}
		}
	}
	logs := out.String()
	for _, want := range []string{"shard-0  | ", "shard-1  | ", "launcher | "} {
		if !strings.Contains(logs, want) {
			t.Errorf("output lacks lines prefixed %q:\n%s", want, logs)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("launcher after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("launcher still running 15s after SIGTERM:\n%s", out.String())
	}
	if len(pids) != 2 {
		t.Fatalf("shard pids %v from INFO", pids)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("shard pid %d still exists after the launcher exited (%v)", pid, err)
		}
	}
	for i := range 2 {
		if st, err := os.Stat(filepath.Join(dir, "shard-"+strconv.Itoa(i), "cpu.pprof")); err != nil || st.Size() == 0 {
			t.Errorf("shard %d left no CPU profile: %v", i, err)
		}
	}
	t.Logf("launcher output:\n%s", out.String())
	if !strings.Contains(out.String(), "All shards stopped") {
		t.Errorf("no orderly stop:\n%s", out.String())
	}
}
