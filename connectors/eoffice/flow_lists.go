package eoffice

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// The flow lists (§5.5 Lists) and the next-node / candidate queries, on
// the engine's task lists (WorkflowTasks) and WorkflowInspect.

// listKind is one e-office flow list.
type listKind struct {
	box string
	// rows: "process" = flow_run_process rows (to-do, already-do,
	// finished, overtime); "run" = flow_run rows (the others).
	rows        string
	userRunType int64
}

var (
	listTodo     = listKind{box: sdk.BoxTodo, rows: "process", userRunType: 1}
	listAlready  = listKind{box: sdk.BoxHandled, rows: "process", userRunType: 2}
	listFinished = listKind{box: sdk.BoxFinished, rows: "process", userRunType: 3}
	listOvertime = listKind{box: sdk.BoxOvertime, rows: "process", userRunType: 1}
	listMine     = listKind{box: sdk.BoxStarted, rows: "run"}
	listCopy     = listKind{box: sdk.BoxCC, rows: "run"}
	listMonitor  = listKind{box: sdk.BoxMonitor, rows: "run"}
	listSearch   = listKind{box: sdk.BoxSearch, rows: "run"}
)

// flowOrder are the order_by keys of the flow lists: instance activity or
// creation (the engine's two orders).
var flowOrder = Columns{
	"transact_time":          {Path: sdk.Path{"updateTime"}},
	"flow_run.transact_time": {Path: sdk.Path{"updateTime"}},
	"create_time":            {Path: sdk.Path{"createTime"}},
	"receive_time":           {Path: sdk.Path{"createTime"}},
}

// flowSearch collects a flow list's search into the engine's task query:
// run_id (IN), flow_id (IN), run_name (contains), flow_creator_id (IN);
// other keys are 0x000007 (docs/DEVIATIONS.md).
type flowSearch struct {
	runs, flows, creators []string
	title                 string
}

