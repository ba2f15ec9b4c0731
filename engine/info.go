package engine

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// INFO, section by section, with Redis's field names where a field means
// what it means in Redis, and shoal_/gc_ fields for what only Shoal has.

// infoSections are the sections in the order INFO writes them, whatever
// the order they were asked in, as Redis.
var infoSections = []string{"server", "clients", "memory", "persistence", "stats",
	"replication", "cpu", "modules", "commandstats", "errorstats", "latencystats",
	"cluster", "keyspace"}

// defaultSections are what INFO and INFO default give.
var defaultSections = map[string]bool{"server": true, "clients": true, "memory": true,
	"persistence": true, "stats": true, "replication": true, "cpu": true, "modules": true,
	"errorstats": true, "cluster": true, "keyspace": true}

// info builds INFO's text for the arguments, as Redis 7: no argument or
// "default" gives the default sections, "all" and "everything" every
// section, other words the section of that name (any case; unknown ones
// give nothing). Sections are separated by an empty line.
func (s *Shard) info(args [][]byte) string {
	want := make(map[string]bool)
	all := false
	if len(args) == 0 {
		want = defaultSections
	}
	for _, a := range args {
		switch n := strings.ToLower(string(a)); n {
		case "default":
			for k := range defaultSections {
				want[k] = true
			}
		case "all", "everything":
			all = true
		case "module_list":
			want["modules"] = true
		default:
			want[n] = true
		}
	}
	var b strings.Builder
	for _, name := range infoSections {
		if !all && !want[name] {
			continue
		}
		title, body := s.infoSection(name)
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + title + "\r\n")
		b.WriteString(body)
	}
	return b.String()
}

type infoWriter struct{ b strings.Builder }

func (w *infoWriter) kv(k string, v any) {
	w.b.WriteString(k)
	w.b.WriteByte(':')
	switch x := v.(type) {
	case string:
		w.b.WriteString(x)
	case int:
		w.b.WriteString(strconv.Itoa(x))
	case int64:
		w.b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		w.b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		w.b.WriteString(strconv.FormatFloat(x, 'f', 2, 64))
	default:
		fmt.Fprint(&w.b, x)
	}
	w.b.WriteString("\r\n")
}

