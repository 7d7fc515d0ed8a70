package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
)

// TestWebClientBadInput: malformed text/plain options, unknown sets,
// writes to read-only sets, bad FormData request properties and batch
// deletes answer the envelope and write nothing (§12.5.3, §12.6, §12.8).
func TestWebClientBadInput(t *testing.T) {
	h := newWebHub(t)
	const get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	q := func(name, body string, status int, code string) webStep {
		return webStep{name: name, token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText, body: body,
			status: status, want: `{"message":"*","error":{"code":"` + code + `"}}`}
	}
	h.run(t, []webStep{
		q("filter cut short", "$filter=name eq", 400, "invalid_filter"),
		q("unterminated literal", "$filter=name eq 'abc", 400, "invalid_filter"),
		q("unknown property", "$filter=colour eq 'red'", 400, "invalid_filter"),
		q("wrong literal type", "$filter=sortIndex eq 'x'", 400, "invalid_filter"),
		q("bad $top", "$top=abc", 400, "invalid_query_option"),
		q("negative $skip", "$skip=-1", 400, "invalid_query_option"),
		q("unknown option", "$search=x", 400, "invalid_query_option"),
		q("option twice in the body", "$filter=name eq 'a'&$filter=name eq 'b'", 400, "invalid_query_option"),
		q("option twice, different case", "$top=1&$TOP=2", 400, "invalid_query_option"),
		q("bad $count", "$count=yes", 400, "invalid_query_option"),
		q("bad $orderby", "$orderby=name sideways", 400, "invalid_orderby"),
		q("bad $select", "$select=nope", 400, "invalid_select"),
		q("hostile filter: operator as a name", "$filter=$where eq 'x'", 400, "invalid_filter"),
		{name: "an app named with a percent sign", token: "TA", method: post, path: "/odata/v1/App", ctype: ctJSON,
			body: `{"name":"100%zz"}`, status: 200},
		{name: "invalid percent sequence stays literal", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText,
			body: "$filter=name eq '100%zz'", status: 200, want: `{"value":[{"name":"100%zz"}]}`},
		{name: "form-encoded body", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: "application/x-www-form-urlencoded",
			body: "$top=1", status: 415, want: errMessage},
		{name: "body without content type", token: "TA", method: post, path: "/odata/v1/App/$count", body: "$top=1", status: 415, want: errMessage},
		{name: "body over 64 KiB", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText,
			body: "$filter=name eq '" + strings.Repeat("x", 64<<10) + "'", status: 413, want: errMessage},
		{name: "no token", method: post, path: "/odata/v1/App/$query", ctype: ctText, status: 401, want: errMessage},
		{name: "unknown set", token: "TA", method: post, path: "/odata/v1/Nope/$query", ctype: ctText, status: 404, want: errMessage},
		{name: "another route family is no set", token: "TA", method: post, path: "/odata/v1/workflow/$count", ctype: ctText, status: 404, want: errMessage},
		{name: "unknown key", token: "TA", method: get, path: "/odata/v1/App/nope", status: 404, want: errMessage},
		{name: "another tenant's entity", token: "TA", method: get, path: "/odata/v1/App/a_other", status: 404, want: errMessage},
		{name: "another tenant's entity, write", token: "TA", method: patch, path: "/odata/v1/App/a_other", ctype: ctJSON,
			body: `{"name":"mine"}`, status: 404, want: errMessage},
		{name: "Corporate is read-only", token: "TA", method: post, path: "/odata/v1/Corporate", ctype: ctJSON, body: `{"name":"x"}`, status: 405, want: errMessage},
		{name: "Corporate is read-only (key)", token: "TA", method: patch, path: "/odata/v1/Corporate/t1", ctype: ctJSON, body: `{"name":"x"}`, status: 405, want: errMessage},
		{name: "WfTodo is read-only", token: "TA", method: post, path: "/odata/v1/WfTodo", ctype: ctJSON, body: `{}`, status: 405, want: errMessage},
		{name: "SystemMessage is written by the system", token: "TA", method: post, path: "/odata/v1/SystemMessage", ctype: ctJSON, body: `{"title":"x"}`, status: 405, want: errMessage},
		{name: "AuthGroup is read-only", token: "TA", method: del, path: "/odata/v1/AuthGroup/batch", ctype: ctJSON, body: `{"keys":["x"]}`, status: 405, want: errMessage},
		{name: "PrintTemplate is read-only", token: "TA", method: post, path: "/odata/v1/PrintTemplate", ctype: ctJSON, body: `{"name":"x"}`, status: 405, want: errMessage},
		{name: "batch merge is not served", token: "TA", method: patch, path: "/odata/v1/App", ctype: ctJSON, body: `[{"id":"a_1"}]`, status: 405, want: errMessage},
		{name: "apps are written by admins", token: "TB", method: post, path: "/odata/v1/App", ctype: ctJSON, body: `{"name":"bob's"}`, status: 403, want: errMessage},
		{name: "write body not JSON", token: "TA", method: post, path: "/odata/v1/App", ctype: ctJSON, body: `{"name":`, status: 400, want: errMessage},
		{name: "write body as text", token: "TA", method: post, path: "/odata/v1/App", ctype: ctText, body: `{"name":"x"}`, status: 415, want: errMessage},
	})
	if n := h.count("app", query.Or{Items: []query.Expr{eqExpr("name", "x"), eqExpr("name", "bob's"), eqExpr("name", "mine")}}); n != 0 {
		t.Fatalf("%d apps written by refused requests", n)
	}
	if d, err := h.st.Get(t.Context(), "tenant", "", "t1"); err != nil || d["name"] != "演示企业" {
		t.Fatalf("tenant changed: %v %v", d, err)
	}

	// FormData request properties.
	before := h.count("formdata", nil)
	rec := func(name, body string, status int) webStep {
		return webStep{name: name, token: "TA", method: post, path: "/api/v1/FormData", ctype: ctJSON, body: body, status: status, want: errMessage}
	}
	h.run(t, []webStep{
		rec("action 3", `{"action":3,"id":"","appId":"a_1","formId":"f_buy","data":{}}`, 400),
		rec("action -1", `{"action":-1,"formId":"f_buy","data":{}}`, 400),
		rec("action not a number", `{"action":"submit","formId":"f_buy","data":{}}`, 400),
		rec("action 1.5", `{"action":1.5,"formId":"f_buy","data":{}}`, 400),
		rec("action true", `{"action":true,"formId":"f_buy","data":{}}`, 400),
		rec("action twice", `{"action":1,"Action":2,"formId":"f_buy","data":{}}`, 400),
		rec("appId of another app", `{"action":1,"id":"","appId":"a_2","formId":"f_buy","data":{}}`, 400),
		rec("appId not a string", `{"action":1,"appId":1,"formId":"f_buy","data":{}}`, 400),
		rec("unknown field still refused", `{"action":1,"formId":"f_buy","data":{"nope":1}}`, 400),
		rec("file name of the wrong type", `{"action":1,"formId":"f_buy","data":{"`+fFiles+`":[{"id":"f","name":5}]}}`, 400),
	})
	if n := h.count("formdata", nil); n != before {
		t.Fatalf("refused creates wrote %d records", n-before)
	}

	// Batch deletes are all or nothing.
	var ids []string
	for range 2 {
		r := h.do("TA", post, "/api/v1/FormData", ctJSON, `{"action":"1","id":"","formId":"f_buy","data":{}}`, nil)
		m := webJSON(t, r, 200)
		ids = append(ids, m["id"].(string))
	}
	h.vars["X1"], h.vars["X2"] = ids[0], ids[1]
	h.run(t, []webStep{
		{name: "keys not an array", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON, body: `{"keys":"<X1>"}`, status: 400, want: errMessage},
		{name: "keys not strings", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON, body: `{"keys":[1]}`, status: 400, want: errMessage},
		{name: "empty key", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON, body: `{"keys":["<X1>",""]}`, status: 400, want: errMessage},
		{name: "unknown id among the keys", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON,
			body: `{"keys":["<X1>","nope","<X2>"]}`, status: 404, want: errMessage},
		{name: "not the owner", token: "TB", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON, body: `{"keys":["<X1>","<X2>"]}`, status: 403, want: errMessage},
		{name: "body not JSON", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctText, body: `keys=<X1>`, status: 415, want: errMessage},
		{name: "another tenant's app", token: "TA", method: del, path: "/odata/v1/App/batch", ctype: ctJSON, body: `{"keys":["a_3","a_other"]}`, status: 404, want: errMessage},
	})
	for _, id := range ids {
		if h.count("formdata", eqExpr("id", id)) != 1 {
			t.Fatalf("record %s deleted by a refused batch", id)
		}
	}
	if h.count("app", eqExpr("id", "a_3")) != 1 {
		t.Fatal("a_3 deleted by a refused batch")
	}
	h.run(t, []webStep{{name: "duplicate keys are one", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: ctJSON,
		body: `{"Keys":["<X1>","<X2>","<X1>"]}`, status: 204}})
	if h.count("formdata", query.In{Path: query.Path{"id"}, Values: []any{ids[0], ids[1]}}) != 0 {
		t.Fatal("batch delete left records")
	}
}

