package kv

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"shoal/cluster"
)

// tagKeys makes randKey give most keys one of a few hash tags, so that
// slot lists are long and the list surgery is exercised everywhere (head,
// middle, tail).
var tagKeys bool

// compareSlots checks CountInSlot and KeysInSlot against the model: every
// slot's keys, newest insert first.
func (md *model) compareSlots(s *Store) error {
	want := make([][]*mval, cluster.Slots)
	for k, v := range md.m {
		slot := slotOf([]byte(k))
		want[slot] = append(want[slot], v)
	}
	for slot, vs := range want {
		slices.SortFunc(vs, func(a, b *mval) int { return b.seq - a.seq })
		if n := s.CountInSlot(uint16(slot)); n != len(vs) {
			return fmt.Errorf("CountInSlot(%d) = %d, model %d", slot, n, len(vs))
		}
		var got []Ref
		n := s.KeysInSlot(uint16(slot), len(vs)+5, func(r Ref) { got = append(got, r) })
		if n != len(vs) || len(got) != len(vs) {
			return fmt.Errorf("KeysInSlot(%d) visited %d (%d calls), model has %d", slot, n, len(got), len(vs))
		}
		for i, v := range vs {
			if got[i] != v.ref {
				return fmt.Errorf("KeysInSlot(%d)[%d] = %d, model says %d", slot, i, got[i], v.ref)
			}
		}
		if len(vs) > 1 {
			var some []Ref
			if n := s.KeysInSlot(uint16(slot), len(vs)/2, func(r Ref) { some = append(some, r) }); n != len(vs)/2 || !slices.Equal(some, got[:n]) {
				return fmt.Errorf("KeysInSlot(%d, %d) gave %v, want the prefix of %v", slot, len(vs)/2, some, got)
			}
		}
	}
	return nil
}

// TestModelSlots is TestModel on a store tracking slots: the random
// inserts, deletes, value changes and resizes keep every slot list right.
func TestModelSlots(t *testing.T) {
	for _, seed := range []uint64{4, 5} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, seed*7))
			s := New()
			s.TrackSlots()
			tagKeys = true
			defer func() { tagKeys = false }()
			md := newModel()
			steps := 30000
			if testing.Short() {
				steps = 8000
			}
			for i := 0; i < steps; i++ {
				modelStep(t, s, md, rng, i%10000 < 4000, false)
				if i%1000 == 999 {
					if err := s.check(); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if err := md.compare(s); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if err := md.compareSlots(s); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				}
			}
			s.Clear()
			md = newModel()
			if err := s.check(); err != nil {
				t.Fatal(err)
			}
			if !s.TracksSlots() || s.Stats().SlotIndex != cluster.Slots*8 {
				t.Fatalf("after Clear: tracking %v, slot index %d bytes", s.TracksSlots(), s.Stats().SlotIndex)
			}
			for i := 0; i < 2000; i++ {
				modelStep(t, s, md, rng, true, false)
			}
			if err := s.check(); err != nil {
				t.Fatal(err)
			}
			if err := md.compareSlots(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSlotSegments fills several entry segments and empties them again:
// link segments follow entry segments, and the memory goes back.
func TestSlotSegments(t *testing.T) {
	s := New()
	s.TrackSlots()
	const n = 3*segLen + 100
	key := make([]byte, 0, 16)
	for i := range n {
		key = benchKey(key, i)
		s.InsertString(key, nil, 0, 0)
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.SlotIndex < 4*segLen*slotLinkSize {
		t.Fatalf("slot index %d bytes for 4 segments", st.SlotIndex)
	}
	total := 0
	for slot := range cluster.Slots {
		total += s.CountInSlot(uint16(slot))
	}
	if total != n {
		t.Fatalf("slot counts add up to %d, want %d", total, n)
	}
	// Delete from the low segments first, so that a segment other than
	// the deleted entry's becomes the released one (the spare moves down).
	for i := range n {
		s.Delete(s.Find(benchKey(key, i)))
		if i%5000 == 0 {
			if err := s.check(); err != nil {
				t.Fatalf("after %d deletes: %v", i+1, err)
			}
		}
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.SlotIndex > cluster.Slots*8+int64(cap(s.slots.links))*8+segLen*slotLinkSize {
		t.Fatalf("empty store keeps %d bytes of slot index", st.SlotIndex)
	}
}

func TestTrackSlotsRefusesKeys(t *testing.T) {
	s := New()
	s.InsertString([]byte("k"), nil, 0, 0)
	defer func() {
		if recover() == nil {
			t.Fatal("TrackSlots on a store with keys did not panic")
		}
	}()
	s.TrackSlots()
}

// BenchmarkInsertDeleteSlots is BenchmarkInsertDelete's cycle on a store
// tracking slots, to show what the lists cost.
func BenchmarkInsertDeleteSlots(b *testing.B) {
	for _, track := range []bool{false, true} {
		b.Run(fmt.Sprintf("track=%v", track), func(b *testing.B) {
			s := New()
			if track {
				s.TrackSlots()
			}
			key, val := make([]byte, 0, 16), make([]byte, 32)
			for i := range 100000 {
				s.InsertString(benchKey(key, i), val, 0, 0)
			}
			extra := benchKey(nil, 1<<30)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				s.Delete(s.InsertString(extra, val, 0, 0))
			}
		})
	}
}

func BenchmarkKeysInSlot(b *testing.B) {
	s := New()
	s.TrackSlots()
	key := make([]byte, 0, 32)
	for i := range 10000 {
		key = append(append(key[:0], "{"...), byte('a'+i%16), '}')
		s.InsertString(append(key, benchKey(nil, i)...), nil, 0, 0)
	}
	slots := make([]uint16, 16)
	for i := range slots {
		slots[i] = slotOf([]byte{'{', byte('a' + i), '}'})
	}
	n := 0
	fn := func(Ref) { n++ }
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.KeysInSlot(slots[i&15], 100, fn)
	}
}

// TestNoAllocsSlots asserts that tracking slots adds no allocation to the
// hot paths, and that the slot queries allocate nothing.
func TestNoAllocsSlots(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	const n = 10000
	s := New()
	s.TrackSlots()
	key, val := make([]byte, 0, 16), make([]byte, 64)
	refs := make([]Ref, n)
	for i := range refs {
		refs[i] = s.InsertString(benchKey(key, i), val, 0, 0)
	}
	extra := benchKey(nil, n+1)
	o := &obj{1}
	x, i := 0, 0
	count := func(Ref) { x++ }
	tests := []struct {
		name string
		fn   func()
	}{
		{"InsertString+Delete", func() { s.Delete(s.InsertString(extra, val, 0, 0)) }},
		{"InsertObject+Delete", func() { s.Delete(s.InsertObject(extra, o, 0, 0)) }},
		{"SetString", func() { s.SetString(refs[i%n], val) }},
		{"CountInSlot", func() { x += s.CountInSlot(uint16(i)) }},
		{"KeysInSlot", func() { s.KeysInSlot(uint16(i)&16383, 10, count) }},
	}
	for _, tc := range tests {
		tc.fn()
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
