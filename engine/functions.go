package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"shoal/engine/internal/rdb"
	"shoal/resp"
)

// Functions: FUNCTION and FCALL, as Redis 7.0's functions.c and
// function_lua.c. A library is Lua code beginning "#!lua name=<lib>";
// loading it runs its body once in an environment that offers only
// redis.register_function, redis.log and the version fields, and the
// functions it registers are then called by FCALL with their keys and
// arguments as two tables. Libraries are part of the data set: FUNCTION
// LOAD, DELETE, FLUSH and RESTORE are write commands the AOF records, an
// AOF rewrite writes every library into the new base, and FLUSHALL leaves
// them alone.
//
// The functions run in a Lua state of their own (not the one of EVAL's
// scripts, which SCRIPT FLUSH drops), made at the first load, through the
// same machinery as EVAL (prepareScript, the script client, effects
// propagation). As with EVAL, a function runs to its end: FUNCTION KILL
// always finds none running and FUNCTION STATS never shows one.
//
// Differences from Redis: FUNCTION LIST, DUMP and the AOF list the
// libraries by name (Redis in its hash table's order), and the functions
// of a library by name too. The memory fields of INFO and MEMORY STATS
// are estimates: the embedded VM does not count its memory.

// luaEngineName is the only engine, as Redis names it.
const luaEngineName = "LUA"

// functionLoadTimeout bounds how long a library's body may run at FUNCTION
// LOAD, as Redis's LOAD_TIMEOUT_MS (not when loading the AOF).
const functionLoadTimeout = 500 * time.Millisecond

// Error messages of the family.
const (
	errFuncNotFound   = "ERR Function not found"
	errFuncBadName    = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	errFuncBadPayload = "ERR DUMP payload version or checksum are wrong"
)

// functionsState is a shard's libraries and the Lua state they live in.
type functionsState struct {
	libs  map[string]*fnLibrary  // by name, case-sensitive
	funcs map[string]*fnFunction // by lowercase name: FCALL ignores case
	ev    *evalState             // nil until the first library is loaded
	load  *lua.LTable            // the globals a library's body sees
	// building is the library whose body is running (FUNCTION LOAD);
	// nil otherwise.
	building *fnLibrary
}

// fnLibrary is one loaded library.
type fnLibrary struct {
	name  string
	code  string
	funcs map[string]*fnFunction // by name as registered
}

// fnFunction is one registered function.
type fnFunction struct {
	name    string
	desc    string
	hasDesc bool
	flags   scriptFlags
	fn      *lua.LFunction
	lib     *fnLibrary
}

