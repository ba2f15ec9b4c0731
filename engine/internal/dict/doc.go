// Package dict is the hash table behind large hashes and sets: a map from
// byte-string keys to byte-string values (a hash) or to nothing (a set),
// with Redis's dict semantics for resizing, SCAN cursors and random
// elements, and almost no Go pointers.
//
// # Shape
//
// Each element is one record, [next u32][klen uvarint][vlen uvarint][key][value]
// (no vlen and no value in a set), 4-byte aligned, carved from pointer-free
// pages of at most 64 KiB (arena.go). A record is named by its location, a
// uint32 holding its page and offset; records longer than 1 KiB get a
// buffer of their own and a location with the top bit set. The index is an
// array of bucket heads (locations, table.go); a bucket's records chain
// through their next fields. So a dict of a million elements costs the
// garbage collector about twenty pointers (its pages and bucket chunks),
// not a million, and an element costs its record plus 4 to 8 bytes of
// bucket array.
//
// Keys hash with xxh3 under a seed of the dict's own. The table grows when
// it is full (load factor 1) and shrinks when under 1/8 full, and the
// resize is incremental as in Redis's dict: while two bucket arrays exist,
// every mutating call moves at most two non-empty buckets (eight when the
// new array is already full) and looks at most ten empty buckets per
// bucket it may move, so no call pays for a whole resize.
//
// A record whose value changes length is rewritten elsewhere; deleted and
// rewritten records leave garbage in their page. A page with more than a
// quarter of garbage is queued, and mutating calls evacuate the live
// records of queued pages a bounded number of bytes at a time (about eight
// times the garbage the call made, plus 256 bytes) into the page being
// filled, then release it. Garbage is therefore bounded (roughly a third
// of the live bytes once the queue drains) and nothing leaks.
//
// # Costs
//
// Every method states its cost. "O(1)" means expected constant time,
// independent of the number of elements, plus the length of the key and
// value given or returned; the bounded incremental work above (resize and
// evacuation) is included in it. Only All is proportional to the size of
// the dict. Lookups (Get, Exists, Random, Scan, All) never move or change
// elements (Random only tunes a sampling bound) and never allocate.
//
// # Ownership
//
// A Dict belongs to one goroutine (the shard's loop) and is not safe for
// concurrent use. Slices it returns (keys and values from Get, Random,
// Scan and All) alias its pages: they stay valid until the next call that
// changes the dict (Set, Add, Delete, Rehash), which may move or reuse
// that memory; the caller copies what it keeps longer and never writes
// through them. Slices passed in are copied before the call returns; they
// may alias the dict's own memory (Set(k, v) with v from Get is fine).
//
// Functions given to Scan must not change the dict. Within All, the only
// change allowed is Delete of the element just yielded (as Redis's safe
// iterator allows); other changes during All are bugs that builds with the
// invariants or race tag catch with a panic.
//
// # Files
//
// dict.go the Dict and its per-element API; record.go the record codec
// and locations; arena.go pages, garbage accounting and evacuation;
// table.go bucket arrays and incremental rehashing; scan.go Scan, All and
// random elements.
package dict
