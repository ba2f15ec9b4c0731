package diff

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// StepKind says what a step does.
type StepKind uint8

const (
	// StepCommand sends Args as a RESP multibulk.
	StepCommand StepKind = iota
	// StepRaw sends Raw as it is.
	StepRaw
	// StepShutdown half-closes the client's side and reads until EOF.
	StepShutdown
	// StepSleep waits Sleep on both sides.
	StepSleep
)

// ReadToEOF as Step.Replies means: read replies until the server closes.
const ReadToEOF = -1

const (
	maxStepReplies = 1000
	maxSleep       = 2 * time.Second
	maxRepeat      = 1 << 22
)

// Step is one action of a case.
type Step struct {
	Kind    StepKind
	Args    [][]byte      // StepCommand
	Raw     []byte        // StepRaw; for StepCommand, the encoded command
	Replies int           // replies to read after sending, or ReadToEOF
	Sleep   time.Duration // StepSleep
	Line    int           // line in the case file (0 for generated steps)
}

// Case is a sequence of steps run on a fresh connection after FLUSHALL.
type Case struct {
	ID    string // "family/name"
	Steps []Step
	// Checkable is false for generated cases whose content depends on a
	// seed other than the default: an accepted difference is not called
	// stale because such a case did not reproduce it.
	Checkable bool
}

// Command returns a command step with one reply.
func Command(args ...string) Step {
	s := Step{Kind: StepCommand, Replies: 1}
	for _, a := range args {
		s.Args = append(s.Args, []byte(a))
	}
	s.Raw = encodeCommand(nil, s.Args)
	return s
}

// Name returns the upper-cased command name of a command step ("" for
// other steps).
func (s *Step) Name() string {
	if s.Kind != StepCommand || len(s.Args) == 0 {
		return ""
	}
	return strings.ToUpper(string(s.Args[0]))
}

// Sub returns the upper-cased first argument of a command step ("" when
// there is none).
func (s *Step) Sub() string {
	if s.Kind != StepCommand || len(s.Args) < 2 {
		return ""
	}
	return strings.ToUpper(string(s.Args[1]))
}

