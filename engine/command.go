package engine

import (
	"sort"
	"strings"

	"shoal/engine/internal/hdrhist"
)

// CmdFlags are a command's properties, as Redis's command table has them.
// They drive dispatch (loading, write checks), COMMAND INFO and the ACL
// categories derived from them.
type CmdFlags uint32

const (
	FlagWrite CmdFlags = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagAdmin
	FlagPubsub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagFast
	FlagNoAuth
	// FlagMayReplicate: the command may reach replicas though it writes
	// no key (PUBLISH, PFCOUNT); CLIENT PAUSE WRITE holds it. COMMAND INFO
	// does not show it, as Redis hides it.
	FlagMayReplicate
	FlagNoMandatoryKeys
	FlagNoMulti
	FlagAllowBusy
	// FlagNoPropagate is Shoal's own: the command is never recorded in the
	// AOF under its own name (EXEC: what it ran is). COMMAND INFO does not
	// show it.
	FlagNoPropagate
)

var flagNames = []struct {
	f    CmdFlags
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagAdmin, "admin"}, {FlagPubsub, "pubsub"}, {FlagNoScript, "noscript"},
	{FlagBlocking, "blocking"}, {FlagLoading, "loading"}, {FlagStale, "stale"},
	{FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
	{FlagNoMandatoryKeys, "no_mandatory_keys"}, {FlagNoMulti, "no_multi"},
	{FlagAllowBusy, "allow_busy"},
}

// KeySpec says where a command's keys are, as Redis 7 key specs do.
//
// The search begins at argument Begin, or (when Keyword is set) just after
// the first argument equal to Keyword, searching from StartFrom (negative:
// from the end, backwards). From there the keys run either as a range (to
// LastKey relative to the start, negative counting from the end: -1 is the
// last argument, every Step arguments, Limit dividing the rest) or, when
// KeyNum is set, as a count read at KeyNumIdx followed by the keys from
// FirstKey every Step. Flags are Redis's key spec flags ("RW ACCESS
// UPDATE"). An Unknown spec (Redis's "unknown" begin_search and
// find_keys) says there are keys whose position only the command's
// GetKeys knows; the command's keys are then always found by GetKeys.
type KeySpec struct {
	Flags     string
	Notes     string
	Unknown   bool
	Begin     int
	Keyword   string
	StartFrom int
	KeyNum    bool
	LastKey   int
	Step      int
	Limit     int
	KeyNumIdx int
	FirstKey  int
}

// keyKind is what a command does to a key, from its key spec's flags as
// Redis defines them: RO reads it, RW reads and changes it, OW replaces its
// value (and its time to live) without reading it, RM deletes it without
// reading it.
type keyKind uint8

const (
	keyRW keyKind = iota
	keyRO
	keyOW
	keyRM
)

// keyKindOf is the kind a key spec's flags ("OW UPDATE") name; RW when
// they name none. No allocation; it stops at the first kind (Redis writes
// it first).
func keyKindOf(flags string) keyKind {
	for flags != "" {
		w := flags
		if i := strings.IndexByte(flags, ' '); i >= 0 {
			w, flags = flags[:i], flags[i+1:]
		} else {
			flags = ""
		}
		switch w {
		case "RO":
			return keyRO
		case "OW":
			return keyOW
		case "RM":
			return keyRM
		case "RW":
			return keyRW
		}
	}
	return keyRW
}

// CmdFunc executes one command: it parses argv (argv[0] is the command
// name), does the keyspace work and appends the reply to c.Out.
type CmdFunc func(s *Shard, c *Client, argv [][]byte)

