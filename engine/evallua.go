package engine

import (
	"math"
	"runtime"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"shoal/engine/internal/lualib"
	"shoal/internal/rlog"
	"shoal/resp"
)

// The Lua side of scripting: the state, the redis.* API, and the
// conversions between Lua values and RESP replies, as Redis 7.0's
// script_lua.c. Everything here runs on the shard's loop; the state and
// the script client belong to it.

// evalState is a shard's Lua state and script cache, made at the first
// script and dropped by SCRIPT FLUSH.
type evalState struct {
	s       *Shard
	L       *lua.LState
	globals *lua.LTable // the real global table, behind a read-only proxy
	handler *lua.LFunction
	scripts map[string]*luaScript
	mem     int64      // bytes of the cached bodies and their names
	vmBytes int64      // what making the Lua state allocated (INFO used_memory_lua)
	client  *Client    // the client the scripts' commands run for
	run     *scriptRun // the running script; nil between scripts
	rand    uint64     // math.random's 48-bit generator, as Redis's rand.c
	argv    [][]byte   // redis.call's arguments, reused
	inCall  bool       // inside redis.call: a nested call is refused
	// protected are the read-only proxies scripts see in place of the
	// globals and the libraries (and sealed, what getmetatable shows of
	// them): rawset and setmetatable refuse them.
	protected map[*lua.LTable]bool
	sealed    *lua.LTable
}

// scriptRun is one script's run, as Redis's scriptRunCtx.
type scriptRun struct {
	caller    *Client
	cmd       *Command // EVAL's or FCALL's row, for its failed calls
	argv      [][]byte // EVAL's or FCALL's arguments
	tracked   bool     // the caller's tracking has remembered the declared keys
	sha       string
	slot      int  // the slot of the keys the script declared or first touched; -1 if none yet
	readOnly  bool // EVAL_RO, or a no-writes script: write commands are refused
	allowOOM  bool // the script's allow-oom flag
	crossSlot bool // keys of several slots may be touched (compatibility mode, allow-cross-slot-keys)
	oom       bool // used memory was over maxmemory when the script began
	wrote     bool // a write command ran: later checks may not fail it
	resp3     bool // redis.setresp(3)
	noAOF     bool // redis.set_repl without REPL_AOF: what follows is not recorded
}

// Redis's log levels as redis.log takes them.
const (
	luaLogDebug = iota
	luaLogVerbose
	luaLogNotice
	luaLogWarning
)

// Replication targets of redis.set_repl (Redis's PROPAGATE_AOF/REPL).
const (
	replAOF     = 1
	replReplica = 2
)

// evalState returns the shard's Lua state, making it at first use.
func (s *Shard) evalState() *evalState {
	if s.eval == nil {
		// What making the state allocates is its size, as far as Go can
		// tell (gopher-lua keeps no count of its own). ReadMemStats stops
		// the world briefly; a state is made at the first script and after
		// SCRIPT FLUSH only.
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		s.eval = newEvalState(s)
		runtime.ReadMemStats(&ms)
		s.eval.vmBytes = int64(ms.TotalAlloc - before)
	}
	return s.eval
}

// luaAllowed are the globals Lua's base library leaves to scripts, as
// Redis's allow lists; the others (dofile, loadfile, print, require,
// module, ...) are removed.
var luaAllowed = map[string]bool{
	"xpcall": true, "tostring": true, "getfenv": true, "setmetatable": true,
	"next": true, "assert": true, "tonumber": true, "rawequal": true,
	"collectgarbage": true, "getmetatable": true, "rawset": true,
	"pcall": true, "coroutine": true, "type": true, "_G": true,
	"select": true, "unpack": true, "gcinfo": true, "pairs": true,
	"rawget": true, "loadstring": true, "ipairs": true, "_VERSION": true,
	"setfenv": true, "load": true, "error": true, "newproxy": true,
	"string": true, "math": true, "table": true,
	"cjson": true, "struct": true, "cmsgpack": true, "bit": true,
}

