package eoffice

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// List conventions (spec §4): page/limit/autoFixPage/order_by/search/
// fields/response. The search grammar compiles onto the core query AST
// (sdk.Expr): every caller-supplied key is looked up in the list's column
// table, so no caller key ever becomes a store path or operator.

// ColType is a column's value type: search values (strings from forms and
// query strings) are converted to it.
type ColType int

// Column types.
const (
	TString ColType = iota
	TInt
	TNumber
)

// Column is a searchable and sortable e-office column: its core path and
// type.
type Column struct {
	Path sdk.Path
	Type ColType
}

// Columns maps e-office column names to core columns.
type Columns map[string]Column

// VirtualFunc compiles a search key the list consumes itself (the user
// list's dept_id, role_id; §4.1 "virtual keys"): ok false means key is
// not virtual. value is the condition's value, op its operator
// (lower-cased, "=" when omitted).
type VirtualFunc func(key string, value any, op string) (expr sdk.Expr, ok bool, err error)

// SearchOptions describe a list's search.
type SearchOptions struct {
	Columns Columns
	Virtual VirtualFunc
	// Multi enables multiSearch and __relation__ (user, role and form
	// lists; §4.1).
	Multi bool
	// FormModeling: bare scalar values are skipped and the "or" operator
	// is allowed (§5.7).
	FormModeling bool
}

// ListParams are a list request's parsed parameters.
type ListParams struct {
	// Page is 1-based; 0 = no paging (every row).
	Page  int64
	Limit int64
	// AutoFixPage clamps a page beyond the last one.
	AutoFixPage bool
	// Response is "" (total and list), "count", "data" or another value
	// (neither half).
	Response string
	// Fields are the requested columns (nil = the list's default shape).
	Fields []string
	// Filter is the compiled search (nil = everything).
	Filter sdk.Expr
	// Sort is the compiled order_by; OrderGiven tells a supplied non-empty
	// order from an absent one, OrderEmpty an empty one ([] or {}).
	Sort       []sdk.Sort
	OrderGiven bool
	OrderEmpty bool
}

// ParseList parses the list parameters of c against opts. A bad search
// or order (unknown column, bad operator or direction) is 0x000007 naming
// the field; a syntactically invalid search or order_by is absent (§1.2).
func ParseList(c *Call, opts SearchOptions) (*ListParams, error) {
	in := c.In
	l := &ListParams{Page: 0, Limit: 10, Response: in.Str("response")}
	if in.Has("page") {
		l.Page = IntOf(in["page"])
	}
	if l.Page < 0 {
		l.Page = 0
	}
	if in.Has("limit") {
		l.Limit = IntOf(in["limit"])
		if l.Limit < 0 {
			l.Limit = 0
		}
	}
	l.AutoFixPage = in.Has("autoFixPage")
	if f := strings.TrimSpace(in.Str("fields")); f != "" {
		for _, x := range strings.Split(f, ",") {
			if x = strings.TrimSpace(x); x != "" {
				l.Fields = append(l.Fields, x)
			}
		}
	}
	var err error
	if l.Filter, err = CompileSearch(Structured(in["search"]), opts); err != nil {
		return nil, err
	}
	if err := l.parseOrder(c, opts.Columns); err != nil {
		return nil, err
	}
	return l, nil
}

// Query returns the core query of the list: its filter, sort and page
// (page 0: no limit).
func (l *ListParams) Query() sdk.Query {
	q := sdk.Query{Filter: l.Filter, Sort: l.Sort, Limit: -1}
	if l.Page >= 1 {
		q.Limit = int(l.Limit)
		q.Offset = int((l.Page - 1) * l.Limit)
	}
	return q
}

// WantTotal and WantList say which halves of the result to compute.
func (l *ListParams) WantTotal() bool { return l.Response == "" || l.Response == "count" }

// WantList reports whether the list half is computed.
func (l *ListParams) WantList() bool { return l.Response == "" || l.Response == "data" }

// ListData shapes a list result by response (§4): {total, list},
// {total}, {list} or [].
func (l *ListParams) ListData(total int64, list []any) any {
	if list == nil {
		list = []any{}
	}
	switch l.Response {
	case "":
		return Obj{{"total", total}, {"list", list}}
	case "count":
		return Obj{{"total", total}}
	case "data":
		return Obj{{"list", list}}
	}
	return []any{}
}

