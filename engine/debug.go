package engine

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"shoal/engine/internal/kv"
	"shoal/engine/internal/listpack"
	"shoal/engine/internal/rdb"
	"shoal/resp"
)

// DEBUG, the command Redis's own test suite and many client libraries'
// tests drive the server with, with Redis 7.0's subcommands, replies and
// errors for the part Shoal has:
//
//	CHANGE-REPL-ID                OK (logged; a shard has no replicas)
//	DIGEST / DIGEST-VALUE key...  Redis's SHA1 digest of the data set or
//	                              of values, bit for bit (see digest)
//	ERROR string                  an error reply of string
//	LOG message                   message in the log
//	LOADAOF                       the AOF written out and loaded again
//	OBJECT key                    Redis's line about the value
//	POPULATE count [prefix] [size]  count string keys, as Redis makes them
//	PROTOCOL type                 a sample reply of each RESP type
//	RELOAD [MERGE|NOFLUSH|NOSAVE] the data set saved in RDB form and
//	                              loaded back (in memory)
//	SET-ACTIVE-EXPIRE 0|1         active expiry off or on
//	QUICKLIST-PACKED-THRESHOLD n  validated and accepted (see below)
//	SLEEP seconds                 the shard stopped that long
//	STRINGMATCH-TEST              the glob matcher fuzzed
//	LISTPACK key, QUICKLIST key   a value's containers written to the log
//
// Every other subcommand Redis has (the crash and restart ones, MALLCTL,
// JMAP, HTSTATS, ...) gets Redis's unknown subcommand error, and HELP
// lists only what is here.
//
// As in Redis 7, DEBUG is refused unless enable-debug-command allows it:
// "yes" for every client, "local" for clients on the loopback interface
// or a unix socket. The check is made when the command runs (in a
// transaction, at EXEC).
//
// Everything runs on the shard's loop and holds it for as long as it
// takes: SLEEP on purpose, and RELOAD, DIGEST and POPULATE for O(size of
// the data set), as in Redis. RELOAD holds the data set's RDB form in
// memory besides the data set itself while it runs, where Redis writes a
// file.
//
// Shoal's quicklists have no plain nodes (Redis 7.0 stores an element
// above the packed threshold alone in a node of its own, outside any
// listpack): every node is a listpack, so the threshold changes nothing
// and QUICKLIST-PACKED-THRESHOLD only checks and keeps its argument.

// debugState holds DEBUG's switches. It belongs to the shard's loop.
type debugState struct {
	noActiveExpire  bool   // SET-ACTIVE-EXPIRE 0: ActiveExpire does nothing
	packedThreshold uint64 // QUICKLIST-PACKED-THRESHOLD's last value, unused (see above)
}

func init() {
	register(&Command{Name: "debug", Arity: -2,
		// Never recorded in the AOF: what DEBUG changes (RELOAD,
		// POPULATE, LOADAOF) is not propagated in Redis either.
		Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoPropagate,
		ACL:   "@admin @slow @dangerous",
		Group: "server", Since: "1.0.0",
		Summary:    "A container for debugging commands",
		Complexity: "Depends on subcommand.",
		DocFlags:   []string{"syscmd"},
		Proc:       debugCmd,
	})
}

const (
	errDebugNotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", " +
		"you can run it from a local connection, otherwise you need to set this option in the configuration file, " +
		"and then restart the server."
	errDebugReloadOption = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
	errDebugLoad         = "ERR Error trying to load the RDB dump"
	errDebugProtocol     = "ERR Wrong protocol type name. Please use one of the following: " +
		"string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"
	errDebugThreshold = "ERR argument must be a memory value bigger than 1 and smaller than 4gb"
)

// debugSub is one subcommand: its name, the argument counts (DEBUG and
// the name included) it takes, and what it does.
type debugSub struct {
	name     string
	min, max int
	proc     func(s *Shard, c *Client, argv [][]byte)
}

