package dataflow

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/dop251/goja"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// records is the `records` object scripts see (§5.2): find, get, create,
// update, remove over one tenant's records, with values validated by the
// form schema (schema.Normalize). Writes are collected in pend and applied
// after the run (pending.go).
type records struct {
	ctx   context.Context
	e     *Engine
	rt    *goja.Runtime
	p     *principal.Principal
	parse goja.Callable
	obj   *goja.Object
	forms map[string]*schema.Form
	calls int
	pend  *pending
	// err is a store outage or an optimistic-concurrency conflict seen by a
	// records call (the run then answers that error rather than "failed").
	err error
}

func newRecords(ctx context.Context, e *Engine, rt *goja.Runtime, p *principal.Principal, parse goja.Callable) *records {
	r := &records{ctx: ctx, e: e, rt: rt, p: p, parse: parse, forms: map[string]*schema.Form{}, pend: newPending()}
	o := rt.NewObject()
	set := func(name string, fn func(goja.FunctionCall) goja.Value) {
		_ = o.Set(name, func(c goja.FunctionCall) goja.Value {
			r.calls++
			if r.calls > e.lim.RecordCalls {
				r.throw(errs.Invalidf("more than %d records calls in one run", e.lim.RecordCalls))
			}
			if err := ctx.Err(); err != nil {
				r.throw(errs.Invalidf("run cancelled: %v", err))
			}
			return fn(c)
		})
	}
	set("find", r.find)
	set("get", r.get)
	set("create", r.create)
	set("update", r.update)
	set("remove", r.remove)
	if freeze, ok := goja.AssertFunction(rt.Get("Object").ToObject(rt).Get("freeze")); ok {
		_, _ = freeze(goja.Undefined(), o) // scripts cannot swap the functions
	}
	r.obj = o
	return r
}

