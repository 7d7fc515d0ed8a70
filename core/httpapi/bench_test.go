package httpapi

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// The native baseline: GET /api/v1/ping through the whole middleware chain
// (request id, metrics, request log to a discarding handler).

func benchApp() *fiber.App {
	return New(Deps{Logger: slog.New(slog.DiscardHandler)})
}

// BenchmarkPing/handler calls the app's fasthttp handler directly (no
// network, no HTTP parsing); /inmemory goes through an in-memory listener
// and a fasthttp client (full HTTP/1.1 round trip, keep-alive); /apptest
// uses fiber's app.Test (one connection per request: mostly test overhead).
func BenchmarkPing(b *testing.B) {
	b.Run("handler", func(b *testing.B) {
		h := benchApp().Handler()
		var ctx fasthttp.RequestCtx
		b.ReportAllocs()
		for b.Loop() {
			ctx.Request.Reset()
			ctx.Response.Reset()
			ctx.Request.Header.SetMethod(fasthttp.MethodGet)
			ctx.Request.SetRequestURI("/api/v1/ping")
			h(&ctx)
			if ctx.Response.StatusCode() != 200 {
				b.Fatalf("status %d", ctx.Response.StatusCode())
			}
		}
	})

	b.Run("inmemory", func(b *testing.B) {
		app := benchApp()
		ln := fasthttputil.NewInmemoryListener()
		done := make(chan error, 1)
		go func() { done <- app.Listener(ln) }()
		defer func() {
			_ = app.Shutdown()
			_ = ln.Close()
			<-done
		}()
		client := &fasthttp.HostClient{Addr: "hub", Dial: func(string) (net.Conn, error) { return ln.Dial() }}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://hub/api/v1/ping")
			for pb.Next() {
				if err := client.Do(req, resp); err != nil {
					b.Error(err)
					return
				}
				if resp.StatusCode() != 200 {
					b.Errorf("status %d", resp.StatusCode())
					return
				}
			}
		})
	})

	b.Run("apptest", func(b *testing.B) {
		app := benchApp()
		b.ReportAllocs()
		for b.Loop() {
			resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/ping", nil), -1)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
