package h3yun

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file decodes LoadBizObjects' Filter (spec §7) and compiles its
// Matcher tree to the SDK's query AST (§7.3). Nothing here builds a query
// string: every Name is resolved against the form before it becomes a
// storage path, and every Value is coerced to the field's type.

// Window limits (§4.2, §9).
const (
	maxRows      = 500
	maxNodes     = 200 // Matcher nodes per Filter (as the native $filter, §7.2 rule 9)
	maxListItems = 500 // values of one IN / NOT IN
)

// filter is a decoded Filter.
type filter struct {
	from, to     int
	requireCount bool
	returnItems  []string
	sort         []sortKey
	matcher      *matcher
}

type sortKey struct {
	name string
	desc bool
}

// matcher is one node of a Matcher tree (§7.1).
type matcher struct {
	typ      string // "and", "or", "item"
	children []*matcher
	name     string
	op       int
	value    any // json.Number for numbers; nil when absent or null
}

// rawFilter is the Filter object as sent; every field is decoded leniently.
type rawFilter struct {
	FromRowNum       json.RawMessage
	ToRowNum         json.RawMessage
	RequireCount     json.RawMessage
	ReturnItems      json.RawMessage
	SortByCollection json.RawMessage
	Matcher          json.RawMessage
}

// decodeFilter decodes a Filter (a JSON object, possibly serialised into a
// string). An absent Filter is the default window: the first 500 rows.
func decodeFilter(raw json.RawMessage) (*filter, error) {
	b, err := unwrap(raw)
	if err != nil {
		return nil, fail(reasonFormat, "Filter")
	}
	f := &filter{to: maxRows}
	if len(b) == 0 || string(b) == "null" {
		return f, nil
	}
	var rf rawFilter
	if err := decodeJSON(b, &rf); err != nil {
		return nil, fail(reasonFormat, "Filter")
	}
	if f.from, err = intField(rf.FromRowNum, "FromRowNum", 0); err != nil {
		return nil, err
	}
	if f.to, err = intField(rf.ToRowNum, "ToRowNum", f.from+maxRows); err != nil {
		return nil, err
	}
	if f.from < 0 {
		return nil, fail(reasonQuery, "FromRowNum 不能小于 0")
	}
	if n := f.to - f.from; n < 1 || n > maxRows {
		return nil, failf(reasonQuery, "ToRowNum - FromRowNum 必须在 1 到 %d 之间", maxRows)
	}
	if f.requireCount, err = parseBool(rf.RequireCount, "Filter.RequireCount", false); err != nil {
		return nil, err
	}
	if f.returnItems, err = stringList(rf.ReturnItems, "Filter.ReturnItems"); err != nil {
		return nil, err
	}
	if f.sort, err = decodeSort(rf.SortByCollection); err != nil {
		return nil, err
	}
	if m := bytes.TrimSpace(rf.Matcher); len(m) > 0 && string(m) != "null" {
		nodes := 0
		if f.matcher, err = decodeMatcher(m, 0, &nodes); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// intField reads an int sent as a number or a numeric string.
func intField(raw json.RawMessage, name string, def int) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var v any
	if err := decodeJSON(raw, &v); err != nil {
		return 0, fail(reasonFormat, "Filter."+name)
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, fail(reasonFormat, "Filter."+name)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 1<<31 || n < -(1<<31) {
		return 0, fail(reasonFormat, "Filter."+name)
	}
	return n, nil
}

// stringList reads an array of strings (or that array as a string).
func stringList(raw json.RawMessage, name string) ([]string, error) {
	b, err := unwrap(raw)
	if err != nil {
		return nil, fail(reasonFormat, name)
	}
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fail(reasonFormat, name)
	}
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return slices.DeleteFunc(out, func(s string) bool { return s == "" }), nil
}

// decodeSort reads SortByCollection: [{"ItemName"|"Field": name,
// "Direction": "Ascending"|"Descending"|0|1}], also as the string "[]".
func decodeSort(raw json.RawMessage) ([]sortKey, error) {
	b, err := unwrap(raw)
	if err != nil {
		return nil, fail(reasonFormat, "Filter.SortByCollection")
	}
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var items []map[string]any
	if err := decodeJSON(b, &items); err != nil {
		return nil, fail(reasonFormat, "Filter.SortByCollection")
	}
	out := make([]sortKey, 0, len(items))
	for _, it := range items {
		name, _ := it["ItemName"].(string)
		if name == "" {
			name, _ = it["Field"].(string)
		}
		if name = strings.TrimSpace(name); name == "" {
			return nil, fail(reasonQuery, "SortByCollection 缺少 ItemName")
		}
		k := sortKey{name: name}
		switch d := it["Direction"].(type) {
		case nil:
		case string:
			switch strings.ToLower(strings.TrimSpace(d)) {
			case "ascending", "asc", "0", "":
			case "descending", "desc", "1":
				k.desc = true
			default:
				return nil, failf(reasonQuery, "排序方向 %q 不合法", d)
			}
		case json.Number:
			switch d.String() {
			case "0":
			case "1":
				k.desc = true
			default:
				return nil, failf(reasonQuery, "排序方向 %s 不合法", d)
			}
		default:
			return nil, fail(reasonQuery, "排序方向不合法")
		}
		out = append(out, k)
	}
	return out, nil
}

// decodeMatcher decodes one Matcher node and its children.
func decodeMatcher(raw json.RawMessage, level int, nodes *int) (*matcher, error) {
	if level > maxDepth {
		return nil, failf(reasonQuery, "Matcher 嵌套超过 %d 层", maxDepth)
	}
	if *nodes++; *nodes > maxNodes {
		return nil, failf(reasonQuery, "Matcher 节点超过 %d 个", maxNodes)
	}
	var n struct {
		Type     string
		Matchers []json.RawMessage
		Name     string
		Operator json.RawMessage
		Value    json.RawMessage
	}
	if err := decodeJSON(raw, &n); err != nil {
		return nil, fail(reasonFormat, "Filter.Matcher")
	}
	m := &matcher{typ: strings.ToLower(strings.TrimSpace(n.Type))}
	switch m.typ {
	case "and", "or":
		for _, c := range n.Matchers {
			if s := bytes.TrimSpace(c); len(s) == 0 || string(s) == "null" {
				continue
			}
			child, err := decodeMatcher(c, level+1, nodes)
			if err != nil {
				return nil, err
			}
			m.children = append(m.children, child)
		}
	case "item":
		m.name = strings.TrimSpace(n.Name)
		if m.name == "" {
			return nil, fail(reasonQuery, "Item 缺少 Name")
		}
		op, err := intField(n.Operator, "Matcher.Operator", -1)
		if err != nil || op < 0 {
			return nil, failf(reasonQuery, "控件 %s 的 Operator 不合法", m.name)
		}
		m.op = op
		if v := bytes.TrimSpace(n.Value); len(v) > 0 && string(v) != "null" {
			if err := decodeJSON(v, &m.value); err != nil {
				return nil, fail(reasonFormat, "Filter.Matcher.Value")
			}
		}
	default:
		return nil, failf(reasonQuery, "Matcher 的 Type %q 不合法（And、Or 或 Item）", n.Type)
	}
	return m, nil
}

// ---- compiling to the query AST ----

// valueKind is what an operator expects in Value.
type valueKind int

const (
	vScalar valueKind = iota // one value of the field's type
	vList                    // an array (or a ";"-joined string) of values
	vText                    // a string
	vNone                    // ignored
)

// operation is one H3Yun operator code (§7.2, §7.3).
type operation struct {
	name  string // the vendor enum name
	value valueKind
	// build returns the condition on t for the coerced value(s).
	build func(t *term, vs []sdk.Value) (sdk.Expr, error)
}

// operators is the one table of H3Yun operator codes. Codes 9–12 and 15–17
// are unassigned and rejected (§11.6).
var operators = map[int]operation{
	0:  {"ABOVE", vScalar, compare(sdk.Gt)},
	1:  {"NOT_BELOW", vScalar, compare(sdk.Ge)},
	2:  {"EQUAL", vScalar, compare(sdk.Eq)},
	3:  {"NOT_ABOVE", vScalar, compare(sdk.Le)},
	4:  {"BELOW", vScalar, compare(sdk.Lt)},
	5:  {"NOT_EQUAL", vScalar, compare(sdk.Ne)},
	6:  {"IN", vList, in(false)},
	7:  {"NOT_IN", vList, in(true)},
	8:  {"CONTAINS", vText, text(sdk.Contains, false)},
	13: {"START_WITH", vText, text(sdk.StartsWith, false)},
	14: {"END_WITH", vText, text(sdk.EndsWith, false)},
	18: {"ISNULL", vNone, null(true)},
	19: {"NOT_NULL", vNone, null(false)},
	20: {"IS_NONE", vNone, none(false)},
	21: {"NOT_NONE", vNone, none(true)},
	22: {"NOT_START_WITH", vText, text(sdk.StartsWith, true)},
	23: {"NOT_END_WITH", vText, text(sdk.EndsWith, true)},
	24: {"NOT_CONTAINS", vText, text(sdk.Contains, true)},
}

// kind is how a term's values are typed and stored.
type kind int

const (
	kString kind = iota // a string at path
	kNumber             // a number at path
	kTime               // epoch ms at path
	kStatus             // H3Yun Status, stored as flowStatus
	kMulti              // an array at root whose elements hold a string at sub
)

// term is a resolved Matcher Name.
type term struct {
	name string
	kind kind
	// path is where comparisons look; root is where null checks look (they
	// differ for {value,label} and {id,…} objects).
	path, root sdk.Path
	sub        string     // kMulti: the element key compared
	field      *sdk.Field // nil for system fields
	workflow   bool       // kStatus: the form uses a workflow
	// id: values are ids, read in either spelling (hubID)
	id bool
}

// systemTerms are the system fields a Matcher or SortByCollection may name.
var systemTerms = map[string]term{
	fObjectID:     {kind: kString, path: sdk.Path{"id"}, id: true},
	fName:         {kind: kString, path: sdk.Path{"dataTitle"}},
	fCreatedBy:    {kind: kString, path: sdk.Path{"createBy", "id"}, id: true},
	fOwnerID:      {kind: kString, path: sdk.Path{"createBy", "id"}, id: true},
	fModifiedBy:   {kind: kString, path: sdk.Path{"updateBy", "id"}, id: true},
	fCreatedTime:  {kind: kTime, path: sdk.Path{"createTime"}},
	fModifiedTime: {kind: kTime, path: sdk.Path{"updateTime"}},
	fStatus:       {kind: kStatus, path: sdk.Path{"flowStatus"}},
}

// resolve turns a Matcher/Sort Name into a term of form c.form.
func (c *converter) resolve(name string) (*term, error) {
	if t, ok := systemTerms[name]; ok {
		t.name = name
		if t.root == nil {
			t.root = t.path
		}
		t.workflow = c.form.UsingWorkflow
		return &t, nil
	}
	if isSystemField(name) {
		return nil, failf(reasonUnsupported, "按 %s 查询或排序", name)
	}
	f, ok := c.field(name)
	if !ok {
		return nil, fail(reasonControl, name)
	}
	root := sdk.Path{"data", f.Field}
	t := &term{name: name, field: f, path: root, root: root, kind: kString}
	switch f.Type {
	case tNumber:
		t.kind = kNumber
	case tTimestamp:
		t.kind = kTime
	case tRadio, tSelect:
		t.path = sdk.Path{"data", f.Field, "value"}
	case tEmployee1, tDepartment1:
		t.path, t.id = sdk.Path{"data", f.Field, "id"}, true
	case tCheckbox, tSelect2:
		t.kind, t.sub = kMulti, "value"
	case tEmployee2, tDepartment2, tImageUpload, tFileUpload:
		t.kind, t.sub, t.id = kMulti, "id", true
	case tTableForm:
		return nil, failf(reasonUnsupported, "按子表 %s 查询或排序", name)
	}
	return t, nil
}

// coerce converts a Matcher Value to t's stored type.
func (c *converter) coerce(t *term, v any) (sdk.Value, error) {
	bad := func() error { return failf(reasonQuery, "控件 %s 的值 %s 不合法", t.name, short(v)) }
	switch t.kind {
	case kNumber:
		f, ok := toFloat(v)
		if !ok {
			return nil, bad()
		}
		return f, nil
	case kTime:
		ms, ok := c.toMillis(v)
		if !ok {
			return nil, bad()
		}
		return ms, nil
	case kStatus:
		f, ok := toFloat(v)
		if !ok || f != float64(int64(f)) {
			return nil, bad()
		}
		return int64(f), nil
	}
	s, ok := scalarString(v)
	if !ok {
		return nil, bad()
	}
	switch {
	case t.id:
		s = hubID(s) // ids may carry stray spaces (§3) and come in either spelling
	case t.field != nil:
		s = optionValue(t.field, s)
	}
	return s, nil
}

// compile compiles a Matcher tree; nil compiles to nil (every record).
func (c *converter) compile(m *matcher) (sdk.Expr, error) {
	if m == nil {
		return nil, nil
	}
	switch m.typ {
	case "and", "or":
		items := make([]sdk.Expr, 0, len(m.children))
		for _, ch := range m.children {
			e, err := c.compile(ch)
			if err != nil {
				return nil, err
			}
			if e != nil {
				items = append(items, e)
			}
		}
		switch {
		case len(items) == 0:
			return nil, nil // an empty group imposes no condition (§7.1)
		case len(items) == 1:
			return items[0], nil
		case m.typ == "and":
			return sdk.And{Items: items}, nil
		}
		return sdk.Or{Items: items}, nil
	}
	op, ok := operators[m.op]
	if !ok {
		return nil, failf(reasonQuery, "控件 %s 的 Operator %d 不存在", m.name, m.op)
	}
	if m.name == fOwnerDeptID {
		return c.compileOwnerDept(m)
	}
	t, err := c.resolve(m.name)
	if err != nil {
		return nil, err
	}
	var vs []sdk.Value
	switch op.value {
	case vScalar, vText:
		if m.value == nil {
			return nil, failf(reasonQuery, "控件 %s 的 Value 不能为空（Operator %d %s）", m.name, m.op, op.name)
		}
		if op.value == vText {
			if _, ok := scalarString(m.value); !ok {
				return nil, failf(reasonQuery, "控件 %s 的值 %s 不合法", m.name, short(m.value))
			}
		}
		v, err := c.coerce(t, m.value)
		if err != nil {
			return nil, err
		}
		vs = []sdk.Value{v}
	case vList:
		items, ok := listItems(m.value)
		if !ok {
			return nil, failf(reasonQuery, "控件 %s 的 Value 必须是数组", m.name)
		}
		if len(items) > maxListItems {
			return nil, failf(reasonQuery, "控件 %s 的值超过 %d 个", m.name, maxListItems)
		}
		for _, it := range items {
			v, err := c.coerce(t, it)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
		}
	}
	return op.build(t, vs)
}

// listItems reads the Value of IN / NOT IN: an array, a ";"-joined string
// (§7.2) or a single scalar; null is the empty list.
func listItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, true
	case []any:
		return x, true
	case string:
		var out []any
		for _, s := range strings.Split(x, ";") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, true
	case json.Number, bool:
		return []any{x}, true
	}
	return nil, false
}

