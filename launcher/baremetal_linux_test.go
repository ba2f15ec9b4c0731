//go:build linux

package launcher

import (
	"context"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// baremetalScript is scripts/shoal-baremetal.sh, which prepares a host for
// the launcher.
const baremetalScript = "../scripts/shoal-baremetal.sh"

// runScript runs the bare-metal script with args (bounded) and returns its
// output and exit status.
func runScript(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{baremetalScript}, args...)...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running the script: %v\n%s", err, out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// snapshot reads every file the script may write, under root.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := []string{
		"proc/sys/net/core/somaxconn",
		"proc/sys/kernel/io_uring_disabled",
		"proc/sys/vm/overcommit_memory",
		"sys/kernel/mm/transparent_hugepage/enabled",
	}
	irqs, _ := filepath.Glob(filepath.Join(root, "proc/irq/*/smp_affinity_list"))
	for _, f := range irqs {
		rel, _ := filepath.Rel(root, f)
		files = append(files, rel)
	}
	snap := map[string]string{}
	for _, f := range files {
		if data, err := os.ReadFile(filepath.Join(root, f)); err == nil {
			snap[f] = string(data)
		}
	}
	return snap
}

// TestBaremetalCheckChangesNothing runs the script's check mode on this
// machine: it must report every setting and change none.
func TestBaremetalCheckChangesNothing(t *testing.T) {
	before := snapshot(t, "/")
	out, code := runScript(t, "--check", "--irq-cpus", "0")
	if after := snapshot(t, "/"); !maps.Equal(before, after) {
		t.Fatalf("check mode changed the host:\nbefore %v\nafter  %v", before, after)
	}
	for _, want := range []string{"net.core.somaxconn", "kernel.io_uring_disabled", "vm.overcommit_memory",
		"transparent huge pages", "open files (ulimit -n)", "locked memory", "NIC interrupts"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report says nothing of %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "done:") || strings.Contains(out, "exec ") {
		t.Errorf("check mode changed something or ran shoal:\n%s", out)
	}
	off := strings.Contains(out, "\noff ")
	if (code == 0) == off || (code != 0 && code != 1) {
		t.Errorf("exit status %d with settings off: %v\n%s", code, off, out)
	}
}