func (s *flowSearch) virtual(key string, value any, _ string) (sdk.Expr, bool, error) {
	vals := func() []string {
		var out []string
		for _, v := range ListValues(value) {
			if x := ToStr(v); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	switch key {
	case "run_id", "flow_id", "flow_run.flow_id", "flow_creator_id", "creator":
		if _, err := inValues(key, value); err != nil {
			return nil, true, err
		}
	}
	switch key {
	case "run_id":
		s.runs = append(s.runs, vals()...)
	case "flow_id", "flow_run.flow_id":
		s.flows = append(s.flows, vals()...)
	case "flow_creator_id", "creator":
		s.creators = append(s.creators, vals()...)
	case "run_name":
		s.title = strings.TrimSpace(ToStr(value))
		if arr, ok := value.([]any); ok && len(arr) > 0 {
			s.title = strings.TrimSpace(ToStr(arr[0]))
		}
	default:
		return nil, false, nil
	}
	return nil, true, nil
}

// flowList serves one flow list: {total, list} of its row shape.
func flowList(k listKind) Handler {
	return func(ctx context.Context, c *Call) (any, error) {
		var s flowSearch
		l, err := ParseList(c, SearchOptions{Columns: flowOrder, Virtual: s.virtual})
		if err != nil {
			return nil, err
		}
		q := sdk.TaskQuery{Box: k.box, Count: l.WantTotal(), WithSteps: true, Title: s.title}
		if len(l.Sort) > 0 {
			q.SortBy = l.Sort[0].Path[0]
			q.Asc = !l.Sort[0].Desc
		}
		// e-office ids of the search → hub ids; an unknown id matches nothing.
		none := false
		for _, x := range []struct {
			kind string
			ext  []string
			dst  *[]string
		}{{kindFlowRun, s.runs, &q.InstanceIDs}, {kindFlow, s.flows, &q.DefinitionIDs}, {kindUser, s.creators, &q.Initiators}} {
			if len(x.ext) == 0 {
				continue
			}
			m, err := hubIDs(ctx, c.Host, c.Svc, x.kind, x.ext)
			if err != nil {
				return nil, err
			}
			for _, e := range x.ext {
				if h, ok := m[e]; ok {
					*x.dst = append(*x.dst, h)
				}
			}
			none = none || len(*x.dst) == 0
		}
		if k.box == sdk.BoxOvertime && (q.Title != "" || len(q.InstanceIDs)+len(q.DefinitionIDs)+len(q.Initiators) > 0) {
			return nil, FailField(CodeIllegalField, "search")
		}
		if none {
			return l.ListData(0, nil), nil
		}
		wantList := l.WantList()
		if l.Page >= 1 {
			q.Limit, q.Offset = int(l.Limit), int((l.Page-1)*l.Limit)
			if l.Limit == 0 {
				wantList = false // limit=0: the total alone
			}
		}
		if !wantList {
			q.Limit, q.Offset = 1, 0
		}
		pg, err := c.Host.WorkflowTasks(ctx, c.P, q)
		if err != nil {
			return nil, flowError(err)
		}
		if !wantList {
			pg.Items = nil
		}
		rows, err := renderRows(ctx, c, k, pg.Items)
		if err != nil {
			return nil, err
		}
		total := pg.Total
		if total < 0 {
			total = int64(len(rows))
		}
		return l.ListData(total, rows), nil
	}
}

// rowCtx holds what rendering needs: definitions, ids, user names.
type rowCtx struct {
	c     *Call
	defs  map[string]*flowDef
	ids   *flowIDs
	names map[string]string // hub user id → name
}

func newRowCtx(ctx context.Context, c *Call, items []sdk.TaskItem, extraUsers ...string) (*rowCtx, error) {
	r := &rowCtx{c: c, ids: newFlowIDs(), names: map[string]string{}}
	var keys []string
	need := idNeeds{}
	users := append([]string{}, extraUsers...)
	for _, it := range items {
		keys = append(keys, it.DefinitionKey)
		need.add(kindFlow, it.DefinitionKey)
		need.add(kindFlowRun, it.InstanceID)
		need.add(sdk.AliasKindForm, it.FormID)
		if id, _ := it.Initiator["id"].(string); id != "" {
			users = append(users, id)
		}
		for _, t := range it.Steps {
			need.add(kindFlowStep, t.TaskID)
			need.add(kindFlowNode, nodeKey(it.DefinitionKey, t.NodeID))
			users = append(users, t.AssigneeID, t.From)
		}
		if it.NodeID != "" {
			need.add(kindFlowNode, nodeKey(it.DefinitionKey, it.NodeID))
		}
	}
	defs, err := loadDefs(ctx, c, dedupe(keys))
	if err != nil {
		return nil, err
	}
	r.defs = defs
	need.add(kindUser, users...)
	if err := r.ids.resolve(ctx, c, need); err != nil {
		return nil, err
	}
	users = dedupe(need[kindUser])
	if len(users) > 0 {
		vals := make([]sdk.Value, len(users))
		for i, u := range users {
			vals[i] = u
		}
		pg, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Filter: sdk.In{Path: sdk.Path{"id"}, Values: vals}, Limit: -1}, false)
		if err != nil {
			return nil, FromHost(err, nil)
		}
		for _, u := range pg.Items {
			r.names[str(u, "id")] = str(u, "empName")
		}
	}
	return r, nil
}

func (r *rowCtx) time(ms int64) any {
	if ms == 0 {
		return nil
	}
	return timeStr(ms, r.c.Cfg.loc)
}

func (r *rowCtx) user(hub string) any {
	if hub == "" {
		return nil
	}
	return Obj{{"user_id", r.ids.user[hub]}, {"user_name", r.names[hub]}}
}

func (r *rowCtx) userID(hub string) string {
	if hub == "" {
		return ""
	}
	return r.ids.user[hub]
}

