package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"shoal/internal/testserver"
	"shoal/resp"
)

// ioTimeout bounds every socket operation and every wait for a reply.
const ioTimeout = 15 * time.Second

// targetRedis reports whether SHOAL_INTEGRATION_TARGET=redis asked to run
// the suite against redis-server.
func targetRedis() bool {
	return strings.EqualFold(strings.TrimSpace(os.Getenv("SHOAL_INTEGRATION_TARGET")), "redis")
}

// eachBackend runs f once per I/O backend as a subtest named after it
// ("uring", "epoll"), or once as "redis" when the target is redis-server.
func eachBackend(t *testing.T, f func(t *testing.T, backend string)) {
	t.Helper()
	if targetRedis() {
		t.Run("redis", func(t *testing.T) {
			testserver.RequireRedis(t)
			f(t, "")
		})
		return
	}
	for _, b := range testserver.IOBackends() {
		t.Run(b, func(t *testing.T) { f(t, b) })
	}
}

// shoalOnly skips a test of a Shoal-only feature when the target is Redis.
func shoalOnly(t testing.TB) {
	t.Helper()
	if targetRedis() {
		t.Skip("Shoal-only feature: not tested against redis-server")
	}
}

// start starts the server under test with the given extra options.
func start(t *testing.T, backend string, args ...string) *testserver.Server {
	t.Helper()
	o := testserver.Options{Args: args}
	if targetRedis() {
		o.Kind = testserver.Redis
	} else {
		o.Kind = testserver.Shoal
		o.IO = backend
	}
	return testserver.Start(t, o)
}

// newClient returns a go-redis client with the library's defaults (HELLO 3
// and CLIENT SETINFO on connect) except for bounded timeouts and no
// retries, so that a connection the server drops shows as an error rather
// than being silently redialled. It is closed when the test ends.
func newClient(t testing.TB, addr string, protocol int, mod ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{
		Addr:         addr,
		DialTimeout:  ioTimeout,
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
		MaxRetries:   -1,
	}
	if protocol != 0 {
		o.Protocol = protocol
	}
	for _, f := range mod {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// ctx returns a context that ends with the test, bounded by ioTimeout*4.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 4*ioTimeout)
	t.Cleanup(cancel)
	return c
}

// rawConn is a plain TCP connection speaking RESP by hand. Every
// operation sets its own deadline.
type rawConn struct {
	c *net.TCPConn
	r *bufio.Reader
}

// dialRaw connects to addr, returning an error instead of failing a test
// so goroutines may use it; the caller closes the connection.
func dialRaw(addr string) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c.(*net.TCPConn), r: bufio.NewReaderSize(c, 64<<10)}, nil
}

