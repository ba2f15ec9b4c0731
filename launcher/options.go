package launcher

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"shoal/engine"
	"shoal/numa"
	"shoal/perf/profiling"
)

// Defaults of Options.
const (
	DefaultDir          = "shoal-data"
	DefaultBind         = "127.0.0.1"
	DefaultIO           = "auto"
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 20 * time.Second
)

// ErrHelp is returned by ParseLaunchArgs and ParseTopoArgs for --help or
// -h: the caller prints the help text and exits successfully.
var ErrHelp = errors.New("launcher: help requested")

// ErrUsage is wrapped by every option parsing and checking error.
var ErrUsage = errors.New("launcher: bad option")

// Options configure a launch. ParseLaunchArgs fills the command-line part;
// the rest are for embedders and tests. The zero value of every field means
// its default.
type Options struct {
	// Plan says how to carve the machine. Plan.CPUs nil means the CPUs the
	// launcher itself may run on (its affinity), which are every online
	// CPU unless it was started under taskset or in a narrower cpuset.
	Plan numa.PlanOptions
	// Bind is the one address every shard listens on (its --bind): an IP
	// address, or "*" / "0.0.0.0" / "::" for every interface. Default
	// 127.0.0.1.
	Bind string
	// AnnounceIP is the address written into every nodes.conf, and so into
	// MOVED replies and CLUSTER SLOTS: what clients connect to. Default:
	// Bind; required when Bind is a wildcard.
	AnnounceIP string
	// Dir is the data directory; shard i lives in Dir/shard-<i>. Default
	// ./shoal-data. It is made absolute before use.
	Dir string
	// IO is the shards' I/O backend: "auto" (default), "uring" or "epoll".
	IO string
	// Profile is the profile every shard runs (its --profile: one of
	// profiling.Kinds), written into its own data directory; "" for none.
	Profile string
	// Pprof is the net/http/pprof address of shard 0 (a
	// profiling.PprofAddr); shard i serves on its port + i. "" for none.
	Pprof string
	// ShardArgs are passed to every shard after the launcher's own options
	// (Redis option names: --maxclients 20000 ...). A leading word not
	// starting with "--" is a redis.conf-style file the shards read first.
	// The options the launcher sets itself are refused here.
	ShardArgs []string

	// ReadyTimeout bounds the wait for a started shard to answer PING.
	ReadyTimeout time.Duration
	// StopTimeout bounds the wait for shards to exit after SIGTERM, after
	// which they get SIGKILL.
	StopTimeout time.Duration
	// Restart is the restart and crash-loop policy.
	Restart RestartPolicy

	// Bin is the shoal binary the shards run as "Bin shard ...". Default:
	// the running executable.
	Bin string
	// Env holds extra "KEY=value" entries for the shards' environment.
	Env []string
	// SysRoot is where the topology is read ("/" by default; a fixture
	// tree in tests).
	SysRoot string
	// Out receives the banner, the launcher's log lines and every shard's
	// prefixed output. Default: os.Stdout.
	Out io.Writer
	// Version is printed in the banner.
	Version string
}

// RestartPolicy says how a shard that exits is restarted and when its
// exits count as a crash loop.
type RestartPolicy struct {
	// MinBackoff is the delay before the first restart (default 100 ms);
	// each further exit doubles it up to MaxBackoff (default 5 s).
	MinBackoff, MaxBackoff time.Duration
	// StableAfter is how long a shard must have been up for its next exit
	// to start again from MinBackoff (default 30 s).
	StableAfter time.Duration
	// LoopExits exits within LoopWindow (default 5 within 60 s) make a
	// crash loop, reported loudly on every further exit until the shard
	// stays up for StableAfter.
	LoopExits  int
	LoopWindow time.Duration
}

func (r RestartPolicy) withDefaults() RestartPolicy {
	if r.MinBackoff <= 0 {
		r.MinBackoff = 100 * time.Millisecond
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = 5 * time.Second
	}
	r.MaxBackoff = max(r.MaxBackoff, r.MinBackoff)
	if r.StableAfter <= 0 {
		r.StableAfter = 30 * time.Second
	}
	if r.LoopExits <= 0 {
		r.LoopExits = 5
	}
	if r.LoopWindow <= 0 {
		r.LoopWindow = 60 * time.Second
	}
	return r
}

// TopoOptions configure `shoal topo`.
type TopoOptions struct {
	Plan    numa.PlanOptions
	JSON    bool
	SysRoot string
}

// flagSpec is one command-line option. Options and help are generated from
// the same table, so the help lists exactly what is parsed.
type flagSpec struct {
	name   string
	arg    string // the value's placeholder; "" for a boolean switch
	help   string
	launch func(o *Options, v string) error
	topo   func(o *TopoOptions, v string) error
}

