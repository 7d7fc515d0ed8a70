package host

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
	"testing"
)

// keyOf's pooled HMAC states give exactly hmac.New's digest, whatever
// was hashed with them before and concurrently.
func TestCredKeyPooledHMAC(t *testing.T) {
	c := newCredCache(0)
	want := func(secret string) [sha256.Size]byte {
		h := hmac.New(sha256.New, c.key)
		h.Write([]byte(secret))
		var d [sha256.Size]byte
		h.Sum(d[:0])
		return d
	}
	secrets := []string{"", "s", "another secret", "s"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				for _, s := range secrets {
					if k := c.keyOf("engine", s); k.id != "engine" || k.digest != want(s) {
						t.Errorf("keyOf(%q) = %x, want %x", s, k.digest, want(s))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if c.keyOf("e", "a") == c.keyOf("e", "b") {
		t.Fatal("two secrets share a key")
	}
	if other := newCredCache(0); other.keyOf("e", "a") == c.keyOf("e", "a") {
		t.Fatal("two caches (two random keys) give the same digest")
	}
}
