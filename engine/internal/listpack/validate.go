package listpack

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error Validate and Load return.
var ErrCorrupt = errors.New("listpack: corrupt listpack")

// Validate checks an untrusted blob, as Redis's lpValidateIntegrity: the
// header's total bytes must equal len(blob) and the last byte must be the
// end byte; without deep only the first entry is checked, with deep every
// entry is (encoding known, entry inside the blob, backlen the canonical
// encoding of the entry's size) and the header count must match unless it
// is 65535. It never panics and never reads outside blob. O(1) without
// deep, O(len(blob)) with.
func Validate(blob []byte, deep bool) error {
	_, err := validate(blob, deep)
	return err
}

func validate(b []byte, deep bool) (int, error) {
	if len(b) < EmptySize {
		return 0, fmt.Errorf("%w: %d bytes is shorter than a header", ErrCorrupt, len(b))
	}
	if total := binary.LittleEndian.Uint32(b); uint64(total) != uint64(len(b)) {
		return 0, fmt.Errorf("%w: header says %d bytes, blob has %d", ErrCorrupt, total, len(b))
	}
	if b[len(b)-1] != eof {
		return 0, fmt.Errorf("%w: no end byte", ErrCorrupt)
	}
	p, count := HeaderSize, 0
	for b[p] != eof {
		q, err := validateEntry(b, p)
		if err != nil {
			return 0, err
		}
		p = q
		count++
		if !deep {
			return count, nil
		}
	}
	if p != len(b)-1 {
		return 0, fmt.Errorf("%w: end byte at offset %d of %d", ErrCorrupt, p, len(b))
	}
	if hc := int(binary.LittleEndian.Uint16(b[4:])); hc != countUnknown && hc != count {
		return 0, fmt.Errorf("%w: header says %d entries, found %d", ErrCorrupt, hc, count)
	}
	return count, nil
}

// validateEntry checks the entry at p (p < len(b)-1) and returns the
// offset after it, which is then inside b.
func validateEntry(b []byte, p int) (int, error) {
	last := uint64(len(b) - 1) // the end byte's offset
	hs := headerSizeOf(b[p])
	if hs == 0 {
		return 0, fmt.Errorf("%w: invalid encoding 0x%02x at offset %d", ErrCorrupt, b[p], p)
	}
	if uint64(p)+uint64(hs) > last {
		return 0, fmt.Errorf("%w: entry encoding at offset %d runs past the end", ErrCorrupt, p)
	}
	l := encodedLen(b, p)
	bl := uint64(backlenSize64(l))
	end := uint64(p) + l + bl
	if end > last {
		return 0, fmt.Errorf("%w: entry at offset %d runs past the end", ErrCorrupt, p)
	}
	var want [5]byte
	putBacklen(want[:], int(l))
	if string(b[uint64(p)+l:end]) != string(want[:bl]) {
		return 0, fmt.Errorf("%w: backlen of entry at offset %d does not match its size %d", ErrCorrupt, p, l)
	}
	return int(end), nil
}

func backlenSize64(l uint64) int {
	if l >= 268435455 {
		return 5
	}
	return backlenSize(int(l))
}