// planFlag is an option of the plan, accepted by launch and topo alike.
func planFlag(name, arg, help string, set func(p *numa.PlanOptions, v string) error) flagSpec {
	return flagSpec{name: name, arg: arg, help: help,
		launch: func(o *Options, v string) error { return set(&o.Plan, v) },
		topo:   func(o *TopoOptions, v string) error { return set(&o.Plan, v) },
	}
}

func parseCount(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return errors.New("must be a whole number ≥ 0")
	}
	*dst = n
	return nil
}

func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a positive duration such as 30s or 2m")
	}
	return d, nil
}

var flagSpecs = []flagSpec{
	planFlag("shards", "N", "number of shards in all (default: one per physical core)",
		func(p *numa.PlanOptions, v string) error { return parseCount(&p.Shards, v) }),
	planFlag("shards-per-node", "N", "shards on every NUMA node instead of a total",
		func(p *numa.PlanOptions, v string) error { return parseCount(&p.ShardsPerNode, v) }),
	planFlag("reserve-cores", "N", "physical cores left to the kernel and NIC interrupts",
		func(p *numa.PlanOptions, v string) error { return parseCount(&p.ReserveCores, v) }),
	planFlag("cpus", "LIST", "plan on these CPUs only, as taskset -c (default: the launcher's own)",
		func(p *numa.PlanOptions, v string) error {
			cpus, err := numa.ParseCPUList(v)
			if err != nil {
				return err
			}
			if len(cpus) == 0 {
				return errors.New("empty CPU list")
			}
			p.CPUs = cpus
			return nil
		}),
	planFlag("shard-memory", "SIZE", "each shard's maxmemory, as 8gb or 512mb (default: 80% of its NUMA node's memory shared by the node's shards); past it a shard refuses writes (maxmemory-policy noeviction, Redis's default) unless given another policy after --, such as allkeys-lru",
		func(p *numa.PlanOptions, v string) error {
			n, ok := engine.ParseMemory(v)
			if !ok || n == 0 || n > math.MaxInt64 {
				return errors.New("must be a memory size such as 8gb, 512mb or 1073741824")
			}
			p.MemCap = n
			return nil
		}),
	planFlag("port", "BASE", "port of shard 0; shard i listens on BASE+i (default 6379)",
		func(p *numa.PlanOptions, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return errors.New("must be a port number, 1 to 65535")
			}
			p.BasePort = n
			return nil
		}),
	{name: "bind", arg: "ADDR", help: "address every shard listens on; * or ::* for every interface (default 127.0.0.1)",
		launch: func(o *Options, v string) error {
			if !isWildcard(v) && net.ParseIP(v) == nil {
				return errors.New("must be an IP address, * or ::*")
			}
			o.Bind = v
			return nil
		}},
	{name: "announce-ip", arg: "IP", help: "address clients are sent to (nodes.conf, MOVED, CLUSTER SLOTS); default: --bind, required with a wildcard --bind",
		launch: func(o *Options, v string) error {
			ip := net.ParseIP(v)
			if ip == nil || ip.IsUnspecified() {
				return errors.New("must be the IP address clients reach the shards at")
			}
			o.AnnounceIP = v
			return nil
		}},
	{name: "dir", arg: "DIR", help: "data directory; shard i keeps DIR/shard-<i> (default ./" + DefaultDir + ")",
		launch: func(o *Options, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			o.Dir = v
			return nil
		}},
	{name: "io", arg: "BACKEND", help: "I/O backend of the shards: uring, epoll or auto (default auto)",
		launch: func(o *Options, v string) error {
			switch v {
			case "auto", "uring", "epoll":
				o.IO = v
				return nil
			}
			return errors.New("must be uring, epoll or auto")
		}},
	{name: "profile", arg: "KIND", help: "profile every shard: " + strings.Join(profiling.Kinds, "|") +
		"; written to DIR/shard-<i>/<kind>.pprof on stop, a snapshot on SIGUSR2 to a shard",
		launch: func(o *Options, v string) error {
			if err := profiling.CheckKind(v); err != nil {
				return errors.New("must be one of " + strings.Join(profiling.Kinds, ", "))
			}
			o.Profile = v
			return nil
		}},
	{name: "pprof", arg: "[HOST:]PORT", help: "serve net/http/pprof from every shard, shard i on PORT+i (host 127.0.0.1 when only a port)",
		launch: func(o *Options, v string) error {
			a, err := profiling.PprofAddr(v)
			if err != nil {
				return errors.New("must be [HOST:]PORT")
			}
			o.Pprof = a
			return nil
		}},
	{name: "ready-timeout", arg: "DURATION", help: "how long a started shard may take to answer PING (default 60s)",
		launch: func(o *Options, v string) (err error) { o.ReadyTimeout, err = duration(v); return err }},
	{name: "stop-timeout", arg: "DURATION", help: "how long shards may take to exit after SIGTERM before SIGKILL (default 20s)",
		launch: func(o *Options, v string) (err error) { o.StopTimeout, err = duration(v); return err }},
	{name: "json", help: "print the plan as JSON (the stable form for scripts)",
		topo: func(o *TopoOptions, _ string) error { o.JSON = true; return nil }},
	{name: "sys-root", arg: "DIR", help: "read the topology from DIR/sys instead of /sys (a copy of another machine's)",
		topo: func(o *TopoOptions, v string) error { o.SysRoot = v; return nil }},
}

