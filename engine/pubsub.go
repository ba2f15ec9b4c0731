package engine

import (
	"sort"

	"shoal/resp"
)

// Pub/sub within one shard, as Redis 7.0's pubsub.c: channels
// (SUBSCRIBE, PUBLISH), patterns (PSUBSCRIBE, matched with globMatch) and
// shard channels (SSUBSCRIBE, SPUBLISH; in cluster mode their names are
// the key specs, so they route to the slot's node as keys do).
//
// Ownership: the shard's loop owns all of it. PUBLISH (and a keyspace
// notification, notify.go) appends each message to the receiving
// clients' Out during the publisher's Exec and queues them on Pending;
// the loop sends them with the rest of the turn's output.
//
// Replies: in RESP2 the confirmations and messages are arrays; in RESP3
// they are push messages ('>'), so a RESP3 client in subscribed mode may
// run any command, while a RESP2 one may run only (P|S)SUBSCRIBE,
// (P|S)UNSUBSCRIBE, PING, QUIT and RESET (Shard.Exec checks it).
//
// A message to nobody allocates nothing: PUBLISH looks the channel up
// without converting it and walks the patterns, if any.

// pubsubState is the shard's side: who listens to what.
type pubsubState struct {
	channels map[string][]*Client // channel -> subscribers, in subscription order
	shard    map[string][]*Client // shard channel -> subscribers
	patterns []*patternSubs       // every pattern with a subscriber, in order of first subscription
	patIndex map[string]int       // pattern -> its index in patterns

	chanBuf, msgBuf, keyBuf []byte // scratch for keyspace notifications (notify.go)

	bus busState // PUBLISH's outbox to the cluster's other nodes (pubsub_bus.go)
}

type patternSubs struct {
	pattern []byte
	clients []*Client
}

// clientSubs is a client's side: its subscriptions. A client that never
// subscribed has none (Client.subs is nil).
type clientSubs struct {
	channels map[string]struct{}
	patterns map[string]struct{}
	shard    map[string]struct{}
}

// count is the client's channel and pattern subscriptions, the count
// (P)SUBSCRIBE and (P)UNSUBSCRIBE confirmations carry.
func (cs *clientSubs) count() int {
	if cs == nil {
		return 0
	}
	return len(cs.channels) + len(cs.patterns)
}

// shardCount is the count S(UN)SUBSCRIBE confirmations carry.
func (cs *clientSubs) shardCount() int {
	if cs == nil {
		return 0
	}
	return len(cs.shard)
}

// subscribed reports whether c has any subscription: Redis's
// CLIENT_PUBSUB flag (CLIENT LIST flag P; RESP2's subscribed mode).
func (c *Client) subscribed() bool {
	return c.subs != nil && len(c.subs.channels)+len(c.subs.patterns)+len(c.subs.shard) > 0
}

func (c *Client) ensureSubs() *clientSubs {
	if c.subs == nil {
		c.subs = &clientSubs{}
	}
	return c.subs
}

// Kinds of subscription; each has its own confirmation names.
const (
	subChannel = iota
	subPattern
	subShard
)

var subReplyNames = [...][2]string{
	subChannel: {"subscribe", "unsubscribe"},
	subPattern: {"psubscribe", "punsubscribe"},
	subShard:   {"ssubscribe", "sunsubscribe"},
}

// pushHeader starts a confirmation or message of n elements: an array in
// RESP2, a push in RESP3.
func (c *Client) pushHeader(n int) { c.Out = resp.AppendPushLen(c.Out, n, c.Resp3) }

// keepPush records that Out[start:] is a push, when the running command's
// reply is to be dropped (CLIENT REPLY OFF or SKIP): the push stays.
func (c *Client) keepPush(start int) {
	if c.reply&replySilenced != 0 {
		c.pushes = append(c.pushes, start, len(c.Out))
	}
}

// confirm writes a (un)subscribe confirmation; name nil is the null of
// UNSUBSCRIBE with nothing to unsubscribe from.
func (c *Client) confirm(kind int, unsub bool, name []byte, count int) {
	start := len(c.Out)
	c.pushHeader(3)
	i := 0
	if unsub {
		i = 1
	}
	c.BulkString(subReplyNames[kind][i])
	if name == nil {
		c.Null()
	} else {
		c.Bulk(name)
	}
	c.Int(int64(count))
	c.keepPush(start)
}

