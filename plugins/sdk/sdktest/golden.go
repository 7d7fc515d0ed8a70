package sdktest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

var update = flag.Bool("update", false, "rewrite sdktest golden files with the actual host calls and responses")

// Resetter is a connector (or a test's wrapper of one) that keeps state
// between requests and can drop it; see RunGolden.
type Resetter interface {
	Reset(ctx context.Context) error
}

// Golden file sections are separated by these lines.
const (
	sepHost     = "--- host"
	sepResponse = "--- response"
)

// PrincipalHeader is a pseudo-header of golden requests: its JSON value
// (an sdk.Principal) becomes Request.Principal, as the host would set it on
// an AuthBearer or AuthClientSecret route once it verified the caller. It
// is not passed on as a header.
//
// On an AuthClientSecret route, a golden request without it stands for
// credentials the host refused: the connector is not called, the response
// is the host's Unauthorized in the connector's envelope (HostError) and
// the host section must be empty. The route's secret headers and query
// parameters are removed before the connector sees the request, as the
// host does.
const PrincipalHeader = "X-Sdktest-Principal"

// HostError renders err as the host does for route r of the connector
// described by info (refused credentials, rate limit, plugin down): the
// connector's ErrorEnvelope, with the code's HTTP status when the route
// sets ErrorStatusByCode.
func HostError(info sdk.Info, r sdk.Route, err error, requestID string) (*sdk.Response, error) {
	renderer, cerr := info.ErrorEnvelope.Compile()
	if cerr != nil {
		return nil, cerr
	}
	status, ct, body := renderer.Render(err, requestID)
	if r.ErrorStatusByCode {
		status = sdk.HTTPStatus(sdk.AsError(err).Code)
	}
	return &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: body}, nil
}

// StripSecret removes r's secret headers and query parameters from req,
// as the host does before the hop on an AuthClientSecret route.
func StripSecret(r sdk.Route, req *sdk.Request) {
	if r.Auth != sdk.AuthClientSecret {
		return
	}
	for _, h := range r.Credentials.SecretHeaders {
		http.Header(req.Headers).Del(h)
	}
	for _, q := range r.Credentials.SecretQuery {
		req.Query.Del(q)
	}
}

// RunGolden runs every dir/*.golden file against c, one subtest each. A file
// has three sections:
//
//	POST /OpenApi/Invoke?x=1          ← the request: method and target,
//	Content-Type: application/json    ← headers (X-Sdktest-Principal: {...}),
//	                                  ← a blank line,
//	{"ActionName":"LoadBizObject"}    ← the body
//	--- host
//	[{"method":"GetRecord","args":{...},"result":{...}}]   ← host calls, canned results
//	--- response
//	200                               ← status,
//	Content-Type: application/json    ← headers to check,
//	                                  ← a blank line,
//	{"Successful":true}               ← the body (JSON compared semantically)
//
// The connector's host calls are answered from the canned results in order,
// and must match them (method and args). An error the connector returns is
// rendered with its ErrorEnvelope, as the hub would. Run the test with
// -update to rewrite the host and response sections from what happened.
//
// A connector that keeps state between requests (a cache of forms, say)
// implements Resetter: RunGolden resets it before every file, so each file
// runs from the same cold state whatever the order the files run in.
func RunGolden(t *testing.T, c sdk.Connector, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("sdktest.RunGolden: no *.golden files in %s", dir)
	}
	info := c.Info()
	renderer, err := info.ErrorEnvelope.Compile()
	if err != nil {
		t.Fatalf("connector %s: %v", info.ID, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".golden"), func(t *testing.T) {
			if r, ok := c.(Resetter); ok {
				if err := r.Reset(context.Background()); err != nil {
					t.Fatalf("reset the connector: %v", err)
				}
			}
			runGoldenFile(t, c, info, renderer, file)
		})
	}
}

type goldenFile struct {
	request  string
	calls    []Call
	response string
}

func splitGolden(b []byte) (goldenFile, error) {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	hi := strings.Index(s, "\n"+sepHost+"\n")
	ri := strings.Index(s, "\n"+sepResponse+"\n")
	if hi < 0 || ri < hi {
		return goldenFile{}, fmt.Errorf("want sections separated by %q and %q lines", sepHost, sepResponse)
	}
	g := goldenFile{request: s[:hi], response: strings.TrimSpace(s[ri+len(sepResponse)+2:])}
	host := strings.TrimSpace(s[hi+len(sepHost)+2 : ri])
	if host != "" {
		if err := json.Unmarshal([]byte(host), &g.calls); err != nil {
			return goldenFile{}, fmt.Errorf("host section: %w", err)
		}
	}
	return g, nil
}

