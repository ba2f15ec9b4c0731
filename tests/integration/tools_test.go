package integration

import (
	"context"
	"encoding/csv"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// requireTool skips the test when name (from Debian's redis-tools) is not
// on PATH.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not on PATH (install Debian's redis-tools to run this test)", name)
	}
	return p
}

// tool runs a command-line tool with stdin, bounded by 60 s, and returns
// its standard output and standard error.
func tool(t *testing.T, stdin string, name string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, name, args...)
	cmd.WaitDelay = time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if c.Err() != nil {
		t.Fatalf("%s %v did not finish within 60 s", name, args)
	}
	return o.String(), e.String(), err
}

// TestRedisCLI uses redis-cli as people do: one command per invocation, a
// file of commands on standard input, --pipe mode with raw RESP, and INFO.
func TestRedisCLI(t *testing.T) {
	cli := requireTool(t, "redis-cli")
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		conn := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.Port)}
		runCLI := func(t *testing.T, stdin string, args ...string) string {
			t.Helper()
			out, errOut, err := tool(t, stdin, cli, append(append([]string(nil), conn...), args...)...)
			if err != nil {
				t.Fatalf("redis-cli %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, errOut)
			}
			return out
		}

		t.Run("commands as arguments", func(t *testing.T) {
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"SET", "a", "b"}, "OK\n"},
				{[]string{"GET", "a"}, "b\n"},
				{[]string{"SET", "with space", "x y"}, "OK\n"},
				{[]string{"GET", "with space"}, "x y\n"},
				{[]string{"INCR", "n"}, "1\n"},
				{[]string{"GET", "missing"}, "\n"},
				{[]string{"MGET", "a", "missing", "n"}, "b\n\n1\n"},
				{[]string{"PING"}, "PONG\n"},
			} {
				if got := runCLI(t, "", tc.args...); got != tc.want {
					t.Errorf("redis-cli %q = %q, want %q", tc.args, got, tc.want)
				}
			}
		})

		t.Run("commands from standard input", func(t *testing.T) {
			in := "SET x 1\nINCR x\nGET x\nGET nokey\nSET \"a b\" \"c d\"\nGET \"a b\"\nDEL x\nEXISTS x\n"
			want := "OK\n2\n2\n\nOK\nc d\n1\n0\n"
			if got := runCLI(t, in); got != want {
				t.Errorf("redis-cli < file:\n got %q\nwant %q", got, want)
			}
		})

		t.Run("pipe mode", func(t *testing.T) {
			const n = 5000
			var b []byte
			for i := 0; i < n; i++ {
				b = appendCommand(b, "SET", "pipe:"+strconv.Itoa(i), strconv.Itoa(i))
			}
			out := runCLI(t, string(b), "--pipe")
			if !strings.Contains(out, fmt.Sprintf("errors: 0, replies: %d", n)) {
				t.Fatalf("redis-cli --pipe output:\n%s", out)
			}
			if got := runCLI(t, "", "GET", "pipe:"+strconv.Itoa(n-1)); got != strconv.Itoa(n-1)+"\n" {
				t.Fatalf("GET after --pipe = %q", got)
			}
		})

		t.Run("pipe mode counts errors", func(t *testing.T) {
			in := string(command("SET", "e", "x")) + string(command("INCR", "e")) + string(command("GET", "e"))
			out, _, err := tool(t, in, cli, append(append([]string(nil), conn...), "--pipe")...)
			if err == nil || !strings.Contains(out, "errors: 1, replies: 3") {
				t.Fatalf("redis-cli --pipe with a failing command: %v\n%s", err, out)
			}
		})

		t.Run("scan", func(t *testing.T) {
			var b []byte
			for i := 0; i < 300; i++ {
				b = appendCommand(b, "SET", "scanme:"+strconv.Itoa(i), "x")
			}
			runCLI(t, string(b), "--pipe")
			out := runCLI(t, "", "--scan", "--pattern", "scanme:*")
			seen := make(map[string]bool)
			for _, k := range strings.Fields(out) {
				if !strings.HasPrefix(k, "scanme:") {
					t.Fatalf("--scan --pattern scanme:* printed %q", k)
				}
				seen[k] = true
			}
			if len(seen) != 300 {
				t.Fatalf("--scan found %d of the 300 keys", len(seen))
			}
		})

		t.Run("INFO server", func(t *testing.T) {
			out := runCLI(t, "", "INFO", "server")
			if !strings.HasPrefix(out, "# Server\r\n") && !strings.HasPrefix(out, "# Server\n") {
				t.Fatalf("INFO server does not start with its section header:\n%s", out)
			}
			m := parseInfo(out)
			if m["tcp_port"] != strconv.Itoa(s.Port) {
				t.Errorf("tcp_port = %q, want %d", m["tcp_port"], s.Port)
			}
			if m["redis_version"] == "" || m["process_id"] != strconv.Itoa(s.PID) {
				t.Errorf("redis_version %q, process_id %q (want %d)", m["redis_version"], m["process_id"], s.PID)
			}
		})
	})
}

