package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// designer builds web-client flow data (spec §12.11) around nodes.
func designer(nodes ...string) string {
	return `{"startNode":{"id":"s1","nodeType":1,"name":"开始","metadata":{}},"nodes":[` + strings.Join(nodes, ",") +
		`],"endNode":{"id":"e1","nodeType":2,"name":"结束","metadata":{}},"eventSource":"0"}`
}

func approve(id, name string, mode int, cands ...string) string {
	return `{"id":"` + id + `","nodeType":7,"name":"` + name + `","metadata":{"approveMeta":{"approveMode":` +
		string(rune('0'+mode)) + `,"approvalCandidates":[` + strings.Join(cands, ",") + `],"enableCopyto":false,"copytoCandidates":[]}}}`
}

func cand(typ int, id string) string {
	return `{"candidateType":` + string(rune('0'+typ)) + `,"candidateId":"` + id + `","candidateName":"x"}`
}

func branch(id string, items ...string) string {
	return `{"id":"` + id + `","nodeType":3,"name":"条件分支","metadata":{},"childNodes":[` + strings.Join(items, ",") + `]}`
}

func arm(id, cond string, nodes ...string) string {
	cd := `{"id":"` + id + `c","nodeType":6,"name":"其他","metadata":{"conditionMeta":{}}}`
	if cond != "" {
		cd = `{"id":"` + id + `c","nodeType":5,"name":"条件","metadata":{"conditionMeta":{"condition":` + cond + `}}}`
	}
	return `{"id":"` + id + `","nodeType":4,"name":"分支","conditionData":` + cd + `,"childNodes":[` + strings.Join(nodes, ",") + `],"metadata":{}}`
}

func TestCompileDesigner(t *testing.T) {
	big := `{"rel":"and","items":[{"field":"data.amount","type":"number","op":"gte","value":"1000"}]}`
	tests := []struct {
		name    string
		content string
		want    string // the compiled §5.2 content (ToContent), or
		errNode string // the node an error names
	}{
		{"one approval, any",
			designer(approve("n1", "主管审批", 1, cand(2, "u_bob"))),
			`{"nodes":[{"id":"s1","type":"start","name":"开始"},{"id":"n1","type":"approve","name":"主管审批","assignees":{"users":["u_bob"]}},{"id":"e1","type":"end","name":"结束"}]}`, ""},
		{"candidate types 1–4, cascade, mode all",
			designer(approve("n1", "会签", 2, cand(1, "d_1"), `{"candidateType":1,"candidateId":"d_2","cascadedDept":true}`, cand(2, "u_bob"), cand(3, "r_manager"), cand(4, "starter"))),
			`{"nodes":[{"id":"s1","type":"start","name":"开始"},{"id":"n1","type":"approve","name":"会签","mode":"all","assignees":{"departments":["d_1"],"departmentTrees":["d_2"],"users":["u_bob"],"roleIds":["r_manager"],"initiator":true}},{"id":"e1","type":"end","name":"结束"}]}`, ""},
		{"copy-to node and approval with copy-to",
			designer(`{"id":"c1","nodeType":8,"name":"抄送","metadata":{"copytoMeta":{"approvalCandidates":[`+cand(2, "u_carol")+`]}}}`,
				`{"id":"n1","nodeType":7,"name":"审批","metadata":{"approveMeta":{"approveMode":"1","approvalCandidates":[`+cand(2, "u_bob")+`],"enableCopyto":true,"copytoCandidates":[`+cand(3, "r_admin")+`]}}}`),
			`{"nodes":[{"id":"s1","type":"start","name":"开始"},{"id":"c1","type":"cc","name":"抄送","assignees":{"users":["u_carol"]}},{"id":"n1","type":"approve","name":"审批","assignees":{"users":["u_bob"]}},{"id":"n1.cc","type":"cc","name":"审批","assignees":{"roleIds":["r_admin"]}},{"id":"e1","type":"end","name":"结束"}]}`, ""},
		{"exclusive branch: condition, otherwise",
			designer(branch("b1", arm("a1", big, approve("big", "大额", 1, cand(2, "u_1001"))), arm("a2", "", approve("small", "小额", 1, cand(2, "u_bob"))))),
			`{"nodes":[{"id":"s1","type":"start","name":"开始"},
			  {"id":"big","type":"approve","name":"大额","assignees":{"users":["u_1001"]},"guards":[{"filter":` + big + `}]},
			  {"id":"small","type":"approve","name":"小额","assignees":{"users":["u_bob"]},"guards":[{"filter":` + big + `,"not":true}]},
			  {"id":"e1","type":"end","name":"结束"}]}`, ""},
		{"parallel branch", designer(`{"id":"p1","nodeType":17,"name":"并行","metadata":{},"childNodes":[]}`), "", "p1"},
		{"dataflow node", designer(`{"id":"q1","nodeType":9,"name":"查询","metadata":{}}`), "", "q1"},
		{"automatic approval", designer(approve("n1", "自动", 3, cand(2, "u_bob"))), "", "n1"},
		{"unknown dynamic candidate", designer(approve("n1", "x", 1, cand(4, "starterManager"))), "", "n1"},
		{"no approver", designer(approve("n1", "x", 1)), "", "n1"},
		{"duplicate node ids", designer(approve("n1", "x", 1, cand(2, "u_bob")), approve("n1", "y", 1, cand(2, "u_bob"))), "", "n1"},
		{"nested start node", designer(`{"id":"s9","nodeType":1,"metadata":{}}`), "", "s9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def, err := workflow.ParseDefinition(tc.content)
			if tc.errNode != "" {
				if errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error()+detailsOf(err), tc.errNode) {
					t.Fatalf("err = %v (%s), want Invalid naming %s", err, detailsOf(err), tc.errNode)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v %s", err, detailsOf(err))
			}
			got, _ := json.Marshal(def.ToContent())
			var g, w any
			_ = json.Unmarshal(got, &g)
			if err := json.Unmarshal([]byte(tc.want), &w); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Errorf("compiled\n got %s\nwant %s", gb, wb)
			}
			// The §5.2 rendering parses back to the same definition (instance snapshots).
			again, err := workflow.ParseDefinition(def.ToContent())
			if err != nil {
				t.Fatalf("re-parse: %v %s", err, detailsOf(err))
			}
			ab, _ := json.Marshal(again.ToContent())
			if string(ab) != string(got) {
				t.Errorf("round trip\n got %s\nwant %s", ab, got)
			}
		})
	}
}

