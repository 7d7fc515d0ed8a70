package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/store/storetest"
)

func newTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "hub.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
}

func TestExplainBindsValues(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	q := query.Query{
		Filter: query.AndOf(
			query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: "f1"},
			query.Cmp{Path: query.Path{"data", "amount"}, Op: query.Ge, Value: 100.0},
			query.Str{Path: query.Path{"data", "name"}, Fn: query.Contains, Value: "x' OR 1=1 --"},
			query.In{Path: query.Path{"data", "region"}, Values: []query.Value{"a", "b"}},
		),
		Sort:  []query.Sort{{Path: query.Path{"data", "amount"}, Desc: true}},
		Limit: 50, Offset: 10,
	}
	sqlText, args, err := s.Explain("formdata", "corpA", q)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`FROM "c_formdata" WHERE corp_id = ? AND deleted = 0`,
		`json_extract(doc, '$."formId"') = ?`,
		`json_extract(doc, '$."data"."amount"') >= ?`,
		`instr(json_extract(doc, '$."data"."name"'), ?) > 0`,
		`json_extract(doc, '$."data"."region"') IN (?, ?)`,
		`ORDER BY json_extract(doc, '$."data"."amount"') DESC, id LIMIT ? OFFSET ?`,
	} {
		if !strings.Contains(sqlText, want) {
			t.Errorf("SQL lacks %q:\n%s", want, sqlText)
		}
	}
	for _, lit := range []string{"corpA", "f1", "100", "OR 1=1", "'a'"} {
		if strings.Contains(sqlText, lit) {
			t.Errorf("value %q appears in SQL text:\n%s", lit, sqlText)
		}
	}
	wantArgs := []any{"corpA", "f1", 100.0, "x' OR 1=1 --", "a", "b", int64(50), int64(10)}
	if !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args = %#v, want %#v", args, wantArgs)
	}
	if n := strings.Count(sqlText, "?"); n != len(args) {
		t.Errorf("%d placeholders for %d args", n, len(args))
	}
}

func TestExplainNegationAndAnyRow(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	q := query.Query{Filter: query.Not{X: query.AnyRow{
		Array: query.Path{"data", "items"},
		Pred:  query.Cmp{Path: query.Path{"qty"}, Op: query.Gt, Value: 10.0},
	}}, Limit: -1}
	sqlText, args, err := s.Explain("formdata", "corpA", q)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`json_type(doc, '$."data"."items"') = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, '$."data"."items"') AS je1 WHERE`,
		`json_extract(CASE WHEN je1.type = 'object' THEN je1.value END, '$."qty"') > ?`,
		`) IS NOT 1`,
	} {
		if !strings.Contains(sqlText, want) {
			t.Errorf("SQL lacks %q:\n%s", want, sqlText)
		}
	}
	if want := []any{"corpA", 10.0, int64(-1), int64(0)}; !reflect.DeepEqual(args, want) {
		t.Errorf("args = %#v, want %#v", args, want)
	}
}

