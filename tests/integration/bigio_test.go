package integration

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"shoal/resp"
)

// TestHugePipeline writes 200,000 commands (about 7 MB) in one write and
// reads every reply, checking each is the right one in the right place,
// while another client keeps working.
func TestHugePipeline(t *testing.T) {
	const pairs = 100000 // SET key:i val:i, INCR ctr
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)
		buf := make([]byte, 0, pairs*48)
		for i := 0; i < pairs; i++ {
			n := strconv.Itoa(i)
			buf = appendCommand(buf, "SET", "key:"+n, "val:"+n)
			buf = appendCommand(buf, "INCR", "ctr")
		}
		c := dial(t, s.Addr)
		werr := make(chan error, 1)
		go func() { werr <- c.Write(buf) }()
		for i := 0; i < pairs; i++ {
			v, err := c.Read()
			if err != nil {
				t.Fatalf("reply %d: %v", 2*i, err)
			}
			if string(v.Raw) != "+OK\r\n" {
				t.Fatalf("reply %d (SET) = %q", 2*i, v.Raw)
			}
			v, err = c.Read()
			if err != nil {
				t.Fatalf("reply %d: %v", 2*i+1, err)
			}
			if v.Type != resp.TypeInt || v.Int != int64(i+1) {
				t.Fatalf("reply %d (INCR) = %q, want :%d", 2*i+1, v.Raw, i+1)
			}
		}
		if err := <-werr; err != nil {
			t.Fatalf("writing the pipeline: %v", err)
		}
		for _, i := range []int{0, 1, pairs / 2, pairs - 1} {
			n := strconv.Itoa(i)
			if got := c.do(t, "GET", "key:"+n); got != bulk("val:"+n) {
				t.Fatalf("GET key:%d = %q", i, got)
			}
		}
		w.finish(t)
	})
}

// TestPartialCommands sends commands in pieces with pauses: the server
// answers only once a command is whole, and serves others meanwhile.
func TestPartialCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)

		t.Run("half then the rest", func(t *testing.T) {
			c := dial(t, s.Addr)
			cmd := string(command("SET", "half", "value"))
			c.send(t, cmd[:len(cmd)/2])
			c.expectSilence(t, 300*time.Millisecond)
			if err := w.Probe(100); err != nil {
				t.Fatalf("another client while one holds half a command: %v", err)
			}
			c.send(t, cmd[len(cmd)/2:])
			if got := c.reply(t); got != "+OK\r\n" {
				t.Fatalf("SET = %q", got)
			}
			if got := c.do(t, "GET", "half"); got != bulk("value") {
				t.Fatalf("GET = %q", got)
			}
		})

		t.Run("byte by byte", func(t *testing.T) {
			c := dial(t, s.Addr)
			msg := string(command("SET", "bytewise", "0123456789")) + "GET bytewise\r\n" + string(command("INCR", "bytectr"))
			for i := 0; i < len(msg); i++ {
				c.send(t, msg[i:i+1])
				time.Sleep(time.Millisecond)
			}
			want := "+OK\r\n" + bulk("0123456789") + ":1\r\n"
			var got string
			for len(got) < len(want) {
				got += c.reply(t)
			}
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})

		t.Run("split at every offset", func(t *testing.T) {
			c := dial(t, s.Addr)
			msg := string(command("SET", "split", "abc")) + string(command("GET", "split"))
			for i := 1; i < len(msg); i++ {
				c.send(t, msg[:i])
				time.Sleep(2 * time.Millisecond)
				c.send(t, msg[i:])
				if got := c.reply(t) + c.reply(t); got != "+OK\r\n"+bulk("abc") {
					t.Fatalf("split at %d: %q", i, got)
				}
			}
		})
		w.finish(t)
	})
}

