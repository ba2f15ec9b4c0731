// Package pagecache tells how much of a file is in the kernel's page
// cache (mincore(2) of a read-only shared mapping of it), for tests that
// check what a shard leaves cached. It holds no state.
package pagecache

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resident returns how many of the pages of the file at path are in the
// page cache, and the file's size in bytes.
func Resident(path string) (pages, size int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size = int(st.Size())
	if size == 0 {
		return 0, 0, nil
	}
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, size, err
	}
	defer unix.Munmap(m)
	vec := make([]byte, (size+os.Getpagesize()-1)/os.Getpagesize())
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(size), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return 0, size, e
	}
	for _, v := range vec {
		pages += int(v & 1)
	}
	return pages, size, nil
}

// Droppable reports whether the filesystem holding dir keeps its files
// elsewhere than in memory, so that clean pages can leave the cache (not
// tmpfs or ramfs).
func Droppable(dir string) bool {
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) != nil {
		return false
	}
	return st.Type != unix.TMPFS_MAGIC && st.Type != unix.RAMFS_MAGIC
}
