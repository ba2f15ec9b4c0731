package engine

import (
	"slices"
	"strconv"

	"shoal/resp"
)

// Client-side caching, as Redis 7.0's tracking.c: CLIENT TRACKING,
// CACHING, GETREDIR and TRACKINGINFO, and the invalidation messages.
//
// # Modes
//
// In the default mode the shard remembers, in a table key -> client ids,
// the keys each tracking client read (the keys of every read-only command
// it ran, failed or not, as Redis 7.0's call() does; OPTIN: only after
// CLIENT CACHING YES, OPTOUT: unless after CLIENT CACHING NO). When such a
// key changes, each client that read it is sent one invalidation and the
// key leaves the table: the client must read it again to hear of the next
// change. A key changes when a write signals it (the points where WATCH
// sees a change, multi.go: Shard.run, expiry, blocked clients served),
// and every key does on a flush (a null invalidation to every tracking
// client). In BCAST mode nothing is remembered: the keys changed during
// a loop turn that start with one of the client's prefixes are sent to it
// together by TrackingTurn, which the loop calls once a turn before it
// sends the output (Redis's beforeSleep).
//
// An invalidation goes to the client itself as a RESP3 push
// (>2 invalidate [key...]), or, with REDIRECT, to another client: a push
// when that one speaks RESP3, a message on __redis__:invalidate when it
// speaks RESP2 and has a subscription, nothing otherwise. When the client
// redirected to is gone, a RESP3 client is told with a
// tracking-redir-broken push instead. NOLOOP drops the invalidations of
// the client's own writes. The running client's own invalidations wait
// until its reply (or EXEC's) is written, as Redis sends them after the
// command.
//
// # Ownership and costs
//
// All of it belongs to the shard's loop. While no client tracks, the table
// is empty (it is dropped when the last tracking client stops, since
// nobody could be told anything), and a write costs what WATCH's check
// costs: one length test, no allocation; a read costs one counter test.
// With tracking on, a read by a tracking client costs a map insertion per
// key, a write a map lookup per key it changes (plus a prefix walk per key
// with BCAST prefixes), and an invalidation O(clients that read the key).
// A client that closes or stops tracking leaves its id in the table; the
// id is dropped when the key changes, as in Redis (ids are never reused).
// tracking-table-max-keys bounds the table: past it, keys are invalidated
// at random before each command and in cron.

// trackingChannel is the pub/sub channel of RESP2 invalidations.
const trackingChannel = "__redis__:invalidate"

// A tracking client's flags, as Redis's CLIENT_TRACKING_*.
const (
	trackOn          uint8 = 1 << iota
	trackBcast             // BCAST: by prefix, at the end of the turn
	trackOptin             // OPTIN: only keys read after CLIENT CACHING YES
	trackOptout            // OPTOUT: keys read unless after CLIENT CACHING NO
	trackNoloop            // NOLOOP: not for the client's own writes
	trackCaching           // CLIENT CACHING YES/NO given for the next command
	trackBrokenRedir       // the client redirected to is gone
)

// Errors only tracking replies.
const (
	errTrackRedirTwice  = "ERR A client can only redirect to a single other client"
	errTrackRedirNone   = "ERR The client ID you want redirect to does not exist"
	errTrackPrefixBcast = "ERR PREFIX option requires BCAST mode to be enabled"
	errTrackBcastSwitch = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	errTrackOptBcast    = "ERR OPTIN and OPTOUT are not compatible with BCAST"
	errTrackOptBoth     = "ERR You can't specify both OPTIN mode and OPTOUT mode"
	errTrackOptSwitch   = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	errCachingOff       = "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
	errCachingYes       = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
	errCachingNo        = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
)

// clientTracking is a client's side: made when it first turns tracking
// on, kept after (flags then 0).
type clientTracking struct {
	flags    uint8
	redirect uint64   // REDIRECT's client id; 0 for none
	prefixes []string // BCAST prefixes, in byte order
}

