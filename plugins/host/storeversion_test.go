package host_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
)

// The bridge names the SQLite store's committed state (the
// sdk.Request.StoreVersion the manager sends with every request): reads
// leave it, every commit moves it, and inside a transaction there is none.
func TestBridgeStoreVersion(t *testing.T) {
	rc := newRealCore(t)
	ctx := context.Background()
	sv, ok := rc.host.(interface{ StoreVersion(context.Context) string })
	if !ok {
		t.Fatal("the bridge does not name the store's version")
	}
	v1 := sv.StoreVersion(ctx)
	if len(v1) != 96 {
		t.Fatalf("version %q, want 96 hex digits", v1)
	}
	u := exampletest.User
	if _, err := rc.host.FindRecords(ctx, &u, "orders", sdk.Query{Limit: -1}, true); err != nil {
		t.Fatal(err)
	}
	if v := sv.StoreVersion(ctx); v != v1 {
		t.Fatal("a read moved the version")
	}
	if _, err := rc.host.CreateRecord(ctx, &u, "orders", map[string]any{"title": "moves it"}); err != nil {
		t.Fatal(err)
	}
	v2 := sv.StoreVersion(ctx)
	if v2 == v1 || v2 == "" {
		t.Fatalf("a commit left the version %q", v2)
	}
	_ = rc.st.Tx(ctx, func(ctx context.Context) error {
		if v := sv.StoreVersion(ctx); v != "" {
			t.Errorf("version %q inside a transaction", v)
		}
		return nil
	})
}
