package diff

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The generator writes random command streams for the string and key
// families over a small key and value space, so that commands keep
// meeting each other's results: values that are and are not integers or
// floats, keys with and without TTLs, keys of other types (those that
// exist: see GenOtherTypes). Streams include
// wrong arities, wrong types, bad integers, overflow and invalid option
// combinations. All keys share the hash tag {k}, so multi-key commands
// are valid in cluster mode too.
//
// Nothing generated depends on timing: relative TTLs are at least 100 s
// (TTL replies are compared with a 1 s tolerance), absolute times are far
// in the future (2100) or past (2001) — past ones only where the key is
// deleted at once, not left for the active expiry cycle — and an
// EXPIRE/PEXPIRE with GT or LT uses a relative time no other command in
// the case uses, so that it never compares two expiries a millisecond
// apart.

// GenFamilies are the families the generator knows.
var GenFamilies = []string{"strings", "keys"}

// GenCases returns n cases of family, each of steps commands, made from
// seed. The same arguments always give the same cases.
func GenCases(family string, seed uint64, n, steps int, checkable bool) []Case {
	h := fnv.New64a()
	h.Write([]byte(family))
	g := &gen{rng: rand.New(rand.NewPCG(seed, h.Sum64()))}
	table := genTables[family]
	total := 0
	for _, c := range table {
		total += c.weight
	}
	cases := make([]Case, n)
	for i := range cases {
		g.ttlSeq = 0
		c := Case{ID: fmt.Sprintf("gen/%s/%03d", family, i), Checkable: checkable}
		for j := 0; j < steps; j++ {
			r := g.rng.IntN(total)
			for _, cmd := range table {
				if r -= cmd.weight; r < 0 {
					c.Steps = append(c.Steps, Command(g.mutate(cmd.make(g))...))
					break
				}
			}
		}
		cases[i] = c
	}
	return cases
}

type gen struct {
	rng    *rand.Rand
	ttlSeq int // GT/LT relative times used so far in the case
}

type genCommand struct {
	weight int
	make   func(g *gen) []string
}

var (
	genKeys = []string{"{k}a", "{k}b", "{k}c", "{k}d"}
	genVals = []string{
		"", "0", "1", "-1", "7", "10", "-100", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "1.5", "-0.5", "1e3", "inf", "nan", " 1", "0x10", "010", "+1",
		"abc", "hello world", "\x00\r\n\xff", strings.Repeat("x", 44), strings.Repeat("x", 45),
		strings.Repeat("y", 100), "12345678901234567890", "3.0", "-0",
	}
	genInts = []string{
		"0", "1", "-1", "5", "100", "-100", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "abc", "1.5", "", " 1", "+1", "-0", "007", "1e3",
	}
	genFloats = []string{
		"0", "1", "1.5", "-1.5", "0.1", "1e3", "1e308", "-1e308", "1.7976931348623157e308", "1e309",
		"-1e309", "inf", "-inf", "+inf", "nan", "abc", "", " 1", "1 ", "0x10", "5.0e3", "1e-300",
		".5", "5.", "-0", "3",
	}
	genOffsets = []string{
		"0", "1", "2", "3", "5", "10", "44", "100", "1000", "-1", "-2", "-10", "-100",
		"9223372036854775807", "-9223372036854775808", "abc", "",
	}
	// SETRANGE offsets: none makes a string over 512 MB (those are
	// refused before any allocation).
	genSetrangeOffsets = []string{"0", "1", "3", "10", "44", "100", "1000", "-1", "536870912", "4294967296", "9223372036854775807", "abc"}
	genSeconds         = []string{"100", "1000", "86400", "0", "-1", "abc", "1.5", "", "9223372036854775807", "9223372036854775", "4611686018427387"}
	genMillis          = []string{"100000", "3600000", "0", "-1", "abc", "1.5", "9223372036854775807", "9223372036854775"}
	genUnixSeconds     = []string{"4102444800", "4102444801", "1000000000", "0", "-1", "abc", "9223372036854775807", "253402300799"}
	genUnixMillis      = []string{"4102444800000", "4102444800500", "1000000000000", "0", "-1", "abc", "9223372036854775807"}
	// SET with a past EXAT/PXAT leaves an expired key in place until it is
	// accessed or the active expiry cycle (timing-dependent) removes it,
	// and DBSIZE counts it meanwhile: SET gets no past times.
	genSetUnixSeconds = []string{"4102444800", "4102444801", "0", "-1", "abc", "9223372036854775807", "253402300799"}
	genSetUnixMillis  = []string{"4102444800000", "4102444800500", "0", "-1", "abc", "9223372036854775807"}
	genPatterns       = []string{"*", "{k}?", "{k}[ab]", "{k}[^a]", "*a", "*[c-d]", "nomatch*", `\{k\}*`, "{k}a", "", "?", "**"}
	genTypes          = []string{"string", "list", "set", "hash", "zset", "none", "bogus", "STRING"}
)

