//go:build linux

package main

import (
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"shoal/uring"
)

// serve listens as cfg says and runs the loop until stop is set. It prints
// one line to w once connections are accepted.
func serve(cfg config, stop *atomic.Bool, w io.Writer) error {
	lfd, port, err := listenTCP(cfg.bind, cfg.port)
	if err != nil {
		return err
	}
	defer unix.Close(lfd)
	r := newResponder(cfg.valueSize, port)
	return run(lfd, r, stop, func(f uring.Features) {
		fmt.Fprintf(w, "ceiling: listening on %s (io_uring: %s), GET answers %d bytes\n",
			joinHostPort(cfg.bind, port), f, cfg.valueSize)
	})
}

// listenTCP opens a non-blocking listening socket on host:port and returns
// it with the port it got (port 0 asks the kernel for a free one).
func listenTCP(host string, port int) (fd, bound int, err error) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return -1, 0, fmt.Errorf("ceiling: bad --bind address %q", host)
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	}
	fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, 0, fmt.Errorf("ceiling: socket: %w", err)
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("ceiling: bind %s: %w", joinHostPort(host, port), err)
	}
	if err := unix.Listen(fd, 511); err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("ceiling: listen: %w", err)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, 0, fmt.Errorf("ceiling: getsockname: %w", err)
	}
	switch a := got.(type) {
	case *unix.SockaddrInet4:
		bound = a.Port
	case *unix.SockaddrInet6:
		bound = a.Port
	}
	return fd, bound, nil
}

func joinHostPort(host string, port int) string {
	ip, err := netip.ParseAddr(host)
	if err == nil && ip.Is6() {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

func closeFD(fd int) { unix.Close(fd) }
