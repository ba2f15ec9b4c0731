#!/usr/bin/env bash
# Makes cmd/shoal/default.pgo, the profile Go's profile-guided optimisation
# builds Shoal with: a CPU profile of one shard, built without PGO, serving
# the harness's workloads (SET and GET of 256-byte values over 1,000,000
# keys at pipeline 1 and 30, plus INCR) in cluster mode with its
# append-only file (fsync every second), as `shoal` runs its shards. The
# shard and redis-benchmark are pinned to different CPUs when there are two
# or more.
#
#   scripts/pgo.sh [REQUESTS]     # default 2000000 per workload
#
# Measure what it gains, in one run of the harness:
#   go run ./perf/bench --servers shoal-uring,shoal-nopgo,redis
set -euo pipefail
cd "$(dirname "$0")/.."

requests=${1:-2000000}
for bin in redis-benchmark redis-cli; do
  command -v "$bin" >/dev/null || { echo "pgo: $bin is needed (apt-get install redis-tools)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -pgo=off -o "$tmp/shoal" ./cmd/shoal

# A free loopback port, and its cluster bus port (+10000), from a range
# above the usual ones.
port=
for p in $(seq 21000 37 29000); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "pgo: no free port" >&2; exit 1; }

server_pin=() client_pin=()
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_pin=(taskset -c 0) client_pin=(taskset -c 1)
fi

mkdir "$tmp/shard"
"${server_pin[@]}" "$tmp/shoal" shard --port "$port" --dir "$tmp/shard" \
  --cluster-enabled yes --appendonly yes --profile cpu --loglevel warning &
pid=$!
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

bench() {
  "${client_pin[@]}" redis-benchmark -p "$port" -n "$requests" -r 1000000 -d 256 -q "$@" |
    tr '\r' '\n' | grep 'per second'
}
bench -t set,get -P 1 -c 50
bench -t set,get -P 30 -c 50
bench -t incr -P 16 -c 50

kill -TERM "$pid"
wait "$pid" || true
pid=
cp "$tmp/shard/cpu.pprof" cmd/shoal/default.pgo
echo "wrote cmd/shoal/default.pgo ($(wc -c <cmd/shoal/default.pgo) bytes)"
