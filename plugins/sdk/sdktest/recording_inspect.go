package sdktest

import (
	"context"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

var _ sdk.WorkflowInspector = (*RecordingHost)(nil)

// WorkflowInspect implements sdk.WorkflowInspector (Inner must implement
// it too; replayed like every other call without Inner).
func (r *RecordingHost) WorkflowInspect(ctx context.Context, p *sdk.Principal, q sdk.InspectQuery) (*sdk.Inspection, error) {
	return do(r, "WorkflowInspect", args{"principal": p, "query": q}, func(h sdk.Host) (*sdk.Inspection, error) {
		wi, ok := h.(sdk.WorkflowInspector)
		if !ok {
			return nil, errs.New(errs.Unavailable, "the inner host cannot inspect workflow instances")
		}
		return wi.WorkflowInspect(ctx, p, q)
	})
}
