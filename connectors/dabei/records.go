package dabei

import (
	"context"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Records (spec 5): create, update, delete, list, read — each acting as
// the request's user_id.

// paramKeys are body keys that are parameters, never field values.
var paramKeys = map[string]bool{"user_id": true, "userId": true, "start_flow": true, "flow_code": true,
	"app_id": true, "form_id": true, "client_id": true, "client_secret": true, "id": true, "data_title": true}

// recordData converts the body's field keys to core data (spec 5.1):
// unknown keys are 10001 "字段不存在：<key>"; system keys are ignored.
func (c *Call) recordData(ctx context.Context, f *sdk.Form, body map[string]any, skip ...string) (map[string]any, error) {
	data := map[string]any{}
	for k, v := range body {
		if paramKeys[k] || strings.HasPrefix(k, "sys_") || contains(skip, k) {
			continue
		}
		fd := lookupField(f.Fields, k)
		if fd == nil {
			return nil, Failf(CodeInvalid, "字段不存在：%s", k)
		}
		if _, dup := data[fd.Field]; dup {
			return nil, Failf(CodeInvalid, "参数错误：字段重复：%s", k)
		}
		x, err := c.toCore(ctx, fd, k, v, 0)
		if err != nil {
			return nil, err
		}
		data[fd.Field] = x
	}
	return data, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// recordCreate serves POST …/record_create (spec 5.1).
func recordCreate(ctx context.Context, c *Call) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	start, err := c.In.Bool("start_flow")
	if err != nil {
		return nil, err
	}
	code, err := c.In.Str("flow_code")
	if err != nil {
		return nil, err
	}
	data, err := c.recordData(ctx, f, c.In.Body)
	if err != nil {
		return nil, err
	}
	opts := sdk.CreateOptions{FormVersion: f.Version}
	if start {
		if code == "" {
			return nil, missing("flow_code")
		}
		if err := c.checkFlowCode(ctx, f, code); err != nil {
			return nil, err
		}
		opts.StartWorkflow, opts.Submit = true, true
	}
	created, err := c.Host.CreateRecords(ctx, p, f.ID, []map[string]any{data}, opts)
	if err != nil {
		return nil, err
	}
	if len(created) != 1 {
		return nil, sdk.Errorf(sdk.Internal, "create returned %d records", len(created))
	}
	hub := str(created[0].Record, "id")
	ext, err := c.ExtID(ctx, kindRecord, hub)
	if err != nil {
		return nil, err
	}
	out := Obj{{"id", ext}}
	if start {
		tasks, err := c.pendingTasks(ctx, p, hub, ext, "")
		if err != nil {
			return nil, err
		}
		out = append(out, KV{"process_id", ext}, KV{"tasks", tasks})
	}
	return ok(out), nil
}

// checkFlowCode checks that code names an enabled workflow definition of
// form f (10002 otherwise).
func (c *Call) checkFlowCode(ctx context.Context, f *sdk.Form, code string) error {
	pg, err := c.Host.EntityFind(ctx, c.Svc, "wfdefinition", sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"key"}, Op: sdk.Eq, Value: code}, Limit: 20}, sdk.EntityOptions{})
	if err != nil {
		return err
	}
	for _, d := range pg.Items {
		src := str(d, "sourceId")
		if src == "" {
			src = str(d, "externalId")
		}
		if disabled, _ := d["disabled"].(bool); disabled {
			continue
		}
		if src == f.ID || src == f.Key {
			return nil
		}
	}
	return notFound("flow_code", code)
}

// recordID resolves a record's Dabei id ("" when it cannot be one).
func (c *Call) recordID(ctx context.Context, ext string) (string, error) {
	if ext == "" {
		return "", missing("record_id")
	}
	hub, err := c.HubID(ctx, kindRecord, ext)
	if err != nil {
		return "", err
	}
	if hub == "" {
		return "", notFound("record_id", ext)
	}
	return hub, nil
}