// throw raises err in the script as an Error with err's message.
func (r *records) throw(err error) {
	if c := errs.CodeOf(err); (c == errs.Unavailable || c == errs.Conflict) && r.err == nil {
		r.err = err
	}
	e := errs.As(err)
	msg := e.Msg
	if e.Code == errs.Internal {
		msg = "internal error"
	}
	if len(e.Details) > 0 {
		parts := make([]string, 0, len(e.Details))
		for _, d := range e.Details {
			parts = append(parts, d.Target+": "+d.Message)
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	panic(r.rt.NewGoError(errs.New(e.Code, msg)))
}

func (r *records) str(c goja.FunctionCall, i int, name string) string {
	v := c.Argument(i)
	if goja.IsUndefined(v) || goja.IsNull(v) {
		r.throw(errs.Invalidf("records: %s is required", name))
	}
	s, ok := v.Export().(string)
	if !ok || s == "" {
		r.throw(errs.Invalidf("records: %s must be a non-empty string", name))
	}
	return s
}

// data converts a JS value to a JSON object (size-limited).
func (r *records) data(v goja.Value) map[string]any {
	b, err := json.Marshal(v.Export())
	if err != nil {
		r.throw(errs.Invalidf("records: data must be a JSON object"))
	}
	if len(b) > r.e.lim.IO {
		r.throw(errs.Invalidf("records: data exceeds %d bytes", r.e.lim.IO))
	}
	if r.pend.bytes += len(b); r.pend.bytes > maxPending*r.e.lim.IO {
		r.throw(errs.Invalidf("records: the run's writes exceed %d bytes", maxPending*r.e.lim.IO))
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		r.throw(errs.Invalidf("records: data must be a JSON object"))
	}
	return m
}

// out converts stored documents to plain JS values (JSON in between).
func (r *records) out(v any) goja.Value {
	b, err := json.Marshal(v)
	if err != nil {
		r.throw(err)
	}
	if len(b) > r.e.lim.IO {
		r.throw(errs.Invalidf("records: result exceeds %d bytes", r.e.lim.IO))
	}
	res, err := r.parse(goja.Undefined(), r.rt.ToValue(string(b)))
	if err != nil {
		r.throw(err)
	}
	return res
}

func (r *records) form(ref string) *schema.Form {
	if f, ok := r.forms[ref]; ok {
		return f
	}
	f, err := r.e.rec.Form(r.ctx, r.p.Tenant, ref)
	if errs.CodeOf(err) == errs.NotFound {
		err = errs.NotFoundf("records: form %s not found", ref)
	}
	if err != nil {
		r.throw(err)
	}
	r.forms[ref] = f
	return f
}

// find(form, filter?, options?) → array of records. options: {top, skip, orderby}.
func (r *records) find(c goja.FunctionCall) goja.Value {
	f := r.form(r.str(c, 0, "form"))
	res := f.Resolver(recordProps)
	filter := query.Expr(query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: f.ID})
	if v := c.Argument(1); !goja.IsUndefined(v) && !goja.IsNull(v) {
		src, ok := v.Export().(string)
		if !ok {
			r.throw(errs.Invalidf("records.find: filter must be a $filter string"))
		}
		if strings.TrimSpace(src) != "" {
			x, err := query.ParseFilter(src, res)
			if err != nil {
				r.throw(err)
			}
			filter = query.AndOf(filter, x)
		}
	}
	q := query.Query{Filter: filter, Limit: query.DefaultTop}
	if v := c.Argument(2); !goja.IsUndefined(v) && !goja.IsNull(v) {
		opts, _ := v.Export().(map[string]any)
		if n, ok := toInt(opts["top"]); ok {
			q.Limit = n
		}
		if n, ok := toInt(opts["skip"]); ok && n > 0 {
			q.Offset = n
		}
		if s, ok := opts["orderby"].(string); ok && s != "" {
			sorts, err := query.ParseOrderBy(s, res)
			if err != nil {
				r.throw(err)
			}
			q.Sort = sorts
		}
	}
	if q.Limit < 0 || q.Limit > r.e.lim.FindLimit {
		q.Limit = r.e.lim.FindLimit
	}
	var docs []store.Doc
	find := func(ctx context.Context) (err error) {
		docs, err = r.e.st.Find(ctx, "formdata", r.p.Tenant, q)
		return err
	}
	var err error
	if r.pend.affects(f.ID) {
		err = r.pend.view(r.ctx, r.e.st, r.e.rec, r.p, find)
	} else {
		err = find(r.ctx)
	}
	if err != nil {
		r.throw(err)
	}
	for _, d := range docs {
		if id, _ := d["id"].(string); r.pend.docs[id] == nil {
			r.pend.see(d)
		}
	}
	return r.out(docs)
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case float64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// get(form, id) → the record or null.
func (r *records) get(c goja.FunctionCall) goja.Value {
	f := r.form(r.str(c, 0, "form"))
	d, err := r.load(r.str(c, 1, "id"))
	if errs.CodeOf(err) == errs.NotFound || (err == nil && d["formId"] != f.ID) {
		return goja.Null()
	}
	if err != nil {
		r.throw(err)
	}
	return r.out(d)
}

// load returns a record as the run sees it: its pending state, NotFound
// once the run removed it, else the stored record (remembered for the
// compare-and-set).
func (r *records) load(id string) (store.Doc, error) {
	if r.pend.removed[id] {
		return nil, errs.NotFoundf("record %s not found", id)
	}
	if d, ok := r.pend.docs[id]; ok {
		return d, nil
	}
	d, err := r.e.st.Get(r.ctx, "formdata", r.p.Tenant, id)
	if err != nil {
		return nil, err
	}
	r.pend.see(d)
	if record.TimeOf(d["updateTime"]) != r.pend.seen[id] {
		return nil, errs.Conflictf("record %s was changed by another writer during the dataflow run", id)
	}
	return d, nil
}

// create(form, data) → the created record (record.Build: the record
// core's document, flowStatus and server-set fields).
func (r *records) create(c goja.FunctionCall) goja.Value {
	f := r.form(r.str(c, 0, "form"))
	doc, err := record.Build(f, r.p.Tenant, r.data(c.Argument(1)), record.Operator(r.p), r.e.now().UnixMilli(), false)
	if err != nil {
		r.throw(err)
	}
	id := doc["id"].(string)
	r.pend.touch(id)
	r.pend.docs[id], r.pend.created[id] = doc, true
	return r.out(doc)
}

// update(form, id, data) → the updated record (record.Merge: data merged
// key by key; null clears a field).
func (r *records) update(c goja.FunctionCall) goja.Value {
	f := r.form(r.str(c, 0, "form"))
	id := r.str(c, 1, "id")
	old, err := r.load(id)
	if err == nil && old["formId"] != f.ID {
		err = errs.NotFoundf("records.update: record %s not found in form %s", id, f.ID)
	}
	if err != nil {
		r.throw(err)
	}
	d, err := record.Merge(f, old, r.data(c.Argument(2)), record.Operator(r.p), r.e.now().UnixMilli())
	if err != nil {
		r.throw(err)
	}
	r.pend.touch(id)
	r.pend.docs[id] = d
	return r.out(d)
}

// remove(form, id) → true (soft delete).
func (r *records) remove(c goja.FunctionCall) goja.Value {
	f := r.form(r.str(c, 0, "form"))
	id := r.str(c, 1, "id")
	d, err := r.load(id)
	if err == nil && d["formId"] != f.ID {
		err = errs.NotFoundf("records.remove: record %s not found in form %s", id, f.ID)
	}
	if err != nil {
		r.throw(err)
	}
	r.pend.touch(id)
	delete(r.pend.docs, id)
	r.pend.removed[id] = true
	return r.rt.ToValue(true)
}

// recordProps resolves a record's own properties in find filters.
var recordProps = query.ResolverFunc(func(segs []string) (query.Field, error) {
	name := strings.Join(segs, "/")
	var f query.Field
	switch strings.ToLower(name) {
	case "id":
		f = query.Field{Path: query.Path{"id"}, Type: query.String}
	case "datatitle":
		f = query.Field{Path: query.Path{"dataTitle"}, Type: query.String}
	case "createtime":
		f = query.Field{Path: query.Path{"createTime"}, Type: query.Time}
	case "updatetime":
		f = query.Field{Path: query.Path{"updateTime"}, Type: query.Time}
	case "createby/id":
		f = query.Field{Path: query.Path{"createBy", "id"}, Type: query.String}
	case "flowstatus":
		f = query.Field{Path: query.Path{"flowStatus"}, Type: query.Enum, Enum: record.FlowStatusEnum}
	default:
		return query.Field{}, errs.Invalidf("unknown property %s", name).WithTarget(name)
	}
	f.Name = name
	return f, nil
})
