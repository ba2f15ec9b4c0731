package kv

import "unsafe"

// side is a table of values addressed by uint32 slot numbers, for what
// cannot live in pointer-free pages: objects and huge record buffers. It
// grows by fixed chunks (never copying the values) and reuses freed slots
// through a free list threaded through a parallel array. All operations are
// O(1); put allocates only a new chunk (every sideChunkLen slots).
type side[T any] struct {
	chunks []*sideChunk[T]
	free   uint32 // 1 + first free slot, 0 if none
	n      uint32 // slots handed out so far
	live   int
}

const (
	sideChunkShift = 10
	sideChunkLen   = 1 << sideChunkShift
)

type sideChunk[T any] struct {
	vals [sideChunkLen]T
	next [sideChunkLen]uint32 // 1 + next free slot, 0 ends
}

func (t *side[T]) at(id uint32) *T {
	return &t.chunks[id>>sideChunkShift].vals[id&(sideChunkLen-1)]
}

func (t *side[T]) put(v T) uint32 {
	var id uint32
	if t.free != 0 {
		id = t.free - 1
		t.free = t.chunks[id>>sideChunkShift].next[id&(sideChunkLen-1)]
	} else {
		if t.n > locPageMask {
			panic("kv: side table full")
		}
		id = t.n
		t.n++
		if int(id>>sideChunkShift) == len(t.chunks) {
			t.chunks = append(t.chunks, new(sideChunk[T]))
		}
	}
	*t.at(id) = v
	t.live++
	return id
}

func (t *side[T]) del(id uint32) {
	c := t.chunks[id>>sideChunkShift]
	var zero T
	c.vals[id&(sideChunkLen-1)] = zero
	c.next[id&(sideChunkLen-1)] = t.free
	t.free = id + 1
	t.live--
}

// overlaps reports whether a and b share memory.
func overlaps(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	pa, pb := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return pa < pb+uintptr(len(b)) && pb < pa+uintptr(len(a))
}