func newEvalState(s *Shard) *evalState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:    true,
		CallStackSize:   256,
		RegistrySize:    1024,
		RegistryMaxSize: 1 << 22,
	})
	e := &evalState{s: s, L: L, scripts: map[string]*luaScript{},
		rand: lrand48Seed(0x1234abcd), protected: map[*lua.LTable]bool{}}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	lualib.Open(L) // cjson, struct, cmsgpack, bit
	g := L.G.Global
	var drop []lua.LValue
	g.ForEach(func(k, _ lua.LValue) {
		if name, ok := k.(lua.LString); !ok || !luaAllowed[string(name)] {
			drop = append(drop, k)
		}
	})
	for _, k := range drop {
		g.RawSet(k, lua.LNil)
	}
	g.RawSetString("pcall", L.NewFunction(luaPcall))
	g.RawSetString("error", L.NewFunction(luaErrorFn))
	g.RawSetString("tostring", L.NewFunction(luaTostring))
	g.RawSetString("rawset", L.NewFunction(e.luaRawset))
	g.RawSetString("setmetatable", L.NewFunction(e.luaSetmetatable))
	g.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(0))
		return 1
	}))
	math := g.RawGetString("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(e.mathRandom))
	math.RawSetString("randomseed", L.NewFunction(e.mathRandomseed))
	g.RawSetString("redis", e.redisAPI())
	e.handler = L.NewFunction(e.errHandler)

	// Every library table and the globals are read-only to scripts, as in
	// Redis: each is replaced by an empty proxy whose reads go to it and
	// whose writes fail, and whose metatable cannot be read or replaced.
	// Reading a global that does not exist fails too.
	e.sealed = L.NewTable()
	sealedMT := L.NewTable()
	sealedMT.RawSetString("__newindex", L.NewFunction(raiseReadonly))
	sealedMT.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(e.sealed, sealedMT)
	e.protected[e.sealed] = true
	for _, name := range []string{"string", "math", "table", "coroutine", "redis", "cjson", "struct", "cmsgpack", "bit"} {
		g.RawSetString(name, e.readOnlyProxy(g.RawGetString(name).(*lua.LTable)))
	}
	if smt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		smt.RawSetString("__index", g.RawGetString("string")) // s:rep() through the proxy
		smt.RawSetString("__metatable", e.sealed)
	}
	strict := L.NewTable()
	strict.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", L.ToString(2))
		return 0
	}))
	L.SetMetatable(g, strict)
	proxy := e.readOnlyProxy(g)
	g.RawSetString("_G", proxy)
	e.globals = g
	L.G.Global = proxy
	L.Env = proxy

	e.client = &Client{ID: 0, shard: s, Addr: "lua"}
	return e
}

// readOnlyProxy returns an empty table that reads from t and refuses
// writes with Redis's error for read-only tables.
func (e *evalState) readOnlyProxy(t *lua.LTable) *lua.LTable {
	L := e.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", t)
	mt.RawSetString("__newindex", L.NewFunction(raiseReadonly))
	mt.RawSetString("__metatable", e.sealed)
	L.SetMetatable(p, mt)
	e.protected[p] = true
	return p
}

func raiseReadonly(L *lua.LState) int {
	L.RaiseError("Attempt to modify a readonly table")
	return 0
}

// luaRawset is rawset, refused on the read-only tables.
func (e *evalState) luaRawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if e.protected[t] {
		L.Error(lua.LString("Attempt to modify a readonly table"), 0)
	}
	L.RawSet(t, L.CheckAny(2), L.CheckAny(3))
	L.SetTop(1)
	return 1
}

// luaSetmetatable is setmetatable, refused on the read-only tables.
func (e *evalState) luaSetmetatable(L *lua.LState) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && e.protected[t] {
		L.Error(lua.LString("Attempt to modify a readonly table"), 0)
	}
	L.CheckTypes(2, lua.LTNil, lua.LTTable)
	obj := L.Get(1)
	if obj == lua.LNil {
		L.RaiseError("cannot set metatable to a nil object.")
	}
	if t, ok := obj.(*lua.LTable); ok {
		if mt, ok := t.Metatable.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
			L.RaiseError("cannot change a protected metatable")
		}
	}
	L.SetMetatable(obj, L.Get(2))
	L.SetTop(1)
	return 1
}

