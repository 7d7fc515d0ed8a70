package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/eimshub/eimshub/core/errs"
)

// testLog is a slog.Handler that keeps every record (message + attributes
// rendered as text) and can signal when a message is logged.
type testLog struct {
	mu      sync.Mutex
	lines   []string
	waiters map[string]chan struct{}
}

func newTestLog() *testLog { return &testLog{waiters: map[string]chan struct{}{}} }

func (l *testLog) logger() *slog.Logger { return slog.New(l) }

func (l *testLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *testLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *testLog) WithGroup(string) slog.Handler            { return l }
func (l *testLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, b.String())
	if ch, ok := l.waiters[r.Message]; ok {
		close(ch)
		delete(l.waiters, r.Message)
	}
	return nil
}

// notify returns a channel closed when msg is next logged.
func (l *testLog) notify(msg string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.waiters[msg] = ch
	return ch
}

// find returns the logged lines starting with msg.
func (l *testLog) find(msg string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, s := range l.lines {
		if strings.HasPrefix(s, msg) {
			out = append(out, s)
		}
	}
	return out
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// envelope checks r is the §1.5 envelope with status and error.code and returns it.
func (r result) envelope(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || m["errorCode"] != float64(status) || e["code"] != code {
		t.Fatalf("envelope = %s, want errorCode %d code %s", r.body, status, code)
	}
	if _, ok := m["message"].(string); !ok {
		t.Fatalf("envelope without message: %s", r.body)
	}
	if _, ok := e["message"].(string); !ok {
		t.Fatalf("envelope without error.message: %s", r.body)
	}
	return m
}

func do(t *testing.T, app *fiber.App, method, path string, body io.Reader, hdr ...string) result {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func get(t *testing.T, app *fiber.App, path string, hdr ...string) result {
	t.Helper()
	return do(t, app, http.MethodGet, path, nil, hdr...)
}

// newTestApp is New with a capturing logger and Swagger on; Identity and
// Entities stay nil (other helpers' areas), so only this area's routes are
// exercised.
func newTestApp(t *testing.T, opts ...func(*Deps)) (*fiber.App, *testLog) {
	t.Helper()
	l := newTestLog()
	d := Deps{Logger: l.logger(), Options: Options{Swagger: true}}
	for _, o := range opts {
		o(&d)
	}
	return New(d), l
}

func TestErrorEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		status     int
		code       string
		zh, en     string
		target     string
		retryAfter string
	}{
		{"invalid", errs.Invalidf("formId is required").WithTarget("formId"), 400, "invalid_request", "请求无效", "formId is required", "formId", ""},
		{"invalid filter with position",
			errs.Invalidf("$filter: expected a comparison operator at position 17").WithReason("invalid_filter").WithPos(16),
			400, "invalid_filter", "$filter: 第 17 个字符处有误", "$filter: expected a comparison operator at position 17", "$filter", ""},
		{"invalid filter, member target", errs.Invalidf("unknown property foo").WithReason("invalid_filter").WithTarget("foo"),
			400, "invalid_filter", "$filter 无效", "unknown property foo", "foo", ""},
		{"validation failed", errs.Invalidf("2 fields are invalid").WithReason("validation_failed"), 400, "validation_failed", "数据校验失败", "2 fields are invalid", "", ""},
		{"invalid query option", errs.Invalidf("$search is not supported").WithReason("invalid_query_option").WithTarget("$search"), 400, "invalid_query_option", "查询选项无效", "$search is not supported", "$search", ""},
		{"not found", errs.NotFoundf("record r1 not found"), 404, "not_found", "资源不存在", "record r1 not found", "", ""},
		{"conflict", errs.Conflictf("task is not pending"), 409, "conflict", "状态冲突", "task is not pending", "", ""},
		{"unauthorized", errs.Unauthorizedf("token expired"), 401, "unauthorized", "未授权或令牌无效", "token expired", "", ""},
		{"unauthorized invalid_token", errs.Unauthorizedf("bad signature").WithReason("invalid_token"), 401, "invalid_token", "未授权或令牌无效", "bad signature", "", ""},
		{"forbidden", errs.Forbiddenf("not the assignee"), 403, "forbidden", "无权访问", "not the assignee", "", ""},
		{"rate limited", &errs.Error{Code: errs.RateLimited, Msg: "slow down", RetryAfter: 7, Pos: -1}, 429, "rate_limited", "请求过于频繁", "slow down", "", "7"},
		{"unavailable", errs.Unavailablef("store is down"), 503, "unavailable", "服务暂不可用", "store is down", "", ""},
		{"too large", errs.New(errs.TooLarge, "file over 100 MiB"), 413, "payload_too_large", "请求体过大", "file over 100 MiB", "", ""},
		{"unsupported media", errs.New(errs.UnsupportedMedia, "want JSON"), 415, "unsupported_media_type", "不支持的内容类型", "want JSON", "", ""},
		{"method not allowed", errs.New(errs.MethodNotAllowed, ""), 405, "method_not_allowed", "不支持该请求方法", "method not allowed", "", ""},
		{"wrapped errs.Error", fmt.Errorf("loading: %w", errs.NotFoundf("form f9 not found")), 404, "not_found", "资源不存在", "form f9 not found", "", ""},
		{"internal", errs.Wrap(errs.Internal, errors.New("disk on fire"), "save failed"), 500, "internal", "抱歉，出错了", internalEN, "", ""},
		{"plain error", errors.New("dial tcp 10.0.0.1: refused"), 500, "internal", "抱歉，出错了", internalEN, "", ""},
		{"fiber 400", fiber.NewError(400, "bad header"), 400, "invalid_request", "请求无效", "bad header", "", ""},
		{"fiber 502", fiber.NewError(502, "upstream secret"), 500, "internal", "抱歉，出错了", internalEN, "", ""},
	}
	app, _ := newTestApp(t)
	app.Get("/test/err/:i", func(c *fiber.Ctx) error {
		i, err := c.ParamsInt("i")
		if err != nil {
			return err
		}
		return tests[i].err
	})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("/test/err/%d", i)
			zh := get(t, app, path).envelope(t, tc.status, tc.code)
			e := zh["error"].(map[string]any)
			if zh["message"] != tc.zh || e["message"] != tc.en {
				t.Fatalf("messages = %q / %q, want %q / %q", zh["message"], e["message"], tc.zh, tc.en)
			}
			if got, _ := e["target"].(string); got != tc.target {
				t.Fatalf("target = %q, want %q", got, tc.target)
			}
			r := get(t, app, path, "Accept-Language", "en-US,en;q=0.9,zh;q=0.5")
			en := r.envelope(t, tc.status, tc.code)
			if en["message"] != tc.en {
				t.Fatalf("English message = %q, want %q", en["message"], tc.en)
			}
			if got := r.header.Get("Retry-After"); got != tc.retryAfter {
				t.Fatalf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
		})
	}
}

