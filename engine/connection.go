package engine

// The connection family: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET and
// CLIENT (CLIENT UNBLOCK in blocking.go, CLIENT PAUSE and UNPAUSE in
// pause.go).
// Each command acts on the calling connection's own Client, except CLIENT
// LIST and CLIENT KILL, which look at every client of the shard. A killed
// client is not closed here: it is flagged CloseASAP and queued on Pending,
// and the loop closes its connection at the end of the turn without sending
// it anything more.

func init() {
	register(
		&Command{Name: "ping", Arity: -1,
			Flags: FlagFast,
			ACL:   "@connection",
			Group: "connection", Since: "1.0.0",
			Summary:    "Ping the server",
			Complexity: "O(1)",
			Tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			Syntax:     "[message]",
			Proc:       pingCmd,
		},
		&Command{Name: "echo", Arity: 2,
			Flags: FlagLoading | FlagStale | FlagFast,
			ACL:   "@connection",
			Group: "connection", Since: "1.0.0",
			Summary:    "Echo the given string",
			Complexity: "O(1)",
			Syntax:     "message",
			Proc:       echoCmd,
		},
		&Command{Name: "hello", Arity: -1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			ACL:   "@connection",
			Group: "connection", Since: "6.0.0",
			Summary:    "Handshake with Redis",
			Complexity: "O(1)",
			History:    [][2]string{{"6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context."}},
			Syntax:     "arguments:[protover:integer [AUTH username_password:[username password]] [SETNAME clientname]]",
			Proc:       helloCmd,
		},
		&Command{Name: "auth", Arity: -2,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			ACL:   "@connection",
			Group: "connection", Since: "1.0.0",
			Summary:    "Authenticate to the server",
			Complexity: "O(N) where N is the number of passwords defined for the user",
			History:    [][2]string{{"6.0.0", "Added ACL style (username and password)."}},
			Syntax:     "[username@6.0.0] password",
			Proc:       authCmd,
		},
		&Command{Name: "select", Arity: 2,
			Flags: FlagLoading | FlagStale | FlagFast,
			ACL:   "@connection",
			Group: "connection", Since: "1.0.0",
			Summary:    "Change the selected database for the current connection",
			Complexity: "O(1)",
			Syntax:     "index:integer",
			Proc:       selectCmd,
		},
		&Command{Name: "quit", Arity: -1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			ACL:   "@connection",
			Group: "connection", Since: "1.0.0",
			Summary:    "Close the connection",
			Complexity: "O(1)",
			Proc:       quitCmd,
		},
		&Command{Name: "reset", Arity: 1,
			Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			ACL:   "@connection",
			Group: "connection", Since: "6.2.0",
			Summary:    "Reset the connection",
			Complexity: "O(1)",
			Proc:       resetCmd,
		},
		&Command{Name: "client", Arity: -2,
			Group: "connection", Since: "2.4.0",
			Summary:    "A container for client connection commands",
			Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "getname", Arity: 2,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "2.6.9",
					Summary:    "Get the current connection name",
					Complexity: "O(1)",
					Proc:       clientGetnameCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "5.0.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       clientHelpCmd,
				},
				{Name: "id", Arity: 2,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "5.0.0",
					Summary:    "Returns the client ID for the current connection",
					Complexity: "O(1)",
					Proc:       clientIDCmd,
				},
				{Name: "info", Arity: 2,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "6.2.0",
					Summary:    "Returns information about the current client connection.",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Proc:       clientInfoCmd,
				},
				{Name: "kill", Arity: -3,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "2.4.0",
					Summary:    "Kill the connection of a client",
					Complexity: "O(N) where N is the number of client connections",
					History:    [][2]string{{"2.8.12", "Added new filter format."}, {"2.8.12", "`ID` option."}, {"3.2.0", "Added `master` type in for `TYPE` option."}, {"5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."}, {"6.2.0", "`LADDR` option."}},
					Syntax:     "filter:(ip:port | new-format:([ID client-id:integer@2.8.12] | [TYPE normal_master_slave_pubsub:[NORMAL | MASTER@3.2.0 | SLAVE | REPLICA@5.0.0 | PUBSUB]@2.8.12] | [USER username] | [ADDR ip:port] | [LADDR ip:port@6.2.0] | [SKIPME yes/no])...)",
					Proc:       clientKillCmd,
				},
				{Name: "list", Arity: -2,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "2.4.0",
					Summary:    "Get the list of client connections",
					Complexity: "O(N) where N is the number of client connections",
					Tips:       []string{"nondeterministic_output"},
					History:    [][2]string{{"2.8.12", "Added unique client `id` field."}, {"5.0.0", "Added optional `TYPE` filter."}, {"6.0.0", "Added `user` field."}, {"6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."}, {"7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."}, {"7.0.3", "Added `ssub` field."}},
					Syntax:     "[TYPE normal_master_replica_pubsub:[NORMAL | MASTER | REPLICA | PUBSUB]@5.0.0] [ID id:[(client-id:integer...)]@6.2.0]",
					Proc:       clientListCmd,
				},
				{Name: "no-evict", Arity: 3,
					Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "7.0.0",
					Summary:    "Set client eviction mode for the current connection",
					Complexity: "O(1)",
					Syntax:     "enabled:(ON | OFF)",
					Proc:       clientNoEvictCmd,
				},
				{Name: "setinfo", Arity: 4,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "7.2.0",
					Summary:    "Set client or connection specific info",
					Complexity: "O(1)",
					Syntax:     "attr:(LIB-NAME libname | LIB-VER libver)",
					Proc:       clientSetinfoCmd,
				},
				{Name: "reply", Arity: 3,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "3.2.0",
					Summary:    "Instruct the server whether to reply to commands",
					Complexity: "O(1)",
					Syntax:     "(ON | OFF | SKIP)",
					Proc:       clientReplyCmd,
				},
				{Name: "setname", Arity: 3,
					Flags: FlagNoScript | FlagLoading | FlagStale,
					ACL:   "@connection",
					Group: "connection", Since: "2.6.9",
					Summary:    "Set the current connection name",
					Complexity: "O(1)",
					Syntax:     "connection-name",
					Proc:       clientSetnameCmd,
				},
				clientUnblockRow, // blocking.go
				// tracking.go:
				clientCachingRow, clientGetredirRow, clientTrackingRow, clientTrackinginfoRow,
				clientPauseRow, clientUnpauseRow,
			},
		},
	)
}

