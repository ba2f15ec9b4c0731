package diff

import (
	"bytes"
	"fmt"
	"strings"
)

// Entry is one accepted difference: differences in cases whose id matches
// Case, at steps whose text matches Command, are expected, for Reason.
type Entry struct {
	Line    int
	Case    string // glob over case ids ("strings/incrbyfloat-*", "gen/*")
	Command string // glob over step text, case-insensitive ("OBJECT ENCODING *")
	Reason  string
}

// ParseAccepted reads the accepted-differences file. Each line that is not
// blank or a '#' comment is
//
//	CASE-GLOB | COMMAND-GLOB | REASON
//
// where a glob's '*' matches any run of characters (slashes and spaces
// included) and '?' one character. A step's text is its case-file form
// ("SET k v EX 10", "raw: ...", "!shutdown") without a reply count.
func ParseAccepted(file string, data []byte) ([]Entry, error) {
	var out []Entry
	seen := map[string]int{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if line == "" || line[0] == '#' {
			continue
		}
		fail := func(format string, args ...any) error {
			return &ParseError{File: file, Line: i + 1, Msg: fmt.Sprintf(format, args...)}
		}
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			return nil, fail("want CASE-GLOB | COMMAND-GLOB | REASON")
		}
		e := Entry{Line: i + 1, Case: strings.TrimSpace(f[0]), Command: strings.TrimSpace(f[1]), Reason: strings.TrimSpace(f[2])}
		switch {
		case e.Case == "" || e.Command == "":
			return nil, fail("empty glob")
		case e.Reason == "":
			return nil, fail("an accepted difference needs a reason")
		}
		key := e.Case + "|" + strings.ToLower(e.Command)
		if prev, dup := seen[key]; dup {
			return nil, fail("same globs as line %d", prev)
		}
		seen[key] = e.Line
		out = append(out, e)
	}
	return out, nil
}

// Matches reports whether the entry covers a difference at a step with
// text command in case caseID.
func (e *Entry) Matches(caseID, command string) bool {
	return Glob(e.Case, caseID) && Glob(strings.ToLower(e.Command), strings.ToLower(command))
}

// CoversCase reports whether the entry's case glob matches caseID.
func (e *Entry) CoversCase(caseID string) bool { return Glob(e.Case, caseID) }

func (e *Entry) String() string {
	return fmt.Sprintf("line %d: %s | %s | %s", e.Line, e.Case, e.Command, e.Reason)
}

// Glob reports whether s matches pattern, where '*' matches any run of
// bytes and '?' any one byte. It runs in O(len(pattern)*len(s)).
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
