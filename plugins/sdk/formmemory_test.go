package sdk_test

import (
	"context"
	"net"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	pb "github.com/eimshub/eimshub/plugins/proto"
	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
)

// wire is the Host API over a real gRPC connection (a Unix socket),
// recording every FindRecords request and answer as they cross it.
// oldHost makes the server drop the fields a host older than the form
// negotiation would not know; lie makes it claim every form unchanged.
type wire struct {
	mu       sync.Mutex
	reqs     []*pb.FindRecordsRequest
	resps    []*pb.DocsResponse
	oldHost  bool
	lie      bool
	client   sdk.Host
	raw      pb.HostClient
	mem      *sdktest.MemHost
	tenantP  sdk.Principal
	otherP   sdk.Principal
	formName string
}

func newWire(t *testing.T) *wire {
	t.Helper()
	w := &wire{mem: sdktest.NewMemHost(), formName: "orders",
		tenantP: sdk.Principal{Tenant: "t1", UserID: "u1", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}},
		otherP:  sdk.Principal{Tenant: "t2", UserID: "u2", Scopes: []string{"api.readwrite"}, Roles: []string{"admin"}}}
	fields := []sdk.Field{{Field: "title", Type: "input", Title: "Title"}, {Field: "level", Type: "select",
		Props: sdk.FieldProps{Options: []sdk.Option{{Value: "hi", Label: "High"}}}}}
	w.mem.AddForm("t1", sdk.Form{ID: "f1", Key: "orders", Name: "Orders", Fields: fields})
	w.mem.AddForm("t2", sdk.Form{ID: "f2", Key: "orders", Name: "Other orders", Fields: fields[:1]})
	for _, p := range []*sdk.Principal{&w.tenantP, &w.otherP} {
		if _, err := w.mem.CreateRecord(context.Background(), p, "orders", map[string]any{"title": "a"}); err != nil {
			t.Fatal(err)
		}
	}
	lis, err := net.Listen("unix", filepath.Join(t.TempDir(), "host.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		fr, ok := req.(*pb.FindRecordsRequest)
		if !ok {
			return h(ctx, req)
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, proto.Clone(fr).(*pb.FindRecordsRequest))
		old, lie := w.oldHost, w.lie
		w.mu.Unlock()
		if old {
			fr.KnownFormId, fr.KnownFormVersion = "", 0
		}
		res, err := h(ctx, fr)
		if r, ok := res.(*pb.DocsResponse); ok && err == nil {
			if lie && r.Form != nil {
				r.Form.FieldsJson, r.FormUnchanged = nil, true
			}
			w.mu.Lock()
			w.resps = append(w.resps, proto.Clone(r).(*pb.DocsResponse))
			w.mu.Unlock()
		}
		return res, err
	}))
	pb.RegisterHostServer(srv, sdk.NewHostServerForTest(w.mem))
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	w.raw = pb.NewHostClient(conn)
	w.client = sdk.NewHostClientForTest(w.raw)
	return w
}

func (w *wire) last() (*pb.FindRecordsRequest, *pb.DocsResponse) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reqs[len(w.reqs)-1], w.resps[len(w.resps)-1]
}

func (w *wire) page(t *testing.T, p *sdk.Principal) sdk.Page {
	t.Helper()
	pg, err := w.client.FindRecords(context.Background(), p, w.formName, sdk.Query{Limit: 10}, false, sdk.WithForm())
	if err != nil {
		t.Fatal(err)
	}
	return pg
}

// wantForm compares pg's form with the host's own answer.
func (w *wire) wantForm(t *testing.T, step string, p *sdk.Principal, pg sdk.Page) {
	t.Helper()
	direct, err := w.mem.FindRecords(context.Background(), p, w.formName, sdk.Query{Limit: 10}, false, sdk.WithForm())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pg.Form, direct.Form) || len(pg.Items) != len(direct.Items) {
		t.Fatalf("%s: form over the wire %+v, the host's %+v", step, pg.Form, direct.Form)
	}
}

