package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"shoal/launcher"
	"shoal/numa"
)

// runLaunch is `shoal [launch] [options] [-- shard options]`: the whole
// machine as shards, supervised until SIGTERM or SIGINT (exit 0). A second
// signal kills the shards at once.
func runLaunch(args []string, stdout, stderr io.Writer) int {
	o, err := launcher.ParseLaunchArgs(args)
	if errors.Is(err, launcher.ErrHelp) {
		fmt.Fprint(stdout, launcher.LaunchHelp())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "shoal: %v\nRun 'shoal launch --help' for the options.\n", err)
		return 1
	}
	o.Out = stdout
	o.Version = version
	l, err := launcher.New(*o)
	if err != nil {
		fmt.Fprintf(stderr, "shoal: %v\n", err)
		return 1
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for n := 0; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 0 {
				cancel()
			} else {
				l.Kill()
			}
		}
	}()

	if err := l.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "shoal: %v\n", err)
		return 1
	}
	return 0
}

// runTopo is `shoal topo`: the topology and the plan, nothing started.
func runTopo(args []string, stdout, stderr io.Writer) int {
	o, err := launcher.ParseTopoArgs(args)
	if errors.Is(err, launcher.ErrHelp) {
		fmt.Fprint(stdout, launcher.TopoHelp())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "shoal: %v\nRun 'shoal topo --help' for the options.\n", err)
		return 1
	}
	t, p, err := launcher.MakePlan(o.SysRoot, o.Plan)
	if err != nil {
		fmt.Fprintf(stderr, "shoal: %v\n", err)
		return 1
	}
	if o.JSON {
		data, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "shoal: %v\n", err)
			return 1
		}
		stdout.Write(append(data, '\n'))
		return 0
	}
	writeNodes(stdout, t)
	if err := p.WriteTable(stdout); err != nil {
		fmt.Fprintf(stderr, "shoal: %v\n", err)
		return 1
	}
	return 0
}

// writeNodes lists the topology node by node, before the plan's table.
func writeNodes(w io.Writer, t *numa.Topology) {
	for _, n := range t.Nodes {
		mem := "memory unknown"
		if n.MemBytes > 0 {
			mem = numa.FormatBytes(n.MemBytes)
		}
		cpus := "no CPUs"
		if len(n.CPUs) > 0 {
			cpus = "CPUs " + numa.FormatCPUList(n.CPUs)
		}
		fmt.Fprintf(w, "node %d: %s, %d cores, %s\n", n.ID, cpus, len(t.Cores(n.ID)), mem)
	}
}