var debugSubs = []debugSub{
	{"help", 2, 2, func(s *Shard, c *Client, argv [][]byte) { replyHelp(c, "DEBUG", debugHelp) }},
	{"log", 3, 3, debugLogCmd},
	{"reload", 2, math.MaxInt, debugReloadCmd},
	{"loadaof", 2, math.MaxInt, debugLoadAOFCmd},
	{"object", 3, 3, debugObjectCmd},
	{"listpack", 3, 3, debugListpackCmd},
	{"quicklist", 3, 4, debugQuicklistCmd},
	{"populate", 3, 5, debugPopulateCmd},
	{"digest", 2, 2, debugDigestCmd},
	{"digest-value", 2, math.MaxInt, debugDigestValueCmd},
	{"protocol", 3, 3, debugProtocolCmd},
	{"sleep", 3, 3, debugSleepCmd},
	{"set-active-expire", 3, 3, debugSetActiveExpireCmd},
	{"quicklist-packed-threshold", 3, 3, debugPackedThresholdCmd},
	{"error", 3, 3, debugErrorCmd},
	{"change-repl-id", 2, 2, debugChangeReplIDCmd},
	{"stringmatch-test", 2, 2, debugStringmatchTestCmd},
}

// debugHelp is Redis 7.0's help text for the subcommands Shoal has, in
// its order.
var debugHelp = []string{
	"CHANGE-REPL-ID",
	"    Change the replication IDs of the instance.",
	"    Dangerous: should be used only for testing the replication subsystem.",
	"DIGEST",
	"    Output a hex signature representing the current DB content.",
	"DIGEST-VALUE <key> [<key> ...]",
	"    Output a hex signature of the values of all the specified keys.",
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"LOADAOF",
	"    Flush the AOF buffers on disk and reload the AOF in memory.",
	"OBJECT <key>",
	"    Show low level info about `key` and associated value.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"RELOAD [option ...]",
	"    Save the RDB on disk and reload it back to memory. Valid <option> values:",
	"    * MERGE: conflicting keys will be loaded from RDB.",
	"    * NOFLUSH: the existing database will not be removed before load, but",
	"      conflicting keys will generate an exception and kill the server.",
	"    * NOSAVE: the database will be loaded from an existing RDB file.",
	"    Examples:",
	"    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
	"      the database.",
	"    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
	"      existing RDB file.",
	"    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
	"      file to the database.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"QUICKLIST-PACKED-THRESHOLD <size>",
	"    Sets the threshold for elements to be inserted as plain vs packed nodes",
	"    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
	"STRINGMATCH-TEST",
	"    Run a fuzz tester against the stringmatchlen() function.",
	"LISTPACK <key>",
	"    Show low level info about the listpack encoding of <key>.",
	"QUICKLIST <key> [<0|1>]",
	"    Show low level info about the quicklist encoding of <key>.",
	"    The optional argument (0 by default) sets the level of detail",
}

// debugAllowed reports whether c may run DEBUG, as enable-debug-command
// says.
func (s *Shard) debugAllowed(c *Client) bool {
	switch s.Config.EnableDebugCommand {
	case "yes":
		return true
	case "local":
		return isLocalAddr(c.Addr)
	}
	return false
}

func debugCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.debugAllowed(c) {
		c.Error(errDebugNotAllowed)
		return
	}
	for i := range debugSubs {
		d := &debugSubs[i]
		if eqFold(argv[1], d.name) && len(argv) >= d.min && len(argv) <= d.max {
			d.proc(s, c, argv)
			return
		}
	}
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(argv[1]), 128) + "'. Try DEBUG HELP.")
}

func debugLogCmd(s *Shard, c *Client, argv [][]byte) {
	logf("warning", "DEBUG LOG: %s", cString(argv[2]))
	c.OK()
}

// DEBUG ERROR string: string as an error reply, as it is (no code is
// added; CR and LF become spaces). Written directly, as Redis writes it:
// it does not count in INFO errorstats.
func debugErrorCmd(s *Shard, c *Client, argv [][]byte) {
	c.Out = append(c.Out, '-')
	start := len(c.Out)
	c.Out = append(c.Out, argv[2]...)
	for i := start; i < len(c.Out); i++ {
		if c.Out[i] == '\r' || c.Out[i] == '\n' {
			c.Out[i] = ' '
		}
	}
	c.Out = append(c.Out, '\r', '\n')
}

func debugChangeReplIDCmd(s *Shard, c *Client, argv [][]byte) {
	logf("warning", "Changing replication IDs after receiving DEBUG change-repl-id")
	c.OK()
}

