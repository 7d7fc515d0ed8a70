package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestSwaggerDocumentsEveryRoute: every route New serves is in the
// hand-written document (a new native route without documentation fails
// here), and a route mounted later (a connector's) appears in the served
// document, tagged "connectors"; /admin/connectors is documented.
func TestSwaggerDocumentsEveryRoute(t *testing.T) {
	var static map[string]any
	if err := json.Unmarshal(openAPIDoc, &static); err != nil {
		t.Fatal(err)
	}
	paths := map[string]any{}
	for p, v := range static["paths"].(map[string]any) {
		paths[pathShape(p)] = v
	}
	app, _ := newTestApp(t, func(d *Deps) { d.Options.PathPrefixes = []string{"/jlauth"} })
	for _, rt := range app.GetRoutes(true) {
		p := openAPIPath(rt.Path)
		if rt.Method == fiber.MethodHead || rt.Path == "/" || strings.HasPrefix(p, "/jlauth/") || p == "/swagger/index.html" {
			continue
		}
		item, ok := paths[pathShape(p)].(map[string]any)
		if _, has := item[strings.ToLower(rt.Method)]; !ok || !has {
			t.Errorf("%s %s (%s) is served but not in swagger/openapi.json", rt.Method, rt.Path, p)
		}
	}
	if _, ok := paths["/admin/connectors"].(map[string]any)["get"]; !ok {
		t.Error("/admin/connectors is not documented")
	}

	// A connector mounts its routes after New.
	app.Post("/OpenApi/Invoke", func(c *fiber.Ctx) error { return nil })
	app.Get("/dabei/api/:id", func(c *fiber.Ctx) error { return nil })
	var served map[string]any
	if err := json.Unmarshal(get(t, app, "/swagger/v1/swagger.json").body, &served); err != nil {
		t.Fatal(err)
	}
	sp := served["paths"].(map[string]any)
	for p, m := range map[string]string{"/OpenApi/Invoke": "post", "/dabei/api/{id}": "get"} {
		op, _ := sp[p].(map[string]any)[m].(map[string]any)
		if tags, _ := op["tags"].([]any); len(tags) != 1 || tags[0] != "connectors" {
			t.Errorf("connector route %s %s not in the served document: %v", m, p, sp[p])
		}
	}
	if _, ok := sp["/jlauth/api/v1/{entityName}"]; ok {
		t.Error("prefixed copies of the native API listed as extra routes")
	}
}
