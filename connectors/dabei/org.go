package dabei

import (
	"cmp"
	"context"
	"slices"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// The organisation (spec 7): the tenant's department tree and users,
// with data as a JSON-encoded string (spec 1.4).

type dept struct {
	hub, ext, name, parent string
	sort                   int64
}

type orgTree struct {
	byHub    map[string]*dept
	children map[string][]*dept // parent hub id ("" = top) → children, ordered
	root     string             // the tenant's Dabei id
}

func intOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// loadTree reads every department of the tenant (one directory call, one
// alias call).
func (c *Call) loadTree(ctx context.Context) (*orgTree, error) {
	pg, err := c.Host.FindDepartments(ctx, c.Svc, sdk.Query{Limit: -1}, false)
	if err != nil {
		return nil, err
	}
	t := &orgTree{byHub: map[string]*dept{}, children: map[string][]*dept{}}
	hubs := make([]string, 0, len(pg.Items))
	for _, d := range pg.Items {
		x := &dept{hub: str(d, "id"), name: str(d, "name"), parent: str(d, "parentId"), sort: intOf(d["sortIndex"])}
		t.byHub[x.hub] = x
		hubs = append(hubs, x.hub)
	}
	ext, err := c.ExtIDs(ctx, kindDept, hubs)
	if err != nil {
		return nil, err
	}
	for _, x := range t.byHub {
		x.ext = ext[x.hub]
		p := x.parent
		if _, ok := t.byHub[p]; !ok {
			p = ""
		}
		t.children[p] = append(t.children[p], x)
	}
	for _, l := range t.children {
		slices.SortFunc(l, func(a, b *dept) int {
			return cmp.Or(cmp.Compare(a.sort, b.sort), cmp.Compare(a.name, b.name), cmp.Compare(a.ext, b.ext))
		})
	}
	if t.root, err = c.tenantRoot(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *orgTree) pid(d *dept) string {
	if p, ok := t.byHub[d.parent]; ok {
		return p.ext
	}
	return t.root
}

// node renders d (with its subtree when recursive): keys children, id,
// name, pid; children omitted on leaves.
func (t *orgTree) node(d *dept, recursive bool, depth int) Obj {
	o := Obj{}
	if recursive && depth < 64 {
		if kids := t.children[d.hub]; len(kids) > 0 {
			arr := make([]Obj, len(kids))
			for i, k := range kids {
				arr[i] = t.node(k, true, depth+1)
			}
			o = append(o, KV{"children", arr})
		}
	}
	return append(o, KV{"id", d.ext}, KV{"name", d.name}, KV{"pid", t.pid(d)})
}

// findExt finds a department by its Dabei id.
func (c *Call) findDept(ctx context.Context, t *orgTree, ext string) (*dept, error) {
	hub, err := c.HubID(ctx, kindDept, ext)
	if err != nil {
		return nil, err
	}
	return t.byHub[hub], nil
}

func (c *Call) stringData(key string, data any) *result {
	return &result{data: data, asString: c.Cfg.stringData[key]}
}

// listOrgs serves GET /orgs (spec 7.1).
func listOrgs(ctx context.Context, c *Call) (*result, error) {
	parent, err := c.In.Str("parentId")
	if err != nil {
		return nil, err
	}
	rec, err := c.In.Bool("recursion")
	if err != nil {
		return nil, err
	}
	t, err := c.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	at := ""
	if parent != "" && parent != t.root {
		d, err := c.findDept(ctx, t, parent)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return nil, notFound("parentId", parent)
		}
		at = d.hub
	}
	out := []Obj{}
	for _, d := range t.children[at] {
		out = append(out, t.node(d, rec, 0))
	}
	return c.stringData("orgs", out), nil
}

// getOrg serves GET /orgs/{org_id} (spec 7.2).
func getOrg(ctx context.Context, c *Call) (*result, error) {
	t, err := c.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	d, err := c.findDept(ctx, t, c.Param("org_id"))
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("org_id", c.Param("org_id"))
	}
	return c.stringData("org", t.node(d, false, 0)), nil
}

// listUsers serves GET /users (spec 7.3).
func listUsers(ctx context.Context, c *Call) (*result, error) {
	org, err := c.In.Str("org_id")
	if err != nil {
		return nil, err
	}
	if org == "" {
		return nil, missing("org_id")
	}
	rec, err := c.In.Bool("recursion")
	if err != nil {
		return nil, err
	}
	t, err := c.loadTree(ctx)
	if err != nil {
		return nil, err
	}
	d, err := c.findDept(ctx, t, org)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, notFound("org_id", org)
	}
	ids := []sdk.Value{d.hub}
	if rec {
		var walk func(h string, depth int)
		walk = func(h string, depth int) {
			for _, k := range t.children[h] {
				ids = append(ids, k.hub)
				if depth < 64 {
					walk(k.hub, depth+1)
				}
			}
		}
		walk(d.hub, 0)
	}
	pg, err := c.Host.FindUsers(ctx, c.Svc, sdk.Query{Filter: sdk.AndOf(
		sdk.In{Path: sdk.Path{"departmentId"}, Values: ids},
		sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)}), Limit: -1}, false)
	if err != nil {
		return nil, err
	}
	users := pg.Items
	slices.SortStableFunc(users, func(a, b sdk.Doc) int {
		return cmp.Or(cmp.Compare(str(a, "empName"), str(b, "empName")), cmp.Compare(str(a, "id"), str(b, "id")))
	})
	out, err := c.renderUsers(ctx, users, false)
	if err != nil {
		return nil, err
	}
	return c.stringData("users", out), nil
}

// getUser serves POST (and GET) /users/{user_id} (spec 7.4); the literal
// path /users/user_id takes the id from the query or the body.
func getUser(ctx context.Context, c *Call) (*result, error) {
	id := c.Param("user_id")
	if id == "user_id" || id == "" {
		s, err := c.In.userParam()
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, missing("user_id")
		}
		id = s
	}
	hub, err := c.HubID(ctx, kindUser, id)
	if err != nil {
		return nil, err
	}
	u, err := c.findUser(ctx, "id", hub)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, notFound("user_id", id)
	}
	out, err := c.renderUsers(ctx, []sdk.Doc{u}, false)
	if err != nil {
		return nil, err
	}
	return c.stringData("user", out[0]), nil
}

// renderUsers renders users as Dabei user objects: departmentId,
// departmentIds, id, name (full, for user_info: departmentId,
// departmentIds, id, phone, username, name as in the vendor sample).
func (c *Call) renderUsers(ctx context.Context, users []sdk.Doc, full bool) ([]Obj, error) {
	var uh, dh []string
	for _, u := range users {
		uh = append(uh, str(u, "id"))
		if d := str(u, "departmentId"); d != "" {
			dh = append(dh, d)
		}
	}
	ue, err := c.ExtIDs(ctx, kindUser, uh)
	if err != nil {
		return nil, err
	}
	de, err := c.ExtIDs(ctx, kindDept, dh)
	if err != nil {
		return nil, err
	}
	out := make([]Obj, len(users))
	for i, u := range users {
		dep := de[str(u, "departmentId")]
		deps := []string{}
		if dep != "" {
			deps = append(deps, dep)
		}
		o := Obj{{"departmentId", dep}, {"departmentIds", deps}, {"id", ue[str(u, "id")]}}
		if full {
			o = append(o, KV{"phone", str(u, "workPhone")}, KV{"username", str(u, "userName")})
		}
		out[i] = append(o, KV{"name", str(u, "empName")})
	}
	return out, nil
}
