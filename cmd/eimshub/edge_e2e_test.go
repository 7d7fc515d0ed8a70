package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Requests the hub's HTTP edge refuses before routing (a body over
// server.bodyLimit, declared or chunked, a gzip bomb, an unsupported or
// malformed Content-Encoding) and the router's 405, on the dialect routes
// of the example config (H3Yun and e-office as plugin processes) and on a
// native route: each answers in the caller's own envelope, closes the
// connection when the body was left unread, and writes nothing.

// edgeBody is how an edge request sends its body.
type edgeBody struct {
	name     string
	declared int64  // Content-Length; < 0: chunked
	stream   int64  // bytes of filler streamed (declared or chunked)
	raw      []byte // else: this body, with its length declared
	encoding string // Content-Encoding
}

// edgeRequest sends one request on a raw connection (no client retries,
// the hub's Connection header visible) and returns the status, whether the
// hub closes the connection, and the body.
func edgeRequest(t *testing.T, addr, method, path string, hdr map[string]string, b edgeBody) (int, bool, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: hub\r\n", method, path)
	for k, v := range hdr {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if b.encoding != "" {
		fmt.Fprintf(&head, "Content-Encoding: %s\r\n", b.encoding)
	}
	switch {
	case b.raw != nil:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", len(b.raw))
	case b.declared >= 0:
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", b.declared)
	default:
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	}
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // writes while the answer is read: the hub answers before the end
		defer wg.Done()
		if b.raw != nil {
			_, _ = conn.Write(b.raw)
			return
		}
		chunk := bytes.Repeat([]byte(" "), 64<<10) // JSON whitespace
		for sent := int64(0); sent < b.stream; sent += int64(len(chunk)) {
			var err error
			if b.declared < 0 {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = conn.Write(chunk)
			}
			if err != nil {
				return // answered and closed
			}
		}
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s (%s): %v", method, path, b.name, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_ = conn.Close() // stops the writer
	wg.Wait()
	return res.StatusCode, res.Close, body
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

func TestEdgeErrorsInTheCallersDialect(t *testing.T) {
	h := startHub(t, t.TempDir(), nil)
	addr := strings.TrimPrefix(h.base, "http://")
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	const limit = 10 << 20 // server.bodyLimit's default (the example config keeps it)

	// A valid CreateBizObject padded with JSON whitespace past the limit,
	// gzip-compressed to a few KiB: were it inflated and handed on, a
	// record titled "edge-bomb" would be written.
	bo, _ := json.Marshal(map[string]any{"title": "edge-bomb", "amount": 1})
	create, _ := json.Marshal(map[string]any{"ActionName": "CreateBizObject", "SchemaCode": "contract", "IsSubmit": "true", "BizObject": string(bo)})
	bomb := gzipOf(append(create, bytes.Repeat([]byte(" "), limit)...))
	truncated := gzipOf(create)
	truncated = truncated[:len(truncated)-12]

	bodies := []edgeBody{
		{name: "declared over the limit", declared: limit + 1, stream: 256 << 10},
		{name: "chunked over the limit", declared: -1, stream: limit + 1<<20},
		{name: "gzip bomb", raw: bomb, encoding: "gzip"},
		{name: "unsupported Content-Encoding", raw: create, encoding: "br"},
		{name: "not gzip", raw: create, encoding: "gzip"},
		{name: "truncated gzip", raw: truncated, encoding: "gzip"},
	}
	const (
		tooLarge = iota
		unsupported
		malformed
	)
	kind := map[string]int{"declared over the limit": tooLarge, "chunked over the limit": tooLarge, "gzip bomb": tooLarge,
		"unsupported Content-Encoding": unsupported, "not gzip": malformed, "truncated gzip": malformed}

	h3yun := map[string]string{"Content-Type": "application/json", "EngineCode": "demo-engine", "EngineSecret": "demo-engine-secret"}
	eoffice := map[string]string{"Content-Type": "application/json"}
	native := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + admin}

	type want struct {
		status int
		check  func(body []byte) error
	}
	h3 := func(msgPrefix string) want {
		return want{200, func(b []byte) error {
			var m struct {
				Successful   *bool
				ErrorMessage string
				ReturnData   any
				Logined      *bool
			}
			if json.Unmarshal(b, &m) != nil || m.Successful == nil || *m.Successful || m.Logined == nil ||
				m.ReturnData != nil || !strings.HasPrefix(m.ErrorMessage, msgPrefix) {
				return fmt.Errorf("want the H3Yun envelope with %q", msgPrefix)
			}
			return nil
		}}
	}
	eo := func(code string) want {
		return want{200, func(b []byte) error {
			var m map[string]any
			if json.Unmarshal(b, &m) != nil || m["status"] != 0.0 || eoCode(m) != code || m["runtime"] == nil {
				return fmt.Errorf("want the e-office envelope with %s", code)
			}
			return nil
		}}
	}
	dabei := map[string]string{"Content-Type": "application/json", "client_id": "dbcli0000000000000000000000000001", "client_secret": "s3cret-dabei"}
	db := func(msg string) want {
		return want{200, func(b []byte) error {
			if string(b) != `{"errcode":10001,"errmsg":"`+msg+`","data":null,"success":false}` {
				return fmt.Errorf("want the Dabei envelope with %q", msg)
			}
			return nil
		}}
	}
	nat := func(status int, code string) want {
		return want{status, func(b []byte) error {
			var m struct {
				ErrorCode int
				Message   string
				Error     struct{ Code string }
			}
			if json.Unmarshal(b, &m) != nil || m.ErrorCode != status || m.Error.Code != code || m.Message == "" {
				return fmt.Errorf("want the native envelope %d %s", status, code)
			}
			return nil
		}}
	}
	routes := []struct {
		name, path string
		hdr        map[string]string
		want       map[int]want
	}{
		{"H3Yun", "/OpenApi/Invoke", h3yun, map[int]want{
			tooLarge: h3("请求内容过大"), unsupported: h3(`参数格式错误：Content-Encoding "br" is not supported`),
			malformed: h3("参数格式错误：the "),
		}},
		{"H3Yun (path case and trailing slash)", "/openapi/INVOKE/", h3yun, map[int]want{
			tooLarge: h3("请求内容过大"), unsupported: h3("参数格式错误："), malformed: h3("参数格式错误："),
		}},
		{"e-office", eofficeAPI + "form-modeling/data/1001", eoffice, map[int]want{
			tooLarge: eo("0x011012"), unsupported: eo("0x000013"), malformed: eo("0x000013"),
		}},
		{"e-office (another deployment prefix)", "/server/api/user/users", eoffice, map[int]want{
			tooLarge: eo("0x011012"), unsupported: eo("0x000013"), malformed: eo("0x000013"),
		}},
		// Ends like the native upload route, whose body is streamed
		// unbounded to its handler: a connector's path is bounded.
		{"e-office (a path ending in /api/v1/upload)", eofficeAPI + "v1/upload", eoffice, map[int]want{
			tooLarge: eo("0x011012"), unsupported: eo("0x000013"), malformed: eo("0x000013"),
		}},
		{"Dabei", "/dabei/apps/4f9c487af41b7a52219a981f801a449f/forms/f0000000000000000000000000000001/record_create", dabei, map[int]want{
			tooLarge: db("请求体过大"), unsupported: db("参数错误"), malformed: db("参数错误"),
		}},
		{"native", "/api/v1/contract", native, map[int]want{
			tooLarge: nat(413, "payload_too_large"), unsupported: nat(415, "unsupported_media_type"), malformed: nat(400, "invalid_request"),
		}},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			t.Run(rt.name+"/"+b.name, func(t *testing.T) {
				status, closes, body := edgeRequest(t, addr, "POST", rt.path, rt.hdr, b)
				w := rt.want[kind[b.name]]
				if err := w.check(body); status != w.status || err != nil {
					t.Fatalf("%d %s: want %d (%v)", status, body, w.status, err)
				}
				if !closes {
					t.Error("no Connection: close after a refused body: unread bytes would be parsed as the next request")
				}
			})
		}
	}

	// Nothing was written.
	list := h.jsonReq("GET", "/api/v1/contract?$filter="+url.QueryEscape("data/title eq 'edge-bomb'"), admin, nil)
	mustStatus(t, "list", list, 200)
	if v, _ := list.json(t)["value"].([]any); len(v) != 0 {
		t.Fatalf("a refused body was written: %s", list.body)
	}

	// The router's answers on a connector's path: H3Yun's 405 (spec §8:
	// non-POST → 405) in its envelope; a path no connector owns stays native.
	res := h.do("GET", "/OpenApi/Invoke", "", "", nil)
	if res.status != 405 || h3("请求方式错误：只支持 POST").check(res.body) != nil {
		t.Errorf("GET /OpenApi/Invoke: %d %s", res.status, res.body)
	}
	res = h.do("GET", "/no/such/path", "", "", nil)
	if err := nat(404, "not_found").check(res.body); res.status != 404 || err != nil {
		t.Errorf("GET /no/such/path: %d %s (%v)", res.status, res.body, err)
	}

	// The connector is untouched by the refusals: the same create, sent
	// plainly, is written.
	if _, m := h.h3yunInvoke(t, "demo-engine-secret", string(create)); m["Successful"] != true {
		t.Fatalf("CreateBizObject after the refusals: %v", m)
	}
}
