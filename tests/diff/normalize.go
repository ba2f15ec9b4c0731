package diff

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// Replies that legitimately differ between two correct servers are
// normalized by a rule chosen by the step's command before the bytes are
// compared; no reply is skipped. A rule either rewrites each side's reply
// on its own (sorting what has no defined order, masking what is
// volatile but keeping its type and shape) or reconciles the two replies
// (integers within a tolerance of each other). SCAN-family replies are
// normalized while the step runs (see scan.go): the harness completes
// the iteration and compares the set of elements.

const masked = "<masked>"

// rule is the normalization of one command's replies.
type rule struct {
	name string
	// each rewrites one side's reply; nil for none.
	each func(v *Value)
	// tolerance, when positive, makes two non-negative integer replies
	// within tolerance of each other equal.
	tolerance int64
}

// rules is keyed by the upper-cased command name, or "NAME SUB" for a
// container command's subcommand.
var rules = map[string]rule{
	"KEYS":            {name: "sort the keys", each: sortElems},
	"RANDOMKEY":       {name: "mask the key", each: maskString},
	"TIME":            {name: "mask the clock", each: maskElems},
	"LASTSAVE":        {name: "mask the time", each: maskInteger},
	"CLIENT ID":       {name: "mask the client id", each: maskInteger},
	"CLIENT LIST":     {name: "keep the caller's line, mask volatile fields", each: clientList},
	"CLIENT INFO":     {name: "mask volatile fields", each: clientInfo},
	"INFO":            {name: "mask values but keyspace counts and role", each: info},
	"CONFIG GET":      {name: "sort the pairs", each: sortPairs},
	"HELLO":           {name: "mask the client id", each: hello},
	"TTL":             {name: "1 s tolerance", tolerance: 1},
	"EXPIRETIME":      {name: "1 s tolerance", tolerance: 1},
	"OBJECT IDLETIME": {name: "1 s tolerance", tolerance: 1},
	"PTTL":            {name: "1000 ms tolerance", tolerance: 1000},
	"PEXPIRETIME":     {name: "1000 ms tolerance", tolerance: 1000},
}

// ruleFor returns the rule for a step, if any.
func ruleFor(st *Step) (rule, bool) {
	name := st.Name()
	if name == "" {
		return rule{}, false
	}
	if r, ok := rules[name+" "+st.Sub()]; ok {
		return r, true
	}
	r, ok := rules[name]
	return r, ok
}

// normalizePair returns the wire forms of two replies to st after
// normalization, and the rule's name ("" when none applied). A side whose
// reply does not parse is returned as it is.
func normalizePair(st *Step, a, b []byte) (na, nb []byte, applied string) {
	r, ok := ruleFor(st)
	if !ok {
		return a, b, ""
	}
	va, _, errA := Parse(a)
	vb, _, errB := Parse(b)
	if r.each != nil {
		if errA == nil {
			r.each(&va)
		}
		if errB == nil {
			r.each(&vb)
		}
	}
	if r.tolerance > 0 && errA == nil && errB == nil {
		reconcile(&va, &vb, r.tolerance)
	}
	na, nb = a, b
	if errA == nil {
		na = va.Encode(nil)
	}
	if errB == nil {
		nb = vb.Encode(nil)
	}
	return na, nb, r.name
}

// normalizeOne normalizes a reply without a counterpart.
func normalizeOne(st *Step, a []byte) []byte {
	r, ok := ruleFor(st)
	if !ok || r.each == nil {
		return a
	}
	v, _, err := Parse(a)
	if err != nil {
		return a
	}
	r.each(&v)
	return v.Encode(nil)
}

// reconcile makes b equal to a when both are non-negative integers within
// tol of each other (negative replies are sentinels: exact).
func reconcile(a, b *Value, tol int64) {
	if a.Type != ':' || b.Type != ':' {
		return
	}
	x, err1 := strconv.ParseInt(string(a.Str), 10, 64)
	y, err2 := strconv.ParseInt(string(b.Str), 10, 64)
	if err1 != nil || err2 != nil || x < 0 || y < 0 {
		return
	}
	if d := x - y; d <= tol && d >= -tol {
		b.Str = a.Str
	}
}

func sortElems(v *Value) {
	if !v.isArray() {
		return
	}
	slices.SortFunc(v.Elems, func(x, y Value) int {
		return bytes.Compare(x.Encode(nil), y.Encode(nil))
	})
}