// fakeHost is a /proc and /sys tree of a host that needs everything
// changed: NIC nic0 with two MSI interrupts, nic1 known only from
// /proc/interrupts.
func fakeHost(t *testing.T) string {
	root := t.TempDir()
	for name, content := range map[string]string{
		"proc/sys/net/core/somaxconn":                "128\n",
		"proc/sys/kernel/io_uring_disabled":          "2\n",
		"proc/sys/vm/overcommit_memory":              "0\n",
		"sys/kernel/mm/transparent_hugepage/enabled": "[always] madvise never\n",
		"sys/class/net/nic0/device/msi_irqs/40":      "msix\n",
		"sys/class/net/nic0/device/msi_irqs/41":      "msix\n",
		"sys/class/net/nic1/device/vendor":           "0x8086\n",
		"proc/irq/40/smp_affinity_list":              "0-7\n",
		"proc/irq/41/smp_affinity_list":              "6-7\n",
		"proc/irq/52/smp_affinity_list":              "3\n",
		"proc/irq/53/smp_affinity_list":              "3\n",
		"proc/interrupts": "            CPU0       CPU1\n" +
			"  52:        10          0  IR-PCI-MSI 1048576-edge      nic1-TxRx-0\n" +
			"  53:         0         12  IR-PCI-MSI 1048577-edge      nic10-TxRx-0\n",
	} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestBaremetalOnAFakeHost(t *testing.T) {
	root := fakeHost(t)
	fakeShoal := filepath.Join(t.TempDir(), "shoal")
	if err := os.WriteFile(fakeShoal, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"arg[$a]\"; done\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	common := []string{"--root", root, "--irq-cpus", "6-7", "--nofile", "64", "--shoal", fakeShoal}
	orig := snapshot(t, root)

	// Check mode: everything is reported off, nothing changes.
	out, code := runScript(t, append([]string{"--check"}, common...)...)
	if code != 1 {
		t.Errorf("--check on a host that needs changes: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"off     net.core.somaxconn = 128, want >= 511\n",
		"off     kernel.io_uring_disabled = 2, want 0\n",
		"off     vm.overcommit_memory = 0, want 1\n",
		"off     transparent huge pages: always, want madvise or never\n",
		"ok      open files (ulimit -n) = ",
		"off     NIC interrupts of nic0: 1 of 2 IRQs not on CPUs 6-7 (IRQs 40)\n",
		"off     NIC interrupts of nic1: 1 of 1 IRQs not on CPUs 6-7 (IRQs 52)\n",
		"        fix: sysctl -w net.core.somaxconn=511",
		"Run with --apply",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "arg[") {
		t.Errorf("--check ran shoal:\n%s", out)
	}
	if now := snapshot(t, root); !maps.Equal(orig, now) {
		t.Fatalf("--check changed files:\n%v\n%v", orig, now)
	}

	// Without --apply: the same report, nothing changed, then shoal runs
	// with the options after -- as they were given.
	shoalArgs := []string{"--shards", "2", "--port", "7000", "--", "--maxclients", "100", "--save", ""}
	out, code = runScript(t, append(append(common, "--"), shoalArgs...)...)
	if code != 0 {
		t.Errorf("exit %d\n%s", code, out)
	}
	if now := snapshot(t, root); !maps.Equal(orig, now) {
		t.Fatalf("running without --apply changed files:\n%v\n%v", orig, now)
	}
	var got []string
	for line := range strings.Lines(out) {
		if a, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "arg["); ok {
			got = append(got, strings.TrimSuffix(a, "]"))
		}
	}
	if !slices.Equal(got, shoalArgs) {
		t.Errorf("shoal got %q, want %q\n%s", got, shoalArgs, out)
	}
	if !strings.Contains(out, "Starting shoal anyway") {
		t.Errorf("no warning before starting shoal on a host that needs changes:\n%s", out)
	}

	// --apply changes exactly what was off, saying so, then runs shoal.
	out, code = runScript(t, append(common, "--apply")...)
	if code != 0 {
		t.Errorf("--apply: exit %d\n%s", code, out)
	}
	want := maps.Clone(orig)
	want["proc/sys/net/core/somaxconn"] = "511\n"
	want["proc/sys/kernel/io_uring_disabled"] = "0\n"
	want["proc/sys/vm/overcommit_memory"] = "1\n"
	want["sys/kernel/mm/transparent_hugepage/enabled"] = "madvise\n"
	want["proc/irq/40/smp_affinity_list"] = "6-7\n"
	want["proc/irq/52/smp_affinity_list"] = "6-7\n"
	if now := snapshot(t, root); !maps.Equal(want, now) {
		t.Errorf("after --apply:\n got %v\nwant %v", now, want)
	}
	for _, line := range []string{"done: net.core.somaxconn = 511", "done: IRQ 40 -> CPUs 6-7", "done: IRQ 52 -> CPUs 6-7",
		"done: transparent huge pages = madvise", "6 off (changed), 0 failed", "exec " + fakeShoal} {
		if !strings.Contains(out, line) {
			t.Errorf("--apply output lacks %q:\n%s", line, out)
		}
	}

	// Now the host is ready.
	out, code = runScript(t, append([]string{"--check"}, common...)...)
	if code != 0 || strings.Contains(out, "\noff ") {
		t.Errorf("--check after --apply: exit %d\n%s", code, out)
	}
}

func TestBaremetalUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage: shoal-baremetal.sh [options] [-- shoal options ...]"},
		{[]string{"--apply", "--check"}, 2, "--apply and --check exclude each other"},
		{[]string{"--irq-cpus", "six"}, 2, "--irq-cpus must be a CPU list"},
		{[]string{"--nofile"}, 2, "--nofile needs a value"},
		{[]string{"--shards", "2"}, 2, "unknown option --shards (shoal's options go after --)"},
	} {
		out, code := runScript(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%q: exit %d, want %d with %q:\n%s", tc.args, code, tc.code, tc.want, out)
		}
	}
}