func detailsOf(err error) string {
	var b strings.Builder
	for _, d := range errs.As(err).Details {
		b.WriteString(" " + d.Target + ": " + d.Message)
	}
	return b.String()
}

// TestDesignerFlowRuns runs compiled designer flows on the engine: an
// exclusive branch on the record's amount, "all must agree" by role id,
// the initiator as approver, a department's users, and a copy-to node.
func TestDesignerFlowRuns(t *testing.T) {
	f := newFixture(t)
	big := `{"rel":"and","items":[{"field":"data.amount","type":"number","op":"gte","value":"1000"}]}`
	content := designer(
		branch("b1",
			arm("a1", big, approve("big", "大额会签", 2, cand(3, "r_manager"))),
			arm("a2", "", approve("small", "部门审批", 1, cand(1, "d_2")))),
		approve("self", "发起人确认", 1, cand(4, "starter")),
		`{"id":"cc","nodeType":8,"name":"抄送","metadata":{"copytoMeta":{"approvalCandidates":[`+cand(2, "u_carol")+`]}}}`)
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_d", "sourceId": "f_1", "name": "设计器流程", "version": int64(2),
		"flowType": int64(0), "isCurrent": true, "content": content})
	pendingOf := func(rec string) map[string]string {
		docs, err := f.st.Find(f.ctx, "wftodo", tenant, query.Query{Filter: byData(rec), Limit: -1})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, d := range docs {
			out[d["employeeId"].(string)] = d["approveNodeId"].(string)
		}
		return out
	}
	agree := func(who, rec string) *workflow.DecideResult {
		t.Helper()
		return must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.byName(who), workflow.DecideRequest{DataID: rec, Result: workflow.ActAgree}))
	}

	// Large amount: the branch's first arm; both managers must agree (mode all).
	rec := f.record("f_1", map[string]any{"customer": "甲", "amount": 5000.0})
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "orders", BusinessKey: rec}))
	if p := pendingOf(rec); len(p) != 2 || p["u_alice"] != "big" || p["u_dave"] != "big" {
		t.Fatalf("tasks after start = %v", p)
	}
	if r := agree("alice", rec); r.InstanceStatus != workflow.StatusRunning || len(r.Tasks) != 0 {
		t.Fatalf("alice's agreement = %+v", r)
	}
	if p := pendingOf(rec); len(p) != 1 || p["u_dave"] != "big" {
		t.Fatalf("mode all: after alice %v", p)
	}
	agree("dave", rec)
	if p := pendingOf(rec); len(p) != 1 || p["u_bob"] != "self" {
		t.Fatalf("after both managers (small arm skipped, initiator next): %v", p)
	}
	if r := agree("bob", rec); r.InstanceStatus != workflow.StatusApproved {
		t.Fatalf("final = %+v", r)
	}
	if st := f.flowStatus(t, rec); st != 3 {
		t.Fatalf("flowStatus = %d", st)
	}
	cc := f.count(t, "message", query.AndOf(query.Cmp{Path: query.Path{"receiverEmpId"}, Op: query.Eq, Value: "u_carol"},
		query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec}))
	if cc != 1 {
		t.Fatalf("copy-to messages to carol = %d", cc)
	}

	// Small amount: the otherwise arm, the department's users (any one).
	rec2 := f.record("f_1", map[string]any{"customer": "乙", "amount": 10.0})
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "orders", BusinessKey: rec2}))
	if p := pendingOf(rec2); len(p) != 3 || p["u_bob"] != "small" || p["u_alice"] != "small" || p["u_carol"] != "small" {
		t.Fatalf("department d_2 tasks = %v", p)
	}
	agree("carol", rec2)
	if p := pendingOf(rec2); len(p) != 1 || p["u_bob"] != "self" {
		t.Fatalf("after carol: %v", p)
	}

	// Mode all: one rejection rejects the record.
	rec3 := f.record("f_1", map[string]any{"customer": "丙", "amount": 2000.0})
	must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "orders", BusinessKey: rec3}))
	agree("alice", rec3)
	r := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.dave, workflow.DecideRequest{DataID: rec3, Result: workflow.ActReject}))
	if r.InstanceStatus != workflow.StatusRejected || len(pendingOf(rec3)) != 0 || f.flowStatus(t, rec3) != 4 {
		t.Fatalf("rejection in mode all = %+v, tasks %v", r, pendingOf(rec3))
	}
}