// DEBUG SLEEP seconds: the argument is read as C's strtod reads it (the
// longest number at its start; 0 when there is none) and the loop stops
// for that long, serving nobody, as Redis's nanosleep does. Nothing
// happens for a time that is not positive or does not fit in int64
// microseconds.
func debugSleepCmd(s *Shard, c *Client, argv [][]byte) {
	us := strtodPrefix(argv[2]) * 1e6
	if us >= 1 && us < math.MaxInt64 {
		time.Sleep(time.Duration(int64(us)) * time.Microsecond)
	}
	c.OK()
}

// strtodPrefix is C's strtod on b (as a C string): leading white space,
// then the longest prefix that is a decimal number, "inf", "infinity" or
// "nan" in any case; 0 when none.
func strtodPrefix(b []byte) float64 {
	b = cString(b)
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	b = b[i:]
	i = 0
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		i++
	}
	for _, w := range []string{"infinity", "inf", "nan"} {
		if len(b)-i >= len(w) && strings.EqualFold(string(b[i:i+len(w)]), w) {
			f, _ := strconv.ParseFloat(string(b[:i+len(w)]), 64)
			return f
		}
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if j < len(b) && b[j] >= '0' && b[j] <= '9' {
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			i = j
		}
	}
	f, _ := strconv.ParseFloat(string(b[:i]), 64) // out of range: ±Inf or 0, as strtod
	return f
}

// atoi is glibc's atoi (strtol): leading white space, a sign, digits; 0
// when none; the int64 limits past them.
func atoi(b []byte) int64 {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var n uint64 // the magnitude, up to 2^63
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if n > (1<<63)/10 {
			n = 1 << 63
		} else {
			n = min(n*10+uint64(b[i]-'0'), 1<<63)
		}
	}
	switch {
	case neg:
		return int64(-n) // 2^63 wraps to MinInt64
	case n > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(n)
}

// DEBUG SET-ACTIVE-EXPIRE 0|1: as Redis, the argument is read with atoi
// and anything but 0 switches active expiry back on.
func debugSetActiveExpireCmd(s *Shard, c *Client, argv [][]byte) {
	s.debug.noActiveExpire = atoi(argv[2]) == 0
	c.OK()
}

// quicklistPackedMax is the largest packed threshold Redis takes (4 GB
// less 1 MB); 0 stands for its default, 1 GB.
const (
	quicklistPackedMax     = 1<<32 - 1<<20
	quicklistPackedDefault = 1 << 30
)

func debugPackedThresholdCmd(s *Shard, c *Client, argv [][]byte) {
	sz, ok := memtoull(string(argv[2]))
	if !ok || sz > quicklistPackedMax {
		c.Error(errDebugThreshold)
		return
	}
	if sz == 0 {
		sz = quicklistPackedDefault
	}
	s.debug.packedThreshold = sz
	c.OK()
}

// stringmatchFuzzRounds is how many random pattern and string pairs
// STRINGMATCH-TEST tries.
const stringmatchFuzzRounds = 200_000

// DEBUG STRINGMATCH-TEST matches random patterns against random strings
// (globMatch, both cases), to show that no pattern makes it fail: Redis's
// stringmatchlen fuzzer. Short random strings over the bytes that mean
// something in a pattern and a few others; about a tenth of a second.
func debugStringmatchTestCmd(s *Shard, c *Client, argv [][]byte) {
	const alphabet = "*?[]^-\\ab\x00\xff"
	rng := rand.New(rand.NewPCG(s.rng, uint64(time.Now().UnixNano())))
	var pat, str [32]byte
	for i := range stringmatchFuzzRounds {
		pl, sl := rng.IntN(len(pat)+1), rng.IntN(len(str)+1)
		for j := range pl {
			pat[j] = alphabet[rng.IntN(len(alphabet))]
		}
		for j := range sl {
			str[j] = alphabet[rng.IntN(len(alphabet))]
		}
		globMatch(pat[:pl], str[:sl], i&1 == 1)
	}
	c.Simple("Apparently Redis did not crash: test passed")
}

// ---- PROTOCOL ----------------------------------------------------------

