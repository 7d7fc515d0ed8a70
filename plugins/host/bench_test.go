package host_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/example"
	"github.com/eimshub/eimshub/plugins/sdk/example/exampletest"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
	"github.com/gofiber/fiber/v2"
)

// countingCore counts Host API calls (each one is a round trip back from
// the plugin when it runs out of process).
type countingCore struct {
	sdk.Host
	calls atomic.Int64
}

func (c *countingCore) GetRecord(ctx context.Context, p *sdk.Principal, form, id string, opts ...sdk.ReadOption) (sdk.Doc, error) {
	c.calls.Add(1)
	return c.Host.GetRecord(ctx, p, form, id, opts...)
}

// BenchmarkRoute compares the same routes served natively by Fiber, by the
// example connector in-process, and through a real plugin process:
//   - ping: no host call (one round trip out of process: Handle);
//   - record: one Host.GetRecord (two: Handle there, GetRecord back).
//
// Requests run concurrently (RunParallel). Metrics: req/s, p50/p99
// latency in µs, plugin round trips per request.
func BenchmarkRoute(b *testing.B) {
	mem := sdktest.NewMemHost()
	token := exampletest.Seed(mem)
	core := &countingCore{Host: mem}
	p := exampletest.User

	type mode struct {
		name string
		app  *fiber.App
		hop  int // plugin round trips per Handle
	}
	var modes []mode
	native := fiber.New()
	native.Get("/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	native.Get("/records/:form/:id", func(c *fiber.Ctx) error {
		rec, err := core.GetRecord(c.UserContext(), &p, c.Params("form"), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ok": true, "result": rec})
	})
	modes = append(modes, mode{"native", native, 0})
	for _, iso := range []host.Isolation{host.InProc, host.Process} {
		m, err := host.New([]host.Config{{ID: example.ID, Enabled: true, Isolation: iso, MaxInFlight: 1024}}, core,
			host.Options{SelfCommand: selfCommand("example"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		m.Start(context.Background())
		defer m.Close(context.Background())
		app := fiber.New()
		m.Mount(app, host.Auth{Bearer: authenticate(mem)}, nil)
		hop := 0
		if iso == host.Process {
			hop = 1
		}
		modes = append(modes, mode{string(iso), app, hop})
	}

	for _, route := range []struct{ name, target string }{{"ping", "/ping"}, {"record", "/records/orders/r1"}} {
		for _, md := range modes {
			b.Run(fmt.Sprintf("%s/%s", route.name, md.name), func(b *testing.B) {
				var mu sync.Mutex
				lat := make([]time.Duration, 0, b.N)
				before := core.calls.Load()
				b.SetParallelism(4) // 4×GOMAXPROCS concurrent callers
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					local := make([]time.Duration, 0, 1024)
					for pb.Next() {
						req := httptest.NewRequest("GET", route.target, nil)
						req.Header.Set("Authorization", "Bearer "+token)
						t0 := time.Now()
						resp, err := md.app.Test(req, -1)
						if err != nil || resp.StatusCode != 200 {
							b.Errorf("status %v, err %v", resp.StatusCode, err)
							return
						}
						local = append(local, time.Since(t0))
					}
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				})
				elapsed := time.Since(start)
				b.StopTimer()
				slices.Sort(lat)
				hostCalls := float64(core.calls.Load()-before) / float64(b.N)
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(md.hop)*(1+hostCalls), "roundtrips/op")
			})
		}
	}
}
