package diff

import (
	"bytes"
	"slices"
	"strconv"
)

// SCAN, SSCAN, HSCAN and ZSCAN cursors are opaque and the split of the
// elements across calls is the server's business, so a SCAN-family step
// is compared as a whole iteration: the harness keeps calling with the
// returned cursor (same options) until the cursor is 0, and the step's
// reply becomes ["0", elements] with the elements (field/value or
// member/score pairs for HSCAN and ZSCAN) deduplicated and sorted. An
// iteration started from a cursor other than "0" depends on the server's
// table layout: its elements are masked. An error or malformed reply at
// any call is the step's reply.

const maxScanCalls = 10000

// isScan reports whether st is a SCAN-family command with a cursor.
func isScan(st *Step) bool {
	switch st.Name() {
	case "SCAN":
		return len(st.Args) >= 2
	case "SSCAN", "HSCAN", "ZSCAN":
		return len(st.Args) >= 3
	}
	return false
}

func scanCursorIndex(st *Step) int {
	if st.Name() == "SCAN" {
		return 1
	}
	return 2
}

// scanReply splits a SCAN-family reply into its cursor and elements.
func scanReply(raw []byte) (cursor []byte, elems []Value, ok bool) {
	v, _, err := Parse(raw)
	if err != nil || v.Type != '*' || v.Null || len(v.Elems) != 2 {
		return nil, nil, false
	}
	c, e := v.Elems[0], v.Elems[1]
	if c.Type != '$' || c.Null || !e.isArray() {
		return nil, nil, false
	}
	return c.Str, e.Elems, true
}

// completeScan finishes the iteration begun by st, whose first reply is
// first, and returns the normalized reply (or the first reply that is not
// a well-formed SCAN reply).
func (s *side) completeScan(st *Step, first []byte) ([]byte, error) {
	cursor, elems, ok := scanReply(first)
	if !ok {
		return first, nil
	}
	all := slices.Clone(elems)
	ci := scanCursorIndex(st)
	args := slices.Clone(st.Args)
	var buf []byte
	for calls := 1; string(cursor) != "0"; calls++ {
		if calls == maxScanCalls {
			v := Value{Type: '-', Str: []byte("HARNESS scan did not end after " + strconv.Itoa(maxScanCalls) + " calls")}
			return v.Encode(nil), nil
		}
		args[ci] = cursor
		buf = encodeCommand(buf[:0], args)
		if _, err := s.conn.Write(buf); err != nil {
			return nil, err
		}
		r, err := s.readReply()
		if err != nil {
			return nil, err
		}
		if cursor, elems, ok = scanReply(r); !ok {
			return r, nil
		}
		all = append(all, elems...)
	}
	items := all
	pairs := st.Name() == "HSCAN" || st.Name() == "ZSCAN"
	step := 1
	if pairs {
		step = 2
		if len(all)%2 != 0 {
			v := Value{Type: '-', Str: []byte("HARNESS odd number of elements in a pair scan")}
			return v.Encode(nil), nil
		}
	}
	// Sort and deduplicate by encoded element (or pair).
	type item struct {
		key  []byte
		vals []Value
	}
	var list []item
	for i := 0; i < len(items); i += step {
		var k []byte
		for j := 0; j < step; j++ {
			k = items[i+j].Encode(k)
		}
		list = append(list, item{k, items[i : i+step]})
	}
	slices.SortFunc(list, func(a, b item) int { return bytes.Compare(a.key, b.key) })
	list = slices.CompactFunc(list, func(a, b item) bool { return bytes.Equal(a.key, b.key) })
	out := Value{Type: '*', Elems: []Value{{Type: '$', Str: []byte("0")}, {Type: '*', Elems: []Value{}}}}
	if string(st.Args[ci]) != "0" {
		out.Elems[1] = Value{Type: '$', Str: []byte(masked)}
		return out.Encode(nil), nil
	}
	for _, it := range list {
		out.Elems[1].Elems = append(out.Elems[1].Elems, it.vals...)
	}
	return out.Encode(nil), nil
}
