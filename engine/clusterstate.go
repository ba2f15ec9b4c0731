package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"shoal/cluster"
)

// Cluster mode: the shard's view of its Redis Cluster, read from
// nodes.conf at start, and the redirection of commands whose keys another
// node serves (Redis's getNodeByQuery). The CLUSTER command family is in
// cluster.go.
//
// Shoal's cluster bus carries PUBLISH to the other nodes and nothing else
// (pubsub_bus.go, server/bus.go). The cluster is what nodes.conf says: the
// launcher writes every shard's file before starting it, and a running
// shard's view never changes. So there is no gossip, no failure detection
// or failover, no resharding (no ASK or TRYAGAIN: no slot is ever
// migrating or importing), and none of the CLUSTER subcommands that change
// the configuration (ADDSLOTS, MEET, SETSLOT, FAILOVER, ...). Every node
// of the file is taken to be up.
//
// For the same reason a shard started in cluster mode without a nodes.conf
// does not start as Redis does, owning no slot and waiting for CLUSTER
// ADDSLOTS and MEET: it creates the file with itself alone serving all
// 16384 slots under a new node id, a complete one-node cluster at once.
// The id then survives restarts, since it is in the file.

// clusterState is what a shard in cluster mode derives from its
// configuration at start. It never changes afterwards.
type clusterState struct {
	conf   *cluster.Config
	myself *cluster.Node
	ok     bool      // every slot is served: cluster_state:ok (Redis's cluster-require-full-coverage yes)
	size   int       // nodes serving at least one slot
	epoch  uint64    // the current epoch: the file's, or the largest config epoch if higher (as Redis loads it)
	runs   []slotRun // maximal runs of slots with one owner, in slot order
}

// slotRun is slots start..end, all served by node.
type slotRun struct {
	start, end uint16
	node       *cluster.Node
}

// Redirection errors, as Redis's clusterRedirectClient writes them.
const (
	errCrossSlot   = "CROSSSLOT Keys in request don't hash to the same slot"
	errClusterDown = "CLUSTERDOWN The cluster is down"
	errSlotUnbound = "CLUSTERDOWN Hash slot not served"
)

// checkCluster checks what a shard needs of a cluster configuration
// beyond what cluster.ParseNodesConf checks: that it names this node.
func checkCluster(conf *cluster.Config) error {
	if conf.Myself() == nil {
		return errors.New("no node is flagged myself")
	}
	return nil
}

func newClusterState(conf *cluster.Config) *clusterState {
	cs := &clusterState{conf: conf, myself: conf.Myself(), epoch: conf.CurrentEpoch}
	serving := map[*cluster.Node]bool{}
	for slot := 0; slot < cluster.Slots; slot++ {
		n := conf.Owner(uint16(slot))
		if n == nil {
			continue
		}
		serving[n] = true
		if k := len(cs.runs) - 1; k >= 0 && cs.runs[k].node == n && int(cs.runs[k].end) == slot-1 {
			cs.runs[k].end = uint16(slot)
		} else {
			cs.runs = append(cs.runs, slotRun{start: uint16(slot), end: uint16(slot), node: n})
		}
	}
	cs.size = len(serving)
	cs.ok = conf.Assigned() == cluster.Slots
	for _, n := range conf.Nodes {
		cs.epoch = max(cs.epoch, n.Epoch)
	}
	return cs
}

// LoadCluster reads the configuration of cluster mode into c.Cluster; it
// does nothing when cluster mode is off. Call it once at start, before
// NewShard. The file is ClusterConfigFile, relative to the working
// directory (a shard changes to its dir first, as Redis does).
//
// A missing or empty file is created, with this shard alone serving every
// slot under a new node id (see the comment at the top of this file), at
// the first bind address that is not a wildcard (none: the empty address,
// which clients read as "the address you reached me at") and the shard's
// port. A file that cannot be read, is not a valid nodes.conf, names no
// node as myself, or puts myself at another port than the shard's is an
// error naming the file and the problem.
func (c *Config) LoadCluster() error {
	if !c.ClusterEnabled {
		return nil
	}
	path := c.ClusterConfigFile
	name := path // in errors: the absolute path, so the file is found whatever the reader's directory
	if abs, err := filepath.Abs(path); err == nil {
		name = abs
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("engine: can't read the cluster config file %s: %w", name, err)
	}
	if len(data) == 0 {
		conf := soloCluster(c)
		if err := writeFileSync(path, conf.MarshalNodesConf()); err != nil {
			return fmt.Errorf("engine: can't write the cluster config file %s: %w", name, err)
		}
		logf("notice", "No cluster configuration found, I'm %s", conf.Myself().ID)
		c.Cluster = conf
		return nil
	}
	conf, err := cluster.ParseNodesConf(data)
	if err == nil {
		err = checkCluster(conf)
	}
	if err != nil {
		return fmt.Errorf("engine: corrupted cluster config file %s: %w", name, err)
	}
	if me := conf.Myself(); c.Port != 0 && me.Port != c.Port {
		return fmt.Errorf("engine: cluster config file %s puts this node (myself) at port %d, but the shard's port is %d",
			name, me.Port, c.Port)
	}
	logf("notice", "Node configuration loaded, I'm %s", conf.Myself().ID)
	c.Cluster = conf
	return nil
}