// recordUpdate serves POST …/record_update (spec 5.2).
func recordUpdate(ctx context.Context, c *Call) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	ext, err := c.In.Str("record_id")
	if err != nil {
		return nil, err
	}
	hub, err := c.recordID(ctx, ext)
	if err != nil {
		return nil, err
	}
	data, err := c.recordData(ctx, f, c.In.Body, "record_id")
	if err != nil {
		return nil, err
	}
	if _, err := c.Host.UpdateRecord(ctx, p, f.ID, hub, data, sdk.IfFormVersion(f.Version)); err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, notFound("record_id", ext)
		}
		return nil, err
	}
	return ok(Obj{{"id", strings.ToLower(ext)}}), nil
}

// recordDelete serves POST …/record_delete (spec 5.3): params.user_id /
// params.record_id, or flat (params wins).
func recordDelete(ctx context.Context, c *Call) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	params, err := Object("params", c.In.Body["params"])
	if err != nil {
		return nil, err
	}
	get := func(k string) (string, error) {
		if params != nil {
			if v, ok := params[k]; ok && v != nil {
				return scalarString(k, v)
			}
		}
		return c.In.Str(k)
	}
	if params != nil {
		if err := c.checkPathCopies(params); err != nil {
			return nil, err
		}
	}
	user, err := get("user_id")
	if err != nil {
		return nil, err
	}
	if user == "" {
		if user, err = get("userId"); err != nil {
			return nil, err
		}
	}
	ext, err := get("record_id")
	if err != nil {
		return nil, err
	}
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingUser(ctx, user)
	if err != nil {
		return nil, err
	}
	hub, err := c.recordID(ctx, ext)
	if err != nil {
		return nil, err
	}
	if err := c.Host.DeleteRecord(ctx, p, f.ID, hub); err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, notFound("record_id", ext)
		}
		return nil, err
	}
	return ok(nil), nil
}

// recordList serves POST …/records (spec 5.4).
func recordList(ctx context.Context, c *Call) (*result, error) {
	if err := c.checkPathCopies(c.In.Body); err != nil {
		return nil, err
	}
	raw, _ := c.In.Raw("filter")
	filter, err := Object("filter", raw)
	if err != nil {
		return nil, err
	}
	pageNo, err := c.In.Int("page_no", 0)
	if err != nil {
		return nil, err
	}
	if pageNo == 0 {
		if pageNo, err = c.In.Int("page", 1); err != nil {
			return nil, err
		}
	}
	size, err := c.In.Int("page_size", 10)
	if err != nil {
		return nil, err
	}
	if pageNo < 1 || pageNo > 1_000_000 || size < 1 || size > 1000 {
		return nil, Failf(CodeInvalid, "参数错误：page_no 或 page_size 超出范围")
	}
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	expr, err := c.CompileFilter(ctx, f, filter)
	if err != nil {
		return nil, err
	}
	pg, err := c.Host.FindRecords(ctx, p, f.ID, sdk.Query{Filter: expr,
		Sort:  []sdk.Sort{{Path: sdk.Path{"createTime"}, Desc: true}, {Path: sdk.Path{"id"}, Desc: true}},
		Limit: size, Offset: (pageNo - 1) * size}, true)
	if err != nil {
		return nil, err
	}
	rows, err := c.renderRecords(ctx, f, pg.Items)
	if err != nil {
		return nil, err
	}
	if c.Cfg.RecordListShape == "object" {
		return ok(Obj{{"list", rows}, {"total", pg.Total}}), nil
	}
	return &result{data: rows, extra: Obj{{"total", pg.Total}, {"page_no", pageNo}, {"page_size", size}}}, nil
}

// recordGet serves GET …/records/{record_id} (spec 5.5).
func recordGet(ctx context.Context, c *Call) (*result, error) {
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.actingFromInput(ctx)
	if err != nil {
		return nil, err
	}
	ext := c.Param("record_id")
	hub, err := c.recordID(ctx, ext)
	if err != nil {
		return nil, err
	}
	rec, err := c.Host.GetRecord(ctx, p, f.ID, hub)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, notFound("record_id", ext)
		}
		return nil, err
	}
	rows, err := c.renderRecords(ctx, f, []sdk.Doc{rec})
	if err != nil {
		return nil, err
	}
	return ok(rows[0]), nil
}
