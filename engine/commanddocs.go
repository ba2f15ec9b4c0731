package engine

import (
	"strings"
)

// The COMMAND family: everything here is derived from the command table.

func init() {
	register(&Command{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale,
		ACL: "@connection", Group: "server", Since: "2.8.13",
		Summary:    "Get array of Redis command details",
		Complexity: "O(N) where N is the total number of Redis commands",
		Tips:       []string{"nondeterministic_output_order"},
		Proc:       commandCmd,
		Subs: []*Command{
			{Name: "count", Arity: 2, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "2.8.13", Summary: "Get total number of Redis commands", Complexity: "O(1)", Proc: commandCountCmd},
			{Name: "docs", Arity: -2, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "7.0.0", Summary: "Get array of specific Redis command documentation",
				Complexity: "O(N) where N is the number of commands to look up",
				Tips:       []string{"nondeterministic_output_order"},
				Syntax:     "[command-name...]", Proc: commandDocsCmd},
			{Name: "getkeys", Arity: -4, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "2.8.13", Summary: "Extract keys given a full Redis command",
				Complexity: "O(N) where N is the number of arguments to the command",
				Proc:       commandGetKeysCmd},
			{Name: "getkeysandflags", Arity: -4, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "7.0.0", Summary: "Extract keys and access flags given a full Redis command",
				Complexity: "O(N) where N is the number of arguments to the command",
				Proc:       commandGetKeysCmd},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Complexity: "O(1)",
				Proc: commandHelpCmd},
			{Name: "info", Arity: -2, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "2.8.13", Summary: "Get array of specific Redis command details, or all when no argument is given.",
				Complexity: "O(N) where N is the number of commands to look up",
				History:    [][2]string{{"7.0.0", "Allowed to be called with no argument to get info on all commands."}},
				Tips:       []string{"nondeterministic_output_order"},
				Syntax:     "[command-name...]", Proc: commandInfoCmd},
			{Name: "list", Arity: -2, Flags: FlagLoading | FlagStale, ACL: "@connection", Group: "server",
				Since: "7.0.0", Summary: "Get an array of Redis command names",
				Complexity: "O(N) where N is the total number of Redis commands",
				Tips:       []string{"nondeterministic_output_order"},
				Syntax:     "[FILTERBY filterby:[MODULE module-name | ACLCAT category | PATTERN pattern:pattern]]",
				Proc:       commandListCmd},
		}})
}

// lookupFullName finds "get" or "client|kill", ignoring case.
func (t *commandTable) lookupFullName(name []byte) *Command {
	s := string(name)
	if i := strings.IndexByte(s, '|'); i >= 0 {
		base := lookupName(t.byName, name[:i])
		if base == nil || base.subs == nil {
			return nil
		}
		return lookupName(base.subs, name[i+1:])
	}
	return lookupName(t.byName, name)
}

func commandCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(len(s.cmds.sorted))
	for _, cmd := range s.cmds.sorted {
		replyCommandInfo(c, cmd)
	}
}

func commandCountCmd(s *Shard, c *Client, argv [][]byte) {
	c.Int(int64(len(s.cmds.sorted)))
}

func commandInfoCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) == 2 {
		commandCmd(s, c, argv)
		return
	}
	c.ArrayLen(len(argv) - 2)
	for _, name := range argv[2:] {
		if cmd := s.cmds.lookupFullName(name); cmd != nil {
			replyCommandInfo(c, cmd)
		} else {
			c.Null()
		}
	}
}

func replyCommandInfo(c *Client, cmd *Command) {
	first, last, step, movable := cmd.legacyRange()
	c.ArrayLen(10)
	c.BulkString(cmd.FullName)
	c.Int(int64(cmd.Arity))
	n := 0
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			n++
		}
	}
	if movable {
		n++
	}
	c.SetLen(n)
	for _, f := range flagNames {
		if cmd.Flags&f.f != 0 {
			c.Simple(f.name)
		}
	}
	if movable {
		c.Simple("movablekeys")
	}
	c.Int(int64(first))
	c.Int(int64(last))
	c.Int(int64(step))
	cats := cmd.aclCategories()
	c.SetLen(len(cats))
	for _, cat := range cats {
		c.Simple(cat)
	}
	c.SetLen(len(cmd.Tips))
	for _, t := range cmd.Tips {
		c.BulkString(t)
	}
	c.SetLen(len(cmd.Keys))
	for _, k := range cmd.Keys {
		replyKeySpec(c, k)
	}
	c.SetLen(len(cmd.Subs))
	for _, sub := range cmd.Subs {
		replyCommandInfo(c, sub)
	}
}