// nodeNum is a node's e-office id (free flows: the step number).
func (r *rowCtx) nodeNum(def *flowDef, node string, step int64) any {
	if def != nil && def.Free {
		return step
	}
	key := ""
	if def != nil {
		key = def.Key
	}
	return num(r.ids.node, nodeKey(key, node))
}

func (r *rowCtx) flowType(it sdk.TaskItem) Obj {
	def := r.defs[it.DefinitionKey]
	ft, name := "1", it.DefinitionName
	if def != nil {
		ft, name = def.flowType(), def.Name
	}
	return Obj{{"flow_id", num(r.ids.flow, it.DefinitionKey)}, {"flow_name", name}, {"flow_sort", 0}, {"flow_type", ft},
		{"form_id", num(r.ids.form, it.FormID)}, {"countersign", 0}, {"handle_way", 0}, {"press_add_hour", nil},
		{"overtime_except_nonwork", 0},
		{"flow_type_has_one_flow_others", Obj{{"flow_id", num(r.ids.flow, it.DefinitionKey)}, {"first_node_delete_flow", 0},
			{"flow_to_doc", 0}, {"file_folder_id", 0}, {"flow_submit_hand_remind_toggle", 0}, {"flow_submit_hand_overtime_toggle", 0}}},
		{"flow_type_belongs_to_flow_sort", nil}}
}

// currentStep is flow_run.current_step: the current node's id, 0 once ended.
func (r *rowCtx) currentStep(it sdk.TaskItem) any {
	if it.Status != "running" || it.NodeID == "" {
		return 0
	}
	return r.nodeNum(r.defs[it.DefinitionKey], it.NodeID, it.Step)
}

func (r *rowCtx) initiator(it sdk.TaskItem) string {
	id, _ := it.Initiator["id"].(string)
	return id
}

// flowRun is the flow_run part of a row.
func (r *rowCtx) flowRun(it sdk.TaskItem) Obj {
	return Obj{{"run_id", num(r.ids.run, it.InstanceID)}, {"flow_id", num(r.ids.flow, it.DefinitionKey)},
		{"run_name", it.Title}, {"run_seq", it.Serial}, {"run_seq_strip_tags", strings.ReplaceAll(tags.ReplaceAllString(it.Serial, ""), "&nbsp;", " ")},
		{"creator", r.userID(r.initiator(it))}, {"max_process_id", it.Step}, {"current_step", r.currentStep(it)},
		{"create_time", r.time(it.StartTime)}, {"transact_time", r.time(it.UpdateTime)}, {"instancy_type", it.Urgency}}
}

