package host

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestPatternsMatchLikeFiber: compilePattern agrees with Fiber's router
// (case-insensitive, trailing slash ignored, as the hub configures it) on
// the route shapes connectors declare.
func TestPatternsMatchLikeFiber(t *testing.T) {
	patterns := []string{
		"/OpenApi/Invoke", "/eoffice10/server/public/api/*", "/forms/:key", "/records/:form/:id", "/opt/:a?",
		"/p/+", "/x/:a-:b", "/w/*/z", "/ex/files", "/a.b/:c.:d", "/",
	}
	paths := []string{
		"/", "/openapi/invoke", "/OPENAPI/INVOKE/", "/OpenApi/Invoke/x", "/OpenApi", "/OpenApiXInvoke",
		"/eoffice10/server/public/api", "/eoffice10/server/public/api/", "/EOFFICE10/server/public/api/user/users",
		"/eoffice10/server/public/apix", "/eoffice10/server/public",
		"/forms", "/forms/", "/forms/a", "/forms/a/", "/forms/a/b", "/records/f", "/records/f/1", "/records/f/1/x",
		"/opt", "/opt/", "/opt/1", "/opt/1/2", "/p", "/p/", "/p/1", "/p/1/2", "/x/1-2", "/x/1", "/x/-",
		"/w/z", "/w/a/z", "/w/a/b/z", "/ex/files", "/ex/files//", "/a.b/c.d", "/aXb/c.d", "/a.b/cd",
	}
	for _, pat := range patterns {
		app := fiber.New(fiber.Config{CaseSensitive: false, StrictRouting: false})
		app.Get(pat, func(c *fiber.Ctx) error { return c.SendStatus(299) })
		p := compilePattern(pat)
		for _, path := range paths {
			res, err := app.Test(httptest.NewRequest("GET", path, nil))
			if err != nil {
				t.Fatal(err)
			}
			if fiberMatch, ours := res.StatusCode == 299, p.match(normalizePath(path)); fiberMatch != ours {
				t.Errorf("%s on %s: Fiber %v, compilePattern %v", pat, path, fiberMatch, ours)
			}
		}
	}
}