// TestDisconnects has clients vanish at awkward moments: holding half a
// command, while a huge bulk is arriving, while a huge reply is being
// written. Each time the server forgets the client, keeps serving the
// others, and over many rounds its memory stays within a few rounds' worth
// of buffers: what a vanished client held is given back.
func TestDisconnects(t *testing.T) {
	const rounds = 8
	type scenario struct {
		name string
		// setup runs once on a helper connection.
		setup func(t *testing.T, c *rawConn)
		// act runs on the connection that will vanish; it returns once the
		// server has started working on what it sent.
		act func(t *testing.T, c *rawConn)
		// reset closes with RST instead of FIN.
		reset bool
		// size is about how much the server buffers for the client in a
		// round.
		size int64
	}
	partial := func(p string) func(t *testing.T, c *rawConn) {
		return func(t *testing.T, c *rawConn) {
			c.send(t, p)
			c.expectSilence(t, 20*time.Millisecond)
		}
	}
	bigBulk := func(t *testing.T, c *rawConn) {
		c.send(t, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$50000000\r\n")
		c.send(t, string(pattern(1<<20, 1)))
		c.expectSilence(t, 50*time.Millisecond)
	}
	replyStarts := func(cmds ...[]string) func(t *testing.T, c *rawConn) {
		return func(t *testing.T, c *rawConn) {
			var b []byte
			for _, args := range cmds {
				b = appendCommand(b, args...)
			}
			c.send(t, string(b))
			c.c.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := c.r.Peek(1); err != nil {
				t.Fatalf("no reply started: %v", err)
			}
		}
	}
	set := func(key string, size int, seed uint64) func(t *testing.T, c *rawConn) {
		return func(t *testing.T, c *rawConn) {
			if got := c.do(t, "SET", key, string(pattern(size, seed))); got != "+OK\r\n" {
				t.Fatalf("SET = %q", got)
			}
		}
	}
	mget := []string{"MGET"}
	for i := 0; i < 500; i++ {
		mget = append(mget, "v100k:"+strconv.Itoa(i))
	}
	var gets [][]string
	for i := 0; i < 20; i++ {
		gets = append(gets, []string{"GET", "v2m"})
	}
	scenarios := []scenario{
		{name: "half a multibulk", act: partial("*3\r\n$3\r\nSET\r\n$1\r\nk")},
		{name: "half a multibulk, reset", act: partial("*3\r\n$3\r\nSET\r\n$1\r\nk"), reset: true},
		{name: "half an inline line", act: partial("SET k v")},
		{name: "inside a 50 MB bulk", act: bigBulk, size: 50 << 20},
		{name: "inside a 50 MB bulk, reset", act: bigBulk, reset: true, size: 50 << 20},
		{
			name:  "during GET of a 50 MB value",
			setup: set("v50m", 50<<20, 2),
			act:   replyStarts([]string{"GET", "v50m"}), size: 50 << 20,
		},
		{
			name: "during MGET of 500 values of 100 KB",
			setup: func(t *testing.T, c *rawConn) {
				var b []byte
				for i := 1; i < len(mget); i++ {
					b = appendCommand(b, "SET", mget[i], string(pattern(100<<10, uint64(i))))
				}
				c.send(t, string(b))
				for i := 1; i < len(mget); i++ {
					if got := c.reply(t); got != "+OK\r\n" {
						t.Fatalf("SET = %q", got)
					}
				}
			},
			act: replyStarts(mget), size: 50 << 20,
		},
		{
			name:  "during a pipeline of 20 GETs of a 2 MB value",
			setup: set("v2m", 2<<20, 3),
			act:   replyStarts(gets...), size: 40 << 20,
		},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				// A server of its own, so that garbage left by other
				// scenarios does not blur the memory figures.
				s := start(t, backend)
				w := startWatcher(t, s.Addr)
				base, err := connectedClients(s.Addr)
				if err != nil {
					t.Fatal(err)
				}
				if sc.setup != nil {
					h := dial(t, s.Addr)
					sc.setup(t, h)
					h.Close()
					waitClients(t, s.Addr, base, 5*time.Second)
				}
				var trace []int64
				for r := 0; r < rounds; r++ {
					c := dial(t, s.Addr)
					sc.act(t, c)
					if n, err := connectedClients(s.Addr); err != nil || n != base+1 {
						t.Fatalf("round %d: while the client is connected, connected_clients = %d, %v; want %d", r, n, err, base+1)
					}
					if sc.reset {
						c.c.SetLinger(0)
					}
					c.Close()
					waitClients(t, s.Addr, base, 10*time.Second)
					if err := w.Probe(r); err != nil {
						t.Fatalf("round %d: another client: %v", r, err)
					}
					trace = append(trace, mustRSS(t, s.PID))
				}
				// Garbage not yet collected makes RSS go up and down by a
				// round or two; a leak of what each round buffers only goes
				// up, by about size a round. So the lowest of the last three
				// rounds must be within 3*size of the second round.
				limit := max(3*sc.size, 32<<20)
				mb := make([]int64, len(trace))
				for i, v := range trace {
					mb[i] = v >> 20
				}
				if low := slices.Min(trace[rounds-3:]); low > trace[1]+limit {
					t.Fatalf("RSS in MB after each round: %v: grew by more than %d MB since the second round", mb, limit>>20)
				}
				t.Logf("RSS in MB after each round: %v", mb)
				w.finish(t)
			})
		}
	})
}

