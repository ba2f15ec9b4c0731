package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	names := func(c *config) (servers, wls []string) {
		for _, s := range c.servers {
			servers = append(servers, s.Name)
		}
		for _, w := range c.workloads {
			wls = append(wls, w.Name)
		}
		return
	}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, c *config)
		wantErr string
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, c *config) {
			s, w := names(c)
			if !slices.Equal(s, []string{"redis", "shoal-uring", "shoal-epoll", "ceiling", "redis-cluster", "shoal-cluster"}) ||
				!slices.Equal(w, []string{"p1", "p30"}) {
				t.Errorf("servers %v workloads %v", s, w)
			}
			if c.runs != 3 || c.keys != 1_000_000 || c.valueSize != 256 || !c.preload || c.mem || c.threads != 0 {
				t.Errorf("defaults: %+v", c)
			}
			p1, p30 := c.workloads[0], c.workloads[1]
			if p1.Pipeline != 1 || p30.Pipeline != 30 || p1.Clients != 50 || p1.DataSize != 256 || p1.Keyspace != 1_000_000 ||
				p1.Requests != 200_000 || p30.Requests != 2_000_000 || !slices.Equal(p1.Tests, []string{"get", "set"}) {
				t.Errorf("workloads: %+v", c.workloads)
			}
			if len(c.serverCPUs) == 0 || len(c.clientCPUs) == 0 {
				t.Errorf("no CPU placement: %v %v", c.serverCPUs, c.clientCPUs)
			}
		}},
		{name: "quick", args: []string{"--quick"}, check: func(t *testing.T, c *config) {
			if c.runs != 1 || c.keys != quickKeys {
				t.Errorf("runs %d keys %d", c.runs, c.keys)
			}
			for _, w := range c.workloads {
				if w.Requests != quickRequests || w.Keyspace != quickKeyspace {
					t.Errorf("quick workload %+v", w)
				}
			}
		}},
		{name: "quick keeps explicit values", args: []string{"--quick", "--runs", "2", "--requests", "77", "--keyspace", "9", "--keys", "5"},
			check: func(t *testing.T, c *config) {
				if c.runs != 2 || c.keys != 5 || c.workloads[0].Requests != 77 || c.workloads[1].Keyspace != 9 {
					t.Errorf("explicit values lost: runs %d keys %d %+v", c.runs, c.keys, c.workloads)
				}
			}},
		{name: "selection keeps order", args: []string{"--servers", "shoal-epoll,redis,redis", "--workloads", "p30", "--tests", "SET, incr"},
			check: func(t *testing.T, c *config) {
				s, w := names(c)
				if !slices.Equal(s, []string{"shoal-epoll", "redis"}) || !slices.Equal(w, []string{"p30"}) {
					t.Errorf("servers %v workloads %v", s, w)
				}
				if !slices.Equal(c.workloads[0].Tests, []string{"set", "incr"}) {
					t.Errorf("tests %v", c.workloads[0].Tests)
				}
				if !slices.Equal(workloads[1].Tests, []string{"get", "set"}) {
					t.Errorf("--tests modified the workload table: %v", workloads[1].Tests)
				}
			}},
		{name: "placement", args: []string{"--server-cpus", "0"}, check: func(t *testing.T, c *config) {
			if !slices.Equal(c.serverCPUs, CPUSet{0}) || c.clientCPUs.Overlaps(c.serverCPUs) && len(c.clientCPUs) > 1 {
				t.Errorf("server %v client %v", c.serverCPUs, c.clientCPUs)
			}
		}},
		{name: "no pin", args: []string{"--no-pin"}, check: func(t *testing.T, c *config) {
			if c.serverCPUs != nil || c.clientCPUs != nil {
				t.Errorf("pinned anyway: %v %v", c.serverCPUs, c.clientCPUs)
			}
		}},
		{name: "collections", args: []string{"--mem-collections"}, check: func(t *testing.T, c *config) {
			s, _ := names(c)
			if !c.memoryMode() || c.mem || c.collElements != collElements || !slices.Equal(s, []string{"redis", "shoal-uring", "shoal-epoll"}) {
				t.Errorf("memoryMode %v mem %v elements %d servers %v", c.memoryMode(), c.mem, c.collElements, s)
			}
		}},
		{name: "collections quick", args: []string{"--mem-collections", "--quick"}, check: func(t *testing.T, c *config) {
			if c.collElements != quickCollElem {
				t.Errorf("elements %d", c.collElements)
			}
		}},
		{name: "collections explicit", args: []string{"--mem", "--quick", "--coll-elements", "300"}, check: func(t *testing.T, c *config) {
			if !c.mem || c.collElements != 300 {
				t.Errorf("mem %v elements %d", c.mem, c.collElements)
			}
		}},
		{name: "aof", args: []string{"--aof"}, check: func(t *testing.T, c *config) {
			s, w := names(c)
			if !c.aof || !c.aofSet || !c.aofRewrite || c.aofSize != 1<<30 || c.aofDir != "" || !slices.Equal(c.aofFsyncs, []string{"off", "everysec", "always"}) ||
				!slices.Equal(s, []string{"redis", "shoal-uring", "shoal-epoll"}) || !slices.Equal(w, []string{"p1", "p30"}) {
				t.Errorf("aof %v set %v size %d dir %q fsyncs %v servers %v workloads %v", c.aof, c.aofSet, c.aofSize, c.aofDir, c.aofFsyncs, s, w)
			}
			for _, w := range c.workloads {
				if !slices.Equal(w.Tests, []string{"set"}) || w.DataSize != 256 || w.Keyspace != 1_000_000 {
					t.Errorf("aof workload %+v", w)
				}
			}
			if c.memoryMode() {
				t.Error("--aof is a memory mode")
			}
		}},
		{name: "aof quick", args: []string{"--aof", "--quick", "--aof-fsync", "always,no", "--aof-dir", "/var/tmp", "--aof-set=false", "--aof-rewrite=false"},
			check: func(t *testing.T, c *config) {
				if c.aofSize != 100<<20 || c.aofSet || c.aofRewrite || c.aofDir != "/var/tmp" || !slices.Equal(c.aofFsyncs, []string{"always", "no"}) ||
					c.workloads[0].Keyspace != quickKeyspace {
					t.Errorf("size %d set %v dir %q fsyncs %v keyspace %d", c.aofSize, c.aofSet, c.aofDir, c.aofFsyncs, c.workloads[0].Keyspace)
				}
			}},
		{name: "aof explicit size and tests", args: []string{"--aof", "--quick", "--aof-size", "0", "--tests", "set,incr"},
			check: func(t *testing.T, c *config) {
				if c.aofSize != 0 || !slices.Equal(c.workloads[1].Tests, []string{"set", "incr"}) {
					t.Errorf("size %d tests %v", c.aofSize, c.workloads[1].Tests)
				}
			}},
		{name: "aof nothing to run", args: []string{"--aof", "--aof-set=false", "--aof-size", "0"}, wantErr: "nothing to run"},
		{name: "aof bad policy", args: []string{"--aof", "--aof-fsync", "everysec,sometimes"}, wantErr: "appendfsync policy"},
		{name: "aof bad size", args: []string{"--aof", "--aof-size", "1tb"}, wantErr: "bad size"},
		{name: "aof huge size", args: []string{"--aof", "--aof-size", "2000gb"}, wantErr: "over 1 TiB"},
		{name: "aof with mem", args: []string{"--aof", "--mem"}, wantErr: "separate modes"},
		{name: "aof of a cluster", args: []string{"--aof", "--servers", "redis,shoal-cluster"}, wantErr: "--aof measures single servers"},
		{name: "collections of a cluster", args: []string{"--mem-collections", "--servers", "redis-cluster"}, wantErr: "single servers"},
		{name: "zero elements", args: []string{"--mem-collections", "--coll-elements", "0"}, wantErr: "--coll-elements"},
		{name: "unknown server", args: []string{"--servers", "memcached"}, wantErr: "unknown server"},
		{name: "unknown workload", args: []string{"--workloads", "p2"}, wantErr: "unknown workload"},
		{name: "empty servers", args: []string{"--servers", ","}, wantErr: "no servers"},
		{name: "bad test", args: []string{"--tests", "get;flushall"}, wantErr: "bad test"},
		{name: "zero runs", args: []string{"--runs", "0"}, wantErr: "--runs"},
		{name: "negative requests", args: []string{"--requests", "-1"}, wantErr: "negative"},
		{name: "zero keys", args: []string{"--mem", "--keys", "0"}, wantErr: "--keys"},
		{name: "bad cpus", args: []string{"--server-cpus", "x"}, wantErr: "CPU"},
		{name: "no-pin with cpus", args: []string{"--no-pin", "--client-cpus", "0"}, wantErr: "--no-pin"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected"},
		{name: "unknown flag", args: []string{"--fast"}, wantErr: "not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h gave %v", err)
	}
}