func TestErrorEnvelopeDetails(t *testing.T) {
	app, _ := newTestApp(t)
	app.Post("/test/validate", func(c *fiber.Ctx) error {
		return errs.Invalidf("1 field is invalid").WithReason("validation_failed").WithDetails(
			errs.Detail{Code: "required", Message: "customer is required", Target: "customer"})
	})
	m := do(t, app, "POST", "/test/validate", nil).envelope(t, 400, "validation_failed")
	want := `[{"code":"required","message":"customer is required","target":"customer"}]`
	got, _ := json.Marshal(m["error"].(map[string]any)["details"])
	if string(got) != want {
		t.Fatalf("details = %s, want %s", got, want)
	}
}

func TestWantsEnglish(t *testing.T) {
	tests := map[string]bool{
		"":                        false,
		"en":                      true,
		"EN-gb":                   true,
		"zh-CN,zh;q=0.9,en;q=0.8": false,
		"en;q=0.5,zh;q=0.9":       false,
		"zh;q=0.1, en":            true,
		"fr":                      false,
		"en;q=0":                  false,
		"eng":                     false,
		"*":                       false,
	}
	for h, want := range tests {
		if got := wantsEnglish(h); got != want {
			t.Errorf("wantsEnglish(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestInternalErrorHidesDetailButLogsIt(t *testing.T) {
	app, l := newTestApp(t)
	app.Get("/test/boom", func(c *fiber.Ctx) error {
		return fmt.Errorf("query failed: password=hunter2")
	})
	r := get(t, app, "/test/boom", HeaderRequestID, "req-42")
	m := r.envelope(t, 500, "internal")
	if m["message"] != "抱歉，出错了" || bytes.Contains(r.body, []byte("hunter2")) {
		t.Fatalf("500 body leaks or has the wrong message: %s", r.body)
	}
	lines := l.find("internal error")
	if len(lines) != 1 || !strings.Contains(lines[0], "hunter2") || !strings.Contains(lines[0], "request_id=req-42") {
		t.Fatalf("internal error log = %q", lines)
	}
}

func TestPanicRecovery(t *testing.T) {
	app, l := newTestApp(t)
	app.Get("/test/panic", func(c *fiber.Ctx) error { panic("secret panic text") })
	r := get(t, app, "/test/panic", HeaderRequestID, "req-panic")
	r.envelope(t, 500, "internal")
	if bytes.Contains(r.body, []byte("secret")) {
		t.Fatalf("panic text sent to the client: %s", r.body)
	}
	if r.header.Get(HeaderRequestID) != "req-panic" {
		t.Fatalf("request id lost on panic: %v", r.header)
	}
	lines := l.find("internal error")
	if len(lines) != 1 || !strings.Contains(lines[0], "secret panic text") ||
		!strings.Contains(lines[0], "request_id=req-panic") || !strings.Contains(lines[0], "stack=goroutine") {
		t.Fatalf("panic log = %q", lines)
	}
	if req := l.find("http request"); len(req) != 1 || !strings.Contains(req[0], "status=500") {
		t.Fatalf("request log after panic = %q", req)
	}
	// The server keeps serving.
	if r := get(t, app, "/healthz"); r.status != 200 {
		t.Fatalf("after panic: %d", r.status)
	}
}

func TestWriteErrorInline(t *testing.T) {
	app, _ := newTestApp(t)
	app.Get("/test/inline", func(c *fiber.Ctx) error {
		return WriteError(c, errs.Forbiddenf("nope"))
	})
	get(t, app, "/test/inline").envelope(t, 403, "forbidden")
}

func TestRequestID(t *testing.T) {
	app, l := newTestApp(t)
	app.Get("/test/rid", func(c *fiber.Ctx) error { return c.SendString(RequestID(c.UserContext())) })
	generated := regexp.MustCompile(`^[0-9a-f]{24}$`)
	tests := []struct {
		name, incoming string
		keep           bool
	}{
		{"none", "", false},
		{"sane", "abc-123_X.y:z", true},
		{"space", "abc 123", false},
		{"newline", "abc\x01def", false},
		{"too long", strings.Repeat("a", 129), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.incoming == "" {
				r = get(t, app, "/test/rid")
			} else {
				r = get(t, app, "/test/rid", HeaderRequestID, tc.incoming)
			}
			id := r.header.Get(HeaderRequestID)
			if string(r.body) != id {
				t.Fatalf("context id %q != header id %q", r.body, id)
			}
			if tc.keep && id != tc.incoming {
				t.Fatalf("id = %q, want the incoming %q", id, tc.incoming)
			}
			if !tc.keep && !generated.MatchString(id) {
				t.Fatalf("id = %q, want a generated one", id)
			}
			found := false
			for _, line := range l.find("http request") {
				found = found || strings.Contains(line, "request_id="+id)
			}
			if !found {
				t.Fatalf("no request log with request_id=%s", id)
			}
		})
	}
	a := get(t, app, "/test/rid").header.Get(HeaderRequestID)
	b := get(t, app, "/test/rid").header.Get(HeaderRequestID)
	if a == b {
		t.Fatalf("two requests got the same id %q", a)
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	app, _ := newTestApp(t)
	for _, path := range []string{"/nope", "/api/v2/department", "/api/v2/ping", "/swagger/v2/swagger.json"} {
		get(t, app, path).envelope(t, 404, "not_found")
	}
	m := do(t, app, "POST", "/healthz", nil).envelope(t, 405, "method_not_allowed")
	if m["message"] != "不支持该请求方法" {
		t.Fatalf("405 message = %v", m["message"])
	}
	do(t, app, "PUT", "/Metrics/", nil).envelope(t, 405, "method_not_allowed")
	en := get(t, app, "/nope", "Accept-Language", "en").envelope(t, 404, "not_found")
	if en["message"] != "resource not found" {
		t.Fatalf("English 404 = %v", en["message"])
	}
}

func TestRoutingCaseInsensitiveAndTrailingSlash(t *testing.T) {
	app, _ := newTestApp(t)
	for _, path := range []string{"/healthz", "/HEALTHZ", "/healthz/", "/Health", "/api/v1/ping", "/API/V1/PING/", "/Api/v1/Ping", "/Swagger/V1/Swagger.json"} {
		if r := get(t, app, path); r.status != 200 {
			t.Errorf("GET %s = %d %s", path, r.status, r.body)
		}
	}
}

func TestPathPrefixes(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) { d.Options.PathPrefixes = []string{"/jlauth", "gw/", "", "/"} })
	for _, path := range []string{"/jlauth/api/v1/ping", "/JLAUTH/api/v1/ping/", "/gw/api/v1/ping", "/jlauth/health"} {
		if r := get(t, app, path); r.status != 200 {
			t.Errorf("GET %s = %d %s", path, r.status, r.body)
		}
	}
	get(t, app, "/other/api/v1/ping").envelope(t, 404, "not_found")
	// The identity family is mounted under the prefix: with no identity
	// service wired the token endpoint answers its own RFC 6749 503, not 404.
	r := do(t, app, "POST", "/jlauth/connect/token", strings.NewReader("grant_type=password"), "Content-Type", "application/x-www-form-urlencoded")
	if r.status != 503 || r.json(t)["error"] != "temporarily_unavailable" {
		t.Fatalf("prefixed token endpoint = %d %s", r.status, r.body)
	}
	// And the bearer-protected API group too.
	get(t, app, "/jlauth/api/v1/department").envelope(t, 503, "unavailable")
}

func TestBodyLimit(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) { d.Options.BodyLimit = 1024 })
	app.Post("/test/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
	// fasthttp enforces the limit while reading, before fiber routes, which
	// app.Test reports as an error: use a real (in-memory) connection.
	client := serveInMemory(t, app)
	post := func(n int) result {
		req, _ := http.NewRequest("POST", "http://hub/test/echo", strings.NewReader(strings.Repeat("x", n)))
		req.Header.Set("Accept-Language", "zh-CN")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %d bytes: %v", n, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{resp.StatusCode, resp.Header, b}
	}
	if r := post(1024); r.status != 200 || len(r.body) != 1024 {
		t.Fatalf("body at the limit: %d", r.status)
	}
	m := post(1025).envelope(t, 413, "payload_too_large")
	if m["message"] != "请求体过大" {
		t.Fatalf("413 message = %v", m["message"])
	}
}