// Errors only this family replies.
const (
	errClientName      = "ERR Client names cannot contain spaces, newlines or special characters."
	errHelloProtover   = "ERR Protocol version is not an integer or out of range"
	errWrongPass       = "WRONGPASS invalid username-password pair or user is disabled."
	errNoSuchClient    = "ERR No such client"
	errKillClientID    = "ERR client-id should be greater than 0"
	errInvalidClientID = "ERR Invalid client ID"
	errAuthNoPassword  = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
)

// Client types, numbered as Redis numbers them (CLIENT_TYPE_*), for the
// TYPE filters of CLIENT LIST and CLIENT KILL.
const (
	clientTypeNormal  = 0
	clientTypeReplica = 1
	clientTypePubsub  = 2
	clientTypeMaster  = 3
)

// clientTypeByName reads a TYPE filter's value as Redis's
// getClientTypeByName: -1 when it names no type.
func clientTypeByName(b []byte) int {
	switch {
	case eqFold(b, "normal"):
		return clientTypeNormal
	case eqFold(b, "slave"), eqFold(b, "replica"):
		return clientTypeReplica
	case eqFold(b, "pubsub"):
		return clientTypePubsub
	case eqFold(b, "master"):
		return clientTypeMaster
	}
	return -1
}

// clientType is the type of c, as Redis's getClientType: pubsub for a
// client with subscriptions (pubsub.go), else normal (a shard has no
// replication links).
func clientType(c *Client) int {
	if c.subscribed() {
		return clientTypePubsub
	}
	return clientTypeNormal
}

// defaultUser is the one ACL user a shard has. Like Redis's default user
// as it starts (nopass), it accepts any password.
const defaultUser = "default"

// authenticate checks a user name and password as Redis's ACL does for
// a server with only its default user.
func authenticate(user, pass []byte) bool { return string(user) == defaultUser }

// validClientAttr reports whether v may be a client name, library name or
// library version: printable ASCII without spaces, so that every CLIENT
// LIST field stays one space-separated word. The empty string is valid
// (it clears the attribute).
func validClientAttr(v []byte) bool {
	for _, b := range v {
		if b < '!' || b > '~' {
			return false
		}
	}
	return true
}

func pingCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 2 {
		c.Error(errWrongArgs("ping"))
		return
	}
	if c.subscribed() && !c.Resp3 {
		// In RESP2 subscribed mode PING answers in the shape of a message.
		c.ArrayLen(2)
		c.BulkString("pong")
		if len(argv) == 1 {
			c.BulkString("")
		} else {
			c.Bulk(argv[1])
		}
		return
	}
	if len(argv) == 1 {
		c.Out = append(c.Out, "+PONG\r\n"...)
		return
	}
	c.Bulk(argv[1])
}

