package engine

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"unsafe"

	"shoal/engine/internal/kv"
)

// The MEMORY family, with Redis 7.0's arguments, replies and errors
// (object.c), reporting Shoal's own numbers.
//
// MEMORY USAGE is what a key costs: its share of the key space (kv's
// Usage: the record holding key and string value, the entry, a bucket's
// share) plus, for a collection, the object and its container's memory,
// capacity included: a listpack's buffer, an intset's, a dict's pages and
// tables (dict.MemoryUsage), a skiplist set's nodes, towers, member pages
// and index (zset.Bytes), a quicklist's node buffers and node array. Those
// sizes are kept by the containers, so they are exact and O(1); only a
// quicklist is walked node by node, and SAMPLES (default 5, 0 for all)
// bounds that walk as Redis's objectComputeSize bounds its own: the
// sampled nodes' average stands for the others. As in Redis the key is
// found without expiring it, so a key past its time but not yet deleted
// is still measured.
//
// MEMORY STATS gives Redis's fields from the Go runtime's accounting
// (runtime/metrics) and the key space's; MEMORY DOCTOR looks at the same
// numbers; MEMORY MALLOC-STATS lists the runtime's memory metrics, the Go
// allocator being Shoal's; MEMORY PURGE runs a collection and returns free
// memory to the operating system (debug.FreeOSMemory), holding the loop
// for as long as that takes, as Redis's purge does.

// memUsageSamples is MEMORY USAGE's default SAMPLES.
const memUsageSamples = 5

func init() {
	register(&Command{Name: "memory", Arity: -2,
		ACL: "", Group: "server", Since: "4.0.0",
		Summary:    "A container for memory diagnostics commands",
		Complexity: "Depends on subcommand.",
		Subs: []*Command{
			{Name: "doctor", Arity: 2,
				Group: "server", Since: "4.0.0",
				Summary:    "Outputs memory problems report",
				Complexity: "O(1)",
				Tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
				Proc:       memoryDoctorCmd},
			{Name: "help", Arity: 2,
				Flags: FlagLoading | FlagStale,
				Group: "server", Since: "4.0.0",
				Summary:    "Show helpful text about the different subcommands",
				Complexity: "O(1)",
				Proc:       memoryHelpCmd},
			{Name: "malloc-stats", Arity: 2,
				Group: "server", Since: "4.0.0",
				Summary:    "Show allocator internal stats",
				Complexity: "Depends on how much memory is allocated, could be slow",
				Tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
				Proc:       memoryMallocStatsCmd},
			{Name: "purge", Arity: 2,
				Group: "server", Since: "4.0.0",
				Summary:    "Ask the allocator to release memory",
				Complexity: "Depends on how much memory is allocated, could be slow",
				Tips:       []string{"request_policy:all_shards", "response_policy:all_succeeded"},
				Proc:       memoryPurgeCmd},
			{Name: "stats", Arity: 2,
				Group: "server", Since: "4.0.0",
				Summary:    "Show memory usage details",
				Complexity: "O(1)",
				Tips:       []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
				Proc:       memoryStatsCmd},
			{Name: "usage", Arity: -3,
				Flags: FlagReadonly,
				Group: "server", Since: "4.0.0",
				Summary:    "Estimate the memory usage of a key",
				Complexity: "O(N) where N is the number of samples.",
				Keys:       []KeySpec{{Flags: "RO", Begin: 2, LastKey: 0, Step: 1}},
				Syntax:     "key [SAMPLES count:integer]",
				Proc:       memoryUsageCmd},
		}})
}