// compare builds ops 0–5.
func compare(op sdk.Op) func(*term, []sdk.Value) (sdk.Expr, error) {
	return func(t *term, vs []sdk.Value) (sdk.Expr, error) {
		switch t.kind {
		case kStatus:
			return statusIn(t, func(s int64) bool { return holds(op, s, vs[0].(int64)) }), nil
		case kMulti:
			// On a multi-value field a comparison holds for any element (native §7.2 rule 4).
			if op == sdk.Ne {
				return sdk.Not{X: sdk.AnyRow{Array: t.root, Pred: sdk.Cmp{Path: sdk.Path{t.sub}, Op: sdk.Eq, Value: vs[0]}}}, nil
			}
			return sdk.AnyRow{Array: t.root, Pred: sdk.Cmp{Path: sdk.Path{t.sub}, Op: op, Value: vs[0]}}, nil
		}
		return sdk.Cmp{Path: t.path, Op: op, Value: vs[0]}, nil
	}
}

// holds evaluates a comparison between two Status values.
func holds(op sdk.Op, a, b int64) bool {
	switch op {
	case sdk.Eq:
		return a == b
	case sdk.Ne:
		return a != b
	case sdk.Gt:
		return a > b
	case sdk.Ge:
		return a >= b
	case sdk.Lt:
		return a < b
	case sdk.Le:
		return a <= b
	}
	return false
}

