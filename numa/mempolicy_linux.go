//go:build linux

package numa

import (
	"fmt"
	"math/bits"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// nodeMask is a kernel nodemask for any MAX_NUMNODES.
type nodeMask [(MaxMemNode + 1) / 64]uint64

// maxNode is the maxnode argument for a nodeMask. The kernel decrements it
// before use (an off-by-one kept for compatibility, which is why libnuma
// passes its bitmap size + 1), so passing the mask's bit count + 1 makes it
// read exactly the whole mask, no more.
const maxNode = uintptr(len(nodeMask{})*64 + 1)

// SetMemPolicy sets the NUMA memory policy of the calling thread with
// set_mempolicy(2). Only the calling thread is affected, and threads and
// processes it creates afterwards inherit the policy (it survives execve),
// so call it on a goroutine locked with runtime.LockOSThread.
//
// MemDefault and MemLocal take no nodes, MemPreferred exactly one, the others
// at least one. MemPreferredMany on a kernel before 5.15 falls back to
// MemPreferred on the lowest listed node. It does not allocate unless it
// fails.
func SetMemPolicy(mode MemPolicy, nodes []int) error {
	var m nodeMask
	for _, n := range nodes {
		if n < 0 || n > MaxMemNode {
			return fmt.Errorf("numa: set_mempolicy(%v): node %d out of range", mode, n)
		}
		m[n/64] |= 1 << uint(n%64)
	}
	switch mode {
	case MemDefault, MemLocal:
		if len(nodes) != 0 {
			return fmt.Errorf("numa: set_mempolicy(%v) takes no nodes", mode)
		}
	case MemPreferred:
		if len(nodes) != 1 {
			return fmt.Errorf("numa: set_mempolicy(%v) takes one node, not %d", mode, len(nodes))
		}
	case MemBind, MemInterleave, MemPreferredMany, MemWeightedInterleave:
		if len(nodes) == 0 {
			return fmt.Errorf("numa: set_mempolicy(%v) needs nodes", mode)
		}
	default:
		return fmt.Errorf("numa: set_mempolicy: unknown mode %d", int(mode))
	}
	err := setMemPolicy(int(mode), &m)
	if err == unix.EINVAL && mode == MemPreferredMany && !hasPreferredMany() {
		var one nodeMask
		first := lowestNode(&m)
		one[first/64] = 1 << uint(first%64)
		err = setMemPolicy(int(MemPreferred), &one)
	}
	if err != nil {
		return fmt.Errorf("numa: set_mempolicy(%v, %s): %w", mode, FormatCPUList(nodes), err)
	}
	return nil
}

// setMemPolicy is the raw system call; mode may carry MPOL_F_* flags.
func setMemPolicy(mode int, m *nodeMask) error {
	_, _, e := unix.RawSyscall(unix.SYS_SET_MEMPOLICY, uintptr(mode), uintptr(unsafe.Pointer(m)), maxNode)
	if e != 0 {
		return e
	}
	return nil
}

// GetMemPolicy returns the NUMA memory policy of the calling thread and its
// nodes (ascending; nil for MemDefault and MemLocal), with get_mempolicy(2).
// The MPOL_F_* mode flags are dropped.
func GetMemPolicy() (MemPolicy, []int, error) {
	var m nodeMask
	mode, err := getMemPolicy(&m)
	if err != nil {
		return 0, nil, err
	}
	var nodes []int
	for w, word := range m {
		for word != 0 {
			nodes = append(nodes, w*64+bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
	return MemPolicy(mode &^ mpolModeFlags), nodes, nil
}

// getMemPolicy returns the raw mode, flags included, and fills m.
func getMemPolicy(m *nodeMask) (int, error) {
	*m = nodeMask{}
	var mode int32
	_, _, e := unix.RawSyscall6(unix.SYS_GET_MEMPOLICY, uintptr(unsafe.Pointer(&mode)),
		uintptr(unsafe.Pointer(m)), maxNode, 0, 0, 0)
	if e != 0 {
		return 0, fmt.Errorf("numa: get_mempolicy: %w", e)
	}
	return int(mode), nil
}

func lowestNode(m *nodeMask) int {
	for w, word := range m {
		if word != 0 {
			return w*64 + bits.TrailingZeros64(word)
		}
	}
	return 0
}

// hasPreferredMany reports whether the kernel is 5.15 or newer, the first
// with MPOL_PREFERRED_MANY. It is asked only after the kernel refused the
// mode, to tell "old kernel" from "bad nodes".
var hasPreferredMany = sync.OnceValue(func() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	major, minor, ok := parseKernelRelease(unix.ByteSliceToString(u.Release[:]))
	return ok && (major > 5 || major == 5 && minor >= 15)
})
