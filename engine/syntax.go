package engine

import (
	"strings"
)

// argSpec is one argument of a command as COMMAND DOCS describes it.
type argSpec struct {
	name        string
	typ         string // key string integer double pattern unix-time pure-token oneof block
	token       string
	since       string
	keySpec     int  // key_spec_index for type key, and others annotated #n
	hasSpec     bool // COMMAND DOCS shows keySpec
	optional    bool
	multiple    bool
	multipleTok bool
	args        []*argSpec // for oneof and block
}

// parseSyntax reads a command's Syntax: its arguments written the way the
// Redis docs write them, with a few annotations so that COMMAND DOCS can be
// derived exactly. The notation:
//
//	key value                 arguments; type string, or key for "key"
//	name:type                 an argument of another type (key, integer,
//	                          double, pattern, unix-time, string)
//	EX seconds:integer        an UPPERCASE token before an argument is its token
//	GET                       an UPPERCASE token alone is a pure-token (name "get")
//	[ ... ]                   optional
//	( ... )                   a group
//	a | b                     alternatives: a oneof
//	name:[ ... ] name:( ... ) names a oneof or block (Redis gives them names)
//	x...                      multiple (Redis's "x [x ...]")
//	TOKEN x...+               multiple, repeating the token each time
//	x@6.2.0                   the version that added x
//	x#1                       x belongs to key spec 1 (default: key
//	                          arguments take key specs in order; a
//	                          pattern names the spec of the keys it forms)
//	name:TOKEN                a pure-token Redis names other than its token
//	TOKEN name:[ ... ]        a token introducing a (named) group
//
// Annotations trail a word in one order: name[:type][#n][@since][...].
//
// A group of one element in brackets is that element made optional; of
// several, a block. Syntax errors panic at init: the table is code.
func parseSyntax(s string) []*argSpec {
	if s == "" {
		return nil
	}
	p := &syntaxParser{toks: tokenizeSyntax(s)}
	args := p.seq("")
	if p.pos != len(p.toks) {
		panic("engine: bad command syntax near " + strings.Join(p.toks[p.pos:], " ") + " in: " + s)
	}
	keyIdx := 0
	assignKeySpecs(args, &keyIdx)
	return args
}

func tokenizeSyntax(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')' || c == '|':
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" []()|", rune(s[j])) {
				j++
			}
			// A name prefix directly before a bracket ("condition:[") is
			// its own token.
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type syntaxParser struct {
	toks []string
	pos  int
}

func (p *syntaxParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func isToken(w string) bool {
	base := w
	if i := strings.IndexAny(base, "@#."); i >= 0 {
		base = base[:i]
	}
	if base == "" {
		return false
	}
	for _, c := range base {
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c >= '0' && c <= '9') {
			return false
		}
	}
	return base[0] >= 'A' && base[0] <= 'Z'
}

// seq parses elements until a closing bracket or '|'.
func (p *syntaxParser) seq(close string) []*argSpec {
	var out []*argSpec
	for {
		t := p.peek()
		if t == "" || t == "]" || t == ")" || t == "|" {
			return out
		}
		out = append(out, p.element())
	}
}

// alts parses "seq | seq | ..." up to close and returns the alternatives.
func (p *syntaxParser) alts(close string) [][]*argSpec {
	var alts [][]*argSpec
	for {
		alts = append(alts, p.seq(close))
		switch p.peek() {
		case "|":
			p.pos++
		case close:
			p.pos++
			return alts
		default:
			panic("engine: unclosed " + close + " in command syntax")
		}
	}
}

// applySuffixes strips and applies the annotations trailing a word, in
// their one order: name[#n][@since][...|...+].
func applySuffixes(a *argSpec, w string) string {
	switch {
	case strings.HasSuffix(w, "...+"):
		a.multiple, a.multipleTok = true, true
		w = w[:len(w)-4]
	case strings.HasSuffix(w, "..."):
		a.multiple = true
		w = w[:len(w)-3]
	}
	if i := strings.LastIndexByte(w, '@'); i >= 0 {
		a.since = w[i+1:]
		w = w[:i]
	}
	if i := strings.LastIndexByte(w, '#'); i >= 0 {
		n := 0
		for _, d := range w[i+1:] {
			n = n*10 + int(d-'0')
		}
		a.keySpec = n + 1 // stored +1 so that 0 means "assign in order"
		w = w[:i]
	}
	return w
}

