package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"shoal/cluster"
	"shoal/internal/rlog"
	"shoal/resp"
)

// Config is a shard's configuration. Its fields are set from the command
// line and a redis.conf-style file at start (ParseArgs) and by CONFIG SET
// while serving; both go through the same table of parameters (params),
// with Redis's names, value forms and error messages.
//
// A running shard's Config belongs to its loop: CONFIG SET changes it in
// place (all of a call's parameters or none) while a command executes, and
// the loop reads the fields it needs when it needs them (Hz and Timeout
// each cron, MaxClients and ProtectedMode at each accept). What the loop
// derives from it and keeps, it derives again when Shard.ConfigEpoch moves.
type Config struct {
	Port                       int
	Bind                       []string
	Dir                        string
	MaxClients                 int
	Timeout                    int // seconds a client may idle; 0 = forever
	TCPKeepalive               int
	TCPBacklog                 int
	Hz                         int
	ProtoMaxBulkLen            int64
	ClientQueryBufferLimit     int64
	LogLevel                   string
	LogFile                    string
	IO                         string // "auto" (io_uring when the kernel allows it), "uring" or "epoll"
	Databases                  int
	PidFile                    string
	ProtectedMode              bool
	ActiveExpireEffort         int
	EnableProtectedConfigs     string // "no", "yes" or "local": who may CONFIG SET a protected parameter
	EnableDebugCommand         string // "no", "yes" or "local": who may run DEBUG (debug.go)
	ConfigFile                 string // the file read at start, if any
	Maxmemory                  int64  // bytes; 0: no limit. Over it, denyoom commands get -OOM
	MaxmemoryPolicy            string // which keys are evicted past maxmemory (evict.go); "noeviction": none
	MaxmemorySamples           int    // keys sampled per eviction round
	MaxmemoryEvictionTenacity  int    // 0..100: how long one command may spend evicting
	LFULogFactor               int    // how slowly the LFU counter grows with accesses
	LFUDecayTime               int    // minutes after which an idle key's LFU counter drops by one; 0: never
	ClusterEnabled             bool   // Redis Cluster mode: slots, MOVED, CROSSSLOT, CLUSTER
	ClusterConfigFile          string // the nodes.conf of cluster mode, relative to dir
	NotifyKeyspaceEvents       int    // classes of keyspace notifications sent (notify.go's notify* bits); 0: none
	AppendOnly                 bool   // keep an append-only file (aof.go)
	AppendFsync                string // "always", "everysec" or "no"
	AppendFilename             string // prefix of the AOF's file names
	AppendDirname              string // the AOF's directory, under dir
	AOFUseRDBPreamble          bool   // rewrite the base as an RDB file
	AOFLoadTruncated           bool   // load an AOF whose last command is cut short, cutting it off
	AutoAOFRewritePercentage   int    // rewrite when the AOF grew by this much since the last rewrite; 0: never
	AutoAOFRewriteMinSize      int64  // ... and is at least this big
	NoAppendfsyncOnRewrite     bool
	AOFRewriteIncrementalFsync bool
	ListMaxListpackSize        int   // quicklist node limit of new lists: < 0 a size class (-1 4 KB .. -5 64 KB), > 0 entries
	ListCompressDepth          int   // list-compress-depth of new lists: nodes kept raw at each end, 0 for none compressed
	SetMaxIntsetEntries        int   // largest set kept as an intset; one more member converts it to a hashtable
	HashMaxListpackEntries     int   // most fields a hash keeps as a listpack; one more converts it to a hashtable
	HashMaxListpackValue       int64 // longest field or value a listpack hash takes; a longer one converts it
	ZsetMaxListpackEntries     int   // most members a sorted set keeps as a listpack; one more converts it to a skiplist
	ZsetMaxListpackValue       int64 // longest member a listpack sorted set takes; a longer one converts it
	HLLSparseMaxBytes          int64 // largest sparse HyperLogLog (header included); a longer one turns dense
	SlowlogLogSlowerThan       int64 // microseconds from which a command is logged in the slow log; 0: all, < 0: none (slowlog.go)
	SlowlogMaxLen              int64 // most entries the slow log keeps
	TrackingTableMaxKeys       int   // most keys client-side caching remembers (tracking.go); 0: no limit
	LatencyMonitorThreshold    int64 // ms: the latency monitor records events at least this long (latency.go); 0: off
	LatencyTracking            bool  // per-command latency histograms (latency.go)
	// LatencyTrackingPercentiles are the percentiles INFO latencystats
	// reports. CONFIG SET replaces the slice, never writes into it.
	LatencyTrackingPercentiles []float64

	// Cluster is the cluster configuration of cluster mode, read from
	// ClusterConfigFile by LoadCluster before the shard is made. It is
	// not a parameter and never changes while the shard runs.
	Cluster *cluster.Config

	epoch uint64 // successful CONFIG SET calls; see Shard.ConfigEpoch
}

