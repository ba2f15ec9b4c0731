//go:build !linux

package testserver

import "syscall"

// sysProcAttr puts the server in its own process group (so a launcher's
// children can be killed with it).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// awaitExit returns at once: without waitid(WNOWAIT) the group is
// signalled after the leader is reaped.
func awaitExit(pid int) {}
