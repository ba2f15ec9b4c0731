//go:build linux

package uring

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// listenLoopback returns a listening TCP socket on 127.0.0.1 and its
// address, closed at the end of the test.
func listenLoopback(t *testing.T) (int, string) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	return fd, "127.0.0.1:" + strconv.Itoa(sa.(*unix.SockaddrInet4).Port)
}

func TestMultishotAccept(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 16, m.opts)
			if !r.Features().MultishotAccept {
				t.Skip("kernel lacks multishot accept")
			}
			lfd, addr := listenLoopback(t)
			s := mustSQE(t, r)
			s.MultishotAccept(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			s.SetUserData(1)
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}

			const conns = 4
			for i := 0; i < conns; i++ {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				defer c.Close()
			}
			cqes := collect(t, r, conns, 5*time.Second)
			for _, c := range cqes {
				if c.UserData != 1 || c.Res < 0 || !c.More() {
					t.Fatalf("accept CQE %+v: want a new fd with CQEFMore", c)
				}
				fd := int(c.Res)
				fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
				if err != nil || fl&unix.O_NONBLOCK == 0 {
					t.Errorf("accepted fd %d: flags %#x, %v; want O_NONBLOCK", fd, fl, err)
				}
				fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
				if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
					t.Errorf("accepted fd %d: fd flags %#x, %v; want FD_CLOEXEC", fd, fdfl, err)
				}
				sa, err := unix.Getpeername(fd)
				if err != nil {
					t.Errorf("getpeername(%d): %v", fd, err)
				} else if ip := sa.(*unix.SockaddrInet4).Addr; ip != [4]byte{127, 0, 0, 1} {
					t.Errorf("peer %v, want 127.0.0.1", ip)
				}
				unix.Close(fd)
			}

			// Cancelling ends the multishot accept: a final CQE without
			// CQEFMore.
			s = mustSQE(t, r)
			s.CancelUserData(1)
			s.SetUserData(2)
			got := byUserData(t, collect(t, r, 2, 5*time.Second))
			if c := got[1]; c.Errno() != unix.ECANCELED || c.More() {
				t.Errorf("final accept CQE %+v, want ECANCELED without CQEFMore", c)
			}
			if c := got[2]; c.Res != 0 {
				t.Errorf("cancel CQE %+v, want Res 0", c)
			}
		})
	}
}

func TestAcceptSingle(t *testing.T) {
	r := newTestRing(t, 8, Options{})
	lfd, addr := listenLoopback(t)
	s := mustSQE(t, r)
	s.Accept(lfd, unix.SOCK_CLOEXEC)
	s.SetUserData(5)
	if _, err := r.Submit(); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cqe := collect(t, r, 1, 5*time.Second)[0]
	if cqe.UserData != 5 || cqe.Res < 0 || cqe.More() {
		t.Fatalf("accept CQE %+v: want an fd, no CQEFMore", cqe)
	}
	unix.Close(int(cqe.Res))
}

func TestSendRecv(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)
			a, b := socketPair(t)

			out := []byte("*1\r\n$4\r\nPING\r\n")
			s := mustSQE(t, r)
			s.Send(a, out, unix.MSG_NOSIGNAL|unix.MSG_WAITALL)
			s.SetUserData(1)
			if c := collect(t, r, 1, 5*time.Second)[0]; c.UserData != 1 || int(c.Res) != len(out) {
				t.Fatalf("send CQE %+v, want Res %d", c, len(out))
			}
			got := make([]byte, 64)
			n, err := unix.Read(b, got)
			if err != nil || !bytes.Equal(got[:n], out) {
				t.Fatalf("peer read %q, %v; want %q", got[:n], err, out)
			}

			in := make([]byte, 64)
			s = mustSQE(t, r)
			s.Recv(a, in)
			s.SetUserData(2)
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			writeAll(t, b, []byte("+PONG\r\n"))
			c := collect(t, r, 1, 5*time.Second)[0]
			if c.UserData != 2 || string(in[:max(c.Res, 0)]) != "+PONG\r\n" {
				t.Fatalf("recv CQE %+v data %q", c, in[:max(c.Res, 0)])
			}

			// Send to a closed peer fails with EPIPE, not SIGPIPE.
			unix.Close(b)
			s = mustSQE(t, r)
			s.Send(a, out, unix.MSG_NOSIGNAL)
			s.SetUserData(3)
			if c := collect(t, r, 1, 5*time.Second)[0]; c.Errno() != unix.EPIPE {
				t.Fatalf("send to closed peer: %+v, want EPIPE", c)
			}
		})
	}
}

