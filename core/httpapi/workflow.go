package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/workflow"
)

// Workflow is what the workflow routes need (implemented by *workflow.Engine).
type Workflow interface {
	Start(ctx context.Context, p *principal.Principal, req workflow.StartRequest) (*workflow.StartResult, error)
	Decide(ctx context.Context, p *principal.Principal, req workflow.DecideRequest) (*workflow.DecideResult, error)
	Transfer(ctx context.Context, p *principal.Principal, req workflow.TransferRequest) (*workflow.ActionResult, error)
	Withdraw(ctx context.Context, p *principal.Principal, req workflow.WithdrawRequest) (*workflow.ActionResult, error)
	Return(ctx context.Context, p *principal.Principal, req workflow.ReturnRequest) (*workflow.ActionResult, error)
	CC(ctx context.Context, p *principal.Principal, req workflow.CCRequest) (*workflow.ActionResult, error)
	Tasks(ctx context.Context, p *principal.Principal, q workflow.TaskQuery) (*workflow.TaskList, error)
}

var _ Workflow = (*workflow.Engine)(nil)

// bindWorkflowRoutes binds §4 under r (the /api/v1 group, behind bearer
// auth): start, approve, and the §4.3 extras submit, reject, transfer,
// withdraw; and what the Host API v2 offers connectors beyond them, so the
// native API can do everything a connector can (issue 11 #5): return, cc
// and the task lists GET /workflow/tasks/{todo|done|started|cc}. Routing is
// case-insensitive, so /Workflow/Submit is served too.
func bindWorkflowRoutes(r fiber.Router, w Workflow) {
	g := r.Group("/workflow")
	g.Post("/start", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, w != nil)
		if err != nil {
			return err
		}
		// {dataId} alone starts the record form's current definition (§12.9.2).
		req := workflow.StartRequest{
			DefinitionID: b.str("flowDefinitionId", "wfDefinitionId"),
			BusinessKey:  b.str("businessKey", "dataId"),
			Initiator:    b.str("initiator"),
			Variables:    b.obj("variables"),
		}
		if req.Version, err = b.int("version"); err != nil {
			return err
		}
		res, err := w.Start(c.UserContext(), p, req)
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	decide := func(fixed workflow.Action) fiber.Handler {
		return func(c *fiber.Ctx) error {
			p, b, err := actionCall(c, w != nil)
			if err != nil {
				return err
			}
			req := workflow.DecideRequest{
				InstanceID: b.str("processInstanceId", "wfInstanceId"),
				TaskID:     b.str("taskId"),
				DataID:     b.str("dataId", "businessKey"),
				NodeID:     b.str("wfNodeId", "nodeId"),
				Comment:    b.str("approvalComment", "comment"),
				Signature:  b.str("signature"),
				Approver:   b.str("approver"),
				Variables:  b.obj("variables"),
				Result:     fixed,
			}
			if fixed == "" {
				if req.Result, err = approvalResult(b); err != nil {
					return err
				}
			}
			res, err := w.Decide(c.UserContext(), p, req)
			if err != nil {
				if req.InstanceID == "" && req.TaskID == "" {
					return webApprovalError(err)
				}
				return err
			}
			return c.JSON(res)
		}
	}
	g.Post("/approve", decide(""))
	g.Post("/submit", decide(workflow.ActAgree))
	g.Post("/reject", decide(workflow.ActReject))
	g.Post("/transfer", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, w != nil)
		if err != nil {
			return err
		}
		req := workflow.TransferRequest{
			InstanceID: b.str("wfInstanceId", "processInstanceId"),
			DataID:     b.str("dataId", "businessKey"),
			NodeID:     b.str("wfNodeId", "nodeId"),
			TaskID:     b.str("taskId"),
			Comment:    b.str("comment", "approvalComment"),
			Actor:      b.str("approver"),
			Targets:    b.strs("targetEmployeeId", "transferIds"),
		}
		res, err := w.Transfer(c.UserContext(), p, req)
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	g.Post("/withdraw", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, w != nil)
		if err != nil {
			return err
		}
		res, err := w.Withdraw(c.UserContext(), p, workflow.WithdrawRequest{
			InstanceID: b.str("wfInstanceId", "processInstanceId"),
			DataID:     b.str("dataId", "businessKey"),
			Comment:    b.str("comment", "approvalComment"),
		})
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	g.Post("/return", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, w != nil)
		if err != nil {
			return err
		}
		res, err := w.Return(c.UserContext(), p, workflow.ReturnRequest{
			InstanceID: b.str("wfInstanceId", "processInstanceId"),
			DataID:     b.str("dataId", "businessKey"),
			NodeID:     b.str("wfNodeId", "nodeId"),
			TaskID:     b.str("taskId"),
			ToNode:     b.str("toNode", "targetNodeId"),
			Comment:    b.str("comment", "approvalComment"),
			Actor:      b.str("approver"),
		})
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	g.Post("/cc", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, w != nil)
		if err != nil {
			return err
		}
		res, err := w.CC(c.UserContext(), p, workflow.CCRequest{
			InstanceID: b.str("wfInstanceId", "processInstanceId"),
			DataID:     b.str("dataId", "businessKey"),
			Users:      b.strs("users", "ccEmployeeIds", "targetEmployeeId"),
			Comment:    b.str("comment", "approvalComment"),
		})
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
	g.Get("/tasks/:box", func(c *fiber.Ctx) error {
		if w == nil {
			return errs.Unavailablef("this service is not configured")
		}
		p, err := callerOf(c)
		if err != nil {
			return err
		}
		q, err := taskQuery(c)
		if err != nil {
			return err
		}
		countOnly := q.Limit == 0
		if countOnly {
			q.Limit = 1 // $top=0: the count alone
		}
		l, err := w.Tasks(c.UserContext(), p, q)
		if err != nil {
			return err
		}
		items := make([]map[string]any, 0, len(l.Items))
		if !countOnly {
			for _, it := range l.Items {
				items = append(items, taskItemJSON(it))
			}
		}
		out := map[string]any{"value": items}
		if q.Count {
			out["@odata.count"] = l.Total
		}
		return c.JSON(out)
	})
}