func (s *Shard) infoSection(name string) (title, body string) {
	w := &infoWriter{}
	switch name {
	case "server":
		title = "Server"
		now := time.Now()
		uptime := (now.UnixMilli() - s.startMs) / 1000
		var uts unix.Utsname
		unix.Uname(&uts)
		w.kv("redis_version", RedisVersion)
		w.kv("redis_git_sha1", "00000000")
		w.kv("redis_git_dirty", 0)
		w.kv("redis_mode", s.mode())
		w.kv("shoal_version", s.Info.Version)
		w.kv("os", unix.ByteSliceToString(uts.Sysname[:])+" "+unix.ByteSliceToString(uts.Release[:])+" "+unix.ByteSliceToString(uts.Machine[:]))
		w.kv("arch_bits", strconv.IntSize)
		w.kv("monotonic_clock", "POSIX clock_gettime")
		w.kv("multiplexing_api", s.Info.IOBackend)
		w.kv("io_backend", s.Info.IOBackend)
		w.kv("io_backend_reason", s.Info.IOReason)
		w.kv("go_version", runtime.Version())
		w.kv("process_id", s.pid)
		w.kv("process_supervised", "no")
		w.kv("run_id", s.runID)
		w.kv("tcp_port", s.Info.TCPPort)
		w.kv("server_time_usec", now.UnixMicro())
		w.kv("uptime_in_seconds", uptime)
		w.kv("uptime_in_days", uptime/86400)
		w.kv("hz", s.Config.Hz)
		w.kv("configured_hz", s.Config.Hz)
		w.kv("lru_clock", int64(s.lruClock))
		w.kv("executable", s.Info.Executable)
		w.kv("config_file", s.Info.ConfigFile)
		w.kv("io_threads_active", 0)
	case "clients":
		title = "Clients"
		maxIn, maxOut := 0, 0
		for _, c := range s.clients {
			maxIn = max(maxIn, c.QueryBuf+c.QueryFree)
			maxOut = max(maxOut, len(c.Out))
		}
		w.kv("connected_clients", len(s.clients))
		w.kv("cluster_connections", 0)
		w.kv("maxclients", s.Config.MaxClients)
		w.kv("client_recent_max_input_buffer", maxIn)
		w.kv("client_recent_max_output_buffer", maxOut)
		w.kv("blocked_clients", len(s.block.clients))
		w.kv("tracking_clients", s.track.clients)
		w.kv("clients_in_timeout_table", s.block.timeouts)
	case "memory":
		title = "Memory"
		s.infoMemory(w)
	case "persistence":
		title = "Persistence"
		w.kv("loading", boolInt(s.loading))
		w.kv("async_loading", 0)
		w.kv("rdb_changes_since_last_save", s.dirty)
		w.kv("rdb_bgsave_in_progress", 0)
		w.kv("rdb_last_save_time", s.lastSave())
		w.kv("rdb_last_bgsave_status", "ok")
		w.kv("rdb_saves", 0)
		s.infoAOF(w)
	case "stats":
		title = "Stats"
		st := &s.Stats
		w.kv("total_connections_received", st.ConnectionsReceived)
		w.kv("total_commands_processed", st.CommandsProcessed)
		w.kv("instantaneous_ops_per_sec", s.metrics.opsPerSec())
		w.kv("total_net_input_bytes", st.NetInputBytes)
		w.kv("total_net_output_bytes", st.NetOutputBytes)
		w.kv("instantaneous_input_kbps", s.metrics.inputKbps())
		w.kv("instantaneous_output_kbps", s.metrics.outputKbps())
		w.kv("rejected_connections", st.RejectedConnections)
		w.kv("expired_keys", st.ExpiredKeys)
		w.kv("expired_stale_perc", st.ExpiredStalePerc*100)
		w.kv("expired_time_cap_reached_count", st.ExpiredTimeCapped)
		w.kv("expire_cycle_cpu_milliseconds", st.ExpireCycleTimeUsed)
		w.kv("evicted_keys", st.EvictedKeys)
		w.kv("evicted_clients", 0)
		cur := int64(0)
		if s.evict.exceededSince != 0 {
			cur = nanotime() - s.evict.exceededSince
		}
		w.kv("total_eviction_exceeded_time", (s.evict.exceededTotal+cur)/1e6)
		w.kv("current_eviction_exceeded_time", cur/1e6)
		w.kv("keyspace_hits", st.KeyspaceHits)
		w.kv("keyspace_misses", st.KeyspaceMisses)
		w.kv("pubsub_channels", len(s.pubsub.channels))
		w.kv("pubsub_patterns", len(s.pubsub.patterns))
		w.kv("pubsubshard_channels", len(s.pubsub.shard))
		w.kv("total_forks", 0)
		w.kv("tracking_total_keys", len(s.track.table))
		w.kv("tracking_total_items", s.track.items)
		w.kv("tracking_total_prefixes", len(s.track.prefixes))
		w.kv("unexpected_error_replies", st.UnexpectedErrors)
		w.kv("total_error_replies", st.ErrorReplies)
		w.kv("total_reads_processed", st.IOReadsProcessed)
		w.kv("total_writes_processed", st.IOWritesProcessed)
	case "replication":
		title = "Replication"
		w.kv("role", "master")
		w.kv("connected_slaves", 0)
		w.kv("master_failover_state", "no-failover")
		w.kv("master_replid", s.runID)
		w.kv("master_replid2", strings.Repeat("0", 40))
		w.kv("master_repl_offset", 0)
		w.kv("second_repl_offset", -1)
		w.kv("repl_backlog_active", 0)
		w.kv("repl_backlog_size", 0)
		w.kv("repl_backlog_first_byte_offset", 0)
		w.kv("repl_backlog_histlen", 0)
	case "cpu":
		title = "CPU"
		var self, thread unix.Rusage
		unix.Getrusage(unix.RUSAGE_SELF, &self)
		unix.Getrusage(unix.RUSAGE_THREAD, &thread)
		tv := func(t unix.Timeval) string { return fmt.Sprintf("%d.%06d", t.Sec, t.Usec) }
		w.kv("used_cpu_sys", tv(self.Stime))
		w.kv("used_cpu_user", tv(self.Utime))
		w.kv("used_cpu_sys_children", "0.000000")
		w.kv("used_cpu_user_children", "0.000000")
		w.kv("used_cpu_sys_main_thread", tv(thread.Stime))
		w.kv("used_cpu_user_main_thread", tv(thread.Utime))
	case "modules":
		title = "Modules"
	case "commandstats":
		title = "Commandstats"
		var list []*Command
		var walk func([]*Command)
		walk = func(cmds []*Command) {
			for _, c := range cmds {
				if c.calls > 0 || c.rejected > 0 || c.failed > 0 {
					list = append(list, c)
				}
				walk(c.Subs)
			}
		}
		walk(s.cmds.sorted)
		sort.Slice(list, func(i, j int) bool { return list[i].FullName < list[j].FullName })
		for _, c := range list {
			per := 0.0
			if c.calls > 0 {
				per = float64(c.usec) / float64(c.calls)
			}
			w.kv("cmdstat_"+c.FullName, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				c.calls, c.usec, per, c.rejected, c.failed))
		}
	case "errorstats":
		title = "Errorstats"
		codes := make([]string, 0, len(s.errorStats))
		for k := range s.errorStats {
			codes = append(codes, k)
		}
		sort.Strings(codes)
		for _, k := range codes {
			w.kv("errorstat_"+k, "count="+strconv.FormatInt(s.errorStats[k], 10))
		}
	case "cluster":
		title = "Cluster"
		w.kv("cluster_enabled", boolInt(s.cluster != nil))
		s.infoBus(w)
	case "keyspace":
		title = "Keyspace"
		if n := s.db.Len(); n > 0 {
			w.kv("db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=%d", n, s.db.Volatile(), s.expire.avgTTL))
		}
	case "latencystats":
		title = "Latencystats"
		s.infoLatencyStats(w)
	}
	return title, w.b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/gc/heap/live:bytes"},
	{Name: "/gc/scan/heap:bytes"},
	{Name: "/gc/scan/stack:bytes"},
	{Name: "/gc/scan/globals:bytes"},
	{Name: "/gc/heap/goal:bytes"},
	{Name: "/gc/cycles/total:gc-cycles"},
}

