package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/query"
)

// TestWebClientVectors replays the test vectors of §12.16 that concern the
// OData transport, the web sets, records and approvals (WTV-4 to WTV-7,
// WTV-13 to WTV-20), in order, on one hub: later vectors use what earlier
// ones created (<A>, <R>, …).
func TestWebClientVectors(t *testing.T) {
	h := newWebHub(t)
	h.vars["A"], h.vars["F"] = "a_1", "f_buy"
	const get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete

	t.Run("WTV-4 corporation by key segment, enum as string", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "own tenant", token: "TA", method: get, path: "/odata/v1/Corporate/t1", status: 200,
				want: `{"id":"t1","name":"演示企业","platform":"0","code":"","description":""}`,
				check: func(t *testing.T, h *webHub, got any) {
					noContext(t, h, got)
					if _, ok := got.(map[string]any)["smtpPassword"]; ok {
						t.Fatalf("tenant settings leaked: %v", got)
					}
				}},
			{name: "other tenant", token: "TA", method: get, path: "/odata/v1/Corporate/t2", status: 404, want: errMessage},
			{name: "key in parentheses", token: "TB", method: get, path: "/odata/v1/corporate('t1')", status: 200, want: `{"id":"t1","platform":"0"}`},
			{name: "list is the caller's tenant", token: "TB", method: post, path: "/odata/v1/Corporate/$query", ctype: ctText, status: 200,
				want: `{"value":[{"id":"t1","name":"演示企业"}]}`},
		})
	})

	t.Run("WTV-5 $query with an empty body returns everything", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "empty body, no default page size", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText, status: 200,
				check: func(t *testing.T, h *webHub, got any) {
					noContext(t, h, got)
					v := values(t, got)
					if len(v) != 25 {
						t.Fatalf("%d apps, want 25", len(v))
					}
					for _, a := range v {
						m := a.(map[string]any)
						if m["id"] == nil || m["name"] == nil || m["appMenus"] == nil {
							t.Fatalf("app without id, name or appMenus: %v", m)
						}
					}
					if _, ok := got.(map[string]any)["@odata.count"]; ok {
						t.Fatal("@odata.count without $count=true")
					}
				}},
			{name: "no content type, no body (the form designer)", token: "TA", method: post, path: "/odata/v1/App/$query", status: 200,
				check: func(t *testing.T, _ *webHub, got any) {
					if n := len(values(t, got)); n != 25 {
						t.Fatalf("%d apps", n)
					}
				}},
			{name: "paths and options any case", token: "TA", method: post, path: "/odata/v1/app/$QUERY", ctype: "text/plain", body: "$top=2&$skip=0&$count=true", status: 200,
				check: func(t *testing.T, _ *webHub, got any) {
					if n := len(values(t, got)); n != 2 || got.(map[string]any)["@odata.count"] != float64(25) {
						t.Fatalf("got %v", got)
					}
				}},
			{name: "JSON body", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: "application/json", body: "{}", status: 415, want: errMessage},
			{name: "GET list has no default page size either", token: "TA", method: get, path: "/odata/v1/App", status: 200,
				check: func(t *testing.T, _ *webHub, got any) {
					if n := len(values(t, got)); n != 25 {
						t.Fatalf("%d apps", n)
					}
				}},
			{name: "$top above 5000", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText, body: "$top=5001", status: 400,
				want: `{"error":{"code":"invalid_query_option","target":"$top"}}`},
		})
	})

	t.Run("WTV-6 body decoding", func(t *testing.T) {
		for _, name := range []string{"A/B", "a b", "a+b"} {
			h.run(t, []webStep{{name: "create " + name, token: "TA", method: post, path: "/odata/v1/App", ctype: ctJSON,
				body: `{"id":"","name":"` + name + `","sortIndex":0,"icon":"icon-appdefault","iconColor":"#1296db"}`, status: 200,
				want: `{"name":"` + name + `"}`}})
		}
		h.run(t, []webStep{
			{name: "escaped slash", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText,
				body: "$filter=name eq 'A%2FB'&$top=20&$skip=0", status: 200, want: `{"value":[{"name":"A/B"}]}`},
			{name: "plus is a space", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText,
				body: "$filter=name eq 'a+b'", status: 200, want: `{"value":[{"name":"a b"}]}`},
			{name: "escaped plus, leading ?", token: "TA", method: post, path: "/odata/v1/App/$query", ctype: ctText,
				body: "?$filter=name eq 'a%2Bb'", status: 200, want: `{"value":[{"name":"a+b"}]}`},
			{name: "option in URL and body", token: "TA", method: post, path: "/odata/v1/App/$query?$top=1", ctype: "text/plain",
				body: "$top=2", status: 400, want: `{"error":{"code":"invalid_query_option"}}`},
			{name: "URL and body options combine", token: "TA", method: post, path: "/odata/v1/App/$query?$orderby=sortIndex desc", ctype: ctText,
				body: "$top=1", status: 200, want: `{"value":[{"id":"a_25"}]}`},
		})
	})

	t.Run("WTV-7 $count by POST; case-insensitive names and keywords", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "unread messages", token: "TA", method: post, path: "/odata/v1/SystemMessage/$count", ctype: ctText,
				body: "$filter=isRead eq false", status: 200, text: "0"},
			{name: "to-dos", token: "TB", method: post, path: "/odata/v1/WfTodo/$count", ctype: ctText, status: 200, text: "0"},
			{name: "permission groups", token: "TB", method: post, path: "/odata/v1/AuthGroup/$query", ctype: ctText,
				body: "$filter=appid eq 'a_1' AND formid eq 'f_x'", status: 200, want: `{"value":[]}`},
			{name: "count ignores paging", token: "TA", method: post, path: "/odata/v1/App/$count", ctype: ctText,
				body: "$filter=startswith(name,'应用')&$top=1&$skip=3&$orderby=name", status: 200, text: "24"},
			{name: "GET count", token: "TA", method: get, path: "/odata/v1/App/$count?$filter=name eq '报销'", status: 200, text: "1"},
		})
	})

	t.Run("WTV-13 create a draft exactly as the client does", func(t *testing.T) {
		body := `{"action":1,"id":"","appId":"<A>","formId":"<F>","data":{"` + fReason + `":"买电脑","` + fAmount + `":6000,
			"` + fRegion + `":{"value":"east","label":"华东"},
			"` + fFiles + `":[{"id":"file_1","name":"报价单.pdf","url":"https://hub.example.com/upload/t1/x.pdf"}],
			"` + fItems + `":[{"` + fQty + `":2}]}}`
		want := `{"formId":"<F>","appId":"<A>","flowStatus":1,
			"data":{"` + fReason + `":"买电脑","` + fAmount + `":6000,"` + fFiles + `":[{"id":"file_1","name":"报价单.pdf","fileName":"报价单.pdf","url":"https://hub.example.com/upload/t1/x.pdf"}]},
			"createBy":{"id":"u_admin","label":"管理员"}}`
		h.run(t, []webStep{
			{name: "create", token: "TA", method: post, path: "/api/v1/FormData", ctype: ctJSON, body: body, status: 200,
				want: want, capture: map[string]string{"R": "id"}},
			{name: "read back", token: "TA", method: get, path: "/api/v1/FormData/<R>", status: 200, want: want},
		})
	})

	t.Run("WTV-14 list and count with the client's exact bodies", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "count, bare filter", token: "TA", method: post, path: "/api/v1/FormData/$count", ctype: "application/json",
				body: `{"rel":"and","items":[{"field":"formId","type":"none","op":"eq","value":"<F>"},{}]}`, status: 200,
				check: func(t *testing.T, _ *webHub, got any) {
					if got != float64(1) {
						t.Fatalf("count %v", got)
					}
				}},
			{name: "query", token: "TA", method: post, path: "/api/v1/FormData/$query", ctype: "application/json",
				body: `{"skip":0,"take":20,"scope":{},"sort":[{"field":"createTime","type":"timestamp","dir":-1}],
					"filter":{"rel":"and","items":[{"field":"formId","type":"none","op":"eq","value":"<F>"},{}]}}`, status: 200,
				want: `{"value":[{"id":"<R>","flowStatus":1,"data":{"` + fAmount + `":6000}}]}`},
			{name: "numeric value sent as a string", token: "TA", method: post, path: "/api/v1/FormData/$query", ctype: "application/json",
				body: `{"skip":0,"take":20,"scope":{},"filter":{"rel":"and","items":[{"field":"formId","type":"none","op":"eq","value":"<F>"},
					{"rel":"and","items":[{"field":"data.` + fAmount + `","type":"number","op":"gte","value":"5000"}]}]}}`, status: 200,
				want: `{"value":[{"id":"<R>"}]}`},
			{name: "dynamic/$query alias", token: "TA", method: post, path: "/api/v1/FormData/dynamic/$query", ctype: "application/json",
				body: `{"filter":{"rel":"and","items":[{"field":"formId","op":"eq","value":"<F>"}]}}`, status: 200,
				want: `{"value":[{"id":"<R>"}]}`},
			{name: "dynamic/$count alias", token: "TA", method: post, path: "/api/v1/FormData/dynamic/$count", ctype: "application/json",
				body: `{"rel":"and","items":[{"field":"formId","op":"eq","value":"<F>"}]}`, status: 200,
				check: func(t *testing.T, _ *webHub, got any) {
					if got != float64(1) {
						t.Fatalf("count %v", got)
					}
				}},
		})
	})

	t.Run("WTV-15 submit starts the workflow; the approver's to-do", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "submit", token: "TA", method: put, path: "/api/v1/FormData/<R>", ctype: ctJSON,
				body:   `{"action":2,"id":"<R>","appId":"<A>","formId":"<F>","data":{"` + fReason + `":"买电脑","` + fAmount + `":6000}}`,
				status: 200, want: `{"id":"<R>","flowStatus":2,"data":{"` + fReason + `":"买电脑"}}`},
			{name: "approver's to-dos", token: "TB", method: post, path: "/odata/v1/WfTodo/$query", ctype: ctText,
				body: "$filter=appId eq '<A>'&$top=20&$skip=0", status: 200,
				want: `{"value":[{"formId":"<F>","dataId":"<R>","formName":"采购申请","approveNodeName":"主管审批",
					"starter":{"id":"u_admin","label":"管理员"}}]}`,
				check: func(t *testing.T, h *webHub, got any) {
					todo := values(t, got)[0].(map[string]any)
					h.vars["TK"], _ = todo["id"].(string)
					if _, ok := todo["approveNodeStartTime"].(float64); !ok {
						t.Fatalf("approveNodeStartTime: %v", todo)
					}
					brief, _ := todo["dataBrief"].([]any)
					if len(brief) != 5 {
						t.Fatalf("dataBrief has %d entries, want the form's 5 fields: %v", len(brief), brief)
					}
					if msg := subset(brief[:2], []any{
						map[string]any{"field": fReason, "title": "事由", "value": "买电脑"},
						map[string]any{"field": fAmount, "title": "金额", "value": float64(6000)}}, "dataBrief"); msg != "" {
						t.Fatal(msg)
					}
				}},
			{name: "the to-do by key", token: "TB", method: get, path: "/odata/v1/WfTodo/<TK>", status: 200, want: `{"id":"<TK>","formName":"采购申请"}`},
			{name: "not the admin's to-do", token: "TA", method: get, path: "/odata/v1/WfTodo/<TK>", status: 404, want: errMessage},
			{name: "to-do count", token: "TB", method: post, path: "/odata/v1/WfTodo/$count", ctype: ctText,
				body: "$filter=appId eq '<A>'", status: 200, text: "1"},
			{name: "the admin has no task: to-dos are always the caller's own", token: "TA", method: post, path: "/odata/v1/WfTodo/$query",
				ctype: ctText, body: "$filter=appId eq '<A>'&$top=20&$skip=0", status: 200, want: `{"value":[]}`},
			{name: "even when the admin names the assignee", token: "TA", method: post, path: "/odata/v1/WfTodo/$count",
				ctype: ctText, body: "$filter=employeeId eq 'u_bob'", status: 200, text: "0"},
		})
	})

	t.Run("WTV-16 submitting without a definition, and a failing start", func(t *testing.T) {
		before := h.count("formdata", eqExpr("formId", "f_gone"))
		h.run(t, []webStep{
			{name: "no definition: stays a draft", token: "TA", method: post, path: "/api/v1/FormData", ctype: "application/json",
				body: `{"action":2,"id":"","appId":"<A>","formId":"f_nodef","data":{}}`, status: 200, want: `{"flowStatus":1}`},
			{name: "no active approver: 409, nothing stored", token: "TA", method: post, path: "/api/v1/FormData", ctype: "application/json",
				body: `{"action":2,"id":"","appId":"<A>","formId":"f_gone","data":{}}`, status: 409, want: errMessage},
		})
		if n := h.count("formdata", eqExpr("formId", "f_gone")); n != before {
			t.Fatalf("records of f_gone: %d, want %d", n, before)
		}
		if n := h.count("wfinstance", eqExpr("formId", "f_gone")); n != 0 {
			t.Fatalf("%d instances of f_gone", n)
		}
	})

	t.Run("WTV-17 approve as the client does; errors", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "not the assignee", token: "TA", method: post, path: "/api/v1/Workflow/Approve", ctype: ctJSON,
				body: `{"dataId":"<R>","action":"1","comment":"同意"}`, status: 403, want: `{"message":"审批流程失败：没有审批权限"}`},
			{name: "approve", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: ctJSON,
				body: `{"dataId":"<R>","action":"1","comment":"同意"}`, status: 200, want: `{"id":"*"}`},
			{name: "approved", token: "TA", method: get, path: "/api/v1/FormData/<R>", status: 200, want: `{"flowStatus":3}`},
			{name: "no to-do left", token: "TB", method: post, path: "/odata/v1/WfTodo/$count", ctype: ctText, status: 200, text: "0"},
			{name: "again", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: "application/json",
				body: `{"dataId":"<R>","action":"1","comment":""}`, status: 409, want: `{"message":"审批流程失败：指定数据/流程节点不可审批"}`},
			{name: "unknown record", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: "application/json",
				body: `{"dataId":"doesnotexist","action":"1"}`, status: 404, want: `{"message":"审批流程失败：数据不存在"}`},
			{name: "action 0", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: "application/json",
				body: `{"dataId":"<R>","action":"0"}`, status: 400, want: errMessage},
			{name: "action 3 is not served", token: "TB", method: post, path: "/api/v1/Workflow/Approve", ctype: "application/json",
				body: `{"dataId":"<R>","action":"3"}`, status: 400, want: errMessage},
			{name: "the approval log", token: "TA", method: post, path: "/odata/v1/WfApprovalLog/$query", ctype: ctText,
				body: "$filter=dataId eq '<R>' and nodeName eq '主管审批'", status: 200,
				want: `{"value":[{"approver":{"id":"u_bob"},"comment":"同意","result":"1"}]}`},
		})
	})

	t.Run("WTV-18 opening a record", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "print templates", token: "TA", method: post, path: "/odata/v1/PrintTemplate/$query", ctype: ctText,
				body: "$filter=formId eq '<F>'", status: 200, want: `{"value":[]}`},
			{name: "form by key segment", token: "TB", method: get, path: "/odata/v1/FormDef/<F>", status: 200, want: `{"id":"<F>","name":"采购申请"}`},
			{name: "form by ('key')", token: "TB", method: get, path: "/odata/v1/FormDef('<F>')", status: 200, want: `{"id":"<F>","name":"采购申请"}`},
		})
	})

	t.Run("WTV-19 batch delete and key mismatch", func(t *testing.T) {
		for _, n := range []string{"R1", "R2"} {
			h.run(t, []webStep{{name: "create " + n, token: "TA", method: post, path: "/api/v1/FormData", ctype: ctJSON,
				body: `{"action":1,"id":"","appId":"<A>","formId":"<F>","data":{"` + fReason + `":"` + n + `"}}`, status: 200,
				capture: map[string]string{n: "id"}}})
		}
		h.run(t, []webStep{
			{name: "batch delete", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: "application/json",
				body: `{"keys":["<R1>","<R2>"]}`, status: 204},
			{name: "gone from $query", token: "TA", method: post, path: "/api/v1/FormData/$query", ctype: "application/json",
				body: `{"filter":{"rel":"and","items":[{"field":"formId","op":"eq","value":"<F>"}]}}`, status: 200,
				want: `{"value":[{"id":"<R>"}]}`},
			{name: "no keys", token: "TA", method: del, path: "/api/v1/FormData/batch", ctype: "application/json", body: `{}`, status: 400, want: errMessage},
			{name: "no body", token: "TA", method: del, path: "/api/v1/FormData/batch", status: 400, want: errMessage},
			{name: "key mismatch", token: "TA", method: put, path: "/odata/v1/App/<A>", ctype: "application/json",
				body: `{"id":"a_2","name":"x"}`, status: 400, want: errMessage},
			{name: "OData batch delete", token: "TA", method: del, path: "/odata/v1/Department/batch", ctype: "application/json",
				body: `{"keys":["d_9"]}`, status: 204},
		})
		if n := h.count("department", eqExpr("id", "d_9")); n != 0 {
			t.Fatal("d_9 not deleted")
		}
		if n := h.count("app", eqExpr("name", "x")); n != 0 {
			t.Fatal("the mismatched PUT wrote")
		}
	})

	t.Run("WTV-20 enums on the OData route", func(t *testing.T) {
		h.run(t, []webStep{
			{name: "bob's unread messages", token: "TB", method: post, path: "/odata/v1/SystemMessage/$query", ctype: ctText,
				body: "$filter=Category eq 0 and isRead eq false&$orderby=createTime desc&$skip=0&$top=10", status: 200,
				want: `{"value":[{"receiverEmpId":"u_bob","category":"0"}]}`},
			{name: "an enum as a numeric string literal", token: "TB", method: post, path: "/odata/v1/SystemMessage/$count", ctype: ctText,
				body: "$filter=category eq '0'", status: 200, text: "1"},
			{name: "the admin sees only its own messages on OData", token: "TA", method: post, path: "/odata/v1/SystemMessage/$query", ctype: ctText,
				status: 200, check: func(t *testing.T, _ *webHub, got any) {
					for _, m := range values(t, got) {
						if m.(map[string]any)["receiverEmpId"] != "u_admin" {
							t.Fatalf("admin sees %v", m)
						}
					}
				}},
		})
		// The admin still reads every message on /api/v1 (§6.2).
		msgs := h.do("TA", http.MethodGet, "/api/v1/message?$filter=receiverEmpId eq 'u_bob'", "", "", nil)
		if msgs.status != 200 || !strings.Contains(string(msgs.body), `"receiverEmpId":"u_bob"`) {
			t.Fatalf("admin on /api/v1/message: %d %s", msgs.status, msgs.body)
		}
		docs, err := h.st.Find(t.Context(), "message", "t1", query.Query{Filter: eqExpr("receiverEmpId", "u_bob"), Limit: 1})
		if err != nil || len(docs) != 1 {
			t.Fatalf("bob's message: %v %v", docs, err)
		}
		h.vars["MSG"] = docs[0]["id"].(string)
		h.run(t, []webStep{
			{name: "bob's message by key is not the admin's", token: "TA", method: get, path: "/odata/v1/SystemMessage/<MSG>", status: 404, want: errMessage},
			{name: "bob reads it", token: "TB", method: get, path: "/odata/v1/SystemMessage/<MSG>", status: 200, want: `{"id":"<MSG>","category":"0"}`},
			{name: "bob marks it read", token: "TB", method: patch, path: "/odata/v1/SystemMessage/<MSG>", ctype: ctJSON,
				body: `{"id":"<MSG>","isRead":true}`, status: 200, want: `{"isRead":true}`},
			{name: "no unread left", token: "TB", method: post, path: "/odata/v1/SystemMessage/$count", ctype: ctText,
				body: "$filter=isRead eq false", status: 200, text: "0"},
			{name: "records by form key: flowStatus as a string", token: "TA", method: post, path: "/odata/v1/purchase/$query", ctype: ctText,
				body: "$filter=flowStatus eq '3'", status: 200, want: `{"value":[{"id":"<R>","flowStatus":"3"}]}`},
			{name: "the same on /api/v1: a number", token: "TA", method: get, path: "/api/v1/purchase?$filter=flowStatus eq 3", status: 200,
				want: `{"value":[{"id":"<R>","flowStatus":3}]}`},
		})
	})
}
