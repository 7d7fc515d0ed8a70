package compilefuzz

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	driver "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/eimshub/eimshub/adapters/mongo"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

const (
	tenant = "t1"
	coll   = "formdata"
	form   = "orders"
)

// fields is the schema the fuzzed filters resolve against: scalars of
// every type, an array of strings, and a child table (rows with a number
// and a string).
var fields = map[string]query.Field{
	"id":         {Path: query.Path{"id"}, Type: query.String},
	"amount":     {Path: query.Path{"data", "amount"}, Type: query.Number},
	"region":     {Path: query.Path{"data", "region"}, Type: query.String},
	"name":       {Path: query.Path{"data", "name"}, Type: query.String},
	"flag":       {Path: query.Path{"data", "flag"}, Type: query.Bool},
	"createTime": {Path: query.Path{"createTime"}, Type: query.Time},
	"status":     {Path: query.Path{"data", "status"}, Type: query.Enum, Enum: map[string]int64{"open": 1, "closed": 2}},
	"tags":       {Path: query.Path{}, Array: query.Path{"data", "tags"}, Type: query.String, NoSort: true},
	"items.qty":  {Path: query.Path{"qty"}, Array: query.Path{"data", "items"}, Type: query.Number, NoSort: true},
	"items.sku":  {Path: query.Path{"sku"}, Array: query.Path{"data", "items"}, Type: query.String, NoSort: true},
}

var resolver = query.ResolverFunc(func(segs []string) (query.Field, error) {
	name := strings.Join(segs, ".")
	f, ok := fields[name]
	if !ok {
		return query.Field{}, errs.Invalidf("unknown field %q", name)
	}
	f.Name = name
	return f, nil
})

// dataset: numbers (int and float, negative, zero, huge), strings (ASCII,
// Chinese, "", quotes and LIKE metacharacters), null and absent values,
// booleans, arrays (empty, scalars, rows with absent and null fields).
func dataset() []map[string]any {
	row := func(qty any, sku any) map[string]any {
		m := map[string]any{}
		if qty != "-" {
			m["qty"] = qty
		}
		if sku != "-" {
			m["sku"] = sku
		}
		return m
	}
	return []map[string]any{
		{"amount": int64(100), "region": "华东", "name": "Alpha", "flag": true, "status": int64(1),
			"tags": []any{"a", "b"}, "items": []any{row(int64(5), "x"), row(int64(20), "y")}},
		{"amount": 250.5, "region": "华南", "name": "alpha", "flag": false, "status": int64(2),
			"tags": []any{"b"}, "items": []any{row(int64(1), "z")}},
		{"amount": nil, "region": "华北", "name": "Beta公司", "tags": []any{}, "items": []any{}},
		{"name": "beta"},
		{"amount": int64(0), "region": "", "name": "", "tags": []any{"c"}, "items": []any{row(nil, "-"), row("-", "x")}},
		{"amount": int64(-3), "region": "华东", "name": "it's 100%_x", "flag": false, "items": []any{row(11.5, "x")}},
		{"amount": "100", "region": "West", "name": "测试公司", "status": int64(2)},
		{"amount": 1e15, "region": "West", "name": "Ångström", "flag": true, "tags": []any{"a", "", "A"}},
		{"amount": 99.99, "region": nil, "name": nil, "tags": []any{nil, "a"}},
	}
}

type env struct {
	lite    *sqlite.Store
	mg      *mongo.Store
	host    *sdktest.MemHost
	p       *sdk.Principal
	cleanup func()
}

var (
	envOnce sync.Once
	envVal  *env
	envErr  error
)

func setup() (*env, error) {
	envOnce.Do(func() { envVal, envErr = newEnv() })
	return envVal, envErr
}

