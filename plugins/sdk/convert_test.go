package sdk_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	pb "github.com/eimshub/eimshub/plugins/proto"
	"github.com/eimshub/eimshub/plugins/sdk"
	"google.golang.org/protobuf/proto"
)

// roundTrip sends a message through protobuf bytes, as the wire does.
func roundTrip[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := m.ProtoReflect().New().Interface().(M)
	if err := proto.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestErrorRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   error
		want *errs.Error
	}{
		{"not found", errs.NotFoundf("record %q", "r1"), &errs.Error{Code: errs.NotFound, Msg: `record "r1"`, Pos: -1}},
		{"parse error keeps position", errs.Invalidf("bad").WithReason("invalid_filter").WithTarget("$filter").WithPos(7),
			&errs.Error{Code: errs.Invalid, Reason: "invalid_filter", Msg: "bad", Target: "$filter", Pos: 7}},
		{"details", errs.Invalidf("x").WithDetails(errs.Detail{Code: "required", Message: "m", Target: "data/a"}),
			&errs.Error{Code: errs.Invalid, Msg: "x", Pos: -1, Details: []errs.Detail{{Code: "required", Message: "m", Target: "data/a"}}}},
		{"rate limited keeps retry-after", &errs.Error{Code: errs.RateLimited, Msg: "slow down", RetryAfter: 3, Pos: -1},
			&errs.Error{Code: errs.RateLimited, Msg: "slow down", RetryAfter: 3, Pos: -1}},
		{"plain error becomes internal without its text", http.ErrBodyNotAllowed,
			&errs.Error{Code: errs.Internal, Msg: "internal error", Pos: -1}},
	}
	for _, c := range []errs.Code{errs.Conflict, errs.Unauthorized, errs.Forbidden, errs.Unavailable, errs.TooLarge, errs.UnsupportedMedia, errs.MethodNotAllowed, errs.Internal} {
		tests = append(tests, struct {
			name string
			in   error
			want *errs.Error
		}{c.String(), errs.New(c, "m"), &errs.Error{Code: c, Msg: "m", Pos: -1}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sdk.FromProto().Error(roundTrip(t, sdk.ToProto().Error(tt.in, pb.Source_SOURCE_HOST)))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
	if sdk.ToProto().Error(nil, pb.Source_SOURCE_HOST) != nil || sdk.FromProto().ErrorOrNil(nil) != nil {
		t.Error("nil error must stay nil")
	}
}

func TestQueryRoundTrip(t *testing.T) {
	p := query.Path{"data", "amount"}
	tests := []struct {
		name string
		in   query.Query
	}{
		{"empty", query.Query{}},
		{"paging and sort", query.Query{Limit: -1, Offset: 20, Sort: []query.Sort{{Path: p, Desc: true}, {Path: query.Path{"id"}}}}},
		{"cmp of every value type", query.Query{Filter: query.And{Items: []query.Expr{
			query.Cmp{Path: p, Op: query.Gt, Value: 1.5},
			query.Cmp{Path: query.Path{"createTime"}, Op: query.Le, Value: int64(1700000000000)},
			query.Cmp{Path: query.Path{"data", "name"}, Op: query.Eq, Value: "a\x00b"},
			query.Cmp{Path: query.Path{"data", "ok"}, Op: query.Ne, Value: false},
			query.Cmp{Path: p, Op: query.Ge, Value: 0.0},
			query.Cmp{Path: p, Op: query.Lt, Value: -2.0},
		}}}},
		{"or, not, in, str, null, const", query.Query{Filter: query.Or{Items: []query.Expr{
			query.Not{X: query.In{Path: p, Values: []query.Value{int64(1), "x", true, 2.5}}},
			query.Str{Path: query.Path{"data", "t"}, Fn: query.Contains, Value: "ab"},
			query.Str{Path: query.Path{"data", "t"}, Fn: query.StartsWith, Value: ""},
			query.Str{Path: query.Path{"data", "t"}, Fn: query.EndsWith, Value: "z"},
			query.Null{Path: p, IsNull: true},
			query.Null{Path: p},
			query.Const{Value: true},
			query.Const{},
		}}}},
		{"anyrow with element-relative empty path", query.Query{Filter: query.AnyRow{
			Array: query.Path{"data", "lines"},
			Pred:  query.And{Items: []query.Expr{query.Cmp{Path: query.Path{}, Op: query.Eq, Value: "x"}, query.Or{}}},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pq, err := sdk.ToProto().Query(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sdk.FromProto().Query(roundTrip(t, pq))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normPaths(got), normPaths(tt.in)) {
				t.Errorf("got  %#v\nwant %#v", got, tt.in)
			}
		})
	}
}

// normPaths treats nil and empty paths/slices alike (protobuf does).
func normPaths(q query.Query) string {
	b, _ := jsonMarshal(q)
	return strings.ReplaceAll(string(b), "null", "[]")
}

func TestQueryToProtoRejects(t *testing.T) {
	bad := []query.Expr{
		query.Cmp{Path: query.Path{"a"}, Op: query.Eq, Value: []int{1}},
		query.Cmp{Path: query.Path{"a"}, Op: query.Op(99), Value: "x"},
		query.Not{},
		query.AnyRow{Array: query.Path{"a"}},
		query.And{Items: []query.Expr{nil}},
	}
	for _, e := range bad {
		if _, err := sdk.ToProto().Expr(e); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("ToProto(%#v) err = %v, want Invalid", e, err)
		}
	}
	if _, err := sdk.FromProto().Expr(&pb.Expr{}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("empty node: err = %v, want Invalid", err)
	}
	deep := &pb.Expr{Node: &pb.Expr_Const{Const: true}}
	for range 100 {
		deep = &pb.Expr{Node: &pb.Expr_Not{Not: deep}}
	}
	if _, err := sdk.FromProto().Expr(deep); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("deep tree: err = %v, want Invalid", err)
	}
}

func TestRequestResponseInfoRoundTrip(t *testing.T) {
	req := &sdk.Request{
		Method: "POST", Path: "/acme/x/1", Route: "/x/:id", PathParams: map[string]string{"id": "1"},
		Query: url.Values{"a": {"1", "2"}}, Headers: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"k":1}`), Principal: &sdk.Principal{Tenant: "t1", UserID: "u1", Scopes: []string{"api.read"}, AuthTime: 9},
		ClientIP: "10.0.0.1", RequestID: "rid", StoreVersion: "00ff",
	}
	if got := sdk.FromProto().Request(roundTrip(t, sdk.ToProto().Request(req))); !reflect.DeepEqual(got, req) {
		t.Errorf("request: got %#v", got)
	}
	resp := &sdk.Response{Status: 201, Headers: http.Header{"X-A": {"1"}}, Body: []byte("b")}
	if got := sdk.FromProto().Response(roundTrip(t, sdk.ToProto().Response(resp))); !reflect.DeepEqual(got, resp) {
		t.Errorf("response: got %#v", got)
	}
	info := sdk.Info{ID: "x", Version: "1", Description: "d",
		Routes: []sdk.Route{{Method: "GET", Path: "/a", Auth: sdk.AuthBearer}, {Method: "POST", Path: "/b", Auth: sdk.AuthConnector}, {Method: "GET", Path: "/c", ErrorStatusByCode: true},
			{Method: "POST", Path: "/d", Auth: sdk.AuthClientSecret, Credentials: sdk.ClientCredentials{
				IDHeaders: []string{"EngineCode"}, SecretHeaders: []string{"EngineSecret", "X-Secret"}, IDQuery: []string{"client_id"}, SecretQuery: []string{"client_secret"}}}},
		ErrorEnvelope: sdk.ErrorEnvelope{ContentType: "text/xml", Status: 200, BodyTemplate: "<e>{{.Code}}</e>"}}
	got, err := sdk.FromProto().Info(roundTrip(t, sdk.ToProto().Info(info)))
	if err != nil || !reflect.DeepEqual(got, info) {
		t.Errorf("info: got %#v, %v", got, err)
	}
	if _, err := sdk.FromProto().Info(&pb.Info{Routes: []*pb.Route{{Method: "GET", Path: "/", Auth: 42}}}); err == nil {
		t.Error("unknown auth scheme must be refused")
	}
}

func TestDocNumbers(t *testing.T) {
	d, err := sdk.FromProto().Doc([]byte(`{"i":3,"f":1.5,"e":1e3,"big":9007199254740993,"nested":{"a":[1,2.5]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Doc{"i": int64(3), "f": 1.5, "e": 1000.0, "big": int64(9007199254740993), "nested": map[string]any{"a": []any{int64(1), 2.5}}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %#v", d)
	}
}