func echoCmd(s *Shard, c *Client, argv [][]byte) { c.Bulk(argv[1]) }

// authCmd authenticates the connection as Redis 7.0 does with no password
// configured: the one-argument form (the legacy requirepass password)
// is refused, since the default user has none; the two-argument form
// succeeds for the default user, which accepts any password, and answers
// WRONGPASS for any other user name. Every connection is already
// authenticated as the default user, so success changes nothing. As in
// Redis, the slow log shows the arguments after AUTH as "(redacted)",
// unless there are too many of them.
func authCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) <= 3 {
		for j := 1; j < len(argv); j++ {
			s.redactArg(argv, j)
		}
	}
	switch {
	case len(argv) > 3:
		c.Error(errSyntax)
	case len(argv) == 2:
		c.Error(errAuthNoPassword)
	case !authenticate(argv[1], argv[2]):
		c.Error(errWrongPass)
	default:
		c.OK()
	}
}

// helloCmd switches the protocol, authenticates and names the connection,
// as Redis 7.0: options are handled in order (AUTH checks the password
// where it stands, SETNAME validates the name), and the name is set and
// the protocol switched only once every option passed. The user name and
// password of each AUTH option reached are "(redacted)" in the slow log.
func helloCmd(s *Shard, c *Client, argv [][]byte) {
	var ver int64
	next := 1
	if len(argv) >= 2 {
		v, ok := parseInt(argv[1])
		if !ok {
			c.Error(errHelloProtover)
			return
		}
		if v < 2 || v > 3 {
			c.Error(errNoAuthHello)
			return
		}
		ver, next = v, 2
	}
	var name []byte
	setName := false
	for j := next; j < len(argv); j++ {
		more := len(argv) - 1 - j
		switch {
		case eqFold(argv[j], "auth") && more >= 2:
			s.redactArg(argv, j+1)
			s.redactArg(argv, j+2)
			if !authenticate(argv[j+1], argv[j+2]) {
				c.Error(errWrongPass)
				return
			}
			j += 2
		case eqFold(argv[j], "setname") && more >= 1:
			if !validClientAttr(argv[j+1]) {
				c.Error(errClientName)
				return
			}
			name, setName = argv[j+1], true
			j++
		default:
			c.Error("ERR Syntax error in HELLO option '" + string(argv[j]) + "'")
			return
		}
	}
	if setName {
		c.name = string(name)
	}
	if ver != 0 {
		c.Resp3 = ver == 3
	}
	proto := int64(2)
	if c.Resp3 {
		proto = 3
	}
	c.MapLen(7)
	c.BulkString("server")
	c.BulkString("redis")
	c.BulkString("version")
	c.BulkString(RedisVersion)
	c.BulkString("proto")
	c.Int(proto)
	c.BulkString("id")
	c.Int(int64(c.ID))
	c.BulkString("mode")
	c.BulkString(s.mode())
	c.BulkString("role")
	c.BulkString("master")
	c.BulkString("modules")
	c.EmptyArray()
}

// selectCmd accepts database 0 only: a shard holds one database, as a
// Redis Cluster node does.
func selectCmd(s *Shard, c *Client, argv [][]byte) {
	id, ok := parseInt(argv[1])
	if !ok {
		c.Error(errNotInt)
		return
	}
	if id < -1<<31 || id > 1<<31-1 {
		c.Error(errIntRange)
		return
	}
	if s.cluster != nil && id != 0 {
		c.Error(errSelectCluster)
		return
	}
	if id != 0 {
		c.Error(errDBIndex)
		return
	}
	c.db = 0
	c.OK()
}

func quitCmd(s *Shard, c *Client, argv [][]byte) {
	c.OK()
	c.Flags |= CloseAfterReply
}

// resetCmd brings the connection back to the state of a new one, as Redis
// 7.0's RESET: RESP2, database 0, no name, replies on. The id, the
// addresses, the library name and version set with CLIENT SETINFO and the
// CLIENT NO-EVICT protection stay, as in Redis 7.0 (its RESET clears only
// the flags it lists, and no-evict is not among them); READONLY is undone.
// Any per-connection state a command family adds must be cleared here too.
func resetCmd(s *Shard, c *Client, argv [][]byte) {
	s.discardTx(c) // MULTI and WATCH (multi.go)
	s.dropSubscriptions(c)
	s.stopMonitor(c)
	s.disableTracking(c)
	c.db = 0
	c.readonly = false
	c.Resp3 = false
	c.name = ""
	c.reply, c.pushes = 0, c.pushes[:0]
	c.Simple("RESET")
}

