package sdktest

import (
	"context"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// RecordingHost's Host API v2 calls.

// EntityFind implements sdk.Host.
func (r *RecordingHost) EntityFind(ctx context.Context, p *sdk.Principal, entity string, q sdk.Query, o sdk.EntityOptions) (sdk.Page, error) {
	return do(r, "EntityFind", args{"principal": p, "entity": entity, "query": queryJSON(q), "options": o}, func(h sdk.Host) (sdk.Page, error) {
		return h.EntityFind(ctx, p, entity, q, o)
	})
}

// EntityGet implements sdk.Host.
func (r *RecordingHost) EntityGet(ctx context.Context, p *sdk.Principal, entity, id string, o sdk.EntityOptions) (sdk.Doc, error) {
	return do(r, "EntityGet", args{"principal": p, "entity": entity, "id": id, "options": o}, func(h sdk.Host) (sdk.Doc, error) {
		return h.EntityGet(ctx, p, entity, id, o)
	})
}

// EntityCreate implements sdk.Host.
func (r *RecordingHost) EntityCreate(ctx context.Context, p *sdk.Principal, entity string, body sdk.Doc) (sdk.Doc, error) {
	return do(r, "EntityCreate", args{"principal": p, "entity": entity, "body": body}, func(h sdk.Host) (sdk.Doc, error) {
		return h.EntityCreate(ctx, p, entity, body)
	})
}

// EntityUpdate implements sdk.Host.
func (r *RecordingHost) EntityUpdate(ctx context.Context, p *sdk.Principal, entity, id string, body sdk.Doc, o sdk.EntityOptions) (sdk.Doc, error) {
	return do(r, "EntityUpdate", args{"principal": p, "entity": entity, "id": id, "body": body, "options": o}, func(h sdk.Host) (sdk.Doc, error) {
		return h.EntityUpdate(ctx, p, entity, id, body, o)
	})
}

// EntityDelete implements sdk.Host.
func (r *RecordingHost) EntityDelete(ctx context.Context, p *sdk.Principal, entity, id string, o sdk.EntityOptions) error {
	_, err := do(r, "EntityDelete", args{"principal": p, "entity": entity, "id": id, "options": o}, func(h sdk.Host) (any, error) {
		return nil, h.EntityDelete(ctx, p, entity, id, o)
	})
	return err
}

// WorkflowTasks implements sdk.Host.
func (r *RecordingHost) WorkflowTasks(ctx context.Context, p *sdk.Principal, q sdk.TaskQuery) (sdk.TaskPage, error) {
	return do(r, "WorkflowTasks", args{"principal": p, "query": q}, func(h sdk.Host) (sdk.TaskPage, error) {
		return h.WorkflowTasks(ctx, p, q)
	})
}

// WorkflowAct implements sdk.Host.
func (r *RecordingHost) WorkflowAct(ctx context.Context, p *sdk.Principal, a sdk.WorkflowAction) (*sdk.WorkflowResult, error) {
	return do(r, "WorkflowAct", args{"principal": p, "action": a}, func(h sdk.Host) (*sdk.WorkflowResult, error) {
		return h.WorkflowAct(ctx, p, a)
	})
}

// Aliases implements sdk.Host.
func (r *RecordingHost) Aliases(ctx context.Context, p *sdk.Principal, req sdk.AliasRequest) (*sdk.AliasResult, error) {
	return do(r, "Aliases", args{"principal": p, "request": req}, func(h sdk.Host) (*sdk.AliasResult, error) {
		return h.Aliases(ctx, p, req)
	})
}
