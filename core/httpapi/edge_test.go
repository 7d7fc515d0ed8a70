package httpapi

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
)

// TestEdgeErrorHook: Options.EdgeError is offered every error the server
// renders itself, as an *errs.Error of the right code (a panic's text and
// fiber's router messages never reach it); when it answers, its answer is
// sent and the connection handling stays the server's; when it declines,
// the native envelope answers.
func TestEdgeErrorHook(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []*errs.Error
	)
	hook := func(c *fiber.Ctx, err error) bool {
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("hook got %T, want *errs.Error", err)
			return false
		}
		mu.Lock()
		seen = append(seen, e)
		mu.Unlock()
		if !strings.HasPrefix(strings.ToLower(c.Path()), "/dialect/") {
			return false
		}
		c.Status(299)
		return c.SendString("dialect:"+e.Code.String()+":"+e.Msg) == nil
	}
	app := New(Deps{Logger: slog.New(slog.DiscardHandler), Options: Options{BodyLimit: 1024, EdgeError: hook}})
	for _, p := range []string{"/dialect", "/native"} {
		app.Post(p+"/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
		app.Get(p+"/panic", func(*fiber.Ctx) error { panic("secret") })
		app.Get(p+"/conflict", func(*fiber.Ctx) error { return errs.New(errs.Conflict, "taken") })
		app.Get(p+"/internal", func(*fiber.Ctx) error { return errs.New(errs.Internal, "secret dsn") })
	}
	addr := serveTCP(t, app)

	big := strings.Repeat("x", 1025)
	for _, tc := range []struct {
		method, path, body, encoding string
		code                         errs.Code
		msg                          string // the message the hook sees ("" for the router's and a panic's)
		nativeStatus                 int
		closes                       bool
	}{
		{"POST", "/echo", big, "", errs.TooLarge, "the request body exceeds 1024 bytes", 413, true},
		{"POST", "/echo", "{}", "br", errs.UnsupportedMedia, `Content-Encoding "br" is not supported`, 415, true},
		{"POST", "/echo", "{}", "gzip", errs.Invalid, "the gzip request body is malformed", 400, true},
		{"GET", "/nope", "", "", errs.NotFound, "", 404, false},
		{"GET", "/echo", "", "", errs.MethodNotAllowed, "", 405, false},
		{"GET", "/panic", "", "", errs.Internal, "", 500, false},
		{"GET", "/conflict", "", "", errs.Conflict, "taken", 409, false},
		{"GET", "/internal", "", "", errs.Internal, "", 500, false}, // an internal error's text never reaches the hook
	} {
		for _, side := range []string{"/dialect", "/native"} {
			seen = nil
			status, closes, body := rawRequest(t, addr, tc.method, side+tc.path, tc.body, tc.encoding)
			if len(seen) != 1 || seen[0].Code != tc.code || seen[0].Msg != tc.msg {
				t.Errorf("%s %s%s: hook saw %+v, want %v %q", tc.method, side, tc.path, seen, tc.code, tc.msg)
			}
			if side == "/dialect" {
				if want := "dialect:" + tc.code.String() + ":" + tc.msg; status != 299 || body != want {
					t.Errorf("%s %s%s: %d %s, want the hook's %s", tc.method, side, tc.path, status, body, want)
				}
			} else {
				wantEnvelope(t, status, []byte(body), tc.nativeStatus, codeTable[tc.code].code)
			}
			if closes != tc.closes {
				t.Errorf("%s %s%s: Connection: close %v, want %v", tc.method, side, tc.path, closes, tc.closes)
			}
		}
	}
}

// rawRequest sends one request on its own connection and returns the
// status, whether the answer closes the connection, and the body.
func rawRequest(t *testing.T, addr, method, path, body, encoding string) (int, bool, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if body == "" {
		req.Body = nil
	}
	req.Header.Set("Content-Type", "application/json")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	tr := &http.Transport{} // a connection of its own
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, res.Close, string(b)
}

// TestUploadExemptionOnlyForNativeUploads: the upload routes (root and
// PathPrefixes) skip the body limit, a path that merely ends the same way
// (a connector's catch-all) does not.
func TestUploadExemptionOnlyForNativeUploads(t *testing.T) {
	up := uploadPaths([]string{"jlauth/"})
	for path, want := range map[string]bool{
		"/api/v1/upload": true, "/API/v1/Upload/": true, "/api/v1/Upload/Upload": true, "/jlauth/api/v1/upload": true,
		"/eoffice10/server/public/api/v1/upload": false, "/x/api/v1/upload": false, "/api/v1/upload/x": false, "/": false,
	} {
		if got := isUploadPath(up, path); got != want {
			t.Errorf("isUploadPath(%s) = %v, want %v", path, got, want)
		}
	}
}
