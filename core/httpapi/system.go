package httpapi

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
)

// The /api/v1/system controller of the EIMSNext web client (spec
// eims-native.md §12.4): the session bootstrap reads the current user, and
// a user who is not an app administrator asks which menus of an app it may
// open. Both answer bare JSON (no envelope), camelCase, empty values
// omitted, as the original's SystemController.

// userType flags of §12.4.1 (the original's UserType; D-12.4: 8 is never
// assigned).
const (
	userTypeCorpOwner = 4
	userTypeEmployee  = 64
	userTypeDisabled  = 65536
)

// Menu types of app menus (§12.13: 0 form, 1 dashboard, 2 group).
const (
	menuTypeForm      = 0
	menuTypeDashboard = 1
)

// bindSystemRoutes binds /system/currentuser and /system/AppMenuPerms under
// r (the /api/v1 group, behind bearer auth; routing ignores case). Bind it
// before the entity routes ("system" is a reserved entity name, §12.7).
func bindSystemRoutes(r fiber.Router, d *Deps) {
	r.Get("/system/currentuser", currentUserHandler(d))
	r.Get("/system/AppMenuPerms", appMenuPermsHandler(d))
}

// currentUserHandler serves GET /api/v1/system/currentuser (§12.4.1): the
// token's user as the web client's user model. userType is 4 for a tenant
// administrator, 64 for any other active user and 65536 for a disabled
// one; a client token without a user answers from the token alone.
func currentUserHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := callerOf(c)
		if err != nil {
			return err
		}
		ents, err := entitiesOf(d)
		if err != nil {
			return err
		}
		var doc map[string]any
		if p.UserID != "" {
			doc, err = ents.Get(c.UserContext(), p, "user", p.UserID, "", "")
			if err != nil && errs.CodeOf(err) != errs.NotFound {
				return err
			}
		}
		out := map[string]any{}
		put := func(k, v string) {
			if v != "" {
				out[k] = v
			}
		}
		str := func(k string) string { s, _ := doc[k].(string); return s }
		userName := str("userName")
		if userName == "" {
			userName = p.Login
		}
		put("userId", p.UserID)
		put("userName", userName)
		put("phone", str("workPhone"))
		put("email", str("workEmail"))
		put("empId", p.UserID)
		put("empCode", firstNonEmpty(str("code"), p.UserCode))
		put("empName", firstNonEmpty(str("empName"), p.DisplayName))
		put("corpId", p.Tenant)
		put("deptId", str("departmentId"))
		userType := userTypeEmployee
		switch {
		case doc != nil && userDisabled(doc["status"]):
			userType = userTypeDisabled
		case p.IsAdmin():
			userType = userTypeCorpOwner
		}
		out["userType"] = userType
		roles := userRoleCodes(doc)
		if doc == nil {
			roles = append([]string{}, p.Roles...)
		}
		if p.UserID != "" || len(roles) > 0 {
			out["roles"] = roles
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(out)
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// userDisabled reads a user's status (1 or "disabled", §6.2).
func userDisabled(v any) bool {
	switch x := v.(type) {
	case int64:
		return x == 1
	case float64:
		return x == 1
	case int:
		return x == 1
	case string:
		return x == "1" || strings.EqualFold(x, "disabled")
	}
	return false
}

// userRoleCodes are the role codes of a user document's roles (never nil).
func userRoleCodes(doc map[string]any) []string {
	out := []string{}
	rs, _ := doc["roles"].([]any)
	for _, r := range rs {
		if m, ok := r.(map[string]any); ok {
			if code, _ := m["roleCode"].(string); code != "" {
				out = append(out, code)
			}
		}
	}
	return out
}

// maxMenuForms bounds the forms AppMenuPerms reads for one app.
const maxMenuForms = 20 * query.MaxTop

// appMenuPermsHandler serves GET /api/v1/system/AppMenuPerms?appId=… (§12.4.2,
// D-12.3): [{"id": <form id>, "type": 0}, …, {"id": <dashboard id>, "type": 1}]
// — every form of the app the caller may read records of (every form while
// the hub has no permission groups) and the app's dashboard menus; [] when
// the app is unknown or outside the caller's app list (§12.9.1).
func appMenuPermsHandler(d *Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := callerOf(c)
		if err != nil {
			return err
		}
		ents, err := entitiesOf(d)
		if err != nil {
			return err
		}
		appID := queryFold(c, "appId")
		if appID == "" {
			return errs.Invalidf("appId is required").WithReason("invalid_query_option").WithTarget("appId")
		}
		ctx := c.UserContext()
		lit := "'" + strings.ReplaceAll(appID, "'", "''") + "'"
		apps, err := ents.List(ctx, p, "app", entity.ListOptions{Filter: "id eq " + lit, Top: "1"})
		if err != nil {
			return err
		}
		out := []fiber.Map{}
		if len(apps.Value) == 0 {
			return c.JSON(out)
		}
		top := query.MaxTop
		for skip := 0; skip < maxMenuForms; skip += top {
			page, err := ents.List(ctx, p, "form", entity.ListOptions{Filter: "appId eq " + lit, Select: "id",
				OrderBy: "createTime asc", Top: strconv.Itoa(top), Skip: strconv.Itoa(skip)})
			if err != nil {
				return err
			}
			for _, f := range page.Value {
				if id, _ := f["id"].(string); id != "" {
					out = append(out, fiber.Map{"id": id, "type": menuTypeForm})
				}
			}
			if len(page.Value) < top {
				break
			}
		}
		// Dashboards: the app's menus of type 1 (the hub keeps dashboards
		// only as menu entries; every user may open them, as the original).
		menus, _ := apps.Value[0]["appMenus"].([]any)
		for _, m := range menus {
			mm, _ := m.(map[string]any)
			if id, _ := mm["menuId"].(string); id != "" && menuTypeOf(mm["menuType"]) == menuTypeDashboard {
				out = append(out, fiber.Map{"id": id, "type": menuTypeDashboard})
			}
		}
		return c.JSON(out)
	}
}

// menuTypeOf reads a menu type written as a number or a numeric string (-1 otherwise).
func menuTypeOf(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(x)
	case int:
		return x
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
			return n
		}
	}
	return -1
}

// queryFold returns the query parameter named name in any case (ASP.NET
// binds parameters case-insensitively; the client writes appId).
func queryFold(c *fiber.Ctx, name string) string {
	var v string
	c.Context().QueryArgs().VisitAll(func(k, val []byte) {
		if v == "" && strings.EqualFold(string(k), name) {
			v = string(val)
		}
	})
	return strings.TrimSpace(v)
}
