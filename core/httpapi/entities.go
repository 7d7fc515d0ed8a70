package httpapi

import (
	"context"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/ids"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// Entities is what the entity routes need (implemented by *entity.Service).
type Entities interface {
	// List serves GET /{entity} (§6.1, §7).
	List(ctx context.Context, p *principal.Principal, name string, o entity.ListOptions) (*entity.ListResult, error)
	// Count serves GET /{entity}/$count.
	Count(ctx context.Context, p *principal.Principal, name string, o entity.ListOptions) (int64, error)
	// Get serves GET /{entity}/{id} with $select and $expand.
	Get(ctx context.Context, p *principal.Principal, name, id, sel, expand string) (map[string]any, error)
	// Create serves POST /{entity}.
	Create(ctx context.Context, p *principal.Principal, name string, body map[string]any) (map[string]any, error)
	// Update serves PUT and PATCH /{entity}/{id} (partial merge; ifMatch "" = none).
	Update(ctx context.Context, p *principal.Principal, name, id string, body map[string]any, ifMatch string) (map[string]any, error)
	// Delete serves DELETE /{entity}/{id} (soft delete).
	Delete(ctx context.Context, p *principal.Principal, name, id, ifMatch string) error
	// Query serves POST /{entity}/$query (DynamicFindOptions, §7.8).
	Query(ctx context.Context, p *principal.Principal, name, formID string, body []byte) (*entity.ListResult, error)
	// CountQuery serves POST /{entity}/$count with a filter body.
	CountQuery(ctx context.Context, p *principal.Principal, name, formID string, body []byte) (int64, error)
}

var _ Entities = (*entity.Service)(nil)

// bindEntityRoutes binds /api/v1/{entity}... under r (already behind
// bearerAuth). Bind it after the other /api/v1 families: its /:entity
// patterns would otherwise shadow them (names of other families are passed
// on with c.Next() all the same).
func bindEntityRoutes(r fiber.Router, d *Deps) {
	r.Get("/:entity/$count", entityCountHandler(d))
	r.Post("/:entity/$count", entityCountQueryHandler(d))
	r.Post("/:entity/$query", entityQueryHandler(d))
	r.Get("/:entity", entityListHandler(d))
	r.Post("/:entity", entityCreateHandler(d))
	// The web client's aliases and batch delete (§12.8), before /:entity/:id.
	r.Post("/:entity/dynamic/$count", entityCountQueryHandler(d))
	r.Post("/:entity/dynamic/$query", entityQueryHandler(d))
	r.Delete("/:entity/batch", entityBatchDeleteHandler(d))
	r.Get("/:entity/:id", entityGetHandler(d))
	r.Put("/:entity/:id", entityUpdateHandler(d))
	r.Patch("/:entity/:id", entityUpdateHandler(d))
	r.Delete("/:entity/:id", entityDeleteHandler(d))
}

type paramsKey struct{}

// serveWith runs h with route parameters given explicitly (the OData routes
// address entities with another syntax).
func serveWith(c *fiber.Ctx, h fiber.Handler, params map[string]string) error {
	c.Locals(paramsKey{}, params)
	return h(c)
}

// param returns a route parameter, path-unescaped; an "id" given in its
// GUID spelling (core/ids, as the H3Yun dialect shows ids) is the hub id.
func param(c *fiber.Ctx, name string) string {
	v := rawParam(c, name)
	if name == "id" {
		return ids.FromGUID(v)
	}
	return v
}

func rawParam(c *fiber.Ctx, name string) string {
	if m, ok := c.Locals(paramsKey{}).(map[string]string); ok {
		return m[name]
	}
	// c.Params is a view of fasthttp's reused buffer and PathUnescape
	// returns it unchanged when nothing is escaped: copy, since the value
	// travels into the services (ids, entity names, errors logged later).
	v := strings.Clone(c.Params(name))
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func entitiesOf(d *Deps) (Entities, error) {
	if d == nil || d.Entities == nil {
		return nil, errs.Unavailablef("entity service not configured")
	}
	return d.Entities, nil
}

func callerOf(c *fiber.Ctx) (*principal.Principal, error) {
	p, ok := principal.From(c.UserContext())
	if !ok {
		return nil, errs.New(errs.Unauthorized, "a bearer access token is required")
	}
	return p, nil
}

// otherFamily reports names the entity patterns must pass on to the other
// /api/v1 route families (workflow, upload, files, …).
func otherFamily(name string) bool {
	_, builtin := entity.Builtin(name)
	return !builtin && entity.Reserved(name)
}

// entityCall is the common prologue of the entity handlers.
type entityCall struct {
	svc  Entities
	p    *principal.Principal
	name string
	opts map[string]string // query parameters, lower-case names
}

// knownOptions are the $-options of §6.1/§7; any other → invalid_query_option.
var knownOptions = map[string]bool{"$filter": true, "$orderby": true, "$select": true,
	"$expand": true, "$top": true, "$skip": true, "$count": true}

// begin resolves the service, the principal and the query options; next is
// true when the request belongs to another route family.
func begin(c *fiber.Ctx, d *Deps) (*entityCall, bool, error) {
	name := param(c, "entity")
	if otherFamily(name) {
		return nil, true, nil
	}
	svc, err := entitiesOf(d)
	if err != nil {
		return nil, false, err
	}
	p, err := callerOf(c)
	if err != nil {
		return nil, false, err
	}
	opts, err := queryOptions(c, nil)
	if err != nil {
		return nil, false, err
	}
	return &entityCall{svc: svc, p: p, name: name, opts: opts}, false, nil
}

// queryOptions reads the URL's query parameters and then extra (a
// text/plain $query body, §12.5.3) into one map by lower-case name: an
// unknown $-option, or a $-option given twice (also once in each), is
// invalid_query_option; other parameters keep their first value.
func queryOptions(c *fiber.Ctx, extra []query.Option) (map[string]string, error) {
	opts := map[string]string{}
	var bad error
	add := func(k, v string) {
		key := strings.ToLower(k)
		if bad != nil {
			return
		}
		if strings.HasPrefix(key, "$") {
			if !knownOptions[key] {
				bad = errs.Invalidf("unknown query option %s", k).
					WithReason("invalid_query_option").WithTarget(k)
				return
			}
			if _, dup := opts[key]; dup {
				bad = errs.Invalidf("query option %s given twice", k).
					WithReason("invalid_query_option").WithTarget(k)
				return
			}
		}
		if _, dup := opts[key]; !dup {
			opts[key] = v
		}
	}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) { add(string(k), string(v)) })
	for _, o := range extra {
		add(o.Name, o.Value)
	}
	if bad != nil {
		return nil, bad
	}
	return opts, nil
}

