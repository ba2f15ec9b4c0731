package engine

import "shoal/internal/rlog"

// logf logs through the process's Redis-style logger; level is a Redis
// loglevel name.
func logf(level string, format string, args ...any) {
	l, ok := rlog.ParseLevel(level)
	if !ok {
		l = rlog.Notice
	}
	rlog.Logf(l, format, args...)
}