// DEBUG PROTOCOL type: Redis's sample reply of each type, in RESP2 or
// RESP3 as the client speaks.
func debugProtocolCmd(s *Shard, c *Client, argv [][]byte) {
	switch name := argv[2]; {
	case eqFold(name, "string"):
		c.BulkString("Hello World")
	case eqFold(name, "integer"):
		c.Int(12345)
	case eqFold(name, "double"):
		c.Double(3.141)
	case eqFold(name, "bignum"):
		c.Out = resp.AppendBigNumber(c.Out, "1234567999999999999999999999999999999", c.Resp3)
	case eqFold(name, "null"):
		c.Null()
	case eqFold(name, "array"):
		c.ArrayLen(3)
		for j := range int64(3) {
			c.Int(j)
		}
	case eqFold(name, "set"):
		c.SetLen(3)
		for j := range int64(3) {
			c.Int(j)
		}
	case eqFold(name, "map"):
		c.MapLen(3)
		for j := range int64(3) {
			c.Int(j)
			c.Bool(j == 1)
		}
	case eqFold(name, "attrib"):
		// An attribute goes before the reply it is about; RESP2 has none.
		if c.Resp3 {
			c.Out = resp.AppendAttrLen(c.Out, 1)
			c.BulkString("key-popularity")
			c.ArrayLen(2)
			c.BulkString("key:123")
			c.Int(90)
		}
		c.BulkString("Some real reply following the attribute")
	case eqFold(name, "push"):
		if !c.Resp3 {
			c.Error("ERR RESP2 is not supported by this command")
			return
		}
		c.Out = resp.AppendPushLen(c.Out, 2, true)
		c.BulkString("server-cpu-usage")
		c.Int(42)
		// A push is out of band: a client waiting for this command's
		// reply gets the one that follows.
		c.BulkString("Some real reply following the push reply")
	case eqFold(name, "true"):
		c.Bool(true)
	case eqFold(name, "false"):
		c.Bool(false)
	case eqFold(name, "verbatim"):
		c.Verbatim([]byte("This is a verbatim\nstring"))
	default:
		c.Error(errDebugProtocol)
	}
}

// ---- OBJECT, LISTPACK, QUICKLIST -----------------------------------------

// DEBUG OBJECT key: Redis's line about the value at key, found as it is
// (a key past its time but not yet deleted included): its address, its
// reference count as OBJECT REFCOUNT gives it, its encoding, the length of
// its RDB form, its access clock and idle time, and for a list the
// quicklist's figures (nodes, average entries per node, node size limit,
// compression, bytes of the nodes). O(size of the value).
func debugObjectCmd(s *Shard, c *Client, argv [][]byte) {
	r := s.db.Find(argv[2])
	if r == kv.Nil {
		c.Error(errNoSuchKey)
		return
	}
	var addr string // the object, or the record holding key and string
	extra := ""
	if s.db.IsObject(r) {
		obj := s.db.Obj(r)
		addr = fmt.Sprintf("%p", obj)
		if l, ok := obj.(*listObj); ok {
			extra = fmt.Sprintf(" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d ql_uncompressed_size:%d",
				l.NodeCount(), float64(l.Len())/float64(l.NodeCount()), l.Fill(), boolInt(l.CompressDepth() != 0), l.UncompressedSize())
		}
	} else {
		addr = fmt.Sprintf("%p", unsafe.SliceData(s.db.Key(r)))
	}
	m := s.db.Meta(r)
	serialized := len(s.rdbAppendValue(nil, r, rdbCompress))
	c.Simple(fmt.Sprintf("Value at:%s refcount:%d encoding:%s serializedlength:%d lru:%d lru_seconds_idle:%d%s",
		addr, s.refcount(r), encNames[metaEnc(m)], serialized, metaLRU(m), s.idleSeconds(r), extra))
}

// debugLookup finds the key of LISTPACK and QUICKLIST as OBJECT's
// subcommands find theirs, replying Redis's error when it is missing.
func debugLookup(s *Shard, c *Client, key []byte) (kv.Ref, bool) {
	r := s.lookupNoTouch(key)
	if r == kv.Nil {
		c.Error(errNoSuchKey)
		return kv.Nil, false
	}
	return r, true
}

// debugLogEntriesMax bounds the entries LISTPACK and QUICKLIST write to
// the log for one container.
const debugLogEntriesMax = 1000

