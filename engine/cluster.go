package engine

import (
	"strings"

	"shoal/cluster"
	"shoal/engine/internal/kv"
)

// The cluster family: CLUSTER (the subcommands that read the cluster's
// configuration and the key space's slots), ASKING, READONLY and
// READWRITE. The cluster's configuration and the redirection of commands
// are in clusterstate.go. Outside cluster mode every one of them replies
// Redis's "This instance has cluster support disabled".

func init() {
	register(
		&Command{Name: "cluster", Arity: -2,
			Group: "cluster", Since: "3.0.0",
			Summary:    "A container for cluster commands",
			Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "countkeysinslot", Arity: 3,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Return the number of local keys in the specified hash slot",
					Complexity: "O(1)",
					Syntax:     "slot:integer",
					Proc:       clusterCountkeysinslotCmd,
				},
				{Name: "getkeysinslot", Arity: 4,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Return local key names in the specified hash slot",
					Complexity: "O(log(N)) where N is the number of requested keys",
					Tips:       []string{"nondeterministic_output"},
					Syntax:     "slot:integer count:integer",
					Proc:       clusterGetkeysinslotCmd,
				},
				{Name: "help", Arity: 2,
					Flags: FlagLoading | FlagStale,
					Group: "cluster", Since: "5.0.0",
					Summary:    "Show helpful text about the different subcommands",
					Complexity: "O(1)",
					Proc:       clusterHelpCmd,
				},
				{Name: "info", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Provides info about Redis Cluster node state",
					Complexity: "O(1)",
					Tips:       []string{"nondeterministic_output"},
					Proc:       clusterInfoCmd,
				},
				{Name: "keyslot", Arity: 3,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Returns the hash slot of the specified key",
					Complexity: "O(N) where N is the number of bytes in the key",
					Syntax:     "key",
					Proc:       clusterKeyslotCmd,
				},
				{Name: "links", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "7.0.0",
					Summary:    "Returns a list of all TCP links to and from peer nodes in cluster",
					Complexity: "O(N) where N is the total number of Cluster nodes",
					Tips:       []string{"nondeterministic_output"},
					Proc:       clusterLinksCmd,
				},
				{Name: "myid", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Return the node id",
					Complexity: "O(1)",
					Proc:       clusterMyidCmd,
				},
				{Name: "nodes", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Get Cluster config for the node",
					Complexity: "O(N) where N is the total number of Cluster nodes",
					Tips:       []string{"nondeterministic_output"},
					Proc:       clusterNodesCmd,
				},
				{Name: "shards", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "7.0.0",
					Summary:    "Get array of cluster slots to node mappings",
					Complexity: "O(N) where N is the total number of cluster nodes",
					Tips:       []string{"nondeterministic_output"},
					Proc:       clusterShardsCmd,
				},
				{Name: "slots", Arity: 2,
					Flags: FlagStale,
					Group: "cluster", Since: "3.0.0",
					Summary:    "Get array of Cluster slot to node mappings",
					Complexity: "O(N) where N is the total number of Cluster nodes",
					Tips:       []string{"nondeterministic_output"},
					History:    [][2]string{{"4.0.0", "Added node IDs."}, {"7.0.0", "Added additional networking metadata field."}},
					DocFlags:   []string{"deprecated"},
					Deprecated: "7.0.0",
					ReplacedBy: "`CLUSTER SHARDS`",
					Proc:       clusterSlotsCmd,
				},
			},
		},
		&Command{Name: "asking", Arity: 1,
			Flags: FlagFast,
			ACL:   "@connection",
			Group: "cluster", Since: "3.0.0",
			Summary:    "Sent by cluster clients after an -ASK redirect",
			Complexity: "O(1)",
			Proc:       askingCmd,
		},
		&Command{Name: "readonly", Arity: 1,
			Flags: FlagLoading | FlagStale | FlagFast,
			ACL:   "@connection",
			Group: "cluster", Since: "3.0.0",
			Summary:    "Enables read queries for a connection to a cluster replica node",
			Complexity: "O(1)",
			Proc:       readonlyCmd,
		},
		&Command{Name: "readwrite", Arity: 1,
			Flags: FlagLoading | FlagStale | FlagFast,
			ACL:   "@connection",
			Group: "cluster", Since: "3.0.0",
			Summary:    "Disables read queries for a connection to a cluster replica node",
			Complexity: "O(1)",
			Proc:       readwriteCmd,
		},
	)
}

