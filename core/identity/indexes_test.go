package identity

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// The user lookups by login, phone and job number are answered from the
// declared indexes (EXPLAIN QUERY PLAN on the real SQLite store), not by
// reading every user of the tenant; before EnsureIndexes they were not.
func TestUserIndexesServeTheLookups(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tenant := identitytest.Tenant
	for i := range 200 {
		if err := f.st.Insert(ctx, collUser, store.Doc{"id": fmt.Sprintf("ux%03d", i), "corpId": tenant,
			"userName": fmt.Sprintf("user%03d", i), "code": fmt.Sprintf("J%03d", i), "workPhone": fmt.Sprintf("139%08d", i),
			"workEmail": fmt.Sprintf("u%03d@example.com", i), "status": int64(0)}); err != nil {
			t.Fatal(err)
		}
	}
	active := query.Cmp{Path: query.Path{"status"}, Op: query.Eq, Value: int64(0)}
	by := func(field, v string) query.Query {
		return query.Query{Filter: query.AndOf(query.Cmp{Path: query.Path{field}, Op: query.Eq, Value: v}, active), Limit: 2}
	}
	cases := []struct {
		name string
		q    query.Query
	}{
		{"password grant login", loginQuery("User042")},
		{"sms login phone", phoneQuery("13900000042")},
		{"e-office user_accounts", by("userName", "user042")},
		{"e-office user_job_number", by("code", "J042")},
		{"e-office phone_number", by("workPhone", "13900000042")},
	}
	plan := func(t *testing.T, q query.Query) string {
		t.Helper()
		lines, err := f.st.QueryPlan(ctx, collUser, tenant, q)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	for _, tc := range cases {
		if p := plan(t, tc.q); strings.Contains(p, "__ix_") {
			t.Fatalf("%s uses an index before EnsureIndexes:\n%s", tc.name, p)
		}
	}
	for range 2 { // idempotent
		if err := f.svc.EnsureIndexes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(t, tc.q)
			if !strings.Contains(p, "__ix_") {
				t.Errorf("no declared index used:\n%s", p)
			}
			for _, line := range strings.Split(p, "\n") {
				if strings.HasPrefix(line, "SCAN ") {
					t.Errorf("scans: %s\n%s", line, p)
				}
			}
		})
	}
	// Same answers with the indexes.
	u, err := f.svc.findUserByLogin(ctx, tenant, "User042")
	if err != nil || u == nil || u.ID != "ux042" {
		t.Errorf("findUserByLogin = %+v, %v", u, err)
	}
	if u, err := f.svc.findUserByPhone(ctx, tenant, "13900000042"); err != nil || u == nil || u.ID != "ux042" {
		t.Errorf("findUserByPhone = %+v, %v", u, err)
	}
}
