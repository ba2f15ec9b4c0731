package dict

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestBasic(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values bool
	}{{"hash", true}, {"set", false}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDict(tc.values, 0)
			val := func(s string) []byte {
				if !tc.values {
					return nil
				}
				return []byte(s)
			}
			steps := []struct {
				op, key, val string
				want         bool
			}{
				{"get", "a", "", false},
				{"set", "a", "1", true},
				{"set", "a", "22", false},
				{"add", "a", "3", false},
				{"get", "a", "22", true},
				{"add", "", "empty", true},
				{"get", "", "empty", true},
				{"exists", "b", "", false},
				{"del", "b", "", false},
				{"del", "a", "", true},
				{"get", "a", "", false},
				{"del", "", "", true},
				{"exists", "", "", false},
			}
			for i, s := range steps {
				var got bool
				switch s.op {
				case "get":
					v, ok := d.Get([]byte(s.key))
					got = ok
					if ok && tc.values && string(v) != s.val {
						t.Fatalf("step %d: Get(%q) = %q, want %q", i, s.key, v, s.val)
					}
					if ok && !tc.values && v != nil {
						t.Fatalf("step %d: set Get returned value %q", i, v)
					}
				case "set":
					got = d.Set([]byte(s.key), val(s.val))
				case "add":
					got = d.Add([]byte(s.key), val(s.val))
				case "exists":
					got = d.Exists([]byte(s.key))
				case "del":
					got = d.Delete([]byte(s.key))
				}
				if got != s.want {
					t.Fatalf("step %d %s(%q): got %v, want %v", i, s.op, s.key, got, s.want)
				}
				check(t, d)
			}
			if d.Len() != 0 || d.IsSet() == tc.values {
				t.Fatalf("Len %d IsSet %v", d.Len(), d.IsSet())
			}
		})
	}
}

// TestModel drives random operations against a Go map through several
// rounds of growth to thousands of elements and shrinking to a few, with
// values of every length class (in-place rewrites, moves, huge records).
func TestModel(t *testing.T) {
	for _, values := range []bool{true, false} {
		t.Run(fmt.Sprint("values=", values), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(fmt.Sprint(values)))))
			d := newDict(values, 0)
			model := map[string]string{}
			grows, shrinks := 0, 0
			var lastSize uint64
			ops := 200_000
			if testing.Short() {
				ops = 40_000
			}
			for i := range ops {
				phase := (i / 20_000) % 2 // 0: mostly inserts, 1: mostly deletes
				key := "k" + strconv.Itoa(rng.IntN(6000))
				if rng.IntN(50) == 0 {
					key = string(bytes.Repeat([]byte{byte('a' + rng.IntN(26))}, 100+rng.IntN(1500)))
				}
				var val string
				if values {
					val = randValue(rng)
				}
				r := rng.IntN(10)
				switch {
				case (phase == 0 && r < 6) || (phase == 1 && r < 2):
					_, had := model[key]
					if d.Set([]byte(key), []byte(val)) == had {
						t.Fatalf("op %d: Set(%q) inserted=%v, model had=%v", i, key, !had, had)
					}
					model[key] = val
				case r < 7:
					_, had := model[key]
					if d.Add([]byte(key), []byte(val)) == had {
						t.Fatalf("op %d: Add(%q) inserted=%v, model had=%v", i, key, !had, had)
					}
					if !had {
						model[key] = val
					}
				case r < 8:
					v, ok := d.Get([]byte(key))
					mv, mok := model[key]
					if ok != mok || string(v) != mv {
						t.Fatalf("op %d: Get(%q) = %q,%v; model %q,%v", i, key, v, ok, mv, mok)
					}
				default:
					_, had := model[key]
					if d.Delete([]byte(key)) != had {
						t.Fatalf("op %d: Delete(%q) != %v", i, key, had)
					}
					delete(model, key)
				}
				if phase == 1 {
					// Delete faster than we insert: shrink.
					for k := range model {
						d.Delete([]byte(k))
						delete(model, k)
						break
					}
				}
				if d.Len() != len(model) {
					t.Fatalf("op %d: Len %d, model %d", i, d.Len(), len(model))
				}
				if s := d.t[0].size(); s != lastSize {
					if s > lastSize {
						grows++
					} else {
						shrinks++
					}
					lastSize = s
				}
				if i%5000 == 0 {
					sameContents(t, d, model)
				}
			}
			sameContents(t, d, model)
			if grows < 10 || shrinks < 5 {
				t.Fatalf("only %d grows and %d shrinks", grows, shrinks)
			}
			t.Logf("%d grows, %d shrinks, final %d elements, %d bytes", grows, shrinks, d.Len(), d.MemoryUsage())
		})
	}
}

