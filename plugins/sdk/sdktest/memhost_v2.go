package sdktest

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// MemHost's Host API v2: read expansions, generic entities, a small
// workflow task model and aliases. It models what a connector observes,
// with the hub's permission shape: admin-only kinds, read-only kinds, task
// assignees.

// adminKinds are the kinds only administrators write (native catalogue).
var adminKinds = map[string]bool{"user": true, "department": true, "role": true, "menu": true,
	"app": true, "form": true, "wfdefinition": true, "dfdefinition": true}

// aliasName is the hub's rule for alias namespaces and kinds.
var aliasName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// readOnlyKinds are written by the system only.
var readOnlyKinds = map[string]bool{"wftodo": true, "wfapprovallog": true, "file": true}

type memWF struct {
	todo, done, started, cc map[string][]sdk.TaskItem // user → items
}

type memAliases struct {
	toHub, toExt map[string]string
	seq          map[string]int64 // prefix → last number
}

func isAdmin(p *sdk.Principal) bool { return p != nil && slices.Contains(p.Roles, "admin") }

// expand attaches creator/updater (with their department when the expand
// names it) to rec, as the hub's $expand does for OwnerExpand.
func (m *MemHost) expand(t string, rec sdk.Doc, expand string) sdk.Doc {
	if expand == "" {
		return rec
	}
	withDept := strings.Contains(expand, "department")
	for nav, key := range map[string]string{"creator": "createBy", "updater": "updateBy"} {
		if !strings.Contains(expand, nav) {
			continue
		}
		op, _ := rec[key].(map[string]any)
		id, _ := op["id"].(string)
		var v any
		if u := m.findDir("user", t, id); u != nil {
			user := sdk.Doc{}
			for _, k := range []string{"id", "code", "empName", "departmentId"} {
				if x, ok := u[k]; ok {
					user[k] = x
				}
			}
			if withDept {
				dep, _ := u["departmentId"].(string)
				var dv any
				if d := m.findDir("department", t, dep); d != nil {
					dv = sdk.Doc{"id": d["id"], "name": d["name"], "code": d["code"]}
				}
				user["department"] = dv
			}
			v = user
		}
		rec[nav] = v
	}
	return rec
}

func (m *MemHost) entityDocs(kind, t string) []sdk.Doc {
	if m.ents == nil {
		m.ents = map[string]map[string][]sdk.Doc{}
	}
	if kind == "user" || kind == "department" || kind == "role" {
		return m.dir[kind][t]
	}
	return m.ents[kind][t]
}

func (m *MemHost) setEntityDocs(kind, t string, docs []sdk.Doc) {
	if kind == "user" || kind == "department" || kind == "role" {
		if m.dir[kind] == nil {
			m.dir[kind] = map[string][]sdk.Doc{}
		}
		m.dir[kind][t] = docs
		return
	}
	if m.ents[kind] == nil {
		m.ents[kind] = map[string][]sdk.Doc{}
	}
	m.ents[kind][t] = docs
}

// isForm reports whether name is a form key of t (records).
func (m *MemHost) isForm(t, name string) bool {
	return slices.ContainsFunc(m.forms[t], func(f sdk.Form) bool { return f.Key == name })
}