func TestHostileKeys(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	hostile := map[string]string{
		`a"); DROP TABLE x; --`: "drop", `a"b`: "dq", "it's": "quoted", "a b": "space",
		`back\slash`: "bs", "点": "cjk", "$.x[0]": "pathy", "nul\x00": "nul", "<&>": "html",
	}
	data := map[string]any{}
	for k, v := range hostile {
		data[k] = v
	}
	if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "c", "data": data}); err != nil {
		t.Fatal(err)
	}
	// Every key is quoted as a JSON string inside an SQL literal: it selects
	// exactly its own value, is usable in sorts and indexes, and never
	// becomes SQL text.
	for key, val := range hostile {
		q := query.Query{Filter: query.Cmp{Path: query.Path{"data", key}, Op: query.Eq, Value: val},
			Sort: []query.Sort{{Path: query.Path{"data", key}}}, Limit: -1}
		docs, err := s.Find(ctx, "formdata", "c", q)
		if err != nil || len(docs) != 1 {
			t.Errorf("Find by key %q: %d docs, %v", key, len(docs), err)
		}
		q.Filter = query.Cmp{Path: query.Path{"data", key}, Op: query.Eq, Value: "other"}
		if docs, err := s.Find(ctx, "formdata", "c", q); err != nil || len(docs) != 0 {
			t.Errorf("Find by key %q with another value: %d docs, %v", key, len(docs), err)
		}
		if err := s.EnsureIndex(ctx, "formdata", []query.Path{{"data", key}}); err != nil {
			t.Errorf("EnsureIndex %q: %v", key, err)
		}
		sqlText, _, err := s.Explain("formdata", "c", q)
		if err != nil || strings.Contains(sqlText, "other") {
			t.Errorf("Explain %q: %v\n%s", key, err, sqlText)
		}
	}
	// Keys no path can name are rejected.
	for _, key := range []string{"", "bad\xff"} {
		q := query.Query{Filter: query.Cmp{Path: query.Path{"data", key}, Op: query.Eq, Value: "x"}, Limit: -1}
		if _, _, err := s.Explain("formdata", "c", q); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("Explain with key %q: %v, want Invalid", key, err)
		}
		sq := query.Query{Sort: []query.Sort{{Path: query.Path{key}}}, Limit: 1}
		if _, err := s.Find(ctx, "formdata", "c", sq); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("sort by key %q: %v, want Invalid", key, err)
		}
		if err := s.EnsureIndex(ctx, "formdata", []query.Path{{key}}); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("EnsureIndex key %q: %v, want Invalid", key, err)
		}
	}
	// Collection names are whitelisted.
	for _, coll := range []string{`x"; DROP TABLE y; --`, "", "a-b", "1abc"} {
		if err := s.Insert(ctx, coll, store.Doc{"id": "a", "corpId": "c"}); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("Insert into %q: %v, want Invalid", coll, err)
		}
	}
	if _, err := s.Get(ctx, "formdata", "c", "a"); err != nil {
		t.Fatalf("table damaged: %v", err)
	}
}

func TestInsertValidation(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	for name, d := range map[string]store.Doc{
		"no id":      {"corpId": "c"},
		"empty id":   {"id": "", "corpId": "c"},
		"int id":     {"id": 5, "corpId": "c"},
		"no corpId":  {"id": "a"},
		"NaN number": {"id": "a", "corpId": "c", "x": nan()},
	} {
		if err := s.Insert(ctx, "formdata", d); errs.CodeOf(err) != errs.Invalid || err == nil {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, "formdata", "c", "a", store.Doc{"id": "b", "corpId": "c"}, nil); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("Update changing id: %v, want Invalid", err)
	}
	if err := s.Update(ctx, "formdata", "c", "a", store.Doc{"id": "a", "corpId": "other"}, nil); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("Update changing corpId: %v, want Invalid", err)
	}
	// id and corpId may be left out of the replacement.
	if err := s.Update(ctx, "formdata", "c", "a", store.Doc{"x": "y"}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "formdata", "c", "a")
	if err != nil || !reflect.DeepEqual(got, store.Doc{"id": "a", "corpId": "c", "x": "y"}) {
		t.Fatalf("Get = %v, %v", got, err)
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "deep", "dir", "hub file?#.db")
	s, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	d := store.Doc{"id": "a", "corpId": "c", "data": map[string]any{"n": int64(1714000000000), "f": 0.5}}
	if err := s.Insert(ctx, "formdata", d); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureIndex(ctx, "formdata", []query.Path{{"data", "n"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Get(ctx, "formdata", "c", "a")
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("after reopen Get = %v, %v; want %v", got, err, d)
	}
	if err := s.EnsureIndex(ctx, "formdata", []query.Path{{"data", "n"}}); err != nil {
		t.Fatalf("EnsureIndex after reopen: %v", err)
	}
}

// A nested Tx whose error the outer fn swallows still aborts the whole
// transaction (MongoTransactionScope semantics, spec §8).
func TestNestedErrorSwallowedStillRollsBack(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "c"}); err != nil {
			return err
		}
		_ = s.Tx(ctx, func(context.Context) error { return boom })
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the nested error", err)
	}
	if _, err := s.Get(ctx, "formdata", "c", "a"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("Get after rollback: %v, want NotFound", err)
	}
}

