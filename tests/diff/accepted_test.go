package diff

import (
	"strings"
	"testing"
)

func TestParseAccepted(t *testing.T) {
	src := `# comment

strings/incrbyfloat-* | INCRBYFLOAT * | long double formatting
gen/*|OBJECT ENCODING *|encodings differ | with a bar in the reason
`
	es, err := ParseAccepted("a.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Line != 3 || es[0].Case != "strings/incrbyfloat-*" || es[0].Command != "INCRBYFLOAT *" || es[0].Reason != "long double formatting" {
		t.Fatalf("entries: %+v", es)
	}
	if es[1].Reason != "encodings differ | with a bar in the reason" {
		t.Fatalf("reason: %q", es[1].Reason)
	}
	if !es[1].Matches("gen/keys/017", "object encoding {k}a") || es[1].Matches("strings/x", "OBJECT ENCODING k") {
		t.Fatal("Matches")
	}
	if !es[0].CoversCase("strings/incrbyfloat-edge") || es[0].CoversCase("keys/incrbyfloat") {
		t.Fatal("CoversCase")
	}
	for _, bad := range []struct{ src, want string }{
		{"a | b", "want CASE-GLOB"},
		{" | b | c", "empty glob"},
		{"a | | c", "empty glob"},
		{"a | b | ", "needs a reason"},
		{"a | b | r\na | B | s", "same globs as line 1"},
	} {
		if _, err := ParseAccepted("a.txt", []byte(bad.src)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: err = %v, want %q", bad.src, err, bad.want)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "a/b c", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "abc", true},
		{"a*", "ba", false},
		{"*c", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"gen/*/0?7", "gen/keys/017", true},
		{"*x*y*", "axxbyc", true},
		{"*x*y*", "ayxb", false},
		{"a**b", "ab", true},
		{"SET * EX *", "SET k v EX 10", true},
		{"SET * EX *", "SET k v PX 10", false},
		{"*", "*0", true},
		{"a*", "a*", true},
		{"?*", "*", true},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 100), false},
	}
	for _, c := range cases {
		if got := Glob(c.p, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