// DefaultConfig is Redis's defaults for the parameters Shoal has.
func DefaultConfig() *Config {
	return &Config{
		Port:                       6379,
		Bind:                       []string{"127.0.0.1", "-::1"},
		Dir:                        ".",
		MaxClients:                 10000,
		TCPKeepalive:               300,
		TCPBacklog:                 511,
		Hz:                         10,
		ProtoMaxBulkLen:            512 << 20,
		ClientQueryBufferLimit:     1 << 30,
		IO:                         "auto",
		LogLevel:                   "notice",
		Databases:                  1,
		ProtectedMode:              true,
		ActiveExpireEffort:         1,
		EnableProtectedConfigs:     "no",
		EnableDebugCommand:         "no",
		MaxmemoryPolicy:            "noeviction",
		MaxmemorySamples:           5,
		MaxmemoryEvictionTenacity:  10,
		LFULogFactor:               10,
		LFUDecayTime:               1,
		ClusterConfigFile:          "nodes.conf",
		ListMaxListpackSize:        -2,
		SetMaxIntsetEntries:        512,
		HashMaxListpackEntries:     512,
		HashMaxListpackValue:       64,
		ZsetMaxListpackEntries:     128,
		ZsetMaxListpackValue:       64,
		HLLSparseMaxBytes:          3000,
		SlowlogLogSlowerThan:       10000,
		SlowlogMaxLen:              128,
		TrackingTableMaxKeys:       1000000,
		AppendFsync:                "everysec",
		AppendFilename:             "appendonly.aof",
		AppendDirname:              "appendonlydir",
		AOFUseRDBPreamble:          true,
		AOFLoadTruncated:           true,
		AutoAOFRewritePercentage:   100,
		AutoAOFRewriteMinSize:      64 << 20,
		AOFRewriteIncrementalFsync: true,
		LatencyTracking:            true,
		LatencyTrackingPercentiles: []float64{50, 99, 99.9},
	}
}

// ParserLimits are the RESP parser limits this configuration sets.
func (c *Config) ParserLimits() resp.Limits {
	return resp.Limits{MaxBulkLen: c.ProtoMaxBulkLen, MaxMultibulk: 1<<31 - 1, MaxInline: 64 << 10}
}

// param is one configuration parameter. set validates and stores a value
// given as the words after the name; apply (optional) makes a change take
// effect in a running shard. An immutable parameter is set only at start;
// a protected one (as Redis's PROTECTED_CONFIG) by CONFIG SET only when
// enable-protected-configs allows it.
type param struct {
	name      string
	alias     string
	immutable bool
	protected bool
	get       func(c *Config) string
	set       func(c *Config, v []string) error
	apply     func(s *Shard) error
}

var errNotYesNo = errors.New("argument must be 'yes' or 'no'")

func boolParam(name string, f func(*Config) *bool) *param {
	return &param{name: name,
		get: func(c *Config) string {
			if *f(c) {
				return "yes"
			}
			return "no"
		},
		set: func(c *Config, v []string) error {
			switch strings.ToLower(v[0]) {
			case "yes":
				*f(c) = true
			case "no":
				*f(c) = false
			default:
				return errNotYesNo
			}
			return nil
		}}
}

// parseIntRange reads an integer parameter as Redis does: string2ll,
// then the bounds, with Redis's messages.
func parseIntRange(v string, lo, hi int64) (int64, error) {
	n, ok := parseInt([]byte(v))
	if !ok {
		return 0, errors.New("argument couldn't be parsed into an integer")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
	}
	return n, nil
}

// intParam is an integer parameter within [lo, hi].
func intParam(name string, lo, hi int64, f func(*Config) *int) *param {
	return &param{name: name,
		get: func(c *Config) string { return strconv.Itoa(*f(c)) },
		set: func(c *Config, v []string) error {
			n, err := parseIntRange(v[0], lo, hi)
			if err != nil {
				return err
			}
			*f(c) = int(n)
			return nil
		}}
}

// int64Param is an integer parameter within [lo, hi] whose change the
// running shard takes up with apply.
func int64Param(name string, lo, hi int64, f func(*Config) *int64, apply func(*Shard) error) *param {
	return &param{name: name,
		get: func(c *Config) string { return strconv.FormatInt(*f(c), 10) },
		set: func(c *Config, v []string) error {
			n, err := parseIntRange(v[0], lo, hi)
			if err != nil {
				return err
			}
			*f(c) = n
			return nil
		},
		apply: apply}
}

