package identity

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// The directory cache (issue 11 #2): clients and users — the principal a
// client or a refresh acts as, with its roles — are read from the store
// once and then served from memory, so a connector request verified by
// client id and secret, a client_credentials or refresh grant, and the
// /auth/sendcode client lookup cost no store read.
//
// Invalidation is explicit and shared. Every cached entry is stamped with
// the generation of its scope — "" for clients (the system scope), the
// tenant for users — read from the cache port (key "idg:<scope>") before the
// store read; an entry whose stamp differs from the current generation is
// reloaded. InvalidateDirectory writes a new generation: through Redis
// every instance sees it, through the near cache (NearKeyPrefixes) within
// a second, and the writing instance at once (the near cache drops its
// copy of a key it writes). Writers call it: the entity service for every
// user and role write (inside the transaction and again after commit, like
// the token revocation), the wiring after seeding clients and users from
// the YAML file. Entries also expire after Config.DirectoryCacheTTL, a
// bound on any write that bypassed the writers.
//
// When the generation cannot be read (Redis down and no recent copy) the
// cache is bypassed and the store answers, as before.

// NearKeyPrefixes are the cache keys identity reads on hot paths: the
// revocation marks (RevocationKeyPrefixes) and the directory generations.
// The wiring serves them from a near cache (cache.NewNear).
var NearKeyPrefixes = []string{"rvj:", "rvu:", "idg:"}

func dirGenKey(scope string) string { return "idg:" + scope }

// dirGenTTL is how long a generation mark lives: far longer than any entry
// (DirectoryCacheTTL), so an entry stamped before a mark existed can never
// match again after the mark expires.
const dirGenTTL = 7 * 24 * time.Hour

// maxDirEntries bounds each of the client and user maps.
const maxDirEntries = 20000

type dirEntry[T any] struct {
	v   T
	gen string
	at  time.Time
}

type dirCache struct {
	ttl time.Duration // <= 0: no cache

	mu      sync.RWMutex
	clients map[string]dirEntry[*client]
	users   map[[2]string]dirEntry[*user] // {tenant, id}
}

func newDirCache(ttl time.Duration) *dirCache {
	return &dirCache{ttl: ttl, clients: map[string]dirEntry[*client]{}, users: map[[2]string]dirEntry[*user]{}}
}

// generation reads the current generation of scope; ok false when it
// cannot be read (then the cache is not used).
func (s *Service) generation(ctx context.Context, scope string) (string, bool) {
	if s.dir.ttl <= 0 {
		return "", false
	}
	vals, err := s.c.MGet(ctx, dirGenKey(scope))
	if err != nil || len(vals) != 1 {
		return "", false
	}
	return string(vals[0]), true
}

func fresh[T any](e dirEntry[T], found bool, gen string, now time.Time, ttl time.Duration) bool {
	return found && e.gen == gen && now.Sub(e.at) < ttl && !now.Before(e.at)
}

func putBounded[K comparable, T any](m map[K]dirEntry[T], k K, e dirEntry[T]) {
	if _, ok := m[k]; !ok && len(m) >= maxDirEntries {
		clear(m) // bounded; refilled from the store
	}
	m[k] = e
}

// getClient returns the client id (system scope), errs.NotFound when there
// is none. The result is shared: read only.
func (s *Service) getClient(ctx context.Context, id string) (*client, error) {
	gen, useCache := s.generation(ctx, "")
	now := s.now()
	if useCache {
		s.dir.mu.RLock()
		e, ok := s.dir.clients[id]
		s.dir.mu.RUnlock()
		if fresh(e, ok, gen, now, s.dir.ttl) {
			return e.v, nil
		}
	}
	doc, err := s.st.Get(ctx, collClient, "", id)
	if err != nil {
		return nil, err
	}
	cl := clientFromDoc(doc)
	if useCache {
		s.dir.mu.Lock()
		putBounded(s.dir.clients, id, dirEntry[*client]{v: cl, gen: gen, at: now})
		s.dir.mu.Unlock()
	}
	return cl, nil
}

// getUser returns user id of tenant (active or not), nil when absent. The
// result is shared: read only.
func (s *Service) getUser(ctx context.Context, tenant, id string) (*user, error) {
	gen, useCache := s.generation(ctx, tenant)
	now := s.now()
	k := [2]string{tenant, id}
	if useCache {
		s.dir.mu.RLock()
		e, ok := s.dir.users[k]
		s.dir.mu.RUnlock()
		if fresh(e, ok, gen, now, s.dir.ttl) {
			return e.v, nil
		}
	}
	d, err := s.st.Get(ctx, collUser, tenant, id)
	if errors.Is(err, errs.E(errs.NotFound)) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "load user")
	}
	u := userFromDoc(d)
	if useCache {
		s.dir.mu.Lock()
		putBounded(s.dir.users, k, dirEntry[*user]{v: u, gen: gen, at: now})
		s.dir.mu.Unlock()
	}
	return u, nil
}

// InvalidateDirectory ends the cached clients (tenant "") or the cached
// users of tenant on every instance sharing the cache: at once on this
// one, within a second on the others. Writers of the client, user and role
// collections call it; an error (the cache down) should fail the write, so
// that no instance keeps serving what was changed.
func (s *Service) InvalidateDirectory(ctx context.Context, tenant string) error {
	s.dir.mu.Lock()
	if tenant == "" {
		clear(s.dir.clients)
	} else {
		for k := range s.dir.users {
			if k[0] == tenant {
				delete(s.dir.users, k)
			}
		}
	}
	s.dir.mu.Unlock()
	g, err := randomToken(12)
	if err != nil {
		return err
	}
	if err := s.c.Set(ctx, dirGenKey(tenant), []byte(g), dirGenTTL); err != nil {
		return errs.Wrap(errs.Unavailable, err, "invalidate the cached clients and users")
	}
	return nil
}
