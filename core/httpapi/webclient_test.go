package httpapi

// The EIMSNext web client against the real server (spec eims-native.md
// §12.16, fixture W): the native app built by New with the real identity
// service (tokens from /connect/token as the client asks for them), the
// record core, the workflow engine and the entity service on the embedded
// SQLite store. Requests are written exactly as the client sends them
// (text/plain query-string bodies with raw spaces and quotes, JSON with
// ;charset=UTF-8); answers are matched as subsets unless a check says more.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
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
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// webClientID is the EIMSNext web client's built-in public client id.
const webClientID = "EIMSD160507G0401S171201B1014Next"

// Field keys of the purchase form F (designer-style keys, §12.10).
const (
	fReason = "jreason000000001"
	fAmount = "jamount000000001"
	fRegion = "jregion000000001"
	fFiles  = "jfiles0000000001"
	fItems  = "jitems0000000001"
	fQty    = "jqty000000000001"
)

type webHub struct {
	t      *testing.T
	st     store.Store
	ents   *entity.Service
	app    *fiber.App
	tokens map[string]string // "TA", "TB"
	vars   map[string]string // captures, used as <NAME> in paths and bodies
}

// newWebHub seeds fixture W and logs in admin (TA) and bob (TB) through
// the token endpoint exactly as the web client does.
func newWebHub(t *testing.T) *webHub {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	hash := func(pw string) string {
		h, err := identity.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	op := map[string]any{"id": "system", "value": "", "label": "system"}
	ins := func(coll, tenant string, d store.Doc) {
		d["corpId"] = tenant
		for _, k := range []string{"createBy", "updateBy"} {
			if d[k] == nil {
				d[k] = op
			}
		}
		for _, k := range []string{"createTime", "updateTime"} {
			if d[k] == nil {
				d[k] = int64(1_700_000_000_000)
			}
		}
		if err := st.Insert(ctx, coll, d); err != nil {
			t.Fatal(err)
		}
	}
	ins("tenant", "", store.Doc{"id": "t1", "name": "演示企业", "smtpPassword": "secret-setting"})
	ins("tenant", "", store.Doc{"id": "t2", "name": "别家"})
	ins("client", "", store.Doc{"id": webClientID, "tenantId": "t1", "name": "EIMSNext.Web", "public": true,
		"grants": []any{"password"}, "scopes": []any{"openid", "profile", "api.readwrite"}, "accessTokenTTL": int64(28800)})
	ins("role", "t1", store.Doc{"id": "r_admin", "code": "admin", "name": "管理员"})
	ins("department", "t1", store.Doc{"id": "d_1", "name": "总部", "heriarchyId": "d_1", "heriarchyName": "总部"})
	ins("department", "t1", store.Doc{"id": "d_9", "name": "待撤销", "heriarchyId": "d_9", "heriarchyName": "待撤销"})
	ins("user", "t1", store.Doc{"id": "u_admin", "userName": "admin", "code": "E001", "empName": "管理员",
		"workEmail": "admin@eimsnext.com", "status": int64(0), "departmentId": "d_1", "passwordHash": hash("Admin@2026"),
		"roles": []any{map[string]any{"roleId": "r_admin", "roleName": "管理员", "roleCode": "admin"}}})
	ins("user", "t1", store.Doc{"id": "u_bob", "userName": "bob", "code": "E002", "empName": "张三",
		"workEmail": "bob@eimsnext.com", "status": int64(0), "departmentId": "d_1", "passwordHash": hash("Bob@20261")})
	ins("app", "t1", store.Doc{"id": "a_1", "name": "报销", "sortIndex": int64(1)})
	for i := 2; i <= 25; i++ {
		ins("app", "t1", store.Doc{"id": fmt.Sprintf("a_%d", i), "name": fmt.Sprintf("应用%d", i), "sortIndex": int64(i)})
	}
	ins("app", "t2", store.Doc{"id": "a_other", "name": "别家的应用"})
	items := []any{
		map[string]any{"field": fReason, "type": "input", "title": "事由"},
		map[string]any{"field": fAmount, "type": "number", "title": "金额"},
		map[string]any{"field": fRegion, "type": "select", "title": "区域", "props": map[string]any{"options": []any{
			map[string]any{"value": "east", "label": "华东"}, map[string]any{"value": "south", "label": "华南"}}}},
		map[string]any{"field": fFiles, "type": "fileupload", "title": "附件"},
		map[string]any{"field": fItems, "type": "tableform", "title": "明细",
			"columns": []any{map[string]any{"field": fQty, "type": "number", "title": "数量"}}},
	}
	ins("form", "t1", store.Doc{"id": "f_buy", "appId": "a_1", "name": "采购申请", "usingWorkflow": true, "key": "purchase",
		"content": map[string]any{"items": items}})
	ins("form", "t1", store.Doc{"id": "f_nodef", "appId": "a_1", "name": "无流程定义", "usingWorkflow": true,
		"content": map[string]any{"items": []any{map[string]any{"field": fReason, "type": "input", "title": "事由"}}}})
	ins("form", "t1", store.Doc{"id": "f_gone", "appId": "a_1", "name": "审批人已删除", "usingWorkflow": true,
		"content": map[string]any{"items": []any{map[string]any{"field": fReason, "type": "input", "title": "事由"}}}})
	ins("form", "t1", store.Doc{"id": "f_plain", "appId": "a_2", "name": "登记", "usingWorkflow": false, "key": "plain",
		"content": map[string]any{"items": []any{map[string]any{"field": fReason, "type": "input", "title": "事由"}}}})
	approve := func(user string) map[string]any {
		return map[string]any{"nodes": []any{map[string]any{"id": "jn1", "type": "approve", "name": "主管审批",
			"assignees": map[string]any{"users": []any{user}}}}}
	}
	ins("wfdefinition", "t1", store.Doc{"id": "wd_buy", "sourceId": "f_buy", "name": "采购审批", "version": int64(1),
		"flowType": "workflow", "content": approve("u_bob")})
	ins("wfdefinition", "t1", store.Doc{"id": "wd_gone", "sourceId": "f_gone", "name": "无人审批", "version": int64(1),
		"flowType": "workflow", "content": approve("u_deleted")})

	logger := slog.New(slog.DiscardHandler)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	ident, err := identity.New(identity.Config{SigningKey: key, DefaultTenant: "t1"}, st, c, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	recs := record.New(st, record.Options{Logger: logger})
	wf := workflow.New(st, workflow.Options{Logger: logger, Records: recs})
	recs.SetWorkflow(wf)
	ents := entity.New(st, entity.Options{Logger: logger, Revoker: ident, Records: recs})
	app := New(Deps{Logger: logger, Identity: ident, Entities: ents, Workflow: wf,
		Options: Options{PathPrefixes: []string{"/jlapi"}}})
	h := &webHub{t: t, st: st, ents: ents, app: app, tokens: map[string]string{}, vars: map[string]string{}}
	for name, login := range map[string][2]string{"TA": {"admin@eimsnext.com", "Admin@2026"}, "TB": {"bob", "Bob@20261"}} {
		body := "username=" + url.QueryEscape(login[0]) + "&password=" + url.QueryEscape(login[1]) +
			"&grant_type=password&client_id=" + webClientID
		r := h.do("", http.MethodPost, "/connect/token", "application/x-www-form-urlencoded;charset=UTF-8", body, nil)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if r.status != 200 || json.Unmarshal(r.body, &tok) != nil || tok.AccessToken == "" {
			t.Fatalf("login %s: %d %s", login[0], r.status, r.body)
		}
		h.tokens[name] = tok.AccessToken
	}
	return h
}

type webResult struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the path written as the client writes it (only
// characters a URL cannot carry are escaped) and the body byte for byte.
func (h *webHub) do(token, method, path, ctype, body string, hdr map[string]string) webResult {
	h.t.Helper()
	u, q, _ := strings.Cut(h.expand(path), "?")
	target := (&url.URL{Path: u}).EscapedPath()
	if q != "" {
		target += "?" + strings.ReplaceAll(strings.ReplaceAll(q, " ", "%20"), "'", "%27")
	}
	var r io.Reader
	if body != "" {
		r = strings.NewReader(h.expand(body))
	}
	req := httptest.NewRequest(method, target, r)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+h.tokens[token])
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := h.app.Test(req, -1)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webResult{resp.StatusCode, resp.Header, b}
}

var placeholder = regexp.MustCompile(`<([A-Z][A-Z0-9_]*)>`)

// expand replaces <NAME> by a captured value.
func (h *webHub) expand(s string) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := h.vars[m[1:len(m)-1]]; ok {
			return v
		}
		h.t.Fatalf("no capture %s", m)
		return m
	})
}

