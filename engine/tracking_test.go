package engine

import (
	"strings"
	"testing"
)

// trackingShard is a shard with two clients: reader (RESP3) and writer.
func trackingShard(t *testing.T) (s *Shard, reader, writer *Client) {
	now := scriptStart
	s = newTestShard(&now)
	reader, writer = s.NewClient(), s.NewClient()
	exec(t, s, reader, "HELLO", "3")
	return s, reader, writer
}

// run1 runs one command for c without reading its reply, keeping c.Out.
func run1(s *Shard, c *Client, args ...string) {
	argv := make([][]byte, len(args))
	for i, a := range args {
		argv[i] = []byte(a)
	}
	s.Exec(c, argv)
	s.TrackingTurn()
}

func infoField(t *testing.T, s *Shard, c *Client, section, field string) string {
	t.Helper()
	v := exec(t, s, c, "INFO", section)
	for _, l := range strings.Split(string(v.Str), "\r\n") {
		if k, val, ok := strings.Cut(l, ":"); ok && k == field {
			return val
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// A client redirecting to one that closed is told so, once per
// invalidation, and shows it in TRACKINGINFO and CLIENT LIST (flag R).
func TestTrackingRedirectBroken(t *testing.T) {
	s, reader, writer := trackingShard(t)
	target := s.NewClient()
	exec(t, s, reader, "CLIENT", "TRACKING", "ON", "REDIRECT", "3")
	exec(t, s, reader, "GET", "k")
	s.Unregister(target)
	reader.Out = reader.Out[:0]
	exec(t, s, writer, "SET", "k", "1")
	if got, want := string(reader.Out), ">2\r\n$21\r\ntracking-redir-broken\r\n:3\r\n"; got != want {
		t.Fatalf("reader got %q, want %q", got, want)
	}
	v := exec(t, s, reader, "CLIENT", "TRACKINGINFO")
	if got := renderReply(&v); got != `{"flags": ~["on" "broken_redirect"], "redirect": :3, "prefixes": []}` {
		t.Errorf("TRACKINGINFO = %s", got)
	}
	v = exec(t, s, reader, "CLIENT", "INFO")
	if !strings.Contains(string(v.Str), " flags=tR ") || !strings.Contains(string(v.Str), " redir=3 ") {
		t.Errorf("CLIENT INFO = %q, want flags=tR and redir=3", v.Str)
	}
	// A RESP2 client is not told (it could not parse a push).
	exec(t, s, reader, "HELLO", "2")
	exec(t, s, reader, "GET", "k")
	reader.Out = reader.Out[:0]
	exec(t, s, writer, "SET", "k", "2")
	if len(reader.Out) != 0 {
		t.Errorf("RESP2 reader got %q", reader.Out)
	}
}

// A RESP2 client redirected to gets messages only while it has a
// subscription; a RESP2 client tracking without REDIRECT gets nothing.
func TestTrackingRedirectRESP2(t *testing.T) {
	s, reader, writer := trackingShard(t)
	target := s.NewClient()
	exec(t, s, reader, "HELLO", "2")
	exec(t, s, reader, "CLIENT", "TRACKING", "ON", "REDIRECT", "3")
	exec(t, s, reader, "GET", "k")
	exec(t, s, writer, "SET", "k", "1")
	if len(target.Out) != 0 {
		t.Fatalf("an unsubscribed RESP2 target got %q", target.Out)
	}
	exec(t, s, target, "SUBSCRIBE", "other")
	target.Out = target.Out[:0]
	exec(t, s, reader, "GET", "k")
	exec(t, s, writer, "DEL", "k")
	if got, want := string(target.Out), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"; got != want {
		t.Errorf("target got %q, want %q", got, want)
	}
}

// tracking-table-max-keys: over it, the next command first invalidates
// keys until the table is back under the limit.
func TestTrackingTableMaxKeys(t *testing.T) {
	s, reader, writer := trackingShard(t)
	exec(t, s, reader, "CLIENT", "TRACKING", "ON")
	exec(t, s, reader, "MGET", "a", "b", "c", "d", "e")
	if got := infoField(t, s, writer, "stats", "tracking_total_keys"); got != "5" {
		t.Fatalf("tracking_total_keys = %s, want 5", got)
	}
	exec(t, s, writer, "CONFIG", "SET", "tracking-table-max-keys", "2")
	reader.Out = reader.Out[:0]
	run1(s, reader, "PING")
	if n := strings.Count(string(reader.Out), "invalidate"); n != 3 {
		t.Errorf("%d invalidations before PONG, want 3: %q", n, reader.Out)
	}
	if !strings.HasSuffix(string(reader.Out), "+PONG\r\n") {
		t.Errorf("PONG is not last: %q", reader.Out)
	}
	if got := infoField(t, s, writer, "stats", "tracking_total_keys"); got != "2" {
		t.Errorf("tracking_total_keys = %s, want 2", got)
	}
}

// INFO counts tracking clients, keys, items and prefixes; closing the
// clients, CLIENT TRACKING OFF and RESET forget them, and the table goes
// with the last tracking client.
func TestTrackingInfoAndCleanup(t *testing.T) {
	s, reader, writer := trackingShard(t)
	other, bcast := s.NewClient(), s.NewClient()
	exec(t, s, reader, "CLIENT", "TRACKING", "ON")
	exec(t, s, other, "CLIENT", "TRACKING", "ON")
	exec(t, s, bcast, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b")
	exec(t, s, reader, "MGET", "k1", "k2")
	exec(t, s, other, "GET", "k1")
	for field, want := range map[string]string{"tracking_total_keys": "2", "tracking_total_items": "3", "tracking_total_prefixes": "2"} {
		if got := infoField(t, s, writer, "stats", field); got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	if got := infoField(t, s, writer, "clients", "tracking_clients"); got != "3" {
		t.Errorf("tracking_clients = %s, want 3", got)
	}
	s.Unregister(bcast)
	exec(t, s, other, "RESET")
	if got := infoField(t, s, writer, "stats", "tracking_total_prefixes"); got != "0" {
		t.Errorf("tracking_total_prefixes = %s after the BCAST client closed", got)
	}
	if got := infoField(t, s, writer, "clients", "tracking_clients"); got != "1" {
		t.Errorf("tracking_clients = %s, want 1", got)
	}
	exec(t, s, reader, "CLIENT", "TRACKING", "OFF")
	if s.track.clients != 0 || s.track.table != nil || s.track.items != 0 || len(s.track.prefixes) != 0 {
		t.Errorf("tracking state left after every client stopped: %+v", s.track)
	}
}

// While no client tracks, GET and SET allocate nothing more than before;
// nor do they when other clients track other keys.
func TestTrackingHotPathAllocs(t *testing.T) {
	s, reader, writer := trackingShard(t)
	set := [][]byte{[]byte("SET"), []byte("key"), []byte("value")}
	get := [][]byte{[]byte("GET"), []byte("key")}
	s.Exec(writer, set)
	measure := func(what string) {
		for _, argv := range [][][]byte{set, get} {
			n := testing.AllocsPerRun(200, func() {
				writer.Out = writer.Out[:0]
				s.Exec(writer, argv)
			})
			if n != 0 {
				t.Errorf("%s: %s allocates %.1f times", what, argv[0], n)
			}
		}
	}
	measure("no client tracking")
	exec(t, s, reader, "CLIENT", "TRACKING", "ON")
	exec(t, s, reader, "GET", "other")
	measure("another client tracking another key")
}

// BCAST's NOLOOP: a key changed by the client itself and then by another
// in the same turn is sent; one only the client changed is not.
func TestTrackingBcastNoloopLastWriter(t *testing.T) {
	s, reader, writer := trackingShard(t)
	exec(t, s, reader, "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
	reader.Out = reader.Out[:0]
	s.Exec(reader, [][]byte{[]byte("SET"), []byte("a"), []byte("1")})
	s.Exec(reader, [][]byte{[]byte("SET"), []byte("b"), []byte("1")})
	s.Exec(writer, [][]byte{[]byte("SET"), []byte("a"), []byte("2")})
	reader.Out = reader.Out[:0]
	s.TrackingTurn()
	if got, want := string(reader.Out), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n"; got != want {
		t.Errorf("reader got %q, want %q", got, want)
	}
	reader.Out = reader.Out[:0]
	s.TrackingTurn()
	if len(reader.Out) != 0 {
		t.Errorf("a second turn sent %q", reader.Out)
	}
}
