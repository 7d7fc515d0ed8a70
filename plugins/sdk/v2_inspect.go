package sdk

import "context"

// WorkflowInspector is a Host API v2 addition: the hub's hosts (in process
// and over gRPC) and sdktest's MemHost and RecordingHost implement it. A
// connector type-asserts its Host; a hub without the call answers
// Unavailable.
type WorkflowInspector interface {
	// WorkflowInspect returns an instance with every task (step) of it,
	// where its current step may go (Turn for a handover, Back for a
	// return, CanEnd) and the candidate users of the nodes asked for.
	// Visible to its initiator, users with a task in it or a copy of it,
	// and workflow.monitor holders (Forbidden, reason not_visible).
	WorkflowInspect(ctx context.Context, p *Principal, q InspectQuery) (*Inspection, error)
}

// InspectQuery names the instance (InstanceID, or DataID: the record's
// latest) and the nodes whose candidates to list ("*" = every node of
// Turn and Back).
type InspectQuery struct {
	InstanceID string   `json:"instanceId,omitempty"`
	DataID     string   `json:"dataId,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
}

// FlowNode is a node of an instance's definition.
type FlowNode struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Index is the node's position in the definition (-1: the start node).
	Index int `json:"index"`
}

// Inspection answers WorkflowInspect.
type Inspection struct {
	InstanceID     string `json:"instanceId"`
	DataID         string `json:"dataId"`
	FormID         string `json:"formId"`
	DefinitionID   string `json:"definitionId"`
	DefinitionKey  string `json:"definitionKey"`
	DefinitionName string `json:"definitionName"`
	// Status is running, approved, rejected or cancelled.
	Status string `json:"status"`
	// Initiator is {id, value (code), label (name)}.
	Initiator map[string]any `json:"initiator"`
	Title     string         `json:"title"`
	Serial    string         `json:"serial"`
	Urgency   int64          `json:"urgency"`
	// Step is the current step number; CurrentNode nil once ended.
	Step        int64     `json:"step"`
	CurrentNode *FlowNode `json:"currentNode"`
	CC          []string  `json:"cc"`
	CreateTime  int64     `json:"createTime"`
	UpdateTime  int64     `json:"updateTime"`
	// Steps are every task of the instance, in issue order.
	Steps []TaskInfo `json:"steps"`
	// Turn: hand-over targets; Back: return targets (start node first);
	// CanEnd: a handover without node and users ends the instance; Free:
	// any user at any later node.
	Turn   []FlowNode `json:"turn"`
	Back   []FlowNode `json:"back"`
	CanEnd bool       `json:"canEnd"`
	Free   bool       `json:"free"`
	// Candidates maps node ids to users {id, value, label}.
	Candidates map[string][]map[string]any `json:"candidates"`
}
