// Package rdb is Redis's RDB serialization format, the primitives only:
// length and string encodings (integer-encoded strings, LZF compression),
// doubles, the CRC64 Redis checks files and DUMP payloads with, the file
// header with its aux fields and the opcodes around keys (SELECTDB,
// RESIZEDB, EXPIRETIME_MS, EOF), a streaming Reader, and the old compact
// encodings (ziplist, zipmap) converted to listpacks. What a value of each
// type looks like in terms of the engine's objects is the engine's
// business (engine/rdbobj.go); this package knows no keyspace.
//
// # Format
//
// A file is "REDIS" and a 4-digit version, then records each introduced
// by one byte: an opcode (AUX, SELECTDB, RESIZEDB, EXPIRETIME_MS, ... EOF)
// or a value type, which is followed by the key (a string) and the value.
// After EOF come 8 bytes of CRC64 (little endian) over every byte before
// them, or 0 for "not computed". A DUMP payload is one value type and
// value, the 2-byte RDB version and the CRC64 of what precedes it.
//
// Lengths take 1, 2, 5 or 9 bytes (6 bits, 14 bits, 32 or 64 bits big
// endian); the top two bits 11 instead announce a special string encoding:
// an 8, 16 or 32-bit integer (little endian) or an LZF-compressed string.
//
// We write version 10 (Redis 7.0) and read versions 1 to 12.
//
// # Ownership
//
// Append functions are pure: they append to dst and return it, like
// strconv.AppendInt, and keep nothing. They may run on any goroutine.
//
// A Reader is owned by one goroutine (the shard's loop, while loading).
// Slices it returns alias its buffers, the bufio.Reader's buffer or the
// byte slice it reads from, and stay valid only until its next call; the
// caller copies what it keeps. In bytes mode (NewBytesReader) returned
// slices alias the input, which the caller must not change while it reads.
//
// Errors wrap ErrCorrupt (the data breaks the format), ErrUnsupported
// (valid data this implementation does not load: modules, streams, newer
// types) or io.ErrUnexpectedEOF (the input ends inside a record), and are
// prefixed "rdb: ".
package rdb
