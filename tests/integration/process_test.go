package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"shoal/internal/testserver"
)

// proc is a server process this package starts itself, for the tests that
// need its exact exit status, its standard input, or a config file first
// on its command line (testserver puts its own options first).
type proc struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	addr   string
	port   int
}

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

// binary returns the server binary and the arguments that come before a
// config file: "shard" for shoal.
func binary(t *testing.T) (string, []string) {
	if targetRedis() {
		testserver.RequireRedis(t)
		return "redis-server", nil
	}
	return testserver.BuildShoal(t), []string{"shard"}
}

// baseArgs are the options every server this package launches gets: a
// loopback bind, a data directory, no persistence for redis-server, and
// the I/O backend for shoal.
func baseArgs(backend, dir string) []string {
	a := []string{"--bind", "127.0.0.1", "--dir", dir}
	if targetRedis() {
		return append(a, "--save", "", "--appendonly", "no")
	}
	return append(a, "--io", backend)
}

// run starts bin with args (stdin from stdin when not nil) and returns the
// process without waiting for it to serve. The process is killed, by PID,
// when the test ends if it is still running.
func run(t *testing.T, stdin string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{out: &lockedBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	if stdin != "" {
		p.cmd.Stdin = strings.NewReader(stdin)
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	return p
}

// launch starts a server on a free port with args and waits until it
// answers PING; it retries on another port when it lost a race for one.
// Each element of args equal to "PORT" is replaced by the port.
func launch(t *testing.T, stdin string, args ...string) *proc {
	t.Helper()
	bin, pre := binary(t)
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		full := append([]string(nil), pre...)
		for _, a := range args {
			if a == "PORT" {
				a = strconv.Itoa(port)
			}
			full = append(full, a)
		}
		p := run(t, stdin, bin, full...)
		p.port, p.addr = port, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err := p.waitReady(10 * time.Second)
		if err == nil {
			return p
		}
		p.cmd.Process.Kill()
		<-p.exited
		if attempt < 3 && strings.Contains(strings.ToLower(p.out.String()), "address already in use") {
			continue
		}
		t.Fatalf("%v\noutput:\n%s", err, p.out.String())
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *proc) waitReady(within time.Duration) error {
	deadline := time.Now().Add(within)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("the server exited before serving (%v)", p.cmd.ProcessState)
		default:
		}
		c, err := dialRaw(p.addr)
		if err == nil {
			var v []byte
			r, err2 := c.Do("PING")
			v, last = r.Raw, err2
			c.Close()
			if last == nil && string(v) == "+PONG\r\n" {
				return nil
			}
			if last == nil {
				last = fmt.Errorf("PING answered %q", v)
			}
		} else {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the server did not answer PING within %v: %v", within, last)
}

// wait waits up to within for the process to exit and returns its exit
// code, or fails the test.
func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(within):
		t.Fatalf("the process did not exit within %v\noutput:\n%s", within, p.out.String())
	}
	st := p.cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the process died of %v instead of exiting\noutput:\n%s", ws.Signal(), p.out.String())
	}
	return st.ExitCode()
}

