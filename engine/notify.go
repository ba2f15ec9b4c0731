package engine

import "shoal/engine/internal/kv"

// Keyspace notifications, as Redis's notify.c: when notify-keyspace-events
// enables an event's class, a command that changes a key publishes the
// event on "__keyspace@0__:<key>" (message: the event name, with K) and on
// "__keyevent@0__:<event>" (message: the key, with E), through the shard's
// pub/sub (pubsub.go). A shard has one database, so the db id is always 0.
//
// The families call s.notify at the points Redis's t_*.c, db.c and
// expire.c call notifyKeyspaceEvent, after the change and in the same
// order. With notify-keyspace-events empty (the default) notify is one
// test of a bit and a return; with it set, publishing reuses the shard's
// scratch buffers and allocates nothing.

// Event classes, with Redis's bit values (NOTIFY_*).
const (
	notifyKeyspace = 1 << 0  // K
	notifyKeyevent = 1 << 1  // E
	notifyGeneric  = 1 << 2  // g
	notifyString   = 1 << 3  // $
	notifyList     = 1 << 4  // l
	notifySet      = 1 << 5  // s
	notifyHash     = 1 << 6  // h
	notifyZSet     = 1 << 7  // z
	notifyExpired  = 1 << 8  // x
	notifyEvicted  = 1 << 9  // e
	notifyStream   = 1 << 10 // t
	notifyKeyMiss  = 1 << 11 // m
	notifyLoaded   = 1 << 12 // (modules only)
	notifyModule   = 1 << 13 // d
	notifyNew      = 1 << 14 // n

	// notifyAll is what 'A' stands for: every class but m and n.
	notifyAll = notifyGeneric | notifyString | notifyList | notifySet | notifyHash |
		notifyZSet | notifyExpired | notifyEvicted | notifyStream | notifyModule
)

// errNotifyClasses is Redis's message for a character that names no class.
const errNotifyClasses = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."

// parseNotifyFlags reads notify-keyspace-events as Redis's
// keyspaceEventsStringToFlags: any order, repeats allowed; ok is false when
// a character names no class.
func parseNotifyFlags(s string) (flags int, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 'A':
			flags |= notifyAll
		case 'g':
			flags |= notifyGeneric
		case '$':
			flags |= notifyString
		case 'l':
			flags |= notifyList
		case 's':
			flags |= notifySet
		case 'h':
			flags |= notifyHash
		case 'z':
			flags |= notifyZSet
		case 'x':
			flags |= notifyExpired
		case 'e':
			flags |= notifyEvicted
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		case 't':
			flags |= notifyStream
		case 'm':
			flags |= notifyKeyMiss
		case 'd':
			flags |= notifyModule
		case 'n':
			flags |= notifyNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// formatNotifyFlags is CONFIG GET's canonical form of flags, as Redis's
// keyspaceEventsFlagsToString: "A" for all the classes 'A' covers, else
// each class letter in Redis's order, then K, E and m.
func formatNotifyFlags(flags int) string {
	var b []byte
	if flags&notifyAll == notifyAll {
		b = append(b, 'A')
	} else {
		for _, f := range [...]struct {
			bit int
			ch  byte
		}{{notifyGeneric, 'g'}, {notifyString, '$'}, {notifyList, 'l'}, {notifySet, 's'},
			{notifyHash, 'h'}, {notifyZSet, 'z'}, {notifyExpired, 'x'}, {notifyEvicted, 'e'},
			{notifyStream, 't'}, {notifyModule, 'd'}, {notifyNew, 'n'}} {
			if flags&f.bit != 0 {
				b = append(b, f.ch)
			}
		}
	}
	if flags&notifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&notifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&notifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// notify publishes event (of class) for key when notify-keyspace-events
// enables the class, as Redis's notifyKeyspaceEvent. O(1) when disabled;
// otherwise one or two publishes (O(subscribers + patterns) each).
func (s *Shard) notify(class int, event string, key []byte) {
	if s.Config.NotifyKeyspaceEvents&class == 0 {
		return
	}
	s.notifySlow(event, key)
}

// notifySlow builds the channels in the shard's scratch buffers and
// publishes.
func (s *Shard) notifySlow(event string, key []byte) {
	flags := s.Config.NotifyKeyspaceEvents
	ps := &s.pubsub
	if flags&notifyKeyspace != 0 {
		ps.chanBuf = append(append(ps.chanBuf[:0], "__keyspace@0__:"...), key...)
		ps.msgBuf = append(ps.msgBuf[:0], event...)
		s.publish(ps.chanBuf, ps.msgBuf)
	}
	if flags&notifyKeyevent != 0 {
		ps.chanBuf = append(append(ps.chanBuf[:0], "__keyevent@0__:"...), event...)
		s.publish(ps.chanBuf, key)
	}
}

// notifyExpired sends "expired" for the key at r, which expiry (lazy or
// active) is about to delete.
func (s *Shard) notifyExpired(r kv.Ref) { s.notifyRef(notifyExpired, "expired", r) }

// notifyNew sends "new" for a key just added to the key space, as Redis's
// dbAdd does before the command's own event.
func (s *Shard) notifyNew(key []byte) { s.notify(notifyNew, "new", key) }

// notifySet sends SET's events: "set", then "expire" when it gave the key
// a time to live.
func (s *Shard) notifySet(key []byte, expire bool) {
	s.notify(notifyString, "set", key)
	if expire {
		s.notify(notifyGeneric, "expire", key)
	}
}

// notifyRef is notify for the key at r, for callers that hold the key's
// Ref but not its name (it is read from the key space only when sent).
func (s *Shard) notifyRef(class int, event string, r kv.Ref) {
	if s.Config.NotifyKeyspaceEvents&class == 0 {
		return
	}
	s.pubsub.keyBuf = append(s.pubsub.keyBuf[:0], s.db.Key(r)...)
	s.notifySlow(event, s.pubsub.keyBuf)
}

func pushEvent(head bool) string {
	if head {
		return "lpush"
	}
	return "rpush"
}

func popEvent(head bool) string {
	if head {
		return "lpop"
	}
	return "rpop"
}
