package eoffice

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Token routes (spec §2): open-api/get-token, open-api/refresh-token and
// auth/login-info/refresh.

func registerTokenRoutes(r *Router) {
	r.AddPublic(http.MethodPost, "open-api/get-token", getToken)
	r.AddPublic(http.MethodPost, "open-api/refresh-token", refreshToken)
	r.Add(http.MethodGet, "auth/login-info/refresh", loginInfo)
	r.AddPublic(http.MethodGet, "auth/refresh", legacyRefresh)
}

// legacyRefresh serves the legacy GET auth/refresh (§5.1): token (or
// api_token) and refresh_token; data is the new token string; every
// failure is HTTP 401 (0x003070 when a parameter is missing).
func legacyRefresh(ctx context.Context, c *Call) (any, error) {
	tok := c.In.Str("token")
	if tok == "" {
		tok = c.In.Str("api_token")
	}
	rt := c.In.Str("refresh_token")
	if tok == "" || rt == "" {
		return nil, Fail("0x003070")
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	t, err := ts.RefreshDialectToken(ctx, TokenSpec, tok, rt)
	if err != nil {
		if sdk.CodeOf(err) == sdk.Unauthorized {
			return nil, &Error{Code: CodeSessionExpired, Err: err}
		}
		return nil, FromHost(err, nil)
	}
	return t.Token, nil
}

// userFields maps an app's user identification field to the hub user
// column it is matched against ("" = the e-office user id, an alias).
var userFields = map[string]string{"user_accounts": "userName", "user_id": "", "user_job_number": "code", "phone_number": "workPhone"}

// getToken serves POST open-api/get-token (§2.2): checks in the spec's
// order, every answer HTTP 200.
func getToken(ctx context.Context, c *Call) (any, error) {
	agent, secret, user := c.In["agent_id"], c.In["secret"], c.In["user"]
	if Empty(agent) || Empty(secret) || Empty(user) {
		return nil, Fail("0x500001")
	}
	app := c.Cfg.app(ToStr(agent))
	if app == nil {
		return nil, Fail("0x500002")
	}
	cp, err := c.Host.VerifyClient(ctx, app.Client, ToStr(secret))
	if err != nil {
		if sdk.CodeOf(err) == sdk.Unauthorized {
			return nil, &Error{Code: "0x500002", Err: err}
		}
		return nil, FromHost(err, nil)
	}
	uid, err := findTokenUser(ctx, c, cp, app.UserField, ToStr(user))
	if err != nil {
		return nil, err
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	t, err := ts.IssueDialectToken(ctx, cp, uid, TokenSpec, map[string]string{attrLocale: LangZH})
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, &Error{Code: CodeNoUser, Err: err}
		}
		return nil, &Error{Code: "0x500003", Err: err}
	}
	return Obj{{"token", t.Token}, {"user", user}, {"refresh_token", t.RefreshToken}, {"agent_id", agent},
		{"expired_in", TokenSpec.AccessTTL}, {"refresh_token_expired_in", TokenSpec.RefreshTTL}}, nil
}

// findTokenUser finds the active user whose identification field is v,
// acting as the app's client; 0x003009 when there is none.
func findTokenUser(ctx context.Context, c *Call, cp *sdk.Principal, field, v string) (string, error) {
	col := userFields[field]
	if col == "" {
		hub, err := hubIDs(ctx, c.Host, cp, kindUser, []string{v})
		if err != nil {
			return "", err
		}
		if hub[v] == "" {
			return "", Fail(CodeNoUser)
		}
		col, v = "id", hub[v]
	}
	pg, err := c.Host.FindUsers(ctx, cp, sdk.Query{Filter: sdk.AndOf(
		sdk.Cmp{Path: sdk.Path{col}, Op: sdk.Eq, Value: v},
		sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)}), Limit: 2}, false)
	if err != nil {
		return "", FromHost(err, nil)
	}
	if len(pg.Items) != 1 {
		return "", Fail(CodeNoUser)
	}
	id, _ := pg.Items[0]["id"].(string)
	return id, nil
}

// refreshToken serves POST open-api/refresh-token (§2.3).
func refreshToken(ctx context.Context, c *Call) (any, error) {
	tok, rt := c.In.Str("token"), c.In.Str("refresh_token")
	if tok == "" || rt == "" {
		return nil, Fail("0x500003")
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	t, err := ts.RefreshDialectToken(ctx, TokenSpec, tok, rt)
	if err != nil {
		e := sdk.AsError(err)
		switch {
		case e.Code == sdk.Unauthorized && e.Reason == sdk.ReasonRefreshForeign:
			return nil, &Error{Code: "0x500003", Err: err}
		case e.Code == sdk.Unauthorized:
			return nil, &Error{Code: CodeSessionExpired, Status: http.StatusOK, Err: err}
		}
		return nil, FromHost(err, nil)
	}
	c.Lang = NormLang(t.Attrs[attrLocale])
	return Obj{{"token", t.Token}, {"expired_in", TokenSpec.AccessTTL}}, nil
}

// loginInfo serves GET auth/login-info/refresh (§2.4): re-arms the
// token, re-binds its language, and with refresh_new_token=true issues a
// new pair.
func loginInfo(ctx context.Context, c *Call) (any, error) {
	renew := false
	switch v := c.In["refresh_new_token"].(type) {
	case string:
		renew = v == "true"
	case bool:
		renew = v
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	t, err := ts.TouchDialectToken(ctx, TokenSpec, c.Token.Token, map[string]string{attrLocale: LangZH}, renew)
	if err != nil {
		return nil, tokenError(err)
	}
	d, err := loadDirectory(ctx, c)
	if err != nil {
		return nil, err
	}
	u, err := c.Host.FindUsers(ctx, c.P, sdk.Query{Filter: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: c.P.UserID}, Limit: 1}, false)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	if len(u.Items) == 0 {
		return nil, Fail(CodeSessionExpired)
	}
	if err := d.prepareUsers(ctx, c, u.Items); err != nil {
		return nil, err
	}
	now := time.Now().In(c.Cfg.loc)
	cur := d.currentUser(u.Items[0], now)
	empty := ""
	return Obj{
		{"mobile_token_ttl", TokenSpec.AccessTTL / 60},
		{"current_user", cur},
		{"company_name", c.Cfg.CompanyName},
		{"portal_menus", []any{}},
		{"last_login_time", now.Format(dateTime)},
		{"locale", LangZH},
		{"im_config", Obj{{"IM_PORT", empty}, {"IM_HOST", empty}, {"IM_ENCRYPT_KEY", empty}, {"IM_PORT_HTTPS", empty},
			{"PROTOCOL", empty}, {"IM_PORT_INTERNAL", empty}, {"CASE_PLATFORM", empty}, {"SOCKET_CONFIG", empty}, {"IM_ENABLE", empty}}},
		{"system_info", map[string]any{}},
		{"version", "10.0-eimshub-" + Version},
		{"request_time", strconv.FormatInt(time.Now().UnixMilli(), 10)},
		{"client_url", "/eoffice10/client/web#"},
		{"mobile_url", "/eoffice10/client/mobile/"},
		{"can_use_eassistant", 0},
		{"access_path", "access"},
		{"menus", map[string]any{}},
		{"empower_module", []any{}},
		{"token", t.Token},
		{"refresh_token", t.RefreshToken},
	}, nil
}

// dateTime is e-office's DATETIME rendering.
const dateTime = "2006-01-02 15:04:05"
