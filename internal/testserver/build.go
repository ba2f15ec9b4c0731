package testserver

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// build is the result of the one build of ./cmd/shoal per process.
var build struct {
	once sync.Once
	path string
	skip string // non-empty: cmd/shoal has no main package yet
	err  error
}

// BuildShoal returns the path of a shoal binary: $SHOAL_BIN when set,
// otherwise ./cmd/shoal of the enclosing module built once per process.
//
// The binary goes to a per-user, per-module directory under os.TempDir
// (written under a temporary name and renamed into place, so concurrent
// test binaries never run a half-written file); each build replaces the
// previous one, so runs leave one binary behind, not one per run. Go's
// build cache makes a rebuild of unchanged sources a link only.
//
// It skips the test when the module has no cmd/shoal main package yet and
// fails it when the build fails, with the compiler's output.
func BuildShoal(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.path, build.skip, build.err = buildShoal()
	})
	switch {
	case build.err != nil:
		t.Fatalf("%v", build.err)
	case build.skip != "":
		t.Skip(build.skip)
	}
	return build.path
}

func buildShoal() (path, skip string, err error) {
	if bin := os.Getenv("SHOAL_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", "", fmt.Errorf("testserver: SHOAL_BIN: %w", err)
		}
		if err := checkExecutable(abs); err != nil {
			return "", "", fmt.Errorf("testserver: SHOAL_BIN: %w", err)
		}
		return abs, "", nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", "", fmt.Errorf("testserver: %w", err)
	}
	root, err := ModuleRoot(wd)
	if err != nil {
		return "", "", err
	}
	pkg := filepath.Join(root, "cmd", "shoal")
	if ok, err := hasGoFiles(pkg); err != nil {
		return "", "", err
	} else if !ok {
		return "", "cmd/shoal has no Go files yet: nothing to test against (set SHOAL_BIN to use a prebuilt binary)", nil
	}
	goTool, err := goCommand()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(os.TempDir(),
		"shoal-testbin-"+strconv.Itoa(os.Getuid()),
		pathHash(root))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("testserver: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "shoal-*.tmp")
	if err != nil {
		return "", "", fmt.Errorf("testserver: %w", err)
	}
	tmp.Close()
	cmd := exec.Command(goTool, "build", "-o", tmp.Name(), "./cmd/shoal")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(tmp.Name())
		return "", "", fmt.Errorf("testserver: go build ./cmd/shoal: %w\n%s", err, out)
	}
	final := filepath.Join(dir, "shoal")
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return "", "", fmt.Errorf("testserver: %w", err)
	}
	return final, "", nil
}

// pathHash names a module root's build directory.
func pathHash(root string) string {
	h := fnv.New64a()
	h.Write([]byte(root))
	return strconv.FormatUint(h.Sum64(), 16)
}

// ModuleRoot walks up from dir to the nearest directory holding go.mod.
func ModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("testserver: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("testserver: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testserver: no go.mod above the working directory")
		}
		dir = parent
	}
}

// hasGoFiles reports whether dir holds a non-test Go source file.
func hasGoFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("testserver: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			return true, nil
		}
	}
	return false, nil
}

// goCommand finds the go tool: on PATH, else under $GOROOT.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", errors.New("testserver: the go tool is neither on PATH nor under $GOROOT/bin")
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}