func newEnv() (*env, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "compilefuzz-")
	if err != nil {
		return nil, err
	}
	lite, err := sqlite.Open(ctx, filepath.Join(dir, "hub.db"))
	if err != nil {
		return nil, err
	}
	// The Mongo side only compiles (Explain): the client never connects.
	client, err := driver.Connect(ctx, options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	if err != nil {
		return nil, err
	}
	host := sdktest.NewMemHost()
	p := &sdk.Principal{Tenant: tenant, UserID: "u1"}
	var fs []sdk.Field
	for _, k := range []string{"amount", "region", "name", "flag", "status", "tags", "items"} {
		fs = append(fs, sdk.Field{Field: k, Type: "any"})
	}
	host.AddForm(tenant, sdk.Form{ID: "f1", Key: form, Fields: fs})
	for _, d := range dataset() {
		if _, err := host.CreateRecord(ctx, p, form, d); err != nil {
			return nil, fmt.Errorf("memhost create: %w", err)
		}
	}
	all, err := host.FindRecords(ctx, p, form, sdk.Query{Limit: -1}, false)
	if err != nil {
		return nil, err
	}
	for _, d := range all.Items {
		if err := lite.Insert(ctx, coll, store.Doc(d)); err != nil {
			return nil, fmt.Errorf("sqlite insert: %w", err)
		}
	}
	return &env{lite: lite, mg: mongo.New(client, "fuzz"), host: host, p: p, cleanup: func() {
		_ = lite.Close()
		_ = client.Disconnect(ctx)
		_ = os.RemoveAll(dir)
	}}, nil
}

// allowedOps is the Mongo compiler's operator whitelist (compile.go).
var allowedOps = map[string]bool{
	"$and": true, "$or": true, "$nor": true, "$eq": true, "$ne": true, "$gt": true, "$gte": true,
	"$lt": true, "$lte": true, "$in": true, "$regex": true, "$not": true, "$elemMatch": true,
	"$type": true, "$size": true,
}

func checkMongoDoc(t *testing.T, v any, where string) {
	switch x := v.(type) {
	case bson.D:
		for _, e := range x {
			if strings.HasPrefix(e.Key, "$") {
				if !allowedOps[e.Key] {
					t.Fatalf("%s: operator %q outside the whitelist", where, e.Key)
				}
			} else if strings.ContainsAny(e.Key, "$\x00") {
				t.Fatalf("%s: field key %q", where, e.Key)
			}
			checkMongoDoc(t, e.Value, where)
		}
	case bson.A:
		for _, it := range x {
			checkMongoDoc(t, it, where)
		}
	case bson.M, map[string]any, []any:
		t.Fatalf("%s: untyped container %T in the filter", where, v)
	}
}

// sqlLiterals returns the single-quoted string literals of an SQL text.
func sqlLiterals(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		var b strings.Builder
		j := i + 1
		for ; j < len(s); j++ {
			if s[j] == '\'' {
				if j+1 < len(s) && s[j+1] == '\'' {
					b.WriteByte('\'')
					j++
					continue
				}
				break
			}
			b.WriteByte(s[j])
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

var sqlTypeNames = map[string]bool{"text": true, "integer": true, "real": true, "true": true, "false": true,
	"array": true, "object": true, "null": true}

// schemaPaths are the JSON path literals the resolver can produce.
var schemaPaths = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range fields {
		for _, p := range []query.Path{f.Path, f.Array, append(append(query.Path{}, f.Array...), f.Path...)} {
			if len(p) == 0 {
				continue
			}
			var b strings.Builder
			b.WriteString("$")
			for _, k := range p {
				q, _ := json.Marshal(k)
				b.WriteString(".")
				b.Write(q)
			}
			m[b.String()] = true
		}
	}
	return m
}()

func checkSQL(t *testing.T, text string, args []any, e query.Expr) {
	for _, lit := range sqlLiterals(text) {
		if !sqlTypeNames[lit] && !schemaPaths[lit] {
			t.Fatalf("SQL text holds the literal %q (values must be bound):\n%s", lit, text)
		}
	}
	// Every literal of the filter is among the bound arguments.
	query.Walk(e, func(x query.Expr) bool {
		var vals []query.Value
		switch y := x.(type) {
		case query.Cmp:
			vals = []query.Value{y.Value}
		case query.In:
			vals = y.Values
		case query.Str:
			if y.Value != "" {
				vals = []query.Value{y.Value}
			}
		}
		for _, v := range vals {
			if !bound(v, args) {
				t.Fatalf("value %#v is not a bound argument %#v:\n%s", v, args, text)
			}
		}
		return true
	})
}

func bound(v query.Value, args []any) bool {
	for _, a := range args {
		if reflect.DeepEqual(a, v) {
			return true
		}
		if b, ok := v.(bool); ok {
			if n, ok := a.(int64); ok && (n == 1) == b {
				return true
			}
		}
	}
	return false
}

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if c := errs.CodeOf(err); c != errs.Invalid {
		t.Fatalf("%s: error of code %v, want Invalid: %v", what, c, err)
	}
}