func replyKeySpec(c *Client, k KeySpec) {
	n := 3
	if k.Notes != "" {
		n++
	}
	c.MapLen(n)
	if k.Notes != "" {
		c.BulkString("notes")
		c.BulkString(k.Notes)
	}
	c.BulkString("flags")
	flags := strings.Fields(k.Flags)
	c.SetLen(len(flags))
	for _, f := range flags {
		if len(f) > 2 { // RO RW OW RM are upper case; the rest lower, as Redis prints them
			f = strings.ToLower(f)
		}
		c.Simple(f)
	}
	c.BulkString("begin_search")
	c.MapLen(2)
	c.BulkString("type")
	if k.Unknown {
		c.BulkString("unknown")
		c.BulkString("spec")
		c.MapLen(0)
		c.BulkString("find_keys")
		c.MapLen(2)
		c.BulkString("type")
		c.BulkString("unknown")
		c.BulkString("spec")
		c.MapLen(0)
		return
	}
	if k.Keyword != "" {
		c.BulkString("keyword")
		c.BulkString("spec")
		c.MapLen(2)
		c.BulkString("keyword")
		c.BulkString(k.Keyword)
		c.BulkString("startfrom")
		c.Int(int64(k.StartFrom))
	} else {
		c.BulkString("index")
		c.BulkString("spec")
		c.MapLen(1)
		c.BulkString("index")
		c.Int(int64(k.Begin))
	}
	c.BulkString("find_keys")
	c.MapLen(2)
	c.BulkString("type")
	if k.KeyNum {
		c.BulkString("keynum")
		c.BulkString("spec")
		c.MapLen(3)
		c.BulkString("keynumidx")
		c.Int(int64(k.KeyNumIdx))
		c.BulkString("firstkey")
		c.Int(int64(k.FirstKey))
		c.BulkString("keystep")
		c.Int(int64(k.Step))
	} else {
		c.BulkString("range")
		c.BulkString("spec")
		c.MapLen(3)
		c.BulkString("lastkey")
		c.Int(int64(k.LastKey))
		c.BulkString("keystep")
		c.Int(int64(k.Step))
		c.BulkString("limit")
		c.Int(int64(k.Limit))
	}
}

func commandDocsCmd(s *Shard, c *Client, argv [][]byte) {
	var list []*Command
	if len(argv) == 2 {
		list = s.cmds.sorted
	} else {
		for _, name := range argv[2:] {
			if cmd := s.cmds.lookupFullName(name); cmd != nil {
				list = append(list, cmd)
			}
		}
	}
	c.MapLen(len(list))
	for _, cmd := range list {
		c.BulkString(cmd.FullName)
		replyCommandDocs(c, cmd)
	}
}

func replyCommandDocs(c *Client, cmd *Command) {
	n := 3
	for _, present := range []bool{cmd.Complexity != "", len(cmd.DocFlags) > 0, cmd.Deprecated != "", cmd.ReplacedBy != "",
		len(cmd.History) > 0, len(cmd.args) > 0, len(cmd.Subs) > 0} {
		if present {
			n++
		}
	}
	c.MapLen(n)
	c.BulkString("summary")
	c.BulkString(cmd.Summary)
	c.BulkString("since")
	c.BulkString(cmd.Since)
	c.BulkString("group")
	c.BulkString(cmd.Group)
	if cmd.Complexity != "" { // as MONITOR's, whose docs give none
		c.BulkString("complexity")
		c.BulkString(cmd.Complexity)
	}
	if len(cmd.DocFlags) > 0 {
		c.BulkString("doc_flags")
		c.SetLen(len(cmd.DocFlags))
		for _, f := range cmd.DocFlags {
			c.Simple(f)
		}
	}
	if cmd.Deprecated != "" {
		c.BulkString("deprecated_since")
		c.BulkString(cmd.Deprecated)
	}
	if cmd.ReplacedBy != "" {
		c.BulkString("replaced_by")
		c.BulkString(cmd.ReplacedBy)
	}
	if len(cmd.History) > 0 {
		c.BulkString("history")
		c.ArrayLen(len(cmd.History))
		for _, h := range cmd.History {
			c.ArrayLen(2)
			c.BulkString(h[0])
			c.BulkString(h[1])
		}
	}
	if len(cmd.args) > 0 {
		c.BulkString("arguments")
		replyArgs(c, cmd, cmd.args)
	}
	if len(cmd.Subs) > 0 {
		c.BulkString("subcommands")
		c.MapLen(len(cmd.Subs))
		for _, sub := range cmd.Subs {
			c.BulkString(sub.FullName)
			replyCommandDocs(c, sub)
		}
	}
}

