package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// maxCPU bounds CPU numbers accepted from flags and /proc (Linux's NR_CPUS
// tops out at 8192).
const maxCPU = 8191

// CPUSet is a sorted, duplicate-free list of CPU numbers.
type CPUSet []int

// ParseCPUList parses the kernel's cpulist syntax ("0-3,6,8-9"), as used by
// taskset -c and Cpus_allowed_list. The empty string is an error.
func ParseCPUList(s string) (CPUSet, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("bench: empty CPU list")
	}
	var seen [maxCPU + 1]bool
	n := 0
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseCPU(lo)
		if err != nil {
			return nil, fmt.Errorf("bench: CPU list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseCPU(hi); err != nil {
				return nil, fmt.Errorf("bench: CPU list %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("bench: CPU list %q: range %d-%d is reversed", s, a, b)
			}
		}
		for c := a; c <= b; c++ {
			if !seen[c] {
				seen[c] = true
				n++
			}
		}
	}
	set := make(CPUSet, 0, n)
	for c, ok := range seen {
		if ok {
			set = append(set, c)
		}
	}
	return set, nil
}

func parseCPU(s string) (int, error) {
	if s == "" || len(s) > 4 {
		return 0, fmt.Errorf("bad CPU number %q", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("bad CPU number %q", s)
		}
	}
	c, err := strconv.Atoi(s)
	if err != nil || c > maxCPU {
		return 0, fmt.Errorf("bad CPU number %q", s)
	}
	return c, nil
}

// String formats the set in compact cpulist syntax, ranges collapsed.
func (c CPUSet) String() string {
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] == c[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(c[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Overlaps reports whether c and d share a CPU.
func (c CPUSet) Overlaps(d CPUSet) bool {
	for _, x := range c {
		for _, y := range d {
			if x == y {
				return true
			}
		}
	}
	return false
}

// allowedCPUs returns the CPUs this process may run on.
func allowedCPUs() (CPUSet, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("bench: reading allowed CPUs: %w", err)
	}
	st, err := parseProcStatus(b)
	if err != nil {
		return nil, err
	}
	if st.CPUsAllowed == "" {
		return nil, fmt.Errorf("bench: /proc/self/status has no Cpus_allowed_list")
	}
	return ParseCPUList(st.CPUsAllowed)
}

// splitCPUs gives the default placement: the server on the last allowed CPU,
// the client on all the others. With a single CPU both share it.
func splitCPUs(allowed CPUSet) (server, client CPUSet) {
	if len(allowed) == 0 {
		return nil, nil
	}
	last := len(allowed) - 1
	server = CPUSet{allowed[last]}
	if last == 0 {
		return server, CPUSet{allowed[0]}
	}
	return server, append(CPUSet(nil), allowed[:last]...)
}
