package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
)

// config is the parsed command line.
type config struct {
	port      int
	bind      string
	valueSize int
}

func parseFlags(args []string, w io.Writer) (config, error) {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(w)
	var c config
	fs.IntVar(&c.port, "port", 6379, "TCP port to listen on (0: any free port)")
	fs.StringVar(&c.bind, "bind", "127.0.0.1", "IP address to listen on")
	fs.IntVar(&c.valueSize, "value-size", 256, "bytes of the value every GET answers")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("ceiling: unexpected arguments %q", fs.Args())
	case c.port < 0 || c.port > 65535:
		return c, fmt.Errorf("ceiling: --port %d out of range 0..65535", c.port)
	case c.valueSize < 0 || c.valueSize > 64<<20:
		return c, fmt.Errorf("ceiling: --value-size %d out of range 0..64MiB", c.valueSize)
	}
	return c, nil
}

// keepTwoPs gives the runtime two Ps even on one pinned CPU, as cmd/shoal
// does for a shard, so the two run under the same runtime settings.
func keepTwoPs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	keepTwoPs()
	var stop atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		stop.Store(true)
	}()
	if err := serve(cfg, &stop, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
