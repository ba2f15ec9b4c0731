//go:build linux

package numa

import (
	"fmt"
	"math/bits"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MaxAffinityCPU bounds the CPU IDs SetAffinity and GetAffinity handle: the
// largest NR_CPUS Linux can be built with is 8192.
const MaxAffinityCPU = 8191

// cpuMask is a kernel cpumask big enough for any NR_CPUS. The kernel reads
// only its own cpumask size of it and writes back that many bytes.
type cpuMask [(MaxAffinityCPU + 1) / 64]uint64

// SetAffinity sets the CPU affinity of thread tid (0: the calling thread) to
// cpus with sched_setaffinity. Linux affinity is per thread: to confine a
// whole process, set it on every thread, or set it on the thread that will
// fork the process (StartPinned). It does not allocate unless it fails.
func SetAffinity(tid int, cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("numa: sched_setaffinity(%d): empty CPU set", tid)
	}
	var m cpuMask
	for _, c := range cpus {
		if c < 0 || c > MaxAffinityCPU {
			return fmt.Errorf("numa: sched_setaffinity(%d): CPU %d out of range", tid, c)
		}
		m[c/64] |= 1 << uint(c%64)
	}
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if e != 0 {
		return fmt.Errorf("numa: sched_setaffinity(%d, %s): %w", tid, FormatCPUList(cpus), e)
	}
	return nil
}

// GetAffinity returns the CPU affinity of thread tid (0: the calling
// thread), ascending. For a process, pass its PID: that is its main thread.
func GetAffinity(tid int) ([]int, error) {
	var m cpuMask
	if err := getAffinity(tid, &m); err != nil {
		return nil, err
	}
	var out []int
	for w, word := range m {
		for word != 0 {
			out = append(out, w*64+bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
	return out, nil
}

func getAffinity(tid int, m *cpuMask) error {
	*m = cpuMask{}
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if e != 0 {
		return fmt.Errorf("numa: sched_getaffinity(%d): %w", tid, e)
	}
	return nil
}

func setAffinityMask(m *cpuMask) error {
	_, _, e := unix.RawSyscall(unix.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(*m), uintptr(unsafe.Pointer(m)))
	if e != 0 {
		return fmt.Errorf("numa: sched_setaffinity: %w", e)
	}
	return nil
}
