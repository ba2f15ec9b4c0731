package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

const (
	defaultTermGrace = 10 * time.Second // SIGTERM → SIGKILL
	killGrace        = 5 * time.Second  // SIGKILL → give up
	logTail          = 4 << 10          // bytes of server output shown on failure
	defaultPollEvery = 20 * time.Millisecond
)

// serverSpec is everything needed to start one server process.
type serverSpec struct {
	name         string
	argv         []string // program and arguments, unpinned
	cpus         CPUSet   // nil: do not pin
	taskset      string
	host         string
	port         int
	dir          string // data directory; the log goes here too
	startTimeout time.Duration
	termGrace    time.Duration // SIGTERM → SIGKILL; 0 means defaultTermGrace
	pollEvery    time.Duration // between PINGs while waiting; 0 means defaultPollEvery
}

// server is a running server under test. Its methods are called from one
// goroutine; a private goroutine waits for the process and closes exited.
type server struct {
	name    string
	host    string
	port    int
	pid     int
	dir     string
	logPath string
	argv    []string // as executed, with taskset
	grace   time.Duration
	cmd     *exec.Cmd
	logFile *os.File
	exited  chan struct{}
	waitErr error // valid once exited is closed
	// started is when the process was started, ready when it first
	// answered PONG.
	started, ready time.Time
}

func (s *server) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// pinned prefixes argv with taskset when cpus is set.
func pinned(taskset string, cpus CPUSet, argv []string) []string {
	if len(cpus) == 0 || taskset == "" {
		return argv
	}
	return append([]string{taskset, "-c", cpus.String()}, argv...)
}

// startServer starts the process, waits until it answers PING and returns
// it. On failure the process is stopped and the error carries the tail of
// its output.
func startServer(ctx context.Context, spec serverSpec) (*server, error) {
	logPath := filepath.Join(spec.dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	argv := pinned(spec.taskset, spec.cpus, spec.argv)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = spec.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = serverProcAttr()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("bench: starting %s: %w", spec.name, err)
	}
	s := &server{
		name: spec.name, host: spec.host, port: spec.port, pid: cmd.Process.Pid,
		dir: spec.dir, logPath: logPath, argv: argv, grace: spec.termGrace, cmd: cmd, logFile: logFile,
		exited: make(chan struct{}), started: started,
	}
	if s.grace <= 0 {
		s.grace = defaultTermGrace
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	every := spec.pollEvery
	if every <= 0 {
		every = defaultPollEvery
	}
	if err := s.waitReady(ctx, spec.startTimeout, every); err != nil {
		stopErr := s.stop()
		return nil, errors.Join(fmt.Errorf("bench: %s did not start: %w\n%s", spec.name, err, s.tail()), stopErr)
	}
	return s, nil
}

// waitReady sends PING every so often until PONG, the process exits, ctx
// ends or timeout passes, and records when PONG came. It keeps one
// connection while the server answers something else (-LOADING), and
// dials again after a failure.
func (s *server) waitReady(ctx context.Context, timeout, every time.Duration) error {
	deadline := time.Now().Add(timeout)
	var c *client
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	var last error
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("exited early (%v)", s.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if c == nil {
			c, last = dialClient(ctx, s.addr(), 500*time.Millisecond)
		}
		if c != nil {
			var r reply
			if r, last = c.do("PING"); last == nil {
				if r.Kind == '+' && r.Str == "PONG" {
					s.ready = time.Now()
					return nil
				}
				last = fmt.Errorf("PING answered %s", r)
			} else {
				c.close()
				c = nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PONG within %v: %w", timeout, last)
		}
		select {
		case <-s.exited:
		case <-ctx.Done():
		case <-time.After(every):
		}
	}
}

// ping sends one PING on a new connection and expects PONG.
func (s *server) ping(ctx context.Context) error {
	c, err := dialClient(ctx, s.addr(), 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.close()
	r, err := c.do("PING")
	if err != nil {
		return err
	}
	if r.Kind != '+' || r.Str != "PONG" {
		return fmt.Errorf("PING answered %s", r)
	}
	return nil
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop ends the process: SIGTERM, then SIGKILL after its grace period. It is
// safe to call more than once.
func (s *server) stop() error {
	defer s.logFile.Close()
	if !s.alive() {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(s.grace):
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.exited:
		return fmt.Errorf("bench: %s (pid %d) ignored SIGTERM for %v and was killed", s.name, s.pid, s.grace)
	case <-time.After(killGrace):
		return fmt.Errorf("bench: %s (pid %d) survived SIGKILL for %v", s.name, s.pid, killGrace)
	}
}

// tail returns the last logTail bytes of the server's output.
func (s *server) tail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no output: %v)", err)
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return "(no output)"
	}
	return "--- " + s.name + " output ---\n" + string(b) + "\n---"
}

// freePort asks the kernel for an unused TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("bench: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