func replyArgs(c *Client, cmd *Command, args []*argSpec) {
	c.ArrayLen(len(args))
	for _, a := range args {
		var flags []string
		if a.optional {
			flags = append(flags, "optional")
		}
		if a.multiple {
			flags = append(flags, "multiple")
		}
		if a.multipleTok {
			flags = append(flags, "multiple_token")
		}
		n := 2
		for _, present := range []bool{a.hasSpec, a.token != "", a.since != "", len(flags) > 0, len(a.args) > 0} {
			if present {
				n++
			}
		}
		c.MapLen(n)
		c.BulkString("name")
		c.BulkString(a.name)
		c.BulkString("type")
		c.BulkString(a.typ)
		if a.hasSpec {
			c.BulkString("key_spec_index")
			c.Int(int64(min(a.keySpec, max(len(cmd.Keys)-1, 0))))
		}
		if a.token != "" {
			c.BulkString("token")
			c.BulkString(a.token)
		}
		if a.since != "" {
			c.BulkString("since")
			c.BulkString(a.since)
		}
		if len(flags) > 0 {
			c.BulkString("flags")
			c.SetLen(len(flags))
			for _, f := range flags {
				c.Simple(f)
			}
		}
		if len(a.args) > 0 {
			c.BulkString("arguments")
			replyArgs(c, cmd, a.args)
		}
	}
}

func commandListCmd(s *Shard, c *Client, argv [][]byte) {
	var filter func(cmd *Command) bool
	switch {
	case len(argv) == 2:
	case len(argv) == 5 && eqFold(argv[2], "filterby"):
		arg := argv[4]
		switch {
		case eqFold(argv[3], "module"):
			filter = func(*Command) bool { return false }
		case eqFold(argv[3], "aclcat"):
			cat := "@" + strings.ToLower(string(arg))
			filter = func(cmd *Command) bool {
				for _, x := range cmd.aclCategories() {
					if x == cat {
						return true
					}
				}
				return false
			}
		case eqFold(argv[3], "pattern"):
			filter = func(cmd *Command) bool { return globMatch(arg, []byte(cmd.FullName), true) }
		default:
			c.Error(errSyntax)
			return
		}
	default:
		c.Error(errSyntax)
		return
	}
	var names []string
	var walk func(list []*Command)
	walk = func(list []*Command) {
		for _, cmd := range list {
			if filter == nil || filter(cmd) {
				names = append(names, cmd.FullName)
			}
			walk(cmd.Subs)
		}
	}
	walk(s.cmds.sorted)
	c.BulkStrings(names...)
}

