package main

import (
	"fmt"
	"strconv"
	"strings"
)

// targetKind says which binary a Target runs.
type targetKind int

const (
	kindRedis targetKind = iota
	kindShoal
)

// Target is a server under test, as data.
type Target struct {
	Name string     // row label and --servers key
	Kind targetKind // which binary
	IO   string     // Shoal's --io backend
	Doc  string     // one line for --list
}

// baseline is the target the ratios are taken against.
const baseline = "redis"

// targets lists every server the harness knows, in default run order.
var targets = []Target{
	{Name: "redis", Kind: kindRedis, Doc: `redis-server --save "" --appendonly no`},
	{Name: "shoal-uring", Kind: kindShoal, IO: "uring", Doc: "shoal shard --io uring"},
	{Name: "shoal-epoll", Kind: kindShoal, IO: "epoll", Doc: "shoal shard --io epoll"},
}

// binaries are the programs the harness runs.
type binaries struct {
	redis     string // redis-server
	shoal     string // shoal
	benchmark string // redis-benchmark
	taskset   string // taskset; empty when pinning is off
}

// argv returns the command line that starts t listening on host:port with
// its data in dir, in the foreground.
func (t Target) argv(b binaries, host string, port int, dir string) []string {
	p := strconv.Itoa(port)
	switch t.Kind {
	case kindShoal:
		return []string{b.shoal, "shard", "--port", p, "--bind", host, "--io", t.IO, "--dir", dir}
	default:
		return []string{b.redis, "--port", p, "--bind", host, "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--logfile", ""}
	}
}

// selectTargets resolves a comma-separated list of target names, keeping the
// given order and dropping repeats.
func selectTargets(list string) ([]Target, error) {
	var out []Target
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		t, ok := findTarget(name)
		if !ok {
			return nil, fmt.Errorf("bench: unknown server %q (known: %s)", name, targetNames())
		}
		seen[name] = true
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no servers selected")
	}
	return out, nil
}

func findTarget(name string) (Target, bool) {
	for _, t := range targets {
		if t.Name == name {
			return t, true
		}
	}
	return Target{}, false
}

func targetNames() string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}
