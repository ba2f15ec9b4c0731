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
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("%w (pass --shoal-bin)", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("bench: go not found to build shoal (pass --shoal-bin): %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	bin := filepath.Join(dir, "shoal")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "./cmd/shoal")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("bench: building shoal failed (pass --shoal-bin, or --servers %s): %w\n%s",
			baseline, err, bytes.TrimSpace(out))
	}
	return bin, nil
}
