//go:build linux

package uring

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkNopRoundTrip is one request per system call: GetSQE, prep,
// SubmitAndWait for its completion, Reap.
func BenchmarkNopRoundTrip(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			r := newTestRing(b, 64, m.opts)
			var cqes [8]CQE
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s := r.GetSQE()
				s.Nop()
				s.SetUserData(uint64(i))
				if _, err := r.SubmitAndWait(1, time.Second); err != nil {
					b.Fatal(err)
				}
				if n := r.Reap(cqes[:]); n != 1 {
					b.Fatalf("reaped %d", n)
				}
			}
		})
	}
}

// BenchmarkNopBatch32 submits 32 requests per system call and reaps their
// completions in one batch; ns/op is per batch.
func BenchmarkNopBatch32(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			r := newTestRing(b, 64, m.opts)
			var cqes [64]CQE
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := 0; j < 32; j++ {
					s := r.GetSQE()
					s.Nop()
					s.SetUserData(uint64(j))
				}
				got := 0
				for got < 32 {
					if _, err := r.SubmitAndWait(uint32(32-got), time.Second); err != nil {
						b.Fatal(err)
					}
					got += r.Reap(cqes[:])
				}
			}
		})
	}
}

// BenchmarkRecvMultishot is the receive path of a server turn: the peer
// writes a small request, the loop waits, reaps the buffer and recycles it.
// The peer's write(2) is included.
func BenchmarkRecvMultishot(b *testing.B) {
	r := newTestRing(b, 64, Options{})
	if f := r.Features(); !f.BufRing || !f.MultishotRecv {
		b.Skip("kernel lacks buffer rings or multishot recv")
	}
	br, err := NewBufRing(r, 1, 64, 4096)
	if err != nil {
		b.Fatal(err)
	}
	a, peer := socketPair(b)
	s := r.GetSQE()
	s.RecvMultishot(a, br.Group())
	s.SetUserData(1)
	msg := []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
	var cqes [16]CQE
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := unix.Write(peer, msg); err != nil {
			b.Fatal(err)
		}
		got := 0
		for got < len(msg) {
			if _, err := r.SubmitAndWait(1, time.Second); err != nil {
				b.Fatal(err)
			}
			n := r.Reap(cqes[:])
			for _, c := range cqes[:n] {
				if !c.More() || !c.HasBuffer() {
					b.Fatalf("recv ended: %+v", c)
				}
				got += int(c.Res)
				br.Recycle(c.BufferID())
			}
		}
	}
}
