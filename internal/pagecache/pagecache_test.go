package pagecache

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestResident: a file just written is cached; after fsync and
// fadvise DONTNEED it is not.
func TestResident(t *testing.T) {
	dir := t.TempDir()
	if !Droppable(dir) {
		t.Skip("the temp dir is in memory")
	}
	path := filepath.Join(dir, "f")
	const size = 64 << 10
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	pages, n, err := Resident(path)
	if err != nil || n != size || pages != size/os.Getpagesize() {
		t.Fatalf("after writing: %d pages, %d bytes, %v", pages, n, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	if pages, _, err := Resident(path); err != nil || pages != 0 {
		t.Fatalf("after DONTNEED: %d pages, %v", pages, err)
	}
}