func clientIDCmd(s *Shard, c *Client, argv [][]byte) { c.Int(int64(c.ID)) }

// clientReplyCmd sets the CLIENT REPLY mode; only ON replies, as in Redis.
func clientReplyCmd(s *Shard, c *Client, argv [][]byte) {
	switch {
	case eqFold(argv[2], "on"):
		c.reply, c.pushes = 0, c.pushes[:0]
		c.OK()
	case eqFold(argv[2], "off"):
		c.reply |= replyOff
	case eqFold(argv[2], "skip"):
		if c.reply&replyOff == 0 {
			c.reply |= replySkipNext
		}
	default:
		c.Error(errSyntax)
	}
}

func clientGetnameCmd(s *Shard, c *Client, argv [][]byte) {
	if c.name == "" {
		c.Null()
		return
	}
	c.BulkString(c.name)
}

func clientSetnameCmd(s *Shard, c *Client, argv [][]byte) {
	if !validClientAttr(argv[2]) {
		c.Error(errClientName)
		return
	}
	c.name = string(argv[2])
	c.OK()
}

// clientSetinfoCmd sets the library name or version a client reports
// (Redis 7.2). The error names the attribute as the client wrote it.
func clientSetinfoCmd(s *Shard, c *Client, argv [][]byte) {
	attr, val := argv[2], argv[3]
	var dst *string
	switch {
	case eqFold(attr, "lib-name"):
		dst = &c.libName
	case eqFold(attr, "lib-ver"):
		dst = &c.libVer
	default:
		c.Error("ERR Unrecognized option '" + string(attr) + "'")
		return
	}
	if !validClientAttr(val) {
		c.Error("ERR " + string(attr) + " cannot contain spaces, newlines or special characters.")
		return
	}
	*dst = string(val)
	c.OK()
}

func clientNoEvictCmd(s *Shard, c *Client, argv [][]byte) {
	switch {
	case eqFold(argv[2], "on"):
		c.noEvict = true
	case eqFold(argv[2], "off"):
		c.noEvict = false
	default:
		c.Error(errSyntax)
		return
	}
	c.OK()
}

// clientInfoCmd replies the calling client's CLIENT LIST line, ended by a
// newline, as a verbatim string in RESP3.
func clientInfoCmd(s *Shard, c *Client, argv [][]byte) {
	b := c.appendInfoLine(nil, s.nowMs)
	c.Verbatim(append(b, '\n'))
}

// clientListCmd replies one line per client, in id order, filtered by
// TYPE or by a list of ids (listed in the order given, repeats included,
// as Redis does). Clients killed but not yet closed are not listed.
func clientListCmd(s *Shard, c *Client, argv [][]byte) {
	var out []byte
	switch {
	case len(argv) == 4 && eqFold(argv[2], "type"):
		typ := clientTypeByName(argv[3])
		if typ == -1 {
			c.Error("ERR Unknown client type '" + string(argv[3]) + "'")
			return
		}
		for _, t := range s.sortedClients() {
			if t.Flags&CloseASAP == 0 && clientType(t) == typ {
				out = append(t.appendInfoLine(out, s.nowMs), '\n')
			}
		}
	case len(argv) > 3 && eqFold(argv[2], "id"):
		for _, a := range argv[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.Error(errInvalidClientID)
				return
			}
			if t := s.clients[uint64(id)]; id > 0 && t != nil && t.Flags&CloseASAP == 0 {
				out = append(t.appendInfoLine(out, s.nowMs), '\n')
			}
		}
	case len(argv) != 2:
		c.Error(errSyntax)
		return
	default:
		for _, t := range s.sortedClients() {
			if t.Flags&CloseASAP == 0 {
				out = append(t.appendInfoLine(out, s.nowMs), '\n')
			}
		}
	}
	c.Verbatim(out)
}

// killFilter is what CLIENT KILL matches clients against; zero values
// match every client.
type killFilter struct {
	addr, laddr       string
	hasAddr, hasLaddr bool
	typ               int // -1: any
	id                uint64
	skipMe            bool
}

