//go:build linux

package numa

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
)

// StartPinned starts cmd with CPU affinity cpus (nil: inherit the caller's)
// and, when memNode >= 0, its memory bound to that node (MemBind). It works
// as numactl --physcpubind --membind does, without a wrapper process: on a
// fresh goroutine locked to its OS thread it saves that thread's affinity
// and policy, applies the shard's, calls cmd.Start, and restores them.
//
// Why this works: affinity and memory policy are attributes of a Linux task
// (thread), copied into a task it clones and kept across execve. Go's
// os.StartProcess clones the child from the thread that calls it (a
// vfork-style clone on the calling M, then execve in the child), and a
// locked goroutine stays on its thread, so the child starts with exactly the
// settings of this thread and nothing else. Other threads of the process are
// untouched throughout. While the thread is locked the runtime does not clone
// new runtime threads from it either (it hands thread creation to its
// template thread precisely because a locked thread's state may be unusual),
// so no goroutine-carrying thread inherits the narrowed settings.
//
// If the thread were reused with the shard's settings still in force,
// whatever goroutines ran on it next (GC workers, the caller's own work)
// would be confined to the shard's CPUs and allocate from its node: a
// silent performance fault. So the goroutine unlocks the thread only after
// both settings are restored; if restoring fails it exits still locked,
// and the runtime then terminates the thread instead of reusing it (or, for
// the process's main thread, parks it for good).
//
// StartPinned blocks until cmd.Start returns and may be called from any
// goroutine, concurrently. As with cmd.Start, the caller owns cmd and must
// Wait for it.
func StartPinned(cmd *exec.Cmd, cpus []int, memNode int) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := startPinnedLocked(cmd, cpus, memNode)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// startPinnedLocked does StartPinned's work on the calling thread, which the
// caller has locked. restored reports whether the thread's affinity and
// policy are back to what they were (and the thread is fit for reuse).
func startPinnedLocked(cmd *exec.Cmd, cpus []int, memNode int) (restored bool, err error) {
	var savedCPUs cpuMask
	var savedNodes nodeMask
	savedMode := -1
	if len(cpus) > 0 {
		if err := getAffinity(0, &savedCPUs); err != nil {
			return true, err
		}
	}
	if memNode >= 0 {
		mode, err := getMemPolicy(&savedNodes)
		if err != nil {
			return true, err
		}
		savedMode = mode
	}
	restore := func() error {
		var errs []error
		if savedMode >= 0 {
			if err := setMemPolicy(savedMode, &savedNodes); err != nil {
				errs = append(errs, fmt.Errorf("numa: restoring memory policy: %w", err))
			}
		}
		if len(cpus) > 0 {
			if err := setAffinityMask(&savedCPUs); err != nil {
				errs = append(errs, fmt.Errorf("numa: restoring affinity: %w", err))
			}
		}
		return errors.Join(errs...)
	}

	if len(cpus) > 0 {
		if err := SetAffinity(0, cpus); err != nil {
			return restore() == nil, err
		}
	}
	if memNode >= 0 {
		if err := SetMemPolicy(MemBind, []int{memNode}); err != nil {
			return restore() == nil, err
		}
	}
	startErr := cmd.Start()
	if startErr != nil {
		startErr = fmt.Errorf("numa: starting %s: %w", cmd.Path, startErr)
	}
	// A child that started is the caller's to Wait for whatever happens to
	// this thread, so a failed restore only costs the thread.
	return restore() == nil, startErr
}
