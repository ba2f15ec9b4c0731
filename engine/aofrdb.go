package engine

import (
	"bufio"
	"errors"

	"shoal/engine/internal/kv"
)

// The AOF's use of the RDB format: a base written as RDB, and RDB bases
// and preambles read back.

func (s *Shard) aofRDBAvailable() bool { return false }

func (s *Shard) aofRDBHeader(b []byte) []byte { return b }

func (s *Shard) aofRDBFooter(b []byte, crc *uint64) []byte { return b }

func (s *Shard) aofRDBKey(b []byte, r kv.Ref) []byte { return s.appendKeyCommands(b, r) }

func aofRDBCRC(crc uint64, p []byte) uint64 { return crc }

func (s *Shard) aofRDBPart(r *bufio.Reader, name string) (aofRDBPart, error) {
	return nil, errors.New("Can't read the RDB base " + name + ": RDB files are not supported")
}
