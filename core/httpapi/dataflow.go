package httpapi

import (
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// Dataflow is what the dataflow route needs (implemented by *dataflow.Engine).
type Dataflow interface {
	Run(ctx context.Context, p *principal.Principal, req dataflow.RunRequest) (*dataflow.RunResult, error)
}

var _ Dataflow = (*dataflow.Engine)(nil)

// bindDataflowRoutes binds POST /dataflow/run (§5.1) under r (the /api/v1
// group, behind bearer auth). A failed run answers 200 with status
// "failed" (§10 item 15); unknown definition 404, invalid input 400.
func bindDataflowRoutes(r fiber.Router, df Dataflow) {
	r.Post("/dataflow/run", func(c *fiber.Ctx) error {
		p, b, err := actionCall(c, df != nil)
		if err != nil {
			return err
		}
		if b.has("eventType") || (b.has("dataId") && !b.has("dataFlowDefinitionId")) {
			return errs.Invalidf("event-triggered dataflow runs (dataId, eventType) are not supported; pass dataFlowDefinitionId and inputData").
				WithTarget("dataFlowDefinitionId")
		}
		req := dataflow.RunRequest{
			DefinitionID: b.str("dataFlowDefinitionId", "dataflowDefinitionId", "dfDefinitionId"),
			Operator:     b.str("operator"),
		}
		switch v := b["inputdata"].(type) {
		case map[string]any:
			req.Input = v
		case string: // a JSON string holding the object
			if json.Unmarshal([]byte(v), &req.Input) != nil || req.Input == nil {
				return errs.Invalidf("inputData must be a JSON object").WithTarget("inputData")
			}
		case nil:
		default:
			return errs.Invalidf("inputData must be a JSON object").WithTarget("inputData")
		}
		res, err := df.Run(c.UserContext(), p, req)
		if err != nil {
			return err
		}
		return c.JSON(res)
	})
}