// Command is one row of the command table. The table is declarative: the
// families register their rows at init, and everything else (dispatch,
// arity errors, COMMAND, INFO commandstats) is derived from the rows.
type Command struct {
	Name       string // lowercase; for subcommands the part after the container
	FullName   string // "get", "client|kill"
	Arity      int    // N: exactly N arguments with the name; -N: at least N
	Flags      CmdFlags
	ACL        string // family categories, e.g. "@string" or "@keyspace @read"; derived ones are added
	Group      string // COMMAND DOCS group: "string", "generic", "connection", "server"
	Since      string
	Summary    string
	Complexity string
	Syntax     string // the arguments as the docs write them; COMMAND DOCS is built from it
	Tips       []string
	Keys       []KeySpec
	History    [][2]string // (version, change) pairs for COMMAND DOCS
	DocFlags   []string    // "deprecated", "syscmd"
	Deprecated string      // deprecated_since
	ReplacedBy string
	Proc       CmdFunc
	// GetKeys finds the keys and their flags itself, for commands whose
	// key specs cannot say it all (a spec flagged VARIABLE_FLAGS: the
	// flags depend on the arguments, as SET's on GET). Callers only read
	// the slice it returns, which may be shared.
	GetKeys func(argv [][]byte) []keyPos
	Subs    []*Command

	// byGetKeys: the keys are found by GetKeys, not the key specs (there
	// are none, or one is Unknown). Set by clone.
	byGetKeys bool
	// keyKinds[i] is what the command does to the keys of Keys[i];
	// varKinds: a spec is VARIABLE_FLAGS, so GetKeys says per call;
	// oneKind: every spec has the same kind, so no key is read or
	// changed in two ways by one call. Set by clone.
	keyKinds []keyKind
	varKinds bool
	oneKind  bool

	parent *Command
	subs   map[string]*Command
	args   []*argSpec // parsed Syntax

	// Counters for INFO commandstats, owned by the shard's loop.
	calls, usec, rejected, failed int64
	// lat is the command's latency histogram (latency.go), made at its
	// first recorded run.
	lat *hdrhist.Hist
}

// legacyRange gives the (first, last, step) key range that COMMAND INFO
// reports and older cluster-aware clients use, derived from the key specs
// as Redis derives it: one plain index+range spec is taken as it is;
// otherwise consecutive step-1 index+range specs are merged, and any spec
// that does not fit makes the command's keys "movable".
func (c *Command) legacyRange() (first, last, step int, movable bool) {
	if len(c.Keys) == 0 {
		return 0, 0, 0, false
	}
	plain := func(k KeySpec) bool { return k.Keyword == "" && !k.KeyNum && !k.Unknown }
	incomplete := func(k KeySpec) bool { return strings.Contains(k.Flags, "INCOMPLETE") }
	if len(c.Keys) == 1 && plain(c.Keys[0]) {
		k := c.Keys[0]
		last = k.LastKey
		if last >= 0 {
			last += k.Begin
		}
		return k.Begin, last, k.Step, incomplete(k)
	}
	first = 1 << 30
	lastAbs, prevLast := 0, 0
	for _, k := range c.Keys {
		if !plain(k) || k.Step != 1 || (prevLast != 0 && prevLast != k.Begin-1) {
			movable = true
			continue
		}
		if incomplete(k) {
			movable = true
		}
		first = min(first, k.Begin)
		l := k.LastKey
		if l >= 0 {
			l += k.Begin
		}
		if uint32(l) > uint32(lastAbs) { // negative (from the end) wins, as in Redis
			lastAbs = l
		}
		prevLast = lastAbs
	}
	if first == 1<<30 {
		return 0, 0, 0, movable
	}
	return first, lastAbs, 1, movable
}

type commandTable struct {
	byName map[string]*Command
	index  nameIndex  // byName for Exec's lookup (cmdindex.go)
	sorted []*Command // by name, for COMMAND and INFO
}

var registry []*Command

// register adds rows to the table every Shard is built from. Families call
// it from init.
func register(cmds ...*Command) { registry = append(registry, cmds...) }

