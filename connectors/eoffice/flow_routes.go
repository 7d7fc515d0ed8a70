package eoffice

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// The workflow routes (spec §5.5) on the hub's one workflow engine
// (core/workflow through the Host API: WorkflowAct start, handover,
// return, describe; WorkflowTasks; WorkflowInspect). e-office's numbers
// are core aliases in namespace "eoffice":
//
//   - flow_id: kind "flow", hub id = the workflow definition's key (stable
//     across versions);
//   - flow_process / node_id: kind "flow_node", hub id = "<key>/<node id>";
//   - run_id: kind "flow_run", hub id = the instance id;
//   - flow_run_process_id: kind "flow_step", hub id = the task id.
//
// process_id is the step number (Task.Step, the instance's Step is
// max_process_id). The form data of an instance is its record.

// Alias kinds of the workflow ids.
const (
	kindFlow     = "flow"
	kindFlowNode = "flow_node"
	kindFlowRun  = "flow_run"
	kindFlowStep = "flow_step"
)

func init() {
	for _, k := range []string{kindFlow, kindFlowNode, kindFlowRun, kindFlowStep} {
		sequences[k] = [2]any{"", 0}
	}
}

// registerFlowRoutes registers the workflow routes (spec §5.5) on r. The
// workflow part of the connector lives in the flow*.go files; the rest of
// the connector calls only this function.
func registerFlowRoutes(r *Router) {
	r.Add(http.MethodPost, "flow/new-page/flow-save", flowSave)
	r.Add(http.MethodPost, "flow/run/save-flow-run-info", saveFlowRunInfo)
	r.Add(http.MethodGet, "flow/run/show-flow-transact-process", showTransactProcess)
	r.Add(http.MethodGet, "flow/run/show-flow-transact-user", showTransactUser)
	r.Add(http.MethodPost, "flow/run/flow-turning", flowTurning)
	r.Add(http.MethodGet, "flow/flow-list/teed-to-do-list", flowList(listTodo))
	r.Add(http.MethodGet, "flow/flow-list/already-do-list", flowList(listAlready))
	r.Add(http.MethodGet, "flow/flow-list/finished-list", flowList(listFinished))
	r.Add(http.MethodGet, "flow/flow-list/my-request-list", flowList(listMine))
	r.Add(http.MethodGet, "flow/flow-copy", flowList(listCopy))
	r.Add(http.MethodGet, "flow/flow-list/monitor-list", flowList(listMonitor))
	r.Add(http.MethodGet, "flow/flow-list/overtime-list", flowList(listOvertime))
	r.Add(http.MethodGet, "flow/flow-list/flow-search-list", flowList(listSearch))
	r.Add(http.MethodPost, "flow/flow-list/flow-search-list", flowList(listSearch))
	r.Add(http.MethodGet, "flow/flow-agency/agency-record-list", agencyList)
}

// agencyList is the delegation record list: the hub has no delegation
// (docs/DEVIATIONS.md), so it is always empty, in the list's shape.
func agencyList(_ context.Context, c *Call) (any, error) {
	l, err := ParseList(c, SearchOptions{Virtual: func(string, any, string) (sdk.Expr, bool, error) { return nil, true, nil }})
	if err != nil {
		return nil, err
	}
	return l.ListData(0, nil), nil
}

// ---- definitions ----

// flowDef is a workflow definition as the connector uses it.
type flowDef struct {
	ID, Key, Name, FormID string
	Free                  bool
	// Nodes are the definition's nodes (id, type, name) in order.
	Nodes []flowNodeDef
}

type flowNodeDef struct{ ID, Type, Name string }

// startNode is the node of step 1: the definition's start node, or the
// engine's synthetic "_start".
func (d *flowDef) startNode() flowNodeDef {
	for _, n := range d.Nodes {
		if n.Type == "start" {
			if n.Name == "" {
				n.Name = "发起"
			}
			return n
		}
	}
	return flowNodeDef{ID: "_start", Type: "start", Name: "发起"}
}

func (d *flowDef) node(id string) (flowNodeDef, bool) {
	if st := d.startNode(); st.ID == id {
		return st, true
	}
	for _, n := range d.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return flowNodeDef{}, false
}