// sortPairs sorts a map, or an array of key/value pairs, by key.
func sortPairs(v *Value) {
	if !v.isPairs() {
		return
	}
	type pair struct{ k, v Value }
	pairs := make([]pair, 0, len(v.Elems)/2)
	for i := 0; i+1 < len(v.Elems); i += 2 {
		pairs = append(pairs, pair{v.Elems[i], v.Elems[i+1]})
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		return bytes.Compare(x.k.Encode(nil), y.k.Encode(nil))
	})
	for i, p := range pairs {
		v.Elems[2*i], v.Elems[2*i+1] = p.k, p.v
	}
}

func maskString(v *Value) {
	if v.isString() {
		v.Str = []byte(masked)
	}
}

func maskInteger(v *Value) {
	if v.Type == ':' {
		v.Str = []byte(masked)
	}
}

func maskElems(v *Value) {
	if !v.isArray() {
		return
	}
	for i := range v.Elems {
		maskString(&v.Elems[i])
		maskInteger(&v.Elems[i])
	}
}

// hello masks the value of the "id" field of HELLO's map.
func hello(v *Value) {
	if !v.isPairs() {
		return
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if string(v.Elems[i].Str) == "id" {
			maskInteger(&v.Elems[i+1])
		}
	}
}

// volatileClientFields are the CLIENT LIST/INFO fields that depend on the
// connection and on timing rather than on the commands sent.
var volatileClientFields = map[string]bool{
	"id": true, "addr": true, "laddr": true, "fd": true, "age": true, "idle": true,
	"qbuf": true, "qbuf-free": true, "argv-mem": true, "multi-mem": true, "rbs": true,
	"rbp": true, "obl": true, "oll": true, "omem": true, "tot-mem": true,
}

// laterClientFields are fields Redis 7.2 added to CLIENT LIST/INFO lines,
// which Shoal has (it has CLIENT SETINFO) and 7.0.15 lacks. They are
// dropped from both sides so that the rest of each line is still compared;
// accepted.txt lists this difference.
var laterClientFields = map[string]bool{"lib-name": true, "lib-ver": true}

func maskClientLine(line string) string {
	fields := strings.Split(line, " ")
	out := fields[:0]
	for _, f := range fields {
		k, _, ok := strings.Cut(f, "=")
		switch {
		case ok && laterClientFields[k]:
			continue
		case ok && volatileClientFields[k]:
			f = k + "=" + masked
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}

// text returns the text of a string reply and the prefix to keep in front
// of it (a RESP3 verbatim string's "txt:" format).
func text(v *Value) (prefix, body string) {
	s := string(v.Str)
	if v.Type == '=' && len(s) >= 4 {
		return s[:4], s[4:]
	}
	return "", s
}

func clientInfo(v *Value) {
	if !v.isString() {
		return
	}
	prefix, s := text(v)
	s = strings.TrimSuffix(s, "\n")
	v.Str = []byte(prefix + maskClientLine(s) + "\n")
}

// clientList keeps only the line of the client that ran CLIENT LIST (the
// harness's other connections come and go on their own schedule).
func clientList(v *Value) {
	if !v.isString() {
		return
	}
	prefix, s := text(v)
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.Contains(line, " cmd=client|list ") {
			out = append(out, maskClientLine(line))
		}
	}
	v.Str = []byte(prefix + strings.Join(out, "\n") + "\n")
}

// infoExact are the INFO fields compared as they are.
var infoExact = map[string]bool{"role": true, "loading": true, "cluster_enabled": true}

// info masks every INFO value but role, loading, cluster_enabled and the
// keys= and expires= counts of the keyspace section; section headers and
// field names are kept.
func info(v *Value) {
	if !v.isString() {
		return
	}
	prefix, s := text(v)
	lines := strings.Split(s, "\r\n")
	for i, line := range lines {
		k, val, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, "#") || infoExact[k] {
			continue
		}
		if isDBName(k) {
			parts := strings.Split(val, ",")
			for j, p := range parts {
				if name, _, ok := strings.Cut(p, "="); ok && name != "keys" && name != "expires" {
					parts[j] = name + "=" + masked
				}
			}
			lines[i] = k + ":" + strings.Join(parts, ",")
			continue
		}
		lines[i] = k + ":" + masked
	}
	v.Str = []byte(prefix + strings.Join(lines, "\r\n"))
}

func isDBName(k string) bool {
	n, ok := strings.CutPrefix(k, "db")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}
