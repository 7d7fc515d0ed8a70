package httpapi

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/identity/identitytest"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
)

// authApp is a minimal app around the auth routes: the real identity
// service on the §11 fixture, bearerAuth in front of a probe route, and a
// stand-in error handler (the real one lives in errors.go).
type authApp struct {
	app *fiber.App
	st  *sqlite.Store
	sms *identity.CaptureSender // codes are read here, as a phone would
}

var authTestStatus = map[errs.Code]int{
	errs.Invalid: 400, errs.Unauthorized: 401, errs.Forbidden: 403, errs.NotFound: 404,
	errs.RateLimited: 429, errs.Unavailable: 503, errs.UnsupportedMedia: 415,
}

func newAuthApp(t *testing.T) *authApp {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := identitytest.Seed(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	logger := slog.New(slog.DiscardHandler)
	sms := &identity.CaptureSender{Next: &identity.OutboxSender{Store: st}}
	svc, err := identity.New(identity.Config{SigningKey: key, DefaultTenant: identitytest.Tenant}, st, c, sms, logger)
	if err != nil {
		t.Fatal(err)
	}
	d := &Deps{Logger: logger, Identity: svc}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		var fe *fiber.Error
		if errors.As(err, &fe) {
			return c.Status(fe.Code).JSON(fiber.Map{"errorCode": fe.Code})
		}
		e := errs.As(err)
		st, ok := authTestStatus[e.Code]
		if !ok {
			st = 500
		}
		code := e.Code.String()
		if e.Reason != "" {
			code = e.Reason
		}
		return c.Status(st).JSON(fiber.Map{"errorCode": st, "message": e.Msg,
			"error": fiber.Map{"code": code, "message": e.Msg, "target": e.Target}})
	}})
	bindAuthRoutes(app, d)
	api := app.Group("/api/v1", bearerAuth(d))
	probe := func(c *fiber.Ctx) error {
		p, ok := principal.From(c.UserContext())
		lp, _ := c.Locals("principal").(*principal.Principal)
		if !ok || lp != p {
			return errors.New("principal not stored")
		}
		return c.JSON(fiber.Map{"user": p.UserID, "tenant": p.Tenant})
	}
	api.Get("/department", probe)
	api.Post("/department", probe)
	return &authApp{app: app, st: st, sms: sms}
}

type authResult struct {
	status int
	header http.Header
	body   []byte
}

func (r authResult) json(t *testing.T) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (a *authApp) do(t *testing.T, method, path, ctype, body string, hdr ...string) authResult {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return authResult{status: resp.StatusCode, header: resp.Header, body: b}
}

const authFormCT = "application/x-www-form-urlencoded"

func (a *authApp) token(t *testing.T, body string, hdr ...string) authResult {
	t.Helper()
	return a.do(t, "POST", "/connect/token", authFormCT, body, hdr...)
}

func (a *authApp) login(t *testing.T, scope string) map[string]any {
	t.Helper()
	r := a.token(t, "grant_type=password&username=admin&password=123456&client_id=web&scope="+url.QueryEscape(scope))
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	return r.json(t)
}

func TestTokenTV1(t *testing.T) {
	a := newAuthApp(t)
	r := a.token(t, "grant_type=password&username=admin&password=123456&client_id=web&scope=api.readwrite")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("headers = %v", r.header)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
	}
	m := r.json(t)
	if m["token_type"] != "Bearer" || m["expires_in"] != float64(28800) || m["scope"] != "api.readwrite" ||
		m["access_token"] == nil || m["refresh_token"] == nil {
		t.Fatalf("body = %v", m)
	}
	payload := strings.Split(m["access_token"].(string), ".")[1]
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"aud": "eimsnext.api", "id": "u_1001", "corp": "t1", "client_id": "web"} {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
}