func init() {
	register(
		&Command{Name: "fcall", Arity: -3, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
			Flags:      FlagNoScript | FlagSkipMonitor | FlagMayReplicate | FlagNoMandatoryKeys | FlagStale | FlagNoPropagate,
			Summary:    "Invoke a function",
			Complexity: "Depends on the function that is executed.",
			Syntax:     "function numkeys:integer [key...] [arg...]",
			Keys: []KeySpec{{Flags: "RW ACCESS UPDATE", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1,
				Notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"}},
			Proc: func(s *Shard, c *Client, argv [][]byte) { s.fcallGeneric(c, argv, false) },
		},
		&Command{Name: "fcall_ro", Arity: -3, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
			Flags:      FlagNoScript | FlagSkipMonitor | FlagNoMandatoryKeys | FlagStale | FlagReadonly | FlagNoPropagate,
			Summary:    "Invoke a read-only function",
			Complexity: "Depends on the function that is executed.",
			Syntax:     "function numkeys:integer [key...] [arg...]",
			Keys: []KeySpec{{Flags: "RO ACCESS", Begin: 2, KeyNum: true, KeyNumIdx: 0, FirstKey: 1, Step: 1,
				Notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"}},
			Proc: func(s *Shard, c *Client, argv [][]byte) { s.fcallGeneric(c, argv, true) },
		},
		&Command{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0",
			Summary: "A container for function commands", Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "delete", Arity: 3, Flags: FlagNoScript | FlagWrite, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary: "Delete a function by name", Complexity: "O(1)",
					Syntax: "library-name", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"},
					Proc: functionDeleteCmd},
				{Name: "dump", Arity: 2, Flags: FlagNoScript, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary:    "Dump all functions into a serialized binary payload",
					Complexity: "O(N) where N is the number of functions",
					Proc:       functionDumpCmd},
				{Name: "flush", Arity: -2, Flags: FlagNoScript | FlagWrite, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary: "Deleting all functions", Complexity: "O(N) where N is the number of functions deleted",
					Syntax: "async:[ASYNC|SYNC]", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"},
					Proc: functionFlushCmd},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary: "Show helpful text about the different subcommands", Complexity: "O(1)",
					Proc: functionHelpCmd},
				{Name: "kill", Arity: 2, Flags: FlagNoScript | FlagAllowBusy, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary: "Kill the function currently in execution.", Complexity: "O(1)",
					Tips: []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					Proc: functionKillCmd},
				{Name: "list", Arity: -2, Flags: FlagNoScript, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary: "List information about all the functions", Complexity: "O(N) where N is the number of functions",
					Syntax: "[LIBRARYNAME library-name-pattern] [WITHCODE]", Tips: []string{"nondeterministic_output_order"},
					Proc: functionListCmd},
				{Name: "load", Arity: -3, Flags: FlagNoScript | FlagWrite | FlagDenyOOM, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary:    "Create a function with the given arguments (name, code, description)",
					Complexity: "O(1) (considering compilation time is redundant)",
					Syntax:     "[REPLACE] function-code", Tips: []string{"request_policy:all_shards", "response_policy:all_succeeded"},
					Proc: functionLoadCmd},
				{Name: "restore", Arity: -3, Flags: FlagNoScript | FlagWrite | FlagDenyOOM, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary:    "Restore all the functions on the given payload",
					Complexity: "O(N) where N is the number of functions on the payload",
					Syntax:     "serialized-value policy:[FLUSH|APPEND|REPLACE]",
					Tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
					Proc:       functionRestoreCmd},
				{Name: "stats", Arity: 2, Flags: FlagNoScript | FlagAllowBusy, ACL: "@scripting", Group: "scripting", Since: "7.0.0",
					Summary:    "Return information about the function currently running (name, description, duration)",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
					Proc:       functionStatsCmd},
			}},
	)
}

// numFunctions is the number of functions of every library.
func (fs *functionsState) numFunctions() int { return len(fs.funcs) }

// sortedLibs lists the libraries by name.
func (fs *functionsState) sortedLibs() []*fnLibrary {
	libs := make([]*fnLibrary, 0, len(fs.libs))
	for _, l := range fs.libs {
		libs = append(libs, l)
	}
	sort.Slice(libs, func(i, j int) bool { return libs[i].name < libs[j].name })
	return libs
}

// sortedFuncs lists a library's functions by name.
func (l *fnLibrary) sortedFuncs() []*fnFunction {
	fns := make([]*fnFunction, 0, len(l.funcs))
	for _, f := range l.funcs {
		fns = append(fns, f)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].name < fns[j].name })
	return fns
}

// link adds a library and its functions.
func (fs *functionsState) link(l *fnLibrary) {
	if fs.libs == nil {
		fs.libs = map[string]*fnLibrary{}
		fs.funcs = map[string]*fnFunction{}
	}
	fs.libs[l.name] = l
	for _, f := range l.funcs {
		key := strings.ToLower(f.name)
		if _, dup := fs.funcs[key]; !dup { // two names of one library differing in case: the first, as Redis's dictAdd
			fs.funcs[key] = f
		}
	}
}

