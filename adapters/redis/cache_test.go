package redis

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/cache/cachetest"
	"github.com/eimshub/eimshub/core/errs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// open returns a client from Open (the production settings) closed at cleanup.
func open(t testing.TB, srv *redistest.Server) *redis.Client {
	t.Helper()
	c, err := Open(context.Background(), srv.URL())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	client := open(t, srv)
	// Keys are unique per subtest, so one server serves the whole suite.
	cachetest.Run(t, func(t *testing.T) cache.Cache { return NewCache(client, WithLogger(quiet)) })
}

func TestConformanceWithKeyPrefix(t *testing.T) {
	srv := redistest.Start(t)
	client := open(t, srv)
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		return NewCache(client, WithLogger(quiet), WithKeyPrefix("eimshub:"))
	})
	// The prefix is really applied on the server.
	ctx := context.Background()
	c := NewCache(client, WithKeyPrefix("eimshub:"))
	if err := c.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := client.Get(ctx, "eimshub:k").Result(); err != nil || v != "v" {
		t.Fatalf("raw GET eimshub:k = %q, %v; want v", v, err)
	}
}

// The near cache keeps the port's contract over Redis too.
func TestNearConformance(t *testing.T) {
	srv := redistest.Start(t)
	client := open(t, srv)
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		return cache.NewNear(NewCache(client, WithLogger(quiet)), 100*time.Millisecond, "cachetest:")
	})
}

func TestIncrOfTextIsConflict(t *testing.T) {
	srv := redistest.Start(t)
	c := NewCache(open(t, srv), WithLogger(quiet))
	ctx := context.Background()
	if err := c.Set(ctx, "txt", []byte("abc"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Incr(ctx, "txt", time.Minute); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("Incr of text = %v; want errs.Conflict", err)
	}
}

func TestMapErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want errs.Code
	}{
		{"nil reply", redis.Nil, errs.NotFound},
		{"closed client", redis.ErrClosed, errs.Unavailable},
		{"pool timeout", redis.ErrPoolTimeout, errs.Unavailable},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, errs.Unavailable},
		{"eof", io.EOF, errs.Unavailable},
		{"cancelled", context.Canceled, errs.Unavailable},
		{"deadline", context.DeadlineExceeded, errs.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapErr("get", tt.err)
			if errs.CodeOf(got) != tt.want {
				t.Fatalf("mapErr(%v) = %v; want code %v", tt.err, got, tt.want)
			}
			if tt.want != errs.NotFound && !errors.Is(got, tt.err) {
				t.Fatalf("mapErr(%v) = %v; the cause is lost", tt.err, got)
			}
		})
	}
	if mapErr("get", nil) != nil {
		t.Fatal("mapErr(nil) != nil")
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "http://nope"); errs.CodeOf(err) != errs.Invalid {
		t.Fatalf("Open(bad URL) = %v; want errs.Invalid", err)
	}
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Kill()
	if _, err := Open(ctx, url); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("Open(dead server) = %v; want errs.Unavailable", err)
	}
	srv.Restart()
	c, err := Open(ctx, url)
	if err != nil {
		t.Fatalf("Open after restart: %v", err)
	}
	defer c.Close()
	o := c.Options()
	if o.DialTimeout != DialTimeout || o.ReadTimeout != ReadTimeout || o.WriteTimeout != WriteTimeout || o.PoolTimeout != PoolTimeout {
		t.Fatalf("timeouts = %v/%v/%v/%v; want the short defaults", o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout)
	}
	// URL options win over the defaults.
	c2, err := Open(ctx, url+"?dial_timeout=1s&read_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Options().DialTimeout != time.Second || c2.Options().ReadTimeout != 2*time.Second {
		t.Fatalf("URL timeouts not honoured: %v/%v", c2.Options().DialTimeout, c2.Options().ReadTimeout)
	}
}

// eventually polls fn until it returns nil, failing after a generous deadline.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With Redis killed every call fails with errs.Unavailable, the breaker
// opens so later calls fail fast, and after a restart the cache recovers
// by itself (the Incr script is reloaded on the new server too).
func TestKillAndRestart(t *testing.T) {
	srv := redistest.Start(t)
	client := open(t, srv)
	const threshold = 3
	c := NewCache(client, WithLogger(quiet), WithBreaker(threshold, 100*time.Millisecond))
	ctx := context.Background()
	if _, err := c.Incr(ctx, "n", time.Minute); err != nil {
		t.Fatal(err)
	}

	srv.Kill()
	calls := map[string]func() error{
		"Get":   func() error { _, err := c.Get(ctx, "k"); return err },
		"MGet":  func() error { _, err := c.MGet(ctx, "a", "b"); return err },
		"Set":   func() error { return c.Set(ctx, "k", []byte("v"), time.Minute) },
		"SetNX": func() error { _, err := c.SetNX(ctx, "k", []byte("v"), time.Minute); return err },
		"Take":  func() error { _, err := c.Take(ctx, "k"); return err },
		"Del":   func() error { return c.Del(ctx, "k") },
		"Incr":  func() error { _, err := c.Incr(ctx, "n", time.Minute); return err },
		"Ping":  func() error { return c.Ping(ctx) },
	}
	for range 25 {
		for name, call := range calls {
			if err := call(); errs.CodeOf(err) != errs.Unavailable {
				t.Fatalf("%s with Redis killed = %v; want errs.Unavailable", name, err)
			}
		}
	}
	if !c.br.open() {
		t.Fatal("breaker still closed after 200 consecutive failures")
	}

	srv.Restart()
	eventually(t, "Ping after restart", func() error { return c.Ping(ctx) })
	if c.br.open() {
		t.Fatal("breaker still open after a successful call")
	}
	if err := c.Set(ctx, "k", []byte("back"), time.Minute); err != nil {
		t.Fatalf("Set after recovery: %v", err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || string(v) != "back" {
		t.Fatalf("Get after recovery = %q, %v", v, err)
	}
	// The new server has an empty script cache: EVALSHA falls back to EVAL.
	if n, err := c.Incr(ctx, "n", time.Minute); err != nil || n != 1 {
		t.Fatalf("Incr after restart = %d, %v; want 1 (fresh server), nil", n, err)
	}
}

func TestBreaker(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBreaker(2, time.Second, quiet)
	b.now = func() time.Time { return now }

	mustAllow := func(want, wantProbe bool) {
		t.Helper()
		ok, probe := b.allow()
		if ok != want || probe != wantProbe {
			t.Fatalf("allow = %v, probe %v; want %v, %v", ok, probe, want, wantProbe)
		}
	}
	mustAllow(true, false)
	b.failure(false)
	mustAllow(true, false) // one failure: still closed
	b.success(false)       // success resets the count
	b.failure(false)
	mustAllow(true, false)
	b.failure(false) // second consecutive failure: open
	mustAllow(false, false)

	now = now.Add(time.Second) // cool-down over: one probe, others still fail fast
	mustAllow(true, true)
	mustAllow(false, false)
	b.failure(true) // failed probe: open for another cool-down
	mustAllow(false, false)
	now = now.Add(time.Second)
	mustAllow(true, true)
	b.abandon(true) // caller gave up: the probe slot is free again
	mustAllow(true, true)
	b.success(true) // probe succeeded: closed
	mustAllow(true, false)
	mustAllow(true, false)
	if b.open() {
		t.Fatal("breaker open after a successful probe")
	}
}
