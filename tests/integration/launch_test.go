package integration

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"shoal/cluster"
	"shoal/internal/testserver"
)

// launchedSet is `shoal launch` running as its own process, with its
// shards.
type launchedSet struct {
	cmd    *exec.Cmd
	out    *lineLog
	base   int
	n      int
	dir    string
	exited chan error
}

// lineLog collects the launcher's output while tests read it.
type lineLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lineLog) waitFor(t testing.TB, want string, within time.Duration) {
	t.Helper()
	waitFor(t, within, func() bool { return strings.Contains(l.String(), want) },
		func() string { return "launcher output with " + strconv.Quote(want) + ":\n" + l.String() })
}

// freePortRange finds n consecutive free loopback ports whose cluster bus
// ports (+10000) are valid.
func freePortRange(t testing.TB, n int) int {
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
	t.Fatal("no free port range")
	return 0
}

// launchSet runs `shoal launch --shards n` on free ports in a fresh data
// directory and waits for its banner. The test's cleanup stops it with
// SIGTERM and expects exit status 0.
func launchSet(t *testing.T, n int) *launchedSet {
	t.Helper()
	bin := testserver.BuildShoal(t)
	s := &launchedSet{out: &lineLog{}, base: freePortRange(t, n), n: n, dir: t.TempDir(), exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "launch", "--shards", strconv.Itoa(n), "--port", strconv.Itoa(s.base),
		"--dir", s.dir, "--ready-timeout", "10s", "--stop-timeout", "5s", "--", "--save", "")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	select {
	case err := <-s.exited:
		s.exited <- err
		t.Fatalf("shoal launch exited (%v) before serving:\n%s", err, s.out.String())
	case <-time.After(50 * time.Millisecond):
	}
	s.out.waitFor(t, "is serving: "+strconv.Itoa(n)+" shards", 15*time.Second)
	return s
}

// stop sends SIGTERM to the launcher and expects it to exit 0 (bounded;
// SIGKILL past that, its shards then get SIGTERM from the kernel).
func (s *launchedSet) stop(t testing.TB) {
	t.Helper()
	select {
	case err := <-s.exited:
		s.exited <- err
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			t.Errorf("shoal launch after SIGTERM: %v\n%s", err, s.out.String())
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("shoal launch still running 15s after SIGTERM:\n%s", s.out.String())
	}
}

func (s *launchedSet) addr(i int) string { return "127.0.0.1:" + strconv.Itoa(s.base+i) }

