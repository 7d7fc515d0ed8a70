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
	$(GO) build -o $(BIN) ./cmd/eimshub

## run: start the hub on the embedded defaults (no MongoDB, no Redis needed)
run: build
	./$(BIN) serve --config $${EIMSHUB_CONFIG:-$(CONFIG)}

## test: run every test (race detector, shuffled order; starts its own redis-server where needed)
test:
	$(GO) test -race -shuffle=on -count=1 -timeout 8m $(PKGS)

## bench: run the Go benchmarks (figures go to docs/BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=2s ./core/query/... ./adapters/sqlite/... ./core/httpapi/...

## lint: gofmt + go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run the parser fuzzers for a short while
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParseFilter -fuzztime 30s ./core/query/

.PHONY: help build run test bench lint fuzz