func (s *Shard) infoMemory(w *infoWriter) {
	used := readUsedMemory()
	v := memSample
	if used > s.memPeak {
		s.memPeak = used
	}
	rss := readRSS()
	w.kv("used_memory", used)
	w.kv("used_memory_human", humanBytes(used))
	w.kv("used_memory_rss", rss)
	w.kv("used_memory_rss_human", humanBytes(rss))
	w.kv("used_memory_peak", s.memPeak)
	w.kv("used_memory_peak_human", humanBytes(s.memPeak))
	ks := s.db.Stats()
	w.kv("used_memory_dataset", ks.LiveBytes)
	w.kv("total_system_memory", totalSystemMemory())
	var luaVM, luaScripts, nScripts int64
	if s.eval != nil {
		luaVM, luaScripts, nScripts = s.eval.vmBytes, s.eval.mem, int64(len(s.eval.scripts))
	}
	funcVM, funcMem := int64(s.funcs.vmMemory()), int64(s.funcs.memory())
	w.kv("used_memory_lua", luaVM)
	w.kv("used_memory_vm_eval", luaVM)
	w.kv("used_memory_lua_human", humanBytes(uint64(luaVM)))
	w.kv("used_memory_scripts_eval", luaScripts)
	w.kv("number_of_cached_scripts", nScripts)
	w.kv("number_of_functions", s.funcs.numFunctions())
	w.kv("number_of_libraries", len(s.funcs.libs))
	w.kv("used_memory_vm_functions", funcVM)
	w.kv("used_memory_vm_total", luaVM+funcVM)
	w.kv("used_memory_vm_total_human", humanBytes(uint64(luaVM+funcVM)))
	w.kv("used_memory_functions", funcMem)
	w.kv("used_memory_scripts", luaScripts+funcMem)
	w.kv("used_memory_scripts_human", humanBytes(uint64(luaScripts+funcMem)))
	w.kv("maxmemory", s.Config.Maxmemory)
	w.kv("maxmemory_human", humanBytes(uint64(s.Config.Maxmemory)))
	w.kv("maxmemory_policy", s.Config.MaxmemoryPolicy)
	if used > 0 {
		w.kv("mem_fragmentation_ratio", float64(rss)/float64(used))
	}
	w.kv("mem_aof_buffer", s.aof.memory())
	w.kv("mem_allocator", "go-"+runtime.Version())
	w.kv("lazyfree_pending_objects", s.lazyFreePending())
	w.kv("lazyfreed_objects", s.lazy.reclaimed)
	w.kv("keyspace_page_bytes", ks.PageBytes)
	w.kv("keyspace_live_bytes", ks.LiveBytes)
	w.kv("keyspace_index_bytes", ks.IndexBytes)
	w.kv("gc_heap_objects_bytes", v(3))
	w.kv("gc_heap_live_bytes", v(4))
	w.kv("gc_scan_heap_bytes", v(5))
	w.kv("gc_scan_stack_bytes", v(6))
	w.kv("gc_scan_globals_bytes", v(7))
	w.kv("gc_heap_goal_bytes", v(8))
	w.kv("gc_cycles", v(9))
}

