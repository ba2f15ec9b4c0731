#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need beyond
# Go (Debian's redis-server and redis-tools, the reference the differential
# and integration tests compare with), then lint, the linux/arm64
# cross-build, and every package's tests under the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for bin in redis-server redis-cli redis-benchmark; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing redis-server redis-tools (missing: ${need[*]})"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q redis-server redis-tools >/dev/null 2>&1 ||
    { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q redis-server redis-tools >/dev/null; }
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet (linux/amd64, linux/arm64)"
go vet ./...
GOOS=linux GOARCH=arm64 go vet ./...

echo "== cross-build linux/arm64"
GOOS=linux GOARCH=arm64 go build -o /dev/null ./cmd/shoal

echo "== go test -race"
go test -race -timeout 20m "$@" ./...
echo "== ok"