// trackingState is the shard's side.
type trackingState struct {
	clients  int                            // clients with tracking on (INFO tracking_clients)
	table    map[string]map[uint64]struct{} // key -> ids of the clients that read it
	items    int                            // ids in table, summed over keys
	prefixes map[string]*bcastPrefix        // BCAST prefix -> its clients and changed keys
	bcast    bool                           // some prefix has changed keys for TrackingTurn

	current *Client // the client whose command runs (Exec), nil between commands
	by      *Client // the client whose write is being signalled, for BCAST's NOLOOP
	pending []pendingInvalidation
	effort  int // rounds trackingLimit stayed over the limit, to grow its effort
}

// pendingInvalidation is an invalidation for the running client, sent
// after its reply; flush: the null of a flush, else key.
type pendingInvalidation struct {
	key   string
	flush bool
}

// bcastPrefix is one BCAST prefix: its clients in subscription order and
// the keys changed this turn, each with the client that changed it last
// (nil when no client did: expiry).
type bcastPrefix struct {
	clients []*Client
	keys    map[string]*Client
}

// signals reports whether a write must find out which keys it changed
// for tracking: some key is in the table or some client has a prefix.
func (t *trackingState) signals() bool { return len(t.table) > 0 || len(t.prefixes) > 0 }

// wants reports whether a change of key has to be signalled to tracking.
func (t *trackingState) wants(key []byte) bool {
	if len(t.prefixes) > 0 {
		return true
	}
	_, ok := t.table[string(key)]
	return ok
}

// tracking reports whether c has tracking on.
func (c *Client) tracking() bool { return c.track != nil && c.track.flags&trackOn != 0 }

func (c *Client) trackFlag(f uint8) bool { return c.track != nil && c.track.flags&f != 0 }

// enableTracking turns tracking on for c (or changes its options), as
// Redis's enableTracking: the CACHING flag stays, BCAST prefixes add to
// those c has.
func (s *Shard) enableTracking(c *Client, redirect uint64, opts uint8, prefixes [][]byte) {
	t := &s.track
	if c.track == nil {
		c.track = &clientTracking{}
	}
	ct := c.track
	if ct.flags&trackOn == 0 {
		t.clients++
	}
	ct.flags = ct.flags&trackCaching | trackOn
	ct.redirect = redirect
	if opts&trackBcast != 0 {
		ct.flags |= trackBcast
		if len(prefixes) == 0 {
			s.addPrefix(c, "")
		}
		for _, p := range prefixes {
			s.addPrefix(c, string(p))
		}
	}
	ct.flags |= opts & (trackOptin | trackOptout | trackNoloop)
}

// addPrefix subscribes c to BCAST invalidations for prefix p, once.
func (s *Shard) addPrefix(c *Client, p string) {
	t := &s.track
	bp := t.prefixes[p]
	if bp == nil {
		if t.prefixes == nil {
			t.prefixes = make(map[string]*bcastPrefix)
		}
		bp = &bcastPrefix{keys: make(map[string]*Client)}
		t.prefixes[p] = bp
	}
	if slices.Contains(bp.clients, c) {
		return
	}
	bp.clients = append(bp.clients, c)
	i, _ := slices.BinarySearch(c.track.prefixes, p)
	c.track.prefixes = slices.Insert(c.track.prefixes, i, p)
}

// disableTracking turns tracking off for c: CLIENT TRACKING OFF, RESET,
// a closed connection. Its ids stay in the table until the keys change,
// unless no client tracks any more: then the table goes.
func (s *Shard) disableTracking(c *Client) {
	ct := c.track
	if ct == nil || ct.flags&trackOn == 0 {
		return
	}
	t := &s.track
	for _, p := range ct.prefixes {
		bp := t.prefixes[p]
		if bp.clients = removeClient(bp.clients, c); len(bp.clients) == 0 {
			delete(t.prefixes, p)
		}
	}
	ct.prefixes = nil
	ct.flags, ct.redirect = 0, 0
	t.clients--
	if t.clients == 0 {
		t.table, t.items = nil, 0
		t.pending = t.pending[:0]
	}
}

