package dabei_test

import (
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/connectors/dabei"
)

// FuzzBodies sends arbitrary bodies to the record and task endpoints,
// in process against the real core: every answer is a Dabei envelope with
// a catalogued errcode (never a panic, never another shape).
func FuzzBodies(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"` + u1 + `","k_text":"甲公司","k_num":120.5,"k_sel":"新建","k_date":1735776000000}`,
		`{"user_id":"` + u1 + `","filter":"{\"k_text\":\"甲公司\"}","page_no":1,"page_size":10}`,
		`{"params":{"user_id":"` + u1 + `","record_id":"0000000000000000000000000000dead"}}`,
		`{"submitReq":"{\"userId\":\"` + u2 + `\",\"approve\":{\"content\":\"同意\"},\"variables\":{\"k_sel\":[\"已完成\"]}}"}`,
		`{"user_id":"` + u1 + `","filter":{"k_num":{"ge":1,"lt":"x"},"sys_status":[0,1,2]}}`,
		`{"form_id":"x","user_id":{"a":1}}`, `[]`, `{`, `{"k_date":"2025-01-01 10:00"}`,
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	core, _ := newCore(f)
	c := dabei.New()
	vars := map[string]string{}
	targets := []scenario{
		{method: "POST", target: formPath + "/record_create?start_flow=false"},
		{method: "POST", target: formPath + "/records"},
		{method: "POST", target: formPath + "/record_update"},
		{method: "POST", target: formPath + "/record_delete"},
		{method: "POST", target: formPath + "/records/0000000000000000000000000000dead/tasks/00000000000000000000000000000001/submit"},
		{method: "POST", target: formPath + "/records/0000000000000000000000000000dead/tasks/00000000000000000000000000000001/transfer"},
		{method: "POST", target: "/users/user_id"},
	}
	codes := map[float64]bool{0: true, 10001: true, 10002: true, 40300: true, 40900: true}
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		s := targets[int(which)%len(targets)]
		s.name, s.body = "fuzz", body
		o := run(t, c, core, s, vars)
		var m map[string]any
		if err := json.Unmarshal(o.resp.Body, &m); err != nil || o.resp.Status != 200 {
			t.Fatalf("%d %s", o.resp.Status, o.resp.Body)
		}
		code, _ := m["errcode"].(float64)
		if !codes[code] || (code == 0) != (m["success"] == true) || (code != 0 && m["data"] != nil) {
			t.Fatalf("%s", o.resp.Body)
		}
	})
}