// memParam is a memory parameter (bytes, with an optional unit) within
// [lo, 2^63-1].
func memParam(name string, lo int64, f func(*Config) *int64) *param {
	return &param{name: name,
		get: func(c *Config) string { return strconv.FormatInt(*f(c), 10) },
		set: func(c *Config, v []string) error {
			n, ok := memtoull(v[0])
			if !ok {
				return errors.New("argument must be a memory value")
			}
			if n < uint64(lo) || n > math.MaxInt64 {
				return fmt.Errorf("argument must be between %d and %d inclusive", lo, int64(math.MaxInt64))
			}
			*f(c) = int64(n)
			return nil
		}}
}

func enumParam(name string, values []string, f func(*Config) *string) *param {
	return &param{name: name,
		get: func(c *Config) string { return *f(c) },
		set: func(c *Config, v []string) error {
			for _, x := range values {
				if strings.EqualFold(x, v[0]) {
					*f(c) = x
					return nil
				}
			}
			return errors.New("argument(s) must be one of the following: " + strings.Join(values, ", "))
		}}
}

func stringParam(name string, f func(*Config) *string) *param {
	return &param{name: name,
		get: func(c *Config) string { return *f(c) },
		set: func(c *Config, v []string) error { *f(c) = v[0]; return nil }}
}

func immutable(p *param) *param { p.immutable = true; return p }

// onlyNo is a yes/no parameter of Redis's that Shoal has only as "no";
// "yes" is refused with why.
func onlyNo(name, why string) *param {
	return &param{name: name,
		get: func(*Config) string { return "no" },
		set: func(c *Config, v []string) error {
			switch strings.ToLower(v[0]) {
			case "no":
				return nil
			case "yes":
				return errors.New(why)
			}
			return errNotYesNo
		}}
}

func protected(p *param) *param { p.protected = true; return p }