// statusIn compiles a predicate on Status to the flowStatus values whose
// Status satisfies it.
func statusIn(t *term, pred func(int64) bool) sdk.Expr {
	var statuses []int64
	for s := int64(0); s <= 3; s++ {
		if pred(s) {
			statuses = append(statuses, s)
		}
	}
	fs := flowStatuses(statuses, t.workflow)
	if len(fs) == 0 {
		return sdk.Const{Value: false}
	}
	return sdk.In{Path: t.path, Values: fs}
}

// in builds ops 6 and 7.
func in(negate bool) func(*term, []sdk.Value) (sdk.Expr, error) {
	return func(t *term, vs []sdk.Value) (sdk.Expr, error) {
		var e sdk.Expr
		switch {
		case t.kind == kStatus:
			return statusIn(t, func(s int64) bool { return slices.Contains(vs, sdk.Value(s)) != negate }), nil
		case len(vs) == 0:
			e = sdk.Const{Value: false}
		case t.kind == kMulti:
			e = sdk.AnyRow{Array: t.root, Pred: sdk.In{Path: sdk.Path{t.sub}, Values: vs}}
		default:
			e = sdk.In{Path: t.path, Values: vs}
		}
		if negate {
			return not(e), nil
		}
		return e, nil
	}
}

// text builds the string operators 8, 13, 14 and their negations 22–24. On
// multi-value fields CONTAINS means "has the item" (§7.2).
func text(fn sdk.StrFn, negate bool) func(*term, []sdk.Value) (sdk.Expr, error) {
	return func(t *term, vs []sdk.Value) (sdk.Expr, error) {
		var e sdk.Expr
		switch t.kind {
		case kString:
			e = sdk.Str{Path: t.path, Fn: fn, Value: vs[0].(string)}
		case kMulti:
			if fn == sdk.Contains {
				e = sdk.AnyRow{Array: t.root, Pred: sdk.Cmp{Path: sdk.Path{t.sub}, Op: sdk.Eq, Value: vs[0]}}
			} else {
				e = sdk.AnyRow{Array: t.root, Pred: sdk.Str{Path: sdk.Path{t.sub}, Fn: fn, Value: vs[0].(string)}}
			}
		default:
			return nil, failf(reasonQuery, "控件 %s 不是文本，不能使用 %s", t.name, fn)
		}
		if negate {
			return not(e), nil
		}
		return e, nil
	}
}

