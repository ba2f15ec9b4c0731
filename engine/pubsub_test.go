package engine

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"shoal/resp"
)

// psTest is a shard on a fake clock with helpers to read what clients got.
type psTest struct {
	t   testing.TB
	now int64
	s   *Shard
}

func newPSTest(t testing.TB) *psTest {
	p := &psTest{t: t, now: scriptStart}
	p.s = newTestShard(&p.now)
	return p
}

// exec runs a command line for c and returns every reply it wrote (and
// anything published to c before), rendered; c.Out is emptied.
func (p *psTest) exec(c *Client, line string) []string {
	p.t.Helper()
	args, err := resp.SplitArgs([]byte(line))
	if err != nil {
		p.t.Fatal(err)
	}
	p.s.Tick()
	p.s.Exec(c, args)
	return p.take(c)
}

// take renders and empties c's output.
func (p *psTest) take(c *Client) []string {
	p.t.Helper()
	if len(c.Out) == 0 {
		return nil
	}
	got := renderAll(p.t, c.Out)
	c.Out = c.Out[:0]
	return got
}

func TestNotifyFlags(t *testing.T) {
	cases := []struct {
		in, canon string
		ok        bool
	}{
		{"", "", true},
		{"A", "A", true},
		{"KEA", "AKE", true},
		{"AKEmn", "AKEm", true}, // as in Redis, n is not shown beside A
		{"An", "A", true},
		{"g$lshzxetd", "A", true},
		{"g$lshzxet", "g$lshzxet", true},
		{"Ex", "xE", true},
		{"Kl", "lK", true},
		{"nmE$K", "$nKEm", true},
		{"xx", "x", true},
		{"KEQ", "", false},
		{"a", "", false},
		{" K", "", false},
	}
	for _, tc := range cases {
		f, ok := parseNotifyFlags(tc.in)
		if ok != tc.ok {
			t.Errorf("%q: ok %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if ok && formatNotifyFlags(f) != tc.canon {
			t.Errorf("%q: canonical %q, want %q", tc.in, formatNotifyFlags(f), tc.canon)
		}
	}
}

func TestNotifyConfigArgs(t *testing.T) {
	cfg, err := ParseArgs([]string{"--notify-keyspace-events", "Ex"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NotifyKeyspaceEvents != notifyKeyevent|notifyExpired {
		t.Fatalf("flags %b", cfg.NotifyKeyspaceEvents)
	}
	if _, err := ParseArgs([]string{"--notify-keyspace-events", "Eq"}); err == nil || !strings.Contains(err.Error(), errNotifyClasses) {
		t.Fatalf("bad class accepted: %v", err)
	}
}

// FuzzNotifyFlags checks the notify-keyspace-events parser: what it
// accepts formats to a canonical string that parses back to the same
// classes, and what it refuses holds a character that names no class.
func FuzzNotifyFlags(f *testing.F) {
	for _, s := range []string{"", "KEA", "g$lshzxetd", "nmE$K", "KEQ", "AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flags, ok := parseNotifyFlags(s)
		if !ok {
			if strings.Trim(s, "Ag$lshzxeKEtmdn") == "" {
				t.Fatalf("%q refused", s)
			}
			return
		}
		canon := formatNotifyFlags(flags)
		back, ok := parseNotifyFlags(canon)
		want := flags
		if flags&notifyAll == notifyAll {
			want &^= notifyNew // Redis's canonical "A" does not show n
		}
		if !ok || back != want {
			t.Fatalf("%q: canonical %q parses to %b, want %b", s, canon, back, flags)
		}
	})
}

// TestPubsubModel drives random subscriptions, unsubscriptions and
// publishes from several clients and checks every confirmation count,
// every PUBLISH count, the messages each client receives and the
// introspection commands against a plain model.
func TestPubsubModel(t *testing.T) {
	p := newPSTest(t)
	rng := rand.New(rand.NewSource(7))
	const nClients = 6
	clients := make([]*Client, nClients)
	for i := range clients {
		clients[i] = p.s.NewClient()
		if i%2 == 1 {
			p.exec(clients[i], "HELLO 3")
		}
	}
	publisher := p.s.NewClient()
	p.exec(publisher, "HELLO 3") // RESP3: it may publish while subscribed

	type subs struct{ ch, pat, sh map[string]bool }
	model := make([]subs, nClients)
	for i := range model {
		model[i] = subs{map[string]bool{}, map[string]bool{}, map[string]bool{}}
	}
	channels := []string{"a", "b", "ab", "news.1", "news.2", "x"}
	patterns := []string{"a*", "news.*", "?", "[ab]*", "*"}
	wrap := func(c *Client, s string) string {
		if c.Resp3 {
			return ">" + s
		}
		return s
	}
	for step := 0; step < 3000; step++ {
		i := rng.Intn(nClients)
		c, m := clients[i], &model[i]
		switch op := rng.Intn(7); op {
		case 0, 1, 2: // SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE one name
			kind := []string{"subscribe", "psubscribe", "ssubscribe"}[op]
			set := []map[string]bool{m.ch, m.pat, m.sh}[op]
			name := channels[rng.Intn(len(channels))]
			if op == 1 {
				name = patterns[rng.Intn(len(patterns))]
			}
			set[name] = true
			n := len(m.ch) + len(m.pat)
			if op == 2 {
				n = len(m.sh)
			}
			want := wrap(c, fmt.Sprintf("[%q %q :%d]", kind, name, n))
			if got := p.exec(c, strings.ToUpper(kind)+" "+name); len(got) != 1 || got[0] != want {
				t.Fatalf("step %d: %s %s: %v, want %s", step, kind, name, got, want)
			}
		case 3, 4: // UNSUBSCRIBE / PUNSUBSCRIBE one name
			kind := []string{"unsubscribe", "punsubscribe"}[op-3]
			set := []map[string]bool{m.ch, m.pat}[op-3]
			name := channels[rng.Intn(len(channels))]
			if op == 4 {
				name = patterns[rng.Intn(len(patterns))]
			}
			delete(set, name)
			want := wrap(c, fmt.Sprintf("[%q %q :%d]", kind, name, len(m.ch)+len(m.pat)))
			if got := p.exec(c, strings.ToUpper(kind)+" "+name); len(got) != 1 || got[0] != want {
				t.Fatalf("step %d: %s %s: %v, want %s", step, kind, name, got, want)
			}
		case 5: // PUBLISH or SPUBLISH, then check who got what
			ch := channels[rng.Intn(len(channels))]
			shard := rng.Intn(3) == 0
			var expect [nClients][]string
			n := 0
			for j := range clients {
				cj := clients[j]
				if shard {
					if model[j].sh[ch] {
						expect[j] = append(expect[j], wrap(cj, fmt.Sprintf("[\"smessage\" %q \"m%d\"]", ch, step)))
						n++
					}
					continue
				}
				if model[j].ch[ch] {
					expect[j] = append(expect[j], wrap(cj, fmt.Sprintf("[\"message\" %q \"m%d\"]", ch, step)))
					n++
				}
			}
			if !shard {
				// Patterns in order of first subscription across clients:
				// the model checks per client, where the order is that of
				// the shard's pattern list.
				for _, ps := range p.s.pubsub.patterns {
					for _, cj := range ps.clients {
						j := indexOf(clients, cj)
						if !model[j].pat[string(ps.pattern)] {
							t.Fatalf("step %d: client %d listed under %q without subscribing", step, j, ps.pattern)
						}
						if globMatch(ps.pattern, []byte(ch), false) {
							expect[j] = append(expect[j], wrap(cj, fmt.Sprintf("[\"pmessage\" %q %q \"m%d\"]", ps.pattern, ch, step)))
							n++
						}
					}
				}
			}
			cmd := "PUBLISH"
			if shard {
				cmd = "SPUBLISH"
			}
			if got := p.exec(publisher, fmt.Sprintf("%s %s m%d", cmd, ch, step)); len(got) != 1 || got[0] != fmt.Sprintf(":%d", n) {
				t.Fatalf("step %d: %s %s: %v, want :%d", step, cmd, ch, got, n)
			}
			for j, cj := range clients {
				if got := p.take(cj); strings.Join(got, "\n") != strings.Join(expect[j], "\n") {
					t.Fatalf("step %d: client %d got %v, want %v", step, j, got, expect[j])
				}
			}
		case 6: // introspection
			var names []string
			count := map[string]int{}
			pats := map[string]bool{}
			for _, ms := range model {
				for ch := range ms.ch {
					if count[ch] == 0 {
						names = append(names, ch)
					}
					count[ch]++
				}
				for pt := range ms.pat {
					pats[pt] = true
				}
			}
			sort.Strings(names)
			want := "[" + strings.Join(quoteAll(names), " ") + "]"
			if got := p.exec(publisher, "PUBSUB CHANNELS"); got[0] != want {
				t.Fatalf("step %d: PUBSUB CHANNELS %v, want %s", step, got, want)
			}
			if got := p.exec(publisher, "PUBSUB NUMPAT"); got[0] != fmt.Sprintf(":%d", len(pats)) {
				t.Fatalf("step %d: NUMPAT %v, want %d", step, got, len(pats))
			}
			ch := channels[rng.Intn(len(channels))]
			if got := p.exec(publisher, "PUBSUB NUMSUB "+ch); got[0] != fmt.Sprintf("[%q :%d]", ch, count[ch]) {
				t.Fatalf("step %d: NUMSUB %v, want %d", step, got, count[ch])
			}
			if got, want := clients[i].subscribed(), len(m.ch)+len(m.pat)+len(m.sh) > 0; got != want {
				t.Fatalf("step %d: client %d subscribed %v, want %v", step, i, got, want)
			}
		}
	}
	// Closing the clients leaves no subscriber behind.
	for _, c := range clients {
		p.s.Unregister(c)
	}
	if len(p.s.pubsub.channels)+len(p.s.pubsub.patterns)+len(p.s.pubsub.shard)+len(p.s.pubsub.patIndex) != 0 {
		t.Fatalf("subscriptions left after every client closed: %+v", p.s.pubsub)
	}
}

func indexOf(l []*Client, c *Client) int {
	for i, x := range l {
		if x == c {
			return i
		}
	}
	return -1
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// TestNotifyActiveExpiry: the active expiry cycle sends "expired" too.
func TestNotifyActiveExpiry(t *testing.T) {
	p := newPSTest(t)
	c, sub := p.s.NewClient(), p.s.NewClient()
	p.exec(c, "CONFIG SET notify-keyspace-events Ex")
	p.exec(sub, "SUBSCRIBE __keyevent@0__:expired")
	for i := 0; i < 5; i++ {
		p.exec(c, fmt.Sprintf("SET k%d v PX 10", i))
	}
	p.now += 100
	p.s.Cron()
	got := p.take(sub)
	if len(got) != 5 {
		t.Fatalf("got %d expired events, want 5: %v", len(got), got)
	}
	seen := map[string]bool{}
	for _, g := range got {
		seen[g] = true
	}
	for i := 0; i < 5; i++ {
		if m := fmt.Sprintf(`["message" "__keyevent@0__:expired" "k%d"]`, i); !seen[m] {
			t.Errorf("missing %s in %v", m, got)
		}
	}
}

// TestNotifyBlockedPop: a blocked BLPOP served by a push sends the push
// and then the pop, as Redis does.
func TestNotifyBlockedPop(t *testing.T) {
	p := newPSTest(t)
	c, blocked, sub := p.s.NewClient(), p.s.NewClient(), p.s.NewClient()
	p.exec(c, "CONFIG SET notify-keyspace-events El")
	p.exec(sub, "PSUBSCRIBE *")
	p.exec(blocked, "BLPOP q 0")
	p.exec(c, "RPUSH q a")
	got := p.take(sub)
	want := []string{
		`["pmessage" "*" "__keyevent@0__:rpush" "q"]`,
		`["pmessage" "*" "__keyevent@0__:lpop" "q"]`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %v, want %v", got, want)
	}
	if r := p.take(blocked); len(r) != 1 || r[0] != `["q" "a"]` {
		t.Fatalf("blocked client got %v", r)
	}
}

// TestPubsubNoAlloc: publishing to nobody or to subscribers, and the
// string hot path with notifications off or on, allocate nothing.
func TestPubsubNoAlloc(t *testing.T) {
	p := newPSTest(t)
	c, sub, psub := p.s.NewClient(), p.s.NewClient(), p.s.NewClient()
	cases := []struct {
		name  string
		setup []string
		argv  [][]byte
	}{
		{"PUBLISH to nobody", nil, argv("PUBLISH", "nobody", "hello")},
		{"SET notify off", nil, argv("SET", "key", "value")},
		{"GET notify off", nil, argv("GET", "key")},
		{"PUBLISH to one", []string{"sub:SUBSCRIBE ch"}, argv("PUBLISH", "ch", "hello")},
		{"PUBLISH to a pattern", []string{"psub:PSUBSCRIBE c*"}, argv("PUBLISH", "ch", "hello")},
		{"SPUBLISH to one", []string{"sub:SSUBSCRIBE sch"}, argv("SPUBLISH", "sch", "hello")},
		{"SET notify on", []string{"c:CONFIG SET notify-keyspace-events KEA", "psub:PSUBSCRIBE __key*"}, argv("SET", "key", "value")},
		{"GET miss notify on", []string{"c:CONFIG SET notify-keyspace-events KEAm"}, argv("GET", "missing")},
	}
	who := map[string]*Client{"c": c, "sub": sub, "psub": psub}
	for _, tc := range cases {
		for _, s := range tc.setup {
			name, line, _ := strings.Cut(s, ":")
			p.exec(who[name], line)
		}
		p.s.Exec(c, tc.argv) // warm up: the Out buffers' capacity
		allocs := testing.AllocsPerRun(200, func() {
			c.Out, sub.Out, psub.Out = c.Out[:0], sub.Out[:0], psub.Out[:0]
			p.s.Pending = p.s.Pending[:0]
			c.pending, sub.pending, psub.pending = false, false, false
			p.s.Exec(c, tc.argv)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per run", tc.name, allocs)
		}
	}
}

// TestPubsubSlowSubscriber: a subscriber whose pending output passes the
// pubsub hard limit is closed and gets nothing more; PUBLISH still counts
// it until it is gone. CLIENT KILL TYPE pubsub finds subscribers.
func TestPubsubSlowSubscriber(t *testing.T) {
	p := newPSTest(t)
	c, slow, other := p.s.NewClient(), p.s.NewClient(), p.s.NewClient()
	p.exec(slow, "SUBSCRIBE ch")
	msg := strings.Repeat("x", 1<<20)
	for i := 0; i < 40; i++ {
		if got := p.exec(c, "PUBLISH ch "+msg); got[0] != ":1" {
			t.Fatalf("PUBLISH %d: %v", i, got)
		}
	}
	if slow.Flags&CloseASAP == 0 {
		t.Fatalf("a subscriber with %d bytes pending is not closed", len(slow.Out))
	}
	if len(slow.Out) > pubsubOutputHardLimit+2<<20 {
		t.Fatalf("output kept growing after the limit: %d", len(slow.Out))
	}
	p.s.Unregister(slow)
	if got := p.exec(c, "PUBLISH ch x"); got[0] != ":0" {
		t.Fatalf("PUBLISH after close: %v", got)
	}
	p.exec(other, "PSUBSCRIBE *")
	if got := p.exec(c, "CLIENT KILL TYPE pubsub"); got[0] != ":1" {
		t.Fatalf("CLIENT KILL TYPE pubsub: %v", got)
	}
	if other.Flags&CloseASAP == 0 {
		t.Fatal("subscriber not killed")
	}
}

func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		name  string
		setup []string
	}{
		{"nobody", nil},
		{"one", []string{"SUBSCRIBE ch"}},
		{"ten-patterns", []string{"PSUBSCRIBE a* b* c?h d* e* f* g* h* i* x*"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := newPSTest(b)
			c, sub := p.s.NewClient(), p.s.NewClient()
			for _, l := range bc.setup {
				p.exec(sub, l)
			}
			args := argv("PUBLISH", "ch", "hello world")
			b.ReportAllocs()
			for b.Loop() {
				c.Out, sub.Out = c.Out[:0], sub.Out[:0]
				p.s.Pending = p.s.Pending[:0]
				c.pending, sub.pending = false, false
				p.s.Exec(c, args)
			}
		})
	}
}

func BenchmarkSetNotify(b *testing.B) {
	for _, bc := range []struct {
		name  string
		flags string
	}{{"off", ""}, {"on-nobody", "KEA"}} {
		b.Run(bc.name, func(b *testing.B) {
			p := newPSTest(b)
			c := p.s.NewClient()
			p.exec(c, "CONFIG SET notify-keyspace-events "+fmt.Sprintf("%q", bc.flags))
			args := argv("SET", "key", "value")
			b.ReportAllocs()
			for b.Loop() {
				c.Out = c.Out[:0]
				p.s.Pending = p.s.Pending[:0]
				c.pending = false
				p.s.Exec(c, args)
			}
		})
	}
}