// flowType is "1" (fixed) or "2" (free).
func (d *flowDef) flowType() string {
	if d.Free {
		return "2"
	}
	return "1"
}

// loadDefs reads the workflow definitions with these keys (their highest
// version each); the app's service principal reads them (definitions are
// configuration, like e-office's flow_type table).
func loadDefs(ctx context.Context, c *Call, keys []string) (map[string]*flowDef, error) {
	out := map[string]*flowDef{}
	if len(keys) == 0 {
		return out, nil
	}
	vals := make([]sdk.Value, len(keys))
	for i, k := range keys {
		vals[i] = k
	}
	pg, err := c.Host.EntityFind(ctx, c.Svc, "wfdefinition", sdk.Query{Filter: sdk.In{Path: sdk.Path{"key"}, Values: vals},
		Sort: []sdk.Sort{{Path: sdk.Path{"version"}, Desc: true}}, Limit: -1}, sdk.EntityOptions{})
	if err != nil {
		return nil, FromHost(err, nil)
	}
	for _, d := range pg.Items {
		key := str(d, "key")
		if out[key] != nil {
			continue
		}
		fd := &flowDef{ID: str(d, "id"), Key: key, Name: str(d, "name"), FormID: str(d, "sourceId")}
		content, _ := d["content"].(map[string]any)
		if content == nil {
			if s, ok := d["content"].(string); ok {
				content, _ = Structured(s).(map[string]any)
			}
		}
		fd.Free, _ = content["free"].(bool)
		nodes, _ := content["nodes"].([]any)
		for _, n := range nodes {
			m, _ := n.(map[string]any)
			fd.Nodes = append(fd.Nodes, flowNodeDef{ID: ToStr(m["id"]), Type: ToStr(m["type"]), Name: ToStr(m["name"])})
		}
		out[key] = fd
	}
	return out, nil
}

// ensureFlowIDs gives every workflow definition of the tenant its flow_id
// (definition keys in order; existing ids are kept).
func ensureFlowIDs(ctx context.Context, c *Call) error {
	// wfdefinition holds workflow definitions only (dataflows are
	// dfdefinition): every key, in order.
	pg, err := c.Host.EntityFind(ctx, c.Svc, "wfdefinition", sdk.Query{
		Sort: []sdk.Sort{{Path: sdk.Path{"key"}}}, Limit: -1}, sdk.EntityOptions{})
	if err != nil {
		return FromHost(err, nil)
	}
	var keys []string
	for _, d := range pg.Items {
		if k := str(d, "key"); k != "" {
			keys = append(keys, k)
		}
	}
	_, err = ExtIDs(ctx, c.Host, c.Svc, kindFlow, dedupe(keys))
	return err
}

// ---- ids ----

// flowIDs gathers the e-office ids of a response in a few alias calls.
type flowIDs struct {
	flow, node, run, step, user, form map[string]string // hub → e-office
}

func newFlowIDs() *flowIDs {
	return &flowIDs{flow: map[string]string{}, node: map[string]string{}, run: map[string]string{},
		step: map[string]string{}, user: map[string]string{}, form: map[string]string{}}
}

// need collects hub ids per kind; resolve allocates them.
type idNeeds map[string][]string

func (n idNeeds) add(kind string, ids ...string) {
	for _, id := range ids {
		if id != "" {
			n[kind] = append(n[kind], id)
		}
	}
}