func (c *Client) countFor(kind int) int {
	if kind == subShard {
		return c.subs.shardCount()
	}
	return c.subs.count()
}

func (cs *clientSubs) set(kind int) *map[string]struct{} {
	switch kind {
	case subPattern:
		return &cs.patterns
	case subShard:
		return &cs.shard
	}
	return &cs.channels
}

// subscribe adds c to name's subscribers of kind unless already there,
// and confirms. O(1) (a pattern: O(1) too, kept in a slice with an index).
func (s *Shard) subscribe(c *Client, kind int, name []byte) {
	m := c.ensureSubs().set(kind)
	if _, ok := (*m)[string(name)]; !ok {
		if *m == nil {
			*m = make(map[string]struct{})
		}
		key := string(name)
		(*m)[key] = struct{}{}
		ps := &s.pubsub
		switch kind {
		case subChannel:
			if ps.channels == nil {
				ps.channels = make(map[string][]*Client)
			}
			ps.channels[key] = append(ps.channels[key], c)
		case subShard:
			if ps.shard == nil {
				ps.shard = make(map[string][]*Client)
			}
			ps.shard[key] = append(ps.shard[key], c)
		case subPattern:
			if ps.patIndex == nil {
				ps.patIndex = make(map[string]int)
			}
			i, ok := ps.patIndex[key]
			if !ok {
				i = len(ps.patterns)
				ps.patIndex[key] = i
				ps.patterns = append(ps.patterns, &patternSubs{pattern: []byte(key)})
			}
			ps.patterns[i].clients = append(ps.patterns[i].clients, c)
		}
	}
	c.confirm(kind, false, name, c.countFor(kind))
}

// unsubscribe removes c from name's subscribers of kind, confirming when
// reply is set (also when c was not subscribed to it, as Redis does).
// O(N) in the subscribers of name; a pattern O(N+P) with P patterns.
func (s *Shard) unsubscribe(c *Client, kind int, name []byte, reply bool) {
	if c.subs != nil {
		m := c.subs.set(kind)
		if _, ok := (*m)[string(name)]; ok {
			delete(*m, string(name))
			ps := &s.pubsub
			switch kind {
			case subChannel:
				if l := removeClient(ps.channels[string(name)], c); len(l) == 0 {
					delete(ps.channels, string(name))
				} else {
					ps.channels[string(name)] = l
				}
			case subShard:
				if l := removeClient(ps.shard[string(name)], c); len(l) == 0 {
					delete(ps.shard, string(name))
				} else {
					ps.shard[string(name)] = l
				}
			case subPattern:
				i := ps.patIndex[string(name)]
				p := ps.patterns[i]
				if p.clients = removeClient(p.clients, c); len(p.clients) == 0 {
					// Keep the order of the others: matching walks them in
					// the order they were first subscribed.
					delete(ps.patIndex, string(name))
					copy(ps.patterns[i:], ps.patterns[i+1:])
					ps.patterns[len(ps.patterns)-1] = nil
					ps.patterns = ps.patterns[:len(ps.patterns)-1]
					for j := i; j < len(ps.patterns); j++ {
						ps.patIndex[string(ps.patterns[j].pattern)] = j
					}
				}
			}
		}
	}
	if reply {
		c.confirm(kind, true, name, c.countFor(kind))
	}
}

// removeClient deletes c from l, keeping the order of the rest.
func removeClient(l []*Client, c *Client) []*Client {
	for i, x := range l {
		if x == c {
			copy(l[i:], l[i+1:])
			l[len(l)-1] = nil
			return l[:len(l)-1]
		}
	}
	return l
}