// params is the table of every parameter Shoal has, in CONFIG GET * order.
var params = []*param{
	// The listeners are opened once at start: port and bind are immutable.
	immutable(intParam("port", 0, 65535, func(c *Config) *int { return &c.Port })),
	immutable(&param{name: "bind",
		get: func(c *Config) string { return strings.Join(c.Bind, " ") },
		set: func(c *Config, v []string) error {
			var addrs []string
			for _, a := range v {
				addrs = append(addrs, strings.Fields(a)...)
			}
			if len(addrs) > 16 {
				return errors.New("Too many bind addresses specified.")
			}
			c.Bind = addrs
			return nil
		}}),
	protected(&param{name: "dir",
		get: func(c *Config) string {
			if wd, err := os.Getwd(); err == nil {
				return wd
			}
			return c.Dir
		},
		set:   func(c *Config, v []string) error { c.Dir = v[0]; return nil },
		apply: applyDir}),
	func() *param {
		p := intParam("maxclients", 1, math.MaxUint32, func(c *Config) *int { return &c.MaxClients })
		p.apply = applyMaxClients
		return p
	}(),
	intParam("timeout", 0, math.MaxInt32, func(c *Config) *int { return &c.Timeout }),
	intParam("tcp-keepalive", 0, math.MaxInt32, func(c *Config) *int { return &c.TCPKeepalive }),
	immutable(intParam("tcp-backlog", 0, math.MaxInt32, func(c *Config) *int { return &c.TCPBacklog })),
	// As Redis: any value in [0, 2^31-1] is accepted and brought into
	// [1, 500], which CONFIG GET then reports.
	{name: "hz",
		get: func(c *Config) string { return strconv.Itoa(c.Hz) },
		set: func(c *Config, v []string) error {
			n, err := parseIntRange(v[0], 0, math.MaxInt32)
			if err != nil {
				return err
			}
			c.Hz = int(min(max(n, 1), 500))
			return nil
		}},
	// maxmemory and the eviction policy (evict.go): past the limit, keys
	// are evicted before each command; when none can be, commands that
	// may add memory are refused (-OOM) and the rest go on.
	func() *param {
		p := memParam("maxmemory", 0, func(c *Config) *int64 { return &c.Maxmemory })
		p.apply = func(s *Shard) error { s.sampleMemory(); return nil }
		return p
	}(),
	func() *param {
		p := enumParam("maxmemory-policy", policyNames[:], func(c *Config) *string { return &c.MaxmemoryPolicy })
		p.apply = func(s *Shard) error { s.policyChanged(); return nil }
		return p
	}(),
	intParam("maxmemory-samples", 1, math.MaxInt32, func(c *Config) *int { return &c.MaxmemorySamples }),
	intParam("maxmemory-eviction-tenacity", 0, 100, func(c *Config) *int { return &c.MaxmemoryEvictionTenacity }),
	intParam("lfu-log-factor", 0, math.MaxInt32, func(c *Config) *int { return &c.LFULogFactor }),
	intParam("lfu-decay-time", 0, math.MaxInt32, func(c *Config) *int { return &c.LFUDecayTime }),
	memParam("proto-max-bulk-len", 1<<20, func(c *Config) *int64 { return &c.ProtoMaxBulkLen }),
	memParam("client-query-buffer-limit", 1<<20, func(c *Config) *int64 { return &c.ClientQueryBufferLimit }),
	func() *param {
		p := enumParam("loglevel", []string{"debug", "verbose", "notice", "warning"},
			func(c *Config) *string { return &c.LogLevel })
		p.apply = func(s *Shard) error {
			l, _ := rlog.ParseLevel(s.Config.LogLevel)
			rlog.Default.SetLevel(l)
			return nil
		}
		return p
	}(),
	immutable(stringParam("logfile", func(c *Config) *string { return &c.LogFile })),
	immutable(enumParam("io", []string{"auto", "uring", "epoll"}, func(c *Config) *string { return &c.IO })),
	immutable(intParam("databases", 1, 1, func(c *Config) *int { return &c.Databases })),
	immutable(stringParam("pidfile", func(c *Config) *string { return &c.PidFile })),
	boolParam("protected-mode", func(c *Config) *bool { return &c.ProtectedMode }),
	immutable(enumParam("enable-protected-configs", []string{"no", "yes", "local"},
		func(c *Config) *string { return &c.EnableProtectedConfigs })),
	immutable(enumParam("enable-debug-command", []string{"no", "yes", "local"},
		func(c *Config) *string { return &c.EnableDebugCommand })),
	intParam("active-expire-effort", 1, 10, func(c *Config) *int { return &c.ActiveExpireEffort }),
	intParam("tracking-table-max-keys", 0, math.MaxInt64, func(c *Config) *int { return &c.TrackingTableMaxKeys }),
	// Keyspace notifications (notify.go): Redis's class letters, read in
	// any order, reported in its canonical form.
	{name: "notify-keyspace-events",
		get: func(c *Config) string { return formatNotifyFlags(c.NotifyKeyspaceEvents) },
		set: func(c *Config, v []string) error {
			if len(v) != 1 {
				return errors.New("wrong number of arguments")
			}
			flags, ok := parseNotifyFlags(v[0])
			if !ok {
				return errors.New(errNotifyClasses)
			}
			c.NotifyKeyspaceEvents = flags
			return nil
		}},
	// Shoal runs in the foreground (supervised by its launcher or systemd);
	// "no" is the only value, as a Go process cannot fork itself away.
	immutable(onlyNo("daemonize", "daemonize yes is not supported: run Shoal under systemd or its launcher")),
	// The append-only file (aof.go). Turned on at run time, the AOF is
	// written anew from the data set; turned off, it is closed.
	func() *param {
		p := boolParam("appendonly", func(c *Config) *bool { return &c.AppendOnly })
		p.apply = func(s *Shard) error { return s.setAppendonly(s.Config.AppendOnly) }
		return p
	}(),
	enumParam("appendfsync", []string{"always", "everysec", "no"}, func(c *Config) *string { return &c.AppendFsync }),
	immutable(stringParam("appendfilename", func(c *Config) *string { return &c.AppendFilename })),
	immutable(stringParam("appenddirname", func(c *Config) *string { return &c.AppendDirname })),
	boolParam("aof-use-rdb-preamble", func(c *Config) *bool { return &c.AOFUseRDBPreamble }),
	boolParam("aof-load-truncated", func(c *Config) *bool { return &c.AOFLoadTruncated }),
	intParam("auto-aof-rewrite-percentage", 0, math.MaxInt32, func(c *Config) *int { return &c.AutoAOFRewritePercentage }),
	memParam("auto-aof-rewrite-min-size", 0, func(c *Config) *int64 { return &c.AutoAOFRewriteMinSize }),
	boolParam("no-appendfsync-on-rewrite", func(c *Config) *bool { return &c.NoAppendfsyncOnRewrite }),
	boolParam("aof-rewrite-incremental-fsync", func(c *Config) *bool { return &c.AOFRewriteIncrementalFsync }),
	onlyNo("aof-timestamp-enabled", "argument must be 'no': AOF timestamps are not written"),
	// Cluster mode is chosen at start, with the nodes.conf it reads
	// (clusterstate.go).
	immutable(boolParam("cluster-enabled", func(c *Config) *bool { return &c.ClusterEnabled })),
	immutable(stringParam("cluster-config-file", func(c *Config) *string { return &c.ClusterConfigFile })),
	// The node size of lists created from now on (lists.go); Redis
	// accepts any int and clamps it when it makes a list, and so do we.
	// Both of Redis's names are listed, as CONFIG GET list* shows them.
	intParam("list-max-listpack-size", math.MinInt32, math.MaxInt32, func(c *Config) *int { return &c.ListMaxListpackSize }),
	intParam("list-max-ziplist-size", math.MinInt32, math.MaxInt32, func(c *Config) *int { return &c.ListMaxListpackSize }),
	// Lists made from now on keep this many nodes raw at each end and
	// compress the others (quicklist); Redis's range is [0, INT_MAX].
	intParam("list-compress-depth", 0, math.MaxInt32, func(c *Config) *int { return &c.ListCompressDepth }),
	// Sets of integers up to this size are intsets (sets.go); Redis's
	// range is [0, LONG_MAX].
	intParam("set-max-intset-entries", 0, math.MaxInt64, func(c *Config) *int { return &c.SetMaxIntsetEntries }),
	// Hashes within both limits are listpacks (hashes.go); Redis's ranges
	// are [0, LONG_MAX], the value limit a memory value. Both of Redis's
	// names are listed, as CONFIG GET hash* shows them.
	intParam("hash-max-listpack-entries", 0, math.MaxInt64, func(c *Config) *int { return &c.HashMaxListpackEntries }),
	intParam("hash-max-ziplist-entries", 0, math.MaxInt64, func(c *Config) *int { return &c.HashMaxListpackEntries }),
	memParam("hash-max-listpack-value", 0, func(c *Config) *int64 { return &c.HashMaxListpackValue }),
	memParam("hash-max-ziplist-value", 0, func(c *Config) *int64 { return &c.HashMaxListpackValue }),
	// Sorted sets within both limits are listpacks (zsets.go); Redis's
	// ranges are [0, LONG_MAX], the value limit a memory value.
	intParam("zset-max-listpack-entries", 0, math.MaxInt64, func(c *Config) *int { return &c.ZsetMaxListpackEntries }),
	intParam("zset-max-ziplist-entries", 0, math.MaxInt64, func(c *Config) *int { return &c.ZsetMaxListpackEntries }),
	memParam("zset-max-listpack-value", 0, func(c *Config) *int64 { return &c.ZsetMaxListpackValue }),
	memParam("zset-max-ziplist-value", 0, func(c *Config) *int64 { return &c.ZsetMaxListpackValue }),
	// HyperLogLogs turn dense past this size (hllobj.go); Redis's range is
	// [0, LONG_MAX], a memory value.
	memParam("hll-sparse-max-bytes", 0, func(c *Config) *int64 { return &c.HLLSparseMaxBytes }),
	// The slow log (slowlog.go); Redis's ranges are [-1, LLONG_MAX] and
	// [0, LONG_MAX]. A lower slowlog-max-len cuts the log as the next
	// command ends with the log on (this CONFIG SET, when it is on).
	int64Param("slowlog-max-len", 0, math.MaxInt64, func(c *Config) *int64 { return &c.SlowlogMaxLen }, applySlowlog),
	int64Param("slowlog-log-slower-than", -1, math.MaxInt64, func(c *Config) *int64 { return &c.SlowlogLogSlowerThan }, applySlowlog),
	// The latency monitor and per-command latency tracking (latency.go).
	// Redis's range for the threshold is [0, LLONG_MAX].
	{name: "latency-monitor-threshold",
		get: func(c *Config) string { return strconv.FormatInt(c.LatencyMonitorThreshold, 10) },
		set: func(c *Config, v []string) error {
			n, err := parseIntRange(v[0], 0, math.MaxInt64)
			if err != nil {
				return err
			}
			c.LatencyMonitorThreshold = n
			return nil
		}},
	boolParam("latency-tracking", func(c *Config) *bool { return &c.LatencyTracking }),
	{name: "latency-tracking-info-percentiles",
		get: func(c *Config) string { return formatPercentiles(c.LatencyTrackingPercentiles) },
		set: func(c *Config, v []string) error {
			p, err := parsePercentiles(v)
			if err != nil {
				return err
			}
			c.LatencyTrackingPercentiles = p
			return nil
		}},
	// Shoal writes no RDB snapshots: the only save policy is none.
	{name: "save",
		get: func(*Config) string { return "" },
		set: func(c *Config, v []string) error {
			if strings.TrimSpace(strings.Join(v, " ")) != "" {
				return errors.New("Invalid save parameters")
			}
			return nil
		}},
}

