// Package limits is the hub's rate limiter: per-client request budgets for
// the API and per-client and per-IP budgets for the token endpoint (against
// secret guessing), counted in a github.com/ulule/limiter/v3 store.
//
// Only limiter's root package is used here (it imports nothing but the
// standard library and github.com/pkg/errors); the store comes from an
// adapter: adapters/redis.NewLimiterStore when Redis is configured (several
// hub instances then share one budget), limiter's memory driver otherwise.
// limiter's ready-made HTTP middlewares are not used (the fasthttp one
// panics on a store error); core/httpapi calls Allow and applies the
// result.
//
// A rate is limiter's format "<n>-<S|M|H|D>" (e.g. "10-S", "1000-H"): n
// requests per fixed window of a second, minute, hour or day. The rate of a
// request by a client is, first found:
//
//  1. the client's override for the connector the request came through
//     (Key.Connector; Config.ClientRates["<client>@<connector>"] or the
//     RateSource), counted in a budget of its own;
//  2. the client's rate (Config.ClientRates["<client>"], or the RateSource,
//     e.g. the client record's `rateLimit`);
//  3. the tenant's default (Config.TenantRates[tenant]);
//  4. Config.DefaultRate.
//
// When the store fails (Redis down), Allow applies the configured policy:
// fail open (count nothing, allow) or fail closed (errs.Unavailable). The
// defaults are open for API requests and closed for the token endpoint.
package limits

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ulule/limiter/v3"

	"github.com/eimshub/eimshub/core/errs"
)

// Kind says which budget a check draws from.
type Kind uint8

const (
	// API is a request by an authenticated client (after bearer auth).
	API Kind = iota
	// TokenClient is a token-endpoint request, counted per client_id.
	TokenClient
	// TokenIP is a token-endpoint request, counted per source IP.
	TokenIP
	// IP is a request on a connector route whose caller the host does not
	// identify (AuthNone, or the connector's own token scheme), counted per
	// source IP and connector at the default rate.
	IP
	// AuthFailIP is a failed credential check on a connector route, counted
	// per source IP (Config.AuthFailureIPRate): once spent, the host
	// answers without checking (each check costs a hash comparison).
	AuthFailIP
	// TokenLogin is a token-endpoint request of a public client, counted
	// per client, source IP and login name (Key.User) at the
	// TokenEndpointRate: every browser shares a public client's id, so a
	// per-client budget would let one user lock out all the others
	// (spec eims-native.md §12.2).
	TokenLogin
)

func (k Kind) String() string {
	switch k {
	case API:
		return "api"
	case TokenClient:
		return "token-client"
	case TokenIP:
		return "token-ip"
	case IP:
		return "ip"
	case AuthFailIP:
		return "auth-fail-ip"
	case TokenLogin:
		return "token-login"
	}
	return "unknown"
}

// tokenEndpoint reports whether the kind is a token-endpoint check.
func (k Kind) tokenEndpoint() bool { return k == TokenClient || k == TokenIP || k == TokenLogin }

// Key names who a request is counted against.
type Key struct {
	Kind Kind
	// Tenant is the caller's tenant (corpId); it selects the tenant default.
	Tenant string
	// Client is the OAuth client_id (API and TokenClient).
	Client string
	// Connector is the dialect connector the request came through ("" for
	// the native API); it selects a per-connector override.
	Connector string
	// IP is the source address (TokenIP, IP, AuthFailIP, TokenLogin).
	IP string
	// User splits a client's budget by user: on an API key, the token's
	// user id (a public client's requests are counted per user at the
	// client's rate, §12.2); on a TokenLogin key, the login name.
	User string
}

// Decision is the outcome of one check. Limit 0 means the request was not
// counted (the store failed and the policy is fail-open): no rate-limit
// headers apply.
type Decision struct {
	Allowed   bool
	Limit     int64
	Remaining int64
	// Reset is when the current window ends.
	Reset time.Time
	// RetryAfter is set when !Allowed: how long until the window ends
	// (at least one second).
	RetryAfter time.Duration
}

// Defaults.
const (
	DefaultRate                = "100-S"
	DefaultTokenEndpointRate   = "600-M"
	DefaultTokenEndpointIPRate = "120-M"
	DefaultAuthFailureIPRate   = "20-M"
	// DefaultRateCacheTTL is how long a RateSource answer is reused.
	DefaultRateCacheTTL = 30 * time.Second
)