// checkNumber is luaL_checknumber: a number, or a string that reads as
// one.
func checkNumber(L *lua.LState, n int) float64 {
	f, ok := luaNumber(L.Get(n))
	if !ok {
		L.TypeError(n, lua.LTNumber)
	}
	return f
}

// luaNumber is lua_isnumber and lua_tonumber: v's value when it is a
// number or a string that reads as one.
func luaNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		str := strings.TrimSpace(string(v))
		if f, err := strconv.ParseFloat(str, 64); err == nil {
			return f, true
		}
		if h, ok := strings.CutPrefix(strings.ToLower(str), "0x"); ok {
			if u, err := strconv.ParseUint(h, 16, 64); err == nil {
				return float64(u), true
			}
		}
	}
	return 0, false
}

// checkInt is luaL_checkint: checkNumber truncated.
func checkInt(L *lua.LState, n int) int { return int(luaInt(checkNumber(L, n))) }

// close releases the Lua state.
func (e *evalState) close() { e.L.Close() }

// compile compiles a script body as Redis names it ("user_script").
func (e *evalState) compile(body string) (*lua.LFunction, error) {
	return e.L.Load(strings.NewReader(body), "user_script")
}

// call runs fn with KEYS and ARGV and writes its reply (or error) to the
// caller.
func (e *evalState) call(run *scriptRun, fn *lua.LFunction, keys, args [][]byte) {
	e.globals.RawSetString("KEYS", bytesArray(e.L, keys))
	e.globals.RawSetString("ARGV", bytesArray(e.L, args))
	e.invoke(run, fn)
}

// invoke runs fn with the arguments given (a function's keys and
// arguments; none for a script) and writes its reply (or error) to the
// caller. Errors name run.sha: the script's SHA1 or the function's name.
func (e *evalState) invoke(run *scriptRun, fn *lua.LFunction, fnArgs ...lua.LValue) {
	L := e.L
	c := run.caller
	e.run = run
	defer func() { e.run = nil }()
	top := L.GetTop()
	L.Push(fn)
	for _, a := range fnArgs {
		L.Push(a)
	}
	err := L.PCall(len(fnArgs), 1, e.handler)
	if err != nil {
		var obj lua.LValue = lua.LNil
		if ae, ok := err.(*lua.ApiError); ok {
			obj = ae.Object
		}
		replyScriptError(c, run, obj)
	} else {
		e.reply(c, run, L.Get(-1), 0)
	}
	L.SetTop(top)
}

// replyScriptError writes the error a failed script ends with: its
// message, and where it was raised.
func replyScriptError(c *Client, run *scriptRun, obj lua.LValue) {
	sha := run.sha
	t, ok := obj.(*lua.LTable)
	if !ok {
		msg := "execution failure"
		if str, ok := obj.(lua.LString); ok {
			msg = string(str)
		}
		if len(msg) > 100 {
			msg = msg[:100]
		}
		c.Error("ERR Error running script " + sha + ", " + msg)
		return
	}
	msg := "ERR unknown error"
	if m, ok := t.RawGetString("err").(lua.LString); ok {
		msg = string(m)
	}
	src, okSrc := t.RawGetString("source").(lua.LString)
	line := t.RawGetString("line")
	if okSrc && line != lua.LNil {
		msg += " script: " + sha + ", on " + string(src) + ":" + lua.LVAsString(line) + "."
	}
	replyError(c, run, t, msg)
}

// replyError writes msg, the error the script ends with (t its error
// table): not counted in INFO errorstats when the command that raised it
// counted it already, the script's command failed all the same.
func replyError(c *Client, run *scriptRun, t *lua.LTable, msg string) {
	if t.RawGetString("ignore_error_stats_update") != lua.LTrue {
		c.Error(msg)
		return
	}
	c.errorUncounted(msg)
	if run.cmd != nil {
		run.cmd.failed++
	}
}

// errorUncounted appends an error reply that INFO errorstats does not
// count: the command that failed inside a script counted it already.
func (c *Client) errorUncounted(msg string) {
	shard := c.shard
	c.shard = nil
	c.Error(msg)
	c.shard = shard
}

