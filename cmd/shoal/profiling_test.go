package main

import (
	"slices"
	"strings"
	"testing"
)

func TestCutProfilingArgs(t *testing.T) {
	for _, tc := range []struct {
		args        []string
		rest        []string
		kind, pprof string
		err         string
	}{
		{args: []string{"--port", "7000"}, rest: []string{"--port", "7000"}},
		{args: []string{"conf", "--profile", "cpu", "--port", "7000", "--pprof", "6060"},
			rest: []string{"conf", "--port", "7000"}, kind: "cpu", pprof: "127.0.0.1:6060"},
		{args: []string{"--profile=allocs", "--pprof=[::1]:0"}, rest: []string{}, kind: "allocs", pprof: "[::1]:0"},
		{args: []string{"--profile"}, err: "--profile needs a value"},
		{args: []string{"--profile", "heap"}, err: `unknown profile "heap"`},
		{args: []string{"--pprof", "nohost:x"}, err: "bad port"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			rest, p, err := cutProfilingArgs(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(rest, tc.rest) || p.kind != tc.kind || p.pprof != tc.pprof {
				t.Fatalf("got %q %+v %v; want %q kind %q pprof %q", rest, p, err, tc.rest, tc.kind, tc.pprof)
			}
		})
	}
}
