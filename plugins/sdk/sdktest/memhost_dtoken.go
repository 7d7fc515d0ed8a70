package sdktest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// MemHost's dialect token store (sdk.DialectTokenStore): the hub's own
// core/dialecttoken over an in-memory cache, with MemHost's clients and
// users as the directory. A client re-added with another secret revokes
// its tokens (as a regenerated secret does on the hub); a user whose
// "status" is not 0 is inactive.

var _ sdk.DialectTokenStore = (*MemHost)(nil)

var (
	dtMu       sync.Mutex
	dtServices = map[*MemHost]*dialecttoken.Service{}
	dtClocks   = map[*MemHost]func() time.Time{}
)

// SetTokenClock sets the clock of m's dialect tokens (default: time.Now).
func (m *MemHost) SetTokenClock(now func() time.Time) {
	dtMu.Lock()
	defer dtMu.Unlock()
	dtClocks[m] = now
	if s := dtServices[m]; s != nil {
		s.SetClock(now)
	}
}

func (m *MemHost) dtokens() *dialecttoken.Service {
	dtMu.Lock()
	defer dtMu.Unlock()
	s := dtServices[m]
	if s == nil {
		s = dialecttoken.New(memory.NewCache(), memDirectory{m}, nil)
		s.SetRand(&detRand{})
		if now := dtClocks[m]; now != nil {
			s.SetClock(now)
		}
		dtServices[m] = s
	}
	return s
}

// detRand is a reproducible byte stream (SHA-256 in counter mode): a
// MemHost issues the same tokens in the same order on every run, so
// golden files built on it are stable.
type detRand struct {
	mu  sync.Mutex
	n   uint64
	buf []byte
}

func (d *detRand) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range p {
		if len(d.buf) == 0 {
			d.n++
			sum := sha256.Sum256([]byte("sdktest-dialect-token-" + strconv.FormatUint(d.n, 10)))
			d.buf = sum[:]
		}
		p[i], d.buf = d.buf[0], d.buf[1:]
	}
	return len(p), nil
}

type memDirectory struct{ m *MemHost }

func (d memDirectory) client(clientID, tenant string) (memClient, error) {
	c, ok := d.m.clients[clientID]
	if !ok || c.p.Tenant != tenant {
		return memClient{}, badCredentials()
	}
	return c, nil
}

func (d memDirectory) DialectPrincipal(_ context.Context, clientID, tenant, userID string) (*principal.Principal, string, error) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	c, err := d.client(clientID, tenant)
	if err != nil {
		return nil, "", err
	}
	u := d.m.findDir("user", tenant, userID)
	if u == nil || intValue(u["status"]) != 0 {
		return nil, "", errs.NotFoundf("user %q not found or inactive", userID)
	}
	sum := sha256.Sum256([]byte(c.secret))
	p := &principal.Principal{Tenant: tenant, ClientID: clientID, Scopes: slices.Clone(c.p.Scopes), UserID: userID,
		UserCode: str(u, "code"), DisplayName: str(u, "empName"), Login: str(u, "userName"), Roles: roleCodes(u)}
	return p, hex.EncodeToString(sum[:8]), nil
}

func (d memDirectory) ServicePrincipal(_ context.Context, clientID, tenant string) (*principal.Principal, error) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	c, err := d.client(clientID, tenant)
	if err != nil {
		return nil, err
	}
	p := c.p
	return &principal.Principal{Tenant: p.Tenant, UserID: p.UserID, UserCode: p.UserCode, DisplayName: p.DisplayName,
		Login: p.Login, ClientID: clientID, Scopes: slices.Clone(p.Scopes), Roles: slices.Clone(p.Roles)}, nil
}

func str(d sdk.Doc, k string) string { s, _ := d[k].(string); return s }

func intValue(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// roleCodes reads a user document's roles ([{roleCode}] or codes).
func roleCodes(u sdk.Doc) []string {
	var out []string
	rs, _ := u["roles"].([]any)
	for _, r := range rs {
		switch x := r.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if c, _ := x["roleCode"].(string); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

func toSDKToken(t *dialecttoken.Token, err error) (*sdk.DialectToken, error) {
	if err != nil {
		return nil, err
	}
	conv := func(p *principal.Principal) *sdk.Principal {
		if p == nil {
			return nil
		}
		return &sdk.Principal{Tenant: p.Tenant, UserID: p.UserID, UserCode: p.UserCode, DisplayName: p.DisplayName,
			Login: p.Login, ClientID: p.ClientID, Scopes: slices.Clone(p.Scopes), Roles: slices.Clone(p.Roles)}
	}
	return &sdk.DialectToken{Token: t.Token, RefreshToken: t.RefreshToken, IssuedAt: t.IssuedAt, ClientID: t.ClientID,
		Principal: conv(t.Principal), Service: conv(t.Service), Attrs: t.Attrs}, nil
}

func dtSpec(s sdk.DialectTokenSpec) dialecttoken.Spec {
	return dialecttoken.Spec{Namespace: s.Namespace, Length: s.Length, AccessTTL: s.AccessTTL, IdleTTL: s.IdleTTL,
		RefreshTTL: s.RefreshTTL, Grace: s.Grace}
}

// IssueDialectToken implements sdk.DialectTokenStore.
func (m *MemHost) IssueDialectToken(ctx context.Context, p *sdk.Principal, userID string, spec sdk.DialectTokenSpec, attrs map[string]string) (*sdk.DialectToken, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	return toSDKToken(m.dtokens().Issue(ctx, dtSpec(spec), t, p.ClientID, userID, attrs))
}

// ResolveDialectToken implements sdk.DialectTokenStore (no rate limit).
func (m *MemHost) ResolveDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, _ string) (*sdk.DialectToken, error) {
	return toSDKToken(m.dtokens().Resolve(ctx, dtSpec(spec), token, ""))
}

// RefreshDialectToken implements sdk.DialectTokenStore.
func (m *MemHost) RefreshDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token, refreshToken string) (*sdk.DialectToken, error) {
	return toSDKToken(m.dtokens().Refresh(ctx, dtSpec(spec), token, refreshToken))
}

// TouchDialectToken implements sdk.DialectTokenStore.
func (m *MemHost) TouchDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string, attrs map[string]string, renew bool) (*sdk.DialectToken, error) {
	return toSDKToken(m.dtokens().Touch(ctx, dtSpec(spec), token, attrs, renew))
}

// RevokeDialectToken implements sdk.DialectTokenStore.
func (m *MemHost) RevokeDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, token string) error {
	return m.dtokens().Revoke(ctx, dtSpec(spec), token)
}