// errHandler turns what a script raised into Redis's error table: a
// string becomes {err="ERR ..."}, and the source and line of the Lua code
// that raised it are added (the caller's, for an error raised by a
// function of Go).
func (e *evalState) errHandler(L *lua.LState) int {
	v := L.Get(1)
	t, ok := v.(*lua.LTable)
	if !ok {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+lua.LVAsString(luaToStringValue(v))))
	}
	for level := 0; level < 8; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine < 0 {
			continue
		}
		src := dbg.Source
		if !strings.HasPrefix(src, "@") && !strings.HasPrefix(src, "=") {
			src = "@" + src
		}
		t.RawSetString("source", lua.LString(src))
		t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		break
	}
	L.Push(t)
	return 1
}

// luaToStringValue is Lua's tostring for the values an error can be.
func luaToStringValue(v lua.LValue) lua.LValue {
	switch v := v.(type) {
	case lua.LString:
		return v
	case lua.LNumber:
		return lua.LString(formatLuaNumber(float64(v)))
	case *lua.LNilType:
		return lua.LString("nil")
	case lua.LBool:
		if v {
			return lua.LString("true")
		}
		return lua.LString("false")
	}
	return lua.LString(v.String())
}

// luaPcall is Redis's pcall: an error raised as a table with an err field
// is returned as that field's string, as scripts written for Redis 6
// expect.
func luaPcall(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(1, "value expected")
	}
	err := L.PCall(n-1, lua.MultRet, nil)
	if err == nil {
		L.Insert(lua.LTrue, 1)
		return L.GetTop()
	}
	var obj lua.LValue = lua.LNil
	if ae, ok := err.(*lua.ApiError); ok {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if m, ok := t.RawGetString("err").(lua.LString); ok {
			obj = m
		}
	}
	L.Push(lua.LFalse)
	L.Push(obj)
	return 2
}

// luaErrorFn is Lua 5.1's error: it raises its argument (nil when there
// is none), a string prefixed with where it was raised at level 1 or more.
func luaErrorFn(L *lua.LState) int {
	L.Error(L.Get(1), L.OptInt(2, 1))
	return 0
}

// luaTostring is Lua 5.1's tostring, numbers formatted as Lua formats
// them ("%.14g") rather than with Go's shortest form.
func luaTostring(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(formatLuaNumber(float64(n))))
		return 1
	}
	if mt := L.GetMetaField(v, "__tostring"); mt != lua.LNil {
		L.Push(mt)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
	L.Push(luaToStringValue(v))
	return 1
}

// formatLuaNumber is C's "%.14g", Lua 5.1's number format, with glibc's
// spelling of infinities and NaN.
func formatLuaNumber(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		if math.Signbit(f) {
			return "-nan"
		}
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// bytesArray makes a Lua array of strings.
func bytesArray(L *lua.LState, a [][]byte) *lua.LTable {
	t := L.CreateTable(len(a), 0)
	for i, b := range a {
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}

// errorTable builds the table Redis raises or returns for an error, as
// luaPushErrorBuff: "-CODE msg" keeps its code, a message without one gets
// ERR; trailing line ends are cut.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i >= 0 {
			code, msg = msg[1:i], msg[i+1:]
		} else {
			msg = msg[1:]
		}
	}
	msg = strings.Trim(msg, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+msg))
	return t
}

// redisAPI builds the redis table.
func (e *evalState) redisAPI() *lua.LTable {
	L := e.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":        func(L *lua.LState) int { return e.redisCall(L, true) },
		"pcall":       func(L *lua.LState) int { return e.redisCall(L, false) },
		"log":         e.redisLog,
		"setresp":     e.redisSetResp,
		"sha1hex":     redisSha1hex,
		"error_reply": redisErrorReply,
		"status_reply": func(L *lua.LState) int {
			if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
				L.Push(errorTable(L, "wrong number or type of arguments"))
				return 1
			}
			r := L.NewTable()
			r.RawSetString("ok", L.Get(1))
			L.Push(r)
			return 1
		},
		"set_repl":      e.redisSetRepl,
		"acl_check_cmd": e.redisACLCheck,
		"replicate_commands": func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		},
		"breakpoint": func(L *lua.LState) int {
			L.Push(lua.LFalse)
			return 1
		},
		"debug": func(L *lua.LState) int { return 0 },
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, v := range map[string]float64{
		"LOG_DEBUG": luaLogDebug, "LOG_VERBOSE": luaLogVerbose, "LOG_NOTICE": luaLogNotice, "LOG_WARNING": luaLogWarning,
		"REPL_NONE": 0, "REPL_AOF": replAOF, "REPL_SLAVE": replReplica, "REPL_REPLICA": replReplica, "REPL_ALL": replAOF | replReplica,
	} {
		t.RawSetString(name, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(RedisVersion))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum()))
	return t
}

