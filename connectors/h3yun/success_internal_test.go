package h3yun

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// TestSuccessIsTheEnvelope: success frames ReturnData by hand; the body is
// json.Marshal of the envelope, byte for byte, and an unencodable value is
// sdk.JSON's error.
func TestSuccessIsTheEnvelope(t *testing.T) {
	for _, data := range []any{
		nil,
		map[string]any{"BizObject": map[string]any{"ObjectId": "r1", "Name": "<&>", "F0000002": 5.0, "Rows": []any{}}},
		map[string]any{"BizObjectArray": []any{map[string]any{"a": nil}}, "TotalCount": int64(61)},
		map[string]any{"BizObjectId": "r1", "WorkflowInstanceId": ""},
	} {
		resp, err := success(data)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(envelope{Successful: true, ReturnData: data})
		if !bytes.Equal(resp.Body, want) || resp.Status != 200 || resp.Headers.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("success(%v) = %d %v %s, want %s", data, resp.Status, resp.Headers, resp.Body, want)
		}
	}
	_, err := success(map[string]any{"x": math.NaN()})
	if e := sdk.AsError(err); err == nil || e.Code != sdk.Internal {
		t.Errorf("NaN: %v", err)
	}
}
