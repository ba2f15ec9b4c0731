package cluster

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestKeySlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		slot uint16
	}{
		{"foo", 12182},                // CLUSTER KEYSLOT foo on redis-server 7.0.15
		{"123456789", 0x31C3 % Slots}, // the CRC16-XMODEM check value
		{"", 0},
		{"{user1000}.following", KeySlot([]byte("user1000"))},
		{"{user1000}.followers", KeySlot([]byte("user1000"))},
		{"foo{}{bar}", KeySlot([]byte("foo{}{bar}"))}, // empty first tag: the whole key
		{"foo{{bar}}zap", KeySlot([]byte("{bar"))},    // the tag ends at the first '}'
		{"foo{bar}{zap}", KeySlot([]byte("bar"))},
		{"{", KeySlot([]byte("{"))},
		{"a{b", KeySlot([]byte("a{b"))},
	} {
		if got := KeySlot([]byte(tc.key)); got != tc.slot {
			t.Errorf("KeySlot(%q) = %d, want %d", tc.key, got, tc.slot)
		}
	}
}

// crc16Bitwise is CRC16-XMODEM one bit at a time, the definition the
// table-driven crc16 must match.
func crc16Bitwise(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
	}
	return c
}

// TestCRC16 checks the eight-bytes-at-a-time checksum against the bitwise
// definition at every length up to 40 and on random bytes.
func TestCRC16(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 64)
	for n := 0; n <= 40; n++ {
		for range 50 {
			b := buf[:n]
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			if got, want := crc16(b), crc16Bitwise(b); got != want {
				t.Fatalf("crc16(%x) = %#04x, want %#04x", b, got, want)
			}
		}
	}
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("check value %#04x", got)
	}
}

// FuzzKeySlot checks KeySlot against Redis's keyHashSlot written out byte
// by byte over the bitwise checksum.
func FuzzKeySlot(f *testing.F) {
	for _, k := range []string{"foo", "foo{bar}", "{user}.a", "a{}b{c}", "{", "}{x}", "key:000000000001{tag}"} {
		f.Add([]byte(k))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		// The definition: Redis's keyHashSlot, byte by byte.
		want := crc16Bitwise(key) & (Slots - 1)
		for s := 0; s < len(key); s++ {
			if key[s] == '{' {
				for e := s + 1; e < len(key); e++ {
					if key[e] == '}' {
						if e != s+1 {
							want = crc16Bitwise(key[s+1:e]) & (Slots - 1)
						}
						break
					}
				}
				break
			}
		}
		if got := KeySlot(key); got != want {
			t.Fatalf("KeySlot(%q) = %d, want %d", key, got, want)
		}
	})
}

func BenchmarkKeySlot(b *testing.B) {
	for _, k := range []string{"key:000000012345", "{user:1000}.followers", "memtier-1234567"} {
		b.Run(k, func(b *testing.B) {
			key := []byte(k)
			b.ReportAllocs()
			n := uint16(0)
			for b.Loop() {
				n += KeySlot(key)
			}
			_ = n
		})
	}
}