func findParam(name string) *param {
	for _, p := range params {
		if strings.EqualFold(p.name, name) || (p.alias != "" && strings.EqualFold(p.alias, name)) {
			return p
		}
	}
	return nil
}

// applyDir changes the working directory to the new dir, with the
// system's message when it cannot.
func applyDir(s *Shard) error {
	if err := os.Chdir(s.Config.Dir); err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			msg := errno.Error()
			return errors.New(strings.ToUpper(msg[:1]) + msg[1:]) // as C's strerror
		}
		return err
	}
	return nil
}

func applySlowlog(s *Shard) error { s.slowlogConfigured(); return nil }

// reservedFDs are the descriptors kept apart from clients for listeners,
// logs and files (Redis's CONFIG_MIN_RESERVED_FDS).
const reservedFDs = 32

// applyMaxClients makes room for maxclients connections in the process's
// open files limit, as Redis does when maxclients grows: it raises the
// soft limit (up to the hard one) and fails, suggesting the largest
// maxclients the limit allows, when that is not enough.
func applyMaxClients(s *Shard) error {
	want := uint64(s.Config.MaxClients) + reservedFDs
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("The operating system is not able to handle the specified number of clients, try with %d", 1024-reservedFDs)
	}
	if lim.Cur >= want {
		return nil
	}
	got := lim.Cur
	raised := unix.Rlimit{Cur: min(want, lim.Max), Max: lim.Max}
	if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) == nil {
		got = raised.Cur
		if got >= want {
			logf("notice", "Increased maximum number of open files to %d (it was originally set to %d).", got, lim.Cur)
			return nil
		}
	}
	logf("warning", "Current maximum open files is %d. maxclients cannot be raised to %d.", got, s.Config.MaxClients)
	return fmt.Errorf("The operating system is not able to handle the specified number of clients, try with %d", max(got, reservedFDs+1)-reservedFDs)
}

