package integration

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// The output parsers the tests rely on: INFO text, redis-benchmark -q and
// --csv output.

func TestParseInfo(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"# Server\r\nredis_version:7.0.15\r\ntcp_port:6379\r\n\r\n# Clients\r\nconnected_clients:3\r\n",
			map[string]string{"redis_version": "7.0.15", "tcp_port": "6379", "connected_clients": "3"}},
		{"a:b:c\nnocolon\n:empty\nk:\nk2:v2", map[string]string{"a": "b:c", "k": "", "k2": "v2"}},
		{"x:1\r\nx:2\r\n", map[string]string{"x": "2"}},
	}
	for _, c := range cases {
		if got := parseInfo(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseInfo(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	cases := []struct {
		v    string
		want bool
	}{{"7.2.4", true}, {"7.0.15", false}, {"10.0.0", true}, {"7.10", true}, {"6.9.9", false}, {"", false}, {"x.y", false}}
	for _, c := range cases {
		if got := versionAtLeast(c.v, 7, 2); got != c.want {
			t.Errorf("versionAtLeast(%q, 7, 2) = %v", c.v, got)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("# Server\r\nredis_version:7.0.15\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		lines := make(map[string]bool)
		for _, l := range strings.Split(in, "\n") {
			lines[strings.TrimSuffix(l, "\r")] = true
		}
		for k, v := range parseInfo(in) {
			if k == "" || k[0] == '#' || strings.ContainsAny(k, ":\n") {
				t.Fatalf("bad key %q", k)
			}
			if !lines[k+":"+v] {
				t.Fatalf("%q:%q is not a line of the input", k, v)
			}
		}
	})
}

const benchQ = " SET: rps=0.0 (overall: 0.0) avg_msec=-nan (overall: -nan)                 \r" +
	" SET: 285714.28 requests per second, p50=0.631 msec\n" +
	" GET: 200000.00 requests per second, p50=0.559 msec\n" +
	" INCR: 999999.94 requests per second, p50=0.199 msec\n" +
	" MSET (10 keys): 499999.97 requests per second, p50=0.535 msec\n\n"

const benchCSV = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","400000.00","0.660","0.104","0.415","2.303","2.367","2.383"
"GET","999999.94","0.269","0.128","0.263","0.383","0.399","0.415"
"MSET (10 keys)","285714.28","1.058","0.184","1.215","1.455","1.519","1.543"
`

func TestParseBench(t *testing.T) {
	want := map[string]float64{"SET": 285714.28, "GET": 200000, "INCR": 999999.94, "MSET (10 keys)": 499999.97}
	if got := parseBenchQ(benchQ); !reflect.DeepEqual(got, want) {
		t.Errorf("parseBenchQ = %v, want %v", got, want)
	}
	if got := parseBenchQ("SET: rps=12.0 (overall: 3.0)\r"); len(got) != 0 {
		t.Errorf("a progress line was taken for a result: %v", got)
	}
	got, err := parseBenchCSV(benchCSV)
	want = map[string]float64{"SET": 400000, "GET": 999999.94, "MSET (10 keys)": 285714.28}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseBenchCSV = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "\"a\",\"b\"\n", "\"test\",\"rps\"\n\"SET\",\"fast\"\n", "\"test\",\"rps\"\n\"SET\"\n"} {
		if got, err := parseBenchCSV(bad); err == nil {
			t.Errorf("parseBenchCSV(%q) = %v, want an error", bad, got)
		}
	}
}

func FuzzParseBenchQ(f *testing.F) {
	f.Add(benchQ)
	f.Fuzz(func(t *testing.T, in string) {
		for name, v := range parseBenchQ(in) {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("%q: rate %v", name, v)
			}
			if !strings.Contains(in, name+": ") {
				t.Fatalf("name %q is not in the input", name)
			}
		}
	})
}

func FuzzParseBenchCSV(f *testing.F) {
	f.Add(benchCSV)
	f.Fuzz(func(t *testing.T, in string) {
		m, err := parseBenchCSV(in)
		if err != nil {
			return
		}
		for name, v := range m {
			if math.IsNaN(v) && !strings.Contains(strings.ToLower(in), "nan") {
				t.Fatalf("%q: NaN from nowhere", name)
			}
		}
	})
}
