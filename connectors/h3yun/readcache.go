package h3yun

import (
	"container/list"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Answers of LoadBizObject and LoadBizObjects kept for reuse. Such an
// answer is a function of the request body, the caller, the connector's
// configuration and the store's contents. The host names the store's
// committed state in every request (sdk.Request.StoreVersion, taken after
// the caller was authenticated and before the connector runs; any commit
// by any process changes it). The connector keeps each answer with the
// version of the request it answered — read after that version was taken,
// so at least that current — and an identical request (same body, same
// caller) under the same version gets those bytes again: nothing was
// committed in between, so the reads would return what they returned.
// There is then no call back to the host at all: no rows cross the plugin
// boundary, none is decoded or rendered again. Hosts whose store names no
// version (MongoDB, MemHost) send "", and nothing is kept.
//
// The configuration is covered by keeping the cache in settings: a
// reconfiguration starts an empty one. Errors are never kept.

// defaultReadCacheBytes bounds the kept answers' bytes per connector
// process (settings.ReadCacheBytes); an answer larger than an eighth of
// the bound is not kept.
const defaultReadCacheBytes = 16 << 20

type readCache struct {
	max int

	mu    sync.Mutex
	bytes int
	ll    *list.List // front: most recently used *readEntry
	m     map[string]*list.Element
}

type readEntry struct {
	key, version string
	body         []byte
}

// newReadCache returns a cache of at most max bytes; nil (off) for max ≤ 0.
func newReadCache(max int) *readCache {
	if max <= 0 {
		return nil
	}
	return &readCache{max: max, ll: list.New(), m: map[string]*list.Element{}}
}

// readKey is the key of a read: the caller (tenant, user, client, sorted
// roles and scopes), then the raw request body, each length-prefixed so
// that no two different requests share a key.
func readKey(p *sdk.Principal, body []byte) string {
	roles, scopes := slices.Clone(p.Roles), slices.Clone(p.Scopes)
	slices.Sort(roles)
	slices.Sort(scopes)
	var b strings.Builder
	b.Grow(len(body) + 128)
	for _, s := range []string{p.Tenant, p.UserID, p.ClientID} {
		field(&b, s)
	}
	for _, list := range [][]string{roles, scopes} {
		b.WriteString(strconv.Itoa(len(list)))
		b.WriteByte('#')
		for _, s := range list {
			field(&b, s)
		}
	}
	field(&b, string(body))
	return b.String()
}

func field(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// get returns the answer kept for key at version (nil when none, when it
// was kept at another version, or when version is "").
func (c *readCache) get(key, version string) []byte {
	if c == nil || version == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[key]
	if !ok {
		return nil
	}
	e := el.Value.(*readEntry)
	if e.version != version {
		c.remove(el) // stale for good: versions never come back
		return nil
	}
	c.ll.MoveToFront(el)
	return e.body
}

// put keeps body as the answer to key at version ("" is not kept).
func (c *readCache) put(key, version string, body []byte) {
	if c == nil || version == "" || len(key)+len(body) > c.max/8 {
		return
	}
	size := len(key) + len(body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[key]; ok {
		c.remove(el)
	}
	for c.bytes+size > c.max && c.ll.Len() > 0 {
		c.remove(c.ll.Back())
	}
	c.m[key] = c.ll.PushFront(&readEntry{key: key, version: version, body: body[:len(body):len(body)]})
	c.bytes += size
}

func (c *readCache) remove(el *list.Element) {
	e := c.ll.Remove(el).(*readEntry)
	delete(c.m, e.key)
	c.bytes -= len(e.key) + len(e.body)
}

// answer is a kept body as a response of its own: headers are not shared,
// and the body's capacity is capped, so an append copies it.
func answer(body []byte) *sdk.Response {
	return &sdk.Response{Status: http.StatusOK, Headers: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: body}
}
