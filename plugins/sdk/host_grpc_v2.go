package sdk

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/eimshub/eimshub/core/errs"
	pb "github.com/eimshub/eimshub/plugins/proto"
)

// The v2 Host calls on the wire (one round trip each).

// ---- plugin side ----

func (h *hostClient) entityRequest(p *Principal, entity, id string, o EntityOptions) *pb.EntityRequest {
	return &pb.EntityRequest{Principal: to.Principal(p), Entity: entity, Id: id, Count: o.Count, Expand: o.Expand, IfMatch: o.IfMatch}
}

func (h *hostClient) EntityFind(ctx context.Context, p *Principal, entity string, q Query, o EntityOptions) (Page, error) {
	pq, err := to.Query(q)
	if err != nil {
		return Page{}, err
	}
	r := h.entityRequest(p, entity, "", o)
	r.Query = pq
	return pageResult(h.c.EntityFind(ctx, r))
}

func (h *hostClient) EntityGet(ctx context.Context, p *Principal, entity, id string, o EntityOptions) (Doc, error) {
	return docResult(h.c.EntityGet(ctx, h.entityRequest(p, entity, id, o)))
}

func (h *hostClient) EntityCreate(ctx context.Context, p *Principal, entity string, body Doc) (Doc, error) {
	b, err := to.Doc(body)
	if err != nil {
		return nil, err
	}
	r := h.entityRequest(p, entity, "", EntityOptions{})
	r.Body = b
	return docResult(h.c.EntityCreate(ctx, r))
}

func (h *hostClient) EntityUpdate(ctx context.Context, p *Principal, entity, id string, body Doc, o EntityOptions) (Doc, error) {
	b, err := to.Doc(body)
	if err != nil {
		return nil, err
	}
	r := h.entityRequest(p, entity, id, o)
	r.Body = b
	return docResult(h.c.EntityUpdate(ctx, r))
}

func (h *hostClient) EntityDelete(ctx context.Context, p *Principal, entity, id string, o EntityOptions) error {
	return errResult(h.c.EntityDelete(ctx, h.entityRequest(p, entity, id, o)))
}

func (h *hostClient) WorkflowTasks(ctx context.Context, p *Principal, q TaskQuery) (TaskPage, error) {
	b, err := json.Marshal(q)
	if err != nil {
		return TaskPage{}, errs.Wrap(errs.Invalid, err, "encode task query")
	}
	res, err := h.c.WorkflowTasks(ctx, &pb.WorkflowTasksRequest{Principal: to.Principal(p), Query: b})
	if err != nil {
		return TaskPage{}, TransportError(err)
	}
	if res.Error != nil {
		return TaskPage{}, from.Error(res.Error)
	}
	out := TaskPage{Items: []TaskItem{}, Total: res.Total}
	if len(res.Items) > 0 {
		if err := json.Unmarshal(res.Items, &out.Items); err != nil {
			return TaskPage{}, errs.Wrap(errs.Internal, err, "decode task list")
		}
	}
	return out, nil
}

func (h *hostClient) WorkflowAct(ctx context.Context, p *Principal, a WorkflowAction) (*WorkflowResult, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "encode workflow action")
	}
	res, err := h.c.WorkflowAct(ctx, &pb.WorkflowActionRequest{Principal: to.Principal(p), Action: b})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	var out WorkflowResult
	if err := json.Unmarshal(res.Result, &out); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "decode workflow result")
	}
	return &out, nil
}

func (h *hostClient) Aliases(ctx context.Context, p *Principal, r AliasRequest) (*AliasResult, error) {
	res, err := h.c.Aliases(ctx, &pb.AliasRequest{Principal: to.Principal(p), Namespace: r.Namespace, Kind: r.Kind,
		ToHub: r.ToHub, ToExt: r.ToExt, Allocate: r.Allocate, Prefix: r.Prefix, Width: int32(r.Width)})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	out := &AliasResult{ToHub: res.ToHub, ToExt: res.ToExt}
	if out.ToHub == nil {
		out.ToHub = map[string]string{}
	}
	if out.ToExt == nil {
		out.ToExt = map[string]string{}
	}
	return out, nil
}

// ---- host side ----

