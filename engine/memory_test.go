package engine

import (
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"shoal/engine/internal/kv"
	"shoal/resp"
)

// TestMemoryUsage checks MEMORY USAGE of every type and encoding against
// what the key space and the containers report, and that it follows the
// data: more elements, more bytes; a conversion to a bigger encoding,
// more bytes per element.
func TestMemoryUsage(t *testing.T) {
	e := newSetsEnv(t)
	usage := func(key string, extra ...string) int64 {
		t.Helper()
		return e.int(append([]string{"MEMORY", "USAGE", key}, extra...)...)
	}
	fill := func(n int, add func(i int)) {
		for i := range n {
			add(i)
		}
	}
	e.do("SET", "str", strings.Repeat("x", 100))
	e.do("SET", "big", strings.Repeat("x", 100_000))
	fill(10, func(i int) { e.do("HSET", "hsmall", "f"+strconv.Itoa(i), "v") })
	fill(1000, func(i int) { e.do("HSET", "hbig", "f"+strconv.Itoa(i), "v") })
	fill(10, func(i int) { e.do("SADD", "ssmall", strconv.Itoa(i)) })
	fill(1000, func(i int) { e.do("SADD", "sbig", "m"+strconv.Itoa(i)) })
	fill(10, func(i int) { e.do("ZADD", "zsmall", strconv.Itoa(i), "m"+strconv.Itoa(i)) })
	fill(1000, func(i int) { e.do("ZADD", "zbig", strconv.Itoa(i), "m"+strconv.Itoa(i)) })
	fill(10, func(i int) { e.do("RPUSH", "lsmall", "e"+strconv.Itoa(i)) })
	fill(5000, func(i int) { e.do("RPUSH", "lbig", "element:"+strconv.Itoa(i)) })

	for _, tc := range []struct {
		key, enc string
		min, max int64 // bounds on the bytes per element beyond the key's share
		elems    int64
	}{
		{"str", "raw", 100, 200, 1},
		{"big", "raw", 100_000, 140_000, 1},
		{"hsmall", "listpack", 3, 40, 10},
		{"hbig", "hashtable", 8, 120, 1000},
		{"ssmall", "intset", 1, 40, 10},
		{"sbig", "hashtable", 4, 100, 1000},
		{"zsmall", "listpack", 3, 40, 10},
		{"zbig", "skiplist", 10, 150, 1000},
		{"lsmall", "quicklist", 3, 60, 10},
		{"lbig", "quicklist", 8, 30, 5000},
	} {
		if enc := e.do("OBJECT", "ENCODING", tc.key); string(enc.Str) != tc.enc {
			t.Fatalf("%s is %s, want %s", tc.key, enc.Str, tc.enc)
		}
		r := e.s.db.Find([]byte(tc.key))
		share := int64(e.s.db.Usage(r))
		got := usage(tc.key, "SAMPLES", "0")
		want := share
		if tc.enc != "raw" {
			want += int64(objectUsage(e.s.db.Obj(r), 1<<62))
		}
		if got != want {
			t.Errorf("%s: MEMORY USAGE %d, want %d (key space %d)", tc.key, got, want, share)
		}
		if per := (got - int64(unsafe.Sizeof(kv.Ref(0)))) / tc.elems; per < tc.min || per > tc.max {
			t.Errorf("%s: %d bytes per element, want %d..%d", tc.key, per, tc.min, tc.max)
		}
	}
	if a, b := usage("hsmall"), usage("hbig"); b < 50*a {
		t.Errorf("a hash of 1000 fields (%d B) is not much bigger than one of 10 (%d B)", b, a)
	}

	// A big list is sampled: the default 5 nodes of ~8 KB stand for the
	// others, within 10% of the exact figure for elements of one size.
	exact, sampled := usage("lbig", "SAMPLES", "0"), usage("lbig")
	if d := float64(sampled-exact) / float64(exact); d < -0.1 || d > 0.1 {
		t.Errorf("lbig sampled %d vs exact %d (%.1f%%)", sampled, exact, d*100)
	}
	if one := usage("lbig", "SAMPLES", "1"); one <= 0 {
		t.Errorf("SAMPLES 1: %d", one)
	}

	// Missing keys are null; an expired key not yet deleted is still
	// measured, as Redis finds it without expiring it.
	if v := e.do("MEMORY", "USAGE", "nokey"); !v.Null {
		t.Errorf("missing key: %q", v.Raw)
	}
	e.do("SET", "exp", "v", "PX", "10")
	e.now += 100
	if n := usage("exp"); n <= 0 {
		t.Errorf("expired key: %d", n)
	}
	if n := e.int("EXISTS", "exp"); n != 0 {
		t.Errorf("EXISTS of an expired key: %d", n)
	}
}