func TestKeySlotAllocs(t *testing.T) {
	key := []byte("key:000000000001")
	if n := testing.AllocsPerRun(100, func() { KeySlot(key) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}

func TestSplitSlots(t *testing.T) {
	// redis-cli --cluster create with 3 masters gives these ranges.
	got := SplitSlots(3)
	want := []Range{{0, 5460}, {5461, 10922}, {10923, 16383}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SplitSlots(3) = %v, want %v", got, want)
		}
	}
	for n := 1; n <= 200; n++ {
		r := SplitSlots(n)
		if len(r) != n || r[0].Start != 0 || r[n-1].End != Slots-1 {
			t.Fatalf("SplitSlots(%d) = %v", n, r)
		}
		for i := 1; i < n; i++ {
			if r[i].Start != r[i-1].End+1 {
				t.Fatalf("SplitSlots(%d): gap or overlap at %d: %v", n, i, r)
			}
			a, b := int(r[i].End-r[i].Start), int(r[0].End-r[0].Start)
			if a-b > 1 || b-a > 1 {
				t.Fatalf("SplitSlots(%d): uneven ranges %v", n, r)
			}
		}
	}
	if SplitSlots(0) != nil || SplitSlots(Slots+1) != nil {
		t.Fatal("impossible splits must give nil")
	}
}

// A nodes.conf written by redis-server 7.0.15 after redis-cli --cluster
// create of three masters.
const redisNodesConf = `95aadfab92e46c1a748a1d610482acdffde375ab 127.0.0.1:7301@17301 myself,master - 0 0 1 connected 0-5460
0e2bfd84c1cbcdb7bbd433994be7e493b024b9a8 127.0.0.1:7303@17303 master - 0 1795521647426 3 connected 10923-16383
e727ea6eb1c0d0ab22c0b894cb62809f7186d07c 127.0.0.1:7302@17302 master - 0 1795521647225 2 connected 5461-10922
vars currentEpoch 3 lastVoteEpoch 0
`

func TestParseNodesConf(t *testing.T) {
	c, err := ParseNodesConf([]byte(redisNodesConf))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 3 || c.CurrentEpoch != 3 || c.Assigned() != Slots {
		t.Fatalf("parsed %+v", c)
	}
	me := c.Myself()
	if me == nil || me.Port != 7301 || me.CPort != 17301 || me.Epoch != 1 {
		t.Fatalf("myself %+v", me)
	}
	if o := c.Owner(12182); o == nil || o.Port != 7303 {
		t.Fatalf("owner of 12182: %+v", o)
	}
	// Written back, our own line prints as Redis's; the others' pong times
	// are ours to choose.
	out := string(c.MarshalNodesConf())
	if !strings.HasPrefix(out, strings.SplitN(redisNodesConf, "\n", 2)[0]+"\n") ||
		!strings.HasSuffix(out, "vars currentEpoch 3 lastVoteEpoch 0\n") {
		t.Fatalf("marshalled:\n%s", out)
	}
	again, err := ParseNodesConf([]byte(out))
	if err != nil || len(again.Nodes) != 3 || again.Owner(100).ID != me.ID {
		t.Fatalf("round trip: %v", err)
	}
}

func TestParseNodesConfErrors(t *testing.T) {
	id1, id2 := strings.Repeat("a", 40), strings.Repeat("b", 40)
	for _, bad := range []string{
		"short line\n",
		"zzz 127.0.0.1:1@2 master - 0 0 1 connected 0-1\n",
		id1 + " 127.0.0.1:x@2 master - 0 0 1 connected\n",
		id1 + " 127.0.0.1:1@2 master - 0 0 1 connected 0-16384\n",
		id1 + " 127.0.0.1:1@2 master - 0 0 1 connected 5-1\n",
		id1 + " 127.0.0.1:1@2 slave " + id2 + " 0 0 1 connected\n",
		id1 + " 127.0.0.1:1@2 master - 0 0 1 connected [5->-" + id2 + "]\n",
		id1 + " 127.0.0.1:1@2 myself,master - 0 0 1 connected 0-10\n" + id2 + " 127.0.0.1:2@3 master - 0 0 2 connected 10-20\n",
		id1 + " 127.0.0.1:1@2 myself,master - 0 0 1 connected\n" + id1 + " 127.0.0.1:2@3 master - 0 0 2 connected\n",
	} {
		if _, err := ParseNodesConf([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseNodesConf(f *testing.F) {
	f.Add(redisNodesConf)
	f.Add("vars currentEpoch 0 lastVoteEpoch 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseNodesConf([]byte(s))
		if err != nil {
			return
		}
		again, err := ParseNodesConf(c.MarshalNodesConf())
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, c.MarshalNodesConf())
		}
		for slot := 0; slot < Slots; slot += 97 {
			a, b := c.Owner(uint16(slot)), again.Owner(uint16(slot))
			if (a == nil) != (b == nil) || (a != nil && a.ID != b.ID) {
				t.Fatalf("slot %d owner changed in round trip", slot)
			}
		}
	})
}