// processRow is one flow_run_process row (the user's task t of item it).
func (r *rowCtx) processRow(it sdk.TaskItem, t sdk.TaskInfo, userRunType int64) Obj {
	def := r.defs[it.DefinitionKey]
	node := r.nodeNum(def, t.NodeID, t.Step)
	host, back, flag := 0, 0, int64(1)
	if t.Host {
		host = 1
	}
	if t.Back {
		back = 1
	}
	if t.Status != "pending" {
		flag = 3
	}
	sendBackUser, sendBackProcess := "", any(0)
	var originProcess any = 0
	if t.From != "" {
		originProcess = r.nodeNum(def, t.FromNode, t.Step-1)
		if t.Back {
			sendBackUser, sendBackProcess = r.userID(t.From), originProcess
		}
	}
	processType := "common"
	if def != nil && def.Free {
		processType = "free"
	}
	row := Obj{{"flow_run_process_id", num(r.ids.step, t.TaskID)}, {"run_id", num(r.ids.run, it.InstanceID)},
		{"process_id", t.Step}, {"user_id", r.userID(t.AssigneeID)}, {"flow_process", node},
		{"flow_id", num(r.ids.flow, it.DefinitionKey)}, {"host_flag", host}, {"process_flag", flag},
		{"user_run_type", userRunType}, {"user_last_step_flag", 1}, {"is_effect", 1},
		{"receive_time", r.time(t.CreateTime)}, {"process_time", nil}, {"deliver_time", r.time(t.DecideTime)},
		{"saveform_time", nil}, {"transact_time", r.time(t.DecideTime)}, {"limit_date", r.time(t.Deadline)},
		{"by_agent_id", ""}, {"flow_agency_id", 0}, {"sub_flow_run_ids", ""}, {"forward_user_id", ""},
		{"last_visited_time", nil}, {"monitor_submit", ""}, {"is_back", back}, {"send_back_user", sendBackUser},
		{"send_back_process", sendBackProcess}, {"send_back_free_step", 0}, {"process_type", processType},
		{"free_process_step", 0}, {"flow_serial", t.Step}, {"branch_serial", 0}, {"process_serial", 0},
		{"concurrent_node_id", 0}, {"origin_process", originProcess}, {"origin_process_id", max(t.Step-1, 0)},
		{"origin_user", r.userID(t.From)}, {"outflow_process", 0}, {"hangup", 0}, {"cancel_hangup_time", nil},
		{"overhandle_time", nil}, {"press_add_hour_turn", 0}, {"created_at", r.time(t.CreateTime)},
		{"updated_at", r.time(max(t.DecideTime, t.CreateTime))}, {"deleted_at", nil}}
	var sendBack any
	if t.Back {
		sendBack = r.user(t.From)
	}
	flowRun := r.flowRun(it)
	flowRun = append(flowRun, KV{"flow_run_has_one_flow_type", r.flowType(it)}, KV{"flow_run_has_one_user", r.user(r.initiator(it))})
	var flowProcess any
	if def != nil && !def.Free {
		n, _ := def.node(t.NodeID)
		head := 0
		if n.Type == "start" {
			head = 1
		}
		flowProcess = Obj{{"node_id", node}, {"flow_id", num(r.ids.flow, it.DefinitionKey)}, {"merge", 0}, {"process_id", node},
			{"process_name", firstNonEmpty(n.Name, t.NodeName)}, {"head_node_toggle", head}, {"end_workflow", 0},
			{"process_transact_type", 0}, {"press_add_hour", nil}, {"process_concourse", 0}, {"process_copy", 1},
			{"process_entrust", 0}, {"overtime_except_nonwork", 0}, {"concurrent", 0}}
	}
	row = append(row, KV{"flow_run_process_has_one_send_back_user", sendBack},
		KV{"flow_run_process_has_many_agency_detail", []any{}},
		KV{"flow_run_process_has_one_monitor_submit_user", nil},
		KV{"flow_run_process_has_one_user", r.user(t.AssigneeID)},
		KV{"flow_run_process_belongs_to_flow_run", flowRun},
		KV{"flow_run_process_has_one_flow_process", flowProcess})
	return row
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// latestSteps is "<step>: <node name>" of the instance's current step.
func latestSteps(it sdk.TaskItem, def *flowDef) string {
	if def != nil && def.Free {
		return strconv.FormatInt(it.Step, 10)
	}
	name := it.NodeName
	if name == "" {
		for _, t := range it.Steps {
			if t.Step == it.Step {
				name = t.NodeName
			}
		}
	}
	return strconv.FormatInt(it.Step, 10) + ": " + name
}

// renderRows renders a page of task items in the list's row shape.
func renderRows(ctx context.Context, c *Call, k listKind, items []sdk.TaskItem) ([]any, error) {
	if len(items) == 0 {
		return []any{}, nil
	}
	r, err := newRowCtx(ctx, c, items)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		def := r.defs[it.DefinitionKey]
		if k.rows == "run" {
			out = append(out, r.runRow(it))
			continue
		}
		if it.Task == nil {
			continue
		}
		row := r.processRow(it, *it.Task, k.userRunType)
		row = append(row, KV{"max_flow_serial", it.Step})
		switch k.userRunType {
		case 1:
			hasHost := false
			for _, t := range it.Steps {
				hasHost = hasHost || (t.Step == it.Task.Step && t.Host)
			}
			var last any = []any{}
			for i := len(it.Steps) - 1; i >= 0; i-- {
				if t := it.Steps[i]; t.Step == it.Task.Step-1 && (t.Host || t.AssigneeID == it.Task.From) {
					prev := r.processRow(it, t, 2)
					prev = append(prev[:0:0], prev[:len(prev)-6]...)
					last = append(prev, KV{"flow_run_process_has_one_user", r.user(t.AssigneeID)},
						KV{"flow_run_process_has_one_monitor_submit_user", nil})
					break
				}
			}
			back, sendBackUser, sendBackName := 0, "", ""
			if it.Task.Back {
				back, sendBackUser, sendBackName = 1, r.userID(it.Task.From), r.names[it.Task.From]
			}
			cur := latestSteps(it, def)
			if def != nil && def.Free {
				cur = strconv.FormatInt(it.Task.Step, 10)
			}
			row = append(row, KV{"current_steps", cur}, KV{"has_host", hasHost}, KV{"allow_urge", 0},
				KV{"isBack", back}, KV{"sendBackUser", sendBackUser}, KV{"sendBackUserName", sendBackName},
				KV{"last_process_info", last},
				KV{"limitInfo", Obj{{"limitLevelFlag", ""}, {"limitIntervalString", ""}, {"limitSponsorInfo", []any{}}}})
		case 2:
			var names []string
			var infos []any
			for _, t := range it.Steps {
				if t.Step == it.Step && t.Status == "pending" {
					names = append(names, r.names[t.AssigneeID])
					infos = append(infos, Obj{{"user_id", r.userID(t.AssigneeID)}, {"user_name", r.names[t.AssigneeID]}})
				}
			}
			if infos == nil {
				infos = []any{}
			}
			row = append(row, KV{"run_name", it.Title}, KV{"max_process_id", it.Step}, KV{"creator", r.userID(r.initiator(it))},
				KV{"latest_steps", latestSteps(it, def)}, KV{"canTakeBack", 0}, KV{"handle_user_name_str", strings.Join(names, ",")},
				KV{"handle_user_info_arr", infos}, KV{"limit_button_flag", 0})
		case 3:
			row = append(row, KV{"latest_steps", latestSteps(it, def)})
		}
		out = append(out, row)
	}
	return out, nil
}

