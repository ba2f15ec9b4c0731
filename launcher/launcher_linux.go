//go:build linux

package launcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"shoal/internal/rlog"
	"shoal/numa"
	"shoal/perf/profiling"
)

// Launcher runs the shards of one plan. New makes the plan; Run writes the
// layout, starts the shards, waits until they serve, prints the banner and
// supervises them until its context ends. Run is called once, from one
// goroutine; Status, Plan and Kill may be called from any goroutine.
type Launcher struct {
	o    Options
	topo *numa.Topology
	plan *numa.Plan
	dir  string // absolute

	out    *sink
	log    *rlog.Logger
	width  int // of the name column of output prefixes
	shards []*shard

	stopOnce sync.Once
	stopCh   chan struct{} // closed when stopping begins
	ready    chan int      // a shard's id, the first time it answers PING
	failed   chan error    // a shard that failed before it ever served
	wg       sync.WaitGroup
}

// shard is one shard process as its supervisor goroutine runs it. The
// fields outside mu are set before the supervisor starts and then only
// read.
type shard struct {
	plan   numa.ShardPlan
	name   string
	nodeID string
	dir    string
	addr   string // where the launcher PINGs it
	stdout *lineWriter
	stderr *lineWriter

	mu struct {
		sync.Mutex
		proc     *os.Process // nil while no process runs
		pid      int
		stopping bool // no more starts; set by stop and Kill
		ready    bool // the running process has answered PING
		restarts int
		backend  string // io_backend from INFO, once known
	}
}

// ShardStatus is a snapshot of one shard.
type ShardStatus struct {
	ID     int
	Name   string // "shard-<id>"
	NodeID string
	Port   int
	CPUs   []int
	Dir    string
	// PID is the running process, 0 while none runs.
	PID int
	// Ready reports whether the running process has answered PING.
	Ready bool
	// Restarts counts the processes started after the first.
	Restarts int
	// IOBackend is the backend the shard reported in INFO, "" if unknown.
	IOBackend string
}

// MakePlan reads the topology under root ("/" for this machine) and plans
// it with po. On this machine (root "/") a plan without CPUs is made on
// the CPUs the calling thread may use, so a launcher started under taskset
// or in a narrower cpuset plans inside it.
func MakePlan(root string, po numa.PlanOptions) (*numa.Topology, *numa.Plan, error) {
	if root == "" {
		root = "/"
	}
	t, err := numa.Read(root)
	if err != nil {
		return nil, nil, err
	}
	if po.CPUs == nil && filepath.Clean(root) == "/" {
		if own, err := numa.GetAffinity(0); err == nil && !slices.Equal(own, t.Online) {
			po.CPUs = own
		}
	}
	p, err := numa.MakePlan(t, po)
	if err != nil {
		return nil, nil, err
	}
	return t, p, nil
}

// New checks o and makes the plan. It starts nothing and writes nothing.
func New(o Options) (*Launcher, error) {
	if err := o.resolve(); err != nil {
		return nil, err
	}
	t, p, err := MakePlan(o.SysRoot, o.Plan)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	// The cluster's shape is checked now, before anything is touched.
	if err := checkBusPorts(p); err != nil {
		return nil, err
	}
	if o.Pprof != "" {
		if _, err := profiling.OffsetAddr(o.Pprof, len(p.Shards)-1); err != nil {
			return nil, fmt.Errorf("launcher: --pprof: %w", err)
		}
	}
	l := &Launcher{
		o:      o,
		topo:   t,
		plan:   p,
		dir:    dir,
		out:    &sink{w: o.Out},
		stopCh: make(chan struct{}),
		ready:  make(chan int, len(p.Shards)),
		failed: make(chan error, len(p.Shards)),
	}
	l.width = max(len("launcher"), len("shard-"+strconv.Itoa(len(p.Shards)-1)))
	l.log = rlog.New(newLineWriter(l.out, l.prefix("launcher")), rlog.Notice, 'L')
	return l, nil
}

func (l *Launcher) prefix(name string) string {
	return fmt.Sprintf("%-*s | ", l.width, name)
}

// Plan is the plan the launcher runs.
func (l *Launcher) Plan() *numa.Plan { return l.plan }

// Dir is the absolute data directory.
func (l *Launcher) Dir() string { return l.dir }