// TestWebClientWrites: OData writes as the client sends them (§12.6) and
// the FormData submit paths (§12.8.2, §12.9.2).
func TestWebClientWrites(t *testing.T) {
	h := newWebHub(t)
	const get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	h.run(t, []webStep{
		{name: "create a department: empty id and an unknown property ignored", token: "TA", method: post, path: "/odata/v1/Department",
			ctype: ctJSON, body: `{"id":"","code":"D2","name":"研发部","parentId":"d_1","isCompany":false,"invite":true}`, status: 200,
			want: `{"code":"D2","name":"研发部","parentId":"d_1","parentName":"总部"}`, capture: map[string]string{"D": "id"},
			check: func(t *testing.T, _ *webHub, got any) {
				if _, ok := got.(map[string]any)["invite"]; ok {
					t.Fatal("unknown property stored")
				}
			}},
		{name: "read it by key segment", token: "TA", method: get, path: "/odata/v1/Department/<D>?$select=name", status: 200,
			check: func(t *testing.T, _ *webHub, got any) {
				m := got.(map[string]any)
				if m["name"] != "研发部" || m["code"] != nil {
					t.Fatalf("$select on a key read: %v", m)
				}
			}},
		{name: "merge", token: "TA", method: patch, path: "/odata/v1/Department/<D>", ctype: ctJSON, body: `{"id":"<D>","name":"研发中心"}`,
			status: 200, want: `{"id":"<D>","code":"D2","name":"研发中心"}`},
		{name: "replace", token: "TA", method: put, path: "/odata/v1/Department('<D>')", ctype: ctJSON,
			body: `{"id":"<D>","code":"D3","name":"研发中心","parentId":"d_1","isCompany":false}`, status: 200, want: `{"code":"D3"}`},
		{name: "delete", token: "TA", method: del, path: "/odata/v1/Department/<D>", status: 204},
		{name: "gone", token: "TA", method: get, path: "/odata/v1/Department/<D>", status: 404, want: errMessage},
		{name: "app by key form", token: "TA", method: patch, path: "/odata/v1/App('a_3')", ctype: ctJSON, body: `{"name":"改名"}`,
			status: 200, want: `{"id":"a_3","name":"改名","appMenus":[]}`},
		{name: "delete by key form", token: "TA", method: del, path: "/odata/v1/App('a_4')", status: 204},
	})
	if h.count("app", eqExpr("id", "a_4")) != 0 {
		t.Fatal("a_4 not deleted")
	}

	// workflow/start with {dataId} alone: the record form's definition.
	h.run(t, []webStep{
		{name: "draft", token: "TA", method: post, path: "/api/v1/FormData", ctype: ctJSON,
			body: `{"action":0,"id":"","appId":"a_1","formId":"f_buy","data":{"` + fReason + `":"出差"}}`, status: 200,
			want: `{"flowStatus":1}`, capture: map[string]string{"S": "id"}},
		{name: "start by record", token: "TA", method: post, path: "/api/v1/Workflow/Start", ctype: ctJSON, body: `{"dataId":"<S>"}`,
			status: 200, want: `{"id":"*","businessKey":"<S>","status":"running"}`},
		{name: "approving", token: "TA", method: get, path: "/api/v1/FormData/<S>", status: 200, want: `{"flowStatus":2}`},
		{name: "bob's to-do", token: "TB", method: post, path: "/odata/v1/WfTodo/$count", ctype: ctText, body: "$filter=dataId eq '<S>'", status: 200, text: "1"},
		{name: "start by an unknown record", token: "TA", method: post, path: "/api/v1/Workflow/Start", ctype: ctJSON, body: `{"dataId":"nope"}`,
			status: 404, want: errMessage},
		{name: "bob rejects", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: ctJSON,
			body: `{"dataId":"<S>","action":"2","comment":"补充"}`, status: 200, want: `{"id":"*"}`},
		{name: "rejected", token: "TA", method: get, path: "/api/v1/FormData/<S>", status: 200, want: `{"flowStatus":4}`},
		{name: "edit and submit again", token: "TA", method: put, path: "/api/v1/FormData/<S>", ctype: ctJSON,
			body: `{"action":2,"id":"<S>","appId":"a_1","formId":"f_buy","data":{"` + fAmount + `":7}}`, status: 200,
			want: `{"flowStatus":2,"data":{"` + fReason + `":"出差","` + fAmount + `":7}}`},
		{name: "bob's to-do again", token: "TB", method: post, path: "/odata/v1/WfTodo/$query", ctype: ctText, body: "$filter=dataId eq '<S>'",
			status: 200, check: func(t *testing.T, _ *webHub, got any) {
				todo := values(t, got)
				if len(todo) != 1 {
					t.Fatalf("to-dos %v", todo)
				}
				brief := todo[0].(map[string]any)["dataBrief"].([]any)
				if msg := subset(brief[1], map[string]any{"field": fAmount, "value": float64(7)}, "dataBrief[1]"); msg != "" {
					t.Fatal(msg)
				}
			}},
	})

	// A record whose workflow waits at its start node (created "not
	// submitted", as the H3Yun dialect does): action 2 submits it.
	admin := &principal.Principal{Tenant: "t1", UserID: "u_admin", UserCode: "E001", DisplayName: "管理员", Roles: []string{"admin"},
		Scopes: []string{"api.readwrite"}}
	created, err := h.ents.CreateRecords(t.Context(), admin, "f_buy", []map[string]any{{fReason: "待提交"}}, record.ManyOptions{StartWorkflow: true})
	if err != nil {
		t.Fatal(err)
	}
	h.vars["W"] = created[0].Record["id"].(string)
	h.run(t, []webStep{
		{name: "submit the waiting record", token: "TA", method: put, path: "/api/v1/FormData/<W>", ctype: ctJSON,
			body: `{"action":2,"id":"<W>","appId":"a_1","formId":"f_buy","data":{"` + fAmount + `":"12"}}`, status: 200,
			want: `{"id":"<W>","flowStatus":2,"data":{"` + fReason + `":"待提交","` + fAmount + `":12}}`},
		{name: "bob's to-do for it", token: "TB", method: post, path: "/odata/v1/WfTodo/$query", ctype: ctText, body: "$filter=dataId eq '<W>'",
			status: 200, want: `{"value":[{"dataId":"<W>","formName":"采购申请"}]}`},
		{name: "submitting again: already running", token: "TA", method: put, path: "/api/v1/FormData/<W>", ctype: ctJSON,
			body: `{"action":2,"id":"<W>"}`, status: 409, want: `{"error":{"code":"conflict","target":"flowStatus"}}`},
		{name: "action 2 on a form without workflow", token: "TA", method: post, path: "/api/v1/FormData", ctype: ctJSON,
			body: `{"action":"2","id":"","appId":"a_2","formId":"f_plain","data":{"` + fReason + `":"登记"}}`, status: 200,
			capture: map[string]string{"P": "id"}},
	})
	if n := h.count("wfinstance", eqExpr("dataId", h.vars["P"])); n != 0 {
		t.Fatalf("%d instances for a record of a form without workflow", n)
	}

	h.run(t, []webStep{
		{name: "an enum written as a numeric string", token: "TA", method: patch, path: "/odata/v1/Employee/u_bob", ctype: ctJSON,
			body: `{"id":"u_bob","status":"0","isManager":true,"invite":true}`, status: 200, want: `{"id":"u_bob","status":"0","isManager":true}`},
		{name: "an enum value out of range", token: "TA", method: patch, path: "/odata/v1/Employee/u_bob", ctype: ctJSON,
			body: `{"status":"7"}`, status: 400, want: `{"error":{"code":"validation_failed"}}`},
		{name: "under a path prefix", token: "TA", method: post, path: "/jlapi/odata/v1/App/$count", ctype: ctText,
			body: "$filter=name eq '改名'", status: 200, text: "1"},
		{name: "batch delete under a path prefix", token: "TA", method: del, path: "/jlapi/api/v1/FormData/batch", ctype: ctJSON,
			body: `{"keys":["<P>"]}`, status: 204},
	})
}

func webJSON(t *testing.T, r webResult, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	return m
}
