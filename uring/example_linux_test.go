//go:build linux

package uring_test

import (
	"errors"
	"log"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"shoal/uring"
)

// A loop turn as the server runs it: a multishot accept and multishot
// receives that take buffers from a provided-buffer ring, one
// submit-and-wait per turn, and a batch reap dispatched on user_data.
// (No Output line: it waits for connections, so it is compiled, not run.)
func Example() {
	runtime.LockOSThread() // the ring's owner thread, for the ring's life
	defer runtime.UnlockOSThread()

	r, err := uring.New(256, uring.Options{})
	if errors.Is(err, uring.ErrUnavailable) {
		log.Printf("io_uring unavailable, using epoll: %v", err)
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	log.Print(r.Features())

	br, err := uring.NewBufRing(r, 0, 1024, 16<<10)
	if err != nil {
		log.Fatal(err)
	}
	listener := 3 // a listening socket
	const acceptTag = 1 << 62

	sqe := r.GetSQE()
	sqe.MultishotAccept(listener, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	sqe.SetUserData(acceptTag)

	var cqes [256]uring.CQE
	for turn := 0; turn < 100; turn++ {
		if _, err := r.SubmitAndWait(1, 100*time.Millisecond); err != nil && !errors.Is(err, uring.ErrBusy) {
			log.Fatal(err)
		}
		for {
			n := r.Reap(cqes[:])
			for _, c := range cqes[:n] {
				switch {
				case c.UserData == acceptTag && c.Res >= 0:
					s := r.GetSQE() // nil would mean: submit, then retry
					s.RecvMultishot(int(c.Res), br.Group())
					s.SetUserData(uint64(c.Res)) // the connection's fd as its tag
				case c.HasBuffer():
					data := br.Buf(c.BufferID())[:c.Res]
					_ = data // parse commands here, copying any incomplete tail
					br.Recycle(c.BufferID())
				}
				if !c.More() && c.Errno() == unix.ENOBUFS {
					s := r.GetSQE() // the group ran dry: re-arm the receive
					s.RecvMultishot(int(c.UserData), br.Group())
					s.SetUserData(c.UserData)
				}
			}
			if n < len(cqes) {
				break
			}
		}
	}
}
