package httpapi

// Test vectors of spec eims-native.md §12.16 that concern the session
// layer of the EIMSNext web client (checklist §12.15 items 1–7, 18, 33–35):
// token requests as the client sends them, CORS, the system controller,
// uploads and their tokenless capability URLs, the public client's rate
// limits. Each runs against the real server (New + Serve on a TCP port)
// with the real identity, entity and file services, the embedded SQLite
// store and the in-process cache and limiter store the hub uses without
// Redis. Requests are written as the client writes them.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ulule/limiter/v3/drivers/store/memory"
	"golang.org/x/crypto/bcrypt"

	"github.com/eimshub/eimshub/adapters/blob"
	memcache "github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/limits"
	"github.com/eimshub/eimshub/core/store"
)

// Fixture W (§12.16).
const (
	wsTenant     = "t1"
	wsClient     = "EIMSD160507G0401S171201B1014Next"
	wsOrigin     = "https://admin.example.com"
	wsAdminPass  = "Admin@2026"
	wsBobPass    = "Bob@20261"
	wsForm       = "f_w1"
	wsPrefixAPI  = "/jlapi"
	wsPrefixFile = "/jlupload"
)

// wsHub is a running hub on fixture W.
type wsHub struct {
	t    *testing.T
	addr string
	st   *sqlite.Store
	ta   string // admin's access token
	tb   string // bob's
}

type wsHubOpts struct {
	limits  *limits.Config
	cors    *CORS
	noCaps  bool
	noLogin bool
}

