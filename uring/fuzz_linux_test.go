//go:build linux

package uring

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// probeReply builds a struct io_uring_probe as the kernel fills it: ops
// 0..last, the listed ones flagged supported.
func probeReply(last uint8, supported ...uint8) []byte {
	n := int(last) + 1
	buf := make([]byte, sizeofProbeHeader+n*sizeofProbeOp)
	buf[0], buf[1] = last, uint8(n)
	for i := 0; i < n; i++ {
		buf[sizeofProbeHeader+i*sizeofProbeOp] = uint8(i)
	}
	for _, op := range supported {
		binary.NativeEndian.PutUint16(buf[sizeofProbeHeader+int(op)*sizeofProbeOp+2:], probeOpSupported)
	}
	return buf
}

func TestParseProbe(t *testing.T) {
	for _, tc := range []struct {
		name string
		buf  []byte
		ok   bool
		want []Op
	}{
		{"empty", nil, false, nil},
		{"short header", make([]byte, 15), false, nil},
		{"no ops", make([]byte, 16), true, nil},
		{"some", probeReply(uint8(OpRecv), uint8(OpNop), uint8(OpAccept), uint8(OpRecv)), true, []Op{OpNop, OpAccept, OpRecv}},
		{"truncated", probeReply(uint8(OpRecv), uint8(OpNop), uint8(OpRecv))[:sizeofProbeHeader+2*sizeofProbeOp], true, []Op{OpNop}},
		{"high opcode", probeReply(200, 200), true, []Op{200}},
	} {
		ops, ok := parseProbe(tc.buf)
		if ok != tc.ok {
			t.Errorf("%s: ok = %v", tc.name, ok)
		}
		f := Features{ops: ops}
		want := map[Op]bool{}
		for _, op := range tc.want {
			want[op] = true
		}
		for op := 0; op < 256; op++ {
			if f.Op(Op(op)) != want[Op(op)] {
				t.Errorf("%s: Op(%v) = %v", tc.name, Op(op), !want[Op(op)])
			}
		}
	}
}

// FuzzParseProbe checks that any reply decodes without panicking and that
// every opcode reported supported has an entry saying so within ops_len.
func FuzzParseProbe(f *testing.F) {
	f.Add(probeReply(uint8(OpPipe), uint8(OpNop), uint8(OpRecv), uint8(OpSend)))
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, buf []byte) {
		ops, ok := parseProbe(buf)
		if ok != (len(buf) >= sizeofProbeHeader) {
			t.Fatalf("ok = %v for %d bytes", ok, len(buf))
		}
		feat := Features{ops: ops}
		for op := 0; op < 256; op++ {
			if !feat.Op(Op(op)) {
				continue
			}
			found := false
			for i := 0; i < int(buf[1]) && sizeofProbeHeader+(i+1)*sizeofProbeOp <= len(buf); i++ {
				e := buf[sizeofProbeHeader+i*sizeofProbeOp:]
				if int(e[0]) == op && binary.NativeEndian.Uint16(e[2:])&probeOpSupported != 0 {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("op %d reported supported without a supporting entry", op)
			}
		}
	})
}

// FuzzRefusalReason feeds arbitrary kernel.io_uring_disabled contents and
// errnos to the reason builder.
func FuzzRefusalReason(f *testing.F) {
	f.Add(uint16(unix.EPERM), "2\n", true)
	f.Add(uint16(unix.EPERM), "1", true)
	f.Add(uint16(unix.EPERM), "", false)
	f.Add(uint16(unix.ENOSYS), "0\n", true)
	f.Add(uint16(unix.EPERM), " 12 \n", true)
	f.Fuzz(func(t *testing.T, e uint16, sysctl string, have bool) {
		errno := unix.Errno(e)
		reason := refusalReason(errno, sysctl, have)
		v, ok := parseDisabled(sysctl)
		if ok && (v < 0 || v > 2 || strings.TrimSpace(sysctl) != strconv.Itoa(v)) {
			t.Fatalf("parseDisabled(%q) = %d, true", sysctl, v)
		}
		if errno != unix.EPERM {
			return
		}
		if reason == "" {
			t.Fatal("EPERM without a reason")
		}
		if have && ok && !strings.HasPrefix(reason, "kernel.io_uring_disabled="+strconv.Itoa(v)) {
			t.Fatalf("sysctl %q gave reason %q", sysctl, reason)
		}
	})
}
