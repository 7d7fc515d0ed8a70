package host

import (
	"context"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/gofiber/fiber/v2"
)

// LimitKey is the rate-limiter key of a request on a connector route,
// decided after the route's scheme was enforced: the verified client
// (AuthBearer, AuthClientSecret: the principal the host resolved, never a
// header the caller merely claims), else the source IP and connector
// (AuthNone, AuthConnector). False outside connector routes.
func LimitKey(fc *fiber.Ctx) (limits.Key, bool) {
	ri, ok := RouteOf(fc)
	if !ok {
		return limits.Key{}, false
	}
	switch ri.Auth {
	case sdk.AuthBearer, sdk.AuthClientSecret:
		p, ok := principal.From(fc.UserContext())
		if !ok || (p.ClientID == "" && p.Tenant == "") {
			return limits.Key{}, false
		}
		return limits.Key{Kind: limits.API, Tenant: p.Tenant, Client: p.ClientID, Connector: ri.Connector}, true
	}
	return limits.Key{Kind: limits.IP, IP: sourceIP(fc), Connector: ri.Connector}, true
}

// sourceIP is the caller's IP as the app is configured to see it (a proxy
// header when trusted), else the peer's address; owned, never "".
func sourceIP(fc *fiber.Ctx) string {
	if ip := strings.TrimSpace(fc.IP()); ip != "" {
		return strings.Clone(ip)
	}
	return fc.Context().RemoteIP().String()
}

// Counter is the part of *limits.Limits FailureLimits needs.
type Counter interface {
	Allow(ctx context.Context, k limits.Key) (limits.Decision, error)
	Peek(ctx context.Context, k limits.Key) (limits.Decision, error)
}

// FailureLimits is a FailureLimiter over l's AuthFailIP budget
// (limits.authFailureIPRate). A limiter store failure follows l's API
// fail-open policy.
func FailureLimits(l Counter) FailureLimiter { return failureLimits{l} }

type failureLimits struct{ l Counter }

func (f failureLimits) Blocked(ctx context.Context, ip string) (bool, time.Duration, error) {
	d, err := f.l.Peek(ctx, limits.Key{Kind: limits.AuthFailIP, IP: ip})
	if err != nil {
		return false, 0, err
	}
	return !d.Allowed && d.Limit > 0, d.RetryAfter, nil
}

func (f failureLimits) Failed(ctx context.Context, ip string) error {
	_, err := f.l.Allow(ctx, limits.Key{Kind: limits.AuthFailIP, IP: ip})
	return err
}
