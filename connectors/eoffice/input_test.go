package eoffice

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

func TestParseQuery(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"a=1&b=2", `{"a":"1","b":"2"}`},
		{"a[b][c]=v", `{"a":{"b":{"c":"v"}}}`},
		{"a[]=v1&a[]=v2", `{"a":["v1","v2"]}`},
		{"a[0][x]=1&a[1][x]=2", `{"a":[{"x":"1"},{"x":"2"}]}`},
		{"search%5Buser_accounts%5D%5B0%5D=zhangsan", `{"search":{"user_accounts":["zhangsan"]}}`},
		{"a[1]=x&a[0]=y", `{"a":{"0":"y","1":"x"}}`}, // not 0..n-1 in order: a map
		{"a=1&a=2", `{"a":"2"}`},
		{"a.b=1&c d=2", `{"a_b":"1","c_d":"2"}`},
		{"a[=1", `{"a_":"1"}`},
		{"a[b=1", `{"a_b":"1"}`},
		{"=x&&b", `{"b":""}`},
		{"x=%zz&y=1", `{"y":"1"}`},
		{"a+b=c+d", `{"a_b":"c d"}`},
		{"a[][x]=1&a[][x]=2", `{"a":[{"x":"1"},{"x":"2"}]}`},
		{"a[5]=x&a[]=y", `{"a":{"5":"x","6":"y"}}`},
		{"form_data[DATA_1]=3&form_data[DATA_101][0][DATA_101_3]=红星路", `{"form_data":{"DATA_1":"3","DATA_101":[{"DATA_101_3":"红星路"}]}}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(ParseQuery(tt.in))
		var a, b any
		_ = json.Unmarshal(got, &a)
		_ = json.Unmarshal([]byte(tt.want), &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("ParseQuery(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	req := func(method, ct, query, body string) *sdk.Request {
		q, _ := url.ParseQuery(query)
		return &sdk.Request{Method: method, Query: q, Headers: http.Header{"Content-Type": {ct}}, Body: []byte(body)}
	}
	tests := []struct {
		name string
		req  *sdk.Request
		want string
	}{
		{"json body wins", req("POST", "application/json", "a=q&b=q", `{"a":1,"c":[true,1.5]}`), `{"a":1,"b":"q","c":[true,1.5]}`},
		{"json on GET read", req("GET", "application/vnd.api+json", "", `{"page":2}`), `{"page":2}`},
		{"form on GET ignored", req("GET", "application/x-www-form-urlencoded", "x=1", "response=count"), `{"x":"1"}`},
		{"form on POST", req("POST", "application/x-www-form-urlencoded", "", "a[b]=1"), `{"a":{"b":"1"}}`},
		{"form on PUT", req("PUT", "application/x-www-form-urlencoded", "", "role_name=x"), `{"role_name":"x"}`},
		{"json not an object", req("POST", "application/json", "a=1", `[1,2]`), `{"a":"1"}`},
		{"json trailing garbage", req("POST", "application/json", "", `{"a":1} x`), `{}`},
		{"malformed json", req("POST", "application/json", "", `{"a":`), `{}`},
		{"multipart on PUT ignored", req("PUT", "multipart/form-data; boundary=b", "", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--"), `{}`},
		{"multipart on POST", req("POST", "multipart/form-data; boundary=b", "", "--b\r\nContent-Disposition: form-data; name=\"a[x]\"\r\n\r\n1\r\n--b--"), `{"a":{"x":"1"}}`},
		{"no content type", req("POST", "", "a=1", "b=2"), `{"a":"1"}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(DecodeRequest(tt.req).In)
		var a, b any
		_ = json.Unmarshal(got, &a)
		_ = json.Unmarshal([]byte(tt.want), &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestQueryOrderIsNatural(t *testing.T) {
	q := url.Values{}
	for i := 0; i < 12; i++ {
		q.Add("a["+itoa(i)+"][x]", itoa(i))
	}
	in := DecodeRequest(&sdk.Request{Method: "GET", Query: q, Headers: http.Header{}}).In
	list, ok := in["a"].([]any)
	if !ok || len(list) != 12 || list[10].(map[string]any)["x"] != "10" {
		t.Fatalf("a = %#v, want a list of 12 in order", in["a"])
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestPHPValues(t *testing.T) {
	for _, tt := range []struct {
		v     any
		empty bool
		i     int64
	}{
		{nil, true, 0}, {"", true, 0}, {"0", true, 0}, {"0.0", false, 0}, {"2x", false, 2}, {"abc", false, 0},
		{int64(0), true, 0}, {int64(7), false, 7}, {3.9, false, 3}, {[]any{}, true, 0}, {map[string]any{}, true, 0},
		{true, false, 1}, {false, true, 0}, {" -5", false, -5},
	} {
		if Empty(tt.v) != tt.empty || IntOf(tt.v) != tt.i {
			t.Errorf("%#v: Empty=%v IntOf=%d, want %v %d", tt.v, Empty(tt.v), IntOf(tt.v), tt.empty, tt.i)
		}
	}
}

func TestStructured(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want any
	}{
		{`{"a":[1,"="]}`, map[string]any{"a": []any{int64(1), "="}}},
		{`{"a":`, nil}, {"", nil}, {"  ", nil}, {`{"a":1} {}`, nil},
		{map[string]any{"x": "y"}, map[string]any{"x": "y"}},
		{`[]`, []any{}},
	} {
		if got := Structured(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Structured(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

var testCols = Columns{"name": {Path: sdk.Path{"name"}}, "n": {Path: sdk.Path{"data", "n"}, Type: TNumber}, "s": {Path: sdk.Path{"status"}, Type: TInt}}

func TestCompileSearch(t *testing.T) {
	p := func(s ...string) sdk.Path { return sdk.Path(s) }
	tests := []struct {
		name   string
		search string
		opts   SearchOptions
		want   sdk.Expr
		err    string
	}{
		{"eq default", `{"name":["x"]}`, SearchOptions{}, sdk.Cmp{Path: p("name"), Op: sdk.Eq, Value: "x"}, ""},
		{"bare scalar", `{"s":"1"}`, SearchOptions{}, sdk.Cmp{Path: p("status"), Op: sdk.Eq, Value: int64(1)}, ""},
		{"bare skipped in form modeling", `{"name":"x"}`, SearchOptions{FormModeling: true}, nil, ""},
		{"like keeps wildcards", `{"name":["a%_b","LIKE"]}`, SearchOptions{}, sdk.Str{Path: p("name"), Fn: sdk.Contains, Value: "a%_b"}, ""},
		{"in comma string", `{"n":["1,2.5","in"]}`, SearchOptions{}, sdk.In{Path: p("data", "n"), Values: []sdk.Value{int64(1), 2.5}}, ""},
		{"not_in empty", `{"name":[[],"not_in"]}`, SearchOptions{}, sdk.Not{X: sdk.Const{Value: false}}, ""},
		{"between", `{"n":[["1","9"],"between"]}`, SearchOptions{}, sdk.And{Items: []sdk.Expr{sdk.Cmp{Path: p("data", "n"), Op: sdk.Ge, Value: int64(1)}, sdk.Cmp{Path: p("data", "n"), Op: sdk.Le, Value: int64(9)}}}, ""},
		{"not_between", `{"n":[[1,9],"not_between"]}`, SearchOptions{}, sdk.Or{Items: []sdk.Expr{sdk.Cmp{Path: p("data", "n"), Op: sdk.Lt, Value: int64(1)}, sdk.Cmp{Path: p("data", "n"), Op: sdk.Gt, Value: int64(9)}}}, ""},
		{"null", `{"name":["","null"]}`, SearchOptions{}, sdk.Null{Path: p("name"), IsNull: true}, ""},
		{"not like pattern", `{"name":["ab%","not like"]}`, SearchOptions{}, sdk.Not{X: sdk.Str{Path: p("name"), Fn: sdk.StartsWith, Value: "ab"}}, ""},
		{"multi or", `{"multiSearch":{"__relation__":"or","name":["a"],"s":[2]}}`, SearchOptions{Multi: true},
			sdk.Or{Items: []sdk.Expr{sdk.Cmp{Path: p("name"), Op: sdk.Eq, Value: "a"}, sdk.Cmp{Path: p("status"), Op: sdk.Eq, Value: int64(2)}}}, ""},
		{"or operator", `{"name":["a"],"s":[2,"or"]}`, SearchOptions{FormModeling: true},
			sdk.Or{Items: []sdk.Expr{sdk.Cmp{Path: p("name"), Op: sdk.Eq, Value: "a"}, sdk.Cmp{Path: p("status"), Op: sdk.Eq, Value: int64(2)}}}, ""},
		{"or outside form modeling", `{"name":["a","or"]}`, SearchOptions{}, nil, "0x000007: Field name is illegal"},
		{"multiSearch not allowed", `{"multiSearch":{}}`, SearchOptions{}, nil, "0x000007: Field multiSearch is illegal"},
		{"unknown field", `{"password":["x"]}`, SearchOptions{}, nil, "0x000007: Field password is illegal"},
		{"unknown operator", `{"name":["x","regexp"]}`, SearchOptions{}, nil, "0x000007: Field name is illegal"},
		{"bad between", `{"n":[[1],"between"]}`, SearchOptions{}, nil, "0x000007: Field n is illegal"},
		{"not an object", `[1,2]`, SearchOptions{}, nil, ""},
	}
	for _, tt := range tests {
		tt.opts.Columns = testCols
		got, err := CompileSearch(Structured(tt.search), tt.opts)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tt.name, got, err, tt.want)
		}
	}
}

func TestDeepSearchIsRefused(t *testing.T) {
	s := `{"name":["x"]}`
	for i := 0; i < 20; i++ {
		s = `{"multiSearch":` + s + `}`
	}
	if _, err := CompileSearch(Structured(s), SearchOptions{Columns: testCols, Multi: true}); err == nil {
		t.Fatal("a search nested 20 deep compiled")
	}
}

func TestParseOrder(t *testing.T) {
	call := func(method, ct, query, body string) *Call {
		q, _ := url.ParseQuery(query)
		req := &sdk.Request{Method: method, Query: q, Headers: http.Header{"Content-Type": {ct}}, Body: []byte(body)}
		return &Call{Req: req, In: DecodeRequest(req).In, Method: method}
	}
	tests := []struct {
		name  string
		c     *Call
		want  []sdk.Sort
		empty bool
		err   bool
	}{
		{"json text in key order", call("GET", "", "order_by="+url.QueryEscape(`{"s":"desc","name":"ASC"}`), ""),
			[]sdk.Sort{{Path: sdk.Path{"status"}, Desc: true}, {Path: sdk.Path{"name"}}}, false, false},
		{"nested form keys in order", call("POST", "application/x-www-form-urlencoded", "", "order_by[s]=asc&order_by[name]=desc"),
			[]sdk.Sort{{Path: sdk.Path{"status"}}, {Path: sdk.Path{"name"}, Desc: true}}, false, false},
		{"json body object in order", call("POST", "application/json", "", `{"order_by":{"name":"desc","s":"asc"}}`),
			[]sdk.Sort{{Path: sdk.Path{"name"}, Desc: true}, {Path: sdk.Path{"status"}}}, false, false},
		{"array forms", call("GET", "", "order_by="+url.QueryEscape(`[{"name":"desc"},{"key":"s","type":"asc"}]`), ""),
			[]sdk.Sort{{Path: sdk.Path{"name"}, Desc: true}, {Path: sdk.Path{"status"}}}, false, false},
		{"empty array", call("POST", "application/x-www-form-urlencoded", "", "order_by=%5B%5D"), nil, true, false},
		{"invalid json is absent", call("GET", "", "order_by=%7B", ""), nil, false, false},
		{"bad direction", call("GET", "", "order_by="+url.QueryEscape(`{"name":"up"}`), ""), nil, false, true},
		{"unknown column", call("GET", "", "order_by="+url.QueryEscape(`{"passwordHash":"asc"}`), ""), nil, false, true},
	}
	for _, tt := range tests {
		l, err := ParseList(tt.c, SearchOptions{Columns: testCols})
		if tt.err {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(l.Sort, tt.want) || l.OrderEmpty != tt.empty {
			t.Errorf("%s: sort %#v empty %v err %v; want %#v %v", tt.name, l.Sort, l.OrderEmpty, err, tt.want, tt.empty)
		}
	}
}

func TestListPaging(t *testing.T) {
	mk := func(query string) *ListParams {
		q, _ := url.ParseQuery(query)
		req := &sdk.Request{Method: "GET", Query: q, Headers: http.Header{}}
		l, err := ParseList(&Call{Req: req, In: DecodeRequest(req).In, Method: "GET"}, SearchOptions{Columns: testCols})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if q := mk("").Query(); q.Limit != -1 || q.Offset != 0 {
		t.Errorf("no page: %+v, want everything", q)
	}
	if q := mk("page=0&limit=1").Query(); q.Limit != -1 {
		t.Errorf("page 0: %+v, want everything", q)
	}
	if q := mk("page=3&limit=20").Query(); q.Limit != 20 || q.Offset != 40 {
		t.Errorf("page 3: %+v", q)
	}
	if q := mk("page=2x&limit=-5").Query(); q.Limit != 0 || q.Offset != 0 {
		t.Errorf("page 2x limit -5: %+v", q)
	}
	l := mk("page=9&limit=10&autoFixPage=1")
	l.FixPage(25)
	if l.Page != 3 {
		t.Errorf("autoFixPage: page %d, want 3", l.Page)
	}
	l = mk("page=9&limit=10&autoFixPage=1")
	l.FixPage(0)
	if l.Page != 0 {
		t.Errorf("autoFixPage with total 0: page %d, want 0", l.Page)
	}
}

func TestRuntime(t *testing.T) {
	for _, d := range []time.Duration{0, 35 * time.Millisecond, 1234 * time.Millisecond, 12345 * time.Millisecond} {
		r := Runtime(time.Now().Add(-d))
		if len(r) == 0 || len(r) > 5 {
			t.Errorf("Runtime(%v) = %q", d, r)
		}
	}
}

func TestEnvelope(t *testing.T) {
	resp, _ := OK(time.Now(), NoData)
	var m map[string]any
	_ = json.Unmarshal(resp.Body, &m)
	if _, has := m["data"]; has || m["status"] != 1.0 {
		t.Errorf("NoData envelope = %s", resp.Body)
	}
	resp, _ = OK(time.Now(), Obj{{"z", "<div>"}, {"a", 1}})
	if want := `{"status":1,"data":{"z":"<div>","a":1},"runtime":`; string(resp.Body[:len(want)]) != want {
		t.Errorf("envelope = %s, want prefix %s", resp.Body, want)
	}
	status, body := ErrorBody(FailField(CodeIllegalField, "x"), LangEN, time.Now())
	if status != 200 || !json.Valid(body) {
		t.Errorf("error envelope %d %s", status, body)
	}
	if s, _ := ErrorBody(Fail(CodeTokenExpired), LangZH, time.Now()); s != 401 {
		t.Errorf("token expired status %d, want 401", s)
	}
	if _, err := errorEnvelope().Compile(); err != nil {
		t.Fatal(err)
	}
}

// Obj marshals through connectors/internal/ordjson, in key order, HTML
// characters unescaped (the writer itself: ordjson's tests).
func TestObjMarshal(t *testing.T) {
	o, _ := Obj{{"z", Obj{{"y", []any{Obj{{"x", "<"}}}}}}, {"a", 1}}.MarshalJSON()
	if string(o) != `{"z":{"y":[{"x":"<"}]},"a":1}` {
		t.Errorf("nested Obj = %s", o)
	}
}
