package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShardBadNodesConf starts `shoal shard` in cluster mode on a
// nodes.conf it cannot use: the process must exit with status 1 before
// serving, and its log must name the file and the problem.
func TestShardBadNodesConf(t *testing.T) {
	tests := []struct {
		name, conf, problem string
	}{
		{"garbage", "not a nodes.conf\n", "line 1: too few fields"},
		{"no myself", "b2e1d4c3f5a6071829304b5c6d7e8f90a1b2c3d4 127.0.0.1:7001@17001 master - 0 0 2 connected 0-16383\n",
			"no node is flagged myself"},
		{"other port", "a1f0c3b2d4e5f60718293a4b5c6d7e8f90a1b2c3 127.0.0.1:7005@17005 myself,master - 0 0 1 connected 0-16383\n",
			"at port 7005, but the shard's port is 7000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "cluster-nodes.conf")
			if err := os.WriteFile(conf, []byte(tc.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "shard", "--port", "7000", "--bind", "127.0.0.1", "--dir", dir,
				"--cluster-enabled", "yes", "--cluster-config-file", "cluster-nodes.conf")
			cmd.Env = append(os.Environ(), asShoalEnv+"=1")
			cmd.WaitDelay = time.Second
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, out)
			}
			if s := string(out); !strings.Contains(s, conf) || !strings.Contains(s, tc.problem) ||
				strings.Contains(s, "Ready to accept connections") {
				t.Fatalf("output does not name %s and %q, or the shard served:\n%s", conf, tc.problem, s)
			}
		})
	}
}
