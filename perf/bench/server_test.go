package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testSpec(t *testing.T, name string, argv []string, port int) serverSpec {
	return serverSpec{name: name, argv: argv, host: host, port: port, dir: t.TempDir(), startTimeout: 5 * time.Second}
}

func TestStartServerFailureShowsOutput(t *testing.T) {
	dir := t.TempDir()
	bin := writeScript(t, dir, "bad-server", "echo 'boom: unknown option --io' >&2\nexit 3")
	start := time.Now()
	_, err := startServer(context.Background(), testSpec(t, "bad", []string{bin}, 1))
	if err == nil {
		t.Fatal("started a server that exits")
	}
	for _, want := range []string{"bad did not start", "exited early", "boom: unknown option --io"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("noticing the exit took %v", d)
	}
}

func TestStartServerTimeoutStopsProcess(t *testing.T) {
	dir := t.TempDir()
	pidFile := dir + "/pid"
	bin := writeScript(t, dir, "mute-server", "echo $$ > "+pidFile+"\nexec sleep 30")
	spec := testSpec(t, "mute", []string{bin}, 1)
	spec.startTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := startServer(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "no PONG within") {
		t.Fatalf("err = %v, want a start timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timing out took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 || !processGone(pid) {
		t.Errorf("process %d still exists after a failed start", pid)
	}
}

func TestStopEscalatesToKill(t *testing.T) {
	port, err := freePort(host)
	if err != nil {
		t.Fatal(err)
	}
	spec := testSpec(t, "stubborn", fakeServerArgv(t, "ignore-term", port), port)
	spec.termGrace = 300 * time.Millisecond
	srv, err := startServer(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	err = srv.stop()
	if err == nil || !strings.Contains(err.Error(), "ignored SIGTERM") {
		t.Errorf("stop = %v, want a note that SIGKILL was needed", err)
	}
	if !processGone(srv.pid) {
		t.Errorf("pid %d survived stop", srv.pid)
	}
	if err := srv.stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

func TestStartStopPinned(t *testing.T) {
	needRedis(t)
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	serverCPU, _ := splitCPUs(cpus)
	port, err := freePort(host)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	redis := Target{Name: "redis", Kind: kindRedis}
	spec := testSpec(t, "redis", redis.argv(binaries{redis: "redis-server"}, host, port, dir, 0), port)
	spec.dir, spec.cpus, spec.taskset = dir, serverCPU, "taskset"
	srv, err := startServer(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	st, err := readProcStatus(srv.pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUsAllowed != serverCPU.String() {
		t.Errorf("server runs on CPUs %q, want %q", st.CPUsAllowed, serverCPU)
	}
	if err := srv.ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	if !processGone(srv.pid) || srv.alive() {
		t.Errorf("pid %d survived stop", srv.pid)
	}
}

// TestStartServerWaitsOutLoading starts a server that answers -LOADING
// for a while: startServer keeps polling on its connection until PONG and
// records when that came.
func TestStartServerWaitsOutLoading(t *testing.T) {
	port, err := freePort(host)
	if err != nil {
		t.Fatal(err)
	}
	spec := testSpec(t, "loading", fakeServerArgv(t, "loading", port), port)
	spec.pollEvery = 5 * time.Millisecond
	srv, err := startServer(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	if d := srv.ready.Sub(srv.started); d < fakeLoading || d > fakeLoading+2*time.Second {
		t.Errorf("ready %v after start, want just over %v", d, fakeLoading)
	}

	// Without a PONG within the start timeout, the last answer is named.
	port2, err := freePort(host)
	if err != nil {
		t.Fatal(err)
	}
	spec = testSpec(t, "loading", fakeServerArgv(t, "loading", port2), port2)
	spec.startTimeout = fakeLoading / 3
	_, err = startServer(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "LOADING") {
		t.Errorf("err = %v, want the -LOADING answer", err)
	}
}

func TestPinned(t *testing.T) {
	argv := []string{"x", "y"}
	if got := pinned("taskset", CPUSet{1, 2, 3}, argv); strings.Join(got, " ") != "taskset -c 1-3 x y" {
		t.Errorf("pinned = %q", got)
	}
	if got := pinned("taskset", nil, argv); strings.Join(got, " ") != "x y" {
		t.Errorf("unpinned = %q", got)
	}
}
