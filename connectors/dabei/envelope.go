package dabei

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/eimshub/eimshub/connectors/internal/ordjson"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// The response envelope (spec 1.4): {"errcode":0,"errmsg":"success",
// "data":…,"success":true} in this key order, HTTP 200 for every request
// that reaches an endpoint; errors carry data null and success false.

// Error codes (spec 8).
const (
	CodeInvalid        = 10001
	CodeNotFound       = 10002
	CodeBadCredentials = 40001
	CodeBadCode        = 40002
	CodeNoSSOUser      = 40003
	CodeForbidden      = 40300
	CodeConflict       = 40900
	CodeRateLimited    = 42900
	CodeInternal       = 500
)

var defaultMessages = map[int]string{
	CodeInvalid:        "参数错误",
	CodeNotFound:       "数据不存在",
	CodeBadCredentials: "client_id 或 client_secret 错误",
	CodeBadCode:        "code 无效或已过期",
	CodeNoSSOUser:      "用户不存在",
	CodeForbidden:      "没有权限",
	CodeConflict:       "任务已处理",
	CodeRateLimited:    "调用频率过高，请稍后再试",
	CodeInternal:       "系统繁忙，请稍后重试",
}

// Error is a Dabei business error.
type Error struct {
	Code int
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("dabei %d %s: %v", e.Code, e.message(), e.Err)
	}
	return fmt.Sprintf("dabei %d %s", e.Code, e.message())
}

func (e *Error) Unwrap() error { return e.Err }

func (e *Error) message() string {
	if e.Msg != "" {
		return e.Msg
	}
	return defaultMessages[e.Code]
}

// Fail returns the error of code with its default message.
func Fail(code int) *Error { return &Error{Code: code} }

// Failf returns the error of code with a formatted message.
func Failf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// missing is errcode 10001 for an absent parameter.
func missing(name string) *Error { return Failf(CodeInvalid, "参数错误：缺少参数 %s", name) }

// notFound is errcode 10002 naming what was looked for.
func notFound(name, id string) *Error {
	return Failf(CodeNotFound, "数据不存在：%s=%s", name, id)
}

// FromHost maps any error to a Dabei error (spec 8: one place mapping the
// typed core errors).
func FromHost(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	he := sdk.AsError(err)
	out := &Error{Err: err}
	switch he.Code {
	case sdk.Invalid, sdk.TooLarge, sdk.UnsupportedMedia, sdk.MethodNotAllowed:
		out.Code = CodeInvalid
		msg := he.Msg
		if len(he.Details) > 0 {
			d := he.Details[0]
			msg = d.Target + ": " + d.Message
		}
		if msg != "" {
			out.Msg = "参数错误：" + msg
		}
	case sdk.NotFound:
		out.Code = CodeNotFound
	case sdk.Unauthorized:
		out.Code = CodeBadCredentials
	case sdk.Forbidden:
		out.Code = CodeForbidden
	case sdk.Conflict:
		out.Code = CodeConflict
	case sdk.RateLimited:
		out.Code = CodeRateLimited
	default:
		out.Code = CodeInternal
	}
	return out
}

// result is a handler's success: data, whether data is sent as a
// JSON-encoded string, and extra envelope keys after success.
type result struct {
	data     any
	asString bool
	extra    Obj
	// bare sends data without the envelope (bareTaskList).
	bare bool
}

func ok(data any) *result { return &result{data: data} }

func jsonResponse(status int, body []byte) *sdk.Response {
	return &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: body}
}

func okResponse(r *result) (*sdk.Response, error) {
	if r == nil {
		r = &result{}
	}
	b, err := marshal(r.data)
	if err != nil {
		return errorResponse(&Error{Code: CodeInternal, Err: err}), nil
	}
	if r.asString {
		var s bytes.Buffer
		ordjson.WriteString(&s, string(b))
		b = s.Bytes()
	}
	var buf bytes.Buffer
	buf.WriteString(`{"errcode":0,"errmsg":"success","data":`)
	buf.Write(b)
	buf.WriteString(`,"success":true`)
	for _, kv := range r.extra {
		buf.WriteByte(',')
		ordjson.WriteString(&buf, kv.K)
		buf.WriteByte(':')
		vb, err := marshal(kv.V)
		if err != nil {
			return errorResponse(&Error{Code: CodeInternal, Err: err}), nil
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return jsonResponse(http.StatusOK, buf.Bytes()), nil
}

func errorResponse(err error) *sdk.Response { return errorStatus(http.StatusOK, err) }

func errorStatus(status int, err error) *sdk.Response {
	e := FromHost(err)
	var buf bytes.Buffer
	buf.WriteString(`{"errcode":` + strconv.Itoa(e.Code) + `,"errmsg":`)
	ordjson.WriteString(&buf, e.message())
	buf.WriteString(`,"data":null,"success":false}`)
	return jsonResponse(status, buf.Bytes())
}

// errorEnvelope is what the hub renders for the connector: refused
// credentials (40001), rate limits (42900), a body over the limit or an
// unparseable body (10001), unknown paths (10002), forbidden (40300),
// conflict (40900), and the connector unavailable or failing (500).
// Always HTTP 200 except the router's 405.
func errorEnvelope() sdk.ErrorEnvelope {
	return sdk.ErrorEnvelope{
		ContentType: "application/json; charset=utf-8",
		Status:      http.StatusOK,
		BodyTemplate: `{"errcode":` +
			`{{if eq .Code "unauthorized"}}40001,"errmsg":"client_id 或 client_secret 错误"` +
			`{{else if eq .Code "rate_limited"}}42900,"errmsg":"调用频率过高，请稍后再试"` +
			`{{else if eq .Code "not_found"}}10002,"errmsg":"接口不存在"` +
			`{{else if eq .Code "method_not_allowed"}}10001,"errmsg":"请求方法不支持"` +
			`{{else if eq .Code "payload_too_large"}}10001,"errmsg":"请求体过大"` +
			`{{else if eq .Code "invalid" "unsupported_media_type"}}10001,"errmsg":"参数错误"` +
			`{{else if eq .Code "forbidden"}}40300,"errmsg":"没有权限"` +
			`{{else if eq .Code "conflict"}}40900,"errmsg":"数据冲突"` +
			`{{else}}500,"errmsg":"系统繁忙，请稍后重试"{{end}},"data":null,"success":false}`,
	}
}

// KV is one key of an Obj.
type KV struct {
	K string
	V any
}

// Obj is a JSON object that keeps its key order.
type Obj []KV

// MarshalJSON writes the keys in order, without HTML escaping; maps with
// sorted keys (what the vendor's map-based serializer produces), through
// connectors/internal/ordjson.
func (o Obj) MarshalJSON() ([]byte, error) { return ordjson.Marshal(o) }

// Len and Field make Obj an ordjson.Object.
func (o Obj) Len() int { return len(o) }

// Field returns the i-th key and value.
func (o Obj) Field(i int) (string, any) { return o[i].K, o[i].V }

func marshal(v any) ([]byte, error) { return ordjson.Marshal(v) }
