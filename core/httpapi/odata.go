package httpapi

import (
	"context"
	"mime"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// The OData routes (spec eims-native.md §1.1, §12.5–§12.7, §12.13) as the
// EIMSNext web client uses them: lists and counts by POST with the query
// options in a text/plain body, entities by key segment or ('key'), writes,
// batch delete; no default page size; enums as numeric strings; SystemMessage
// and WfTodo always the caller's own rows.

// The server mounts BindODataRoutes under /odata/v1 through odataBinder.
func init() { odataBinder = BindODataRoutes }

// maxQueryBody is the largest text/plain $query/$count body (§12.5.3 rule 2).
const maxQueryBody = 64 << 10

// batchDeleter is the batch delete of entities (implemented by *entity.Service).
type batchDeleter interface {
	DeleteMany(ctx context.Context, p *principal.Principal, name string, ids []string) error
}

// BindODataRoutes binds the OData routes under r (mounted at /odata/v1
// behind bearerAuth), §12.5.3:
//
//	POST   /{Set}/$query, /{Set}/$count   options in a text/plain body
//	GET    /{Set}, /{Set}/$count          options in the query string
//	GET    /{Set}/{id}, /{Set}('{id}')    one entity
//	POST   /{Set}                         create (200 + entity)
//	PUT, PATCH, DELETE /{Set}/{id} and /{Set}('{id}')
//	DELETE /{Set}/batch {"keys": [...]}   batch delete (one transaction)
//
// Set names, keywords and properties match case-insensitively.
func BindODataRoutes(r fiber.Router, d *Deps) {
	r.Post("/:set/$query", odataHandler(d, odataList, true))
	r.Post("/:set/$count", odataHandler(d, odataCount, true))
	r.Get("/:set/$count", odataHandler(d, odataCount, false))
	r.Delete("/:set/batch", odataHandler(d, odataBatchDelete, false))
	r.Get("/:set/:id", odataHandler(d, odataGet, false))
	r.Put("/:set/:id", odataHandler(d, odataUpdate, false))
	r.Patch("/:set/:id", odataHandler(d, odataUpdate, false))
	r.Delete("/:set/:id", odataHandler(d, odataDelete, false))
	// /{Set} and /{Set}('{id}'): the key form picks the entity routes.
	r.Get("/:set", odataHandler(d, odataListOrGet, false))
	r.Post("/:set", odataHandler(d, odataCreate, false))
	r.Put("/:set", odataHandler(d, odataKeyed(odataUpdate), false))
	r.Patch("/:set", odataHandler(d, odataKeyed(odataUpdate), false))
	r.Delete("/:set", odataHandler(d, odataKeyed(odataDelete), false))
}

// odataKey matches EntitySet('id') (and EntitySet(id)).
var odataKey = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\('?((?:[^']|'')*?)'?\)$`)

// odataCall is one OData request: the caller, the set, the key (if the
// path has one) and the query options.
type odataCall struct {
	c    *fiber.Ctx
	svc  Entities
	d    *Deps
	p    *principal.Principal
	ctx  context.Context
	set  string
	id   string
	opts map[string]string
}

type odataFunc func(o *odataCall) error

// odataHandler resolves the set (and a key in ('id') form), the caller
// and the options (from the URL and, when body, a text/plain body) and
// runs fn. Names of other route families are unknown sets here.
func odataHandler(d *Deps, fn odataFunc, body bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		set, err := url.PathUnescape(strings.Clone(c.Params("set")))
		if err != nil {
			return errs.NotFoundf("unknown entity set")
		}
		o := &odataCall{c: c, d: d, set: set}
		if m := odataKey.FindStringSubmatch(set); m != nil {
			o.set, o.id = m[1], strings.ReplaceAll(m[2], "''", "'")
		} else if c.Params("id") != "" {
			o.id = param(c, "id")
		}
		if otherFamily(o.set) {
			return errs.NotFoundf("unknown entity set %q", o.set).WithTarget(o.set)
		}
		if o.svc, err = entitiesOf(d); err != nil {
			return err
		}
		if o.p, err = callerOf(c); err != nil {
			return err
		}
		var extra []query.Option
		if body {
			if extra, err = textOptions(c); err != nil {
				return err
			}
		}
		if o.opts, err = queryOptions(c, extra); err != nil {
			return err
		}
		o.ctx = entity.WithOwnRows(c.UserContext())
		return fn(o)
	}
}

// textOptions reads the options of a $query/$count body (§12.5.3 rules
// 1–3): text/plain (any parameters), or no content type with an empty
// body; at most 64 KiB.
func textOptions(c *fiber.Ctx) ([]query.Option, error) {
	b := c.Body()
	ct := strings.TrimSpace(string(c.Request().Header.ContentType()))
	if ct == "" {
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, nil
		}
		return nil, errs.New(errs.UnsupportedMedia, "the body of $query and $count must be text/plain query options")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != fiber.MIMETextPlain {
		return nil, errs.New(errs.UnsupportedMedia, "the body of $query and $count must be text/plain query options")
	}
	if len(b) > maxQueryBody {
		return nil, errs.Newf(errs.TooLarge, "the query options are longer than %d bytes", maxQueryBody)
	}
	return query.SplitOptions(string(b)), nil
}