func TestFileWriteFsyncRead(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)
			path := filepath.Join(t.TempDir(), "appendonly.aof")
			fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)

			first := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
			part1, part2 := []byte("*2\r\n$3\r\nDEL\r\n"), []byte("$1\r\nk\r\n")
			iov := make([]unix.Iovec, 2)
			iov[0].Base, iov[1].Base = &part1[0], &part2[0]
			iov[0].SetLen(len(part1))
			iov[1].SetLen(len(part2))

			// write -> fsync, linked: the fsync starts after the write.
			s := mustSQE(t, r)
			s.Write(fd, first, 0)
			s.SetLink()
			s.SetUserData(1)
			s = mustSQE(t, r)
			s.Fsync(fd, false)
			s.SetUserData(2)
			// writev -> fdatasync, linked.
			s = mustSQE(t, r)
			s.Writev(fd, iov, uint64(len(first)))
			s.SetLink()
			s.SetUserData(3)
			s = mustSQE(t, r)
			s.Fsync(fd, true)
			s.SetUserData(4)
			got := byUserData(t, collect(t, r, 4, 5*time.Second))
			want := map[uint64]int32{1: int32(len(first)), 2: 0, 3: int32(len(part1) + len(part2)), 4: 0}
			for ud, res := range want {
				if got[ud].Res != res {
					t.Errorf("CQE %d: %+v, want Res %d", ud, got[ud], res)
				}
			}

			all := append(append(append([]byte{}, first...), part1...), part2...)
			back := make([]byte, len(all)+10)
			s = mustSQE(t, r)
			s.Read(fd, back, 0)
			s.SetUserData(5)
			c := collect(t, r, 1, 5*time.Second)[0]
			if int(c.Res) != len(all) || !bytes.Equal(back[:c.Res], all) {
				t.Fatalf("read back %+v %q, want %q", c, back[:max(c.Res, 0)], all)
			}
			if disk, err := os.ReadFile(path); err != nil || !bytes.Equal(disk, all) {
				t.Fatalf("file holds %q, %v", disk, err)
			}
		})
	}
}

// TestLinkBroken checks that a failed write cancels the fsync linked to it,
// which is what group commit relies on to hold replies back.
func TestLinkBroken(t *testing.T) {
	r := newTestRing(t, 8, Options{})
	fd, err := unix.Open(filepath.Join(t.TempDir(), "ro"), unix.O_RDONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	s := mustSQE(t, r)
	s.Write(fd, []byte("x"), 0)
	s.SetLink()
	s.SetUserData(1)
	s = mustSQE(t, r)
	s.Fsync(fd, false)
	s.SetUserData(2)
	got := byUserData(t, collect(t, r, 2, 5*time.Second))
	if got[1].Errno() != unix.EBADF {
		t.Errorf("write to O_RDONLY fd: %+v, want EBADF", got[1])
	}
	if got[2].Errno() != unix.ECANCELED {
		t.Errorf("linked fsync: %+v, want ECANCELED", got[2])
	}
}

func TestCloseOp(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)
			a, b := socketPair(t)
			s := mustSQE(t, r)
			s.Close(a)
			s.SetUserData(1)
			if c := collect(t, r, 1, 5*time.Second)[0]; c.Res != 0 {
				t.Fatalf("close CQE %+v", c)
			}
			// The peer sees EOF: the descriptor really is closed.
			buf := make([]byte, 8)
			if err := unix.SetNonblock(b, false); err != nil {
				t.Fatal(err)
			}
			if n, err := unix.Read(b, buf); n != 0 || err != nil {
				t.Fatalf("peer read after close: %d, %v; want EOF", n, err)
			}
			// Closing it again fails with EBADF.
			s = mustSQE(t, r)
			s.Close(a)
			s.SetUserData(2)
			if c := collect(t, r, 1, 5*time.Second)[0]; c.Errno() != unix.EBADF {
				t.Fatalf("second close CQE %+v, want EBADF", c)
			}
		})
	}
}

