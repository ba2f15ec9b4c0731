package lualib

import (
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// jsonConfig is the state cjson's configuration functions change. Each
// module table (the global one and those cjson.new returns) has its own.
type jsonConfig struct {
	sparseConvert  int // 0 or 1: turn excessively sparse arrays into objects
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	encodeInvalid  int // 0: error, 1: "nan"/"inf", 2: null
	decodeInvalid  int // 0 or 1: accept inf, nan, hex and leading zeros
	keepBuffer     int // 0 or 1; has no effect here beyond being reported
	precision      int // significant digits for numbers, 1 to 14
	null           lua.LValue
}

const jsonNullKey = "shoal.lualib.cjson.null"

// jsonNullFor returns L's cjson.null: one userdata per state, as C's NULL
// light userdata is the same value everywhere in a state.
func jsonNullFor(L *lua.LState) lua.LValue {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if v := reg.RawGetString(jsonNullKey); v != lua.LNil {
		return v
	}
	ud := L.NewUserData()
	reg.RawSetString(jsonNullKey, ud)
	return ud
}

// OpenCjson installs the "cjson" module (lua-cjson 2.1.0 as Redis ships it)
// as a global and returns it.
func OpenCjson(L *lua.LState) *lua.LTable {
	t := newCjson(L)
	L.SetGlobal("cjson", t)
	return t
}

func newCjson(L *lua.LState) *lua.LTable {
	cfg := &jsonConfig{
		sparseRatio:    2,
		sparseSafe:     10,
		encodeMaxDepth: 1000,
		decodeMaxDepth: 1000,
		decodeInvalid:  1,
		keepBuffer:     1,
		precision:      14,
		null:           jsonNullFor(L),
	}
	t := L.NewTable()
	for name, fn := range map[string]func(*lua.LState, *jsonConfig) int{
		"encode":                  jsonEncode,
		"decode":                  jsonDecode,
		"encode_sparse_array":     jsonCfgSparseArray,
		"encode_max_depth":        jsonCfgEncodeMaxDepth,
		"decode_max_depth":        jsonCfgDecodeMaxDepth,
		"encode_number_precision": jsonCfgPrecision,
		"encode_keep_buffer":      jsonCfgKeepBuffer,
		"encode_invalid_numbers":  jsonCfgEncodeInvalid,
		"decode_invalid_numbers":  jsonCfgDecodeInvalid,
	} {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int { return fn(L, cfg) }))
	}
	t.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
		L.Push(newCjson(L))
		return 1
	}))
	t.RawSetString("null", cfg.null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// ===== configuration =====

// jsonArgs checks a configuration function got at most n arguments and
// pads them to n with nils, so that results go after them.
func jsonArgs(L *lua.LState, n int) {
	if L.GetTop() > n {
		argError(L, n+1, "found too many arguments")
	}
	L.SetTop(n)
}

// jsonIntOption sets *setting from argument idx when given, checking the
// range, and pushes the (new) value.
func jsonIntOption(L *lua.LState, idx int, setting *int, min, max int) {
	if L.Get(idx) != lua.LNil {
		v := int(int32(checkInteger(L, idx))) // the C code keeps it in an int
		if v < min || v > max {
			argError(L, 1, "expected integer between "+itoa(min)+" and "+itoa(max))
		}
		*setting = v
	}
	L.Push(lua.LNumber(*setting))
}

func itoa(n int) string { return fmtNumber(float64(n), 14) }

// jsonEnumOption sets *setting from argument idx when given: a boolean, or
// the index of one of options. Settings 0 and 1 are pushed as booleans, the
// others by name.
func jsonEnumOption(L *lua.LState, idx int, setting *int, options []string) {
	if v := L.Get(idx); v != lua.LNil {
		if b, ok := v.(lua.LBool); ok {
			*setting = 0
			if b {
				*setting = 1
			}
		} else {
			name := checkLString(L, idx)
			if i := strings.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			found := false
			for i, o := range options {
				if o == name {
					*setting, found = i, true
					break
				}
			}
			if !found {
				argError(L, idx, "invalid option '"+name+"'")
			}
		}
	}
	if *setting == 0 || *setting == 1 {
		L.Push(lua.LBool(*setting == 1))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
}

var jsonBoolOptions = []string{"off", "on"}

func jsonCfgSparseArray(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 3)
	jsonEnumOption(L, 1, &cfg.sparseConvert, jsonBoolOptions)
	jsonIntOption(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
	jsonIntOption(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
	return 3
}

func jsonCfgEncodeMaxDepth(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonIntOption(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func jsonCfgDecodeMaxDepth(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonIntOption(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func jsonCfgPrecision(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonIntOption(L, 1, &cfg.precision, 1, 14)
	return 1
}

func jsonCfgKeepBuffer(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonEnumOption(L, 1, &cfg.keepBuffer, jsonBoolOptions)
	return 1
}

func jsonCfgEncodeInvalid(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonEnumOption(L, 1, &cfg.encodeInvalid, []string{"off", "on", "null"})
	return 1
}

func jsonCfgDecodeInvalid(L *lua.LState, cfg *jsonConfig) int {
	jsonArgs(L, 1)
	jsonEnumOption(L, 1, &cfg.decodeInvalid, jsonBoolOptions)
	return 1
}

// ===== encoding =====

// jsonEscapes holds the escape for each byte that needs one. Note that '/'
// and DEL are escaped too.
var jsonEscapes = func() (e [256]string) {
	const hex = "0123456789abcdef"
	for c := 0; c < 0x20; c++ {
		e[c] = `\u00` + string(hex[c>>4]) + string(hex[c&15])
	}
	e['\b'], e['\t'], e['\n'], e['\f'], e['\r'] = `\b`, `\t`, `\n`, `\f`, `\r`
	e['"'], e['\\'], e['/'], e[0x7f] = `\"`, `\\`, `\/`, `\u007f`
	return e
}()

type jsonEncoder struct {
	L   *lua.LState
	cfg *jsonConfig
	out []byte
}

func jsonEncode(L *lua.LState, cfg *jsonConfig) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	e := &jsonEncoder{L: L, cfg: cfg}
	e.value(L.Get(1), 0, 1)
	L.Push(lua.LString(e.out))
	return 1
}

// fail raises "Cannot serialise <type of v>: <reason>".
func (e *jsonEncoder) fail(v lua.LValue, reason string) {
	raise(e.L, "Cannot serialise %s: %s", valueTypeName(v), reason)
}

// valueTypeName is Lua 5.1's name for the type of v.
func valueTypeName(v lua.LValue) string {
	switch v.Type() {
	case lua.LTNil:
		return "nil"
	case lua.LTBool:
		return "boolean"
	case lua.LTNumber:
		return "number"
	case lua.LTString:
		return "string"
	case lua.LTTable:
		return "table"
	case lua.LTFunction:
		return "function"
	case lua.LTThread:
		return "thread"
	}
	return "userdata"
}

func (e *jsonEncoder) str(s string) {
	e.out = append(e.out, '"')
	for i := 0; i < len(s); i++ {
		if esc := jsonEscapes[s[i]]; esc != "" {
			e.out = append(e.out, esc...)
		} else {
			e.out = append(e.out, s[i])
		}
	}
	e.out = append(e.out, '"')
}

func (e *jsonEncoder) number(v lua.LNumber) {
	f := float64(v)
	bad := math.IsInf(f, 0) || math.IsNaN(f)
	switch e.cfg.encodeInvalid {
	case 0:
		if bad {
			e.fail(v, "must not be NaN or Inf")
		}
	case 1:
		if math.IsNaN(f) {
			e.out = append(e.out, "nan"...)
			return
		}
	default:
		if bad {
			e.out = append(e.out, "null"...)
			return
		}
	}
	e.out = append(e.out, fmtNumber(f, e.cfg.precision)...)
}

// value encodes v, found at nesting depth; slots counts the Lua stack slots
// the C encoder would be using, so that it fails where that one would run
// out of stack.
func (e *jsonEncoder) value(v lua.LValue, depth, slots int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LNumber:
		e.number(x)
	case lua.LBool:
		if x {
			e.out = append(e.out, "true"...)
		} else {
			e.out = append(e.out, "false"...)
		}
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth || slots+3 > maxCStack {
			raise(e.L, "Cannot serialise, excessive nesting (%d)", depth)
		}
		if n := e.arrayLength(x); n > 0 {
			e.array(x, n, depth, slots)
		} else {
			e.object(x, depth, slots)
		}
	default:
		if v == lua.LNil || v == e.cfg.null {
			e.out = append(e.out, "null"...)
			return
		}
		e.fail(v, "type not supported")
	}
}

// arrayLength returns the largest key of t when every key is a positive
// integer and t is not too sparse, else a value <= 0 (encode as an object).
// Keys are tracked in a C int, converted as x86-64 does, so keys of 2^31
// and above make the table an object.
func (e *jsonEncoder) arrayLength(t *lua.LTable) int {
	var max, items int32
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f == 0 || math.Floor(f) != f || f < 1 {
			return -1
		}
		if f > float64(max) {
			max = cvtInt32(f)
		}
		items++
	}
	c := e.cfg
	if c.sparseRatio > 0 && max > items*int32(c.sparseRatio) && int(max) > c.sparseSafe {
		if c.sparseConvert == 0 {
			e.fail(t, "excessively sparse array")
		}
		return -1
	}
	return int(max)
}

func (e *jsonEncoder) array(t *lua.LTable, n, depth, slots int) {
	e.out = append(e.out, '[')
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.out = append(e.out, ',')
		}
		e.value(t.RawGetInt(i), depth, slots+1)
	}
	e.out = append(e.out, ']')
}

func (e *jsonEncoder) object(t *lua.LTable, depth, slots int) {
	e.out = append(e.out, '{')
	first := true
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if !first {
			e.out = append(e.out, ',')
		}
		first = false
		switch key := k.(type) {
		case lua.LNumber:
			e.out = append(e.out, '"')
			e.number(key)
			e.out = append(e.out, '"', ':')
		case lua.LString:
			e.str(string(key))
			e.out = append(e.out, ':')
		default:
			e.fail(k, "table key must be a number or string")
		}
		e.value(v, depth, slots+2)
	}
	e.out = append(e.out, '}')
}

// ===== decoding =====

type jsonTokenType int

const (
	tObjBegin jsonTokenType = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var jsonTokenNames = [...]string{
	"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
	"T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
}

// jsonCharClass is the token type each byte starts; tUnknown ones need a
// closer look.
var jsonCharClass = func() (c [256]jsonTokenType) {
	for i := range c {
		c[i] = tError
	}
	c['{'], c['}'], c['['], c[']'], c[','], c[':'] = tObjBegin, tObjEnd, tArrBegin, tArrEnd, tComma, tColon
	c[0] = tEnd
	c[' '], c['\t'], c['\n'], c['\r'] = tWhitespace, tWhitespace, tWhitespace, tWhitespace
	for _, b := range []byte(`fiIntN"+-0123456789`) {
		c[b] = tUnknown
	}
	return c
}()

// jsonUnescape maps the byte after a backslash to what it stands for; 0 is
// an error and 'u' starts a \uXXXX escape.
var jsonUnescape = func() (u [256]byte) {
	u['"'], u['\\'], u['/'], u['b'], u['t'] = '"', '\\', '/', '\b', '\t'
	u['n'], u['f'], u['r'], u['u'] = '\n', '\f', '\r', 'u'
	return u
}()

type jsonToken struct {
	typ   jsonTokenType
	index int // offset of the token (or of the error) in the input
	str   string
	num   float64
	b     bool
	err   string
}

type jsonDecoder struct {
	L     *lua.LState
	cfg   *jsonConfig
	data  string
	pos   int
	depth int
}

// at returns the byte at i, or NUL past the end: the C decoder reads a
// NUL-terminated string, and a NUL byte inside the input ends it too.
func (d *jsonDecoder) at(i int) byte {
	if i < len(d.data) {
		return d.data[i]
	}
	return 0
}

func jsonDecode(L *lua.LState, cfg *jsonConfig) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	data := checkLString(L, 1)
	if len(data) >= 2 && (data[0] == 0 || data[1] == 0) {
		raise(L, "JSON parser does not support UTF-16 or UTF-32")
	}
	d := &jsonDecoder{L: L, cfg: cfg, data: data}
	var tok jsonToken
	d.next(&tok)
	v := d.value(&tok, 1)
	d.next(&tok)
	if tok.typ != tEnd {
		d.fail("the end", &tok)
	}
	L.Push(v)
	return 1
}

func (d *jsonDecoder) fail(expected string, tok *jsonToken) {
	found := jsonTokenNames[tok.typ]
	if tok.typ == tError {
		found = tok.err
	}
	raise(d.L, "Expected %s but found %s at character %d", expected, found, tok.index+1)
}

func (d *jsonDecoder) tokenError(tok *jsonToken, msg string) {
	tok.typ = tError
	tok.index = d.pos
	tok.err = msg
}

func (d *jsonDecoder) next(tok *jsonToken) {
	var c byte
	for {
		c = d.at(d.pos)
		tok.typ = jsonCharClass[c]
		if tok.typ != tWhitespace {
			break
		}
		d.pos++
	}
	tok.index = d.pos
	switch tok.typ {
	case tError:
		d.tokenError(tok, "invalid token")
		return
	case tEnd:
		return
	case tUnknown:
	default:
		d.pos++
		return
	}
	rest := d.data[d.pos:]
	switch {
	case c == '"':
		d.stringToken(tok)
	case c == '-' || isDigit(c):
		if d.cfg.decodeInvalid == 0 && d.invalidNumber() {
			d.tokenError(tok, "invalid number")
			return
		}
		d.numberToken(tok)
	case strings.HasPrefix(rest, "true"):
		tok.typ, tok.b = tBoolean, true
		d.pos += 4
	case strings.HasPrefix(rest, "false"):
		tok.typ, tok.b = tBoolean, false
		d.pos += 5
	case strings.HasPrefix(rest, "null"):
		tok.typ = tNull
		d.pos += 4
	case d.cfg.decodeInvalid != 0 && d.invalidNumber():
		d.numberToken(tok)
	default:
		d.tokenError(tok, "invalid token")
	}
}

// invalidNumber reports whether the number at pos is one strict JSON
// forbids but strtod reads: a leading '+', hexadecimal, leading zeros, inf
// or nan.
func (d *jsonDecoder) invalidNumber() bool {
	p := d.pos
	switch d.at(p) {
	case '+':
		return true
	case '-':
		p++
	}
	c := d.at(p)
	if c == '0' {
		c2 := d.at(p + 1)
		return c2|0x20 == 'x' || isDigit(c2)
	}
	if c <= '9' || c >= 0x80 { // a C char: bytes from 0x80 are negative
		return false
	}
	rest := d.data[p:]
	return hasPrefixFold(rest, "inf") || hasPrefixFold(rest, "nan")
}

func (d *jsonDecoder) numberToken(tok *jsonToken) {
	// No number character is NUL, so strtod stops where C's would.
	f, n := strtod(d.data[d.pos:])
	if n == 0 {
		d.tokenError(tok, "invalid number")
		return
	}
	tok.typ, tok.num = tNumber, f
	d.pos += n
}

func (d *jsonDecoder) stringToken(tok *jsonToken) {
	d.pos++ // the opening quote
	var b []byte
	for {
		c := d.at(d.pos)
		if c == '"' {
			break
		}
		if c == 0 {
			d.tokenError(tok, "unexpected end of string")
			return
		}
		if c == '\\' {
			c = jsonUnescape[d.at(d.pos+1)]
			if c == 'u' {
				var ok bool
				if b, ok = d.unicodeEscape(b); !ok {
					d.tokenError(tok, "invalid unicode escape code")
					return
				}
				continue
			}
			if c == 0 {
				d.tokenError(tok, "invalid escape code")
				return
			}
			d.pos++
		}
		b = append(b, c)
		d.pos++
	}
	d.pos++ // the closing quote
	tok.typ, tok.str = tString, string(b)
}

// hex4 reads four hex digits at i, or returns -1.
func (d *jsonDecoder) hex4(i int) int {
	v := 0
	for j := 0; j < 4; j++ {
		h := hexVal(d.at(i + j))
		if h < 0 {
			return -1
		}
		v = v<<4 | h
	}
	return v
}

// unicodeEscape decodes the \uXXXX escape (or surrogate pair of them) at
// pos, appends it to b as UTF-8 and moves past it.
func (d *jsonDecoder) unicodeEscape(b []byte) ([]byte, bool) {
	cp := d.hex4(d.pos + 2)
	if cp < 0 {
		return b, false
	}
	n := 6
	if cp&0xf800 == 0xd800 {
		if cp&0x400 != 0 { // a low surrogate first
			return b, false
		}
		if d.at(d.pos+6) != '\\' || d.at(d.pos+7) != 'u' {
			return b, false
		}
		lo := d.hex4(d.pos + 8)
		if lo < 0 || lo&0xfc00 != 0xdc00 {
			return b, false
		}
		cp = ((cp&0x3ff)<<10 | lo&0x3ff) + 0x10000
		n = 12
	}
	switch {
	case cp <= 0x7f:
		b = append(b, byte(cp))
	case cp <= 0x7ff:
		b = append(b, byte(cp>>6|0xc0), byte(cp&0x3f|0x80))
	case cp <= 0xffff:
		b = append(b, byte(cp>>12|0xe0), byte(cp>>6&0x3f|0x80), byte(cp&0x3f|0x80))
	default:
		b = append(b, byte(cp>>18|0xf0), byte(cp>>12&0x3f|0x80), byte(cp>>6&0x3f|0x80), byte(cp&0x3f|0x80))
	}
	d.pos += n
	return b, true
}

// descend enters an array or object. slots is what the C decoder would be
// using of the Lua stack, and need what it asks for at this level.
func (d *jsonDecoder) descend(slots, need int) {
	d.depth++
	if d.depth <= d.cfg.decodeMaxDepth && slots+need <= maxCStack {
		return
	}
	raise(d.L, "Found too many nested data structures (%d) at character %d", d.depth, d.pos)
}

// value converts the value starting with tok; slots is as for descend.
func (d *jsonDecoder) value(tok *jsonToken, slots int) lua.LValue {
	switch tok.typ {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.num)
	case tBoolean:
		return lua.LBool(tok.b)
	case tNull:
		return d.cfg.null
	case tObjBegin:
		return d.object(slots)
	case tArrBegin:
		return d.array(slots)
	}
	d.fail("value", tok)
	return nil
}

func (d *jsonDecoder) object(slots int) lua.LValue {
	d.descend(slots, 3)
	t := d.L.NewTable()
	var tok jsonToken
	d.next(&tok)
	if tok.typ == tObjEnd {
		d.depth--
		return t
	}
	for {
		if tok.typ != tString {
			d.fail("object key string", &tok)
		}
		key := tok.str
		d.next(&tok)
		if tok.typ != tColon {
			d.fail("colon", &tok)
		}
		d.next(&tok)
		t.RawSetString(key, d.value(&tok, slots+2))
		d.next(&tok)
		if tok.typ == tObjEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.fail("comma or object end", &tok)
		}
		d.next(&tok)
	}
}

func (d *jsonDecoder) array(slots int) lua.LValue {
	d.descend(slots, 2)
	t := d.L.NewTable()
	var tok jsonToken
	d.next(&tok)
	if tok.typ == tArrEnd {
		d.depth--
		return t
	}
	for i := 1; ; i++ {
		t.RawSetInt(i, d.value(&tok, slots+1))
		d.next(&tok)
		if tok.typ == tArrEnd {
			d.depth--
			return t
		}
		if tok.typ != tComma {
			d.fail("comma or array end", &tok)
		}
		d.next(&tok)
	}
}
