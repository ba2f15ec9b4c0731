// Package refuse makes system calls fail on purpose, for tests of the
// paths a refusal takes: IOUringSetup installs the seccomp filter a
// container runtime would, so that a test can check Shoal falls back from
// io_uring to epoll and says why.
//
// A filter applies to every thread of the calling process and cannot be
// removed: call it only in a child process started for that purpose.
package refuse

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// IOUringSetup installs, on every thread of the process, a seccomp filter
// that fails io_uring_setup with errno and allows every other call.
func IOUringSetup(errno unix.Errno) error {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.SYS_IO_URING_SETUP},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(errno)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(prog))); e != 0 {
		return e
	}
	return nil
}