// TestStartWithoutAssignee: an approval node whose only candidate is a
// deleted user fails the start with 409 and changes nothing (§12.11, WTV-16).
func TestStartWithoutAssignee(t *testing.T) {
	f := newFixture(t)
	f.ins(t, "user", store.Doc{"id": "u_gone", "userName": "gone", "empName": "Gone", "status": int64(0)})
	if err := f.st.Delete(f.ctx, "user", tenant, "u_gone"); err != nil {
		t.Fatal(err)
	}
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_gone", "sourceId": "f_1", "name": "x", "version": int64(9), "flowType": int64(0),
		"isCurrent": true, "content": designer(approve("n", "审批", 1, cand(2, "u_gone")))})
	rec := f.record("f_1", map[string]any{"customer": "x"})
	_, err := f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "orders", BusinessKey: rec})
	wantCode(t, err, errs.Conflict)
	if st := f.flowStatus(t, rec); st != 1 {
		t.Fatalf("flowStatus = %d after a failed start", st)
	}
	if n := f.count(t, "wfinstance", byData(rec)) + f.count(t, "wftodo", byData(rec)); n != 0 {
		t.Fatalf("%d instance/task documents after a failed start", n)
	}
}

// TestCurrentDefinition: a form's records start its current version
// (isCurrent), else its highest version.
func TestCurrentDefinition(t *testing.T) {
	f := newFixture(t)
	one := designer(approve("n", "甲", 1, cand(2, "u_alice")))
	two := designer(approve("n", "乙", 1, cand(2, "u_dave")))
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_v2", "sourceId": "f_1", "name": "v2", "version": int64(2), "flowType": int64(0), "content": one})
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_v3", "sourceId": "f_1", "name": "v3", "version": int64(3), "flowType": int64(0), "content": two})
	assignee := func() string {
		rec := f.record("f_1", map[string]any{"customer": "x"})
		s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "f_1", BusinessKey: rec}))
		return s.Tasks[0].AssigneeID
	}
	if a := assignee(); a != "u_dave" {
		t.Fatalf("no current version: the highest (v3) should start, got %s", a)
	}
	d, _ := f.st.Get(f.ctx, "wfdefinition", tenant, "wd_v2")
	d["isCurrent"] = true
	if err := f.st.Update(f.ctx, "wfdefinition", tenant, "wd_v2", d, nil); err != nil {
		t.Fatal(err)
	}
	if a := assignee(); a != "u_alice" {
		t.Fatalf("current v2 should start, got %s", a)
	}
}

// TestEmptyBranchCondition: the designer's new arm has an empty condition
// list ({id, rel, items: []}): it holds for every record, so its nodes run
// and the otherwise arm's do not.
func TestEmptyBranchCondition(t *testing.T) {
	f := newFixture(t)
	f.ins(t, "wfdefinition", store.Doc{"id": "wd_e", "sourceId": "f_1", "name": "x", "version": int64(5), "flowType": int64(0),
		"isCurrent": true, "content": designer(branch("b", arm("a1", `{"id":"c","rel":"and","items":[]}`, approve("first", "一", 1, cand(2, "u_alice"))),
			arm("a2", "", approve("other", "二", 1, cand(2, "u_dave")))))})
	rec := f.record("f_1", map[string]any{"customer": "x"})
	s := must[*workflow.StartResult](t)(f.eng.Start(f.ctx, f.bob, workflow.StartRequest{Form: "orders", BusinessKey: rec}))
	if len(s.Tasks) != 1 || s.Tasks[0].NodeID != "first" {
		t.Fatalf("tasks = %+v", s.Tasks)
	}
	r := must[*workflow.DecideResult](t)(f.eng.Decide(f.ctx, f.alice, workflow.DecideRequest{DataID: rec, Result: workflow.ActAgree}))
	if r.InstanceStatus != workflow.StatusApproved {
		t.Fatalf("the otherwise arm ran after a matching arm: %+v", r)
	}
}