var memoryHelp = []string{
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

func memoryHelpCmd(s *Shard, c *Client, argv [][]byte) { replyHelp(c, "MEMORY", memoryHelp) }

// MEMORY USAGE key [SAMPLES count]: the bytes key and its value use, null
// when there is no such key. O(1), or O(min(count, nodes)) for a list.
func memoryUsageCmd(s *Shard, c *Client, argv [][]byte) {
	samples := int64(memUsageSamples)
	for j := 3; j < len(argv); j++ {
		if !eqFold(argv[j], "samples") || j+1 >= len(argv) {
			c.Error(errSyntax)
			return
		}
		n, ok := parseInt(argv[j+1])
		if !ok {
			c.Error(errNotInt)
			return
		}
		if n < 0 {
			c.Error(errSyntax)
			return
		}
		if n == 0 {
			n = 1<<63 - 1
		}
		samples = n
		j++
	}
	r := s.db.Find(argv[2])
	if r == kv.Nil {
		c.Null()
		return
	}
	c.Int(int64(s.keyUsage(r, samples)))
}

// keyUsage is MEMORY USAGE's figure for the key at r.
func (s *Shard) keyUsage(r kv.Ref, samples int64) int {
	n := s.db.Usage(r)
	if s.typeOf(r) == typeString {
		return n
	}
	return n + objectUsage(s.db.Obj(r), samples)
}

// objectUsage is the memory a collection object holds: the object and
// its container. A quicklist's nodes are walked up to samples of them.
func objectUsage(obj any, samples int64) int {
	switch o := obj.(type) {
	case *hashObj:
		n := int(unsafe.Sizeof(*o))
		if o.d != nil {
			return n + o.d.MemoryUsage()
		}
		return n + o.lp.AllocSize()
	case *setObj:
		n := int(unsafe.Sizeof(*o))
		if o.d != nil {
			return n + o.d.MemoryUsage()
		}
		return n + o.ints.AllocSize()
	case *zsetObj:
		n := int(unsafe.Sizeof(*o))
		if o.sk != nil {
			return n + int(o.sk.Bytes())
		}
		return n + o.lp.AllocSize()
	case *listObj:
		return int(unsafe.Sizeof(*o)) + listUsage(o, samples)
	}
	return 0
}

// quicklistNodeSize is what a quicklist's node array spends per node
// (quicklist's nodeStructSize: a listpack header).
const quicklistNodeSize = 32

// listUsage is the bytes of a list's nodes: exact (quicklist.AllocSize)
// when samples covers every node, else the average of the first samples
// nodes' buffers times the number of nodes, as Redis estimates a
// quicklist. O(min(samples, nodes)).
func listUsage(l *listObj, samples int64) int {
	nodes := l.NodeCount()
	if nodes == 0 || int64(nodes) <= samples {
		return l.AllocSize()
	}
	sum := 0
	for i := range int(samples) {
		sum += l.NodeAllocSize(i)
	}
	return nodes*quicklistNodeSize + int(float64(sum)/float64(samples)*float64(nodes))
}

// memStats are MEMORY STATS's and MEMORY DOCTOR's figures.
type memStats struct {
	peak, total, startup   uint64
	clients, clientsMax    uint64 // every normal client's buffers; the largest output
	nclients               int
	index, slotIndex       uint64 // the key space's index and entries; its per-slot key lists
	overhead, dataset      uint64
	keys                   int
	heapObjects, heapInUse uint64 // the Go heap: live and dead objects; spans in use
	resident, rss          uint64 // memory the runtime holds from the OS; the process's RSS
}

// memMetricNames are the runtime/metrics MEMORY STATS reads (MEMORY
// DOCTOR too), in the order readMemStats takes them.
var memMetricNames = [...]string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/memory/classes/heap/stacks:bytes",
}

func metricU64(sm *metrics.Sample) uint64 {
	if sm.Value.Kind() == metrics.KindUint64 {
		return sm.Value.Uint64()
	}
	return 0
}

