# EIMS Hub. `make help` lists the targets.
GO        ?= go
BIN       := bin/eimshub
CONNBIN   := bin/eimshub-connector
CONFIG    ?= config/eimshub.example.yaml
PKGS      := ./...

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## build: build bin/eimshub and bin/eimshub-connector (the small binary the hub runs built-in connectors from)
build:
	$(GO) build -o $(BIN) ./cmd/eimshub
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

## bench: run the Go benchmarks (figures go to docs/BENCHMARKS.md; Redis benchmarks start their own redis-server)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./core/query/ ./adapters/sqlite/ ./core/limits/ ./adapters/redis/ ./core/httpapi/ ./plugins/host/ ./cmd/eimshub/

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

.PHONY: help build footprint run test bench lint fuzz proto config-check docs-check audit
