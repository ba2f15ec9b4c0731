# Shoal's everyday commands. `make test` is what CI runs.
GO ?= go
PORT ?= 6379

.PHONY: all build run test race unit lint fuzz bench arm64 arm64-test clean

all: build

build:
	$(GO) build -o bin/shoal ./cmd/shoal

# Run one shard in the foreground on $(PORT).
run:
	$(GO) run ./cmd/shoal shard --port $(PORT)

# Everything CI checks; installs redis-server/redis-tools when missing.
test:
	./scripts/test.sh

# Unit and integration tests without the race detector (faster).
unit:
	$(GO) test ./...

race:
	$(GO) test -race ./...

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))"
	$(GO) vet ./...
	GOOS=linux GOARCH=arm64 $(GO) vet ./...

# Each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

# Hot-path micro-benchmarks (compare commits with benchstat).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./resp/ ./engine/ ./engine/internal/kv/ ./uring/

arm64:
	GOOS=linux GOARCH=arm64 $(GO) build -o bin/shoal-linux-arm64 ./cmd/shoal

# The pure-Go packages' tests built for arm64, run under qemu-user
# (apt-get install qemu-user).
arm64-test:
	GOOS=linux GOARCH=arm64 $(GO) test -exec qemu-aarch64 ./resp/... ./engine/... ./numa/... ./cluster/...

clean:
	rm -rf bin