// Status is a snapshot of every shard, by id; empty before Run has laid
// out the data directory.
func (l *Launcher) Status() []ShardStatus {
	out := make([]ShardStatus, 0, len(l.shards))
	for _, s := range l.shards {
		s.mu.Lock()
		st := ShardStatus{ID: s.plan.ID, Name: s.name, NodeID: s.nodeID, Port: s.plan.Port,
			CPUs: slices.Clone(s.plan.CPUs), Dir: s.dir, Ready: s.mu.ready,
			Restarts: s.mu.restarts, IOBackend: s.mu.backend}
		if s.mu.proc != nil {
			st.PID = s.mu.pid
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Run lays out the data directory, starts every shard and waits until
// each answers PING (within Options.ReadyTimeout), prints the banner, and
// supervises the shards until ctx ends; then it stops them (SIGTERM, then
// SIGKILL after Options.StopTimeout) and returns nil. It returns an error,
// having stopped whatever it started, when the layout is refused, a port
// is taken, or a shard fails to start or to serve.
func (l *Launcher) Run(ctx context.Context) error {
	unlock, err := lockDir(l.dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := l.layout(); err != nil {
		return err
	}
	for _, w := range l.plan.Warnings {
		l.log.Logf(rlog.Warning, "plan: %s", w)
	}
	if err := l.checkPorts(); err != nil {
		return err
	}
	l.log.Logf(rlog.Notice, "Starting %s (%s) from %s, data in %s",
		pluralize(len(l.shards), "shard"), l.plan.Topology, l.o.Bin, l.dir)
	for _, s := range l.shards {
		l.wg.Add(1)
		go l.supervise(s)
	}
	if err := l.awaitStartup(ctx); err != nil {
		l.stop()
		return err
	}
	if ctx.Err() == nil {
		l.out.Write([]byte(l.banner()))
		<-ctx.Done()
	}
	l.stop()
	return nil
}

// layout reconciles the data directory with the plan and writes every
// shard's nodes.conf.
func (l *Launcher) layout() error {
	ex, err := ReadExisting(l.dir)
	if err != nil {
		return err
	}
	ids, err := NodeIDs(l.dir, ex, l.plan)
	if err != nil {
		return err
	}
	cfg, err := ClusterConfig(l.plan, l.o.AnnounceIP, ids)
	if err != nil {
		return err
	}
	if err := WriteLayout(l.dir, cfg); err != nil {
		return err
	}
	host := probeHost(l.o.Bind)
	for i, sp := range l.plan.Shards {
		name := "shard-" + strconv.Itoa(i)
		l.shards = append(l.shards, &shard{
			plan:   sp,
			name:   name,
			nodeID: ids[i],
			dir:    ShardDir(l.dir, i),
			addr:   net.JoinHostPort(host, strconv.Itoa(sp.Port)),
			stdout: newLineWriter(l.out, l.prefix(name)),
			stderr: newLineWriter(l.out, l.prefix(name)),
		})
	}
	return nil
}

// checkPorts fails with a clear message when a shard's port is taken.
func (l *Launcher) checkPorts() error {
	host := listenHost(l.o.Bind)
	for _, s := range l.shards {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(s.plan.Port)))
		if err != nil {
			return fmt.Errorf("launcher: port %d of %s is not free on %s (another Shoal or Redis running?): %w",
				s.plan.Port, s.name, l.o.Bind, err)
		}
		ln.Close()
	}
	return nil
}

// awaitStartup waits until every shard has answered PING, one has failed,
// ReadyTimeout has passed, or ctx ends (not an error: Run then stops).
func (l *Launcher) awaitStartup(ctx context.Context) error {
	timer := time.NewTimer(l.o.ReadyTimeout)
	defer timer.Stop()
	for pending := len(l.shards); pending > 0; {
		select {
		case <-l.ready:
			pending--
		case err := <-l.failed:
			return err
		case <-ctx.Done():
			l.log.Logf(rlog.Warning, "Interrupted while starting: stopping the shards")
			return nil
		case <-timer.C:
			var late []string
			for _, st := range l.Status() {
				if !st.Ready {
					late = append(late, st.Name)
				}
			}
			return fmt.Errorf("launcher: %s did not answer PING within %v (see the output above)",
				strings.Join(late, ", "), l.o.ReadyTimeout)
		}
	}
	return nil
}

// command is the shard process of s, not started.
func (l *Launcher) command(s *shard) *exec.Cmd {
	args := []string{"shard"}
	user := l.o.ShardArgs
	if len(user) > 0 && !strings.HasPrefix(user[0], "--") {
		args = append(args, user[0]) // a config file first, as redis-server wants it
		user = user[1:]
	}
	args = append(args,
		"--port", strconv.Itoa(s.plan.Port),
		"--bind", l.o.Bind,
		"--dir", s.dir,
		"--io", l.o.IO,
		"--cluster-enabled", "yes",
		"--cluster-config-file", NodesConfFile,
	)
	if s.plan.MemCap > 0 && !hasOption(user, "maxmemory") {
		// The plan's cap: each shard's share of its node's memory. A
		// --maxmemory after -- overrides it.
		args = append(args, "--maxmemory", strconv.FormatUint(s.plan.MemCap, 10))
	}
	if !hasOption(user, "appendonly") {
		// Persistence is on unless asked otherwise: every shard keeps an
		// AOF in its own directory, fsynced every second (the engine's
		// default appendfsync), and recovers from it when restarted.
		args = append(args, "--appendonly", "yes")
	}
	if l.o.Profile != "" {
		args = append(args, "--profile", l.o.Profile)
	}
	if l.o.Pprof != "" {
		addr, _ := profiling.OffsetAddr(l.o.Pprof, s.plan.ID) // checked by New
		args = append(args, "--pprof", addr)
	}
	args = append(args, user...)
	cmd := exec.Command(l.o.Bin, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), l.o.Env...)
	cmd.Stdout = s.stdout
	cmd.Stderr = s.stderr
	// Copying the output goes on after the process exits only as long as
	// something it started keeps the pipes open.
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a terminal's ^C reaches the launcher
		// alone, which then stops the shards in order.
		Setpgid: true,
		// A launcher that dies without stopping its shards (SIGKILL)
		// still stops them. (The signal follows the thread that started
		// the child; StartPinned's thread outlives it unless restoring
		// its affinity failed, and then the shard is stopped and
		// restarted like any shard that exits.)
		Pdeathsig: syscall.SIGTERM,
	}
	return cmd
}

