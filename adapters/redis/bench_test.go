package redis

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/eimshub/eimshub/adapters/redis/redistest"
	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/limits"
)

// The hot path of one authenticated request costs the token's revocation
// check (identity.Authenticate: one MGet of "rvj:<jti>" and
// "rvu:<tenant>:<user>") plus one limiter check. These benchmarks measure
// each against a real redis-server; compare with core/limits'
// BenchmarkAllowMemory. Run: go test -run '^$' -bench . ./adapters/redis/

const benchClients = 64

func BenchmarkAllowRedis(b *testing.B) {
	srv := redistest.Start(b)
	l := newLimits(b, NewLimiterStore(open(b, srv), WithLogger(quiet)), limits.Config{DefaultRate: "1000000000-S"})
	keys := make([]limits.Key, benchClients)
	for i := range keys {
		keys[i] = limits.Key{Kind: limits.API, Tenant: "t", Client: "client-" + strconv.Itoa(i)}
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// tokenKeys are the revocation keys of benchClients distinct tokens.
func tokenKeys() [][]string {
	ks := make([][]string, benchClients)
	for i := range ks {
		ks[i] = []string{"rvj:jti-" + strconv.Itoa(i), "rvu:t:user-" + strconv.Itoa(i)}
	}
	return ks
}

func benchTokenCheck(b *testing.B, c cache.Cache) {
	ks := tokenKeys()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.MGet(ctx, ks[i%len(ks)]...); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkTokenCheckDirect is the revocation check straight on Redis: one
// round trip per request.
func BenchmarkTokenCheckDirect(b *testing.B) {
	srv := redistest.Start(b)
	benchTokenCheck(b, NewCache(open(b, srv), WithLogger(quiet)))
}

// BenchmarkTokenCheckNear is the same check through the near cache (1 s):
// a round trip per token per second, local otherwise.
func BenchmarkTokenCheckNear(b *testing.B) {
	srv := redistest.Start(b)
	benchTokenCheck(b, cache.NewNear(NewCache(open(b, srv), WithLogger(quiet)), time.Second, revocationPrefixes...))
}

// BenchmarkHotPathRedis is one request's whole budget with Redis: the
// token check through the near cache plus the limiter's round trip.
func BenchmarkHotPathRedis(b *testing.B) {
	srv := redistest.Start(b)
	client := open(b, srv)
	c := cache.NewNear(NewCache(client, WithLogger(quiet)), time.Second, revocationPrefixes...)
	l := newLimits(b, NewLimiterStore(client, WithLogger(quiet)), limits.Config{DefaultRate: "1000000000-S"})
	ks := tokenKeys()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			j := i % benchClients
			if _, err := c.MGet(ctx, ks[j]...); err != nil {
				b.Fatal(err)
			}
			if _, err := l.Allow(ctx, limits.Key{Kind: limits.API, Tenant: "t", Client: "client-" + strconv.Itoa(j)}); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
