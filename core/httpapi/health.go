package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// readyTimeout bounds each Checker.Ping of /readyz.
const readyTimeout = 2 * time.Second

var statusOK = []byte("{\"status\":\"ok\"}\n")

// livenessHandler serves /health (§1.1): the process is up.
func livenessHandler(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(statusOK)
}

// healthzHandler serves /healthz: the process is up, and its version
// ({"status":"ok","version":"v0.3.0-4-gabc1234"}).
func healthzHandler(version string) fiber.Handler {
	if version == "" {
		version = "dev"
	}
	b, err := marshalJSON(map[string]string{"status": "ok", "version": version})
	if err != nil {
		panic("httpapi: healthz body: " + err.Error())
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(b)
	}
}

// pingHandler serves GET /api/v1/ping (anonymous, §1.1):
// {"status":"ok","time":<epoch ms>}, encoded by hand (it is the hot baseline).
func pingHandler(c *fiber.Ctx) error {
	b := make([]byte, 0, 48)
	b = append(b, `{"status":"ok","time":`...)
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 10)
	b = append(b, '}', '\n')
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}

// readyBody is the /readyz answer: each checker's state, and the failed
// names (sorted) when there are any. Error texts are logged, not sent.
type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	Failed []string          `json:"failed,omitempty"`
	// Degraded names the failing optional checkers (OptionalChecker).
	Degraded []string `json:"degraded,omitempty"`
}

// readinessHandler serves /readyz: every Deps.Ready checker pinged
// concurrently, each bounded by timeout; 200 when all answer (or only
// optional ones fail), else 503.
func readinessHandler(checkers map[string]Checker, timeout time.Duration, logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		ctx, cancel := context.WithTimeout(c.UserContext(), timeout)
		defer cancel()
		body := readyBody{Status: "ok", Checks: make(map[string]string, len(checkers))}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, ch := range checkers {
			wg.Go(func() {
				err := pingChecker(ctx, ch)
				mu.Lock()
				defer mu.Unlock()
				if oc, ok := ch.(OptionalChecker); ok && err != nil && oc.Optional() {
					body.Checks[name] = "degraded"
					body.Degraded = append(body.Degraded, name)
					logger.WarnContext(ctx, "readiness check failed (optional: still ready)", "check", name, "err", err)
					return
				}
				if err != nil {
					body.Checks[name] = "fail"
					body.Failed = append(body.Failed, name)
					logger.WarnContext(ctx, "readiness check failed", "check", name, "err", err)
					return
				}
				body.Checks[name] = "ok"
			})
		}
		wg.Wait()
		slices.Sort(body.Degraded)
		if len(body.Failed) > 0 {
			slices.Sort(body.Failed)
			body.Status = "unavailable"
			return c.Status(fiber.StatusServiceUnavailable).JSON(body)
		}
		return c.JSON(body)
	}
}

// pingChecker pings ch, returning ctx's error when the ping outlives it
// (a checker that ignores its context must not hold /readyz).
func pingChecker(ctx context.Context, ch Checker) error {
	if ch == nil {
		return errors.New("checker not configured")
	}
	done := make(chan error, 1)
	go func() { done <- ch.Ping(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