// webStep is one request → expected response of a test vector.
type webStep struct {
	name   string
	token  string // "TA", "TB" or "" (none)
	method string
	path   string
	ctype  string // "" = none
	body   string
	status int
	// want is a JSON document the answer must contain (objects as
	// subsets, arrays element-wise with the same length); "" = no check.
	want string
	// text is the exact body of a text/plain answer.
	text string
	// capture stores top-level string members of the answer: name → member.
	capture map[string]string
	// check runs further checks on the decoded answer.
	check func(t *testing.T, h *webHub, got any)
}

const (
	ctText     = "text/plain;charset=UTF-8"
	ctJSON     = "application/json;charset=UTF-8"
	odataNone  = "application/json;odata.metadata=none"
	errMessage = `{"message": "*"}`
)

func (h *webHub) run(t *testing.T, steps []webStep) {
	t.Helper()
	for _, s := range steps {
		r := h.do(s.token, s.method, s.path, s.ctype, s.body, map[string]string{"Accept": odataNone})
		if r.status != s.status {
			t.Fatalf("%s: %s %s: status %d, want %d: %s", s.name, s.method, s.path, r.status, s.status, r.body)
		}
		if s.text != "" {
			if got := string(r.body); got != s.text || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
				t.Fatalf("%s: body %q (%s), want %q as text/plain", s.name, got, r.header.Get("Content-Type"), s.text)
			}
			continue
		}
		var got any
		if len(r.body) > 0 {
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatalf("%s: body %q is not JSON: %v", s.name, r.body, err)
			}
		}
		if s.want != "" {
			var want any
			if err := json.Unmarshal([]byte(h.expand(s.want)), &want); err != nil {
				t.Fatalf("%s: bad want: %v", s.name, err)
			}
			if msg := subset(got, want, "$"); msg != "" {
				t.Fatalf("%s: %s\nanswer: %s", s.name, msg, r.body)
			}
		}
		for name, member := range s.capture {
			m, _ := got.(map[string]any)
			v, ok := m[member].(string)
			if !ok || v == "" {
				t.Fatalf("%s: no %s to capture in %s", s.name, member, r.body)
			}
			h.vars[name] = v
		}
		if s.check != nil {
			s.check(t, h, got)
		}
	}
}