// memtoull reads a Redis memory value as Redis's memtoull: decimal digits
// and an optional unit (b, k=1000, kb=1024, m, mb, g, gb; any case). No
// digits read as 0; digits beyond 2^64-1, or a product beyond it, give
// 2^64-1, which the caller's bounds then refuse.
// ParseMemory reads a memory size as Redis's configuration does (memtoull):
// bytes with an optional unit, k/m/g for powers of 1000 and kb/mb/gb for
// powers of 1024, in any case. Values past 2^64-1 saturate.
func ParseMemory(s string) (uint64, bool) { return memtoull(s) }

func memtoull(s string) (uint64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1 << 10
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1 << 20
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1 << 30
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	var v uint64
	for _, d := range s[:i] {
		if v > (math.MaxUint64-uint64(d-'0'))/10 {
			v = math.MaxUint64
			break
		}
		v = v*10 + uint64(d-'0')
	}
	if v > math.MaxUint64/mul {
		return math.MaxUint64, true
	}
	return v * mul, true
}

// ConfigEpoch counts the successful CONFIG SET calls of the shard. The
// loop reads most parameters from Config as it needs them, but what it
// derives and caches (the RESP parser limits of each connection, from
// proto-max-bulk-len) it must derive again when the epoch moved.
func (s *Shard) ConfigEpoch() uint64 { return s.Config.epoch }

// configSet is CONFIG SET over name/value pairs, all or nothing, as
// Redis's configSetCommand: every name is checked first (unknown,
// immutable or protected, repeated), then every value is set, then the
// changed parameters' apply hooks run once each; when a value or a hook
// fails, every parameter gets its old value back and the hooks run again.
// It returns the error reply, or "" when everything was set.
func (s *Shard) configSet(c *Client, pairs [][]byte) string {
	n := len(pairs) / 2
	set := make([]*param, n)
	var errArg, errMsg string
	for i := 0; i < n; i++ {
		name := pairs[2*i]
		p := findParam(string(name))
		if p == nil {
			if errArg == "" {
				return "ERR Unknown option or number of arguments for CONFIG SET - '" + string(name) + "'"
			}
			continue
		}
		if errArg != "" {
			continue
		}
		switch {
		case p.immutable:
			errArg, errMsg = string(name), "can't set immutable config"
			continue
		case p.protected && !s.protectedAllowed(c):
			errArg, errMsg = string(name), "can't set protected config"
			continue
		}
		for _, q := range set[:i] {
			if q == p {
				errArg, errMsg = string(name), "duplicate parameter"
				break
			}
		}
		set[i] = p
	}
	if errArg != "" {
		return configSetError(errArg, errMsg)
	}
	backup := *s.Config
	for _, p := range set {
		if wd, err := os.Getwd(); err == nil && p.name == "dir" {
			backup.Dir = wd // a rollback returns to the directory itself
		}
	}
	var applies []*param
	for i, p := range set {
		before := *s.Config
		if err := p.set(s.Config, []string{string(pairs[2*i+1])}); err != nil {
			s.restoreConfig(&backup, applies)
			return configSetError(p.name, err.Error())
		}
		if p.apply != nil && !reflect.DeepEqual(before, *s.Config) {
			applies = append(applies, p)
		}
	}
	for _, p := range applies {
		if err := p.apply(s); err != nil {
			logf("warning", "Failed applying new configuration. Possibly related to new %s setting. Restoring previous settings.", p.name)
			s.restoreConfig(&backup, applies)
			return configSetError(p.name, err.Error())
		}
	}
	s.Config.epoch++
	return ""
}