func (g *gen) pick(pool []string) string { return pool[g.rng.IntN(len(pool))] }
func (g *gen) key() string               { return g.pick(genKeys) }
func (g *gen) val() string               { return g.pick(genVals) }
func (g *gen) chance(p float64) bool     { return g.rng.Float64() < p }

// keys returns 1..max keys (repeats allowed).
func (g *gen) keys(max int) []string {
	out := make([]string, 1+g.rng.IntN(max))
	for i := range out {
		out[i] = g.key()
	}
	return out
}

// word returns w in random letter case (options are case-insensitive).
func (g *gen) word(w string) string {
	switch g.rng.IntN(4) {
	case 0:
		return strings.ToLower(w)
	case 1:
		return strings.ToUpper(w[:1]) + strings.ToLower(w[1:])
	}
	return w
}

// options shuffles groups of option tokens and flattens them.
func (g *gen) options(groups [][]string) []string {
	g.rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
	var out []string
	for _, gr := range groups {
		out = append(out, gr...)
	}
	return out
}

// expiry returns a SET/GETEX expiry option group (nil for none).
func (g *gen) expiry(getex bool) []string {
	switch g.rng.IntN(8) {
	case 0:
		return []string{g.word("EX"), g.pick(genSeconds)}
	case 1:
		return []string{g.word("PX"), g.pick(genMillis)}
	case 2:
		if getex {
			return []string{g.word("EXAT"), g.pick(genUnixSeconds)}
		}
		return []string{g.word("EXAT"), g.pick(genSetUnixSeconds)}
	case 3:
		if getex {
			return []string{g.word("PXAT"), g.pick(genUnixMillis)}
		}
		return []string{g.word("PXAT"), g.pick(genSetUnixMillis)}
	case 4:
		if getex {
			return []string{g.word("PERSIST")}
		}
		return []string{g.word("KEEPTTL")}
	case 5:
		if g.chance(0.2) {
			return []string{g.word("EX")} // value missing, or taken from the next option
		}
	}
	return nil
}

// mutate occasionally breaks a command's arity.
func (g *gen) mutate(args []string) []string {
	switch {
	case g.chance(0.03) && len(args) > 1:
		i := 1 + g.rng.IntN(len(args)-1)
		return append(args[:i:i], args[i+1:]...)
	case g.chance(0.02):
		return append(args, g.val())
	case g.chance(0.01):
		return args[:1]
	}
	return args
}

// GenOtherTypes are the value types besides strings that generated
// streams create keys of, so that every command meets keys it must answer
// WRONGTYPE to (or overwrite, rename, copy, expire).
var GenOtherTypes = []string{"list", "set", "hash", "zset"}

// otherTypeWeight is w when the generator creates keys of other types,
// else 0 (a zero weight is never drawn).
func otherTypeWeight(w int) int {
	if len(GenOtherTypes) == 0 {
		return 0
	}
	return w
}

// otherType makes a key of one of GenOtherTypes.
func otherType(g *gen) []string {
	k := g.key()
	switch t := g.pick(GenOtherTypes); t {
	case "list":
		return []string{"RPUSH", k, g.val(), "b"}
	case "set":
		return []string{"SADD", k, "m1", g.val()}
	case "hash":
		return []string{"HSET", k, "f", g.val()}
	case "zset":
		return []string{"ZADD", k, "1", "m"}
	default:
		panic("diff: GenOtherTypes: unknown type " + t)
	}
}

