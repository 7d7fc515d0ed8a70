package sdktest_test

import (
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

func TestMemHostWrites(t *testing.T) {
	h := sdktest.NewMemHost()
	exampletest.Seed(h)
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", UserCode: "bob", DisplayName: "Bob",
		ClientID: "app1", Scopes: []string{"api.readwrite"}}
	sdktest.HostWrites(t, h, exampletest.User, bob)
}

// A holder of message.send sends without the admin role.
func TestMemHostGrant(t *testing.T) {
	h := sdktest.NewMemHost()
	exampletest.Seed(h)
	bob := sdk.Principal{Tenant: exampletest.Tenant, UserID: "u2", Scopes: []string{"api.readwrite"}}
	body := sdk.Doc{"title": "hi", "receiverEmpId": "u1"}
	if _, err := h.EntityCreate(t.Context(), &bob, "message", body); sdk.AsError(err).Code != sdk.Forbidden {
		t.Fatalf("before the grant: %v", err)
	}
	h.Grant(exampletest.Tenant, "u2", sdktest.PermMessageSend)
	if _, err := h.EntityCreate(t.Context(), &bob, "message", body); err != nil {
		t.Fatalf("after the grant: %v", err)
	}
}
