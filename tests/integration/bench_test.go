package integration

import (
	"strconv"
	"testing"

	"shoal/internal/testserver"
)

// benchBackends runs f once per I/O backend (or against redis-server).
func benchBackends(b *testing.B, f func(b *testing.B, s *testserver.Server)) {
	if targetRedis() {
		b.Run("redis", func(b *testing.B) {
			testserver.RequireRedis(b)
			f(b, testserver.Start(b, testserver.Options{Kind: testserver.Redis}))
		})
		return
	}
	for _, backend := range testserver.IOBackends() {
		b.Run(backend, func(b *testing.B) {
			f(b, testserver.Start(b, testserver.Options{IO: backend}))
		})
	}
}

// BenchmarkPing is one PING round trip over loopback: the server's
// per-request latency floor. Allocations are the client's.
func BenchmarkPing(b *testing.B) {
	benchBackends(b, func(b *testing.B, s *testserver.Server) {
		c := dial(b, s.Addr)
		req := command("PING")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := c.Write(req); err != nil {
				b.Fatal(err)
			}
			if _, err := c.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPipelinedSet sends SETs 100 to a write and reads the replies; an
// op is one SET.
func BenchmarkPipelinedSet(b *testing.B) {
	const depth = 100
	benchBackends(b, func(b *testing.B, s *testserver.Server) {
		c := dial(b, s.Addr)
		var req []byte
		for i := 0; i < depth; i++ {
			req = appendCommand(req, "SET", "bench:"+strconv.Itoa(i), "value-of-16-byte")
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(req) / depth))
		b.ResetTimer()
		for i := 0; i < b.N; i += depth {
			if err := c.Write(req); err != nil {
				b.Fatal(err)
			}
			for j := 0; j < depth; j++ {
				if _, err := c.Read(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
