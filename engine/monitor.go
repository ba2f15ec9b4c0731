package engine

import (
	"strconv"
	"time"
)

// MONITOR, as Redis's: a client that sends it gets, after its +OK, one
// simple string per command the shard executes from then on, in the order
// they ran:
//
//	+1700000000.123456 [0 127.0.0.1:50000] "set" "k" "v"
//
// the time the command finished, its client's database and address, and
// its arguments quoted as Redis quotes them (sdscatrepr). Commands flagged
// admin or skip_monitor are not shown, nor what the shard replays while
// loading; the arguments a command hides (AUTH's, HELLO's AUTH
// credentials: redactArg) are shown as "(redacted)". A command is shown once it ran: a queued command inside
// EXEC, a command refused before it ran (unknown, wrong arity, -MOVED) not
// at all. RESET ends it; the client may send commands meanwhile.
//
// Everything here runs on the shard's loop; monitors lists the monitoring
// clients in the order they asked.

// monitorHardLimit is the most output a monitor may have waiting before it
// is closed (Redis's replica class limit, which covers monitors).
const monitorHardLimit = 256 << 20

func init() {
	register(&Command{Name: "monitor", Arity: 1,
		Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@admin @dangerous",
		Group: "server", Since: "1.0.0",
		Summary: "Listen for all requests received by the server in real time",
		Proc:    monitorCmd,
	})
}

func monitorCmd(s *Shard, c *Client, argv [][]byte) {
	if c.inMulti() { // inside EXEC, which Redis runs with blocking denied
		c.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.monitor {
		return // as Redis: no reply at all
	}
	c.monitor = true
	s.monitors = append(s.monitors, c)
	c.OK()
}

// stopMonitor takes c off the monitors (RESET, a closed connection).
func (s *Shard) stopMonitor(c *Client) {
	if !c.monitor {
		return
	}
	c.monitor = false
	s.monitors = removeClient(s.monitors, c)
}

// feedMonitors shows c's command argv to every monitor. The caller checked
// that there are monitors and that the command is to be shown.
func (s *Shard) feedMonitors(c *Client, argv [][]byte) {
	if s.loading {
		return
	}
	now := time.Now()
	b := append(s.monBuf[:0], '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(us), 10)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db), 10)
	b = append(b, ' ')
	b = append(b, c.Addr...)
	b = append(b, "] "...)
	var redact uint64 // the arguments the command hid (redactArg, slowlog.go)
	if len(argv) > 0 && s.slow.redactArgv == &argv[0] {
		redact = s.slow.redact
	}
	for i, a := range argv {
		if i > 0 {
			b = append(b, ' ')
		}
		if i < 64 && redact&(1<<i) != 0 {
			b = append(b, '"')
			b = append(b, redacted...)
			b = append(b, '"')
			continue
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	s.monBuf = b
	for _, m := range s.monitors {
		if m.Flags&CloseASAP != 0 {
			continue
		}
		m.Out = append(m.Out, b...)
		if len(m.Out) > monitorHardLimit {
			m.Flags |= CloseASAP
			logf("warning", "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", m.ID, m.Addr)
		}
		s.queue(m)
	}
}

// appendRepr appends p quoted as Redis's sdscatrepr does: in double
// quotes, with \\ \" \n \r \t \a \b escaped, other bytes that are not
// printable ASCII as \xHH.
func appendRepr(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range p {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}
