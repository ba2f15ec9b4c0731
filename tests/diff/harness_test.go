package diff

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"shoal/internal/testserver"
)

// startProxy forwards connections to backend and passes every reply
// through mutate, which returns the bytes to send instead (nil closes the
// client's connection). It stands in for a server with known faults.
func startProxy(t *testing.T, backend string, mutate func(reply []byte) []byte) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", backend)
			if err != nil {
				client.Close()
				continue
			}
			track(client)
			track(server)
			wg.Add(2)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					n, err := client.Read(buf)
					if n > 0 {
						server.Write(buf[:n])
					}
					if err != nil {
						server.(*net.TCPConn).CloseWrite()
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				defer client.Close()
				var pending []byte
				buf := make([]byte, 4096)
				for {
					n, err := server.Read(buf)
					pending = append(pending, buf[:n]...)
					for {
						m, ferr := Frame(pending)
						if ferr != nil {
							break
						}
						out := mutate(pending[:m])
						if out == nil {
							server.Close()
							return
						}
						client.Write(out)
						pending = pending[m:]
					}
					if err != nil {
						client.Write(pending)
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func faults(reply []byte) []byte {
	switch string(reply) {
	case ":42\r\n":
		return []byte(":43\r\n")
	case "-ERR syntax error\r\n":
		return []byte("-ERR syntax\r\n")
	case "$5\r\nclose\r\n":
		return nil
	case "$5\r\nslow!\r\n":
		time.Sleep(400 * time.Millisecond)
	case "$5\r\ntwice\r\n":
		return append(append([]byte{}, reply...), reply...)
	}
	return reply
}

const selfCases = `
=== same
SET k v
GET k
INCR n
KEYS *
=== int
SET n 41
INCR n
GET n
=== syntax
SET k v NX XX
=== close
ECHO close
PING
=== slow
ECHO slow!
PING
=== twice
ECHO twice
=== wrongcount
(2) PING
=== refclose
QUIT
PING
`

// TestHarnessFindsFaults runs cases against redis-server and a proxy that
// corrupts some replies of a second redis-server, and checks that the
// harness reports exactly the faults, accepts what accepted.txt-style
// entries cover, and calls unused entries stale.
func TestHarnessFindsFaults(t *testing.T) {
	testserver.RequireRedis(t)
	ref := testserver.Start(t, testserver.Options{Kind: testserver.Redis})
	other := testserver.Start(t, testserver.Options{Kind: testserver.Redis})
	pair := &Pair{Ref: ref.Addr, Test: startProxy(t, other.Addr, faults), Timeout: 200 * time.Millisecond}
	cases, err := ParseCases("self", "self", []byte(selfCases))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseAccepted("acc", []byte(`
self/int | INCR * | the proxy adds one to 42
self/same | * | nothing differs here any more
other/* | * | no such case runs
`))
	if err != nil {
		t.Fatal(err)
	}
	tally := NewTally(entries)
	type want struct {
		steps    string // "step:accepted" of each difference
		got      string // the tested side's outcome at the first difference
		stopped  bool
		problems string
	}
	wants := map[string]want{
		"self/same":       {steps: ""},
		"self/int":        {steps: "2:true", got: ":43\r\n"},
		"self/syntax":     {steps: "1:false", got: "-ERR syntax\r\n"},
		"self/close":      {steps: "1:false", got: "<EOF>", stopped: true},
		"self/slow":       {steps: "1:false", got: "<timeout>", stopped: true},
		"self/twice":      {steps: "2:false", got: "$5\r\ntwice\r\n"},
		"self/wrongcount": {problems: "sent no reply in time", stopped: true},
		"self/refclose":   {problems: "closed the connection here", stopped: true},
	}
	for i := range cases {
		c := &cases[i]
		res, err := pair.RunCase(c, entries)
		if err != nil {
			t.Fatal(err)
		}
		tally.Add(&res)
		w := wants[c.ID]
		var steps []string
		for _, d := range res.Diffs {
			steps = append(steps, fmt.Sprintf("%d:%v", d.Step, d.Entry != nil))
		}
		if got := strings.Join(steps, ","); got != w.steps {
			t.Errorf("%s: differences at %q, want %q", c.ID, got, w.steps)
			for _, d := range res.Diffs {
				t.Log(d.Report("ref", "test"))
			}
		}
		if len(res.Diffs) > 0 && res.Diffs[0].Got != w.got {
			t.Errorf("%s: got %q, want %q", c.ID, res.Diffs[0].Got, w.got)
		}
		if res.Stopped != w.stopped {
			t.Errorf("%s: stopped = %v", c.ID, res.Stopped)
		}
		if p := strings.Join(res.Problems, ";"); w.problems == "" && p != "" || !strings.Contains(p, w.problems) {
			t.Errorf("%s: problems %q, want %q", c.ID, p, w.problems)
		}
	}
	stale := tally.Stale()
	if len(stale) != 1 || stale[0].Case != "self/same" {
		t.Errorf("stale entries: %+v", stale)
	}
	if tally.Matched(0) != 1 || tally.Unaccepted != 6 {
		t.Errorf("matched %d, unaccepted %d", tally.Matched(0), tally.Unaccepted)
	}
}

// TestScanIteration checks the SCAN normalization against redis-server:
// the whole key set comes back sorted whatever COUNT splits it into.
func TestScanIteration(t *testing.T) {
	testserver.RequireRedis(t)
	a := testserver.Start(t, testserver.Options{Kind: testserver.Redis})
	b := testserver.Start(t, testserver.Options{Kind: testserver.Redis})
	mset := []string{"MSET"}
	var keys []Value
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("key:%03d", i)
		mset = append(mset, k, "v")
		keys = append(keys, Value{Type: '$', Str: []byte(k)})
	}
	all := Value{Type: '*', Elems: []Value{{Type: '$', Str: []byte("0")}, {Type: '*', Elems: keys}}}
	c := Case{ID: "self/scan", Steps: []Step{
		Command(mset...),
		Command("SCAN", "0", "COUNT", "7"),
		Command("SCAN", "0", "MATCH", "key:00*"),
		Command("SCAN", "5"),
		Command("SCAN", "x"),
	}}
	pair := &Pair{Ref: a.Addr, Test: b.Addr, Record: true}
	res, err := pair.RunCase(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diffs) != 0 || len(res.Problems) != 0 {
		t.Fatalf("diffs %+v problems %v", res.Diffs, res.Problems)
	}
	want := []string{
		fmt.Sprintf("%q", all.Encode(nil)),
		fmt.Sprintf("%q", "*2\r\n$1\r\n0\r\n*10\r\n$7\r\nkey:000\r\n$7\r\nkey:001\r\n$7\r\nkey:002\r\n$7\r\nkey:003\r\n$7\r\nkey:004\r\n$7\r\nkey:005\r\n$7\r\nkey:006\r\n$7\r\nkey:007\r\n$7\r\nkey:008\r\n$7\r\nkey:009\r\n"),
		fmt.Sprintf("%q", "*2\r\n$1\r\n0\r\n$8\r\n<masked>\r\n"),
		fmt.Sprintf("%q", "-ERR invalid cursor\r\n"),
	}
	for i, w := range want {
		line := res.Transcript[i+2]
		if !strings.HasSuffix(line, "-> "+w) {
			t.Errorf("step %d: %s\nwant %s", i+2, line, w)
		}
	}
}

func TestDialFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pair := &Pair{Ref: addr, Test: addr, Timeout: 200 * time.Millisecond}
	c := Case{ID: "x/y", Steps: []Step{Command("PING")}}
	if _, err := pair.RunCase(&c, nil); err == nil || !strings.HasPrefix(err.Error(), "diff: dial") || errors.Unwrap(err) == nil {
		t.Fatalf("err = %v", err)
	}
}