// redisVersionNum is the version as 0x00MMmmpp.
func redisVersionNum() int {
	n := 0
	for _, p := range strings.SplitN(RedisVersion, ".", 3) {
		v, _ := strconv.Atoi(p)
		n = n<<8 | v
	}
	return n
}

// raise raises Redis's error table for msg.
func raise(L *lua.LState, msg string) {
	L.Error(errorTable(L, msg), 0)
}

// redisCall is redis.call (raise) and redis.pcall: it runs a command for
// the script and returns its reply as Lua values.
func (e *evalState) redisCall(L *lua.LState, raiseErr bool) int {
	run := e.run
	if run == nil {
		raise(L, "redis.call/pcall can only be called inside a script invocation")
	}
	fail := func(t *lua.LTable) int {
		if raiseErr {
			L.Error(t, 0)
		}
		L.Push(t)
		return 1
	}
	n := L.GetTop()
	if n == 0 {
		return fail(errorTable(L, "Please specify at least one argument for this redis lib call"))
	}
	argv, ok := luaArgv(L, e.argv[:0])
	e.argv = argv[:0]
	if !ok {
		return fail(errorTable(L, errLuaArgs))
	}
	if e.inCall {
		return fail(errorTable(L, "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?"))
	}
	e.inCall = true
	sc := e.client
	sc.Out = sc.Out[:0]
	sc.Resp3 = run.resp3
	sc.scriptCaller = run.caller
	errMsg := e.s.scriptCall(run, sc, argv)
	e.inCall = false
	if errMsg != "" {
		t := errorTable(L, errMsg)
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return fail(t)
	}
	out := sc.Out
	if len(out) > 64<<10 {
		defer func() { sc.Out = nil }() // do not keep a large reply's buffer
	}
	v, _ := replyToLua(L, out, 0)
	if raiseErr && len(out) > 0 && out[0] == '-' {
		if t, ok := v.(*lua.LTable); ok {
			t.RawSetString("ignore_error_stats_update", lua.LTrue)
		}
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}

const errLuaArgs = "Lua redis lib command arguments must be strings or integers"

// luaArgv appends the arguments of a redis.* call to dst as a command's
// arguments; false when one is neither a string nor a number.
func luaArgv(L *lua.LState, dst [][]byte) ([][]byte, bool) {
	for i := 1; i <= L.GetTop(); i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			dst = append(dst, []byte(v))
		case lua.LNumber:
			dst = append(dst, formatLuaArg(float64(v)))
		default:
			return dst, false
		}
	}
	return dst, true
}

