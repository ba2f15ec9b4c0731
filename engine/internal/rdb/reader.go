package rdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

// errTruncated is what a read past the end of the input returns.
var errTruncated = fmt.Errorf("rdb: input ends inside a record: %w", io.ErrUnexpectedEOF)

// chunk bounds how much a read of a long string grows its buffer at a
// time, so that a corrupt length costs memory only as far as data is there.
const chunk = 1 << 20

// Reader reads the primitives of the format from a bufio.Reader (a file)
// or from a byte slice (a DUMP payload), consuming exactly the bytes it
// parses, counting them (Offset) and keeping their CRC64 (CRC). Owned by
// one goroutine; returned slices are valid until its next call (see the
// package doc).
type Reader struct {
	br  *bufio.Reader // stream mode
	src []byte        // bytes mode: the input
	pos int           // bytes mode: position in src

	off int64
	crc uint64

	big []byte   // reads longer than the bufio buffer
	out []byte   // LZF output
	num [20]byte // integer-encoded strings, rendered
	raw [9]byte  // fixed-size fields
}

// NewReader reads from br. It reads nothing beyond what it parses, so br
// can be read on from where the Reader stopped.
func NewReader(br *bufio.Reader) *Reader { return &Reader{br: br} }

// NewBytesReader reads from b, which must not change while it is read.
func NewBytesReader(b []byte) *Reader { return &Reader{src: b} }

// Offset is the number of bytes consumed.
func (r *Reader) Offset() int64 { return r.off }

// CRC is the CRC64 of the bytes consumed.
func (r *Reader) CRC() uint64 { return r.crc }

// Buffered is the number of input bytes not yet read, in bytes mode (-1
// in stream mode).
func (r *Reader) Buffered() int {
	if r.br != nil {
		return -1
	}
	return len(r.src) - r.pos
}

func readErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncated
	}
	return fmt.Errorf("rdb: read: %w", err)
}

// ReadByte reads one byte.
func (r *Reader) ReadByte() (byte, error) {
	var b byte
	if r.br == nil {
		if r.pos >= len(r.src) {
			return 0, errTruncated
		}
		b = r.src[r.pos]
		r.pos++
	} else {
		var err error
		if b, err = r.br.ReadByte(); err != nil {
			return 0, readErr(err)
		}
	}
	r.off++
	r.crc = crcByte(r.crc, b)
	return b, nil
}

// Read reads exactly n bytes. The slice aliases the Reader's memory or its
// input until the next call. Memory grows with the bytes actually read,
// not with n.
func (r *Reader) Read(n uint64) ([]byte, error) {
	var p []byte
	switch {
	case r.br == nil:
		if n > uint64(len(r.src)-r.pos) {
			return nil, errTruncated
		}
		p = r.src[r.pos : r.pos+int(n)]
		r.pos += int(n)
	case n <= uint64(r.br.Size()):
		q, err := r.br.Peek(int(n))
		if err != nil {
			return nil, readErr(err)
		}
		r.br.Discard(int(n))
		p = q
	default:
		buf := r.big[:0]
		for uint64(len(buf)) < n {
			k := int(min(n-uint64(len(buf)), chunk))
			buf = slices.Grow(buf, k)
			m, err := io.ReadFull(r.br, buf[len(buf):len(buf)+k])
			buf = buf[:len(buf)+m]
			if err != nil {
				r.big = buf[:0]
				return nil, readErr(err)
			}
		}
		r.big = buf[:0]
		p = buf
	}
	r.off += int64(n)
	r.crc = CRC64(r.crc, p)
	return p, nil
}

// readFixed reads n <= 9 bytes into r.raw.
func (r *Reader) readFixed(n int) ([]byte, error) {
	p, err := r.Read(uint64(n))
	if err != nil {
		return nil, err
	}
	copy(r.raw[:], p)
	return r.raw[:n], nil
}

