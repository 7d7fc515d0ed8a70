package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
)

// DynamicQuery is a compiled DynamicFindOptions body (spec §7.8).
type DynamicQuery struct {
	// Filter may be nil (everything).
	Filter Expr
	Sort   []Sort
	// Select lists the paths to include (Visible) or exclude, as written;
	// the entity layer validates them.
	Select []DynamicSelect
	Skip   int
	// Take is the page size: DefaultTop when absent, 0..MaxTop.
	Take int
}

// DynamicSelect is one select[] entry of a DynamicFindOptions body.
type DynamicSelect struct {
	Segments []string
	Visible  bool
}

type dynBody struct {
	Select []struct {
		Field   string `json:"field"`
		Visible *bool  `json:"visible"`
	} `json:"select"`
	Filter json.RawMessage `json:"filter"`
	Sort   []struct {
		Field string          `json:"field"`
		Dir   json.RawMessage `json:"dir"`
	} `json:"sort"`
	Skip json.RawMessage `json:"skip"`
	Take json.RawMessage `json:"take"`
}

type dynNode struct {
	Rel   string            `json:"rel"`
	Items []json.RawMessage `json:"items"`
	Field string            `json:"field"`
	Type  string            `json:"type"`
	Op    string            `json:"op"`
	Value json.RawMessage   `json:"value"`
}

// ParseDynamic compiles the original's DynamicFindOptions JSON body (spec
// §7.8) against r. Unknown keys (e.g. "scope") are ignored; an empty body
// is an empty query. Errors are *errs.Error with Code Invalid and Reason
// invalid_request (malformed JSON), invalid_filter, invalid_orderby,
// invalid_select or invalid_query_option (skip/take); Target names the
// field or key at fault and the message gives the JSON location, e.g.
// "filter.items[1]". Pos is -1 except for JSON syntax errors (byte offset).
//
// See ParseDynamicFilter for the filter semantics.
func ParseDynamic(body []byte, r Resolver) (*DynamicQuery, error) {
	return ParseDynamicWith(body, r, Options{})
}

// ParseDynamicWith is ParseDynamic with options (the tenant's time zone).
func ParseDynamicWith(body []byte, r Resolver, opts Options) (*DynamicQuery, error) {
	q := &DynamicQuery{Take: DefaultTop}
	if len(bytes.TrimSpace(body)) == 0 {
		return q, nil
	}
	var b dynBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, jsonError(err)
	}
	var err error
	if q.Filter, err = ParseDynamicFilterWith(b.Filter, r, opts); err != nil {
		return nil, err
	}
	for k, s := range b.Select {
		segs, ok := splitMember(s.Field)
		if !ok {
			return nil, dynErr(ReasonSelect, orDefault(s.Field, "select"), "select[%d]: %q is not a member path", k, s.Field)
		}
		q.Select = append(q.Select, DynamicSelect{Segments: segs, Visible: s.Visible == nil || *s.Visible})
	}
	if len(b.Sort) > MaxOrderBy {
		return nil, dynErr(ReasonOrderBy, "sort", "sort: more than %d items", MaxOrderBy)
	}
	seen := map[string]bool{}
	for k, s := range b.Sort {
		where := fmt.Sprintf("sort[%d]", k)
		segs, ok := splitMember(s.Field)
		if !ok {
			return nil, dynErr(ReasonOrderBy, orDefault(s.Field, "sort"), "%s: %q is not a member path", where, s.Field)
		}
		desc, ok := sortDir(s.Dir)
		if !ok {
			return nil, dynErr(ReasonOrderBy, s.Field, "%s: dir must be 1 or -1", where)
		}
		path, err := resolveSort(r, segs, s.Field, -1, ReasonOrderBy, "sort")
		if err != nil {
			return nil, err
		}
		if seen[path.String()] {
			return nil, dynErr(ReasonOrderBy, s.Field, "%s: member %q appears twice", where, s.Field)
		}
		seen[path.String()] = true
		q.Sort = append(q.Sort, Sort{Path: path, Desc: desc})
	}
	if q.Skip, err = dynCount(b.Skip, "skip", 0, -1); err != nil {
		return nil, err
	}
	if q.Take, err = dynCount(b.Take, "take", DefaultTop, MaxTop); err != nil {
		return nil, err
	}
	return q, nil
}