func (f *flowIDs) resolve(ctx context.Context, c *Call, need idNeeds) error {
	// A fixed order: the calls are part of the connector's contract (golden files).
	for _, k := range []struct {
		kind string
		dst  map[string]string
	}{{kindFlow, f.flow}, {kindFlowNode, f.node}, {kindFlowRun, f.run}, {kindFlowStep, f.step}, {kindUser, f.user},
		{sdk.AliasKindForm, f.form}} {
		kind, dst := k.kind, k.dst
		ids := dedupe(need[kind])
		if len(ids) == 0 {
			continue
		}
		// A read first: allocation is a write transaction, needed only for
		// ids never shown before.
		res, err := c.Host.Aliases(ctx, c.Svc, sdk.AliasRequest{Namespace: aliasNS, Kind: kind, ToExt: ids})
		if err != nil {
			return FromHost(err, nil)
		}
		var missing []string
		for _, id := range ids {
			if v, ok := res.ToExt[id]; ok {
				dst[id] = v
			} else {
				missing = append(missing, id)
			}
		}
		m, err := ExtIDs(ctx, c.Host, c.Svc, kind, missing)
		if err != nil {
			return err
		}
		for k, v := range m {
			dst[k] = v
		}
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// num renders an allocated id as an integer (0 when missing).
func num(m map[string]string, hub string) any {
	if v, ok := m[hub]; ok {
		return numeric(v)
	}
	return 0
}

// hubOf resolves one e-office id of kind; "" when unknown.
func hubOf(ctx context.Context, c *Call, kind, ext string) (string, error) {
	if ext == "" {
		return "", nil
	}
	m, err := hubIDs(ctx, c.Host, c.Svc, kind, []string{ext})
	if err != nil {
		return "", err
	}
	return m[ext], nil
}

// userHubIDs resolves e-office user ids (WV…, pinned "admin") to hub ids;
// unknown is an error.
func userHubIDs(ctx context.Context, c *Call, ext []string) ([]string, error) {
	if len(ext) == 0 {
		return nil, nil
	}
	m, err := hubIDs(ctx, c.Host, c.Svc, kindUser, ext)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ext))
	for _, e := range ext {
		h, ok := m[e]
		if !ok {
			return nil, Fail(CodePermission)
		}
		out = append(out, h)
	}
	return out, nil
}

// nodeKey is the alias hub id of a node.
func nodeKey(defKey, node string) string { return defKey + "/" + node }

// ---- form data ----

// flowFormData maps e-office form_data (DATA_<n>, detail rows DATA_<n>_<m>,
// nested form keys or a JSON object) onto the form's fields with the
// connector's one field-code map (forms.go); an unknown code is 0x000007.
func flowFormData(c *Call, form *sdk.Form, in any) (map[string]any, error) {
	m, ok := in.(map[string]any)
	if !ok {
		if s, isStr := in.(string); isStr && strings.HasPrefix(strings.TrimSpace(s), "{") {
			m, _ = Structured(s).(map[string]any)
		}
	}
	if len(m) == 0 {
		return map[string]any{}, nil
	}
	return NewFormMap(form, nil).ToHub(m, c.Cfg.loc)
}

// ---- flow-save ----

