package sdktest

import (
	"cmp"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file evaluates the query AST over in-memory documents for MemHost,
// following the semantics documented on core/query's node types.

func lookup(d any, p sdk.Path) (any, bool) {
	cur := d
	for _, k := range p {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, cur != nil
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	}
	return 0, false
}

// compare returns -1/0/1 and whether a and b are comparable.
func compare(a, b any) (int, bool) {
	if x, ok := num(a); ok {
		if y, ok := num(b); ok {
			return cmp.Compare(x, y), true
		}
		return 0, false
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case bool:
		if y, ok := b.(bool); ok {
			if x == y {
				return 0, true
			}
			if !x {
				return -1, true
			}
			return 1, true
		}
	case map[string]any: // select-like values compare by their "value"
		if v, ok := x["value"]; ok {
			return compare(v, b)
		}
	}
	return 0, false
}

func match(d any, e sdk.Expr) bool {
	switch x := e.(type) {
	case nil:
		return true
	case sdk.And:
		for _, it := range x.Items {
			if !match(d, it) {
				return false
			}
		}
		return true
	case sdk.Or:
		for _, it := range x.Items {
			if match(d, it) {
				return true
			}
		}
		return false
	case sdk.Not:
		return !match(d, x.X)
	case sdk.Const:
		return x.Value
	case sdk.Cmp:
		v, ok := lookup(d, x.Path)
		if !ok {
			return x.Op == sdk.Ne
		}
		c, ok := compare(v, x.Value)
		if !ok {
			return x.Op == sdk.Ne
		}
		switch x.Op {
		case sdk.Eq:
			return c == 0
		case sdk.Ne:
			return c != 0
		case sdk.Gt:
			return c > 0
		case sdk.Ge:
			return c >= 0
		case sdk.Lt:
			return c < 0
		case sdk.Le:
			return c <= 0
		}
	case sdk.In:
		v, ok := lookup(d, x.Path)
		if !ok {
			return false
		}
		for _, w := range x.Values {
			if c, ok := compare(v, w); ok && c == 0 {
				return true
			}
		}
		return false
	case sdk.Str:
		v, _ := lookup(d, x.Path)
		s, ok := v.(string)
		if !ok {
			return false
		}
		switch x.Fn {
		case sdk.Contains:
			return strings.Contains(s, x.Value)
		case sdk.StartsWith:
			return strings.HasPrefix(s, x.Value)
		case sdk.EndsWith:
			return strings.HasSuffix(s, x.Value)
		}
	case sdk.Null:
		_, present := lookup(d, x.Path)
		return present != x.IsNull
	case sdk.AnyRow:
		v, _ := lookup(d, x.Array)
		rows, _ := v.([]any)
		for _, r := range rows {
			if match(r, x.Pred) {
				return true
			}
		}
		return false
	}
	return false
}

// run filters, sorts and pages docs by q.
func run(docs []sdk.Doc, q sdk.Query) (page []sdk.Doc, total int64) {
	var hits []sdk.Doc
	for _, d := range docs {
		if match(d, q.Filter) {
			hits = append(hits, d)
		}
	}
	slices.SortStableFunc(hits, func(a, b sdk.Doc) int {
		for _, s := range q.Sort {
			va, oka := lookup(a, s.Path)
			vb, okb := lookup(b, s.Path)
			var c int
			switch {
			case !oka && !okb:
				c = 0
			case !oka:
				c = -1
			case !okb:
				c = 1
			default:
				c, _ = compare(va, vb)
			}
			if s.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a["id"].(string), b["id"].(string))
	})
	total = int64(len(hits))
	if q.Offset > 0 {
		if q.Offset >= len(hits) {
			hits = nil
		} else {
			hits = hits[q.Offset:]
		}
	}
	if q.Limit >= 0 && q.Limit < len(hits) {
		hits = hits[:q.Limit]
	}
	return hits, total
}