// ParseDynamicFilter compiles a DynamicFilter JSON object (the "filter" of
// §7.8, also the body of POST …/$count; a body {"filter": {…}} is accepted
// too). null or empty gives (nil, nil).
//
// A group is {rel: "and"|"or", items: [...]} (rel defaults to "and"; empty
// groups are dropped). A condition is {field, type?, op, value}: field is a
// member path ('.' or '/') or "table>column" for a child-table column; type
// is informational (the Resolver already knows the field's type and its
// implicit sub-field). Values are coerced as in $filter, more leniently
// where the original's client needs it: numbers and booleans may arrive as
// strings, timestamps as epoch ms or ISO strings, enums as codes or names.
//
// Operators: eq ne gt gte lt lte (eq/ne null → Null); in nin (value = 1–100
// values); empty notempty (absent, null or "" for strings; no element for
// arrays); exists (value true/false, default true); anyeq anyne anyin anynin
// anygt anygte anylt anylte ("any element", the same as the plain operator
// on scalars). On array members, the plain eq/gt/… and in mean "any element
// satisfies", while ne and nin mean "no element equals"/"no element is in"
// (the original's MongoDB semantics) — use anyne/anynin for "some element
// differs".
func ParseDynamicFilter(raw json.RawMessage, r Resolver) (Expr, error) {
	return ParseDynamicFilterWith(raw, r, Options{})
}

// ParseDynamicFilterWith is ParseDynamicFilter with options.
func ParseDynamicFilterWith(raw json.RawMessage, r Resolver, opts Options) (Expr, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, jsonError(err)
		}
		return nil, dynErr(ReasonFilter, "", "filter: must be an object")
	}
	if inner, ok := probe["filter"]; ok && probe["field"] == nil && probe["items"] == nil && probe["rel"] == nil {
		// The $count body variant {"filter": {...}}: unwrap once.
		raw = bytes.TrimSpace(inner)
		if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
			return nil, nil
		}
	}
	c := &dynCompiler{r: r, opts: opts}
	return c.node(raw, "filter", 0)
}

// operatorKey returns the first key of the JSON object raw that starts
// with "$" (a database-operator look-alike), if any.
func operatorKey(raw json.RawMessage) (string, bool) {
	if bytes.IndexByte(raw, '$') < 0 {
		return "", false // the common case: no "$" anywhere
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return "", false
	}
	for k := range m {
		if strings.HasPrefix(strings.TrimSpace(k), "$") {
			return k, true
		}
	}
	return "", false
}

type dynCompiler struct {
	r     Resolver
	opts  Options
	nodes int
}

func dynErr(reason, target, format string, args ...any) *errs.Error {
	if target == "" {
		target = "filter"
	}
	return &errs.Error{Code: errs.Invalid, Reason: reason, Target: target, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}

func jsonError(err error) *errs.Error {
	e := &errs.Error{Code: errs.Invalid, Reason: ReasonRequest, Target: "body", Pos: -1, Err: err,
		Msg: "the body is not a valid query: " + err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		e.Pos = int(se.Offset)
		e.Msg += fmt.Sprintf(" at position %d", e.Pos)
	}
	return e
}

func (c *dynCompiler) node(raw json.RawMessage, where string, depth int) (Expr, error) {
	if depth > MaxDepth {
		return nil, dynErr(ReasonFilter, "", "%s: nested deeper than %d levels", where, MaxDepth)
	}
	c.nodes++
	if c.nodes > MaxFilterNodes {
		return nil, dynErr(ReasonFilter, "", "%s: more than %d conditions", where, MaxFilterNodes)
	}
	var n dynNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, dynErr(ReasonFilter, "", "%s: %v", where, err)
	}
	if k, ok := operatorKey(raw); ok {
		// {"$where": …}, {"$or": [...]}: no DynamicFilter property starts
		// with "$"; ignored, such a node would be an empty group (every row).
		return nil, dynErr(ReasonFilter, "", "%s: unknown key %q", where, k)
	}
	if n.Field == "" {
		return c.group(n, where, depth)
	}
	return c.cond(n, where)
}

func (c *dynCompiler) group(n dynNode, where string, depth int) (Expr, error) {
	if n.Items == nil && n.Rel == "" && n.Op != "" {
		return nil, dynErr(ReasonFilter, "", "%s: a condition needs a field", where)
	}
	var items []Expr
	for k, raw := range n.Items {
		x, err := c.node(raw, fmt.Sprintf("%s.items[%d]", where, k), depth+1)
		if err != nil {
			return nil, err
		}
		if x != nil {
			items = append(items, x)
		}
	}
	switch strings.ToLower(n.Rel) {
	case "", "and":
		return AndOf(items...), nil
	case "or":
		switch len(items) {
		case 0:
			return nil, nil
		case 1:
			return items[0], nil
		}
		var flat []Expr
		for _, it := range items {
			flat = flatten(flat, it, "or")
		}
		return Or{Items: flat}, nil
	}
	return nil, dynErr(ReasonFilter, "", "%s: rel must be \"and\" or \"or\", not %q", where, n.Rel)
}