func TestCancelFD(t *testing.T) {
	for _, m := range modes {
		for _, all := range []bool{false, true} {
			t.Run(m.name+"/all="+strconv.FormatBool(all), func(t *testing.T) {
				r := newTestRing(t, 8, m.opts)
				f := r.Features()
				if !f.CancelFD || !f.MultishotRecv || !f.BufRing {
					t.Skip("kernel lacks cancel by fd, multishot recv or buffer rings")
				}
				br, err := NewBufRing(r, 1, 4, 32)
				if err != nil {
					t.Fatal(err)
				}
				a, _ := socketPair(t)
				recvs := 1
				if all {
					recvs = 2 // two requests on the same fd: ALL cancels both
				}
				for i := 0; i < recvs; i++ {
					s := mustSQE(t, r)
					s.RecvMultishot(a, br.Group())
					s.SetUserData(uint64(10 + i))
				}
				if _, err := r.SubmitAndWait(1, 20*time.Millisecond); err != nil {
					t.Fatal(err)
				}
				var early [4]CQE
				if n := r.Reap(early[:]); n != 0 {
					t.Fatalf("armed recv completed without data: %+v", early[:n])
				}
				s := mustSQE(t, r)
				s.CancelFD(a, all)
				s.SetUserData(1)
				got := byUserData(t, collect(t, r, 1+recvs, 5*time.Second))
				wantRes := int32(0)
				if all {
					wantRes = int32(recvs)
				}
				if got[1].Res != wantRes {
					t.Errorf("cancel CQE %+v, want Res %d", got[1], wantRes)
				}
				for i := 0; i < recvs; i++ {
					if c := got[uint64(10+i)]; c.Errno() != unix.ECANCELED || c.More() {
						t.Errorf("recv %d CQE %+v, want ECANCELED without CQEFMore", i, c)
					}
				}

				// Nothing left to cancel.
				s = mustSQE(t, r)
				s.CancelFD(a, false)
				s.SetUserData(2)
				if c := collect(t, r, 1, 5*time.Second)[0]; c.Errno() != unix.ENOENT {
					t.Errorf("cancel with nothing pending: %+v, want ENOENT", c)
				}
			})
		}
	}
}

// TestPollEventfdWakes blocks the owner thread in SubmitAndWait with a long
// timeout and wakes it from another goroutine through an eventfd, as the
// server's signal watcher does.
func TestPollEventfdWakes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newTestRing(t, 8, m.opts)
			efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(efd)
			s := mustSQE(t, r)
			s.PollAdd(efd, unix.POLLIN, true)
			s.SetUserData(7)
			if _, err := r.Submit(); err != nil {
				t.Fatal(err)
			}
			var cqes [4]CQE
			one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
			for wake := 0; wake < 2; wake++ {
				done := make(chan error, 1)
				go func() {
					time.Sleep(30 * time.Millisecond)
					_, err := unix.Write(efd, one)
					done <- err
				}()
				start := time.Now()
				n := 0
				for n == 0 && time.Since(start) < 5*time.Second {
					if _, err := r.SubmitAndWait(1, 10*time.Second); err != nil {
						t.Fatal(err)
					}
					n = r.Reap(cqes[:])
				}
				elapsed := time.Since(start)
				if err := <-done; err != nil {
					t.Fatalf("eventfd write: %v", err)
				}
				if n != 1 || cqes[0].UserData != 7 || uint32(cqes[0].Res)&unix.POLLIN == 0 || !cqes[0].More() {
					t.Fatalf("wake %d: %+v, want one POLLIN CQE with CQEFMore", wake, cqes[:n])
				}
				if elapsed > 5*time.Second {
					t.Fatalf("wake %d: SubmitAndWait returned after %v", wake, elapsed)
				}
				var v [8]byte
				if _, err := unix.Read(efd, v[:]); err != nil {
					t.Fatalf("drain eventfd: %v", err)
				}
			}
		})
	}
}
