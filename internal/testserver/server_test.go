package testserver

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// recorder is a testing.TB that records what a test would report, so the
// package's own failure reporting can be tested. Fatalf and Skip end the
// calling goroutine, as the real ones do.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	skipped  string
	cleanups []func()
}

func newRecorder(t *testing.T) *recorder { return &recorder{TB: t} }

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprint(args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// run calls f on its own goroutine (so Fatalf can end it) and waits.
func (r *recorder) run(f func(tb testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

// finish runs the registered cleanups, last first, and returns the errors.
func (r *recorder) finish() []string {
	r.mu.Lock()
	cs := r.cleanups
	r.cleanups = nil
	r.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// do sends one command and returns its reply's first line (for a bulk
// reply, the payload).
func do(t testing.TB, addr string, args ...string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		t.Fatalf("write: %v", err)
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if strings.HasPrefix(line, "$") {
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)"
		}
		p := make([]byte, n+2)
		if _, err := readFull(r, p); err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(p[:n])
	}
	return line
}

func readFull(r *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// refused reports whether addr stops accepting connections within 2 s (a
// killed process's sockets close a moment after the signal).
func refused(addr string) bool {
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
	}
	return false
}

// fakeShoal writes a shell script that accepts shoal's shard command line,
// records it (and $FAKE_ENV) in $dir/fake.args, and runs body with $port,
// $bind and $dir set.
func fakeShoal(t *testing.T, body string) string {
	t.Helper()
	script := `#!/bin/sh
[ "$1" = shard ] || { echo "not a shard command: $*"; exit 2; }
shift
port= bind= dir= io=
while [ $# -gt 0 ]; do
	case "$1" in
	--port) port=$2; shift 2;;
	--bind) bind=$2; shift 2;;
	--io) io=$2; shift 2;;
	--dir) dir=$2; shift 2;;
	*) break;;
	esac
done
echo "port=$port bind=$bind io=$io extra=$* env=$FAKE_ENV" > "$dir/fake.args"
` + body + "\n"
	path := filepath.Join(t.TempDir(), "fakeshoal")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

const runRedis = `exec redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" --appendonly no`

func TestStartRedis(t *testing.T) {
	RequireRedis(t)
	s := Start(t, Options{Kind: Redis})
	if s.PID <= 0 || s.Port <= 0 || s.Addr != "127.0.0.1:"+strconv.Itoa(s.Port) || s.Kind != Redis || s.IO != "" {
		t.Fatalf("bad server fields: %+v", s)
	}
	if got := do(t, s.Addr, "SET", "k", "v"); got != "+OK" {
		t.Fatalf("SET: %q", got)
	}
	if got := do(t, s.Addr, "GET", "k"); got != "v" {
		t.Fatalf("GET: %q", got)
	}
	if !strings.Contains(s.Output(), "Ready to accept connections") {
		t.Fatalf("output lacks redis's ready line:\n%s", s.Output())
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !refused(s.Addr) {
		t.Fatalf("%s still accepts connections after Stop", s.Addr)
	}
}

func TestStartShoalKindCommandLine(t *testing.T) {
	RequireRedis(t)
	for _, io := range []string{"uring", "epoll", ""} {
		t.Run("io="+io, func(t *testing.T) {
			bin := fakeShoal(t, runRedis)
			s := Start(t, Options{Kind: Shoal, IO: io, Bin: bin, Args: []string{"--extra", "x"}, Env: []string{"FAKE_ENV=seen"}})
			if got := do(t, s.Addr, "PING"); got != "+PONG" {
				t.Fatalf("PING: %q", got)
			}
			b, err := os.ReadFile(filepath.Join(s.Dir, "fake.args"))
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("port=%d bind=127.0.0.1 io=%s extra=--extra x env=seen\n", s.Port, io)
			if string(b) != want {
				t.Fatalf("command line seen by the binary:\n got %q\nwant %q", b, want)
			}
			if s.IO != io || s.Kind != Shoal {
				t.Fatalf("fields: %+v", s)
			}
		})
	}
}

func TestCrashIsReported(t *testing.T) {
	RequireRedis(t)
	r := newRecorder(t)
	var s *Server
	r.run(func(tb testing.TB) { s = Start(tb, Options{Kind: Redis}) })
	if s == nil {
		t.Fatalf("Start failed: %v", r.errs)
	}
	syscall.Kill(s.PID, syscall.SIGKILL)
	<-s.exited
	errs := r.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "exited before it was stopped") || !strings.Contains(errs[0], "signal: killed") {
		t.Fatalf("want one crash report naming the signal, got %q", errs)
	}
}

func TestKillIsSilent(t *testing.T) {
	RequireRedis(t)
	r := newRecorder(t)
	var s *Server
	r.run(func(tb testing.TB) { s = Start(tb, Options{Kind: Redis}) })
	if s == nil {
		t.Fatalf("Start failed: %v", r.errs)
	}
	s.Kill()
	if !refused(s.Addr) {
		t.Fatalf("%s still accepts connections after Kill", s.Addr)
	}
	if errs := r.finish(); len(errs) != 0 {
		t.Fatalf("Kill then cleanup reported %q", errs)
	}
}

func TestStopReportsUncleanExits(t *testing.T) {
	RequireRedis(t)
	old := stopGrace
	stopGrace = 300 * time.Millisecond
	defer func() { stopGrace = old }()
	cases := []struct {
		name string
		body string
		want string // "" means a clean stop
	}{
		{"exit0", `redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" & pid=$!
trap 'kill $pid; wait $pid; exit 0' TERM
wait $pid`, ""},
		{"exit3", `redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" & pid=$!
trap 'echo goodbye-marker; kill $pid; wait $pid; exit 3' TERM
wait $pid`, "exited uncleanly after SIGTERM (exit status 3)"},
		{"leaves-child", `redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" & pid=$!
trap 'exit 0' TERM
wait $pid`, ""},
		{"ignores-term", `trap '' TERM
redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" & pid=$!
while :; do wait $pid; done`, "ignored SIGTERM"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRecorder(t)
			var s *Server
			r.run(func(tb testing.TB) { s = Start(tb, Options{Kind: Shoal, Bin: fakeShoal(t, c.body)}) })
			if s == nil {
				t.Fatalf("Start failed: %v", r.errs)
			}
			errs := r.finish()
			if c.want == "" {
				if len(errs) != 0 {
					t.Fatalf("clean stop reported %q", errs)
				}
			} else if len(errs) != 1 || !strings.Contains(errs[0], c.want) {
				t.Fatalf("want a report containing %q, got %q", c.want, errs)
			}
			if c.name == "exit3" && !strings.Contains(errs[0], "goodbye-marker") {
				t.Fatalf("report lacks the server's output: %q", errs[0])
			}
			// The process group is gone: the redis child too.
			if !refused(s.Addr) {
				t.Fatalf("%s still accepts connections after the stop", s.Addr)
			}
		})
	}
}

func TestStartFailureShowsOutput(t *testing.T) {
	r := newRecorder(t)
	var s *Server
	bin := fakeShoal(t, `echo "cannot start: boom-marker" >&2; exit 1`)
	r.run(func(tb testing.TB) { s = Start(tb, Options{Kind: Shoal, Bin: bin}) })
	errs := r.finish()
	if s != nil {
		t.Fatalf("Start returned a server for a binary that exits")
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "exited before answering PING") || !strings.Contains(errs[0], "boom-marker") {
		t.Fatalf("want one failure with the output, got %q", errs)
	}
}

func TestStartTimeout(t *testing.T) {
	r := newRecorder(t)
	bin := fakeShoal(t, `echo silent-marker; exec sleep 30`)
	start := time.Now()
	r.run(func(tb testing.TB) { Start(tb, Options{Kind: Shoal, Bin: bin, StartTimeout: 300 * time.Millisecond}) })
	errs := r.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "did not answer PING") || !strings.Contains(errs[0], "silent-marker") {
		t.Fatalf("want one timeout failure with the output, got %q", errs)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestPortRaceIsRetried(t *testing.T) {
	RequireRedis(t)
	count := filepath.Join(t.TempDir(), "count")
	bin := fakeShoal(t, `n=$(cat "`+count+`" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "`+count+`"
if [ $n -lt 3 ]; then echo "listen tcp 127.0.0.1:$port: bind: address already in use" >&2; exit 1; fi
`+runRedis)
	s := Start(t, Options{Kind: Shoal, Bin: bin})
	if got := do(t, s.Addr, "PING"); got != "+PONG" {
		t.Fatalf("PING: %q", got)
	}
	b, _ := os.ReadFile(count)
	if strings.TrimSpace(string(b)) != "3" {
		t.Fatalf("binary ran %q times, want 3", b)
	}
}

func TestRestartOnSameDir(t *testing.T) {
	RequireRedis(t)
	s := Start(t, Options{Kind: Redis, Args: []string{"--appendonly", "yes"}})
	if got := do(t, s.Addr, "SET", "persist", "me"); got != "+OK" {
		t.Fatalf("SET: %q", got)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s2 := Start(t, Options{Kind: Redis, Dir: s.Dir, Args: []string{"--appendonly", "yes"}})
	if got := do(t, s2.Addr, "GET", "persist"); got != "me" {
		t.Fatalf("after restart GET: %q", got)
	}
}

func TestCommandArgs(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{Kind: Shoal, IO: "uring"}, "shard --port 7000 --bind 127.0.0.1 --io uring --dir /d"},
		{Options{Kind: Shoal, IO: "epoll", Args: []string{"--x", "y"}}, "shard --port 7000 --bind 127.0.0.1 --io epoll --dir /d --x y"},
		{Options{Kind: Shoal}, "shard --port 7000 --bind 127.0.0.1 --dir /d"},
		{Options{Kind: Redis, IO: "uring", Args: []string{"--appendonly", "yes"}}, "--port 7000 --bind 127.0.0.1 --save  --appendonly no --dir /d --appendonly yes"},
	}
	for _, c := range cases {
		if got := strings.Join(commandArgs(c.o, "/d", 7000), " "); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.o, got, c.want)
		}
	}
}