// benchLine matches a result line of redis-benchmark -q.
var benchLine = regexp.MustCompile(`^\s*(\S[^:]*): ([0-9.]+) requests per second`)

// parseBenchQ reads the results of redis-benchmark -q: test name to
// requests per second. Progress lines (ending in \r) are skipped.
func parseBenchQ(out string) map[string]float64 {
	m := make(map[string]float64)
	for _, l := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if g := benchLine.FindStringSubmatch(l); g != nil {
			if v, err := strconv.ParseFloat(g[2], 64); err == nil {
				m[g[1]] = v
			}
		}
	}
	return m
}

// parseBenchCSV reads the results of redis-benchmark --csv: test name to
// requests per second, from the "test","rps",... table.
func parseBenchCSV(out string) (map[string]float64, error) {
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || len(recs[0]) < 2 || recs[0][0] != "test" || recs[0][1] != "rps" {
		return nil, fmt.Errorf("no \"test\",\"rps\" header")
	}
	m := make(map[string]float64)
	for _, rec := range recs[1:] {
		if len(rec) < 2 {
			return nil, fmt.Errorf("short record %q", rec)
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", rec, err)
		}
		m[rec[0]] = v
	}
	return m, nil
}

// TestRedisBenchmark runs redis-benchmark against the server, in -q and
// --csv forms: every test reports a rate, nothing reports an error, and
// the data it wrote reads back.
func TestRedisBenchmark(t *testing.T) {
	bench := requireTool(t, "redis-benchmark")
	const n = 20000
	wantTests := []string{"SET", "GET", "INCR", "MSET (10 keys)"}
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		common := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(s.Port), "-t", "get,set,incr,mset", "-n", strconv.Itoa(n), "-c", "20", "-P", "16"}
		w := startWatcher(t, s.Addr)
		for i, form := range []string{"-q", "--csv"} {
			t.Run(form, func(t *testing.T) {
				out, errOut, err := tool(t, "", bench, append(append([]string(nil), common...), form)...)
				if err != nil {
					t.Fatalf("redis-benchmark %s: %v\nstdout:\n%s\nstderr:\n%s", form, err, out, errOut)
				}
				for _, bad := range []string{"Error", "ERR", "WARNING", "Could not", "Unexpected"} {
					if strings.Contains(out+errOut, bad) {
						t.Fatalf("redis-benchmark %s reported %q:\nstdout:\n%s\nstderr:\n%s", form, bad, out, errOut)
					}
				}
				var rps map[string]float64
				if form == "--csv" {
					if rps, err = parseBenchCSV(out); err != nil {
						t.Fatalf("--csv output: %v\n%s", err, out)
					}
				} else {
					rps = parseBenchQ(out)
				}
				for _, name := range wantTests {
					if rps[name] <= 0 {
						t.Errorf("%s: no positive rate for %q in:\n%s", form, name, out)
					}
				}
				if len(rps) != len(wantTests) {
					t.Errorf("%s: tests %v, want %v", form, rps, wantTests)
				}
				t.Logf("%s: %v", form, rps)

				// redis-benchmark without -r uses the literal key names; every
				// INCR of every run counted.
				c := dial(t, s.Addr)
				// Its values are 3 bytes by default (-d 3).
				if got := c.do(t, "GET", "key:__rand_int__"); !strings.HasPrefix(got, "$3\r\n") || len(got) != len("$3\r\nabc\r\n") {
					t.Errorf("GET key:__rand_int__ = %q, want the benchmark's 3-byte value", got)
				}
				if got, want := c.do(t, "GET", "counter:__rand_int__"), bulk(strconv.Itoa(n*(i+1))); got != want {
					t.Errorf("GET counter:__rand_int__ = %q, want %q", got, want)
				}
			})
		}
		w.finish(t)
	})
}
