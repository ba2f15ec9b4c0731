//go:build !linux

package main

import (
	"errors"
	"io"
	"sync/atomic"
)

// serve needs io_uring, which only Linux has.
func serve(cfg config, stop *atomic.Bool, w io.Writer) error {
	return errors.New("ceiling: io_uring is Linux only")
}
