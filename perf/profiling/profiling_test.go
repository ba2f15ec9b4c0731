package profiling

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// busy does some work for the profilers to see.
func busy() {
	var sink [][]byte
	deadline := time.Now().Add(20 * time.Millisecond)
	for time.Now().Before(deadline) {
		sink = append(sink, make([]byte, 1024))
		if len(sink) > 100 {
			sink = sink[:0]
		}
	}
}

// checkProfile fails unless path holds a profile of kind: gzip'd protobuf
// for the pprof kinds, Go's trace header for the trace.
func checkProfile(t *testing.T, kind, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	switch {
	case kind == "trace":
		if !bytes.HasPrefix(data, []byte("go 1.")) {
			t.Fatalf("%s: %s does not start with a trace header: %q", kind, path, data[:min(len(data), 16)])
		}
	case len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b:
		t.Fatalf("%s: %s is not a gzip'd profile (%d bytes)", kind, path, len(data))
	}
}

func TestKinds(t *testing.T) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Start(kind, dir)
			if err != nil {
				t.Fatal(err)
			}
			busy()
			snap, err := s.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(filepath.Base(snap), kind+"-") {
				t.Fatalf("snapshot named %s", snap)
			}
			checkProfile(t, kind, snap)
			busy()
			path, err := s.Stop()
			if err != nil {
				t.Fatal(err)
			}
			want := filepath.Join(dir, kind+".pprof")
			if kind == "trace" {
				want = filepath.Join(dir, "trace.out")
			}
			if path != want {
				t.Fatalf("Stop wrote %s, want %s", path, want)
			}
			checkProfile(t, kind, path)
			if _, err := os.Stat(filepath.Join(dir, ".profile")); !os.IsNotExist(err) {
				t.Fatalf("staging directory left behind: %v", err)
			}
			if p, err := s.Stop(); p != "" || err != nil {
				t.Fatalf("second Stop = %q, %v", p, err)
			}
			if _, err := s.Snapshot(); err == nil {
				t.Fatal("Snapshot after Stop succeeded")
			}
		})
	}
}

func TestStartRefusals(t *testing.T) {
	if err := CheckKind("heap"); err == nil || !strings.Contains(err.Error(), "cpu, mem, allocs") {
		t.Fatalf("CheckKind(heap) = %v", err)
	}
	if _, err := Start("heap", t.TempDir()); err == nil {
		t.Fatal("Start(heap) succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start("cpu", file); err == nil {
		t.Fatal("Start in a directory that is a file succeeded")
	}
	s, err := Start("cpu", t.TempDir())
	if err != nil {
		t.Fatalf("Start after refusals: %v", err)
	}
	if _, err := Start("mem", t.TempDir()); err == nil {
		t.Fatal("a second profile started while one runs")
	}
	if _, err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	s, err = Start("mem", t.TempDir())
	if err != nil {
		t.Fatalf("Start after Stop: %v", err)
	}
	s.Stop()
}

func TestServePprof(t *testing.T) {
	srv, err := ServePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]string{
		"/debug/pprof/":                     "goroutine",
		"/debug/pprof/goroutine?debug=1":    "goroutine profile:",
		"/debug/pprof/cmdline":              os.Args[0],
		"/debug/pprof/heap?debug=1":         "heap profile:",
		"/debug/pprof/profile?seconds=1":    "\x1f\x8b",
		"/debug/pprof/allocs?debug=1":       "heap profile:",
		"/debug/pprof/threadcreate?debug=1": "threadcreate profile:",
	} {
		resp, err := client.Get("http://" + srv.Addr() + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d, %d bytes without %q", path, resp.StatusCode, len(body), want)
		}
	}
	if _, err := ServePprof(srv.Addr()); err == nil {
		t.Fatal("a second server on the same address started")
	}
}

func TestPprofAddr(t *testing.T) {
	for _, c := range []struct{ in, want, shard3 string }{
		{"6060", "127.0.0.1:6060", "127.0.0.1:6063"},
		{":6060", "127.0.0.1:6060", "127.0.0.1:6063"},
		{"0.0.0.0:7000", "0.0.0.0:7000", "0.0.0.0:7003"},
		{"[::1]:7000", "[::1]:7000", "[::1]:7003"},
		{"localhost:0", "localhost:0", "localhost:0"},
		{"x", "", ""},
		{"1.2.3.4:port", "", ""},
		{"70000", "", ""},
		{"::1", "", ""},
	} {
		got, err := PprofAddr(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("PprofAddr(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("PprofAddr(%q) = %q, %v; want %q", c.in, got, err, c.want)
			continue
		}
		if s3, err := OffsetAddr(got, 3); err != nil || s3 != c.shard3 {
			t.Errorf("OffsetAddr(%q, 3) = %q, %v; want %q", got, s3, err, c.shard3)
		}
	}
	if a, err := OffsetAddr("127.0.0.1:65535", 1); err == nil {
		t.Errorf("OffsetAddr past 65535 = %q", a)
	}
}