// unlink removes a library and its functions.
func (fs *functionsState) unlink(l *fnLibrary) {
	delete(fs.libs, l.name)
	for _, f := range l.funcs {
		key := strings.ToLower(f.name)
		if fs.funcs[key] == f {
			delete(fs.funcs, key)
		}
	}
}

// clear drops every library and the Lua state.
func (fs *functionsState) clear() {
	fs.libs, fs.funcs, fs.load = nil, nil, nil
	if fs.ev != nil {
		fs.ev.close()
		fs.ev = nil
	}
}

// validFuncName is Redis's functionsVerifyName: letters, digits and
// underscores, at least one.
func validFuncName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// libMetadata reads a library's "#!<engine> name=<lib>" line, as Redis's
// functionExtractLibMetaData; body is the code after it, from its line
// feed on (so that line numbers are the user's).
func libMetadata(code string) (engine, name, body, err string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", "Missing library metadata"
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", "Invalid library metadata"
	}
	parts, perr := resp.SplitArgs([]byte(code[:end]))
	if perr != nil || len(parts) == 0 {
		return "", "", "", "Invalid library metadata"
	}
	engine = string(parts[0][min(2, len(parts[0])):])
	hasName := false
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(string(p[:5]), "name=") {
			if hasName {
				return "", "", "", "Invalid metadata value, name argument was given multiple times"
			}
			name, hasName = string(p[5:]), true
			continue
		}
		return "", "", "", "Invalid metadata value given: " + string(p)
	}
	if !hasName {
		return "", "", "", "Library name was not given"
	}
	return engine, name, code[end:], ""
}

// state returns the functions' Lua state, making it at first use: the
// full API for the functions as they run, and for a library's body the
// load environment, whose only global is a redis table of
// register_function, log and the version.
func (fs *functionsState) state(s *Shard) *evalState {
	if fs.ev != nil {
		return fs.ev
	}
	e := newEvalState(s)
	L := e.L
	strict := L.NewTable()
	strict.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	api := L.NewTable()
	api.RawSetString("register_function", L.NewFunction(fs.registerFunction))
	full := e.globals.RawGetString("redis").(*lua.LTable)
	if mt, ok := full.Metatable.(*lua.LTable); ok { // the proxy's own, behind __metatable
		full, _ = mt.RawGetString("__index").(*lua.LTable)
	}
	for _, name := range []string{"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM"} {
		api.RawSetString(name, full.RawGetString(name))
	}
	L.SetMetatable(api, strict)
	load := L.NewTable()
	load.RawSetString("redis", e.readOnlyProxy(api))
	L.SetMetatable(load, strict)
	fs.ev, fs.load = e, load
	return e
}

// createLibrary compiles code and runs its body to register its
// functions, then adds the library, replacing the one of the same name
// when replace is set. It returns the library's name, or the error
// (without its "ERR ").
func (s *Shard) createLibrary(code string, replace bool) (string, string) {
	fs := &s.funcs
	engine, name, body, err := libMetadata(code)
	if err != "" {
		return "", err
	}
	if !validFuncName(name) {
		return "", errFuncBadName
	}
	if !strings.EqualFold(engine, luaEngineName) {
		return "", "Engine '" + engine + "' not found"
	}
	old := fs.libs[name]
	if old != nil && !replace {
		return "", "Library '" + name + "' already exists"
	}
	if old != nil {
		fs.unlink(old)
	}
	lib := &fnLibrary{name: name, code: code, funcs: map[string]*fnFunction{}}
	if err := s.runLibrary(lib, body); err != "" {
		if old != nil {
			fs.link(old)
		}
		return "", err
	}
	if len(lib.funcs) == 0 {
		if old != nil {
			fs.link(old)
		}
		return "", "No functions registered"
	}
	for _, f := range lib.sortedFuncs() {
		if fs.funcs[strings.ToLower(f.name)] != nil {
			if old != nil {
				fs.link(old)
			}
			return "", "Function " + f.name + " already exists"
		}
	}
	fs.link(lib)
	return name, ""
}

