// Package profiling is the profiling switches of a shard: one profile of
// the process at a time (github.com/pkg/profile), written into the shard's
// data directory when the shard stops cleanly and on request while it runs
// (a snapshot), and net/http/pprof served on an address of its own.
//
// # Ownership
//
// A Session may be used from any goroutine: Snapshot and Stop serialize on
// the session's mutex. Only one Session runs per process (the runtime has
// one CPU profiler, one trace, one set of profile rates); Start refuses a
// second. The pprof server runs on goroutines of its own and reads only
// what the runtime exposes, never the shard's state.
//
// # Files
//
// A profile of kind K is written to DIR/K.pprof (the trace to
// DIR/trace.out) on Stop, and to DIR/K-YYYYMMDD-HHMMSS.pprof on each
// Snapshot, after which profiling goes on. While a profile runs, its file is
// staged in DIR/.profile, so a file named K.pprof in DIR is always whole.
package profiling

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/profile"
)

// Kinds are the profile kinds Start takes, in the order --help lists them.
var Kinds = []string{"cpu", "mem", "allocs", "block", "mutex", "trace", "goroutine"}

// mode is how pkg/profile runs a kind and the file it writes in its path.
func mode(kind string) (func(*profile.Profile), string) {
	switch kind {
	case "cpu":
		return profile.CPUProfile, "cpu.pprof"
	case "mem":
		return profile.MemProfileHeap, "mem.pprof"
	case "allocs":
		return profile.MemProfileAllocs, "mem.pprof"
	case "block":
		return profile.BlockProfile, "block.pprof"
	case "mutex":
		return profile.MutexProfile, "mutex.pprof"
	case "trace":
		return profile.TraceProfile, "trace.out"
	case "goroutine":
		return profile.GoroutineProfile, "goroutine.pprof"
	}
	return nil, ""
}

// CheckKind reports an error naming the kinds when kind is not one of
// Kinds.
func CheckKind(kind string) error {
	if !slices.Contains(Kinds, kind) {
		return fmt.Errorf("profiling: unknown profile %q (one of %s)", kind, strings.Join(Kinds, ", "))
	}
	return nil
}

// Session is one running profile.
type Session struct {
	mu      sync.Mutex
	kind    string
	dir     string // where finished profiles go
	staging string // where pkg/profile writes while it runs
	file    string // pkg/profile's file name in staging
	running interface{ Stop() }
	now     func() time.Time
}

var active sync.Mutex // held from Start to Stop: one Session per process

// Start starts a profile of kind (one of Kinds) whose files go to dir,
// which must exist and be writable.
func Start(kind, dir string) (*Session, error) {
	if err := CheckKind(kind); err != nil {
		return nil, err
	}
	if !active.TryLock() {
		return nil, errors.New("profiling: a profile is already running in this process")
	}
	opt, file := mode(kind)
	staging := filepath.Join(dir, ".profile")
	if err := os.MkdirAll(staging, 0o755); err != nil {
		active.Unlock()
		return nil, fmt.Errorf("profiling: %w", err)
	}
	// pkg/profile exits the process when it cannot create its file: check
	// first, so a bad directory is an error here.
	probe := filepath.Join(staging, file)
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		active.Unlock()
		return nil, fmt.Errorf("profiling: %w", err)
	}
	f.Close()
	s := &Session{kind: kind, dir: dir, staging: staging, file: file, now: time.Now}
	s.running = profile.Start(opt, profile.ProfilePath(staging), profile.NoShutdownHook, profile.Quiet)
	return s, nil
}

// Kind is the session's profile kind.
func (s *Session) Kind() string { return s.kind }

// finalName is the name of the profile in dir, stamped or not.
func (s *Session) finalName(stamp string) string {
	ext := filepath.Ext(s.file)
	if stamp != "" {
		return filepath.Join(s.dir, s.kind+"-"+stamp+ext)
	}
	return filepath.Join(s.dir, s.kind+ext)
}

// Snapshot writes what the profile holds so far to a stamped file in the
// session's directory and goes on profiling. It returns the file's path.
// The CPU profile and trace restart, so each snapshot covers the time since
// the previous one; heap, allocs, block, mutex and goroutine profiles are
// cumulative or instantaneous as the runtime keeps them.
func (s *Session) Snapshot() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		return "", errors.New("profiling: the profile has stopped")
	}
	s.running.Stop()
	path := s.finalName(s.now().Format("20060102-150405.000"))
	err := os.Rename(filepath.Join(s.staging, s.file), path)
	opt, _ := mode(s.kind)
	s.running = profile.Start(opt, profile.ProfilePath(s.staging), profile.NoShutdownHook, profile.Quiet)
	if err != nil {
		return "", fmt.Errorf("profiling: %w", err)
	}
	return path, nil
}

// Stop ends the profile, writes it to DIR/K.pprof (DIR/trace.out) and
// returns that path. Later calls do nothing and return "".
func (s *Session) Stop() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		return "", nil
	}
	s.running.Stop()
	s.running = nil
	defer active.Unlock()
	path := s.finalName("")
	if err := os.Rename(filepath.Join(s.staging, s.file), path); err != nil {
		return "", fmt.Errorf("profiling: %w", err)
	}
	os.Remove(s.staging) // only when empty
	return path, nil
}

// Server is a running net/http/pprof server.
type Server struct {
	ln  net.Listener
	srv *http.Server
}

// ServePprof serves net/http/pprof's handlers (/debug/pprof/...) on addr
// until Close. The handlers run on the server's goroutines.
func ServePprof(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("profiling: pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &Server{ln: ln, srv: srv}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.srv.Close() }

// PprofAddr completes a --pprof address: a bare port ("6060" or ":6060")
// gets the loopback host, since pprof exposes the process's memory and is
// for the network only when asked for by address. It checks that the
// result is host:port with a numeric port.
func PprofAddr(a string) (string, error) {
	switch {
	case !strings.Contains(a, ":"):
		a = net.JoinHostPort("127.0.0.1", a)
	case strings.HasPrefix(a, ":"):
		a = "127.0.0.1" + a
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return "", fmt.Errorf("profiling: pprof address %q: %w", a, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("profiling: pprof address %q: bad port", a)
	}
	return net.JoinHostPort(host, port), nil
}

// OffsetAddr is the pprof address of shard i of a launch given base (a
// PprofAddr): the same host, port + i. Port 0 stays 0 (any free port).
func OffsetAddr(base string, i int) (string, error) {
	host, port, err := net.SplitHostPort(base)
	if err != nil {
		return "", fmt.Errorf("profiling: pprof address %q: %w", base, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("profiling: pprof address %q: bad port", base)
	}
	if n != 0 {
		n += i
	}
	if n > 65535 {
		return "", fmt.Errorf("profiling: pprof port %d of shard %d is beyond 65535", n, i)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}
