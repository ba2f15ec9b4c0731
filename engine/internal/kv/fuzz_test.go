package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// FuzzStore drives a store with an operation stream decoded from the input
// and checks it against a map after every operation and structurally at the
// end. Keys come from a small set so operations collide.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 10, 0, 2, 200, 3, 1, 0, 4, 1, 5})
	f.Add(bytes.Repeat([]byte{0, 7, 90, 1, 7, 3, 2, 7, 255}, 20))
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := New()
		track := len(ops)%2 == 1 // half the inputs also check the slot lists
		if track {
			s.TrackSlots()
		}
		md := newModel()
		val := func(n int, seed byte) []byte {
			v := make([]byte, n)
			for i := range v {
				v[i] = seed + byte(i)
			}
			return v
		}
		for len(ops) >= 3 {
			op, k, arg := ops[0]%8, fmt.Sprint("f", ops[1]%64), int(ops[2])
			if track && ops[1]&64 != 0 { // share a few slots
				k = fmt.Sprint("{t", ops[1]%3, "}", k)
			}
			ops = ops[3:]
			v, ok := md.m[k]
			n := arg * arg / 2 // up to 32 KiB, past the largest class
			if arg == 255 {
				n = maxClassSize + 1000
			}
			switch {
			case !ok && op < 4:
				nv := &mval{str: val(n, byte(arg)), meta: Meta(arg), expire: int64(arg % 3)}
				if op == 3 {
					nv.isObj, nv.obj, nv.str = true, &obj{arg}, nil
					nv.ref = s.InsertObject([]byte(k), nv.obj, nv.meta, nv.expire)
				} else {
					nv.ref = s.InsertString([]byte(k), nv.str, nv.meta, nv.expire)
				}
				md.add(k, nv)
				continue
			case !ok:
				if s.Find([]byte(k)) != Nil {
					t.Fatalf("absent %q found", k)
				}
				continue
			case op == 0:
				s.Delete(v.ref)
				md.del(k)
				if s.Find([]byte(k)) != Nil {
					t.Fatalf("deleted %q found", k)
				}
				continue
			case op == 1:
				v.str, v.isObj, v.obj = val(n, byte(arg)), false, nil
				s.SetString(v.ref, v.str)
			case op == 2:
				v.obj, v.isObj, v.str = &obj{arg}, true, nil
				s.SetObject(v.ref, v.obj)
			case op == 3 && !v.isObj:
				w := s.ResizeString(v.ref, n)
				v.str = append(v.str[:min(n, len(v.str))], make([]byte, max(0, n-len(v.str)))...)
				if len(w) > 0 {
					w[0] = byte(arg)
					v.str[0] = byte(arg)
				}
			case op == 4:
				v.expire = int64(arg % 2)
				s.SetExpire(v.ref, v.expire)
			case op == 5:
				v.meta = Meta(binary.LittleEndian.Uint16([]byte{byte(arg), ops0(ops)}))
				s.SetMeta(v.ref, v.meta)
			case op == 6:
				s.Rehash(arg)
			case op == 7 && !v.isObj && len(v.str) > 0:
				src := s.Str(v.ref)[arg%len(v.str):]
				v.str = append([]byte(nil), src...)
				s.SetString(v.ref, src)
			}
			if err := md.compareOne(s, k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := md.compare(s); err != nil {
			t.Fatal(err)
		}
		if track {
			if err := md.compareSlots(s); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.check(); err != nil {
			t.Fatal(err)
		}
	})
}

func ops0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
