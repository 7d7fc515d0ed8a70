package workflow

import (
	"github.com/eimshub/eimshub/core/store"
)

// Collections the engine reads and writes.
const (
	CollDefinition  = "wfdefinition"
	CollInstance    = "wfinstance" // hub-internal: one document per instance
	CollTodo        = "wftodo"     // pending tasks only (decided tasks are soft-deleted)
	CollApprovalLog = "wfapprovallog"
	CollMessage     = "message" // in-system messages: one per task issued, to its assignee
	collRecord      = "formdata"
	collForm        = "form"
	collUser        = "user"
	collDepartment  = "department"
)

// Operator is a user reference {id, value (code), label (display name)}.
type Operator struct {
	ID, Code, Name string
}

func (o Operator) doc() map[string]any {
	return map[string]any{"id": o.ID, "value": o.Code, "label": o.Name}
}

func operatorOf(v any) Operator {
	m, _ := v.(map[string]any)
	return Operator{ID: str(m, "id"), Code: str(m, "value"), Name: str(m, "label")}
}

// Task is one task of an instance (pending or decided).
type Task struct {
	ID         string
	NodeID     string
	NodeName   string
	AssigneeID string
	Status     string
	Round      int64
	// CreateTime is when the task was issued, epoch ms.
	CreateTime int64
	// Host marks the step's host (e-office 主办人): on a step with a host
	// only the host decides for the step; the other assignees
	// (participants, 经办人) agree for themselves (flow.go).
	Host bool
	// DecideTime is when the task was decided or closed (0 while pending).
	DecideTime int64
	// From is the user whose hand-over, return or decision issued the
	// task ("" for the first step); FromNode that user's node.
	From, FromNode string
	// Back marks a task issued by a return (send back); FromNode is then
	// the node it was sent back from.
	Back bool
	// Deadline is when the task is overdue, epoch ms (0 = none).
	Deadline int64
}

// Instance is a workflow instance: one run of a definition for one record.
type Instance struct {
	ID             string
	Tenant         string
	DefinitionID   string
	DefinitionKey  string
	DefinitionName string
	Version        int64
	AppID          string
	FormID         string
	FormName       string
	DataID         string
	Status         Status
	Initiator      Operator
	Variables      map[string]any
	// Def is the definition snapshot taken at start (later edits of the
	// definition do not affect a running instance).
	Def *Definition
	// NodeIndex is the index in Def.Nodes of the current approval node
	// (-1 before the first, len(Def.Nodes) after the last).
	NodeIndex int
	// Round counts node activations (the approval log's `round`).
	Round int64
	// Rev is the compare-and-set revision of the instance document.
	Rev        int64
	Tasks      []Task
	CreateTime int64
	UpdateTime int64
	// Title, Serial and Urgency (0 normal, 1 important, 2 urgent) describe
	// the instance for task lists (e-office run_name, run_seq,
	// instancy_type); Title defaults to the definition's name.
	Title   string
	Serial  string
	Urgency int64
	// CC are the users the instance was copied to.
	CC []string
}

// Pending returns the instance's pending tasks.
func (in *Instance) Pending() []Task {
	var out []Task
	for _, t := range in.Tasks {
		if t.Status == TaskPending {
			out = append(out, t)
		}
	}
	return out
}

func (in *Instance) task(id string) (int, bool) {
	for i := range in.Tasks {
		if in.Tasks[i].ID == id {
			return i, true
		}
	}
	return -1, false
}

// CurrentNode returns the current approval node, if any: the start node
// while an instance started AtStart waits for its initiator.
func (in *Instance) CurrentNode() (Node, bool) {
	if in.NodeIndex < 0 && len(in.Pending()) > 0 {
		return in.startNode(), true
	}
	if in.Def == nil || in.NodeIndex < 0 || in.NodeIndex >= len(in.Def.Nodes) {
		return Node{}, false
	}
	return in.Def.Nodes[in.NodeIndex], true
}

