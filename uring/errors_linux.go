//go:build linux

package uring

import (
	"errors"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by the error New returns when the kernel or
// the process's sandbox refuses io_uring (EPERM, EACCES, ENOSYS, ...):
// the caller should fall back to another I/O backend. The error also
// wraps the errno and says why in its text.
var ErrUnavailable = errors.New("uring: io_uring unavailable")

// ErrBusy is wrapped (with unix.EBUSY or unix.EAGAIN) by the error Submit
// and SubmitAndWait return when the kernel takes no more submissions until
// completions are reaped: Reap, then submit again.
var ErrBusy = errors.New("uring: completion queue busy, reap before submitting")

// ErrDropped is wrapped (with unix.EBADR) by the error SubmitAndWait returns
// once after the kernel had to drop completions it could not queue.
var ErrDropped = errors.New("uring: completions were dropped")

// Error is an io_uring system call failure. It wraps the errno, and Kind
// (ErrUnavailable, ErrBusy, ErrDropped) when set, so errors.Is works with
// either.
type Error struct {
	Op     string     // "io_uring_setup", "io_uring_enter", "register PBUF_RING", ...
	Errno  unix.Errno // the system call's error
	Reason string     // what the errno means here, for the log; may be empty
	Kind   error      // a sentinel of this package, or nil
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("uring: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	b.WriteString(e.Errno.Error())
	if e.Reason != "" {
		b.WriteString(" (")
		b.WriteString(e.Reason)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the errno and, when set, the Kind sentinel.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Errno}
	}
	return []error{e.Errno, e.Kind}
}

// Errors returned on the hot path are built once so that returning them
// does not allocate.
var (
	errBusyEBUSY  error = &Error{Op: "io_uring_enter", Errno: unix.EBUSY, Reason: "completion queue overflowing", Kind: ErrBusy}
	errBusyEAGAIN error = &Error{Op: "io_uring_enter", Errno: unix.EAGAIN, Reason: "out of request resources", Kind: ErrBusy}
	errDropped    error = &Error{Op: "io_uring_enter", Errno: unix.EBADR, Reason: "completion queue overflowed and the kernel could not keep the completions", Kind: ErrDropped}
)

// enterError maps an io_uring_enter failure to the error the caller sees.
func enterError(errno unix.Errno, registered bool) error {
	switch errno {
	case unix.EBUSY:
		return errBusyEBUSY
	case unix.EAGAIN:
		return errBusyEAGAIN
	case unix.EBADR:
		return errDropped
	case unix.EEXIST:
		return &Error{Op: "io_uring_enter", Errno: errno, Reason: "ring used from a thread other than the one that created it"}
	case unix.EBADF:
		if registered {
			return &Error{Op: "io_uring_enter", Errno: errno, Reason: "registered ring fd used from a thread other than the one that registered it, or the ring is closed"}
		}
	}
	return &Error{Op: "io_uring_enter", Errno: errno}
}

// disabledSysctl is kernel.io_uring_disabled (6.6+): 0 allows io_uring,
// 1 allows it only for members of kernel.io_uring_group, 2 disables it.
const disabledSysctl = "/proc/sys/kernel/io_uring_disabled"

// setupError builds the error for a refused io_uring_setup, reading the
// sysctl to say which of the usual causes applies.
func setupError(errno unix.Errno) error {
	content, err := os.ReadFile(disabledSysctl)
	return &Error{
		Op:     "io_uring_setup",
		Errno:  errno,
		Reason: refusalReason(errno, string(content), err == nil),
		Kind:   refusalKind(errno),
	}
}

// refusalKind says whether an io_uring_setup errno means io_uring cannot be
// used here at all (so the caller should fall back), as opposed to a
// transient or per-call failure such as running out of file descriptors.
func refusalKind(errno unix.Errno) error {
	switch errno {
	case unix.EPERM, unix.EACCES, unix.ENOSYS, unix.ENOMEM, unix.EINVAL, unix.EOPNOTSUPP:
		return ErrUnavailable
	}
	return nil
}

// parseDisabled parses the content of kernel.io_uring_disabled: the value
// and whether it is one the kernel defines (0, 1 or 2).
func parseDisabled(content string) (int, bool) {
	s := strings.TrimSpace(content)
	if len(s) != 1 || s[0] < '0' || s[0] > '2' {
		return 0, false
	}
	return int(s[0] - '0'), true
}

// refusalReason explains an io_uring_setup errno for the operator.
// sysctl is the content of kernel.io_uring_disabled, haveSysctl whether the
// file could be read (it exists from Linux 6.6).
func refusalReason(errno unix.Errno, sysctl string, haveSysctl bool) string {
	switch errno {
	case unix.EPERM:
		if !haveSysctl {
			return "refused by a seccomp profile or LSM; this kernel has no kernel.io_uring_disabled"
		}
		v, ok := parseDisabled(sysctl)
		switch {
		case !ok:
			return "kernel.io_uring_disabled=" + strings.TrimSpace(sysctl) + " or a seccomp profile"
		case v == 2:
			return "kernel.io_uring_disabled=2: io_uring is disabled for every process"
		case v == 1:
			return "kernel.io_uring_disabled=1: io_uring is allowed only to members of kernel.io_uring_group"
		default:
			return "kernel.io_uring_disabled=0, so a seccomp profile or LSM refused it"
		}
	case unix.EACCES:
		return "denied by an LSM policy (SELinux or AppArmor io_uring rules)"
	case unix.ENOSYS:
		return "the kernel has no io_uring (older than 5.1 or built without CONFIG_IO_URING), or a seccomp profile hides it"
	case unix.ENOMEM:
		return "not enough memory for the rings; before Linux 5.12 they count against RLIMIT_MEMLOCK"
	case unix.EINVAL:
		return "the kernel rejected every setup mode tried"
	case unix.EMFILE, unix.ENFILE:
		return "out of file descriptors"
	}
	return ""
}