// unsubscribeAll removes every subscription of c of kind, confirming each
// when reply is set, and the null confirmation when there was none. The
// names go in byte order. O(N log N + the subscribers of each).
func (s *Shard) unsubscribeAll(c *Client, kind int, reply bool) {
	var names []string
	if c.subs != nil {
		for name := range *c.subs.set(kind) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		s.unsubscribe(c, kind, []byte(name), reply)
	}
	if reply && len(names) == 0 {
		c.confirm(kind, true, nil, c.countFor(kind))
	}
}

// dropSubscriptions forgets every subscription of c without replies: a
// closed connection, RESET.
func (s *Shard) dropSubscriptions(c *Client) {
	if c.subs == nil {
		return
	}
	s.unsubscribeAll(c, subChannel, false)
	s.unsubscribeAll(c, subPattern, false)
	s.unsubscribeAll(c, subShard, false)
	c.subs = nil
}

// pubsubOutputHardLimit is the output a subscriber may have pending before
// it is closed, Redis's default hard limit for the pubsub class
// (client-output-buffer-limit pubsub 32mb 8mb 60): a subscriber that does
// not read must not make the shard hold every message for it.
const pubsubOutputHardLimit = 32 << 20

// deliver appends one message to c and queues c for the loop. A client
// being closed gets nothing more (it still counts as a receiver, as in
// Redis); one whose pending output passes the hard limit is closed.
func (s *Shard) deliver(c *Client, kind string, pattern, channel, msg []byte) {
	if c.Flags&CloseASAP != 0 {
		return
	}
	start := len(c.Out)
	if pattern != nil {
		c.pushHeader(4)
		c.BulkString(kind)
		c.Bulk(pattern)
	} else {
		c.pushHeader(3)
		c.BulkString(kind)
	}
	c.Bulk(channel)
	c.Bulk(msg)
	c.keepPush(start)
	if len(c.Out) > pubsubOutputHardLimit {
		c.Flags |= CloseASAP
		logf("warning", "Client id=%d addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.", c.ID, c.Addr)
	}
	s.queue(c)
}

// publish sends msg on channel to its subscribers, then to the
// subscribers of every pattern it matches, and returns how many messages
// went out. O(N+M): N subscribers of the channel, M patterns.
func (s *Shard) publish(channel, msg []byte) int {
	n := 0
	ps := &s.pubsub
	for _, c := range ps.channels[string(channel)] {
		s.deliver(c, "message", nil, channel, msg)
		n++
	}
	for _, p := range ps.patterns {
		if !globMatch(p.pattern, channel, false) {
			continue
		}
		for _, c := range p.clients {
			s.deliver(c, "pmessage", p.pattern, channel, msg)
			n++
		}
	}
	return n
}

// spublish sends msg to the subscribers of shard channel. O(N).
func (s *Shard) spublish(channel, msg []byte) int {
	l := s.pubsub.shard[string(channel)]
	for _, c := range l {
		s.deliver(c, "smessage", nil, channel, msg)
	}
	return len(l)
}