func ids(docs []store.Doc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i], _ = d["id"].(string)
	}
	return out
}

// hasNaN reports a NaN literal (the evaluators' comparisons are undefined).
func hasNaN(e query.Expr) bool {
	found := false
	query.Walk(e, func(x query.Expr) bool {
		check := func(v query.Value) {
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				found = true
			}
		}
		switch y := x.(type) {
		case query.Cmp:
			check(y.Value)
		case query.In:
			for _, v := range y.Values {
				check(v)
			}
		}
		return !found
	})
	return found
}

func checkFilter(t *testing.T, e *env, src string, filter query.Expr) {
	ctx := context.Background()
	q := query.Query{Filter: filter, Limit: -1}

	mf, _, merr := e.mg.Explain(coll, tenant, q)
	if merr != nil {
		wantInvalid(t, "mongo compile", merr)
	} else {
		checkMongoDoc(t, mf, src)
	}

	text, args, serr := e.lite.Explain(coll, tenant, q)
	if serr != nil {
		wantInvalid(t, "sqlite compile", serr)
		return
	}
	checkSQL(t, text, args, filter)
	if hasNaN(filter) {
		return
	}
	got, err := e.lite.Find(ctx, coll, tenant, q)
	if err != nil {
		t.Fatalf("sqlite Find(%s): %v", query.Format(filter), err)
	}
	want, err := e.host.FindRecords(ctx, e.p, form, q, false)
	if err != nil {
		t.Fatalf("memhost: %v", err)
	}
	if g, w := ids(got), ids(want.Items); !slices.Equal(g, w) {
		t.Fatalf("%q → %s:\nsqlite %v\nsdktest %v", src, query.Format(filter), g, w)
	}
}

var odataSeeds = []string{
	`amount gt 99.99`, `amount ne 100`, `region eq '华东' or name eq null`, `not (flag eq true)`,
	`contains(name,'%') or startswith(name,'it''s')`, `endswith(name,'公司') and amount eq null`,
	`tags eq 'a'`, `items/qty gt 10 and items/sku eq 'x'`, `items/qty eq null`,
	`status eq 'closed'`, `region in ('West','')`, `createTime lt 2000-01-01T00:00:00Z or amount eq 0`, `id lt 'r5'`,
	`tags ne 'b'`, `not contains(region,'华')`,
}

var dynamicSeeds = []string{
	`{"field":"amount","op":"gte","value":0}`,
	`{"rel":"or","items":[{"field":"name","op":"eq","value":"alpha"},{"field":"amount","op":"ne","value":100}]}`,
	`{"field":"tags","op":"in","value":["a","c"]}`, `{"field":"items.qty","op":"lt","value":2}`,
	`{"field":"region","op":"nin","value":["华东"]}`, `{"field":"flag","value":"true"}`,
	`{"rel":"and","items":[{"field":"name","op":"ne","value":"beta"},{"field":"amount","op":"empty"}]}`,
}

func parse(kind uint8, src string) (query.Expr, error) {
	if kind%2 == 0 {
		return query.ParseFilter(src, resolver)
	}
	return query.ParseDynamicFilter(json.RawMessage(src), resolver)
}

