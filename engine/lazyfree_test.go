package engine

import (
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestLazyFreeAfterDelete: deleting a large value has the collector run
// in the background, so that writes refused past maxmemory are taken
// again once it reclaimed the value, without waiting for allocation to
// make the runtime collect (a shard refusing writes allocates little).
func TestLazyFreeAfterDelete(t *testing.T) {
	st := newStrTest(t)
	runtime.GC()
	used0 := int64(readUsedMemory())
	args := []string{"SADD", "big"}
	for i := range 200000 {
		args = append(args, "m"+strconv.Itoa(i))
	}
	if out := st.do("CONFIG SET maxmemory 100gb"); out != "+OK" {
		t.Fatalf("CONFIG SET maxmemory: %s", out)
	}
	st.s.Exec(st.c, argv(args...))
	args = nil
	used1 := int64(readUsedMemory())
	if used1-used0 < 4<<20 {
		t.Fatalf("a set of 200000 members took %d bytes", used1-used0)
	}
	// The limit lies halfway between the memory in use without the set and
	// with it; it is set without sampling, then sampled as the cron does.
	st.s.Config.Maxmemory = used0 + (used1-used0)/2
	st.s.sampleMemory()
	if out := st.do("SET k v"); out != "-OOM command not allowed when used memory > 'maxmemory'." {
		t.Fatalf("SET past maxmemory: %s", out)
	}
	if out := st.do("DEL big"); out != ":1" {
		t.Fatalf("DEL big: %s", out)
	}
	info := func() map[string]string {
		return infoFields(string(exec(t, st.s, st.c, "INFO", "memory").Str))
	}
	if f := info(); f["lazyfree_pending_objects"] != "1" || f["lazyfreed_objects"] != "0" {
		t.Fatalf("after DEL: lazyfree_pending_objects %s lazyfreed_objects %s",
			f["lazyfree_pending_objects"], f["lazyfreed_objects"])
	}
	out := ""
	for i := 0; i < 200 && out != "+OK"; i++ { // 4 s at most
		st.s.Cron()
		time.Sleep(20 * time.Millisecond)
		out = st.do("SET k v")
	}
	if out != "+OK" {
		t.Fatalf("SET after the large value was deleted: %s (used_memory %s, maxmemory %d)",
			out, info()["used_memory"], st.s.Config.Maxmemory)
	}
	// The runtime may have collected first (the memory is back), with the
	// shard's own collection still under way: it is accounted once done.
	f := info()
	for i := 0; i < 200 && f["lazyfree_pending_objects"] != "0"; i++ {
		time.Sleep(20 * time.Millisecond)
		st.s.Cron()
		f = info()
	}
	if f["lazyfree_pending_objects"] != "0" || f["lazyfreed_objects"] != "1" {
		t.Fatalf("after the collection: lazyfree_pending_objects %s lazyfreed_objects %s",
			f["lazyfree_pending_objects"], f["lazyfreed_objects"])
	}
	if out := st.do("CONFIG RESETSTAT"); out != "+OK" {
		t.Fatal(out)
	}
	if f := info(); f["lazyfreed_objects"] != "0" {
		t.Fatalf("CONFIG RESETSTAT left lazyfreed_objects %s", f["lazyfreed_objects"])
	}
}

// TestLazyFreeRename: a value that moves to another key is not counted as
// freed; a FLUSHALL counts every object it dropped.
func TestLazyFreeRename(t *testing.T) {
	st := newStrTest(t)
	st.do("HSET h a 1")
	st.do("RPUSH l a b")
	st.do("SET s x")
	if out := st.do("RENAME h h2"); out != "+OK" {
		t.Fatal(out)
	}
	if n := st.s.lazyFreePending(); n != 0 {
		t.Fatalf("RENAME left %d objects pending", n)
	}
	st.do("FLUSHALL")
	if n := st.s.lazyFreePending(); n != 2 {
		t.Fatalf("FLUSHALL of two objects and a string: %d pending", n)
	}
}
