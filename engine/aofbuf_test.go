package engine

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/internal/pagecache"
)

// TestAOFBufChunks feeds records of random sizes (some larger than a
// chunk) in units of random length and writes them with random short
// writes: the bytes written, in order, are the bytes fed, and chunks are
// reused.
func TestAOFBufChunks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var b aofBuf
	var fed, out []byte
	made := 0
	for round := range 3000 {
		b.room()
		for range rng.Intn(4) + 1 {
			n := rng.Intn(600)
			if rng.Intn(200) == 0 {
				n = aofChunk + rng.Intn(aofChunk)
			}
			rec := bytes.Repeat([]byte{byte(round)}, n)
			b.buf = append(b.buf, rec...)
			fed = append(fed, rec...)
		}
		if rng.Intn(5) != 0 {
			continue // several turns' records wait for the writer
		}
		if len(b.writing) == 0 {
			b.take()
		}
		iov := b.vec()
		got := iovBytes(iov)
		n := len(got)
		if rng.Intn(3) == 0 {
			n = rng.Intn(len(got) + 1)
		}
		out = append(out, got[:n]...)
		b.advance(n)
		if len(b.pool) > made {
			made = len(b.pool)
		}
	}
	for b.fed() > 0 || len(b.writing) > 0 {
		if len(b.writing) == 0 {
			b.take()
		}
		got := iovBytes(b.vec())
		out = append(out, got...)
		b.advance(len(got))
	}
	if !bytes.Equal(out, fed) {
		t.Fatalf("wrote %d bytes, fed %d; first difference at %d", len(out), len(fed), firstDiff(out, fed))
	}
	if made == 0 {
		t.Error("no chunk was ever returned to the free list")
	}
	if b.unwritten() != 0 || len(b.wchunks) != 0 {
		t.Errorf("left over: %d bytes, %d chunks", b.unwritten(), len(b.wchunks))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestAOFWriteMaxChunks: a backlog of more chunks than one write takes is
// written over several writes, in order.
func TestAOFWriteMaxChunks(t *testing.T) {
	var b aofBuf
	var fed []byte
	for i := range (aofWriteMax + 10) * 20 {
		b.room()
		rec := bytes.Repeat([]byte{byte(i)}, aofChunk/20+1)
		b.buf = append(b.buf, rec...)
		fed = append(fed, rec...)
	}
	var out []byte
	writes := 0
	for b.fed() > 0 {
		b.take()
		if len(b.iov) > aofWriteMax {
			t.Fatalf("one write of %d chunks", len(b.iov))
		}
		got := iovBytes(b.vec())
		out = append(out, got...)
		b.advance(len(got))
		writes++
	}
	if writes < 2 || !bytes.Equal(out, fed) {
		t.Fatalf("%d writes; equal %v", writes, bytes.Equal(out, fed))
	}
}

// TestAOFSteadyNoAllocs: recording writes and writing them, turn after
// turn, allocates nothing once the chunks exist.
func TestAOFSteadyNoAllocs(t *testing.T) {
	if setsRace {
		t.Skip("the race detector allocates")
	}
	now := scriptStart
	a := aofShard(t, t.TempDir(), &now, "no")
	c := a.NewClient()
	argv := [][]byte{[]byte("SET"), []byte("key:000000000001"), bytes.Repeat([]byte("v"), 256)}
	turn := func() {
		for range 300 {
			c.Out = c.Out[:0]
			a.Exec(c, argv)
		}
		fd, off, iov, ok := a.AOFNextWrite()
		if !ok {
			t.Fatal("nothing to write")
		}
		n, err := pwritev(fd, iov, off)
		if err != nil {
			t.Fatal(err)
		}
		a.AOFWriteDone(n, 0)
	}
	for range 10 {
		turn()
	}
	if allocs := testing.AllocsPerRun(50, turn); allocs != 0 {
		t.Errorf("%v allocations per turn", allocs)
	}
}

// TestAOFTransactionAcrossChunks: a transaction whose records fill more
// than what a chunk has left is still recorded whole, wrapped once, and
// the file loads back.
func TestAOFTransactionAcrossChunks(t *testing.T) {
	dir := t.TempDir()
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	c := a.NewClient()
	val := strings.Repeat("x", 900)
	for i := range 70 { // the chunk nearly full
		run(t, a, c, "SET pre"+strconv.Itoa(i)+" "+val)
	}
	run(t, a, c, "MULTI")
	for i := range 20 {
		run(t, a, c, "SET tx"+strconv.Itoa(i)+" "+val)
	}
	run(t, a, c, "EXEC")
	want := snapshot(a)
	a.StopPersistence()
	files, _ := filepath.Glob(filepath.Join(dir, "*.incr.aof"))
	if len(files) != 1 {
		t.Fatalf("incr files: %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "MULTI"); n != 1 {
		t.Errorf("%d MULTI in the file", n)
	}
	b := aofShard(t, dir, &now, "everysec")
	if got := snapshot(b); got != want {
		t.Error("the data set loaded back differs")
	}
}

// TestAOFRewriteInsideExec: BGREWRITEAOF inside a transaction takes its
// cut after the transaction, so the transaction's records stay whole on
// one side of it.
func TestAOFRewriteInsideExec(t *testing.T) {
	dir := t.TempDir()
	now := scriptStart
	a := aofShard(t, dir, &now, "everysec")
	c := a.NewClient()
	run(t, a, c, "SET n 1")
	run(t, a, c, "MULTI")
	run(t, a, c, "INCR n")
	run(t, a, c, "BGREWRITEAOF")
	run(t, a, c, "INCR n")
	run(t, a, c, "EXEC")
	for i := 0; a.rwStat.rewrites == 0; i++ {
		if i > 5000 {
			t.Fatal("the rewrite does not finish")
		}
		a.AOFTurn()
		a.AOFFlushSync(false)
		time.Sleep(time.Millisecond) // the base's fsync runs on a goroutine
	}
	if a.aof.rw != nil || a.aof.rwAsk {
		t.Fatal("the rewrite did not end")
	}
	run(t, a, c, "INCR n")
	a.StopPersistence()
	files, _ := filepath.Glob(filepath.Join(dir, "*.incr.aof"))
	if len(files) != 1 {
		t.Fatalf("incr files after the rewrite: %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if n := strings.Count(string(data), "INCR"); n != 1 || strings.Contains(string(data), "MULTI") {
		t.Errorf("the incr file after the cut holds a part of the transaction: %q", data)
	}
	b := aofShard(t, dir, &now, "everysec")
	if v := exec(t, b, b.NewClient(), "GET", "n"); string(v.Str) != "4" {
		t.Errorf("n after reload: %q, want 4", v.Str)
	}
}

// TestAOFDropsPageCache: what is durable of the incr file leaves the page
// cache (the writer's fadvise), whole pages only, so the file's pages in
// the cache stay a few MiB however much is written.
func TestAOFDropsPageCache(t *testing.T) {
	dir := t.TempDir()
	if !pagecache.Droppable(dir) {
		t.Skip("the temp dir is in memory")
	}
	now := scriptStart
	a := aofShard(t, dir, &now, "always")
	c := a.NewClient()
	val := bytes.Repeat([]byte("v"), 1000)
	const total = 40 << 20
	for i := 0; i*1000 < total; i++ {
		a.Exec(c, [][]byte{[]byte("SET"), []byte("k" + strconv.Itoa(i%1000)), val})
		if i%100 == 99 {
			a.AOFFlushSync(false)
		}
	}
	a.AOFFlushSync(false)
	files, _ := filepath.Glob(filepath.Join(dir, "*.incr.aof"))
	if len(files) != 1 {
		t.Fatalf("incr files: %v", files)
	}
	resident, size, err := pagecache.Resident(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if size < total {
		t.Fatalf("the incr file has %d bytes, want at least %d", size, total)
	}
	if max := 2 * aofDropMin / 4096; resident > max {
		t.Errorf("%d of the file's %d pages are in the page cache, want at most %d", resident, size/4096, max)
	}
	want := snapshot(a)
	a.StopPersistence()
	if got := snapshot(aofShard(t, dir, &now, "always")); got != want {
		t.Error("the data set loaded back differs")
	}
}

// memAOFBuffer is INFO memory's mem_aof_buffer.
func memAOFBuffer(t *testing.T, s *Shard, c *Client) int {
	t.Helper()
	v := exec(t, s, c, "INFO", "memory")
	n, err := strconv.Atoi(infoFields(string(v.Str))["mem_aof_buffer"])
	if err != nil {
		t.Fatalf("mem_aof_buffer: %v", err)
	}
	return n
}

// TestAOFBufferInInfo: INFO memory's mem_aof_buffer is the memory the AOF
// buffer holds (at least the chunk records go to while the AOF is on,
// what is written back on the free list after), 0 without an AOF.
func TestAOFBufferInInfo(t *testing.T) {
	memAOF := func(s *Shard, c *Client) int { return memAOFBuffer(t, s, c) }
	plain := NewShard(DefaultConfig())
	if n := memAOF(plain, plain.NewClient()); n != 0 {
		t.Errorf("mem_aof_buffer %d without an AOF", n)
	}
	now := scriptStart
	a := aofShard(t, t.TempDir(), &now, "everysec")
	defer a.StopPersistence()
	c := a.NewClient()
	for i := range 2000 {
		exec(t, a, c, "SET", "k"+strconv.Itoa(i), strings.Repeat("v", 100))
	}
	if n := memAOF(a, c); n < 2*aofChunk {
		t.Errorf("mem_aof_buffer %d with %d bytes fed, want at least two chunks", n, a.aof.fed())
	}
	a.AOFFlushSync(false)
	if n := memAOF(a, c); n < aofChunk {
		t.Errorf("mem_aof_buffer %d after the write, want the chunks kept for reuse", n)
	}
}

// BenchmarkSetAOF is a SET of a 256-byte value with the AOF on (its
// record, written out every 1,500 commands, the writes themselves left
// out) and off: the difference is what recording costs the loop.
func BenchmarkSetAOF(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(map[bool]string{false: "off", true: "everysec"}[on], func(b *testing.B) {
			now := scriptStart
			a := aofShard(b, b.TempDir(), &now, "everysec")
			if !on {
				a.StopPersistence()
			}
			c := a.NewClient()
			argv := [][]byte{[]byte("SET"), []byte("key:000000000001"), bytes.Repeat([]byte("v"), 256)}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Out = c.Out[:0]
				a.Exec(c, argv)
				if i++; i%1500 == 0 && on {
					if _, _, iov, ok := a.AOFNextWrite(); ok {
						n := 0
						for _, v := range iov {
							n += int(v.Len)
						}
						a.AOFWriteDone(n, 0)
					}
				}
			}
		})
	}
}
