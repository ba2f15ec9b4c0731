package diff

import (
	"strings"
	"testing"
	"time"
)

func TestParseCases(t *testing.T) {
	src := `# a comment
=== one
SET k "a b\r\n\x00\"" 'it\'s' plain
  (3) SUBSCRIBE a b c
(eof) QUIT

=== two-raw
raw: *1\r\n$4\r\nPING\r\n
(0) raw: *2\r\n$3\r\nGET
(2) raw:  two spaces
!sleep 25
ECHO "\{5*x}y" "\{3*\r}"
!shutdown
=== three
ECHO ""
ECHO '' "(" "!x"
`
	cases, err := ParseCases("fam", "f.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 3 || cases[0].ID != "fam/one" || cases[1].ID != "fam/two-raw" || !cases[0].Checkable {
		t.Fatalf("cases: %+v", cases)
	}
	one := cases[0].Steps
	if len(one) != 3 {
		t.Fatalf("case one steps: %+v", one)
	}
	wantArgs := []string{"SET", "k", "a b\r\n\x00\"", "it's", "plain"}
	for i, a := range one[0].Args {
		if string(a) != wantArgs[i] {
			t.Errorf("arg %d = %q, want %q", i, a, wantArgs[i])
		}
	}
	if string(one[0].Raw) != "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\na b\r\n\x00\"\r\n$4\r\nit's\r\n$5\r\nplain\r\n" {
		t.Errorf("encoded: %q", one[0].Raw)
	}
	if one[0].Line != 3 || one[1].Replies != 3 || one[1].Line != 4 || one[2].Replies != ReadToEOF {
		t.Errorf("steps: %+v", one)
	}
	two := cases[1].Steps
	if two[0].Kind != StepRaw || string(two[0].Raw) != "*1\r\n$4\r\nPING\r\n" || two[0].Replies != 1 {
		t.Errorf("raw: %+v", two[0])
	}
	if two[1].Replies != 0 || string(two[1].Raw) != "*2\r\n$3\r\nGET" {
		t.Errorf("raw 0: %+v", two[1])
	}
	if string(two[2].Raw) != " two spaces" || two[2].Replies != 2 {
		t.Errorf("raw spaces: %q", two[2].Raw)
	}
	if two[3].Kind != StepSleep || two[3].Sleep != 25*time.Millisecond {
		t.Errorf("sleep: %+v", two[3])
	}
	if string(two[4].Args[1]) != "xxxxxy" || string(two[4].Args[2]) != "\r\r\r" {
		t.Errorf("repeat: %q", two[4].Args)
	}
	if two[5].Kind != StepShutdown || two[5].Replies != ReadToEOF {
		t.Errorf("shutdown: %+v", two[5])
	}
	three := cases[2].Steps
	if len(three[0].Args[1]) != 0 || len(three[1].Args) != 4 || string(three[1].Args[2]) != "(" {
		t.Errorf("three: %q %q", three[0].Args, three[1].Args)
	}
	// Format reads back to the same steps.
	back, err := ParseCases("fam", "formatted", []byte(Format(cases)))
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, Format(cases))
	}
	if Format(back) != Format(cases) {
		t.Fatalf("round trip differs:\n%s\n----\n%s", Format(cases), Format(back))
	}
	for i := range cases {
		for j := range cases[i].Steps {
			a, b := cases[i].Steps[j], back[i].Steps[j]
			if string(a.Raw) != string(b.Raw) || a.Replies != b.Replies || a.Kind != b.Kind || a.Sleep != b.Sleep {
				t.Errorf("case %d step %d: %+v != %+v", i, j, a, b)
			}
		}
	}
}

func TestParseCasesErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"SET k v\n", "before the first"},
		{"=== a\n=== a\nPING\n", "duplicate case"},
		{"=== a b\nPING\n", "bad case name"},
		{"=== a\n", "has no steps"},
		{"=== a\n(eof) QUIT\nPING\n", "after one that reads until EOF"},
		{"=== a\n!shutdown\nPING\n", "after one that reads until EOF"},
		{"=== a\nSET \"k\n", "unbalanced quotes"},
		{"=== a\nSET 'k\n", "unbalanced quotes"},
		{"=== a\nSET \"k\"v\n", "not followed by a space"},
		{"=== a\nSET k\"v\n", "quote inside"},
		{"=== a\nECHO \"\\q\"\n", "unknown escape"},
		{"=== a\nECHO \"\\x4\"\n", "two hex digits"},
		{"=== a\nECHO \"\\xZZ\"\n", "two hex digits"},
		{"=== a\nraw: abc\\\n", "trailing"},
		{"=== a\nraw:\n", "empty raw"},
		{"=== a\n(x) PING\n", "bad reply count"},
		{"=== a\n(01) PING\n", "bad reply count"},
		{"=== a\n(1001) PING\n", "bad reply count"},
		{"=== a\n(2 PING\n", "unclosed"},
		{"=== a\n(2)\n", "empty command"},
		{"=== a\n!sleep 5000\n", "!sleep wants"},
		{"=== a\n!sleep x\n", "!sleep wants"},
		{"=== a\n!nap\n", "unknown directive"},
		{"=== a\nECHO \"\\{5x}\"\n", "bad repetition"},
		{"=== a\nECHO \"\\{99999999*x}\"\n", "bad repetition count"},
		{"=== a\nECHO \"\\{5*ab}\"\n", "bad repeated character"},
		{"=== a\nraw: \\{4194304*x}\\{1*x}\n", "more than"},
	}
	for _, c := range cases {
		_, err := ParseCases("f", "f.txt", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "diff: f.txt:") {
			t.Errorf("%q: err = %v, want %q", c.src, err, c.want)
		}
	}
}

func TestQuoteArg(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"", `""`},
		{"a b", `"a b"`},
		{"it's", `"it's"`},
		{`q"`, `"q\""`},
		{"\x00\r\n\xff", `"\x00\r\n\xff"`},
		{"(1)", `"(1)"`},
		{"!x", `"!x"`},
		{"#c", `"#c"`},
		{"raw:x", `"raw:x"`},
		{strings.Repeat("a", 16), strings.Repeat("a", 16)},
		{strings.Repeat("a", 20), `"\{20*a}"`},
		{strings.Repeat("\x00", 20), `"\{20*\x00}"`},
		{" " + strings.Repeat("}", 20), `" \{20*\x7d}"`},
	}
	for _, c := range cases {
		if got := QuoteArg([]byte(c.in)); got != c.want {
			t.Errorf("QuoteArg(%q) = %s, want %s", c.in, got, c.want)
		}
		args, err := splitArgs(QuoteArg([]byte(c.in)))
		if err != nil || len(args) != 1 || string(args[0]) != c.in {
			t.Errorf("split(QuoteArg(%q)) = %q, %v", c.in, args, err)
		}
	}
}
