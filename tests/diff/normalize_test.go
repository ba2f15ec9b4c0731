package diff

import (
	"strings"
	"testing"
)

func TestNormalizePair(t *testing.T) {
	cases := []struct {
		cmd   string
		a, b  string
		equal bool
	}{
		{"GET k", "$1\r\na\r\n", "$1\r\nb\r\n", false},
		{"KEYS *", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\na\r\n", true},
		{"KEYS *", "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", false},
		{"KEYS *", "*1\r\n$1\r\na\r\n", "*2\r\n$1\r\na\r\n$1\r\na\r\n", false},
		{"keys *", "-ERR x\r\n", "-ERR x\r\n", true},
		{"RANDOMKEY", "$1\r\na\r\n", "$2\r\nbb\r\n", true},
		{"RANDOMKEY", "$-1\r\n", "$1\r\na\r\n", false},
		{"RANDOMKEY", "$1\r\na\r\n", "+a\r\n", false},
		{"TIME", "*2\r\n$10\r\n1700000000\r\n$6\r\n123456\r\n", "*2\r\n$10\r\n1700000001\r\n$5\r\n12345\r\n", true},
		{"TIME", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "*1\r\n$1\r\n1\r\n", false},
		{"LASTSAVE", ":1700000000\r\n", ":1700000099\r\n", true},
		{"CLIENT ID", ":5\r\n", ":9\r\n", true},
		{"client id", ":5\r\n", "$1\r\n5\r\n", false},
		{"CONFIG GET *", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n", true},
		{"CONFIG GET *", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", "*4\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n", false},
		{"CONFIG GET *", "%1\r\n$1\r\na\r\n$1\r\n1\r\n", "%1\r\n$1\r\na\r\n$1\r\n1\r\n", true},
		{"HELLO 3", "%2\r\n$2\r\nid\r\n:4\r\n$4\r\nmode\r\n$1\r\ns\r\n", "%2\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$1\r\ns\r\n", true},
		{"HELLO 3", "%2\r\n$2\r\nid\r\n:4\r\n$4\r\nmode\r\n$1\r\ns\r\n", "%2\r\n$2\r\nid\r\n:4\r\n$4\r\nmode\r\n$1\r\nc\r\n", false},
		{"TTL k", ":100\r\n", ":99\r\n", true},
		{"TTL k", ":100\r\n", ":98\r\n", false},
		{"TTL k", ":-1\r\n", ":0\r\n", false},
		{"TTL k", ":-2\r\n", ":-1\r\n", false},
		{"PTTL k", ":100000\r\n", ":99100\r\n", true},
		{"PTTL k", ":100000\r\n", ":98000\r\n", false},
		{"PEXPIRETIME k", ":4102444800000\r\n", ":4102444800999\r\n", true},
		{"EXPIRETIME k", ":4102444800\r\n", ":4102444801\r\n", true},
		{"EXPIRETIME k", ":4102444800\r\n", ":4102444802\r\n", false},
		{"OBJECT IDLETIME k", ":0\r\n", ":1\r\n", true},
		{"OBJECT ENCODING k", "$3\r\nint\r\n", "$6\r\nembstr\r\n", false},
		{"CLIENT INFO", bulk("id=3 addr=1.2.3.4:5 fd=8 name=x cmd=client|info\n"), bulk("id=9 addr=1.2.3.4:6 fd=9 name=x cmd=client|info\n"), true},
		{"CLIENT INFO", bulk("id=3 addr=1.2.3.4:5 fd=8 name=x cmd=client|info\n"), bulk("id=9 addr=1.2.3.4:6 fd=9 name=y cmd=client|info\n"), false},
		{"CLIENT INFO", verbatim("id=3 addr=1.2.3.4:5 fd=8 name=x cmd=client|info\n"), verbatim("id=9 addr=1.2.3.4:6 fd=9 name=x cmd=client|info\n"), true},
		{"INFO", verbatim("# Server\r\nuptime:1\r\n"), verbatim("# Server\r\nuptime:2\r\n"), true},
		{"CLIENT LIST", bulk("id=1 addr=a name= cmd=client|list user=default\nid=2 addr=b name= cmd=get user=default\n"), bulk("id=7 addr=c name= cmd=client|list user=default\n"), true},
		{"CLIENT LIST", bulk("id=1 addr=a name=n cmd=client|list user=default\n"), bulk("id=7 addr=c name= cmd=client|list user=default\n"), false},
		{"INFO", bulk("# Server\r\nredis_version:7.0.15\r\nuptime:5\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5000\r\n"), bulk("# Server\r\nredis_version:7.2\r\nuptime:9\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=4000\r\n"), true},
		{"INFO", bulk("# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=5000\r\n"), bulk("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=5000\r\n"), false},
		{"INFO", bulk("# Replication\r\nrole:master\r\n"), bulk("# Replication\r\nrole:slave\r\n"), false},
		{"INFO", bulk("# Server\r\nx:1\r\n"), bulk("# Server\r\ny:1\r\n"), false},
		{"INFO", bulk("# Server\r\nx:1\r\n"), "-ERR x\r\n", false},
	}
	for _, c := range cases {
		args, err := splitArgs(c.cmd)
		if err != nil {
			t.Fatal(err)
		}
		st := Step{Kind: StepCommand, Args: args, Replies: 1}
		na, nb, _ := normalizePair(&st, []byte(c.a), []byte(c.b))
		if got := string(na) == string(nb); got != c.equal {
			t.Errorf("%s: %q vs %q: equal = %v, want %v\n%q\n%q", c.cmd, c.a, c.b, got, c.equal, na, nb)
		}
		// Normalized replies still frame.
		for _, n := range [][]byte{na, nb} {
			if _, err := Frame(n); err != nil && !strings.Contains(string(n), masked) {
				t.Errorf("%s: normalized %q does not frame: %v", c.cmd, n, err)
			}
		}
	}
}

func verbatim(s string) string {
	v := Value{Type: '=', Str: []byte("txt:" + s)}
	return string(v.Encode(nil))
}

func bulk(s string) string {
	v := Value{Type: '$', Str: []byte(s)}
	return string(v.Encode(nil))
}

func TestCompareOutcomes(t *testing.T) {
	st := Command("KEYS", "*")
	a := Outcome{Replies: [][]byte{[]byte("*2\r\n$1\r\na\r\n$1\r\nb\r\n")}}
	b := Outcome{Replies: [][]byte{[]byte("*2\r\n$1\r\nb\r\n$1\r\na\r\n")}}
	if w, g, r := compare(&st, &a, &b); w != g || r == "" {
		t.Fatalf("sorted KEYS differ: %q %q (%q)", w, g, r)
	}
	b.End = "EOF"
	if w, g, _ := compare(&st, &a, &b); w == g {
		t.Fatal("an EOF makes no difference")
	}
	c := Outcome{Replies: [][]byte{[]byte("+OK\r\n")}, Rest: []byte("$3\r\nab"), End: "timeout"}
	if _, g, _ := compare(&st, &a, &c); g != "+OK\r\n<rest \"$3\\r\\nab\"><timeout>" {
		t.Fatalf("render: %q", g)
	}
	extra := Outcome{Replies: [][]byte{a.Replies[0], []byte("+PONG\r\n")}}
	if w, g, _ := compare(&st, &a, &extra); w == g {
		t.Fatal("an extra reply makes no difference")
	}
}
