package dabei

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
	"github.com/eimshub/eimshub/plugins/sdk/sdktest"
)

var testForm = &sdk.Form{ID: "form-1", Key: "order", Fields: []sdk.Field{
	{Field: "k_text", Type: "input", Title: "客户"},
	{Field: "k_num", Type: "number", Title: "金额"},
	{Field: "k_sel", Type: "select", Title: "状态", Props: sdk.FieldProps{Options: []sdk.Option{{Value: "new", Label: "新建"}, {Value: "done", Label: "已完成"}}}},
	{Field: "k_multi", Type: "checkbox", Title: "标签", Props: sdk.FieldProps{Options: []sdk.Option{{Value: "a", Label: "甲"}, {Value: "b", Label: "乙"}}}},
	{Field: "k_date", Type: "timestamp", Title: "下单日期"},
	{Field: "k_dup1", Type: "input", Title: "重名"},
	{Field: "k_dup2", Type: "input", Title: "重名"},
	{Field: "k_rows", Type: "tableform", Title: "明细"},
}}

func testCall(t testing.TB) *Call {
	h := sdktest.NewMemHost()
	h.AddAlias("t1", aliasNS, kindUser, "e0000000000000000000000000000001", "u-1")
	c := New().(*Connector)
	return &Call{Host: h, Svc: &sdk.Principal{Tenant: "t1", UserID: "svc", Roles: []string{"admin"}, Scopes: []string{"api.readwrite"}},
		Cfg: c.cfg.Load(), Req: &sdk.Request{PathParams: map[string]string{"form_id": "f0000000000000000000000000000001"}}}
}

func compile(t testing.TB, c *Call, filter string) (sdk.Expr, error) {
	t.Helper()
	var m map[string]any
	v, err := decodeJSON([]byte(filter))
	if err != nil {
		t.Fatalf("bad test filter %s: %v", filter, err)
	}
	m, _ = v.(map[string]any)
	return c.CompileFilter(context.Background(), testForm, m)
}