// flowSave starts an instance as the token user (§5.5 Start): the record
// of the definition's form with form_data, and its workflow waiting at the
// start node with the creator as the host of step 1.
func flowSave(ctx context.Context, c *Call) (any, error) {
	in := c.In
	if Empty(in["flow_id"]) {
		return nil, Fail(CodeMissing)
	}
	name, html := in.Str("flow_run_name"), in.Str("run_name_html")
	switch {
	case in.Has("flow_run_name") && in.Has("run_name_html") && name == "" && html == "":
		return nil, Fail("0x030162")
	case !in.Has("flow_run_name") || !in.Has("run_name_html") || name == "" || html == "":
		return nil, Fail("0x030161")
	}
	key, err := hubOf(ctx, c, kindFlow, in.Str("flow_id"))
	if err != nil {
		return nil, err
	}
	if key == "" {
		// flow_ids are handed out to every definition, in key order, the
		// first time one is asked for (or shown by a list).
		if err := ensureFlowIDs(ctx, c); err != nil {
			return nil, err
		}
		if key, err = hubOf(ctx, c, kindFlow, in.Str("flow_id")); err != nil {
			return nil, err
		}
	}
	if key == "" {
		return nil, Fail(CodePermission) // an unknown flow_id is 0x000006 (§5.5)
	}
	defs, err := loadDefs(ctx, c, []string{key})
	if err != nil {
		return nil, err
	}
	def := defs[key]
	if def == nil {
		return nil, Fail(CodePermission)
	}
	form, err := c.Host.GetForm(ctx, c.P, def.FormID)
	if err != nil {
		return nil, FromHost(err, Fail("0x030024"))
	}
	data, err := flowFormData(c, form, in["form_data"])
	if err != nil {
		return nil, err
	}
	var urgency *int64
	if in.Has("instancy_type") {
		u := IntOf(in["instancy_type"])
		if u < 0 || u > 2 {
			return nil, FailField(CodeIllegalField, "instancy_type")
		}
		urgency = &u
	}
	rec, err := c.Host.CreateRecord(ctx, c.P, form.Key, data)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	recID := str(rec, "id")
	res, err := c.Host.WorkflowAct(ctx, c.P, sdk.WorkflowAction{Action: sdk.ActStart, DataID: recID, DefinitionID: def.Key,
		AtStart: true, Title: &name, Urgency: urgency})
	if err != nil {
		// Nothing half-done: the record goes again.
		if derr := c.Host.DeleteRecord(ctx, c.P, form.Key, recID); derr != nil {
			c.Log.WarnContext(ctx, "eoffice: flow-save could not remove the record of a failed start", "record", recID, "err", derr)
		}
		return nil, flowError(err)
	}
	if len(res.Tasks) != 1 {
		return nil, Fail("0x030024")
	}
	st := def.startNode()
	ids := newFlowIDs()
	need := idNeeds{}
	need.add(kindFlowRun, res.InstanceID)
	need.add(kindFlowStep, res.Tasks[0].TaskID)
	need.add(kindFlowNode, nodeKey(def.Key, st.ID))
	if err := ids.resolve(ctx, c, need); err != nil {
		return nil, err
	}
	var flowProcess any = num(ids.node, nodeKey(def.Key, st.ID))
	if def.Free {
		flowProcess = "1"
	}
	return Obj{{"run_id", num(ids.run, res.InstanceID)}, {"process_id", "1"}, {"flow_process", flowProcess},
		{"run_name", name}, {"flow_run_process_id", num(ids.step, res.Tasks[0].TaskID)}}, nil
}

// ---- flow-turning ----

