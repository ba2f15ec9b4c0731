package integration

import (
	"bufio"
	"context"
	"math/rand/v2"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"shoal/internal/testserver"
)

// busPortRange finds n consecutive free loopback ports whose cluster bus
// ports (+10000) are free too, all below 32768, where Linux does not pick
// the local ports of outgoing connections (net.ipv4.ip_local_port_range
// starts there by default): a bus port that an outgoing connection holds
// cannot be listened on until it is released.
func busPortRange(t testing.TB, n int) int {
	t.Helper()
	free := func(p int) bool {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
		return true
	}
	for range 100 {
		base := 20000 + rand.IntN(32768-10000-20000-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = free(p) && free(p+10000)
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// launchSetIO is launchSet with the shards' I/O backend chosen, on ports
// from busPortRange.
func launchSetIO(t *testing.T, n int, backend string) *launchedSet {
	t.Helper()
	bin := testserver.BuildShoal(t)
	s := &launchedSet{out: &lineLog{}, base: busPortRange(t, n), n: n, dir: t.TempDir(), exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, "launch", "--shards", strconv.Itoa(n), "--port", strconv.Itoa(s.base), "--io", backend,
		"--dir", s.dir, "--ready-timeout", "10s", "--stop-timeout", "5s", "--", "--save", "")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	s.out.waitFor(t, "is serving: "+strconv.Itoa(n)+" shards", 15*time.Second)
	return s
}

// busSubs is one go-redis subscriber per shard, each to channel "news"
// and pattern "n*" on one connection, counting what it receives.
type busSubs struct {
	mu   sync.Mutex
	got  []map[string]int // per shard: "message <payload>" / "pmessage <payload>" -> times received
	subs []*redis.PubSub
	wg   sync.WaitGroup
}

func subscribeAll(t *testing.T, s *launchedSet) *busSubs {
	t.Helper()
	b := &busSubs{got: make([]map[string]int, s.n)}
	for i := range s.n {
		b.got[i] = map[string]int{}
		// RESP2 and RESP3 subscribers: messages are arrays for one, pushes
		// for the other. go-redis resubscribes when it reconnects.
		c := redis.NewClient(&redis.Options{Addr: s.addr(i), Protocol: 2 + i%2,
			DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
		t.Cleanup(func() { c.Close() })
		ps := c.Subscribe(ctx(t), "news")
		if err := ps.PSubscribe(ctx(t), "n*"); err != nil {
			t.Fatal(err)
		}
		for range 2 { // both confirmations, so that no message is published before them
			if _, err := ps.ReceiveTimeout(ctx(t), 5*time.Second); err != nil {
				t.Fatalf("shard %d subscribe: %v", i, err)
			}
		}
		b.subs = append(b.subs, ps)
		ch := ps.Channel(redis.WithChannelSize(10000))
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for m := range ch {
				kind := "message "
				if m.Pattern != "" {
					kind = "pmessage "
				}
				b.mu.Lock()
				b.got[i][kind+m.Payload]++
				b.mu.Unlock()
			}
		}()
	}
	t.Cleanup(b.close)
	return b
}

func (b *busSubs) close() {
	for _, ps := range b.subs {
		ps.Close()
	}
	b.wg.Wait()
}

// matching lists what shard i's subscriber got with payload prefix.
func (b *busSubs) matching(i int, prefix string) map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int{}
	for k, n := range b.got[i] {
		if _, payload, _ := strings.Cut(k, " "); strings.HasPrefix(payload, prefix) {
			out[k] = n
		}
	}
	return out
}

// awaitLinks publishes probes on every shard until every subscriber has
// received one from every shard: the bus links are up.
func awaitLinks(t *testing.T, s *launchedSet, subs *busSubs, pubs []*redis.Client, tag string) {
	t.Helper()
	seen := func() bool {
		for to := range s.n {
			for from := range s.n {
				if len(subs.matching(to, tag+":"+strconv.Itoa(from)+":")) == 0 {
					return false
				}
			}
		}
		return true
	}
	for k := 0; ; k++ {
		for from, p := range pubs {
			p.Publish(context.Background(), "news", tag+":"+strconv.Itoa(from)+":"+strconv.Itoa(k))
		}
		time.Sleep(50 * time.Millisecond)
		if seen() {
			return
		}
		if k > 300 {
			t.Fatalf("%s: the shards' subscribers do not all hear each other:\n%s", tag, s.out.String())
		}
	}
}

// exchange publishes rounds messages on every shard and checks that every
// subscriber, on every shard, gets each exactly once as a message and once
// as a pmessage, and that PUBLISH replies its shard's receivers.
func exchange(t *testing.T, s *launchedSet, subs *busSubs, pubs []*redis.Client, tag string) {
	t.Helper()
	const rounds = 30
	for k := range rounds {
		for from, p := range pubs {
			msg := tag + ":" + strconv.Itoa(from) + ":" + strconv.Itoa(k)
			if k == rounds-1 {
				msg += ":" + strings.Repeat("x", 100<<10)
			}
			n, err := p.Publish(ctx(t), "news", msg).Result()
			if err != nil || n != 2 {
				t.Fatalf("PUBLISH on shard %d: %d %v, want its 2 local receivers", from, n, err)
			}
		}
	}
	want := 2 * rounds * s.n
	waitFor(t, 10*time.Second, func() bool {
		for i := range s.n {
			if len(subs.matching(i, tag+":")) < want {
				return false
			}
		}
		return true
	}, func() string {
		var b strings.Builder
		for i := range s.n {
			b.WriteString("shard " + strconv.Itoa(i) + ": " + strconv.Itoa(len(subs.matching(i, tag+":"))) + " distinct, want " + strconv.Itoa(want) + "\n")
		}
		return b.String() + s.out.String()
	})
	time.Sleep(200 * time.Millisecond) // time for any duplicate to arrive
	for i := range s.n {
		got := subs.matching(i, tag+":")
		for from := range s.n {
			for k := range rounds {
				msg := tag + ":" + strconv.Itoa(from) + ":" + strconv.Itoa(k)
				if k == rounds-1 {
					msg += ":" + strings.Repeat("x", 100<<10)
				}
				for _, kind := range []string{"message ", "pmessage "} {
					if n := got[kind+msg]; n != 1 {
						t.Errorf("shard %d's subscriber got %s%.40s %d times", i, kind, msg, n)
					}
				}
			}
		}
		if len(got) != want {
			t.Errorf("shard %d's subscriber got %d distinct messages, want %d", i, len(got), want)
		}
	}
}

// TestLaunchedPubsub launches three shards with `shoal launch`, on each
// I/O backend, and checks that PUBLISH works across them as in a Redis
// Cluster: go-redis subscribers (channel and pattern) on every shard get
// every message published on any shard exactly once, redis-cli's
// SUBSCRIBE on one shard hears redis-cli's PUBLISH on another, SPUBLISH
// stays on its shard, and after kill -9 of a shard and its restart by
// the launcher, messages flow to and from it again.
func TestLaunchedPubsub(t *testing.T) {
	shoalOnly(t)
	for _, backend := range testserver.IOBackends() {
		t.Run(backend, func(t *testing.T) {
			s := launchSetIO(t, 3, backend)
			subs := subscribeAll(t, s)
			var pubs []*redis.Client
			for i := range s.n {
				pubs = append(pubs, newClient(t, s.addr(i), 2, func(o *redis.Options) { o.MaxRetries = 3 }))
			}
			awaitLinks(t, s, subs, pubs, "probe")
			exchange(t, s, subs, pubs, "msg")

			t.Run("SPUBLISH stays on its shard", func(t *testing.T) {
				cc := newClusterClient(t, s.addr(0))
				ps := cc.SSubscribe(ctx(t), "news") // on the shard serving the slot of "news"
				defer ps.Close()
				if _, err := ps.ReceiveTimeout(ctx(t), 5*time.Second); err != nil {
					t.Fatal(err)
				}
				if n, err := cc.SPublish(ctx(t), "news", "sharded").Result(); err != nil || n != 1 {
					t.Fatalf("SPUBLISH: %d %v", n, err)
				}
				if m, err := ps.ReceiveTimeout(ctx(t), 5*time.Second); err != nil || m.(*redis.Message).Payload != "sharded" {
					t.Fatalf("SSUBSCRIBE got %v %v", m, err)
				}
				time.Sleep(100 * time.Millisecond)
				for i := range s.n {
					if n := len(subs.matching(i, "sharded")); n != 0 {
						t.Errorf("shard %d's channel subscriber got the SPUBLISH", i)
					}
				}
			})

			t.Run("redis-cli", func(t *testing.T) {
				cli := requireTool(t, "redis-cli")
				sub := exec.Command(cli, "-p", strconv.Itoa(s.base+2), "SUBSCRIBE", "news")
				out, err := sub.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := sub.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() {
					sub.Process.Kill()
					sub.Wait()
				}()
				lines := make(chan string, 100)
				go func() {
					defer close(lines)
					sc := bufio.NewScanner(out)
					for sc.Scan() {
						lines <- sc.Text()
					}
				}()
				// redis-cli prints each element of a reply on its own line.
				expectLines := func(want ...string) {
					t.Helper()
					timeout := time.After(5 * time.Second)
					for _, w := range want {
						select {
						case l, ok := <-lines:
							if !ok || l != w {
								t.Fatalf("redis-cli SUBSCRIBE printed %q (open %v), want %q", l, ok, w)
							}
						case <-timeout:
							t.Fatalf("redis-cli SUBSCRIBE printed nothing more, waiting for %q", w)
						}
					}
				}
				expectLines("subscribe", "news", "1")
				o, e, err := tool(t, "", cli, "-p", strconv.Itoa(s.base), "PUBLISH", "news", "from redis-cli")
				if err != nil || strings.TrimSpace(o) != "2" {
					t.Fatalf("redis-cli PUBLISH: %q %q %v", o, e, err)
				}
				expectLines("message", "news", "from redis-cli")
			})

			t.Run("kill -9 and restart", func(t *testing.T) {
				pid := s.pid(t, 1)
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				s.out.waitFor(t, "shard-1 (pid "+strconv.Itoa(pid)+") killed by signal 9 (SIGKILL)", 5*time.Second)
				s.out.waitFor(t, "shard-1 is back: pid ", 10*time.Second)
				// go-redis redials shard 1 and subscribes again; the shards
				// relink with it.
				awaitLinks(t, s, subs, pubs, "relink")
				exchange(t, s, subs, pubs, "after")
				if got := s.pid(t, 1); got == pid {
					t.Errorf("shard 1 still has pid %d", got)
				}
			})
		})
	}
}
