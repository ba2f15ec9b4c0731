package diff

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"shoal/internal/testserver"
)

var flagSeed = flag.String("diff.seed", "", `generator seed, a number or "random" (default $DIFF_SEED, else 1)`)

// defaultSeed is the seed accepted differences are checked against.
const defaultSeed = 1

// maxTimeouts is how many cases of a stream may time out on the server
// under test before the stream is abandoned (each costs the reply
// timeout).
const maxTimeouts = 5

// genSeed returns the seed of the generated streams and whether it is the
// default one.
func genSeed(t *testing.T) (uint64, bool) {
	s := *flagSeed
	if s == "" {
		s = os.Getenv("DIFF_SEED")
	}
	switch s {
	case "":
		return defaultSeed, true
	case "random":
		return uint64(time.Now().UnixNano()), false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("seed %q: want a number or \"random\"", s)
	}
	return n, n == defaultSeed
}

type stream struct {
	name      string
	cases     []Case
	generated bool
}

func loadStreams(t *testing.T) []stream {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no case files in testdata: %v", err)
	}
	var out []stream
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		family := strings.TrimSuffix(filepath.Base(f), ".txt")
		cases, err := ParseCases(family, f, data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, stream{name: family, cases: cases})
	}
	return out
}

func loadAccepted(t *testing.T) []Entry {
	data, err := os.ReadFile("accepted.txt")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := ParseAccepted("accepted.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// TestDiff sends the same command streams to redis-server and to the
// server under test and compares the replies byte for byte (see doc.go).
//
// DIFF_DUMP=1 logs every step with the reference's reply (with -v).
// DIFF_TARGET=redis makes both sides redis-server: every difference is
// then a fault of the harness or of a case. Otherwise the shoal binary is
// tested once per I/O backend (SHOAL_IO restricts).
func TestDiff(t *testing.T) {
	testserver.RequireRedis(t)
	seed, isDefault := genSeed(t)
	nGen, nMalformed := 200, 300
	if testing.Short() {
		nGen, nMalformed = 15, 40
	}
	checkable := isDefault && !testing.Short()
	streams := loadStreams(t)
	for _, f := range GenFamilies {
		streams = append(streams, stream{name: "gen-" + f, cases: GenCases(f, seed, nGen, 40, checkable), generated: true})
	}
	streams = append(streams, stream{name: "malformed", cases: MalformedCases(seed, nMalformed, checkable), generated: true})
	entries := loadAccepted(t)

	switch target := os.Getenv("DIFF_TARGET"); target {
	case "redis":
		t.Run("redis", func(t *testing.T) {
			runTarget(t, testserver.Options{Kind: testserver.Redis}, "redis2", streams, nil, seed)
		})
	case "", "shoal":
		for _, io := range testserver.IOBackends() {
			t.Run("shoal-"+io, func(t *testing.T) {
				runTarget(t, testserver.Options{Kind: testserver.Shoal, IO: io}, "shoal/"+io, streams, entries, seed)
			})
		}
	default:
		t.Fatalf("DIFF_TARGET=%q: want redis or shoal", target)
	}
}

// runTarget runs every stream against a fresh reference and a fresh
// server under test. With no entries (redis against redis) nothing is
// accepted and nothing can be stale.
func runTarget(t *testing.T, o testserver.Options, name string, streams []stream, entries []Entry, seed uint64) {
	ref := testserver.Start(t, testserver.Options{Kind: testserver.Redis})
	test := testserver.Start(t, o)
	pair := &Pair{Ref: ref.Addr, Test: test.Addr, RefName: "redis", TestName: name, Record: os.Getenv("DIFF_DUMP") != ""}
	tally := NewTally(entries)
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			if s.generated {
				defer func() {
					if t.Failed() {
						t.Logf("generated with seed %d: rerun with DIFF_SEED=%d or -diff.seed=%d", seed, seed, seed)
					}
				}()
			}
			accepted, timeouts := 0, 0
			for i := range s.cases {
				c := &s.cases[i]
				res, err := pair.RunCase(c, entries)
				if err != nil {
					t.Fatalf("case %s: %v", c.ID, err)
				}
				tally.Add(&res)
				if pair.Record {
					t.Logf("case %s:\n%s", c.ID, strings.Join(res.Transcript, "\n"))
				}
				for _, p := range res.Problems {
					t.Errorf("case %s is wrong: %s", c.ID, p)
				}
				for _, d := range res.Diffs {
					if strings.HasSuffix(d.Got, "<timeout>") {
						timeouts++
					}
					if d.Entry != nil {
						accepted++
						continue
					}
					msg := d.Report(pair.RefName, pair.TestName)
					if s.generated {
						msg += "\nreproduce with:\n" + reproduction(c, d.Step)
					}
					t.Errorf("%s", msg)
				}
				if timeouts >= maxTimeouts {
					t.Fatalf("%s stopped answering (%d cases timed out): skipping the rest of %s", name, timeouts, s.name)
				}
			}
			if accepted > 0 {
				t.Logf("%d accepted differences", accepted)
			}
		})
	}
	if entries == nil {
		return
	}
	if tally.Unaccepted > 0 {
		t.Logf("stale entries of accepted.txt not checked: there are unaccepted differences")
		return
	}
	for _, e := range tally.Stale() {
		t.Errorf("accepted.txt %s: no longer occurs; remove the entry", e.String())
	}
}

// reproduction writes a generated case up to step (1-based among its own
// steps) in case-file syntax.
func reproduction(c *Case, step int) string {
	cut := *c
	if step >= 1 && step <= len(c.Steps) {
		cut.Steps = c.Steps[:step]
	}
	return Format([]Case{cut})
}
