package redis

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/eimshub/eimshub/core/errs"
)

// Client timeouts Open applies unless the URL sets its own (dial_timeout,
// read_timeout, write_timeout, pool_timeout query parameters). They are
// short on purpose: with Redis down a request must not wait seconds.
const (
	DialTimeout  = 200 * time.Millisecond
	ReadTimeout  = 300 * time.Millisecond
	WriteTimeout = 300 * time.Millisecond
	PoolTimeout  = 300 * time.Millisecond
)

// Open returns a client for a redis:// or rediss:// URL
// (redis://[user:password@]host:port/db?options) with short timeouts, one
// retry (so a connection broken by a Redis restart is replaced
// transparently) and a single dial attempt per call (go-redis's default of
// five dial attempts would multiply the cost of a dead server). It pings
// the server with ctx: an unreachable server is errs.Unavailable and a bad
// URL errs.Invalid (the URL, which may hold a password, is never in the
// message). Close the client when done.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, errs.New(errs.Invalid, "invalid Redis URL (want redis://[user:password@]host:port/db)").
			WithTarget("cache.url")
	}
	applyDefaults(opt)
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, errs.Wrap(errs.Unavailable, err, "redis at "+opt.Addr+" is not reachable")
	}
	return c, nil
}

func applyDefaults(opt *redis.Options) {
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = ReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = WriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = PoolTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 1
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = 1
		opt.DialerRetryTimeout = 10 * time.Millisecond
	}
	// Honour callers' deadlines too.
	opt.ContextTimeoutEnabled = true
	// No CLIENT MAINT_NOTIFICATIONS handshake on every new connection.
	if opt.MaintNotificationsConfig == nil {
		opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
}
