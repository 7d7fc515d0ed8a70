package record

import (
	"context"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eimshub/eimshub/core/cache"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Form returns the tenant's form named by keyOrID: its id, else its API
// key (case-insensitively). NotFound (target "form") when there is none; a
// stored form whose content is invalid gives its schema error.
func (s *Service) Form(ctx context.Context, tenant, keyOrID string) (*schema.Form, error) {
	snap, err := s.forms.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if e, ok := snap.byID[keyOrID]; ok {
		return e.f, e.err
	}
	if e, ok := snap.byKey[strings.ToLower(keyOrID)]; ok && keyOrID != "" {
		return e.f, e.err
	}
	return nil, errs.NotFoundf("form %q not found", keyOrID).WithTarget("form")
}

// FormByID returns the tenant's form with this id (NotFound otherwise).
func (s *Service) FormByID(ctx context.Context, tenant, id string) (*schema.Form, error) {
	snap, err := s.forms.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if e, ok := snap.byID[id]; ok {
		return e.f, e.err
	}
	return nil, errs.NotFoundf("form %q not found", id).WithTarget("formId")
}

// FormByKey returns the tenant's form whose API key is key
// (case-insensitively; NotFound otherwise).
func (s *Service) FormByKey(ctx context.Context, tenant, key string) (*schema.Form, error) {
	snap, err := s.forms.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if e, ok := snap.byKey[strings.ToLower(key)]; ok && key != "" {
		return e.f, e.err
	}
	return nil, errs.NotFoundf("form %q not found", key).WithTarget("form")
}

// Forms lists the tenant's forms ordered by key (then id). A form whose
// stored content is invalid is logged and left out.
func (s *Service) Forms(ctx context.Context, tenant string) ([]*schema.Form, error) {
	snap, err := s.forms.get(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]*schema.Form, 0, len(snap.list))
	for _, e := range snap.list {
		if e.err != nil {
			s.log.WarnContext(ctx, "record: form with invalid content left out of the listing", "form", e.id, "err", e.err)
			continue
		}
		out = append(out, e.f)
	}
	return out, nil
}

// FormsChanged drops the cached forms of tenant here and, with a shared
// cache, on every instance (within CheckEvery). Call it after a write of a
// form commits.
func (s *Service) FormsChanged(ctx context.Context, tenant string) { s.forms.invalidate(ctx, tenant) }

// FormSaved declares the record index paths of f (store.EnsureIndex) and
// invalidates the tenant's cached forms: what every writer of a form does
// after its write commits. The index is best effort (logged on failure).
func (s *Service) FormSaved(ctx context.Context, tenant string, f *schema.Form) {
	s.FormsChanged(ctx, tenant)
	if f == nil {
		return
	}
	if err := s.st.EnsureIndex(ctx, Coll, f.IndexPaths()); err != nil {
		s.log.WarnContext(ctx, "record: ensure form indexes failed", "form", f.ID, "err", err)
	}
}

// formCache keeps each tenant's forms (see the package comment).
type formCache struct {
	st    store.Store
	c     cache.Cache
	every time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	tenants map[string]*snapshot
	// epoch counts local invalidations per tenant: a load that started
	// before one is not kept.
	epoch map[string]uint64
}

type snapshot struct {
	gen     int64
	checked time.Time
	byID    map[string]*formEntry
	byKey   map[string]*formEntry // lower-case key
	list    []*formEntry          // by key, then id
}

type formEntry struct {
	id, key string
	f       *schema.Form
	err     error
}

func newFormCache(st store.Store, c cache.Cache, every time.Duration, log *slog.Logger, now func() time.Time) *formCache {
	return &formCache{st: st, c: c, every: every, log: log, now: now, tenants: map[string]*snapshot{}, epoch: map[string]uint64{}}
}

func genKey(tenant string) string { return "fgen:" + tenant }

// generation reads the tenant's shared generation (0 without a cache or
// when unset). A cache error is returned.
func (fc *formCache) generation(ctx context.Context, tenant string) (int64, error) {
	if fc.c == nil {
		return 0, nil
	}
	b, err := fc.c.Get(ctx, genKey(tenant))
	if errs.CodeOf(err) == errs.NotFound {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, nil
	}
	return n, nil
}

func (fc *formCache) get(ctx context.Context, tenant string) (*snapshot, error) {
	now := fc.now()
	fc.mu.Lock()
	snap := fc.tenants[tenant]
	epoch := fc.epoch[tenant]
	fresh := snap != nil && (fc.c == nil || now.Sub(snap.checked) < fc.every)
	fc.mu.Unlock()
	if fresh {
		return snap, nil
	}
	gen, err := fc.generation(ctx, tenant)
	if err != nil {
		if snap != nil {
			// The shared cache is down: keep serving the local copy (it
			// still follows this instance's own writes) and retry later.
			fc.log.WarnContext(ctx, "record: form generation unavailable; serving cached forms", "tenant", tenant, "err", err)
			fc.mu.Lock()
			if fc.tenants[tenant] == snap {
				snap.checked = now
			}
			fc.mu.Unlock()
			return snap, nil
		}
		gen = -1 // unknown: the next check reloads
	}
	if snap != nil && gen == snap.gen {
		fc.mu.Lock()
		if fc.tenants[tenant] == snap {
			snap.checked = now
		}
		fc.mu.Unlock()
		return snap, nil
	}
	next, err := fc.load(ctx, tenant, gen, now)
	if err != nil {
		return nil, err
	}
	fc.mu.Lock()
	if fc.epoch[tenant] == epoch {
		fc.tenants[tenant] = next
	}
	fc.mu.Unlock()
	return next, nil
}

func (fc *formCache) load(ctx context.Context, tenant string, gen int64, now time.Time) (*snapshot, error) {
	docs, err := fc.st.Find(ctx, CollForm, tenant, query.Query{Limit: -1})
	if err != nil {
		return nil, err
	}
	snap := &snapshot{gen: gen, checked: now, byID: make(map[string]*formEntry, len(docs)),
		byKey: make(map[string]*formEntry, len(docs)), list: make([]*formEntry, 0, len(docs))}
	for _, d := range docs {
		id, _ := d["id"].(string)
		key, _ := d["key"].(string)
		f, err := schema.FormFromDoc(d)
		e := &formEntry{id: id, key: key, f: f, err: err}
		if err != nil {
			e.f = nil
		} else {
			f.Version = TimeOf(d["updateTime"])
		}
		snap.byID[id] = e
		snap.list = append(snap.list, e)
		if key != "" {
			lk := strings.ToLower(key)
			// Keys are unique ignoring case; should two collide anyway
			// (written behind the service's back), the exact spelling
			// that sorts first wins, deterministically.
			if old, dup := snap.byKey[lk]; !dup || key < old.key {
				snap.byKey[lk] = e
			}
		}
	}
	sort.SliceStable(snap.list, func(i, j int) bool {
		ki, kj := snap.list[i].key, snap.list[j].key
		if ki != kj {
			return ki < kj
		}
		return snap.list[i].id < snap.list[j].id
	})
	return snap, nil
}

func (fc *formCache) invalidate(ctx context.Context, tenant string) {
	fc.mu.Lock()
	delete(fc.tenants, tenant)
	fc.epoch[tenant]++
	fc.mu.Unlock()
	if fc.c == nil {
		return
	}
	if _, err := fc.c.Incr(ctx, genKey(tenant), 0); err != nil {
		fc.log.WarnContext(ctx, "record: form generation not shared; other instances see the change when their cache returns",
			"tenant", tenant, "err", err)
	}
}
