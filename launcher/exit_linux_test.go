//go:build linux

package launcher

import (
	"os/exec"
	"testing"
)

func TestExitReason(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"exit 0", "exited with status 0"},
		{"exit 3", "exited with status 3"},
		{"kill -KILL $$", "killed by signal 9 (SIGKILL)"},
		{"kill -TERM $$", "killed by signal 15 (SIGTERM)"},
		{"kill -SEGV $$", "killed by signal 11 (SIGSEGV)"},
	} {
		cmd := exec.Command("/bin/sh", "-c", "ulimit -c 0; "+tc.script)
		cmd.Run()
		if got := ExitReason(cmd.ProcessState); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.script, got, tc.want)
		}
	}
	if got := ExitReason(nil); got != "ended (no status)" {
		t.Errorf("nil: %q", got)
	}
}