func TestCompileFilter(t *testing.T) {
	c := testCall(t)
	cases := []struct {
		filter string
		want   string // fmt %#v of the AST, or "" for an error
	}{
		{`{}`, `<nil>`},
		{`{"k_text":"甲公司"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_text"}, Op: sdk.Eq, Value: "甲公司"})},
		{`{"客户":"甲公司"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_text"}, Op: sdk.Eq, Value: "甲公司"})},
		{`{"k_text":""}`, fmt.Sprintf("%#v", sdk.Null{Path: sdk.Path{"data", "k_text"}, IsNull: true})},
		{`{"k_text":null}`, fmt.Sprintf("%#v", sdk.Null{Path: sdk.Path{"data", "k_text"}, IsNull: true})},
		{`{"k_sel":"新建"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_sel", "value"}, Op: sdk.Eq, Value: "new"})},
		{`{"k_sel":["新建","done"]}`, fmt.Sprintf("%#v", sdk.In{Path: sdk.Path{"data", "k_sel", "value"}, Values: []sdk.Value{"new", "done"}})},
		{`{"k_multi":"甲"}`, fmt.Sprintf("%#v", sdk.AnyRow{Array: sdk.Path{"data", "k_multi"}, Pred: sdk.Cmp{Path: sdk.Path{"value"}, Op: sdk.Eq, Value: "a"}})},
		{`{"k_num":"12.5"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_num"}, Op: sdk.Eq, Value: 12.5})},
		{`{"k_num":{"ge":10}}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_num"}, Op: sdk.Ge, Value: 10.0})},
		{`{"k_date":"2025-01-02"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_date"}, Op: sdk.Eq, Value: int64(1735747200000)})},
		{`{"k_date":1735776000000}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_date"}, Op: sdk.Eq, Value: int64(1735776000000)})},
		{`{"k_text":{"like":"甲"}}`, fmt.Sprintf("%#v", sdk.Str{Path: sdk.Path{"data", "k_text"}, Fn: sdk.Contains, Value: "甲"})},
		{`{"k_text":{"empty":false}}`, fmt.Sprintf("%#v", sdk.Null{Path: sdk.Path{"data", "k_text"}, IsNull: false})},
		{`{"k_text":{"nin":["a"]}}`, fmt.Sprintf("%#v", sdk.Not{X: sdk.In{Path: sdk.Path{"data", "k_text"}, Values: []sdk.Value{"a"}}})},
		{`{"sys_status":1}`, fmt.Sprintf("%#v", sdk.In{Path: sdk.Path{"flowStatus"}, Values: []sdk.Value{int64(2), int64(5)}})},
		{`{"sys_create_by":"e0000000000000000000000000000001"}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"createBy", "id"}, Op: sdk.Eq, Value: "u-1"})},
		// Refusals: 10001.
		{`{"no_such_field":1}`, ""},
		{`{"重名":"x"}`, ""},                  // display name not unique
		{`{"k_rows":"x"}`, ""},              // child tables are not comparable
		{`{"k_text":{"$where":"1"}}`, ""},   // not an operator
		{`{"k_text":{"eq":"a","x":1}}`, ""}, // an object with a non-operator key
		{`{"k_text":{}}`, ""},
		{`{"k_text":1}`, fmt.Sprintf("%#v", sdk.Cmp{Path: sdk.Path{"data", "k_text"}, Op: sdk.Eq, Value: "1"})},
		{`{"k_text":{"like":1}}`, ""},
		{`{"k_num":{"like":"1"}}`, ""},
		{`{"k_num":"many"}`, ""},
		{`{"k_sel":"作废"}`, ""},
		{`{"k_sel":{"gt":"新建"}}`, ""},
		{`{"k_multi":{"gt":"甲"}}`, ""},
		{`{"k_text":{"empty":"yes"}}`, ""},
		{`{"k_text":[["a"]]}`, ""},
		{`{"k_text":[{"a":1}]}`, ""},
		{`{"k_date":"tomorrow"}`, ""},
		{`{"k_date":1.5}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := compile(t, c, tc.filter)
			if tc.want == "" {
				var de *Error
				if !errors.As(err, &de) || de.Code != CodeInvalid {
					t.Fatalf("want errcode 10001, got %v (%#v)", err, e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%#v", e)
			if e == nil {
				got = "<nil>"
			}
			if got != tc.want {
				t.Fatalf("\n got  %s\n want %s", got, tc.want)
			}
		})
	}
}

func TestFilterLimit(t *testing.T) {
	c := testCall(t)
	m := map[string]any{"k_num": map[string]any{}}
	ops := map[string]any{}
	for _, op := range []string{"eq", "ne", "gt", "ge", "lt", "le"} {
		ops[op] = json.Number("1")
	}
	m["k_num"] = ops
	if _, err := c.CompileFilter(context.Background(), testForm, m); err != nil {
		t.Fatalf("6 conditions: %v", err)
	}
	big := map[string]any{}
	for i := 0; i < MaxConditions+1; i++ {
		big[fmt.Sprintf("k%d", i)] = "x"
	}
	if _, err := c.CompileFilter(context.Background(), testForm, big); FromHost(err).Code != CodeInvalid {
		t.Fatalf("51 conditions: %v", err)
	}
}

// FuzzFilter: any JSON filter either compiles or is errcode 10001; never
// a panic, never another error.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`{"k_text":"a"}`, `{"k_num":{"ge":1,"lt":"2"}}`, `{"k_sel":["新建"]}`, `{"k_multi":{"nin":["甲"]}}`,
		`{"sys_status":[0,1]}`, `{"id":"x"}`, `{"k_date":"2025-01-01 10:00"}`, `{"k_text":{"like":""}}`} {
		f.Add(s)
	}
	c := testCall(f)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		_, err = c.CompileFilter(context.Background(), testForm, m)
		if err != nil && FromHost(err).Code != CodeInvalid {
			t.Fatalf("%s: %v", s, err)
		}
	})
}

func req(method, target, body string, params map[string]string) *sdk.Request {
	u, _ := url.ParseRequestURI(target)
	return &sdk.Request{Method: method, Path: u.Path, Query: u.Query(), Headers: http.Header{}, Body: []byte(body), PathParams: params}
}

// The tolerance rules of spec 1.2.
func TestTolerance(t *testing.T) {
	params := map[string]string{"app_id": "a0000000000000000000000000000001", "form_id": "f0000000000000000000000000000001", "task_id": "t1"}
	t.Run("strict JSON", func(t *testing.T) {
		for _, b := range []string{`{"a":1,}`, `"{"a":1}`, `{"a":1}}`, `[1]`, `"x"`, `{"a":1} {"b":2}`, "{\"a\":\x01}"} {
			if _, err := ParseInput(req("POST", "/x", b, params)); FromHost(err).Code != CodeInvalid {
				t.Errorf("%q: %v", b, err)
			}
		}
		if in, err := ParseInput(req("POST", "/x", "  ", params)); err != nil || len(in.Body) != 0 {
			t.Errorf("empty body: %v", err)
		}
	})
	t.Run("query or body", func(t *testing.T) {
		in, err := ParseInput(req("POST", "/x?start_flow=false&flow_code=q&user_id=uq", `{"start_flow":true}`, params))
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := in.Bool("start_flow"); !b {
			t.Error("POST: the body wins")
		}
		if s, _ := in.Str("flow_code"); s != "q" {
			t.Error("POST: query fills what the body lacks")
		}
		in, _ = ParseInput(req("GET", "/x?user_id=uq", `{"user_id":"ub","x":"bx"}`, params))
		if s, _ := in.Str("user_id"); s != "uq" {
			t.Error("GET: the query wins")
		}
		if s, _ := in.Str("x"); s != "bx" {
			t.Error("GET: a body fills keys absent from the query")
		}
		for _, v := range []string{"TRUE", "1", "true"} {
			in, _ = ParseInput(req("GET", "/x?r="+v, ``, params))
			if b, err := in.Bool("r"); !b || err != nil {
				t.Errorf("%s: %v %v", v, b, err)
			}
		}
		in, _ = ParseInput(req("GET", "/x?r=maybe", ``, params))
		if _, err := in.Bool("r"); FromHost(err).Code != CodeInvalid {
			t.Error("a non-boolean is 10001")
		}
		in, _ = ParseInput(req("POST", "/x", `{"user_id":{"$ne":""}}`, params))
		if _, err := in.Str("user_id"); FromHost(err).Code != CodeInvalid {
			t.Error("an object where a scalar is expected is 10001")
		}
	})
	t.Run("path wins over body", func(t *testing.T) {
		c := &Call{Req: req("POST", "/x", ``, params)}
		if err := c.checkPathCopies(map[string]any{"app_id": params["app_id"], "form_id": "F0000000000000000000000000000001"}); err != nil {
			t.Errorf("equal copies (any case): %v", err)
		}
		err := c.checkPathCopies(map[string]any{"form_id": "f0000000000000000000000000000002"})
		if e := FromHost(err); e.Code != CodeInvalid || e.message() != "参数不一致：form_id" {
			t.Errorf("differing copy: %v", err)
		}
		if err := c.checkPathCopies(map[string]any{"task_id": []any{"t1"}}); FromHost(err).Code != CodeInvalid {
			t.Error("a non-scalar copy differs")
		}
	})
	t.Run("JSON in a string", func(t *testing.T) {
		for _, v := range []any{map[string]any{"a": "1"}, `{"a":"1"}`, ` {"a":"1"} `} {
			m, err := Object("filter", v)
			if err != nil || m["a"] != "1" {
				t.Errorf("%v: %v %v", v, m, err)
			}
		}
		for _, v := range []any{`[1]`, `{"a":`, json.Number("1"), []any{}} {
			if _, err := Object("filter", v); FromHost(err).Code != CodeInvalid {
				t.Errorf("%v: %v", v, err)
			}
		}
		for _, v := range []any{nil, "", "null"} {
			if m, err := Object("filter", v); m != nil || err != nil {
				t.Errorf("%v: %v %v", v, m, err)
			}
		}
	})
	t.Run("wrapped or flat", func(t *testing.T) {
		for _, body := range []string{
			`{"submitReq":{"userId":"u","approve":{"content":"同意"},"variables":{"k":"v"}}}`,
			`{"denyReq":"{\"userId\":\"u\",\"approve\":{\"content\":\"同意\",\"variables\":{\"k\":\"v\"}}}"}`,
			`{"transferReq":{"user_id":"u","approve":{"content":"同意"},"variables":{"k":"v"}}}`,
			`{"userId":"u","approve":{"content":"同意"},"variables":{"k":"v"}}`,
			`{"user_id":"u","submitReq":{"approve":{"content":"同意"},"variables":"{\"k\":\"v\"}"}}`,
		} {
			in, err := ParseInput(req("POST", "/x", body, params))
			if err != nil {
				t.Fatal(err)
			}
			c := &Call{Req: req("POST", "/x", body, params), In: in}
			obj, _, err := c.actionObject()
			if err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			a, err := c.parseAction(obj)
			if err != nil || a.user != "u" || a.comment != "同意" || a.variables["k"] != "v" {
				t.Errorf("%s: %+v %v", body, a, err)
			}
		}
		in, _ := ParseInput(req("POST", "/x", `{"submitReq":{"userId":"u","transferIds":"e1"}}`, params))
		c := &Call{In: in}
		obj, _, _ := c.actionObject()
		if _, err := c.parseAction(obj); FromHost(err).Code != CodeInvalid {
			t.Error("transferIds must be an array")
		}
	})
}

// The envelope keeps its key order and renders data as a JSON string
// where asked.
func TestEnvelope(t *testing.T) {
	r, _ := okResponse(&result{data: []Obj{{{"id", "x"}, {"name", "研发部<&>"}}}, asString: true})
	if got := string(r.Body); got != `{"errcode":0,"errmsg":"success","data":"[{\"id\":\"x\",\"name\":\"研发部<&>\"}]","success":true}` {
		t.Fatal(got)
	}
	r, _ = okResponse(&result{data: []Obj{}, extra: Obj{{"total", int64(0)}, {"page_no", 1}, {"page_size", 10}}})
	if got := string(r.Body); got != `{"errcode":0,"errmsg":"success","data":[],"success":true,"total":0,"page_no":1,"page_size":10}` {
		t.Fatal(got)
	}
	r = errorResponse(sdk.Errorf(sdk.Forbidden, "no"))
	if got := string(r.Body); got != `{"errcode":40300,"errmsg":"没有权限","data":null,"success":false}` || r.Status != 200 {
		t.Fatal(got)
	}
	// The hub's own refusals in the Dabei envelope.
	rend, err := errorEnvelope().Compile()
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[sdk.Code]string{sdk.Unauthorized: "40001", sdk.RateLimited: "42900", sdk.TooLarge: "10001", sdk.NotFound: "10002",
		sdk.Unavailable: "500", sdk.MethodNotAllowed: "10001", sdk.Forbidden: "40300", sdk.Conflict: "40900", sdk.Internal: "500"} {
		status, _, b := rend.Render(sdk.Errorf(code, "x"), "rid")
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil || fmt.Sprint(m["errcode"]) != want || m["success"] != false || status != 200 {
			t.Errorf("%v: %d %s", code, status, b)
		}
	}
}