// readMemStats gathers the figures. total is INFO's used_memory (mapped
// memory less free and released heap); startup stands for what a shard
// costs with nothing in it: the runtime's memory outside the heap
// (stacks, GC metadata, the runtime's own structures), which Redis's
// startup.allocated also is mostly. The overhead is that, the clients'
// buffers and the key space's index; the dataset the rest of total, as
// Redis computes it (garbage not yet collected counts there). O(clients).
func (s *Shard) readMemStats() memStats {
	var m memStats
	m.total = readUsedMemory()
	if m.total > s.memPeak {
		s.memPeak = m.total
	}
	m.peak = s.memPeak
	var ms [len(memMetricNames)]metrics.Sample
	for i, name := range memMetricNames {
		ms[i].Name = name
	}
	metrics.Read(ms[:])
	all, objects, unused, free, released, stacks := metricU64(&ms[0]), metricU64(&ms[1]), metricU64(&ms[2]),
		metricU64(&ms[3]), metricU64(&ms[4]), metricU64(&ms[5])
	heap := objects + unused + free + released + stacks
	if all > heap {
		m.startup = all - heap
	}
	m.heapObjects, m.heapInUse = objects, objects+unused
	m.resident = all - released
	m.rss = readRSS()
	for _, c := range s.clients {
		b := uint64(cap(c.Out)) + uint64(c.QueryBuf+c.QueryFree) + uint64(unsafe.Sizeof(*c))
		m.clients += b
		m.clientsMax = max(m.clientsMax, uint64(cap(c.Out)))
		m.nclients++
	}
	ks := s.db.Stats()
	m.index, m.slotIndex = uint64(ks.IndexBytes+ks.EntryBytes), uint64(ks.SlotIndex)
	m.keys = ks.Keys
	m.overhead = m.startup + m.clients + m.index + m.slotIndex
	if m.total > m.overhead {
		m.dataset = m.total - m.overhead
	}
	return m
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// diff is a-b as a signed count.
func diff(a, b uint64) int64 { return int64(a) - int64(b) }

// MEMORY STATS: Redis's fields, in Redis's order, with Shoal's figures
// (see readMemStats). Replication, cluster links and the AOF buffer have
// no memory of their own here: 0.
func memoryStatsCmd(s *Shard, c *Client, argv [][]byte) {
	m := s.readMemStats()
	n := 27
	if m.keys > 0 {
		n++
	}
	c.MapLen(n)
	kvInt := func(k string, v int64) {
		c.BulkString(k)
		c.Int(v)
	}
	kvDouble := func(k string, v float64) {
		c.BulkString(k)
		c.Double(v)
	}
	kvInt("peak.allocated", int64(m.peak))
	kvInt("total.allocated", int64(m.total))
	kvInt("startup.allocated", int64(m.startup))
	kvInt("replication.backlog", 0)
	kvInt("clients.slaves", 0)
	kvInt("clients.normal", int64(m.clients))
	kvInt("cluster.links", 0)
	kvInt("aof.buffer", 0)
	var luaCaches int64
	if s.eval != nil {
		luaCaches = s.eval.mem
	}
	kvInt("lua.caches", luaCaches)
	kvInt("functions.caches", s.funcs.memory())
	if m.keys > 0 {
		c.BulkString("db.0")
		c.MapLen(3)
		kvInt("overhead.hashtable.main", int64(m.index))
		kvInt("overhead.hashtable.expires", 0)
		kvInt("overhead.hashtable.slot-to-keys", int64(m.slotIndex))
	}
	kvInt("overhead.total", int64(m.overhead))
	kvInt("keys.count", int64(m.keys))
	net := uint64(0)
	if m.total > m.startup {
		net = m.total - m.startup
	}
	perKey := int64(0)
	if m.keys > 0 {
		perKey = int64(net) / int64(m.keys)
	}
	kvInt("keys.bytes-per-key", perKey)
	kvInt("dataset.bytes", int64(m.dataset))
	kvDouble("dataset.percentage", 100*ratio(m.dataset, net))
	kvDouble("peak.percentage", 100*ratio(m.total, m.peak))
	kvInt("allocator.allocated", int64(m.heapObjects))
	kvInt("allocator.active", int64(m.heapInUse))
	kvInt("allocator.resident", int64(m.resident))
	kvDouble("allocator-fragmentation.ratio", ratio(m.heapInUse, m.heapObjects))
	kvInt("allocator-fragmentation.bytes", diff(m.heapInUse, m.heapObjects))
	kvDouble("allocator-rss.ratio", ratio(m.resident, m.heapInUse))
	kvInt("allocator-rss.bytes", diff(m.resident, m.heapInUse))
	kvDouble("rss-overhead.ratio", ratio(m.rss, m.resident))
	kvInt("rss-overhead.bytes", diff(m.rss, m.resident))
	kvDouble("fragmentation", ratio(m.rss, m.total))
	kvInt("fragmentation.bytes", diff(m.rss, m.total))
}

// Thresholds of MEMORY DOCTOR, Redis's.
const (
	doctorEmpty      = 5 << 20   // below this much used memory there is nothing to judge
	doctorBigClient  = 200 << 10 // average client output buffer
	doctorHighRatio  = 1.4       // RSS over used memory
	doctorHighBytes  = 10 << 20  // and by this much at least
	doctorPeakFactor = 1.5       // peak over current use
)

// MEMORY DOCTOR: a report on what looks wrong in the figures of MEMORY
// STATS: a past peak far above the current use, an RSS far above the
// used memory, big client output buffers. O(clients).
func memoryDoctorCmd(s *Shard, c *Client, argv [][]byte) {
	c.Verbatim([]byte(s.memoryDoctor(s.readMemStats())))
}

func (s *Shard) memoryDoctor(m memStats) string {
	if m.total < doctorEmpty {
		return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. " +
			"Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	}
	var issues []string
	if float64(m.peak) > doctorPeakFactor*float64(m.total) {
		issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. "+
			"The Go runtime returns free memory to the system gradually; MEMORY PURGE runs a collection and returns it at once.\n")
	}
	if ratio(m.rss, m.total) > doctorHighRatio && m.rss-m.total > doctorHighBytes {
		issues = append(issues, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 "+
			"(this means that the Resident Set Size of the process is much larger than the memory the shard uses: "+
			"the Go runtime holds freed memory until its scavenger returns it). MEMORY PURGE returns it at once.\n")
	}
	if m.nclients > 0 && m.clientsMax > 0 && m.clients/uint64(m.nclients) > doctorBigClient {
		issues = append(issues, " * Big client buffers: The clients output buffers are in general too big, "+
			"on average more than 200 KB each. Clients reading their replies slowly, or big replies (KEYS, large ranges) cause this.\n")
	}
	if len(issues) == 0 {
		return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	}
	return "Sam, I detected a few issues in this Shoal shard memory implants:\n\n" + strings.Join(issues, "\n") +
		"\nI'm here to keep you safe, Sam. I want to help you.\n"
}

// MEMORY MALLOC-STATS: the Go runtime's memory metrics, one "name value"
// line each (the Go allocator is Shoal's; Redis prints jemalloc's
// statistics here).
func memoryMallocStatsCmd(s *Shard, c *Client, argv [][]byte) {
	var b strings.Builder
	b.WriteString("___ Begin Go runtime memory statistics (" + runtime.Version() + ") ___\n")
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if d.Kind == metrics.KindUint64 && (strings.HasPrefix(d.Name, "/memory/") || strings.HasPrefix(d.Name, "/gc/")) {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, sm := range samples {
		b.WriteString(sm.Name)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(sm.Value.Uint64(), 10))
		b.WriteByte('\n')
	}
	b.WriteString("___ End Go runtime memory statistics ___\n")
	c.Verbatim([]byte(b.String()))
}

// MEMORY PURGE: collect garbage and return free memory to the system.
func memoryPurgeCmd(s *Shard, c *Client, argv [][]byte) {
	debug.FreeOSMemory()
	c.OK()
}
