package eoffice

import (
	"encoding/json"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// TestHubRenderedErrors: the envelope the hub renders for the connector
// (plugin down or busy, host refusals, requests its HTTP edge refuses)
// answers each core code with its catalogue code (§6), HTTP 200.
func TestHubRenderedErrors(t *testing.T) {
	r, err := errorEnvelope().Compile()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err        error
		code, text string
	}{
		{sdk.Errorf(sdk.RateLimited, "slow down"), "0x000018", "请求失败"},
		{sdk.Errorf(sdk.Unauthorized, "bad token"), "0x003003", "无效令牌"},
		{sdk.Errorf(sdk.Unavailable, "down").WithReason(sdk.ReasonUnavailable), "0x000022", "mysql连接失败，请检查MySQL服务是否开启"},
		{sdk.Errorf(sdk.TooLarge, "the request body exceeds 10485760 bytes"), "0x011012", "文件太大"},
		{sdk.Errorf(sdk.UnsupportedMedia, `Content-Encoding "br" is not supported`), "0x000013", "api错误"},
		{sdk.Errorf(sdk.Invalid, "the gzip request body is malformed"), "0x000013", "api错误"},
		{sdk.Errorf(sdk.NotFound, "no route"), "0x000013", "api错误"},
		{sdk.Errorf(sdk.Internal, "secret detail"), "0x000013", "api错误"},
	} {
		status, ct, body := r.Render(tc.err, "rid")
		var env struct {
			Status  *int
			Errors  []struct{ Code, Message string }
			Runtime string
		}
		if err := json.Unmarshal(body, &env); err != nil || status != 200 || ct != "application/json; charset=utf-8" ||
			env.Status == nil || *env.Status != 0 || len(env.Errors) != 1 || env.Errors[0].Code != tc.code ||
			env.Errors[0].Message != tc.text || env.Runtime == "" {
			t.Errorf("%v: %d %s %s, want 200 %s %s", tc.err, status, ct, body, tc.code, tc.text)
		}
	}
}