// parseHead parses "first line, headers, blank line, body".
func parseHead(s string) (first string, h http.Header, body []byte, err error) {
	head, rest, _ := strings.Cut(s, "\n\n")
	sc := bufio.NewScanner(strings.NewReader(head))
	h = http.Header{}
	for sc.Scan() {
		line := sc.Text()
		if first == "" {
			first = strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return "", nil, nil, fmt.Errorf("bad header line %q", line)
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return first, h, []byte(strings.TrimRight(rest, "\n")), nil
}

func buildRequest(info sdk.Info, s string) (*sdk.Request, sdk.Route, error) {
	req, r, err := buildRequestRoute(info, s)
	if err == nil {
		StripSecret(r, req)
	}
	return req, r, err
}

func buildRequestRoute(info sdk.Info, s string) (*sdk.Request, sdk.Route, error) {
	first, h, body, err := parseHead(s)
	if err != nil {
		return nil, sdk.Route{}, err
	}
	method, target, ok := strings.Cut(first, " ")
	if !ok {
		return nil, sdk.Route{}, fmt.Errorf("request line %q: want METHOD TARGET", first)
	}
	u, err := url.ParseRequestURI(strings.TrimSpace(target))
	if err != nil {
		return nil, sdk.Route{}, fmt.Errorf("request target: %w", err)
	}
	req := &sdk.Request{Method: method, Path: u.Path, Query: u.Query(), Headers: h, Body: body,
		ClientIP: "192.0.2.1", RequestID: "golden", PathParams: map[string]string{}}
	if pj := h.Get(PrincipalHeader); pj != "" {
		req.Principal = &sdk.Principal{}
		if err := json.Unmarshal([]byte(pj), req.Principal); err != nil {
			return nil, sdk.Route{}, fmt.Errorf("%s: %w", PrincipalHeader, err)
		}
		h.Del(PrincipalHeader)
	}
	for _, r := range info.Routes {
		if r.Method != method {
			continue
		}
		if params, ok := MatchRoute(r.Path, u.Path); ok {
			req.Route, req.PathParams = r.Path, params
			return req, r, nil
		}
	}
	return nil, sdk.Route{}, fmt.Errorf("no route of connector %s matches %s %s", info.ID, method, u.Path)
}

// MatchRoute matches a Fiber-style pattern ("/a/:id", "/files/*") against
// path and returns the parameters ("*" is named "*").
func MatchRoute(pattern, path string) (map[string]string, bool) {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range ps {
		if p == "*" {
			params["*"] = strings.Join(xs[min(i, len(xs)):], "/")
			return params, true
		}
		if i >= len(xs) {
			return nil, false
		}
		if strings.HasPrefix(p, ":") {
			params[strings.TrimSuffix(p[1:], "?")] = xs[i]
			continue
		}
		if p != xs[i] {
			return nil, false
		}
	}
	return params, len(ps) == len(xs)
}

func renderResponse(resp *sdk.Response) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(resp.Status) + "\n")
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Headers[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.Write(prettyJSON(resp.Body))
	return strings.TrimSpace(b.String())
}

// prettyJSON indents b when it is JSON, else returns it unchanged.
func prettyJSON(b []byte) []byte {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return out
}

func normJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return string(bytes.TrimSpace(b))
	}
	out, _ := json.Marshal(v)
	return string(out)
}

func runGoldenFile(t *testing.T, c sdk.Connector, info sdk.Info, renderer *sdk.ErrorRenderer, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	g, err := splitGolden(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	req, route, err := buildRequest(info, g.request)
	if err != nil {
		t.Fatalf("%s: request: %v", file, err)
	}
	host := &RecordingHost{Canned: g.calls}
	var (
		resp *sdk.Response
		herr error
	)
	if route.Auth == sdk.AuthClientSecret && req.Principal == nil {
		// The host refused the credentials: the connector is not called.
		resp, err = HostError(info, route, sdk.Errorf(sdk.Unauthorized, "invalid client credentials"), req.RequestID)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		resp, herr = sdk.SafeHandle(context.Background(), c, req, host)
	}
	if herr != nil {
		status, ct, body := renderer.Render(herr, req.RequestID)
		resp = &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: body}
	}
	calls := host.Calls()
	got := renderResponse(resp)

	if *update {
		hostJSON, _ := json.MarshalIndent(calls, "", "  ")
		if len(calls) == 0 {
			hostJSON = []byte("[]")
		}
		out := strings.TrimRight(g.request, "\n") + "\n" + sepHost + "\n" + string(hostJSON) + "\n" + sepResponse + "\n" + got + "\n"
		if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}

	// Host calls: method and args, in order.
	for i := 0; i < max(len(calls), len(g.calls)); i++ {
		switch {
		case i >= len(calls):
			t.Errorf("host call #%d: connector did not make the expected %s %s", i+1, g.calls[i].Method, g.calls[i].Args)
		case i >= len(g.calls):
			t.Errorf("host call #%d: unexpected %s %s", i+1, calls[i].Method, calls[i].Args)
		case calls[i].Method != g.calls[i].Method || normJSON(calls[i].Args) != normJSON(g.calls[i].Args):
			t.Errorf("host call #%d:\n got  %s %s\n want %s %s", i+1, calls[i].Method, normJSON(calls[i].Args), g.calls[i].Method, normJSON(g.calls[i].Args))
		}
	}

	// Response: status, the headers the file lists, body.
	wantStatus, wantH, wantBody, err := parseHead(g.response)
	if err != nil {
		t.Fatalf("%s: response section: %v", file, err)
	}
	if wantStatus != strconv.Itoa(resp.Status) {
		t.Errorf("status = %d, want %s", resp.Status, wantStatus)
	}
	for k := range wantH {
		if gv, wv := http.Header(resp.Headers).Get(k), wantH.Get(k); gv != wv {
			t.Errorf("header %s = %q, want %q", k, gv, wv)
		}
	}
	if normJSON(resp.Body) != normJSON(wantBody) {
		t.Errorf("body:\n got  %s\n want %s", normJSON(resp.Body), normJSON(wantBody))
	}
}