// null builds ops 18 and 19.
func null(isNull bool) func(*term, []sdk.Value) (sdk.Expr, error) {
	return func(t *term, _ []sdk.Value) (sdk.Expr, error) {
		switch t.kind {
		case kStatus: // every record has a Status
			return sdk.Const{Value: !isNull}, nil
		case kMulti:
			// An array field is compared element-wise (the host rejects a
			// Null on the array itself): "null" is "has no element".
			var has sdk.Expr = sdk.AnyRow{Array: t.root, Pred: sdk.Const{Value: true}}
			if isNull {
				return sdk.Not{X: has}, nil
			}
			return has, nil
		}
		return sdk.Null{Path: t.root, IsNull: isNull}, nil
	}
}

// none builds ops 20 (null or empty string, §11.5) and 21 (its negation).
func none(negate bool) func(*term, []sdk.Value) (sdk.Expr, error) {
	return func(t *term, _ []sdk.Value) (sdk.Expr, error) {
		var e sdk.Expr = sdk.Null{Path: t.root, IsNull: true}
		switch t.kind {
		case kStatus:
			e = sdk.Const{Value: false}
		case kMulti:
			e = sdk.Not{X: sdk.AnyRow{Array: t.root, Pred: sdk.Const{Value: true}}}
		case kString:
			e = sdk.Or{Items: []sdk.Expr{e, sdk.Cmp{Path: t.path, Op: sdk.Eq, Value: ""}}}
		}
		if negate {
			return not(e), nil
		}
		return e, nil
	}
}

