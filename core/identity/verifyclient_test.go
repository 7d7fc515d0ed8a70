package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/store"
)

// compareLog records every bcrypt comparison VerifyClient makes.
type compareLog struct {
	mu     sync.Mutex
	hashes []string
}

func (l *compareLog) wrap(f *fixture) {
	f.svc.secrets.compare = func(hash, secret string) bool {
		l.mu.Lock()
		l.hashes = append(l.hashes, hash)
		l.mu.Unlock()
		return CheckPassword(hash, secret)
	}
}

func (l *compareLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hashes
	l.hashes = nil
	return h
}

// VerifyClient (the plugin host's and H3Yun's client check) refuses every
// client that may not act on its own, and says the same thing each time:
// an unknown client, a wrong secret, a disabled, public or tenantless client
// are indistinguishable to the caller (Unauthorized, invalid_client, one
// message). Each of them that has a stored hash — and the unknown client,
// against a dummy hash — pays one full bcrypt comparison, so the answer's
// cost does not tell them apart either.
func TestVerifyClientRejections(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const secret = "right-secret"
	hash := func() string { // a fresh salt per client: never in verifiedSecrets
		t.Helper()
		// bcrypt's minimum cost keeps the test fast under the race
		// detector; CheckPassword reads the cost from the hash.
		h, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	sha := sha256.Sum256([]byte(secret))
	clients := []store.Doc{
		{"id": "public-with-secret", "public": true, "tenantId": identitytest.Tenant, "secretHash": hash()},
		{"id": "no-tenant", "tenantId": "", "secretHash": hash()},
		{"id": "disabled", "tenantId": identitytest.Tenant, "secretHash": hash(), "disabled": true},
		{"id": "ok", "tenantId": identitytest.Tenant, "secretHash": hash(), "scopes": []any{"api.read"}},
		{"id": "sha", "tenantId": identitytest.Tenant, "secretHash": "sha256:" + hex.EncodeToString(sha[:])},
		{"id": "sha-broken", "tenantId": identitytest.Tenant, "secretHash": "sha256:not-hex"},
		{"id": "ghost-user", "tenantId": identitytest.Tenant, "secretHash": hash(), "serviceUserId": "u_missing"},
		{"id": "disabled-user", "tenantId": identitytest.Tenant, "secretHash": hash(), "serviceUserId": identitytest.DisabledID},
	}
	for _, c := range clients {
		c["corpId"] = ""
		if err := f.st.Insert(ctx, "client", c); err != nil {
			t.Fatal(err)
		}
	}
	var log compareLog
	log.wrap(f)

	// The reference refusal: a client that does not exist.
	_, err := f.svc.VerifyClient(ctx, "no-such-client", secret)
	want := errs.As(err)
	if err == nil || want.Code != errs.Unauthorized || want.Reason != ErrInvalidClient {
		t.Fatalf("unknown client: %v", err)
	}
	if got := log.take(); len(got) != 1 || got[0] != f.svc.dummyPasswordHash() {
		t.Fatalf("unknown client compared against %d hashes (%v), want the dummy hash once", len(got), got)
	}

	for _, tc := range []struct {
		name, id, secret string
		bcrypts          int // full comparisons the refusal costs
	}{
		{"wrong secret", identitytest.SvcClient, "wrong-secret", 1},
		{"wrong secret, prefix of the right one", identitytest.SvcClient, identitytest.SvcSecret[:3], 1},
		{"disabled client, right secret", "disabled", secret, 1},
		{"public client, right secret", "public-with-secret", secret, 1},
		{"public client without a secret", identitytest.WebClient, secret, 0}, // nothing to compare
		{"client without tenant, right secret", "no-tenant", secret, 1},
		{"sha256 hash, wrong secret", "sha", "wrong-secret", 0}, // constant-time compare, no bcrypt
		{"sha256 hash, malformed", "sha-broken", secret, 0},
		{"empty secret", "ok", "", 0},
		{"empty client id", "", secret, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := f.svc.VerifyClient(ctx, tc.id, tc.secret)
			if err == nil {
				t.Fatalf("accepted as %+v", p)
			}
			if e := errs.As(err); e.Code != want.Code || e.Reason != want.Reason || e.Msg != want.Msg || e.Target != want.Target {
				t.Fatalf("refusal %+v differs from the unknown client's %+v", e, want)
			}
			if got := log.take(); len(got) != tc.bcrypts {
				t.Fatalf("%d bcrypt comparisons, want %d", len(got), tc.bcrypts)
			}
		})
	}

	// A service user that is missing or disabled: the right secret, but the
	// client cannot act (its own, still Unauthorized, error).
	for _, id := range []string{"ghost-user", "disabled-user"} {
		if p, err := f.svc.VerifyClient(ctx, id, secret); errs.CodeOf(err) != errs.Unauthorized || errs.As(err).Reason != ErrInvalidClient {
			t.Fatalf("%s: %+v, %v; want unauthorized invalid_client", id, p, err)
		}
	}

	// The accepted cases, so that the refusals above are not vacuous.
	p, err := f.svc.VerifyClient(ctx, "ok", secret)
	if err != nil || p.Tenant != identitytest.Tenant || p.ClientID != "ok" || p.UserID != "" || !slices.Equal(p.Scopes, []string{"api.read"}) {
		t.Fatalf("ok: %+v, %v", p, err)
	}
	if p, err := f.svc.VerifyClient(ctx, "sha", secret); err != nil || p.ClientID != "sha" {
		t.Fatalf("sha256-hashed secret: %+v, %v", p, err)
	}
	p, err = f.svc.VerifyClient(ctx, identitytest.ServiceClient, identitytest.SvcSecret)
	if err != nil || p.UserID != identitytest.AdminID || p.Login != identitytest.AdminLogin || !p.IsAdmin() {
		t.Fatalf("service client acts as its user: %+v, %v", p, err)
	}
}
