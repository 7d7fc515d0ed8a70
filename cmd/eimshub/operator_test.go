package main

import (
	"testing"

	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/principal"
)

// TestIsOperator: hub-wide operations data is for the configured hub
// operators, not for every tenant's admin (issue 10 item 11).
func TestIsOperator(t *testing.T) {
	ops := []string{"demo/admin", "demo2/u_ops", "client:monitor"}
	tests := []struct {
		name string
		p    *principal.Principal
		want bool
	}{
		{"operator by login", &principal.Principal{Tenant: "demo", UserID: "u1", Login: "admin", Roles: []string{"admin"}}, true},
		{"operator by id", &principal.Principal{Tenant: "demo2", UserID: "u_ops", Login: "ops"}, true},
		{"operator client", &principal.Principal{Tenant: "demo", ClientID: "monitor"}, true},
		{"another tenant's admin", &principal.Principal{Tenant: "demo2", UserID: "u9", Login: "carol", Roles: []string{"admin"}}, false},
		{"same login, other tenant", &principal.Principal{Tenant: "demo2", UserID: "u2", Login: "admin", Roles: []string{"admin"}}, false},
		{"a user of the operator client", &principal.Principal{Tenant: "demo", ClientID: "monitor", UserID: "u3", Login: "bob"}, false},
		{"tenant admin", &principal.Principal{Tenant: "demo", UserID: "u4", Login: "alice", Roles: []string{"admin"}}, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := isOperator(tc.p, ops); got != tc.want {
			t.Errorf("%s: isOperator = %v, want %v", tc.name, got, tc.want)
		}
	}
	if isOperator(&principal.Principal{Tenant: "demo", UserID: "u1", Login: "admin", Roles: []string{"admin"}}, nil) {
		t.Error("no operators configured, yet a tenant admin is an operator")
	}
	for op, want := range map[string]bool{"demo/admin": true, "client:monitor": true, "demo": false, "/admin": false,
		"demo/": false, "client:": false, " demo/admin": false, "demo/a/b": false} {
		if config.ValidOperator(op) != want {
			t.Errorf("ValidOperator(%q) = %v, want %v", op, !want, want)
		}
	}
}
