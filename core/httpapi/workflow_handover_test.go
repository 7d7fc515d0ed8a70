package httpapi

import (
	"testing"
)

// Hand-over, send-back with chosen users, the guards, Describe, Inspect and
// the hand-over lists through the native routes: what the Host API gives
// the e-office connector (flow-turning), the native API serves too.
func TestHTTPWorkflowHandover(t *testing.T) {
	e := newFlowsEnv(t, 0)
	rec := e.record("f_leave", map[string]any{"days": 5.0})
	m := wantStatus(t, e.post("bob", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "leave_approval",
		"businessKey": rec, "title": "请假", "urgency": "1"}), 200, "")
	w := m["id"].(string)
	first := m["tasks"].([]any)[0].(map[string]any)["taskId"].(string)

	ins := wantStatus(t, e.get("alice", "/api/v1/workflow/inspect?wfInstanceId="+w+"&candidates=*"), 200, "")
	turn, back := ins["turn"].([]any), ins["back"].([]any)
	if ins["step"] != float64(1) || ins["title"] != "请假" || ins["urgency"] != float64(1) || len(turn) != 1 ||
		turn[0].(map[string]any)["id"] != "n_admin" || len(back) != 1 || back[0].(map[string]any)["id"] != "start" || ins["canEnd"] != false {
		t.Fatalf("inspect = %v", ins)
	}
	cands := ins["candidates"].(map[string]any)
	if c := cands["n_admin"].([]any); len(c) != 1 || c[0].(map[string]any)["id"] != "u_1001" {
		t.Fatalf("candidates = %v", cands)
	}
	if c := cands["start"].([]any); len(c) != 1 || c[0].(map[string]any)["id"] != "u_bob" {
		t.Fatalf("start candidates = %v", cands)
	}
	wantStatus(t, e.get("eve", "/api/v1/workflow/inspect?wfInstanceId="+w), 404, "not_found")
	wantStatus(t, e.get("alice", "/api/v1/workflow/inspect"), 400, "invalid_request")

	// Refusals, each with its reason; nothing is written.
	for _, c := range []struct {
		user   string
		body   map[string]any
		status int
		code   string
	}{
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "bob"}, 403, "outside_scope"},
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_admin"}, 400, "no_next_user"},
		{"alice", map[string]any{"wfInstanceId": w}, 400, "cannot_end"},
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_mgr", "host": "alice"}, 400, "invalid_target"},
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "admin", "step": 2}, 409, "step_mismatch"},
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "admin", "staleTaskId": "nope"}, 409, "stale_task"},
		{"alice", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "admin", "step": "x"}, 400, "invalid_request"},
		{"bob", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "admin"}, 403, "no_open_task"},
		{"eve", map[string]any{"wfInstanceId": w}, 404, "not_found"},
		{"alice", map[string]any{"toNode": "n_admin"}, 400, "invalid_request"},
	} {
		wantStatus(t, e.post(c.user, "/api/v1/workflow/handover", c.body), c.status, c.code)
	}
	if r := e.post("alice", "/api/v1/workflow/handover", "not json"); r.status != 400 {
		t.Fatalf("malformed body: %d %s", r.status, r.body)
	}
	// The hand-over: admin hosts step 2, bob gets a copy.
	m = wantStatus(t, e.post("alice", "/api/v1/workflow/handover", map[string]any{"wfInstanceId": w, "toNode": "n_admin",
		"host": "admin", "cc": []string{"bob"}, "staleTaskId": first, "step": 1, "comment": "同意"}), 200, "")
	tasks := m["tasks"].([]any)
	if m["instanceStatus"] != "running" || len(tasks) != 1 || tasks[0].(map[string]any)["assigneeId"] != "u_1001" {
		t.Fatalf("handover = %v", m)
	}
	// Alice's retry: not stale, but she has no open task.
	wantStatus(t, e.post("alice", "/api/v1/workflow/handover", map[string]any{"wfInstanceId": w, "toNode": "n_admin",
		"host": "admin", "staleTaskId": first, "step": 1}), 403, "no_open_task")
	todo, _ := e.taskList("admin", "/api/v1/workflow/tasks/todo?title=请&withSteps=true&sortBy=updateTime")
	if len(todo) != 1 || todo[0]["step"] != float64(2) || todo[0]["title"] != "请假" || todo[0]["definitionKey"] != "leave_approval" {
		t.Fatalf("admin's todo = %v", todo)
	}
	task := todo[0]["task"].(map[string]any)
	if task["host"] != true || task["from"] != "u_alice" || task["fromNode"] != "n_mgr" || len(todo[0]["steps"].([]any)) != 2 {
		t.Fatalf("admin's todo task = %v", todo[0])
	}
	if l, _ := e.taskList("alice", "/api/v1/workflow/tasks/handled"); len(l) != 1 || l[0]["task"].(map[string]any)["status"] != "approved" {
		t.Fatalf("alice's handled = %v", l)
	}
	if l, _ := e.taskList("bob", "/api/v1/workflow/tasks/cc?definitionId=leave_approval"); len(l) != 1 {
		t.Fatalf("bob's cc = %v", l)
	}
	if l, _ := e.taskList("bob", "/api/v1/workflow/tasks/search"); len(l) != 1 {
		t.Fatalf("bob's search = %v", l)
	}
	if l, _ := e.taskList("admin", "/api/v1/workflow/tasks/monitor"); len(l) != 1 {
		t.Fatalf("admin's monitor = %v", l)
	}
	if l, _ := e.taskList("alice", "/api/v1/workflow/tasks/monitor"); len(l) != 0 {
		t.Fatalf("alice's monitor = %v", l)
	}
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?withSteps=maybe"), 400, "invalid_query_option")
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?sortBy=title"), 400, "invalid_request")

	// Describe: only a holder of a pending task.
	wantStatus(t, e.post("alice", "/api/v1/workflow/describe", map[string]any{"wfInstanceId": w, "title": "x"}), 403, "no_open_task")
	wantStatus(t, e.post("admin", "/api/v1/workflow/describe", map[string]any{"wfInstanceId": w, "title": 5}), 400, "invalid_request")
	wantStatus(t, e.post("admin", "/api/v1/workflow/describe", map[string]any{"wfInstanceId": w, "title": "请假-改"}), 200, "")

	// Send back to the initiator with bob as host; alice's first task
	// stays not stale, the admin's step-2 task is.
	m = wantStatus(t, e.post("admin", "/api/v1/workflow/return", map[string]any{"wfInstanceId": w, "toNode": "_start",
		"host": "bob", "step": 2}), 200, "")
	if tasks := m["tasks"].([]any); len(tasks) != 1 || tasks[0].(map[string]any)["assigneeId"] != "u_bob" {
		t.Fatalf("return = %v", m)
	}
	if l, _ := e.taskList("bob", "/api/v1/workflow/tasks/todo?title=改"); len(l) != 1 || l[0]["task"].(map[string]any)["back"] != true {
		t.Fatalf("bob's todo after the return = %v", l)
	}
	// Bob resubmits to the manager; the manager ends it (no later node for 5 days? n_admin holds: she hands over).
	wantStatus(t, e.post("bob", "/api/v1/workflow/handover", map[string]any{"wfInstanceId": w, "host": "alice"}), 200, "")
	wantStatus(t, e.post("alice", "/api/v1/workflow/handover", map[string]any{"wfInstanceId": w, "toNode": "n_admin", "host": "u_1001"}), 200, "")
	m = wantStatus(t, e.post("admin", "/api/v1/workflow/handover", map[string]any{"wfInstanceId": w}), 200, "")
	if m["instanceStatus"] != "approved" || e.doc("formdata", rec)["flowStatus"] != int64(3) {
		t.Fatalf("end = %v", m)
	}
	if l, _ := e.taskList("alice", "/api/v1/workflow/tasks/finished"); len(l) != 1 || l[0]["wfInstanceId"] != w {
		t.Fatalf("alice's finished = %v", l)
	}
}