func readRSS() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func totalSystemMemory() uint64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

// humanBytes formats as Redis's bytesToHuman: B, K, M, G with two decimals.
func humanBytes(n uint64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	}
	return fmt.Sprintf("%.2fP", d/(1<<50))
}

// instMetrics tracks instantaneous rates as Redis's trackInstantaneousMetric:
// a sample every 100 ms, averaged over the last 16.
type instMetrics struct {
	lastAt                   int64
	lastOps, lastIn, lastOut int64
	ops, in, out             [16]float64
	idx                      int
}

func (m *instMetrics) sample(s *Shard) {
	now := nanotime()
	if m.lastAt != 0 && now-m.lastAt < 100e6 {
		return
	}
	if m.lastAt != 0 {
		dt := float64(now-m.lastAt) / 1e9
		m.ops[m.idx] = float64(s.Stats.CommandsProcessed-m.lastOps) / dt
		m.in[m.idx] = float64(s.Stats.NetInputBytes-m.lastIn) / dt
		m.out[m.idx] = float64(s.Stats.NetOutputBytes-m.lastOut) / dt
		m.idx = (m.idx + 1) % 16
	}
	m.lastAt, m.lastOps, m.lastIn, m.lastOut = now, s.Stats.CommandsProcessed, s.Stats.NetInputBytes, s.Stats.NetOutputBytes
}

func avg16(a *[16]float64) float64 {
	t := 0.0
	for _, x := range a {
		t += x
	}
	return t / 16
}

func (m *instMetrics) opsPerSec() int64    { return int64(avg16(&m.ops)) }
func (m *instMetrics) inputKbps() float64  { return avg16(&m.in) / 1024 }
func (m *instMetrics) outputKbps() float64 { return avg16(&m.out) / 1024 }
