package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// TestClientSideCaching runs rueidis with client-side caching, as it runs
// by default on RESP3 (CLIENT TRACKING ON OPTIN on each connection, then
// CLIENT CACHING YES before each cached read): a cached value is served
// from the client's cache until another client writes the key, and the
// invalidation the server pushes makes the next read fetch the new value.
func TestClientSideCaching(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend string) {
		s := start(t, backend)
		cl, err := rueidis.NewClient(rueidis.ClientOption{
			InitAddress:       []string{s.Addr},
			ForceSingleClient: true,
			ConnWriteTimeout:  ioTimeout,
		})
		if err != nil {
			t.Fatalf("rueidis: %v", err)
		}
		defer cl.Close()
		w := newClient(t, s.Addr, 2)
		c := ctx(t)
		if err := w.Set(c, "csc:a", "v1", 0).Err(); err != nil {
			t.Fatal(err)
		}

		get := func() rueidis.RedisResult {
			return cl.DoCache(c, cl.B().Get().Key("csc:a").Cache(), time.Minute)
		}
		if v, err := get().ToString(); v != "v1" || err != nil {
			t.Fatalf("first cached GET = %q, %v", v, err)
		}
		r := get()
		if v, _ := r.ToString(); v != "v1" || !r.IsCacheHit() {
			t.Fatalf("second cached GET = %q, cache hit %v; want v1 from the cache", v, r.IsCacheHit())
		}
		tracked := info(t, s.Addr, "stats")["tracking_total_keys"]
		if tracked != "1" {
			t.Errorf("tracking_total_keys = %q after one cached read, want 1", tracked)
		}

		if err := w.Set(c, "csc:a", "v2", 0).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, func() bool {
			v, _ := get().ToString()
			return v == "v2"
		}, func() string {
			v, err := get().ToString()
			return "the cached GET to see the write: it still reads " + v + " " + errString(err)
		})
		r = get()
		if v, _ := r.ToString(); v != "v2" || !r.IsCacheHit() {
			t.Errorf("GET after the refetch = %q, cache hit %v; want v2 from the cache", v, r.IsCacheHit())
		}

		// A flush invalidates everything the client cached.
		if err := w.FlushAll(c).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, func() bool {
			return rueidis.IsRedisNil(get().Error())
		}, func() string { return "the cached GET to see FLUSHALL" })

		// The connection reports tracking in OPTIN mode.
		ci := info(t, s.Addr, "clients")
		if ci["tracking_clients"] == "0" || ci["tracking_clients"] == "" {
			t.Errorf("tracking_clients = %q with rueidis connected", ci["tracking_clients"])
		}
		var list string
		if list, err = w.ClientList(c).Result(); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(list, "flags=t") {
			t.Errorf("CLIENT LIST shows no tracking client:\n%s", list)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
