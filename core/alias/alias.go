// Package alias keeps, per tenant, per dialect namespace and per entity
// kind, a two-way alias between an external id (an e-office user
// "WV00000418", an H3Yun GUID an old system stores, an integer department
// id) and a hub id (issue 11 #6).
//
// Both directions are unique: an external id names one hub id and a hub id
// has one external id per (namespace, kind). The store port has no unique
// index, so each alias is two documents whose ids are derived from
// (tenant, namespace, kind, direction, value): the store refuses a second
// document with the same id (errs.Conflict), in one transaction for both.
// Lookups are one Find per direction, whatever the batch size.
//
// Aliases are allocated by connectors from a per-(tenant, namespace, kind)
// sequence (prefix + zero-padded number, e.g. WV00000001; compare-and-set
// on the counter, so concurrent allocations never hand out a number twice)
// or given by the administrator in the YAML seed (Set).
package alias

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// Coll is the aliases' collection (hub-internal: not an entity of the
// native catalogue).
const Coll = "alias"

// Limits of one call and of the values.
const (
	MaxBatch    = 1000
	maxExtLen   = 128
	maxWidth    = 18
	maxAttempts = 32
)

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{0,16}$`)
)

// Service reads and writes aliases over a store. Lookups are cached
// (cache.go).
type Service struct {
	st    store.Store
	cache *lookupCache
}

// New returns a Service over st.
func New(st store.Store) *Service { return &Service{st: st, cache: newLookupCache()} }

// Sequence shapes allocated external ids: Prefix then Width zero-padded
// digits (Width 0 = no padding).
type Sequence struct {
	Prefix string
	Width  int
}

func check(tenant, ns, kind string) error {
	if tenant == "" {
		return errs.New(errs.Unauthorized, "no authenticated tenant")
	}
	if !namePattern.MatchString(ns) {
		return errs.Invalidf("alias namespace %q must be 1-32 lower-case letters, digits or _", ns).WithTarget("namespace")
	}
	if !namePattern.MatchString(kind) {
		return errs.Invalidf("alias kind %q must be 1-32 lower-case letters, digits or _", kind).WithTarget("kind")
	}
	return nil
}

func checkValues(vals []string, target string) error {
	if len(vals) > MaxBatch {
		return errs.Invalidf("at most %d ids per call", MaxBatch).WithTarget(target)
	}
	for i, v := range vals {
		if v == "" || len(v) > maxExtLen || strings.ContainsAny(v, "\x00") {
			return errs.Invalidf("id %d is empty, longer than %d bytes or contains NUL", i, maxExtLen).WithTarget(fmt.Sprintf("%s[%d]", target, i))
		}
	}
	return nil
}

// docID is the derived id of one direction of an alias.
func docID(tenant, ns, kind, dir, value string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + ns + "\x00" + kind + "\x00" + dir + "\x00" + value))
	return "al" + dir + hex.EncodeToString(h[:15])
}

const (
	dirExt = "e" // document keyed by the external id
	dirHub = "h" // document keyed by the hub id
	dirSeq = "s" // the sequence counter
)

// ToHub returns the hub ids of the external ids that have an alias.
func (s *Service) ToHub(ctx context.Context, tenant, ns, kind string, ext []string) (map[string]string, error) {
	return s.lookup(ctx, tenant, ns, kind, dirExt, ext)
}

// ToExt returns the external ids of the hub ids that have an alias.
func (s *Service) ToExt(ctx context.Context, tenant, ns, kind string, ids []string) (map[string]string, error) {
	return s.lookup(ctx, tenant, ns, kind, dirHub, ids)
}

// lookup answers from the cache and reads the rest from the store (one
// Find), keeping what it read.
func (s *Service) lookup(ctx context.Context, tenant, ns, kind, dir string, vals []string) (map[string]string, error) {
	if err := check(tenant, ns, kind); err != nil {
		return nil, err
	}
	target := "toHub"
	if dir == dirHub {
		target = "toExt"
	}
	if err := checkValues(vals, target); err != nil {
		return nil, err
	}
	out := map[string]string{}
	base := cacheKey{tenant: tenant, ns: ns, kind: kind, dir: dir}
	var missing []string
	for _, v := range vals {
		k := base
		k.value = v
		if other, ok := s.cache.get(k); !ok {
			missing = append(missing, v)
		} else if other != "" {
			out[v] = other
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	gen := s.cache.generation()
	found, err := s.find(ctx, tenant, ns, kind, dir, missing)
	if err != nil {
		return nil, err
	}
	s.cache.put(base, missing, found, gen)
	for v, other := range found {
		out[v] = other
	}
	return out, nil
}

// find reads the aliases of vals (one direction) from the store, without
// the cache (inside a transaction, uncommitted aliases are visible).
func (s *Service) find(ctx context.Context, tenant, ns, kind, dir string, vals []string) (map[string]string, error) {
	out := map[string]string{}
	if len(vals) == 0 {
		return out, nil
	}
	ids := make([]any, len(vals))
	for i, v := range vals {
		ids[i] = docID(tenant, ns, kind, dir, v)
	}
	docs, err := s.st.Find(ctx, Coll, tenant, query.Query{Filter: query.In{Path: query.Path{"id"}, Values: ids}, Limit: -1})
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		e, _ := d["ext"].(string)
		h, _ := d["hubId"].(string)
		if dir == dirExt {
			out[e] = h
		} else {
			out[h] = e
		}
	}
	return out, nil
}

// Set records ext ↔ id (idempotent for the same pair). Conflict when ext
// already names another hub id or id already has another external id.
func (s *Service) Set(ctx context.Context, tenant, ns, kind, ext, id string) error {
	if err := check(tenant, ns, kind); err != nil {
		return err
	}
	if err := checkValues([]string{ext}, "ext"); err != nil {
		return err
	}
	if err := checkValues([]string{id}, "id"); err != nil {
		return err
	}
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		ok, err := s.pairFree(ctx, tenant, ns, kind, ext, id)
		if err != nil || !ok {
			return err
		}
		return s.insertPair(ctx, tenant, ns, kind, ext, id)
	})
	if err == nil {
		s.cache.wrote(tenant, ns, kind, map[string]string{id: ext})
	}
	return err
}

// pairFree reports whether ext ↔ id can be inserted: false (no error)
// when exactly this pair exists, Conflict when either side is taken.
func (s *Service) pairFree(ctx context.Context, tenant, ns, kind, ext, id string) (bool, error) {
	byExt, err := s.get(ctx, tenant, docID(tenant, ns, kind, dirExt, ext))
	if err != nil {
		return false, err
	}
	byHub, err := s.get(ctx, tenant, docID(tenant, ns, kind, dirHub, id))
	if err != nil {
		return false, err
	}
	if byExt == nil && byHub == nil {
		return true, nil
	}
	if byExt != nil && byHub != nil && byExt["hubId"] == id && byHub["ext"] == ext {
		return false, nil
	}
	if byExt != nil {
		return false, errs.Conflictf("%s %s alias %q already names another id", ns, kind, ext).WithTarget("ext")
	}
	return false, errs.Conflictf("%s %s %q already has the alias %v", ns, kind, id, byHub["ext"]).WithTarget("id")
}

func (s *Service) get(ctx context.Context, tenant, id string) (store.Doc, error) {
	d, err := s.st.Get(ctx, Coll, tenant, id)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil
	}
	return d, err
}

func (s *Service) insertPair(ctx context.Context, tenant, ns, kind, ext, id string) error {
	for _, dir := range []string{dirExt, dirHub} {
		key := ext
		if dir == dirHub {
			key = id
		}
		if err := s.st.Insert(ctx, Coll, store.Doc{"id": docID(tenant, ns, kind, dir, key), "corpId": tenant,
			"ns": ns, "kind": kind, "dir": dir, "ext": ext, "hubId": id}); err != nil {
			return err
		}
	}
	return nil
}

// Allocate gives every id without an alias a new external id from the
// (tenant, ns, kind) sequence and returns the aliases of all ids (existing
// and new). A number whose external id is already taken (given by the
// administrator) is skipped. Concurrent allocations are serialised by a
// compare-and-set on the counter and retried on conflict.
//
// The ids are first looked up in the lookup cache (no store read): when
// all of them have a cached alias — a list shown before — no transaction
// is opened. Only the ids not cached go into the transaction, which reads
// their aliases before allocating (another allocator, here or on another
// instance, may have given them one since), so the allocation stays
// race-free; once it has committed, the aliases of those ids (read or
// allocated) are cached. Not to be called inside a caller's store
// transaction: the cached aliases must be committed ones.
func (s *Service) Allocate(ctx context.Context, tenant, ns, kind string, ids []string, seq Sequence) (map[string]string, error) {
	if err := check(tenant, ns, kind); err != nil {
		return nil, err
	}
	if err := checkValues(ids, "toExt"); err != nil {
		return nil, err
	}
	if !prefixPattern.MatchString(seq.Prefix) {
		return nil, errs.Invalidf("alias prefix %q must be at most 16 letters, digits, _ or -", seq.Prefix).WithTarget("prefix")
	}
	if seq.Width < 0 || seq.Width > maxWidth {
		return nil, errs.Invalidf("alias width must be 0-%d", maxWidth).WithTarget("width")
	}
	known, missing := s.cache.known(tenant, ns, kind, ids)
	if len(missing) == 0 {
		return known, nil
	}
	var err error
	var out map[string]string
	for range maxAttempts {
		err = s.st.Tx(ctx, func(ctx context.Context) error {
			var err error
			out, err = s.allocate(ctx, tenant, ns, kind, missing, seq)
			return err
		})
		if errs.CodeOf(err) != errs.Conflict {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s.cache.wrote(tenant, ns, kind, out)
	s.cache.keep(tenant, ns, kind, out)
	for id, ext := range known {
		out[id] = ext
	}
	return out, nil
}

func (s *Service) allocate(ctx context.Context, tenant, ns, kind string, ids []string, seq Sequence) (map[string]string, error) {
	out, err := s.find(ctx, tenant, ns, kind, dirHub, ids)
	if err != nil {
		return nil, err
	}
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := out[id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	cid := docID(tenant, ns, kind, dirSeq, seq.Prefix)
	counter, err := s.get(ctx, tenant, cid)
	if err != nil {
		return nil, err
	}
	var next int64
	if counter != nil {
		next, _ = counter["next"].(int64)
	}
	start := next
	for _, id := range missing {
		for {
			next++
			ext := seq.Prefix + pad(next, seq.Width)
			taken, err := s.get(ctx, tenant, docID(tenant, ns, kind, dirExt, ext))
			if err != nil {
				return nil, err
			}
			if taken != nil {
				continue
			}
			if err := s.insertPair(ctx, tenant, ns, kind, ext, id); err != nil {
				return nil, err
			}
			out[id] = ext
			break
		}
	}
	doc := store.Doc{"id": cid, "corpId": tenant, "ns": ns, "kind": kind, "dir": dirSeq, "prefix": seq.Prefix, "next": next}
	if counter == nil {
		return out, s.st.Insert(ctx, Coll, doc)
	}
	return out, s.st.Update(ctx, Coll, tenant, cid, doc, query.Cmp{Path: query.Path{"next"}, Op: query.Eq, Value: float64(start)})
}

func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}
