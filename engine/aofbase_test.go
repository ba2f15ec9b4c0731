package engine

import (
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// directHere reports whether a rewrite's base in dir is written with
// O_DIRECT (the file system takes it).
func directHere(t *testing.T, dir string) bool {
	f, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	var kept baseBufs
	var now int64
	d := newBaseDirect(f, &kept, &now)
	if d == nil {
		return false
	}
	d.release()
	kept.idle(now, false)
	return true
}

// TestAOFRewriteKeepsBuffers checks that a rewrite's direct buffers are
// reused by the next rewrite, reported in mem_aof_buffer meanwhile, and
// unmapped once unused for baseKeepMs or when appendonly is turned off.
func TestAOFRewriteKeepsBuffers(t *testing.T) {
	dir := t.TempDir()
	if !directHere(t, dir) {
		t.Skipf("%s takes no O_DIRECT", dir)
	}
	oldSize, oldSlice := baseDirectSize, rewriteSliceBytes
	baseDirectSize, rewriteSliceBytes = 64<<10, 16<<10
	defer func() { baseDirectSize, rewriteSliceBytes = oldSize, oldSlice }()
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	c := a.NewClient()
	for i := range 500 {
		run(t, a, c, "SET k"+strconv.Itoa(i)+" "+strings.Repeat("x", 300))
	}
	rewrite := func() {
		t.Helper()
		exec(t, a, c, "BGREWRITEAOF")
		for deadline := time.Now().Add(20 * time.Second); a.aof.rw != nil; {
			if time.Now().After(deadline) {
				t.Fatal("rewrite does not finish")
			}
			run(t, a, c, "SET k1 y")
			time.Sleep(100 * time.Microsecond)
		}
		if !a.rwStat.lastOK {
			t.Fatalf("rewrite failed: %+v", a.rwStat)
		}
	}
	memAOF := func() int { return memAOFBuffer(t, a, c) }
	rewrite()
	first := a.aof.baseBufs.bufs[0]
	if first == nil || a.aof.baseBufs.busy {
		t.Fatalf("buffers not kept after the rewrite: %+v", a.aof.baseBufs)
	}
	withBufs := memAOF()
	rewrite()
	if len(a.aof.baseBufs.bufs[0]) == 0 || &a.aof.baseBufs.bufs[0][0] != &first[0] {
		t.Error("the second rewrite did not reuse the first one's buffers")
	}
	now += baseKeepMs / 2
	a.Cron()
	if a.aof.baseBufs.bufs[0] == nil {
		t.Error("buffers unmapped before baseKeepMs")
	}
	now += baseKeepMs
	a.Cron()
	if a.aof.baseBufs.bufs[0] != nil {
		t.Error("buffers kept after baseKeepMs unused")
	}
	if got := memAOF(); got != withBufs-2*baseDirectSize {
		t.Errorf("mem_aof_buffer %d with the buffers, %d after they were unmapped", withBufs, got)
	}
	rewrite()
	exec(t, a, c, "CONFIG", "SET", "appendonly", "no")
	a.Cron()
	if a.aof.baseBufs.bufs[0] != nil {
		t.Error("buffers kept with appendonly no")
	}
	a.StopPersistence()
}

// TestAOFRewriteDirect rewrites, under concurrent writes, a key space
// whose base spans many direct buffers (made small here), so that full
// buffers go out while the loop fills the other, the last partial one is
// written buffered, and the base loads back to the live key space.
func TestAOFRewriteDirect(t *testing.T) {
	oldSize, oldSlice := baseDirectSize, rewriteSliceBytes
	baseDirectSize, rewriteSliceBytes = 8<<10, 2<<10
	defer func() { baseDirectSize, rewriteSliceBytes = oldSize, oldSlice }()
	dir := t.TempDir()
	direct := directHere(t, dir)
	if !direct {
		t.Logf("%s takes no O_DIRECT: the base is written buffered", dir)
	}
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	c := a.NewClient()
	rng := rand.New(rand.NewSource(5))
	for i := range 3000 {
		run(t, a, c, "SET k"+strconv.Itoa(i)+" "+strings.Repeat("x", rng.Intn(200)))
		if i%10 == 0 {
			run(t, a, c, randomWrite(rng))
		}
	}
	if v := exec(t, a, c, "BGREWRITEAOF"); string(v.Str) != "Background append only file rewriting started" {
		t.Fatalf("BGREWRITEAOF: %+v", v)
	}
	sawDirect := false
	deadline := time.Now().Add(20 * time.Second)
	for a.aof.rw != nil {
		if time.Now().After(deadline) {
			t.Fatal("rewrite does not finish")
		}
		if a.aof.rw.direct != nil {
			sawDirect = true
		}
		run(t, a, c, "SET k"+strconv.Itoa(rng.Intn(4000))+" "+strings.Repeat("y", rng.Intn(200)))
		run(t, a, c, randomWrite(rng))
		if a.aof.rw != nil && a.aof.rw.syncing != nil {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if !a.rwStat.lastOK {
		t.Fatalf("rewrite failed: %+v", a.rwStat)
	}
	if sawDirect != direct {
		t.Errorf("base written direct: %v, want %v", sawDirect, direct)
	}
	st, err := os.Stat(filepath.Join(dir, a.aof.man.base.name))
	if err != nil {
		t.Fatal(err)
	}
	if direct && st.Size() < 4*int64(baseDirectSize) {
		t.Fatalf("base of %d bytes: fewer than four direct buffers", st.Size())
	}
	checkReload(t, a, dir, &now)
}

// TestAOFRewriteDirectAbort turns appendonly off while a base is being
// written directly: the writes in flight end before the file is closed
// and removed, and the AOF in place stays as it was.
func TestAOFRewriteDirectAbort(t *testing.T) {
	oldSize, oldSlice := baseDirectSize, rewriteSliceBytes
	baseDirectSize, rewriteSliceBytes = 8<<10, 16<<10
	defer func() { baseDirectSize, rewriteSliceBytes = oldSize, oldSlice }()
	dir := t.TempDir()
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	c := a.NewClient()
	for i := range 2000 {
		run(t, a, c, "SET k"+strconv.Itoa(i)+" "+strings.Repeat("x", 100))
	}
	want := snapshot(a)
	exec(t, a, c, "BGREWRITEAOF")
	a.AOFTurn() // a slice: some buffers written, one maybe in flight
	if a.aof.rw == nil {
		t.Fatal("the rewrite ended in one turn")
	}
	tmp := a.aof.rw.tmpPath
	exec(t, a, c, "CONFIG", "SET", "appendonly", "no")
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary base %s still there (%v)", tmp, err)
	}
	b := aofShard(t, dir, &now, "everysec")
	defer b.StopPersistence()
	if got := snapshot(b); got != want {
		t.Errorf("the AOF in place changed")
	}
}