// FixPage applies autoFixPage once the total is known: a page beyond the
// last becomes the last; total 0 turns paging off (§4).
func (l *ListParams) FixPage(total int64) {
	if !l.AutoFixPage || l.Page <= 1 || l.Limit <= 0 {
		return
	}
	last := (total + l.Limit - 1) / l.Limit
	if total == 0 {
		l.Page = 0
		return
	}
	if l.Page > last {
		l.Page = last
	}
}

// ---- search ----

// maxSearchDepth bounds nested multiSearch groups.
const maxSearchDepth = 8

// CompileSearch compiles a decoded search value (§4.1) onto the core AST.
// nil or an empty object is no filter; anything that is not an object is
// no filter either (the server ignores it).
func CompileSearch(search any, opts SearchOptions) (sdk.Expr, error) {
	m, ok := search.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, nil
	}
	return compileGroup(m, opts, 0)
}

func compileGroup(m map[string]any, opts SearchOptions, depth int) (sdk.Expr, error) {
	if depth > maxSearchDepth {
		return nil, FailField(CodeIllegalField, "multiSearch")
	}
	or := false
	if rel, ok := m["__relation__"]; ok {
		if !opts.Multi {
			return nil, FailField(CodeIllegalField, "__relation__")
		}
		or = strings.EqualFold(ToStr(rel), "or")
	}
	var items, ors []sdk.Expr
	for _, key := range sortedKeys(m) {
		if key == "__relation__" {
			continue
		}
		v := m[key]
		if key == "multiSearch" {
			if !opts.Multi {
				return nil, FailField(CodeIllegalField, key)
			}
			sub, ok := v.(map[string]any)
			if !ok {
				return nil, FailField(CodeIllegalField, key)
			}
			e, err := compileGroup(sub, opts, depth+1)
			if err != nil {
				return nil, err
			}
			if e != nil {
				items = append(items, e)
			}
			continue
		}
		value, op, bare := splitCond(v)
		if bare && opts.FormModeling {
			continue
		}
		if !validOp(op, opts.FormModeling) {
			return nil, FailField(CodeIllegalField, key)
		}
		if opts.Virtual != nil {
			e, ok, err := opts.Virtual(key, value, op)
			if err != nil {
				return nil, err
			}
			if ok {
				if e != nil {
					items = append(items, e)
				}
				continue
			}
		}
		col, ok := opts.Columns[key]
		if !ok {
			return nil, FailField(CodeIllegalField, key)
		}
		e, err := Cond(col, key, value, op)
		if err != nil {
			return nil, err
		}
		if op == "or" {
			ors = append(ors, e)
		} else {
			items = append(items, e)
		}
	}
	var out sdk.Expr
	if or {
		if len(items) > 0 {
			out = sdk.Or{Items: items}
		}
	} else {
		out = sdk.AndOf(items...)
	}
	if len(ors) > 0 {
		alts := ors
		if out != nil {
			alts = append([]sdk.Expr{out}, ors...)
		}
		out = sdk.Or{Items: alts}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// deterministic compiled queries (golden files)
	slices.Sort(keys)
	return keys
}

// splitCond splits a condition into value and lower-cased operator:
// [v, op] → v, op; [v] → v, "="; a bare scalar → v, "=" (bare true).
func splitCond(v any) (value any, op string, bare bool) {
	arr, ok := v.([]any)
	if !ok {
		return v, "=", true
	}
	switch len(arr) {
	case 0:
		return nil, "=", false
	case 1:
		return arr[0], "=", false
	}
	op = strings.ToLower(strings.TrimSpace(ToStr(arr[1])))
	if op == "" {
		op = "="
	}
	return arr[0], op, false
}

func validOp(op string, formModeling bool) bool {
	switch op {
	case "=", "!=", "<>", ">", ">=", "<", "<=", "like", "not like", "in", "not_in", "between", "not_between", "null", "not_null":
		return true
	case "or":
		return formModeling
	}
	return false
}

// Cond compiles one condition on col (key names it in errors).
func Cond(col Column, key string, value any, op string) (sdk.Expr, error) {
	p := col.Path
	switch op {
	case "=", "or":
		return sdk.Cmp{Path: p, Op: sdk.Eq, Value: convert(col, value)}, nil
	case "!=", "<>":
		return sdk.Cmp{Path: p, Op: sdk.Ne, Value: convert(col, value)}, nil
	case ">":
		return sdk.Cmp{Path: p, Op: sdk.Gt, Value: convert(col, value)}, nil
	case ">=":
		return sdk.Cmp{Path: p, Op: sdk.Ge, Value: convert(col, value)}, nil
	case "<":
		return sdk.Cmp{Path: p, Op: sdk.Lt, Value: convert(col, value)}, nil
	case "<=":
		return sdk.Cmp{Path: p, Op: sdk.Le, Value: convert(col, value)}, nil
	case "like":
		return sdk.Str{Path: p, Fn: sdk.Contains, Value: ToStr(value)}, nil
	case "not like":
		return sdk.Not{X: likePattern(p, ToStr(value))}, nil
	case "in", "not_in":
		vals, err := inValues(key, value)
		if err != nil {
			return nil, err
		}
		conv := make([]sdk.Value, len(vals))
		for i, v := range vals {
			conv[i] = convert(col, v)
		}
		var e sdk.Expr = sdk.In{Path: p, Values: conv}
		if len(conv) == 0 {
			e = sdk.Const{Value: false}
		}
		if op == "not_in" {
			return sdk.Not{X: e}, nil
		}
		return e, nil
	case "between", "not_between":
		arr, ok := value.([]any)
		if !ok || len(arr) != 2 {
			return nil, FailField(CodeIllegalField, key)
		}
		lo, hi := convert(col, arr[0]), convert(col, arr[1])
		if op == "between" {
			return sdk.And{Items: []sdk.Expr{sdk.Cmp{Path: p, Op: sdk.Ge, Value: lo}, sdk.Cmp{Path: p, Op: sdk.Le, Value: hi}}}, nil
		}
		return sdk.Or{Items: []sdk.Expr{sdk.Cmp{Path: p, Op: sdk.Lt, Value: lo}, sdk.Cmp{Path: p, Op: sdk.Gt, Value: hi}}}, nil
	case "null":
		return sdk.Null{Path: p, IsNull: true}, nil
	case "not_null":
		return sdk.Null{Path: p, IsNull: false}, nil
	}
	return nil, FailField(CodeIllegalField, key)
}

// likePattern compiles a raw NOT LIKE pattern: "%x%" contains, "x%"
// starts with, "%x" ends with, else equality.
func likePattern(p sdk.Path, pat string) sdk.Expr {
	pre, suf := strings.HasPrefix(pat, "%"), strings.HasSuffix(pat, "%") && len(pat) > 1
	core := strings.TrimSuffix(strings.TrimPrefix(pat, "%"), "%")
	switch {
	case pre && suf:
		return sdk.Str{Path: p, Fn: sdk.Contains, Value: core}
	case suf:
		return sdk.Str{Path: p, Fn: sdk.StartsWith, Value: core}
	case pre:
		return sdk.Str{Path: p, Fn: sdk.EndsWith, Value: core}
	}
	return sdk.Cmp{Path: p, Op: sdk.Eq, Value: pat}
}

// maxInValues bounds the values of one in / not_in search condition (the
// hub's limit, as PHP's max_input_vars bounds a form's pairs): a longer
// list is an illegal field (0x000007), never a query of unbounded size.
const maxInValues = maxInputVars

// inValues is ListValues for an in / not_in condition on key.
func inValues(key string, v any) ([]any, error) {
	vals := ListValues(v)
	if len(vals) > maxInValues {
		return nil, FailField(CodeIllegalField, key)
	}
	return vals, nil
}

// ListValues reads an in/not_in value: an array, or a comma-separated
// string (the hub accepts it everywhere, §4.1).
func ListValues(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		out := make([]any, 0, len(x))
		for _, k := range sortedKeys(x) {
			out = append(out, x[k])
		}
		return out
	case nil:
		return nil
	}
	var out []any
	for _, s := range strings.Split(ToStr(v), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// convert turns a search value into the column's type; a value that does
// not convert is compared as given (it then matches nothing).
func convert(col Column, v any) sdk.Value {
	switch col.Type {
	case TInt:
		switch x := v.(type) {
		case int64:
			return x
		case float64:
			if x == float64(int64(x)) {
				return int64(x)
			}
			return x
		case string:
			if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return i
			}
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f
			}
		}
		return ToStr(v)
	case TNumber:
		switch x := v.(type) {
		case int64, float64:
			return x
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				if f == float64(int64(f)) {
					return int64(f)
				}
				return f
			}
		}
		return ToStr(v)
	}
	return ToStr(v)
}

