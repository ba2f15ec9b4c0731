// Package resp speaks the Redis serialization protocol: an incremental,
// zero-copy parser for what clients send (RESP2 multibulk and inline
// commands), append-style encoders for RESP2/RESP3 replies, and a small reply
// reader for tests and tools.
//
// # Parsing requests
//
// A Parser belongs to one connection and is driven by the one goroutine that
// owns that connection (in a shard, the loop goroutine); it is not safe for
// concurrent use. Parse looks at the bytes at the start of the buffer it is
// given and behaves as Redis 7.0's processMultibulkBuffer and
// processInlineBuffer do, including their error strings and quirks:
//
//   - A command whose first byte is '*' is multibulk; anything else is an
//     inline line split with sdssplitargs rules (see SplitArgs).
//   - Header numbers follow string2ll: no sign '+', no spaces, no leading
//     zeros, no "-0", at most 20 bytes.
//   - The byte after a header's '\r' and the two bytes after bulk data are
//     skipped without being checked, as Redis skips them.
//   - A NUL byte before the end of a header or inline line hides the end of
//     the line (Redis finds line ends with strchr), so such a line only ever
//     ends in a "too big" error.
//   - While SetAuthRequired(true) is in force, multibulk counts above 10 and
//     bulk lengths above 16384 are errors, as for Redis's clients that have
//     yet to authenticate.
//   - A header or inline line longer than Limits.MaxInline bytes is a
//     "too big" error. Redis applies that limit to whatever its last read
//     left in the buffer, so for lines between 64 KB and 64 KB plus one read
//     its outcome depends on how TCP split the bytes; here it depends only on
//     the line's length, so the result of parsing never depends on how the
//     input was split.
//
// Ownership of buffers: args returned by Parse alias the caller's buffer
// (multibulk arguments and their backing array of slice headers) or memory
// the Parser owns (inline words). Both stay valid until the next call to
// Parse or Reset, or until the caller changes or reuses the buffer's bytes,
// whichever comes first. Each argument slice has its capacity clipped to its
// length, so appending to one never writes into the buffer. The Parser never
// writes to the buffer and keeps no reference to it between calls: its
// incremental state is a set of offsets from the start of the buffer, so the
// caller may move an incomplete command to a bigger buffer before calling
// Parse again.
//
// # Encoding replies
//
// The Append functions extend a byte slice with one reply element, like
// strconv.AppendInt, and allocate nothing beyond growing that slice. They
// are pure functions, safe for use from any goroutine. The shared replies
// (ReplyOK and friends) are package-level byte slices that callers must never
// modify.
//
// # Reading replies
//
// ReadReply reads one complete reply of any RESP2 or RESP3 type from a
// bufio.Reader, keeping its raw bytes; it allocates freely and is meant for
// tests, tools and differential checks, not for the server's hot path.
package resp
