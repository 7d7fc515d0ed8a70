package httpapi

// Regression tests of issue 10 item 7 (unauthenticated 100 MB bodies):
// every route but the upload routes refuses a body over its limit before
// reading it; the upload routes authenticate first and stream the body to
// the blob store. The hub runs with Serve on a real TCP listener, the real
// identity service and the embedded SQLite store.

import (
	"bufio"
	"bytes"
	"compress/gzip"
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
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/adapters/blob"
	"github.com/eimshub/eimshub/adapters/memory"
	"github.com/eimshub/eimshub/adapters/sqlite"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/identity/identitytest"
)

type bodyHub struct {
	addr  string
	token string
	blobs string
}

// newBodyHub serves the native API with BodyLimit 1 MiB and maxUpload on
// 127.0.0.1:0 and logs in the fixture's admin.
func newBodyHub(t *testing.T, maxUpload int) *bodyHub {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := identitytest.Seed(ctx, st); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	c := memory.NewCache()
	t.Cleanup(func() { _ = c.Close() })
	logger := slog.New(slog.DiscardHandler)
	ident, err := identity.New(identity.Config{SigningKey: key, DefaultTenant: identitytest.Tenant}, st, c, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "blobs")
	disk, err := blob.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	fs := files.New(st, disk, files.Options{MaxUpload: int64(maxUpload), Logger: logger})
	app := New(Deps{Logger: logger, Identity: ident, Files: fs,
		Options: Options{BodyLimit: 1 << 20, MaxUpload: maxUpload}})
	h := &bodyHub{addr: serveTCP(t, app), blobs: root}
	resp, err := http.PostForm("http://"+h.addr+"/connect/token", url.Values{"grant_type": {"password"},
		"username": {"admin"}, "password": {"123456"}, "client_id": {"web"}, "scope": {"api.readwrite"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	h.token = tok.AccessToken
	return h
}

// rawPost writes a request head declaring a body of declared bytes (or a
// chunked one when declared < 0) on a raw TCP connection, then streams
// up to send bytes of it while reading the answer, and returns the status,
// whether the answer closes the connection, and its body.
func rawPost(t *testing.T, addr, path string, hdr map[string]string, declared, send int64) (status int, closes bool, body []byte) {
	return rawPostPrefix(t, addr, path, hdr, declared, "", send)
}

// rawPostPrefix is rawPost whose body starts with prefix.
func rawPostPrefix(t *testing.T, addr, path string, hdr map[string]string, declared int64, prefix string, send int64) (status int, closes bool, body []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: hub\r\n", path)
	for k, v := range hdr {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if declared >= 0 {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", declared)
	} else {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	}
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var sent int64
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		if prefix != "" {
			chunk = append([]byte(prefix), chunk[len(prefix):]...)
		}
		for i := 0; sent < send; i++ {
			if i == 1 {
				chunk = bytes.Repeat([]byte("x"), 64<<10)
			}
			var err error
			if declared < 0 {
				_, err = fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
			} else {
				_, err = conn.Write(chunk)
			}
			if err != nil {
				return // the hub answered and closed the connection
			}
			sent += int64(len(chunk))
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	_ = conn.Close() // stops the writer
	wg.Wait()
	return resp.StatusCode, resp.Close, body
}

func totalAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func wantEnvelope(t *testing.T, status int, body []byte, wantStatus int, code string) {
	t.Helper()
	var env struct {
		ErrorCode int
		Error     struct{ Code string }
	}
	if err := json.Unmarshal(body, &env); err != nil || status != wantStatus || env.ErrorCode != wantStatus || env.Error.Code != code {
		t.Fatalf("answer %d %s, want %d %s", status, body, wantStatus, code)
	}
}

// TestLargeBodiesRefusedUnread: ten concurrent unauthenticated 100 MiB
// POSTs to a JSON route answer 413 in the native envelope, and the hub
// allocates a small fraction of one of them (with the app-wide limit
// raised to the upload limit it buffered each one: ten took it from 356 MB
// to 1.5 GB RSS).
func TestLargeBodiesRefusedUnread(t *testing.T) {
	h := newBodyHub(t, 128<<20)
	const n, size = 10, 100 << 20
	before := totalAlloc()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/api/v1/department"
			if i%2 == 1 {
				path = "/connect/token" // anonymous by design
			}
			status, closes, body := rawPost(t, h.addr, path, map[string]string{"Content-Type": "application/json"}, size, size)
			wantEnvelope(t, status, body, 413, "payload_too_large")
			if !closes {
				t.Error("413 without Connection: close: the unread body would be parsed as the next request")
			}
		}()
	}
	wg.Wait()
	grown := totalAlloc() - before
	t.Logf("allocated %d KiB around %d refused %d MiB bodies", grown>>10, n, size>>20)
	if grown > 16<<20 {
		t.Fatalf("the hub allocated %d MiB around %d refused bodies: it read them", grown>>20, n)
	}

	// A chunked body (no Content-Length) is cut off at the limit.
	status, _, body := rawPost(t, h.addr, "/api/v1/department", map[string]string{"Content-Type": "application/json"}, -1, 8<<20)
	wantEnvelope(t, status, body, 413, "payload_too_large")

	// A gzip bomb: 64 MiB of zeros in ~64 KiB, refused while inflating.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(make([]byte, 64<<20))
	_ = zw.Close()
	req, _ := http.NewRequest("POST", "http://"+h.addr+"/connect/token", bytes.NewReader(gz.Bytes()))
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantEnvelope(t, resp.StatusCode, b, 413, "payload_too_large")

	// Under the limit, bodies (plain or gzip) still reach the handlers.
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	_, _ = zw.Write([]byte("grant_type=password&username=admin&password=123456&client_id=web"))
	_ = zw.Close()
	req, _ = http.NewRequest("POST", "http://"+h.addr+"/connect/token", &small)
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "access_token") {
		t.Fatalf("gzip token request: %d %s", resp.StatusCode, b)
	}
}

// multipartBody is a one-file upload form of size bytes, with the folder
// field after the file.
func multipartBody(size int) (body []byte, ctype string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("0123456789abcdef"), size/16))
	_ = w.WriteField("folder", "bulk")
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// TestUploadStreamed: an authenticated upload larger than the JSON limit
// is stored, streamed (the hub allocates far less than the file); over
// MaxUpload → 413; an unauthenticated upload → 401 without the body read.
func TestUploadStreamed(t *testing.T) {
	h := newBodyHub(t, 16<<20)
	const size = 12 << 20 // > BodyLimit (1 MiB), < MaxUpload (16 MiB)
	body, ctype := multipartBody(size)
	post := func(token string, body []byte) (int, []byte) {
		req, _ := http.NewRequest("POST", "http://"+h.addr+"/api/v1/upload", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	before := totalAlloc()
	status, b := post(h.token, body)
	grown := totalAlloc() - before
	if status != 200 {
		t.Fatalf("upload: %d %s", status, b)
	}
	var out struct {
		Value []map[string]any
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Value) != 1 || out.Value[0]["size"] != float64(size) ||
		out.Value[0]["fileSize"] != float64(size/1000) || out.Value[0]["folder"] != "bulk" {
		t.Fatalf("upload answer: %s", b)
	}
	t.Logf("allocated %d KiB while uploading %d MiB", grown>>10, size>>20)
	if grown > size/2 {
		t.Fatalf("the hub allocated %d MiB for a %d MiB upload: not streamed", grown>>20, size>>20)
	}

	// Over MaxUpload (declared and chunked) → 413.
	auth := map[string]string{"Content-Type": ctype, "Authorization": "Bearer " + h.token}
	status, _, b = rawPost(t, h.addr, "/api/v1/upload", auth, 40<<20, 40<<20)
	wantEnvelope(t, status, b, 413, "payload_too_large")
	// Chunked (no Content-Length): the cap stops the stream.
	status, _, b = rawPostPrefix(t, h.addr, "/api/v1/upload", map[string]string{"Content-Type": "multipart/form-data; boundary=b0",
		"Authorization": "Bearer " + h.token}, -1,
		"--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n", 40<<20)
	wantEnvelope(t, status, b, 413, "payload_too_large")

	// Unauthenticated: 401 before the body is read.
	before = totalAlloc()
	status, closes, b := rawPost(t, h.addr, "/api/v1/upload", map[string]string{"Content-Type": ctype}, 100<<20, 100<<20)
	wantEnvelope(t, status, b, 401, "unauthorized")
	if !closes {
		t.Error("401 on an unread upload body without Connection: close")
	}
	if grown := totalAlloc() - before; grown > 8<<20 {
		t.Fatalf("the hub allocated %d MiB for an unauthenticated upload", grown>>20)
	}
	// Only the first upload left a blob.
	if n := blobCount(t, h.blobs); n != 1 {
		t.Fatalf("%d blobs stored, want 1", n)
	}
}

// TestRouteBodyLimit: Options.RouteBodyLimit gives a route its own limit.
func TestRouteBodyLimit(t *testing.T) {
	app := New(Deps{Logger: slog.New(slog.DiscardHandler), Options: Options{BodyLimit: 1024,
		RouteBodyLimit: func(path string) int {
			if strings.HasPrefix(path, "/big/") {
				return 4096
			}
			return 0
		}}})
	app.Post("/big/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
	app.Post("/small/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
	addr := serveTCP(t, app)
	for _, tc := range []struct {
		path   string
		n      int
		status int
	}{{"/big/echo", 4096, 200}, {"/big/echo", 4097, 413}, {"/small/echo", 1024, 200}, {"/small/echo", 1025, 413}} {
		resp, err := http.Post("http://"+addr+tc.path, "application/json", strings.NewReader(strings.Repeat("x", tc.n)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && len(b) != tc.n) {
			t.Errorf("POST %s %d bytes: %d (%d bytes back), want %d", tc.path, tc.n, resp.StatusCode, len(b), tc.status)
		}
	}
}

func blobCount(t *testing.T, root string) int {
	t.Helper()
	n := 0
	_ = filepath.WalkDir(root, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