func newCommandTable() *commandTable {
	t := &commandTable{byName: make(map[string]*Command, len(registry))}
	for _, c := range registry {
		// Each shard gets its own copies so that counters are per shard
		// and no state is shared between shards in one process (tests).
		cc := c.clone(nil)
		if _, dup := t.byName[cc.Name]; dup {
			panic("engine: command registered twice: " + cc.Name)
		}
		t.byName[cc.Name] = cc
		t.sorted = append(t.sorted, cc)
	}
	sort.Slice(t.sorted, func(i, j int) bool { return t.sorted[i].Name < t.sorted[j].Name })
	t.index = newNameIndex(t.byName)
	return t
}

func (c *Command) clone(parent *Command) *Command {
	cc := *c
	cc.parent = parent
	cc.Name = strings.ToLower(c.Name)
	if parent != nil {
		cc.FullName = parent.Name + "|" + cc.Name
	} else {
		cc.FullName = cc.Name
	}
	cc.args = parseSyntax(cc.Syntax)
	cc.byGetKeys = cc.GetKeys != nil && len(cc.Keys) == 0
	cc.keyKinds = make([]keyKind, len(cc.Keys))
	cc.oneKind = true
	for i, k := range cc.Keys {
		if k.Unknown {
			if cc.GetKeys == nil {
				panic("engine: command " + cc.FullName + " has an Unknown key spec and no GetKeys")
			}
			cc.byGetKeys = true
		}
		if strings.Contains(k.Flags, "VARIABLE_FLAGS") && cc.GetKeys != nil {
			cc.varKinds = true
		}
		cc.keyKinds[i] = keyKindOf(k.Flags)
		cc.oneKind = cc.oneKind && cc.keyKinds[i] == cc.keyKinds[0]
	}
	cc.Subs = nil
	if len(c.Subs) > 0 {
		cc.subs = make(map[string]*Command, len(c.Subs))
		for _, s := range c.Subs {
			sc := s.clone(&cc)
			cc.subs[sc.Name] = sc
			cc.Subs = append(cc.Subs, sc)
		}
		sort.Slice(cc.Subs, func(i, j int) bool { return cc.Subs[i].Name < cc.Subs[j].Name })
	}
	return &cc
}

// lookupName finds a command by name, ignoring ASCII case, without
// allocating.
func lookupName(m map[string]*Command, name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 32
		}
		buf[i] = ch
	}
	return m[string(buf[:len(name)])]
}

// lookup resolves argv to a command or subcommand as Redis does: a
// container command with more than one argument resolves to its
// subcommand (nil when it has none of that name).
func (t *commandTable) lookup(argv [][]byte) *Command {
	c := t.index.find(argv[0])
	if c == nil || c.subs == nil || len(argv) == 1 {
		return c
	}
	return lookupName(c.subs, argv[1])
}

func (c *Command) arityOK(argc int) bool {
	if c.Arity > 0 {
		return argc == c.Arity
	}
	return argc >= -c.Arity
}

// aclOrder is the order in which Redis lists ACL categories.
var aclOrder = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash",
	"string", "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
	"blocking", "dangerous", "connection", "transaction", "scripting"}

// aclCategories are the command's ACL categories as COMMAND INFO lists
// them: the family ones from the table plus those Redis derives from flags,
// in Redis's order.
func (c *Command) aclCategories() []string {
	has := map[string]bool{}
	for _, s := range strings.Fields(c.ACL) {
		has[strings.TrimPrefix(s, "@")] = true
	}
	if c.Flags&FlagWrite != 0 {
		has["write"] = true
	}
	if c.Flags&FlagReadonly != 0 && !has["scripting"] {
		has["read"] = true
	}
	if c.Flags&FlagAdmin != 0 {
		has["admin"], has["dangerous"] = true, true
	}
	if c.Flags&FlagPubsub != 0 {
		has["pubsub"] = true
	}
	if c.Flags&FlagFast != 0 {
		has["fast"] = true
	}
	if c.Flags&FlagBlocking != 0 {
		has["blocking"] = true
	}
	if !has["fast"] {
		has["slow"] = true
	}
	var cats []string
	for _, name := range aclOrder {
		if has[name] {
			cats = append(cats, "@"+name)
		}
	}
	return cats
}