// logListpack writes a listpack's entries to the log, one a line, at most
// debugLogEntriesMax of them.
func logListpack(prefix string, lp *listpack.Listpack) {
	logf("warning", "%s{total bytes %d} {num entries %d}", prefix, lp.Size(), lp.Len())
	var buf [listpack.IntBufSize]byte
	i := 0
	for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
		if i == debugLogEntriesMax {
			logf("warning", "%s... %d more entries", prefix, lp.Len()-i)
			return
		}
		v := lp.Value(p)
		kind := "string"
		if v.IsInt {
			kind = "integer"
		}
		logf("warning", "%s{index %5d} {offset %5d} {%s %q} {entry size %d}",
			prefix, i, p, kind, v.Bytes(&buf), lp.EntrySize(p))
		i++
	}
}

// DEBUG LISTPACK key: the listpack of a hash or sorted set in that
// encoding, entry by entry, to the log. The reply is Redis's, which
// prints to its standard output (Shoal's log by default).
func debugListpackCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := debugLookup(s, c, argv[2])
	if !ok {
		return
	}
	var lp *listpack.Listpack
	if s.db.IsObject(r) {
		switch o := s.db.Obj(r).(type) {
		case *hashObj:
			if o.d == nil {
				lp = &o.lp
			}
		case *zsetObj:
			if o.sk == nil {
				lp = &o.lp
			}
		}
	}
	if lp == nil {
		c.Error("ERR Not a listpack encoded object.")
		return
	}
	logListpack("", lp)
	c.Simple("Listpack structure printed on stdout")
}

// DEBUG QUICKLIST key [0|1]: a list's quicklist to the log, node by node;
// with a second argument other than 0 (read with atoi), every node's
// entries too.
func debugQuicklistCmd(s *Shard, c *Client, argv [][]byte) {
	r, ok := debugLookup(s, c, argv[2])
	if !ok {
		return
	}
	full := len(argv) == 4 && atoi(cString(argv[3])) != 0
	var l *listObj
	if s.db.IsObject(r) {
		l, _ = s.db.Obj(r).(*listObj)
	}
	if l == nil {
		c.Error("ERR Not a quicklist encoded object.")
		return
	}
	logf("warning", "{count : %d}", l.Len())
	logf("warning", "{len : %d}", l.NodeCount())
	logf("warning", "{fill : %d}", l.Fill())
	logf("warning", "{compress : %d}", l.CompressDepth())
	for i := range l.NodeCount() {
		n := l.Node(i)
		logf("warning", "{quicklist node %d} {container : PACKED} {recompress: 0} {size %d} {count %d}", i, n.Size(), n.Len())
		if full {
			logListpack("    ", n)
		}
	}
	c.Simple("Quicklist structure printed on stdout")
}

// ---- POPULATE ----------------------------------------------------------

// DEBUG POPULATE count [prefix] [size]: string keys prefix:0 ..
// prefix:count-1 ("key" by default; a name is cut at 127 bytes, as
// Redis's buffer cuts it) holding "value:N", or with size a value of size
// bytes that starts with as much of "value:N" as fits and is zeros after.
// A key that exists is left alone. As in Redis, the keys are not written
// to the AOF, raise no keyspace event and ignore cluster slots; clients
// watching them see a change. O(count).
func debugPopulateCmd(s *Shard, c *Client, argv [][]byte) {
	count, ok := debugPositive(c, argv[2])
	if !ok {
		return
	}
	var size int64
	if len(argv) == 5 {
		if size, ok = debugPositive(c, argv[4]); !ok {
			return
		}
	}
	prefix := []byte("key")
	if len(argv) >= 4 {
		prefix = cString(argv[3])
	}
	var key, val []byte
	for j := range count {
		key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), j, 10)
		if len(key) > 127 {
			key = key[:127]
		}
		if r := s.db.Find(key); r != kv.Nil {
			if !s.expired(r) {
				continue
			}
			s.expireNow(r) // replaced, even while a pause keeps expired keys
		}
		val = strconv.AppendInt(append(val[:0], "value:"...), j, 10)
		if size > 0 {
			n := len(val)
			if int64(n) > size {
				val = val[:size]
			} else {
				val = append(val, make([]byte, size-int64(n))...)
			}
		}
		enc := encEmbstr
		if len(val) > 44 {
			enc = encRaw
		}
		s.db.InsertString(key, val, makeMeta(typeString, enc, s.newClock), kv.NoExpire)
		s.touchKey(key)
	}
	c.OK()
}

