package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/config"
	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/record"
)

const aliasSeedYAML = `
tenants:
  - id: t1
    departments:
      - code: hq
        aliases: {h3yun: 6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40, eoffice: "10"}
    users:
      - userName: alice
        password: alice-pass
        department: hq
        aliases: {h3yun: 6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40, eoffice: WV00000418}
    apps:
      - key: app1
    forms:
      - key: orders
        app: app1
        aliases: {h3yun: D000123orders}
        fields:
          - {field: x, type: input}
`

// YAML aliases (issue 11 #6): seeded through core/alias for users,
// departments and forms, resolvable both ways; a second start changes
// nothing; an alias already bound to another entity stops the start-up with
// a message naming the entry.
func TestSeedAliases(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Parse("aliases.yaml", []byte(aliasSeedYAML), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := record.New(st, record.Options{})
	for range 2 { // idempotent on re-seed
		if err := seedTenants(ctx, st, rec, cfg.Tenants); err != nil {
			t.Fatal(err)
		}
	}
	al := alias.New(st)
	for _, c := range []struct{ ns, kind, ext, id string }{
		{"h3yun", "user", "6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40", seedID("user", "t1", "alice")},
		{"eoffice", "user", "WV00000418", seedID("user", "t1", "alice")},
		{"h3yun", "department", "6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40", seedID("department", "t1", "hq")},
		{"eoffice", "department", "10", seedID("department", "t1", "hq")},
		{"h3yun", "form", "D000123orders", seedID("form", "t1", "orders")},
	} {
		hub, err := al.ToHub(ctx, "t1", c.ns, c.kind, []string{c.ext})
		if err != nil || hub[c.ext] != c.id {
			t.Errorf("%s %s %s → %v, %v; want %s", c.ns, c.kind, c.ext, hub, err, c.id)
		}
		ext, err := al.ToExt(ctx, "t1", c.ns, c.kind, []string{c.id})
		if err != nil || ext[c.id] != c.ext {
			t.Errorf("%s %s %s → %v, %v; want %s", c.ns, c.kind, c.id, ext, err, c.ext)
		}
	}
	if other, err := al.ToHub(ctx, "t2", "eoffice", "user", []string{"WV00000418"}); err != nil || len(other) != 0 {
		t.Errorf("another tenant resolves = %v, %v", other, err)
	}

	// A connector allocated WV00000419 to another user; the file now gives it
	// to alice (who already has WV00000418): refused, nothing changed.
	if err := al.Set(ctx, "t1", "eoffice", "user", "WV00000419", "someone-else"); err != nil {
		t.Fatal(err)
	}
	cfg.Tenants[0].Users[0].Aliases["eoffice"] = "WV00000419"
	err = seedTenants(ctx, st, rec, cfg.Tenants)
	if errs.CodeOf(err) != errs.Conflict || !strings.Contains(err.Error(), `user alice: aliases.eoffice "WV00000419"`) {
		t.Fatalf("conflicting alias: %v", err)
	}
	if ext, _ := al.ToExt(ctx, "t1", "eoffice", "user", []string{seedID("user", "t1", "alice")}); ext[seedID("user", "t1", "alice")] != "WV00000418" {
		t.Errorf("alice's alias changed: %v", ext)
	}
}
