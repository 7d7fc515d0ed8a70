package httpapi

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
)

// BenchmarkEntityRead measures the native read routes' own work — the
// entity service on the real embedded store and the answer's encoding —
// without the network, authentication or the limiter (bench/load measures
// the whole hub): GET /api/v1/contract/{id} and the 50-row page of the
// load benchmark (61 records of the example config's contract form).
func BenchmarkEntityRead(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "hub.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	op := map[string]any{"id": "system"}
	form := store.Doc{"id": "f_c", "corpId": "t1", "appId": "a_1", "name": "Contract", "key": "contract",
		"createBy": op, "updateBy": op, "createTime": int64(1), "updateTime": int64(1),
		"content": map[string]any{"items": []any{
			map[string]any{"field": "title", "type": "input", "title": "Title", "required": true},
			map[string]any{"field": "party", "type": "input", "title": "Party"},
			map[string]any{"field": "amount", "type": "number", "title": "Amount"},
			map[string]any{"field": "signed_at", "type": "timestamp", "title": "Signed at"},
			map[string]any{"field": "files", "type": "fileupload", "title": "Attachments"},
		}}}
	if err := st.Insert(ctx, "form", form); err != nil {
		b.Fatal(err)
	}
	rec := record.New(st, record.Options{})
	f, err := rec.FormByKey(ctx, "t1", "contract")
	if err != nil {
		b.Fatal(err)
	}
	rec.FormSaved(ctx, "t1", f) // its indexes, as the seeder and the form routes declare them
	svc := entity.New(st, entity.Options{Records: rec})
	admin := &principal.Principal{Tenant: "t1", UserID: "u_1", UserCode: "admin", DisplayName: "Admin", Roles: []string{"admin"}}
	var first string
	for i := 0; i <= 60; i++ {
		out, err := svc.Create(ctx, admin, "contract", map[string]any{"title": fmt.Sprintf("r%d", i), "party": "ACME", "amount": i})
		if err != nil {
			b.Fatal(err)
		}
		if first == "" {
			first = out["id"].(string)
		}
	}
	app := fiber.New(fiber.Config{JSONEncoder: marshalJSON, ErrorHandler: entErrorHandler})
	bindEntityRoutes(app.Group("/api/v1", func(c *fiber.Ctx) error {
		c.SetUserContext(principal.With(c.UserContext(), admin))
		return c.Next()
	}), &Deps{Entities: svc})
	h := app.Handler()
	for _, c := range []struct{ name, uri string }{
		{"get", "/api/v1/contract/" + first},
		{"page50", "/api/v1/contract?$top=50&$orderby=data/amount%20desc"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var rc fasthttp.RequestCtx
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				rc.Request.Reset()
				rc.Response.Reset()
				rc.Request.Header.SetMethod(fasthttp.MethodGet)
				rc.Request.SetRequestURI(c.uri)
				h(&rc)
				if rc.Response.StatusCode() != 200 {
					b.Fatalf("status %d: %s", rc.Response.StatusCode(), rc.Response.Body())
				}
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time (user + system) the test process has used: on
// a machine shared with other work, CPU per operation is steadier than the
// wall time per operation.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
