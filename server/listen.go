package server

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	_ "unsafe" // for go:linkname

	"golang.org/x/sys/unix"

	"shoal/internal/rlog"
)

//go:linkname nanotime runtime.nanotime
func nanotime() int64

type listener struct {
	fd   int
	addr string
}

// listen opens a listening socket for every bind address, as Redis does:
// an address prefixed with '-' is optional (its failure is logged, not
// fatal); "*" and "::*" mean every IPv4 / IPv6 address. Port 0 means no
// TCP listener.
func (s *Server) listen() error {
	if s.cfg.Port == 0 {
		return nil
	}
	for _, a := range s.cfg.Bind {
		optional := strings.HasPrefix(a, "-")
		a = strings.TrimPrefix(a, "-")
		switch a {
		case "*":
			a = "0.0.0.0"
		case "::*":
			a = "::"
		}
		fd, err := listenTCP(a, s.cfg.Port, s.cfg.TCPBacklog)
		if err != nil {
			if optional {
				s.log.Logf(rlog.Verbose, "Could not create server TCP listening socket %s:%d: %v", a, s.cfg.Port, err)
				continue
			}
			return fmt.Errorf("server: could not create server TCP listening socket %s:%d: %w", a, s.cfg.Port, err)
		}
		s.lns = append(s.lns, listener{fd: fd, addr: joinHostPort(a, s.cfg.Port)})
	}
	if len(s.lns) == 0 {
		return fmt.Errorf("server: failed listening on port %d (tcp), aborting", s.cfg.Port)
	}
	return nil
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

func listenTCP(host string, port, backlog int) (int, error) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return -1, fmt.Errorf("invalid bind address %q", host)
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ip.Is4() {
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if family == unix.AF_INET6 {
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (s *Server) closeListeners() {
	for _, l := range s.lns {
		unix.Close(l.fd)
	}
	s.lns = nil
}

// setupConn applies per-connection socket options as Redis does: no
// Nagle delay, and TCP keepalive with tcp-keepalive's interval.
func (s *Server) setupConn(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if ka := s.cfg.TCPKeepalive; ka > 0 {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, ka)
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, max(ka/3, 1))
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 3)
	}
}

// sockAddrs gives the peer and local "ip:port" of a connected socket.
func sockAddrs(fd int) (peer, local string) {
	if sa, err := unix.Getpeername(fd); err == nil {
		peer = formatSockaddr(sa)
	}
	if sa, err := unix.Getsockname(fd); err == nil {
		local = formatSockaddr(sa)
	}
	return peer, local
}

func formatSockaddr(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr).String() + ":" + strconv.Itoa(a.Port)
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(a.Addr)
		if ip.Is4In6() {
			ip = ip.Unmap()
		}
		return joinHostPort(ip.String(), a.Port)
	case *unix.SockaddrUnix:
		return a.Name + ":0"
	}
	return "?:0"
}

// adjustOpenFilesLimit raises the soft limit on open files to what
// maxclients needs (plus 32 for the shard's own files), as Redis does at
// start; when the hard limit is lower, it lowers maxclients and says so.
func (s *Server) adjustOpenFilesLimit() {
	want := uint64(s.cfg.MaxClients) + 32
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		s.log.Logf(rlog.Warning, "Unable to obtain the current NOFILE limit (%v), assuming 1024 and setting the max clients configuration accordingly.", err)
		s.cfg.MaxClients = 1024 - 32
		return
	}
	if lim.Cur >= want {
		return
	}
	newLim := unix.Rlimit{Cur: min(want, lim.Max), Max: lim.Max}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &newLim); err != nil || newLim.Cur < want {
		got := lim.Cur
		if err == nil {
			got = newLim.Cur
		}
		old := s.cfg.MaxClients
		s.cfg.MaxClients = int(max(got, 33) - 32)
		s.log.Logf(rlog.Warning, "You requested maxclients of %d requiring at least %d max file descriptors.", old, want)
		s.log.Logf(rlog.Warning, "Server can't set maximum open files to %d because of OS error: %v.", want, err)
		s.log.Logf(rlog.Warning, "Current maximum open files is %d. maxclients has been reduced to %d to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", got, s.cfg.MaxClients)
		return
	}
	s.log.Logf(rlog.Notice, "Increased maximum number of open files to %d (it was originally set to %d).", newLim.Cur, lim.Cur)
}
