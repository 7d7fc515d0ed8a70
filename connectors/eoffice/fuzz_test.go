package eoffice

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// FuzzParseQuery: any query string or urlencoded body decodes without
// panicking into JSON-encodable values whose leaves are strings.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"a[b][c]=v", "a[]=1&a[]=2", "search%5Buser_accounts%5D%5B0%5D=x", "a[0][x]=1&a[1][x]=2",
		"a[=1", "[]=1", "a]]=[[", "a[5]=x&a[]=y&a[x][]=z", "%", "a=%zz", strings64()} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := ParseQuery(s)
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("not JSON-encodable: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		var leaves func(v any)
		leaves = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for _, e := range x {
					leaves(e)
				}
			case []any:
				for _, e := range x {
					leaves(e)
				}
			case string:
			default:
				t.Fatalf("leaf %#v is not a string", v)
			}
		}
		leaves(back)
	})
}

func strings64() string {
	s := "a"
	for i := 0; i < 70; i++ {
		s += "[x]"
	}
	return s + "=1"
}

// FuzzCompileSearch: any search text compiles or fails with an *Error;
// a compiled filter only names the list's columns.
func FuzzCompileSearch(f *testing.F) {
	for _, s := range []string{`{"name":["x","like"]}`, `{"n":[[1,9],"between"]}`, `{"multiSearch":{"__relation__":"or","name":["a"]}}`,
		`{"s":[["1","2"],"not_in"]}`, `{"name":"x"}`, `{"$where":["1"]}`, `{"name":[null,"null"]}`, `[1]`, `{"n":[{"a":1},">"]}`} {
		f.Add(s, true, false)
	}
	f.Fuzz(func(t *testing.T, s string, multi, formModeling bool) {
		e, err := CompileSearch(Structured(s), SearchOptions{Columns: testCols, Multi: multi, FormModeling: formModeling})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			return
		}
		checkPaths(t, e)
	})
}

func checkPaths(t *testing.T, e sdk.Expr) {
	ok := func(p sdk.Path) {
		for _, c := range testCols {
			if p.String() == c.Path.String() {
				return
			}
		}
		t.Fatalf("compiled filter names %v", p)
	}
	switch x := e.(type) {
	case nil, sdk.Const:
	case sdk.And:
		for _, i := range x.Items {
			checkPaths(t, i)
		}
	case sdk.Or:
		for _, i := range x.Items {
			checkPaths(t, i)
		}
	case sdk.Not:
		checkPaths(t, x.X)
	case sdk.Cmp:
		ok(x.Path)
	case sdk.In:
		ok(x.Path)
	case sdk.Str:
		ok(x.Path)
	case sdk.Null:
		ok(x.Path)
	default:
		t.Fatalf("unexpected node %T", e)
	}
}

// FuzzOrderBy: any order_by (JSON text or nested form keys) parses or
// fails with an *Error; sorts only name the list's columns.
func FuzzOrderBy(f *testing.F) {
	for _, s := range []string{`{"name":"asc"}`, `[{"n":"desc"},{"key":"s","type":"asc"}]`, `[]`, `{}`, `{"x":"asc"}`, `[1]`, `"s"`} {
		f.Add(s, false)
	}
	f.Add("order_by[name]=desc&order_by[s]=asc", true)
	f.Fuzz(func(t *testing.T, s string, form bool) {
		var req *sdk.Request
		if form {
			req = &sdk.Request{Method: "POST", Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(s), Query: url.Values{}}
		} else {
			req = &sdk.Request{Method: "GET", Headers: http.Header{}, Query: url.Values{"order_by": {s}}}
		}
		l, err := ParseList(&Call{Req: req, In: DecodeRequest(req).In, Method: req.Method}, SearchOptions{Columns: testCols})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not an *Error", err, err)
			}
			return
		}
		for _, so := range l.Sort {
			checkPaths(t, sdk.Cmp{Path: so.Path})
		}
	})
}
