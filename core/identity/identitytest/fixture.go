// Package identitytest provides the spec's identity fixture (eims-native.md
// §11) for tests of packages that issue or check tokens. Seed it into the
// real embedded store (adapters/sqlite, a temporary directory per test).
package identitytest

import (
	"context"
	"fmt"

	"github.com/eimshub/eimshub/core/store"
)

// The §11 fixture.
const (
	Tenant       = "t1"
	WebClient    = "web" // public
	SvcClient    = "svc" // confidential, secret SvcSecret
	SvcSecret    = "svc-secret"
	AdminID      = "u_1001"
	AdminLogin   = "admin"
	AdminPass    = "123456"
	AdminPhone   = "12345678901"
	AdminEmail   = "admin@example.com"
	AdminName    = "Admin"
	AdminCode    = "E001"
	DisabledID   = "u_1002"
	DisabledUser = "olduser"
	// ServiceClient is a confidential client with client_credentials acting as AdminID.
	ServiceClient = "svc-user"
)

// bcrypt hashes of AdminPass and SvcSecret, precomputed so that seeding
// does not depend on the identity package. They use bcrypt's minimum cost
// (4) to keep tests fast under the race detector; bcrypt reads the cost from
// the hash, so identity.CheckPassword verifies them like any other.
const (
	adminPassHash = "$2a$04$4HHjJtSP5j7ZShyA5c7SH.HL0OkwRsnE.qsHZBvrieg09WgYtG.jm"
	svcSecretHash = "$2a$04$zCIilEFXaFDGpGcV.3BGe.eA8IuYTfl8lmmADndLyjIW9rNQM//9a"
)

// Seed inserts tenant t1, clients web/svc/svc-user, the active user
// admin (u_1001) and a disabled user into st.
func Seed(ctx context.Context, st store.Store) error {
	grants := []any{"password", "code", "refresh_token"}
	scopes := []any{"openid", "profile", "api.readwrite"}
	docs := []struct {
		coll string
		doc  store.Doc
	}{
		{"tenant", store.Doc{"id": Tenant, "corpId": "", "name": "Tenant One"}},
		{"client", store.Doc{"id": WebClient, "corpId": "", "tenantId": Tenant, "name": "Web",
			"public": true, "grants": grants, "scopes": scopes, "accessTokenTTL": int64(28800)}},
		{"client", store.Doc{"id": SvcClient, "corpId": "", "tenantId": Tenant, "name": "Service",
			"public": false, "secretHash": svcSecretHash, "grants": append([]any{"client_credentials"}, grants...),
			"scopes": scopes}},
		{"client", store.Doc{"id": ServiceClient, "corpId": "", "tenantId": Tenant, "name": "Integration",
			"public": false, "secretHash": svcSecretHash, "grants": []any{"client_credentials"},
			"scopes": []any{"api.readwrite"}, "serviceUserId": AdminID}},
		{"user", store.Doc{"id": AdminID, "corpId": Tenant, "userName": AdminLogin, "code": AdminCode,
			"empName": AdminName, "workPhone": AdminPhone, "workEmail": AdminEmail, "status": int64(0),
			"departmentId": "d_1", "passwordHash": adminPassHash,
			"roles": []any{map[string]any{"roleId": "r_1", "roleName": "管理员", "roleCode": "admin"}}}},
		{"user", store.Doc{"id": DisabledID, "corpId": Tenant, "userName": DisabledUser, "code": "E002",
			"empName": "Old", "workPhone": "12345678902", "status": int64(1), "passwordHash": adminPassHash}},
	}
	for _, d := range docs {
		if err := st.Insert(ctx, d.coll, d.doc); err != nil {
			return fmt.Errorf("seed %s %v: %w", d.coll, d.doc["id"], err)
		}
	}
	return nil
}
