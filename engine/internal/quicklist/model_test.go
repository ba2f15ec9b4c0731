package quicklist

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"shoal/engine/internal/listpack"
)

type opReader struct {
	data []byte
	i    int
}

func (r *opReader) next() int {
	if r.i >= len(r.data) {
		return 0
	}
	r.i++
	return int(r.data[r.i-1])
}

func (r *opReader) value() []byte {
	c := r.next()
	switch c % 8 {
	case 0:
		return []byte(strconv.Itoa(c*r.next() - 3000)) // integers of several widths
	case 1:
		return bytes.Repeat([]byte{'L'}, 300+r.next()*10) // 300..2850 bytes: fills small nodes
	case 2:
		return []byte{}
	}
	return []byte(fmt.Sprintf("e%d-%d", c, r.next()))
}

const debugOps = false

var modelFills = []int{-1, -2, 1, 2, 3, 5, 0}

// modelDepths are the list-compress-depth values runOps uses.
var modelDepths = []int{0, 1, 2}

// runOps applies the operations in data to a quicklist and a [][]byte
// model and checks they agree after every step.
func short(b []byte) string {
	if len(b) > 24 {
		return fmt.Sprintf("%q...(%d bytes)", b[:24], len(b))
	}
	return strconv.Quote(string(b))
}

func runOps(t testing.TB, data []byte) {
	r := &opReader{data: data}
	q := New(modelFills[r.next()%len(modelFills)])
	q.SetCompressDepth(modelDepths[r.next()%len(modelDepths)])
	var m [][]byte
	var dst []byte
	for step := 0; r.i < len(r.data) && step < 1000; step++ {
		op := r.next() % 12
		if debugOps {
			fmt.Printf("step %d op %d len %d nodes %d\n", step, op, len(m), q.NodeCount())
		}
		switch op {
		case 0, 1:
			v := r.value()
			q.PushTail(v)
			m = append(m, v)
		case 2, 3:
			v := r.value()
			q.PushHead(v)
			m = append([][]byte{v}, m...)
		case 4:
			var ok bool
			dst, ok = q.PopHead(dst[:0])
			if ok != (len(m) > 0) || ok && !bytes.Equal(dst, m[0]) {
				t.Fatalf("PopHead = %s %v, model %d elements", short(dst), ok, len(m))
			}
			if ok {
				m = m[1:]
			}
		case 5:
			var ok bool
			dst, ok = q.PopTail(dst[:0])
			if ok != (len(m) > 0) || ok && !bytes.Equal(dst, m[len(m)-1]) {
				t.Fatalf("PopTail = %s %v, model %d elements", short(dst), ok, len(m))
			}
			if ok {
				m = m[:len(m)-1]
			}
		case 6: // LSET
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			v := r.value()
			if !q.Replace(i-len(m)*(r.next()%2), v) {
				t.Fatalf("Replace(%d) out of range", i)
			}
			m[i] = v
		case 7: // LTRIM-like range delete
			start := r.next()%(len(m)+4) - (len(m)+4)/2
			count := r.next() % 40
			got := q.DeleteRange(start, count)
			s := start
			if s < 0 {
				s += len(m)
			}
			want := 0
			if s >= 0 && s < len(m) && count > 0 {
				e := min(s+count, len(m))
				want = e - s
				m = append(m[:s], m[e:]...)
			}
			if got != want {
				t.Fatalf("DeleteRange(%d, %d) = %d, want %d", start, count, got, want)
			}
		case 8: // LREM: delete matches of an element, from either end
			if len(m) == 0 {
				continue
			}
			target := m[r.next()%len(m)]
			fwd := r.next()%2 == 0
			limit := r.next() % 4 // 0: all
			start := 0
			if !fwd {
				start = -1
			}
			it := q.Iter(start, fwd)
			removed := 0
			for v, ok := it.Next(); ok; v, ok = it.Next() {
				if v.Equal(target) {
					it.Delete()
					removed++
					if removed == limit {
						break
					}
				}
			}
			left := removed
			if fwd {
				for i := 0; i < len(m) && left > 0; {
					if bytes.Equal(m[i], target) {
						m = append(m[:i], m[i+1:]...)
						left--
					} else {
						i++
					}
				}
			} else {
				for i := len(m) - 1; i >= 0 && left > 0; i-- {
					if bytes.Equal(m[i], target) {
						m = append(m[:i], m[i+1:]...)
						left--
					}
				}
			}
		case 9: // LINSERT at the first match of a pivot
			if len(m) == 0 {
				continue
			}
			pi := r.next() % len(m)
			pivot := m[pi]
			after := r.next()%2 == 0
			v := r.value()
			it := q.Iter(0, true)
			idx := 0
			for e, ok := it.Next(); ok; e, ok = it.Next() {
				if e.Equal(pivot) {
					it.Insert(v, after)
					break
				}
				idx++
			}
			if after {
				idx++
			}
			m = append(m[:idx], append([][]byte{v}, m[idx:]...)...)
		case 10: // LRANGE from an index in either direction
			if len(m) == 0 {
				continue
			}
			i := r.next() % len(m)
			fwd := r.next()%2 == 0
			it := q.Iter(i, fwd)
			var buf [listpack.IntBufSize]byte
			for k := 0; k < 50; k++ {
				v, ok := it.Next()
				j := i + k
				if !fwd {
					j = i - k
				}
				if ok != (j >= 0 && j < len(m)) {
					t.Fatalf("Iter(%d, %v) step %d ok=%v, model %d", i, fwd, k, ok, len(m))
				}
				if !ok {
					break
				}
				if got := v.Bytes(&buf); !bytes.Equal(got, m[j]) || v.Len() != len(m[j]) {
					t.Fatalf("Iter(%d, %v) step %d = %s, want %s", i, fwd, k, short(got), short(m[j]))
				}
			}
		case 11: // convert to a single listpack and back
			lp := q.ToListpack()
			if q.Len() != 0 || lp.Len() != len(m) {
				t.Fatalf("ToListpack: %d left, listpack of %d, model %d", q.Len(), lp.Len(), len(m))
			}
			depth := q.depth
			q = FromListpack(lp, q.fill)
			q.SetCompressDepth(depth)
		}
		check(t, q, m)
	}
}

