package h3yun

import (
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

func TestReadKeyTellsCallersApart(t *testing.T) {
	base := sdk.Principal{Tenant: "t1", UserID: "u1", ClientID: "c1", Roles: []string{"b", "a"}, Scopes: []string{"s"}}
	k := readKey(&base, []byte(`{}`))
	same := base
	same.Roles = []string{"a", "b"} // order does not matter
	same.DisplayName, same.TokenID = "other", "tok"
	if readKey(&same, []byte(`{}`)) != k {
		t.Error("role order or display fields changed the key")
	}
	for name, mut := range map[string]func(p *sdk.Principal){
		"tenant": func(p *sdk.Principal) { p.Tenant = "t2" },
		"user":   func(p *sdk.Principal) { p.UserID = "u2" },
		"client": func(p *sdk.Principal) { p.ClientID = "c2" },
		"roles":  func(p *sdk.Principal) { p.Roles = []string{"a"} },
		"scopes": func(p *sdk.Principal) { p.Scopes = nil },
		// length prefixes: moving a character between fields is another key
		"shift": func(p *sdk.Principal) { p.Tenant, p.UserID = "t1u", "1" },
	} {
		p := base
		mut(&p)
		if readKey(&p, []byte(`{}`)) == k {
			t.Errorf("%s: same key", name)
		}
	}
	if readKey(&base, []byte(`{} `)) == k {
		t.Error("body: same key")
	}
}

func TestReadCacheBoundsAndVersions(t *testing.T) {
	c := newReadCache(8000)
	body := []byte(strings.Repeat("x", 900))
	for i := range 20 {
		c.put(string(rune('a'+i)), "v1", body)
	}
	if c.bytes > c.max {
		t.Fatalf("%d bytes kept, bound %d", c.bytes, c.max)
	}
	if c.get("a", "v1") != nil {
		t.Error("the least recently used entry survived")
	}
	if got := c.get("t", "v1"); string(got) != string(body) || cap(got) != len(got) {
		t.Errorf("newest entry: len %d cap %d", len(got), cap(got))
	}
	if c.get("t", "v2") != nil || c.get("t", "v1") != nil {
		t.Error("an entry answered another version, or survived being found stale")
	}
	c.put("big", "v1", make([]byte, 1001)) // over max/8
	if c.get("big", "v1") != nil {
		t.Error("an oversized answer was kept")
	}
	c.put("e", "", body)
	if c.get("e", "") != nil {
		t.Error("an answer without a version was kept")
	}
	var off *readCache // off: every method is a no-op
	off.put("k", "v", body)
	if off.get("k", "v") != nil || newReadCache(0) != nil {
		t.Error("a disabled cache kept something")
	}
}