// trackRead remembers the keys of read-only command cmd that tracking
// client c just ran, as Redis's trackingRememberKeys: all its keys, unless
// OPTIN/OPTOUT and CLIENT CACHING say otherwise; none for a pub/sub
// command (shard channels are no keys to cache).
func (s *Shard) trackRead(c *Client, cmd *Command, argv [][]byte) {
	f := c.track.flags
	if f&trackOptin != 0 && f&trackCaching == 0 || f&trackOptout != 0 && f&trackCaching != 0 ||
		cmd.Flags&FlagPubsub != 0 {
		return
	}
	if !cmd.byGetKeys {
		var rbuf [4]keyRange
		ranges, ok := cmd.keyRanges(argv, rbuf[:0])
		if !ok {
			return
		}
		for _, r := range ranges {
			for i := r.first; i <= r.last; i += r.step {
				s.rememberKey(c, argv[i])
			}
		}
	} else if cmd.GetKeys != nil {
		for _, k := range cmd.GetKeys(argv) {
			s.rememberKey(c, argv[k.pos])
		}
	}
}

func (s *Shard) rememberKey(c *Client, key []byte) {
	t := &s.track
	ids := t.table[string(key)]
	if ids == nil {
		if t.table == nil {
			t.table = make(map[string]map[uint64]struct{})
		}
		ids = make(map[uint64]struct{}, 1)
		t.table[string(key)] = ids
	}
	if _, ok := ids[c.ID]; !ok {
		ids[c.ID] = struct{}{}
		t.items++
	}
}

// trackChanged tells tracking that key changed, as Redis's
// trackingInvalidateKey: the BCAST prefixes it starts with note it for
// TrackingTurn; the clients that read it are sent an invalidation (the
// running client after its reply) and forgotten. O(prefixes + readers).
func (s *Shard) trackChanged(key []byte) {
	t := &s.track
	for p, bp := range t.prefixes {
		if len(p) <= len(key) && string(key[:len(p)]) == p {
			bp.keys[string(key)] = t.by
			t.bcast = true
		}
	}
	s.invalidateKey(key)
}

// invalidateKey sends the invalidation of key to the clients that read
// it and drops it from the table.
func (s *Shard) invalidateKey(key []byte) {
	t := &s.track
	ids, ok := t.table[string(key)]
	if !ok {
		return
	}
	delete(t.table, string(key))
	t.items -= len(ids)
	for id := range ids {
		c := s.clients[id]
		if c == nil || !c.tracking() || c.track.flags&trackBcast != 0 {
			continue
		}
		switch {
		case c != t.current:
			keys := [1][]byte{key}
			s.sendInvalidation(c, keys[:], false)
		case c.track.flags&trackNoloop != 0:
		default:
			t.pending = append(t.pending, pendingInvalidation{key: string(key)})
		}
	}
}

// trackFlushed tells every tracking client that every key changed (a
// null invalidation; the running client's after its reply) and empties
// the table, as Redis's trackingInvalidateKeysOnFlush. O(clients).
func (s *Shard) trackFlushed() {
	t := &s.track
	if t.clients > 0 {
		for _, c := range s.sortedClients() {
			switch {
			case !c.tracking():
			case c == t.current:
				t.pending = append(t.pending, pendingInvalidation{flush: true})
			default:
				s.sendInvalidation(c, nil, true)
			}
		}
	}
	t.table, t.items = nil, 0
}

// sendPending sends the running client the invalidations its command
// caused to itself, after its reply.
func (s *Shard) sendPending(c *Client) {
	t := &s.track
	for i := range t.pending {
		p := &t.pending[i]
		if c.tracking() && !c.closed {
			if p.flush {
				s.sendInvalidation(c, nil, true)
			} else {
				keys := [1][]byte{[]byte(p.key)}
				s.sendInvalidation(c, keys[:], false)
			}
		}
		p.key = ""
	}
	t.pending = t.pending[:0]
}