// shardOwned are the shard options the launcher sets itself: passing them
// after -- would break the layout, so they are refused there.
var shardOwned = []string{"port", "bind", "dir", "io", "pprof", "cluster-enabled", "cluster-config-file",
	"cluster-announce-ip", "cluster-port", "daemonize"}

// parseFlags walks args with the table, calling set for each option of the
// command (a nil set means the option belongs to the other command). Both
// --name value and --name=value are accepted, with one or two dashes.
func parseFlags(args []string, cmd string, set func(f *flagSpec, v string) (bool, error)) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" || a == "-help" {
			return ErrHelp
		}
		if a == "--" {
			return fmt.Errorf("%w: unexpected argument \"--\": shoal %s passes nothing to shards", ErrUsage, cmd)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return fmt.Errorf("%w: unexpected argument %q (shard options go after --)", ErrUsage, a)
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		var spec *flagSpec
		for j := range flagSpecs {
			if flagSpecs[j].name == name {
				spec = &flagSpecs[j]
				break
			}
		}
		if spec == nil {
			return fmt.Errorf("%w: unknown option --%s for shoal %s", ErrUsage, name, cmd)
		}
		if spec.arg == "" {
			if hasValue {
				return fmt.Errorf("%w: --%s takes no value", ErrUsage, name)
			}
		} else if !hasValue {
			if i+1 >= len(args) {
				return fmt.Errorf("%w: --%s needs a value (%s)", ErrUsage, name, spec.arg)
			}
			i++
			value = args[i]
		}
		ok, err := set(spec, value)
		if !ok {
			return fmt.Errorf("%w: unknown option --%s for shoal %s", ErrUsage, name, cmd)
		}
		if err != nil {
			return fmt.Errorf("%w: --%s %s: %v", ErrUsage, name, value, err)
		}
	}
	return nil
}