// Errors only this family (and SELECT in cluster mode) replies.
const (
	errClusterDisabled = "ERR This instance has cluster support disabled"
	errSelectCluster   = "ERR SELECT is not allowed in cluster mode"
	errInvalidSlot     = "ERR Invalid slot"
	errInvalidSlotKeys = "ERR Invalid slot or number of keys"
)

// mode is the server mode HELLO and INFO report.
func (s *Shard) mode() string {
	if s.cluster != nil {
		return "cluster"
	}
	return "standalone"
}

// clusterMode reports whether the shard is in cluster mode, replying
// Redis's error when it is not.
func (s *Shard) clusterMode(c *Client) bool {
	if s.cluster == nil {
		c.Error(errClusterDisabled)
		return false
	}
	return true
}

// askingCmd accepts ASKING. A shard never has an importing slot, so the
// flag Redis sets would change nothing.
func askingCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.OK()
	}
}

// readonlyCmd flags the connection READONLY (CLIENT LIST shows it). Only
// a replica acts on it, and a shard is a master.
func readonlyCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.readonly = true
		c.OK()
	}
}

func readwriteCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.readonly = false
		c.OK()
	}
}

// clusterHelp is Redis 7.0's CLUSTER HELP text for the subcommands Shoal
// has, in Redis's order.
var clusterHelp = []helpEntry{
	{"countkeysinslot", []string{"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>."}},
	{"getkeysinslot", []string{"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot."}},
	{"info", []string{"INFO",
		"    Return information about the cluster."}},
	{"keyslot", []string{"KEYSLOT <key>",
		"    Return the hash slot for <key>."}},
	{"myid", []string{"MYID",
		"    Return the node id."}},
	{"nodes", []string{"NODES",
		"    Return cluster configuration seen by node. Output format:",
		"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ..."}},
	{"slots", []string{"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids"}},
	{"shards", []string{"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them."}},
	{"links", []string{"LINKS",
		"    Return information about all network links between this node and its peers.",
		"    Output format is an array where each array element is a map containing attributes of a link"}},
}

func clusterHelpCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		replyHelp(c, "CLUSTER", s.helpLines("cluster", clusterHelp))
	}
}

// clusterInfoCmd replies CLUSTER INFO's text (verbatim in RESP3, as Redis
// 7.0). Every node of the configuration counts as up; with no cluster bus
// no message is ever sent or received, so only the two message totals
// appear, both 0, as Redis prints them for a node that exchanged none.
func clusterInfoCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	cs := s.cluster
	state := "fail"
	if cs.ok {
		state = "ok"
	}
	assigned := cs.conf.Assigned()
	w := &infoWriter{}
	w.kv("cluster_state", state)
	w.kv("cluster_slots_assigned", assigned)
	w.kv("cluster_slots_ok", assigned)
	w.kv("cluster_slots_pfail", 0)
	w.kv("cluster_slots_fail", 0)
	w.kv("cluster_known_nodes", len(cs.conf.Nodes))
	w.kv("cluster_size", cs.size)
	w.kv("cluster_current_epoch", cs.epoch)
	w.kv("cluster_my_epoch", cs.myself.Epoch)
	w.kv("cluster_stats_messages_sent", 0)
	w.kv("cluster_stats_messages_received", 0)
	w.kv("total_cluster_links_buffer_limit_exceeded", 0)
	c.Verbatim([]byte(w.b.String()))
}

func clusterMyidCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.BulkString(s.cluster.myself.ID)
	}
}

// clusterNodesCmd replies CLUSTER NODES: a line per node in the order of
// the configuration. The last pong of every other node is now, as a live
// cluster's would be within a second; myself's is 0.
func clusterNodesCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	var b strings.Builder
	for _, n := range s.cluster.conf.Nodes {
		b.WriteString(n.NodesLine(s.nowMs))
		b.WriteByte('\n')
	}
	c.Verbatim([]byte(b.String()))
}

