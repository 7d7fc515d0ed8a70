package principal

import (
	"context"
	"testing"
)

func TestScopeChecks(t *testing.T) {
	for _, tc := range []struct {
		name           string
		p              *Principal
		read, write    bool
		hasRead, hasRW bool
		admin, manager bool
	}{
		{name: "nil principal", p: nil},
		{name: "no scopes", p: &Principal{}},
		{name: "openid only", p: &Principal{Scopes: []string{"openid", "profile"}}},
		{name: "api.read", p: &Principal{Scopes: []string{"api.read"}}, read: true, hasRead: true},
		{name: "api.readwrite", p: &Principal{Scopes: []string{"openid", "api.readwrite"}}, read: true, write: true, hasRW: true},
		{name: "both", p: &Principal{Scopes: []string{"api.read", "api.readwrite"}}, read: true, write: true, hasRead: true, hasRW: true},
		// Scopes are exact strings: no case folding, prefixes or wildcards.
		{name: "case differs", p: &Principal{Scopes: []string{"API.READWRITE", "Api.Read"}}},
		{name: "prefix", p: &Principal{Scopes: []string{"api.", "api.readwrite2", "api.rea"}}},
		{name: "wildcard", p: &Principal{Scopes: []string{"*", "api.*"}}},
		{name: "padded", p: &Principal{Scopes: []string{" api.readwrite", "api.read "}}},
		{name: "space-joined", p: &Principal{Scopes: []string{"api.read api.readwrite"}}},
		// Roles do not grant scopes.
		{name: "admin without scopes", p: &Principal{Roles: []string{"admin"}}, admin: true},
		{name: "scope named like a role", p: &Principal{Scopes: []string{"admin"}}},
		{name: "other role", p: &Principal{Roles: []string{"manager", "Admin", "admin "}, Scopes: []string{"api.read"}}, read: true, hasRead: true, manager: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.p
			for _, c := range []struct {
				what      string
				got, want bool
			}{
				{"CanRead", p.CanRead(), tc.read},
				{"CanWrite", p.CanWrite(), tc.write},
				{`HasScope("api.read")`, p.HasScope("api.read"), tc.hasRead},
				{`HasScope("api.readwrite")`, p.HasScope("api.readwrite"), tc.hasRW},
				{`HasScope("")`, p.HasScope(""), false},
				{"IsAdmin", p.IsAdmin(), tc.admin},
				{`HasRole("manager")`, p.HasRole("manager"), tc.manager},
				{`HasRole("")`, p.HasRole(""), false},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if p, ok := From(ctx); ok || p != nil {
		t.Fatalf("empty context: %v, %v", p, ok)
	}
	// A nil principal stored in the context is "no principal".
	if p, ok := From(With(ctx, nil)); ok || p != nil {
		t.Fatalf("nil principal: %v, %v", p, ok)
	}
	want := &Principal{Tenant: "t1", UserID: "u_1"}
	got, ok := From(With(ctx, want))
	if !ok || got != want {
		t.Fatalf("From(With(p)) = %v, %v", got, ok)
	}
	// An inner context overrides; the outer one is unchanged.
	outer := With(ctx, want)
	inner := With(outer, &Principal{Tenant: "t2"})
	if p, _ := From(inner); p.Tenant != "t2" {
		t.Fatalf("inner = %+v", p)
	}
	if p, _ := From(outer); p != want {
		t.Fatalf("outer = %+v", p)
	}
	// Another package's value under an equal-looking key is not a principal.
	type ctxKey struct{}
	if _, ok := From(context.WithValue(ctx, ctxKey{}, want)); ok {
		t.Fatal("a foreign context key was read as the principal")
	}
}
