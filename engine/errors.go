package engine

// Error replies, exactly as Redis writes them (without the leading '-' and
// the CRLF). Clients parse these: change none without checking Redis.
const (
	errSyntax          = "ERR syntax error"
	errNotInt          = "ERR value is not an integer or out of range"
	errNotFloat        = "ERR value is not a valid float"
	errWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errNoSuchKey       = "ERR no such key"
	errOverflow        = "ERR increment or decrement would overflow"
	errIncrFloatNaN    = "ERR increment would produce NaN or Infinity"
	errStringTooBig    = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	errOffsetRange     = "ERR offset is out of range"
	errDBIndex         = "ERR DB index is out of range"
	errInvalidDBIndex  = "ERR invalid DB index"
	errNotPositive     = "ERR value is out of range, must be positive"
	errInvalidCursor   = "ERR invalid cursor"
	errSameObject      = "ERR source and destination objects are the same"
	errNoAuthHello     = "NOPROTO unsupported protocol version"
	errLoading         = "LOADING Redis is loading the dataset in memory"
	errOOM             = "OOM command not allowed when used memory > 'maxmemory'."
	errMaxClients      = "ERR max number of clients reached"
	errTimeoutNegative = "ERR timeout is negative"
	errIntRange        = "ERR value is out of range, value must between -2147483648 and 2147483647"
)

// errWrongArgs formats Redis's arity error for a command (its full name,
// "client|kill" for subcommands).
func errWrongArgs(fullname string) string {
	return "ERR wrong number of arguments for '" + fullname + "' command"
}

// errUnknownSubcommand formats Redis's error for a container command
// (CLIENT, CONFIG, ...) given a subcommand it does not have.
func errUnknownSubcommand(sub []byte, container string) string {
	return "ERR unknown subcommand '" + truncate(cString(sub), 128) + "'. Try " + upper(string(cString([]byte(container)))) + " HELP."
}

// errInvalidExpire is Redis's error for a non-positive or overflowing
// expire time given to command name (lowercase, as Redis prints it).
func errInvalidExpire(name string) string {
	return "ERR invalid expire time in '" + name + "' command"
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