// formatLuaArg formats a Lua number given as a command argument with
// "%.17g", as Redis does (Lua's own conversion loses precision).
func formatLuaArg(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	case math.IsNaN(f):
		return []byte("nan")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// scriptCall runs one command a script called, after Redis's scriptCall
// checks; it returns the error that refused it, or "" when it ran (its
// reply, an error or not, is in sc.Out).
func (s *Shard) scriptCall(run *scriptRun, sc *Client, argv [][]byte) string {
	// A refusal counts in INFO errorstats and as the command's rejected
	// call, not as a failure of the script's own command (errMark).
	cmd := s.cmds.lookup(argv)
	refuse := func(msg string) string {
		if cmd != nil {
			cmd.rejected++
		}
		code := "ERR"
		if strings.HasPrefix(msg, "-") {
			code = msg[1:]
			if i := strings.IndexByte(code, ' '); i >= 0 {
				code = code[:i]
			}
		}
		s.countError(code)
		s.errMark = s.Stats.ErrorReplies
		return msg
	}
	if cmd == nil || cmd.Proc == nil {
		cmd = nil
		return refuse("Unknown Redis command called from script")
	}
	if !cmd.arityOK(len(argv)) {
		return refuse("Wrong number of args calling Redis command from script")
	}
	if cmd.Flags&FlagNoScript != 0 {
		return refuse("This Redis command is not allowed from script")
	}
	write := cmd.Flags&FlagWrite != 0
	if run.readOnly && cmd.Flags&(FlagWrite|FlagMayReplicate) != 0 {
		return refuse("Write commands are not allowed from read-only scripts.")
	}
	if write && !run.wrote && s.aof.writeErr != 0 && s.prop.on {
		return refuse("-" + s.aofMisconf())
	}
	if run.oom && !run.allowOOM && !run.wrote && cmd.Flags&FlagDenyOOM != 0 {
		return refuse("-" + errOOM)
	}
	if write {
		run.wrote = true
	}
	if s.cluster != nil && cmd.hasKeys() {
		slot, code := s.querySlot(cmd, argv)
		switch {
		case code == routeDown:
			return refuse("Script attempted to execute a command while the cluster is down")
		case code != routeLocal:
			return refuse("Script attempted to access a non local key in a cluster node")
		case slot >= 0 && !run.crossSlot:
			if run.slot < 0 {
				run.slot = slot
			} else if run.slot != slot {
				return refuse("Script attempted to access keys that do not hash to the same slot")
			}
		}
	}
	sc.db = run.caller.db
	aofMark, selected, start, ops := len(s.aof.buf), s.aof.selected, s.prop.start, s.prop.ops
	s.run(sc, cmd, argv)
	if sc.blk != nil {
		s.noBlocking(sc, cmd)
	}
	if run.noAOF && s.prop.on {
		s.aof.buf, s.aof.selected, s.prop.start, s.prop.ops = s.aof.buf[:aofMark], selected, start, ops
	}
	if s.track.clients > 0 && cmd.Flags&FlagReadonly != 0 && !run.tracked && run.caller.tracking() && run.caller.track.flags&trackBcast == 0 {
		// A script that reads has its caller remember the keys it
		// declared, as Redis 7.0 does (not the keys the command read).
		run.tracked = true
		s.trackRead(run.caller, run.cmd, run.argv)
	}
	if write && len(s.block.waiting) > 0 {
		s.signalKeys(cmd, argv)
	}
	return ""
}

// replyToLua converts the reply at b[i:] into a Lua value, as Redis's
// redisProtocolToLuaType, and returns the offset after it. The replies
// come from the shard's own commands and are well formed.
func replyToLua(L *lua.LState, b []byte, i int) (lua.LValue, int) {
	if i >= len(b) {
		return lua.LNil, i
	}
	typ := b[i]
	end := i + 1
	for end < len(b) && b[end] != '\r' {
		end++
	}
	line := b[i+1 : end]
	next := end + 2
	switch typ {
	case resp.TypeInt:
		n, _ := parseInt(line)
		return lua.LNumber(n), next
	case resp.TypeBulk, resp.TypeVerbatim, resp.TypeBulkError:
		n, _ := parseInt(line)
		if n < 0 {
			return lua.LFalse, next
		}
		str := b[next : next+int(n)]
		next += int(n) + 2
		switch typ {
		case resp.TypeVerbatim:
			inner := L.NewTable()
			inner.RawSetString("format", lua.LString(str[:3]))
			inner.RawSetString("string", lua.LString(str[4:]))
			t := L.NewTable()
			t.RawSetString("verbatim_string", inner)
			return t, next
		case resp.TypeBulkError:
			t := L.NewTable()
			t.RawSetString("err", lua.LString(str))
			return t, next
		}
		return lua.LString(str), next
	case resp.TypeSimple:
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(line))
		return t, next
	case resp.TypeError:
		return errorTable(L, "-"+string(line)), next
	case resp.TypeArray, resp.TypeSet, resp.TypeMap, resp.TypePush:
		n, _ := parseInt(line)
		if n < 0 {
			return lua.LFalse, next
		}
		switch typ {
		case resp.TypeMap:
			m := L.CreateTable(0, int(n))
			for j := int64(0); j < n; j++ {
				var k, v lua.LValue
				k, next = replyToLua(L, b, next)
				v, next = replyToLua(L, b, next)
				m.RawSet(k, v)
			}
			t := L.NewTable()
			t.RawSetString("map", m)
			return t, next
		case resp.TypeSet:
			m := L.CreateTable(0, int(n))
			for j := int64(0); j < n; j++ {
				var k lua.LValue
				k, next = replyToLua(L, b, next)
				m.RawSet(k, lua.LTrue)
			}
			t := L.NewTable()
			t.RawSetString("set", m)
			return t, next
		}
		t := L.CreateTable(int(n), 0)
		for j := int64(0); j < n; j++ {
			var v lua.LValue
			v, next = replyToLua(L, b, next)
			t.RawSetInt(int(j)+1, v)
		}
		return t, next
	case resp.TypeNull:
		return lua.LNil, next
	case resp.TypeBool:
		return lua.LBool(len(line) > 0 && line[0] == 't'), next
	case resp.TypeDouble:
		f, _ := strconv.ParseFloat(string(line), 64)
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t, next
	case resp.TypeBigNumber:
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(line))
		return t, next
	case resp.TypeAttr:
		n, _ := parseInt(line)
		for j := int64(0); j < 2*n; j++ {
			_, next = replyToLua(L, b, next)
		}
		return replyToLua(L, b, next)
	}
	return lua.LNil, len(b)
}

