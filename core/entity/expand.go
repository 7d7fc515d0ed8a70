package entity

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// expandBatch bounds the ids of one In lookup.
const expandBatch = 1000

// render turns stored documents into output objects: projected by sel,
// cleaned (secrets and nulls dropped) and with the expanded navigations
// attached (§7.4, §7.5). Each navigation costs one batched Find per level,
// whatever the number of rows. docs must be fresh from the store: render
// cleans them in place (cleanOwned), the answers may be the docs themselves.
func (s *Service) render(ctx context.Context, tenant string, k *Kind, docs []store.Doc, sel selTree, exp []query.ExpandItem) ([]map[string]any, error) {
	return s.renderExp(ctx, tenant, k, docs, sel, exp, parsedExpands.owns(exp))
}

// renderExp is render; memo is true when exp (and so every nested item)
// comes from the memo of parsed options, whose expansions may be cached
// (expandcache.go).
func (s *Service) renderExp(ctx context.Context, tenant string, k *Kind, docs []store.Doc, sel selTree, exp []query.ExpandItem, memo bool) ([]map[string]any, error) {
	out := make([]map[string]any, len(docs))
	for i, d := range docs {
		// docs are the store's answer, owned here: clean in place (render
		// reads d's id and navigation keys below, which cleaning keeps).
		out[i] = cleanOwned(project(d, sel))
		redact(ctx, k, d, out[i])
	}
	for n := range exp {
		it := &exp[n]
		nav, ok := k.Nav(it.Name)
		if !ok {
			continue // checked by checkExpand
		}
		tk, _ := Builtin(nav.Target)
		keys := make([][]string, len(docs))
		var ids []any
		seen := map[string]bool{}
		for i, d := range docs {
			keys[i] = navKeys(d, nav)
			for _, id := range keys[i] {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
		var sub selTree
		if it.Select != nil {
			var err error
			if memo {
				sub, err = s.expanded.selection(tk, it)
			} else {
				sub, err = tk.selection(it.Select, nil)
			}
			if err != nil {
				return nil, err
			}
		}
		byID := make(map[string]map[string]any, len(ids))
		var (
			ver    [6]uint64
			cached bool
		)
		if memo && s.ver != nil && len(ids) > 0 && s.expanded.readerFree(tk, sub, it) {
			// The version before the reads: a commit racing with them
			// leaves entries that never match.
			if ver, cached = s.ver.CommittedVersion(ctx); cached {
				missing := ids[:0:0]
				for _, id := range ids {
					if m, ok := s.expanded.get(tenant, it, id.(string), ver); ok {
						byID[id.(string)] = m
					} else {
						missing = append(missing, id)
					}
				}
				ids = missing
			}
		}
		var targets []store.Doc
		for start := 0; start < len(ids); start += expandBatch {
			batch := ids[start:min(start+expandBatch, len(ids))]
			found, err := s.st.Find(ctx, tk.Coll, tenant, query.Query{
				Filter: query.In{Path: query.Path{"id"}, Values: batch}, Limit: -1})
			if err != nil {
				return nil, err
			}
			targets = append(targets, found...)
		}
		rendered, err := s.renderExp(ctx, tenant, tk, targets, sub, it.Expand, memo)
		if err != nil {
			return nil, err
		}
		for i, t := range targets {
			id, _ := t["id"].(string)
			byID[id] = rendered[i]
			if cached {
				s.expanded.put(tenant, it, id, ver, rendered[i])
			}
		}
		for i := range out {
			if nav.Many {
				arr := []any{}
				for _, id := range keys[i] {
					if m, ok := byID[id]; ok {
						arr = append(arr, m)
					}
				}
				out[i][nav.Name] = arr
				continue
			}
			var v any // null when absent (§7.5)
			if len(keys[i]) == 1 {
				if m, ok := byID[keys[i][0]]; ok {
					v = m
				}
			}
			out[i][nav.Name] = v
		}
	}
	return out, nil
}

// navKeys reads the joined ids of nav from doc.
func navKeys(d store.Doc, nav *Nav) []string {
	if !nav.Many {
		if s, ok := at(d, nav.Key).(string); ok && s != "" {
			return []string{s}
		}
		return nil
	}
	arr, _ := at(d, nav.Array).([]any)
	var out []string
	for _, el := range arr {
		if m, ok := el.(map[string]any); ok {
			if s, ok := at(m, nav.Key).(string); ok && s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// at returns the value at path in d (nil when absent).
func at(d map[string]any, path query.Path) any {
	var v any = d
	for _, seg := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	return v
}

// bareFilter returns the filter of a POST $count body: the body itself, or
// its "filter" member; nil for an empty body.
func bareFilter(body []byte) json.RawMessage {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		var f json.RawMessage
		plain := true
		for k, v := range m {
			switch strings.ToLower(k) {
			case "filter":
				f = v
			case "rel", "field", "items":
				plain = false
			}
		}
		if f != nil && plain {
			if bytes.Equal(bytes.TrimSpace(f), []byte("null")) {
				return nil
			}
			return f
		}
	}
	return body
}