// TestSignals sends SIGTERM and SIGINT to a server with idle clients, with
// a client in the middle of a long pipeline, and with a client holding
// half a command: it exits 0 promptly and logs that it is exiting.
func TestSignals(t *testing.T) {
	type scenario struct {
		name string
		busy func(t *testing.T, addr string) (stop func())
	}
	scenarios := []scenario{
		{"idle clients", func(t *testing.T, addr string) func() {
			for i := 0; i < 5; i++ {
				c := dial(t, addr)
				if got := c.do(t, "PING"); got != "+PONG\r\n" {
					t.Fatalf("PING = %q", got)
				}
			}
			return func() {}
		}},
		{"a client mid-pipeline", midPipeline},
		{"a client not reading a big reply", func(t *testing.T, addr string) func() {
			c := dial(t, addr)
			if got := c.do(t, "SET", "big", string(pattern(20<<20, 4))); got != "+OK\r\n" {
				t.Fatalf("SET = %q", got)
			}
			c.send(t, string(command("GET", "big"))+string(command("GET", "big")))
			c.c.SetReadDeadline(time.Now().Add(ioTimeout))
			if _, err := c.r.Peek(1); err != nil {
				t.Fatalf("no reply started: %v", err)
			}
			return func() {}
		}},
		{"a client holding half a command", func(t *testing.T, addr string) func() {
			c := dial(t, addr)
			c.send(t, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
			c.expectSilence(t, 20*time.Millisecond)
			return func() {}
		}},
	}
	sigs := []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGTERM, "SIGTERM"}, {syscall.SIGINT, "SIGINT"}}
	eachBackend(t, func(t *testing.T, backend string) {
		for _, sg := range sigs {
			sig, name := sg.sig, sg.name
			for _, sc := range scenarios {
				t.Run(name+" with "+sc.name, func(t *testing.T) {
					p := launch(t, "", append([]string{"--port", "PORT"}, baseArgs(backend, t.TempDir())...)...)
					stop := sc.busy(t, p.addr)
					begin := time.Now()
					if err := p.cmd.Process.Signal(sig); err != nil {
						t.Fatal(err)
					}
					code := p.wait(t, 5*time.Second)
					stop()
					if code != 0 {
						t.Fatalf("exit code %d after %v\noutput:\n%s", code, sig, p.out.String())
					}
					if d := time.Since(begin); d > 2*time.Second {
						t.Errorf("took %v to exit after %v", d, sig)
					}
					log := p.out.String()
					for _, re := range []string{
						`Received ` + name + ` scheduling shutdown`,
						`(?i)ready to exit`,
					} {
						if !regexp.MustCompile(re).MatchString(log) {
							t.Errorf("the log lacks /%s/:\n%s", re, log)
						}
					}
				})
			}
		}
	})
}

// midPipeline keeps a client writing a stream of SETs and reading the
// replies until the server goes away; stop waits for both goroutines.
func midPipeline(t *testing.T, addr string) func() {
	c := dial(t, addr)
	var chunk []byte
	for i := 0; i < 20000; i++ {
		chunk = appendCommand(chunk, "SET", "pipe:"+strconv.Itoa(i), "some value of a few bytes")
	}
	var wg sync.WaitGroup
	wg.Add(2)
	started := make(chan struct{})
	go func() {
		defer wg.Done()
		for i := 0; i < 1000; i++ {
			if c.Write(chunk) != nil {
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			if _, err := c.Read(); err != nil {
				return
			}
			if i == 1000 {
				close(started)
			}
		}
	}()
	stop := func() {
		c.Close()
		wg.Wait()
	}
	select {
	case <-started:
	case <-time.After(ioTimeout):
		stop()
		t.Fatal("the pipeline got no replies")
	}
	return stop
}

// TestConfigFile starts the server as `shard FILE --opt value`: options
// come from the file, the command line wins over it, and INFO and CONFIG
// GET report the result. "-" reads the file from standard input.
func TestConfigFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		dir := t.TempDir()
		conf := strings.Join([]string{
			"# a comment, then a blank line",
			"",
			"port 1",
			"bind 127.0.0.1",
			"maxclients 77",
			"  timeout   0  ",
			`dir "` + dir + `"`,
			"hz 20",
			"",
		}, "\n")
		file := filepath.Join(dir, "shard.conf")
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		extra := []string{"--maxclients", "88"}
		if !targetRedis() {
			extra = append(extra, "--io", backend)
		} else {
			extra = append(extra, "--save", "", "--appendonly", "no")
		}
		for _, tc := range []struct {
			name  string
			stdin string
			path  string
		}{
			{"file", "", file},
			{"standard input", conf, "-"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := launch(t, tc.stdin, append([]string{tc.path, "--port", "PORT"}, extra...)...)
				c := dial(t, p.addr)
				for _, kv := range [][2]string{
					{"port", strconv.Itoa(p.port)}, // the command line wins
					{"maxclients", "88"},           // likewise
					{"hz", "20"},                   // from the file
					{"timeout", "0"},
				} {
					if got, want := c.do(t, "CONFIG", "GET", kv[0]), "*2\r\n"+bulk(kv[0])+bulk(kv[1]); got != want {
						t.Errorf("CONFIG GET %s = %q, want %q", kv[0], got, want)
					}
				}
				got := c.do(t, "CONFIG", "GET", "dir")
				if !strings.Contains(got, dir) {
					t.Errorf("CONFIG GET dir = %q, want %s", got, dir)
				}
				m := info(t, p.addr, "server")
				if tc.path != "-" && m["config_file"] != file {
					t.Errorf("INFO config_file = %q, want %q", m["config_file"], file)
				}
				if m["tcp_port"] != strconv.Itoa(p.port) {
					t.Errorf("INFO tcp_port = %q, want %d", m["tcp_port"], p.port)
				}
				p.cmd.Process.Signal(syscall.SIGTERM)
				if code := p.wait(t, 5*time.Second); code != 0 {
					t.Fatalf("exit code %d", code)
				}
			})
		}
	})
}

