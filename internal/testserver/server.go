package testserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Kind says which server a Server runs.
type Kind int

const (
	// Shoal is `shoal shard` from BuildShoal (or Options.Bin).
	Shoal Kind = iota
	// Redis is redis-server from PATH (or Options.Bin).
	Redis
)

func (k Kind) String() string {
	switch k {
	case Shoal:
		return "shoal"
	case Redis:
		return "redis"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Options configures Start. The zero value starts a shoal shard with the
// binary's default I/O backend in a fresh temporary directory.
type Options struct {
	Kind Kind
	// IO is the shoal I/O backend, "uring" or "epoll", passed as --io;
	// empty passes no --io. Ignored for Redis.
	IO string
	// Args are appended to the command line, after the package's own
	// arguments (for redis-server a later option overrides an earlier one).
	Args []string
	// Env holds extra "KEY=value" entries added to the test process's
	// environment.
	Env []string
	// Dir is the data directory (--dir). Empty means a fresh t.TempDir();
	// pass an earlier Server's Dir to restart on the same data.
	Dir string
	// Bin overrides the binary: by default BuildShoal for Shoal and
	// redis-server from PATH for Redis.
	Bin string
	// StartTimeout bounds the wait until the server answers PING;
	// zero means 10 s.
	StartTimeout time.Duration
}

// Server is a running server process started by Start.
type Server struct {
	Addr string // "127.0.0.1:port"
	Port int
	PID  int
	Kind Kind
	IO   string // Options.IO for Shoal, "" for Redis
	Dir  string // the data directory

	t      testing.TB
	cmd    *exec.Cmd
	out    *outputBuffer
	exited chan struct{} // closed once cmd.Wait has returned
	state  *os.ProcessState

	mu       sync.Mutex
	finished bool  // Stop, Kill or the crash report has run
	stopErr  error // Stop's result, kept for later calls
}

const (
	startAttempts = 5
	waitDelay     = 2 * time.Second
)

// stopGrace is how long Stop waits after SIGTERM (shortened by tests).
var stopGrace = 5 * time.Second

// Start starts a server on a free loopback port, waits until it answers
// PING, and registers a cleanup that stops it and reports a crash. It
// retries on another port when the server lost a race for its port, and
// fails the test (with the server's output) when the server exits or does
// not answer within Options.StartTimeout.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := o.Bin
	switch o.Kind {
	case Shoal:
		if bin == "" {
			bin = BuildShoal(t)
		}
	case Redis:
		if bin == "" {
			RequireRedis(t)
			bin = "redis-server"
		}
	default:
		t.Fatalf("testserver: unknown kind %v", o.Kind)
	}
	dir := o.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	timeout := o.StartTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("%v", err)
		}
		s, err := launch(t, o, bin, dir, port)
		if err != nil {
			t.Fatalf("%v", err)
		}
		err = s.waitReady(timeout)
		if err == nil {
			t.Cleanup(s.cleanup)
			return s
		}
		s.Kill()
		lastErr = err
		if !s.lostPortRace() {
			break
		}
	}
	t.Fatalf("%v", lastErr)
	return nil
}

// commandArgs returns the command line Start runs for o on port (after the binary).
func commandArgs(o Options, dir string, port int) []string {
	p := strconv.Itoa(port)
	var args []string
	switch o.Kind {
	case Shoal:
		args = []string{"shard", "--port", p, "--bind", "127.0.0.1"}
		if o.IO != "" {
			args = append(args, "--io", o.IO)
		}
		args = append(args, "--dir", dir)
	case Redis:
		args = []string{"--port", p, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}
	}
	return append(args, o.Args...)
}

func launch(t testing.TB, o Options, bin, dir string, port int) (*Server, error) {
	cmd := exec.Command(bin, commandArgs(o, dir, port)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), o.Env...)
	out := &outputBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = waitDelay
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("testserver: start %s: %w", o.Kind, err)
	}
	s := &Server{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port:   port,
		PID:    cmd.Process.Pid,
		Kind:   o.Kind,
		Dir:    dir,
		t:      t,
		cmd:    cmd,
		out:    out,
		exited: make(chan struct{}),
	}
	if o.Kind == Shoal {
		s.IO = o.IO
	}
	go func() {
		// Once the server has exited, what is left of its process group
		// (a launcher's children) is killed before the server is reaped.
		awaitExit(s.PID)
		s.killGroup()
		cmd.Wait()
		s.state = cmd.ProcessState
		close(s.exited)
	}()
	return s, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testserver: pick a port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port, nil
}

