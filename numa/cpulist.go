package numa

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// MaxCPUListID bounds the IDs ParseCPUList accepts. It is far above any
// NR_CPUS Linux is built with (8192) and keeps parsing memory bounded no matter
// what the input says.
const MaxCPUListID = 1<<16 - 1

// cpuListWords is the size of the bitmap ParseCPUList builds on its stack.
const cpuListWords = (MaxCPUListID + 1) / 64

// ErrCPUList is wrapped by every ParseCPUList error.
var ErrCPUList = errors.New("numa: bad cpu list")

// ParseCPUList parses the kernel's list syntax used by sysfs cpulist files,
// /proc/PID/status and taskset -c: comma-separated IDs and ranges ("0-3,8-11",
// "0,2"), optionally strided as the kernel's bitmap_parselist allows
// ("0-15:2/4" = in each group of 4 starting at 0, the first 2). Surrounding
// whitespace and a trailing newline are ignored; "" is the empty list.
//
// The result is sorted ascending without duplicates (the list denotes a set),
// and is nil for the empty list. It allocates only the result.
func ParseCPUList(s string) ([]int, error) {
	var set [cpuListWords]uint64
	n, words, err := parseCPUListInto(&set, s)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int, 0, n)
	for w, word := range set[:words] {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, w*64+b)
			word &= word - 1
		}
	}
	return out, nil
}

// parseCPUListInto sets the bits of s in set and returns how many distinct IDs
// it holds and how many leading words of set hold them.
func parseCPUListInto(set *[cpuListWords]uint64, s string) (n, words int, err error) {
	s = strings.TrimSpace(s)
	for len(s) > 0 {
		item := s
		if i := strings.IndexByte(s, ','); i >= 0 {
			item, s = s[:i], s[i+1:]
			if len(s) == 0 {
				return 0, 0, fmt.Errorf("%w: trailing comma", ErrCPUList)
			}
		} else {
			s = ""
		}
		lo, hi, used, group, err := parseCPUListItem(item)
		if err != nil {
			return 0, 0, err
		}
		for base := lo; base <= hi; base += group {
			setRange(set, base, min(base+used-1, hi))
		}
		words = max(words, hi/64+1)
	}
	for _, w := range set[:words] {
		n += bits.OnesCount64(w)
	}
	return n, words, nil
}

// setRange sets bits lo..hi inclusive, a word at a time.
func setRange(set *[cpuListWords]uint64, lo, hi int) {
	for lo <= hi {
		w, b := lo/64, uint(lo%64)
		span := min(64-int(b), hi-lo+1)
		mask := ^uint64(0)
		if span < 64 {
			mask = (uint64(1)<<uint(span) - 1) << b
		}
		set[w] |= mask
		lo += span
	}
}

// parseCPUListItem parses one of "N", "A-B" or "A-B:U/G".
func parseCPUListItem(item string) (lo, hi, used, group int, err error) {
	if item == "" {
		return 0, 0, 0, 0, fmt.Errorf("%w: empty item", ErrCPUList)
	}
	rng, stride, strided := item, "", false
	if i := strings.IndexByte(item, ':'); i >= 0 {
		rng, stride, strided = item[:i], item[i+1:], true
	}
	if i := strings.IndexByte(rng, '-'); i >= 0 {
		if lo, err = parseCPUID(rng[:i]); err != nil {
			return
		}
		if hi, err = parseCPUID(rng[i+1:]); err != nil {
			return
		}
		if hi < lo {
			return 0, 0, 0, 0, fmt.Errorf("%w: descending range %q", ErrCPUList, rng)
		}
	} else {
		if strided {
			return 0, 0, 0, 0, fmt.Errorf("%w: stride without range in %q", ErrCPUList, item)
		}
		if lo, err = parseCPUID(rng); err != nil {
			return
		}
		hi = lo
	}
	used, group = hi-lo+1, hi-lo+1
	if strided {
		i := strings.IndexByte(stride, '/')
		if i < 0 {
			return 0, 0, 0, 0, fmt.Errorf("%w: stride %q needs used/group", ErrCPUList, stride)
		}
		if used, err = parseCPUID(stride[:i]); err != nil {
			return
		}
		if group, err = parseCPUID(stride[i+1:]); err != nil {
			return
		}
		if used == 0 || group == 0 || used > group {
			return 0, 0, 0, 0, fmt.Errorf("%w: stride %q", ErrCPUList, stride)
		}
	}
	return lo, hi, used, group, nil
}

func parseCPUID(s string) (int, error) {
	if s == "" || len(s) > 6 {
		return 0, fmt.Errorf("%w: bad number %q", ErrCPUList, s)
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: bad number %q", ErrCPUList, s)
		}
		v = v*10 + int(c-'0')
	}
	if v > MaxCPUListID {
		return 0, fmt.Errorf("%w: %d exceeds %d", ErrCPUList, v, MaxCPUListID)
	}
	return v, nil
}

// FormatCPUList returns the compressed list syntax for cpus ("0-3,8-11"), the
// inverse of ParseCPUList. cpus is treated as a set: order and duplicates do
// not matter. Negative IDs are skipped. The empty set formats as "".
func FormatCPUList(cpus []int) string {
	var buf [64]byte
	return string(AppendCPUList(buf[:0], cpus))
}

// AppendCPUList appends the compressed list syntax for cpus to dst and returns
// the extended buffer, like strconv.AppendInt. It does not allocate beyond
// growing dst when cpus is sorted ascending (every list this package returns
// is); otherwise it sorts a copy.
func AppendCPUList(dst []byte, cpus []int) []byte {
	if !slices.IsSorted(cpus) {
		cpus = slices.Clone(cpus)
		slices.Sort(cpus)
	}
	first := true
	for i := 0; i < len(cpus); {
		lo := cpus[i]
		j := i + 1
		for j < len(cpus) && (cpus[j] == cpus[j-1] || cpus[j] == cpus[j-1]+1) {
			j++
		}
		hi := cpus[j-1]
		i = j
		if hi < 0 {
			continue
		}
		if lo < 0 {
			lo = 0
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = strconv.AppendInt(dst, int64(lo), 10)
		if hi > lo {
			dst = append(dst, '-')
			dst = strconv.AppendInt(dst, int64(hi), 10)
		}
	}
	return dst
}
