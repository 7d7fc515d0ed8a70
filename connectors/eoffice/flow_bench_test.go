package eoffice_test

import (
	"context"
	"testing"

	"github.com/eimshub/eimshub/connectors/eoffice"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// BenchmarkFlowTodoInProcess: lisi's to-do list of 20 hand-overs against
// the real core, the connector in process (no gRPC hop): where the
// e-office list's time goes (go test -bench FlowTodo -cpuprofile).
func BenchmarkFlowTodoInProcess(b *testing.B) {
	core := flowCoreB(b)
	c := eoffice.New()
	if err := c.(sdk.Configurer).Configure(goldenConfig); err != nil {
		b.Fatal(err)
	}
	call := func(method, target, ct, body string) []byte {
		s := scenario{method: method, target: target, ct: ct, body: body}
		resp, err := sdk.SafeHandle(context.Background(), c, buildRequest(b, s.requestText(nil)), core)
		if err != nil {
			b.Fatal(err)
		}
		return resp.Body
	}
	tok := flowLookup(call("POST", "open-api/get-token", ctJSON, tokenOf("admin")), "data.token")
	tw := flowLookup(call("POST", "open-api/get-token", ctJSON, tokenOf("lisi")), "data.token")
	for i := 0; i < 20; i++ {
		s := call("POST", "flow/new-page/flow-save", ctJSON, `{"api_token":"`+tok+`","flow_id":"1","flow_run_name":"x","run_name_html":"x"}`)
		run, frp := flowLookup(s, "data.run_id"), flowLookup(s, "data.flow_run_process_id")
		next := flowLookup(call("GET", "flow/run/show-flow-transact-process?api_token="+tok+"&run_id="+run+"&flow_process=1", "", ""), "data.turn.0.node_id")
		if r := call("POST", "flow/run/flow-turning", ctJSON, `{"api_token":"`+tok+`","run_id":"`+run+`","process_id":"1","flow_process":"1","next_flow_process":"`+next+`","flow_run_process_id":"`+frp+`","process_host_user":"WV00000002"}`); flowLookup(r, "status") != "1" {
			b.Fatalf("turn: %s", r)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := call("GET", "flow/flow-list/teed-to-do-list?page=1&limit=20&api_token="+tw, "", ""); flowLookup(r, "data.total") != "20" {
			b.Fatalf("todo: %.300s", r)
		}
	}
}