// check verifies q against the model and its structural invariants.
func check(t testing.TB, q *Quicklist, m [][]byte) {
	t.Helper()
	if q.Len() != len(m) {
		t.Fatalf("Len %d, model %d", q.Len(), len(m))
	}
	var buf [listpack.IntBufSize]byte
	i, total := 0, 0
	for k := range q.NodeCount() {
		n := q.Node(k)
		if n.Len() == 0 {
			t.Fatalf("node %d of %d is empty", k, q.NodeCount())
		}
		if n.Len() > 1 && !q.sizeFits(n.Size(), n.Len()) {
			t.Fatalf("node %d (%d entries, %d bytes) exceeds fill %d", k, n.Len(), n.Size(), q.fill)
		}
		if err := listpack.Validate(n.Bytes(), true); err != nil {
			t.Fatalf("node %d: %v", k, err)
		}
		total += n.Len()
		for p, ok := n.First(); ok; p, ok = n.Next(p) {
			if got := n.GetBytes(p, &buf); !bytes.Equal(got, m[i]) {
				t.Fatalf("element %d (node %d) = %s, want %s", i, k, short(got), short(m[i]))
			}
			i++
		}
	}
	if total != len(m) {
		t.Fatalf("nodes hold %d elements, model %d", total, len(m))
	}
	if q.zs != nil && len(q.zs) != len(q.ns) || q.zs == nil && q.Compressed() != 0 {
		t.Fatalf("%d compressed slots for %d nodes", len(q.zs), len(q.ns))
	}
	for k := range q.zs {
		if k >= q.lo && k < q.hi {
			if q.zs[k].z != nil && q.ns[k].AllocSize() != 0 {
				t.Fatalf("node %d both compressed and raw", k-q.lo)
			}
		} else if q.zs[k].z != nil {
			t.Fatalf("free slot %d still holds a compressed node", k)
		}
	}
	for k := q.hi; k < len(q.ns); k++ {
		if q.ns[k].AllocSize() != 0 {
			t.Fatalf("free slot %d still holds a buffer", k)
		}
	}
	for k := 0; k < q.lo; k++ {
		if q.ns[k].AllocSize() != 0 {
			t.Fatalf("free slot %d still holds a buffer", k)
		}
	}
	if len(m) > 0 {
		for _, j := range []int{0, len(m) - 1, len(m) / 2, -1, -len(m)} {
			v, ok := q.Index(j)
			jj := j
			if jj < 0 {
				jj += len(m)
			}
			if !ok || !bytes.Equal(v.Bytes(&buf), m[jj]) {
				t.Fatalf("Index(%d) = %s %v, want %s", j, short(v.Bytes(&buf)), ok, short(m[jj]))
			}
		}
	}
	if _, ok := q.Index(len(m)); ok {
		t.Fatalf("Index(%d) past the end ok", len(m))
	}
}

func TestModelRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	runs := 300
	if testing.Short() {
		runs = 60
	}
	for run := range runs {
		data := make([]byte, 300+rng.IntN(1500))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		t.Run(strconv.Itoa(run), func(t *testing.T) { runOps(t, data) })
	}
}

func FuzzOps(f *testing.F) {
	f.Add([]byte{2, 0, 1, 0, 9, 2, 3, 9, 5, 4, 7, 0, 3, 8, 0, 0, 0, 11, 10, 0, 1})
	f.Add([]byte{4, 1, 1, 1, 1, 1, 1, 1, 2, 1, 3, 9, 0, 0, 1, 6, 0, 0, 1, 8, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) { runOps(t, data) })
}

// TestCompressDepth: with list-compress-depth d, every node more than d
// nodes from both ends is compressed after pushes at either end, reads
// leave them compressed, and the list reads back whole.
func TestCompressDepth(t *testing.T) {
	for _, depth := range []int{1, 2, 5} {
		q := New(-2)
		q.SetCompressDepth(depth)
		var m [][]byte
		for i := range 2000 {
			v := []byte(fmt.Sprintf("element-%06d-%s", i, bytes.Repeat([]byte("x"), 90)))
			if i%2 == 0 {
				q.PushTail(v)
				m = append(m, v)
			} else {
				q.PushHead(v)
				m = append([][]byte{v}, m...)
			}
		}
		if want := q.NodeCount() - 2*depth; q.Compressed() != want {
			t.Fatalf("depth %d: %d of %d nodes compressed, want %d", depth, q.Compressed(), q.NodeCount(), want)
		}
		check(t, q, m)
		it := q.Iter(0, true)
		for range m {
			it.Next()
		}
		if want := q.NodeCount() - 2*depth; q.Compressed() != want {
			t.Fatalf("depth %d: %d nodes compressed after reading, want %d", depth, q.Compressed(), want)
		}
		raw := 0
		for k := range q.NodeCount() {
			raw += q.Node(k).AllocSize()
		}
		if q.AllocSize() >= raw {
			t.Errorf("depth %d: %d bytes held, not less than the %d of raw nodes", depth, q.AllocSize(), raw)
		}
	}
}

// TestCompressedDeleteThroughIter removes every other element of a
// compressed list through an iterator, both ways, as LREM does: each node
// is decompressed a few times at most (read, merged), not once per
// deletion (there are 2,000), the list matches
// the model, and after Done every inner node is compressed again.
func TestCompressedDeleteThroughIter(t *testing.T) {
	for _, fwd := range []bool{true, false} {
		q := New(-2)
		q.SetCompressDepth(1)
		var m [][]byte
		for i := range 4000 {
			v := []byte(fmt.Sprintf("%d-%s", i%2, bytes.Repeat([]byte("y"), 60)))
			q.PushTail(v)
			if i%2 == 1 {
				m = append(m, v)
			}
		}
		nodes := q.NodeCount()
		q.decompressions = 0
		start := 0
		if !fwd {
			start = -1
		}
		it := q.Iter(start, fwd)
		for {
			v, ok := it.Next()
			if !ok {
				break
			}
			if v.Bytes(nil)[0] == '0' {
				it.Delete()
			}
		}
		it.Done()
		if q.decompressions > 3*nodes {
			t.Errorf("forward %v: %d decompressions for %d nodes", fwd, q.decompressions, nodes)
		}
		check(t, q, m)
		if want := q.NodeCount() - 2; q.Compressed() != want {
			t.Errorf("forward %v: %d of %d nodes compressed after Done, want %d", fwd, q.Compressed(), q.NodeCount(), want)
		}
	}
}

// TestLongPushPop exercises the node deque's growth, recentering and
// shrinking over many nodes.
func TestLongPushPop(t *testing.T) {
	q := New(2)
	var m [][]byte
	for i := range 3000 {
		v := []byte(strconv.Itoa(i))
		if i%3 == 0 {
			q.PushHead(v)
			m = append([][]byte{v}, m...)
		} else {
			q.PushTail(v)
			m = append(m, v)
		}
	}
	check(t, q, m)
	var dst []byte
	for i := 0; len(m) > 10; i++ {
		if i%2 == 0 {
			dst, _ = q.PopHead(dst[:0])
			m = m[1:]
		} else {
			dst, _ = q.PopTail(dst[:0])
			m = m[:len(m)-1]
		}
	}
	check(t, q, m)
	if len(q.ns) > 64 {
		t.Fatalf("node array of %d slots for %d nodes", len(q.ns), q.NodeCount())
	}
}
