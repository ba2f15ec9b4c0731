package engine

// What a shard answers to the replication commands a client or tool may
// send. A shard has no replicas and is no replica: ROLE says master with
// an offset of 0 (INFO's master_repl_offset) and no replicas, and WAIT,
// which waits for replicas to acknowledge a client's writes, counts none
// acknowledging: it answers 0 at once when asked for no replica, or inside
// MULTI, and otherwise blocks until its timeout (forever with 0) and then
// answers 0, as Redis does with no replica connected.

func init() {
	register(&Command{Name: "role", Arity: 1,
		Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast,
		ACL:   "@admin @dangerous",
		Group: "server", Since: "2.8.12",
		Summary:    "Return the role of the instance in the context of replication",
		Complexity: "O(1)",
		Proc:       roleCmd,
	})
	register(&Command{Name: "wait", Arity: 3,
		Flags: FlagNoScript,
		ACL:   "@connection",
		Group: "generic", Since: "3.0.0",
		Summary:    "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
		Complexity: "O(1)",
		Tips:       []string{"request_policy:all_shards", "response_policy:agg_min"},
		Syntax:     "numreplicas:integer timeout:integer",
		Proc:       waitCmd,
	})
}

func roleCmd(s *Shard, c *Client, argv [][]byte) {
	c.ArrayLen(3)
	c.BulkString("master")
	c.Int(0)
	c.ArrayLen(0)
}

// waitCmd: WAIT numreplicas timeout (milliseconds).
func waitCmd(s *Shard, c *Client, argv [][]byte) {
	n, ok := parseInt(argv[1])
	if !ok {
		c.Error(errNotInt)
		return
	}
	ms, ok := parseInt(argv[2])
	if !ok {
		c.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.Error(errTimeoutNegative)
		return
	}
	if n <= 0 || c.inMulti() {
		c.Int(0)
		return
	}
	deadline := int64(0)
	if ms > 0 {
		deadline = s.nowMs + min(ms, 1<<62-s.nowMs)
	}
	s.blockClientOn(c, argv, 1, 0, deadline, typeNone)
}

// typeNone is the value type of a blocked WAIT: no key serves it.
const typeNone uint8 = 0xff
