// Package diff is the differential test: the same command streams go over
// RESP to a Shoal shard and to Debian's redis-server 7.0.15, and the raw
// reply bytes are compared byte for byte. Every difference is either fixed
// or listed, with its reason, in accepted.txt.
//
// # Streams
//
//   - testdata/FAMILY.txt: hand-written cases, one file per command family
//     (strings, keys, connection, protocol), in the syntax of ParseCases.
//   - gen-strings, gen-keys: random valid and invalid commands over a small
//     key and value space, with keys of the value types GenOtherTypes
//     enables besides strings (GenCases), seeded: DIFF_SEED=N or -diff.seed=N,
//     "random" for a fresh seed; the seed is printed when a case fails,
//     with the case in case-file syntax.
//   - malformed: random malformed protocol streams followed by a
//     half-close (MalformedCases), seeded likewise.
//
// Every case runs on fresh connections to both servers: FLUSHALL, the
// case's steps, then a PING that also catches surplus replies. A case stops
// at its first unaccepted difference, since what follows would only echo it.
//
// # Comparison
//
// Replies are framed by a strict RESP2/RESP3 reader that keeps the bytes
// (Frame, Parse, Value.Encode). A connection closed by the server (after a
// protocol error, say) is compared as the bytes received up to the close,
// then "<EOF>". Replies that legitimately differ are normalized by a rule
// per command (normalize.go, scan.go) — sorted, masked or compared within a
// tolerance, never skipped. Faults of a case itself (the reference server
// timing out or closing where the case does not expect it) fail the test
// as such.
//
// # Accepted differences
//
// accepted.txt lists "CASE-GLOB | COMMAND-GLOB | REASON" lines (see
// ParseAccepted). The test fails on a difference no line covers and, when
// there is none, on a line whose case glob covered a case that ran to its
// end without the difference showing: such a line is stale.
//
// # Targets
//
// By default the server under test is the shoal binary (testserver.BuildShoal
// or $SHOAL_BIN), once per I/O backend (testserver.IOBackends, $SHOAL_IO).
// DIFF_TARGET=redis makes both sides redis-server: any difference is then
// a fault of the harness or of a case, and accepted.txt is not used. The
// test skips when redis-server is not installed. DIFF_DUMP=1 logs every
// step with the reference's reply (with -v), for writing cases.
//
// # Ownership
//
// A Pair, and each connection RunCase opens, is used by one goroutine at a
// time; RunCase opens and closes its own connections. Cases, steps and
// accepted entries are read-only once parsed. A Tally is not safe for
// concurrent use.
package diff
