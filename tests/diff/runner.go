package diff

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Pair is the two servers a case runs against: Ref is the reference
// (Debian's redis-server), Test the server under test.
type Pair struct {
	Ref, Test         string        // addresses
	RefName, TestName string        // names used in reports ("redis", "shoal/uring")
	Timeout           time.Duration // per reply; zero means 5 s (a loaded machine must not pass for a silent server)
	Record            bool          // fill CaseResult.Transcript
}

// Difference is one step whose normalized outcomes differ.
type Difference struct {
	Case  string
	Step  int    // 0 is the FLUSHALL before the case, len(Steps)+1 the PING after it
	Line  int    // line in the case file, 0 for implicit and generated steps
	Text  string // the step's text (what accepted entries match)
	Rule  string // normalization rule applied, if any
	Want  string // the reference's outcome
	Got   string // the tested server's outcome
	Entry *Entry // the accepted entry covering it, nil if none
}

// CaseResult is the outcome of running one case.
type CaseResult struct {
	Case  *Case
	Diffs []Difference
	// Stopped is set when the case stopped at an unaccepted difference or
	// a problem: the steps after it were not run.
	Stopped bool
	// Problems are faults of the case itself, seen on the reference
	// server: it timed out, or closed the connection at a step that does
	// not read until EOF.
	Problems []string
	// Transcript has one line per step run, with the reference's
	// normalized outcome, when Pair.Record is set.
	Transcript []string
}

// Unaccepted returns the differences no entry covers.
func (r *CaseResult) Unaccepted() []Difference {
	var out []Difference
	for _, d := range r.Diffs {
		if d.Entry == nil {
			out = append(out, d)
		}
	}
	return out
}

// RunCase runs c on fresh connections to both servers: FLUSHALL, the
// case's steps, then a PING (which also catches surplus replies) unless a
// connection has ended. It compares each step's normalized outcomes and
// matches each difference against accepted. It returns an error only when
// a server cannot be reached.
func (p *Pair) RunCase(c *Case, accepted []Entry) (CaseResult, error) {
	res := CaseResult{Case: c}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ref, err := dialSide(p.Ref, timeout)
	if err != nil {
		return res, err
	}
	defer ref.close()
	test, err := dialSide(p.Test, timeout)
	if err != nil {
		return res, err
	}
	defer test.close()

	flush := Command("FLUSHALL")
	ping := Command("PING")
	steps := make([]*Step, 0, len(c.Steps)+2)
	steps = append(steps, &flush)
	for i := range c.Steps {
		steps = append(steps, &c.Steps[i])
	}
	steps = append(steps, &ping)

	for i, st := range steps {
		if st == &ping && (ref.dead || test.dead) {
			break
		}
		if st.Kind == StepSleep {
			time.Sleep(st.Sleep)
			continue
		}
		a := ref.run(st)
		b := test.run(st)
		if prob := refProblem(st, &a); prob != "" {
			res.Problems = append(res.Problems, fmt.Sprintf("step %d (line %d) %s: %s", i, st.Line, st.Text(), prob))
			res.Stopped = true
			return res, nil
		}
		want, got, rule := compare(st, &a, &b)
		if p.Record {
			res.Transcript = append(res.Transcript, st.String()+"\n\t-> "+strconv.Quote(want))
		}
		if want == got {
			continue
		}
		d := Difference{Case: c.ID, Step: i, Line: st.Line, Text: st.Text(), Rule: rule, Want: want, Got: got}
		for k := range accepted {
			if accepted[k].Matches(c.ID, d.Text) {
				d.Entry = &accepted[k]
				break
			}
		}
		res.Diffs = append(res.Diffs, d)
		if d.Entry == nil {
			res.Stopped = i < len(c.Steps) // steps of the case itself were skipped
			return res, nil
		}
	}
	return res, nil
}

// refProblem says what is wrong with a case given the reference's outcome.
func refProblem(st *Step, o *Outcome) string {
	switch {
	case o.End == "timeout":
		return "the reference server sent no reply in time (wrong reply count, or a command left unfinished?)"
	case o.End == "EOF" && st.Replies != ReadToEOF:
		return "the reference server closed the connection here: write the step as (eof) and end the case"
	case o.End == "closed":
		return "the connection had already ended"
	case st.Replies == ReadToEOF && o.End != "EOF":
		return "the reference server did not close the connection: " + o.End
	}
	return ""
}

