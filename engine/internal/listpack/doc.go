// Package listpack implements Redis 7's listpack: a compact, byte-exact
// serialization of a sequence of strings and integers that Redis uses for
// small hashes, sorted sets and the nodes of lists, and that RDB payloads
// (RDB_TYPE_HASH_LISTPACK, RDB_TYPE_ZSET_LISTPACK, the nodes of
// RDB_TYPE_LIST_QUICKLIST_2) carry as raw blobs.
//
// # Format
//
//	<total bytes uint32 LE> <count uint16 LE> <entry> ... <entry> <0xFF>
//
// The count is 65535 when it does not fit ("unknown"). Each entry is its
// encoding and data followed by backlen, the size of encoding+data written
// in 1..5 bytes so that it can be read from right to left. Integers take 1
// (0..127), 2 (13 bits), 3, 4, 5 or 9 bytes; strings have a 6-bit, 12-bit
// or 32-bit length. A string that is the canonical decimal form of an int64
// ("-12", not "012", "+1" or "-0") is stored as an integer, exactly as Redis
// does, so encoding the same sequence here and in Redis gives identical
// bytes and an entry always reads back as the bytes that were stored.
//
// # Positions
//
// A position is the byte offset of an entry inside the listpack. Positions
// come from First, Last, Next, Prev, Seek and Find and stay valid until the
// next mutation; mutators return the position that continues an iteration
// (the inserted entry, or the entry after a deleted one). Passing a position
// that did not come from this listpack since its last mutation is a
// programming error and may panic.
//
// # Ownership
//
// A Listpack is a plain value with no locks: it is owned by the goroutine
// that owns the keyspace it belongs to (one shard's loop), and only that
// goroutine may call its methods. The bytes returned by Get, GetBytes,
// Value and Bytes alias the listpack's own buffer and stay valid only until
// the next mutation; copy them to keep them. Strings passed in are copied. Load takes ownership of
// the blob it is given. The type holds one slice and an int: the GC sees
// one pointer per listpack, whatever its length.
//
// Reads never allocate. Mutations allocate only when the buffer must grow
// or is shrunk to release memory; the buffer is sized to the Go allocator's
// size class of what it holds, as Redis sizes its listpacks to jemalloc's
// classes.
//
// Untrusted blobs (RESTORE, RDB loading) must go through Load or Validate
// with deep set before any other method sees them: the accessors trust the
// structure and index the buffer directly.
package listpack
