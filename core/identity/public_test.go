package identity

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/store"
)

// IsPublicClient tells the limiter which clients are shared by every
// browser (spec eims-native.md §12.2).
func TestIsPublicClient(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.st.Insert(ctx, collClient, store.Doc{"id": "web-off", "corpId": "", "tenantId": identitytest.Tenant,
		"public": true, "disabled": true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{identitytest.WebClient, true},
		{identitytest.SvcClient, false},
		{identitytest.ServiceClient, false},
		{"web-off", false}, // disabled: no tokens, no budget of its own
		{"nope", false},
		{"", false},
	} {
		got, err := f.svc.IsPublicClient(ctx, tc.id)
		if err != nil || got != tc.want {
			t.Errorf("IsPublicClient(%q) = %v, %v; want %v", tc.id, got, err, tc.want)
		}
	}
}

// BenchmarkIsPublicClient is the lookup the API limiter adds to every
// request of a rate-limited hub: a directory-cache hit (one generation read
// from the cache port, no store read).
func BenchmarkIsPublicClient(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	if _, err := f.svc.IsPublicClient(ctx, identitytest.WebClient); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.svc.IsPublicClient(ctx, identitytest.WebClient); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