// TestMemoryUsageNoAllocs: MEMORY USAGE allocates nothing.
func TestMemoryUsageNoAllocs(t *testing.T) {
	if setsRace {
		t.Skip("allocations are not measured in race builds")
	}
	e := newSetsEnv(t)
	for i := range 2000 {
		e.do("RPUSH", "l", "element:"+strconv.Itoa(i))
		e.do("ZADD", "z", strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	for _, key := range []string{"l", "z", "nokey"} {
		args := argv("MEMORY", "USAGE", key, "SAMPLES", "3")
		e.s.Exec(e.c, args)
		if n := testing.AllocsPerRun(200, func() {
			e.c.Out = e.c.Out[:0]
			e.s.Exec(e.c, args)
		}); n != 0 {
			t.Errorf("MEMORY USAGE %s: %v allocations", key, n)
		}
	}
}

// memoryStatsFields are Redis 7.0's MEMORY STATS fields, in order.
var memoryStatsFields = []string{"peak.allocated", "total.allocated", "startup.allocated",
	"replication.backlog", "clients.slaves", "clients.normal", "cluster.links", "aof.buffer",
	"lua.caches", "functions.caches", "db.0", "overhead.total", "keys.count", "keys.bytes-per-key",
	"dataset.bytes", "dataset.percentage", "peak.percentage", "allocator.allocated",
	"allocator.active", "allocator.resident", "allocator-fragmentation.ratio",
	"allocator-fragmentation.bytes", "allocator-rss.ratio", "allocator-rss.bytes",
	"rss-overhead.ratio", "rss-overhead.bytes", "fragmentation", "fragmentation.bytes"}

// TestMemoryStats checks MEMORY STATS's fields and how its figures add up,
// in RESP2 and RESP3.
func TestMemoryStats(t *testing.T) {
	for _, resp3 := range []bool{false, true} {
		e := newSetsEnv(t)
		if resp3 {
			e.do("HELLO", "3")
		}
		for keys := range 2 {
			if keys == 1 {
				for i := range 100 {
					e.do("SET", "k"+strconv.Itoa(i), "v")
				}
			}
			v := e.do("MEMORY", "STATS")
			elems := v.Elems
			if resp3 && v.Type != resp.TypeMap || !resp3 && v.Type != resp.TypeArray {
				t.Fatalf("resp3 %v: reply type %c", resp3, v.Type)
			}
			want := memoryStatsFields
			if keys == 0 {
				want = append(want[:10:10], want[11:]...)
			}
			if len(elems) != 2*len(want) {
				t.Fatalf("resp3 %v keys %d: %d elements, want %d", resp3, keys, len(elems), 2*len(want))
			}
			num := map[string]float64{}
			for i, name := range want {
				if got := string(elems[2*i].Str); got != name {
					t.Fatalf("field %d is %q, want %q", i, got, name)
				}
				val := elems[2*i+1]
				switch {
				case name == "db.0":
					if len(val.Elems) != 6 || string(val.Elems[0].Str) != "overhead.hashtable.main" || val.Elems[1].Int <= 0 {
						t.Errorf("db.0: %q", val.Raw)
					}
				case val.Type == resp.TypeInt:
					num[name] = float64(val.Int)
				default:
					f, err := strconv.ParseFloat(string(val.Str), 64)
					if err != nil && val.Type != resp.TypeDouble {
						t.Fatalf("%s: %q", name, val.Raw)
					}
					if val.Type == resp.TypeDouble {
						f = val.Float
					}
					num[name] = f
				}
			}
			if num["keys.count"] != float64(100*keys) {
				t.Errorf("keys.count %v", num["keys.count"])
			}
			if num["total.allocated"] <= 0 || num["peak.allocated"] < num["total.allocated"] {
				t.Errorf("total %v peak %v", num["total.allocated"], num["peak.allocated"])
			}
			if num["overhead.total"]+num["dataset.bytes"] != num["total.allocated"] {
				t.Errorf("overhead %v + dataset %v != total %v", num["overhead.total"], num["dataset.bytes"], num["total.allocated"])
			}
			if num["clients.normal"] <= 0 || num["startup.allocated"] <= 0 || num["allocator.allocated"] <= 0 {
				t.Errorf("clients %v startup %v allocated %v", num["clients.normal"], num["startup.allocated"], num["allocator.allocated"])
			}
		}
	}
}

// TestMemoryDoctor runs the report on figures made to show each issue.
func TestMemoryDoctor(t *testing.T) {
	e := newSetsEnv(t)
	base := memStats{total: 100 << 20, peak: 100 << 20, rss: 110 << 20, nclients: 2, clients: 10 << 10, clientsMax: 4 << 10}
	for _, tc := range []struct {
		name string
		edit func(m *memStats)
		want []string
	}{
		{"empty", func(m *memStats) { m.total = 1 << 20 }, []string{"this instance is empty"}},
		{"fine", func(m *memStats) {}, []string{"can't find any memory issue"}},
		{"peak", func(m *memStats) { m.peak = 200 << 20 }, []string{"Peak memory"}},
		{"rss", func(m *memStats) { m.rss = 200 << 20 }, []string{"High total RSS"}},
		{"clients", func(m *memStats) { m.clients, m.clientsMax = 1<<20, 1<<20 }, []string{"Big client buffers"}},
		{"all", func(m *memStats) { m.peak, m.rss, m.clients, m.clientsMax = 300<<20, 300<<20, 1<<20, 1<<20 },
			[]string{"Peak memory", "High total RSS", "Big client buffers", "keep you safe"}},
	} {
		m := base
		tc.edit(&m)
		got := e.s.memoryDoctor(m)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: report lacks %q:\n%s", tc.name, w, got)
			}
		}
	}
	if v := e.do("MEMORY", "DOCTOR"); v.Type != resp.TypeBulk || len(v.Str) == 0 {
		t.Errorf("MEMORY DOCTOR: %q", v.Raw)
	}
}