// Config configures Limits. Every rate is in limiter's format "<n>-<S|M|H|D>".
type Config struct {
	// DefaultRate applies to a client with no rate of its own and no tenant
	// default. Default: "100-S".
	DefaultRate string
	// TenantRates are per-tenant defaults (tenant id → rate).
	TenantRates map[string]string
	// ClientRates are static client rates: "<client>" → rate, and
	// "<client>@<connector>" → the client's override on that connector.
	// They take precedence over the RateSource.
	ClientRates map[string]string
	// TokenEndpointRate limits token-endpoint requests per client_id.
	// Default: "600-M".
	TokenEndpointRate string
	// TokenEndpointIPRate limits token-endpoint requests per source IP.
	// Default: "120-M".
	TokenEndpointIPRate string
	// AuthFailureIPRate bounds failed credential checks on connector routes
	// per source IP (AuthFailIP). Default: "20-M".
	AuthFailureIPRate string
	// FailOpen allows API requests when the store fails (they are then not
	// counted). Default false here; the hub's config sets it true for reads
	// if documented so.
	FailOpen bool
	// FailOpenTokenEndpoint allows token-endpoint requests when the store
	// fails. Default: false (closed: credential guessing stays throttled).
	FailOpenTokenEndpoint bool
	// RateCacheTTL is how long a RateSource answer is reused. Default: 30s.
	RateCacheTTL time.Duration
}

// RateSource supplies client rates kept outside the static config (e.g.
// the `rateLimit` field of client records).
type RateSource interface {
	// ClientRate returns the rate of clientID on connector ("" = the
	// client's own rate), or "" when it has none.
	ClientRate(ctx context.Context, clientID, connector string) (string, error)
}

// Option configures New.
type Option func(*Limits)

// WithRateSource makes Limits look client rates up in src (answers cached
// for Config.RateCacheTTL).
func WithRateSource(src RateSource) Option { return func(l *Limits) { l.src = src } }

// Limits checks requests against their budgets. Safe for concurrent use.
type Limits struct {
	store  limiter.Store
	cfg    Config
	logger *slog.Logger
	src    RateSource
	now    func() time.Time

	def, token, tokenIP, authFail limiter.Rate
	tenant                        map[string]limiter.Rate
	client                        map[string]limiter.Rate

	parsed  sync.Map // rate string → limiter.Rate (from the RateSource)
	looked  sync.Map // client "\x00" connector → lookup
	failing atomic.Bool
}

type lookup struct {
	rate string
	exp  time.Time
}

// New returns Limits counting in store. An invalid rate in cfg is
// errs.Invalid.
func New(store limiter.Store, cfg Config, logger *slog.Logger, opts ...Option) (*Limits, error) {
	if store == nil {
		return nil, errs.Invalidf("limits: a limiter store is required")
	}
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.DefaultRate == "" {
		cfg.DefaultRate = DefaultRate
	}
	if cfg.TokenEndpointRate == "" {
		cfg.TokenEndpointRate = DefaultTokenEndpointRate
	}
	if cfg.TokenEndpointIPRate == "" {
		cfg.TokenEndpointIPRate = DefaultTokenEndpointIPRate
	}
	if cfg.AuthFailureIPRate == "" {
		cfg.AuthFailureIPRate = DefaultAuthFailureIPRate
	}
	if cfg.RateCacheTTL <= 0 {
		cfg.RateCacheTTL = DefaultRateCacheTTL
	}
	l := &Limits{
		store: store, cfg: cfg, logger: logger.With("component", "limits"), now: time.Now,
		tenant: make(map[string]limiter.Rate, len(cfg.TenantRates)),
		client: make(map[string]limiter.Rate, len(cfg.ClientRates)),
	}
	for _, o := range opts {
		o(l)
	}
	var err error
	if l.def, err = ParseRate(cfg.DefaultRate); err != nil {
		return nil, err.(*errs.Error).WithTarget("limits.defaultRate")
	}
	if l.token, err = ParseRate(cfg.TokenEndpointRate); err != nil {
		return nil, err.(*errs.Error).WithTarget("limits.tokenEndpointRate")
	}
	if l.tokenIP, err = ParseRate(cfg.TokenEndpointIPRate); err != nil {
		return nil, err.(*errs.Error).WithTarget("limits.tokenEndpointIPRate")
	}
	if l.authFail, err = ParseRate(cfg.AuthFailureIPRate); err != nil {
		return nil, err.(*errs.Error).WithTarget("limits.authFailureIPRate")
	}
	for t, s := range cfg.TenantRates {
		if l.tenant[t], err = ParseRate(s); err != nil {
			return nil, err.(*errs.Error).WithTarget("tenant " + t)
		}
	}
	for c, s := range cfg.ClientRates {
		if l.client[c], err = ParseRate(s); err != nil {
			return nil, err.(*errs.Error).WithTarget("client " + c)
		}
	}
	return l, nil
}

