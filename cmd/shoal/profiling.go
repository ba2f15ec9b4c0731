package main

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"shoal/internal/rlog"
	"shoal/perf/profiling"
)

// profilingArgs are the shard's profiling switches, taken out of its
// arguments before the rest is read as Redis configuration.
type profilingArgs struct {
	kind  string // "" for none
	pprof string // "" for none
}

// cutProfilingArgs removes --profile KIND and --pprof ADDR (also in the
// --name=value form) from args.
func cutProfilingArgs(args []string) ([]string, profilingArgs, error) {
	var p profilingArgs
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		name, value, inline := strings.Cut(args[i], "=")
		var dst *string
		switch name {
		case "--profile":
			dst = &p.kind
		case "--pprof":
			dst = &p.pprof
		default:
			rest = append(rest, args[i])
			continue
		}
		if !inline {
			if i+1 == len(args) {
				return nil, p, fmt.Errorf("%s needs a value", name)
			}
			i++
			value = args[i]
		}
		*dst = value
	}
	if p.kind != "" {
		if err := profiling.CheckKind(p.kind); err != nil {
			return nil, p, err
		}
	}
	if p.pprof != "" {
		a, err := profiling.PprofAddr(p.pprof)
		if err != nil {
			return nil, p, err
		}
		p.pprof = a
	}
	return rest, p, nil
}

// startProfiling starts what p asks for, with profiles written to dir, and
// returns the function that stops it (writing the profile). SIGUSR2 writes
// a snapshot meanwhile.
func startProfiling(p profilingArgs, dir string) (stop func(), err error) {
	var sess *profiling.Session
	var srv *profiling.Server
	if p.pprof != "" {
		srv, err = profiling.ServePprof(p.pprof)
		if err != nil {
			return nil, err
		}
		rlog.Logf(rlog.Notice, "pprof serving on http://%s/debug/pprof/", srv.Addr())
	}
	if p.kind != "" {
		sess, err = profiling.Start(p.kind, dir)
		if err != nil {
			if srv != nil {
				srv.Close()
			}
			return nil, err
		}
		rlog.Logf(rlog.Notice, "Profiling %s; SIGUSR2 writes a snapshot, a clean stop the profile", p.kind)
	}
	sigs := make(chan os.Signal, 1)
	done := make(chan struct{})
	if sess != nil {
		signal.Notify(sigs, syscall.SIGUSR2)
		go func() {
			for {
				select {
				case <-sigs:
					if path, err := sess.Snapshot(); err != nil {
						rlog.Logf(rlog.Warning, "Profile snapshot failed: %v", err)
					} else {
						rlog.Logf(rlog.Notice, "Profile snapshot written to %s", path)
					}
				case <-done:
					return
				}
			}
		}()
	}
	return func() {
		if sess != nil {
			signal.Stop(sigs)
			close(done)
			if path, err := sess.Stop(); err != nil {
				rlog.Logf(rlog.Warning, "Writing the %s profile failed: %v", p.kind, err)
			} else {
				rlog.Logf(rlog.Notice, "%s profile written to %s", p.kind, path)
			}
		}
		if srv != nil {
			srv.Close()
		}
	}, nil
}
