package eoffice

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

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

// MarshalJSON writes the keys in order.
func (o Obj) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, o); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

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
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeJSON(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeJSON encodes v into buf in one pass: the shapes handlers build
// (Obj, maps, slices, scalars) directly, anything else through
// encoding/json. Nested Obj values are not re-compacted, as json.Marshaler
// results would be.
func writeJSON(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case Obj:
		buf.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, kv.K)
			buf.WriteByte(':')
			if err := writeJSON(buf, kv.V); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, k)
			buf.WriteByte(':')
			if err := writeJSON(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case string:
		writeString(buf, x)
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	default:
		var tmp bytes.Buffer
		enc := json.NewEncoder(&tmp)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimRight(tmp.Bytes(), "\n"))
	}
	return nil
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

const hexDigits = "0123456789abcdef"

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
