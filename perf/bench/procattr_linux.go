package main

import "syscall"

// serverProcAttr puts a server in its own process group (a terminal's ^C
// reaches the harness, which then stops the server itself) and kills it if
// the harness dies first.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
