package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	moduleName   = "shoal"
	buildTimeout = 5 * time.Minute
)

// moduleRoot finds the directory of the shoal module's go.mod, searching
// from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("bench: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == moduleName {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("bench: no go.mod of module %q above the working directory", moduleName)
		}
		dir = parent
	}
}

// modulePath returns the path on go.mod's module line.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// buildShoal builds ./cmd/shoal into dir and returns the binary's path.
func buildShoal(ctx context.Context, dir string) (string, error) {
	return buildCommand(ctx, dir, "./cmd/shoal", "shoal", "pass --shoal-bin, or --servers "+baseline)
}

// buildShoalNoPGO builds ./cmd/shoal with -pgo=off into dir and returns
// the binary's path.
func buildShoalNoPGO(ctx context.Context, dir string) (string, error) {
	return buildCommand(ctx, dir, "./cmd/shoal", "shoal-nopgo", "leave shoal-nopgo out of --servers", "-pgo=off")
}

// buildCeiling builds ./perf/ceiling into dir and returns the binary's
// path.
func buildCeiling(ctx context.Context, dir string) (string, error) {
	return buildCommand(ctx, dir, "./perf/ceiling", "ceiling", "pass --ceiling-bin, or leave ceiling out of --servers")
}

// buildCommand builds the main package pkg of the shoal module into
// dir/name with the extra go build flags. hint says what to do instead
// when that fails.
func buildCommand(ctx context.Context, dir, pkg, name, hint string, flags ...string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w (%s)", err, hint)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("bench: go not found to build %s (%s): %w", name, hint, err)
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	bin := filepath.Join(dir, name)
	args := append(append([]string{"build"}, flags...), "-o", bin, pkg)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: building %s failed (%s): %w\n%s", name, hint, err, bytes.TrimSpace(out))
	}
	return bin, nil
}
