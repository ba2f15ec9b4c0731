package kv

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// model is the reference the store is checked against: a plain map.
type model struct {
	m    map[string]*mval
	keys []string // the keys of m, for random picks
	idx  map[string]int
	seq  int // inserts so far
}

type mval struct {
	str    []byte
	obj    any
	isObj  bool
	meta   Meta
	expire int64
	ref    Ref
	seq    int // when it was inserted: slot lists run newest first
}

func newModel() *model { return &model{m: map[string]*mval{}, idx: map[string]int{}} }

func (md *model) add(k string, v *mval) {
	md.seq++
	v.seq = md.seq
	md.m[k] = v
	md.idx[k] = len(md.keys)
	md.keys = append(md.keys, k)
}

func (md *model) del(k string) {
	i := md.idx[k]
	last := md.keys[len(md.keys)-1]
	md.keys[i] = last
	md.idx[last] = i
	md.keys = md.keys[:len(md.keys)-1]
	delete(md.idx, k)
	delete(md.m, k)
}

func (md *model) pick(rng *rand.Rand) (string, *mval) {
	k := md.keys[rng.IntN(len(md.keys))]
	return k, md.m[k]
}

// compare checks that s holds exactly what md holds.
func (md *model) compare(s *Store) error {
	if s.Len() != len(md.m) {
		return fmt.Errorf("Len %d, model %d", s.Len(), len(md.m))
	}
	vol := 0
	for k, v := range md.m {
		r := s.Find([]byte(k))
		if r != v.ref {
			return fmt.Errorf("Find(%q) = %d, model says %d", k, r, v.ref)
		}
		if err := md.compareOne(s, k, v); err != nil {
			return err
		}
		if v.expire != NoExpire {
			vol++
		}
	}
	if s.Volatile() != vol {
		return fmt.Errorf("Volatile %d, model %d", s.Volatile(), vol)
	}
	return nil
}

func (md *model) compareOne(s *Store, k string, v *mval) error {
	r := v.ref
	switch {
	case string(s.Key(r)) != k:
		return fmt.Errorf("Key(%d) = %q, want %q", r, s.Key(r), k)
	case s.IsObject(r) != v.isObj:
		return fmt.Errorf("IsObject(%q) = %v", k, s.IsObject(r))
	case v.isObj && s.Obj(r) != v.obj:
		return fmt.Errorf("Obj(%q) = %v, want %v", k, s.Obj(r), v.obj)
	case v.isObj && s.Str(r) != nil:
		return fmt.Errorf("Str(%q) of an object is not nil", k)
	case !v.isObj && !bytes.Equal(s.Str(r), v.str):
		return fmt.Errorf("Str(%q) = %d bytes %.20q, want %d bytes %.20q", k, len(s.Str(r)), s.Str(r), len(v.str), v.str)
	case !v.isObj && s.Obj(r) != nil:
		return fmt.Errorf("Obj(%q) of a string is not nil", k)
	case s.Meta(r) != v.meta:
		return fmt.Errorf("Meta(%q) = %d, want %d", k, s.Meta(r), v.meta)
	case s.Expire(r) != v.expire:
		return fmt.Errorf("Expire(%q) = %d, want %d", k, s.Expire(r), v.expire)
	}
	key, val, at, ok := s.String(r)
	if ok == v.isObj || ok && (string(key) != k || !bytes.Equal(val, v.str) || at != v.expire) || !ok && (key != nil || val != nil) {
		return fmt.Errorf("String(%q) = %q, %d bytes, %d, %v", k, key, len(val), at, ok)
	}
	return nil
}

// randValue returns a value whose size spans the small, medium and huge
// (beyond the largest class) ranges.
func randValue(rng *rand.Rand, hugeOK bool) []byte {
	var n int
	switch p := rng.IntN(100); {
	case p < 40:
		n = rng.IntN(20)
	case p < 80:
		n = 20 + rng.IntN(300)
	case p < 97 || !hugeOK:
		n = 300 + rng.IntN(5000)
	default:
		n = maxClassSize - 40 + rng.IntN(40000)
	}
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(rng.Uint32())
	}
	return v
}