// dial connects to addr or fails the test; the connection is closed when
// the test ends.
func dial(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := dialRaw(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (c *rawConn) Close() error { return c.c.Close() }

// Write sends p whole within ioTimeout.
func (c *rawConn) Write(p []byte) error {
	c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	_, err := c.c.Write(p)
	return err
}

// Read reads one reply within ioTimeout.
func (c *rawConn) Read() (resp.Value, error) {
	c.c.SetReadDeadline(time.Now().Add(ioTimeout))
	return resp.ReadReply(c.r)
}

// Do sends one command and reads its reply.
func (c *rawConn) Do(args ...string) (resp.Value, error) {
	if err := c.Write(command(args...)); err != nil {
		return resp.Value{}, err
	}
	return c.Read()
}

// send writes p or fails the test.
func (c *rawConn) send(t testing.TB, p string) {
	t.Helper()
	if err := c.Write([]byte(p)); err != nil {
		t.Fatalf("write %q: %v", abbrev(p), err)
	}
}

// reply reads one reply and returns its raw bytes, or fails the test.
func (c *rawConn) reply(t testing.TB) string {
	t.Helper()
	v, err := c.Read()
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return string(v.Raw)
}

// do sends a command and returns its raw reply, or fails the test.
func (c *rawConn) do(t testing.TB, args ...string) string {
	t.Helper()
	c.send(t, string(command(args...)))
	return c.reply(t)
}

// expectClosed checks that the server closes the connection without
// sending anything more (within ioTimeout).
func (c *rawConn) expectClosed(t testing.TB) {
	t.Helper()
	if err := c.closedErr(ioTimeout); err != nil {
		t.Fatal(err)
	}
}

// closedErr waits up to d for the server to close the connection and
// reports what else happened: data, or no close at all.
func (c *rawConn) closedErr(d time.Duration) error {
	c.c.SetReadDeadline(time.Now().Add(d))
	b, err := io.ReadAll(io.LimitReader(c.r, 1<<20))
	switch {
	case len(b) > 0:
		return fmt.Errorf("expected the server to close the connection, got %q (then %v)", abbrev(string(b)), err)
	case err == nil || errors.Is(err, syscall.ECONNRESET):
		return nil // io.ReadAll turns EOF into nil
	case isTimeout(err):
		return fmt.Errorf("the server did not close the connection within %v", d)
	}
	return fmt.Errorf("reading until close: %v", err)
}

// expectSilence checks that nothing arrives for d and the connection stays
// open.
func (c *rawConn) expectSilence(t testing.TB, d time.Duration) {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(d))
	b, err := c.r.Peek(1)
	if len(b) > 0 || !isTimeout(err) {
		t.Fatalf("expected no reply for %v, got %q, %v", d, b, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// command encodes args as a RESP multibulk request.
func command(args ...string) []byte {
	return appendCommand(nil, args...)
}

func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}

// bulk is the RESP2 encoding of a bulk string reply.
func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func abbrev(s string) string {
	if len(s) > 200 {
		return s[:200] + "..." + strconv.Itoa(len(s)-200) + " more bytes"
	}
	return s
}

// parseInfo reads the "field:value" lines of an INFO reply; section
// headers, comments and blank lines are skipped. A field seen twice keeps
// its last value.
func parseInfo(text string) map[string]string {
	m := make(map[string]string)
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		m[k] = v
	}
	return m
}

// infoErr runs INFO section on a fresh connection and parses it.
func infoErr(addr, section string) (map[string]string, error) {
	c, err := dialRaw(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	v, err := c.Do("INFO", section)
	if err != nil {
		return nil, err
	}
	if v.Type != resp.TypeBulk && v.Type != resp.TypeVerbatim {
		return nil, fmt.Errorf("INFO %s answered %q", section, abbrev(string(v.Raw)))
	}
	return parseInfo(string(v.Str)), nil
}

func info(t testing.TB, addr, section string) map[string]string {
	t.Helper()
	m, err := infoErr(addr, section)
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	return m
}

// connectedClients is INFO clients' connected_clients as seen by a fresh
// connection, which counts itself.
func connectedClients(addr string) (int, error) {
	m, err := infoErr(addr, "clients")
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(m["connected_clients"])
	if err != nil {
		return 0, fmt.Errorf("connected_clients: %q", m["connected_clients"])
	}
	return n, nil
}

// waitClients waits until connected_clients (counting the asking
// connection) is want.
func waitClients(t testing.TB, addr string, want int, within time.Duration) {
	t.Helper()
	var last int
	var err error
	waitFor(t, within, func() bool {
		last, err = connectedClients(addr)
		return err == nil && last == want
	}, func() string { return fmt.Sprintf("connected_clients = %d (err %v), want %d", last, err, want) })
}

// waitFor polls cond every 20 ms until it holds or within has passed; then
// it fails the test with what().
func waitFor(t testing.TB, within time.Duration, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rss is the resident set size of process pid in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func mustRSS(t testing.TB, pid int) int64 {
	t.Helper()
	n, err := rss(pid)
	if err != nil {
		t.Fatalf("rss: %v", err)
	}
	return n
}

// watcher is a go-redis client that keeps using the server from its own
// goroutine (PING, SET, GET of its own key) while a test does something
// nasty on other connections, proving the server keeps serving everyone.
type watcher struct {
	rdb   *redis.Client
	stop  chan struct{}
	done  chan struct{}
	ops   atomic.Int64
	mu    sync.Mutex
	first error
}

// startWatcher starts a watcher; check it with (*watcher).finish.
func startWatcher(t testing.TB, addr string) *watcher {
	t.Helper()
	// One pooled connection, so that the count of connected clients stays
	// put when the test also calls round.
	w := &watcher{stop: make(chan struct{}), done: make(chan struct{})}
	w.rdb = newClient(t, addr, 0, func(o *redis.Options) { o.PoolSize = 1 })
	if err := w.Probe(0); err != nil {
		t.Fatalf("watcher before: %v", err)
	}
	go w.loop()
	t.Cleanup(func() { w.halt() })
	return w
}

// Probe runs one round from the calling goroutine, on a key of its own so
// as not to race with the watcher's goroutine.
func (w *watcher) Probe(i int) error { return w.round("watcher:probe", i) }

func (w *watcher) round(key string, i int) error {
	c, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	if err := w.rdb.Ping(c).Err(); err != nil {
		return fmt.Errorf("PING: %w", err)
	}
	val := "v" + strconv.Itoa(i)
	if err := w.rdb.Set(c, key, val, 0).Err(); err != nil {
		return fmt.Errorf("SET: %w", err)
	}
	got, err := w.rdb.Get(c, key).Result()
	if err != nil || got != val {
		return fmt.Errorf("GET = %q, %v; want %q", got, err, val)
	}
	w.ops.Add(1)
	return nil
}

func (w *watcher) loop() {
	defer close(w.done)
	for i := 1; ; i++ {
		select {
		case <-w.stop:
			return
		case <-time.After(10 * time.Millisecond):
		}
		if err := w.round("watcher:loop", i); err != nil {
			w.mu.Lock()
			w.first = err
			w.mu.Unlock()
			return
		}
	}
}

func (w *watcher) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// finish stops the watcher and fails the test if any of its rounds failed,
// then runs one more round to show the server still serves.
func (w *watcher) finish(t testing.TB) {
	t.Helper()
	w.halt()
	w.mu.Lock()
	err := w.first
	w.mu.Unlock()
	if err != nil {
		t.Fatalf("a concurrent client failed meanwhile (after %d good rounds): %v", w.ops.Load(), err)
	}
	if err := w.Probe(-1); err != nil {
		t.Fatalf("a concurrent client fails afterwards: %v", err)
	}
}

// pattern returns n bytes of a deterministic, non-repeating-looking
// pattern (so that a misplaced chunk shows), seeded by seed.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9E3779B97F4A7C15 | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 56)
	}
	return b
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	if len(a) != len(b) {
		return fmt.Sprintf("length %d, want %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return fmt.Sprintf("byte %d is %#x, want %#x", i, a[i], b[i])
		}
	}
	return "equal"
}

// equalBytes fails the test when got differs from want.
func equalBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %s", what, firstDiff(got, want))
	}
}