func randValue(rng *rand.Rand) string {
	var n int
	switch rng.IntN(10) {
	case 0:
		n = 0
	case 1:
		n = 200 + rng.IntN(2000) // around and past hugeRecord
	default:
		n = rng.IntN(40)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

// TestAliasing passes the dict's own memory back to it.
func TestAliasing(t *testing.T) {
	d := NewHash(0)
	model := map[string]string{}
	for i := range 300 {
		k := fmt.Sprintf("field:%05d", i)
		v := fmt.Sprintf("value-%d-%s", i, bytes.Repeat([]byte("x"), i%50))
		d.Set([]byte(k), []byte(v))
		model[k] = v
	}
	for i := range 3000 {
		k := fmt.Sprintf("field:%05d", i%300)
		v, _ := d.Get([]byte(k))
		switch i % 3 {
		case 0: // shorter, from its own value
			nv := v[:len(v)/2]
			model[k] = string(nv)
			d.Set([]byte(k), nv)
		case 1: // longer: another element's value
			o := fmt.Sprintf("field:%05d", (i*7)%300)
			ov, _ := d.Get([]byte(o))
			nv := append(append([]byte{}, v...), ov...)
			model[k] = string(nv)
			d.Set([]byte(k), nv)
		default: // same length, shifted within itself
			if len(v) > 1 {
				model[k] = string(v[1:]) + "y"
				nv := append(v[1:len(v):len(v)], 'y') // copies: v has no spare capacity
				d.Set([]byte(k), nv)
			}
		}
	}
	sameContents(t, d, model)
	// Delete and re-add through keys that alias the dict.
	for range 100 {
		k, _, ok := d.Random(rand.Uint64())
		if !ok {
			t.Fatal("Random on non-empty dict")
		}
		delete(model, string(k))
		if !d.Delete(k) {
			t.Fatalf("Delete(%q) from Random failed", k)
		}
	}
	sameContents(t, d, model)
}

// TestHugeValues switches values between page records and own buffers.
func TestHugeValues(t *testing.T) {
	d := NewHash(0)
	model := map[string]string{}
	for _, n := range []int{0, 10, hugeRecord - 20, hugeRecord + 10, 5000, 5100, 3000, 10, 70000, 60000, 100} {
		for i := range 20 {
			k := fmt.Sprint("f", i)
			v := string(bytes.Repeat([]byte{byte('a' + i)}, n))
			d.Set([]byte(k), []byte(v))
			model[k] = v
		}
		sameContents(t, d, model)
	}
}

// TestGarbageBounded rewrites values with other lengths for a long time and
// checks that pages stay close to the live bytes.
func TestGarbageBounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	d := NewHash(0)
	const n = 20_000
	model := map[string]string{}
	for i := range n {
		k := fmt.Sprintf("field:%05d", i)
		v := randValue(rng)
		if len(v) > 100 {
			v = v[:100]
		}
		d.Set([]byte(k), []byte(v))
		model[k] = v
	}
	worst := 0.0
	for i := range 200_000 {
		k := fmt.Sprintf("field:%05d", rng.IntN(n))
		v := string(bytes.Repeat([]byte("v"), rng.IntN(100)))
		d.Set([]byte(k), []byte(v))
		model[k] = v
		if i%1000 == 0 {
			ratio := float64(d.pageBytes) / float64(d.liveBytes)
			worst = max(worst, ratio)
		}
	}
	sameContents(t, d, model)
	t.Logf("pages/live bytes: worst %.2f, final %.2f (%d pages, %d queued)",
		worst, float64(d.pageBytes)/float64(d.liveBytes), len(d.pages)-len(d.freeIDs)-1, len(d.queue)-d.qHead)
	if worst > 1.6 {
		t.Fatalf("pages reached %.2f times the live bytes", worst)
	}
	// Deleting everything gives all pages back but the current one.
	for k := range model {
		d.Delete([]byte(k))
	}
	for d.Rehash(100) {
	}
	check(t, d)
	if d.pageBytes > maxPage {
		t.Fatalf("empty dict keeps %d bytes of pages", d.pageBytes)
	}
}

func TestSetRejectsValue(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewSet(0).Set([]byte("a"), []byte("b"))
}

func TestHint(t *testing.T) {
	for _, hint := range []int{0, 1, 5, 1000, 1 << 20} {
		d := NewSet(hint)
		for i := range 2000 {
			d.Add([]byte(strconv.Itoa(i)), nil)
		}
		check(t, d)
		if hint == 1<<20 && d.t[0].size() != 1<<20 {
			t.Fatalf("hint %d: %d buckets", hint, d.t[0].size())
		}
	}
}
