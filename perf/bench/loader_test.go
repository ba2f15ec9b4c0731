package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestAppendKey(t *testing.T) {
	for _, i := range []int{0, 7, 999_999, 123_456_789_012, 1_000_000_000_000, 98_765_432_109_876} {
		got := string(appendKey(nil, i))
		want := fmt.Sprintf("key:%012d", i)
		if got != want {
			t.Errorf("appendKey(%d) = %q, want %q", i, got, want)
		}
		if keyLen(i) != len(want) {
			t.Errorf("keyLen(%d) = %d, want %d", i, keyLen(i), len(want))
		}
	}
}

func TestKeyNames(t *testing.T) {
	tests := []struct {
		names keyNames
		i     int
		want  string
	}{
		{memtierKeys, 1, "memtier-1"},
		{memtierKeys, 1_000_000, "memtier-1000000"},
		{keyNames{Prefix: "key:{06S}:", Pad: 12}, 42, "key:{06S}:000000000042"},
		{keyNames{Prefix: "", Pad: 3}, 7, "007"},
		{keyNames{Prefix: "k", Pad: 2}, 12345, "k12345"},
	}
	for _, tt := range tests {
		if got := string(tt.names.appendKey(nil, tt.i)); got != tt.want || tt.names.keyLen(tt.i) != len(tt.want) {
			t.Errorf("%+v key %d = %q (len %d), want %q", tt.names, tt.i, got, tt.names.keyLen(tt.i), tt.want)
		}
	}
	ks := keySet{Names: memtierKeys, IDs: []int32{5, 9, 2}}
	if ks.len() != 3 || ks.index(1) != 9 || ks.key(2) != "memtier-2" {
		t.Errorf("key set by ids: len %d index(1) %d key(2) %q", ks.len(), ks.index(1), ks.key(2))
	}
	r := rangeKeys(memtierKeys, 1, 10)
	if r.len() != 10 || r.index(0) != 1 || r.key(9) != "memtier-10" {
		t.Errorf("key range: len %d index(0) %d key(9) %q", r.len(), r.index(0), r.key(9))
	}
	buf := appendSetBatch(nil, ks, 0, 3, newValue(4))
	if want := "*3\r\n$3\r\nSET\r\n$9\r\nmemtier-5\r\n$4\r\n0005\r\n"; !strings.HasPrefix(string(buf), want) {
		t.Errorf("batch starts %q, want %q", buf[:min(len(buf), len(want))], want)
	}
}

func TestStampValue(t *testing.T) {
	tests := []struct {
		size, i int
		want    string
	}{
		{size: 16, i: 42, want: "000000000042" + "mnop"},
		{size: 3, i: 12345, want: "345"},
		{size: 0, i: 5, want: ""},
	}
	for _, tt := range tests {
		v := newValue(tt.size)
		stampValue(v, tt.i)
		if string(v) != tt.want {
			t.Errorf("stampValue(size %d, %d) = %q, want %q", tt.size, tt.i, v, tt.want)
		}
	}
}

func TestAppendSetIsValidRESP(t *testing.T) {
	value := newValue(20)
	buf := appendSetBatch(nil, rangeKeys(benchmarkKeys, 0, 2000), 998, 1001, value)
	rd := bufio.NewReader(bytes.NewReader(buf))
	for i := 998; i < 1001; i++ {
		r, err := readReply(rd)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Elems) != 3 || r.Elems[0].Str != "SET" || r.Elems[1].Str != fmt.Sprintf("key:%012d", i) {
			t.Fatalf("command %d decoded as %+v", i, r)
		}
		if v := r.Elems[2].Str; len(v) != 20 || !strings.HasPrefix(v, fmt.Sprintf("%012d", i)) {
			t.Fatalf("value %d = %q", i, v)
		}
	}
	if rd.Buffered() != 0 {
		t.Errorf("%d trailing bytes", rd.Buffered())
	}
}

func TestLoaderHotPathsDoNotAllocate(t *testing.T) {
	value := newValue(256)
	buf := make([]byte, 0, loadBatch*(256+64))
	ks := rangeKeys(benchmarkKeys, 0, 2_000_000)
	if n := testing.AllocsPerRun(20, func() {
		buf = appendSetBatch(buf[:0], ks, 1_000_000, 1_000_000+loadBatch, value)
	}); n != 0 {
		t.Errorf("appendSetBatch allocates %v times per batch", n)
	}
	replies := bytes.Repeat([]byte("+OK\r\n"), 1000)
	src := bytes.NewReader(replies)
	rd := bufio.NewReaderSize(src, 4096)
	if n := testing.AllocsPerRun(20, func() {
		src.Reset(replies)
		rd.Reset(src)
		if err := readOKs(rd, 1000); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("readOKs allocates %v times per 1000 replies", n)
	}
}

func TestReadOKs(t *testing.T) {
	tests := []struct {
		in      string
		n       int
		wantErr string
	}{
		{in: "+OK\r\n+OK\r\n", n: 2},
		{in: "+OK\r\n-ERR out of memory\r\n", n: 2, wantErr: "ERR out of memory"},
		{in: ":1\r\n", n: 1, wantErr: "protocol"},
		{in: "+OK\r\n", n: 2, wantErr: "EOF"},
		{in: "\r\n", n: 1, wantErr: "empty"},
	}
	for _, tt := range tests {
		err := readOKs(bufio.NewReader(strings.NewReader(tt.in)), tt.n)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("readOKs(%q, %d) = %v, want error containing %q", tt.in, tt.n, err, tt.wantErr)
		}
	}
}

