package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// ProcStatus holds the fields of /proc/PID/status the harness uses.
type ProcStatus struct {
	VmRSSKB     int64  // resident set size, kB
	VmHWMKB     int64  // peak resident set size, kB
	Threads     int    // number of threads
	CPUsAllowed string // Cpus_allowed_list, verbatim
}

// parseProcStatus parses the "Name:\tvalue" lines of /proc/PID/status.
// Missing fields stay zero; a malformed number in a known field is an error.
func parseProcStatus(b []byte) (ProcStatus, error) {
	var st ProcStatus
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		var err error
		switch string(name) {
		case "VmRSS":
			st.VmRSSKB, err = parseKB(value)
		case "VmHWM":
			st.VmHWMKB, err = parseKB(value)
		case "Threads":
			var n int64
			n, err = strconv.ParseInt(string(value), 10, 32)
			st.Threads = int(n)
		case "Cpus_allowed_list":
			st.CPUsAllowed = string(value)
		}
		if err != nil {
			return ProcStatus{}, fmt.Errorf("bench: /proc status field %s: %w", name, err)
		}
	}
	return st, nil
}

// parseKB parses "1868 kB".
func parseKB(v []byte) (int64, error) {
	num, unit, _ := bytes.Cut(v, []byte(" "))
	if u := string(bytes.TrimSpace(unit)); u != "kB" {
		return 0, fmt.Errorf("unit %q, want kB", u)
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("negative size %d", n)
	}
	return n, nil
}

// readProcStatus reads and parses /proc/PID/status.
func readProcStatus(pid int) (ProcStatus, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return ProcStatus{}, fmt.Errorf("bench: %w", err)
	}
	return parseProcStatus(b)
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go runs on.
const clockTicks = 100

// parseProcCPU returns utime+stime+cutime+cstime, in seconds, from the
// text of /proc/PID/stat: every thread of the process, including those
// the kernel runs for it (io_uring's workers), and its children once
// reaped (redis-server's forked rewrite or save). The fields are counted
// after the command name, which is in parentheses and may hold spaces.
func parseProcCPU(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: /proc stat without a command name")
	}
	f := bytes.Fields(b[i+1:])
	// After the name: state (field 3) ... utime (14), stime (15), cutime
	// (16), cstime (17).
	if len(f) < 15 {
		return 0, fmt.Errorf("bench: /proc stat with %d fields after the name", len(f))
	}
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc stat time %q: %w", s, err)
		}
		ticks += n
	}
	return float64(ticks) / clockTicks, nil
}

// readProcCPU reads the CPU time a process has used so far, in seconds.
func readProcCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	return parseProcCPU(b)
}
