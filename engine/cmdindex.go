package engine

// nameIndex finds a command by name, ignoring ASCII case, in a few
// nanoseconds: an open-addressing table of the lowercase names, hashed
// while the name is lowercased. It is built once per shard and read-only
// afterwards; a Go map lookup of the same name costs several times more,
// and every command starts with one.
type nameIndex struct {
	slots []*Command // len is a power of 2, at most half full
	mask  uint32
}

// nameHash is FNV-1a over bytes already lowercased.
func nameHash(h uint32, ch byte) uint32 { return (h ^ uint32(ch)) * 16777619 }

const nameHashInit = 2166136261

func newNameIndex(cmds map[string]*Command) nameIndex {
	n := 8
	for n < 2*len(cmds) {
		n *= 2
	}
	x := nameIndex{slots: make([]*Command, n), mask: uint32(n - 1)}
	for name, c := range cmds {
		h := uint32(nameHashInit)
		for i := 0; i < len(name); i++ {
			h = nameHash(h, name[i])
		}
		for i := h & x.mask; ; i = (i + 1) & x.mask {
			if x.slots[i] == nil {
				x.slots[i] = c
				break
			}
		}
	}
	return x
}

// find returns the command named name in any ASCII case, or nil. O(len
// name), no allocation.
func (x *nameIndex) find(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) || len(x.slots) == 0 {
		return nil
	}
	h := uint32(nameHashInit)
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 32
		}
		buf[i] = ch
		h = nameHash(h, ch)
	}
	low := buf[:len(name)]
	for i := h & x.mask; ; i = (i + 1) & x.mask {
		c := x.slots[i]
		if c == nil {
			return nil
		}
		if c.Name == string(low) {
			return c
		}
	}
}
