package diff

import (
	"slices"
	"strings"
	"testing"
)

func TestGenDeterministic(t *testing.T) {
	for _, f := range GenFamilies {
		a := Format(GenCases(f, 7, 5, 20, true))
		b := Format(GenCases(f, 7, 5, 20, true))
		c := Format(GenCases(f, 8, 5, 20, true))
		if a != b {
			t.Errorf("%s: same seed, different cases", f)
		}
		if a == c {
			t.Errorf("%s: different seeds, same cases", f)
		}
	}
	if Format(MalformedCases(3, 10, true)) != Format(MalformedCases(3, 10, true)) {
		t.Error("malformed: same seed, different cases")
	}
}

// TestGenCoverage checks that the default-size streams use every command
// and option the generator is meant to cover, and break arities.
func TestGenCoverage(t *testing.T) {
	want := strings.Fields(`GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX APPEND
		STRLEN INCR DECR INCRBY DECRBY INCRBYFLOAT GETRANGE SETRANGE LCS DEL UNLINK EXISTS TYPE
		TOUCH EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST KEYS SCAN
		RANDOMKEY RENAME RENAMENX COPY DBSIZE OBJECT`)
	for _, typ := range GenOtherTypes {
		want = append(want, otherTypeCommands[typ])
	}
	wantWords := map[string][]string{
		"SET":      {"NX", "XX", "GET", "EX", "PX", "EXAT", "PXAT", "KEEPTTL"},
		"GETEX":    {"EX", "PX", "EXAT", "PXAT", "PERSIST"},
		"EXPIRE":   {"NX", "XX", "GT", "LT"},
		"PEXPIRE":  {"NX", "XX", "GT", "LT"},
		"LCS":      {"LEN", "IDX", "MINMATCHLEN", "WITHMATCHLEN"},
		"SCAN":     {"MATCH", "COUNT", "TYPE"},
		"COPY":     {"REPLACE"},
		"OBJECT":   {"ENCODING"},
		"INCRBY":   {"9223372036854775807", "ABC"},
		"GETRANGE": {"-1", "9223372036854775807"},
	}
	seen := map[string]bool{}
	words := map[string]map[string]bool{}
	bare := 0
	for _, f := range GenFamilies {
		for _, c := range GenCases(f, defaultSeed, 80, 30, true) {
			relative := map[string]bool{}
			for _, st := range c.Steps {
				name := st.Name()
				seen[name] = true
				if len(st.Args) == 1 && name != "DBSIZE" && name != "RANDOMKEY" {
					bare++
				}
				if words[name] == nil {
					words[name] = map[string]bool{}
				}
				cmp := false
				for _, a := range st.Args[1:] {
					u := strings.ToUpper(string(a))
					words[name][u] = true
					cmp = cmp || u == "GT" || u == "LT"
				}
				if cmp && (name == "EXPIRE" || name == "PEXPIRE") && len(st.Args) > 2 {
					tm := string(st.Args[2])
					if len(tm) > 5 && relative[tm] {
						t.Errorf("%s: relative time %s used twice with GT/LT", c.ID, tm)
					}
					relative[tm] = true
				}
			}
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no %s generated", w)
		}
	}
	// Keys of a type are made only when GenOtherTypes enables it.
	for typ, cmd := range otherTypeCommands {
		if seen[cmd] && !slices.Contains(GenOtherTypes, typ) {
			t.Errorf("%s generated, but the %s type is not enabled", cmd, typ)
		}
	}
	for cmd, ws := range wantWords {
		for _, w := range ws {
			if !words[cmd][w] {
				t.Errorf("no %s with %s generated", cmd, w)
			}
		}
	}
	if bare == 0 {
		t.Error("no command without arguments (arity errors) generated")
	}
}

func TestMalformedCases(t *testing.T) {
	cases := MalformedCases(defaultSeed, 150, true)
	kinds := map[string]bool{}
	for _, c := range cases {
		if len(c.Steps) != 2 || c.Steps[0].Kind != StepRaw || c.Steps[1].Kind != StepShutdown {
			t.Fatalf("%s: steps %+v", c.ID, c.Steps)
		}
		raw := c.Steps[0].Raw
		if len(raw) == 0 || len(raw) > 4096 {
			t.Fatalf("%s: %d bytes", c.ID, len(raw))
		}
		switch {
		case raw[0] != '*':
			kinds["inline"] = true
		case strings.Contains(string(raw), "$-"):
			kinds["negative bulk length"] = true
		}
		if strings.Contains(string(raw), "536870913") || strings.Contains(string(raw), "2147483648") {
			kinds["oversized"] = true
		}
	}
	for _, k := range []string{"inline", "negative bulk length", "oversized"} {
		if !kinds[k] {
			t.Errorf("no %s stream generated", k)
		}
	}
	// Generated cases survive the case-file syntax.
	back, err := ParseCases("malformed", "formatted", []byte(Format(cases)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range cases {
		if string(back[i].Steps[0].Raw) != string(cases[i].Steps[0].Raw) {
			t.Fatalf("%s: raw bytes do not round-trip", cases[i].ID)
		}
	}
}

func BenchmarkGenCases(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		GenCases("strings", 1, 10, 30, true)
	}
}