// clusterSlotsCmd replies CLUSTER SLOTS as Redis 7.0: a [start, end,
// [ip, port, id, {}]] entry per run of slots one node serves, in slot
// order (the map holds networking metadata; with no hostnames, none).
func clusterSlotsCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	c.ArrayLen(len(s.cluster.runs))
	for _, r := range s.cluster.runs {
		c.ArrayLen(3)
		c.Int(int64(r.start))
		c.Int(int64(r.end))
		replyNodeEndpoint(c, r.node)
	}
}

func replyNodeEndpoint(c *Client, n *cluster.Node) {
	c.ArrayLen(4)
	c.BulkString(n.IP)
	c.Int(int64(n.Port))
	c.BulkString(n.ID)
	c.MapLen(0)
}

// clusterShardsCmd replies CLUSTER SHARDS as Redis 7.0: per node (a shard
// is one master, Shoal has no replicas), in the order of the
// configuration, its slot runs as start/end integer pairs and its one
// node's details.
func clusterShardsCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	cs := s.cluster
	c.ArrayLen(len(cs.conf.Nodes))
	for _, n := range cs.conf.Nodes {
		c.MapLen(2)
		c.BulkString("slots")
		runs := 0
		for _, r := range cs.runs {
			if r.node == n {
				runs++
			}
		}
		c.ArrayLen(2 * runs)
		for _, r := range cs.runs {
			if r.node == n {
				c.Int(int64(r.start))
				c.Int(int64(r.end))
			}
		}
		c.BulkString("nodes")
		c.ArrayLen(1)
		fields := 6
		if n.Port != 0 {
			fields++
		}
		c.MapLen(fields)
		c.BulkString("id")
		c.BulkString(n.ID)
		if n.Port != 0 {
			c.BulkString("port")
			c.Int(int64(n.Port))
		}
		c.BulkString("ip")
		c.BulkString(n.IP)
		c.BulkString("endpoint")
		c.BulkString(n.IP)
		c.BulkString("role")
		c.BulkString("master")
		c.BulkString("replication-offset")
		c.Int(0)
		c.BulkString("health")
		c.BulkString("online")
	}
}

func clusterKeyslotCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.Int(int64(cluster.KeySlot(argv[2])))
	}
}

// parseSlotArg reads a slot or count argument as Redis's
// getLongLongFromObjectOrReply, replying its error when it is not an
// integer.
func parseSlotArg(c *Client, arg []byte) (int64, bool) {
	n, ok := parseInt(arg)
	if !ok {
		c.Error(errNotInt)
	}
	return n, ok
}

// clusterCountkeysinslotCmd counts the keys of a slot, those whose time
// to live has passed but that no access or expiry cycle has deleted yet
// included, as Redis counts them. O(1).
func clusterCountkeysinslotCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	slot, ok := parseSlotArg(c, argv[2])
	if !ok {
		return
	}
	if slot < 0 || slot >= cluster.Slots {
		c.Error(errInvalidSlot)
		return
	}
	c.Int(int64(s.db.CountInSlot(uint16(slot))))
}

// clusterGetkeysinslotCmd lists up to count keys of a slot, the most
// recently created first, as Redis 7.0 does. O(count).
func clusterGetkeysinslotCmd(s *Shard, c *Client, argv [][]byte) {
	if !s.clusterMode(c) {
		return
	}
	slot, ok := parseSlotArg(c, argv[2])
	if !ok {
		return
	}
	count, ok := parseSlotArg(c, argv[3])
	if !ok {
		return
	}
	if slot < 0 || slot >= cluster.Slots || count < 0 {
		c.Error(errInvalidSlotKeys)
		return
	}
	n := min(count, int64(s.db.CountInSlot(uint16(slot))))
	c.ArrayLen(int(n))
	s.db.KeysInSlot(uint16(slot), int(n), func(r kv.Ref) { c.Bulk(s.db.Key(r)) })
}

// clusterLinksCmd replies the links to other nodes' cluster buses: Shoal
// has no bus, so none, as a node without peers replies.
func clusterLinksCmd(s *Shard, c *Client, argv [][]byte) {
	if s.clusterMode(c) {
		c.ArrayLen(0)
	}
}
