# EIMS Hub. `make help` lists the targets.
GO        ?= go
BIN       := bin/eimshub
CONNBIN   := bin/eimshub-connector
CONFIG    ?= config/eimshub.example.yaml
PKGS      := ./...
# The version `eimshub version`, the startup log and /healthz report: the nearest tag, commits
# since it and the commit (v0.3.0-4-gabc1234, "-dirty" with uncommitted changes); without git or
# tags the build info's revision is used (see cmd/eimshub/version.go).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS   := -X main.version=$(VERSION)

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## build: build bin/eimshub and bin/eimshub-connector (the small binary the hub runs built-in connectors from)
build:
	@echo "building $(BIN) and $(CONNBIN) (the first build compiles every dependency: a few minutes on an empty cache)"
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/eimshub
	CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o $(CONNBIN) ./cmd/eimshub-connector

## footprint: build, then print size and idle RSS of a built-in connector process from bin/eimshub-connector and from the hub (self)
footprint: build
	./cmd/eimshub-connector/footprint.sh $(BIN)

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

## fuzz: run every fuzzer for FUZZTIME (default 15s each, FUZZPARALLEL workers, default 1) and report execs/s per target
FUZZTIME ?= 15s
FUZZPARALLEL ?= 1
FUZZTARGETS := core/query:FuzzParseFilter core/query:FuzzParseDynamic core/query:FuzzParseExpand core/query:FuzzSplitOptions \
	core/workflow:FuzzParseDefinition core/ids:FuzzFromGUID connectors/h3yun:FuzzDecodeBizObject \
	connectors/h3yun:FuzzDecodeFilter connectors/h3yun:FuzzReadMedia adapters/compilefuzz:FuzzCompilers \
	connectors/eoffice:FuzzParseQuery connectors/eoffice:FuzzCompileSearch connectors/eoffice:FuzzOrderBy \
	plugins/sdk:FuzzAppendJSON plugins/sdk:FuzzDecodeDoc connectors/internal/ordjson:FuzzWriteString \
	connectors/dabei:FuzzFilter connectors/dabei:FuzzBodies
fuzz:
	@set -e; out=$$(mktemp); sum=$$(mktemp); trap 'rm -f "$$out" "$$sum"' EXIT; \
	for t in $(FUZZTARGETS); do \
	  echo "== $${t#*:} ($(FUZZTIME))"; \
	  if ! $(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) -parallel $(FUZZPARALLEL) ./$${t%%:*}/ >"$$out" 2>&1; then \
	    cat "$$out"; exit 1; fi; \
	  tail -n 3 "$$out"; \
	  grep 'execs: ' "$$out" | tail -n 1 | sed -E 's/.*elapsed: ([0-9hms]+), execs: ([0-9]+).*/\1 \2/' | \
	    awk -v t="$${t#*:}" '{ d = $$1; s = 0; \
	      if (match(d, /[0-9]+h/)) s += 3600 * substr(d, RSTART, RLENGTH - 1); \
	      if (match(d, /[0-9]+m/)) s += 60 * substr(d, RSTART, RLENGTH - 1); \
	      if (match(d, /[0-9]+s/)) s += substr(d, RSTART, RLENGTH - 1); \
	      printf "%-22s %12d execs in %6ds %10.0f execs/s\n", t, $$2, s, (s > 0 ? $$2 / s : 0) }' >>"$$sum"; \
	done; echo "== execs per target"; cat "$$sum"

# the embedded store's JSONB decoder and the HTTP answers' JSON encoder (issue 11 read path)
FUZZTARGETS += adapters/sqlite:FuzzDecodeJSONB core/jsonenc:FuzzMarshal

.PHONY: help build footprint run test bench bench-http chaos lint fuzz proto config-check docs-check audit