// TestBigValues sets and gets values of 600 KB and 100 MB, sending the
// bulk in pieces of random sizes with pauses between some of them, and
// with go-redis.
func TestBigValues(t *testing.T) {
	cases := []struct {
		name   string
		size   int
		pieces int // the number of writes the request is cut into
	}{
		{"600KB", 600 << 10, 200},
		{"100MB", 100 << 20, 60},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)
		rdb := newClient(t, s.Addr, 0)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				val := pattern(tc.size, uint64(100+i))
				key := "big:" + tc.name
				req := appendCommand(nil, "SET", key, string(val))
				rng := rand.New(rand.NewPCG(uint64(i), 7))
				c := dial(t, s.Addr)
				// Random cut points, always including cuts inside the header
				// and right before the final CRLF.
				cuts := []int{5, 20, len(req) - 2, len(req) - 1}
				for len(cuts) < tc.pieces {
					cuts = append(cuts, rng.IntN(len(req)))
				}
				cuts = append(cuts, 0, len(req))
				slices.Sort(cuts)
				for j := 1; j < len(cuts); j++ {
					if cuts[j] == cuts[j-1] {
						continue
					}
					if err := c.Write(req[cuts[j-1]:cuts[j]]); err != nil {
						t.Fatalf("write piece %d: %v", j, err)
					}
					if j%10 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
				if got := c.reply(t); got != "+OK\r\n" {
					t.Fatalf("SET = %q", got)
				}
				c.send(t, string(command("GET", key)))
				v, err := c.Read()
				if err != nil {
					t.Fatalf("GET: %v", err)
				}
				equalBytes(t, "raw GET", v.Str, val)
				if n, err := rdb.StrLen(ctx(t), key).Result(); n != int64(tc.size) || err != nil {
					t.Fatalf("STRLEN = %d, %v", n, err)
				}

				// The same through go-redis, with a different value.
				val2 := pattern(tc.size, uint64(200+i))
				if err := rdb.Set(ctx(t), key, val2, 0).Err(); err != nil {
					t.Fatalf("go-redis SET: %v", err)
				}
				got, err := rdb.Get(ctx(t), key).Bytes()
				if err != nil {
					t.Fatalf("go-redis GET: %v", err)
				}
				equalBytes(t, "go-redis GET", got, val2)
				if err := rdb.Del(ctx(t), key).Err(); err != nil {
					t.Fatal(err)
				}
			})
		}
		w.finish(t)
	})
}

// TestQueryBufferLimit checks that a client whose unparsed input outgrows
// client-query-buffer-limit is closed (without a reply, as Redis does), and
// that the others are not.
func TestQueryBufferLimit(t *testing.T) {
	cases := []struct {
		name string
		send func(t *testing.T, c *rawConn)
	}{
		{"one bulk over the limit", func(t *testing.T, c *rawConn) {
			req := appendCommand(nil, "SET", "k", string(pattern(3<<20, 9)))
			c.Write(req) // the server may close before taking it all
		}},
		{"a bulk header then data trickling in", func(t *testing.T, c *rawConn) {
			c.send(t, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n")
			chunk := pattern(256<<10, 10)
			for i := 0; i < 16; i++ {
				if c.Write(chunk) != nil {
					return
				}
			}
		}},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend, "--client-query-buffer-limit", "1mb")
		w := startWatcher(t, s.Addr)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := dial(t, s.Addr)
				tc.send(t, c)
				c.expectClosed(t)
				if got, _ := w.rdb.Exists(ctx(t), "k").Result(); got != 0 {
					t.Fatalf("the oversized SET ran")
				}
			})
		}
		// A value under the limit is fine.
		c := dial(t, s.Addr)
		if got := c.do(t, "SET", "k2", string(pattern(900<<10, 11))); got != "+OK\r\n" {
			t.Fatalf("SET of 900 KB under a 1 MB limit = %q", got)
		}
		w.finish(t)
	})
}