func encodeCommand(dst []byte, args [][]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// String writes the step in case-file syntax (one line).
func (s *Step) String() string {
	switch {
	case s.Kind == StepShutdown || s.Kind == StepSleep || s.Replies == 1:
		return s.Text()
	case s.Replies == ReadToEOF:
		return "(eof) " + s.Text()
	}
	return "(" + strconv.Itoa(s.Replies) + ") " + s.Text()
}

// Text writes the step without its reply count: the text that accepted
// differences match.
func (s *Step) Text() string {
	var b strings.Builder
	switch s.Kind {
	case StepCommand:
		for i, a := range s.Args {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(QuoteArg(a))
		}
	case StepRaw:
		b.WriteString("raw: ")
		b.WriteString(escapeRaw(s.Raw))
	case StepShutdown:
		b.WriteString("!shutdown")
	case StepSleep:
		fmt.Fprintf(&b, "!sleep %d", s.Sleep.Milliseconds())
	}
	return b.String()
}

// Format writes cases in case-file syntax; ParseCases reads it back.
func Format(cases []Case) string {
	var b strings.Builder
	for _, c := range cases {
		name := c.ID[strings.LastIndexByte(c.ID, '/')+1:]
		fmt.Fprintf(&b, "=== %s\n", name)
		for i := range c.Steps {
			b.WriteString(c.Steps[i].String())
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// QuoteArg writes a word so that the case-file syntax reads it back: bare
// when it is short plain printable text, double-quoted with escapes (and
// \{N*c} for long runs of one byte) otherwise.
func QuoteArg(a []byte) string {
	plain := len(a) > 0
	run := 0
	for i, c := range a {
		if c <= ' ' || c >= 0x7f || c == '"' || c == '\'' || c == '\\' {
			plain = false
			break
		}
		if i > 0 && c == a[i-1] {
			run++
		} else {
			run = 1
		}
		if run > 16 {
			plain = false // quoted, a long run is written as a repetition
			break
		}
	}
	if plain && a[0] != '(' && a[0] != '!' && a[0] != '#' && !bytes.HasPrefix(a, []byte("===")) && !bytes.HasPrefix(a, []byte("raw:")) {
		return string(a)
	}
	return `"` + escapeBytes(a, true) + `"`
}

func escapeRaw(b []byte) string { return escapeBytes(b, false) }

// escapeBytes escapes b for a double-quoted word (quote) or a raw line.
// Runs of one byte longer than 16 are written as \{N*c}. A raw line keeps
// its spaces but escapes trailing ones, which editors would drop.
func escapeBytes(b []byte, quote bool) string {
	trailing := len(b)
	if !quote {
		for trailing > 0 && b[trailing-1] == ' ' {
			trailing--
		}
	}
	var s strings.Builder
	for i := 0; i < len(b); {
		j := i + 1
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i > 16 {
			fmt.Fprintf(&s, `\{%d*%s}`, j-i, escapeByte(b[i], quote, true, i >= trailing || j == len(b)))
			i = j
			continue
		}
		s.WriteString(escapeByte(b[i], quote, false, i >= trailing))
		i++
	}
	return s.String()
}

func escapeByte(c byte, quote, inRepeat, trailing bool) string {
	switch c {
	case '\r':
		return `\r`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\\':
		return `\\`
	case '"':
		if quote {
			return `\"`
		}
	case '}':
		if inRepeat {
			return `\x7d`
		}
	case ' ':
		if trailing {
			return `\x20`
		}
	}
	if c < ' ' || c >= 0x7f {
		return fmt.Sprintf(`\x%02x`, c)
	}
	return string(rune(c))
}

// ParseError is a syntax error in a case file.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("diff: %s:%d: %s", e.File, e.Line, e.Msg)
}

// ParseCases reads a case file. family prefixes every case id
// ("family/name"); file names the file in errors.
//
// Syntax, one item per line:
//
//	# comment
//	=== name               start a case
//	SET k "a b" 'c'        a command (redis-cli-like words), one reply
//	(3) SUBSCRIBE a b c    a command with 3 replies
//	(eof) QUIT             a command, then read until the server closes
//	raw: *1\r\n$4\r\nPING\r\n   bytes sent as they are (Go-style escapes)
//	(0) raw: *2\r\n$3\r\nGET    raw bytes answered by no reply (yet)
//	!shutdown              half-close, then read until the server closes
//	!sleep 20              wait 20 ms
//
// Double-quoted words and raw lines take the escapes \\ \" \r \n \t \a \b
// \0 \xHH and \{N*c} (N copies of the character or escape c). Single-quoted
// words are literal except for \'. A step that reads until EOF ends its
// case.
func ParseCases(family, file string, data []byte) ([]Case, error) {
	var cases []Case
	seen := map[string]bool{}
	lines := bytes.Split(data, []byte("\n"))
	for i, raw := range lines {
		lineNo := i + 1
		fail := func(format string, args ...any) error {
			return &ParseError{File: file, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
		}
		line := string(bytes.TrimSuffix(raw, []byte("\r")))
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(trimmed, "==="); ok {
			name := strings.TrimSpace(rest)
			if !validName(name) {
				return nil, fail("bad case name %q (letters, digits, '.', '_', '-')", name)
			}
			if seen[name] {
				return nil, fail("duplicate case %q", name)
			}
			seen[name] = true
			cases = append(cases, Case{ID: family + "/" + name, Checkable: true})
			continue
		}
		if len(cases) == 0 {
			return nil, fail("step before the first '=== name' line")
		}
		c := &cases[len(cases)-1]
		if n := len(c.Steps); n > 0 && c.Steps[n-1].Replies == ReadToEOF {
			return nil, fail("step after one that reads until EOF")
		}
		st, err := parseStep(strings.TrimLeft(line, " \t"))
		if err != nil {
			return nil, fail("%v", err)
		}
		st.Line = lineNo
		c.Steps = append(c.Steps, st)
	}
	for _, c := range cases {
		if len(c.Steps) == 0 {
			return nil, &ParseError{File: file, Line: len(lines), Msg: fmt.Sprintf("case %q has no steps", c.ID)}
		}
	}
	return cases, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func parseStep(line string) (Step, error) {
	if rest, ok := strings.CutPrefix(line, "!"); ok {
		f := strings.Fields(rest)
		switch {
		case len(f) == 1 && f[0] == "shutdown":
			return Step{Kind: StepShutdown, Replies: ReadToEOF}, nil
		case len(f) == 2 && f[0] == "sleep":
			ms, err := strconv.Atoi(f[1])
			if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxSleep {
				return Step{}, fmt.Errorf("!sleep wants milliseconds in [0, %d]", maxSleep.Milliseconds())
			}
			return Step{Kind: StepSleep, Sleep: time.Duration(ms) * time.Millisecond}, nil
		}
		return Step{}, fmt.Errorf("unknown directive %q (want !shutdown or !sleep MS)", line)
	}
	replies := 1
	if strings.HasPrefix(line, "(") {
		end := strings.IndexByte(line, ')')
		if end < 0 {
			return Step{}, errors.New("unclosed '(' of a reply count")
		}
		switch count := line[1:end]; count {
		case "eof":
			replies = ReadToEOF
		default:
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 || n > maxStepReplies || strconv.Itoa(n) != count {
				return Step{}, fmt.Errorf("bad reply count %q (want 0..%d or eof)", count, maxStepReplies)
			}
			replies = n
		}
		line = strings.TrimLeft(line[end+1:], " \t")
	}
	if rest, ok := strings.CutPrefix(line, "raw:"); ok {
		rest = strings.TrimPrefix(rest, " ")
		b, err := unescape(rest, false)
		if err != nil {
			return Step{}, err
		}
		if len(b) == 0 {
			return Step{}, errors.New("empty raw line")
		}
		return Step{Kind: StepRaw, Raw: b, Replies: replies}, nil
	}
	args, err := splitArgs(line)
	if err != nil {
		return Step{}, err
	}
	if len(args) == 0 {
		return Step{}, errors.New("empty command")
	}
	return Step{Kind: StepCommand, Args: args, Raw: encodeCommand(nil, args), Replies: replies}, nil
}

// splitArgs splits a command line into words, like redis-cli.
func splitArgs(line string) ([][]byte, error) {
	var args [][]byte
	i := 0
	for {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			return args, nil
		}
		var word []byte
		switch line[i] {
		case '"':
			end, err := closingQuote(line, i+1, '"')
			if err != nil {
				return nil, err
			}
			w, err := unescape(line[i+1:end], true)
			if err != nil {
				return nil, err
			}
			word, i = w, end+1
		case '\'':
			end, err := closingQuote(line, i+1, '\'')
			if err != nil {
				return nil, err
			}
			word, i = []byte(strings.ReplaceAll(line[i+1:end], `\'`, `'`)), end+1
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				if line[j] == '"' || line[j] == '\'' {
					return nil, fmt.Errorf("quote inside an unquoted word at column %d", j+1)
				}
				j++
			}
			word, i = []byte(line[i:j]), j
		}
		if i < len(line) && line[i] != ' ' && line[i] != '\t' {
			return nil, fmt.Errorf("closing quote not followed by a space at column %d", i+1)
		}
		args = append(args, word)
	}
}

// closingQuote finds the quote closing a word that starts at i.
func closingQuote(line string, i int, q byte) (int, error) {
	for ; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case q:
			return i, nil
		}
	}
	return 0, errors.New("unbalanced quotes")
}

// unescape decodes the escapes of a double-quoted word (quoted) or of a
// raw line.
func unescape(s string, quoted bool) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); {
		c := s[i]
		if c == '"' && quoted {
			return nil, errors.New(`bare '"' inside a quoted word`)
		}
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		b, n, err := escapeAt(s[i:])
		if err != nil {
			return nil, err
		}
		if b == nil {
			// \{N*c}
			count, rep, m, err := repeatAt(s[i:])
			if err != nil {
				return nil, err
			}
			if len(out)+count > maxRepeat {
				return nil, fmt.Errorf("repetition makes more than %d bytes", maxRepeat)
			}
			for k := 0; k < count; k++ {
				out = append(out, rep)
			}
			i += m
			continue
		}
		out = append(out, b...)
		i += n
	}
	return out, nil
}