// ParseLaunchArgs reads `shoal launch` options; everything after the first
// "--" becomes Options.ShardArgs. It returns ErrHelp for --help, and an
// error wrapping ErrUsage for anything it cannot accept.
func ParseLaunchArgs(args []string) (*Options, error) {
	own, shard := args, []string(nil)
	for i, a := range args {
		if a == "--" {
			own, shard = args[:i], args[i+1:]
			break
		}
	}
	o := &Options{}
	err := parseFlags(own, "launch", func(f *flagSpec, v string) (bool, error) {
		if f.launch == nil {
			return false, nil
		}
		return true, f.launch(o, v)
	})
	if err != nil {
		return nil, err
	}
	if len(shard) > 0 {
		o.ShardArgs = append([]string(nil), shard...)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return o, nil
}

// ParseTopoArgs reads `shoal topo` options.
func ParseTopoArgs(args []string) (*TopoOptions, error) {
	o := &TopoOptions{}
	err := parseFlags(args, "topo", func(f *flagSpec, v string) (bool, error) {
		if f.topo == nil {
			return false, nil
		}
		return true, f.topo(o, v)
	})
	if err != nil {
		return nil, err
	}
	if err := checkPlanOptions(&o.Plan); err != nil {
		return nil, err
	}
	return o, nil
}

func checkPlanOptions(p *numa.PlanOptions) error {
	if p.Shards > 0 && p.ShardsPerNode > 0 {
		return fmt.Errorf("%w: --shards and --shards-per-node exclude each other", ErrUsage)
	}
	return nil
}

// check validates the options that do not depend on the plan and fills
// the defaults of the command-line fields.
func (o *Options) check() error {
	if err := checkPlanOptions(&o.Plan); err != nil {
		return err
	}
	if o.Bind == "" {
		o.Bind = DefaultBind
	}
	if o.AnnounceIP == "" {
		if isWildcard(o.Bind) {
			return fmt.Errorf("%w: --bind %s listens on every interface: say with --announce-ip which address clients should be sent to", ErrUsage, o.Bind)
		}
		o.AnnounceIP = o.Bind
	}
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.IO == "" {
		o.IO = DefaultIO
	}
	if len(o.ShardArgs) > 0 {
		for _, owned := range shardOwned {
			if hasOption(o.ShardArgs, owned) {
				return fmt.Errorf("%w: the launcher sets --%s of every shard itself: use shoal launch's own options before --", ErrUsage, owned)
			}
		}
	}
	return nil
}

// hasOption reports whether shard arguments set the Redis option name
// (--name or --name=value, in any case). A leading config file is no
// option.
func hasOption(args []string, name string) bool {
	for _, a := range args {
		if n, ok := strings.CutPrefix(a, "--"); ok && strings.EqualFold(strings.SplitN(n, "=", 2)[0], name) {
			return true
		}
	}
	return false
}

// isWildcard reports whether a bind address means every interface: "*"
// and "::*" as Redis spells them, or an unspecified IP address.
func isWildcard(addr string) bool {
	if addr == "*" || addr == "::*" {
		return true
	}
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsUnspecified()
}

// listenHost is the IP address a bind address listens on.
func listenHost(bind string) string {
	switch bind {
	case "*":
		return "0.0.0.0"
	case "::*":
		return "::"
	}
	return bind
}

// probeHost is the address the launcher reaches a shard at: its bind
// address, or loopback for a wildcard.
func probeHost(bind string) string {
	if !isWildcard(bind) {
		return bind
	}
	if ip := net.ParseIP(listenHost(bind)); ip != nil && ip.To4() == nil {
		return "::1"
	}
	return "127.0.0.1"
}

// LaunchHelp is the text of `shoal launch --help`.
func LaunchHelp() string {
	var b strings.Builder
	b.WriteString(`Usage: shoal [launch] [options] [-- shard options ...]

Carve this machine into shards and run them: read the CPU and NUMA topology,
plan one shard per physical core (or as the options say), write each shard's
nodes.conf (the 16384 slots split evenly), start one "shoal shard" process per
shard pinned to its CPUs and its node's memory, wait until every shard answers
PING, print how to connect, and supervise: a shard that exits is restarted with
backoff (100ms doubling to 5s). SIGTERM or SIGINT stops every shard (SIGTERM,
then SIGKILL after --stop-timeout) and exits 0; a second signal kills at once.
Every shard's output is printed prefixed with its name ("shard-3 | ...").

Options:
`)
	writeFlags(&b, func(f *flagSpec) bool { return f.launch != nil })
	b.WriteString(`
Data: shard i keeps DIR/shard-<i>/ (its --dir) with its nodes.conf. Node ids
are made once and kept across restarts; a DIR laid out for another number of
shards or other ports is refused rather than re-slotted.

Everything after -- is given to every shard (Redis option names, as for
"shoal shard"), after the launcher's own --port, --bind, --dir, --io and
--cluster-* options, which cannot be given there. A first word without
dashes is a config file every shard reads.

Examples:
  shoal                                  # every core of this machine, ports 6379...
  shoal --shards 8 --reserve-cores 2 -- --maxclients 20000
  shoal --bind 0.0.0.0 --announce-ip 10.0.0.5 -- --protected-mode no
`)
	return b.String()
}

// TopoHelp is the text of `shoal topo --help`.
func TopoHelp() string {
	var b strings.Builder
	b.WriteString(`Usage: shoal topo [options]

Print this machine's CPU and NUMA topology and the shard plan "shoal launch"
would use with the same options, without starting anything.

Options:
`)
	writeFlags(&b, func(f *flagSpec) bool { return f.topo != nil })
	return b.String()
}

func writeFlags(b *strings.Builder, want func(*flagSpec) bool) {
	width := 0
	for i := range flagSpecs {
		if f := &flagSpecs[i]; want(f) {
			width = max(width, len(flagLabel(f)))
		}
	}
	for i := range flagSpecs {
		if f := &flagSpecs[i]; want(f) {
			fmt.Fprintf(b, "  %-*s  %s\n", width, flagLabel(f), f.help)
		}
	}
}

func flagLabel(f *flagSpec) string {
	if f.arg == "" {
		return "--" + f.name
	}
	return "--" + f.name + " " + f.arg
}

// resolve fills the remaining defaults before a launch.
func (o *Options) resolve() error {
	if err := o.check(); err != nil {
		return err
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	o.Restart = o.Restart.withDefaults()
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.SysRoot == "" {
		o.SysRoot = "/"
	}
	if o.Bin == "" {
		bin, err := os.Executable()
		if err != nil {
			return fmt.Errorf("launcher: finding the shoal binary: %w", err)
		}
		o.Bin = bin
	}
	return nil
}
