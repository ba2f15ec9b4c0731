package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// fakeServerEnv makes the test binary act as a tiny server that answers
// every command with +PONG, for testing process control. Its value is the
// mode: "ping", "ignore-term" to also ignore SIGTERM, or "loading" to
// answer -LOADING for the first fakeLoading after it starts.
const fakeServerEnv = "BENCH_TEST_FAKE_SERVER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeServerEnv); mode != "" {
		fakeServerMain(mode, os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

// fakeLoading is how long a fake server in mode "loading" is loading.
const fakeLoading = 300 * time.Millisecond

// fakeServerMain serves PONG on --port for at most 30 seconds.
func fakeServerMain(mode string, args []string) {
	loaded := time.Now().Add(fakeLoading)
	if mode == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
	}
	port := ""
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "--port" {
			port = args[i+1]
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		os.Stderr.WriteString("fake server: " + err.Error() + "\n")
		os.Exit(2)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rd := bufio.NewReader(c)
				for {
					if _, err := readReply(rd); err != nil {
						return
					}
					answer := "+PONG\r\n"
					if mode == "loading" && time.Now().Before(loaded) {
						answer = "-LOADING Redis is loading the dataset in memory\r\n"
					}
					if _, err := c.Write([]byte(answer)); err != nil {
						return
					}
				}
			}()
		}
	}()
	time.Sleep(30 * time.Second)
	os.Exit(0)
}

// fakeServerArgv returns a command line that runs the fake server.
func fakeServerArgv(t *testing.T, mode string, port int) []string {
	t.Helper()
	t.Setenv(fakeServerEnv, mode)
	return []string{os.Args[0], "--port", strconv.Itoa(port)}
}

// processGone reports whether pid no longer exists (it has been reaped).
func processGone(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return os.IsNotExist(err)
}

// writeScript writes an executable shell script into dir.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func needRedis(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-benchmark"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}
