package httpapi

import (
	"embed"

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
func bindSwagger(r fiber.Router) {
	ui := func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
		return c.Send(swaggerUI)
	}
	r.Get("/swagger", ui)
	r.Get("/swagger/index.html", ui)
	r.Get("/swagger/v1/swagger.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(openAPIDoc)
	})
}
