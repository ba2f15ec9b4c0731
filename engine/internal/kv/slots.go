package kv

import "shoal/cluster"

// Per-slot key lists, for Redis Cluster's CLUSTER COUNTKEYSINSLOT and
// GETKEYSINSLOT: after TrackSlots, every entry is linked into the list of
// its hash slot (cluster.KeySlot of its key), as Redis 7.0 links its dict
// entries (slots_to_keys). A store that never calls TrackSlots pays one
// nil pointer for it.
//
// The slot function is called directly, not through a function value:
// an indirect call would make every key passed to the inserts and deletes
// escape to the heap, and callers that build a key on the stack allocate.
//
// The links live in segments parallel to the entry segments (the link of
// entry id r is links[r>>segShift][r&segMask]): 8 bytes per entry, no
// pointers, allocated and released with the entry segment they mirror, so
// tracking adds 8 bytes per entry slot of an allocated segment. The heads
// and counts cost 8 bytes per hash slot (128 KiB for Redis Cluster's
// 16384), once.

// slotLink chains an entry into its slot's list: entry ids, 0 ends.
type slotLink struct{ prev, next uint32 }

const slotLinkSize = 8 // unsafe.Sizeof(slotLink{}), checked by a test

type slotIndex struct {
	links []*[segLen]slotLink // parallel to entryAlloc.segs; nil where that segment is
	head  []uint32            // per slot: the newest entry, 0 if none
	count []uint32            // per slot: entries in the list
	nsegs int                 // link segments allocated
}

// slotOf is the hash slot of key.
func slotOf(key []byte) uint16 { return cluster.KeySlot(key) }

// TrackSlots makes the store keep, for each of Redis Cluster's 16384 hash
// slots, the list and the count of its keys. The store must be empty
// (call it right after New); tracking lasts for the store's life, across
// Clear. Allocates the heads and counts (8 bytes per slot, 128 KiB).
//
// From then on every insert and delete also hashes the key for its slot
// (CRC16, O(len(key))) and does O(1) list work, and the store holds 8
// more bytes per entry; neither allocates.
func (s *Store) TrackSlots() {
	if s.count != 0 {
		panic("kv: TrackSlots on a store with keys")
	}
	s.slots = &slotIndex{head: make([]uint32, cluster.Slots), count: make([]uint32, cluster.Slots)}
}

// TracksSlots reports whether TrackSlots was called. O(1).
func (s *Store) TracksSlots() bool { return s.slots != nil }

// CountInSlot is the number of keys in slot. O(1). The store must track
// slots.
func (s *Store) CountInSlot(slot uint16) int { return int(s.slots.count[slot]) }

// KeysInSlot calls fn for up to max keys of slot, the most recently
// inserted first (the order of Redis's CLUSTER GETKEYSINSLOT), and returns
// how many it visited. fn must not change the store. O(min(max, keys in
// the slot)); no allocation. The store must track slots.
func (s *Store) KeysInSlot(slot uint16, max int, fn func(r Ref)) int {
	n := 0
	for id := s.slots.head[slot]; id != 0 && n < max; n++ {
		next := s.slots.link(id).next
		fn(Ref(id))
		id = next
	}
	return n
}

func (x *slotIndex) link(id uint32) *slotLink { return &x.links[id>>segShift][id&segMask] }

// add puts entry id with key at the head of its slot's list, giving it a
// link segment first if its entry segment is new. O(1) plus slotOf;
// allocates only a link segment.
func (x *slotIndex) add(id uint32, key []byte) {
	seg := int(id >> segShift)
	for len(x.links) <= seg {
		x.links = append(x.links, nil)
	}
	if x.links[seg] == nil {
		x.links[seg] = new([segLen]slotLink)
		x.nsegs++
	}
	slot := slotOf(key)
	l := x.link(id)
	first := x.head[slot]
	*l = slotLink{next: first}
	if first != 0 {
		x.link(first).prev = id
	}
	x.head[slot] = id
	x.count[slot]++
}

// remove takes entry id with key out of its slot's list. O(1) plus slotOf.
func (x *slotIndex) remove(id uint32, key []byte) {
	slot := slotOf(key)
	l := x.link(id)
	if invariants && (x.count[slot] == 0 || l.prev == 0 && x.head[slot] != id) {
		panic("kv: internal error: entry not in its slot list")
	}
	if l.prev != 0 {
		x.link(l.prev).next = l.next
	} else {
		x.head[slot] = l.next
	}
	if l.next != 0 {
		x.link(l.next).prev = l.prev
	}
	*l = slotLink{}
	x.count[slot]--
}

// released drops the link segment of entry segment seg, which the entry
// allocator just released, and the trailing ones past its last segment
// (nsegs). O(1) amortized.
func (x *slotIndex) released(seg, nsegs int) {
	if seg < len(x.links) && x.links[seg] != nil {
		x.links[seg] = nil
		x.nsegs--
	}
	if len(x.links) > nsegs {
		for i := nsegs; i < len(x.links); i++ {
			if x.links[i] != nil {
				x.links[i] = nil
				x.nsegs--
			}
		}
		x.links = x.links[:nsegs]
	}
}

// reset empties every list, for Clear. O(slots).
func (x *slotIndex) reset() {
	clear(x.head)
	clear(x.count)
	x.links, x.nsegs = nil, 0
}

// bytes is the memory the index holds. O(1).
func (x *slotIndex) bytes() int64 {
	return int64(len(x.head)+len(x.count))*4 + int64(cap(x.links))*8 + int64(x.nsegs)*segLen*slotLinkSize
}
