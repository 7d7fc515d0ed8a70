package h3yun_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/eimshub/eimshub/connectors/h3yun"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// BenchmarkInvoke measures LoadBizObject and a 50-row LoadBizObjects with
// the connector in process and in a plugin process, against the seeded
// MemHost (so it measures the connector and the plugin hop, not a store).
// "direct" is the Host calls alone: the floor any dialect pays.
//
//	go test ./connectors/h3yun -run X -bench Invoke
func BenchmarkInvoke(b *testing.B) {
	mem := newHost()
	ctx := context.Background()
	var first string
	for i := range 60 {
		rec, err := mem.CreateRecord(ctx, &service, demoForm, map[string]any{"F0000001": fmt.Sprint("row", i), "F0000002": float64(i)})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = rec["id"].(string)
		}
	}
	bodies := map[string]string{
		"LoadBizObject":    `{"ActionName":"LoadBizObject","SchemaCode":"D000024demo","BizObjectId":"` + first + `"}`,
		"LoadBizObjects50": `{"ActionName":"LoadBizObjects","SchemaCode":"D000024demo","Filter":"{\"FromRowNum\":0,\"ToRowNum\":50,\"Matcher\":{\"Type\":\"Item\",\"Name\":\"F0000002\",\"Operator\":1,\"Value\":0}}"}`,
	}
	plug := startPlugin(b, nil)
	for _, action := range []string{"LoadBizObject", "LoadBizObjects50"} {
		for _, mode := range []string{"inproc", "plugin"} {
			var c sdk.Connector = h3yun.New()
			if mode == "plugin" {
				c = plug
			}
			b.Run(action+"/"+mode, func(b *testing.B) {
				// The hub verified EngineCode/EngineSecret before the hop.
				p, err := mem.VerifyClient(ctx, engineCode, secret)
				if err != nil {
					b.Fatal(err)
				}
				req := &sdk.Request{Principal: p, Method: "POST", Path: "/OpenApi/Invoke", Route: "/OpenApi/Invoke", Body: []byte(bodies[action]),
					Headers: http.Header{"Enginecode": {engineCode}}, RequestID: "bench"}
				for b.Loop() {
					resp, err := c.Handle(ctx, req, mem)
					if err != nil || resp.Status != 200 {
						b.Fatalf("%v %v", resp, err)
					}
				}
			})
		}
		b.Run(action+"/direct", func(b *testing.B) {
			for b.Loop() {
				p, _ := mem.VerifyClient(ctx, engineCode, secret)
				_, _ = mem.GetForm(ctx, p, demoForm)
				if action == "LoadBizObject" {
					_, _ = mem.GetRecord(ctx, p, demoForm, first)
				} else {
					_, _ = mem.FindRecords(ctx, p, demoForm, sdk.Query{Limit: 50}, false)
				}
			}
		})
	}
}
