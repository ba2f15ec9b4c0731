package engine

import (
	"strconv"

	"shoal/resp"
)

// ClientFlags are the states of a client that the loop acts on.
type ClientFlags uint32

const (
	// CloseAfterReply: send what is in Out, then close (QUIT, protocol
	// errors, output limits).
	CloseAfterReply ClientFlags = 1 << iota
	// CloseASAP: close without sending more (CLIENT KILL).
	CloseASAP
)

// Client is the engine's side of one connection. The loop creates it with
// Shard.NewClient, fills the connection fields, feeds commands to
// Shard.Exec, and sends Out.
//
// Out belongs to the loop between turns: the engine only appends to it
// during Exec (or while another client's command publishes to this one);
// the loop hands a prefix of it to the kernel and trims it when sent.
type Client struct {
	ID    uint64
	Out   []byte
	Flags ClientFlags
	Resp3 bool

	// Filled by the loop; read by CLIENT LIST / CLIENT INFO / CLIENT KILL.
	Addr      string // "ip:port" of the peer ("/path:0" for unix sockets)
	LAddr     string // local "ip:port"
	FD        int
	QueryBuf  int   // bytes of input waiting to be parsed
	QueryFree int   // free bytes in the input buffer
	Handle    int32 // the loop's own reference to its connection

	reply    uint8 // CLIENT REPLY mode: replyOff, replySkip, replySkipNext, replySilenced bits
	pushes   []int // while replySilenced: start and end in Out of each push written (kept)
	name     string
	libName  string
	libVer   string
	created  int64 // unix ms
	lastAt   int64 // unix ms of the last command
	lastCmd  *Command
	db       int
	noEvict  bool
	readonly bool // READONLY (cluster mode): shown as flag r; a shard has no replicas, so it changes no routing
	monitor  bool // MONITOR: on the shard's monitors (monitor.go)
	// scriptCaller is set on the client scripts call commands through
	// (evallua.go): the client whose script is running.
	scriptCaller *Client

	shard   *Shard
	blk     *blockedOn  // what the client waits for in a blocking command (blocking.go); nil when not blocked
	subs    *clientSubs // its pub/sub subscriptions (pubsub.go); nil until it first subscribes
	tx      *txState    // MULTI and WATCH state (multi.go); nil until the first MULTI or WATCH
	pending bool        // queued on Shard.Pending
	closed  bool        // Unregister'ed

	track *clientTracking // CLIENT TRACKING state (tracking.go); nil until tracking is first turned on
}

// CLIENT REPLY modes, as Redis's CLIENT_REPLY_OFF / _SKIP / _SKIP_NEXT.
const (
	replyOff      uint8 = 1 << iota // no replies until CLIENT REPLY ON
	replySkip                       // no reply to the current command
	replySkipNext                   // no reply to the next command
	replySilenced                   // the running command's reply is dropped, its pushes kept
)

// Name is the name set with CLIENT SETNAME or HELLO SETNAME.
func (c *Client) Name() string { return c.name }

// LastActive is the unix time in ms of the client's last command (or of
// its connection), for the loop's idle timeout.
func (c *Client) LastActive() int64 { return c.lastAt }

// Reply helpers: each appends one RESP value to Out in the client's
// protocol. None allocates beyond growing Out.

func (c *Client) OK()                 { c.Out = append(c.Out, "+OK\r\n"...) }
func (c *Client) Simple(s string)     { c.Out = resp.AppendSimple(c.Out, s) }
func (c *Client) Int(n int64)         { c.Out = resp.AppendInt(c.Out, n) }
func (c *Client) Bulk(b []byte)       { c.Out = resp.AppendBulk(c.Out, b) }
func (c *Client) BulkString(s string) { c.Out = resp.AppendBulkString(c.Out, s) }
func (c *Client) BulkInt(n int64)     { c.Out = resp.AppendBulkInt(c.Out, n) }
func (c *Client) Null()               { c.Out = resp.AppendNull(c.Out, c.Resp3) }
func (c *Client) NullArray()          { c.Out = resp.AppendNullArray(c.Out, c.Resp3) }
func (c *Client) ArrayLen(n int)      { c.Out = resp.AppendArrayLen(c.Out, n) }
func (c *Client) MapLen(n int)        { c.Out = resp.AppendMapLen(c.Out, n, c.Resp3) }
func (c *Client) SetLen(n int)        { c.Out = resp.AppendSetLen(c.Out, n, c.Resp3) }
func (c *Client) Double(f float64)    { c.Out = resp.AppendDouble(c.Out, f, c.Resp3) }
func (c *Client) Bool(v bool)         { c.Out = resp.AppendBool(c.Out, v, c.Resp3) }
func (c *Client) Verbatim(s []byte)   { c.Out = resp.AppendVerbatim(c.Out, s, "txt", c.Resp3) }
func (c *Client) EmptyArray()         { c.Out = append(c.Out, "*0\r\n"...) }
func (c *Client) BulkStrings(ss ...string) {
	c.ArrayLen(len(ss))
	for _, s := range ss {
		c.BulkString(s)
	}
}

