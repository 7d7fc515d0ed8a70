package eoffice

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/eimshub/eimshub/connectors/internal/ordjson"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// The response envelope (spec §3): {"status":1,"data":…,"runtime":"…"},
// data omitted for true/false results, {"status":0,"errors":[{code,
// message}],"runtime":"…"} for errors. Every answer is HTTP 200 except the
// token failures of §2.5 (401).

// KV is one key of an Obj.
type KV struct {
	K string
	V any
}

// Obj is a JSON object that keeps its key order (e-office clients see the
// server's key order; §2.2, §5.3).
type Obj []KV

// MarshalJSON writes the keys in order (connectors/internal/ordjson).
func (o Obj) MarshalJSON() ([]byte, error) { return ordjson.Marshal(o) }

// Len and Field make Obj an ordjson.Object.
func (o Obj) Len() int { return len(o) }

// Field returns the i-th key and value.
func (o Obj) Field(i int) (string, any) { return o[i].K, o[i].V }

// Get returns the value of key k (nil when absent).
func (o Obj) Get(k string) any {
	for _, kv := range o {
		if kv.K == k {
			return kv.V
		}
	}
	return nil
}

// marshal encodes v without HTML escaping (run_name_html keeps its <div>).
func marshal(v any) ([]byte, error) { return ordjson.Marshal(v) }

// Runtime renders the elapsed time since start as e-office does: seconds
// with 3 decimals, at most 5 characters ("0.035", "12.34").
func Runtime(start time.Time) string {
	s := strconv.FormatFloat(time.Since(start).Seconds(), 'f', 3, 64)
	if len(s) > 5 {
		s = s[:5]
	}
	return s
}

// noData marks a success whose handler result was true or false: the
// envelope has no data key (§3).
type noData struct{}

// NoData is the result of a handler whose e-office counterpart returns
// true or false: {"status":1,"runtime":…} without data.
var NoData any = noData{}

func jsonResponse(status int, body []byte) *sdk.Response {
	return &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: body}
}

// OK renders a success envelope with data (NoData: without the key).
func OK(start time.Time, data any) (*sdk.Response, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"status":1`)
	if _, omit := data.(noData); !omit {
		b, err := marshal(data)
		if err != nil {
			return nil, sdk.Errorf(sdk.Internal, "encode response: %v", err)
		}
		buf.WriteString(`,"data":`)
		buf.Write(b)
	}
	buf.WriteString(`,"runtime":"` + Runtime(start) + `"}`)
	return jsonResponse(http.StatusOK, buf.Bytes()), nil
}

// ErrorBody renders the error envelope of e in lang and its HTTP status.
func ErrorBody(e *Error, lang string, start time.Time) (int, []byte) {
	msgs := e.Messages
	if len(msgs) == 0 {
		m := e.Message
		if m == "" {
			m = message(e.Code, lang, e.Field)
		}
		msgs = []string{m}
	}
	errsOut := make([]Obj, len(msgs))
	for i, m := range msgs {
		errsOut[i] = Obj{{"code", e.Code}, {"message", m}}
	}
	b, _ := marshal(Obj{{"status", 0}, {"errors", errsOut}, {"runtime", Runtime(start)}})
	status := e.Status
	if status == 0 {
		status = StatusOf(e.Code)
	}
	return status, b
}

// ErrorResponse renders err (an *Error, or any other error mapped by
// FromHost) as the error envelope in lang.
func ErrorResponse(err error, lang string, start time.Time) *sdk.Response {
	status, b := ErrorBody(FromHost(err, nil), lang, start)
	return jsonResponse(status, b)
}

func as(err error, target **Error) bool { return errors.As(err, target) }

// errorEnvelope is what the hub renders when it answers for the connector
// (plugin down or busy, host-side refusals, and requests its HTTP edge
// refuses before routing): the e-office envelope with 0x000018 for a rate
// limit, 0x000022 when the connector or the store is unavailable, 0x011012
// ("file size too big", the catalogue's size error, §6.4) for a body over
// the hub's limit, and 0x000013 ("Api error", what e-office answers for a
// request it cannot handle, §6.2) otherwise: an unsupported
// Content-Encoding or a malformed compressed body among them. Always HTTP
// 200 (§3).
func errorEnvelope() sdk.ErrorEnvelope {
	return sdk.ErrorEnvelope{
		ContentType: "application/json; charset=utf-8",
		Status:      http.StatusOK,
		BodyTemplate: `{"status":0,"errors":[{"code":` +
			`{{if eq .Code "rate_limited"}}"0x000018","message":"请求失败"` +
			`{{else if eq .Code "unauthorized"}}"0x003003","message":"无效令牌"` +
			`{{else if eq .Code "unavailable"}}"0x000022","message":"mysql连接失败，请检查MySQL服务是否开启"` +
			`{{else if eq .Code "payload_too_large"}}"0x011012","message":"文件太大"` +
			`{{else}}"0x000013","message":"api错误"{{end}}}],"runtime":"0.000"}`,
	}
}
