package identity

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/store"
)

func TestCheckSecretCachesOnlyMatches(t *testing.T) {
	s := &Service{}
	s.secrets.compare = CheckPassword
	checkSecret := s.checkSecret
	h, err := HashClientSecret("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if checkSecret(h, "wrong") {
		t.Fatal("wrong secret accepted")
	}
	if verifiedSecrets.ok(h, "wrong") {
		t.Fatal("a failed comparison was cached")
	}
	if !checkSecret(h, "s3cret") {
		t.Fatal("right secret refused")
	}
	if !verifiedSecrets.ok(h, "s3cret") {
		t.Fatal("a match was not cached")
	}
	if checkSecret(h, "wrong") || verifiedSecrets.ok(h, "s3cre") {
		t.Fatal("the cache accepts another secret")
	}
	// A new hash of the same secret (secret rotated back) misses the cache
	// and is verified again.
	h2, _ := HashClientSecret("s3cret")
	if verifiedSecrets.ok(h2, "s3cret") {
		t.Fatal("a different stored hash hit the cache")
	}
	if !checkSecret(h2, "s3cret") {
		t.Fatal("right secret refused under the new hash")
	}
}

// TestConcurrentVerificationsShareOneBcrypt: N concurrent first
// verifications of one client secret (an H3Yun engine's 32 connections
// opening at once) run the bcrypt comparison once; before, each paid its
// own and a cold hub stalled for seconds. A wrong secret arriving
// concurrently is still refused and gets a comparison of its own.
func TestConcurrentVerificationsShareOneBcrypt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h, err := HashClientSecret("engine-secret") // fresh salt: not in verifiedSecrets
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.Insert(ctx, "client", store.Doc{"id": "engine", "corpId": "", "tenantId": identitytest.Tenant,
		"secretHash": h, "grants": []any{"client_credentials"}, "scopes": []any{"api.readwrite"}}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	release := make(chan struct{})
	f.svc.secrets.compare = func(hash, secret string) bool {
		calls.Add(1)
		<-release
		return CheckPassword(hash, secret)
	}
	const n = 16
	var wg sync.WaitGroup
	okCount, badRefused := atomic.Int64{}, atomic.Bool{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p, err := f.svc.VerifyClient(ctx, "engine", "engine-secret"); err == nil && p.ClientID == "engine" {
				okCount.Add(1)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := f.svc.VerifyClient(ctx, "engine", "wrong-secret")
		badRefused.Store(err != nil)
	}()
	// Wait until all n+1 callers are registered with the flight (the first
	// comparison of each secret is blocked on release), then let them go.
	for f.svc.secrets.joined.Load() < n+1 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if got := okCount.Load(); got != n {
		t.Fatalf("%d of %d verifications succeeded", got, n)
	}
	if !badRefused.Load() {
		t.Fatal("a wrong secret was accepted while the right one was being verified")
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("bcrypt ran %d times for %d concurrent checks of one secret and one wrong one, want 2", got, n+1)
	}
	// Afterwards the match is remembered: no comparison at all.
	if _, err := f.svc.VerifyClient(ctx, "engine", "engine-secret"); err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 2 {
		t.Fatalf("a verified secret was compared again (%d calls)", got)
	}
}
