#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need beyond
# Go (Debian's redis-server and redis-tools, the reference the differential
# and integration tests compare with; qemu-user for the arm64 tests), then
# lint, the linux/arm64 cross-build, the pure-Go packages' tests built for
# arm64 and run under qemu-user, and every package's tests under the race
# detector.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
# apt_install PKG... installs Debian packages, refreshing the package lists
# only when the first try fails.
apt_install() {
  $SUDO apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "$@" >/dev/null; }
}

need=()
for bin in redis-server redis-cli redis-benchmark; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing redis-server redis-tools (missing: ${need[*]})"
  apt_install redis-server redis-tools
fi
# qemu-user runs the arm64 build of the pure-Go packages' tests; without
# it (no Debian package reachable) that step is skipped, saying so.
if ! command -v qemu-aarch64 >/dev/null 2>&1 && [ "$(uname -m)" != aarch64 ]; then
  echo "== installing qemu-user (for the arm64 tests)"
  apt_install qemu-user || echo "qemu-user could not be installed"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi

echo "== go vet (linux/amd64, linux/arm64)"
go vet ./...
GOOS=linux GOARCH=arm64 go vet ./...

echo "== cross-build linux/arm64"
GOOS=linux GOARCH=arm64 go build -o /dev/null ./cmd/shoal

echo "== linux/arm64 tests of the pure-Go packages"
arm64_pkgs=(./resp/... ./engine/... ./numa/... ./cluster/...)
if [ "$(uname -m)" = aarch64 ]; then
  go test "${arm64_pkgs[@]}"
elif command -v qemu-aarch64 >/dev/null 2>&1; then
  GOOS=linux GOARCH=arm64 go test -exec qemu-aarch64 "${arm64_pkgs[@]}"
else
  echo "skipped: qemu-aarch64 is not installed"
fi

echo "== go test -race"
go test -race -timeout 20m "$@" ./...
echo "== ok"