// newWSHub seeds fixture W into a fresh store and serves the hub; it logs
// admin and bob in through the public client unless o.noLogin.
func newWSHub(t *testing.T, o wsHubOpts) *wsHub {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hash := func(pw string) string { // bcrypt's minimum cost keeps the race detector fast
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	op := map[string]any{"id": "system", "value": "system", "label": "system"}
	docs := []struct {
		coll string
		doc  store.Doc
	}{
		{"tenant", store.Doc{"id": wsTenant, "corpId": "", "name": "演示企业"}},
		{"tenant", store.Doc{"id": "t2", "corpId": "", "name": "Other"}},
		{"client", store.Doc{"id": wsClient, "corpId": "", "tenantId": wsTenant, "name": "EIMSNext.Web", "public": true,
			"grants": []any{"password"}, "scopes": []any{"openid", "profile", "api.readwrite"}, "accessTokenTTL": int64(28800)}},
		{"client", store.Doc{"id": "svc", "corpId": "", "tenantId": wsTenant, "name": "Service", "public": false,
			"secretHash": hash("svc-secret"), "grants": []any{"password"}, "scopes": []any{"openid", "profile", "api.readwrite"}}},
		{"role", store.Doc{"id": "r_admin", "corpId": wsTenant, "code": "admin", "name": "管理员"}},
		{"department", store.Doc{"id": "d_1", "corpId": wsTenant, "name": "总部", "heriarchyId": "d_1"}},
		{"user", store.Doc{"id": "u_admin", "corpId": wsTenant, "userName": "admin", "workEmail": "admin@eimsnext.com",
			"workPhone": "13800000000", "code": "E001", "empName": "管理员", "departmentId": "d_1", "status": int64(0),
			"passwordHash": hash(wsAdminPass),
			"roles":        []any{map[string]any{"roleId": "r_admin", "roleName": "管理员", "roleCode": "admin"}}}},
		{"user", store.Doc{"id": "u_bob", "corpId": wsTenant, "userName": "bob", "workEmail": "bob@eimsnext.com",
			"code": "E002", "empName": "张三", "departmentId": "d_1", "status": int64(0), "passwordHash": hash(wsBobPass)}},
		{"form", store.Doc{"id": wsForm, "corpId": wsTenant, "appId": "a_1", "name": "采购申请", "key": "purchase",
			"content": map[string]any{"items": []any{map[string]any{"field": "reason", "type": "input", "title": "事由"}}}}},
		{"form", store.Doc{"id": "f_w2", "corpId": wsTenant, "appId": "a_1", "name": "报销单", "key": "expense",
			"content": map[string]any{"items": []any{map[string]any{"field": "amount", "type": "number"}}}}},
		{"form", store.Doc{"id": "f_w9", "corpId": wsTenant, "appId": "a_2", "name": "其他", "key": "other",
			"content": map[string]any{"items": []any{map[string]any{"field": "x", "type": "input"}}}}},
		// A task of bob's in an app without forms (item 18: bob must still see a_3).
		{"wftodo", store.Doc{"id": "tk_1", "corpId": wsTenant, "employeeId": "u_bob", "appId": "a_3", "formId": "f_gone", "dataId": "r_x"}},
		{"app", store.Doc{"id": "a_1", "corpId": wsTenant, "name": "报销", "appMenus": []any{
			map[string]any{"menuId": wsForm, "title": "采购申请", "menuType": int64(0)},
			map[string]any{"menuId": "db_1", "title": "看板", "menuType": int64(1)}}}},
		{"app", store.Doc{"id": "a_x", "corpId": "t2", "name": "other tenant"}},
	}
	for i := 2; i <= 25; i++ {
		docs = append(docs, struct {
			coll string
			doc  store.Doc
		}{"app", store.Doc{"id": fmt.Sprintf("a_%d", i), "corpId": wsTenant, "name": fmt.Sprintf("应用%d", i)}})
	}
	for _, d := range docs {
		d.doc["createBy"], d.doc["updateBy"], d.doc["createTime"], d.doc["updateTime"] = op, op, int64(1), int64(1)
		if err := st.Insert(ctx, d.coll, d.doc); err != nil {
			t.Fatal(err)
		}
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c := memcache.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	logger := slog.New(slog.DiscardHandler)
	ident, err := identity.New(identity.Config{SigningKey: key, DefaultTenant: wsTenant}, st, c, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := blob.NewDisk(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Logger: logger, Identity: ident, Files: files.New(st, disk, files.Options{Logger: logger}),
		Entities: entity.New(st, entity.Options{Logger: logger}),
		Options:  Options{PathPrefixes: []string{wsPrefixAPI, wsPrefixFile}, CORS: o.cors, DisableCapabilityURLs: o.noCaps}}
	if o.limits != nil {
		l, err := limits.New(memory.NewStore(), *o.limits, logger)
		if err != nil {
			t.Fatal(err)
		}
		d.Limits = l
	}
	h := &wsHub{t: t, addr: serveTCP(t, New(d)), st: st}
	if !o.noLogin {
		h.ta = h.login("admin@eimsnext.com", wsAdminPass)
		h.tb = h.login("bob", wsBobPass)
	}
	return h
}

// wsResp is an answer.
type wsResp struct {
	status int
	hdr    http.Header
	body   []byte
}

func (r wsResp) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d, body %q is not JSON: %v", r.status, r.body, err)
	}
	return v
}

// do sends one request; hdr is name, value pairs; a body of type
// *multipart.Writer output is passed as bytes with its content type in hdr.
func (h *wsHub) do(method, path string, body []byte, hdr ...string) wsResp {
	h.t.Helper()
	req, err := http.NewRequest(method, "http://"+h.addr+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return wsResp{status: resp.StatusCode, hdr: resp.Header, body: b}
}

// wsTokenBody is the client's form body (qs-encoded, §12.2).
func wsTokenBody(user, pass string) []byte {
	return []byte("username=" + strings.ReplaceAll(user, "@", "%40") + "&password=" + strings.ReplaceAll(pass, "@", "%40") +
		"&grant_type=password&client_id=" + wsClient)
}

const wsFormCT = "application/x-www-form-urlencoded;charset=UTF-8"

func (h *wsHub) login(user, pass string) string {
	h.t.Helper()
	r := h.do("POST", "/connect/token", wsTokenBody(user, pass), "Content-Type", wsFormCT, "Origin", wsOrigin)
	m, _ := r.json(h.t).(map[string]any)
	tok, _ := m["access_token"].(string)
	if r.status != 200 || tok == "" {
		h.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	return tok
}

func wsObj(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

// wsVector is one request → expected answer.
type wsVector struct {
	name   string
	method string
	path   string
	hdr    []string
	body   string
	status int
	// headers: exact values; "~x" means "contains x (any case)"; "" means absent.
	headers map[string]string
	// want is a JSON subset of the body (nil: not checked).
	want any
	// check runs on the answer after the generic checks.
	check func(t *testing.T, r wsResp)
}

func (h *wsHub) run(t *testing.T, vs []wsVector) {
	t.Helper()
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			var body []byte
			if v.body != "" {
				body = []byte(v.body)
			}
			r := h.do(v.method, v.path, body, v.hdr...)
			if r.status != v.status {
				t.Fatalf("%s %s: status %d, want %d: %s", v.method, v.path, r.status, v.status, r.body)
			}
			for k, want := range v.headers {
				got := r.hdr.Get(k)
				switch {
				case want == "" && got != "":
					t.Errorf("header %s = %q, want none", k, got)
				case strings.HasPrefix(want, "~"):
					for _, part := range strings.Split(want[1:], ",") {
						if !strings.Contains(strings.ToLower(got), strings.ToLower(strings.TrimSpace(part))) {
							t.Errorf("header %s = %q, want it to contain %q", k, got, part)
						}
					}
				case want != "" && got != want:
					t.Errorf("header %s = %q, want %q", k, got, want)
				}
			}
			if v.want != nil {
				if msg := subset(r.json(t), v.want, "body"); msg != "" {
					t.Errorf("%s (body %s)", msg, r.body)
				}
			}
			if v.check != nil {
				v.check(t, r)
			}
		})
	}
}

func wsBearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func wsHdrs(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var wsWithOrigin = []string{"Origin", wsOrigin}

// WTV-1: the token request exactly as the client sends it; errors carry message (items 2, 3).
func TestWebClientTokenWTV1(t *testing.T) {
	h := newWSHub(t, wsHubOpts{noLogin: true})
	h.run(t, []wsVector{
		{name: "login", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", wsFormCT, "Origin", wsOrigin},
			body: string(wsTokenBody("admin@eimsnext.com", wsAdminPass)), status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Vary": "~Origin"},
			want:    wsObj(`{"token_type":"Bearer","expires_in":28800}`),
			check: func(t *testing.T, r wsResp) {
				m := r.json(t).(map[string]any)
				if tok, _ := m["access_token"].(string); strings.Count(tok, ".") != 2 {
					t.Errorf("access_token %q is not a JWT", tok)
				}
				if sc, _ := m["scope"].(string); !strings.Contains(sc, "api.readwrite") {
					t.Errorf("scope %q lacks api.readwrite (no scope requested: the client's scopes)", sc)
				}
			}},
		{name: "wrong password", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", wsFormCT, "Origin", wsOrigin},
			body: string(wsTokenBody("admin@eimsnext.com", "wrongpass1")), status: 400,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin},
			want:    wsObj(`{"error":"invalid_grant","error_description":"用户不存在或密码错误","message":"用户不存在或密码错误"}`)},
		{name: "unknown client: message too", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", wsFormCT, "Origin", wsOrigin},
			body: "username=admin&password=x&grant_type=password&client_id=nope", status: 401,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin},
			want:    wsObj(`{"error":"invalid_client","message":"The specified client credentials are invalid."}`)},
		{name: "secret sent to the public client", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", wsFormCT},
			body: string(wsTokenBody("admin", wsAdminPass)) + "&client_secret=x", status: 401,
			want: wsObj(`{"error":"invalid_client"}`)},
		{name: "unsupported grant: message is the description", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", wsFormCT},
			body: "grant_type=client_credentials&client_id=" + wsClient, status: 400,
			want: wsObj(`{"error":"unauthorized_client","message":"the client may not use grant_type client_credentials"}`)},
		{name: "malformed body", method: "POST", path: "/connect/token", hdr: []string{"Content-Type", "application/json", "Origin", wsOrigin},
			body: `{"username":"admin"}`, status: 400, headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin},
			want: wsObj(`{"error":"invalid_request","message":"Content-Type must be application/x-www-form-urlencoded"}`)},
	})
}