// serveInMemory serves app on an in-memory listener and returns a client for it.
func serveInMemory(t testing.TB, app *fiber.App) *http.Client {
	t.Helper()
	ln := fasthttputil.NewInmemoryListener()
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		_ = app.Shutdown()
		_ = ln.Close()
		<-done
	})
	return &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return ln.Dial() },
	}}
}

func TestJSONEncoderDoesNotEscape(t *testing.T) {
	app, _ := newTestApp(t)
	app.Get("/test/json", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"name": "<研发部> & co"}) })
	r := get(t, app, "/test/json")
	if want := "{\"name\":\"<研发部> & co\"}\n"; string(r.body) != want {
		t.Fatalf("body = %s, want %s", r.body, want)
	}
}

func TestRequireJSONBody(t *testing.T) {
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(&Deps{Logger: slog.New(slog.DiscardHandler)})})
	g := app.Group("/p/api/v1", requireJSONBody("/p/api/v1", "/upload"))
	ok := func(c *fiber.Ctx) error { return c.SendStatus(204) }
	g.Post("/:entity", ok)
	g.Put("/:entity/:id", ok)
	g.Get("/:entity", ok)
	g.Post("/upload", ok)
	tests := []struct {
		name, method, path, ctype, body string
		status                          int
	}{
		{"json", "POST", "/p/api/v1/department", "application/json", "{}", 204},
		{"json utf-8", "PUT", "/p/api/v1/department/d1", "application/json; charset=UTF-8", "{}", 204},
		{"problem+json", "POST", "/p/api/v1/department", "application/merge-patch+json", "{}", 204},
		{"text", "POST", "/p/api/v1/department", "text/plain", "{}", 415},
		{"form", "PUT", "/p/api/v1/department/d1", "application/x-www-form-urlencoded", "a=b", 415},
		{"no type", "POST", "/p/api/v1/department", "", "{}", 415},
		{"latin1", "POST", "/p/api/v1/department", "application/json; charset=latin1", "{}", 415},
		{"empty body", "POST", "/p/api/v1/department", "", "", 204},
		{"GET ignores type", "GET", "/p/api/v1/department", "text/plain", "", 204},
		{"upload exempt", "POST", "/P/API/V1/Upload", "multipart/form-data; boundary=x", "--x--", 204},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.ctype != "" {
				hdr = []string{"Content-Type", tc.ctype}
			}
			r := do(t, app, tc.method, tc.path, strings.NewReader(tc.body), hdr...)
			if tc.status == 415 {
				r.envelope(t, 415, "unsupported_media_type")
				return
			}
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
		})
	}
}
