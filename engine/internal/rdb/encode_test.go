package rdb

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestAppendLen(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "\x00"},
		{63, "\x3f"},
		{64, "\x40\x40"},
		{16383, "\x7f\xff"},
		{16384, "\x80\x00\x00\x40\x00"},
		{math.MaxUint32, "\x80\xff\xff\xff\xff"},
		{math.MaxUint32 + 1, "\x81\x00\x00\x00\x01\x00\x00\x00\x00"},
	} {
		got := AppendLen(nil, tc.n)
		if string(got) != tc.want {
			t.Errorf("AppendLen(%d) = %q, want %q", tc.n, got, tc.want)
		}
		r := NewBytesReader(got)
		if n, err := r.ReadLen(); err != nil || n != tc.n || r.Buffered() != 0 {
			t.Errorf("ReadLen(%q) = %d, %v", got, n, err)
		}
	}
}

// TestAppendString checks the encodings Redis's rdbSaveRawString picks.
func TestAppendString(t *testing.T) {
	long := strings.Repeat("abcd", 20)
	for _, tc := range []struct {
		in       string
		compress bool
		want     string // "" to check only the LZF marker
	}{
		{"", false, "\x00"},
		{"hello", false, "\x05hello"},
		{"0", false, "\xc0\x00"},
		{"-1", false, "\xc0\xff"},
		{"127", false, "\xc0\x7f"},
		{"128", false, "\xc1\x80\x00"},
		{"-32768", false, "\xc1\x00\x80"},
		{"32768", false, "\xc2\x00\x80\x00\x00"},
		{"2147483647", false, "\xc2\xff\xff\xff\x7f"},
		{"-2147483648", false, "\xc2\x00\x00\x00\x80"},
		{"2147483648", false, "\x0a2147483648"},                    // beyond 32 bits: plain
		{"012", false, "\x03012"},                                  // not canonical
		{"+1", false, "\x02+1"},                                    // not canonical
		{"-0", false, "\x02-0"},                                    // not canonical
		{"12345678901", false, "\x0b12345678901"},                  // 11 chars, too big
		{"aaaaaaaaaaaaaaaaaaaa", true, "\x14aaaaaaaaaaaaaaaaaaaa"}, // 20 bytes: never compressed
		{long, false, "\x40\x50" + long},
		{long, true, ""},
	} {
		got := AppendString(nil, []byte(tc.in), tc.compress)
		if tc.want != "" && string(got) != tc.want {
			t.Errorf("AppendString(%q, %v) = %q, want %q", tc.in, tc.compress, got, tc.want)
		}
		if tc.want == "" && (got[0] != 0xc3 || len(got) >= len(tc.in)) {
			t.Errorf("AppendString(%q) = %q: not LZF or not smaller", tc.in, got)
		}
		r := NewBytesReader(got)
		s, err := r.ReadString()
		if err != nil || string(s) != tc.in || r.Buffered() != 0 {
			t.Errorf("ReadString(%q) = %q, %v, %d left", got, s, err, r.Buffered())
		}
	}
	// Incompressible data stays plain.
	rnd := []byte("\x8f\x11\x02\xa7\x5c\x90\x33\xe1\x4b\x07\xd2\x6e\x19\xc4\x88\x2a\xf0\x3d\x71\x96\x0c\x5b")
	if got := AppendString(nil, rnd, true); got[0] != byte(len(rnd)) {
		t.Errorf("incompressible string written as %q", got)
	}
}

