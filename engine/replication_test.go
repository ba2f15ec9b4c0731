package engine

import (
	"strconv"
	"testing"
)

// TestWait: with no replica, WAIT for none (or inside MULTI) answers 0 at
// once; WAIT for some blocks until its timeout, CLIENT UNBLOCK or forever,
// and answers 0; its errors are Redis's.
func TestWait(t *testing.T) {
	bt := newBlockTest(t)
	for _, tc := range []struct{ line, want string }{
		{"WAIT 0 0", ":0"},
		{"WAIT -3 100", ":0"},
		{"WAIT x 1", "-ERR value is not an integer or out of range"},
		{"WAIT 1 -1", "-ERR timeout is negative"},
		{"WAIT 1 1.5", "-ERR timeout is not an integer or out of range"},
		{"WAIT -5 abc", "-ERR timeout is not an integer or out of range"},
		{"ROLE", `["master" :0 []]`},
	} {
		bt.expect(tc.line, bt.do("a", tc.line), tc.want)
	}
	bt.do("a", "MULTI")
	bt.do("a", "WAIT 2 0")
	bt.expect("WAIT inside EXEC", bt.do("a", "EXEC"), "[:0]")

	bt.expect("WAIT 1 100", bt.do("a", "WAIT 1 100"), noReply)
	bt.advance(50)
	bt.expect("WAIT after 50 ms", bt.out("a"), noReply)
	bt.advance(60)
	bt.expect("WAIT after 110 ms", bt.out("a"), ":0")

	bt.expect("WAIT 1 0", bt.do("b", "WAIT 1 0"), noReply)
	bt.advance(3_600_000)
	bt.expect("WAIT 1 0 an hour later", bt.out("b"), noReply)
	id := strconv.FormatUint(bt.client("b").ID, 10)
	bt.expect("CLIENT UNBLOCK", bt.do("a", "CLIENT UNBLOCK "+id), ":1")
	bt.expect("WAIT unblocked", bt.out("b"), ":0")
	bt.do("b", "WAIT 1 0")
	bt.do("a", "CLIENT UNBLOCK "+id+" ERROR")
	bt.expect("WAIT unblocked with an error", bt.out("b"), "-UNBLOCKED client unblocked via CLIENT UNBLOCK")
}