// readLen reads a length, or the number of a special string encoding
// (encoded true).
func (r *Reader) readLen() (n uint64, encoded bool, err error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, false, err
	}
	switch b >> 6 {
	case len6:
		return uint64(b & 0x3f), false, nil
	case len14:
		c, err := r.ReadByte()
		if err != nil {
			return 0, false, err
		}
		return uint64(b&0x3f)<<8 | uint64(c), false, nil
	case encV:
		return uint64(b & 0x3f), true, nil
	}
	switch b {
	case len32:
		p, err := r.readFixed(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(p)), false, nil
	case len64:
		p, err := r.readFixed(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(p), false, nil
	}
	return 0, false, corrupt("unknown length encoding 0x%02x", b)
}

// ReadLen reads a length; a special string encoding there is corrupt.
func (r *Reader) ReadLen() (uint64, error) {
	n, enc, err := r.readLen()
	if err != nil {
		return 0, err
	}
	if enc {
		return 0, corrupt("string encoding %d where a length belongs", n)
	}
	return n, nil
}

// ReadString reads a string in any of its encodings (plain, integer,
// LZF) and returns its bytes, valid until the next call.
func (r *Reader) ReadString() ([]byte, error) {
	n, enc, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.Read(n)
	}
	switch n {
	case encInt8:
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(r.num[:0], int64(int8(b)), 10), nil
	case encInt16:
		p, err := r.readFixed(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(r.num[:0], int64(int16(binary.LittleEndian.Uint16(p))), 10), nil
	case encInt32:
		p, err := r.readFixed(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(r.num[:0], int64(int32(binary.LittleEndian.Uint32(p))), 10), nil
	case encLZF:
		return r.readLZF()
	}
	return nil, corrupt("unknown string encoding %d", n)
}

// lzfMaxRatio bounds how much LZF can expand: a 3-byte back reference
// yields at most 264 bytes.
const lzfMaxRatio = lzfMaxRef / 3

func (r *Reader) readLZF() ([]byte, error) {
	clen, err := r.ReadLen()
	if err != nil {
		return nil, err
	}
	ulen, err := r.ReadLen()
	if err != nil {
		return nil, err
	}
	if clen > math.MaxInt32 || ulen > clen*lzfMaxRatio {
		return nil, corrupt("LZF string of %d bytes announced as %d bytes", clen, ulen)
	}
	in, err := r.Read(clen)
	if err != nil {
		return nil, err
	}
	r.out = slices.Grow(r.out[:0], int(ulen))[:ulen]
	if err := LZFDecompress(r.out, in); err != nil {
		return nil, err
	}
	return r.out, nil
}

// ReadUint64 reads 8 bytes, little endian (EXPIRETIME_MS, the checksum).
func (r *Reader) ReadUint64() (uint64, error) {
	p, err := r.readFixed(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

// ReadUint32 reads 4 bytes, little endian (EXPIRETIME).
func (r *Reader) ReadUint32() (uint32, error) {
	p, err := r.readFixed(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

// ReadBinaryDouble reads a double as TypeZset2 stores scores.
func (r *Reader) ReadBinaryDouble() (float64, error) {
	u, err := r.ReadUint64()
	return math.Float64frombits(u), err
}

// ReadDouble reads a double in the old string form (TypeZset).
func (r *Reader) ReadDouble() (float64, error) {
	n, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	p, err := r.Read(uint64(n))
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, corrupt("double %q", p)
	}
	return f, nil
}

// ReadSignature reads "REDIS" and the 4-digit version, which must be
// between 1 and MaxVersion.
func (r *Reader) ReadSignature() (int, error) {
	p, err := r.Read(9)
	if err != nil {
		return 0, err
	}
	if string(p[:5]) != "REDIS" {
		return 0, corrupt("no REDIS signature")
	}
	v := 0
	for _, c := range p[5:] {
		if c < '0' || c > '9' {
			return 0, corrupt("version %q", p[5:])
		}
		v = v*10 + int(c-'0')
	}
	if v < 1 {
		return 0, corrupt("version %d", v)
	}
	if v > MaxVersion {
		return 0, fmt.Errorf("%w: RDB format version %d (newest known %d)", ErrUnsupported, v, MaxVersion)
	}
	return v, nil
}
