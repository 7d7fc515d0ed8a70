package identity

import "testing"

func TestCheckSecretCachesOnlyMatches(t *testing.T) {
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