// soloCluster is the configuration of a one-node cluster: this shard,
// with a new id, serving every slot.
func soloCluster(c *Config) *cluster.Config {
	ip := ""
	for _, a := range c.Bind {
		a = strings.TrimPrefix(a, "-")
		if a != "*" && a != "0.0.0.0" && a != "::" && a != "::*" {
			ip = a
			break
		}
	}
	conf := &cluster.Config{Nodes: []*cluster.Node{{
		ID: cluster.NewNodeID(), IP: ip, Port: c.Port, CPort: c.Port + 10000, Myself: true,
		Slots: []cluster.Range{{Start: 0, End: cluster.Slots - 1}},
	}}}
	if err := conf.Index(); err != nil {
		panic("engine: a one-node cluster configuration does not index: " + err.Error())
	}
	return conf
}

// writeFileSync writes data to path through a temporary file in the same
// directory, synced and renamed over path, so that a crash leaves the old
// file or the new one, never a part.
func writeFileSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// hasKeys reports whether cluster mode must check where cmd's keys are:
// it has key specs or finds its keys itself. Commands without keys run on
// any node.
func (cmd *Command) hasKeys() bool { return len(cmd.Keys) > 0 || cmd.GetKeys != nil }

// routeHere decides, as Redis's getNodeByQuery, whether this node runs a
// command with keys; when it does not, it replies the redirection or the
// error and returns false. All the keys must hash to one slot (else
// CROSSSLOT); the first key's slot must be served by some node (else
// CLUSTERDOWN Hash slot not served), every slot must be served for the
// cluster to be up (else CLUSTERDOWN The cluster is down), and this node
// must serve it (else MOVED to the node that does). Arguments that do not
// fit the key specs count as no keys: the command runs and reports its
// own error, as in Redis. No allocation for commands whose key specs hold
// at most 4 ranges (every command Redis has).
func (s *Shard) routeHere(c *Client, cmd *Command, argv [][]byte) bool {
	slot, code := s.querySlot(cmd, argv)
	switch code {
	case routeLocal:
		return true
	case routeUnbound:
		c.Error(errSlotUnbound)
	case routeCrossSlot:
		c.Error(errCrossSlot)
	case routeDown:
		c.Error(errClusterDown)
	default:
		s.replyMoved(c, uint16(slot), s.cluster.conf.Owner(uint16(slot)))
	}
	return false
}

// Where a command's keys are, as querySlot finds it.
const (
	routeLocal     = iota // this node serves them (or there are none)
	routeUnbound          // the slot is served by no node
	routeCrossSlot        // the keys hash to more than one slot
	routeDown             // the cluster is down
	routeMoved            // another node serves the slot
)

// querySlot finds the slot of cmd's keys (-1 when it has none) and
// whether this node serves it, as Redis's getNodeByQuery.
func (s *Shard) querySlot(cmd *Command, argv [][]byte) (int, int) {
	var buf [4]keyRange
	ranges, ok := cmd.keyRanges(argv, buf[:0])
	if cmd.byGetKeys { // keys only GetKeys finds
		ranges, ok = ranges[:0], true
		keys := cmd.GetKeys(argv)
		for _, k := range keys {
			ranges = append(ranges, keyRange{first: k.pos, last: k.pos, step: 1})
		}
	}
	if !ok {
		return -1, routeLocal
	}
	cs := s.cluster
	slot := -1
	var owner *cluster.Node
	for _, r := range ranges {
		for i := r.first; i <= r.last; i += r.step {
			ks := int(cluster.KeySlot(argv[i]))
			switch {
			case slot < 0:
				slot = ks
				if owner = cs.conf.Owner(uint16(slot)); owner == nil {
					return slot, routeUnbound
				}
			case ks != slot:
				return slot, routeCrossSlot
			}
		}
	}
	// Shard channels are served while the cluster is down, as Redis's
	// cluster-allow-pubsubshard-when-down (default yes) has it.
	shardPubsub := cmd.Flags&FlagPubsub != 0
	switch {
	case slot < 0 || owner == cs.myself && (cs.ok || shardPubsub):
		return slot, routeLocal
	case !cs.ok && !shardPubsub:
		return slot, routeDown
	}
	return slot, routeMoved
}

// replyMoved writes "-MOVED slot ip:port", as Redis writes it (the ip
// unbracketed, even IPv6), and counts it, without allocating.
func (s *Shard) replyMoved(c *Client, slot uint16, n *cluster.Node) {
	c.Out = append(c.Out, "-MOVED "...)
	c.Out = strconv.AppendUint(c.Out, uint64(slot), 10)
	c.Out = append(c.Out, ' ')
	c.Out = append(c.Out, n.IP...)
	c.Out = append(c.Out, ':')
	c.Out = strconv.AppendInt(c.Out, int64(n.Port), 10)
	c.Out = append(c.Out, '\r', '\n')
	s.countError("MOVED")
}