// lineEnds turns the line ends of a status or big number into spaces.
var lineEnds = strings.NewReplacer("\r", " ", "\n", " ")

// maxReplyDepth bounds the nesting of a script's reply, as Lua's stack
// limit bounds Redis's conversion.
const maxReplyDepth = 200

// reply writes v, a script's return value, to c, as Redis's
// luaReplyToRedisReply.
func (e *evalState) reply(c *Client, run *scriptRun, v lua.LValue, depth int) {
	if depth > maxReplyDepth {
		c.Error("ERR reached lua stack limit")
		return
	}
	switch v := v.(type) {
	case lua.LString:
		c.Bulk([]byte(v))
	case lua.LBool:
		switch {
		case run.resp3:
			c.Bool(bool(v))
		case bool(v):
			c.Int(1)
		default:
			c.Null()
		}
	case lua.LNumber:
		c.Int(luaInt(float64(v)))
	case *lua.LTable:
		if m, ok := v.RawGetString("err").(lua.LString); ok {
			replyError(c, run, v, string(m))
			return
		}
		if m, ok := v.RawGetString("ok").(lua.LString); ok {
			c.Simple(lineEnds.Replace(string(m)))
			return
		}
		if f, ok := v.RawGetString("double").(lua.LNumber); ok {
			c.Double(float64(f))
			return
		}
		if n, ok := v.RawGetString("big_number").(lua.LString); ok {
			c.Out = resp.AppendBigNumber(c.Out, lineEnds.Replace(string(n)), c.Resp3)
			return
		}
		if vt, ok := v.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, okf := vt.RawGetString("format").(lua.LString)
			str, oks := vt.RawGetString("string").(lua.LString)
			if okf && oks {
				c.Out = resp.AppendVerbatim(c.Out, []byte(str), string(f), c.Resp3)
				return
			}
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			n := 0
			m.ForEach(func(_, _ lua.LValue) { n++ })
			c.MapLen(n)
			m.ForEach(func(k, val lua.LValue) {
				e.reply(c, run, k, depth+1)
				e.reply(c, run, val, depth+1)
			})
			return
		}
		if m, ok := v.RawGetString("set").(*lua.LTable); ok {
			n := 0
			m.ForEach(func(_, _ lua.LValue) { n++ })
			c.SetLen(n)
			m.ForEach(func(k, _ lua.LValue) { e.reply(c, run, k, depth+1) })
			return
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		c.ArrayLen(n)
		for j := 1; j <= n; j++ {
			e.reply(c, run, v.RawGetInt(j), depth+1)
		}
	default:
		c.Null()
	}
}