func TestTokenTV2(t *testing.T) {
	a := newAuthApp(t)
	r := a.token(t, "grant_type=password&username=admin&password=bad&client_id=web")
	if r.status != 400 {
		t.Fatalf("status %d", r.status)
	}
	m := r.json(t)
	// error and error_description (TV-2), plus message for the EIMSNext web client (§12.2, WTV-1).
	if len(m) != 3 || m["error"] != "invalid_grant" || m["error_description"] != "用户不存在或密码错误" || m["message"] != "用户不存在或密码错误" {
		t.Fatalf("body = %s", r.body)
	}
	r = a.do(t, "POST", "/connect/token", "application/json", `{"grant_type":"password","username":"admin","password":"123456","client_id":"web"}`)
	if r.status != 400 || r.json(t)["error"] != "invalid_request" {
		t.Fatalf("JSON body: %d %s", r.status, r.body)
	}
	r = a.do(t, "POST", "/connect/token", "", "grant_type=password")
	if r.status != 400 || r.json(t)["error"] != "invalid_request" {
		t.Fatalf("no content type: %d %s", r.status, r.body)
	}
	// A charset parameter is fine.
	r = a.do(t, "POST", "/connect/token", authFormCT+"; charset=UTF-8", "grant_type=password&username=admin&password=123456&client_id=web")
	if r.status != 200 {
		t.Fatalf("form with charset: %d %s", r.status, r.body)
	}
}

func TestTokenClientAuth(t *testing.T) {
	a := newAuthApp(t)
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	pw := "grant_type=password&username=admin&password=123456"
	r := a.token(t, pw, "Authorization", basic("svc", "svc-secret"))
	if r.status != 200 {
		t.Fatalf("Basic: %d %s", r.status, r.body)
	}
	r = a.token(t, pw, "Authorization", basic("svc", "wrong"))
	if r.status != 401 || r.json(t)["error"] != "invalid_client" || r.header.Get("WWW-Authenticate") != `Basic realm="eims"` {
		t.Fatalf("Basic, wrong secret: %d %v %s", r.status, r.header, r.body)
	}
	r = a.token(t, pw, "Authorization", "Basic !!!")
	if r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("malformed Basic: %d %s", r.status, r.body)
	}
	r = a.token(t, pw+"&client_id=svc&client_secret=wrong")
	if r.status != 401 || r.json(t)["error"] != "invalid_client" || r.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("form secret, wrong: %d %v %s", r.status, r.header, r.body)
	}
	r = a.token(t, pw+"&client_id=web&client_id=web")
	if r.status != 400 || r.json(t)["error"] != "invalid_request" {
		t.Fatalf("duplicate client_id: %d %s", r.status, r.body)
	}
	r = a.token(t, "grant_type=magic&client_id=web")
	if r.status != 400 || r.json(t)["error"] != "unsupported_grant_type" {
		t.Fatalf("unknown grant: %d %s", r.status, r.body)
	}
}

var authCodeRE = regexp.MustCompile(`\d{6}`)