// Error appends an error reply. msg carries its code ("ERR ...",
// "WRONGTYPE ...") and no CRLF; newlines in it are turned into spaces as
// Redis does, so a reply is always one line. Every error reply is counted
// for INFO errorstats.
func (c *Client) Error(msg string) {
	c.Out = append(c.Out, '-')
	start := len(c.Out)
	c.Out = append(c.Out, msg...)
	for i := start; i < len(c.Out); i++ {
		if c.Out[i] == '\r' || c.Out[i] == '\n' {
			c.Out[i] = ' '
		}
	}
	c.Out = append(c.Out, '\r', '\n')
	if c.shard != nil {
		c.shard.countError(msg)
	}
}

// appendInfoLine writes the CLIENT LIST / CLIENT INFO line of c (without
// the trailing newline) in Redis's field order.
func (c *Client) appendInfoLine(b []byte, now int64) []byte {
	b = append(b, "id="...)
	b = strconv.AppendUint(b, c.ID, 10)
	b = append(b, " addr="...)
	b = append(b, c.Addr...)
	b = append(b, " laddr="...)
	b = append(b, c.LAddr...)
	b = append(b, " fd="...)
	b = strconv.AppendInt(b, int64(c.FD), 10)
	b = append(b, " name="...)
	b = append(b, c.name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, (now-c.created)/1000, 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, (now-c.lastAt)/1000, 10)
	b = append(b, " flags="...)
	flags := len(b)
	if c.monitor {
		b = append(b, 'O')
	}
	if c.subscribed() {
		b = append(b, 'P')
	}
	if c.inMulti() {
		b = append(b, 'x')
	}
	if c.blk != nil && !c.blk.released {
		b = append(b, 'b')
	}
	b = c.appendTrackingFlags(b)
	if c.tx != nil && c.tx.dirty {
		b = append(b, 'd')
	}
	if c.Flags&CloseAfterReply != 0 {
		b = append(b, 'c')
	}
	if c.Flags&CloseASAP != 0 {
		b = append(b, 'A')
	}
	if c.readonly {
		b = append(b, 'r')
	}
	if c.noEvict {
		b = append(b, 'e')
	}
	if len(b) == flags {
		b = append(b, 'N')
	}
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(c.db), 10)
	b = append(b, " sub="...)
	var sub, psub, ssub int
	if c.subs != nil {
		sub, psub, ssub = len(c.subs.channels), len(c.subs.patterns), len(c.subs.shard)
	}
	b = strconv.AppendInt(b, int64(sub), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(psub), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(ssub), 10)
	b = append(b, " multi="...)
	queued, multiMem := c.txInfo()
	b = strconv.AppendInt(b, int64(queued), 10)
	b = append(b, " qbuf="...)
	b = strconv.AppendInt(b, int64(c.QueryBuf), 10)
	b = append(b, " qbuf-free="...)
	b = strconv.AppendInt(b, int64(c.QueryFree), 10)
	b = append(b, " argv-mem=0 multi-mem="...)
	b = strconv.AppendInt(b, int64(multiMem), 10)
	b = append(b, " rbs="...)
	b = strconv.AppendInt(b, int64(cap(c.Out)), 10)
	b = append(b, " rbp="...)
	b = strconv.AppendInt(b, int64(cap(c.Out)), 10)
	b = append(b, " obl="...)
	b = strconv.AppendInt(b, int64(len(c.Out)), 10)
	b = append(b, " oll=0 omem=0 tot-mem="...)
	b = strconv.AppendInt(b, int64(c.QueryBuf+c.QueryFree+cap(c.Out)), 10)
	b = append(b, " events=r cmd="...)
	if c.lastCmd != nil {
		b = append(b, c.lastCmd.FullName...)
	} else {
		b = append(b, "NULL"...)
	}
	b = append(b, " user=default redir="...)
	b = append(b, c.trackingRedir()...)
	b = append(b, " resp="...)
	if c.Resp3 {
		b = append(b, '3')
	} else {
		b = append(b, '2')
	}
	b = append(b, " lib-name="...)
	b = append(b, c.libName...)
	b = append(b, " lib-ver="...)
	b = append(b, c.libVer...)
	return b
}
