package host_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eimshub/eimshub/plugins/host"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// holderID is an in-process test connector that keeps a request past its
// timeout and reads it later (issue 10 finding 6: the request it was handed
// must not alias fasthttp's reused buffers).
const holderID = "outlive-holder"

// holder's channels: the held request is announced on held, read after
// release, and what the connector then sees is sent on seen.
var (
	holderHeld    = make(chan struct{}, 1)
	holderRelease = make(chan struct{})
	holderSeen    = make(chan snapshot, 1)
)

type snapshot struct {
	Method, Path, Param, Query, Header, Body, IP, RequestID string
}

func snap(r *sdk.Request) snapshot {
	return snapshot{Method: r.Method, Path: r.Path, Param: r.PathParams["id"], Query: r.Query.Get("q"),
		Header: r.Headers.Get("X-Probe"), Body: string(r.Body), IP: r.ClientIP, RequestID: r.RequestID}
}

type holder struct{}

func (holder) Info() sdk.Info {
	routes := []sdk.Route{}
	for _, m := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
		routes = append(routes, sdk.Route{Method: m, Path: "/hold/:id"})
	}
	return sdk.Info{ID: holderID, Version: "1", Routes: routes, New: func() sdk.Connector { return holder{} }}
}

func (holder) Handle(_ context.Context, req *sdk.Request, _ sdk.Host) (*sdk.Response, error) {
	if req.Headers.Get("X-Hold") == "" {
		return &sdk.Response{Status: 200, Body: []byte("fast")}, nil
	}
	// Ignore ctx on purpose: the host answers the caller at the timeout
	// and this goroutine goes on holding req.
	holderHeld <- struct{}{}
	<-holderRelease
	holderSeen <- snap(req)
	return &sdk.Response{Status: 200}, nil
}

func init() { sdk.Register(holder{}.Info()) }

// TestInprocRequestOutlivesTimeout: an in-process connector still holding
// a request after the host gave up on it (timeout) reads it while other
// requests, with other methods, paths, params, headers and bodies of the
// same lengths, reuse fasthttp's buffers. It must see its original values
// (and, under -race, no data race with fasthttp's writes).
func TestInprocRequestOutlivesTimeout(t *testing.T) {
	f := newFixture(t, []host.Config{{ID: holderID, Enabled: true, Isolation: host.InProc, Timeout: 50 * time.Millisecond}},
		host.Options{}, nil)
	want := snapshot{Method: "PATCH", Path: "/hold/AAAA1111", Param: "AAAA1111", Query: "qqqq-orig", Header: "probe-orig",
		Body: `{"v":"body-orig"}`, IP: "203.0.113.10", RequestID: "rid-orig-0001"}
	a := f.do(t, want.Method, "/hold/AAAA1111?q=qqqq-orig", want.Body, map[string]string{"X-Hold": "1", "X-Probe": want.Header,
		"X-Real-Ip": want.IP, "X-Request-Id": want.RequestID})
	if a.Status < 500 {
		t.Fatalf("held request answered %+v, want the timeout", a)
	}
	<-holderHeld
	methods := []string{"GET", "PUT", "POST", "DELETE"}
	for i := range 40 {
		id := fmt.Sprintf("BBBB%04d", i)
		b := f.do(t, methods[i%len(methods)], "/hold/"+id+"?q=qqqq-"+strings.Repeat("x", 4)[:4],
			fmt.Sprintf(`{"v":"body-%04d"}`, i), map[string]string{"X-Probe": fmt.Sprintf("probe-%04d", i),
				"X-Real-Ip": fmt.Sprintf("198.51.100.%d", 10+i%80), "X-Request-Id": fmt.Sprintf("rid-new-%05d", i)})
		if b.Status != http.StatusOK || b.Body != "fast" {
			t.Fatalf("request %d: %+v", i, b)
		}
	}
	close(holderRelease)
	if got := <-holderSeen; !reflect.DeepEqual(got, want) {
		t.Errorf("the held request changed under the connector:\n got  %+v\n want %+v", got, want)
	}
}
