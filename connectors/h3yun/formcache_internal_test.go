package h3yun

import (
	"fmt"
	"testing"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// TestFormCacheBounds: entries expire after the TTL, the cache never holds
// more than its maximum (expired entries, then the oldest, go first),
// tenants do not share entries, and a form without a version is not kept.
func TestFormCacheBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newFormCache()
	c.now = func() time.Time { return now }
	c.max = 3
	f := func(v int64) *sdk.Form { return &sdk.Form{Key: "k", Version: v} }

	c.put("t1", "k", f(0))
	if c.get("t1", "k") != nil {
		t.Fatal("a form without a version was cached")
	}
	c.put("t1", "k", f(1))
	if c.get("t1", "k") == nil || c.get("t2", "k") != nil {
		t.Fatal("want t1's form for t1 only")
	}
	now = now.Add(formCacheTTL)
	if c.get("t1", "k") != nil {
		t.Fatal("an entry outlived the TTL")
	}
	for i := range 10 {
		now = now.Add(time.Second)
		c.put("t1", fmt.Sprintf("k%d", i), f(1))
		if n := c.len(); n > c.max {
			t.Fatalf("%d entries, max %d", n, c.max)
		}
	}
	if c.get("t1", "k9") == nil || c.get("t1", "k8") == nil || c.get("t1", "k0") != nil {
		t.Fatal("want the newest entries kept and the oldest evicted")
	}
	c.drop("t1", "k9")
	if c.get("t1", "k9") != nil {
		t.Fatal("drop kept the entry")
	}
	c.reset()
	if c.len() != 0 {
		t.Fatal("reset kept entries")
	}
}
