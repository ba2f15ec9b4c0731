//go:build linux

package uring

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// modes are the ring setups the behavioural tests run under: the best one
// this kernel offers and the plainer ones New falls back to on older
// kernels.
var modes = []struct {
	name string
	opts Options
}{
	{"defer-taskrun", Options{}},
	{"coop-taskrun", Options{DisableDeferTaskrun: true}},
	{"plain", Options{DisableCoopTaskrun: true, DisableRegisteredRing: true}},
	{"no-ext-arg", Options{DisableExtArg: true}},
}

// newTestRing locks the test's goroutine to its thread (the ring's owner)
// and creates a ring that is closed when the test ends. It skips the test
// when io_uring is refused in this environment.
func newTestRing(tb testing.TB, entries uint32, opts Options) *Ring {
	tb.Helper()
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
	r, err := New(entries, opts)
	if errors.Is(err, ErrUnavailable) {
		tb.Skipf("io_uring is refused in this environment: %v", err)
	}
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return r
}

// mustSQE returns an SQE or fails the test.
func mustSQE(tb testing.TB, r *Ring) *SQE {
	tb.Helper()
	s := r.GetSQE()
	if s == nil {
		tb.Fatal("GetSQE: submission queue full")
	}
	return s
}

// collect submits and reaps until it has want CQEs or the deadline passes.
func collect(tb testing.TB, r *Ring, want int, timeout time.Duration) []CQE {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var out []CQE
	var buf [64]CQE
	for len(out) < want {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: got %d of %d CQEs: %+v", timeout, len(out), want, out)
		}
		if _, err := r.SubmitAndWait(1, 50*time.Millisecond); err != nil {
			tb.Fatalf("SubmitAndWait: %v", err)
		}
		n := r.Reap(buf[:])
		out = append(out, buf[:n]...)
	}
	return out
}

// collectUntil submits and reaps until done reports true for a CQE (which
// is included) or the deadline passes.
func collectUntil(tb testing.TB, r *Ring, timeout time.Duration, done func(CQE) bool) []CQE {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var out []CQE
	var buf [64]CQE
	for {
		if time.Now().After(deadline) {
			tb.Fatalf("after %v the awaited CQE did not come; got %+v", timeout, out)
		}
		if _, err := r.SubmitAndWait(1, 50*time.Millisecond); err != nil {
			tb.Fatalf("SubmitAndWait: %v", err)
		}
		n := r.Reap(buf[:])
		for _, c := range buf[:n] {
			out = append(out, c)
			if done(c) {
				return out
			}
		}
	}
}

// byUserData indexes CQEs by user_data, failing on duplicates.
func byUserData(tb testing.TB, cqes []CQE) map[uint64]CQE {
	tb.Helper()
	m := make(map[uint64]CQE, len(cqes))
	for _, c := range cqes {
		if _, dup := m[c.UserData]; dup {
			tb.Fatalf("two CQEs for user_data %d: %+v", c.UserData, cqes)
		}
		m[c.UserData] = c
	}
	return m
}

// socketPair returns a connected AF_UNIX stream pair, closed at the end of
// the test (an fd the test closed itself is skipped).
func socketPair(tb testing.TB) (a, b int) {
	tb.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatalf("socketpair: %v", err)
	}
	tb.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

func writeAll(tb testing.TB, fd int, p []byte) {
	tb.Helper()
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err != nil {
			tb.Fatalf("write: %v", err)
		}
		p = p[n:]
	}
}