// TestMemoryMallocStatsPurge: MALLOC-STATS lists the runtime's memory
// metrics; PURGE answers OK.
func TestMemoryMallocStatsPurge(t *testing.T) {
	e := newSetsEnv(t)
	v := e.do("MEMORY", "MALLOC-STATS")
	if !strings.Contains(string(v.Str), "/memory/classes/total:bytes ") || !strings.Contains(string(v.Str), "/gc/heap/") {
		t.Errorf("MALLOC-STATS:\n%s", v.Str)
	}
	if v := e.do("MEMORY", "PURGE"); string(v.Str) != "OK" {
		t.Errorf("PURGE: %q", v.Raw)
	}
}

func BenchmarkMemoryUsage(b *testing.B) {
	e := newSetsEnv(b)
	for i := range 10_000 {
		e.do("RPUSH", "l", "element:"+strconv.Itoa(i))
		e.do("HSET", "h", "f"+strconv.Itoa(i), "v")
	}
	for _, bc := range []struct {
		name string
		args [][]byte
	}{
		{"list/samples5", argv("MEMORY", "USAGE", "l")},
		{"list/all", argv("MEMORY", "USAGE", "l", "SAMPLES", "0")},
		{"hash", argv("MEMORY", "USAGE", "h")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.c.Out = e.c.Out[:0]
				e.s.Exec(e.c, bc.args)
			}
		})
	}
}
