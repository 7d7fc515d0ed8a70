package host

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/gofiber/fiber/v2"
)

// ClientVerifier checks a hub client's id and secret (the secret compared
// with its stored hash in constant time) and returns the principal the
// client acts as; Unauthorized for an unknown client, a wrong secret or a
// disabled client. core/identity's Service implements it.
type ClientVerifier interface {
	VerifyClient(ctx context.Context, clientID, secret string) (*principal.Principal, error)
}

// FailureLimiter throttles failed credential checks per source IP, so that
// guessing secrets (each guess costs a bcrypt comparison) is bounded.
type FailureLimiter interface {
	// Blocked reports whether ip has used up its budget of failed checks,
	// and when it may try again. It does not count anything.
	Blocked(ctx context.Context, ip string) (blocked bool, retryAfter time.Duration, err error)
	// Failed counts one failed check from ip.
	Failed(ctx context.Context, ip string) error
}

// Auth is how Mount authenticates the callers of connector routes, before
// the plugin hop, according to each route's declared sdk.AuthScheme.
type Auth struct {
	// Bearer resolves `Authorization: Bearer` on AuthBearer routes. Nil:
	// those routes answer 401.
	Bearer func(*fiber.Ctx) (*principal.Principal, error)
	// Clients verifies client ids and secrets on AuthClientSecret routes.
	// Nil: those routes answer 401.
	Clients ClientVerifier
	// Failures throttles failed client-secret checks per source IP. Nil:
	// not throttled.
	Failures FailureLimiter
	// CacheTTL is how long a successful client-secret verification is
	// reused for the same client id and secret, so a dialect that sends
	// its secret with every request (H3Yun) pays neither the hash
	// comparison nor the store reads each time. A disabled client or a
	// rotated secret is refused after at most this long. Default: 1s;
	// negative: no cache.
	CacheTTL time.Duration
}

// DefaultCredentialCacheTTL is Auth.CacheTTL's default.
const DefaultCredentialCacheTTL = time.Second

// Limits of presented credentials: longer values are refused unverified.
const (
	maxClientIDLen = 128
	maxSecretLen   = 512
)

// credCache remembers successful client-secret verifications. The key is
// the client id and an HMAC-SHA256 of the secret under a per-process random
// key: the secret itself is never kept, and its digest is useless outside
// this process. Failures are never cached.
type credCache struct {
	ttl time.Duration
	max int
	key []byte

	mu sync.Mutex
	m  map[credKey]credEntry

	// macs reuses keyed HMAC states (hmac.New derives the pads and
	// allocates two SHA-256 states per call: ≈ 3 % of an in-process H3Yun
	// read); Reset returns one to its keyed start.
	macs sync.Pool
}

type credKey struct {
	id     string
	digest [sha256.Size]byte
}

type credEntry struct {
	p   *principal.Principal
	exp time.Time
}

func newCredCache(ttl time.Duration) *credCache {
	if ttl == 0 {
		ttl = DefaultCredentialCacheTTL
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails (Go 1.24)
	c := &credCache{ttl: ttl, max: 10000, key: k, m: map[credKey]credEntry{}}
	c.macs.New = func() any { return hmac.New(sha256.New, c.key) }
	return c
}

func (c *credCache) keyOf(id, secret string) credKey {
	h := c.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(secret))
	k := credKey{id: id}
	h.Sum(k.digest[:0])
	c.macs.Put(h)
	return k
}

// get returns a copy of the cached principal of (id, secret), or nil.
func (c *credCache) get(k credKey, now time.Time) *principal.Principal {
	if c.ttl < 0 {
		return nil
	}
	c.mu.Lock()
	e, ok := c.m[k]
	if ok && !now.Before(e.exp) {
		delete(c.m, k)
		ok = false
	}
	c.mu.Unlock()
	if !ok {
		return nil
	}
	return clonePrincipal(e.p)
}

func (c *credCache) put(k credKey, p *principal.Principal, now time.Time) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m) // bounded; only verified clients ever get in
	}
	c.m[k] = credEntry{p: clonePrincipal(p), exp: now.Add(c.ttl)}
}

func clonePrincipal(p *principal.Principal) *principal.Principal {
	q := *p
	q.Scopes, q.Roles = slices.Clone(p.Scopes), slices.Clone(p.Roles)
	return &q
}

// credentials returns the client id and secret an AuthClientSecret route's
// request carries (copied out of fasthttp's buffers), "" when absent.
func credentials(fc *fiber.Ctx, cr sdk.ClientCredentials) (id, secret string) {
	return firstValue(fc, cr.IDHeaders, cr.IDQuery), firstValue(fc, cr.SecretHeaders, cr.SecretQuery)
}

func firstValue(fc *fiber.Ctx, headers, query []string) string {
	for _, h := range headers {
		if v := strings.TrimSpace(fc.Get(h)); v != "" {
			return strings.Clone(v)
		}
	}
	for _, q := range query {
		if v := strings.TrimSpace(fc.Query(q)); v != "" {
			return strings.Clone(v)
		}
	}
	return ""
}

// verifyClient authenticates an AuthClientSecret request: a cached success,
// else — unless the source IP has used up its failed checks — the
// verifier, counting a failure against the IP.
func (c *conn) verifyClient(fc *fiber.Ctx, r sdk.Route) (*principal.Principal, error) {
	a := c.m.auth
	id, secret := credentials(fc, r.Credentials)
	if id == "" || secret == "" {
		return nil, errs.New(errs.Unauthorized, "missing client credentials")
	}
	if len(id) > maxClientIDLen || len(secret) > maxSecretLen {
		return nil, errs.New(errs.Unauthorized, "invalid client credentials")
	}
	if a.Clients == nil {
		return nil, errs.New(errs.Unauthorized, "client authentication is not configured")
	}
	now := time.Now()
	k := c.m.creds.keyOf(id, secret)
	if p := c.m.creds.get(k, now); p != nil {
		return p, nil
	}
	ctx := fc.UserContext()
	ip := sourceIP(fc)
	if a.Failures != nil {
		blocked, retry, err := a.Failures.Blocked(ctx, ip)
		if err != nil {
			return nil, err
		}
		if blocked {
			secs := max(int((retry+time.Second-1)/time.Second), 1)
			return nil, &errs.Error{Code: errs.RateLimited, Reason: "auth_failures", Pos: -1, RetryAfter: secs,
				Msg: "too many failed credential checks from this address; retry after " + strconv.Itoa(secs) + " s"}
		}
	}
	p, err := a.Clients.VerifyClient(ctx, id, secret)
	if err == nil && p == nil {
		err = errs.New(errs.Unauthorized, "invalid client credentials")
	}
	if err != nil {
		if errs.CodeOf(err) == errs.Unauthorized && a.Failures != nil {
			if ferr := a.Failures.Failed(ctx, ip); ferr != nil {
				c.m.opts.Logger.Warn("counting a failed credential check failed", "connector", c.cfg.ID, "error", ferr)
			}
		}
		return nil, err
	}
	c.m.creds.put(k, p, now)
	return p, nil
}
