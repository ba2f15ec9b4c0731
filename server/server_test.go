package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"shoal/internal/refuse"

	"shoal/engine"
	"shoal/uring"
)

// startInProcess runs a Server on a free loopback port in this process
// and returns its address; the test's cleanup stops it and waits for Run
// to return.
func startInProcess(t *testing.T, io string) (*Server, string) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cfg := engine.DefaultConfig()
		cfg.Port, cfg.Bind, cfg.IO = port, []string{"127.0.0.1"}, io
		ready := make(chan struct{})
		s := New(Options{Config: cfg, Version: "test", Ready: func(*Server) { close(ready) }})
		done := make(chan error, 1)
		go func() { done <- s.Run() }()
		select {
		case <-ready:
			t.Cleanup(func() {
				s.Stop("test")
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("Run: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Error("server did not stop")
				}
			})
			return s, "127.0.0.1:" + strconv.Itoa(port)
		case err := <-done:
			if attempt < 5 && err != nil && strings.Contains(err.Error(), "address already in use") {
				continue
			}
			t.Fatalf("Run: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("server did not start")
		}
	}
}

func backends(t *testing.T) []string {
	list := []string{IOEpoll}
	r, err := uring.New(8, uring.Options{})
	if err == nil {
		r.Close()
		list = append(list, IOUring)
	} else {
		t.Logf("io_uring not available here, testing epoll only: %v", err)
	}
	return list
}

func command(args ...string) []byte {
	b := []byte("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b = append(b, "$"+strconv.Itoa(len(a))+"\r\n"+a+"\r\n"...)
	}
	return b
}

// TestSteadyStateAllocations drives GET and SET of an existing key
// through the whole loop (receive, parse, execute, send) and checks that
// the process allocates nothing per request once warm: the client side of
// this test allocates nothing per round trip either.
func TestSteadyStateAllocations(t *testing.T) {
	for _, backend := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			_, addr := startInProcess(t, backend)
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			val := strings.Repeat("v", 256)
			var batch, want []byte
			for i := 0; i < 10; i++ {
				batch = append(batch, command("SET", "key:000000000001", val)...)
				want = append(want, "+OK\r\n"...)
				batch = append(batch, command("GET", "key:000000000001")...)
				want = append(want, "$256\r\n"+val+"\r\n"...)
			}
			got := make([]byte, len(want))
			roundTrip := func() {
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := conn.Write(batch); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(conn, got); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 2000; i++ { // warm up buffers and the key space
				roundTrip()
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("reply %q, want %q", got, want)
			}
			const rounds = 5000
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := 0; i < rounds; i++ {
				roundTrip()
			}
			runtime.ReadMemStats(&after)
			requests := uint64(rounds * 20)
			allocs := after.Mallocs - before.Mallocs
			t.Logf("%d allocations over %d requests", allocs, requests)
			// A few allocations may come from the runtime itself (timers,
			// the GC); one per request would be 100,000.
			if allocs > requests/1000 {
				t.Errorf("%d allocations for %d requests: the request path allocates", allocs, requests)
			}
		})
	}
}

const seccompChildEnv = "SHOAL_SERVER_TEST_REFUSE_URING"

// TestFallbackWhenIoUringRefused starts a server in a child process whose
// seccomp filter refuses io_uring_setup with EPERM, as container runtimes
// and kernel.io_uring_disabled do: without --io it serves on epoll and
// says why; with --io uring it refuses to start.
func TestFallbackWhenIoUringRefused(t *testing.T) {
	if os.Getenv(seccompChildEnv) != "" {
		t.Skip("inside the child")
	}
	for _, tc := range []struct{ io, want string }{
		{"", "backend=epoll reason=io_uring refused: uring: io_uring_setup: operation not permitted"},
		{IOUring, "run error: server: --io uring was asked but io_uring is not usable"},
	} {
		t.Run("io="+tc.io, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRefusedChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), seccompChildEnv+"="+tc.io+"|")
			out, err := cmd.CombinedOutput()
			text := string(out)
			if strings.Contains(text, "SKIP: TestRefusedChild") {
				t.Skipf("child could not install a seccomp filter:\n%s", text)
			}
			if err != nil {
				t.Fatalf("child: %v\n%s", err, text)
			}
			if !strings.Contains(text, tc.want) {
				t.Fatalf("child output lacks %q:\n%s", tc.want, text)
			}
		})
	}
}