// ParseRate parses a rate "<n>-<S|M|H|D>" (n > 0) with limiter's parser;
// a bad one is errs.Invalid.
func ParseRate(s string) (limiter.Rate, error) {
	r, err := limiter.NewRateFromFormatted(strings.TrimSpace(s))
	if err != nil || r.Limit <= 0 {
		return limiter.Rate{}, errs.Newf(errs.Invalid,
			"invalid rate %q: want <n>-<S|M|H|D>, e.g. 10-S or 1000-H", s).WithReason("invalid_rate")
	}
	return r, nil
}

// Allow counts one request against k's budget and reports whether it may
// proceed. It returns an error only when the store failed and the policy
// for k is fail-closed (errs.Unavailable), or when k names nobody
// (errs.Invalid).
func (l *Limits) Allow(ctx context.Context, k Key) (Decision, error) {
	rate, counter, err := l.resolve(ctx, k)
	if err != nil {
		return Decision{}, err
	}
	lc, err := l.store.Get(ctx, counter, rate)
	if err != nil {
		return l.storeFailed(k, err)
	}
	if l.failing.CompareAndSwap(true, false) {
		l.logger.Info("rate-limit store reachable again")
	}
	d := Decision{
		Allowed:   !lc.Reached,
		Limit:     lc.Limit,
		Remaining: lc.Remaining,
		Reset:     time.Unix(lc.Reset, 0),
	}
	if lc.Reached {
		until := d.Reset.Sub(l.now())
		d.RetryAfter = max((until+time.Second-1)/time.Second, 1) * time.Second
	}
	return d, nil
}

// Peek reports k's budget without counting the request: Allowed is false
// when the budget is spent. Errors as Allow.
func (l *Limits) Peek(ctx context.Context, k Key) (Decision, error) {
	rate, counter, err := l.resolve(ctx, k)
	if err != nil {
		return Decision{}, err
	}
	lc, err := l.store.Peek(ctx, counter, rate)
	if err != nil {
		return l.storeFailed(k, err)
	}
	d := Decision{Allowed: !lc.Reached && lc.Remaining > 0, Limit: lc.Limit, Remaining: lc.Remaining,
		Reset: time.Unix(lc.Reset, 0)}
	if !d.Allowed {
		until := d.Reset.Sub(l.now())
		d.RetryAfter = max((until+time.Second-1)/time.Second, 1) * time.Second
	}
	return d, nil
}

// storeFailed applies the fail-open/closed policy; it logs the first
// failure of a run, not every request.
func (l *Limits) storeFailed(k Key, err error) (Decision, error) {
	open := l.cfg.FailOpen
	if k.Kind.tokenEndpoint() {
		open = l.cfg.FailOpenTokenEndpoint
	}
	if l.failing.CompareAndSwap(false, true) {
		l.logger.Warn("rate-limit store failing; applying policy", "fail_open", l.cfg.FailOpen,
			"fail_open_token_endpoint", l.cfg.FailOpenTokenEndpoint, "err", err)
	}
	if open {
		return Decision{Allowed: true}, nil
	}
	return Decision{}, errs.Wrap(errs.Unavailable, err, "rate limiter unavailable")
}

