// Package cache declares the key/value-with-TTL port that holds the hub's
// short-lived shared state: refresh-token families, revocations, SMS codes,
// brute-force counters. adapters/memory implements it in process (the embedded
// default); adapters/redis implements it on Redis so that several hub
// instances share it. Its behaviour is pinned by core/cache/cachetest.
package cache

import (
	"context"
	"time"
)

// Cache is a key/value store with expiry. Keys are opaque strings chosen by
// core packages (namespaced, e.g. "rt:<hash>"). A ttl <= 0 means no expiry.
type Cache interface {
	// Get returns the value of key; errs.NotFound when absent or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// MGet returns the values of keys in order, nil for each absent key, in
	// one round trip.
	MGet(ctx context.Context, keys ...string) ([][]byte, error)
	// Set stores val under key with ttl, replacing any value.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// SetNX stores val only when key is absent; it reports whether it did.
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	// Take atomically returns and deletes key's value (one-time use);
	// errs.NotFound when absent. Of two concurrent Takes exactly one succeeds.
	Take(ctx context.Context, key string) ([]byte, error)
	// Del deletes keys; absent keys are ignored.
	Del(ctx context.Context, keys ...string) error
	// Incr adds 1 to the integer at key and returns the new value; a key that
	// did not exist starts at 0 and gets ttl.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Ping reports whether the cache is reachable.
	Ping(ctx context.Context) error
}