// TestConcurrentPipelines has many clients send big pipelines at once, so
// that the server's receive buffers run short (with io_uring, the
// provided-buffer ring), and checks that each client gets all its replies,
// in order.
func TestConcurrentPipelines(t *testing.T) {
	const clients, perClient = 40, 20000
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)
		errs := make(chan error, clients)
		for i := 0; i < clients; i++ {
			go func(i int) { errs <- pipelineClient(s.Addr, i, perClient) }(i)
		}
		for i := 0; i < clients; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		w.finish(t)
	})
}

// pipelineClient writes n INCRs of its own counter, each followed by an
// ECHO carrying 200 bytes, in one write, and checks every reply.
func pipelineClient(addr string, id, n int) error {
	c, err := dialRaw(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ctr := "cp:" + strconv.Itoa(id)
	payload := string(pattern(200, uint64(id)))
	var b []byte
	for i := 0; i < n; i++ {
		b = appendCommand(b, "INCR", ctr)
		b = appendCommand(b, "ECHO", payload)
	}
	werr := make(chan error, 1)
	go func() { werr <- c.Write(b) }()
	for i := 0; i < n; i++ {
		v, err := c.Read()
		if err != nil {
			c.Close()
			<-werr
			return fmt.Errorf("client %d: reply %d: %w", id, 2*i, err)
		}
		if v.Type != resp.TypeInt || v.Int != int64(i+1) {
			c.Close()
			<-werr
			return fmt.Errorf("client %d: reply %d = %q, want :%d", id, 2*i, v.Raw, i+1)
		}
		v, err = c.Read()
		if err == nil && string(v.Str) != payload {
			err = fmt.Errorf("= %q", abbrev(string(v.Raw)))
		}
		if err != nil {
			c.Close()
			<-werr
			return fmt.Errorf("client %d: reply %d (ECHO) %w", id, 2*i+1, err)
		}
	}
	return <-werr
}

// TestHugeMultibulk sends one MSET of 200,000 pairs (about 5 MB, a single
// command) in 16 KB pieces, then reads it all back with one MGET and
// removes it with one DEL.
func TestHugeMultibulk(t *testing.T) {
	const n = 200000
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		w := startWatcher(t, s.Addr)
		c := dial(t, s.Addr)
		mset := make([]string, 0, 1+2*n)
		keys := make([]string, 0, 1+n)
		mset = append(mset, "MSET")
		keys = append(keys, "MGET")
		for i := 0; i < n; i++ {
			k := "mb:" + strconv.Itoa(i)
			mset = append(mset, k, "v"+strconv.Itoa(i))
			keys = append(keys, k)
		}
		req := command(mset...)
		for off := 0; off < len(req); off += 16 << 10 {
			c.send(t, string(req[off:min(off+16<<10, len(req))]))
		}
		if got := c.reply(t); got != "+OK\r\n" {
			t.Fatalf("MSET = %q", got)
		}
		v, err := c.Do(keys...)
		if err != nil || v.Type != resp.TypeArray || len(v.Elems) != n {
			t.Fatalf("MGET: %d elements, %v", len(v.Elems), err)
		}
		for i, e := range v.Elems {
			if string(e.Str) != "v"+strconv.Itoa(i) {
				t.Fatalf("MGET element %d = %q", i, e.Raw)
			}
		}
		keys[0] = "DEL"
		if got := c.do(t, keys...); got != ":"+strconv.Itoa(n)+"\r\n" {
			t.Fatalf("DEL = %q", got)
		}
		w.finish(t)
	})
}