func not(e sdk.Expr) sdk.Expr {
	switch x := e.(type) {
	case sdk.Const:
		return sdk.Const{Value: !x.Value}
	case sdk.Not:
		return x.X
	}
	return sdk.Not{X: e}
}

// query compiles a decoded Filter for the form: the filter, the order
// (CreatedTime ascending by default, §7), the window.
func (c *converter) query(f *filter) (sdk.Query, error) {
	expr, err := c.compile(f.matcher)
	if err != nil {
		return sdk.Query{}, err
	}
	q := sdk.Query{Filter: expr, Offset: f.from, Limit: f.to - f.from}
	for _, k := range f.sort {
		t, err := c.resolve(k.name)
		if err != nil {
			return sdk.Query{}, err
		}
		if t.kind == kMulti {
			return sdk.Query{}, failf(reasonUnsupported, "按多值控件 %s 排序", k.name)
		}
		q.Sort = append(q.Sort, sdk.Sort{Path: t.path, Desc: k.desc})
	}
	if len(q.Sort) == 0 {
		q.Sort = []sdk.Sort{{Path: sdk.Path{"createTime"}}}
	}
	for _, k := range f.returnItems {
		if _, ok := c.field(k); !ok && !isSystemField(k) {
			return sdk.Query{}, fail(reasonControl, k)
		}
	}
	return q, nil
}

// wantsOwnerDept reports whether rendering the items needs the directory.
func wantsOwnerDept(items []string) bool {
	return len(items) == 0 || slices.Contains(items, fOwnerDeptID) || slices.Contains(items, "OwnerDeptIdObject")
}