func configSetError(arg, msg string) string {
	return "ERR CONFIG SET failed (possibly related to argument '" + arg + "') - " + msg
}

// restoreConfig puts the configuration back as it was before a failed
// CONFIG SET and runs the hooks of what had changed, so that their
// effects follow the old values again.
func (s *Shard) restoreConfig(backup *Config, applied []*param) {
	epoch := s.Config.epoch
	*s.Config = *backup
	s.Config.epoch = epoch
	for _, p := range applied {
		if err := p.apply(s); err != nil {
			logf("warning", "Failed restoring failed CONFIG SET command. Error setting %s: %v", p.name, err)
		}
	}
}

// protectedAllowed reports whether c may change protected parameters, as
// enable-protected-configs says: "yes" for anyone, "local" for clients on
// the loopback interface or a unix socket.
func (s *Shard) protectedAllowed(c *Client) bool {
	switch s.Config.EnableProtectedConfigs {
	case "yes":
		return true
	case "local":
		return isLocalAddr(c.Addr)
	}
	return false
}

// ConfigError is a configuration error at start, printed as Redis prints
// its fatal config file errors.
type ConfigError struct {
	Line    int    // 1-based line in the combined file+arguments text
	Text    string // the offending line
	Message string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (Shoal) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s",
		e.Line, e.Text, e.Message)
}

// ParseArgs reads a shard's configuration as redis-server reads its
// command line: an optional config file path first ("-" for standard
// input), then "--name value ..." options, each equivalent to a line
// "name value ..." appended to the file.
func ParseArgs(args []string) (*Config, error) {
	cfg := DefaultConfig()
	var text strings.Builder
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		var data []byte
		var err error
		if args[0] == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(args[0])
			cfg.ConfigFile = args[0]
		}
		if err != nil {
			return nil, fmt.Errorf("Fatal error, can't open config file '%s': %w", args[0], err)
		}
		text.Write(data)
		text.WriteByte('\n')
		args = args[1:]
	}
	for i := 0; i < len(args); {
		if !strings.HasPrefix(args[i], "--") {
			return nil, &ConfigError{Text: args[i], Message: "Bad directive or wrong number of arguments"}
		}
		text.WriteString(strings.TrimPrefix(args[i], "--"))
		i++
		n := 0
		for ; i < len(args) && !strings.HasPrefix(args[i], "--"); i++ {
			text.WriteByte(' ')
			text.WriteString(quoteArg(args[i]))
			n++
		}
		if n == 0 {
			text.WriteString(` ""`) // "--save" alone means an empty value
		}
		text.WriteByte('\n')
	}
	if err := cfg.load(text.String()); err != nil {
		return nil, err
	}
	return cfg, nil
}

// quoteArg quotes a command-line value so that SplitArgs gives it back
// whole (values may hold spaces, as --save "900 1").
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\\r\n") {
		return s
	}
	return strconv.Quote(s)
}

// load applies config text, one directive per line, as redis.conf.
func (cfg *Config) load(text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := strings.TrimSpace(sc.Text())
		if raw == "" || raw[0] == '#' {
			continue
		}
		words, err := resp.SplitArgs([]byte(raw))
		if err != nil {
			return &ConfigError{Line: line, Text: raw, Message: "Unbalanced quotes in configuration line"}
		}
		if len(words) == 0 {
			continue
		}
		name := strings.ToLower(string(words[0]))
		p := findParam(name)
		if p == nil {
			return &ConfigError{Line: line, Text: raw, Message: "Bad directive or wrong number of arguments"}
		}
		vals := make([]string, 0, len(words)-1)
		for _, w := range words[1:] {
			vals = append(vals, string(w))
		}
		if len(vals) == 0 {
			return &ConfigError{Line: line, Text: raw, Message: "wrong number of arguments"}
		}
		if err := p.set(cfg, vals); err != nil {
			return &ConfigError{Line: line, Text: raw, Message: err.Error()}
		}
	}
	return nil
}