// A collection first used inside a rolled-back Tx is created again later.
func TestTableCreatedInRolledBackTx(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	_ = s.Tx(ctx, func(ctx context.Context) error {
		if err := s.Insert(ctx, "fresh", store.Doc{"id": "a", "corpId": "c"}); err != nil {
			t.Error(err)
		}
		return errors.New("abort")
	})
	if err := s.Insert(ctx, "fresh", store.Doc{"id": "a", "corpId": "c"}); err != nil {
		t.Fatalf("Insert after rolled-back creation: %v", err)
	}
}

// A Tx context of one store is ignored by another store.
func TestTxContextIsPerStore(t *testing.T) {
	a, b := newTestStore(t), newTestStore(t)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	_ = a.Tx(ctx, func(ctx context.Context) error {
		if err := b.Insert(ctx, "formdata", store.Doc{"id": "x", "corpId": "c"}); err != nil {
			t.Error(err)
		}
		return errors.New("abort a")
	})
	if _, err := b.Get(ctx, "formdata", "c", "x"); err != nil {
		t.Fatalf("b's write outside a's Tx was rolled back: %v", err)
	}
}

func TestMapErr(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	if err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "c"}); err != nil {
		t.Fatal(err)
	}
	err := s.Insert(ctx, "formdata", store.Doc{"id": "a", "corpId": "c"})
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != errs.Conflict || e.Err == nil {
		t.Fatalf("duplicate insert: %#v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Find(cctx, "formdata", "c", query.Query{Limit: -1}); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("cancelled Find: %v, want Unavailable", err)
	}
	if got := mapErr(errors.New("x"), "op"); errs.CodeOf(got) != errs.Internal {
		t.Fatalf("plain error → %v", errs.CodeOf(got))
	}
}

// The page query the native API runs most (tenant + form + filters, sorted,
// limited) is answered from the sort field's index without sorting the
// matches, as long as EnsureIndex declared the paths.
func TestPageQueryPlan(t *testing.T) {
	s := newTestStore(t)
	defer s.Close()
	ctx := context.Background()
	for i := range 200 {
		d := store.Doc{"id": fmt.Sprintf("%04d", i), "corpId": "c", "formId": fmt.Sprintf("f%d", i%4),
			"createTime": int64(i), "data": map[string]any{"amount": float64(i % 37), "region": map[string]any{"value": []string{"a", "b", "c"}[i%3]}}}
		if err := s.Insert(ctx, "formdata", d); err != nil {
			t.Fatal(err)
		}
	}
	amount, region := query.Path{"data", "amount"}, query.Path{"data", "region", "value"}
	if err := s.EnsureIndex(ctx, "formdata", []query.Path{amount, region, {"createTime"}}); err != nil {
		t.Fatal(err)
	}
	form := query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: "f1"}
	for _, tc := range []struct {
		name string
		q    query.Query
	}{
		{"amount desc", query.Query{Filter: query.AndOf(form,
			query.Cmp{Path: amount, Op: query.Ge, Value: 10.0},
			query.Cmp{Path: region, Op: query.Eq, Value: "b"}),
			Sort: []query.Sort{{Path: amount, Desc: true}}, Limit: 50}},
		{"amount asc", query.Query{Filter: query.AndOf(form, query.Cmp{Path: amount, Op: query.Lt, Value: 10.0}),
			Sort: []query.Sort{{Path: amount}}, Limit: 50}},
		{"createTime desc", query.Query{Filter: form, Sort: []query.Sort{{Path: query.Path{"createTime"}, Desc: true}}, Limit: 20}},
		{"default order", query.Query{Filter: form, Limit: 20}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sqlText, args, err := s.Explain("formdata", "c", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+sqlText, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "\n")
			if !strings.Contains(joined, "USING INDEX") || strings.Contains(joined, "TEMP B-TREE") {
				t.Errorf("plan sorts or scans:\n%s", joined)
			}
		})
	}
}