// debugPositive reads a non-negative integer argument as Redis's
// getPositiveLongFromObjectOrReply: one error for anything else, a
// number or not.
func debugPositive(c *Client, b []byte) (int64, bool) {
	n, ok := parseInt(b)
	if !ok || n < 0 {
		c.Error(errNotPositive)
		return 0, false
	}
	return n, true
}

// ---- DIGEST ------------------------------------------------------------

// digest is Redis's DEBUG DIGEST accumulator: 20 bytes that SHA1 digests
// are folded into. xor folds in the digest of p so that order does not
// matter (members of a set, fields of a hash, keys of the data set); mix
// also digests the result, so that it does (elements of a list, a key and
// its value).
type digest [sha1.Size]byte

func (d *digest) xor(p []byte) {
	h := sha1.Sum(p)
	for i := range d {
		d[i] ^= h[i]
	}
}

func (d *digest) mix(p []byte) {
	d.xor(p)
	*d = sha1.Sum(d[:])
}

func (d *digest) String() string { return hex.EncodeToString(d[:]) }

// valueDigest folds the value at r into d as Redis's xorObjectDigest
// does: the type number (4 bytes, big endian) mixed in, then the value
// (a string mixed in; a list's elements mixed in order; a set's members
// xored; each sorted set member with its score in %.17g, and each hash
// field with its value, mixed into a digest of its own that is xored),
// and "!!expire!!" xored when the key has an expire time. Integers count
// as their decimal form, so the digest does not depend on the encoding.
// O(size of the value).
func (s *Shard) valueDigest(d *digest, r kv.Ref) {
	var typ [4]byte
	binary.BigEndian.PutUint32(typ[:], uint32(s.typeOf(r)))
	d.mix(typ[:])
	var buf, buf2 [listpack.IntBufSize]byte
	if !s.db.IsObject(r) {
		d.mix(s.db.Str(r))
	} else {
		switch o := s.db.Obj(r).(type) {
		case *listObj:
			for i := range o.NodeCount() {
				lp := o.Node(i)
				for p, ok := lp.First(); ok; p, ok = lp.Next(p) {
					d.mix(lp.Value(p).Bytes(&buf))
				}
			}
		case *setObj:
			o.each(func(e setElem) bool {
				d.xor(e.bytes(buf[:0]))
				return true
			})
		case *zsetObj:
			var score [32]byte
			o.each(func(m []byte, sc float64) bool {
				var e digest
				e.mix(m)
				e.mix(resp.FormatDouble(score[:0], sc))
				d.xor(e[:])
				return true
			})
		case *hashObj:
			o.each(func(f, v listpack.Value) bool {
				var e digest
				e.mix(f.Bytes(&buf))
				e.mix(v.Bytes(&buf2))
				d.xor(e[:])
				return true
			})
		default:
			panic(fmt.Sprintf("engine: no digest for a value of type %T", o))
		}
	}
	if s.db.Expire(r) != kv.NoExpire {
		d.xor([]byte("!!expire!!"))
	}
}

// dataDigest is DEBUG DIGEST's digest of the whole key space, as Redis's
// computeDatasetDigest: all zeros when it is empty; else the database
// number (0, 4 bytes) mixed in, then, xored, the digest of each key (the
// key's name mixed in, then valueDigest). Keys past their time but not
// yet deleted count. Equal data sets give equal digests whatever their
// encodings and the order of their keys and members. O(size of the data
// set).
func (s *Shard) dataDigest() digest {
	var final digest
	if s.db.Len() == 0 {
		return final
	}
	final.mix(make([]byte, 4))
	visit := func(r kv.Ref) {
		var d digest
		d.mix(s.db.Key(r))
		s.valueDigest(&d, r)
		final.xor(d[:])
	}
	// The walk does not change the store: it sees each key exactly once.
	for cursor := s.db.Scan(0, visit); cursor != 0; {
		cursor = s.db.Scan(cursor, visit)
	}
	return final
}

func debugDigestCmd(s *Shard, c *Client, argv [][]byte) {
	d := s.dataDigest()
	c.Simple(d.String())
}

// DEBUG DIGEST-VALUE key...: each value's digest (valueDigest, without the
// key's name), all zeros for a missing key.
func debugDigestValueCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(len(argv) - 2)
	for _, key := range argv[2:] {
		var d digest
		if r := s.db.Find(key); r != kv.Nil {
			s.valueDigest(&d, r)
		}
		c.Simple(d.String())
	}
}