func TestAppendStringNoAlloc(t *testing.T) {
	long := []byte(strings.Repeat("hello world ", 30))
	dst := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(100, func() {
		d := AppendString(dst[:0], long, true)
		d = AppendString(d, []byte("12345"), true)
		d = AppendInt(d, 1<<40)
		_ = AppendBinaryDouble(d, 1.5)
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestAppendInt(t *testing.T) {
	for _, v := range []int64{0, -5, 300, -70000, math.MaxInt32, math.MaxInt32 + 1, math.MinInt64, math.MaxInt64} {
		b := AppendInt(nil, v)
		if want := AppendString(nil, []byte(itoa(v)), false); !bytes.Equal(b, want) {
			t.Errorf("AppendInt(%d) = %q, AppendString gives %q", v, b, want)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestDoubles(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "\x010"},
		{-3, "\x02-3"},
		{1.5, "\x031.5"},
		{math.Inf(1), "\xfe"},
		{math.Inf(-1), "\xff"},
		{1e20, "\x051e+20"},
		{-4503599627370495, "\x11-4503599627370495"},
		{4503599627370496, "\x104503599627370496"},
		{1e17, "\x051e+17"},
	} {
		got := AppendDouble(nil, tc.f)
		if string(got) != tc.want {
			t.Errorf("AppendDouble(%v) = %q, want %q", tc.f, got, tc.want)
		}
		back, err := NewBytesReader(got).ReadDouble()
		if err != nil || back != tc.f {
			t.Errorf("ReadDouble(%q) = %v, %v; want %v", got, back, err, tc.f)
		}
		bin := AppendBinaryDouble(nil, tc.f)
		if b2, err := NewBytesReader(bin).ReadBinaryDouble(); err != nil || b2 != tc.f {
			t.Errorf("binary double %v read back as %v, %v", tc.f, b2, err)
		}
	}
	if got := AppendDouble(nil, 0.1); string(got) != "\x130.10000000000000001" {
		t.Errorf("AppendDouble(0.1) = %q", got)
	}
	if got := AppendDouble(nil, math.NaN()); string(got) != "\xfd" {
		t.Errorf("AppendDouble(NaN) = %q", got)
	}
	if f, err := NewBytesReader([]byte("\x03abc")).ReadDouble(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadDouble(abc) = %v, %v", f, err)
	}
}

func TestHeaderAndEOF(t *testing.T) {
	aux := StandardAux("7.0.15", 1700000000, 123456, true)
	b := AppendHeader(nil, aux)
	if !bytes.HasPrefix(b, []byte("REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40")) {
		t.Fatalf("header %q", b)
	}
	b = AppendSelectDB(b, 0)
	b = AppendResizeDB(b, 1, 0)
	b = append(b, TypeString)
	b = AppendString(b, []byte("k"), true)
	b = AppendString(b, []byte("v"), true)
	b = AppendEOF(b, CRC64(0, b))
	if CRC64(0, b[:len(b)-8]) != leUint64(b[len(b)-8:]) {
		t.Fatal("EOF checksum does not cover the opcode")
	}
	r := NewBytesReader(b)
	v, err := r.ReadSignature()
	if err != nil || v != Version {
		t.Fatalf("ReadSignature = %d, %v", v, err)
	}
	var got []string
	for {
		op, err := r.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		if op == OpEOF {
			crc := r.CRC()
			sum, err := r.ReadUint64()
			if err != nil || sum != crc {
				t.Fatalf("checksum %x, computed %x, %v", sum, crc, err)
			}
			break
		}
		switch op {
		case OpAux:
			k, _ := r.ReadString()
			ks := string(k)
			val, _ := r.ReadString()
			got = append(got, ks+"="+string(val))
		case OpSelectDB:
			n, _ := r.ReadLen()
			got = append(got, "select="+itoa(int64(n)))
		case OpResizeDB:
			n, _ := r.ReadLen()
			e, _ := r.ReadLen()
			got = append(got, "resize="+itoa(int64(n))+","+itoa(int64(e)))
		case TypeString:
			k, _ := r.ReadString()
			ks := string(k)
			val, _ := r.ReadString()
			got = append(got, ks+":"+string(val))
		default:
			t.Fatalf("opcode %d", op)
		}
	}
	want := "redis-ver=7.0.15 redis-bits=64 ctime=1700000000 used-mem=123456 aof-base=1 select=0 resize=1,0 k:v"
	if strings.Join(got, " ") != want {
		t.Errorf("read %q\nwant %q", strings.Join(got, " "), want)
	}
	if r.Buffered() != 0 || r.Offset() != int64(len(b)) {
		t.Errorf("offset %d of %d, %d left", r.Offset(), len(b), r.Buffered())
	}
}

func leUint64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func TestSignature(t *testing.T) {
	for _, tc := range []struct {
		in      string
		version int
		err     error
	}{
		{"REDIS0001", 1, nil},
		{"REDIS0009", 9, nil},
		{"REDIS0012", 12, nil},
		{"REDIS0013", 0, ErrUnsupported},
		{"REDIS0000", 0, ErrCorrupt},
		{"REDIS00a1", 0, ErrCorrupt},
		{"REDIX0010", 0, ErrCorrupt},
		{"REDIS001", 0, io.ErrUnexpectedEOF},
	} {
		v, err := NewBytesReader([]byte(tc.in)).ReadSignature()
		if v != tc.version || (tc.err == nil) != (err == nil) || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Errorf("ReadSignature(%q) = %d, %v", tc.in, v, err)
		}
	}
}

func TestDumpFooter(t *testing.T) {
	p := AppendDumpFooter([]byte("xx\x00\x05hello"), 2)[2:]
	if string(p) != "\x00\x05hello\x0a\x00cr\xdfve4 \x0a" { // redis-server 7.0.15's DUMP
		t.Fatalf("payload %q", p)
	}
	if body, v, ok := CheckDumpPayload(p); !ok || v != 10 || string(body) != "\x00\x05hello" {
		t.Errorf("CheckDumpPayload = %q, %d, %v", body, v, ok)
	}
	bad := bytes.Clone(p)
	bad[3] ^= 1
	if _, _, ok := CheckDumpPayload(bad); ok {
		t.Error("a flipped bit passed")
	}
	newer := AppendDumpFooter([]byte("\x00\x01a"), 0)
	newer[3] = Version + 1 // the CRC no longer matches either; the version is checked first
	if _, v, ok := CheckDumpPayload(newer); ok || v != Version+1 {
		t.Errorf("version %d accepted: %v", v, ok)
	}
	if _, _, ok := CheckDumpPayload([]byte("123456789")); ok {
		t.Error("9 bytes accepted")
	}
}

// TestReaderStream reads records through a small bufio.Reader: strings
// longer than its buffer, offsets, CRC, and nothing read past the record.
func TestReaderStream(t *testing.T) {
	long := bytes.Repeat([]byte("0123456789abcdef"), 100)
	var b []byte
	b = AppendString(b, []byte("key"), true)
	b = AppendString(b, long, false)
	b = AppendString(b, long, true)
	b = AppendString(b, []byte("-77"), true)
	b = AppendExpireMs(b, 1234567890123)
	tail := []byte("*1\r\n$4\r\nPING\r\n")
	in := append(bytes.Clone(b), tail...)
	br := bufio.NewReaderSize(bytes.NewReader(in), 16)
	r := NewReader(br)
	for _, want := range [][]byte{[]byte("key"), long, long, []byte("-77")} {
		s, err := r.ReadString()
		if err != nil || !bytes.Equal(s, want) {
			t.Fatalf("ReadString = %d bytes, %v; want %d", len(s), err, len(want))
		}
	}
	if op, _ := r.ReadByte(); op != OpExpireTimeMs {
		t.Fatalf("opcode %d", op)
	}
	if ms, err := r.ReadUint64(); err != nil || ms != 1234567890123 {
		t.Fatalf("ms %d %v", ms, err)
	}
	if r.Offset() != int64(len(b)) || r.CRC() != CRC64(0, b) {
		t.Errorf("offset %d (want %d), crc %x (want %x)", r.Offset(), len(b), r.CRC(), CRC64(0, b))
	}
	rest, _ := io.ReadAll(br)
	if !bytes.Equal(rest, tail) {
		t.Errorf("after the record the reader left %q", rest)
	}
}

func TestReaderTruncated(t *testing.T) {
	full := AppendString(nil, bytes.Repeat([]byte("xy"), 50), true)
	full = AppendString(full, bytes.Repeat([]byte("q"), 300), false)
	full = AppendString(full, []byte("100000"), false)
	for cut := range len(full) {
		for _, stream := range []bool{false, true} {
			var r *Reader
			if stream {
				r = NewReader(bufio.NewReaderSize(bytes.NewReader(full[:cut]), 16))
			} else {
				r = NewBytesReader(full[:cut])
			}
			var err error
			for range 3 {
				if _, err = r.ReadString(); err != nil {
					break
				}
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("cut at %d (stream %v): %v", cut, stream, err)
			}
		}
	}
}

func TestReaderCorrupt(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
	}{
		{"unknown length", "\xa0"},
		{"unknown string encoding", "\xc4"},
		{"LZF expands too much", "\xc3\x01\x7f\x00\x00"},
		{"LZF bad stream", "\xc3\x02\x05\x05a"},
	} {
		_, err := NewBytesReader([]byte(tc.in)).ReadString()
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := NewBytesReader([]byte("\xc0\x01")).ReadLen(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadLen of an encoded string: %v", err)
	}
}

// FuzzReader reads arbitrary bytes as a sequence of strings and doubles:
// it never panics, and every string it accepts survives re-encoding.
func FuzzReader(f *testing.F) {
	var seed []byte
	seed = AppendString(seed, []byte("hello"), true)
	seed = AppendString(seed, bytes.Repeat([]byte("ab"), 40), true)
	seed = AppendString(seed, []byte("-12345"), true)
	seed = AppendDouble(seed, 3.25)
	f.Add(seed)
	f.Add([]byte("\xc3\x05\x10\x00a\xe0\x00\x00"))
	f.Add([]byte("\x81\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, stream := range []bool{false, true} {
			var r *Reader
			if stream {
				r = NewReader(bufio.NewReaderSize(bytes.NewReader(in), 16))
			} else {
				r = NewBytesReader(in)
			}
			for i := 0; i < 64; i++ {
				start := r.Offset()
				s, err := r.ReadString()
				if err != nil {
					if !errors.Is(err, ErrCorrupt) && !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("unexpected error kind: %v", err)
					}
					break
				}
				if r.Offset() <= start || r.Offset() > int64(len(in)) {
					t.Fatalf("offset %d after %d of %d", r.Offset(), start, len(in))
				}
				s = bytes.Clone(s)
				back, err := NewBytesReader(AppendString(nil, s, true)).ReadString()
				if err != nil || !bytes.Equal(back, s) {
					t.Fatalf("re-encoded %q read back as %q, %v", s, back, err)
				}
				if _, err := r.ReadDouble(); err != nil {
					break
				}
			}
			if r.CRC() != CRC64(0, in[:r.Offset()]) {
				t.Fatal("CRC of the consumed bytes is wrong")
			}
		}
	})
}

func BenchmarkAppendStringLZF(b *testing.B) {
	s := []byte(strings.Repeat("user:1000:session:abcdef ", 8))
	dst := make([]byte, 0, 1024)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		AppendString(dst[:0], s, true)
	}
}
