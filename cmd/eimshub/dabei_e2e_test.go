package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Dabei (connectors/dabei) through the real hub and the example config:
// the built-in connector as a plugin process under /dabei, the pair
// verified by the hub before the hop, records and the organisation of the
// core.
func TestDabeiThroughTheHub(t *testing.T) {
	t.Parallel()
	testDabei(t, startHub(t, t.TempDir(), nil))
}

// TestDabeiInProcess: the same with isolation: inproc.
func TestDabeiInProcess(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../config/eimshub.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yml := strings.Replace(string(example), "  dabei:                    # Dabei", "  dabei:  # inproc\n    isolation: inproc\n  nodabei:                  # Dabei", 1)
	yml = strings.Replace(yml, "  nodabei:                  # Dabei (搭贝) open API at /dabei/apps, /dabei/orgs, /dabei/oauth2/… (connectors/dabei/README.md)\n    isolation: process\n", "", 1)
	if !strings.Contains(yml, "isolation: inproc\n    mount: /dabei") {
		t.Fatalf("could not switch dabei to inproc")
	}
	path := filepath.Join(t.TempDir(), "inproc.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	testDabei(t, startHub(t, t.TempDir(), map[string]string{"EIMSHUB_CONFIG": path}))
}

func testDabei(t *testing.T, h *testHub) {
	call := func(method, path, body string, headers map[string]string) (int, map[string]any, string) {
		t.Helper()
		req, err := http.NewRequest(method, h.base+"/dabei"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if headers == nil {
			headers = map[string]string{"client_id": "dbcli0000000000000000000000000001", "client_secret": "s3cret-dabei"}
		}
		for k, v := range headers {
			req.Header[k] = []string{v} // as sent: client_id is not a canonical header name
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
		return res.StatusCode, m, string(raw)
	}
	ok := func(what string, status int, m map[string]any, raw string) {
		t.Helper()
		if status != 200 || m["errcode"] != float64(0) || m["success"] != true {
			t.Fatalf("%s: %d %s", what, status, raw)
		}
	}
	st, m, raw := call("GET", "/apps", "", nil)
	ok("apps", st, m, raw)
	apps, _ := m["data"].([]any)
	if len(apps) != 1 || apps[0].(map[string]any)["name"] != "Demo app" {
		t.Fatalf("apps: %s", raw)
	}
	app := apps[0].(map[string]any)["id"].(string)
	if len(app) != 32 {
		t.Fatalf("app id %q", app)
	}
	st, m, raw = call("GET", "/orgs?recursion=true", "", nil)
	ok("orgs", st, m, raw)
	if s, _ := m["data"].(string); !strings.Contains(s, `"id":"d0000000000000000000000000000001","name":"Sales","pid":"d0000000000000000000000000000000"`) {
		t.Fatalf("orgs: %s", raw)
	}
	// The pair in the query (the oauth2 endpoints' documented place).
	st, m, raw = call("GET", "/oauth2/authority_code?client_id=dbcli0000000000000000000000000001&client_secret=s3cret-dabei&username=alice", "", map[string]string{})
	ok("authority_code", st, m, raw)
	code := m["data"].(map[string]any)["code"].(string)
	st, m, raw = call("GET", "/oauth2/users/user_info?grant_type=authorization_code&code="+code, "", nil)
	ok("user_info", st, m, raw)
	if d := m["data"].(map[string]any); d["id"] != "e0000000000000000000000000000002" || d["username"] != "alice" || d["departmentId"] != "d0000000000000000000000000000001" {
		t.Fatalf("user_info: %s", raw)
	}
	form := "/apps/" + app + "/forms/f0000000000000000000000000000001"
	st, m, raw = call("POST", form+"/record_create", `{"user_id":"e0000000000000000000000000000001","reason":"体检","days":"1","start_date":"2025-01-02"}`, nil)
	ok("create", st, m, raw)
	rec := m["data"].(map[string]any)["id"].(string)
	st, m, raw = call("POST", form+"/records", `{"user_id":"e0000000000000000000000000000001","filter":"{\"reason\":\"体检\"}"}`, nil)
	ok("list", st, m, raw)
	if m["total"] != float64(1) || m["data"].([]any)[0].(map[string]any)["id"] != rec || m["data"].([]any)[0].(map[string]any)["start_date"] != float64(1735747200000) {
		t.Fatalf("list: %s", raw)
	}
	// Refusals in the Dabei envelope, rendered by the hub or the connector.
	for _, tc := range []struct {
		method, path, body string
		headers            map[string]string
		status             int
		code               float64
	}{
		{"GET", "/apps", "", map[string]string{"client_id": "dbcli0000000000000000000000000001", "client_secret": "wrong"}, 200, 40001},
		{"GET", "/apps", "", map[string]string{}, 200, 40001},
		{"GET", "/no/such/path", "", nil, 404, 10002},
		{"DELETE", "/apps", "", nil, 405, 10001},
		{"GET", form + "/record_create", "", nil, 405, 10001},
		{"POST", form + "/records", `{"user_id":`, nil, 200, 10001},
		{"POST", form + "/records", `{"user_id":"e0000000000000000000000000000001","filter":{"nope":1}}`, nil, 200, 10001},
	} {
		st, m, raw := call(tc.method, tc.path, tc.body, tc.headers)
		if st != tc.status || m["errcode"] != tc.code || m["success"] != false || m["data"] != nil {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, st, raw)
		}
	}
}