func randKey(rng *rand.Rand) string {
	if tagKeys && rng.IntN(5) != 0 {
		return fmt.Sprintf("{t%d}k%d", rng.IntN(8), rng.IntN(1<<30))
	}
	switch rng.IntN(20) {
	case 0:
		return ""
	case 1:
		return string(bytes.Repeat([]byte{byte(rng.Uint32())}, 100+rng.IntN(300)))
	}
	return fmt.Sprintf("k%d", rng.IntN(1<<30))
}

type obj struct{ n int }

// modelStep applies one random operation to s and md. grow biases it
// towards inserting (true) or deleting (false).
func modelStep(t testing.TB, s *Store, md *model, rng *rand.Rand, grow bool, hugeOK bool) {
	insertP, deleteP := 10, 60
	if grow {
		insertP, deleteP = 55, 15
	}
	op := rng.IntN(100)
	if len(md.keys) == 0 || op < insertP {
		k := randKey(rng)
		if v, ok := md.m[k]; ok {
			if s.Find([]byte(k)) != v.ref {
				t.Fatalf("Find(%q) lost", k)
			}
			return
		}
		if s.Find([]byte(k)) != Nil {
			t.Fatalf("Find(%q) of an absent key found %d", k, s.Find([]byte(k)))
		}
		v := &mval{meta: Meta(rng.Uint32())}
		if rng.IntN(4) == 0 {
			v.expire = 1 + rng.Int64N(1e12)
		}
		if rng.IntN(5) == 0 {
			v.isObj, v.obj = true, &obj{rng.Int()}
			v.ref = s.InsertObject([]byte(k), v.obj, v.meta, v.expire)
		} else {
			v.str = randValue(rng, hugeOK)
			if rng.IntN(2) == 0 {
				v.ref = s.InsertString([]byte(k), v.str, v.meta, v.expire)
			} else {
				v.ref = s.InsertStringHash([]byte(k), Hash([]byte(k)), v.str, v.meta, v.expire)
			}
		}
		if v.ref == Nil {
			t.Fatal("insert returned Nil")
		}
		md.add(k, v)
		return
	}
	k, v := md.pick(rng)
	switch op = rng.IntN(100); {
	case op < deleteP:
		s.Delete(v.ref)
		md.del(k)
		if s.Find([]byte(k)) != Nil {
			t.Fatalf("Find(%q) after Delete found it", k)
		}
		return
	case op < deleteP+15:
		v.str, v.isObj, v.obj = randValue(rng, hugeOK), false, nil
		s.SetString(v.ref, v.str)
	case op < deleteP+20:
		v.obj, v.isObj, v.str = &obj{rng.Int()}, true, nil
		s.SetObject(v.ref, v.obj)
	case op < deleteP+30:
		if v.isObj {
			return
		}
		n := len(v.str) + rng.IntN(200) - 100
		if rng.IntN(10) == 0 {
			n = rng.IntN(maxClassSize + 5000)
		}
		n = max(n, 0)
		w := s.ResizeString(v.ref, n)
		if len(w) != n {
			t.Fatalf("ResizeString(%q, %d) returned %d bytes", k, n, len(w))
		}
		old := v.str
		v.str = make([]byte, n)
		copy(v.str, old)
		if !bytes.Equal(w, v.str) {
			t.Fatalf("ResizeString(%q, %d) from %d: prefix not kept or tail not zero", k, n, len(old))
		}
		// Write through the returned slice, as APPEND and SETRANGE do.
		for i := 0; i < min(n, 8); i++ {
			p := rng.IntN(n)
			w[p] = byte(rng.Uint32())
			v.str[p] = w[p]
		}
	case op < deleteP+34:
		if v.isObj {
			return
		}
		// A value aliasing store memory: part of its own or another value, or a key.
		k2, v2 := md.pick(rng)
		var src []byte
		switch {
		case rng.IntN(3) == 0:
			src = s.Key(v.ref)
		case !v2.isObj && len(v2.str) > 0:
			a := rng.IntN(len(v2.str))
			src = s.Str(v2.ref)[a:]
		default:
			src = s.Key(v2.ref)
			_ = k2
		}
		if rng.IntN(2) == 0 && len(v.str) > 1 {
			src = s.Str(v.ref)[1:]
		}
		nv := append([]byte(nil), src...)
		s.SetString(v.ref, src)
		v.str = nv
	case op < deleteP+37:
		v.expire = NoExpire
		if rng.IntN(2) == 0 {
			v.expire = rng.Int64N(1e12) + 1
		}
		s.SetExpire(v.ref, v.expire)
	case op < deleteP+39:
		v.meta = Meta(rng.Uint32())
		s.SetMeta(v.ref, v.meta)
	default:
		s.Rehash(rng.IntN(4))
	}
	if err := md.compareOne(s, k, v); err != nil {
		t.Fatal(err)
	}
}