// supervise runs s until the launcher stops: start, wait for PING, wait for
// the exit, say why, back off, start again.
func (l *Launcher) supervise(s *shard) {
	defer l.wg.Done()
	rp := l.o.Restart
	backoff := rp.MinBackoff
	var exits []time.Time // within the crash-loop window
	inLoop := false
	served := false // some process of s has answered PING
	for attempt := 0; ; attempt++ {
		cmd := l.command(s)
		s.mu.Lock()
		if s.mu.stopping {
			s.mu.Unlock()
			return
		}
		err := numa.StartPinned(cmd, s.plan.CPUs, s.plan.MemNode)
		if err == nil {
			s.mu.proc, s.mu.pid, s.mu.ready = cmd.Process, cmd.Process.Pid, false
			if attempt > 0 {
				s.mu.restarts++
			}
		}
		s.mu.Unlock()
		if err != nil {
			if !served {
				l.failed <- fmt.Errorf("launcher: starting %s: %w", s.name, err)
				return
			}
			l.log.Logf(rlog.Warning, "%s could not be started: %v; retrying in %v", s.name, err, backoff)
			if !l.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, rp.MaxBackoff)
			continue
		}
		started := time.Now()
		l.log.Logf(rlog.Notice, "%s started: pid %d, CPUs %s, memory %s, port %d", s.name, cmd.Process.Pid,
			numa.FormatCPUList(s.plan.CPUs), memPolicy(s.plan.MemNode), s.plan.Port)

		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		if l.awaitReady(s, cmd.Process.Pid, exited, !served, started) {
			served = true
		}
		<-exited
		s.stdout.Flush()
		s.stderr.Flush()
		up := time.Since(started)
		s.mu.Lock()
		s.mu.proc, s.mu.ready = nil, false
		stopping := s.mu.stopping
		s.mu.Unlock()
		why := ExitReason(cmd.ProcessState)
		if stopping {
			l.log.Logf(rlog.Notice, "%s (pid %d) stopped: %s", s.name, cmd.Process.Pid, why)
			return
		}
		if !served {
			l.failed <- fmt.Errorf("launcher: %s (pid %d) %s before it answered PING (its output is above)",
				s.name, cmd.Process.Pid, why)
			return
		}

		now := time.Now()
		if up >= rp.StableAfter {
			backoff = rp.MinBackoff
			if inLoop {
				l.log.Logf(rlog.Warning, "%s had stayed up for %v: no longer in a crash loop", s.name, up.Round(time.Millisecond))
			}
			inLoop = false
		}
		exits = append(exits, now)
		for len(exits) > 0 && now.Sub(exits[0]) > rp.LoopWindow {
			exits = exits[1:]
		}
		l.log.Logf(rlog.Warning, "%s (pid %d) %s after %v up; restarting in %v",
			s.name, cmd.Process.Pid, why, up.Round(time.Millisecond), backoff)
		if len(exits) >= rp.LoopExits {
			inLoop = true
		}
		if inLoop {
			l.log.Logf(rlog.Warning, "CRASH LOOP: %s has exited %d times in the last %v (last: %s); it keeps being restarted every %v at most, and this is reported on every exit until it stays up for %v",
				s.name, len(exits), rp.LoopWindow, why, rp.MaxBackoff, rp.StableAfter)
		}
		if !l.sleep(backoff) {
			return
		}
		backoff = min(2*backoff, rp.MaxBackoff)
	}
}

