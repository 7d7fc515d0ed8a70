package sdk

import (
	"context"
	"encoding/json"

	"github.com/eimshub/eimshub/core/errs"
	pb "github.com/eimshub/eimshub/plugins/proto"
)

var (
	_ WorkflowInspector = (*hostClient)(nil)
)

// WorkflowInspect implements WorkflowInspector over gRPC.
func (h *hostClient) WorkflowInspect(ctx context.Context, p *Principal, q InspectQuery) (*Inspection, error) {
	b, err := json.Marshal(q)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "encode inspect query")
	}
	res, err := h.c.WorkflowInspect(ctx, &pb.WorkflowInspectRequest{Principal: to.Principal(p), Query: b})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	var out Inspection
	if err := json.Unmarshal(res.Result, &out); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "decode inspection")
	}
	return &out, nil
}

// WorkflowInspect serves WorkflowInspector to the plugin (Unavailable when
// the host does not implement it).
func (s *hostServer) WorkflowInspect(ctx context.Context, r *pb.WorkflowInspectRequest) (*pb.WorkflowInspectResponse, error) {
	wi, ok := s.h.(WorkflowInspector)
	if !ok {
		return &pb.WorkflowInspectResponse{Error: hostErr(errs.New(errs.Unavailable, "this host cannot inspect workflow instances"))}, nil
	}
	var q InspectQuery
	if err := strictJSON(r.Query, &q); err != nil {
		return &pb.WorkflowInspectResponse{Error: hostErr(err)}, nil
	}
	res, err := wi.WorkflowInspect(ctx, from.Principal(r.Principal), q)
	if err != nil {
		return &pb.WorkflowInspectResponse{Error: hostErr(err)}, nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return &pb.WorkflowInspectResponse{Error: hostErr(errs.Wrap(errs.Internal, err, "encode inspection"))}, nil
	}
	return &pb.WorkflowInspectResponse{Result: b}, nil
}
