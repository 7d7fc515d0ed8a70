package h3yun

import (
	"context"
	"errors"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Custom controllers (spec §4.7): tenants of the real product write C#
// controllers called through /OpenApi/Invoke with Controller and AppCode.
// The hub routes the triple (AppCode, Controller, ActionName) to a dataflow
// of the engine's tenant (native spec §5): the dataflow gets the call's
// other keys as its input and its output becomes ReturnData. A failed run
// is Successful:false with the run's error as ErrorMessage.

// controllerRoute is one entry of the connector's `controllers` config.
type controllerRoute struct {
	// AppCode matches the call's AppCode; "" matches any.
	AppCode string `json:"appCode"`
	// Controller and Action match Controller and ActionName
	// (case-insensitively, as the product's routing does).
	Controller string `json:"controller"`
	Action     string `json:"action"`
	// Dataflow is the dataflow definition key (or id) to run.
	Dataflow string `json:"dataflow"`
}

var reservedActions = []string{actionLoad, actionLoadMany, actionCreate, actionCreateMany, actionUpdate, actionRemove}

func (r controllerRoute) check() error {
	switch {
	case strings.TrimSpace(r.Controller) == "":
		return errors.New("controller is required")
	case strings.TrimSpace(r.Action) == "":
		return errors.New("action is required")
	case strings.TrimSpace(r.Dataflow) == "":
		return errors.New("dataflow is required")
	}
	for _, a := range reservedActions {
		if strings.EqualFold(a, strings.TrimSpace(r.Action)) {
			return errors.New("action " + a + " is reserved")
		}
	}
	return nil
}

func (r controllerRoute) matches(app, controller, action string) bool {
	return (r.AppCode == "" || strings.EqualFold(r.AppCode, app)) &&
		strings.EqualFold(strings.TrimSpace(r.Controller), controller) && strings.EqualFold(strings.TrimSpace(r.Action), action)
}

// controllerKeys are the Invoke keys that address the controller; every
// other key is an argument.
var controllerKeys = []string{"ActionName", "Controller", "AppCode"}

// custom serves a custom controller call.
func (k *call) custom(ctx context.Context) (*sdk.Response, error) {
	controller, app := strings.TrimSpace(k.in.Controller), strings.TrimSpace(k.in.AppCode)
	name := k.in.ActionName
	if controller != "" {
		name = controller + "/" + name
	}
	var route *controllerRoute
	for i := range k.cfg.Controllers {
		if k.cfg.Controllers[i].matches(app, controller, k.in.ActionName) {
			route = &k.cfg.Controllers[i]
			break
		}
	}
	if controller == "" || route == nil {
		return nil, fail(reasonAction, name)
	}
	// The body was checked by decodeJSON (depth, one object); decode it
	// with the Host API's number convention (integral → int64) so a
	// dataflow sees the same input in process and out of process.
	args, err := sdk.FromProto().Doc(k.body)
	if err != nil || args == nil {
		return nil, fail(reasonFormat, "请求内容不是合法的 JSON 对象")
	}
	for key := range args {
		for _, c := range controllerKeys {
			if strings.EqualFold(key, c) {
				delete(args, key)
			}
		}
	}
	res, err := k.host.RunDataflow(ctx, k.p, route.Dataflow, args)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			k.log.Warn("h3yun: a controller route names a dataflow the tenant does not have", "controller", name, "dataflow", route.Dataflow)
			return nil, fail(reasonAction, name)
		}
		return nil, fromHost(err, nil)
	}
	if res.Status != "succeeded" {
		return nil, fail(reasonController, res.ErrMsg)
	}
	switch out := res.Output.(type) {
	case map[string]any:
		return success(out)
	case nil:
		return success(map[string]any{})
	default:
		return success(map[string]any{"Result": out})
	}
}