// sendInvalidation writes one invalidation of tracking client c, as
// Redis's sendTrackingMessage: keys as an array, or (flush) the null of
// c's protocol, to c or to the client it redirects to.
func (s *Shard) sendInvalidation(c *Client, keys [][]byte, flush bool) {
	ct := c.track
	to, redirected := c, false
	if ct.redirect != 0 {
		to = s.clients[ct.redirect]
		if to == nil {
			ct.flags |= trackBrokenRedir
			if c.Resp3 && c.Flags&CloseASAP == 0 {
				start := len(c.Out)
				c.Out = resp.AppendPushLen(c.Out, 2, true)
				c.BulkString("tracking-redir-broken")
				c.Int(int64(ct.redirect))
				c.keepPush(start)
				s.queue(c)
			}
			return
		}
		redirected = true
	}
	if to.Flags&CloseASAP != 0 {
		return
	}
	start := len(to.Out)
	switch {
	case to.Resp3:
		to.Out = append(to.Out, ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && to.subscribed():
		to.Out = append(to.Out, "*3\r\n$7\r\nmessage\r\n$20\r\n"+trackingChannel+"\r\n"...)
	default:
		return // a RESP2 client cannot take it: nothing is sent
	}
	if flush {
		to.Out = resp.AppendNull(to.Out, c.Resp3)
	} else {
		to.Out = resp.AppendArrayLen(to.Out, len(keys))
		for _, k := range keys {
			to.Out = resp.AppendBulk(to.Out, k)
		}
	}
	to.keepPush(start)
	if to.subscribed() && len(to.Out) > pubsubOutputHardLimit {
		to.Flags |= CloseASAP
		logf("warning", "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", to.ID, to.Addr)
	}
	s.queue(to)
}

// TrackingTurn sends the BCAST invalidations of the keys changed since
// the last turn, one message per prefix to each of its clients (a NOLOOP
// client without the keys it changed itself), as Redis's
// trackingBroadcastInvalidationMessages. The loop calls it once per turn,
// before it sends the output. O(1) when no key changed under a prefix.
func (s *Shard) TrackingTurn() {
	t := &s.track
	if !t.bcast {
		return
	}
	t.bcast = false
	names := make([]string, 0, len(t.prefixes))
	for p, bp := range t.prefixes {
		if len(bp.keys) > 0 {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	var keys, own [][]byte
	for _, p := range names {
		bp := t.prefixes[p]
		keys = keys[:0]
		for k := range bp.keys {
			keys = append(keys, []byte(k))
		}
		slices.SortFunc(keys, func(a, b []byte) int { return compareBytes(a, b) })
		for _, c := range bp.clients {
			if c.track.flags&trackNoloop == 0 {
				s.sendInvalidation(c, keys, false)
				continue
			}
			own = own[:0]
			for _, k := range keys {
				if bp.keys[string(k)] != c {
					own = append(own, k)
				}
			}
			if len(own) > 0 {
				s.sendInvalidation(c, own, false)
			}
		}
		clear(bp.keys)
	}
}

func compareBytes(a, b []byte) int {
	switch {
	case string(a) < string(b):
		return -1
	case string(a) > string(b):
		return 1
	}
	return 0
}

// trackingLimit invalidates keys picked at random while the table holds
// more than tracking-table-max-keys keys, as Redis's
// trackingLimitUsedSlots: at most 100 keys a call, 100 more for each call
// in a row that could not get under the limit. Run before each command
// and in cron while a client tracks.
func (s *Shard) trackingLimit() {
	t := &s.track
	max := s.Config.TrackingTableMaxKeys
	if max == 0 || len(t.table) <= max {
		t.effort = 0
		return
	}
	for effort := 100 * (t.effort + 1); effort > 0 && len(t.table) > 0; effort-- {
		var key string
		for k := range t.table { // Go's map order is random
			key = k
			break
		}
		s.invalidateKey([]byte(key)) // to the readers only, not to BCAST
		if len(t.table) <= max {
			t.effort = 0
			return
		}
	}
	t.effort++
}

// ---- CLIENT subcommands ----------------------------------------------------

var (
	clientCachingRow = &Command{Name: "caching", Arity: 3,
		Flags: FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "6.0.0",
		Summary:    "Instruct the server about tracking or not keys in the next request",
		Complexity: "O(1)",
		Syntax:     "mode:(YES | NO)",
		Proc:       clientCachingCmd,
	}
	clientGetredirRow = &Command{Name: "getredir", Arity: 2,
		Flags: FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "6.0.0",
		Summary:    "Get tracking notifications redirection client ID if any",
		Complexity: "O(1)",
		Proc:       clientGetredirCmd,
	}
	clientTrackingRow = &Command{Name: "tracking", Arity: -3,
		Flags: FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "6.0.0",
		Summary:    "Enable or disable server assisted client side caching support",
		Complexity: "O(1). Some options may introduce additional complexity.",
		Syntax:     "status:(ON | OFF) [REDIRECT client-id:integer] [PREFIX prefix...] [BCAST] [OPTIN] [OPTOUT] [NOLOOP]",
		Proc:       clientTrackingCmd,
	}
	clientTrackinginfoRow = &Command{Name: "trackinginfo", Arity: 2,
		Flags: FlagNoScript | FlagLoading | FlagStale,
		ACL:   "@connection",
		Group: "connection", Since: "6.2.0",
		Summary:    "Return information about server assisted client side caching for the current connection",
		Complexity: "O(1)",
		Proc:       clientTrackinginfoCmd,
	}
)

// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN]
// [OPTOUT] [NOLOOP]: options are read first (a REDIRECT's client must
// exist now), then checked against each other and the client's mode, in
// Redis's order. O(prefixes × the client's prefixes).
func clientTrackingCmd(s *Shard, c *Client, argv [][]byte) {
	var redirect int64
	var opts uint8
	var prefixes [][]byte
	for j := 3; j < len(argv); j++ {
		more := j < len(argv)-1
		switch a := argv[j]; {
		case eqFold(a, "redirect") && more:
			j++
			if redirect != 0 {
				c.Error(errTrackRedirTwice)
				return
			}
			id, ok := parseInt(argv[j])
			if !ok {
				c.Error(errNotInt)
				return
			}
			if id <= 0 || s.clients[uint64(id)] == nil {
				c.Error(errTrackRedirNone)
				return
			}
			redirect = id
		case eqFold(a, "bcast"):
			opts |= trackBcast
		case eqFold(a, "optin"):
			opts |= trackOptin
		case eqFold(a, "optout"):
			opts |= trackOptout
		case eqFold(a, "noloop"):
			opts |= trackNoloop
		case eqFold(a, "prefix") && more:
			j++
			prefixes = append(prefixes, argv[j])
		default:
			c.Error(errSyntax)
			return
		}
	}
	switch {
	case eqFold(argv[2], "on"):
		cur := uint8(0)
		if c.tracking() {
			cur = c.track.flags
		}
		switch {
		case opts&trackBcast == 0 && len(prefixes) > 0:
			c.Error(errTrackPrefixBcast)
		case cur&trackOn != 0 && cur&trackBcast != opts&trackBcast:
			c.Error(errTrackBcastSwitch)
		case opts&trackBcast != 0 && opts&(trackOptin|trackOptout) != 0:
			c.Error(errTrackOptBcast)
		case opts&trackOptin != 0 && opts&trackOptout != 0:
			c.Error(errTrackOptBoth)
		case opts&trackOptin != 0 && cur&trackOptout != 0 || opts&trackOptout != 0 && cur&trackOptin != 0:
			c.Error(errTrackOptSwitch)
		case opts&trackBcast != 0 && !prefixesFree(c, prefixes):
		default:
			s.enableTracking(c, uint64(redirect), opts, prefixes)
			c.OK()
		}
	case eqFold(argv[2], "off"):
		s.disableTracking(c)
		c.OK()
	default:
		c.Error(errSyntax)
	}
}

// prefixesFree checks that no new prefix is a prefix of one c has or of
// another new one (or the other way round), replying Redis's error when
// one is.
func prefixesFree(c *Client, prefixes [][]byte) bool {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range prefixes {
		if c.track != nil {
			for _, q := range c.track.prefixes {
				if overlap(q, string(p)) {
					c.Error("ERR Prefix '" + string(cString(p)) + "' overlaps with an existing prefix '" + string(cString([]byte(q))) + "'. Prefixes for a single client must not overlap.")
					return false
				}
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(string(p), string(q)) {
				c.Error("ERR Prefix '" + string(cString(p)) + "' overlaps with another provided prefix '" + string(cString(q)) + "'. Prefixes for a single client must not overlap.")
				return false
			}
		}
	}
	return true
}

// CLIENT CACHING YES|NO: the next command's keys are (OPTIN) or are not
// (OPTOUT) remembered. The flag lasts one command, or one transaction
// when given before MULTI or inside it; Exec clears it.
func clientCachingCmd(s *Shard, c *Client, argv [][]byte) {
	if !c.tracking() {
		c.Error(errCachingOff)
		return
	}
	switch {
	case eqFold(argv[2], "yes"):
		if c.track.flags&trackOptin == 0 {
			c.Error(errCachingYes)
			return
		}
	case eqFold(argv[2], "no"):
		if c.track.flags&trackOptout == 0 {
			c.Error(errCachingNo)
			return
		}
	default:
		c.Error(errSyntax)
		return
	}
	c.track.flags |= trackCaching
	c.OK()
}

// endCaching clears CLIENT CACHING's flag after a command, as Redis's
// resetClient: not inside MULTI, and not after a CLIENT command (which
// CACHING is).
func (c *Client) endCaching(cmd *Command) {
	if c.inMulti() || cmd != nil && (cmd.Name == "client" || cmd.parent != nil && cmd.parent.Name == "client") {
		return
	}
	c.track.flags &^= trackCaching
}

// CLIENT GETREDIR: the client id invalidations go to, 0 for none, -1 when
// tracking is off.
func clientGetredirCmd(s *Shard, c *Client, argv [][]byte) {
	if !c.tracking() {
		c.Int(-1)
		return
	}
	c.Int(int64(c.track.redirect))
}

// CLIENT TRACKINGINFO: a map of flags (a set), redirect and prefixes, in
// Redis's order.
func clientTrackinginfoCmd(s *Shard, c *Client, argv [][]byte) {
	c.MapLen(3)
	c.BulkString("flags")
	var flags [7]string
	n := 0
	add := func(f string) { flags[n] = f; n++ }
	if !c.tracking() {
		add("off")
	} else {
		add("on")
		f := c.track.flags
		if f&trackBcast != 0 {
			add("bcast")
		}
		if f&trackOptin != 0 {
			add("optin")
			if f&trackCaching != 0 {
				add("caching-yes")
			}
		}
		if f&trackOptout != 0 {
			add("optout")
			if f&trackCaching != 0 {
				add("caching-no")
			}
		}
		if f&trackNoloop != 0 {
			add("noloop")
		}
		if f&trackBrokenRedir != 0 {
			add("broken_redirect")
		}
	}
	c.SetLen(n)
	for _, f := range flags[:n] {
		c.BulkString(f)
	}
	c.BulkString("redirect")
	if c.tracking() {
		c.Int(int64(c.track.redirect))
	} else {
		c.Int(-1)
	}
	c.BulkString("prefixes")
	if c.track == nil {
		c.ArrayLen(0)
		return
	}
	c.ArrayLen(len(c.track.prefixes))
	for _, p := range c.track.prefixes {
		c.BulkString(p)
	}
}

// appendTrackingFlags writes c's tracking flags for CLIENT LIST (t, R, B).
func (c *Client) appendTrackingFlags(b []byte) []byte {
	if !c.tracking() {
		return b
	}
	b = append(b, 't')
	if c.track.flags&trackBrokenRedir != 0 {
		b = append(b, 'R')
	}
	if c.track.flags&trackBcast != 0 {
		b = append(b, 'B')
	}
	return b
}

// trackingRedir is CLIENT LIST's redir= field: -1 when tracking is off.
func (c *Client) trackingRedir() string {
	if !c.tracking() {
		return "-1"
	}
	return strconv.FormatUint(c.track.redirect, 10)
}
