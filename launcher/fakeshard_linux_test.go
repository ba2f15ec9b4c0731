//go:build linux

package launcher

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"shoal/cluster"
)

// The test binary doubles as a fake shard (Options.Bin = os.Args[0]) when
// fakeModeEnv is set, so the launcher's process handling is tested with
// real child processes whose behaviour each test chooses:
//
//	serve        listen on --bind:--port, answer PING, CLUSTER MYID (from
//	             the nodes.conf in --dir) and INFO; exit 0 on SIGTERM
//	crash        print a line and exit with status 3 at once
//	ignore-term  serve, but ignore SIGTERM
//
// With fakeCrashFileEnv set, serve and ignore-term crash instead whenever
// that file exists, which lets a test turn a serving shard into a crash
// loop.
const (
	fakeModeEnv      = "LAUNCHER_TEST_FAKE_SHARD"
	fakeCrashFileEnv = "LAUNCHER_TEST_CRASH_FILE"
)

func fakeShardMain() int {
	mode := os.Getenv(fakeModeEnv)
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "shard" {
		fmt.Fprintf(os.Stderr, "fake shard: want 'shard', got %q\n", args)
		return 2
	}
	opts := map[string]string{}
	for i := 1; i+1 < len(args); i += 2 {
		opts[strings.TrimPrefix(args[i], "--")] = args[i+1]
	}
	if f := os.Getenv(fakeCrashFileEnv); f != "" {
		if _, err := os.Stat(f); err == nil {
			mode = "crash"
		}
	}
	if mode == "crash" {
		fmt.Println("fake shard: crashing at once")
		return 3
	}
	if opts["cluster-enabled"] != "yes" {
		fmt.Fprintln(os.Stderr, "fake shard: not started in cluster mode")
		return 2
	}
	data, err := os.ReadFile(filepath.Join(opts["dir"], opts["cluster-config-file"]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake shard:", err)
		return 2
	}
	conf, err := cluster.ParseNodesConf(data)
	if err != nil || conf.Myself() == nil {
		fmt.Fprintln(os.Stderr, "fake shard: bad nodes.conf:", err)
		return 2
	}
	if conf.Myself().Port != atoi(opts["port"]) {
		fmt.Fprintln(os.Stderr, "fake shard: nodes.conf myself is not on --port")
		return 2
	}

	sigs := make(chan os.Signal, 1)
	if mode == "ignore-term" {
		signal.Ignore(syscall.SIGTERM)
	} else {
		signal.Notify(sigs, syscall.SIGTERM)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(listenHost(opts["bind"]), opts["port"]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake shard:", err)
		return 1
	}
	// Output the launcher must prefix line by line: a line on each
	// stream, and one written in two pieces.
	fmt.Printf("fake shard: serving port %s as %s\n", opts["port"], conf.Myself().ID)
	fmt.Fprintln(os.Stderr, "fake shard: a line on stderr")
	os.Stdout.WriteString("fake shard: a line written ")
	time.Sleep(5 * time.Millisecond)
	os.Stdout.WriteString("in two pieces\n")

	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeServe(c, conf.Myself().ID)
		}
	}()
	<-sigs
	fmt.Println("fake shard: SIGTERM, exiting")
	return 0
}

// fakeServe answers RESP arrays of bulk strings on c.
func fakeServe(c net.Conn, id string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		head, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(head, "*") {
			return
		}
		n := atoi(strings.TrimSpace(head[1:]))
		var argv []string
		for range n {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			buf := make([]byte, atoi(strings.TrimSpace(l[1:]))+2)
			if _, err := io.ReadFull(r, buf); err != nil {
				return
			}
			argv = append(argv, string(buf[:len(buf)-2]))
		}
		var reply string
		switch strings.ToUpper(strings.Join(argv, " ")) {
		case "PING":
			reply = "+PONG\r\n"
		case "CLUSTER MYID":
			reply = "$" + strconv.Itoa(len(id)) + "\r\n" + id + "\r\n"
		case "INFO SERVER":
			body := "# Server\r\nio_backend:fake\r\n"
			reply = "$" + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
		default:
			reply = "-ERR fake shard\r\n"
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