// runLibrary compiles a library's body and runs it in the load
// environment, which lib's functions are registered into.
func (s *Shard) runLibrary(lib *fnLibrary, body string) string {
	fs := &s.funcs
	e := fs.state(s)
	L := e.L
	fn, err := L.Load(strings.NewReader(body), "user_function")
	if err != nil {
		return "Error compiling function: " + err.Error()
	}
	mt := L.G.Global.Metatable.(*lua.LTable) // the proxy's own, behind __metatable
	mt.RawSetString("__index", fs.load)
	fs.building = lib
	var ctx context.Context
	if !s.loading {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), functionLoadTimeout)
		defer cancel()
		L.SetContext(ctx)
	}
	top := L.GetTop()
	L.Push(fn)
	perr := L.PCall(0, 0, nil)
	L.SetTop(top)
	if ctx != nil {
		L.RemoveContext()
	}
	fs.building = nil
	mt.RawSetString("__index", e.globals)
	if perr == nil {
		return ""
	}
	if ctx != nil && ctx.Err() != nil {
		return "Error registering functions: ERR FUNCTION LOAD timeout"
	}
	msg := "ERR unknown error"
	if ae, ok := perr.(*lua.ApiError); ok {
		switch v := ae.Object.(type) {
		case lua.LString:
			msg = "ERR " + string(v)
		case lua.LNumber:
			msg = "ERR " + formatLuaNumber(float64(v))
		case *lua.LTable:
			if m, ok := v.RawGetString("err").(lua.LString); ok {
				msg = string(m)
			}
		}
	}
	return "Error registering functions: " + msg
}

// luaStringArg is a Lua value as lua_isstring/lua_tostring take it: a
// string, or a number formatted as Lua does.
func luaStringArg(v lua.LValue) (string, bool) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), true
	case lua.LNumber:
		return formatLuaNumber(float64(v)), true
	}
	return "", false
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=..., callback=..., flags=...,
// description=...}, as Redis's luaRegisterFunction.
func (fs *functionsState) registerFunction(L *lua.LState) int {
	lib := fs.building
	if lib == nil {
		raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &fnFunction{lib: lib}
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		hasName := false
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			key, ok := luaStringArg(k)
			if !ok {
				raise(L, "named argument key given to redis.register_function is not a string")
			}
			switch strings.ToLower(key) {
			case "function_name":
				if f.name, ok = luaStringArg(v); !ok {
					raise(L, "function_name argument given to redis.register_function must be a string")
				}
				hasName = true
			case "description":
				if f.desc, ok = luaStringArg(v); !ok {
					raise(L, "description argument given to redis.register_function must be a string")
				}
				f.hasDesc = true
			case "callback":
				if f.fn, ok = v.(*lua.LFunction); !ok {
					raise(L, "callback argument given to redis.register_function must be a function")
				}
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					raise(L, "flags argument to redis.register_function must be a table representing function flags")
				}
				flags, ok := readFunctionFlags(ft)
				if !ok {
					raise(L, "unknown flag given")
				}
				f.flags = flags
			default:
				raise(L, "unknown argument given to redis.register_function")
			}
		}
		if !hasName {
			raise(L, "redis.register_function must get a function name argument")
		}
		if f.fn == nil {
			raise(L, "redis.register_function must get a callback argument")
		}
	case 2:
		var ok bool
		if f.name, ok = luaStringArg(L.Get(1)); !ok {
			raise(L, "first argument to redis.register_function must be a string")
		}
		if f.fn, ok = L.Get(2).(*lua.LFunction); !ok {
			raise(L, "second argument to redis.register_function must be a function")
		}
	default:
		raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validFuncName(f.name) {
		raise(L, errFuncBadName)
	}
	if lib.funcs[f.name] != nil {
		raise(L, "Function already exists in the library")
	}
	lib.funcs[f.name] = f
	return 0
}