// compare renders both outcomes after normalization.
func compare(st *Step, a, b *Outcome) (want, got, rule string) {
	var wa, wb []byte
	for i := 0; i < max(len(a.Replies), len(b.Replies)); i++ {
		switch {
		case i < len(a.Replies) && i < len(b.Replies):
			na, nb, r := normalizePair(st, a.Replies[i], b.Replies[i])
			wa, wb = append(wa, na...), append(wb, nb...)
			if r != "" {
				rule = r
			}
		case i < len(a.Replies):
			wa = append(wa, normalizeOne(st, a.Replies[i])...)
		default:
			wb = append(wb, normalizeOne(st, b.Replies[i])...)
		}
	}
	return render(wa, a), render(wb, b), rule
}

func render(replies []byte, o *Outcome) string {
	s := string(replies)
	if len(o.Rest) > 0 {
		s += "<rest " + strconv.Quote(string(o.Rest)) + ">"
	}
	if o.End != "" {
		s += "<" + o.End + ">"
	}
	return s
}

// Report writes a difference for a test log.
func (d *Difference) Report(refName, testName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "case %s, step %d", d.Case, d.Step)
	if d.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", d.Line)
	}
	fmt.Fprintf(&b, ": %s\n", d.Text)
	fmt.Fprintf(&b, "\t%-12s %s\n", refName+":", clip(strconv.Quote(d.Want)))
	fmt.Fprintf(&b, "\t%-12s %s", testName+":", clip(strconv.Quote(d.Got)))
	if d.Rule != "" {
		fmt.Fprintf(&b, "\n\t(normalized: %s)", d.Rule)
	}
	if d.Entry != nil {
		fmt.Fprintf(&b, "\n\t(accepted, accepted.txt line %d: %s)", d.Entry.Line, d.Entry.Reason)
	}
	return b.String()
}

func clip(s string) string {
	const max = 1500
	if len(s) <= max {
		return s
	}
	return s[:max] + fmt.Sprintf("... (%d bytes more)", len(s)-max)
}

// Tally gathers case results for the accepted-differences checks.
type Tally struct {
	Entries   []Entry
	matched   []int  // differences each entry covered
	exercised []bool // a checkable case the entry's case glob covers ran to its end
	// Unaccepted counts unaccepted differences and case problems.
	Unaccepted int
}

// NewTally starts a tally over the accepted entries.
func NewTally(entries []Entry) *Tally {
	return &Tally{Entries: entries, matched: make([]int, len(entries)), exercised: make([]bool, len(entries))}
}

// Add records a case result.
func (t *Tally) Add(r *CaseResult) {
	t.Unaccepted += len(r.Unaccepted()) + len(r.Problems)
	for _, d := range r.Diffs {
		if d.Entry != nil {
			if i := t.indexOf(d.Entry); i >= 0 {
				t.matched[i]++
			}
		}
	}
	if r.Stopped || !r.Case.Checkable {
		return
	}
	for i := range t.Entries {
		if t.Entries[i].CoversCase(r.Case.ID) {
			t.exercised[i] = true
		}
	}
}

// Stale returns the entries that covered a checkable case which ran to its
// end, yet matched no difference: the difference they describe is gone.
func (t *Tally) Stale() []Entry {
	var out []Entry
	for i, e := range t.Entries {
		if t.exercised[i] && t.matched[i] == 0 {
			out = append(out, e)
		}
	}
	return out
}

// Matched returns how many differences entry i covered.
func (t *Tally) Matched(i int) int { return t.matched[i] }

// indexOf finds e among the tally's entries: the same element, or one
// from the same line of the file.
func (t *Tally) indexOf(e *Entry) int {
	for i := range t.Entries {
		if &t.Entries[i] == e {
			return i
		}
	}
	for i := range t.Entries {
		if t.Entries[i].Line == e.Line {
			return i
		}
	}
	return -1
}
