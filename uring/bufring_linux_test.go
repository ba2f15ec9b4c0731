//go:build linux

package uring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func needBufRecv(t *testing.T, r *Ring) {
	t.Helper()
	if f := r.Features(); !f.BufRing || !f.MultishotRecv {
		t.Skip("kernel lacks buffer rings or multishot recv")
	}
}

// TestRecvMultishotBufRing walks a multishot receive through its life:
// data in provided buffers, recycling, running dry (ENOBUFS), re-arming,
// and EOF.
func TestRecvMultishotBufRing(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 16, m.opts)
			needBufRecv(t, r)
			const count, size = 4, 16
			br, err := NewBufRing(r, 7, count, size)
			if err != nil {
				t.Fatal(err)
			}
			a, b := socketPair(t)
			arm := func(ud uint64) {
				s := mustSQE(t, r)
				s.RecvMultishot(a, br.Group())
				s.SetUserData(ud)
			}
			arm(1)

			// One message, one buffer.
			writeAll(t, b, []byte("hello"))
			c := collect(t, r, 1, 5*time.Second)[0]
			if c.UserData != 1 || c.Res != 5 || !c.HasBuffer() || !c.More() {
				t.Fatalf("recv CQE %+v: want 5 bytes in a buffer, CQEFMore", c)
			}
			if got := br.Buf(c.BufferID())[:c.Res]; string(got) != "hello" {
				t.Fatalf("buffer %d holds %q", c.BufferID(), got)
			}
			br.Recycle(c.BufferID())
			// Publish now: without DEFER_TASKRUN the receive below may run
			// as task work when the write(2) returns, before any submit.
			br.Publish()

			// More data than the group holds, nothing recycled: every
			// buffer fills, then the request ends with ENOBUFS.
			payload := make([]byte, 100)
			for i := range payload {
				payload[i] = byte('a' + i%26)
			}
			writeAll(t, b, payload)
			cqes := collectUntil(t, r, 5*time.Second, func(c CQE) bool { return !c.More() })
			var received []byte
			held := map[uint16]bool{}
			for _, c := range cqes[:len(cqes)-1] {
				if c.UserData != 1 || c.Res <= 0 || !c.HasBuffer() {
					t.Fatalf("data CQE %+v", c)
				}
				if held[c.BufferID()] || int(c.BufferID()) >= count {
					t.Fatalf("buffer id %d handed out twice or out of range", c.BufferID())
				}
				held[c.BufferID()] = true
				received = append(received, br.Buf(c.BufferID())[:c.Res]...)
			}
			final := cqes[len(cqes)-1]
			if final.Errno() != unix.ENOBUFS || final.More() {
				t.Fatalf("final CQE %+v, want ENOBUFS without CQEFMore", final)
			}
			if len(held) != count || len(received) != count*size {
				t.Fatalf("got %d buffers, %d bytes; want %d and %d", len(held), len(received), count, count*size)
			}

			// Recycle, re-arm: the rest of the data arrives.
			for id := range held {
				br.Recycle(id)
			}
			arm(2)
			for len(received) < len(payload) {
				for _, c := range collect(t, r, 1, 5*time.Second) {
					if c.UserData != 2 || c.Res <= 0 || !c.HasBuffer() || !c.More() {
						t.Fatalf("re-armed recv CQE %+v", c)
					}
					received = append(received, br.Buf(c.BufferID())[:c.Res]...)
					br.Recycle(c.BufferID())
				}
			}
			if !bytes.Equal(received, payload) {
				t.Fatalf("received %q, want %q", received, payload)
			}

			// EOF ends the request: Res 0, no CQEFMore.
			unix.Close(b)
			c = collectUntil(t, r, 5*time.Second, func(c CQE) bool { return !c.More() })[0]
			if c.UserData != 2 || c.Res != 0 || c.More() {
				t.Fatalf("EOF CQE %+v, want Res 0 without CQEFMore", c)
			}
			if c.HasBuffer() {
				br.Recycle(c.BufferID())
			}
		})
	}
}