// flowTurning submits, hands over, ends or sends back the caller's step
// (§5.5 Submit) through the engine's handover and return.
func flowTurning(ctx context.Context, c *Call) (any, error) {
	in := c.In
	if Empty(in["run_id"]) || Empty(in["process_id"]) {
		return nil, Fail(CodeAPIError)
	}
	for _, k := range []string{"run_id", "process_id", "flow_run_process_id", "next_flow_process", "flow_process"} {
		if !scalar(in[k]) {
			if k == "flow_run_process_id" {
				return nil, Fail("0x030006")
			}
			return nil, Fail(CodePermission)
		}
	}
	var stale string
	if frp := in.Str("flow_run_process_id"); frp != "" && frp != "0" {
		id, err := hubOf(ctx, c, kindFlowStep, frp)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, Fail("0x030006")
		}
		stale = id
	}
	inst, err := hubOf(ctx, c, kindFlowRun, in.Str("run_id"))
	if err != nil {
		return nil, err
	}
	if inst == "" {
		return nil, Fail("0x030001")
	}
	step := IntOf(in["process_id"])
	if step <= 0 {
		return nil, Fail(CodePermission)
	}
	wi, ok := c.Host.(sdk.WorkflowInspector)
	if !ok {
		return nil, Fail(CodeMySQL)
	}
	// Free flows name steps, not nodes: their next_flow_process is a step
	// number and the engine picks the node.
	insp, err := wi.WorkflowInspect(ctx, c.P, sdk.InspectQuery{InstanceID: inst})
	if err != nil {
		if sdk.AsError(err).Reason == "not_visible" {
			return nil, Fail("0x030022")
		}
		return nil, flowError(err)
	}
	hostUser := joinUsers(in["process_host_user"])
	transact := splitUsers(ToStr(joinUsers(in["process_transact_user"])))
	copyUsers := splitUsers(ToStr(joinUsers(in["process_copy_user"])))
	hosts := splitUsers(hostUser)
	if len(hosts) > 1 {
		return nil, Fail(CodePermission)
	}
	hubHost, err := userHubIDs(ctx, c, hosts)
	if err != nil {
		return nil, err
	}
	hubTransact, err := userHubIDs(ctx, c, transact)
	if err != nil {
		return nil, err
	}
	hubCopy, err := userHubIDs(ctx, c, copyUsers)
	if err != nil {
		return nil, err
	}
	a := sdk.WorkflowAction{Action: sdk.ActHandover, InstanceID: inst, StaleTaskID: stale, Step: step,
		Participants: hubTransact, CC: hubCopy, Comment: in.Str("feedback")}
	if len(hubHost) == 1 {
		a.Host = hubHost[0]
	}
	if next := in.Str("next_flow_process"); next != "" && next != "0" && !insp.Free {
		nk, err := hubOf(ctx, c, kindFlowNode, next)
		if err != nil {
			return nil, err
		}
		_, node, ok := strings.Cut(nk, "/")
		if !ok {
			return nil, Fail(CodePermission)
		}
		a.ToNode = node
	}
	if ld := in.Str("limit_date"); ld != "" {
		t, err := time.ParseInLocation(dateTime, ld, c.Cfg.loc)
		if err != nil {
			return nil, FailField(CodeIllegalField, "limit_date")
		}
		a.Deadline = t.UnixMilli()
	}
	if in.Str("flowTurnType") == "send_back_submit" {
		// The original path: the sender's node and its previous users
		// replace the request's (§5.5).
		a.ToNode, a.Host, a.Participants, a.ToSender = "", "", nil, true
	} else if in.Str("flowTurnType") == "back" {
		a.Action = sdk.ActReturn
		if a.ToNode == "" && !insp.Free {
			return nil, Fail(CodePermission)
		}
		if len(copyUsers) > 0 {
			a.CC = nil // a send-back copies nobody (the module's cc check)
		}
	} else if a.ToNode != "" && a.Host == "" && len(a.Participants) == 0 {
		return nil, Fail("0x030012")
	} else if a.ToNode == "" && !insp.Free && (a.Host != "" || len(a.Participants) > 0) {
		return nil, Fail(CodePermission) // a fixed flow names its next node
	}
	if _, err := c.Host.WorkflowAct(ctx, c.P, a); err != nil {
		return nil, flowError(err)
	}
	if insp.Free {
		return "1", nil // free flows answer the string (§5.5)
	}
	return int64(1), nil
}

// scalar reports whether v is absent or a single value (not an array or
// object sent where e-office expects one id).
func scalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// joinUsers turns an array of user ids into a comma list (§5.5: "an array
// is joined with ,").
func joinUsers(v any) string {
	if arr, ok := v.([]any); ok {
		parts := make([]string, 0, len(arr))
		for _, x := range arr {
			parts = append(parts, ToStr(x))
		}
		return strings.Join(parts, ",")
	}
	return ToStr(v)
}

