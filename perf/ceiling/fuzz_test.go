package main

import (
	"bytes"
	"testing"

	"shoal/resp"
)

// expectedReplies counts the replies a connection owes for in: one per
// non-empty complete command up to and including QUIT, plus one for a
// protocol error, which ends the input.
func expectedReplies(in []byte) int {
	var p resp.Parser
	n := 0
	for off := 0; off < len(in); {
		args, used, err := p.Parse(in[off:])
		if err != nil {
			return n + 1
		}
		if used == 0 {
			return n
		}
		off += used
		if len(args) == 0 {
			continue
		}
		n++
		if lookup(args[0]) == replyQuit {
			return n
		}
	}
	return n
}

// FuzzConsume feeds arbitrary input, whole and cut in two: the replies must
// be the same either way, be whole RESP values, and number one per command.
// Seeds live in testdata/fuzz/FuzzConsume.
func FuzzConsume(f *testing.F) {
	r := newResponder(8, 7000)
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		whole := &conn{}
		whole.consume(r, in)
		at := int(cut) % (len(in) + 1)
		split := &conn{}
		split.consume(r, in[:at])
		split.consume(r, in[at:])
		if !bytes.Equal(whole.out, split.out) || whole.quit != split.quit {
			t.Fatalf("input %q cut at %d answered %q (quit %v), whole %q (quit %v)",
				in, at, split.out, split.quit, whole.out, whole.quit)
		}
		got := countReplies(whole.out)
		if want := expectedReplies(in); got != want {
			t.Fatalf("input %q: %d replies in %q, want %d", in, got, whole.out, want)
		}
	})
}
