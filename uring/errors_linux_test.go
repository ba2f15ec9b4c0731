//go:build linux

package uring

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shoal/internal/refuse"
)

func TestRefusalReason(t *testing.T) {
	for _, tc := range []struct {
		errno       unix.Errno
		sysctl      string
		haveSysctl  bool
		want        string
		unavailable bool
	}{
		{unix.EPERM, "2\n", true, "kernel.io_uring_disabled=2: io_uring is disabled for every process", true},
		{unix.EPERM, "1\n", true, "kernel.io_uring_disabled=1: io_uring is allowed only to members of kernel.io_uring_group", true},
		{unix.EPERM, "0\n", true, "kernel.io_uring_disabled=0, so a seccomp profile or LSM refused it", true},
		{unix.EPERM, "", false, "seccomp profile or LSM; this kernel has no kernel.io_uring_disabled", true},
		{unix.EPERM, "7\n", true, "kernel.io_uring_disabled=7 or a seccomp profile", true},
		{unix.EACCES, "0\n", true, "LSM", true},
		{unix.ENOSYS, "", false, "no io_uring", true},
		{unix.ENOMEM, "0\n", true, "RLIMIT_MEMLOCK", true},
		{unix.EINVAL, "0\n", true, "every setup mode", true},
		{unix.EMFILE, "0\n", true, "out of file descriptors", false},
	} {
		got := refusalReason(tc.errno, tc.sysctl, tc.haveSysctl)
		if !strings.Contains(got, tc.want) {
			t.Errorf("refusalReason(%v, %q, %v) = %q, want it to contain %q", tc.errno, tc.sysctl, tc.haveSysctl, got, tc.want)
		}
		err := &Error{Op: "io_uring_setup", Errno: tc.errno, Reason: got, Kind: refusalKind(tc.errno)}
		if !errors.Is(err, tc.errno) {
			t.Errorf("%v: errors.Is(err, errno) = false", tc.errno)
		}
		if errors.Is(err, ErrUnavailable) != tc.unavailable {
			t.Errorf("%v: errors.Is(err, ErrUnavailable) = %v, want %v", tc.errno, !tc.unavailable, tc.unavailable)
		}
		if want := "uring: io_uring_setup: " + tc.errno.Error() + " (" + got + ")"; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err.Error(), want)
		}
	}
}

func TestEnterErrors(t *testing.T) {
	for _, tc := range []struct {
		errno      unix.Errno
		registered bool
		kind       error
		want       string
	}{
		{unix.EBUSY, true, ErrBusy, "overflowing"},
		{unix.EAGAIN, false, ErrBusy, "resources"},
		{unix.EBADR, true, ErrDropped, "overflowed"},
		{unix.EEXIST, true, nil, "thread other than the one that created it"},
		{unix.EBADF, true, nil, "registered ring fd"},
		{unix.EBADF, false, nil, "uring: io_uring_enter: bad file descriptor"},
		{unix.EFAULT, false, nil, "uring: io_uring_enter: bad address"},
	} {
		err := enterError(tc.errno, tc.registered)
		if !errors.Is(err, tc.errno) {
			t.Errorf("%v: not errors.Is the errno", tc.errno)
		}
		if tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("%v: not errors.Is %v", tc.errno, tc.kind)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %q lacks %q", tc.errno, err, tc.want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { _ = enterError(unix.EBUSY, true) }); a != 0 {
		t.Errorf("busy error allocates %v times", a)
	}
}

// TestEnterWrongThread checks the EEXIST path for real: a DEFER_TASKRUN
// ring entered from a thread other than its creator.
func TestEnterWrongThread(t *testing.T) {
	r := newTestRing(t, 4, Options{DisableRegisteredRing: true})
	if !r.Features().DeferTaskrun() {
		t.Skip("no DEFER_TASKRUN: any thread may enter")
	}
	done := make(chan error, 1)
	go func() {
		// A fresh locked goroutine runs on a thread of its own, never the
		// test's, which stays locked to the test goroutine.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		_, errno := r.enter(0, 1, enterGetEvents, nil, 0)
		done <- enterError(errno, false)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, unix.EEXIST) || !strings.Contains(err.Error(), "other than the one that created it") {
			t.Fatalf("enter from another thread: %v, want EEXIST with a hint", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("enter from another thread blocked")
	}
}

const seccompEnv = "URING_TEST_SECCOMP_ERRNO"

// TestSetupRefusedBySeccomp runs New in a child process whose seccomp
// filter makes io_uring_setup fail, as container runtimes do, and checks
// the error a server would fall back on.
func TestSetupRefusedBySeccomp(t *testing.T) {
	if os.Getenv(seccompEnv) != "" {
		t.Skip("inside the seccomp child")
	}
	for _, errno := range []unix.Errno{unix.EPERM, unix.ENOSYS, unix.EACCES} {
		t.Run(unix.ErrnoName(errno), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSeccompChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), seccompEnv+"="+strconv.Itoa(int(errno)))
			out, err := cmd.CombinedOutput()
			text := string(out)
			if strings.Contains(text, "SKIP: TestSeccompChild") {
				t.Skipf("child could not install a seccomp filter:\n%s", text)
			}
			if err != nil {
				t.Fatalf("child: %v\n%s", err, text)
			}
			sysctl, rerr := os.ReadFile(disabledSysctl)
			reason := refusalReason(errno, string(sysctl), rerr == nil)
			want := "uring: io_uring_setup: " + errno.Error() + " (" + reason + ")"
			if !strings.Contains(text, "setup error: "+want+"\n") {
				t.Fatalf("child output lacks %q:\n%s", want, text)
			}
		})
	}
}

// TestSeccompChild is the child side of TestSetupRefusedBySeccomp; it does
// nothing unless started by it.
func TestSeccompChild(t *testing.T) {
	v := os.Getenv(seccompEnv)
	if v == "" {
		t.Skip("runs only as the child of TestSetupRefusedBySeccomp")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q", seccompEnv, v)
	}
	errno := unix.Errno(n)
	if err := refuse.IOUringSetup(errno); err != nil {
		t.Skipf("seccomp: %v", err)
	}
	r, err := New(8, Options{})
	if err == nil {
		r.Close()
		t.Fatal("New succeeded under a filter refusing io_uring_setup")
	}
	if !errors.Is(err, errno) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("New: %v; want errors.Is %v and ErrUnavailable", err, errno)
	}
	os.Stdout.WriteString("setup error: " + err.Error() + "\n")
}