// otherTypeCommands are the commands otherType sends for each type.
var otherTypeCommands = map[string]string{"list": "RPUSH", "set": "SADD", "hash": "HSET", "zset": "ZADD"}

func setCmd(g *gen) []string {
	var groups [][]string
	switch g.rng.IntN(6) {
	case 0:
		groups = append(groups, []string{g.word("NX")})
	case 1:
		groups = append(groups, []string{g.word("XX")})
	case 2:
		if g.chance(0.3) {
			groups = append(groups, []string{"NX"}, []string{"XX"})
		}
	}
	if g.chance(0.3) {
		groups = append(groups, []string{g.word("GET")})
	}
	if e := g.expiry(false); e != nil {
		groups = append(groups, e)
	}
	if g.chance(0.05) {
		if e := g.expiry(false); e != nil {
			groups = append(groups, e)
		}
	}
	if g.chance(0.03) {
		groups = append(groups, []string{"BOGUS"})
	}
	return append([]string{"SET", g.key(), g.val()}, g.options(groups)...)
}

func getexCmd(g *gen) []string {
	var groups [][]string
	if e := g.expiry(true); e != nil {
		groups = append(groups, e)
	}
	if g.chance(0.05) {
		if e := g.expiry(true); e != nil {
			groups = append(groups, e)
		}
	}
	return append([]string{"GETEX", g.key()}, g.options(groups)...)
}

func lcsCmd(g *gen) []string {
	var groups [][]string
	if g.chance(0.3) {
		groups = append(groups, []string{g.word("LEN")})
	}
	if g.chance(0.4) {
		groups = append(groups, []string{g.word("IDX")})
	}
	if g.chance(0.3) {
		groups = append(groups, []string{g.word("MINMATCHLEN"), g.pick([]string{"0", "1", "2", "4", "-1", "abc"})})
	}
	if g.chance(0.3) {
		groups = append(groups, []string{g.word("WITHMATCHLEN")})
	}
	return append([]string{"LCS", g.key(), g.key()}, g.options(groups)...)
}

func pairs(g *gen, name string) []string {
	args := []string{name}
	for i := 1 + g.rng.IntN(3); i > 0; i-- {
		args = append(args, g.key(), g.val())
	}
	return args
}

// expireCmd makes EXPIRE, PEXPIRE, EXPIREAT or PEXPIREAT with options.
func expireCmd(name string) func(g *gen) []string {
	return func(g *gen) []string {
		var opts []string
		for i := g.rng.IntN(3); i > 0; i-- {
			opts = append(opts, g.word(g.pick([]string{"NX", "XX", "GT", "LT"})))
		}
		if g.chance(0.03) {
			opts = append(opts, "BOGUS")
		}
		relCmp := false
		for _, o := range opts {
			if u := strings.ToUpper(o); u == "GT" || u == "LT" {
				relCmp = true
			}
		}
		var t string
		switch name {
		case "EXPIRE", "PEXPIRE":
			if relCmp && !g.chance(0.2) {
				// A time no other command of the case uses (see above).
				g.ttlSeq++
				secs := 200000 + 10*g.ttlSeq
				if name == "EXPIRE" {
					t = strconv.Itoa(secs)
				} else {
					t = strconv.Itoa(secs*1000 + 500)
				}
			} else if relCmp {
				t = g.pick([]string{"0", "-1", "abc"})
			} else if name == "EXPIRE" {
				t = g.pick(genSeconds)
			} else {
				t = g.pick(genMillis)
			}
		case "EXPIREAT":
			t = g.pick(genUnixSeconds)
		case "PEXPIREAT":
			t = g.pick(genUnixMillis)
		}
		return append([]string{name, g.key(), t}, opts...)
	}
}

func scanCmd(g *gen) []string {
	var groups [][]string
	if g.chance(0.5) {
		groups = append(groups, []string{g.word("MATCH"), g.pick(genPatterns)})
	}
	if g.chance(0.5) {
		groups = append(groups, []string{g.word("COUNT"), g.pick([]string{"1", "2", "10", "1000", "0", "-1", "abc"})})
	}
	if g.chance(0.3) {
		groups = append(groups, []string{g.word("TYPE"), g.pick(genTypes)})
	}
	cursor := "0"
	if g.chance(0.05) {
		cursor = g.pick([]string{"abc", "-1", "18446744073709551616", ""})
	}
	return append([]string{"SCAN", cursor}, g.options(groups)...)
}

