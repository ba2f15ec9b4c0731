package main

import (
	"os"
	"strconv"

	"shoal/resp"
)

// replyKind is the shape of a command's constant reply.
type replyKind uint8

const (
	replyUnknown replyKind = iota
	replyOK                // +OK
	replyPong              // +PONG, or the argument as a bulk (PING msg, ECHO msg)
	replyValue             // the fixed value as a bulk string
	replyOne               // :1
	replyZero              // :0
	replyPair              // [value, "0"]: ZPOPMIN, ZPOPMAX
	replyRange             // start..stop values: LRANGE, ZRANGE
	replyValues            // one value per key: MGET
	replyConfig            // CONFIG GET name: [name, ""]; other CONFIG subcommands +OK
	replyInfo              // a bulk describing the ceiling
	replyEmpty             // *0
	replyQuit              // +OK, then close
)

// commands maps upper-case command names to their reply shape: what
// redis-benchmark's and memtier_benchmark's tests send, and what the
// harness's control client asks.
var commands = map[string]replyKind{
	"SET": replyOK, "MSET": replyOK, "SELECT": replyOK, "FLUSHALL": replyOK, "FLUSHDB": replyOK,
	"AUTH": replyOK, "CLIENT": replyOK, "READONLY": replyOK, "READWRITE": replyOK, "HMSET": replyOK,
	"PING": replyPong, "ECHO": replyPong,
	"GET": replyValue, "GETSET": replyValue, "GETDEL": replyValue, "GETEX": replyValue,
	"LPOP": replyValue, "RPOP": replyValue, "SPOP": replyValue, "HGET": replyValue, "LINDEX": replyValue,
	"SRANDMEMBER": replyValue, "RANDOMKEY": replyValue,
	"INCR": replyOne, "INCRBY": replyOne, "DECR": replyOne, "DECRBY": replyOne, "SETNX": replyOne,
	"LPUSH": replyOne, "RPUSH": replyOne, "SADD": replyOne, "HSET": replyOne, "HSETNX": replyOne,
	"ZADD": replyOne, "DEL": replyOne, "UNLINK": replyOne, "EXISTS": replyOne, "EXPIRE": replyOne,
	"PEXPIRE": replyOne, "LLEN": replyOne, "SCARD": replyOne, "HLEN": replyOne, "ZCARD": replyOne,
	"XADD":    replyValue,
	"DBSIZE":  replyZero,
	"ZPOPMIN": replyPair, "ZPOPMAX": replyPair,
	"LRANGE": replyRange, "ZRANGE": replyRange,
	"MGET":    replyValues,
	"CONFIG":  replyConfig,
	"INFO":    replyInfo,
	"COMMAND": replyEmpty,
	"QUIT":    replyQuit,
}

// maxRange bounds the values one LRANGE or ZRANGE reply holds.
const maxRange = 1000

// maxName is the longest command name looked up; longer ones are unknown.
const maxName = 16

// responder builds the constant replies. It is immutable once made, so the
// loop and tests may share one.
type responder struct {
	value []byte // "$<n>\r\n<n bytes>\r\n"
	info  []byte // INFO's bulk reply
}

// newResponder pre-encodes the GET reply: valueSize bytes, and the INFO
// reply naming the ceiling, its pid and port.
func newResponder(valueSize, port int) *responder {
	v := make([]byte, valueSize)
	for i := range v {
		v[i] = 'x'
	}
	info := "# Server\r\nserver_name:shoal-ceiling\r\nprocess_id:" + strconv.Itoa(os.Getpid()) +
		"\r\ntcp_port:" + strconv.Itoa(port) + "\r\nvalue_size:" + strconv.Itoa(valueSize) + "\r\n"
	return &responder{
		value: resp.AppendBulk(nil, v),
		info:  resp.AppendBulkString(nil, info),
	}
}

// lookup returns the reply shape of the command named name, in any case.
// It does not allocate.
func lookup(name []byte) replyKind {
	if len(name) > maxName {
		return replyUnknown
	}
	var up [maxName]byte
	for i, c := range name {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		up[i] = c
	}
	return commands[string(up[:len(name)])]
}

// appendReply appends the reply to the command args (len(args) > 0) and
// reports whether the connection is to be closed once it is sent.
func (r *responder) appendReply(dst []byte, args [][]byte) ([]byte, bool) {
	switch lookup(args[0]) {
	case replyOK:
		return append(dst, resp.ReplyOK...), false
	case replyPong:
		if len(args) > 1 {
			return resp.AppendBulk(dst, args[1]), false
		}
		return append(dst, resp.ReplyPong...), false
	case replyValue:
		return append(dst, r.value...), false
	case replyOne:
		return append(dst, resp.ReplyOne...), false
	case replyZero:
		return append(dst, resp.ReplyZero...), false
	case replyPair:
		dst = resp.AppendArrayLen(dst, 2)
		dst = append(dst, r.value...)
		return resp.AppendBulkString(dst, "0"), false
	case replyRange:
		n := 0
		if len(args) >= 4 {
			n = rangeLen(args[2], args[3])
		}
		return r.appendValues(dst, n), false
	case replyValues:
		return r.appendValues(dst, len(args)-1), false
	case replyConfig:
		if len(args) >= 3 && lookupSub(args[1], "GET") {
			dst = resp.AppendArrayLen(dst, 2)
			dst = resp.AppendBulk(dst, args[2])
			return append(dst, resp.ReplyEmptyBulk...), false
		}
		return append(dst, resp.ReplyOK...), false
	case replyInfo:
		return append(dst, r.info...), false
	case replyEmpty:
		return append(dst, resp.ReplyEmptyArray...), false
	case replyQuit:
		return append(dst, resp.ReplyOK...), true
	}
	return appendUnknown(dst, args[0]), false
}

func (r *responder) appendValues(dst []byte, n int) []byte {
	dst = resp.AppendArrayLen(dst, n)
	for range n {
		dst = append(dst, r.value...)
	}
	return dst
}

// rangeLen is the number of values LRANGE key start stop answers: stop -
// start + 1 for 0 <= start <= stop, capped at maxRange; 0 for anything
// else (negative indices included: there is no list to count from).
func rangeLen(start, stop []byte) int {
	a, ok1 := atoi(start)
	b, ok2 := atoi(stop)
	if !ok1 || !ok2 || a < 0 || b < a {
		return 0
	}
	return int(min(b-a+1, maxRange))
}

// atoi parses a decimal of at most 18 digits with an optional '-'.
func atoi(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// lookupSub reports whether b equals the upper-case word s in any case.
func lookupSub(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// maxEcho bounds how much of an unknown command's name the error repeats.
const maxEcho = 128

// appendUnknown appends Redis's error for an unknown command, its name
// shortened to maxEcho bytes with CR, LF and control bytes shown as spaces
// so that the reply stays one line.
func appendUnknown(dst, name []byte) []byte {
	dst = append(dst, "-ERR unknown command '"...)
	if len(name) > maxEcho {
		name = name[:maxEcho]
	}
	for _, c := range name {
		if c < ' ' || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, "'\r\n"...)
}
