package kv

import "testing"

// benchKey writes "key:%012d" of i into b (16 bytes) without allocating.
func benchKey(b []byte, i int) []byte {
	b = append(b[:0], "key:000000000000"...)
	for p := 15; i > 0 && p >= 4; p-- {
		b[p] = byte('0' + i%10)
		i /= 10
	}
	return b
}

func fill(n, vlen int) (*Store, [][]byte) {
	s := New()
	keys := make([][]byte, n)
	val := make([]byte, vlen)
	for i := range keys {
		keys[i] = benchKey(make([]byte, 0, 32), i)
		s.InsertString(keys[i], val, 0, 0)
	}
	return s, keys
}

// TestNoAllocs asserts that the hot paths do not allocate.
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const n = 10000 // a table of 16384 buckets: no resize below
	s, keys := fill(n, 256)
	refs := make([]Ref, n)
	for i, k := range keys {
		refs[i] = s.Find(k)
		s.SetExpire(refs[i], int64(i%2))
	}
	objRef := s.InsertObject([]byte("an object"), &obj{1}, 0, 0)
	val256, val260, val300 := make([]byte, 256), make([]byte, 260), make([]byte, 300)
	miss := []byte("key:absent_absent")
	extra := benchKey(nil, n+1)
	o := &obj{2}
	var x int
	var sample [5]Ref
	count := func(Ref) { x++ }
	i := 0
	tests := []struct {
		name string
		fn   func()
	}{
		{"Find hit", func() { x += int(s.Find(keys[i%n])) }},
		{"Find miss", func() { x += int(s.Find(miss)) }},
		{"Key", func() { x += len(s.Key(refs[i%n])) }},
		{"Str", func() { x += len(s.Str(refs[i%n])) }},
		{"Meta/SetMeta", func() { s.SetMeta(refs[i%n], s.Meta(refs[i%n])+1) }},
		{"Expire/SetExpire", func() { s.SetExpire(refs[i%n], s.Expire(refs[i%n])^1) }},
		{"IsObject/Obj", func() {
			if s.IsObject(objRef) && s.Obj(objRef) != nil {
				x++
			}
		}},
		{"SetString same size", func() { s.SetString(refs[i%n], val256) }},
		{"SetString same class", func() {
			if i%2 == 0 {
				s.SetString(refs[i%n], val260)
			} else {
				s.SetString(refs[i%n], val256)
			}
		}},
		{"SetString other class, warm", func() {
			if i%2 == 0 {
				s.SetString(refs[i%n], val300)
			} else {
				s.SetString(refs[i%n], val256)
			}
		}},
		{"ResizeString same class", func() { s.ResizeString(refs[i%n], 256+i%8) }},
		{"SetObject on object", func() { s.SetObject(objRef, o) }},
		{"InsertString+Delete", func() { s.Delete(s.InsertString(extra, val256, 0, 0)) }},
		{"InsertObject+Delete", func() { s.Delete(s.InsertObject(extra, o, 0, 0)) }},
		{"Random", func() { x += int(s.Random(uint64(i))) }},
		{"Sample", func() { x += s.Sample(uint64(i), sample[:]) }},
		{"Scan", func() { s.Scan(uint64(i)*0x9e3779b97f4a7c15, count) }},
		{"ScanBuckets", func() { s.ScanBuckets(uint64(i), 50, count) }},
		{"ScanVolatile", func() { s.ScanVolatile(uint64(i), 20, count) }},
		{"Rehash idle", func() { s.Rehash(100) }},
		{"Stats", func() { x += s.Stats().Keys }},
	}
	for _, tc := range tests {
		tc.fn() // warm up: free lists, current pages
		i++
		if a := testing.AllocsPerRun(2000, func() { tc.fn(); i++ }); a != 0 {
			t.Errorf("%s: %v allocations per call", tc.name, a)
		}
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	_ = x
}