// paramHelp describes each parameter for --help.
var paramHelp = map[string]string{
	"port":                          "TCP port to listen on (0: none)",
	"bind":                          "addresses to listen on; a leading '-' makes one optional",
	"dir":                           "working directory (created if missing)",
	"maxclients":                    "most clients connected at once",
	"timeout":                       "close a client idle this many seconds (0: never)",
	"tcp-keepalive":                 "TCP keepalive interval in seconds (0: off)",
	"tcp-backlog":                   "listen(2) backlog",
	"hz":                            "housekeeping runs per second (1-500)",
	"maxmemory":                     "memory limit in bytes (units: 100mb, 2gb ...); 0 for none. Past it, commands that may add memory get -OOM",
	"maxmemory-policy":              "which keys are evicted past maxmemory: noeviction (none: writes get -OOM), allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl",
	"maxmemory-samples":             "keys sampled per eviction round (more: closer to true LRU/LFU, slower)",
	"maxmemory-eviction-tenacity":   "0-100: how long one command may spend evicting before the cron goes on with it",
	"lfu-log-factor":                "how many accesses it takes for the LFU counter to grow (logarithmic)",
	"lfu-decay-time":                "minutes after which an idle key's LFU counter is decremented (0: never)",
	"proto-max-bulk-len":            "largest bulk string a client may send",
	"client-query-buffer-limit":     "largest unparsed input a client may hold",
	"loglevel":                      "debug, verbose, notice or warning",
	"logfile":                       "log to this file instead of standard output",
	"io":                            "I/O backend: uring, epoll, or auto (io_uring when the kernel allows it)",
	"enable-protected-configs":      "who may CONFIG SET dir: no, yes or local (loopback clients)",
	"enable-debug-command":          "who may run DEBUG: no, yes or local (loopback clients)",
	"databases":                     "number of databases (a shard has one, as Redis Cluster)",
	"pidfile":                       "write the process id to this file",
	"protected-mode":                "refuse clients from other hosts (yes/no)",
	"active-expire-effort":          "effort spent reclaiming expired keys (1-10)",
	"tracking-table-max-keys":       "most keys client-side caching (CLIENT TRACKING) remembers; past it, keys are invalidated at random (0: no limit)",
	"notify-keyspace-events":        "keyspace notifications to publish: Redis's class letters (K E g $ l s h z x e t m d n A); empty for none",
	"set-max-intset-entries":        "largest set of integers kept as a compact intset",
	"hash-max-listpack-entries":     "most fields a hash keeps as a compact listpack",
	"hash-max-listpack-value":       "longest field or value a listpack hash takes (bytes)",
	"zset-max-listpack-entries":     "most members a sorted set keeps as a compact listpack",
	"zset-max-listpack-value":       "longest member a listpack sorted set takes (bytes)",
	"hll-sparse-max-bytes":          "largest sparse HyperLogLog, header included; a longer one turns dense (bytes)",
	"slowlog-log-slower-than":       "log commands taking this many microseconds or more in the slow log (SLOWLOG); 0 logs every command, -1 none",
	"slowlog-max-len":               "most entries the slow log keeps; the oldest go first",
	"daemonize":                     "no: Shoal runs in the foreground (use systemd)",
	"save":                          `RDB snapshots: "" (none; Shoal writes none)`,
	"appendonly":                    "keep an append-only file (yes|no)",
	"appendfsync":                   "when the AOF is fsynced: always, everysec or no",
	"appenddirname":                 "directory of the AOF's files, under dir",
	"appendfilename":                "prefix of the AOF's file names",
	"aof-use-rdb-preamble":          "write a rewritten AOF's base as an RDB file",
	"aof-load-truncated":            "load an AOF whose last command is cut short, cutting it off",
	"auto-aof-rewrite-percentage":   "rewrite the AOF when it grew by this much since the last rewrite (0: never)",
	"auto-aof-rewrite-min-size":     "... and is at least this big",
	"no-appendfsync-on-rewrite":     "accepted for redis.conf files; fsyncs go on during a rewrite",
	"aof-rewrite-incremental-fsync": "accepted for redis.conf files; a rewrite's base is fsynced once, off the loop",
	"aof-timestamp-enabled":         "no: AOF timestamps are not written",
	"cluster-enabled":               "serve as a Redis Cluster node: hash slots, MOVED/CROSSSLOT, CLUSTER (yes/no)",
	"cluster-config-file": "the cluster's nodes.conf in Redis's format, relative to dir; when missing, " +
		"the shard creates it owning all 16384 slots under a new node id (Shoal has no CLUSTER ADDSLOTS or MEET: " +
		"its launcher writes the file)",

	// The latency monitor and tracking (latency.go).
	"latency-monitor-threshold":         "the latency monitor records events (commands, the loop's AOF writes and fsyncs, expiry and eviction cycles) of at least this many ms (0: off)",
	"latency-tracking":                  "keep per-command latency histograms for INFO latencystats and LATENCY HISTOGRAM (yes|no)",
	"latency-tracking-info-percentiles": "the percentiles INFO latencystats reports",
}

// ConfigHelp lists the parameters with their defaults for --help, one per
// line, each line starting with indent.
func ConfigHelp(indent string) string {
	def := DefaultConfig()
	var b strings.Builder
	for _, p := range params {
		fmt.Fprintf(&b, "%s--%-26s %s", indent, p.name, paramHelp[p.name])
		if v := p.get(def); v != "" && p.name != "dir" {
			fmt.Fprintf(&b, " [%s]", v)
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}
