#!/usr/bin/env bash
# Regenerates the Go code for the plugin contract. Pinned tool versions:
# protoc-gen-go matches go.mod's google.golang.org/protobuf; protoc-gen-go-grpc
# v1.3.0 emits code for grpc >= 1.52 (SupportPackageIsVersion7), which the
# grpc v1.61 in go.mod (pulled by go-plugin v1.8.0) supports.
# Needs protoc (apt-get install -y protobuf-compiler; tested with 3.21).
set -euo pipefail
PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.3.0

cd "$(dirname "$0")"
BIN="$(mktemp -d)"
trap 'rm -rf "$BIN"' EXIT
GOFLAGS= GOBIN="$BIN" go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
GOFLAGS= GOBIN="$BIN" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"

PATH="$BIN:$PATH" protoc -I . \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  common.proto connector.proto host.proto
