// Package cluster is the Redis Cluster data every shard and the launcher
// share: the hash slot of a key, slot ranges, node ids, and a cluster's
// configuration in the format of Redis's nodes.conf.
//
// It holds data only. A Config is built once (by the launcher, or read by a
// shard at start) and then read; it is not safe for concurrent mutation.
package cluster

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Slots is the number of hash slots, as in Redis Cluster.
const Slots = 16384

// crcTables are CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0),
// the checksum Redis Cluster hashes keys with, for eight bytes at a time:
// crcTables[k][v] is the checksum of byte v followed by k zero bytes, so
// crcTables[0] is the classic byte-at-a-time table. 4 KiB.
var crcTables = func() (t [8][256]uint16) {
	for i := range t[0] {
		c := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			p := t[k-1][i]
			t[k][i] = p<<8 ^ t[0][p>>8]
		}
	}
	return t
}()

// crc16 is the CRC16-XMODEM of b. The checksum is linear, so the register
// folds into the first two bytes of each 8-byte block, and the block's
// checksum is the XOR of each byte's contribution: eight lookups per eight
// bytes instead of a chain of eight dependent steps.
func crc16(b []byte) uint16 {
	var c uint16
	t := &crcTables
	for len(b) >= 8 {
		c = t[7][b[0]^byte(c>>8)] ^ t[6][b[1]^byte(c)] ^ t[5][b[2]] ^ t[4][b[3]] ^
			t[3][b[4]] ^ t[2][b[5]] ^ t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, x := range b {
		c = c<<8 ^ t[0][byte(c>>8)^x]
	}
	return c
}

// KeySlot is the hash slot of key, as Redis's keyHashSlot: the CRC16 of
// the key, or of its hash tag (what lies between the first '{' and the
// first '}' after it, when that is not empty), modulo 16384.
func KeySlot(key []byte) uint16 {
	if i := bytes.IndexByte(key, '{'); i >= 0 {
		if j := bytes.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	return crc16(key) & (Slots - 1)
}

// Range is the slots from Start to End, both included.
type Range struct{ Start, End uint16 }

func (r Range) String() string {
	if r.Start == r.End {
		return strconv.Itoa(int(r.Start))
	}
	return strconv.Itoa(int(r.Start)) + "-" + strconv.Itoa(int(r.End))
}

// SplitSlots divides the 16384 slots into n contiguous ranges whose sizes
// differ by at most one, as redis-cli --cluster create does: range i
// starts at the rounded i*16384/n.
func SplitSlots(n int) []Range {
	if n <= 0 || n > Slots {
		return nil
	}
	out := make([]Range, n)
	per := float64(Slots) / float64(n)
	first := 0.0
	for i := range out {
		last := first + per - 1
		if i == n-1 {
			last = Slots - 1
		}
		out[i] = Range{Start: uint16(first + 0.5), End: uint16(last + 0.5)}
		first += per
	}
	return out
}

// NewNodeID makes a random node id: 40 lowercase hex characters.
func NewNodeID() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("cluster: no randomness for a node id: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// ValidNodeID reports whether id has the form of a node id.
func ValidNodeID(id string) bool {
	if len(id) != 40 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Node is one shard as the cluster sees it: a master owning slot ranges.
type Node struct {
	ID     string
	IP     string
	Port   int
	CPort  int // the cluster bus port it announces (Redis's default: Port+10000)
	Epoch  uint64
	Myself bool
	Slots  []Range
}

// Addr is "ip:port", as MOVED replies give it.
func (n *Node) Addr() string {
	if strings.Contains(n.IP, ":") {
		return "[" + n.IP + "]:" + strconv.Itoa(n.Port)
	}
	return n.IP + ":" + strconv.Itoa(n.Port)
}

// Config is a cluster's configuration as one node sees it.
type Config struct {
	Nodes        []*Node
	CurrentEpoch uint64
	owner        [Slots]int16 // node index owning each slot, -1 when none
	myself       int
}

// Index builds the slot table and checks the configuration: node ids
// valid and distinct, slots owned at most once, exactly one Myself (or
// none, for a configuration seen from outside).
func (c *Config) Index() error {
	for i := range c.owner {
		c.owner[i] = -1
	}
	c.myself = -1
	ids := map[string]bool{}
	for i, n := range c.Nodes {
		if !ValidNodeID(n.ID) {
			return fmt.Errorf("cluster: invalid node id %q", n.ID)
		}
		if ids[n.ID] {
			return fmt.Errorf("cluster: node id %s appears twice", n.ID)
		}
		ids[n.ID] = true
		if n.Myself {
			if c.myself >= 0 {
				return fmt.Errorf("cluster: more than one node is myself")
			}
			c.myself = i
		}
		for _, r := range n.Slots {
			if r.Start > r.End || r.End >= Slots {
				return fmt.Errorf("cluster: invalid slot range %d-%d", r.Start, r.End)
			}
			for s := int(r.Start); s <= int(r.End); s++ {
				if c.owner[s] >= 0 {
					return fmt.Errorf("cluster: slot %d owned by both %s and %s", s, c.Nodes[c.owner[s]].ID, n.ID)
				}
				c.owner[s] = int16(i)
			}
		}
	}
	return nil
}

// Owner is the node serving slot, nil when no node does. Index must have
// been called.
func (c *Config) Owner(slot uint16) *Node {
	if i := c.owner[slot&(Slots-1)]; i >= 0 {
		return c.Nodes[i]
	}
	return nil
}

// Myself is this node, nil when the configuration names none.
func (c *Config) Myself() *Node {
	if c.myself < 0 {
		return nil
	}
	return c.Nodes[c.myself]
}

// Assigned counts the slots some node serves.
func (c *Config) Assigned() int {
	n := 0
	for _, o := range c.owner {
		if o >= 0 {
			n++
		}
	}
	return n
}

// MarshalNodesConf writes the configuration in the format of Redis's
// nodes.conf: one line per node as CLUSTER NODES prints it, then the
// "vars" line.
func (c *Config) MarshalNodesConf() []byte {
	var b strings.Builder
	for _, n := range c.Nodes {
		b.WriteString(n.NodesLine(0))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "vars currentEpoch %d lastVoteEpoch 0\n", c.CurrentEpoch)
	return []byte(b.String())
}

// NodesLine is the node's line in CLUSTER NODES (without the newline):
// id ip:port@cport flags master ping-sent pong-recv config-epoch
// link-state slot-ranges. pongRecv is the time to print as the last pong
// (unix ms; 0 for myself, as Redis prints it).
func (n *Node) NodesLine(pongRecv int64) string {
	var b strings.Builder
	b.WriteString(n.ID)
	b.WriteByte(' ')
	b.WriteString(n.Addr())
	b.WriteByte('@')
	b.WriteString(strconv.Itoa(n.CPort))
	if n.Myself {
		b.WriteString(" myself,master - 0 0 ")
	} else {
		b.WriteString(" master - 0 ")
		b.WriteString(strconv.FormatInt(pongRecv, 10))
		b.WriteByte(' ')
	}
	b.WriteString(strconv.FormatUint(n.Epoch, 10))
	b.WriteString(" connected")
	for _, r := range n.Slots {
		b.WriteByte(' ')
		b.WriteString(r.String())
	}
	return b.String()
}

// ParseNodesConf reads a nodes.conf as Redis writes it (the subset Shoal
// uses: masters with slot ranges; replicas, migrating and importing slots
// are refused) and indexes it.
func ParseNodesConf(data []byte) (*Config, error) {
	c := &Config{}
	for lineNo, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "vars" {
			for i := 1; i+1 < len(f); i += 2 {
				if f[i] == "currentEpoch" {
					e, err := strconv.ParseUint(f[i+1], 10, 64)
					if err != nil {
						return nil, fmt.Errorf("cluster: nodes.conf line %d: bad currentEpoch %q", lineNo+1, f[i+1])
					}
					c.CurrentEpoch = e
				}
			}
			continue
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("cluster: nodes.conf line %d: too few fields", lineNo+1)
		}
		n := &Node{ID: f[0]}
		addr := f[1]
		if i := strings.IndexByte(addr, ','); i >= 0 { // ",hostname" (Redis 7)
			addr = addr[:i]
		}
		hostPort, cport, ok := strings.Cut(addr, "@")
		if ok {
			v, err := strconv.Atoi(cport)
			if err != nil {
				return nil, fmt.Errorf("cluster: nodes.conf line %d: bad bus port in %q", lineNo+1, f[1])
			}
			n.CPort = v
		}
		i := strings.LastIndexByte(hostPort, ':')
		if i < 0 {
			return nil, fmt.Errorf("cluster: nodes.conf line %d: bad address %q", lineNo+1, f[1])
		}
		n.IP = strings.Trim(hostPort[:i], "[]")
		port, err := strconv.Atoi(hostPort[i+1:])
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("cluster: nodes.conf line %d: bad port in %q", lineNo+1, f[1])
		}
		n.Port = port
		if !ok {
			n.CPort = port + 10000
		}
		for _, flag := range strings.Split(f[2], ",") {
			switch flag {
			case "myself":
				n.Myself = true
			case "master", "noflags":
			case "slave", "replica":
				return nil, fmt.Errorf("cluster: nodes.conf line %d: replicas are not supported", lineNo+1)
			}
		}
		if n.Epoch, err = strconv.ParseUint(f[6], 10, 64); err != nil {
			return nil, fmt.Errorf("cluster: nodes.conf line %d: bad config epoch %q", lineNo+1, f[6])
		}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				return nil, fmt.Errorf("cluster: nodes.conf line %d: migrating or importing slots are not supported", lineNo+1)
			}
			a, b, isRange := strings.Cut(s, "-")
			start, err1 := strconv.Atoi(a)
			end := start
			var err2 error
			if isRange {
				end, err2 = strconv.Atoi(b)
			}
			if err1 != nil || err2 != nil || start < 0 || end >= Slots || start > end {
				return nil, fmt.Errorf("cluster: nodes.conf line %d: bad slot range %q", lineNo+1, s)
			}
			n.Slots = append(n.Slots, Range{uint16(start), uint16(end)})
		}
		c.Nodes = append(c.Nodes, n)
	}
	if err := c.Index(); err != nil {
		return nil, err
	}
	return c, nil
}

// SortedBySlots lists the nodes in the order of the first slot they own
// (nodes owning none last), as CLUSTER SLOTS walks the slot space.
func (c *Config) SortedBySlots() []*Node {
	out := append([]*Node(nil), c.Nodes...)
	first := func(n *Node) int {
		if len(n.Slots) == 0 {
			return Slots
		}
		return int(n.Slots[0].Start)
	}
	sort.SliceStable(out, func(i, j int) bool { return first(out[i]) < first(out[j]) })
	return out
}
