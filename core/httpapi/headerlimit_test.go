package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A request line and headers up to Options.MaxHeaderBytes are served (a
// GET with a long JSON filter in its query string, as e-office and Dabei
// clients send); a longer one is refused before routing with a 4xx in the
// native error envelope, never served or answered 5xx.
func TestMaxHeaderBytes(t *testing.T) {
	app, _ := newTestApp(t, func(d *Deps) { d.Options.MaxHeaderBytes = 16 << 10 })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	get := func(queryLen int) (int, string) {
		t.Helper()
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /api/v1/ping?search=%s HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n", strings.Repeat("a", queryLen))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("query of %d bytes: %v", queryLen, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := get(10 << 10); st != 200 {
		t.Fatalf("10 KiB query: %d %s", st, body)
	}
	st, body := get(20 << 10)
	if st < 400 || st > 499 || !strings.Contains(body, `"code"`) {
		t.Fatalf("20 KiB query: %d %s", st, body)
	}
	t.Logf("over the limit: %d %s", st, body)
}