// EntityFind implements sdk.Host (records through their form key).
func (m *MemHost) EntityFind(ctx context.Context, p *sdk.Principal, entity string, q sdk.Query, o sdk.EntityOptions) (sdk.Page, error) {
	t, err := tenantOf(p)
	if err != nil {
		return sdk.Page{}, err
	}
	m.mu.Lock()
	form := m.isForm(t, entity)
	m.mu.Unlock()
	if form {
		return m.FindRecords(ctx, p, entity, q, o.Count, sdk.Expand(o.Expand))
	}
	if entity == "outbox" && !isAdmin(p) {
		return sdk.Page{}, errs.Forbiddenf("reading outbox needs the admin role")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var docs []sdk.Doc
	for _, d := range m.entityDocs(entity, t) {
		if visible(p, entity, d) {
			docs = append(docs, d)
		}
	}
	return page(docs, q, o.Count), nil
}

// EntityGet implements sdk.Host.
func (m *MemHost) EntityGet(ctx context.Context, p *sdk.Principal, entity, id string, o sdk.EntityOptions) (sdk.Doc, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	form := m.isForm(t, entity)
	m.mu.Unlock()
	if form {
		return m.GetRecord(ctx, p, entity, id, sdk.Expand(o.Expand))
	}
	if entity == "outbox" && !isAdmin(p) {
		return nil, errs.Forbiddenf("reading outbox needs the admin role")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range m.entityDocs(entity, t) {
		if d["id"] == id && visible(p, entity, d) {
			return clone(d), nil
		}
	}
	return nil, errs.NotFoundf("%s %q not found", entity, id)
}

func checkEntityWrite(p *sdk.Principal, entity string) error {
	if readOnlyKinds[entity] {
		return errs.Newf(errs.MethodNotAllowed, "%s is read-only", entity)
	}
	if adminKinds[entity] && !isAdmin(p) {
		return errs.Forbiddenf("writing %s needs the admin role", entity)
	}
	return nil
}

// EntityCreate implements sdk.Host.
func (m *MemHost) EntityCreate(ctx context.Context, p *sdk.Principal, entity string, body sdk.Doc) (sdk.Doc, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	form := m.isForm(t, entity)
	m.mu.Unlock()
	if form {
		data, _ := body["data"].(map[string]any)
		return m.CreateRecord(ctx, p, entity, data)
	}
	if err := checkEntityWrite(p, entity); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := clone(body)
	for _, k := range []string{"id", "corpId", "createBy", "updateBy", "createTime", "updateTime"} {
		delete(d, k) // server-set
	}
	if err := m.createRules(t, p, entity, d); err != nil {
		return nil, err
	}
	d["id"], d["corpId"] = m.nextID(entity[:1]), t
	d["createBy"], d["updateBy"] = operator(p), operator(p)
	d["createTime"], d["updateTime"] = m.now(), m.now()
	m.setEntityDocs(entity, t, append(m.entityDocs(entity, t), d))
	return clone(d), nil
}

// EntityUpdate implements sdk.Host: a partial merge (null clears).
func (m *MemHost) EntityUpdate(ctx context.Context, p *sdk.Principal, entity, id string, body sdk.Doc, o sdk.EntityOptions) (sdk.Doc, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	form := m.isForm(t, entity)
	m.mu.Unlock()
	if form {
		data, _ := body["data"].(map[string]any)
		return m.UpdateRecord(ctx, p, entity, id, data)
	}
	if err := checkEntityWrite(p, entity); err != nil {
		return nil, err
	}
	if appendOnlyKinds[entity] {
		return nil, errs.Newf(errs.MethodNotAllowed, "%s entries are never rewritten", entity)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	docs := m.entityDocs(entity, t)
	for i, old := range docs {
		if old["id"] != id || !writable(p, entity, old, false) {
			continue
		}
		if o.IfMatch != 0 && old["updateTime"] != o.IfMatch {
			return nil, errs.Conflictf("%s %q was modified", entity, id)
		}
		d := clone(old)
		for k, v := range body {
			if v == nil {
				delete(d, k)
			} else {
				d[k] = cloneValue(v)
			}
		}
		if err := m.updateRules(t, p, entity, d, old); err != nil {
			return nil, err
		}
		d["updateBy"], d["updateTime"] = operator(p), m.now()
		docs[i] = d
		return clone(d), nil
	}
	return nil, errs.NotFoundf("%s %q not found", entity, id)
}

// EntityDelete implements sdk.Host.
func (m *MemHost) EntityDelete(ctx context.Context, p *sdk.Principal, entity, id string, o sdk.EntityOptions) error {
	t, err := tenantOf(p)
	if err != nil {
		return err
	}
	m.mu.Lock()
	form := m.isForm(t, entity)
	m.mu.Unlock()
	if form {
		return m.DeleteRecord(ctx, p, entity, id)
	}
	if err := checkEntityWrite(p, entity); err != nil && entity != "file" {
		return err
	}
	if appendOnlyKinds[entity] {
		return errs.Newf(errs.MethodNotAllowed, "%s is read-only", entity)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	docs := m.entityDocs(entity, t)
	for i, d := range docs {
		if d["id"] == id && writable(p, entity, d, true) {
			if o.IfMatch != 0 && d["updateTime"] != o.IfMatch {
				return errs.Conflictf("%s %q was modified", entity, id)
			}
			m.setEntityDocs(entity, t, slices.Delete(slices.Clone(docs), i, i+1))
			return nil
		}
	}
	return errs.NotFoundf("%s %q not found", entity, id)
}

func (m *MemHost) wf(t string) *memWF {
	if m.wfs == nil {
		m.wfs = map[string]*memWF{}
	}
	w := m.wfs[t]
	if w == nil {
		w = &memWF{todo: map[string][]sdk.TaskItem{}, done: map[string][]sdk.TaskItem{},
			started: map[string][]sdk.TaskItem{}, cc: map[string][]sdk.TaskItem{}}
		m.wfs[t] = w
	}
	return w
}

// AddTask puts a pending task on user's to-do list of tenant (an absent
// TaskID gets one; Status defaults to running).
func (m *MemHost) AddTask(tenant, user string, it sdk.TaskItem) sdk.TaskItem {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it.TaskID == "" {
		it.TaskID = m.nextID("task")
	}
	if it.Status == "" {
		it.Status = "running"
	}
	w := m.wf(tenant)
	w.todo[user] = append(w.todo[user], it)
	return it
}

// WorkflowTasks implements sdk.Host over the tasks AddTask and
// WorkflowAct put on the lists.
func (m *MemHost) WorkflowTasks(_ context.Context, p *sdk.Principal, q sdk.TaskQuery) (sdk.TaskPage, error) {
	t, err := tenantOf(p)
	if err != nil {
		return sdk.TaskPage{}, err
	}
	user := q.UserID
	if user == "" {
		user = p.UserID
	}
	if user != p.UserID && !isAdmin(p) {
		return sdk.TaskPage{}, errs.Forbiddenf("listing another user's tasks needs the workflow.actAs permission")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.wf(t)
	lists := map[string]map[string][]sdk.TaskItem{sdk.BoxTodo: w.todo, sdk.BoxDone: w.done, sdk.BoxStarted: w.started, sdk.BoxCC: w.cc}
	l, ok := lists[q.Box]
	if !ok {
		return sdk.TaskPage{}, errs.Invalidf("unknown task list %q (todo, done, started, cc)", q.Box).WithTarget("box")
	}
	out := sdk.TaskPage{Items: []sdk.TaskItem{}, Total: -1}
	for _, it := range l[user] {
		if (q.DataID == "" || it.DataID == q.DataID) && (q.InstanceID == "" || it.InstanceID == q.InstanceID) {
			out.Items = append(out.Items, it)
		}
	}
	if q.Count {
		out.Total = int64(len(out.Items))
	}
	if q.Offset > 0 {
		out.Items = out.Items[min(q.Offset, len(out.Items)):]
	}
	if q.Limit > 0 && len(out.Items) > q.Limit {
		out.Items = out.Items[:q.Limit]
	}
	return out, nil
}

// WorkflowAct implements sdk.Host on MemHost's task lists: approve,
// reject, return and withdraw close the actor's pending task (done list);
// transfer moves it to the first user; cc copies it.
func (m *MemHost) WorkflowAct(_ context.Context, p *sdk.Principal, a sdk.WorkflowAction) (*sdk.WorkflowResult, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	actor := a.Actor
	if actor == "" {
		actor = p.UserID
	}
	if actor != p.UserID && !isAdmin(p) {
		return nil, errs.Forbiddenf("acting for another user needs the workflow.actAs permission")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.wf(t)
	switch a.Action {
	case sdk.ActApprove, sdk.ActReject, sdk.ActReturn, sdk.ActTransfer, sdk.ActCC, sdk.ActWithdraw, sdk.ActHandover, sdk.ActDescribe:
	default:
		return nil, errs.Invalidf("unknown workflow action %q", a.Action).WithTarget("action")
	}
	// Find the actor's pending task (or, for cc, any task of the instance).
	idx := slices.IndexFunc(w.todo[actor], func(it sdk.TaskItem) bool {
		return (a.TaskID != "" && it.TaskID == a.TaskID) || (a.TaskID == "" && (it.InstanceID == a.InstanceID && a.InstanceID != "" || it.DataID == a.DataID && a.DataID != ""))
	})
	if idx < 0 {
		return nil, errs.Forbiddenf("user %s has no pending task here", actor)
	}
	it := w.todo[actor][idx]
	res := &sdk.WorkflowResult{InstanceID: it.InstanceID, Status: "running", Tasks: []sdk.TaskRef{}}
	switch a.Action {
	case sdk.ActDescribe:
		if a.Title != nil && *a.Title != "" {
			w.todo[actor][idx].Title = *a.Title
		}
		return res, nil
	case sdk.ActHandover:
		// The host and participants get a task of the same instance.
		for i, u := range append([]string{a.Host}, a.Participants...) {
			if u == "" || (i > 0 && u == a.Host) {
				continue
			}
			next := it
			next.TaskID, next.NodeID = m.nextID("task"), a.ToNode
			w.todo[u] = append(w.todo[u], next)
			res.Tasks = append(res.Tasks, sdk.TaskRef{TaskID: next.TaskID, NodeID: next.NodeID, AssigneeID: u, Host: i == 0})
		}
		if len(res.Tasks) == 0 {
			res.Status = "approved"
		}
	case sdk.ActCC:
		for _, u := range a.Users {
			w.cc[u] = append(w.cc[u], it)
		}
		return res, nil
	case sdk.ActTransfer:
		if len(a.Users) == 0 {
			return nil, errs.Invalidf("users is required").WithTarget("users")
		}
		to := a.Users[0]
		moved := it
		moved.TaskID = m.nextID("task")
		w.todo[to] = append(w.todo[to], moved)
		res.Tasks = append(res.Tasks, sdk.TaskRef{TaskID: moved.TaskID, NodeID: moved.NodeID, NodeName: moved.NodeName, AssigneeID: to})
	case sdk.ActReject:
		res.Status = "rejected"
	case sdk.ActWithdraw:
		res.Status = "cancelled"
	}
	w.todo[actor] = slices.Delete(slices.Clone(w.todo[actor]), idx, idx+1)
	done := it
	done.Status = res.Status
	w.done[actor] = append(w.done[actor], done)
	return res, nil
}

// Aliases implements sdk.Host: per tenant, namespace and kind, both
// directions unique; allocation needs the admin role for admin-only kinds.
func (m *MemHost) Aliases(_ context.Context, p *sdk.Principal, r sdk.AliasRequest) (*sdk.AliasResult, error) {
	t, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	if !aliasName.MatchString(r.Namespace) || !aliasName.MatchString(r.Kind) {
		return nil, errs.Invalidf("alias namespace and kind must be 1-32 lower-case letters, digits or _").WithTarget("namespace")
	}
	if r.Allocate && adminKinds[r.Kind] && !isAdmin(p) {
		return nil, errs.Forbiddenf("allocating %s aliases needs the admin role", r.Kind).WithTarget("kind")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.aliasSet(t, r.Namespace, r.Kind)
	out := &sdk.AliasResult{ToHub: map[string]string{}, ToExt: map[string]string{}}
	for _, e := range r.ToHub {
		if id, ok := a.toHub[e]; ok {
			out.ToHub[e] = id
		}
	}
	for _, id := range r.ToExt {
		if e, ok := a.toExt[id]; ok {
			out.ToExt[id] = e
			continue
		}
		if !r.Allocate {
			continue
		}
		for {
			a.seq[r.Prefix]++
			n := strconv.FormatInt(a.seq[r.Prefix], 10)
			if len(n) < r.Width {
				n = strings.Repeat("0", r.Width-len(n)) + n
			}
			e := r.Prefix + n
			if _, taken := a.toHub[e]; taken {
				continue
			}
			a.toHub[e], a.toExt[id], out.ToExt[id] = id, e, e
			break
		}
	}
	return out, nil
}

func (m *MemHost) aliasSet(t, ns, kind string) *memAliases {
	if m.aliases == nil {
		m.aliases = map[string]*memAliases{}
	}
	key := t + "\x00" + ns + "\x00" + kind
	a := m.aliases[key]
	if a == nil {
		a = &memAliases{toHub: map[string]string{}, toExt: map[string]string{}, seq: map[string]int64{}}
		m.aliases[key] = a
	}
	return a
}

// AddAlias records ext ↔ id in tenant's namespace and kind (what the YAML
// seed's `aliases:` does on the hub).
func (m *MemHost) AddAlias(tenant, ns, kind, ext, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := m.aliasSet(tenant, ns, kind)
	if old, ok := a.toHub[ext]; ok && old != id {
		panic(fmt.Sprintf("sdktest: alias %s already names %s", ext, old))
	}
	a.toHub[ext], a.toExt[id] = id, ext
}

// pageAliases is FindRecords WithAliases: the page's aliases by kind (m.mu held).
func (m *MemHost) pageAliases(t, ns string, items []sdk.Doc) map[string]map[string]string {
	out := map[string]map[string]string{}
	for kind, ids := range sdk.AliasIDs(items) {
		a := m.aliasSet(t, ns, kind)
		for _, id := range ids {
			if e, ok := a.toExt[id]; ok {
				if out[kind] == nil {
					out[kind] = map[string]string{}
				}
				out[kind][id] = e
			}
		}
	}
	return out
}
