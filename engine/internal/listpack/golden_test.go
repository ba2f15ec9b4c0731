package listpack

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"shoal/engine/internal/redisfixture"
)

// testdata/golden.txt holds listpacks made by redis-server 7.0.15. Each
// case is the command that built a key, the elements Redis reports for it
// (HGETALL, ZRANGE WITHSCORES), and the listpack extracted from the key's
// DUMP payload. Regenerate with
//
//	go test ./engine/internal/listpack -run TestGolden -regen
//
// which starts a redis-server (rdbcompression no, raised listpack limits)
// on a free loopback port (package redisfixture).
var regen = flag.Bool("regen", false, "rebuild testdata/golden.txt from a real redis-server")

const goldenFile = "testdata/golden.txt"

type goldenCase struct {
	name  string
	cmd   []string
	elems [][]byte
	blob  []byte
}

func TestGolden(t *testing.T) {
	if *regen {
		version, cases := buildGolden(t)
		writeGolden(t, version, cases)
	}
	cases := readGolden(t)
	if len(cases) == 0 {
		t.Fatal("no golden cases")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			blob := append([]byte(nil), c.blob...)
			lp, err := Load(blob)
			if err != nil {
				t.Fatal(err)
			}
			check(t, &lp, c.elems) // decodes to the elements, and re-encodes identically
			built := New()
			for _, e := range c.elems {
				built.Append(e)
			}
			if !bytes.Equal(built.Bytes(), c.blob) {
				t.Fatalf("encoder differs from redis-server:\n got %x\nwant %x", built.Bytes(), c.blob)
			}
		})
	}
}

func readGolden(t *testing.T) []goldenCase {
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []goldenCase
	var c *goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, val, _ := strings.Cut(text, " ")
		switch key {
		case "case":
			cases = append(cases, goldenCase{name: val})
			c = &cases[len(cases)-1]
		case "cmd":
			for rest := strings.TrimSpace(val); rest != ""; {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil {
					t.Fatalf("%s:%d: %v", goldenFile, line, err)
				}
				s, _ := strconv.Unquote(q)
				c.cmd = append(c.cmd, s)
				rest = strings.TrimSpace(rest[len(q):])
			}
		case "elem":
			s, err := strconv.Unquote(val)
			if err != nil {
				t.Fatalf("%s:%d: %v", goldenFile, line, err)
			}
			c.elems = append(c.elems, []byte(s))
		case "blob":
			b, err := hex.DecodeString(val)
			if err != nil {
				t.Fatalf("%s:%d: %v", goldenFile, line, err)
			}
			c.blob = b
		default:
			t.Fatalf("%s:%d: unknown line %q", goldenFile, line, key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

func writeGolden(t *testing.T, version string, cases []goldenCase) {
	var w bytes.Buffer
	fmt.Fprintf(&w, "# Listpacks made by redis-server %s (rdbcompression no, hash/zset-max-listpack-value 20000):\n", version)
	w.WriteString("# each key was built by cmd, elem lines are HGETALL or ZRANGE 0 -1 WITHSCORES,\n")
	w.WriteString("# blob is the listpack in the key's DUMP payload. Regenerate: go test -run TestGolden -regen\n")
	for _, c := range cases {
		fmt.Fprintf(&w, "\ncase %s\ncmd", c.name)
		for _, a := range c.cmd {
			fmt.Fprintf(&w, " %s", strconv.Quote(a))
		}
		w.WriteString("\n")
		for _, e := range c.elems {
			fmt.Fprintf(&w, "elem %s\n", strconv.Quote(string(e)))
		}
		fmt.Fprintf(&w, "blob %x\n", c.blob)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func buildGolden(t *testing.T) (string, []goldenCase) {
	r := redisfixture.Start(t, "hash-max-listpack-value", "20000", "zset-max-listpack-value", "20000",
		"hash-max-listpack-entries", "1000", "zset-max-listpack-entries", "1000")
	ints := []string{"0", "1", "127", "128", "-1", "4095", "-4096", "4096", "-4097", "32767", "-32768",
		"32768", "-32769", "8388607", "-8388608", "8388608", "2147483647", "-2147483648", "2147483648",
		"9223372036854775807", "-9223372036854775808"}
	notInts := []string{"-0", "01", "+1", " 1", "9223372036854775808", "-9223372036854775809", "1.5", ""}
	var hset []string
	for i, v := range append(ints, notInts...) {
		hset = append(hset, fmt.Sprintf("f%d", i), v)
	}
	var long []string
	for i, n := range []int{62, 63, 64, 126, 127, 4094, 4095, 4096, 16377, 16378} {
		long = append(long, strconv.Itoa(i), strings.Repeat(string(rune('a'+i)), n))
	}
	cmds := []struct {
		name string
		cmd  []string
	}{
		{"hash-ints", append([]string{"HSET", "k"}, hset...)},
		{"hash-lengths", append([]string{"HSET", "k"}, long...)},
		{"hash-one", []string{"HSET", "k", "field", "value"}},
		{"zset-scores", []string{"ZADD", "k", "1", "a", "-2", "b", "1.5", "c", "1e20", "d", "inf", "e",
			"-inf", "f", "0.1", "g", "3000000000", "h", "-0.5", "i", "12345", "12345"}},
	}
	var cases []goldenCase
	for _, c := range cmds {
		r.Do(t, "DEL", "k")
		r.Do(t, c.cmd...)
		var elems [][]byte
		if c.cmd[0] == "HSET" {
			elems = r.Bulks(t, "HGETALL", "k")
		} else {
			elems = r.Bulks(t, "ZRANGE", "k", "0", "-1", "WITHSCORES")
		}
		if enc := r.String(t, "OBJECT", "ENCODING", "k"); enc != "listpack" {
			t.Fatalf("%s: encoding %q", c.name, enc)
		}
		typ, blobs, _, err := redisfixture.ParseDump([]byte(r.String(t, "DUMP", "k")))
		if err != nil {
			t.Fatal(err)
		}
		if typ != redisfixture.TypeHashListpack && typ != redisfixture.TypeZsetListpack {
			t.Fatalf("%s: RDB type %d", c.name, typ)
		}
		cases = append(cases, goldenCase{name: c.name, cmd: c.cmd, elems: elems, blob: blobs[0]})
	}
	return r.Version(t), cases
}
