package sdk

// Host API v2 types (ProtocolVersion 2): read options (expand, form with
// the page), generic entity access, workflow actions and task lists, and
// aliases between a dialect's external ids and hub ids.

// ReadOptions tune GetRecord and FindRecords.
type ReadOptions struct {
	// Expand is a native $expand over the records' navigations (native
	// spec §7.5), e.g. "creator($select=id,empName,departmentId;$expand=department($select=id,name))":
	// the owner and the owner's department in the same call. Each expanded
	// navigation appears in the record under its name (null when absent).
	Expand string `json:"expand,omitempty"`
	// Form returns the form (fields included) with the page (Page.Form),
	// FindRecords only: a read that needs the schema is one call.
	Form bool `json:"withForm,omitempty"`
	// Aliases is a dialect namespace ("h3yun"), FindRecords only: the page
	// carries (Page.Aliases) the aliases in that namespace of its records
	// (kind "formdata"), of the users its records reference as creator,
	// owner or updater and of the departments the Expand brought (kinds
	// "user", "department") — so a dialect shows aliases without a call of
	// its own.
	Aliases string `json:"aliases,omitempty"`
}

// ReadOption sets a ReadOptions field.
type ReadOption func(*ReadOptions)

// Expand asks for the navigations of a native $expand (ReadOptions.Expand).
func Expand(expand string) ReadOption { return func(o *ReadOptions) { o.Expand = expand } }

// WithForm asks FindRecords for the form with the page (ReadOptions.Form).
func WithForm() ReadOption { return func(o *ReadOptions) { o.Form = true } }

// WithAliases asks FindRecords for the aliases of namespace ns
// (ReadOptions.Aliases).
func WithAliases(ns string) ReadOption { return func(o *ReadOptions) { o.Aliases = ns } }

// ReasonFormChanged is the Reason of the Conflict a write gets when it
// expected a form version (CreateOptions.FormVersion, IfFormVersion) and
// the form has changed since: the connector's cached form is stale.
const ReasonFormChanged = "form_changed"

// WriteOptions tune UpdateRecord.
type WriteOptions struct {
	// FormVersion is the Form.Version the data was built for (0 = no
	// check): a different current version refuses the write with
	// Conflict/ReasonFormChanged.
	FormVersion int64 `json:"formVersion,omitempty"`
}

// WriteOption sets a WriteOptions field.
type WriteOption func(*WriteOptions)

// IfFormVersion makes a write expect the form at version v
// (WriteOptions.FormVersion; 0 = no check).
func IfFormVersion(v int64) WriteOption { return func(o *WriteOptions) { o.FormVersion = v } }