// TestRefusedChild is the child of TestFallbackWhenIoUringRefused.
func TestRefusedChild(t *testing.T) {
	v, ok := os.LookupEnv(seccompChildEnv)
	if !ok {
		t.Skip("runs only as the child of TestFallbackWhenIoUringRefused")
	}
	io := strings.TrimSuffix(v, "|")
	if err := refuse.IOUringSetup(unix.EPERM); err != nil {
		t.Skipf("seccomp: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := engine.DefaultConfig()
	cfg.Port, cfg.Bind, cfg.IO = port, []string{"127.0.0.1"}, io
	s := New(Options{Config: cfg, Version: "test", Ready: func(s *Server) {
		os.Stdout.WriteString("backend=" + s.shard.Info.IOBackend + " reason=" + s.shard.Info.IOReason + "\n")
		s.Stop("test")
	}})
	if err := s.Run(); err != nil {
		os.Stdout.WriteString("run error: " + err.Error() + "\n")
		if !errors.Is(err, unix.EPERM) {
			t.Errorf("Run error %v does not wrap EPERM", err)
		}
	}
}

// TestTinyRing runs the io_uring loop with a submission queue of 4, a
// completion queue of 16 and 4 receive buffers, so that getting an SQE
// finds the queue full, submitting finds the completion queue full, and
// receives run out of buffers, all the time; 64 clients each pipelining
// INCRs must still get every reply, in order.
func TestTinyRing(t *testing.T) {
	if len(backends(t)) < 2 {
		t.Skip("io_uring not available")
	}
	defer func(e uint32, n, size int) { ringEntries, recvBufCount, recvBufSize = e, n, size }(ringEntries, recvBufCount, recvBufSize)
	ringEntries, recvBufCount, recvBufSize = 4, 4, 512
	_, addr := startInProcess(t, IOUring)
	const clients, rounds, depth = 64, 20, 50
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			key := "counter:" + strconv.Itoa(i)
			var batch []byte
			for j := 0; j < depth; j++ {
				batch = append(batch, command("INCR", key)...)
			}
			n := 0
			buf := make([]byte, 64<<10)
			for r := 0; r < rounds; r++ {
				conn.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := conn.Write(batch); err != nil {
					errs <- err
					return
				}
				var want []byte
				for j := 0; j < depth; j++ {
					n++
					want = append(want, ":"+strconv.Itoa(n)+"\r\n"...)
				}
				if _, err := io.ReadFull(conn, buf[:len(want)]); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(buf[:len(want)], want) {
					errs <- errors.New(key + ": replies out of order or wrong")
					return
				}
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestTwoServersOneProcess runs two Servers side by side and opens and
// closes connections to both at once: nothing a Server keeps is shared
// with another (the race detector checks the connection slots'
// generations, which once lived in a package variable).
func TestTwoServersOneProcess(t *testing.T) {
	list := backends(t)
	_, a := startInProcess(t, list[0])
	_, b := startInProcess(t, list[len(list)-1])
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, addr := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err != nil {
					errs <- err
					return
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 16)
				_, err = c.Write(command("PING"))
				if err == nil {
					_, err = io.ReadAtLeast(c, buf, 7)
				}
				c.Close()
				if err != nil {
					errs <- err
					return
				}
				if string(buf[:7]) != "+PONG\r\n" {
					errs <- fmt.Errorf("%s: PING got %q", addr, buf)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
