package kv

import "unsafe"

// Stats describes a store's size and memory, for INFO and debugging
// reports. Byte counts are of memory the store holds, not of objects'
// contents.
type Stats struct {
	Keys          int   // keys in the store
	Volatile      int   // keys with an expire time
	Objects       int   // keys holding an object
	Buckets       int   // buckets of the main table
	RehashBuckets int   // buckets of the table being resized into, 0 if none
	Rehashing     bool  // a resize is in progress
	IndexBytes    int64 // bucket head chunks allocated, both tables
	EntrySegments int   // entry segments allocated
	EntryBytes    int64 // bytes of entry segments
	Pages         int   // slab pages allocated
	PageBytes     int64 // bytes of slab pages
	SlotBytes     int64 // bytes of slots holding live records (class-rounded)
	LiveBytes     int64 // bytes of live records, header, key and value
	HugeValues    int   // records too big for a size class
	HugeBytes     int64 // capacity of their buffers
	SlotIndex     int64 // bytes of the per-slot key lists (TrackSlots), 0 without
	TotalBytes    int64 // everything above plus side and page tables
}

// DataBytes is the bytes the records and huge values hold (Stats'
// LiveBytes plus HugeBytes): what the key space grows by with its data,
// less the index. O(1), for checks on every write that Stats is too slow
// for.
func (s *Store) DataBytes() int64 { return s.recBytes + s.hugeBytes }

// FreeSlotBytes is the bytes of the slab pages' slots that hold no record
// (Stats' PageBytes less SlotBytes): memory the next records take before
// any new page is allocated. O(1).
func (s *Store) FreeSlotBytes() int64 { return s.slab.pageBytes - s.slab.slotBytes }

// Released is how many bytes of its own memory (slab pages, huge values'
// buffers, and everything Clear dropped) the store has let go of to the
// garbage collector over its life. Objects' own memory is not counted:
// OnDrop sees the objects. O(1).
func (s *Store) Released() int64 { return s.released + s.slab.released }

// OnDrop has f called with every object the store lets go of when a key
// holding one is deleted or given a string value (not by Clear, nor when
// SetObject replaces one object by another). f must not change the store.
func (s *Store) OnDrop(f func(obj any)) { s.onDrop = f }

// Stats returns the store's statistics. O(1).
func (s *Store) Stats() Stats {
	st := Stats{
		Keys:          s.count,
		Volatile:      s.volatile,
		Objects:       s.objects,
		Buckets:       int(s.t[0].size()),
		Rehashing:     s.rehashing,
		IndexBytes:    s.t[0].bytes() + s.t[1].bytes(),
		EntrySegments: s.ents.count,
		EntryBytes:    int64(s.ents.count) * segLen * entrySize,
		Pages:         s.slab.pageCount,
		PageBytes:     s.slab.pageBytes,
		SlotBytes:     s.slab.slotBytes,
		LiveBytes:     s.recBytes,
		HugeValues:    s.huge.live,
		HugeBytes:     s.hugeBytes,
	}
	if s.slots != nil {
		st.SlotIndex = s.slots.bytes()
	}
	if s.rehashing {
		st.RehashBuckets = int(s.t[1].size())
	}
	side := int64(len(s.huge.chunks))*int64(unsafe.Sizeof(sideChunk[[]byte]{})) +
		int64(len(s.objs.chunks))*int64(unsafe.Sizeof(sideChunk[any]{}))
	tables := int64(cap(s.slab.pages))*24 + int64(cap(s.slab.meta))*int64(unsafe.Sizeof(pageMeta{})) +
		int64(cap(s.ents.segs))*8 + int64(cap(s.ents.meta))*int64(unsafe.Sizeof(segMeta{}))
	st.TotalBytes = st.IndexBytes + st.EntryBytes + st.PageBytes + st.HugeBytes + st.SlotIndex + side + tables
	return st
}
