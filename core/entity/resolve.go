package entity

import (
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
)

// queryType maps a scalar property type to the query language's type.
func queryType(t PropType) (query.Type, bool) {
	switch t {
	case TString:
		return query.String, true
	case TInt, TNumber:
		return query.Number, true
	case TBool:
		return query.Bool, true
	case TTime:
		return query.Time, true
	case TEnum:
		return query.Enum, true
	}
	return 0, false
}

func unknownMember(name string) *errs.Error {
	return errs.Invalidf("unknown property %q", name).WithTarget(name)
}

// Resolver returns the query.Resolver of the kind's own properties (spec
// §7.2 rule 2): the gate between caller-written member paths and storage
// paths. Hidden properties (passwordHash) do not resolve. Records' `data/…`
// paths are resolved by the form's resolver layered on top of this one.
func (k *Kind) Resolver() query.Resolver {
	return query.ResolverFunc(func(segs []string) (query.Field, error) {
		name := strings.Join(segs, "/")
		if len(segs) == 0 {
			return query.Field{}, unknownMember(name)
		}
		p, ok := k.Prop(segs[0])
		if !ok || p.Hidden {
			return query.Field{}, unknownMember(name)
		}
		f := query.Field{Name: name}
		switch p.Type {
		case TOperator:
			// An Operator compares its id unless a sub-field is named (like an
			// employee field, §7.2 rule 3); it sorts by its label.
			sub := "id"
			if len(segs) == 2 {
				sub = operatorSub(segs[1])
				if sub == "" {
					return query.Field{}, unknownMember(name)
				}
			} else if len(segs) > 2 {
				return query.Field{}, unknownMember(name)
			}
			f.Path = query.Path{p.Name, sub}
			f.Type = query.String
			if sub == "id" {
				f.SortPath = query.Path{p.Name, "label"}
			}
			return f, nil
		case TObjects:
			// Any element satisfies (§7.2 rule 4); the first sub-property is
			// the implicit one (roles → roles/roleId).
			sub := &p.Sub[0]
			if len(segs) == 2 {
				sub = nil
				for i := range p.Sub {
					if strings.EqualFold(p.Sub[i].Name, segs[1]) {
						sub = &p.Sub[i]
					}
				}
				if sub == nil {
					return query.Field{}, unknownMember(name)
				}
			} else if len(segs) > 2 {
				return query.Field{}, unknownMember(name)
			}
			t, _ := queryType(sub.Type)
			f.Array, f.Path, f.Type, f.NoSort = query.Path{p.Name}, query.Path{sub.Name}, t, true
			return f, nil
		case TStrings:
			if len(segs) != 1 {
				return query.Field{}, unknownMember(name)
			}
			f.Array, f.Path, f.Type, f.NoSort = query.Path{p.Name}, query.Path{}, query.String, true
			return f, nil
		}
		t, ok := queryType(p.Type)
		if !ok {
			return query.Field{}, errs.Invalidf("property %q cannot be filtered or sorted", name).WithTarget(name)
		}
		if len(segs) != 1 {
			return query.Field{}, unknownMember(name)
		}
		f.Path, f.Type = query.Path{p.Name}, t
		if p.Type == TEnum {
			f.Enum = p.Enum
		}
		return f, nil
	})
}

func operatorSub(s string) string {
	for _, n := range []string{"id", "value", "label"} {
		if strings.EqualFold(n, s) {
			return n
		}
	}
	return ""
}

// selTree is a projection: property → nested projection (nil = the whole value).
type selTree map[string]selTree

func selectErr(item query.SelectItem, msg string) error {
	name := strings.Join(item.Segments, "/")
	return errs.Invalidf("$select: %s %q", msg, name).WithReason("invalid_select").
		WithTarget(name).WithPos(item.Pos)
}

