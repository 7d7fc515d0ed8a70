package eoffice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/eimshub/eimshub/connectors/eoffice"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// BenchmarkEOffice measures get-token and a 20-row user list (the SDK's
// form-encoded request with a nested search and paging) with the
// connector in process and in a plugin process, against the seeded
// MemHost (the connector and the plugin hop, not a store). A MemHost
// resolves tokens with the hub's own core/dialecttoken on an in-memory
// cache.
//
//	go test ./connectors/eoffice -run X -bench EOffice
func BenchmarkEOffice(b *testing.B) {
	mem := newHost()
	ctx := context.Background()
	admin := &sdk.Principal{Tenant: tenant, UserID: "u-admin", Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}, ClientID: "demo-eoffice"}
	for i := range 40 {
		if _, err := mem.EntityCreate(ctx, admin, "user", sdk.Doc{"userName": fmt.Sprint("user", i), "empName": fmt.Sprint("员工", i),
			"departmentId": "d-rd", "status": int64(0), "roles": []any{}}); err != nil {
			b.Fatal(err)
		}
	}
	inproc := eoffice.New()
	if err := inproc.(sdk.Configurer).Configure(goldenConfig); err != nil {
		b.Fatal(err)
	}
	plug := startPlugin(b, goldenConfig)
	getToken := func() *sdk.Request {
		return &sdk.Request{Method: "POST", Path: mount + "/api/open-api/get-token", Route: mount + "/api/*",
			Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer "}},
			Body:    []byte("agent_id=100001&secret=" + appSecret + "&user=admin"), Query: url.Values{}, RequestID: "bench"}
	}
	resp, err := inproc.Handle(ctx, getToken(), mem)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct{ Data struct{ Token string } }
	if err := json.Unmarshal(resp.Body, &tok); err != nil || tok.Data.Token == "" {
		b.Fatalf("get-token: %s", resp.Body)
	}
	userList := func() *sdk.Request {
		return &sdk.Request{Method: "POST", Path: mount + "/api/user/users", Route: mount + "/api/*",
			Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Bearer " + tok.Data.Token}},
			Body:    []byte("autoFixPage=1&limit=20&order_by=%5B%5D&page=1&search%5Buser_name%5D%5B0%5D=%E5%91%98&search%5Buser_name%5D%5B1%5D=like"),
			Query:   url.Values{}, RequestID: "bench"}
	}
	for name, mk := range map[string]func() *sdk.Request{"get-token": getToken, "user-list-20": userList} {
		for _, mode := range []string{"inproc", "plugin"} {
			var c sdk.Connector = inproc
			if mode == "plugin" {
				c = plug
			}
			b.Run(name+"/"+mode, func(b *testing.B) {
				req := mk()
				for b.Loop() {
					resp, err := c.Handle(ctx, req, mem)
					if err != nil || resp.Status != 200 || resp.Body[10] != '1' {
						b.Fatalf("%v %v", resp, err)
					}
				}
			})
		}
	}
	b.Run("user-list-20/direct", func(b *testing.B) {
		// The Host calls alone: resolve the token, one page of users, the
		// directory for the rows, the aliases.
		for b.Loop() {
			dt, _ := mem.ResolveDialectToken(ctx, eoffice.TokenSpec, tok.Data.Token, "")
			_, _ = mem.FindUsers(ctx, dt.Principal, sdk.Query{Limit: 20, Filter: sdk.Str{Path: sdk.Path{"empName"}, Fn: sdk.Contains, Value: "员"}}, true)
			_, _ = mem.FindDepartments(ctx, dt.Principal, sdk.Query{Limit: -1}, false)
			_, _ = mem.FindRoles(ctx, dt.Principal, sdk.Query{Limit: -1}, false)
		}
	})
}