// luaInt converts a Lua number to an integer reply as C's cast on x86
// does: truncated, and the minimum int64 for what does not fit (NaN,
// infinities, beyond ±2^63).
func luaInt(f float64) int64 {
	if f >= -9223372036854775808.0 && f < 9223372036854775808.0 {
		return int64(f)
	}
	return math.MinInt64
}

func (e *evalState) redisLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		raise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := luaNumber(L.Get(1))
	if !ok {
		raise(L, "First argument must be a number (log level).")
	}
	level := int(lv)
	if level < luaLogDebug || level > luaLogWarning {
		raise(L, "Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString, lua.LNumber:
			if i > 2 {
				b.WriteByte(' ')
			}
			b.WriteString(lua.LVAsString(v))
		}
	}
	rlog.Logf(rlog.Level(level), "%s", b.String())
	return 0
}

func (e *evalState) redisSetResp(L *lua.LState) int {
	if e.run == nil {
		raise(L, "redis.setresp can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.setresp() requires one argument.")
	}
	v := luaInt(float64(L.ToNumber(1)))
	if v != 2 && v != 3 {
		raise(L, "RESP version must be 2 or 3.")
	}
	e.run.resp3 = v == 3
	return 0
}

func (e *evalState) redisSetRepl(L *lua.LState) int {
	if e.run == nil {
		raise(L, "redis.set_repl can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.set_repl() requires two arguments.")
	}
	flags := luaInt(float64(L.ToNumber(1)))
	if flags&^(replAOF|replReplica) != 0 {
		raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	e.run.noAOF = flags&replAOF == 0
	return 0
}

// redisACLCheck is redis.acl_check_cmd: every command is permitted to the
// default user, the only one; an unknown command or bad arity is an
// error.
func (e *evalState) redisACLCheck(L *lua.LState) int {
	if e.run == nil {
		raise(L, "redis.acl_check_cmd can only be called inside a script invocation")
	}
	n := L.GetTop()
	if n == 0 {
		raise(L, "Please specify at least one argument for this redis lib call")
	}
	argv, ok := luaArgv(L, make([][]byte, 0, n))
	if !ok {
		raise(L, errLuaArgs)
	}
	cmd := e.s.cmds.lookup(argv)
	if cmd == nil || cmd.Proc == nil || !cmd.arityOK(len(argv)) {
		raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LTrue)
	return 1
}

func redisSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, "wrong number of arguments")
	}
	var b []byte
	switch v := L.Get(1).(type) {
	case lua.LString:
		b = []byte(v)
	case lua.LNumber:
		b = []byte(lua.LVAsString(v))
	}
	L.Push(lua.LString(sha1hex(b)))
	return 1
}

func redisErrorReply(L *lua.LState) int {
	if L.GetTop() != 1 || L.Get(1).Type() != lua.LTString {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	msg := string(L.Get(1).(lua.LString))
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

// lrand48Seed is the state of Redis's redisSrand48 for seed: the 48-bit
// generator of rand48 with the seed in its high 32 bits.
func lrand48Seed(seed uint32) uint64 { return uint64(seed)<<16 | 0x330e }

// lrand48 steps the generator and returns its top 31 bits.
func (e *evalState) lrand48() int32 {
	e.rand = (e.rand*0x5deece66d + 0xb) & (1<<48 - 1)
	return int32(e.rand >> 17)
}

// mathRandom is Lua's math.random over Redis's generator, so a script
// draws the same numbers on every machine.
func (e *evalState) mathRandom(L *lua.LState) int {
	if e.run == nil {
		L.RaiseError("math.random can only be called inside a script invocation")
	}
	const max = math.MaxInt32
	r := float64(e.lrand48()%max) / float64(max)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), checkInt(L, 2)
		if l > u {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

func (e *evalState) mathRandomseed(L *lua.LState) int {
	if e.run == nil {
		L.RaiseError("math.randomseed can only be called inside a script invocation")
	}
	e.rand = lrand48Seed(uint32(int32(checkInt(L, 1))))
	return 0
}
