package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// The form and workflow designer of the EIMSNext web client against the
// running hub (spec eims-native.md §12.6.1, §12.10, §12.11, test vectors
// WTV-8 to WTV-11 and the §12.11 part of WTV-20, checklist items 19–22 and
// 30–32): the client's bodies under the client's set names (FormDef, App,
// WfDefinition), once on /api/v1 and once on /odata/v1 (where enums are
// numeric strings, §12.13). The version actions and records stay on
// /api/v1, as the client calls them.

// designerOptions is the options string the client gives a new form (WTV-8).
const designerOptions = `{"info":{"align":"left"},"form":{"inline":false,"hideRequiredAsterisk":false,"labelPosition":"top","size":"default","labelWidth":"auto"},"resetBtn":{"show":false,"innerText":"重置"},"submitBtn":{"show":false,"innerText":"提交"}}`

// wtv9Layout is WTV-9's layout (rows, columns and a button around six fields).
const wtv9Layout = `[{"type":"input","field":"jreason000000001","title":"事由","$required":true,"props":{}},{"type":"fcRow","children":[{"type":"col","children":[{"type":"number","field":"jamount000000001","title":"金额","props":{}}]}]},{"type":"select","field":"jregion000000001","title":"区域","props":{},"options":[{"label":"华东","value":"east"},{"label":"华南","value":"south"}]},{"type":"timestamp","field":"jdate00000000001","title":"日期","props":{"format":"YYYY-MM-DD"}},{"type":"fileupload","field":"jfiles0000000001","title":"附件","props":{"action":"/upload"}},{"type":"tableform","field":"jitems0000000001","title":"明细","props":{"columns":[{"label":"数量","style":{},"rule":[{"type":"number","field":"jqty000000000001","title":"数量"}]}]}},{"type":"elButton","children":["确定"]}]`

// wtv11Flow is WTV-11's designer flow data: one approval node, bob.
const wtv11Flow = `{"startNode":{"id":"js1","nodeType":1,"name":"开始","metadata":{}},"nodes":[{"id":"jn1","nodeType":7,"name":"主管审批","metadata":{"approveMeta":{"approveMode":1,"approvalCandidates":[{"candidateType":2,"candidateId":"<BOB>","candidateName":"张三"}],"enableCopyto":false,"copytoCandidates":[]}}}],"endNode":{"id":"je1","nodeType":2,"name":"结束","metadata":{}},"eventSource":"0"}`

// parallelFlow has a parallel branch (no core equivalent).
const parallelFlow = `{"startNode":{"id":"s","nodeType":1,"metadata":{}},"nodes":[{"id":"par1","nodeType":17,"name":"并行","metadata":{},"childNodes":[]}],"endNode":{"id":"e","nodeType":2,"metadata":{}}}`

// step is one request of a vector table and what its answer must hold.
type step struct {
	name   string
	user   string // admin, bob
	method string
	path   string // <A>, <F>, … are captures
	body   any    // string: sent as is (after substitution); else JSON
	status int
	want   string                               // JSON the answer must contain (subset; arrays exact in length)
	save   map[string]string                    // capture name → top-level property of the answer
	check  func(t *testing.T, m map[string]any) // further checks
}

type stepRunner struct {
	t      *testing.T
	h      *testHub
	tokens map[string]string
	vars   map[string]string
}

func (r *stepRunner) subst(s string) string {
	for k, v := range r.vars {
		s = strings.ReplaceAll(s, "<"+k+">", v)
		s = strings.ReplaceAll(s, url.QueryEscape("<"+k+">"), url.QueryEscape(v))
	}
	return s
}

func (r *stepRunner) run(steps []step) {
	t := r.t
	for _, s := range steps {
		var body []byte
		switch b := s.body.(type) {
		case nil:
		case string:
			body = []byte(r.subst(b))
		default:
			raw, _ := json.Marshal(b)
			body = []byte(r.subst(string(raw)))
		}
		ct := ""
		if body != nil {
			ct = "application/json;charset=UTF-8"
		}
		res := r.h.do(s.method, r.subst(s.path), r.tokens[s.user], ct, body)
		if res.status != s.status {
			t.Fatalf("%s: %s %s → %d, want %d: %s", s.name, s.method, r.subst(s.path), res.status, s.status, res.body)
		}
		if s.want == "" && s.save == nil && s.check == nil {
			continue
		}
		var got any
		if err := json.Unmarshal(res.body, &got); err != nil {
			t.Fatalf("%s: answer is not JSON: %s", s.name, res.body)
		}
		if s.want != "" {
			var want any
			if err := json.Unmarshal([]byte(r.subst(s.want)), &want); err != nil {
				t.Fatalf("%s: bad want: %v", s.name, err)
			}
			if path, ok := contains(got, want, ""); !ok {
				t.Fatalf("%s: answer differs at %s\n got %s\nwant ⊇ %s", s.name, path, res.body, r.subst(s.want))
			}
		}
		m, _ := got.(map[string]any)
		for name, prop := range s.save {
			v, ok := m[prop].(string)
			if !ok {
				t.Fatalf("%s: no %s in %s", s.name, prop, res.body)
			}
			r.vars[name] = v
		}
		if s.check != nil {
			s.check(t, m)
		}
	}
}

