package dabei

import (
	"context"
	"slices"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// The acting user (spec 1.3) and the own-IdP SSO codes (spec 2).

// CodeSpec is the SSO code: 32 lower-case hex, valid 300 s, redeemable
// any number of times within its lifetime (spec 2.1, 2.2, 11.10).
var CodeSpec = sdk.DialectTokenSpec{Namespace: aliasNS, Length: 32, AccessTTL: 300, IdleTTL: 300, RefreshTTL: 300, Grace: 0}

// findUser finds one active user of the caller's tenant by a directory
// column ("id", "userName", "workPhone"); nil when there is none (or more
// than one).
func (c *Call) findUser(ctx context.Context, col, v string) (sdk.Doc, error) {
	if v == "" {
		return nil, nil
	}
	pg, err := c.Host.FindUsers(ctx, c.Svc, sdk.Query{Filter: sdk.AndOf(
		sdk.Cmp{Path: sdk.Path{col}, Op: sdk.Eq, Value: v},
		sdk.Cmp{Path: sdk.Path{"status"}, Op: sdk.Eq, Value: int64(0)}), Limit: 2}, false)
	if err != nil {
		return nil, err
	}
	if len(pg.Items) != 1 {
		return nil, nil
	}
	return pg.Items[0], nil
}

// actingUser resolves the request's user_id (or userId) to an active user
// of the tenant and returns the principal the call acts as: the user, with
// the client's scopes and the user's roles, so the native permission rules
// apply. Absent: 10001; unknown, disabled or of another tenant: 10002.
func (c *Call) actingUser(ctx context.Context, ext string) (*sdk.Principal, error) {
	if ext == "" {
		return nil, missing("user_id")
	}
	hub, err := c.HubID(ctx, kindUser, ext)
	if err != nil {
		return nil, err
	}
	u, err := c.findUser(ctx, "id", hub)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, notFound("user_id", ext)
	}
	return userPrincipal(c.Svc, u), nil
}

// userPrincipal is u acting through the client of svc.
func userPrincipal(svc *sdk.Principal, u sdk.Doc) *sdk.Principal {
	return &sdk.Principal{Tenant: svc.Tenant, ClientID: svc.ClientID, Scopes: slices.Clone(svc.Scopes),
		UserID: str(u, "id"), UserCode: str(u, "code"), DisplayName: str(u, "empName"), Login: str(u, "userName"),
		Roles: roleCodes(u)}
}

func str(d map[string]any, k string) string { s, _ := d[k].(string); return s }

// roleCodes reads a user document's roles ([{roleCode}] or codes).
func roleCodes(u sdk.Doc) []string {
	var out []string // nil when none, as the gRPC hop hands it over
	rs, _ := u["roles"].([]any)
	for _, r := range rs {
		switch x := r.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if code, _ := x["roleCode"].(string); code != "" {
				out = append(out, code)
			}
		}
	}
	return out
}

// actingFromInput resolves the acting user of the request's input.
func (c *Call) actingFromInput(ctx context.Context) (*sdk.Principal, error) {
	ext, err := c.In.userParam()
	if err != nil {
		return nil, err
	}
	return c.actingUser(ctx, ext)
}

func tokenStore(h sdk.Host) (sdk.DialectTokenStore, error) {
	ts, ok := h.(sdk.DialectTokenStore)
	if !ok {
		return nil, sdk.Errorf(sdk.Unavailable, "the hub offers no dialect token store")
	}
	return ts, nil
}

// authorityCode serves GET /oauth2/authority_code (spec 2.1).
func authorityCode(ctx context.Context, c *Call) (*result, error) {
	username, err := c.In.Str("username")
	if err != nil {
		return nil, err
	}
	phone, err := c.In.Str("phone")
	if err != nil {
		return nil, err
	}
	var u sdk.Doc
	switch {
	case username != "":
		u, err = c.findUser(ctx, "userName", username)
	case phone != "":
		u, err = c.findUser(ctx, "workPhone", phone)
	default:
		return nil, missing("username")
	}
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, Fail(CodeNoSSOUser)
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	t, err := ts.IssueDialectToken(ctx, c.Svc, str(u, "id"), CodeSpec, nil)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, Fail(CodeNoSSOUser)
		}
		return nil, err
	}
	return ok(Obj{{"code", t.Token}}), nil
}

// userInfo serves GET /oauth2/users/user_info (spec 2.2).
func userInfo(ctx context.Context, c *Call) (*result, error) {
	gt, err := c.In.Str("grant_type")
	if err != nil {
		return nil, err
	}
	if gt != "authorization_code" {
		return nil, Failf(CodeInvalid, "参数错误：grant_type 必须是 authorization_code")
	}
	code, err := c.In.Str("code")
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, missing("code")
	}
	if !isLowerHex(code, CodeSpec.Length) {
		return nil, Fail(CodeBadCode)
	}
	ts, err := tokenStore(c.Host)
	if err != nil {
		return nil, err
	}
	dt, err := ts.ResolveDialectToken(ctx, CodeSpec, code, "")
	if err != nil {
		if sdk.CodeOf(err) == sdk.Unauthorized {
			return nil, &Error{Code: CodeBadCode, Err: err}
		}
		return nil, err
	}
	if dt.ClientID != c.Svc.ClientID || dt.Principal == nil || dt.Principal.Tenant != c.Svc.Tenant {
		return nil, Fail(CodeBadCode)
	}
	u, err := c.findUser(ctx, "id", dt.Principal.UserID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, Fail(CodeBadCode)
	}
	d, err := c.renderUsers(ctx, []sdk.Doc{u}, true)
	if err != nil {
		return nil, err
	}
	return ok(d[0]), nil
}

func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