// ---- order_by ----

// parseOrder compiles order_by (§4.2): object form in key order, or the
// array forms [{col: dir}, …] and [{"key": col, "type": dir}, …].
func (l *ListParams) parseOrder(c *Call, cols Columns) error {
	raw, keys := orderValue(c)
	if raw == nil {
		return nil
	}
	var pairs [][2]string
	switch x := raw.(type) {
	case map[string]any:
		if len(x) == 0 {
			l.OrderEmpty = true
			return nil
		}
		if len(keys) != len(x) {
			keys = sortedKeys(x)
		}
		for _, k := range keys {
			pairs = append(pairs, [2]string{k, ToStr(x[k])})
		}
	case []any:
		if len(x) == 0 {
			l.OrderEmpty = true
			return nil
		}
		for _, el := range x {
			m, ok := el.(map[string]any)
			if !ok {
				return FailField(CodeIllegalField, "order_by")
			}
			if k, ok := m["key"]; ok {
				pairs = append(pairs, [2]string{ToStr(k), ToStr(m["type"])})
				continue
			}
			for _, k := range sortedKeys(m) {
				pairs = append(pairs, [2]string{k, ToStr(m[k])})
			}
		}
	default:
		return nil
	}
	for _, p := range pairs {
		col, ok := cols[p[0]]
		if !ok {
			return FailField(CodeIllegalField, p[0])
		}
		dir := strings.ToLower(strings.TrimSpace(p[1]))
		if dir != "asc" && dir != "desc" {
			return FailField(CodeIllegalField, p[0])
		}
		l.Sort = append(l.Sort, sdk.Sort{Path: col.Path, Desc: dir == "desc"})
	}
	l.OrderGiven = true
	return nil
}