func (e *entityCall) listOptions() entity.ListOptions {
	o := e.opts
	return entity.ListOptions{Filter: o["$filter"], OrderBy: o["$orderby"], Select: o["$select"],
		Expand: o["$expand"], Top: o["$top"], Skip: o["$skip"], Count: o["$count"],
		FormID: o["formid"], AppID: o["appid"]}
}

// jsonBody checks the content type (§1.2: 415 otherwise) and returns the body.
func jsonBody(c *fiber.Ctx) ([]byte, error) {
	ct := string(c.Request().Header.ContentType())
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
		return nil, errs.New(errs.UnsupportedMedia, "Content-Type must be application/json")
	}
	return c.Body(), nil
}

func decodedBody(c *fiber.Ctx) (map[string]any, error) {
	b, err := jsonBody(c)
	if err != nil {
		return nil, err
	}
	return entity.DecodeJSON(b)
}

func listBody(res *entity.ListResult) map[string]any {
	out := map[string]any{"value": res.Value}
	if res.Count != nil {
		out["@odata.count"] = *res.Count
	}
	return out
}

func entityListHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		res, err := e.svc.List(c.UserContext(), e.p, e.name, e.listOptions())
		if err != nil {
			return err
		}
		return c.JSON(listBody(res))
	}
}

func nextOr(c *fiber.Ctx, next bool, err error) error {
	if next {
		return c.Next()
	}
	return err
}

func entityCountHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		n, err := e.svc.Count(c.UserContext(), e.p, e.name, e.listOptions())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.SendString(strconv.FormatInt(n, 10))
	}
}

func entityCountQueryHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		var body []byte
		if len(c.Body()) > 0 {
			if body, err = jsonBody(c); err != nil {
				return err
			}
		}
		n, err := e.svc.CountQuery(c.UserContext(), e.p, e.name, e.opts["formid"], body)
		if err != nil {
			return err
		}
		return c.JSON(n)
	}
}

func entityQueryHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		body, err := jsonBody(c)
		if err != nil {
			return err
		}
		res, err := e.svc.Query(c.UserContext(), e.p, e.name, e.opts["formid"], body)
		if err != nil {
			return err
		}
		return c.JSON(listBody(res))
	}
}

func entityCreateHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		body, err := decodedBody(c)
		if err != nil {
			return err
		}
		out, err := e.svc.Create(c.UserContext(), e.p, e.name, body)
		if err != nil {
			return err
		}
		if id, ok := out["id"].(string); ok {
			c.Set(fiber.HeaderLocation, strings.TrimSuffix(c.Path(), "/")+"/"+url.PathEscape(id))
		}
		return c.JSON(out)
	}
}

func entityGetHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		out, err := e.svc.Get(c.UserContext(), e.p, e.name, param(c, "id"), e.opts["$select"], e.opts["$expand"])
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}

func entityUpdateHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		body, err := decodedBody(c)
		if err != nil {
			return err
		}
		out, err := e.svc.Update(c.UserContext(), e.p, e.name, param(c, "id"), body, c.Get(fiber.HeaderIfMatch))
		if err != nil {
			return err
		}
		return c.JSON(out)
	}
}

func entityDeleteHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		e, next, err := begin(c, d)
		if next || err != nil {
			return nextOr(c, next, err)
		}
		if err := e.svc.Delete(c.UserContext(), e.p, e.name, param(c, "id"), c.Get(fiber.HeaderIfMatch)); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