// subscribedModeAllows reports whether a RESP2 client in subscribed mode
// may run cmd, as Redis's processCommand decides.
func subscribedModeAllows(cmd *Command) bool {
	switch cmd.FullName {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
		"psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	return false
}

// errSubscribedMode is Redis's refusal of cmd in RESP2 subscribed mode.
func errSubscribedMode(cmd *Command) string {
	return "ERR Can't execute '" + cmd.FullName + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

func init() {
	register(
		&Command{Name: "subscribe", Arity: -2,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "2.0.0",
			Summary:    "Listen for messages published to the given channels",
			Complexity: "O(N) where N is the number of channels to subscribe to.",
			Syntax:     "channel...",
			Proc:       subscribeCmd,
		},
		&Command{Name: "unsubscribe", Arity: -1,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "2.0.0",
			Summary:    "Stop listening for messages posted to the given channels",
			Complexity: "O(N) where N is the number of clients already subscribed to a channel.",
			Syntax:     "[channel...]",
			Proc:       unsubscribeCmd,
		},
		&Command{Name: "psubscribe", Arity: -2,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "2.0.0",
			Summary:    "Listen for messages published to channels matching the given patterns",
			Complexity: "O(N) where N is the number of patterns the client is already subscribed to.",
			Syntax:     "(pattern:pattern)...",
			Proc:       psubscribeCmd,
		},
		&Command{Name: "punsubscribe", Arity: -1,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "2.0.0",
			Summary:    "Stop listening for messages posted to channels matching the given patterns",
			Complexity: "O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).",
			Syntax:     "[pattern:pattern...]",
			Proc:       punsubscribeCmd,
		},
		&Command{Name: "publish", Arity: 3,
			Flags: FlagPubsub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate,
			Group: "pubsub", Since: "2.0.0",
			Summary:    "Post a message to a channel",
			Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Syntax:     "channel message",
			Proc:       publishCmd,
		},
		&Command{Name: "pubsub", Arity: -2,
			Group: "pubsub", Since: "2.8.0",
			Summary:    "A container for Pub/Sub commands",
			Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "channels", Arity: -2,
					Flags: FlagPubsub | FlagLoading | FlagStale,
					Group: "pubsub", Since: "2.8.0",
					Summary:    "List active channels",
					Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
					Syntax:     "[pattern:pattern]",
					Proc:       pubsubChannelsCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					Group: "pubsub", Since: "6.2.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       pubsubHelpCmd,
				},
				{Name: "numpat", Arity: 2,
					Flags: FlagPubsub | FlagLoading | FlagStale,
					Group: "pubsub", Since: "2.8.0",
					Summary:    "Get the count of unique patterns pattern subscriptions",
					Complexity: "O(1)",
					Proc:       pubsubNumpatCmd,
				},
				{Name: "numsub", Arity: -2,
					Flags: FlagPubsub | FlagLoading | FlagStale,
					Group: "pubsub", Since: "2.8.0",
					Summary:    "Get the count of subscribers for channels",
					Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
					Syntax:     "[channel...]",
					Proc:       pubsubNumsubCmd,
				},
				{Name: "shardchannels", Arity: -2,
					Flags: FlagPubsub | FlagLoading | FlagStale,
					Group: "pubsub", Since: "7.0.0",
					Summary:    "List active shard channels",
					Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
					Syntax:     "[pattern:pattern]",
					Proc:       pubsubShardchannelsCmd,
				},
				{Name: "shardnumsub", Arity: -2,
					Flags: FlagPubsub | FlagLoading | FlagStale,
					Group: "pubsub", Since: "7.0.0",
					Summary:    "Get the count of subscribers for shard channels",
					Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
					Syntax:     "[shardchannel...]",
					Proc:       pubsubShardnumsubCmd,
				},
			},
		},
		&Command{Name: "ssubscribe", Arity: -2,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "7.0.0",
			Summary:    "Listen for messages published to the given shard channels",
			Complexity: "O(N) where N is the number of shard channels to subscribe to.",
			Keys:       []KeySpec{{Flags: "NOT_KEY", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "shardchannel...",
			Proc:       ssubscribeCmd,
		},
		&Command{Name: "sunsubscribe", Arity: -1,
			Flags: FlagPubsub | FlagNoScript | FlagLoading | FlagStale,
			Group: "pubsub", Since: "7.0.0",
			Summary:    "Stop listening for messages posted to the given shard channels",
			Complexity: "O(N) where N is the number of clients already subscribed to a shard channel.",
			Keys:       []KeySpec{{Flags: "NOT_KEY", Begin: 1, LastKey: -1, Step: 1}},
			Syntax:     "[shardchannel...]",
			Proc:       sunsubscribeCmd,
		},
		&Command{Name: "spublish", Arity: 3,
			Flags: FlagPubsub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate,
			Group: "pubsub", Since: "7.0.0",
			Summary:    "Post a message to a shard channel",
			Complexity: "O(N) where N is the number of clients subscribed to the receiving shard channel.",
			Keys:       []KeySpec{{Flags: "NOT_KEY", Begin: 1, LastKey: 0, Step: 1}},
			Syntax:     "shardchannel message",
			Proc:       spublishCmd,
		},
	)
}

func subscribeCmd(s *Shard, c *Client, argv [][]byte)  { subscribeGeneric(s, c, argv, subChannel) }
func psubscribeCmd(s *Shard, c *Client, argv [][]byte) { subscribeGeneric(s, c, argv, subPattern) }
func ssubscribeCmd(s *Shard, c *Client, argv [][]byte) { subscribeGeneric(s, c, argv, subShard) }

func subscribeGeneric(s *Shard, c *Client, argv [][]byte, kind int) {
	for _, name := range argv[1:] {
		s.subscribe(c, kind, name)
	}
}

func unsubscribeCmd(s *Shard, c *Client, argv [][]byte) {
	unsubscribeGeneric(s, c, argv, subChannel)
}
func punsubscribeCmd(s *Shard, c *Client, argv [][]byte) {
	unsubscribeGeneric(s, c, argv, subPattern)
}
func sunsubscribeCmd(s *Shard, c *Client, argv [][]byte) {
	unsubscribeGeneric(s, c, argv, subShard)
}

func unsubscribeGeneric(s *Shard, c *Client, argv [][]byte, kind int) {
	if len(argv) == 1 {
		s.unsubscribeAll(c, kind, true)
		return
	}
	for _, name := range argv[1:] {
		s.unsubscribe(c, kind, name, true)
	}
}

// publishCmd: O(N+M), see publish.
func publishCmd(s *Shard, c *Client, argv [][]byte) {
	c.Int(int64(s.publish(argv[1], argv[2])))
	s.forward(argv[1], argv[2]) // to the cluster's other nodes (pubsub_bus.go)
}

// spublishCmd: O(N), see spublish.
func spublishCmd(s *Shard, c *Client, argv [][]byte) {
	c.Int(int64(s.spublish(argv[1], argv[2])))
}

// errPubsubSyntax is Redis's error for a PUBSUB subcommand given the
// wrong number of arguments that arity does not catch.
func errPubsubSyntax(sub []byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(sub), 128) + "'. Try PUBSUB HELP."
}

// pubsubChannelsCmd: O(N) in the active channels.
func pubsubChannelsCmd(s *Shard, c *Client, argv [][]byte) {
	listChannels(c, argv, s.pubsub.channels)
}

// pubsubShardchannelsCmd: O(N) in the active shard channels.
func pubsubShardchannelsCmd(s *Shard, c *Client, argv [][]byte) {
	listChannels(c, argv, s.pubsub.shard)
}

func listChannels(c *Client, argv [][]byte, m map[string][]*Client) {
	if len(argv) > 3 {
		c.Error(errPubsubSyntax(argv[1]))
		return
	}
	var pat []byte
	if len(argv) == 3 {
		pat = argv[2]
	}
	names := make([]string, 0, len(m))
	for name := range m {
		if pat == nil || globMatch(pat, []byte(name), false) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	c.ArrayLen(len(names))
	for _, name := range names {
		c.BulkString(name)
	}
}

// pubsubNumsubCmd: O(N) in the channels asked about.
func pubsubNumsubCmd(s *Shard, c *Client, argv [][]byte) {
	countSubscribers(c, argv, s.pubsub.channels)
}

// pubsubShardnumsubCmd: O(N) in the shard channels asked about.
func pubsubShardnumsubCmd(s *Shard, c *Client, argv [][]byte) {
	countSubscribers(c, argv, s.pubsub.shard)
}

func countSubscribers(c *Client, argv [][]byte, m map[string][]*Client) {
	c.ArrayLen(2 * (len(argv) - 2))
	for _, name := range argv[2:] {
		c.Bulk(name)
		c.Int(int64(len(m[string(name)])))
	}
}

// pubsubNumpatCmd: O(1); the number of distinct patterns subscribed.
func pubsubNumpatCmd(s *Shard, c *Client, argv [][]byte) {
	c.Int(int64(len(s.pubsub.patterns)))
}

var pubsubHelp = []helpEntry{
	{"channels", []string{"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*')."}},
	{"numpat", []string{"NUMPAT",
		"    Return number of subscriptions to patterns."}},
	{"numsub", []string{"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels)."}},
	{"shardchannels", []string{"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*')."}},
	{"shardnumsub", []string{"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)"}},
}

func pubsubHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "PUBSUB", s.helpLines("pubsub", pubsubHelp))
}