func commandGetKeysCmd(s *Shard, c *Client, argv [][]byte) {
	withFlags := eqFold(argv[1], "getkeysandflags")
	cmd := s.cmds.lookup(argv[2:])
	switch {
	case cmd == nil:
		c.Error("ERR Invalid command specified")
		return
	case len(cmd.Keys) == 0 && cmd.GetKeys == nil:
		c.Error("ERR The command has no key arguments")
		return
	case !cmd.arityOK(len(argv) - 2):
		c.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := cmd.keyPositions(argv[2:])
	if !ok || len(keys) == 0 {
		if cmd.Flags&FlagNoMandatoryKeys != 0 {
			c.EmptyArray()
		} else {
			c.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	c.ArrayLen(len(keys))
	for _, k := range keys {
		if !withFlags {
			c.Bulk(argv[2+k.pos])
			continue
		}
		c.ArrayLen(2)
		c.Bulk(argv[2+k.pos])
		flags := strings.Fields(k.flags)
		c.SetLen(len(flags))
		for _, f := range flags {
			if len(f) > 2 {
				f = strings.ToLower(f)
			}
			c.Simple(f)
		}
	}
}

type keyPos struct {
	pos   int
	flags string
}

// keyPositions finds the keys of argv (argv[0] the command name) from
// the command's key specs, as Redis's getKeysUsingKeySpecs does; ok is
// false when the arguments do not fit a spec. Commands whose keys specs
// cannot describe use their GetKeys function.
func (cmd *Command) keyPositions(argv [][]byte) (keys []keyPos, ok bool) {
	if cmd.GetKeys != nil {
		return cmd.GetKeys(argv), true
	}
	ranges, ok := cmd.keyRanges(argv, nil)
	if !ok {
		return nil, false
	}
	for _, r := range ranges {
		for i := r.first; i <= r.last; i += r.step {
			keys = append(keys, keyPos{pos: i, flags: cmd.Keys[r.spec].Flags})
		}
	}
	return keys, true
}

// keyRange is one key spec resolved against a command's arguments: the
// keys are argv[first], argv[first+step], ... up to argv[last].
type keyRange struct {
	first, last, step int
	spec              int     // index in Command.Keys
	kind              keyKind // what the command does to these keys (rewriteBefore sets it)
}

// keyRanges resolves the command's key specs against argv (argv[0] the
// command name) as Redis's getKeysUsingKeySpecs does, appending a range
// per spec that finds keys to out; ok is false when the arguments do not
// fit a spec. It allocates nothing while the ranges fit in out's
// capacity, so callers on the hot path pass a small array: cluster mode
// walks every command's keys with it (routeHere). O(specs), plus the
// arguments a keyword search reads.
func (cmd *Command) keyRanges(argv [][]byte, out []keyRange) ([]keyRange, bool) {
	argc := len(argv)
	for si := range cmd.Keys {
		spec := &cmd.Keys[si]
		if spec.Unknown {
			return out, false // only GetKeys knows (Redis's invalid_spec)
		}
		first := 0
		if spec.Keyword == "" {
			first = spec.Begin
		} else {
			start, end := spec.StartFrom, argc-1
			if start <= 0 { // from the end backwards, down to argv[1]
				start, end = argc+spec.StartFrom, 0
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if eqFoldASCII(argv[i], spec.Keyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		}
		var last int
		step := max(spec.Step, 1)
		if spec.KeyNum {
			if first+spec.KeyNumIdx >= argc {
				return out, false
			}
			n, isNum := parseInt(argv[first+spec.KeyNumIdx])
			if !isNum || n < 0 || n > int64(argc) {
				return out, false
			}
			first += spec.FirstKey
			last = first + int(n) - 1
		} else {
			switch {
			case spec.LastKey >= 0:
				last = first + spec.LastKey
			case spec.Limit == 0:
				last = argc + spec.LastKey
			default:
				last = first + (argc-first)/spec.Limit + spec.LastKey
			}
		}
		if last >= argc || last < first || first >= argc {
			if last == first-1 && spec.KeyNum { // zero keys
				continue
			}
			return out, false
		}
		out = append(out, keyRange{first: first, last: last, step: step, spec: si})
	}
	return out, true
}

// eqFoldASCII reports whether b equals s ignoring ASCII case, as C's
// strcasecmp compares a key spec's keyword. No allocation.
func eqFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 32
		}
		if 'A' <= y && y <= 'Z' {
			y += 32
		}
		if x != y {
			return false
		}
	}
	return true
}

func commandHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

// replyHelp writes a HELP reply as Redis's addReplyHelp: a header line,
// the lines, and the common HELP entry.
func replyHelp(c *Client, container string, lines []string) {
	c.ArrayLen(len(lines) + 3)
	c.Simple(container + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.Simple(l)
	}
	c.Simple("HELP")
	c.Simple("    Prints this help.")
}