// runRow is one flow_run row (my-request, copy, monitor, search).
func (r *rowCtx) runRow(it sdk.TaskItem) Obj {
	row := r.flowRun(it)
	row = append(row, KV{"run_name_html", it.Title}, KV{"is_effect", 1}, KV{"max_flow_serial", it.Step},
		KV{"first_transact_time", nil}, KV{"parent_id", 0},
		KV{"created_at", r.time(it.StartTime)}, KV{"updated_at", r.time(it.UpdateTime)}, KV{"deleted_at", nil},
		KV{"flow_run_has_one_user", r.user(r.initiator(it))}, KV{"flow_run_has_one_flow_type", r.flowType(it)})
	var frp any = 0
	name := ""
	for _, t := range it.Steps {
		if t.Step == it.Step {
			frp, name = num(r.ids.step, t.TaskID), t.NodeName
		}
	}
	if it.Task != nil {
		frp = num(r.ids.step, it.Task.TaskID)
	}
	row = append(row, KV{"max_process_name", name}, KV{"flow_run_process_id", frp},
		KV{"latest_steps", latestSteps(it, r.defs[it.DefinitionKey])},
		KV{"can_view", 1}, KV{"can_handle", boolInt(it.Task != nil && it.Task.Status == "pending")})
	return row
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---- next nodes and candidates ----

// inspect loads the instance of run_id (0x030001 when unknown, 0x030022
// when the caller may not see it).
func inspect(ctx context.Context, c *Call, candidates []string) (*sdk.Inspection, *flowDef, *rowCtx, error) {
	in := c.In
	if Empty(in["run_id"]) || Empty(in["flow_process"]) {
		return nil, nil, nil, Fail(CodeAPIError)
	}
	inst, err := hubOf(ctx, c, kindFlowRun, in.Str("run_id"))
	if err != nil {
		return nil, nil, nil, err
	}
	if inst == "" {
		return nil, nil, nil, Fail("0x030001")
	}
	wi, ok := c.Host.(sdk.WorkflowInspector)
	if !ok {
		return nil, nil, nil, Fail(CodeMySQL)
	}
	insp, err := wi.WorkflowInspect(ctx, c.P, sdk.InspectQuery{InstanceID: inst, Candidates: candidates})
	if err != nil {
		if sdk.AsError(err).Reason == "not_visible" {
			return nil, nil, nil, Fail("0x030022")
		}
		return nil, nil, nil, flowError(err)
	}
	defs, err := loadDefs(ctx, c, []string{insp.DefinitionKey})
	if err != nil {
		return nil, nil, nil, err
	}
	def := defs[insp.DefinitionKey]
	if def == nil {
		def = &flowDef{Key: insp.DefinitionKey, Name: insp.DefinitionName}
	}
	r := &rowCtx{c: c, defs: defs, ids: newFlowIDs(), names: map[string]string{}}
	need := idNeeds{}
	need.add(kindFlow, def.Key)
	for _, n := range append(append([]sdk.FlowNode{}, insp.Turn...), insp.Back...) {
		need.add(kindFlowNode, nodeKey(def.Key, n.ID))
	}
	nodes := make([]string, 0, len(insp.Candidates))
	for n := range insp.Candidates {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		for _, u := range insp.Candidates[n] {
			id, _ := u["id"].(string)
			need.add(kindUser, id)
		}
	}
	if err := r.ids.resolve(ctx, c, need); err != nil {
		return nil, nil, nil, err
	}
	return insp, def, r, nil
}

// showTransactProcess answers the next and back nodes of the caller's
// step (§5.5 Next nodes).
func showTransactProcess(ctx context.Context, c *Call) (any, error) {
	insp, def, r, err := inspect(ctx, c, nil)
	if err != nil {
		return nil, err
	}
	nodes := func(ns []sdk.FlowNode) []any {
		out := []any{}
		for i, n := range ns {
			out = append(out, Obj{{"node_id", r.nodeNum(def, n.ID, insp.Step+1)}, {"flow_id", num(r.ids.flow, def.Key)},
				{"sort", i}, {"process_name", n.Name}})
		}
		return out
	}
	turn := nodes(insp.Turn)
	maxNode := "0"
	if insp.CanEnd {
		maxNode = "1"
		turn = append(turn, Obj{{"submitEnd", "submitEnd"}})
	}
	return Obj{{"maxNodeFlag", maxNode}, {"turn", turn}, {"back", nodes(insp.Back)}}, nil
}

// showTransactUser answers the candidate users of a target node (§5.5).
func showTransactUser(ctx context.Context, c *Call) (any, error) {
	if Empty(c.In["target_process_id"]) {
		return nil, Fail(CodeAPIError)
	}
	nk, err := hubOf(ctx, c, kindFlowNode, c.In.Str("target_process_id"))
	if err != nil {
		return nil, err
	}
	_, node, ok := strings.Cut(nk, "/")
	if !ok {
		return nil, Fail(CodePermission)
	}
	insp, _, r, err := inspect(ctx, c, []string{node})
	if err != nil {
		return nil, err
	}
	if insp.Free {
		return Obj{{"default", Obj{{"handle", Obj{{"user_id", []any{}}}}, {"host", ""}}}, {"modal", "edit"},
			{"scope", Obj{{"user_id", "ALL"}}}}, nil
	}
	users := []any{}
	for _, u := range insp.Candidates[node] {
		id, _ := u["id"].(string)
		users = append(users, r.userID(id))
	}
	return Obj{{"default", Obj{{"handle", Obj{{"user_id", users}}}, {"host", ""}}}, {"modal", "readonly"},
		{"scope", Obj{{"user_id", users}}}}, nil
}
