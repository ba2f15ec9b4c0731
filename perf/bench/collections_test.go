package main

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCollCommands decodes every command of a load and checks it adds
// each element of each key exactly once, in order, with the shape's
// command and argument layout.
func TestCollCommands(t *testing.T) {
	for _, shape := range []collShape{{"hash", 100}, {"list", 250}, {"set", 1}, {"zset", 10_000}} {
		keys := shape.keys(25_000)
		var buf []byte
		next := map[string]int{} // key → next element expected
		for i := range shape.commands(keys) {
			buf = shape.appendCommand(buf[:0], i)
			rd := bufio.NewReader(bytes.NewReader(buf))
			r, err := readReply(rd)
			if err != nil || rd.Buffered() != 0 || r.Kind != '*' {
				t.Fatalf("%v command %d: %v %q", shape, i, err, buf)
			}
			args := make([]string, len(r.Elems))
			for j, e := range r.Elems {
				args[j] = e.Str
			}
			want := map[string]string{"hash": "HSET", "list": "RPUSH", "set": "SADD", "zset": "ZADD"}[shape.Type]
			if args[0] != want || !strings.HasPrefix(args[1], "coll:") || len(args[1]) != 13 {
				t.Fatalf("%v command %d: %q", shape, i, args[:2])
			}
			step := 1
			if shape.Type == "hash" || shape.Type == "zset" {
				step = 2
			}
			if (len(args)-2)%step != 0 || len(args)-2 > step*collBatch {
				t.Fatalf("%v command %d: %d arguments", shape, i, len(args))
			}
			for j := 2; j < len(args); j += step {
				n := next[args[1]]
				member := args[j]
				if shape.Type == "zset" {
					if args[j] != strconv.Itoa(n) {
						t.Fatalf("%v: score %q, want %d", shape, args[j], n)
					}
					member = args[j+1]
				}
				if member != fmt.Sprintf("element:%08d", n) {
					t.Fatalf("%v: element %q, want number %d", shape, member, n)
				}
				if shape.Type == "hash" && args[j+1] != fmt.Sprintf("value:%08d", n) {
					t.Fatalf("%v: value %q", shape, args[j+1])
				}
				next[args[1]] = n + 1
			}
		}
		if len(next) != keys {
			t.Fatalf("%v: %d keys loaded, want %d", shape, len(next), keys)
		}
		for k, n := range next {
			if n != shape.Size {
				t.Fatalf("%v: key %s got %d elements", shape, k, n)
			}
		}
	}
}

// TestCollTable checks the ratios and the table: each shape's servers
// together, the baseline at 1.00x, a failed row shown as such.
func TestCollTable(t *testing.T) {
	rs := []CollMemResult{
		{Server: "redis", Type: "hash", Size: 100, Keys: 10, Elements: 1000, Encoding: "listpack", BytesPerElement: 40, RSSPerElement: 44},
		{Server: "shoal-uring", Type: "hash", Size: 100, Keys: 10, Elements: 1000, Encoding: "listpack", BytesPerElement: 50, RSSPerElement: 60},
		{Server: "shoal-uring", Type: "set", Size: 100, Keys: 10, Elements: 1000, Encoding: "hashtable", BytesPerElement: 30},
		{Server: "redis", Type: "list", Size: 100_000, Keys: 1, Error: "bench: boom\nmore"},
		{Server: "shoal-uring", Type: "list", Size: 100_000, Keys: 1, Encoding: "quicklist", BytesPerElement: 20},
	}
	collRatios(rs)
	if rs[0].Ratio == nil || *rs[0].Ratio != 1 || rs[1].Ratio == nil || *rs[1].Ratio != 1.25 {
		t.Errorf("ratios: %v %v", rs[0].Ratio, rs[1].Ratio)
	}
	if rs[2].Ratio != nil || rs[3].Ratio != nil || rs[4].Ratio != nil {
		t.Errorf("a ratio without a baseline: %+v", rs)
	}
	var b bytes.Buffer
	if err := writeCollTable(&b, rs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("table:\n%s", b.String())
	}
	for i, want := range [][]string{
		collHeader,
		{"hash", "100", "10", "redis", "listpack", "40 B", "44 B", "1.00x", "0.0"},
		{"hash", "100", "10", "shoal-uring", "listpack", "50 B", "60 B", "1.25x", "0.0"},
		{"set", "100", "10", "shoal-uring", "hashtable", "30 B", "0 B", "-", "0.0"},
		{"list", "100,000", "1", "redis", "failed: bench: boom"},
		{"list", "100,000", "1", "shoal-uring", "quicklist", "20 B", "0 B", "-", "0.0"},
	} {
		if got := tableSplit.Split(strings.TrimRight(lines[i], " "), -1); !slices.Equal(got, want) {
			t.Errorf("line %d: %q, want %q", i, got, want)
		}
	}
}

// TestQuickMemCollectionsRedis runs --mem-collections against
// redis-server with few elements: a row per shape, Redis's encodings,
// plausible bytes per element, and the JSON.
func TestQuickMemCollectionsRedis(t *testing.T) {
	needRedis(t)
	dir := t.TempDir()
	stdout, stderr, err := runHarness(t, "--mem-collections", "--quick", "--servers", "redis", "--coll-elements", "20000", "--out", dir)
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "used/element") || strings.Contains(stdout, "rss/key") {
		t.Errorf("tables:\n%s", stdout)
	}
	res := readResults(t, dir)
	if res.Mode != "mem" || len(res.Memory) != 0 || len(res.Collections) != len(collTypes)*len(collSizes) {
		t.Fatalf("results: mode %q, %d string rows, %d collection rows", res.Mode, len(res.Memory), len(res.Collections))
	}
	enc := map[string]string{"hash/100": "listpack", "hash/100000": "hashtable", "list/100": "quicklist",
		"list/100000": "quicklist", "set/100": "hashtable", "set/100000": "hashtable",
		"zset/100": "listpack", "zset/100000": "skiplist"}
	for _, r := range res.Collections {
		shape := r.Type + "/" + strconv.Itoa(r.Size)
		wantKeys := max(1, 20000/r.Size)
		switch {
		case r.Error != "":
			t.Errorf("%s: %s", shape, r.Error)
		case r.Server != "redis" || r.Encoding != enc[shape] || r.Keys != wantKeys || r.Elements != wantKeys*r.Size:
			t.Errorf("%s: %+v", shape, r)
		case !r.Purged || r.UsedAfter <= r.UsedBefore || r.Ratio == nil || *r.Ratio != 1:
			t.Errorf("%s: purged %v, used %d -> %d, ratio %v", shape, r.Purged, r.UsedBefore, r.UsedAfter, r.Ratio)
		// 16-byte elements: more than the bytes, less than a kilobyte.
		case r.BytesPerElement < 16 || r.BytesPerElement > 1024:
			t.Errorf("%s: %.1f bytes per element", shape, r.BytesPerElement)
		}
	}
}