// splitUsers splits a comma list, trimming commas at either end and
// dropping empty items and repeats.
func splitUsers(s string) []string {
	var out []string
	for _, x := range strings.Split(strings.Trim(s, ", "), ",") {
		if x = strings.TrimSpace(x); x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// flowError maps the engine's refusals onto the flow codes (§6.3).
func flowError(err error) *Error {
	var e *Error
	if as(err, &e) {
		return e
	}
	he := sdk.AsError(err)
	switch he.Reason {
	case "stale_task":
		return &Error{Code: "0x030006", Err: err}
	case "no_open_task":
		return &Error{Code: "0x030022", Err: err}
	case "no_next_user":
		return &Error{Code: "0x030012", Err: err}
	case "deadline_past":
		return &Error{Code: "0x030169", Err: err}
	case "step_mismatch", "not_host", "outside_scope", "invalid_target", "cannot_end", "not_visible", "not_sent_back":
		return &Error{Code: CodePermission, Err: err}
	}
	switch he.Code {
	case sdk.NotFound:
		return &Error{Code: "0x030001", Err: err}
	case sdk.Conflict:
		return &Error{Code: "0x030022", Err: err} // the instance has ended
	case sdk.Forbidden:
		return &Error{Code: CodePermission, Err: err}
	}
	return FromHost(err, Fail("0x030001"))
}

// ---- save-flow-run-info ----

// flowRunColumns are the flow_run columns save-flow-run-info echoes
// (§5.5), in the table's order.
var flowRunColumns = []string{"run_id", "run_name", "run_name_html", "run_name_rules", "flow_id", "attachment_id",
	"attachment_name", "run_seq", "run_seq_strip_tags", "create_time", "link_doc", "creator", "view_user", "current_step",
	"transact_time", "instancy_type", "is_effect", "max_flow_serial", "first_transact_time", "parent_id", "created_at",
	"updated_at", "deleted_at"}

var tags = regexp.MustCompile(`<[^>]*>`)

// saveFlowRunInfo saves the title, serial and urgency of an instance the
// caller is handling (§5.5 Save instance info) and echoes the flow_run
// columns sent. form_data is written only while the instance waits at its
// start node for its initiator (the record is locked while it is
// approved, docs/DEVIATIONS.md); otherwise it is ignored, as the real
// server ignores controls the node may not edit.
func saveFlowRunInfo(ctx context.Context, c *Call) (any, error) {
	in := c.In
	denied := func() *Error {
		if in.Has("max_process_id") && in.Str("process_id") != "" && in.Str("process_id") == in.Str("max_process_id") {
			return Fail("flow_have_takeback")
		}
		return Fail("flow_have_end")
	}
	if Empty(in["run_id"]) {
		return nil, denied()
	}
	inst, err := hubOf(ctx, c, kindFlowRun, in.Str("run_id"))
	if err != nil {
		return nil, err
	}
	if inst == "" {
		return nil, denied()
	}
	wi, ok := c.Host.(sdk.WorkflowInspector)
	if !ok {
		return nil, Fail(CodeMySQL)
	}
	insp, err := wi.WorkflowInspect(ctx, c.P, sdk.InspectQuery{InstanceID: inst})
	if err != nil {
		return nil, denied()
	}
	var mine *sdk.TaskInfo
	for i := range insp.Steps {
		if t := &insp.Steps[i]; t.Status == "pending" && t.AssigneeID == c.P.UserID {
			mine = t
		}
	}
	if insp.Status != "running" || mine == nil {
		return nil, denied()
	}
	fd := in["form_data"]
	if !Empty(fd) && Empty(in["flow_process"]) {
		return nil, Fail(CodeAPIError)
	}
	name, html := in.Str("run_name"), in.Str("run_name_html")
	titleChange := name != "" && html != "" && name != insp.Title
	a := sdk.WorkflowAction{Action: sdk.ActDescribe, InstanceID: inst}
	if titleChange {
		a.Title = &name
	}
	if in.Has("run_seq") {
		seq := in.Str("run_seq")
		a.Serial = &seq
	}
	if in.Has("instancy_type") {
		u := IntOf(in["instancy_type"])
		if u < 0 || u > 2 {
			return nil, FailField(CodeIllegalField, "instancy_type")
		}
		a.Urgency = &u
	}
	if a.Title != nil || a.Serial != nil || a.Urgency != nil {
		if _, err := c.Host.WorkflowAct(ctx, c.P, a); err != nil {
			return nil, flowError(err)
		}
	}
	if !Empty(fd) && mine.Host && insp.CurrentNode != nil && insp.CurrentNode.Index < 0 &&
		strconv.FormatInt(mine.Step, 10) == in.Str("process_id") {
		form, err := c.Host.GetForm(ctx, c.P, insp.FormID)
		if err != nil {
			return nil, FromHost(err, nil)
		}
		data, err := flowFormData(c, form, fd)
		if err != nil {
			return nil, err
		}
		if _, err := c.Host.UpdateRecord(ctx, c.P, form.Key, insp.DataID, data); err != nil {
			return nil, FromHost(err, nil)
		}
	}
	out := Obj{}
	for _, col := range flowRunColumns {
		if !in.Has(col) || ((col == "run_name" || col == "run_name_html") && !titleChange) {
			continue
		}
		out = append(out, KV{col, in[col]})
		if col == "run_seq" {
			out = append(out, KV{"run_seq_strip_tags", strings.ReplaceAll(tags.ReplaceAllString(in.Str("run_seq"), ""), "&nbsp;", " ")})
		}
	}
	return out, nil
}
