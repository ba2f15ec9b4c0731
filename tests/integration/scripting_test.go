package integration

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// rateLimit is the kind of script applications run: a fixed-window
// counter that sets its expiry on the first hit and answers whether the
// caller is within the limit.
const rateLimit = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return {0, n} end
return {1, n}`

// TestScripting runs scripts as go-redis applications do: redis.Script
// (EVALSHA, and EVAL after NOSCRIPT), EVAL_RO, script errors as Go
// errors, over RESP2 and RESP3 on both backends.
func TestScripting(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		for _, proto := range []int{3, 2} {
			t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
				rdb := newClient(t, s.Addr, proto)
				c := ctx(t)
				key := "rl:" + strconv.Itoa(proto)
				if err := rdb.ScriptFlush(c).Err(); err != nil {
					t.Fatal(err)
				}
				script := redis.NewScript(rateLimit)
				for i := 1; i <= 4; i++ {
					v, err := script.Run(c, rdb, []string{key}, 3, 60000).Int64Slice()
					if err != nil {
						t.Fatalf("run %d: %v", i, err)
					}
					if want := []int64{map[bool]int64{true: 1, false: 0}[i <= 3], int64(i)}; v[0] != want[0] || v[1] != want[1] {
						t.Fatalf("run %d = %v, want %v", i, v, want)
					}
				}
				if ttl, err := rdb.PTTL(c, key).Result(); err != nil || ttl <= 0 {
					t.Errorf("PTTL after the script = %v, %v", ttl, err)
				}
				if ok, err := rdb.ScriptExists(c, script.Hash()).Result(); err != nil || !ok[0] {
					t.Errorf("SCRIPT EXISTS = %v, %v", ok, err)
				}
				if v, err := rdb.EvalRO(c, "return redis.call('GET', KEYS[1])", []string{key}).Text(); err != nil || v != "4" {
					t.Errorf("EVAL_RO = %q, %v", v, err)
				}
				err := rdb.EvalRO(c, "return redis.call('DEL', KEYS[1])", []string{key}).Err()
				if err == nil || !strings.Contains(err.Error(), "Write commands are not allowed from read-only scripts") {
					t.Errorf("a write from EVAL_RO: %v", err)
				}
				_, err = rdb.Eval(c, "return redis.call('INCR', KEYS[1], 'x')", []string{key}).Result()
				if err == nil || !strings.HasPrefix(err.Error(), "ERR Wrong number of args calling Redis command from script") {
					t.Errorf("a bad call: %v", err)
				}
				if _, err := rdb.Eval(c, "return nil", nil).Result(); !errors.Is(err, redis.Nil) {
					t.Errorf("a script returning nil: %v", err)
				}
				m, err := rdb.Eval(c, "redis.setresp(3); return redis.call('HGETALL', KEYS[1])", []string{"nohash"}).Result()
				if err != nil {
					t.Errorf("RESP3 inside a script: %v", err)
				} else if proto == 3 {
					if mm, ok := m.(map[interface{}]interface{}); !ok || len(mm) != 0 {
						t.Errorf("HGETALL of no hash through a RESP3 script = %#v", m)
					}
				}
			})
		}
	})
}

// TestScriptingCluster runs a script through go-redis's ClusterClient on
// a launched cluster: the client sends it to the shard of its key, and a
// key of another shard inside the script is refused.
func TestScriptingCluster(t *testing.T) {
	shoalOnly(t)
	set := launchSet(t, 2)
	cc := newClusterClient(t, set.addr(0))
	c := ctx(t)
	script := redis.NewScript(rateLimit)
	keys := slotKeys()
	for _, slot := range []int{0, 16383} {
		v, err := script.Run(c, cc, []string{keys[slot]}, 10, 60000).Int64Slice()
		if err != nil || v[1] != 1 {
			t.Fatalf("slot %d: %v, %v", slot, v, err)
		}
	}
	err := cc.Eval(c, "return redis.call('GET', ARGV[1])", []string{keys[0]}, keys[16383]).Err()
	if err == nil || !strings.Contains(err.Error(), "Script attempted to access a non local key in a cluster node") {
		t.Errorf("a key of the other shard: %v", err)
	}
}
