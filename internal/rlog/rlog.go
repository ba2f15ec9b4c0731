// Package rlog writes log lines in Redis's format
// ("pid:role dd Mon yyyy hh:mm:ss.mmm * message"), so that operators' log
// tooling for Redis reads Shoal's logs too.
//
// A Logger may be used from any goroutine: each line is one Write call on
// the underlying writer, serialized by a mutex.
package rlog

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Level is a Redis log level.
type Level int

const (
	Debug Level = iota
	Verbose
	Notice
	Warning
)

var marks = [...]byte{'.', '-', '*', '#'}

// ParseLevel reads a Redis loglevel name.
func ParseLevel(s string) (Level, bool) {
	switch s {
	case "debug":
		return Debug, true
	case "verbose":
		return Verbose, true
	case "notice":
		return Notice, true
	case "warning":
		return Warning, true
	}
	return 0, false
}

func (l Level) String() string {
	return [...]string{"debug", "verbose", "notice", "warning"}[l]
}

// Logger writes Redis-style lines at or above its level.
type Logger struct {
	mu struct {
		sync.Mutex
		w     io.Writer
		level Level
		role  byte
		buf   []byte
	}
	pid int
}

// New makes a logger writing to w. role is Redis's role letter: 'M' for a
// serving shard, 'L' for Shoal's launcher.
func New(w io.Writer, level Level, role byte) *Logger {
	l := &Logger{pid: os.Getpid()}
	l.mu.w, l.mu.level, l.mu.role = w, level, role
	return l
}

// Default is the process's logger: notice level, to standard output.
var Default = New(os.Stdout, Notice, 'M')

// SetLevel changes the level (CONFIG SET loglevel).
func (l *Logger) SetLevel(level Level) {
	l.mu.Lock()
	l.mu.level = level
	l.mu.Unlock()
}

// SetOutput changes where lines go.
func (l *Logger) SetOutput(w io.Writer) {
	l.mu.Lock()
	l.mu.w = w
	l.mu.Unlock()
}

// SetRole changes the role letter.
func (l *Logger) SetRole(role byte) {
	l.mu.Lock()
	l.mu.role = role
	l.mu.Unlock()
}

// Enabled reports whether lines at level are written.
func (l *Logger) Enabled(level Level) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return level >= l.mu.level
}

// Logf writes one line at level.
func (l *Logger) Logf(level Level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.mu.level {
		return
	}
	b := l.mu.buf[:0]
	b = strconv.AppendInt(b, int64(l.pid), 10)
	b = append(b, ':', l.mu.role, ' ')
	b = time.Now().AppendFormat(b, "02 Jan 2006 15:04:05.000")
	b = append(b, ' ', marks[level], ' ')
	b = fmt.Appendf(b, format, args...)
	b = append(b, '\n')
	l.mu.w.Write(b)
	l.mu.buf = b
}

// Logf writes one line with the Default logger.
func Logf(level Level, format string, args ...any) { Default.Logf(level, format, args...) }