// contains reports whether got holds want: objects as subsets, arrays of
// the same length element by element, scalars equal. It returns the path
// of the first difference.
func contains(got, want any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path, false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return path + "/" + k, false
			}
			if p, ok := contains(gv, wv, path+"/"+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path, false
		}
		for i := range w {
			if p, ok := contains(g[i], w[i], fmt.Sprintf("%s/%d", path, i)); !ok {
				return p, false
			}
		}
		return "", true
	}
	return path, reflect.DeepEqual(got, want)
}

func TestWebClientDesigners(t *testing.T) {
	t.Parallel()
	for _, fam := range []struct{ name, base, enum0 string }{{"api", "/api/v1", `0`}, {"odata", "/odata/v1", `"0"`}} {
		t.Run(fam.name, func(t *testing.T) {
			t.Parallel()
			testWebClientDesigners(t, fam.base, fam.enum0)
		})
	}
}

// testWebClientDesigners runs the designer vectors with the sets at base
// (<B>); enum0 is how that family writes the enum value 0 (<E0>).
func testWebClientDesigners(t *testing.T, base, enum0 string) {
	h := startHub(t, t.TempDir(), nil)
	admin, _ := h.login("demo-client", "demo-secret", "admin", "admin-pass")
	bob, _ := h.login("demo-client", "demo-secret", "bob", "bob-pass")
	r := &stepRunner{t: t, h: h, tokens: map[string]string{"admin": admin, "bob": bob}, vars: map[string]string{
		"B": base, "E0": enum0,
		"OPTS": strings.ReplaceAll(designerOptions, `"`, `\"`), "LAYOUT9": strings.ReplaceAll(wtv9Layout, `"`, `\"`)}}
	me := h.jsonReq("GET", "/api/v1/user?$filter="+url.QueryEscape("userName eq 'bob'"), admin, nil)
	r.vars["BOB"] = me.json(t)["value"].([]any)[0].(map[string]any)["id"].(string)
	countOf := func(path string) string {
		res := h.jsonReq("GET", r.subst(path), admin, nil)
		mustStatus(t, "count "+path, res, 200)
		return strings.TrimSpace(string(res.body))
	}

	// WTV-8: a new app and a form, the way the client creates them; the app gains the form's menu.
	r.run([]step{
		{name: "WTV-8 create app", user: "admin", method: "POST", path: "<B>/App",
			body:   map[string]any{"id": "", "name": "采购", "sortIndex": 0, "icon": "icon-appdefault", "iconColor": "#1296db"},
			status: 200, want: `{"name":"采购","appMenus":[]}`, save: map[string]string{"A": "id"}},
		{name: "WTV-8 create form", user: "admin", method: "POST", path: "<B>/FormDef",
			body:   `{"id":"","appId":"<A>","name":"未命名表单","content":{"layout":"[]","options":"<OPTS>"},"usingWorkflow":true,"isLedger":false}`,
			status: 200, want: `{"appId":"<A>","usingWorkflow":true,"content":{"layout":"[]","options":"<OPTS>","items":[]}}`,
			save: map[string]string{"F": "id"}},
		{name: "WTV-8 app menu", user: "admin", method: "GET", path: "<B>/App/<A>", status: 200,
			want: `{"appMenus":[{"menuId":"<F>","title":"未命名表单","icon":"","iconColor":"","menuType":<E0>,"sortIndex":100}]}`},
	})

	// WTV-9: the designer's save; items derived, layout and options kept byte for byte; the menu renamed.
	r.run([]step{
		{name: "WTV-9 designer save", user: "admin", method: "PATCH", path: "<B>/FormDef/<F>",
			body:   `{"id":"<F>","appId":"<A>","name":"采购申请","content":{"layout":"<LAYOUT9>","options":"{\"form\":{\"labelPosition\":\"top\"}}"},"templateId":"tpl_1","formSettings":{"advanced":{"dataTitle":{"mode":"custom","content":"{jreason000000001}"}}}}`,
			status: 200,
			want: `{"name":"采购申请","templateId":"tpl_1","formSettings":{"advanced":{"dataTitle":{"mode":"custom","content":"{jreason000000001}"}}},
			  "content":{"layout":"<LAYOUT9>","options":"{\"form\":{\"labelPosition\":\"top\"}}","items":[
				{"field":"jreason000000001","type":"input","title":"事由","required":true},
				{"field":"jamount000000001","type":"number","title":"金额"},
				{"field":"jregion000000001","type":"select","title":"区域","props":{"options":[{"value":"east","label":"华东"},{"value":"south","label":"华南"}]}},
				{"field":"jdate00000000001","type":"timestamp","title":"日期","props":{"format":"YYYY-MM-DD"}},
				{"field":"jfiles0000000001","type":"fileupload","title":"附件"},
				{"field":"jitems0000000001","type":"tableform","title":"明细","columns":[{"field":"jqty000000000001","type":"number","title":"数量"}]}]}}`},
		{name: "WTV-9 read back", user: "admin", method: "GET", path: "<B>/FormDef/<F>", status: 200,
			want: `{"templateId":"tpl_1","content":{"layout":"<LAYOUT9>"}}`},
		{name: "WTV-9 menu renamed", user: "admin", method: "GET", path: "<B>/App/<A>", status: 200,
			want: `{"appMenus":[{"menuId":"<F>","title":"采购申请","sortIndex":100}]}`},
		// The derived items are the form's schema: a record with the designer's keys.
		{name: "record on the designed form", user: "admin", method: "POST", path: "/api/v1/formdata",
			body:   `{"formId":"<F>","data":{"jreason000000001":"买电脑","jamount000000001":6000,"jregion000000001":"east","jitems0000000001":[{"jqty000000000001":2}]}}`,
			status: 200, want: `{"flowStatus":1,"data":{"jreason000000001":"买电脑","jregion000000001":{"value":"east","label":"华东"}}}`},
	})

	// Bad designer content: 400 with the envelope, nothing written.
	before := h.jsonReq("GET", r.subst("<B>/FormDef/<F>"), admin, nil).body
	forms := countOf("<B>/FormDef/$count")
	for _, bad := range []struct{ name, body, target string }{
		{"layout not JSON", `{"content":{"layout":"[{\"type\":\"input\"","options":"{}"}}`, "content/layout"},
		{"options not JSON", `{"content":{"layout":"[]","options":"{\"form\":"}}`, "content/options"},
		{"options an array", `{"content":{"layout":"[]","options":"[]"}}`, "content/options"},
		{"content not an object", `{"content":"[1,2]"}`, "content"},
		{"hub items with duplicate keys", `{"content":{"items":[{"field":"a","type":"input"},{"field":"A","type":"number"}]}}`, "content/items/1/field"},
		{"hub items with an unknown type", `{"content":{"items":[{"field":"a","type":"widget"}]}}`, "content/items/0/type"},
	} {
		for _, m := range []string{"PATCH", "POST"} {
			path, body := "<B>/FormDef/<F>", bad.body
			if m == "POST" {
				path, body = "<B>/FormDef", strings.Replace(bad.body, `{"content"`, `{"appId":"<A>","name":"x","content"`, 1)
			}
			res := h.do(m, r.subst(path), admin, "application/json", []byte(r.subst(body)))
			if res.status != 400 || !strings.Contains(string(res.body), `"errorCode":400`) || !strings.Contains(string(res.body), bad.target) {
				t.Errorf("%s %s: %d %s; want 400 naming %s", m, bad.name, res.status, res.body, bad.target)
			}
		}
	}
	if after := h.jsonReq("GET", r.subst("<B>/FormDef/<F>"), admin, nil).body; string(after) != string(before) {
		t.Errorf("a refused write changed the form:\n%s\n%s", before, after)
	}
	if n := countOf("<B>/FormDef/$count"); n != forms {
		t.Errorf("refused creates changed the form count: %s → %s", forms, n)
	}

	// WTV-10: a form defined by items (the YAML seed) has a renderable layout and is in its app's menu.
	r.run([]step{
		{name: "WTV-10 seeded form", user: "admin", method: "GET", path: "<B>/FormDef?$filter=" + url.QueryEscape("key eq 'contract'"),
			status: 200, save: nil, check: func(t *testing.T, m map[string]any) {
				f := m["value"].([]any)[0].(map[string]any)
				r.vars["C"] = f["id"].(string)
				r.vars["DEMO"] = f["appId"].(string)
				c := f["content"].(map[string]any)
				var rules []map[string]any
				if err := json.Unmarshal([]byte(c["layout"].(string)), &rules); err != nil {
					t.Fatalf("layout: %v", err)
				}
				items := c["items"].([]any)
				if len(rules) != len(items) {
					t.Fatalf("%d rules for %d items", len(rules), len(items))
				}
				for i, it := range items {
					im := it.(map[string]any)
					if rules[i]["type"] != im["type"] || rules[i]["field"] != im["field"] || rules[i]["title"] != im["title"] {
						t.Errorf("rule %d %v for item %v", i, rules[i], im)
					}
				}
				var opts map[string]any
				if err := json.Unmarshal([]byte(c["options"].(string)), &opts); err != nil || opts["form"] == nil {
					t.Errorf("options %q: %v", c["options"], err)
				}
			}},
		{name: "WTV-10 seeded menus", user: "admin", method: "GET", path: "<B>/App/<DEMO>", status: 200,
			check: func(t *testing.T, m map[string]any) {
				menus := m["appMenus"].([]any)
				// contract, document (the e-office documents form) and leave request, in seed order
				if len(menus) != 3 || menus[0].(map[string]any)["menuId"] != r.vars["C"] {
					t.Errorf("demo app menus = %v", menus)
				}
			}},
	})

	// A form written through the hub API with items only gets a layout too; a
	// later designer save replaces content as a whole. OData reads the same entity.
	r.run([]step{
		{name: "items-only form", user: "admin", method: "POST", path: "/api/v1/form",
			body:   `{"appId":"<A>","name":"清单","content":{"items":[{"field":"qty","type":"number","title":"数量","required":true},{"field":"kind","type":"radio","props":{"options":["a","b"]}}]}}`,
			status: 200, save: map[string]string{"I": "id"},
			want: `{"content":{"options":"<OPTS>","items":[{"field":"qty","type":"number","title":"数量","required":true},{"field":"kind","type":"radio","props":{"options":[{"value":"a","label":"a"},{"value":"b","label":"b"}]}}]}}`,
			check: func(t *testing.T, m map[string]any) {
				want := `[{"$required":true,"field":"qty","props":{},"title":"数量","type":"number"},{"$required":false,"field":"kind","options":[{"label":"a","value":"a"},{"label":"b","value":"b"}],"props":{},"title":"kind","type":"radio"}]`
				if got := m["content"].(map[string]any)["layout"]; got != want {
					t.Errorf("synthesised layout\n got %v\nwant %s", got, want)
				}
			}},
		{name: "designer save replaces it", user: "admin", method: "PATCH", path: "<B>/FormDef/<I>",
			body:   `{"content":{"layout":"[{\"type\":\"input\",\"field\":\"note\"}]","options":"{}"}}`,
			status: 200, want: `{"content":{"layout":"[{\"type\":\"input\",\"field\":\"note\"}]","options":"{}","items":[{"field":"note","type":"input","title":"note"}]}}`},
		{name: "WTV-18 OData read", user: "admin", method: "GET", path: "/odata/v1/FormDef('<F>')", status: 200,
			want: `{"id":"<F>","content":{"layout":"<LAYOUT9>","options":"{\"form\":{\"labelPosition\":\"top\"}}"}}`},
	})

	// WTV-11: the workflow designer's versions; activation; a released version stays.
	r.vars["FLOW"] = strings.ReplaceAll(r.subst(wtv11Flow), `"`, `\"`)
	r.run([]step{
		{name: "WTV-11 save new", user: "admin", method: "POST", path: "<B>/WfDefinition",
			body:   `{"id":"","appId":"<A>","name":"","flowType":"0","externalId":"<F>","eventSource":"0","sourceId":"<F>","content":"<FLOW>","disabled":false}`,
			status: 200, want: `{"version":1,"isCurrent":false,"released":false,"flowType":<E0>,"eventSource":<E0>,"externalId":"<F>","sourceId":"<F>","content":"<FLOW>","name":"采购申请"}`,
			save: map[string]string{"WD": "id"}},
		{name: "WTV-11 versions", user: "admin", method: "GET",
			path:   "<B>/WfDefinition?$filter=" + url.QueryEscape("ExternalId eq '<F>'") + "&$orderby=" + url.QueryEscape("Version desc"),
			status: 200, want: `{"value":[{"id":"<WD>","version":1}]}`},
		{name: "WTV-11 save existing", user: "admin", method: "PUT", path: "<B>/WfDefinition/<WD>",
			body:   `{"id":"<WD>","appId":"<A>","name":"采购审批","flowType":"0","externalId":"<F>","eventSource":"0","sourceId":"<F>","content":"<FLOW>","disabled":false}`,
			status: 200, want: `{"version":1,"name":"采购审批","content":"<FLOW>"}`},
		{name: "WTV-11 activate", user: "admin", method: "POST", path: "/api/v1/WfDefinition/Activate", body: `{"id":"<WD>"}`,
			status: 200, want: `{"id":"<WD>","isCurrent":true,"released":true,"flowType":0}`},
		{name: "WTV-11 delete released", user: "admin", method: "DELETE", path: "<B>/WfDefinition/<WD>", status: 409,
			check: func(t *testing.T, m map[string]any) {
				if msg, _ := m["message"].(string); msg == "" {
					t.Errorf("no message: %v", m)
				}
			}},
		{name: "WTV-11 still there", user: "admin", method: "GET", path: "<B>/WfDefinition/<WD>", status: 200,
			want: `{"released":true,"isCurrent":true}`},
		{name: "WTV-20 enum filter", user: "admin", method: "GET",
			path: "<B>/WfDefinition?$filter=" + url.QueryEscape("flowType eq 0 and sourceId eq '<F>'"), status: 200,
			want: `{"value":[{"id":"<WD>","flowType":<E0>,"eventSource":<E0>}]}`},
		// Versions: a copy is the next version, neither current nor released; activating it moves "current".
		{name: "CreateVersion", user: "admin", method: "POST", path: "/api/v1/WfDefinition/CreateVersion", body: `{"id":"<WD>"}`,
			status: 200, want: `{"version":2,"isCurrent":false,"released":false,"externalId":"<F>","content":"<FLOW>"}`,
			save: map[string]string{"WD2": "id"}},
		{name: "activate v2", user: "admin", method: "POST", path: "/api/v1/wfdefinition/activate", body: `{"id":"<WD2>"}`,
			status: 200, want: `{"isCurrent":true,"released":true,"version":2}`},
		{name: "v1 no longer current", user: "admin", method: "GET", path: "<B>/WfDefinition/<WD>", status: 200,
			want: `{"isCurrent":false,"released":true}`},
		{name: "a draft version is deleted", user: "admin", method: "POST", path: "/api/v1/WfDefinition/CreateVersion", body: `{"id":"<WD2>"}`,
			status: 200, want: `{"version":3}`, save: map[string]string{"WD3": "id"}},
		{name: "delete draft", user: "admin", method: "DELETE", path: "<B>/WfDefinition/<WD3>", status: 204},
		// Version actions: admins only; unknown ids; bad bodies.
		{name: "activate by bob", user: "bob", method: "POST", path: "/api/v1/WfDefinition/Activate", body: `{"id":"<WD>"}`, status: 403},
		{name: "activate unknown", user: "admin", method: "POST", path: "/api/v1/WfDefinition/Activate", body: `{"id":"nope"}`, status: 404},
		{name: "activate without id", user: "admin", method: "POST", path: "/api/v1/WfDefinition/Activate", body: `{}`, status: 400},
		{name: "activate id not a string", user: "admin", method: "POST", path: "/api/v1/WfDefinition/CreateVersion", body: `{"id":5}`, status: 400},
		{name: "activate malformed", user: "admin", method: "POST", path: "/api/v1/WfDefinition/Activate", body: `{"id":`, status: 400},
	})

	// The activated designer flow runs on the engine: bob (the employee candidate) gets the task.
	rec := h.jsonReq("POST", "/api/v1/formdata", admin, map[string]any{"formId": r.vars["F"],
		"data": map[string]any{"jreason000000001": "买电脑", "jamount000000001": 6000}})
	mustStatus(t, "record", rec, 200)
	rid := rec.json(t)["id"].(string)
	mustStatus(t, "start", h.jsonReq("POST", "/api/v1/workflow/start", admin,
		map[string]any{"flowDefinitionId": r.vars["WD2"], "businessKey": rid}), 200)
	todo := h.jsonReq("GET", "/api/v1/wftodo?$filter="+url.QueryEscape("dataId eq '"+rid+"'"), bob, nil)
	if v := todo.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["approveNodeName"] != "主管审批" {
		t.Fatalf("bob's to-do: %s", todo.body)
	}
	mustStatus(t, "bob approves", h.jsonReq("POST", "/api/v1/workflow/approve", bob,
		map[string]any{"dataId": rid, "approvalResult": "agree"}), 200)
	if fs := h.jsonReq("GET", "/api/v1/formdata/"+rid, admin, nil).json(t)["flowStatus"]; fs != float64(3) {
		t.Errorf("flowStatus after approval = %v", fs)
	}

	// Bad workflow content: 400, nothing written; unsupported constructs save as drafts, fail activation.
	defs := countOf("<B>/WfDefinition/$count")
	for _, bad := range []struct{ name, body string }{
		{"content not JSON", `{"externalId":"<F>","content":"{\"startNode\":"}`},
		{"designer nodes not an array", `{"externalId":"<F>","content":"{\"startNode\":{},\"nodes\":{}}"}`},
		{"dataflow flowType", `{"externalId":"<F>","flowType":"1","content":"{\"nodes\":[]}"}`},
		{"unknown flowType", `{"externalId":"<F>","flowType":"7","content":"{\"nodes\":[]}"}`},
		{"externalId and sourceId differ", `{"externalId":"<F>","sourceId":"<C>","content":"{\"nodes\":[]}"}`},
		{"§5.2 content with an unknown node type", `{"externalId":"<F>","content":{"nodes":[{"id":"n","type":"script"}]}}`},
	} {
		res := h.do("POST", r.subst("<B>/WfDefinition"), admin, "application/json", []byte(r.subst(bad.body)))
		if res.status != 400 || !strings.Contains(string(res.body), `"errorCode":400`) {
			t.Errorf("%s: %d %s; want 400", bad.name, res.status, res.body)
		}
	}
	if n := countOf("<B>/WfDefinition/$count"); n != defs {
		t.Errorf("refused creates changed the definition count: %s → %s", defs, n)
	}
	r.vars["PAR"] = strings.ReplaceAll(parallelFlow, `"`, `\"`)
	r.run([]step{
		{name: "parallel draft saved", user: "admin", method: "POST", path: "<B>/WfDefinition",
			body: `{"externalId":"<F>","content":"<PAR>"}`, status: 200, want: `{"version":3,"isCurrent":false}`, // the deleted draft v3 left no trace
			save: map[string]string{"WDP": "id"}},
		{name: "parallel activation refused", user: "admin", method: "POST", path: "/api/v1/WfDefinition/Activate",
			body: `{"id":"<WDP>"}`, status: 400, check: func(t *testing.T, m map[string]any) {
				if !strings.Contains(fmt.Sprint(m), "par1") {
					t.Errorf("the error does not name the node: %v", m)
				}
			}},
		{name: "v2 still current", user: "admin", method: "GET", path: "<B>/WfDefinition/<WD2>", status: 200,
			want: `{"isCurrent":true}`},
	})

	// D-12.1: a record of a form without workflow is effective (3) and stays editable by its owner.
	c := h.jsonReq("POST", "/api/v1/contract", bob, map[string]any{"title": "C-1"})
	mustStatus(t, "contract record", c, 200)
	if fs := c.json(t)["flowStatus"]; fs != float64(3) {
		t.Errorf("flowStatus of a record without workflow = %v, want 3", fs)
	}
	cid := c.json(t)["id"].(string)
	mustStatus(t, "owner edits an effective record", h.jsonReq("PATCH", "/api/v1/contract/"+cid, bob, map[string]any{"amount": 5}), 200)
	mustStatus(t, "owner deletes an effective record", h.jsonReq("DELETE", "/api/v1/contract/"+cid, bob, nil), 204)

	// Deleting the form removes its menu entry.
	mustStatus(t, "delete form", h.jsonReq("DELETE", r.subst("<B>/FormDef/<F>"), admin, nil), 204)
	mustStatus(t, "the form's records are deleted with it", h.jsonReq("GET", "/api/v1/formdata/"+rid, admin, nil), 404)
	r.run([]step{{name: "menu removed", user: "admin", method: "GET", path: "<B>/App/<A>", status: 200, want: `{"appMenus":[{"menuId":"<I>","title":"清单","sortIndex":200}]}`}})
}