// TestBufRingPublish checks the staged/published split and the tail word
// the kernel reads: the 32-bit store must set the tail and leave
// bufs[0].bid as Recycle wrote it.
func TestBufRingPublish(t *testing.T) {
	r := newTestRing(t, 8, Options{})
	needBufRecv(t, r)
	const count, size = 8, 100
	br, err := NewBufRing(r, 2, count, size)
	if err != nil {
		t.Fatal(err)
	}
	tail := func() uint16 { return binary.NativeEndian.Uint16(br.mem[bufRingTailOffset:]) }
	if tail() != count || br.published != count {
		t.Fatalf("after NewBufRing the kernel sees tail %d, want %d", tail(), count)
	}
	for id := uint16(0); id < count; id++ {
		e := br.entries[id]
		if e.bid != id || e.len != size || e.addr != br.base+uint64(id)*size {
			t.Fatalf("entry %d = %+v", id, e)
		}
		if b := br.Buf(id); len(b) != size || cap(b) != size {
			t.Fatalf("Buf(%d): len %d cap %d, want %d", id, len(b), cap(b), size)
		}
	}

	// Pretend the kernel consumed buffers 5 and 6 and the caller recycles
	// them: slot 8&7 = 0 and slot 1 are rewritten.
	br.Recycle(5)
	br.Recycle(6)
	if tail() != count {
		t.Fatalf("Recycle published the tail (%d) before Publish", tail())
	}
	if _, err := r.Submit(); err != nil { // a submit publishes staged buffers
		t.Fatal(err)
	}
	if tail() != count+2 {
		t.Fatalf("after submit the tail is %d, want %d", tail(), count+2)
	}
	if e := br.entries[0]; e.bid != 5 || e.addr != br.base+5*size {
		t.Fatalf("slot 0 after recycling 5: %+v", e)
	}
	if e := br.entries[1]; e.bid != 6 {
		t.Fatalf("slot 1 after recycling 6: %+v", e)
	}
	br.Publish() // nothing staged: no change
	if tail() != count+2 {
		t.Fatalf("empty Publish moved the tail to %d", tail())
	}
}

func TestNewBufRingErrors(t *testing.T) {
	r := newTestRing(t, 8, Options{})
	needBufRecv(t, r)
	for _, tc := range []struct {
		count, size int
		want        string
	}{
		{0, 16, "power of two"},
		{3, 16, "power of two"},
		{65536, 16, "power of two"},
		{4, 0, "buffer size"},
		{4, -1, "buffer size"},
	} {
		if br, err := NewBufRing(r, 9, tc.count, tc.size); err == nil {
			br.Close()
			t.Errorf("NewBufRing(%d, %d) succeeded", tc.count, tc.size)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewBufRing(%d, %d) = %v, want %q", tc.count, tc.size, err, tc.want)
		}
	}

	br, err := NewBufRing(r, 9, 4, 16)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewBufRing(r, 9, 4, 16); !errors.Is(err, unix.EEXIST) || !strings.HasPrefix(err.Error(), "uring: ") {
		t.Errorf("registering group 9 twice: %v, want a uring: error wrapping EEXIST", err)
	}
	if err := br.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := br.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if len(r.bufRings) != 0 {
		t.Fatalf("closed buffer ring still published on submit: %d left", len(r.bufRings))
	}
	// The group is free again.
	br, err = NewBufRing(r, 9, 4, 16)
	if err != nil {
		t.Fatalf("re-register group 9 after Close: %v", err)
	}
	// Closing the ring releases it; a later Close of the buffer ring is a
	// no-op.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := br.Close(); err != nil {
		t.Fatalf("BufRing.Close after Ring.Close: %v", err)
	}
	if _, err := NewBufRing(r, 10, 4, 16); err == nil {
		t.Fatal("NewBufRing on a closed ring succeeded")
	}
}

func TestRecyclePanicsOutOfRange(t *testing.T) {
	r := newTestRing(t, 8, Options{})
	needBufRecv(t, r)
	br, err := NewBufRing(r, 4, 4, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Recycle(4) of a 4-buffer ring did not panic")
		}
	}()
	br.Recycle(4)
}