// taskOptions are the query parameters of GET /workflow/tasks/{box}
// (lower-case; any other $-option is invalid_query_option, other plain
// names are ignored as on the entity routes).
var taskOptions = map[string]bool{"$top": true, "$skip": true, "$count": true,
	"userid": true, "dataid": true, "wfinstanceid": true, "processinstanceid": true, "status": true}

// taskQuery reads the box from the path and the filters and paging from
// the query string ($top defaults to query.DefaultTop, at most
// query.MaxTop).
func taskQuery(c *fiber.Ctx) (workflow.TaskQuery, error) {
	opts := map[string]string{}
	var bad error
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		key := strings.ToLower(string(k))
		if bad != nil || !taskOptions[key] {
			if bad == nil && strings.HasPrefix(key, "$") {
				bad = errs.Invalidf("unknown query option %s", string(k)).WithReason("invalid_query_option").WithTarget(string(k))
			}
			return
		}
		if _, dup := opts[key]; dup {
			bad = errs.Invalidf("query parameter %s given twice", string(k)).WithReason("invalid_query_option").WithTarget(string(k))
			return
		}
		opts[key] = string(v)
	})
	if bad != nil {
		return workflow.TaskQuery{}, bad
	}
	limit, offset, err := query.ParsePaging(opts["$top"], opts["$skip"])
	if err != nil {
		return workflow.TaskQuery{}, err
	}
	var count bool
	switch strings.ToLower(opts["$count"]) {
	case "", "false":
	case "true":
		count = true
	default:
		return workflow.TaskQuery{}, errs.Invalidf("$count must be true or false").WithReason("invalid_query_option").WithTarget("$count")
	}
	inst := opts["wfinstanceid"]
	if inst == "" {
		inst = opts["processinstanceid"]
	}
	return workflow.TaskQuery{Box: workflow.Box(strings.ToLower(param(c, "box"))), UserID: opts["userid"],
		DataID: opts["dataid"], InstanceID: inst, Status: workflow.Status(opts["status"]),
		Limit: limit, Offset: offset, Count: count}, nil
}

// taskItemJSON is one task list entry as the native API shows it: the
// initiator as the Operator reference {id, value, label} records use.
func taskItemJSON(it workflow.TaskItem) map[string]any {
	m := map[string]any{"wfInstanceId": it.InstanceID, "dataId": it.DataID, "formId": it.FormID, "appId": it.AppID,
		"definitionName": it.DefinitionName, "status": it.Status,
		"initiator":  map[string]any{"id": it.Initiator.ID, "value": it.Initiator.Code, "label": it.Initiator.Name},
		"createTime": it.CreateTime, "updateTime": it.UpdateTime}
	if it.TaskID != "" {
		m["taskId"] = it.TaskID
	}
	if it.NodeID != "" {
		m["nodeId"], m["nodeName"] = it.NodeID, it.NodeName
	}
	return m
}

