package lualib

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// testdata/golden.txt holds Lua snippets, each on a ">>> " line, followed by
// a "<<< " line with what Redis 7.0.15 gave for it. A snippet is the body of
// a function; the harness below calls it under pcall and turns the outcome
// into one line of text, identically in Redis and in gopher-lua. The harness
// is a single line so that positions in error messages are "user_script:1:"
// in both.
//
// To regenerate the results from a real server:
//
//	LUALIB_REDIS=127.0.0.1:6391 go test -run TestGoldenRegenerate ./engine/internal/lualib/
const goldenFile = "testdata/golden.txt"

const harness = `local S = function(s) local o = {} for i = 1, #s do local b = s:byte(i) if b < 32 or b > 126 or b == 34 or b == 92 then o[#o+1] = string.format("\\x%02x", b) else o[#o+1] = string.char(b) end end return '"' .. table.concat(o) .. '"' end ` +
	`local D D = function(v) local t = type(v) ` +
	`if t == "string" then return S(v) ` +
	`elseif t == "number" then if v ~= v then return "nan" elseif v == 1/0 then return "inf" elseif v == -1/0 then return "-inf" elseif v == 0 and 1/v < 0 then return "-0" else return string.format("%.17g", v) end ` +
	`elseif t == "table" then local ks = {} for k, x in pairs(v) do ks[#ks+1] = {D(k), D(x)} end table.sort(ks, function(a, b) return a[1] < b[1] end) local o = {} for i = 1, #ks do o[i] = ks[i][1] .. "=" .. ks[i][2] end return "{" .. table.concat(o, ",") .. "}" ` +
	`elseif t == "nil" or t == "boolean" then return tostring(v) ` +
	`elseif v == cjson.null then return "null" else return t end end ` +
	`local P = function(...) return {n = select("#", ...), ...} end ` +
	`local r = P(pcall(function() SNIPPET end)) local o = {} for i = 2, r.n do o[#o+1] = D(r[i]) end ` +
	`if r[1] then return "ok " .. table.concat(o, ", ") else return "err " .. o[1] end`

func wrap(snippet string) string {
	return strings.Replace(harness, "SNIPPET", snippet, 1)
}

type goldenCase struct {
	line    int
	snippet string
	want    string
}

func readGolden(t *testing.T) (lines []string, cases []goldenCase) {
	t.Helper()
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, ">>> ") {
			continue
		}
		c := goldenCase{line: i + 1, snippet: strings.TrimPrefix(l, ">>> ")}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "<<< ") {
			c.want = strings.TrimPrefix(lines[i+1], "<<< ")
		}
		cases = append(cases, c)
	}
	return lines, cases
}

// newTestState returns a state with the standard libraries Redis gives
// scripts (bar debug) and this package's four.
func newTestState() *lua.LState {
	// Redis lets a C function use up to 8000 stack slots; gopher-lua's
	// registry must be allowed to grow that far for the same results.
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistryMaxSize: 64 * 1024})
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	Open(L)
	return L
}

func runSnippet(snippet string) (string, error) {
	L := newTestState()
	defer L.Close()
	fn, err := L.Load(strings.NewReader(wrap(snippet)), "user_script")
	if err != nil {
		return "", err
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		return "", err
	}
	return L.ToString(-1), nil
}

func TestGolden(t *testing.T) {
	_, cases := readGolden(t)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		got, err := runSnippet(c.snippet)
		if err != nil {
			t.Errorf("line %d: %s\n  harness error: %v", c.line, c.snippet, err)
			continue
		}
		if got != c.want {
			t.Errorf("line %d: %s\n  got  %s\n  want %s", c.line, c.snippet, got, c.want)
		}
	}
}

func TestGoldenRegenerate(t *testing.T) {
	addr := os.Getenv("LUALIB_REDIS")
	if addr == "" {
		t.Skip("set LUALIB_REDIS=host:port of a Redis 7.0.15 to regenerate " + goldenFile)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	lines, _ := readGolden(t)
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "<<< ") {
			continue
		}
		out = append(out, l)
		if !strings.HasPrefix(l, ">>> ") {
			continue
		}
		// A fresh Lua state per snippet, so cjson settings do not leak.
		if _, err := respCall(conn, r, "SCRIPT", "FLUSH", "SYNC"); err != nil {
			t.Fatal(err)
		}
		res, err := respCall(conn, r, "EVAL", wrap(strings.TrimPrefix(l, ">>> ")), "0")
		if err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		out = append(out, "<<< "+res)
	}
	if err := os.WriteFile(goldenFile, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// respCall sends one command and reads a simple, error or bulk string reply.
func respCall(conn net.Conn, r *bufio.Reader, args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("redis: unexpected reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("redis: unexpected reply %q", line)
}
