// Package hosttest builds the hub's real core behind the Host API bridge
// for connector tests: what a connector sees through the Host API then
// follows the hub's own rules (records, permissions, workflow, aliases,
// dialect tokens), not a model of them (sdktest.MemHost is the model).
package hosttest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/host"
)

// Core is the real core of one test: a SQLite store in a temporary
// directory, an in-memory cache and the services over them, and the
// bridge (Host) connectors call. Seed the store (and aliases) before the
// first call through Host; everything is closed when the test ends.
type Core struct {
	Host          host.Core
	Store         *sqlite.Store
	Identity      *identity.Service
	Entities      *entity.Service
	Aliases       *alias.Service
	DialectTokens *dialecttoken.Service
}

// NewCore builds a Core for t.
func NewCore(t testing.TB) *Core {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	ident, err := identity.New(identity.Config{SigningKey: key}, st, c, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	k := &Core{Store: st, Identity: ident, Entities: entity.New(st, entity.Options{Logger: quiet}),
		Aliases: alias.New(st), DialectTokens: dialecttoken.New(c, ident, nil)}
	k.Host = host.NewBridge(host.Services{Entities: k.Entities, Identity: ident,
		Workflow: workflow.New(st, workflow.Options{Logger: quiet}),
		Dataflow: dataflow.New(st, dataflow.Options{Logger: quiet}),
		Files:    files.New(st, blobs, files.Options{Logger: quiet}),
		Aliases:  k.Aliases, Store: st, DialectTokens: k.DialectTokens})
	return k
}
