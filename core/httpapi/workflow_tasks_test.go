package httpapi

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/core/query"
)

// taskList GETs one task list and returns its entries (and the count when
// asked for).
func (e *flowsEnv) taskList(user, path string) ([]map[string]any, any) {
	e.t.Helper()
	m := wantStatus(e.t, e.get(user, path), 200, "")
	var out []map[string]any
	for _, v := range m["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out, m["@odata.count"]
}

// Return, cc and the task lists through the native routes (issue 11 #5:
// what the Host API v2 offers connectors, the native API serves too): a
// leave of 5 days runs manager → admin; the admin returns it to the
// manager, the manager returns it to the initiator, who re-submits; cc
// copies it; each list shows what it should, and the refusals are the
// engine's (403 for another user's lists or a stranger's copy).
func TestHTTPWorkflowReturnCCAndTaskLists(t *testing.T) {
	e := newFlowsEnv(t, 0)
	rec := e.record("f_leave", map[string]any{"days": 5.0})
	m := wantStatus(t, e.post("bob", "/api/v1/workflow/start", map[string]any{"flowDefinitionId": "leave_approval", "businessKey": rec}), 200, "")
	w := m["id"].(string)

	todo, n := e.taskList("alice", "/api/v1/workflow/tasks/todo?$count=true")
	if len(todo) != 1 || n != float64(1) || todo[0]["wfInstanceId"] != w || todo[0]["dataId"] != rec || todo[0]["nodeId"] != "n_mgr" ||
		todo[0]["taskId"] == nil || todo[0]["status"] != "running" || todo[0]["initiator"].(map[string]any)["id"] != "u_bob" {
		t.Fatalf("alice's todo = %v (count %v)", todo, n)
	}
	wantStatus(t, e.post("alice", "/api/v1/workflow/submit", map[string]any{"wfInstanceId": w, "taskId": todo[0]["taskId"], "comment": "ok"}), 200, "")

	// The admin returns it to the manager's node: alice has a new task.
	m = wantStatus(t, e.post("admin", "/api/v1/Workflow/Return", map[string]any{"dataId": rec, "toNode": "n_mgr", "comment": "再看看"}), 200, "")
	tasks := m["tasks"].([]any)
	if m["id"] != w || m["instanceStatus"] != "running" || len(tasks) != 1 || tasks[0].(map[string]any)["assigneeId"] != "u_alice" {
		t.Fatalf("return to n_mgr = %v", m)
	}
	logs, err := e.st.Find(context.Background(), "wfapprovallog", "t1", query.Query{Filter: query.AndOf(
		query.Cmp{Path: query.Path{"dataId"}, Op: query.Eq, Value: rec}, query.Cmp{Path: query.Path{"result"}, Op: query.Eq, Value: int64(3)}), Limit: -1})
	if err != nil || len(logs) != 1 || logs[0]["comment"] != "再看看" {
		t.Fatalf("return log = %v, %v", logs, err)
	}
	// Bob holds no task: nothing of his to return.
	if r := e.post("bob", "/api/v1/workflow/return", map[string]any{"dataId": rec}); r.status != 403 && r.status != 404 {
		t.Fatalf("bob returns alice's task: %d %s", r.status, r.body)
	}
	// Alice returns it to the initiator; a later node is refused.
	wantStatus(t, e.post("alice", "/api/v1/workflow/return", map[string]any{"wfInstanceId": w, "toNode": "n_admin"}), 400, "invalid_request")
	m = wantStatus(t, e.post("alice", "/api/v1/workflow/return", map[string]any{"wfInstanceId": w, "toNode": "_start"}), 200, "")
	if tasks := m["tasks"].([]any); len(tasks) != 1 || tasks[0].(map[string]any)["assigneeId"] != "u_bob" {
		t.Fatalf("return to the initiator = %v", m)
	}
	bobTodo, _ := e.taskList("bob", "/api/v1/workflow/tasks/todo")
	if len(bobTodo) != 1 || bobTodo[0]["wfInstanceId"] != w {
		t.Fatalf("bob's todo = %v", bobTodo)
	}

	// cc: only the initiator, a current assignee or workflow.actAs.
	wantStatus(t, e.post("alice", "/api/v1/workflow/cc", map[string]any{"wfInstanceId": w, "users": []string{"admin"}}), 403, "forbidden")
	wantStatus(t, e.post("bob", "/api/v1/workflow/cc", map[string]any{"wfInstanceId": w}), 400, "invalid_request")
	m = wantStatus(t, e.post("bob", "/api/v1/workflow/cc", map[string]any{"wfInstanceId": w, "users": []string{"admin", "u_alice"}, "comment": "FYI"}), 200, "")
	if m["id"] != w {
		t.Fatalf("cc = %v", m)
	}
	cc, _ := e.taskList("admin", "/api/v1/workflow/tasks/cc")
	if len(cc) != 1 || cc[0]["wfInstanceId"] != w || cc[0]["taskId"] != nil {
		t.Fatalf("admin's cc = %v", cc)
	}
	// The lists of each user.
	if started, _ := e.taskList("bob", "/api/v1/workflow/tasks/started?status=running"); len(started) != 1 || started[0]["wfInstanceId"] != w {
		t.Fatalf("bob's started = %v", started)
	}
	if done, _ := e.taskList("alice", "/api/v1/workflow/tasks/done?dataId="+rec); len(done) != 1 || done[0]["wfInstanceId"] != w {
		t.Fatalf("alice's done = %v", done)
	}
	if done, _ := e.taskList("bob", "/api/v1/workflow/tasks/done"); len(done) != 0 {
		t.Fatalf("bob's done = %v", done)
	}
	if started, _ := e.taskList("bob", "/api/v1/workflow/tasks/started?status=approved"); len(started) != 0 {
		t.Fatalf("bob's approved = %v", started)
	}
	// Count alone ($top=0), paging, another user's list by an admin.
	if page, n := e.taskList("admin", "/api/v1/workflow/tasks/cc?$top=0&$count=true"); len(page) != 0 || n != float64(1) {
		t.Fatalf("count only = %v, %v", page, n)
	}
	if page, _ := e.taskList("alice", "/api/v1/workflow/tasks/done?$skip=1"); len(page) != 0 {
		t.Fatalf("skip 1 = %v", page)
	}
	if page, _ := e.taskList("admin", "/api/v1/workflow/tasks/todo?userId=u_bob"); len(page) != 1 {
		t.Fatalf("admin reads bob's todo = %v", page)
	}
	// Refusals.
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?userId=u_bob"), 403, "forbidden")
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/later"), 400, "invalid_request")
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?$top=x"), 400, "invalid_query_option")
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?$filter=x"), 400, "invalid_query_option")
	wantStatus(t, e.get("alice", "/api/v1/workflow/tasks/todo?$count=maybe"), 400, "invalid_query_option")
	wantStatus(t, e.get("", "/api/v1/workflow/tasks/todo"), 401, "unauthorized")
	// Another tenant sees nothing of it.
	if page, _ := e.taskList("eve", "/api/v1/workflow/tasks/todo?userId=u_eve"); len(page) != 0 {
		t.Fatalf("eve's todo = %v", page)
	}
	wantStatus(t, e.post("eve", "/api/v1/workflow/cc", map[string]any{"wfInstanceId": w, "users": []string{"u_eve"}}), 404, "not_found")
	// Bob re-submits from the start node: alice has the task again.
	wantStatus(t, e.post("bob", "/api/v1/workflow/submit", map[string]any{"wfInstanceId": w, "taskId": bobTodo[0]["taskId"]}), 200, "")
	if todo, _ := e.taskList("alice", "/api/v1/workflow/tasks/todo"); len(todo) != 1 || todo[0]["nodeId"] != "n_mgr" {
		t.Fatalf("alice's todo after re-submit = %v", todo)
	}
}