// subset reports where got does not contain want ("" when it does). A
// want string "*" matches any non-empty string.
func subset(got, want any, at string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want an object", at, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Sprintf("%s.%s is missing", at, k)
			}
			if msg := subset(gv, wv, at+"."+k); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if msg := subset(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); msg != "" {
				return msg
			}
		}
		return ""
	case string:
		if w == "*" {
			if s, ok := got.(string); ok && s != "" {
				return ""
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", want) {
		return fmt.Sprintf("%s = %#v, want %#v", at, got, want)
	}
	return ""
}

// values is the value array of a list answer.
func values(t *testing.T, got any) []any {
	t.Helper()
	m, _ := got.(map[string]any)
	v, ok := m["value"].([]any)
	if !ok {
		t.Fatalf("no value array in %v", got)
	}
	return v
}

// count is the number of live documents of coll in t1 matching filter.
func (h *webHub) count(coll string, filter query.Expr) int64 {
	h.t.Helper()
	n, err := h.st.Count(context.Background(), coll, "t1", filter)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func eqExpr(path, v string) query.Expr {
	return query.Cmp{Path: query.Path{path}, Op: query.Eq, Value: v}
}

// noContext fails when an OData answer carries @odata.context or nextLink.
func noContext(t *testing.T, _ *webHub, got any) {
	t.Helper()
	m, _ := got.(map[string]any)
	for _, k := range []string{"@odata.context", "@odata.nextLink"} {
		if _, ok := m[k]; ok {
			t.Fatalf("answer has %s: %v", k, got)
		}
	}
}
