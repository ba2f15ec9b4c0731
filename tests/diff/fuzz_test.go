package diff

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// FuzzFrame checks that Frame never panics, that it agrees with Parse, and
// that Encode gives back exactly the framed bytes.
func FuzzFrame(f *testing.F) {
	for _, r := range validReplies {
		f.Add([]byte(r))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := Frame(b)
		if err != nil {
			if !errors.Is(err, errIncomplete) && !errors.Is(err, errBadReply) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("Frame = %d of %d bytes", n, len(b))
		}
		v, m, err := Parse(b)
		if err != nil || m != n {
			t.Fatalf("Parse = %d, %v; Frame = %d", m, err, n)
		}
		if enc := v.Encode(nil); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("Encode = %q, framed %q", enc, b[:n])
		}
		// A reply cut short is incomplete, not wrong.
		if _, err := Frame(b[:n-1]); !errors.Is(err, errIncomplete) {
			t.Fatalf("prefix of a reply: %v", err)
		}
	})
}

// FuzzParseCases checks that the case-file parser never panics and that
// what it accepts survives Format.
func FuzzParseCases(f *testing.F) {
	f.Add([]byte("=== a\nSET k \"v\\r\\n\" 'x'\n(2) raw: *1\\r\\n\n!sleep 1\n!shutdown\n"))
	f.Add([]byte("=== b\n(eof) QUIT\n"))
	f.Add([]byte("=== c\nECHO \"\\{3*\\x00}\"\n(0) raw: \\{10*a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cases, err := ParseCases("f", "f", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		text := Format(cases)
		back, err := ParseCases("f", "f", []byte(text))
		if err != nil {
			t.Fatalf("formatted cases do not parse: %v\n%s", err, text)
		}
		if len(back) != len(cases) {
			t.Fatalf("%d cases became %d", len(cases), len(back))
		}
		for i := range cases {
			if len(back[i].Steps) != len(cases[i].Steps) {
				t.Fatalf("case %d: step count changed", i)
			}
			for j := range cases[i].Steps {
				a, b := &cases[i].Steps[j], &back[i].Steps[j]
				if a.Kind != b.Kind || a.Replies != b.Replies || a.Sleep != b.Sleep || !bytes.Equal(a.Raw, b.Raw) {
					t.Fatalf("case %d step %d: %q became %q", i, j, a.String(), b.String())
				}
			}
		}
	})
}

// FuzzParseAccepted checks that the accepted-file parser never panics and
// that Glob agrees with an equivalent regular expression.
func FuzzParseAccepted(f *testing.F) {
	f.Add([]byte("gen/* | OBJECT ENCODING * | reason\n# c\n"), "gen/*/0?7", "gen/keys/017")
	f.Add([]byte("a|b|c|d"), "*a*b", "xaxb")
	f.Fuzz(func(t *testing.T, data []byte, pattern, s string) {
		if es, err := ParseAccepted("a", data); err == nil {
			for _, e := range es {
				if e.Case == "" || e.Command == "" || e.Reason == "" {
					t.Fatalf("empty field in %+v", e)
				}
				e.Matches("x/y", "GET k")
			}
		}
		if len(pattern) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, c := range []byte(pattern) {
			switch c {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string([]byte{c})))
			}
		}
		re.WriteString(`$`)
		if !isByteString(pattern) || !isByteString(s) {
			return
		}
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got := Glob(pattern, s); got != want {
			t.Fatalf("Glob(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// isByteString reports whether s is ASCII (regexp's '.' matches a rune,
// Glob's '?' a byte).
func isByteString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