// WriteOpts applies opts to zero WriteOptions (for Host implementations).
func WriteOpts(opts ...WriteOption) WriteOptions {
	var o WriteOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// IsFormChanged reports whether err is the Conflict of a write whose
// expected form version is stale.
func IsFormChanged(err error) bool {
	if err == nil {
		return false
	}
	e := AsError(err)
	return e.Code == Conflict && e.Reason == ReasonFormChanged
}

// AliasKindRecord, AliasKindUser, AliasKindDepartment and AliasKindForm are
// the alias kinds of records, users, departments and forms.
const (
	AliasKindRecord     = "formdata"
	AliasKindUser       = "user"
	AliasKindDepartment = "department"
	AliasKindForm       = "form"
)

// ReadOpts applies opts to zero ReadOptions (for Host implementations).
func ReadOpts(opts ...ReadOption) ReadOptions {
	var o ReadOptions
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// OwnerExpand is the Expand that brings a record's owner (id, code, name,
// department id) and the owner's department (id, name): what dialects
// showing OwnerId/OwnerDeptId need.
const OwnerExpand = "creator($select=id,code,empName,departmentId;$expand=department($select=id,name,code))"

// EntityOptions tune the generic entity calls.
type EntityOptions struct {
	// Count (EntityFind) returns the total ignoring paging in Page.Total
	// (else -1). A query with Limit 0 and Count is a count.
	Count bool `json:"count,omitempty"`
	// Expand (EntityFind, EntityGet) is a native $expand.
	Expand string `json:"expand,omitempty"`
	// IfMatch (EntityUpdate, EntityDelete) is the updateTime the entity
	// must still have (optimistic concurrency, Conflict otherwise); 0 =
	// unconditional.
	IfMatch int64 `json:"ifMatch,omitempty"`
}

// Workflow action names (WorkflowAction.Action).
const (
	ActStart    = "start"    // start the workflow of a record
	ActApprove  = "approve"  // agree / submit the task
	ActReject   = "reject"   // reject: the instance ends rejected
	ActReturn   = "return"   // send back to an earlier node or the initiator
	ActTransfer = "transfer" // hand the task to other users
	ActWithdraw = "withdraw" // the initiator revokes the instance
	ActCC       = "cc"       // copy the instance to users
	// ActHandover completes the actor's step choosing the next node
	// (ToNode) and its Host and Participants, or ends the instance (no
	// node, no users); Guard fields StaleTaskID and Step, CC and Deadline
	// apply. Refusals carry the Reason* of core/workflow (stale_task,
	// step_mismatch, no_open_task, not_host, outside_scope,
	// invalid_target, cannot_end, no_next_user, deadline_past).
	ActHandover = "handover"
	// ActDescribe changes the instance's Title, Serial or Urgency (a user
	// with a pending task in it).
	ActDescribe = "describe"
)

// WorkflowAction is one workflow action acting as the principal (native
// spec §4; return and cc are hub additions the dialects need).
type WorkflowAction struct {
	Action string `json:"action"`
	// InstanceID or DataID (the record: its latest instance) names the
	// instance; start takes DataID (the record) and Form or DefinitionID.
	InstanceID string `json:"instanceId,omitempty"`
	DataID     string `json:"dataId,omitempty"`
	// TaskID (or NodeID) names the actor's pending task; "" = the actor's
	// pending task on the instance.
	TaskID string `json:"taskId,omitempty"`
	NodeID string `json:"nodeId,omitempty"`
	// ToNode (return): an earlier approval node, or "_start" for the
	// initiator; "" = the previous node that had tasks.
	ToNode string `json:"toNode,omitempty"`
	// Users: transfer targets or cc receivers (ids or login names).
	Users     []string `json:"users,omitempty"`
	Comment   string   `json:"comment,omitempty"`
	Signature string   `json:"signature,omitempty"`
	// Actor is the acting user ("" = the principal's user; another user
	// needs workflow.actAs, as natively). For start: the initiator.
	Actor     string         `json:"actor,omitempty"`
	Variables map[string]any `json:"variables,omitempty"`
	// Start only.
	Form         string `json:"form,omitempty"`
	DefinitionID string `json:"definitionId,omitempty"`
	// AtStart (start): wait at the start node for the initiator's submit.
	AtStart bool `json:"atStart,omitempty"`

	// StaleTaskID (handover, return): a task the caller last saw as
	// theirs; refused (Conflict, reason stale_task) when its assignee has
	// a newer task in the instance or it is unknown. Step (handover,
	// return): the step the caller believes current (0 = no check).
	StaleTaskID string `json:"staleTaskId,omitempty"`
	Step        int64  `json:"step,omitempty"`
	// Host and Participants (handover, return): the next step's host and
	// further assignees (ids or login names); CC (handover) users copied.
	Host         string   `json:"host,omitempty"`
	Participants []string `json:"participants,omitempty"`
	CC           []string `json:"cc,omitempty"`
	// ToSender (handover): resubmit a step that was sent back to the
	// node that sent it, with that step's previous host and participants
	// (e-office send_back_submit); no ToNode, Host or Participants.
	ToSender bool `json:"toSender,omitempty"`
	// Deadline (handover): the new tasks are overdue after it (epoch ms).
	Deadline int64 `json:"deadline,omitempty"`
	// Title, Serial, Urgency (start, describe): the instance's
	// description; for describe nil keeps a value.
	Title   *string `json:"title,omitempty"`
	Serial  *string `json:"serial,omitempty"`
	Urgency *int64  `json:"urgency,omitempty"`
}

// TaskRef is a pending task.
type TaskRef struct {
	TaskID     string `json:"taskId"`
	NodeID     string `json:"nodeId"`
	NodeName   string `json:"nodeName"`
	AssigneeID string `json:"assigneeId"`
	// Host marks the step's host; Step is the task's step number.
	Host bool  `json:"host,omitempty"`
	Step int64 `json:"step,omitempty"`
}

// WorkflowResult is the instance after an action.
type WorkflowResult struct {
	InstanceID string `json:"instanceId"`
	// Status is running, approved, rejected or cancelled.
	Status string `json:"status"`
	// Tasks are the instance's pending tasks after the action (for
	// approve: the tasks it created).
	Tasks []TaskRef `json:"tasks"`
}

// Task lists (TaskQuery.Box).
const (
	BoxTodo     = "todo"     // the user's pending tasks
	BoxDone     = "done"     // instances the user decided, transferred or returned a task of
	BoxStarted  = "started"  // instances the user initiated
	BoxCC       = "cc"       // instances copied to the user
	BoxHandled  = "handled"  // running instances the user handled a task of and holds no pending one in
	BoxFinished = "finished" // ended instances the user had a task in
	BoxOvertime = "overtime" // the user's pending tasks past their deadline
	BoxMonitor  = "monitor"  // running instances (workflow.monitor holders; empty for others)
	BoxSearch   = "search"   // every instance the user may see
)

// TaskQuery selects a task list.
type TaskQuery struct {
	Box string `json:"box"`
	// UserID: whose list ("" = the principal's user; another user needs
	// workflow.actAs).
	UserID     string `json:"userId,omitempty"`
	DataID     string `json:"dataId,omitempty"`
	InstanceID string `json:"instanceId,omitempty"`
	// Status narrows done/started/cc to instances in that state.
	Status string `json:"status,omitempty"`
	// Limit (≤ 0 = the maximum, 1000) and Offset page the list.
	Limit  int  `json:"limit,omitempty"`
	Offset int  `json:"offset,omitempty"`
	Count  bool `json:"count,omitempty"`
	// InstanceIDs, DefinitionIDs (ids or keys), Initiators (user ids) and
	// Title (contained) narrow the list; SortBy is "createTime" or
	// "updateTime" (newest first unless Asc); WithSteps adds every task
	// of the instance to each item.
	InstanceIDs   []string `json:"instanceIds,omitempty"`
	DefinitionIDs []string `json:"definitionIds,omitempty"`
	Initiators    []string `json:"initiators,omitempty"`
	Title         string   `json:"title,omitempty"`
	SortBy        string   `json:"sortBy,omitempty"`
	Asc           bool     `json:"asc,omitempty"`
	WithSteps     bool     `json:"withSteps,omitempty"`
}

// TaskInfo is one task of an instance with its step and marks.
type TaskInfo struct {
	TaskID     string `json:"taskId"`
	NodeID     string `json:"nodeId"`
	NodeName   string `json:"nodeName"`
	AssigneeID string `json:"assigneeId"`
	// Status is pending, approved, rejected, transferred, closed,
	// withdrawn or returned.
	Status string `json:"status"`
	Step   int64  `json:"step"`
	Host   bool   `json:"host,omitempty"`
	// Back: issued by a return, from FromNode by From.
	Back       bool   `json:"back,omitempty"`
	From       string `json:"from,omitempty"`
	FromNode   string `json:"fromNode,omitempty"`
	CreateTime int64  `json:"createTime"`
	DecideTime int64  `json:"decideTime,omitempty"`
	Deadline   int64  `json:"deadline,omitempty"`
}

// TaskItem is one entry of a task list.
type TaskItem struct {
	// TaskID is the pending task (todo); NodeID/NodeName the task's node
	// or the instance's current node.
	TaskID         string `json:"taskId,omitempty"`
	NodeID         string `json:"nodeId,omitempty"`
	NodeName       string `json:"nodeName,omitempty"`
	InstanceID     string `json:"instanceId"`
	DataID         string `json:"dataId"`
	FormID         string `json:"formId"`
	AppID          string `json:"appId"`
	DefinitionName string `json:"definitionName"`
	Status         string `json:"status"`
	// Initiator is {id, value (code), label (name)}.
	Initiator  map[string]any `json:"initiator"`
	CreateTime int64          `json:"createTime"`
	UpdateTime int64          `json:"updateTime"`
	// The instance's definition, description, current step number and
	// start time.
	DefinitionID  string `json:"definitionId,omitempty"`
	DefinitionKey string `json:"definitionKey,omitempty"`
	Title         string `json:"title,omitempty"`
	Serial        string `json:"serial,omitempty"`
	Urgency       int64  `json:"urgency,omitempty"`
	Step          int64  `json:"step,omitempty"`
	StartTime     int64  `json:"startTime,omitempty"`
	// Task is the user's task the item is about (todo, overtime: the
	// pending one; else the user's latest; nil when none).
	Task *TaskInfo `json:"task,omitempty"`
	// Steps (TaskQuery.WithSteps) are every task of the instance.
	Steps []TaskInfo `json:"steps,omitempty"`
}

// TaskPage is one page of a task list; Total is -1 unless counted.
type TaskPage struct {
	Items []TaskItem `json:"items"`
	Total int64      `json:"total"`
}

// AliasRequest resolves (and allocates) aliases between external ids of a
// dialect namespace and hub ids of one entity kind, in batch.
type AliasRequest struct {
	// Namespace is the dialect's ("h3yun", "eoffice"); Kind the entity
	// kind ("user", "department", "form", "formdata", "wfinstance", …).
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	// ToHub are external ids to resolve; ToExt hub ids.
	ToHub []string `json:"toHub,omitempty"`
	ToExt []string `json:"toExt,omitempty"`
	// Allocate gives every ToExt id without an alias a new one: Prefix and
	// Width zero-padded digits of the namespace+kind sequence (e.g. "WV",
	// 8 → WV00000001). Needs a write scope.
	Allocate bool   `json:"allocate,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	Width    int    `json:"width,omitempty"`
}

// AliasResult maps what was found (or allocated); ids without an alias
// are absent.
type AliasResult struct {
	ToHub map[string]string `json:"toHub"`
	ToExt map[string]string `json:"toExt"`
}

// AliasIDs are the hub ids of a page a WithAliases read resolves, by kind:
// the records' ids, the users they name (createBy, updateBy, the expanded
// creator) and the departments (the creator's departmentId and expanded
// department). Host implementations share it.
func AliasIDs(items []Doc) map[string][]string {
	out := map[string][]string{}
	seen := make(map[[2]string]struct{}, 2*len(items)) // {kind, id}: no key built per id
	add := func(kind string, v any) {
		s, _ := v.(string)
		if s == "" {
			return
		}
		k := [2]string{kind, s}
		if _, ok := seen[k]; ok {
			return
		}
		seen[k] = struct{}{}
		out[kind] = append(out[kind], s)
	}
	ref := func(v any) any { m, _ := v.(map[string]any); return m["id"] }
	for _, d := range items {
		add(AliasKindRecord, d["id"])
		add(AliasKindUser, ref(d["createBy"]))
		add(AliasKindUser, ref(d["updateBy"]))
		if c, ok := d["creator"].(map[string]any); ok {
			add(AliasKindUser, c["id"])
			add(AliasKindDepartment, c["departmentId"])
			add(AliasKindDepartment, ref(c["department"]))
		}
	}
	return out
}