func (p *syntaxParser) element() *argSpec {
	w := p.toks[p.pos]
	p.pos++
	// "name:" before a bracket names a oneof or block.
	if strings.HasSuffix(w, ":") && (p.peek() == "[" || p.peek() == "(") {
		a := p.element()
		a.name = strings.TrimSuffix(w, ":")
		return a
	}
	if w == "[" || w == "(" {
		close := map[string]string{"[": "]", "(": ")"}[w]
		alts := p.alts(close)
		var a *argSpec
		if len(alts) > 1 {
			a = &argSpec{typ: "oneof"}
			for _, alt := range alts {
				if len(alt) == 1 {
					a.args = append(a.args, alt[0])
				} else {
					a.args = append(a.args, &argSpec{typ: "block", args: alt, name: blockName(alt)})
				}
			}
			a.name = blockName(a.args)
		} else if len(alts[0]) == 1 && close == "]" {
			a = alts[0][0]
		} else {
			a = &argSpec{typ: "block", args: alts[0], name: blockName(alts[0])}
		}
		if close == "]" {
			a.optional = true
		}
		// Suffixes after the closing bracket: "]..." "]@6.2.0".
		if t := p.peek(); t != "" && (strings.HasPrefix(t, "...") || strings.HasPrefix(t, "@") || strings.HasPrefix(t, "#")) {
			p.pos++
			applySuffixes(a, t)
		}
		return a
	}
	if isToken(w) {
		tok := &argSpec{}
		base := applySuffixes(tok, w)
		// A token before a named group ("TYPE client-type:[...]") is the
		// group's token.
		if n := p.peek(); strings.HasSuffix(n, ":") && p.pos+1 < len(p.toks) &&
			(p.toks[p.pos+1] == "[" || p.toks[p.pos+1] == "(") {
			a := p.element()
			a.token = base
			if tok.since != "" {
				a.since = tok.since
			}
			return a
		}
		// A token followed by an argument word is that argument's token.
		if n := p.peek(); n != "" && !isToken(n) && n != "[" && n != "]" && n != "(" && n != ")" && n != "|" && !strings.HasSuffix(n, ":") {
			a := p.element()
			a.token = base
			if tok.since != "" {
				a.since = tok.since
			}
			return a
		}
		tok.name, tok.typ, tok.token = strings.ToLower(base), "pure-token", base
		return tok
	}
	a := &argSpec{}
	w = applySuffixes(a, w)
	a.name, a.typ = w, "string"
	if i := strings.LastIndexByte(w, ':'); i >= 0 && (argTypes[w[i+1:]] || isToken(w[i+1:])) {
		a.name, a.typ = w[:i], w[i+1:]
		if isToken(a.typ) { // name:TOKEN, a named pure-token
			a.token, a.typ = a.typ, "pure-token"
		}
	} else if w == "key" {
		a.typ = "key"
	}
	return a
}

// argTypes are the types a "name:type" annotation may give; a colon
// followed by anything else is part of the name ("ip:port").
var argTypes = map[string]bool{"key": true, "string": true, "integer": true, "double": true,
	"pattern": true, "unix-time": true}

// blockName is the name Redis gives an unnamed group: its members' names
// joined by '_' ("key_value").
func blockName(args []*argSpec) string {
	var names []string
	for _, a := range args {
		names = append(names, a.name)
	}
	return strings.Join(names, "_")
}

func assignKeySpecs(args []*argSpec, next *int) {
	for _, a := range args {
		switch {
		case a.typ == "key" && a.keySpec == 0:
			a.keySpec, a.hasSpec = *next, true
			*next++
		case a.keySpec > 0:
			a.keySpec, a.hasSpec = a.keySpec-1, true
		}
		assignKeySpecs(a.args, next)
	}
}