// waitReady polls PING until +PONG, the process exits, or timeout.
func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("testserver: %s exited before answering PING (%s)%s", s.Kind, s.state, s.outputTail())
		default:
		}
		if last = ping(s.Addr, deadline); last == nil {
			return nil
		}
		var refused *pingRefused
		if errors.As(last, &refused) {
			return fmt.Errorf("testserver: %s on %s is up but %v%s", s.Kind, s.Addr, last, s.outputTail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("testserver: %s on %s did not answer PING within %v: %v%s", s.Kind, s.Addr, timeout, last, s.outputTail())
}

// ping sends one PING and expects +PONG. A LOADING error means not yet;
// any other error reply is a *pingRefused.
func ping(addr string, deadline time.Time) error {
	d := time.Until(deadline)
	if d > time.Second {
		d = time.Second
	}
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	switch {
	case line == "+PONG\r\n":
		return nil
	case strings.HasPrefix(line, "-") && !strings.HasPrefix(line, "-LOADING"):
		return &pingRefused{line}
	}
	return fmt.Errorf("PING answered %q", line)
}

// pingRefused is an error reply to PING other than LOADING: waiting longer
// will not help.
type pingRefused struct{ reply string }

func (e *pingRefused) Error() string { return fmt.Sprintf("PING answered %q", e.reply) }

func (s *Server) lostPortRace() bool {
	return bytes.Contains(bytes.ToLower(s.out.bytes()), []byte("address already in use"))
}

// Output returns everything the process wrote to stdout and stderr so far
// (interleaved; at most the last few MB).
func (s *Server) Output() string { return string(s.out.bytes()) }

func (s *Server) outputTail() string {
	const max = 8 << 10
	b := s.out.bytes()
	if len(b) == 0 {
		return "\n(no output)"
	}
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "\noutput:\n" + string(b)
}

// Stop ends the server gracefully: SIGTERM, up to 5 s for it to exit, then
// SIGKILL. It returns an error (with the server's output) when the server
// had already exited on its own, exited uncleanly, or had to be killed; a
// clean exit is status 0 or death by the SIGTERM itself. Later calls return
// the first call's result.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return s.stopErr
	}
	s.finished = true
	select {
	case <-s.exited:
		s.stopErr = fmt.Errorf("testserver: %s (pid %d) exited before it was stopped (%s)%s", s.Kind, s.PID, s.state, s.outputTail())
		return s.stopErr
	default:
	}
	syscall.Kill(s.PID, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stopGrace):
		syscall.Kill(s.PID, syscall.SIGKILL)
		<-s.exited
		s.stopErr = fmt.Errorf("testserver: %s (pid %d) ignored SIGTERM for %v and was killed%s", s.Kind, s.PID, stopGrace, s.outputTail())
		return s.stopErr
	}
	if !cleanExit(s.state) {
		s.stopErr = fmt.Errorf("testserver: %s (pid %d) exited uncleanly after SIGTERM (%s)%s", s.Kind, s.PID, s.state, s.outputTail())
	}
	return s.stopErr
}

// Kill ends the server at once with SIGKILL (to its process group too) and
// waits for it. It reports nothing: use it to simulate a crash or to end a
// server whose exit status does not matter.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.finished {
		return
	}
	s.finished = true
	syscall.Kill(s.PID, syscall.SIGKILL)
	<-s.exited
}

// killGroup kills what is left of the server's process group (a
// launcher's children). The group id is the server's PID; it is called
// while the exited server is still unreaped, so the id is still its own.
func (s *Server) killGroup() {
	syscall.Kill(-s.PID, syscall.SIGKILL)
}

// cleanup is registered with t.Cleanup by Start.
func (s *Server) cleanup() {
	if err := s.Stop(); err != nil {
		s.t.Errorf("%v", err)
	}
}

func cleanExit(st *os.ProcessState) bool {
	if st == nil {
		return false
	}
	if st.Success() {
		return true
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

// RequireRedis skips the test when redis-server is not on PATH.
func RequireRedis(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH (install Debian's redis-server 7.0 to run this test)")
	}
}

// IOBackends returns the I/O backends to run a suite over: "uring" and
// "epoll", or those listed in $SHOAL_IO (comma-separated). Names are not
// checked here: an unknown one reaches the binary, which rejects it.
func IOBackends() []string {
	env := strings.TrimSpace(os.Getenv("SHOAL_IO"))
	if env == "" {
		return []string{"uring", "epoll"}
	}
	var out []string
	for _, f := range strings.Split(env, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// outputBuffer collects a process's output. It keeps at most maxOutput
// bytes, dropping the oldest half when full.
type outputBuffer struct {
	mu  sync.Mutex
	buf []byte
}

const maxOutput = 4 << 20

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > maxOutput {
		b.buf = append(b.buf[:0:0], b.buf[len(b.buf)-maxOutput/2:]...)
	}
	return len(p), nil
}

func (b *outputBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf)
}