// ---- RELOAD and LOADAOF ------------------------------------------------

// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: the key space written in RDB
// form (as a file Redis could load) into memory, emptied, and loaded back
// with the RDB loader, so that it keeps its data and every value gets the
// encoding a load gives it (a hash that grew past its listpack limits and
// shrank again is a listpack once more, as in Redis). Keys past their
// time are left out, as Redis's load leaves them out; every other key
// comes back with its expire time, and an idle time of 0.
//
// NOSAVE loads an RDB file that exists already: Shoal keeps none, so it
// fails, leaving the data alone. NOFLUSH loads without emptying first:
// every key is then already there, which Redis treats as fatal and Shoal
// as a failure to load (nothing is changed: the first key fails); with
// MERGE the loaded keys replace those present, which leaves the data set
// as a plain RELOAD does.
//
// WATCHed keys count as changed, as with FLUSHALL. During an AOF rewrite
// the rewrite's base is completed first, so the AOF stays right. O(size
// of the data set); the RDB form is held in memory meanwhile.
func debugReloadCmd(s *Shard, c *Client, argv [][]byte) {
	flush, save, merge := true, true, false
	for _, opt := range argv[2:] {
		switch {
		case eqFold(opt, "merge"):
			merge = true
		case eqFold(opt, "noflush"):
			flush = false
		case eqFold(opt, "nosave"):
			save = false
		default:
			c.Error(errDebugReloadOption)
			return
		}
	}
	if !save {
		logf("warning", "DEBUG RELOAD NOSAVE: there is no RDB file to load (a shard writes none)")
		c.Error(errDebugLoad)
		return
	}
	if err := s.debugReload(flush || merge); err != nil {
		logf("warning", "DEBUG RELOAD failed: %v", err)
		c.Error(errDebugLoad)
		return
	}
	logf("warning", "DB reloaded by DEBUG RELOAD")
	c.OK()
}

// debugReload saves the key space as an RDB image in memory and loads it
// back, emptying the key space first when flush is set.
func (s *Shard) debugReload(flush bool) error {
	image := s.rdbImage()
	if rw := s.aof.rw; rw != nil && flush {
		// The keys of the rewrite's cut that it has not written yet
		// are about to go: write them now (the loop bounds the walk).
		for !rw.stepBase(math.MaxInt32) {
		}
	}
	if flush {
		s.touchFlushed()
		s.db.Clear()
		s.expire.cursor, s.expire.avgTTL = 0, 0
	}
	return s.loadRDBImage(image, "DEBUG RELOAD")
}

// rdbImage is the key space as an RDB file, keys past their time left
// out. O(size of the data set).
func (s *Shard) rdbImage() []byte {
	b := rdb.AppendHeader(nil, rdb.StandardAux(RedisVersion, time.Now().Unix(), s.usedMemory(), false))
	b = rdb.AppendSelectDB(b, 0)
	b = rdb.AppendResizeDB(b, s.db.Len(), s.db.Volatile())
	visit := func(r kv.Ref) {
		if !s.expired(r) {
			b = s.rdbAppendKey(b, r, rdbCompress)
		}
	}
	for cursor := s.db.Scan(0, visit); cursor != 0; {
		cursor = s.db.Scan(cursor, visit)
	}
	return rdb.AppendEOF(b, rdb.CRC64(0, b))
}

// loadRDBImage loads an RDB file held in memory into the key space, all
// of it at once.
func (s *Shard) loadRDBImage(image []byte, name string) error {
	l := s.newRDBLoader(bufio.NewReader(bytes.NewReader(image)), name)
	loading := s.loading
	s.loading = true
	defer func() { s.loading = loading }()
	for {
		done, err := l.Step(1 << 16)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// DEBUG LOADAOF: what the AOF buffer holds is written and fsynced, the key
// space emptied and the AOF loaded again (aofReload). Where Redis exits
// when the AOF does not load, the shard replies the error, logs it and
// goes on with what it loaded.
func debugLoadAOFCmd(s *Shard, c *Client, argv [][]byte) {
	if err := s.aofReload(); err != nil {
		logf("warning", "DEBUG LOADAOF failed: %v", err)
		c.Error("ERR " + err.Error())
		return
	}
	logf("warning", "Append Only File loaded by DEBUG LOADAOF")
	c.OK()
}