// TestSeedsReachCompilers: every seed parses, compiles on both sides and
// selects some but not all records, so the fuzzer starts from inputs that
// reach the compilers and the comparison.
func TestSeedsReachCompilers(t *testing.T) {
	e, err := setup()
	if err != nil {
		t.Fatal(err)
	}
	for kind, seeds := range [][]string{odataSeeds, dynamicSeeds} {
		for _, src := range seeds {
			filter, err := parse(uint8(kind), src)
			if err != nil {
				t.Errorf("%s: %v", src, err)
				continue
			}
			q := query.Query{Filter: filter, Limit: -1}
			if _, _, err := e.mg.Explain(coll, tenant, q); err != nil {
				t.Errorf("%s: mongo: %v", src, err)
			}
			docs, err := e.lite.Find(context.Background(), coll, tenant, q)
			if err != nil {
				t.Errorf("%s: sqlite: %v", src, err)
			}
			if n := len(docs); n == 0 || n == len(dataset()) {
				t.Errorf("%s selects %d of %d records", src, n, len(dataset()))
			}
			checkFilter(t, e, src, filter)
		}
	}
}

// FuzzCompilers: input kind 0 is an OData $filter, 1 a $query JSON filter.
func FuzzCompilers(f *testing.F) {
	for _, s := range odataSeeds {
		f.Add(uint8(0), s)
	}
	for _, s := range dynamicSeeds {
		f.Add(uint8(1), s)
	}
	e, err := setup()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, kind uint8, src string) {
		filter, err := parse(kind, src)
		if err != nil {
			wantInvalid(t, "parse", err)
			return
		}
		checkFilter(t, e, src, filter)
	})
}

// TestMalformedTreesRejectedByBoth: trees no parser builds but a Go caller
// can — a missing operand inside And, Or, Not or AnyRow, pointer nodes, a
// typed nil pointer — are refused as Invalid by both compilers. The SQLite
// compiler used to read a missing operand as true (false when negated) and
// dereference pointer nodes (panicking on a typed nil) where the Mongo
// compiler refused them (differential fuzz finding).
func TestMalformedTreesRejectedByBoth(t *testing.T) {
	e, err := setup()
	if err != nil {
		t.Fatal(err)
	}
	amount := query.Path{"data", "amount"}
	cmp := query.Cmp{Path: amount, Op: query.Gt, Value: 10.0}
	trees := []query.Expr{
		query.And{Items: []query.Expr{nil}},
		query.And{Items: []query.Expr{cmp, nil}},
		query.Or{Items: []query.Expr{nil}},
		query.Or{Items: []query.Expr{query.Const{}, nil}},
		query.Not{},
		query.Not{X: query.Or{Items: []query.Expr{cmp, nil}}},
		query.AnyRow{Array: query.Path{"data", "items"}},
		query.Not{X: query.AnyRow{Array: query.Path{"data", "tags"}}},
		query.AnyRow{Array: query.Path{"id"}},
		&cmp,
		&query.And{Items: []query.Expr{cmp}},
		&query.Not{X: cmp},
		&query.Const{Value: true},
		query.And{Items: []query.Expr{cmp, &query.In{Path: amount, Values: []query.Value{1.0}}}},
		query.AnyRow{Array: query.Path{"data", "items"}, Pred: &query.Null{Path: query.Path{"qty"}}},
		query.Not{X: (*query.Cmp)(nil)},
	}
	for i, f := range trees {
		q := query.Query{Filter: f, Limit: -1}
		if _, _, err := e.mg.Explain(coll, tenant, q); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("tree %d %#v: mongo: %v, want Invalid", i, f, err)
		}
		if _, _, err := e.lite.Explain(coll, tenant, q); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("tree %d %#v: sqlite: %v, want Invalid", i, f, err)
		}
		if _, err := e.lite.Find(context.Background(), coll, tenant, q); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("tree %d %#v: sqlite Find: %v, want Invalid", i, f, err)
		}
	}
}