func TestBenchmarkArgs(t *testing.T) {
	w := Workload{Name: "p30", Tests: []string{"get", "set"}, Clients: 50, DataSize: 256, Keyspace: 1_000_000, Pipeline: 30, Requests: 5}
	got := strings.Join(w.benchmarkArgs("127.0.0.1", 7000, 0), " ")
	want := "-h 127.0.0.1 -p 7000 -t get,set -c 50 -d 256 -r 1000000 -P 30 -n 5 --csv"
	if got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
	if got := w.benchmarkArgs("127.0.0.1", 7000, 4); !slices.Equal(got[len(got)-2:], []string{"--threads", "4"}) {
		t.Errorf("threads not passed: %q", got)
	}
	if !w.needsPreload() || (Workload{Tests: []string{"set"}}).needsPreload() {
		t.Error("needsPreload wrong")
	}
}

func TestTargetArgv(t *testing.T) {
	b := binaries{redis: "/r/redis-server", shoal: "/s/shoal", ceiling: "/c/ceiling"}
	tests := []struct {
		target string
		want   string
	}{
		{"redis", `/r/redis-server --port 7 --bind 127.0.0.1 --save  --appendonly no --dir /d --daemonize no --logfile `},
		{"shoal-uring", "/s/shoal shard --port 7 --bind 127.0.0.1 --io uring --dir /d --appendonly no"},
		{"shoal-epoll", "/s/shoal shard --port 7 --bind 127.0.0.1 --io epoll --dir /d --appendonly no"},
		{"ceiling", "/c/ceiling --port 7 --bind 127.0.0.1 --value-size 100"},
	}
	for _, tt := range tests {
		tg, ok := findTarget(tt.target)
		if !ok {
			t.Fatalf("no target %s", tt.target)
		}
		if got := strings.Join(tg.argv(b, host, 7, "/d", 100), " "); got != tt.want {
			t.Errorf("%s argv = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestModulePath(t *testing.T) {
	tests := map[string]string{
		"module shoal\n\ngo 1.26\n":            "shoal",
		"// c\nmodule \"example.com/x\"\n":     "example.com/x",
		"go 1.26\n":                            "",
		"module   shoal // trailing comment\n": "shoal",
	}
	for in, want := range tests {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}