// resolve returns k's rate and counter key. The counter key includes the
// rate, so a changed rate starts a fresh window instead of inheriting a
// counter of a different period.
func (l *Limits) resolve(ctx context.Context, k Key) (limiter.Rate, string, error) {
	switch k.Kind {
	case TokenClient:
		if k.Client == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: token-endpoint key without a client")
		}
		return l.token, "tc:" + k.Client + ":" + l.token.Formatted, nil
	case TokenIP:
		if k.IP == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: token-endpoint key without an IP")
		}
		return l.tokenIP, "ti:" + k.IP + ":" + l.tokenIP.Formatted, nil
	case IP:
		if k.IP == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: IP key without an IP")
		}
		return l.def, "ip:" + k.Connector + ":" + k.IP + ":" + l.def.Formatted, nil
	case AuthFailIP:
		if k.IP == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: auth-failure key without an IP")
		}
		return l.authFail, "af:" + k.IP + ":" + l.authFail.Formatted, nil
	case TokenLogin:
		if k.Client == "" || k.IP == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: token-login key without a client or an IP")
		}
		return l.token, "tl:" + k.Client + ":" + k.IP + ":" + counterPart(k.User) + ":" + l.token.Formatted, nil
	case API:
	default:
		return limiter.Rate{}, "", errs.Invalidf("limits: unknown key kind %d", k.Kind)
	}
	if k.Client == "" {
		if k.Tenant == "" {
			return limiter.Rate{}, "", errs.Invalidf("limits: key names neither a client nor a tenant")
		}
		r := l.tenantRate(k.Tenant)
		return r, "t:" + k.Tenant + ":" + r.Formatted, nil
	}
	if k.Connector != "" {
		if r, ok := l.clientRate(ctx, k.Client, k.Connector); ok {
			return r, "c:" + k.Client + "@" + k.Connector + ":" + r.Formatted, nil
		}
	}
	r, ok := l.clientRate(ctx, k.Client, "")
	if !ok {
		r = l.tenantRate(k.Tenant)
	}
	if k.User != "" {
		return r, "c:" + k.Client + ":u:" + k.Tenant + ":" + counterPart(k.User) + ":" + r.Formatted, nil
	}
	return r, "c:" + k.Client + ":" + r.Formatted, nil
}

// counterPart makes a caller-supplied name (a login as typed) safe inside
// a counter key: lower-cased, and hashed when long or when it holds the
// key separator or control characters, so keys stay short and unambiguous.
func counterPart(s string) string {
	s = strings.ToLower(s)
	if len(s) <= 64 && !strings.ContainsAny(s, ":\x00\r\n ") {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(sum[:12])
}

func (l *Limits) tenantRate(tenant string) limiter.Rate {
	if r, ok := l.tenant[tenant]; ok {
		return r
	}
	return l.def
}

// clientRate returns the client's own rate on connector (""= its base
// rate) from the static config, else from the RateSource (cached).
func (l *Limits) clientRate(ctx context.Context, client, connector string) (limiter.Rate, bool) {
	name := client
	if connector != "" {
		name += "@" + connector
	}
	if r, ok := l.client[name]; ok {
		return r, true
	}
	if l.src == nil {
		return limiter.Rate{}, false
	}
	s := l.sourceRate(ctx, client, connector)
	if s == "" {
		return limiter.Rate{}, false
	}
	if r, ok := l.parsed.Load(s); ok {
		return r.(limiter.Rate), true
	}
	r, err := ParseRate(s)
	if err != nil {
		l.logger.Warn("ignoring invalid client rate", "client", client, "connector", connector, "rate", s)
		return limiter.Rate{}, false
	}
	l.parsed.Store(s, r)
	return r, true
}

// sourceRate asks the RateSource, reusing answers for RateCacheTTL. A
// failed lookup falls back to the defaults for a few seconds.
func (l *Limits) sourceRate(ctx context.Context, client, connector string) string {
	key := client + "\x00" + connector
	now := l.now()
	if v, ok := l.looked.Load(key); ok && now.Before(v.(lookup).exp) {
		return v.(lookup).rate
	}
	s, err := l.src.ClientRate(ctx, client, connector)
	ttl := l.cfg.RateCacheTTL
	if err != nil {
		l.logger.Warn("client rate lookup failed; using the default", "client", client, "err", err)
		s, ttl = "", min(ttl, 5*time.Second)
	}
	l.looked.Store(key, lookup{rate: s, exp: now.Add(ttl)})
	return s
}
