package resp

import (
	"fmt"
	"strings"
	"testing"
)

// benchParse parses a pipeline of copies of cmd; one op is one command.
func benchParse(b *testing.B, cmd string) {
	const perPipeline = 64
	pipeline := []byte(strings.Repeat(cmd, perPipeline))
	var p Parser
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	b.ResetTimer()
	off := 0
	for range b.N {
		if off == len(pipeline) {
			off = 0
		}
		args, n, err := p.Parse(pipeline[off:])
		if err != nil || n == 0 || len(args) == 0 {
			b.Fatalf("%v %d", err, n)
		}
		off += n
	}
}

func BenchmarkParseSet256(b *testing.B) {
	benchParse(b, mb("SET", "key:000000000001", strings.Repeat("v", 256)))
}

func BenchmarkParseGet(b *testing.B) {
	benchParse(b, mb("GET", "key:000000000001"))
}

func BenchmarkParseMSet10(b *testing.B) {
	args := []string{"MSET"}
	for i := range 10 {
		args = append(args, fmt.Sprintf("key:%012d", i), "value")
	}
	benchParse(b, mb(args...))
}

func BenchmarkParseInline(b *testing.B) {
	benchParse(b, "SET key:000000000001 value\r\n")
}

// BenchmarkParseSplit256 parses a SET whose bytes arrive in 40-byte pieces.
func BenchmarkParseSplit256(b *testing.B) {
	cmd := []byte(mb("SET", "key:000000000001", strings.Repeat("v", 256)))
	var p Parser
	b.SetBytes(int64(len(cmd)))
	b.ReportAllocs()
	for range b.N {
		for i := 40; ; i += 40 {
			if i >= len(cmd) {
				if _, n, _ := p.Parse(cmd); n != len(cmd) {
					b.Fatal("incomplete")
				}
				break
			}
			p.Parse(cmd[:i])
		}
	}
}

func BenchmarkAppendBulk256(b *testing.B) {
	v := []byte(strings.Repeat("v", 256))
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(v)))
	b.ReportAllocs()
	for range b.N {
		buf = AppendBulk(buf[:0], v)
	}
}

func BenchmarkAppendInt(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for i := range b.N {
		buf = AppendInt(buf[:0], int64(i))
	}
}

func BenchmarkAppendDouble(b *testing.B) {
	buf := make([]byte, 0, 64)
	for _, c := range []struct {
		name string
		f    float64
	}{{"integer", 1234}, {"fraction", 0.1}, {"tiny", 3.14e-200}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				buf = AppendDouble(buf[:0], c.f, true)
			}
		})
	}
}
