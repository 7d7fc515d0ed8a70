package dabei

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// The filter object (spec 5.7) compiled onto the core query AST: every
// condition one comparison node, AND-ed; keys validated against the form
// before anything reaches a store. Nothing is string-built.

// MaxConditions bounds a filter (spec 9).
const MaxConditions = 50

var filterOps = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true,
	"in": true, "nin": true, "like": true, "empty": true}

// target is what a filter key compares: a scalar path, or an array path
// with the element's sub-path (array-valued fields).
type target struct {
	key     string
	path    sdk.Path
	array   bool
	sub     sdk.Path
	ordered bool // gt/ge/lt/le allowed
	text    bool // like allowed
	coerce  func(v any) (sdk.Value, error)
	// expand maps one Dabei value to the core values it stands for
	// (sys_status).
	expand func(sdk.Value) []sdk.Value
}

// CompileFilter compiles a Dabei filter object for form f.
func (c *Call) CompileFilter(ctx context.Context, f *sdk.Form, filter map[string]any) (sdk.Expr, error) {
	if len(filter) > MaxConditions {
		return nil, Failf(CodeInvalid, "参数错误：过滤条件超过 %d 个", MaxConditions)
	}
	keys := make([]string, 0, len(filter))
	for k := range filter {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var items []sdk.Expr
	n := 0
	for _, k := range keys {
		t, err := c.filterTarget(ctx, f, k)
		if err != nil {
			return nil, err
		}
		v := filter[k]
		if m, isObj := v.(map[string]any); isObj {
			if len(m) == 0 {
				return nil, Failf(CodeInvalid, "参数错误：过滤条件 %s 为空对象", k)
			}
			ops := make([]string, 0, len(m))
			for op := range m {
				if !filterOps[op] {
					return nil, Failf(CodeInvalid, "参数错误：过滤条件 %s 的运算符不支持：%s", k, op)
				}
				ops = append(ops, op)
			}
			slices.Sort(ops)
			for _, op := range ops {
				if n++; n > MaxConditions {
					return nil, Failf(CodeInvalid, "参数错误：过滤条件超过 %d 个", MaxConditions)
				}
				e, err := t.op(op, m[op])
				if err != nil {
					return nil, err
				}
				items = append(items, e)
			}
			continue
		}
		if n++; n > MaxConditions {
			return nil, Failf(CodeInvalid, "参数错误：过滤条件超过 %d 个", MaxConditions)
		}
		var e sdk.Expr
		switch x := v.(type) {
		case nil:
			e, err = t.op("empty", true)
		case string:
			if x == "" {
				e, err = t.op("empty", true)
			} else {
				e, err = t.op("eq", x)
			}
		case []any:
			e, err = t.op("in", x)
		default:
			e, err = t.op("eq", x)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	return sdk.AndOf(items...), nil
}

func (t *target) bad(op string) error {
	return Failf(CodeInvalid, "参数错误：过滤条件 %s 不支持运算符 %s", t.key, op)
}

func (t *target) values(op string, v any) ([]sdk.Value, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, t.bad(op)
	}
	if len(a) > 1000 {
		return nil, Failf(CodeInvalid, "参数错误：过滤条件 %s 的值过多", t.key)
	}
	out := make([]sdk.Value, 0, len(a))
	for _, x := range a {
		if _, isObj := x.(map[string]any); isObj {
			return nil, t.bad(op)
		}
		if _, isArr := x.([]any); isArr {
			return nil, t.bad(op)
		}
		cv, err := t.coerce(x)
		if err != nil {
			return nil, err
		}
		out = append(out, cv)
	}
	return out, nil
}

// op compiles one operator condition.
func (t *target) op(op string, v any) (sdk.Expr, error) {
	if op == "empty" {
		b, ok := v.(bool)
		if !ok {
			return nil, t.bad(op)
		}
		return sdk.Null{Path: t.path, IsNull: b}, nil
	}
	if _, isObj := v.(map[string]any); isObj {
		return nil, t.bad(op)
	}
	wrap := func(e sdk.Expr) sdk.Expr {
		if t.array {
			return sdk.AnyRow{Array: t.path, Pred: e}
		}
		return e
	}
	p := t.path
	if t.array {
		p = t.sub
	}
	switch op {
	case "in", "nin":
		vals, err := t.values(op, v)
		if err != nil {
			return nil, err
		}
		if t.expand != nil {
			var all []sdk.Value
			for _, x := range vals {
				all = append(all, t.expand(x)...)
			}
			vals = all
		}
		e := wrap(sdk.In{Path: p, Values: vals})
		if op == "nin" {
			return sdk.Not{X: e}, nil
		}
		return e, nil
	}
	if _, isArr := v.([]any); isArr {
		return nil, t.bad(op)
	}
	if v == nil {
		return nil, t.bad(op)
	}
	switch op {
	case "like":
		s, ok := v.(string)
		if !ok || !t.text {
			return nil, t.bad(op)
		}
		return wrap(sdk.Str{Path: p, Fn: sdk.Contains, Value: s}), nil
	case "eq", "ne":
		cv, err := t.coerce(v)
		if err != nil {
			return nil, err
		}
		if t.expand != nil {
			e := sdk.Expr(sdk.In{Path: p, Values: t.expand(cv)})
			if op == "ne" {
				return sdk.Not{X: e}, nil
			}
			return e, nil
		}
		if op == "ne" {
			return sdk.Not{X: wrap(sdk.Cmp{Path: p, Op: sdk.Eq, Value: cv})}, nil
		}
		return wrap(sdk.Cmp{Path: p, Op: sdk.Eq, Value: cv}), nil
	}
	if !t.ordered || t.array {
		return nil, t.bad(op)
	}
	cv, err := t.coerce(v)
	if err != nil {
		return nil, err
	}
	ops := map[string]sdk.Op{"gt": sdk.Gt, "ge": sdk.Ge, "lt": sdk.Lt, "le": sdk.Le}
	return sdk.Cmp{Path: p, Op: ops[op], Value: cv}, nil
}

func textValue(key string) func(v any) (sdk.Value, error) {
	return func(v any) (sdk.Value, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		}
		return nil, typeErr(key)
	}
}

// filterTarget resolves a filter key: a system key, a field id, or a
// unique field display name; anything else is 10001.
func (c *Call) filterTarget(ctx context.Context, f *sdk.Form, key string) (*target, error) {
	idOf := func(kind string) func(v any) (sdk.Value, error) {
		return func(v any) (sdk.Value, error) {
			s, ok := v.(string)
			if !ok {
				return nil, typeErr(key)
			}
			hub, err := c.HubID(ctx, kind, s)
			if err != nil {
				return nil, err
			}
			if hub == "" {
				return "\x00none", nil // matches nothing: an id of no entity
			}
			return hub, nil
		}
	}
	ms := func(v any) (sdk.Value, error) { return epochMS(key, v, c.Cfg.loc) }
	switch key {
	case "id":
		return &target{key: key, path: sdk.Path{"id"}, coerce: idOf(kindRecord)}, nil
	case "data_title":
		return &target{key: key, path: sdk.Path{"dataTitle"}, text: true, ordered: true, coerce: textValue(key)}, nil
	case "sys_create_time":
		return &target{key: key, path: sdk.Path{"createTime"}, ordered: true, coerce: ms}, nil
	case "sys_update_time":
		return &target{key: key, path: sdk.Path{"updateTime"}, ordered: true, coerce: ms}, nil
	case "sys_create_by":
		return &target{key: key, path: sdk.Path{"createBy", "id"}, coerce: idOf(kindUser)}, nil
	case "sys_update_by":
		return &target{key: key, path: sdk.Path{"updateBy", "id"}, coerce: idOf(kindUser)}, nil
	case "sys_status":
		return &target{key: key, path: sdk.Path{"flowStatus"}, coerce: func(v any) (sdk.Value, error) {
			n, err := number(key, v)
			if err != nil {
				return nil, err
			}
			return int64(n), nil
		}, expand: func(v sdk.Value) []sdk.Value {
			n, _ := v.(int64)
			return append([]sdk.Value{}, flowStatuses[n]...)
		}}, nil
	}
	fd := lookupField(f.Fields, key)
	if fd == nil {
		return nil, Failf(CodeInvalid, "参数错误：过滤字段不存在：%s", key)
	}
	base := sdk.Path{"data", fd.Field}
	switch fd.Type {
	case "input", "textarea":
		return &target{key: key, path: base, text: true, ordered: true, coerce: textValue(key)}, nil
	case "number":
		return &target{key: key, path: base, ordered: true, coerce: func(v any) (sdk.Value, error) { return number(key, v) }}, nil
	case "timestamp":
		return &target{key: key, path: base, ordered: true, coerce: ms}, nil
	case "select", "radio":
		return &target{key: key, path: append(base, "value"), coerce: func(v any) (sdk.Value, error) { return optionValue(fd, key, v) }}, nil
	case "checkbox", "select2":
		return &target{key: key, path: base, array: true, sub: sdk.Path{"value"}, coerce: func(v any) (sdk.Value, error) { return optionValue(fd, key, v) }}, nil
	case "employee1":
		return &target{key: key, path: append(base, "id"), coerce: idOf(kindUser)}, nil
	case "department1":
		return &target{key: key, path: append(base, "id"), coerce: idOf(kindDept)}, nil
	case "employee2":
		return &target{key: key, path: base, array: true, sub: sdk.Path{"id"}, coerce: idOf(kindUser)}, nil
	case "department2":
		return &target{key: key, path: base, array: true, sub: sdk.Path{"id"}, coerce: idOf(kindDept)}, nil
	}
	return nil, Failf(CodeInvalid, "参数错误：字段 %s 不能用于过滤", key)
}
