package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eimshub/eimshub/core/identity"
)

// testHub runs `eimshub serve` in-process on a free port with the example
// config and a temporary data directory — the same path `make run` takes.
type testHub struct {
	t       testing.TB
	base    string
	dataDir string
	cancel  context.CancelFunc
	done    chan error
	// sms receives every SMS the hub sends, codes included (the outbox
	// keeps them masked): tests read codes here, as a phone would.
	sms *identity.CaptureSender
	// logs are the hub's log lines (its connectors' included).
	logs *syncBuffer
}

func startHub(t testing.TB, dataDir string, extraEnv map[string]string) *testHub {
	t.Helper()
	env := map[string]string{
		"EIMSHUB_LISTEN":   "127.0.0.1:0",
		"EIMSHUB_DATA_DIR": dataDir,
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	if env["EIMSHUB_REDIS_URL"] != "" && env["EIMSHUB_CONFIG"] == "" {
		env["EIMSHUB_CONFIG"] = splitDataConfig(t)
	}
	getenv := func(k string) string { return env[k] }
	sms := &identity.CaptureSender{}
	ctx, cancel := context.WithCancel(withSender(context.Background(), sms))
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() {
		path := env["EIMSHUB_CONFIG"]
		if path == "" {
			path = "../../config/eimshub.example.yaml"
		}
		done <- serve(ctx, path, logs, getenv, ready)
	}()
	h := &testHub{t: t, dataDir: dataDir, cancel: cancel, done: done, sms: sms, logs: logs}
	select {
	case addr := <-ready:
		h.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("hub did not start: %v\nlogs:\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("hub did not start within 60s\nlogs:\n%s", logs.String())
	}
	t.Cleanup(h.stop)
	return h
}

// splitDataConfig is the example config with storage.allowSplitData set:
// the tests run several instances on one Redis and one data directory
// (one embedded store file), which the hub refuses without it.
func splitDataConfig(t testing.TB) string {
	t.Helper()
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "split.yaml")
	if err := os.WriteFile(path, append(example, "\nstorage:\n  allowSplitData: true\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (h *testHub) stop() {
	if h.cancel == nil {
		return
	}
	http.DefaultClient.CloseIdleConnections() // keep-alive connections would hold the drain
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Error("hub did not stop within 30s")
	}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (h *testHub) do(method, path, token, contentType string, body []byte) resp {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (h *testHub) jsonReq(method, path, token string, body any) resp {
	h.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			h.t.Fatal(err)
		}
	}
	return h.do(method, path, token, "application/json", b)
}

func (h *testHub) form(path string, v url.Values) resp {
	h.t.Helper()
	return h.do("POST", path, "", "application/x-www-form-urlencoded", []byte(v.Encode()))
}

func (h *testHub) login(client, secret, user, pass string) (access, refresh string) {
	h.t.Helper()
	r := h.form("/connect/token", url.Values{"grant_type": {"password"}, "client_id": {client},
		"client_secret": {secret}, "username": {user}, "password": {pass}})
	if r.status != 200 {
		h.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	m := r.json(h.t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

func mustStatus(t testing.TB, what string, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d; body: %s", what, r.status, want, r.body)
	}
}

// TestEndToEnd walks the README: tokens, forms, records, every query option,
// tenant isolation, and data surviving a restart.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	h := startHub(t, dataDir, nil)

	// Health and docs.
	mustStatus(t, "healthz", h.do("GET", "/healthz", "", "", nil), 200)
	mustStatus(t, "readyz", h.do("GET", "/readyz", "", "", nil), 200)
	mustStatus(t, "swagger json", h.do("GET", "/swagger/v1/swagger.json", "", "", nil), 200)

	// 1. Tokens.
	r := h.do("GET", "/api/v1/department", "", "", nil)
	mustStatus(t, "no token", r, 401)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
	}
	if m := r.json(t); m["errorCode"] != float64(401) {
		t.Errorf("401 envelope: %s", r.body)
	}
	bad := h.form("/connect/token", url.Values{"grant_type": {"password"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "username": {"admin"}, "password": {"wrong"}})
	mustStatus(t, "wrong password", bad, 400)
	if m := bad.json(t); m["error"] != "invalid_grant" {
		t.Errorf("wrong password: %s", bad.body)
	}
	admin, rt := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	rot := h.form("/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "refresh_token": {rt}})
	mustStatus(t, "refresh", rot, 200)
	reuse := h.form("/connect/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}, "refresh_token": {rt}})
	mustStatus(t, "refresh reuse", reuse, 400)
	cc := h.form("/connect/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"demo-client"},
		"client_secret": {"demo-secret"}})
	mustStatus(t, "client_credentials", cc, 200)
	if _, has := cc.json(t)["refresh_token"]; has {
		t.Error("client_credentials must not return a refresh token")
	}

	// 2. A form with every kind of field, defined through the entity API.
	apps := h.jsonReq("GET", "/api/v1/app", admin, nil)
	mustStatus(t, "list apps", apps, 200)
	appID := apps.json(t)["value"].([]any)[0].(map[string]any)["id"].(string)
	form := h.jsonReq("POST", "/api/v1/form", admin, map[string]any{
		"name": "Orders", "key": "orders", "appId": appID, "usingWorkflow": true,
		"content": map[string]any{"items": []any{
			map[string]any{"field": "customer", "type": "input", "required": true},
			map[string]any{"field": "amount", "type": "number"},
			map[string]any{"field": "region", "type": "select", "props": map[string]any{"options": []any{
				map[string]any{"value": "华东", "label": "华东"}, map[string]any{"value": "华南", "label": "华南"}}}},
			map[string]any{"field": "items", "type": "tableform", "columns": []any{
				map[string]any{"field": "qty", "type": "number"}}},
		}}})
	mustStatus(t, "create form", form, 200)
	formID := form.json(t)["id"].(string)

	// 3. Records, nested and flat; validation failure writes nothing.
	r1 := h.jsonReq("POST", "/api/v1/formdata", admin, map[string]any{"formId": formID,
		"data": map[string]any{"customer": "甲公司", "amount": 150, "region": "华东", "items": []any{map[string]any{"qty": 12}}}})
	mustStatus(t, "create nested", r1, 200)
	rec1 := r1.json(t)
	if rec1["flowStatus"] != float64(1) {
		t.Errorf("flowStatus = %v, want 1 (draft)", rec1["flowStatus"])
	}
	r2 := h.jsonReq("POST", "/api/v1/orders", admin, map[string]any{"customer": "乙公司", "amount": 80, "region": "华南"})
	mustStatus(t, "create flat", r2, 200)
	rec2 := r2.json(t)
	inval := h.jsonReq("POST", "/api/v1/formdata", admin, map[string]any{"formId": formID,
		"data": map[string]any{"amount": "many", "nope": 1}})
	mustStatus(t, "invalid record", inval, 400)
	cnt := h.do("GET", "/api/v1/formdata/$count?formId="+formID, admin, "", nil)
	mustStatus(t, "count", cnt, 200)
	if strings.TrimSpace(string(cnt.body)) != "2" {
		t.Errorf("$count = %q, want 2", cnt.body)
	}

	// 4. Every query option (TV-7).
	q := url.Values{"formId": {formID},
		"$filter":  {"data/amount ge 100 and (data/region eq '华东' or contains(data/customer,'乙')) and data/items/qty gt 10"},
		"$select":  {"data/customer,data/amount"},
		"$orderby": {"data/amount desc"}, "$top": {"10"}, "$skip": {"0"}, "$count": {"true"},
		"$expand": {"creator($select=empName)"}}
	list := h.jsonReq("GET", "/api/v1/formdata?"+q.Encode(), admin, nil)
	mustStatus(t, "query", list, 200)
	lm := list.json(t)
	if lm["@odata.count"] != float64(1) {
		t.Fatalf("query: %s", list.body)
	}
	row := lm["value"].([]any)[0].(map[string]any)
	if row["id"] != rec1["id"] || row["creator"].(map[string]any)["empName"] != "Admin" {
		t.Errorf("query row: %v", row)
	}
	if d := row["data"].(map[string]any); d["region"] != nil || d["customer"] != "甲公司" {
		t.Errorf("$select: %v", d)
	}
	badf := h.jsonReq("GET", "/api/v1/formdata?formId="+formID+"&$filter="+url.QueryEscape("data/amount gt 'x'"), admin, nil)
	mustStatus(t, "bad filter", badf, 400)
	if e := badf.json(t)["error"].(map[string]any); e["code"] != "invalid_filter" || e["target"] != "data/amount" {
		t.Errorf("bad filter envelope: %s", badf.body)
	}

	// PUT is partial; DELETE is soft.
	id2 := rec2["id"].(string)
	put := h.jsonReq("PUT", "/api/v1/formdata/"+id2, admin, map[string]any{"data": map[string]any{"amount": 90}})
	mustStatus(t, "put", put, 200)
	if d := put.json(t)["data"].(map[string]any); d["customer"] != "乙公司" || d["amount"] != float64(90) {
		t.Errorf("partial put: %v", d)
	}
	mustStatus(t, "delete", h.jsonReq("DELETE", "/api/v1/formdata/"+id2, admin, nil), 204)
	mustStatus(t, "get deleted", h.jsonReq("GET", "/api/v1/formdata/"+id2, admin, nil), 404)

	// 5. Org model: passwords never returned.
	users := h.jsonReq("GET", "/api/v1/user?$expand=department", admin, nil)
	mustStatus(t, "users", users, 200)
	if bytes.Contains(users.body, []byte("password")) {
		t.Errorf("user list leaks a password field: %s", users.body)
	}

	// Tenant isolation: demo2's admin cannot see demo's record by id.
	carol, _ := h.login("demo2-client", "demo2-secret", "carol", "carol-pass")
	id1 := rec1["id"].(string)
	mustStatus(t, "other tenant get", h.jsonReq("GET", "/api/v1/formdata/"+id1, carol, nil), 404)
	mustStatus(t, "other tenant put", h.jsonReq("PUT", "/api/v1/formdata/"+id1, carol, map[string]any{"data": map[string]any{"amount": 1}}), 404)
	mustStatus(t, "other tenant delete", h.jsonReq("DELETE", "/api/v1/formdata/"+id1, carol, nil), 404)

	// 6. Data survives a restart.
	h.stop()
	h2 := startHub(t, dataDir, nil)
	admin2, _ := h2.login("demo-client", "demo-secret", "admin", "admin-pass")
	got := h2.jsonReq("GET", "/api/v1/formdata/"+id1, admin2, nil)
	mustStatus(t, "get after restart", got, 200)
	if d := got.json(t)["data"].(map[string]any); d["amount"] != float64(150) {
		t.Errorf("after restart: %s", got.body)
	}
	// The old access token is still valid after a restart (the signing key persisted).
	mustStatus(t, "old token after restart", h2.jsonReq("GET", "/api/v1/formdata/"+id1, admin, nil), 200)
	if _, err := os.Stat(filepath.Join(dataDir, "eimshub.db")); err != nil {
		t.Errorf("embedded database file: %v", err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRS256Hub: auth.signingAlgorithm RS256 generates an RSA key once,
// signs tokens with it, publishes it in the JWKS, and keeps it across a
// restart (tokens issued before stay valid).
func TestRS256Hub(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), "  # signingAlgorithm: RS256", "  signingAlgorithm: RS256", 1)
	if cfg == string(example) {
		t.Fatal("the example config lost its signingAlgorithm comment")
	}
	path := filepath.Join(t.TempDir(), "rs256.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	env := map[string]string{"EIMSHUB_CONFIG": path}
	h := startHub(t, data, env)
	token, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	hdr, _, _ := strings.Cut(token, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(hdr)
	if !strings.Contains(string(raw), `"alg":"RS256"`) {
		t.Fatalf("token header = %s", raw)
	}
	mustStatus(t, "RS256 token on the API", h.jsonReq("GET", "/api/v1/form", token, nil), 200)
	jwks := h.jsonReq("GET", "/.well-known/jwks.json", "", nil)
	if k := jwks.json(t)["keys"].([]any)[0].(map[string]any); k["kty"] != "RSA" || k["alg"] != "RS256" || k["n"] == nil {
		t.Errorf("JWKS = %s", jwks.body)
	}
	if _, err := os.Stat(filepath.Join(data, "signing-rs256.key")); err != nil {
		t.Errorf("generated key file: %v", err)
	}
	h.stop()
	h2 := startHub(t, data, env)
	mustStatus(t, "a token from before the restart", h2.jsonReq("GET", "/api/v1/form", token, nil), 200)
}