// clientKillCmd closes the matching clients: the old form (one address;
// +OK, or an error when none matched; it may kill the caller) or the
// filter form (the number of clients killed; the caller is skipped unless
// SKIPME no). The caller, when killed, gets its reply before it is closed.
func clientKillCmd(s *Shard, c *Client, argv [][]byte) {
	f := killFilter{typ: -1, skipMe: true}
	if len(argv) == 3 {
		f.addr, f.hasAddr, f.skipMe = string(argv[2]), true, false
	} else {
		for i := 2; i < len(argv); i += 2 {
			opt, more := argv[i], i+1 < len(argv)
			if !more {
				c.Error(errSyntax)
				return
			}
			val := argv[i+1]
			switch {
			case eqFold(opt, "id"):
				id, ok := parseInt(val)
				if !ok || id < 1 {
					c.Error(errKillClientID)
					return
				}
				f.id = uint64(id)
			case eqFold(opt, "type"):
				if f.typ = clientTypeByName(val); f.typ == -1 {
					c.Error("ERR Unknown client type '" + string(val) + "'")
					return
				}
			case eqFold(opt, "addr"):
				f.addr, f.hasAddr = string(val), true
			case eqFold(opt, "laddr"):
				f.laddr, f.hasLaddr = string(val), true
			case eqFold(opt, "user"):
				// Every client is authenticated as the one user there is.
				if string(val) != defaultUser {
					c.Error("ERR No such user '" + string(val) + "'")
					return
				}
			case eqFold(opt, "skipme"):
				switch {
				case eqFold(val, "yes"):
					f.skipMe = true
				case eqFold(val, "no"):
					f.skipMe = false
				default:
					c.Error(errSyntax)
					return
				}
			default:
				c.Error(errSyntax)
				return
			}
		}
	}
	killed, self := s.killClients(c, &f)
	if len(argv) == 3 {
		if killed == 0 {
			c.Error(errNoSuchClient)
		} else {
			c.OK()
		}
	} else {
		c.Int(int64(killed))
	}
	if self {
		c.Flags |= CloseAfterReply
	}
}

// killClients flags every client matching f to be closed and queues it for
// the loop; the caller c is only reported (self), so that it still gets
// its reply. Clients already being closed are not counted again. O(N) in
// the number of clients.
func (s *Shard) killClients(c *Client, f *killFilter) (killed int, self bool) {
	for _, t := range s.clients {
		switch {
		case t.Flags&CloseASAP != 0,
			f.hasAddr && t.Addr != f.addr,
			f.hasLaddr && t.LAddr != f.laddr,
			f.typ != -1 && clientType(t) != f.typ,
			f.id != 0 && t.ID != f.id,
			t == c && f.skipMe:
			continue
		}
		if t == c {
			self = true
		} else {
			t.Flags |= CloseASAP
			s.queue(t)
		}
		killed++
	}
	return killed, self
}

// helpEntry is one subcommand's lines in a container's HELP reply. HELP
// lists only the subcommands the table has.
type helpEntry struct {
	sub   string
	lines []string
}

// clientHelp is Redis 7.2's CLIENT HELP text, in its order.
var clientHelp = []helpEntry{
	{"caching", []string{"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes."}},
	{"getredir", []string{"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled."}},
	{"getname", []string{"GETNAME",
		"    Return the name of the current connection."}},
	{"id", []string{"ID",
		"    Return the ID of the current connection."}},
	{"info", []string{"INFO",
		"    Return information about the current client connection."}},
	{"kill", []string{"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes)."}},
	{"list", []string{"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type."}},
	{"unpause", []string{"UNPAUSE",
		"    Stop the current client pause, resuming traffic."}},
	{"pause", []string{"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds."}},
	{"reply", []string{"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection."}},
	{"setname", []string{"SETNAME <name>",
		"    Assign the name <name> to the current connection."}},
	{"setinfo", []string{"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version."}},
	{"unblock", []string{"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client."}},
	{"tracking", []string{"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching."}},
	{"trackinginfo", []string{"TRACKINGINFO",
		"    Report tracking status for the current connection."}},
	{"no-evict", []string{"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction."}},
	{"no-touch", []string{"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on."}},
}

func clientHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "CLIENT", s.helpLines("client", clientHelp))
}

// helpLines keeps the entries of a container's help whose subcommand the
// command table has.
func (s *Shard) helpLines(container string, entries []helpEntry) []string {
	var lines []string
	cmd := s.cmds.byName[container]
	for _, e := range entries {
		if cmd != nil && cmd.subs[e.sub] != nil {
			lines = append(lines, e.lines...)
		}
	}
	return lines
}

// isLocalAddr reports whether a client address ("ip:port", "[ip6]:port",
// "/path:0" for a unix socket) is local the way Redis's islocalClient
// decides: a unix socket, 127.0.0.1 or ::1.
func isLocalAddr(addr string) bool {
	if len(addr) > 0 && addr[0] == '/' {
		return true
	}
	host := addr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			host = host[:i]
			break
		}
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host == "127.0.0.1" || host == "::1"
}
