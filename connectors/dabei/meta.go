package dabei

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Apps, forms, fields (spec 4).

// componentCodes maps core field types to Dabei component codes
// (spec 5.6).
var componentCodes = map[string]string{
	"input": "maminput", "textarea": "mamtextarea", "number": "digitalformat", "timestamp": "date",
	"select": "mamselect", "radio": "mamradio", "checkbox": "mamcheckbox", "select2": "mamcheckbox",
	"employee1": "userhelp", "employee2": "userhelp", "department1": "depthelp", "department2": "depthelp",
	"imageupload": "image", "fileupload": "attachment", "tableform": "childrenTable",
}

// listApps serves GET /apps (spec 4.1).
func listApps(ctx context.Context, c *Call) (*result, error) {
	name, err := c.In.Str("name")
	if err != nil {
		return nil, err
	}
	pg, err := c.Host.EntityFind(ctx, c.Svc, "app", sdk.Query{Limit: 1000}, sdk.EntityOptions{})
	if err != nil {
		return nil, err
	}
	apps := pg.Items
	if name != "" {
		apps = slices.DeleteFunc(slices.Clone(apps), func(d sdk.Doc) bool {
			return !strings.Contains(strings.ToLower(str(d, "name")), strings.ToLower(name))
		})
	}
	slices.SortStableFunc(apps, func(a, b sdk.Doc) int {
		return cmp.Or(cmp.Compare(intOf(a["sortIndex"]), intOf(b["sortIndex"])), cmp.Compare(str(a, "name"), str(b, "name")))
	})
	hubs := make([]string, len(apps))
	for i, a := range apps {
		hubs[i] = str(a, "id")
	}
	ext, err := c.ExtIDs(ctx, kindApp, hubs)
	if err != nil {
		return nil, err
	}
	out := make([]Obj, len(apps))
	for i, a := range apps {
		out[i] = Obj{{"id", ext[hubs[i]]}, {"name", str(a, "name")}}
	}
	return ok(out), nil
}

// app resolves the path's app_id to the hub app id (10002 when it is
// not an app of the tenant).
func (c *Call) app(ctx context.Context) (string, error) {
	ext := c.Param("app_id")
	hub, err := c.HubID(ctx, kindApp, ext)
	if err != nil {
		return "", err
	}
	if hub == "" {
		return "", notFound("app_id", ext)
	}
	if _, err := c.Host.EntityGet(ctx, c.Svc, "app", hub, sdk.EntityOptions{}); err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return "", notFound("app_id", ext)
		}
		return "", err
	}
	return hub, nil
}

// form resolves the path's app_id and form_id to the form (10002 when
// either is unknown or the form is not the app's).
func (c *Call) form(ctx context.Context) (*sdk.Form, error) {
	app, err := c.app(ctx)
	if err != nil {
		return nil, err
	}
	ext := c.Param("form_id")
	hub, err := c.HubID(ctx, kindForm, ext)
	if err != nil {
		return nil, err
	}
	if hub == "" {
		return nil, notFound("form_id", ext)
	}
	f, err := c.Host.GetForm(ctx, c.Svc, hub)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, notFound("form_id", ext)
		}
		return nil, err
	}
	if f.AppID != app || f.ID != hub {
		return nil, notFound("form_id", ext)
	}
	return f, nil
}

// listForms serves GET /apps/{app_id}/forms (spec 4.2).
func listForms(ctx context.Context, c *Call) (*result, error) {
	name, err := c.In.Str("name")
	if err != nil {
		return nil, err
	}
	pageNo, err := c.In.Int("page_no", 1)
	if err != nil {
		return nil, err
	}
	size, err := c.In.Int("page_size", 100)
	if err != nil {
		return nil, err
	}
	if pageNo < 1 || size < 1 || size > 1000 {
		return nil, Failf(CodeInvalid, "参数错误：page_no 或 page_size 超出范围")
	}
	app, err := c.app(ctx)
	if err != nil {
		return nil, err
	}
	forms, err := c.Host.ListForms(ctx, c.Svc)
	if err != nil {
		return nil, err
	}
	var sel []sdk.Form
	for _, f := range forms {
		if f.AppID == app && (name == "" || strings.Contains(strings.ToLower(f.Name), strings.ToLower(name))) {
			sel = append(sel, f)
		}
	}
	from := min((pageNo-1)*size, len(sel))
	sel = sel[from:min(from+size, len(sel))]
	hubs := make([]string, len(sel))
	for i, f := range sel {
		hubs[i] = f.ID
	}
	ext, err := c.ExtIDs(ctx, kindForm, hubs)
	if err != nil {
		return nil, err
	}
	out := make([]Obj, len(sel))
	for i, f := range sel {
		kind := 0
		if f.UsingWorkflow {
			kind = 1
		}
		out[i] = Obj{{"id", ext[f.ID]}, {"name", f.Name}, {"type", kind}}
	}
	return ok(out), nil
}

// listFields serves GET /apps/{app_id}/forms/{form_id}/fields (spec 4.3).
func listFields(ctx context.Context, c *Call) (*result, error) {
	f, err := c.form(ctx)
	if err != nil {
		return nil, err
	}
	return ok(fieldObjs(f.Fields)), nil
}

func fieldObjs(fs []sdk.Field) []Obj {
	out := []Obj{}
	for _, fd := range fs {
		if fd.Hidden {
			continue
		}
		o := Obj{{"fieldId", fd.Field}, {"name", fd.Title}, {"type", componentCodes[fd.Type]}, {"required", fd.Required}}
		if fd.Type == "tableform" {
			o = append(o, KV{"children", fieldObjs(fd.Columns)})
		}
		out = append(out, o)
	}
	return out
}