func (a *authApp) lastCode(t *testing.T, phone string) string {
	t.Helper()
	msgs := a.sms.Messages(phone)
	if len(msgs) != 1 {
		t.Fatalf("%d messages to %s, want 1", len(msgs), phone)
	}
	c := msgs[0].Secret
	if !authCodeRE.MatchString(c) {
		t.Fatalf("no code in %+v", msgs[0])
	}
	outbox, err := a.st.Find(context.Background(), "outbox", identitytest.Tenant, query.Query{Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range outbox {
		if b, _ := d["body"].(string); strings.Contains(b, c) {
			t.Fatalf("the outbox holds the code: %q", b)
		}
	}
	return c
}

func TestSendCodeAndCodeGrantTV3(t *testing.T) {
	a := newAuthApp(t)
	r := a.do(t, "POST", "/auth/sendcode", "application/json", `{"phone":"12345678901","type":"login"}`)
	if r.status != 204 || len(r.body) != 0 {
		t.Fatalf("sendcode: %d %s", r.status, r.body)
	}
	code := a.lastCode(t, "12345678901")
	r = a.token(t, "grant_type=code&username=12345678901&code="+code+"&client_id=web&scope=api.readwrite")
	if r.status != 200 || r.json(t)["token_type"] != "Bearer" {
		t.Fatalf("code grant: %d %s", r.status, r.body)
	}
	r = a.token(t, "grant_type=verification_code&username=12345678901&password="+code+"&client_id=web")
	if m := r.json(t); r.status != 400 || m["error"] != "invalid_grant" || m["error_description"] != "用户不存在或验证码错误" {
		t.Fatalf("reused code: %d %s", r.status, r.body)
	}
}

func TestSendCodeRequests(t *testing.T) {
	a := newAuthApp(t)
	tests := []struct {
		name, ctype, body string
		status            int
		code, target      string
	}{
		{"form with client_id", authFormCT, "phone=%2B8613800000000&type=bind&client_id=web", 204, "", ""},
		{"JSON, other key case, numeric phone", "application/json", `{"Phone":13800000001,"Type":"bind"}`, 204, "", ""},
		{"register is off by default", "application/json", `{"phone":"13800000004","type":"register"}`, 400, "invalid_request", "type"},
		{"bad phone", "application/json", `{"phone":"12-34","type":"login"}`, 400, "invalid_request", "phone"},
		{"missing type", "application/json", `{"phone":"13800000002"}`, 400, "invalid_request", "type"},
		{"bad JSON", "application/json", `{"phone":`, 400, "invalid_request", ""},
		{"JSON array", "application/json", `["x"]`, 400, "invalid_request", ""},
		{"unknown client", authFormCT, "phone=13800000003&type=register&client_id=nope", 400, "invalid_request", "client_id"},
		{"text body", "text/plain", "phone=1", 415, "unsupported_media_type", ""},
		{"resend too soon", authFormCT, "phone=%2B8613800000000&type=bind", 429, "rate_limited", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(t, "POST", "/auth/sendcode", tc.ctype, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code == "" {
				return
			}
			e, _ := r.json(t)["error"].(map[string]any)
			if e["code"] != tc.code || (tc.target != "" && e["target"] != tc.target) {
				t.Fatalf("error = %v, want code %s target %s", e, tc.code, tc.target)
			}
			if tc.status == 429 && r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		})
	}
}

func TestRefreshTV4(t *testing.T) {
	a := newAuthApp(t)
	rt := a.login(t, "api.readwrite")["refresh_token"].(string)
	r := a.token(t, "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt)+"&client_id=web")
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	m := r.json(t)
	rt2, at2 := m["refresh_token"].(string), m["access_token"].(string)
	if rt2 == "" || rt2 == rt {
		t.Fatalf("no rotation: %v", m)
	}
	r = a.token(t, "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt)+"&client_id=web")
	if r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("reuse: %d %s", r.status, r.body)
	}
	r = a.token(t, "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt2)+"&client_id=web")
	if r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("RT2 after reuse: %d %s", r.status, r.body)
	}
	if r := a.do(t, "GET", "/api/v1/department", "", "", "Authorization", "Bearer "+at2); r.status != 401 {
		t.Fatalf("access token of the revoked family: %d", r.status)
	}
}

func TestBearerAuthTV5(t *testing.T) {
	a := newAuthApp(t)
	for name, hdr := range map[string][]string{
		"no header":       nil,
		"empty bearer":    {"Authorization", "Bearer "},
		"basic":           {"Authorization", "Basic eDp5"},
		"garbage":         {"Authorization", "Bearer abc.def.ghi"},
		"token in scheme": {"Authorization", "Bearerabc"},
	} {
		t.Run(name, func(t *testing.T) {
			r := a.do(t, "GET", "/api/v1/department", "", "", hdr...)
			if r.status != 401 {
				t.Fatalf("status %d", r.status)
			}
			if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="eims", error="invalid_token"` {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			m := r.json(t)
			if m["errorCode"] != float64(401) || m["error"].(map[string]any)["code"] != "unauthorized" {
				t.Fatalf("body = %s", r.body)
			}
		})
	}
}

func TestBearerAuthScopes(t *testing.T) {
	a := newAuthApp(t)
	rw := a.login(t, "api.readwrite")["access_token"].(string)
	ro := a.login(t, "api.read")["access_token"].(string)
	prof := a.login(t, "profile")["access_token"].(string)
	tests := []struct {
		name, method, token string
		status              int
	}{
		{"readwrite GET", "GET", rw, 200},
		{"readwrite POST", "POST", rw, 200},
		{"read GET", "GET", ro, 200},
		{"read POST", "POST", ro, 403},
		{"profile GET", "GET", prof, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := a.do(t, tc.method, "/api/v1/department", "application/json", "{}", "Authorization", "Bearer "+tc.token)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 200 {
				if m := r.json(t); m["user"] != "u_1001" || m["tenant"] != "t1" {
					t.Fatalf("principal = %v", m)
				}
			}
			if tc.status == 403 {
				if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="eims", error="insufficient_scope"` {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
				if r.json(t)["error"].(map[string]any)["code"] != "forbidden" {
					t.Fatalf("body = %s", r.body)
				}
			}
		})
	}
}

func TestUserInfoAndJWKS(t *testing.T) {
	a := newAuthApp(t)
	tok := a.login(t, "profile")["access_token"].(string)
	for _, method := range []string{"GET", "POST"} {
		r := a.do(t, method, "/connect/userinfo", "", "", "Authorization", "Bearer "+tok)
		if r.status != 200 {
			t.Fatalf("%s userinfo: %d %s", method, r.status, r.body)
		}
		m := r.json(t)
		if m["sub"] != "admin" || m["id"] != "u_1001" || m["corp"] != "t1" || m["name"] != "Admin" || m["client_id"] != "web" || m["auth_time"] == nil {
			t.Fatalf("userinfo = %v", m)
		}
	}
	if r := a.do(t, "GET", "/connect/userinfo", "", ""); r.status != 401 {
		t.Fatalf("userinfo without token: %d", r.status)
	}
	r := a.do(t, "GET", "/.well-known/jwks.json", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("jwks: %d %v", r.status, r.header)
	}
	keys, _ := r.json(t)["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kty"] != "OKP" {
		t.Fatalf("jwks = %s", r.body)
	}
}

func TestRevocationRoute(t *testing.T) {
	a := newAuthApp(t)
	tok := a.login(t, "api.readwrite")["access_token"].(string)
	r := a.do(t, "POST", "/connect/revocation", authFormCT, "token="+url.QueryEscape(tok)+"&token_type_hint=access_token&client_id=web")
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("revocation: %d %s", r.status, r.body)
	}
	if r := a.do(t, "GET", "/api/v1/department", "", "", "Authorization", "Bearer "+tok); r.status != 401 {
		t.Fatalf("revoked token: %d", r.status)
	}
	if r := a.do(t, "POST", "/connect/revocation", authFormCT, "token=unknown&client_id=web"); r.status != 200 {
		t.Fatalf("unknown token: %d %s", r.status, r.body)
	}
	r = a.do(t, "POST", "/connect/revocation", authFormCT, "token=x&client_id=svc&client_secret=bad")
	if r.status != 401 || r.json(t)["error"] != "invalid_client" {
		t.Fatalf("bad client: %d %s", r.status, r.body)
	}
	r = a.do(t, "POST", "/connect/revocation", "application/json", `{"token":"x"}`)
	if r.status != 400 || r.json(t)["error"] != "invalid_request" {
		t.Fatalf("JSON body: %d %s", r.status, r.body)
	}
}

func TestIdentityNotConfigured(t *testing.T) {
	app := fiber.New()
	d := &Deps{}
	bindAuthRoutes(app, d)
	resp, err := app.Test(httptest.NewRequest("POST", "/connect/token", strings.NewReader("")), -1)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
}

// A locked login says so, with Retry-After (issue 10 #11).
func TestLockedLoginHasRetryAfter(t *testing.T) {
	a := newAuthApp(t)
	for range 5 {
		r := a.token(t, "grant_type=password&username=admin&password=wrong&client_id=web")
		if r.status != 400 {
			t.Fatalf("wrong password: %d %s", r.status, r.body)
		}
	}
	r := a.token(t, "grant_type=password&username=admin&password=123456&client_id=web")
	if r.status != 400 || r.json(t)["error_description"] != identity.DescLocked || r.header.Get("Retry-After") == "" {
		t.Fatalf("locked login: %d %v %s", r.status, r.header, r.body)
	}
}