// approvalResult reads approvalResult (agree/approve/reject) or the
// original's numeric action (1 approve, 2 reject) (§4.2).
func approvalResult(b actionBody) (workflow.Action, error) {
	v := strings.ToLower(b.str("approvalResult", "action", "result"))
	switch v {
	case "agree", "approve", "approved", "1":
		return workflow.ActAgree, nil
	case "reject", "rejected", "deny", "2":
		return workflow.ActReject, nil
	case "":
		return "", errs.Invalidf("approvalResult is required (agree or reject)").WithTarget("approvalResult")
	}
	return "", errs.Invalidf("approvalResult must be agree or reject").WithTarget("approvalResult")
}

// actionBody is a JSON object body whose keys match case-insensitively
// (§1.2) and whose scalars may be sent as strings or numbers.
type actionBody map[string]any

// actionCall is the prologue of the action routes: the service, the caller
// and the decoded body.
func actionCall(c *fiber.Ctx, configured bool) (*principal.Principal, actionBody, error) {
	if !configured {
		return nil, nil, errs.Unavailablef("this service is not configured")
	}
	p, ok := principal.From(c.UserContext())
	if !ok {
		return nil, nil, errs.New(errs.Unauthorized, "a bearer access token is required")
	}
	b, err := decodeActionBody(c.Body())
	return p, b, err
}

func decodeActionBody(raw []byte) (actionBody, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return actionBody{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errs.Invalidf("the body must be a JSON object")
	}
	out := make(actionBody, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// str returns the first present key as a string (numbers are formatted).
func (b actionBody) str(keys ...string) string {
	for _, k := range keys {
		switch v := b[strings.ToLower(k)].(type) {
		case string:
			if v != "" {
				return v
			}
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			return strconv.FormatBool(v)
		}
	}
	return ""
}

// strs returns a string or an array of strings.
func (b actionBody) strs(keys ...string) []string {
	for _, k := range keys {
		switch v := b[strings.ToLower(k)].(type) {
		case string:
			if v != "" {
				return []string{v}
			}
		case []any:
			out := make([]string, 0, len(v))
			for _, x := range v {
				if s, ok := x.(string); ok && s != "" {
					out = append(out, s)
				}
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return nil
}

// int reads an integer sent as a number or a string ("" / absent = 0).
func (b actionBody) int(key string) (int64, error) {
	switch v := b[strings.ToLower(key)].(type) {
	case nil:
		return 0, nil
	case float64:
		if v == float64(int64(v)) {
			return int64(v), nil
		}
	case string:
		if v == "" {
			return 0, nil
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errs.Invalidf("%s must be an integer", key).WithTarget(key)
}

// obj returns an object value (a JSON string holding one is accepted).
func (b actionBody) obj(key string) map[string]any {
	switch v := b[strings.ToLower(key)].(type) {
	case map[string]any:
		return v
	case string:
		var m map[string]any
		if json.Unmarshal([]byte(v), &m) == nil {
			return m
		}
	}
	return nil
}

// has reports whether key is present (with any value).
func (b actionBody) has(key string) bool {
	_, ok := b[strings.ToLower(key)]
	return ok
}

// The EIMSNext web client's approval errors (spec §12.9.2): the client
// identifies the record alone ({dataId, action, comment}) and shows the
// envelope's message, which for these reasons is the original's text.
const (
	reasonApprovalNoData        = "approval_no_data"
	reasonApprovalNoPermission  = "approval_no_permission"
	reasonApprovalNotApprovable = "approval_not_approvable"
)

// webApprovalError gives a decision by record id the reason (and so the
// message) the original answers with: record or instance unknown (404),
// the caller has no pending task while others do (403), nothing pending
// or the instance finished (409). The English cause stays error.message.
func webApprovalError(err error) error {
	e := errs.As(err)
	var reason string
	switch e.Code {
	case errs.NotFound:
		reason = reasonApprovalNoData
	case errs.Forbidden:
		reason = reasonApprovalNoPermission
	case errs.Conflict:
		reason = reasonApprovalNotApprovable
	default:
		return err
	}
	out := *e
	out.Reason = reason
	return &out
}
