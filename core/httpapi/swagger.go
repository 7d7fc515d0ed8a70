package httpapi

import (
	"embed"
	"encoding/json"
	"regexp"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// swaggerFS holds the hand-written OpenAPI 3.1 document and the
// self-contained browser UI (no CDN: plain HTML+JS that fetches the
// document and renders it), spec §8 "/swagger". swagger_test.go checks that
// every API route is documented.
//
//go:embed swagger/openapi.json swagger/index.html
var swaggerFS embed.FS

func mustSwaggerFile(name string) []byte {
	b, err := swaggerFS.ReadFile(name)
	if err != nil {
		panic("httpapi: embedded " + name + " missing: " + err.Error())
	}
	return b
}

var (
	openAPIDoc = mustSwaggerFile("swagger/openapi.json")
	swaggerUI  = mustSwaggerFile("swagger/index.html")
)

// bindSwagger serves GET /swagger (the UI) and GET /swagger/v1/swagger.json
// (the document), both anonymous (§1.3).
func bindSwagger(r fiber.Router, prefixes []string) {
	ui := func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		return c.Send(swaggerUI)
	}
	r.Get("/swagger", ui)
	r.Get("/swagger/index.html", ui)
	var (
		once sync.Once
		doc  []byte
	)
	r.Get("/swagger/v1/swagger.json", func(c *fiber.Ctx) error {
		// Built on first use: connectors mount their routes after New.
		once.Do(func() { doc = withServedRoutes(openAPIDoc, c.App().GetRoutes(true), prefixes) })
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(doc)
	})
}

var (
	routeParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)
	paramShape = regexp.MustCompile(`\{[^}]*\}`)
)

// pathShape is an OpenAPI path with its parameter names erased.
func pathShape(p string) string { return paramShape.ReplaceAllString(p, "{}") }

// openAPIPath turns a Fiber route path into an OpenAPI path template
// ("/api/v1/:entity" → "/api/v1/{entity}", "/x/*" → "/x/{path}").
func openAPIPath(p string) string {
	p = routeParam.ReplaceAllString(p, "{$1}")
	return strings.ReplaceAll(p, "*", "{path}")
}

// withServedRoutes adds to doc every route the app serves that the
// hand-written document does not describe — the routes connector plugins
// mount — tagged "connectors", so /swagger lists every route. Routes under
// a native path prefix whose unprefixed path is documented are the same
// API and are not repeated. On any decoding problem doc is returned as is.
func withServedRoutes(doc []byte, routes []fiber.Route, prefixes []string) []byte {
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		return doc
	}
	paths, _ := d["paths"].(map[string]any)
	if paths == nil {
		return doc
	}
	byShape := map[string]map[string]any{} // "/api/v1/{}" → path item (parameter names differ)
	for p, v := range paths {
		if item, ok := v.(map[string]any); ok {
			byShape[pathShape(p)] = item
		}
	}
	documented := func(p, method string) bool {
		item, ok := byShape[pathShape(p)]
		if !ok {
			return false
		}
		_, ok = item[strings.ToLower(method)]
		return ok || method == fiber.MethodHead
	}
	added := false
	for _, rt := range routes {
		p := openAPIPath(rt.Path)
		if rt.Path == "/" || documented(p, rt.Method) {
			continue
		}
		prefixed := false
		for _, pre := range prefixes {
			if pre = normalizePrefix(pre); pre != "" && strings.HasPrefix(p, pre+"/") && documented(strings.TrimPrefix(p, pre), rt.Method) {
				prefixed = true
			}
		}
		if prefixed || strings.HasPrefix(p, "/swagger") {
			continue
		}
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		item[strings.ToLower(rt.Method)] = map[string]any{
			"tags":      []string{"connectors"},
			"summary":   "Served by a connector plugin: its own request and answer shapes (GET /admin/connectors lists the connectors and their routes)",
			"responses": map[string]any{"default": map[string]any{"description": "the connector's answer, in its own envelope"}},
		}
		added = true
	}
	if !added {
		return doc
	}
	out, err := marshalJSON(d)
	if err != nil {
		return doc
	}
	return out
}