// TestFormNegotiation: FindRecords WithForm sends the fields once; later
// pages name the form the plugin has and come without them, until the
// form changes. A host that predates the negotiation (ignores the
// fields) and a plugin that predates it (never names a form) still get
// full forms; tenants never share a remembered form; a host claiming an
// unknown form unchanged is a protocol error, not a form without fields.
func TestFormNegotiation(t *testing.T) {
	t.Run("current host and plugin", func(t *testing.T) {
		w := newWire(t)
		pg := w.page(t, &w.tenantP)
		req, res := w.last()
		if req.KnownFormVersion != 0 || res.FormUnchanged || len(res.Form.FieldsJson) == 0 {
			t.Fatalf("first page: known %d, unchanged %v, fields %q", req.KnownFormVersion, res.FormUnchanged, res.Form.FieldsJson)
		}
		w.wantForm(t, "first page", &w.tenantP, pg)

		pg = w.page(t, &w.tenantP)
		req, res = w.last()
		if req.KnownFormId != "f1" || req.KnownFormVersion != pg.Form.Version || !res.FormUnchanged || len(res.Form.FieldsJson) != 0 {
			t.Fatalf("second page: known %s@%d, unchanged %v, fields %q", req.KnownFormId, req.KnownFormVersion, res.FormUnchanged, res.Form.FieldsJson)
		}
		w.wantForm(t, "second page", &w.tenantP, pg)

		// The other tenant's form of the same key is its own.
		pg = w.page(t, &w.otherP)
		if req, res = w.last(); req.KnownFormVersion != 0 || res.FormUnchanged {
			t.Fatalf("other tenant: known %s@%d, unchanged %v", req.KnownFormId, req.KnownFormVersion, res.FormUnchanged)
		}
		w.wantForm(t, "other tenant", &w.otherP, pg)

		// A changed form comes whole again, then is remembered.
		if _, err := w.mem.UpdateForm("t1", sdk.Form{ID: "f1", Key: "orders", Name: "Orders 2",
			Fields: []sdk.Field{{Field: "title", Type: "textarea", Title: "Title"}}}); err != nil {
			t.Fatal(err)
		}
		pg = w.page(t, &w.tenantP)
		if _, res = w.last(); res.FormUnchanged || len(res.Form.FieldsJson) == 0 {
			t.Fatalf("after a change: unchanged %v, fields %q", res.FormUnchanged, res.Form.FieldsJson)
		}
		w.wantForm(t, "after a change", &w.tenantP, pg)
		pg = w.page(t, &w.tenantP)
		if _, res = w.last(); !res.FormUnchanged {
			t.Fatal("the changed form was not remembered")
		}
		w.wantForm(t, "changed form remembered", &w.tenantP, pg)

		// GetForm's answer is remembered too.
		if _, err := w.client.GetForm(context.Background(), &w.otherP, "orders"); err != nil {
			t.Fatal(err)
		}
		w.page(t, &w.otherP)
		if _, res = w.last(); !res.FormUnchanged {
			t.Fatal("GetForm's form was not remembered")
		}
	})
	t.Run("old host", func(t *testing.T) {
		w := newWire(t)
		w.oldHost = true
		for i := range 3 {
			pg := w.page(t, &w.tenantP)
			if _, res := w.last(); res.FormUnchanged || len(res.Form.FieldsJson) == 0 {
				t.Fatalf("page %d: unchanged %v", i, res.FormUnchanged)
			}
			w.wantForm(t, "old host", &w.tenantP, pg)
		}
	})
	t.Run("old plugin", func(t *testing.T) {
		w := newWire(t)
		for i := range 3 {
			res, err := w.raw.FindRecords(context.Background(), &pb.FindRecordsRequest{
				Principal: sdk.ToProto().Principal(&w.tenantP), Form: "orders", WithForm: true})
			if err != nil || res.Error != nil || res.FormUnchanged || len(res.Form.FieldsJson) == 0 {
				t.Fatalf("page %d: %v %v, unchanged %v", i, err, res.GetError(), res.GetFormUnchanged())
			}
		}
	})
	t.Run("a host claiming an unknown form unchanged", func(t *testing.T) {
		w := newWire(t)
		w.lie = true
		_, err := w.client.FindRecords(context.Background(), &w.tenantP, "orders", sdk.Query{Limit: 10}, false, sdk.WithForm())
		if e := sdk.AsError(err); err == nil || e.Code != sdk.Internal || e.Reason != "connector_protocol" {
			t.Fatalf("err = %v", err)
		}
	})
}