func TestModel(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed*7))
			s := New()
			md := newModel()
			steps := 40000
			if testing.Short() {
				steps = 10000
			}
			grows, shrinks := 0, 0
			wasRehashing := false
			for i := 0; i < steps; i++ {
				// Phases: grow to a few thousand keys, shrink to a few, and again.
				grow := i%10000 < 4000
				modelStep(t, s, md, rng, grow, true)
				if s.rehashing && !wasRehashing {
					if s.t[1].size() > s.t[0].size() {
						grows++
					} else {
						shrinks++
					}
				}
				wasRehashing = s.rehashing
				if i%1000 == 999 {
					if err := s.check(); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if err := md.compare(s); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
			}
			if grows < 3 || shrinks < 2 {
				t.Errorf("only %d grows and %d shrinks: the test does not exercise resizing", grows, shrinks)
			}
			t.Logf("%d keys at the end, %d grows, %d shrinks, stats %+v", s.Len(), grows, shrinks, s.Stats())
			s.Clear()
			if err := s.check(); err != nil {
				t.Fatal(err)
			}
			if s.Len() != 0 || s.Volatile() != 0 || s.Stats().Pages != 0 {
				t.Fatalf("Clear left %+v", s.Stats())
			}
		})
	}
}

// TestDeleteAll fills a store, deletes everything and checks that the
// memory goes back (pages and segments released, table shrunk).
func TestDeleteAll(t *testing.T) {
	s := New()
	rng := rand.New(rand.NewPCG(9, 9))
	var refs []Ref
	for i := range 100000 {
		v := make([]byte, rng.IntN(600))
		refs = append(refs, s.InsertString(fmt.Appendf(nil, "key:%d", i), v, 0, 0))
	}
	full := s.Stats()
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	for _, r := range refs {
		s.Delete(r)
	}
	for s.Rehash(1000) {
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	t.Logf("full: %+v", full)
	t.Logf("empty: %+v", st)
	if st.Keys != 0 || st.Buckets != minBuckets || st.EntrySegments > 1 || st.SlotBytes != 0 || st.LiveBytes != 0 {
		t.Fatalf("after deleting everything: %+v", st)
	}
	if st.Pages != 0 {
		t.Fatalf("%d pages left", st.Pages)
	}
}

// TestRefsStable checks that Refs keep naming their key across resizes in
// both directions.
func TestRefsStable(t *testing.T) {
	s := New()
	refs := map[string]Ref{}
	for i := range 5000 {
		k := fmt.Sprint("stable", i)
		refs[k] = s.InsertString([]byte(k), []byte(k+"-value"), Meta(i), 0)
	}
	n := 0
	for k, r := range refs {
		if n%10 != 0 {
			s.Delete(r)
			delete(refs, k)
		}
		n++
	}
	for i := range 20000 {
		s.InsertString(fmt.Appendf(nil, "more%d", i), nil, 0, 0)
	}
	for k, r := range refs {
		if string(s.Key(r)) != k || string(s.Str(r)) != k+"-value" || s.Find([]byte(k)) != r {
			t.Fatalf("ref %d of %q now names %q", r, k, s.Key(r))
		}
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
}

// TestAliasing covers values that alias store memory, including the record
// being rewritten, across header-length changes.
func TestAliasing(t *testing.T) {
	tests := []struct {
		name   string
		oldLen int
		src    func(s *Store, r, other Ref) []byte
	}{
		{"own value prefix, header shrinks", 200, func(s *Store, r, o Ref) []byte { return s.Str(r)[:100] }},
		{"own value suffix, header shrinks", 200, func(s *Store, r, o Ref) []byte { return s.Str(r)[90:] }},
		{"own value suffix, same header", 120, func(s *Store, r, o Ref) []byte { return s.Str(r)[3:] }},
		{"own key", 130, func(s *Store, r, o Ref) []byte { return s.Key(r) }},
		{"own value whole", 300, func(s *Store, r, o Ref) []byte { return s.Str(r) }},
		{"other value", 300, func(s *Store, r, o Ref) []byte { return s.Str(o) }},
		{"own huge value prefix", maxClassSize + 100, func(s *Store, r, o Ref) []byte { return s.Str(r)[:maxClassSize/2] }},
		{"own huge value middle", maxClassSize + 100, func(s *Store, r, o Ref) []byte { return s.Str(r)[10 : maxClassSize+50] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			val := make([]byte, tc.oldLen)
			for i := range val {
				val[i] = byte(i*7 + 1)
			}
			key := bytes.Repeat([]byte("k"), 127) // header sizes: key 1 byte, value 1 or 2
			r := s.InsertString(key, val, 0, 0)
			o := s.InsertString([]byte("other"), bytes.Repeat([]byte{'o'}, 300), 0, 0)
			src := tc.src(s, r, o)
			want := append([]byte(nil), src...)
			s.SetString(r, src)
			if !bytes.Equal(s.Str(r), want) || !bytes.Equal(s.Key(r), key) {
				t.Fatalf("value %d bytes, want %d; key ok %v", len(s.Str(r)), len(want), bytes.Equal(s.Key(r), key))
			}
			// Insert with a key and value that alias the store.
			r2 := s.InsertString(s.Str(o)[:10], s.Str(r), 0, 0)
			if !bytes.Equal(s.Str(r2), want) || string(s.Key(r2)) != "oooooooooo" {
				t.Fatal("insert from aliased slices")
			}
			if err := s.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestObjectTransitions(t *testing.T) {
	s := New()
	type list struct{ items []string }
	a, b := &list{[]string{"a"}}, &list{[]string{"b"}}
	r := s.InsertObject([]byte("obj"), a, 7, 0)
	steps := []struct {
		do      func()
		isObj   bool
		obj     any
		str     string
		objects int
	}{
		{func() {}, true, a, "", 1},
		{func() { s.SetObject(r, b) }, true, b, "", 1},
		{func() { s.SetString(r, []byte("now a string")) }, false, nil, "now a string", 0},
		{func() { s.ResizeString(r, 3) }, false, nil, "now", 0},
		{func() { s.SetObject(r, a) }, true, a, "", 1},
		{func() { s.SetString(r, make([]byte, maxClassSize+1)) }, false, nil, string(make([]byte, maxClassSize+1)), 0},
		{func() { s.SetObject(r, b) }, true, b, "", 1},
	}
	for i, st := range steps {
		st.do()
		if s.IsObject(r) != st.isObj || s.Obj(r) != st.obj || string(s.Str(r)) != st.str ||
			s.Stats().Objects != st.objects || string(s.Key(r)) != "obj" || s.Meta(r) != 7 {
			t.Fatalf("step %d: IsObject %v Obj %v Str %.10q Objects %d", i, s.IsObject(r), s.Obj(r), s.Str(r), s.Stats().Objects)
		}
		if err := s.check(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	s.Delete(r)
	if s.objs.live != 0 || *s.objs.at(0) != nil {
		t.Fatal("Delete kept a reference to the object")
	}
}

// TestResizeStringGrowth appends byte by byte through the classes into a
// huge record, as repeated APPENDs do, and back down.
func TestResizeStringGrowth(t *testing.T) {
	s := New()
	r := s.InsertString([]byte("appended"), nil, 0, 0)
	var want []byte
	for i := 0; i < maxClassSize*3; i += 1 + i/64 {
		n := len(want) + 1 + i/64
		w := s.ResizeString(r, n)
		for j := len(want); j < n; j++ {
			w[j] = byte(j)
			want = append(want, byte(j))
		}
	}
	if !bytes.Equal(s.Str(r), want) {
		t.Fatal("appended value differs")
	}
	st := s.Stats()
	if st.HugeValues != 1 || st.HugeBytes < int64(len(want)) || st.HugeBytes > 2*int64(len(want))+2<<20 {
		t.Fatalf("huge accounting %+v for %d bytes", st, len(want))
	}
	for n := len(want); n > 0; n = n * 2 / 3 {
		s.ResizeString(r, n)
		if !bytes.Equal(s.Str(r), want[:n]) {
			t.Fatalf("shrinking to %d", n)
		}
		if err := s.check(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpireAccounting(t *testing.T) {
	s := New()
	r1 := s.InsertString([]byte("a"), nil, 0, 100)
	r2 := s.InsertString([]byte("b"), nil, 0, NoExpire)
	steps := []struct {
		do   func()
		want int
	}{
		{func() {}, 1},
		{func() { s.SetExpire(r2, 5) }, 2},
		{func() { s.SetExpire(r2, 6) }, 2},
		{func() { s.SetExpire(r1, NoExpire) }, 1},
		{func() { s.SetExpire(r1, NoExpire) }, 1},
		{func() { s.Delete(r2) }, 0},
	}
	for i, st := range steps {
		st.do()
		if s.Volatile() != st.want {
			t.Fatalf("step %d: Volatile %d, want %d", i, s.Volatile(), st.want)
		}
	}
}

// TestReleasedAndOnDrop: the store reports the objects it lets go of and
// the bytes of its own memory it releases (huge values, pages, Clear).
func TestReleasedAndOnDrop(t *testing.T) {
	s := New()
	var dropped []any
	s.OnDrop(func(o any) { dropped = append(dropped, o) })
	a, b, c := &struct{ n int }{1}, &struct{ n int }{2}, &struct{ n int }{3}
	ra := s.InsertObject([]byte("a"), a, 0, NoExpire)
	rb := s.InsertObject([]byte("b"), b, 0, NoExpire)
	rs := s.InsertString([]byte("s"), []byte("x"), 0, NoExpire)
	s.Delete(rs)
	s.Delete(ra)
	s.SetString(rb, []byte("y"))
	if len(dropped) != 2 || dropped[0] != a || dropped[1] != b {
		t.Fatalf("dropped %v, want a then b", dropped)
	}
	r0 := s.Released()
	rh := s.InsertString([]byte("h"), make([]byte, 1<<20), 0, NoExpire)
	if s.Released() != r0 {
		t.Fatalf("Released moved on an insert: %d -> %d", r0, s.Released())
	}
	s.Delete(rh)
	if got := s.Released() - r0; got < 1<<20 {
		t.Fatalf("deleting a 1 MiB value released %d bytes", got)
	}
	before, total := s.Released(), s.Stats().TotalBytes
	s.Clear()
	if s.Released() != before+total {
		t.Fatalf("Clear: Released %d, want %d + %d", s.Released(), before, total)
	}
	s.Delete(s.InsertObject([]byte("c"), c, 0, NoExpire))
	if len(dropped) != 3 || dropped[2] != c {
		t.Fatalf("after Clear the hook is gone: dropped %v", dropped)
	}
}
