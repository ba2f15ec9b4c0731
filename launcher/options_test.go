package launcher

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"shoal/numa"
)

func TestParseLaunchArgs(t *testing.T) {
	defaults := Options{Bind: "127.0.0.1", AnnounceIP: "127.0.0.1", Dir: "shoal-data", IO: "auto"}
	with := func(f func(o *Options)) Options {
		o := defaults
		f(&o)
		return o
	}
	for _, tc := range []struct {
		args []string
		want Options
		err  string // substring of the error; "" for success
	}{
		{args: nil, want: defaults},
		{args: []string{"--shards", "4", "--port", "7000"},
			want: with(func(o *Options) { o.Plan.Shards, o.Plan.BasePort = 4, 7000 })},
		{args: []string{"-shards=3", "--port=7000", "--reserve-cores", "2"},
			want: with(func(o *Options) { o.Plan.Shards, o.Plan.BasePort, o.Plan.ReserveCores = 3, 7000, 2 })},
		{args: []string{"--shards-per-node", "2", "--cpus", "0-3,8"},
			want: with(func(o *Options) { o.Plan.ShardsPerNode, o.Plan.CPUs = 2, []int{0, 1, 2, 3, 8} })},
		{args: []string{"--bind", "10.1.2.3"},
			want: with(func(o *Options) { o.Bind, o.AnnounceIP = "10.1.2.3", "10.1.2.3" })},
		{args: []string{"--bind", "0.0.0.0", "--announce-ip", "10.1.2.3"},
			want: with(func(o *Options) { o.Bind, o.AnnounceIP = "0.0.0.0", "10.1.2.3" })},
		{args: []string{"--bind", "*", "--announce-ip", "fd00::5"},
			want: with(func(o *Options) { o.Bind, o.AnnounceIP = "*", "fd00::5" })},
		{args: []string{"--dir", "/var/lib/shoal", "--io", "epoll", "--ready-timeout", "2m", "--stop-timeout", "5s"},
			want: with(func(o *Options) {
				o.Dir, o.IO, o.ReadyTimeout, o.StopTimeout = "/var/lib/shoal", "epoll", 2*time.Minute, 5*time.Second
			})},
		{args: []string{"--shards", "2", "--", "--maxclients", "20000", "--save", ""},
			want: with(func(o *Options) {
				o.Plan.Shards = 2
				o.ShardArgs = []string{"--maxclients", "20000", "--save", ""}
			})},
		{args: []string{"--", "/etc/shoal/shard.conf", "--loglevel", "warning"},
			want: with(func(o *Options) { o.ShardArgs = []string{"/etc/shoal/shard.conf", "--loglevel", "warning"} })},
		{args: []string{"--"}, want: defaults},
		{args: []string{"--shard-memory", "8GB"}, want: with(func(o *Options) { o.Plan.MemCap = 8 << 30 })},
		{args: []string{"--shard-memory=500m"}, want: with(func(o *Options) { o.Plan.MemCap = 500e6 })},
		{args: []string{"--profile", "cpu", "--pprof", "6060"},
			want: with(func(o *Options) { o.Profile, o.Pprof = "cpu", "127.0.0.1:6060" })},
		{args: []string{"--profile=trace", "--pprof", "0.0.0.0:7000"},
			want: with(func(o *Options) { o.Profile, o.Pprof = "trace", "0.0.0.0:7000" })},

		{args: []string{"--help"}, err: "help requested"},
		{args: []string{"--port", "7000", "-h"}, err: "help requested"},
		{args: []string{"--shards"}, err: "--shards needs a value (N)"},
		{args: []string{"--shards", "-1"}, err: "--shards -1: must be a whole number"},
		{args: []string{"--shards", "two"}, err: "must be a whole number"},
		{args: []string{"--shards", "2", "--shards-per-node", "1"}, err: "exclude each other"},
		{args: []string{"--port", "70000"}, err: "must be a port number"},
		{args: []string{"--cpus", "0-"}, err: "--cpus 0-:"},
		{args: []string{"--bind", "localhost"}, err: "must be an IP address"},
		{args: []string{"--bind", "0.0.0.0"}, err: "say with --announce-ip"},
		{args: []string{"--bind", "::*"}, err: "say with --announce-ip"},
		{args: []string{"--announce-ip", "0.0.0.0"}, err: "must be the IP address clients reach"},
		{args: []string{"--io", "kqueue"}, err: "must be uring, epoll or auto"},
		{args: []string{"--ready-timeout", "0s"}, err: "must be a positive duration"},
		{args: []string{"--shard-memory", "0"}, err: "must be a memory size"},
		{args: []string{"--shard-memory", "lots"}, err: "must be a memory size"},
		{args: []string{"--profile", "heap"}, err: "--profile heap: must be one of cpu, mem, allocs"},
		{args: []string{"--pprof", "::1"}, err: "must be [HOST:]PORT"},
		{args: []string{"--", "--pprof", "6060"}, err: "sets --pprof of every shard itself"},
		{args: []string{"--dir="}, err: "must not be empty"},
		{args: []string{"--json"}, err: "unknown option --json for shoal launch"},
		{args: []string{"--maxclients", "5"}, err: "unknown option --maxclients for shoal launch"},
		{args: []string{"--port", "7000", "extra"}, err: `unexpected argument "extra" (shard options go after --)`},
		{args: []string{"--", "--port", "7000"}, err: "sets --port of every shard itself"},
		{args: []string{"--", "shard.conf", "--DIR", "/x"}, err: "sets --dir of every shard itself"},
		{args: []string{"--", "--cluster-enabled", "no"}, err: "sets --cluster-enabled"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := ParseLaunchArgs(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				if !errors.Is(err, ErrHelp) && !errors.Is(err, ErrUsage) {
					t.Errorf("error %v wraps neither ErrHelp nor ErrUsage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equalOptions(*got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func equalOptions(a, b Options) bool {
	return a.Plan.Shards == b.Plan.Shards && a.Plan.ShardsPerNode == b.Plan.ShardsPerNode &&
		a.Plan.ReserveCores == b.Plan.ReserveCores && slices.Equal(a.Plan.CPUs, b.Plan.CPUs) &&
		a.Plan.BasePort == b.Plan.BasePort && a.Bind == b.Bind && a.AnnounceIP == b.AnnounceIP &&
		a.Dir == b.Dir && a.IO == b.IO && slices.Equal(a.ShardArgs, b.ShardArgs) &&
		a.ReadyTimeout == b.ReadyTimeout && a.StopTimeout == b.StopTimeout &&
		a.Profile == b.Profile && a.Pprof == b.Pprof && a.Plan.MemCap == b.Plan.MemCap
}

func TestParseTopoArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want TopoOptions
		err  string
	}{
		{args: nil, want: TopoOptions{}},
		{args: []string{"--json"}, want: TopoOptions{JSON: true}},
		{args: []string{"--shards", "40", "--reserve-cores", "8", "--port", "7000", "--sys-root", "/tmp/x"},
			want: TopoOptions{Plan: numa.PlanOptions{Shards: 40, ReserveCores: 8, BasePort: 7000}, SysRoot: "/tmp/x"}},
		{args: []string{"--json=yes"}, err: "--json takes no value"},
		{args: []string{"--dir", "x"}, err: "unknown option --dir for shoal topo"},
		{args: []string{"--", "--x"}, err: `unexpected argument "--"`},
		{args: []string{"-h"}, err: "help requested"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got, err := ParseTopoArgs(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.JSON != tc.want.JSON || got.SysRoot != tc.want.SysRoot || got.Plan.Shards != tc.want.Plan.Shards ||
				got.Plan.ReserveCores != tc.want.Plan.ReserveCores || got.Plan.BasePort != tc.want.Plan.BasePort {
				t.Errorf("got %+v, want %+v", *got, tc.want)
			}
		})
	}
}

// The prose of the help texts must name only options the parsers accept,
// and list every one they accept.
func TestHelpIsTrueToTheParser(t *testing.T) {
	optRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	for _, tc := range []struct {
		name  string
		help  string
		parse func([]string) error
		has   func(*flagSpec) bool
	}{
		{"launch", LaunchHelp(), func(a []string) error { _, err := ParseLaunchArgs(a); return err },
			func(f *flagSpec) bool { return f.launch != nil }},
		{"topo", TopoHelp(), func(a []string) error { _, err := ParseTopoArgs(a); return err },
			func(f *flagSpec) bool { return f.topo != nil }},
	} {
		// Past this point the launch help speaks of shard options.
		own, _, _ := strings.Cut(tc.help, "Everything after --")
		for _, opt := range optRE.FindAllString(own, -1) {
			err := tc.parse([]string{opt})
			if err != nil && strings.Contains(err.Error(), "unknown option") {
				t.Errorf("%s help names %s, which the parser refuses: %v", tc.name, opt, err)
			}
		}
		for i := range flagSpecs {
			if f := &flagSpecs[i]; tc.has(f) && !strings.Contains(tc.help, "\n  "+flagLabel(f)+" ") {
				t.Errorf("%s help does not list %s", tc.name, flagLabel(f))
			}
		}
	}
}

func TestProbeHost(t *testing.T) {
	for _, tc := range []struct{ bind, probe, listen string }{
		{"127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"10.0.0.7", "10.0.0.7", "10.0.0.7"},
		{"*", "127.0.0.1", "0.0.0.0"},
		{"0.0.0.0", "127.0.0.1", "0.0.0.0"},
		{"::*", "::1", "::"},
		{"::", "::1", "::"},
		{"::1", "::1", "::1"},
	} {
		if got := probeHost(tc.bind); got != tc.probe {
			t.Errorf("probeHost(%q) = %q, want %q", tc.bind, got, tc.probe)
		}
		if got := listenHost(tc.bind); got != tc.listen {
			t.Errorf("listenHost(%q) = %q, want %q", tc.bind, got, tc.listen)
		}
	}
}

// FuzzParseLaunchArgs: any command line parses or is refused with a usage
// error, and what parses is complete.
func FuzzParseLaunchArgs(f *testing.F) {
	f.Add("--shards\x002\x00--port\x007000\x00--\x00--maxclients\x005")
	f.Add("--bind\x00*\x00--announce-ip\x00::1")
	f.Add("--cpus=0-3:1/2\x00--io\x00epoll")
	f.Add("--\x00conf\x00--port\x001")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := ParseLaunchArgs(args)
		if err != nil {
			if !errors.Is(err, ErrUsage) && !errors.Is(err, ErrHelp) {
				t.Fatalf("%q: error %v wraps neither ErrUsage nor ErrHelp", args, err)
			}
			return
		}
		if o.Bind == "" || o.AnnounceIP == "" || o.Dir == "" || o.IO == "" || isWildcard(o.AnnounceIP) {
			t.Fatalf("%q: incomplete options %+v", args, o)
		}
		if o.Plan.Shards > 0 && o.Plan.ShardsPerNode > 0 {
			t.Fatalf("%q: both shard counts", args)
		}
	})
}