// readFunctionFlags reads a flags table {'no-writes', ...}, names in any
// case; false at a name that is not a flag.
func readFunctionFlags(t *lua.LTable) (scriptFlags, bool) {
	var flags scriptFlags
	for j := 1; ; j++ {
		v := t.RawGetInt(j)
		if v == lua.LNil {
			return flags, true
		}
		name, ok := luaStringArg(v)
		if !ok {
			return 0, false
		}
		found := false
		for _, d := range scriptFlagNames {
			if strings.EqualFold(d.name, name) {
				flags |= d.f
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
}

// fcallGeneric runs FCALL and FCALL_RO.
func (s *Shard) fcallGeneric(c *Client, argv [][]byte, ro bool) {
	if len(s.monitors) > 0 {
		s.feedMonitors(c, argv) // before the commands the function calls
	}
	f := s.funcs.funcs[strings.ToLower(string(argv[1]))]
	if f == nil {
		c.Error(errFuncNotFound)
		return
	}
	numkeys, ok := parseNumKeys(c, argv, "ERR Bad number of keys provided")
	if !ok {
		return
	}
	run := scriptRun{caller: c, sha: f.name}
	if !s.startRun(&run, argv, numkeys, f.flags&^scriptCompat, ro) {
		return
	}
	e := s.funcs.ev
	e.invoke(&run, f.fn, bytesArray(e.L, argv[3:3+numkeys]), bytesArray(e.L, argv[3+numkeys:]))
	s.endRun(&run)
}

// functionSyntaxError is Redis's addReplySubcommandSyntaxError for the
// FUNCTION container.
func functionSyntaxError(c *Client, argv [][]byte) {
	c.Error("ERR unknown subcommand or wrong number of arguments for '" + truncate(cString(argv[1]), 128) + "'. Try FUNCTION HELP.")
}

// FUNCTION LOAD [REPLACE] code
func functionLoadCmd(s *Shard, c *Client, argv [][]byte) {
	replace := false
	i := 2
	for ; i < len(argv)-1; i++ {
		if !eqFold(argv[i], "replace") {
			c.Error("ERR Unknown option given: " + string(cString(argv[i])))
			return
		}
		replace = true
	}
	if i >= len(argv) {
		c.Error("ERR Function code is missing")
		return
	}
	name, err := s.createLibrary(string(argv[i]), replace)
	if err != "" {
		c.Error("ERR " + err)
		return
	}
	s.dirty++
	c.BulkString(name)
}

// FUNCTION DELETE library-name
func functionDeleteCmd(s *Shard, c *Client, argv [][]byte) {
	lib := s.funcs.libs[string(argv[2])]
	if lib == nil {
		c.Error("ERR Library not found")
		return
	}
	s.funcs.unlink(lib)
	s.dirty++
	c.OK()
}

// FUNCTION FLUSH [ASYNC|SYNC]
func functionFlushCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 3 {
		functionSyntaxError(c, argv)
		return
	}
	if len(argv) == 3 && !eqFold(argv[2], "sync") && !eqFold(argv[2], "async") {
		c.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	s.funcs.clear()
	s.dirty++
	c.OK()
}

// FUNCTION KILL: a function runs to its end before anything else is
// served, so none is ever running.
func functionKillCmd(s *Shard, c *Client, argv [][]byte) {
	c.Error("NOTBUSY No scripts in execution right now.")
}

// FUNCTION STATS
func functionStatsCmd(s *Shard, c *Client, argv [][]byte) {
	c.MapLen(2)
	c.BulkString("running_script")
	c.Null()
	c.BulkString("engines")
	c.MapLen(1)
	c.BulkString(luaEngineName)
	c.MapLen(2)
	c.BulkString("libraries_count")
	c.Int(int64(len(s.funcs.libs)))
	c.BulkString("functions_count")
	c.Int(int64(s.funcs.numFunctions()))
}

// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
func functionListCmd(s *Shard, c *Client, argv [][]byte) {
	withCode := false
	var pattern []byte
	hasPattern := false
	for i := 2; i < len(argv); i++ {
		if !withCode && eqFold(argv[i], "withcode") {
			withCode = true
			continue
		}
		if !hasPattern && eqFold(argv[i], "libraryname") {
			if i >= len(argv)-1 {
				c.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern, hasPattern = argv[i], true
			continue
		}
		c.Error("ERR Unknown argument " + string(cString(argv[i])))
		return
	}
	var libs []*fnLibrary
	for _, l := range s.funcs.sortedLibs() {
		if !hasPattern || globMatch(pattern, []byte(l.name), true) {
			libs = append(libs, l)
		}
	}
	c.ArrayLen(len(libs))
	for _, l := range libs {
		if withCode {
			c.MapLen(4)
		} else {
			c.MapLen(3)
		}
		c.BulkString("library_name")
		c.BulkString(l.name)
		c.BulkString("engine")
		c.BulkString(luaEngineName)
		c.BulkString("functions")
		fns := l.sortedFuncs()
		c.ArrayLen(len(fns))
		for _, f := range fns {
			c.MapLen(3)
			c.BulkString("name")
			c.BulkString(f.name)
			c.BulkString("description")
			if f.hasDesc {
				c.BulkString(f.desc)
			} else {
				c.Null()
			}
			c.BulkString("flags")
			n := 0
			for _, d := range scriptFlagNames {
				if f.flags&d.f != 0 {
					n++
				}
			}
			c.SetLen(n)
			for _, d := range scriptFlagNames {
				if f.flags&d.f != 0 {
					c.Simple(d.name)
				}
			}
		}
		if withCode {
			c.BulkString("library_code")
			c.BulkString(l.code)
		}
	}
}

// appendFunctionsRDB appends every library as RDB's FUNCTION2 records:
// the opcode and the library's code as a string.
func (s *Shard) appendFunctionsRDB(b []byte, compress bool) []byte {
	for _, l := range s.funcs.sortedLibs() {
		b = append(b, rdb.OpFunction2)
		b = rdb.AppendString(b, []byte(l.code), compress)
	}
	return b
}

// appendFunctionsAOF appends a FUNCTION LOAD command for every library,
// as Redis's AOF rewrite writes them.
func (s *Shard) appendFunctionsAOF(b []byte) []byte {
	for _, l := range s.funcs.sortedLibs() {
		b = append(b, "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"...)
		b = appendBulk(b, []byte(l.code))
	}
	return b
}

// FUNCTION DUMP: every library as FUNCTION2 records, followed by the RDB
// version and the CRC64, as DUMP's payloads.
func functionDumpCmd(s *Shard, c *Client, argv [][]byte) {
	p := s.appendFunctionsRDB(nil, rdbCompress)
	p = rdb.AppendDumpFooter(p, 0)
	c.Bulk(p)
}

// loadFunctionRecord reads one library record (after its opcode) of an
// RDB stream or a FUNCTION DUMP payload and returns its code, as Redis's
// rdbFunctionLoad: FUNCTION2 holds the code; the format of Redis 7.0's
// release candidates (FUNCTION) its name, engine, description and body.
func loadFunctionRecord(rd *rdb.Reader, op byte) (string, string) {
	if op == rdb.OpFunction2 {
		code, err := rd.ReadString()
		if err != nil {
			return "", "Failed loading library payload"
		}
		return string(code), ""
	}
	name, err := rd.ReadString()
	if err != nil {
		return "", "Failed loading library name"
	}
	engine, err := rd.ReadString()
	if err != nil {
		return "", "Failed loading engine name"
	}
	hasDesc, err := rd.ReadLen()
	if err != nil {
		return "", "Failed loading library description indicator"
	}
	if hasDesc != 0 {
		if _, err := rd.ReadString(); err != nil {
			return "", "Failed loading library description"
		}
	}
	blob, err := rd.ReadString()
	if err != nil {
		return "", "Failed loading library blob"
	}
	return "#!" + string(engine) + " name=" + string(name) + "\n" + string(blob), ""
}

// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]
func functionRestoreCmd(s *Shard, c *Client, argv [][]byte) {
	if len(argv) > 4 {
		functionSyntaxError(c, argv)
		return
	}
	policy := "append"
	if len(argv) == 4 {
		switch {
		case eqFold(argv[3], "append"):
		case eqFold(argv[3], "replace"):
			policy = "replace"
		case eqFold(argv[3], "flush"):
			policy = "flush"
		default:
			c.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	body, _, ok := rdb.CheckDumpPayload(argv[2])
	if !ok {
		c.Error(errFuncBadPayload)
		return
	}
	// The payload's libraries are loaded into a state of their own first,
	// as Redis loads them into a new library context, then joined.
	fs := &s.funcs
	saved := *fs
	*fs = functionsState{ev: saved.ev, load: saved.load}
	rd := rdb.NewBytesReader(body)
	var err string
	for int(rd.Offset()) < len(body) {
		op, rerr := rd.ReadByte()
		if rerr != nil {
			err = "can not read data type"
			break
		}
		if op != rdb.OpFunction2 && op != rdb.OpFunctionPreGA {
			err = "given type is not a function"
			break
		}
		code, lerr := loadFunctionRecord(rd, op)
		if lerr == "" {
			_, lerr = s.createLibrary(code, false)
		}
		if lerr != "" {
			err = lerr
			break
		}
	}
	loaded := *fs
	*fs = saved
	fs.ev = loaded.ev
	fs.load = loaded.load
	if err == "" {
		switch policy {
		case "flush":
			fs.libs, fs.funcs = nil, nil
			for _, l := range loaded.libs {
				fs.link(l)
			}
		default:
			err = fs.join(loaded.libs, policy == "replace")
		}
	}
	if err != "" {
		c.Error("ERR " + err)
		return
	}
	s.dirty++
	c.OK()
}

// join adds libs to the libraries, as Redis's libraryJoin: a library of
// a name already loaded fails the whole (or, with replace, takes its
// place), and so does a function whose name is taken.
func (fs *functionsState) join(libs map[string]*fnLibrary, replace bool) string {
	names := make([]string, 0, len(libs))
	for name := range libs {
		names = append(names, name)
	}
	sort.Strings(names)
	var old []*fnLibrary
	relink := func() {
		for _, l := range old {
			fs.link(l)
		}
	}
	for _, name := range names {
		if o := fs.libs[name]; o != nil {
			if !replace {
				relink()
				return "Library " + name + " already exists"
			}
			fs.unlink(o)
			old = append(old, o)
		}
	}
	for _, name := range names {
		for _, f := range libs[name].sortedFuncs() {
			if fs.funcs[strings.ToLower(f.name)] != nil {
				relink()
				return "Function " + f.name + " already exists"
			}
		}
	}
	for _, name := range names {
		fs.link(libs[name])
	}
	return ""
}

func functionHelpCmd(s *Shard, c *Client, argv [][]byte) {
	replyHelp(c, "FUNCTION", []string{
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	})
}

// memory estimates the memory of the libraries (code, names,
// the tables holding them), as INFO's used_memory_functions.
func (fs *functionsState) memory() int64 {
	var n int64
	for _, l := range fs.libs {
		n += int64(len(l.name)+len(l.code)) + 128
		for _, f := range l.funcs {
			n += int64(len(f.name)+len(f.desc)) + 96
		}
	}
	return n
}

// vmMemory estimates the memory of the functions' Lua state, as INFO's
// used_memory_vm_functions (Redis's Lua reports about 32 KiB when empty).
func (fs *functionsState) vmMemory() int64 {
	n := int64(32 << 10)
	for _, l := range fs.libs {
		n += int64(len(l.code)) * 4
	}
	return n
}