// WTV-2 and item 1: preflights on every path, CORS on errors.
func TestWebClientCORSWTV2(t *testing.T) {
	h := newWSHub(t, wsHubOpts{limits: &limits.Config{TokenEndpointIPRate: "4-M", DefaultRate: "100-S"}})
	preflight := func(path string) wsVector {
		return wsVector{name: "preflight " + path, method: "OPTIONS", path: path,
			hdr:    []string{"Origin", wsOrigin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"},
			status: 204,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Vary": "~Origin",
				"Access-Control-Allow-Methods": "~POST, PUT, PATCH, DELETE", "Access-Control-Allow-Headers": "~authorization,content-type",
				"Access-Control-Max-Age": "600", "Access-Control-Allow-Credentials": ""}}
	}
	var vs []wsVector
	for _, p := range []string{"/odata/v1/App/$query", "/api/v1/system/currentuser", "/api/v1/FormData/$query",
		"/api/v1/upload", "/connect/token", "/no/such/route", wsPrefixAPI + "/api/v1/system/currentuser",
		wsPrefixFile + "/api/v1/upload", "/upload/t1/x.pdf"} {
		vs = append(vs, preflight(p))
	}
	// The token endpoint's IP budget is 4 a minute, 2 of them spent by the
	// logins of newWSHub: the preflights above did not count, so two more
	// logins pass.
	login := wsVector{name: "login after preflights", method: "POST", path: "/connect/token",
		hdr: []string{"Content-Type", wsFormCT, "Origin", wsOrigin}, body: string(wsTokenBody("bob", wsBobPass)), status: 200,
		headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}}
	vs = append(vs, login, login)
	vs = append(vs,
		wsVector{name: "login over the IP budget: 429 with CORS", method: "POST", path: "/connect/token",
			hdr: []string{"Content-Type", wsFormCT, "Origin", wsOrigin}, body: string(wsTokenBody("bob", wsBobPass)), status: 429,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Retry-After": "~"},
			want:    wsObj(`{"error":"temporarily_unavailable"}`),
			check: func(t *testing.T, r wsResp) {
				if m := r.json(t).(map[string]any); m["message"] == "" || m["message"] == nil {
					t.Errorf("no message: %s", r.body)
				}
			}},
		wsVector{name: "401 without token carries CORS", method: "GET", path: "/api/v1/system/currentuser", hdr: wsWithOrigin, status: 401,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Vary": "~Origin"},
			check: func(t *testing.T, r wsResp) {
				if m, _ := r.json(t).(map[string]any); m["message"] == "" || m["message"] == nil {
					t.Errorf("401 without message: %s", r.body)
				}
			}},
		wsVector{name: "404 carries CORS", method: "GET", path: "/api/v1/nosuchentity", hdr: wsHdrs(wsWithOrigin, wsBearer(h.ta)), status: 404,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		wsVector{name: "415 carries CORS", method: "POST", path: "/api/v1/department", hdr: wsHdrs(wsWithOrigin, wsBearer(h.ta), []string{"Content-Type", "text/xml"}),
			body: "<x/>", status: 415, headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		wsVector{name: "403 carries CORS", method: "POST", path: "/api/v1/department", hdr: wsHdrs(wsWithOrigin, wsBearer(h.tb), []string{"Content-Type", "application/json"}),
			body: `{"name":"x"}`, status: 403, headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		wsVector{name: "success carries CORS", method: "GET", path: "/api/v1/ping", hdr: wsWithOrigin, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Vary": "~Origin"}},
		wsVector{name: "no Origin: no CORS headers, still Vary", method: "GET", path: "/api/v1/ping", status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}},
		wsVector{name: "OPTIONS without a request method is no preflight", method: "OPTIONS", path: "/api/v1/ping", hdr: wsWithOrigin, status: 401,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		wsVector{name: "hostile request headers are not reflected", method: "OPTIONS", path: "/api/v1/ping",
			hdr:    []string{"Origin", wsOrigin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-a\"<script>"},
			status: 204, headers: map[string]string{"Access-Control-Allow-Headers": "~Authorization, Content-Type"},
			check: func(t *testing.T, r wsResp) {
				if strings.Contains(r.hdr.Get("Access-Control-Allow-Headers"), "script") {
					t.Errorf("reflected %q", r.hdr.Get("Access-Control-Allow-Headers"))
				}
			}},
	)
	h.run(t, vs)

	// 413: refused on the declared length, before the body is sent.
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/department HTTP/1.1\r\nHost: hub\r\nOrigin: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n", wsOrigin, h.ta, DefaultBodyLimit+1)
	go func() { // the body, while the answer is read (the server stops reading it)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for n := 0; n <= DefaultBodyLimit; n += len(chunk) {
			if _, err := conn.Write(chunk); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 || resp.Header.Get("Access-Control-Allow-Origin") != wsOrigin {
		t.Errorf("413: %d %v", resp.StatusCode, resp.Header)
	}
}

// Item 1: a configured origin list; credentials only for listed origins;
// an empty list turns CORS off.
func TestWebClientCORSOrigins(t *testing.T) {
	h := newWSHub(t, wsHubOpts{noLogin: true, cors: &CORS{AllowedOrigins: []string{"https://Admin.Example.com"}, AllowCredentials: true}})
	pre := []string{"Access-Control-Request-Method", "GET"}
	h.run(t, []wsVector{
		{name: "listed origin (any case)", method: "GET", path: "/api/v1/ping", hdr: wsWithOrigin, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Access-Control-Allow-Credentials": "true"}},
		{name: "other origin", method: "GET", path: "/api/v1/ping", hdr: []string{"Origin", "https://evil.example"}, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": ""}},
		{name: "other origin's preflight gets no grant", method: "OPTIONS", path: "/api/v1/ping", hdr: wsHdrs([]string{"Origin", "https://evil.example"}, pre), status: 204,
			headers: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": ""}},
		{name: "listed origin's preflight", method: "OPTIONS", path: "/api/v1/ping", hdr: wsHdrs(wsWithOrigin, pre), status: 204,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Headers": "~Authorization, Content-Type, Accept, X-Request-Id"}},
	})
	star := newWSHub(t, wsHubOpts{noLogin: true, cors: &CORS{AllowedOrigins: []string{"*"}, AllowCredentials: true}})
	star.run(t, []wsVector{{name: "* never with credentials", method: "GET", path: "/api/v1/ping", hdr: wsWithOrigin, status: 200,
		headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin, "Access-Control-Allow-Credentials": ""}}})
	off := newWSHub(t, wsHubOpts{noLogin: true, cors: &CORS{}})
	off.run(t, []wsVector{
		{name: "CORS off", method: "GET", path: "/api/v1/ping", hdr: wsWithOrigin, status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "CORS off: OPTIONS meets the bearer check", method: "OPTIONS", path: "/api/v1/ping", hdr: wsHdrs(wsWithOrigin, pre), status: 401},
	})
}

// WTV-3 (item 5) and WTV-18's AppMenuPerms (item 6), also under a path prefix (item 35).
func TestWebClientSystemWTV3(t *testing.T) {
	h := newWSHub(t, wsHubOpts{})
	exactKeys := func(keys ...string) func(t *testing.T, r wsResp) {
		return func(t *testing.T, r wsResp) {
			m := r.json(t).(map[string]any)
			for _, k := range keys {
				delete(m, k)
			}
			if len(m) != 0 {
				t.Errorf("unexpected members %v", m)
			}
		}
	}
	h.run(t, []wsVector{
		{name: "admin", method: "GET", path: "/api/v1/system/currentuser", hdr: wsBearer(h.ta), status: 200,
			want: wsObj(`{"userId":"u_admin","userName":"admin","email":"admin@eimsnext.com","phone":"13800000000","empId":"u_admin",
				"empCode":"E001","empName":"管理员","corpId":"t1","deptId":"d_1","userType":4,"roles":["admin"]}`),
			check: exactKeys("userId", "userName", "email", "phone", "empId", "empCode", "empName", "corpId", "deptId", "userType", "roles")},
		{name: "employee, route in any case", method: "GET", path: "/api/v1/System/CurrentUser", hdr: wsBearer(h.tb), status: 200,
			want: wsObj(`{"userId":"u_bob","userName":"bob","email":"bob@eimsnext.com","empId":"u_bob","empCode":"E002","empName":"张三",
				"corpId":"t1","deptId":"d_1","userType":64,"roles":[]}`),
			check: exactKeys("userId", "userName", "email", "empId", "empCode", "empName", "corpId", "deptId", "userType", "roles")},
		{name: "under a path prefix, with CORS", method: "GET", path: wsPrefixAPI + "/api/v1/system/currentuser", hdr: wsHdrs(wsBearer(h.tb), wsWithOrigin), status: 200,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}, want: wsObj(`{"userId":"u_bob","userType":64}`)},
		{name: "forged token", method: "GET", path: "/api/v1/system/currentuser", hdr: wsBearer(h.ta[:len(h.ta)-4] + "AAAA"), status: 401},
		{name: "AppMenuPerms for an employee", method: "GET", path: "/api/v1/system/AppMenuPerms?appId=a_1", hdr: wsBearer(h.tb), status: 200,
			want: wsObj(`[{"id":"` + wsForm + `","type":0},{"id":"f_w2","type":0},{"id":"db_1","type":1}]`)},
		{name: "AppMenuPerms, parameter in any case, under a prefix", method: "GET", path: wsPrefixAPI + "/api/v1/system/appmenuperms?APPID=a_2", hdr: wsBearer(h.tb), status: 200,
			want: wsObj(`[{"id":"f_w9","type":0}]`)},
		{name: "AppMenuPerms of an app without forms", method: "GET", path: "/api/v1/system/AppMenuPerms?appId=a_9", hdr: wsBearer(h.tb), status: 200, want: wsObj(`[]`)},
		{name: "AppMenuPerms of an unknown app", method: "GET", path: "/api/v1/system/AppMenuPerms?appId=nope", hdr: wsBearer(h.tb), status: 200, want: wsObj(`[]`)},
		{name: "AppMenuPerms of another tenant's app", method: "GET", path: "/api/v1/system/AppMenuPerms?appId=a_x", hdr: wsBearer(h.ta), status: 200, want: wsObj(`[]`)},
		{name: "AppMenuPerms with a quote in the id", method: "GET", path: "/api/v1/system/AppMenuPerms?appId=a'%20or%20'1'%20eq%20'1", hdr: wsBearer(h.tb), status: 200, want: wsObj(`[]`)},
		{name: "AppMenuPerms without appId", method: "GET", path: "/api/v1/system/AppMenuPerms", hdr: wsBearer(h.tb), status: 400,
			want: wsObj(`{"error":{"code":"invalid_query_option"}}`)},
		{name: "other system routes: 404", method: "GET", path: "/api/v1/system/plugins", hdr: wsBearer(h.ta), status: 404},
	})
}

// Item 18: the app list of a user who is not an admin: apps with a form or a task of the user.
func TestWebClientAppListForEmployees(t *testing.T) {
	h := newWSHub(t, wsHubOpts{})
	ids := func(tok string) []string {
		r := h.do("GET", "/api/v1/app?$top=100&$orderby=id&$select=id", nil, wsBearer(tok)...)
		if r.status != 200 {
			t.Fatalf("list apps: %d %s", r.status, r.body)
		}
		var out []string
		for _, a := range r.json(t).(map[string]any)["value"].([]any) {
			out = append(out, a.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(h.ta); len(got) != 25 {
		t.Errorf("admin sees %d apps, want all 25: %v", len(got), got)
	}
	if got := strings.Join(ids(h.tb), ","); got != "a_1,a_2,a_3" {
		t.Errorf("bob sees %s, want a_1,a_2 (forms) and a_3 (his task)", got)
	}
	r := h.do("GET", "/api/v1/app/$count", nil, wsBearer(h.tb)...)
	if string(bytes.TrimSpace(r.body)) != "3" {
		t.Errorf("bob's $count = %s", r.body)
	}
}

// Item 7: the names of §12.7 are reserved against form keys.
func TestWebClientReservedNames(t *testing.T) {
	h := newWSHub(t, wsHubOpts{})
	for _, key := range []string{"system", "Corporate", "authgroup", "printtemplate", "customprint", "aggregate",
		"formdef", "wftodo", "wfapprovallog", "systemmessage", "employee"} {
		r := h.do("POST", "/api/v1/form", []byte(`{"name":"x","appId":"a_1","key":"`+key+`","content":{"items":[{"field":"a","type":"input"}]}}`),
			wsHdrs(wsBearer(h.ta), []string{"Content-Type", "application/json"})...)
		if r.status != 400 || !strings.Contains(string(r.body), "validation_failed") {
			t.Errorf("form key %q: %d %s", key, r.status, r.body)
		}
	}
}

// wsMultipart builds the client's upload body: one part "file".
func wsMultipart(t *testing.T, name, ctype string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	hdr.Set("Content-Type", ctype)
	p, err := w.CreatePart(hdr)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Write(content)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

var wsSavePathRE = regexp.MustCompile(`^upload/t1/[0-9a-f]{32}\.pdf$`)

// WTV-12 (items 33, 34, 35): upload, then the tokenless capability URL.
func TestWebClientUploadWTV12(t *testing.T) {
	h := newWSHub(t, wsHubOpts{})
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 2048-9)...)
	upload := func(tok, name, ctype string, content []byte, prefix string) map[string]any {
		t.Helper()
		body, ct := wsMultipart(t, name, ctype, content)
		r := h.do("POST", prefix+"/api/v1/upload", body, wsHdrs(wsBearer(tok), wsWithOrigin, []string{"Content-Type", ct})...)
		if r.status != 200 || r.hdr.Get("Access-Control-Allow-Origin") != wsOrigin {
			t.Fatalf("upload: %d %v %s", r.status, r.hdr, r.body)
		}
		return r.json(t).(map[string]any)["value"].([]any)[0].(map[string]any)
	}
	f := upload(h.ta, "报价单.pdf", "application/pdf", pdf, "")
	sp, _ := f["savePath"].(string)
	if msg := subset(f, wsObj(`{"fileName":"报价单.pdf","fileExt":".pdf","fileSize":2}`), "value[0]"); msg != "" || !wsSavePathRE.MatchString(sp) || f["thumbPath"] != sp {
		t.Fatalf("upload answer %v (%s)", f, msg)
	}
	if strings.Contains(sp, f["id"].(string)) {
		t.Errorf("savePath %s is named by the file id", sp)
	}
	// Two uploads of one file get different random names.
	if sp2 := upload(h.ta, "报价单.pdf", "application/pdf", pdf, "")["savePath"]; sp2 == sp {
		t.Errorf("same savePath twice: %s", sp)
	}
	html := upload(h.tb, "page.html", "text/html", []byte("<html><script>alert(1)</script></html>"), wsPrefixFile)["savePath"].(string)
	svg := upload(h.tb, "pic.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "")["savePath"].(string)
	png := upload(h.tb, "pic.png", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), "")["savePath"].(string)
	name := sp[strings.LastIndexByte(sp, '/')+1:]
	h.run(t, []wsVector{
		{name: "capability URL without a token", method: "GET", path: "/" + sp, hdr: wsWithOrigin, status: 200,
			headers: map[string]string{"Content-Type": "application/pdf", "Access-Control-Allow-Origin": wsOrigin,
				"X-Content-Type-Options": "nosniff", "Content-Disposition": "~inline", "Cache-Control": "private, max-age=3600"},
			check: func(t *testing.T, r wsResp) {
				if !bytes.Equal(r.body, pdf) {
					t.Errorf("body differs (%d bytes)", len(r.body))
				}
			}},
		{name: "under every prefix", method: "GET", path: wsPrefixFile + "/" + sp, status: 200, headers: map[string]string{"Content-Type": "application/pdf"}},
		{name: "under the API prefix too", method: "GET", path: wsPrefixAPI + "/" + sp, status: 200},
		{name: "Range", method: "GET", path: "/" + sp, hdr: []string{"Range", "bytes=0-3"}, status: 206,
			check: func(t *testing.T, r wsResp) {
				if string(r.body) != "%PDF" {
					t.Errorf("range body %q", r.body)
				}
			}},
		{name: "HEAD", method: "HEAD", path: "/" + sp, status: 200, headers: map[string]string{"Content-Length": strconv.Itoa(len(pdf))}},
		{name: "preflight of the file route", method: "OPTIONS", path: "/" + sp, hdr: wsHdrs(wsWithOrigin, []string{"Access-Control-Request-Method", "GET"}), status: 204,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		{name: "unknown name", method: "GET", path: "/upload/t1/doesnotexist.pdf", hdr: wsWithOrigin, status: 404,
			headers: map[string]string{"Access-Control-Allow-Origin": wsOrigin}},
		{name: "unknown random name of the right shape", method: "GET", path: "/upload/t1/0123456789abcdef0123456789abcdef.pdf", status: 404},
		{name: "right name, wrong tenant dir", method: "GET", path: "/upload/t2/" + name, status: 404},
		{name: "right name, wrong extension", method: "GET", path: "/upload/t1/" + strings.TrimSuffix(name, ".pdf") + ".html", status: 404},
		{name: "right name, no extension", method: "GET", path: "/upload/t1/" + strings.TrimSuffix(name, ".pdf"), status: 404},
		{name: "upper-case name", method: "GET", path: "/upload/t1/" + strings.ToUpper(name), status: 404},
		{name: "traversal", method: "GET", path: "/upload/t1/..%2F..%2Fhub.db", status: 404},
		{name: "encoded slash in the directory", method: "GET", path: "/upload/t1%2F..%2Ft1/" + name, status: 404},
		{name: "HTML is an attachment", method: "GET", path: "/" + html, status: 200,
			headers: map[string]string{"Content-Disposition": "~attachment", "X-Content-Type-Options": "nosniff"}},
		{name: "SVG is an attachment", method: "GET", path: "/" + svg, status: 200,
			headers: map[string]string{"Content-Disposition": "~attachment", "X-Content-Type-Options": "nosniff"}},
		{name: "an image is inline", method: "GET", path: "/" + png, status: 200,
			headers: map[string]string{"Content-Type": "image/png", "Content-Disposition": "~inline"}},
	})
	// The capability paths are the uploader's (and admins') to see: other
	// users listing files get neither savePath nor thumbPath, nor filter by them.
	r := h.do("GET", "/api/v1/file?$top=100", nil, wsBearer(h.tb)...)
	if r.status != 200 {
		t.Fatalf("bob lists files: %d %s", r.status, r.body)
	}
	seen := map[bool]int{}
	for _, v := range r.json(t).(map[string]any)["value"].([]any) {
		m := v.(map[string]any)
		own := m["createBy"].(map[string]any)["id"] == "u_bob"
		_, has := m["savePath"]
		_, hasThumb := m["thumbPath"]
		if has != own || hasThumb != own {
			t.Errorf("bob's listing: own=%v savePath %v thumbPath %v", own, m["savePath"], m["thumbPath"])
		}
		seen[own]++
	}
	if seen[true] != 3 || seen[false] != 2 {
		t.Errorf("bob's listing: %v", seen)
	}
	if r := h.do("GET", "/api/v1/file?$filter="+url.QueryEscape("startswith(savePath,'upload')"), nil, wsBearer(h.tb)...); r.status != 400 {
		t.Errorf("bob filters by savePath: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/file/"+f["id"].(string), nil, wsBearer(h.ta)...); r.json(t).(map[string]any)["savePath"] != sp {
		t.Errorf("the admin's own file: %s", r.body)
	}
	// Deleting the file removes the URL.
	if r := h.do("DELETE", "/api/v1/file/"+f["id"].(string), nil, wsBearer(h.ta)...); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/"+sp, nil); r.status != 404 {
		t.Errorf("deleted file still served: %d", r.status)
	}
	if _, err := h.st.Get(context.Background(), files.CollCapability, "", strings.TrimSuffix(name, ".pdf")); err == nil {
		t.Error("the capability index entry survived the delete")
	}
}

// D-12.2: the switch turns the capability route off.
func TestWebClientCapabilityURLsOff(t *testing.T) {
	h := newWSHub(t, wsHubOpts{noCaps: true})
	body, ct := wsMultipart(t, "a.pdf", "application/pdf", []byte("%PDF-1.4 x"))
	r := h.do("POST", "/api/v1/upload", body, wsHdrs(wsBearer(h.ta), []string{"Content-Type", ct})...)
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	f := r.json(t).(map[string]any)["value"].([]any)[0].(map[string]any)
	if r := h.do("GET", "/"+f["savePath"].(string), nil); r.status != 404 {
		t.Errorf("capability URL served while off: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/files/"+f["id"].(string), nil, wsBearer(h.ta)...); r.status != 200 {
		t.Errorf("the token route: %d", r.status)
	}
}

// Item 4: the public client is limited per user on the API and per IP +
// username on the token endpoint; a confidential client stays per client.
func TestWebClientPublicClientLimits(t *testing.T) {
	h := newWSHub(t, wsHubOpts{limits: &limits.Config{DefaultRate: "3-M", TokenEndpointRate: "4-M", TokenEndpointIPRate: "1000-M"}})
	// The logins of newWSHub used one token-endpoint request each, per
	// IP + username: admin (as admin@eimsnext.com) and bob have 3 left.
	api := func(tok string) wsResp { return h.do("GET", "/api/v1/system/currentuser", nil, wsBearer(tok)...) }
	for i := 0; i < 3; i++ {
		if r := api(h.ta); r.status != 200 {
			t.Fatalf("admin request %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := api(h.ta)
	if r.status != 429 || r.hdr.Get("Retry-After") == "" {
		t.Fatalf("admin's 4th request: %d %s", r.status, r.body)
	}
	// bob shares the client id but not the budget.
	if r := api(h.tb); r.status != 200 || r.hdr.Get("X-RateLimit-Remaining") != "2" {
		t.Fatalf("bob after admin's budget is spent: %d remaining %q", r.status, r.hdr.Get("X-RateLimit-Remaining"))
	}
	// Token endpoint: 4 a minute per IP + username.
	login := func(user, pass string) int {
		return h.do("POST", "/connect/token", wsTokenBody(user, pass), "Content-Type", wsFormCT).status
	}
	for i := 0; i < 3; i++ {
		if st := login("bob", wsBobPass); st != 200 {
			t.Fatalf("bob's login %d: %d", i+2, st)
		}
	}
	if st := login("bob", wsBobPass); st != 429 {
		t.Fatalf("bob's 5th login: %d, want 429", st)
	}
	if st := login("BOB", "wrongpass1"); st != 429 {
		t.Errorf("the login name is counted case-insensitively: %d", st)
	}
	if st := login("admin", wsAdminPass); st != 200 {
		t.Errorf("admin (by user name) after bob's budget is spent: %d", st)
	}
	// A confidential client is still counted per client.
	conf := func(user, pass string) int {
		return h.do("POST", "/connect/token", []byte("grant_type=password&client_id=svc&client_secret=svc-secret&username="+user+"&password="+strings.ReplaceAll(pass, "@", "%40")),
			"Content-Type", wsFormCT).status
	}
	for i := 0; i < 4; i++ {
		user, pass := "admin", wsAdminPass
		if i%2 == 1 {
			user, pass = "bob", wsBobPass
		}
		if st := conf(user, pass); st != 200 {
			t.Fatalf("confidential login %d: %d", i+1, st)
		}
	}
	if st := conf("bob", wsBobPass); st != 429 {
		t.Errorf("confidential client's 5th login (another user): %d, want 429", st)
	}
}