func (c *dynCompiler) cond(n dynNode, where string) (Expr, error) {
	fail := func(format string, args ...any) error {
		return dynErr(ReasonFilter, n.Field, "%s: "+format, append([]any{where}, args...)...)
	}
	table, column, child := strings.Cut(n.Field, ">")
	var segs []string
	if child {
		ts, ok1 := splitMember(table)
		cs, ok2 := splitMember(column)
		if !ok1 || !ok2 {
			return nil, fail("%q is not a table>column path", n.Field)
		}
		segs = append(ts, cs...)
	} else {
		var ok bool
		if segs, ok = splitMember(n.Field); !ok {
			return nil, fail("%q is not a member path", n.Field)
		}
	}
	if c.r == nil {
		return nil, fail("unknown member %q", n.Field)
	}
	f, err := c.r.Resolve(segs)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Code != errs.Invalid && e.Code != errs.NotFound {
			return nil, err
		}
		out := fail("unknown member %q", n.Field)
		if e != nil && e.Msg != "" {
			out = fail("%s", e.Msg)
		}
		out.(*errs.Error).Err = err
		return nil, out
	}
	if child && f.Array == nil {
		return nil, fail("%q is not a child-table column", table)
	}
	if f.NoFilter {
		return nil, fail("member %q cannot be used in a filter", n.Field)
	}

	op := strings.ToLower(n.Op)
	anyOp := strings.HasPrefix(op, "any")
	base := strings.TrimPrefix(op, "any")
	if !anyOp && op == "" {
		op, base = "eq", "eq"
	}
	val, err := decodeValue(n.Value)
	if err != nil {
		return nil, fail("value: %v", err)
	}
	scalar := func(mk func(Path, Value) Expr) (Expr, error) {
		v, err := c.coerce(f, val)
		if err != nil {
			return nil, fail("%v", err)
		}
		return wrapField(f, func(p Path) Expr { return mk(p, v) }), nil
	}
	list := func() ([]Value, error) {
		arr, ok := val.([]any)
		if !ok {
			arr = []any{val}
		}
		if len(arr) == 0 || len(arr) > MaxInValues {
			return nil, fail("%s needs 1 to %d values", n.Op, MaxInValues)
		}
		out := make([]Value, 0, len(arr))
		for k, a := range arr {
			v, err := c.coerce(f, a)
			if err != nil {
				return nil, fail("value[%d]: %v", k, err)
			}
			out = append(out, v)
		}
		return out, nil
	}
	cmp := func(o Op) func(Path, Value) Expr {
		return func(p Path, v Value) Expr { return Cmp{Path: p, Op: o, Value: v} }
	}
	if anyOp {
		switch base {
		case "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin":
		default:
			return nil, fail("unknown operator %q", n.Op)
		}
	}
	switch base {
	case "eq", "ne":
		o := map[string]Op{"eq": Eq, "ne": Ne}[base]
		if val == nil {
			if anyOp {
				return nil, fail("%s does not take null", n.Op)
			}
			return wrapField(f, func(p Path) Expr { return Null{Path: p, IsNull: o == Eq} }), nil
		}
		if o == Ne && f.Array != nil && !anyOp {
			x, err := scalar(cmp(Eq))
			if err != nil {
				return nil, err
			}
			return Not{X: x}, nil
		}
		return scalar(cmp(o))
	case "gt", "gte", "lt", "lte":
		if val == nil {
			return nil, fail("%s does not take null", n.Op)
		}
		o := map[string]Op{"gt": Gt, "gte": Ge, "lt": Lt, "lte": Le}[base]
		return scalar(cmp(o))
	case "in", "nin":
		vals, err := list()
		if err != nil {
			return nil, err
		}
		in := func(p Path) Expr { return In{Path: p, Values: vals} }
		switch {
		case base == "in":
			return wrapField(f, in), nil
		case anyOp || f.Array == nil:
			return wrapField(f, func(p Path) Expr { return Not{X: in(p)} }), nil
		default:
			return Not{X: wrapField(f, in)}, nil
		}
	case "empty", "notempty":
		var x Expr
		switch {
		case f.Array != nil && len(f.Path) == 0:
			x = Not{X: AnyRow{Array: f.Array, Pred: Const{Value: true}}}
		case f.Type == String:
			x = wrapField(f, func(p Path) Expr {
				return Or{Items: []Expr{Null{Path: p, IsNull: true}, Cmp{Path: p, Op: Eq, Value: ""}}}
			})
		default:
			x = wrapField(f, func(p Path) Expr { return Null{Path: p, IsNull: true} })
		}
		if base == "notempty" {
			x = Not{X: x}
		}
		return x, nil
	case "exists":
		want := true
		if val != nil {
			b, ok := asBool(val)
			if !ok {
				return nil, fail("exists takes true or false")
			}
			want = b
		}
		if f.Array != nil && len(f.Path) == 0 {
			return Null{Path: f.Array, IsNull: !want}, nil
		}
		return wrapField(f, func(p Path) Expr { return Null{Path: p, IsNull: !want} }), nil
	}
	return nil, fail("unknown operator %q", n.Op)
}

