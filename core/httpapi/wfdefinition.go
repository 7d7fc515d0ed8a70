package httpapi

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
)

// WfDefinitions is what the workflow-definition version routes need
// (implemented by *entity.Service; the server finds it on Deps.Entities).
type WfDefinitions interface {
	// CreateVersion copies definition id as its workflow's next version.
	CreateVersion(ctx context.Context, p *principal.Principal, id string) (map[string]any, error)
	// ActivateDefinition makes definition id its workflow's current, released version.
	ActivateDefinition(ctx context.Context, p *principal.Principal, id string) (map[string]any, error)
}

var _ WfDefinitions = (*entity.Service)(nil)

// bindWfDefinitionRoutes binds the web client's version actions (spec
// §12.11) under r (the /api/v1 group, behind bearer auth), before the
// entity routes: POST /WfDefinition/CreateVersion and
// POST /WfDefinition/Activate, both with the body {"id": "<definition id>"},
// both answering the definition (enums as numbers, like every /api/v1
// answer). Routing is case-insensitive.
func bindWfDefinitionRoutes(r fiber.Router, d *Deps) {
	action := func(run func(WfDefinitions, context.Context, *principal.Principal, string) (map[string]any, error)) fiber.Handler {
		return func(c *fiber.Ctx) error {
			w, ok := d.Entities.(WfDefinitions)
			if !ok || d.Entities == nil {
				return errs.Unavailablef("workflow definitions are not configured")
			}
			p, err := callerOf(c)
			if err != nil {
				return err
			}
			body, err := decodedBody(c)
			if err != nil {
				return err
			}
			id, isStr := body["id"].(string)
			if !isStr && body["id"] != nil {
				return errs.Invalidf("id must be a string").WithReason("invalid_request").WithTarget("id")
			}
			out, err := run(w, c.UserContext(), p, id)
			if err != nil {
				return err
			}
			return c.JSON(out)
		}
	}
	r.Post("/wfdefinition/createversion", action(WfDefinitions.CreateVersion))
	r.Post("/wfdefinition/activate", action(WfDefinitions.ActivateDefinition))
}