func TestIOBackends(t *testing.T) {
	cases := []struct{ env, want string }{
		{"", "uring,epoll"},
		{"uring", "uring"},
		{"epoll", "epoll"},
		{" epoll , uring ", "epoll,uring"},
		{",,", ""},
	}
	for _, c := range cases {
		t.Setenv("SHOAL_IO", c.env)
		if got := strings.Join(IOBackends(), ","); got != c.want {
			t.Errorf("SHOAL_IO=%q: got %q want %q", c.env, got, c.want)
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{root, deep} {
		got, err := ModuleRoot(d)
		if err != nil || got != root {
			t.Errorf("ModuleRoot(%s) = %q, %v; want %q", d, got, err, root)
		}
	}
	if _, err := ModuleRoot("/"); err == nil || !strings.HasPrefix(err.Error(), "testserver: ") {
		t.Errorf("ModuleRoot(/) error = %v", err)
	}
}

func TestHasGoFiles(t *testing.T) {
	dir := t.TempDir()
	check := func(want bool) {
		t.Helper()
		got, err := hasGoFiles(dir)
		if err != nil || got != want {
			t.Fatalf("hasGoFiles = %v, %v; want %v", got, err, want)
		}
	}
	check(false)
	os.WriteFile(filepath.Join(dir, "x_test.go"), nil, 0o644)
	check(false)
	os.WriteFile(filepath.Join(dir, "main.go"), nil, 0o644)
	check(true)
	if got, err := hasGoFiles(filepath.Join(dir, "missing")); got || err != nil {
		t.Fatalf("missing dir: %v, %v", got, err)
	}
}

func TestShoalBinFromEnv(t *testing.T) {
	bin := fakeShoal(t, "exit 0")
	t.Setenv("SHOAL_BIN", bin)
	got, skip, err := buildShoal()
	if err != nil || skip != "" || got != bin {
		t.Fatalf("buildShoal with SHOAL_BIN = %q, %q, %v", got, skip, err)
	}
	notExec := filepath.Join(t.TempDir(), "plain")
	os.WriteFile(notExec, nil, 0o644)
	for _, bad := range []string{notExec, filepath.Join(t.TempDir(), "missing")} {
		t.Setenv("SHOAL_BIN", bad)
		if _, _, err := buildShoal(); err == nil || !strings.HasPrefix(err.Error(), "testserver: SHOAL_BIN") {
			t.Errorf("SHOAL_BIN=%s: err = %v", bad, err)
		}
	}
}

func TestOutputBufferBounded(t *testing.T) {
	var b outputBuffer
	chunk := []byte(strings.Repeat("x", 1<<20))
	for i := 0; i < 10; i++ {
		b.Write(chunk)
	}
	b.Write([]byte("tail"))
	got := b.bytes()
	if len(got) > maxOutput || !strings.HasSuffix(string(got), "tail") {
		t.Fatalf("len %d, suffix %q", len(got), got[len(got)-4:])
	}
}

func TestStartFailsFastOnErrorReply(t *testing.T) {
	RequireRedis(t)
	r := newRecorder(t)
	bin := fakeShoal(t, `exec redis-server --port "$port" --bind "$bind" --dir "$dir" --save "" --rename-command PING ""`)
	start := time.Now()
	r.run(func(tb testing.TB) { Start(tb, Options{Kind: Shoal, Bin: bin}) })
	errs := r.finish()
	if len(errs) != 1 || !strings.Contains(errs[0], "is up but PING answered") || !strings.Contains(errs[0], "unknown command") {
		t.Fatalf("want one failure naming the reply, got %q", errs)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v: should not wait for the timeout", d)
	}
}