// fakeSetServer accepts one connection and answers SETs: +OK, except that
// the command numbered errAt (0-based) gets an error and closeAt closes the
// connection. It records the value length stored per key.
type fakeSetServer struct {
	ln      net.Listener
	errAt   int
	closeAt int
	done    chan map[string]int
}

func newFakeSetServer(t *testing.T, errAt, closeAt int) *fakeSetServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSetServer{ln: ln, errAt: errAt, closeAt: closeAt, done: make(chan map[string]int, 1)}
	t.Cleanup(func() { ln.Close() })
	go f.serve()
	return f
}

func (f *fakeSetServer) serve() {
	stored := map[string]int{}
	defer func() { f.done <- stored }()
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	for n := 0; ; n++ {
		if n == f.closeAt {
			return
		}
		if rd.Buffered() == 0 {
			if w.Flush() != nil {
				return
			}
		}
		r, err := readReply(rd)
		if err != nil {
			return
		}
		if len(r.Elems) != 3 || r.Elems[0].Str != "SET" {
			w.WriteString("-ERR not a SET\r\n")
			continue
		}
		if n == f.errAt {
			w.WriteString("-OOM command not allowed\r\n")
			continue
		}
		stored[r.Elems[1].Str] = len(r.Elems[2].Str)
		w.WriteString("+OK\r\n")
	}
}

func TestLoadKeysFake(t *testing.T) {
	tests := []struct {
		name           string
		keys, size     int
		errAt, closeAt int
		wantErr        string
	}{
		{name: "all", keys: 5000, size: 100, errAt: -1, closeAt: -1},
		{name: "partial batch", keys: loadBatch + 3, size: 1, errAt: -1, closeAt: -1},
		{name: "none", keys: 0, size: 8, errAt: -1, closeAt: -1},
		{name: "error reply", keys: 3000, size: 10, errAt: 2500, closeAt: -1, wantErr: "OOM"},
		{name: "connection closed", keys: 3000, size: 10, errAt: -1, closeAt: 1500, wantErr: "load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSetServer(t, tt.errAt, tt.closeAt)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := loadKeys(ctx, f.ln.Addr().String(), rangeKeys(benchmarkKeys, 0, tt.keys), tt.size)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			stored := <-f.done
			if len(stored) != tt.keys || st.Keys != tt.keys {
				t.Fatalf("server stored %d keys, stats say %d, want %d", len(stored), st.Keys, tt.keys)
			}
			for i := 0; i < tt.keys; i++ {
				if n, ok := stored[fmt.Sprintf("key:%012d", i)]; !ok || n != tt.size {
					t.Fatalf("key %d: stored=%v len=%d", i, ok, n)
				}
			}
			if want := int64(len(appendSetBatch(nil, rangeKeys(benchmarkKeys, 0, tt.keys), 0, tt.keys, newValue(tt.size)))); st.Bytes != want {
				t.Errorf("bytes sent %d, want %d", st.Bytes, want)
			}
		})
	}
}

func TestLoadKeysCancel(t *testing.T) {
	// A server that accepts and never answers: the load must end with ctx.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = loadKeys(ctx, ln.Addr().String(), rangeKeys(benchmarkKeys, 0, 100_000), 256)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancelled load took %v", d)
	}
}

func BenchmarkAppendSetBatch(b *testing.B) {
	b.ReportAllocs()
	value := newValue(256)
	buf := make([]byte, 0, loadBatch*(256+64))
	ks := rangeKeys(benchmarkKeys, 0, 2_000_000)
	b.SetBytes(int64(len(appendSetBatch(nil, ks, 0, loadBatch, value))))
	for b.Loop() {
		buf = appendSetBatch(buf[:0], ks, 0, loadBatch, value)
	}
}

func BenchmarkReadOKs(b *testing.B) {
	b.ReportAllocs()
	replies := bytes.Repeat([]byte("+OK\r\n"), 1000)
	b.SetBytes(int64(len(replies)))
	src := bytes.NewReader(replies)
	rd := bufio.NewReader(src)
	for b.Loop() {
		src.Reset(replies)
		rd.Reset(src)
		if err := readOKs(rd, 1000); err != nil {
			b.Fatal(err)
		}
	}
}