// selection resolves $select items against the kind (and, for records, the
// form; nil form accepts any data key as written). It returns nil for "all".
func (k *Kind) selection(items []query.SelectItem, form *schema.Form) (selTree, error) {
	tree := selTree{}
	for _, it := range items {
		if len(it.Segments) == 0 {
			return nil, selectErr(it, "empty member")
		}
		p, ok := k.Prop(it.Segments[0])
		if !ok || p.Hidden {
			return nil, selectErr(it, "unknown property")
		}
		if len(it.Segments) == 1 {
			tree[p.Name] = nil
			continue
		}
		if len(it.Segments) > 2 {
			return nil, selectErr(it, "cannot select below")
		}
		var sub string
		seg := it.Segments[1]
		switch {
		case p.Type == TOperator:
			sub = operatorSub(seg)
		case p.Type == TObjects:
			for _, sp := range p.Sub {
				if strings.EqualFold(sp.Name, seg) {
					sub = sp.Name
				}
			}
		case k.IsRecord() && p.Name == "data":
			if form == nil {
				sub = seg
			} else if fd, ok := form.Lookup(seg); ok {
				sub = fd.Field
			}
		}
		if sub == "" {
			return nil, selectErr(it, "unknown property")
		}
		cur, seen := tree[p.Name]
		if seen && cur == nil {
			continue // already selected whole
		}
		if cur == nil {
			cur = selTree{}
			tree[p.Name] = cur
		}
		cur[sub] = nil
	}
	return tree, nil
}

// project keeps the selected properties of doc (id always); a nil tree keeps all.
func project(doc map[string]any, tree selTree) map[string]any {
	if tree == nil {
		return doc
	}
	out := map[string]any{}
	if id, ok := doc["id"]; ok {
		out["id"] = id
	}
	projectInto(out, doc, tree)
	return out
}

func projectInto(out, doc map[string]any, tree selTree) {
	for k, sub := range tree {
		v, ok := doc[k]
		if !ok {
			continue
		}
		if sub == nil {
			out[k] = v
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			m := map[string]any{}
			projectInto(m, x, sub)
			out[k] = m
		case []any:
			arr := make([]any, 0, len(x))
			for _, el := range x {
				if em, ok := el.(map[string]any); ok {
					m := map[string]any{}
					projectInto(m, em, sub)
					arr = append(arr, m)
				}
			}
			out[k] = arr
		}
	}
}

// exclude removes the paths in tree from doc (a nil leaf removes the key).
func exclude(doc map[string]any, tree selTree) {
	for k, sub := range tree {
		if k == "id" {
			continue
		}
		if sub == nil {
			delete(doc, k)
			continue
		}
		if m, ok := doc[k].(map[string]any); ok {
			exclude(m, sub)
		}
	}
}

// secretKeys are stored properties that never leave the service.
var secretKeys = []string{"deleteFlag", "passwordHash", "secretHash", "password"}

// clean returns a copy of doc for output: secrets removed, nulls omitted
// (recursively, §1.2). The copy is shallow where nothing needs cleaning: a
// nested map or slice without nulls (at any depth) is shared with doc, not
// copied (doc is the caller's own copy, fresh from the store or just
// written, and the answer is only read or changed at its top level).
func clean(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if v == nil {
			continue
		}
		out[k] = cleanValue(v)
	}
	for _, k := range secretKeys {
		delete(out, k)
	}
	return out
}

// cleanOwned is clean for a document the caller owns and no longer needs
// as it was (render's, fresh from the store): it cleans doc in place and
// returns it, saving the copy of every row of a listing.
func cleanOwned(doc map[string]any) map[string]any {
	for k, v := range doc {
		switch v.(type) {
		case nil:
			delete(doc, k)
			continue
		case map[string]any, []any:
			if needsClean(v) {
				doc[k] = cleanValue(v)
			}
		}
		if isSecretKey(k) {
			delete(doc, k)
		}
	}
	return doc
}

// isSecretKey reports whether k is one of secretKeys (compared in the
// loop over a document's members: no lookup per secret name).
func isSecretKey(k string) bool {
	for _, s := range secretKeys {
		if k == s {
			return true
		}
	}
	return false
}

func cleanValue(v any) any {
	if !needsClean(v) {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e != nil {
				out[k] = cleanValue(e)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, cleanValue(e))
			}
		}
		return out
	}
	return v
}

// needsClean reports whether cleanValue would change v: a null member or
// element at any depth, or a nil map or slice (which cleans to an empty one).
func needsClean(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return true
		}
		for _, e := range x {
			if e == nil || needsClean(e) {
				return true
			}
		}
	case []any:
		if x == nil {
			return true
		}
		for _, e := range x {
			if e == nil || needsClean(e) {
				return true
			}
		}
	}
	return false
}
