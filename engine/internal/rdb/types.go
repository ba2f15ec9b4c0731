package rdb

import (
	"errors"
	"fmt"
)

// Versions.
const (
	// Version is the RDB version written: Redis 7.0's.
	Version = 10
	// MaxVersion is the newest file version read (Redis 7.4 and later
	// write 12). What a newer Redis may put in such a file that Shoal has
	// no value for (streams, modules, hashes with field expiration) is
	// refused with ErrUnsupported when it is met.
	MaxVersion = 12
)

// Value types (Redis's RDB_TYPE_*).
const (
	TypeString           = 0
	TypeList             = 1 // linked list of strings (RDB < 7, Redis < 3.2)
	TypeSet              = 2
	TypeZset             = 3 // scores as strings (RDB < 8)
	TypeHash             = 4
	TypeZset2            = 5 // scores as binary doubles
	TypeModulePreGA      = 6
	TypeModule2          = 7
	TypeHashZipmap       = 9
	TypeListZiplist      = 10
	TypeSetIntset        = 11
	TypeZsetZiplist      = 12
	TypeHashZiplist      = 13
	TypeListQuicklist    = 14 // quicklist of ziplists (Redis 3.2 - 6.2)
	TypeStreamListpacks  = 15
	TypeHashListpack     = 16
	TypeZsetListpack     = 17
	TypeListQuicklist2   = 18 // quicklist of listpacks (Redis 7.0)
	TypeStreamListpacks2 = 19
	TypeSetListpack      = 20 // Redis 7.2
	TypeStreamListpacks3 = 21
	TypeHashMetadataPre  = 22 // hash field expiration, Redis 7.4 release candidates
	TypeHashListpackExPr = 23
	TypeHashMetadata     = 24 // hash field expiration, Redis 7.4
	TypeHashListpackEx   = 25
)

// Opcodes (Redis's RDB_OPCODE_*).
const (
	OpSlotInfo      = 244 // cluster slot sizes (Redis 7.4): slot, size, expires size
	OpFunction2     = 245
	OpFunctionPreGA = 246
	OpModuleAux     = 247
	OpIdle          = 248 // LRU idle time in seconds (a length)
	OpFreq          = 249 // LFU counter (one byte)
	OpAux           = 250 // two strings
	OpResizeDB      = 251 // two lengths
	OpExpireTimeMs  = 252 // 8 bytes, unix ms, little endian
	OpExpireTime    = 253 // 4 bytes, unix seconds
	OpSelectDB      = 254 // a length
	OpEOF           = 255
)

// Quicklist node containers in TypeListQuicklist2 values.
const (
	ContainerPlain  = 1 // one element, raw
	ContainerPacked = 2 // a listpack
)

// Length encoding.
const (
	len6  = 0
	len14 = 1
	len32 = 0x80
	len64 = 0x81
	encV  = 3 // top bits 11: a special string encoding follows

	encInt8  = 0
	encInt16 = 1
	encInt32 = 2
	encLZF   = 3
)

// Errors every failure wraps, for errors.Is.
var (
	ErrCorrupt     = errors.New("rdb: corrupt data")
	ErrUnsupported = errors.New("rdb: unsupported data")
)

// IsValueType reports whether t is a value type byte, as Redis's
// rdbIsObjectType, of any version up to MaxVersion.
func IsValueType(t byte) bool { return t <= 7 || (t >= 9 && t <= 25) }

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}
