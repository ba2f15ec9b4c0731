package launcher

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// recorder keeps every Write it gets as one chunk.
type recorder struct {
	mu     sync.Mutex
	writes []string
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) all() string { return strings.Join(r.writes, "") }

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLine)
	for _, tc := range []struct {
		name   string
		writes []string
		flush  bool
		want   []string // the Writes passed on, each whole lines
	}{
		{"one line", []string{"hello\n"}, false, []string{"p | hello\n"}},
		{"two lines in one write go on in one write", []string{"a\nb\n"}, false, []string{"p | a\np | b\n"}},
		{"a line in pieces", []string{"he", "ll", "o\n"}, false, []string{"p | hello\n"}},
		{"end of one line and start of the next", []string{"a", "b\nc", "d\n"}, false, []string{"p | ab\n", "p | cd\n"}},
		{"unfinished line waits for Flush", []string{"a\nb"}, false, []string{"p | a\n"}},
		{"Flush ends the unfinished line", []string{"a\nb"}, true, []string{"p | a\n", "p | b\n"}},
		{"Flush of nothing writes nothing", []string{"a\n"}, true, []string{"p | a\n"}},
		{"empty lines keep their prefix", []string{"\n\n"}, false, []string{"p | \np | \n"}},
		{"carriage returns pass", []string{"a\r\n"}, false, []string{"p | a\r\n"}},
		{"a line of maxLine bytes is whole", []string{long + "\n"}, false, []string{"p | " + long + "\n"}},
		{"a longer line is cut at maxLine", []string{long + "yz\n"}, false, []string{"p | " + long + "\np | yz\n"}},
		{"cut across writes", []string{long[:10], long[10:] + "yz"}, true, []string{"p | " + long + "\n", "p | yz\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			w := newLineWriter(r, "p | ")
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if tc.flush {
				w.Flush()
			}
			if strings.Join(r.writes, "\x00") != strings.Join(tc.want, "\x00") {
				t.Errorf("got  %q\nwant %q", short(r.writes), short(tc.want))
			}
		})
	}
}

func short(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if len(s) > 40 {
			s = s[:20] + "..." + s[len(s)-20:]
		}
		out[i] = s
	}
	return out
}

// Lines of many writers sharing one sink never interleave.
func TestLineWritersShareASinkByWholeLines(t *testing.T) {
	r := &recorder{}
	s := &sink{w: r}
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newLineWriter(s, name+" | ")
			line := strings.Repeat(name, 50) + "\n"
			for range 200 {
				// Each line in three writes.
				w.Write([]byte(line[:10]))
				w.Write([]byte(line[10:30]))
				w.Write([]byte(line[30:]))
			}
		}()
	}
	wg.Wait()
	count := 0
	for line := range strings.Lines(r.all()) {
		count++
		name := line[:1]
		if line != name+" | "+strings.Repeat(name, 50)+"\n" {
			t.Fatalf("mixed line %q", line)
		}
	}
	if count != 800 {
		t.Fatalf("%d lines, want 800", count)
	}
}

func TestLineWriterDoesNotAllocate(t *testing.T) {
	w := newLineWriter(discard{}, "shard-12 | ")
	lines := []byte("3001:M 24 Nov 2026 12:00:00.000 * Ready to accept connections tcp\nand a partial ")
	rest := []byte("line\n")
	w.Write(lines)
	w.Write(rest)
	if n := testing.AllocsPerRun(1000, func() {
		w.Write(lines)
		w.Write(rest)
	}); n != 0 {
		t.Fatalf("%v allocations per two writes", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkLineWriter(b *testing.B) {
	w := newLineWriter(discard{}, "shard-12 | ")
	chunk := bytes.Repeat([]byte("3001:M 24 Nov 2026 12:00:00.000 * Accepted 127.0.0.1:51234\n"), 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		w.Write(chunk)
	}
}

// FuzzLineWriter: however the input is cut into writes, the output is the
// same, every line of it carries the prefix and at most maxLine bytes, and
// nothing but line breaks is added or lost.
func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), uint8(3))
	f.Add([]byte("no newline at all"), uint8(1))
	f.Add([]byte("\n\n\r\n"), uint8(0))
	f.Add(bytes.Repeat([]byte("ab"), maxLine), uint8(7))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		whole := &recorder{}
		w := newLineWriter(whole, "p | ")
		w.Write(in)
		w.Flush()

		cut := &recorder{}
		w = newLineWriter(cut, "p | ")
		n := int(step) + 1
		for i := 0; i < len(in); i += n {
			w.Write(in[i:min(i+n, len(in))])
		}
		w.Flush()

		out := whole.all()
		if cut.all() != out {
			t.Fatalf("writes of %d bytes give other output than one write", n)
		}
		var content strings.Builder
		for line := range strings.Lines(out) {
			body, ok := strings.CutPrefix(line, "p | ")
			if !ok || !strings.HasSuffix(body, "\n") || len(body) > maxLine+1 {
				t.Fatalf("bad line %q", short([]string{line}))
			}
			content.WriteString(strings.TrimSuffix(body, "\n"))
		}
		if want := strings.ReplaceAll(string(in), "\n", ""); content.String() != want {
			t.Fatalf("content changed")
		}
	})
}
