package dabei

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Input is a request's parameters (spec 1.2): the query and the JSON body
// object (numbers kept as json.Number).
type Input struct {
	Query url.Values
	Body  map[string]any
	// Post: body parameters win over the query (GET: the query wins).
	Post bool
}

// maxBody bounds a body the connector decodes (spec 9: 10 MiB).
const maxBody = 10 << 20

// ParseInput decodes the request: strict JSON only (10001 otherwise); an
// empty body is none; a body that is not an object is refused.
func ParseInput(req *sdk.Request) (*Input, error) {
	in := &Input{Query: req.Query, Post: strings.EqualFold(req.Method, "POST")}
	if in.Query == nil {
		in.Query = url.Values{}
	}
	body := bytes.TrimSpace(req.Body)
	if len(body) > maxBody {
		return nil, Failf(CodeInvalid, "请求体过大")
	}
	if len(body) == 0 {
		in.Body = map[string]any{}
		return in, nil
	}
	ct := strings.ToLower(req.Headers.Get("Content-Type"))
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		// Extension (spec 2.2): a form body fills keys like a JSON one.
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, Failf(CodeInvalid, "请求体不是合法的表单")
		}
		in.Body = map[string]any{}
		for k, v := range vals {
			if len(v) > 0 {
				in.Body[k] = v[0]
			}
		}
		return in, nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, Failf(CodeInvalid, "请求体不是合法的JSON")
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, Failf(CodeInvalid, "请求体必须是JSON对象")
	}
	in.Body = m
	return in, nil
}

// decodeJSON decodes one strict JSON value (numbers as json.Number);
// trailing data is an error.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b[dec.InputOffset():])) > 0 {
		return nil, errTrailing
	}
	return v, nil
}

var errTrailing = Failf(CodeInvalid, "请求体不是合法的JSON")

// Raw returns the value of k (spec 1.2 rule 2): POST body then query, GET
// query then body.
func (in *Input) Raw(k string) (any, bool) {
	qv, qok := in.Query[k]
	bv, bok := in.Body[k]
	if in.Post {
		if bok {
			return bv, true
		}
		if qok && len(qv) > 0 {
			return qv[0], true
		}
		return nil, false
	}
	if qok && len(qv) > 0 {
		return qv[0], true
	}
	return bv, bok
}

// Str returns k as a string ("" when absent or null); a non-scalar is
// 10001.
func (in *Input) Str(k string) (string, error) {
	v, _ := in.Raw(k)
	return scalarString(k, v)
}

func scalarString(k string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", Failf(CodeInvalid, "参数错误：%s 类型错误", k)
}

// Bool reads a boolean parameter: true/false (any case), 1/0.
func (in *Input) Bool(k string) (bool, error) {
	v, ok := in.Raw(k)
	if !ok || v == nil {
		return false, nil
	}
	if b, isBool := v.(bool); isBool {
		return b, nil
	}
	s, err := scalarString(k, v)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, Failf(CodeInvalid, "参数错误：%s 必须是布尔值", k)
}

// Int reads an integer parameter; def when absent.
func (in *Input) Int(k string, def int) (int, error) {
	v, ok := in.Raw(k)
	if !ok || v == nil {
		return def, nil
	}
	s, err := scalarString(k, v)
	if err != nil {
		return 0, err
	}
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, Failf(CodeInvalid, "参数错误：%s 必须是整数", k)
	}
	return n, nil
}

// Object reads an object-valued value: a JSON object, or a string holding
// one (spec 1.2 rule 3). nil when absent, null or "".
func Object(k string, v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, nil
		}
		d, err := decodeJSON([]byte(x))
		if err != nil {
			return nil, Failf(CodeInvalid, "参数错误：%s 不是合法的JSON", k)
		}
		if m, ok := d.(map[string]any); ok {
			return m, nil
		}
		if d == nil {
			return nil, nil
		}
	}
	return nil, Failf(CodeInvalid, "参数错误：%s 必须是JSON对象", k)
}

// pathCopies are the path variables a body may repeat (spec 1.2 rule 1).
var pathCopies = []string{"app_id", "form_id", "record_id", "task_id", "org_id"}

// checkPathCopies refuses a body copy of a path variable that differs
// from the path (10001 "参数不一致：<key>"); body is any body object
// (the top level, or a wrapped request object).
func (c *Call) checkPathCopies(body map[string]any) error {
	for _, k := range pathCopies {
		p, has := c.Req.PathParams[k]
		if !has {
			continue
		}
		v, ok := body[k]
		if !ok || v == nil {
			continue
		}
		s, err := scalarString(k, v)
		if err != nil || !strings.EqualFold(s, p) {
			return Failf(CodeInvalid, "参数不一致：%s", k)
		}
	}
	return nil
}

// userParam returns the acting user's id from user_id or userId
// (spec 1.3).
func (in *Input) userParam() (string, error) {
	for _, k := range []string{"user_id", "userId"} {
		s, err := in.Str(k)
		if err != nil {
			return "", err
		}
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}