// TestBadOptions checks that a bad option, on the command line or in a
// file, makes the server print Redis's "FATAL CONFIG FILE ERROR" report and
// exit with code 1 without serving.
func TestBadOptions(t *testing.T) {
	cases := []struct {
		name  string
		file  string // config file contents, "" for none
		args  []string
		shoal bool     // a Shoal-only option
		want  []string // in the output, in order
	}{
		{name: "port not a number", args: []string{"--port", "abc"},
			want: []string{"*** FATAL CONFIG FILE ERROR (", "Reading the configuration file, at line ", ">>> 'port ", "argument couldn't be parsed into an integer"}},
		{name: "unknown option", args: []string{"--no-such-option", "1"},
			want: []string{"*** FATAL CONFIG FILE ERROR (", ">>> 'no-such-option ", "Bad directive or wrong number of arguments"}},
		{name: "out of range in a file", file: "port 7000\nmaxclients -5\n",
			want: []string{"*** FATAL CONFIG FILE ERROR (", "Reading the configuration file, at line 2\n", ">>> 'maxclients -5'\n", "argument must be between 1 and 4294967295 inclusive"}},
		{name: "unbalanced quotes in a file", file: "bind \"127.0.0.1\n",
			want: []string{"*** FATAL CONFIG FILE ERROR (", "at line 1\n", ">>> 'bind \"127.0.0.1'\n", "Unbalanced quotes in configuration line"}},
		{name: "bad yes/no", file: "protected-mode maybe\n",
			want: []string{"*** FATAL CONFIG FILE ERROR (", ">>> 'protected-mode maybe'", "argument must be 'yes' or 'no'"}},
		{name: "bad --io", args: []string{"--io", "bogus"}, shoal: true,
			want: []string{"*** FATAL CONFIG FILE ERROR (", ">>> 'io ", "uring", "epoll"}},
	}
	bin, pre := binary(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.shoal {
				shoalOnly(t)
			}
			dir := t.TempDir()
			args := append([]string(nil), pre...)
			if tc.file != "" {
				f := filepath.Join(dir, "bad.conf")
				if err := os.WriteFile(f, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, f)
			}
			args = append(args, "--dir", dir)
			args = append(args, tc.args...)
			p := run(t, "", bin, args...)
			code := p.wait(t, 5*time.Second)
			out := p.out.String()
			if code != 1 {
				t.Fatalf("exit code %d, want 1\noutput:\n%s", code, out)
			}
			rest := out
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("the output lacks %q (in this order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
	t.Run("missing config file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing.conf")
		p := run(t, "", bin, append(append([]string(nil), pre...), missing)...)
		code := p.wait(t, 5*time.Second)
		out := p.out.String()
		if code != 1 || !strings.Contains(out, "Fatal error, can't open config file '"+missing+"'") {
			t.Fatalf("exit code %d, output:\n%s", code, out)
		}
	})
}