// orderValue returns the decoded order_by and, for an object, its keys
// in the order the client sent them (JSON text, JSON body or nested form
// keys).
func orderValue(c *Call) (any, []string) {
	v, ok := c.In["order_by"]
	if !ok {
		return nil, nil
	}
	if s, isStr := v.(string); isStr {
		return Structured(s), objectKeys([]byte(s))
	}
	if _, isObj := v.(map[string]any); !isObj {
		return v, nil
	}
	// An object from the body or the query: recover the key order from
	// the raw body (JSON or form), else from the query string.
	ct := strings.ToLower(c.Req.Headers.Get("Content-Type"))
	if c.Method != http.MethodGet && (strings.Contains(ct, "json")) {
		var top map[string]json.RawMessage
		if json.Unmarshal(c.Req.Body, &top) == nil {
			if raw, ok := top["order_by"]; ok {
				return v, objectKeys(raw)
			}
		}
	}
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		if keys := formSubKeys(string(c.Req.Body), "order_by"); len(keys) > 0 {
			return v, keys
		}
	}
	return v, formSubKeys(rawQuery(c.Req), "order_by")
}

// objectKeys returns the keys of a JSON object in document order (nil if
// raw is not an object).
func objectKeys(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil || t != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return keys
}

// formSubKeys returns the first-level sub-keys of name in a form string
// (order_by[a]=asc&order_by[b]=desc → a, b) in order.
func formSubKeys(s, name string) []string {
	var keys []string
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, "&") {
		k, _, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		base, segs := splitKey(key)
		if base != name || len(segs) == 0 || segs[0].append || seen[segs[0].name] {
			continue
		}
		seen[segs[0].name] = true
		keys = append(keys, segs[0].name)
	}
	return keys
}