// escapeAt decodes the escape at the start of s (s[0] == '\\'). It
// returns nil bytes for the start of a repetition \{.
func escapeAt(s string) ([]byte, int, error) {
	if len(s) < 2 {
		return nil, 0, errors.New(`trailing '\'`)
	}
	switch s[1] {
	case '\\', '"', '\'':
		return []byte{s[1]}, 2, nil
	case 'r':
		return []byte{'\r'}, 2, nil
	case 'n':
		return []byte{'\n'}, 2, nil
	case 't':
		return []byte{'\t'}, 2, nil
	case 'a':
		return []byte{7}, 2, nil
	case 'b':
		return []byte{8}, 2, nil
	case '0':
		return []byte{0}, 2, nil
	case 'x':
		if len(s) < 4 {
			return nil, 0, errors.New(`\x wants two hex digits`)
		}
		v, err := strconv.ParseUint(s[2:4], 16, 8)
		if err != nil {
			return nil, 0, errors.New(`\x wants two hex digits`)
		}
		return []byte{byte(v)}, 4, nil
	case '{':
		return nil, 0, nil
	}
	return nil, 0, fmt.Errorf(`unknown escape \%c`, s[1])
}

// repeatAt decodes \{N*c} at the start of s.
func repeatAt(s string) (count int, c byte, n int, err error) {
	end := strings.IndexByte(s, '}')
	star := strings.IndexByte(s, '*')
	if end < 0 || star < 0 || star > end {
		return 0, 0, 0, errors.New(`bad repetition (want \{N*c})`)
	}
	count, err = strconv.Atoi(s[2:star])
	if err != nil || count < 0 || count > maxRepeat {
		return 0, 0, 0, fmt.Errorf(`bad repetition count %q`, s[2:star])
	}
	unit := s[star+1 : end]
	switch {
	case len(unit) == 1 && unit[0] != '\\':
		c = unit[0]
	case len(unit) > 1 && unit[0] == '\\':
		b, m, err := escapeAt(unit)
		if err != nil || b == nil || m != len(unit) {
			return 0, 0, 0, fmt.Errorf(`bad repeated character %q`, unit)
		}
		c = b[0]
	default:
		return 0, 0, 0, fmt.Errorf(`bad repeated character %q`, unit)
	}
	return count, c, end + 1, nil
}