// TestIOBackendReported checks that INFO server names the backend --io
// chose, and that the log has exactly one line naming it and why.
func TestIOBackendReported(t *testing.T) {
	shoalOnly(t)
	names := map[string]string{"uring": "io_uring", "epoll": "epoll"}
	backends := append(testserver.IOBackends(), "")
	for _, b := range backends {
		name := b
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			s := testserver.Start(t, testserver.Options{IO: b})
			m := info(t, s.Addr, "server")
			got := m["io_backend"]
			if want, ok := names[b]; ok && got != want {
				t.Fatalf("--io %s: INFO io_backend = %q, want %q", b, got, want)
			}
			if got != "io_uring" && got != "epoll" {
				t.Fatalf("INFO io_backend = %q", got)
			}
			var lines []string
			for _, l := range strings.Split(s.Output(), "\n") {
				if regexp.MustCompile(`(?i)\bbackend\b`).MatchString(l) {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("want one log line about the I/O backend, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			l := lines[0]
			i := strings.Index(l, got)
			if i < 0 {
				t.Fatalf("the backend log line does not name %s: %q", got, l)
			}
			// The reason follows the name: the flags io_uring was set up
			// with, or why epoll runs.
			if why := strings.Trim(l[i+len(got):], " :()-"); len(why) < 5 {
				t.Fatalf("the backend log line gives no reason: %q", l)
			}
			if b == "epoll" && !strings.Contains(l, "--io") {
				t.Errorf("epoll chosen by hand, but the log line does not say so: %q", l)
			}
		})
	}
}

// TestShutdownCommand stops the server with SHUTDOWN from a client, as
// redis-cli shutdown does: no reply, every connection closed, exit code 0,
// and the log says it is exiting.
func TestShutdownCommand(t *testing.T) {
	// Redis exits inside the command: replies still queued for the same
	// client then are lost, so each earlier step waits for its reply.
	type step struct{ send, want string }
	cases := []struct {
		name  string
		steps []step // before the last, which shuts down
		send  string
	}{
		{"SHUTDOWN", nil, string(command("SHUTDOWN"))},
		{"SHUTDOWN NOSAVE", []step{{"PING\r\n", "+PONG\r\n"}}, string(command("SHUTDOWN", "NOSAVE"))},
		{"inline, after a bad SHUTDOWN", []step{{"SHUTDOWN BOGUS\r\n", "-ERR syntax error\r\n"}}, "shutdown\r\n"},
	}
	eachBackend(t, func(t *testing.T, backend string) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := launch(t, "", append([]string{"--port", "PORT"}, baseArgs(backend, t.TempDir())...)...)
				other := dial(t, p.addr)
				if got := other.do(t, "PING"); got != "+PONG\r\n" {
					t.Fatalf("PING = %q", got)
				}
				c := dial(t, p.addr)
				for _, st := range tc.steps {
					c.send(t, st.send)
					if got := c.reply(t); got != st.want {
						t.Fatalf("sent %q: got %q, want %q", st.send, got, st.want)
					}
				}
				c.send(t, tc.send)
				c.expectClosed(t)
				other.expectClosed(t)
				if code := p.wait(t, 5*time.Second); code != 0 {
					t.Fatalf("exit code %d\noutput:\n%s", code, p.out.String())
				}
				if log := p.out.String(); !regexp.MustCompile(`(?i)ready to exit`).MatchString(log) {
					t.Errorf("the log does not say it is exiting:\n%s", log)
				}
			})
		}
	})
}