// decodeValue decodes a JSON value with numbers kept as json.Number.
func decodeValue(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

// coerce converts a JSON value to the field's type (spec §7.2 rule 5, with
// the leniency documented on ParseDynamicFilter).
func (c *dynCompiler) coerce(f Field, v any) (Value, error) {
	kind := func() string {
		switch v.(type) {
		case nil:
			return "null"
		case bool:
			return "a boolean"
		case json.Number:
			return "a number"
		case string:
			return "a string"
		case []any:
			return "an array"
		}
		return "an object"
	}
	mismatch := fmt.Errorf("the member is a %s; %s does not fit", f.Type, kind())
	switch f.Type {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Number:
		var s string
		switch x := v.(type) {
		case json.Number:
			s = x.String()
		case string:
			s = strings.TrimSpace(x)
		default:
			return nil, mismatch
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return n, nil
	case Time:
		switch x := v.(type) {
		case json.Number:
			if n, ok := integer(x.String()); ok {
				return n, nil
			}
			return nil, fmt.Errorf("%s is not an integer of epoch milliseconds", x)
		case string:
			if n, ok := integer(x); ok && isNumberText(x) {
				return n, nil
			}
			if tm, ok := parseISOTime(x, c.opts.location()); ok {
				return tm.UnixMilli(), nil
			}
			return nil, fmt.Errorf("%q is not an ISO 8601 date-time", x)
		}
	case Bool:
		if b, ok := asBool(v); ok {
			return b, nil
		}
	case Enum:
		switch x := v.(type) {
		case json.Number:
			if n, ok := integer(x.String()); ok {
				return n, nil
			}
			return nil, fmt.Errorf("%s is not an integer", x)
		case string:
			if n, ok := f.Enum[strings.ToLower(x)]; ok {
				return n, nil
			}
			if n, ok := integer(x); ok && isNumberText(x) {
				return n, nil
			}
			return nil, fmt.Errorf("no value is named %q", x)
		}
	default:
		return nil, errors.New("the member cannot be used in a filter")
	}
	return nil, mismatch
}

// isNumberText reports whether s is an optional '-' and decimal digits.
func isNumberText(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// sortDir reads dir: 1 / -1 (also "asc"/"desc" and their string forms);
// absent means ascending.
func sortDir(raw json.RawMessage) (desc, ok bool) {
	v, err := decodeValue(raw)
	if err != nil {
		return false, false
	}
	switch x := v.(type) {
	case nil:
		return false, true
	case json.Number:
		switch x.String() {
		case "1":
			return false, true
		case "-1":
			return true, true
		}
	case string:
		switch strings.ToLower(x) {
		case "1", "asc":
			return false, true
		case "-1", "desc":
			return true, true
		}
	}
	return false, false
}

// dynCount reads skip/take: absent → def; a non-negative integer ≤ max
// (max < 0: unbounded).
func dynCount(raw json.RawMessage, key string, def, max int) (int, error) {
	v, err := decodeValue(raw)
	if err != nil {
		return 0, dynErr(ReasonQueryOption, key, "%s: %v", key, err)
	}
	if v == nil {
		return def, nil
	}
	num, ok := v.(json.Number)
	if !ok {
		return 0, dynErr(ReasonQueryOption, key, "%s must be a non-negative integer", key)
	}
	n, err := strconv.Atoi(num.String())
	if err != nil || n < 0 {
		return 0, dynErr(ReasonQueryOption, key, "%s must be a non-negative integer", key)
	}
	if max >= 0 && n > max {
		return 0, dynErr(ReasonQueryOption, key, "%s must be at most %d", key, max)
	}
	return n, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