// listOptions are the options of a list; an absent $top is every match
// up to query.MaxTop (no default page size on /odata/v1, §12.5.3).
func (o *odataCall) listOptions() entity.ListOptions {
	opts := o.opts
	top := opts["$top"]
	if top == "" { // absent or empty
		top = strconv.Itoa(query.MaxTop)
	}
	return entity.ListOptions{Filter: opts["$filter"], OrderBy: opts["$orderby"], Select: opts["$select"],
		Expand: opts["$expand"], Top: top, Skip: opts["$skip"], Count: opts["$count"],
		FormID: opts["formid"], AppID: opts["appid"]}
}

// send answers one entity as OData writes it.
func (o *odataCall) send(v map[string]any) error {
	entity.ODataView(o.set, v)
	return o.c.JSON(v)
}

func odataList(o *odataCall) error {
	res, err := o.svc.List(o.ctx, o.p, o.set, o.listOptions())
	if err != nil {
		return err
	}
	for _, v := range res.Value {
		entity.ODataView(o.set, v)
	}
	return o.c.JSON(listBody(res))
}

func odataCount(o *odataCall) error {
	n, err := o.svc.Count(o.ctx, o.p, o.set, o.listOptions())
	if err != nil {
		return err
	}
	o.c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return o.c.SendString(strconv.FormatInt(n, 10))
}

func odataListOrGet(o *odataCall) error {
	if o.id != "" {
		return odataGet(o)
	}
	return odataList(o)
}

func odataGet(o *odataCall) error {
	out, err := o.svc.Get(o.ctx, o.p, o.set, o.id, o.opts["$select"], o.opts["$expand"])
	if err != nil {
		return err
	}
	return o.send(out)
}

// odataKeyed runs fn for /{Set}('{id}'); /{Set} alone has no such method
// (a batch PATCH of the original is not served: 405).
func odataKeyed(fn odataFunc) odataFunc {
	return func(o *odataCall) error {
		if o.id == "" {
			return errs.Newf(errs.MethodNotAllowed, "%s %s needs an entity key", o.c.Method(), o.set)
		}
		return fn(o)
	}
}

// body decodes a JSON object body and keeps the properties the set knows
// (§12.6: the original's other request properties are ignored).
func (o *odataCall) body() (map[string]any, error) {
	b, err := decodedBody(o.c)
	if err != nil {
		return nil, err
	}
	return entity.KnownProperties(o.set, b), nil
}

func odataCreate(o *odataCall) error {
	if o.id != "" {
		return errs.Newf(errs.MethodNotAllowed, "POST %s('%s'): create on the set itself", o.set, o.id)
	}
	b, err := o.body()
	if err != nil {
		return err
	}
	out, err := o.svc.Create(o.ctx, o.p, o.set, b)
	if err != nil {
		return err
	}
	return o.send(out)
}

func odataUpdate(o *odataCall) error {
	b, err := o.body()
	if err != nil {
		return err
	}
	out, err := o.svc.Update(o.ctx, o.p, o.set, o.id, b, o.c.Get(fiber.HeaderIfMatch))
	if err != nil {
		return err
	}
	return o.send(out)
}

func odataDelete(o *odataCall) error {
	if err := o.svc.Delete(o.ctx, o.p, o.set, o.id, o.c.Get(fiber.HeaderIfMatch)); err != nil {
		return err
	}
	return o.c.SendStatus(fiber.StatusNoContent)
}

func odataBatchDelete(o *odataCall) error {
	return batchDelete(o.c, o.ctx, o.d, o.p, o.set)
}

// entityBatchDeleteHandler serves DELETE /api/v1/{entity}/batch (§12.8).
func entityBatchDeleteHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := param(c, "entity")
		if otherFamily(name) {
			return c.Next()
		}
		p, err := callerOf(c)
		if err != nil {
			return err
		}
		return batchDelete(c, c.UserContext(), d, p, name)
	}
}

// batchDelete deletes the entities of {"keys": [id, …]} in one
// transaction: 204; no keys → 400 (the original's DeleteBatch).
func batchDelete(c *fiber.Ctx, ctx context.Context, d *Deps, p *principal.Principal, name string) error {
	var bd batchDeleter
	if d != nil {
		bd, _ = d.Entities.(batchDeleter)
	}
	if bd == nil {
		return errs.Unavailablef("entity service not configured")
	}
	var keys []string
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		req, err := decodedBody(c)
		if err != nil {
			return err
		}
		for k, v := range req {
			if !strings.EqualFold(k, "keys") || v == nil {
				continue
			}
			arr, ok := v.([]any)
			if !ok {
				return errs.Invalidf("keys must be an array of ids").WithTarget("keys")
			}
			for _, x := range arr {
				id, ok := x.(string)
				if !ok {
					return errs.Invalidf("keys must be an array of ids").WithTarget("keys")
				}
				keys = append(keys, id)
			}
		}
	}
	if err := bd.DeleteMany(ctx, p, name, keys); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