func entityOptions(r *pb.EntityRequest) EntityOptions {
	return EntityOptions{Count: r.Count, Expand: r.Expand, IfMatch: r.IfMatch}
}

func (s *hostServer) EntityFind(ctx context.Context, r *pb.EntityRequest) (*pb.DocsResponse, error) {
	q, err := from.Query(r.Query)
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	return pageResponse(s.h.EntityFind(ctx, from.Principal(r.Principal), r.Entity, q, entityOptions(r)))
}

func (s *hostServer) EntityGet(ctx context.Context, r *pb.EntityRequest) (*pb.DocResponse, error) {
	return docResponse(s.h.EntityGet(ctx, from.Principal(r.Principal), r.Entity, r.Id, entityOptions(r)))
}

func (s *hostServer) EntityCreate(ctx context.Context, r *pb.EntityRequest) (*pb.DocResponse, error) {
	body, err := from.Doc(r.Body)
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	return docResponse(s.h.EntityCreate(ctx, from.Principal(r.Principal), r.Entity, body))
}

func (s *hostServer) EntityUpdate(ctx context.Context, r *pb.EntityRequest) (*pb.DocResponse, error) {
	body, err := from.Doc(r.Body)
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	return docResponse(s.h.EntityUpdate(ctx, from.Principal(r.Principal), r.Entity, r.Id, body, entityOptions(r)))
}

func (s *hostServer) EntityDelete(ctx context.Context, r *pb.EntityRequest) (*pb.ErrorResponse, error) {
	if err := s.h.EntityDelete(ctx, from.Principal(r.Principal), r.Entity, r.Id, entityOptions(r)); err != nil {
		return &pb.ErrorResponse{Error: hostErr(err)}, nil
	}
	return &pb.ErrorResponse{}, nil
}

func (s *hostServer) WorkflowTasks(ctx context.Context, r *pb.WorkflowTasksRequest) (*pb.WorkflowTasksResponse, error) {
	var q TaskQuery
	if err := strictJSON(r.Query, &q); err != nil {
		return &pb.WorkflowTasksResponse{Error: hostErr(err)}, nil
	}
	pg, err := s.h.WorkflowTasks(ctx, from.Principal(r.Principal), q)
	if err != nil {
		return &pb.WorkflowTasksResponse{Error: hostErr(err)}, nil
	}
	b, err := json.Marshal(pg.Items)
	if err != nil {
		return &pb.WorkflowTasksResponse{Error: hostErr(errs.Wrap(errs.Internal, err, "encode task list"))}, nil
	}
	return &pb.WorkflowTasksResponse{Items: b, Total: pg.Total}, nil
}

func (s *hostServer) WorkflowAct(ctx context.Context, r *pb.WorkflowActionRequest) (*pb.WorkflowActionResponse, error) {
	var a WorkflowAction
	if err := strictJSON(r.Action, &a); err != nil {
		return &pb.WorkflowActionResponse{Error: hostErr(err)}, nil
	}
	res, err := s.h.WorkflowAct(ctx, from.Principal(r.Principal), a)
	if err != nil {
		return &pb.WorkflowActionResponse{Error: hostErr(err)}, nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return &pb.WorkflowActionResponse{Error: hostErr(errs.Wrap(errs.Internal, err, "encode workflow result"))}, nil
	}
	return &pb.WorkflowActionResponse{Result: b}, nil
}

func (s *hostServer) Aliases(ctx context.Context, r *pb.AliasRequest) (*pb.AliasResponse, error) {
	res, err := s.h.Aliases(ctx, from.Principal(r.Principal), AliasRequest{Namespace: r.Namespace, Kind: r.Kind,
		ToHub: r.ToHub, ToExt: r.ToExt, Allocate: r.Allocate, Prefix: r.Prefix, Width: int(r.Width)})
	if err != nil {
		return &pb.AliasResponse{Error: hostErr(err)}, nil
	}
	return &pb.AliasResponse{ToHub: res.ToHub, ToExt: res.ToExt}, nil
}

// strictJSON decodes a request's JSON payload, refusing unknown fields.
func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Wrap(errs.Invalid, err, "malformed request payload")
	}
	return nil
}