func one(name string) func(g *gen) []string {
	return func(g *gen) []string { return []string{name, g.key()} }
}

func withKeys(name string, max int) func(g *gen) []string {
	return func(g *gen) []string { return append([]string{name}, g.keys(max)...) }
}

var genTables = map[string][]genCommand{
	"strings": {
		{10, one("GET")},
		{14, setCmd},
		{3, func(g *gen) []string { return []string{"SETNX", g.key(), g.val()} }},
		{3, func(g *gen) []string { return []string{"SETEX", g.key(), g.pick(genSeconds), g.val()} }},
		{3, func(g *gen) []string { return []string{"PSETEX", g.key(), g.pick(genMillis), g.val()} }},
		{3, func(g *gen) []string { return []string{"GETSET", g.key(), g.val()} }},
		{3, one("GETDEL")},
		{5, getexCmd},
		{4, withKeys("MGET", 4)},
		{4, func(g *gen) []string { return pairs(g, "MSET") }},
		{3, func(g *gen) []string { return pairs(g, "MSETNX") }},
		{5, func(g *gen) []string { return []string{"APPEND", g.key(), g.val()} }},
		{4, one("STRLEN")},
		{5, one("INCR")},
		{4, one("DECR")},
		{5, func(g *gen) []string { return []string{"INCRBY", g.key(), g.pick(genInts)} }},
		{4, func(g *gen) []string { return []string{"DECRBY", g.key(), g.pick(genInts)} }},
		{6, func(g *gen) []string { return []string{"INCRBYFLOAT", g.key(), g.pick(genFloats)} }},
		{5, func(g *gen) []string {
			return []string{"GETRANGE", g.key(), g.pick(genOffsets), g.pick(genOffsets)}
		}},
		{5, func(g *gen) []string {
			return []string{"SETRANGE", g.key(), g.pick(genSetrangeOffsets), g.pick([]string{"", "x", "hello", "\x00\xff"})}
		}},
		{4, lcsCmd},
		{2, withKeys("DEL", 2)},
		{otherTypeWeight(2), otherType},
		{2, func(g *gen) []string { return []string{"OBJECT", "ENCODING", g.key()} }},
		{1, one("TTL")},
		{1, one("TYPE")},
	},
	"keys": {
		{10, setCmd},
		{3, func(g *gen) []string { return pairs(g, "MSET") }},
		{otherTypeWeight(3), otherType},
		{4, withKeys("DEL", 3)},
		{3, withKeys("UNLINK", 3)},
		{4, withKeys("EXISTS", 4)},
		{4, one("TYPE")},
		{3, withKeys("TOUCH", 3)},
		{5, expireCmd("EXPIRE")},
		{4, expireCmd("PEXPIRE")},
		{4, expireCmd("EXPIREAT")},
		{4, expireCmd("PEXPIREAT")},
		{4, one("TTL")},
		{4, one("PTTL")},
		{3, one("EXPIRETIME")},
		{3, one("PEXPIRETIME")},
		{4, one("PERSIST")},
		{3, func(g *gen) []string { return []string{"KEYS", g.pick(genPatterns)} }},
		{4, scanCmd},
		{2, func(g *gen) []string { return []string{"RANDOMKEY"} }},
		{4, func(g *gen) []string { return []string{"RENAME", g.key(), g.key()} }},
		{3, func(g *gen) []string { return []string{"RENAMENX", g.key(), g.key()} }},
		{4, func(g *gen) []string {
			args := []string{"COPY", g.key(), g.key()}
			if g.chance(0.5) {
				args = append(args, g.word("REPLACE"))
			}
			return args
		}},
		{2, func(g *gen) []string { return []string{"DBSIZE"} }},
		{4, func(g *gen) []string { return []string{"OBJECT", g.word("ENCODING"), g.key()} }},
		{2, one("GET")},
	},
}
