package httpapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestMetricsUnderMixedKeepAliveTraffic is the regression test for the
// /metrics 500 ("collected before with the same name and label values",
// labels such as POS or GETT): the method label was a zero-copy view of
// fasthttp's reused header buffer, so a later request on the same
// keep-alive connection rewrote labels already stored in the metric
// vector. Several keep-alive connections send mixed methods, paths and
// query strings while /metrics is scraped in between: every scrape must
// answer 200 and show only real method labels.
func TestMetricsUnderMixedKeepAliveTraffic(t *testing.T) {
	addr := serveTCP(t, New(Deps{Logger: newTestLog().logger()}))
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"}
	paths := []string{"/healthz", "/api/v1/ping", "/api/v1/department", "/api/v1/department/x1?$top=3",
		"/no/such/route?q=1", "/jlauth/api/v1/ping", "/odata/v1/Departments?$filter=a", "/metricsx"}
	const workers, perWorker = 4, 150
	labelRE := regexp.MustCompile(`method="([^"]*)"`)
	valid := map[string]bool{"GET": true, "POST": true, "PUT": true, "DELETE": true, "PATCH": true,
		"OPTIONS": true, "HEAD": true}

	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One transport per worker with one idle connection: every
			// request of the worker reuses the same keep-alive connection.
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for i := range perWorker {
				m := methods[(i+w)%len(methods)]
				p := paths[(i*7+w)%len(paths)]
				var body io.Reader
				if m == "POST" || m == "PUT" || m == "PATCH" {
					body = strings.NewReader(fmt.Sprintf(`{"n":%d}`, i))
				}
				req, _ := http.NewRequest(m, "http://"+addr+p, body)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errc <- fmt.Errorf("%s %s: %w", m, p, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if i%10 != 0 {
					continue
				}
				resp, err = client.Get("http://" + addr + "/metrics")
				if err != nil {
					errc <- fmt.Errorf("GET /metrics: %w", err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errc <- fmt.Errorf("GET /metrics after %d requests = %d: %.300s", i, resp.StatusCode, b)
					return
				}
				for _, lm := range labelRE.FindAllStringSubmatch(string(b), -1) {
					if !valid[lm[1]] {
						errc <- fmt.Errorf("/metrics shows method label %q", lm[1])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	// And the counters are keyed by route pattern and method, not raw path.
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `route="/api/v1/ping"`) || strings.Contains(string(b), "x1") {
		t.Fatalf("final /metrics = %d:\n%.2000s", resp.StatusCode, b)
	}
}

func TestMethodLabel(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "PATCH": "PATCH", "OPTIONS": "OPTIONS",
		"PROPFIND": "OTHER", "": "OTHER", "get": "OTHER"} {
		if got := methodLabel(in); got != want {
			t.Errorf("methodLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// serveTCP runs Serve on 127.0.0.1:0 until the test ends and returns the
// bound address.
func serveTCP(t *testing.T, app *fiber.App) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, app, "127.0.0.1:0", 0, nil, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return <-ready
}
