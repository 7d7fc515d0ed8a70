# EIMS Hub. `make help` lists the targets.
GO        ?= go
BIN       := bin/eimshub
CONFIG    ?= config/eimshub.example.yaml
PKGS      := ./...

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## build: build bin/eimshub
build:
	@echo "building $(BIN) from ./cmd/eimshub (the first build compiles every dependency: a few minutes on an empty cache)"
	$(GO) build -o $(BIN) ./cmd/eimshub

## run: start the hub on the embedded defaults (no MongoDB, no Redis needed)
run: build
	./$(BIN) serve --config $${EIMSHUB_CONFIG:-$(CONFIG)}

## test: run every test (race detector, shuffled order; starts its own redis-server where needed)
test:
	$(GO) test -race -shuffle=on -count=1 -timeout 8m $(PKGS)

## bench: run the Go benchmarks, then bench-http (figures go to docs/BENCHMARKS.md; Redis benchmarks start their own redis-server)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./core/query/ ./adapters/sqlite/ ./core/limits/ ./adapters/redis/ ./core/httpapi/ ./plugins/host/ ./cmd/eimshub/
	$(MAKE) bench-http

## bench-http: HTTP load benchmark of the hub against a bare Fiber handler (bench/load; BENCH_HTTP_FLAGS="-d 5s -c 32 -run RE -pprof DIR")
BENCH_HTTP_FLAGS ?=
bench-http:
	$(GO) run ./bench/load $(BENCH_HTTP_FLAGS)

## chaos: fault-injection SLO checks against the real hub binary, plugin processes and redis-server (prints a table; not part of test)
chaos:
	$(GO) test -tags chaos -run '^TestChaos$$' -count=1 -v -timeout 10m ./cmd/eimshub/

## proto: regenerate plugins/proto from the .proto files and fail if the committed code differs (needs protoc)
proto:
	./plugins/proto/generate.sh
	git diff --exit-code -- plugins/proto

## config-check: validate the example config (or CONFIG=FILE)
config-check:
	$(GO) run ./cmd/eimshub config check $(CONFIG)

## docs-check: fail when docs/CONFIG.md is out of date with config/ field comments
docs-check:
	$(GO) run ./config/gen -check

## audit: go mod verify + vet
audit:
	$(GO) mod verify
	$(GO) vet $(PKGS)

## lint: gofmt + go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run every fuzzer for FUZZTIME (default 15s each)
FUZZTIME ?= 15s
fuzz:
	@set -e; for t in core/query:FuzzParseFilter core/query:FuzzParseDynamic core/query:FuzzParseExpand \
	  core/workflow:FuzzParseDefinition core/ids:FuzzFromGUID connectors/h3yun:FuzzDecodeBizObject \
	  connectors/h3yun:FuzzDecodeFilter connectors/h3yun:FuzzReadMedia; do \
	  echo "== $${t#*:} ($(FUZZTIME))"; $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/; done

.PHONY: help build run test bench bench-http chaos lint fuzz proto config-check docs-check audit