// awaitReady polls PING until the process of s answers, exits, or the
// launcher stops, and reports whether it answered. The first time (first)
// it notifies Run; later it logs that the shard is back. Past
// ReadyTimeout it says so once and keeps polling, more slowly.
func (l *Launcher) awaitReady(s *shard, pid int, exited <-chan struct{}, first bool, started time.Time) bool {
	deadline := started.Add(l.o.ReadyTimeout)
	interval := 20 * time.Millisecond
	warned := false
	for {
		err := ping(s.addr, 500*time.Millisecond)
		if err == nil {
			backend, _ := infoField(s.addr, "server", "io_backend", 500*time.Millisecond)
			s.mu.Lock()
			s.mu.ready = true
			if backend != "" {
				s.mu.backend = backend
			}
			s.mu.Unlock()
			if first {
				l.ready <- s.plan.ID
			} else {
				l.log.Logf(rlog.Notice, "%s is back: pid %d serving on port %d, %v after its start",
					s.name, pid, s.plan.Port, time.Since(started).Round(time.Millisecond))
			}
			return true
		}
		if !warned && time.Now().After(deadline) {
			warned = true
			interval = time.Second
			if !first {
				l.log.Logf(rlog.Warning, "%s (pid %d) has not answered PING within %v: %v",
					s.name, pid, l.o.ReadyTimeout, err)
			}
		}
		select {
		case <-exited:
			return false
		case <-l.stopCh:
			return false
		case <-time.After(interval):
		}
		if !warned {
			interval = min(2*interval, 200*time.Millisecond)
		}
	}
}

func (l *Launcher) banner() string {
	return formatBanner(bannerInfo{Version: l.o.Version, Plan: l.plan, Shards: l.Status(),
		Bind: l.o.Bind, AnnounceIP: l.o.AnnounceIP, Dir: l.dir, IO: l.o.IO, ShardArgs: l.o.ShardArgs,
		Profile: l.o.Profile, Pprof: l.o.Pprof})
}

// sleep waits d unless the launcher stops first; it reports whether it
// slept the whole time.
func (l *Launcher) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stopCh:
		return false
	}
}

// signalAll marks every shard stopping and sends sig to each running
// process; it returns how many it signalled.
func (l *Launcher) signalAll(sig syscall.Signal) int {
	l.stopOnce.Do(func() { close(l.stopCh) })
	n := 0
	for _, s := range l.shards {
		s.mu.Lock()
		s.mu.stopping = true
		if s.mu.proc != nil {
			// os.Process signals through a pidfd: never a reused PID.
			if err := s.mu.proc.Signal(sig); err == nil {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// stop ends every shard: SIGTERM, up to StopTimeout, then SIGKILL.
func (l *Launcher) stop() {
	n := l.signalAll(syscall.SIGTERM)
	l.log.Logf(rlog.Notice, "Stopping: SIGTERM sent to %s", pluralize(n, "shard"))
	done := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		l.log.Logf(rlog.Notice, "All shards stopped")
		return
	case <-time.After(l.o.StopTimeout):
	}
	for _, st := range l.Status() {
		if st.PID != 0 {
			l.log.Logf(rlog.Warning, "%s (pid %d) did not exit within %v of SIGTERM: sending SIGKILL", st.Name, st.PID, l.o.StopTimeout)
		}
	}
	l.signalAll(syscall.SIGKILL)
	select {
	case <-done:
		l.log.Logf(rlog.Notice, "All shards stopped")
	case <-time.After(5 * time.Second):
		l.log.Logf(rlog.Warning, "Shard processes still not reaped 5s after SIGKILL: giving up on them")
	}
}

// Kill sends SIGKILL to every running shard at once and restarts none: for
// an operator who does not want to wait for a graceful stop (a second ^C).
// Run still waits for the processes and returns.
func (l *Launcher) Kill() {
	if n := l.signalAll(syscall.SIGKILL); n > 0 {
		l.log.Logf(rlog.Warning, "Killing: SIGKILL sent to %s", pluralize(n, "shard"))
	}
}

// ExitReason says how a process ended, from its wait status: "exited with
// status 1", "killed by signal 9 (SIGKILL)", "... core dumped".
func ExitReason(st *os.ProcessState) string {
	if st == nil {
		return "ended (no status)"
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok {
		return st.String()
	}
	switch {
	case ws.Exited():
		return "exited with status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		why := fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), unix.SignalName(ws.Signal()))
		if ws.CoreDump() {
			why += ", core dumped"
		}
		return why
	}
	return st.String()
}

func memPolicy(node int) string {
	if node < 0 {
		return "default policy"
	}
	return "bound to node " + strconv.Itoa(node)
}

// lockDir creates dir and holds an exclusive lock on dir/shoal.lock until
// the returned function is called, so that two launchers never run one
// data directory.
func lockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	path := filepath.Join(dir, "shoal.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("launcher: %s is in use by another launcher (%s is locked)", dir, path)
		}
		return nil, fmt.Errorf("launcher: locking %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return func() { f.Close() }, nil
}