// pid is shard i's process id, from INFO.
func (s *launchedSet) pid(t testing.TB, i int) int {
	t.Helper()
	pid, err := strconv.Atoi(info(t, s.addr(i), "server")["process_id"])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// slotKeys returns a key for every slot: slotKeys()[slot] hashes to slot.
func slotKeys() []string {
	keys := make([]string, cluster.Slots)
	left := cluster.Slots
	for i := 0; left > 0; i++ {
		k := "key:" + strconv.Itoa(i)
		if s := cluster.KeySlot([]byte(k)); keys[s] == "" {
			keys[s] = k
			left--
		}
	}
	return keys
}

func newClusterClient(t testing.TB, addr string) *redis.ClusterClient {
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:        []string{addr},
		DialTimeout:  2 * time.Second,
		ReadTimeout:  2 * time.Second,
		WriteTimeout: 2 * time.Second,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLaunchedCluster launches two real shards with `shoal launch` and
// uses them as Redis Cluster clients do: go-redis's ClusterClient across
// all 16384 slots, MOVED and CROSSSLOT replies byte for byte, redis-cli -c,
// redis-benchmark --cluster, and kill -9 of one shard under load.
func TestLaunchedCluster(t *testing.T) {
	shoalOnly(t)
	s := launchSet(t, 2)
	ranges := cluster.SplitSlots(2)

	t.Run("topology", func(t *testing.T) {
		for i := range s.n {
			conf, err := os.ReadFile(filepath.Join(s.dir, "shard-"+strconv.Itoa(i), "nodes.conf"))
			if err != nil {
				t.Fatal(err)
			}
			c := dial(t, s.addr(i))
			nodes := c.do(t, "CLUSTER", "NODES")
			myid := c.do(t, "CLUSTER", "MYID")
			for line := range strings.Lines(string(conf)) {
				f := strings.Fields(line)
				if len(f) < 9 || f[0] == "vars" {
					continue
				}
				if strings.Contains(f[2], "myself") && myid != bulk(f[0]) {
					t.Errorf("shard %d CLUSTER MYID %q, nodes.conf myself %s", i, myid, f[0])
				}
				// id ip:port@cport flags master ... slots
				head := f[0] + " " + f[1] + " " + f[2] + " " + f[3]
				if !strings.Contains(nodes, head) || !strings.Contains(nodes, " connected "+f[8]) {
					t.Errorf("shard %d CLUSTER NODES lacks %q / %q:\n%s", i, head, f[8], nodes)
				}
			}
			if got := info(t, s.addr(i), "cluster")["cluster_enabled"]; got != "1" {
				t.Errorf("shard %d cluster_enabled:%s", i, got)
			}
		}
		cc := newClusterClient(t, s.addr(0))
		slots, err := cc.ClusterSlots(ctx(t)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(slots) != 2 {
			t.Fatalf("CLUSTER SLOTS %+v", slots)
		}
		for _, sl := range slots {
			k := 0
			if sl.Start != 0 {
				k = 1
			}
			if sl.Start != int(ranges[k].Start) || sl.End != int(ranges[k].End) || len(sl.Nodes) != 1 || sl.Nodes[0].Addr != s.addr(k) {
				t.Errorf("CLUSTER SLOTS entry %+v, want %v at %s", sl, ranges[k], s.addr(k))
			}
		}
	})

	keys := slotKeys()
	t.Run("every slot through ClusterClient", func(t *testing.T) {
		cc := newClusterClient(t, s.addr(0))
		c := ctx(t)
		if _, err := cc.Pipelined(c, func(p redis.Pipeliner) error {
			for slot, k := range keys {
				p.Set(c, k, "v"+strconv.Itoa(slot), 0)
			}
			return nil
		}); err != nil {
			t.Fatalf("pipelined SET of a key per slot: %v", err)
		}
		gets := make([]*redis.StringCmd, len(keys))
		cc.Pipelined(c, func(p redis.Pipeliner) error {
			for slot, k := range keys {
				gets[slot] = p.Get(c, k)
			}
			return nil
		})
		for slot, g := range gets {
			if v, err := g.Result(); err != nil || v != "v"+strconv.Itoa(slot) {
				t.Fatalf("GET %s (slot %d): %q %v", keys[slot], slot, v, err)
			}
		}
		// Each shard holds exactly its slots' keys.
		for i, r := range ranges {
			size, err := newClient(t, s.addr(i), 2).DBSize(c).Result()
			if err != nil || size != int64(r.End-r.Start+1) {
				t.Errorf("shard %d DBSIZE %d %v, want %d", i, size, err, r.End-r.Start+1)
			}
		}
		if n, err := cc.ClusterCountKeysInSlot(c, 16383).Result(); err != nil || n != 1 {
			t.Errorf("CLUSTER COUNTKEYSINSLOT 16383: %d %v", n, err)
		}
	})

	t.Run("MOVED and CROSSSLOT", func(t *testing.T) {
		c0, c1 := dial(t, s.addr(0)), dial(t, s.addr(1))
		for _, tc := range []struct {
			c    *rawConn
			args []string
			want string
		}{
			{c0, []string{"GET", keys[16383]}, "-MOVED 16383 " + s.addr(1) + "\r\n"},
			{c0, []string{"SET", keys[8192], "x"}, "-MOVED 8192 " + s.addr(1) + "\r\n"},
			{c1, []string{"GET", keys[0]}, "-MOVED 0 " + s.addr(0) + "\r\n"},
			{c1, []string{"GET", keys[8191]}, "-MOVED 8191 " + s.addr(0) + "\r\n"},
			{c0, []string{"GET", keys[8191]}, bulk("v8191")},
			{c0, []string{"MGET", keys[0], keys[1]}, "-CROSSSLOT Keys in request don't hash to the same slot\r\n"},
			{c0, []string{"MSET", "{u}a", "1", "{u}b", "2"}, movedOrOK(s, "{u}")},
			{c1, []string{"CLUSTER", "KEYSLOT", keys[12345]}, ":12345\r\n"},
		} {
			if got := tc.c.do(t, tc.args...); got != tc.want {
				t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
			}
		}
	})

	t.Run("redis-cli -c", func(t *testing.T) {
		cli := requireTool(t, "redis-cli")
		port := strconv.Itoa(s.base)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"-c", "-p", port, "SET", keys[16000], "from-cli"}, "OK"},
			{[]string{"-c", "-p", port, "GET", keys[16000]}, "from-cli"},
			{[]string{"-p", port, "GET", keys[16000]}, "MOVED 16000 " + s.addr(1)},
			{[]string{"-c", "-p", strconv.Itoa(s.base + 1), "GET", keys[5]}, "v5"},
			{[]string{"-p", port, "CLUSTER", "INFO"}, "cluster_state:ok"},
		} {
			out, errOut, err := tool(t, "", cli, tc.args...)
			if err != nil || !strings.Contains(out, tc.want) {
				t.Errorf("redis-cli %q: %q %q %v, want %q", tc.args, out, errOut, err, tc.want)
			}
		}
	})

	t.Run("redis-benchmark --cluster", func(t *testing.T) {
		bench := requireTool(t, "redis-benchmark")
		out, errOut, err := tool(t, "", bench, "--cluster", "-p", strconv.Itoa(s.base), "-n", "2000", "-c", "10",
			"-t", "set,get", "-r", "100000", "-q")
		res := parseBenchQ(out)
		if err != nil || res["SET"] <= 0 || res["GET"] <= 0 {
			t.Errorf("redis-benchmark --cluster: %v %v\n%s\n%s", err, res, out, errOut)
		}
		if strings.Contains(out+errOut, "ERR") || strings.Contains(out+errOut, "MOVED") {
			t.Errorf("redis-benchmark --cluster reported errors:\n%s\n%s", out, errOut)
		}
		// Its keys landed on both shards.
		for i := range s.n {
			if size, _ := newClient(t, s.addr(i), 2).DBSize(ctx(t)).Result(); size <= int64(len(keys)/2) {
				t.Errorf("shard %d DBSIZE %d after the benchmark", i, size)
			}
		}
	})

	t.Run("kill -9 under load", func(t *testing.T) {
		pid0, pid1 := s.pid(t, 0), s.pid(t, 1)
		own0 := keys[100] // shard 0's
		var ok0, failed0, ok1 atomic.Int64
		var lastErr0 atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var stopOnce sync.Once
		stopLoad := func() {
			stopOnce.Do(func() { close(stop) })
			wg.Wait()
		}
		defer stopLoad() // also when the test fails half way
		// Load on shard 0 straight, which must never fail.
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newClient(t, s.addr(0), 2, func(o *redis.Options) {
					o.ReadTimeout, o.WriteTimeout = 2*time.Second, 2*time.Second
				})
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					v := strconv.Itoa(w*1_000_000 + i)
					err := c.Set(context.Background(), own0, v, 0).Err()
					if err == nil {
						_, err = c.Get(context.Background(), own0).Result()
					}
					if err != nil {
						failed0.Add(1)
						lastErr0.Store(err.Error())
					} else {
						ok0.Add(1)
					}
				}
			}()
		}
		// Load on both shards through the cluster client, which sees
		// shard 1 go and come back.
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := newClusterClient(t, s.addr(0))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if cc.Set(context.Background(), keys[i%len(keys)], "load", 0).Err() == nil {
					ok1.Add(1)
				}
			}
		}()
		time.Sleep(300 * time.Millisecond)

		killed := time.Now()
		if err := syscall.Kill(pid1, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		s.out.waitFor(t, "shard-1 (pid "+strconv.Itoa(pid1)+") killed by signal 9 (SIGKILL)", 5*time.Second)
		s.out.waitFor(t, "shard-1 is back: pid ", 5*time.Second)
		// And it serves its slots again.
		cc := newClusterClient(t, s.addr(0))
		waitFor(t, 5*time.Second, func() bool {
			return cc.Set(context.Background(), keys[16383], "after", 0).Err() == nil
		}, func() string { return "shard-1 serving slot 16383 again" })
		back := time.Since(killed)
		before := ok1.Load()
		time.Sleep(300 * time.Millisecond)
		stopLoad()

		if back > 5*time.Second {
			t.Errorf("shard-1 back after %v", back)
		}
		if ok1.Load() <= before {
			t.Errorf("the cluster client made no progress after shard-1 came back")
		}
		if f := failed0.Load(); f != 0 || ok0.Load() == 0 {
			t.Errorf("shard 0 failed %d of %d rounds while shard 1 restarted (last: %v)", f, f+ok0.Load(), lastErr0.Load())
		}
		if got := s.pid(t, 0); got != pid0 {
			t.Errorf("shard 0's pid changed from %d to %d", pid0, got)
		}
		if got := s.pid(t, 1); got == pid1 {
			t.Errorf("shard 1 still has pid %d", got)
		}
		if got, err := newClient(t, s.addr(1), 2).Get(ctx(t), keys[16383]).Result(); err != nil || got != "after" {
			t.Errorf("GET on the restarted shard 1: %q %v", got, err)
		}
		t.Logf("shard-1 serving again %v after SIGKILL; shard 0 answered %d rounds meanwhile", back.Round(time.Millisecond), ok0.Load())
	})

	// SIGTERM: every shard stops and the launcher exits 0.
	pids := []int{s.pid(t, 0), s.pid(t, 1)}
	s.stop(t)
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("shard pid %d still exists after the launcher exited (%v)", pid, err)
		}
	}
}

// movedOrOK is the reply of shard 0 to a write of hash tag tag: +OK when
// shard 0 owns its slot, else the MOVED to shard 1.
func movedOrOK(s *launchedSet, tag string) string {
	slot := cluster.KeySlot([]byte(tag))
	if int(slot) < 8192 {
		return "+OK\r\n"
	}
	return "-MOVED " + strconv.Itoa(int(slot)) + " " + s.addr(1) + "\r\n"
}