func (in *Instance) doc() store.Doc {
	tasks := make([]any, 0, len(in.Tasks))
	for _, t := range in.Tasks {
		m := map[string]any{"taskId": t.ID, "nodeId": t.NodeID, "nodeName": t.NodeName,
			"assigneeId": t.AssigneeID, "status": t.Status, "round": t.Round, "createTime": t.CreateTime,
			"host": t.Host, "back": t.Back}
		for k, v := range map[string]string{"from": t.From, "fromNode": t.FromNode} {
			if v != "" {
				m[k] = v
			}
		}
		for k, v := range map[string]int64{"decideTime": t.DecideTime, "deadline": t.Deadline} {
			if v != 0 {
				m[k] = v
			}
		}
		tasks = append(tasks, m)
	}
	cc := make([]any, 0, len(in.CC))
	for _, u := range in.CC {
		cc = append(cc, map[string]any{"id": u})
	}
	vars := in.Variables
	if vars == nil {
		vars = map[string]any{}
	}
	var def map[string]any
	if in.Def != nil {
		def = in.Def.ToContent()
	}
	return store.Doc{
		"id": in.ID, "corpId": in.Tenant,
		"definitionId": in.DefinitionID, "definitionKey": in.DefinitionKey, "definitionName": in.DefinitionName,
		"version": in.Version, "appId": in.AppID, "formId": in.FormID, "formName": in.FormName,
		"dataId": in.DataID, "status": string(in.Status), "initiator": in.Initiator.doc(),
		"variables": vars, "definition": def, "nodeIndex": int64(in.NodeIndex), "round": in.Round,
		"rev": in.Rev, "tasks": tasks, "createTime": in.CreateTime, "updateTime": in.UpdateTime,
		"createBy": in.Initiator.doc(), "updateBy": in.Initiator.doc(),
		"title": in.Title, "serial": in.Serial, "urgency": in.Urgency, "cc": cc,
	}
}

func instanceFromDoc(d store.Doc) (*Instance, error) {
	in := &Instance{
		ID: str(d, "id"), Tenant: str(d, "corpId"), DefinitionID: str(d, "definitionId"),
		DefinitionKey: str(d, "definitionKey"), DefinitionName: str(d, "definitionName"),
		Version: i64(d, "version"), AppID: str(d, "appId"), FormID: str(d, "formId"),
		FormName: str(d, "formName"), DataID: str(d, "dataId"), Status: Status(str(d, "status")),
		Initiator: operatorOf(d["initiator"]), NodeIndex: int(i64(d, "nodeIndex")), Round: i64(d, "round"),
		Rev: i64(d, "rev"), CreateTime: i64(d, "createTime"), UpdateTime: i64(d, "updateTime"),
		Title: str(d, "title"), Serial: str(d, "serial"), Urgency: i64(d, "urgency"),
	}
	ccs, _ := d["cc"].([]any)
	for _, c := range ccs {
		m, _ := c.(map[string]any)
		if id := str(m, "id"); id != "" {
			in.CC = append(in.CC, id)
		}
	}
	in.Variables, _ = d["variables"].(map[string]any)
	if c, ok := d["definition"].(map[string]any); ok {
		def, err := ParseDefinition(c)
		if err != nil {
			return nil, err
		}
		in.Def = def
	}
	raw, _ := d["tasks"].([]any)
	for _, r := range raw {
		m, _ := r.(map[string]any)
		in.Tasks = append(in.Tasks, Task{ID: str(m, "taskId"), NodeID: str(m, "nodeId"), NodeName: str(m, "nodeName"),
			AssigneeID: str(m, "assigneeId"), Status: str(m, "status"), Round: i64(m, "round"),
			CreateTime: i64(m, "createTime"), Host: m["host"] == true, Back: m["back"] == true,
			DecideTime: i64(m, "decideTime"), Deadline: i64(m, "deadline"), From: str(m, "from"),
			FromNode: str(m, "fromNode")})
	}
	return in, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func i64(m map[string]any, k string) int64 {
	switch v := m[k].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	}
	return 0
}

// startNode is the node the initiator's task of an instance started
// AtStart belongs to: the definition's start node, or a synthetic one.
func (in *Instance) startNode() Node {
	n := Node{ID: StartNodeID, Type: NodeApprove, Name: StartNodeName}
	if in.Def != nil {
		for _, d := range in.Def.Nodes {
			if d.Type == NodeStart {
				n.ID = d.ID
				if d.Name != "" {
					n.Name = d.Name
				}
				break
			}
		}
	}
	return n
}
