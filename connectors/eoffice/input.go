package eoffice

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Request inputs (spec §1.2): body ∪ query string, the body winning on a
// key collision; which body is read depends on the method and the
// Content-Type; form keys are decoded with PHP parse_str rules.

// Decoding limits: PHP's max_input_vars and max_input_nesting_level.
const (
	maxInputVars  = 1000
	maxInputDepth = 64
	// maxMultipartMemory bounds the non-file parts of a multipart body.
	maxMultipartMemory = 32 << 20
)

// Input is a request's merged parameters: JSON-shaped values (leaves of
// form and query parameters are strings; a JSON body keeps its types).
type Input map[string]any

// FileField is one uploaded file of a multipart body.
type FileField struct {
	Name    string
	Content []byte
}

// Decoded is a request's inputs and uploaded files.
type Decoded struct {
	In    Input
	Files map[string]FileField
}

// DecodeRequest merges the query string and the body of req as the e-office
// server does (§1.2 table). A body that does not decode contributes
// nothing; it is never an error.
func DecodeRequest(req *sdk.Request) Decoded {
	out := Decoded{In: ParseQuery(rawQuery(req))}
	method := strings.ToUpper(req.Method)
	ct := strings.ToLower(req.Headers.Get("Content-Type"))
	var body map[string]any
	switch {
	case strings.Contains(ct, "/json") || strings.Contains(ct, "+json"):
		body = decodeJSONObject(req.Body)
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		if method != http.MethodGet && method != http.MethodHead {
			body = ParseQuery(string(req.Body))
		}
	case strings.HasPrefix(ct, "multipart/form-data"):
		if method == http.MethodPost {
			body, out.Files = parseMultipart(req.Headers.Get("Content-Type"), req.Body)
		}
	}
	for k, v := range body {
		out.In[k] = v
	}
	return out
}

// rawQuery rebuilds the query string from req.Query. The hub hands the
// query over parsed, so the order of distinct keys is lost; they are put
// back in natural order ("a[2]" before "a[10]"), which restores the order
// of every indexed list; the values of one key keep their order.
func rawQuery(req *sdk.Request) string {
	if len(req.Query) == 0 {
		return ""
	}
	keys := make([]string, 0, len(req.Query))
	for k := range req.Query {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, naturalCompare)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range req.Query[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

// naturalCompare orders strings with digit runs compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

func decodeJSONObject(b []byte) map[string]any {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	return normNumbers(m).(map[string]any)
}

// normNumbers turns json.Number into int64 (integral) or float64.
func normNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normNumbers(e)
		}
		return x
	}
	return v
}

func parseMultipart(ct string, body []byte) (map[string]any, map[string]FileField) {
	_, params, err := mime.ParseMediaType(ct)
	if err != nil || params["boundary"] == "" {
		return nil, nil
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	form, err := r.ReadForm(maxMultipartMemory)
	if err != nil {
		return nil, nil
	}
	defer func() { _ = form.RemoveAll() }()
	var pairs []string
	for k, vs := range form.Value {
		for _, v := range vs {
			pairs = append(pairs, url.QueryEscape(k)+"="+url.QueryEscape(v))
		}
	}
	files := map[string]FileField{}
	for k, fhs := range form.File {
		if len(fhs) == 0 {
			continue
		}
		f, err := fhs[0].Open()
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(f, sdk.MaxFileSize+1))
		_ = f.Close()
		if err != nil {
			continue
		}
		files[k] = FileField{Name: fhs[0].Filename, Content: b}
	}
	return ParseQuery(strings.Join(pairs, "&")), files
}

// ParseQuery decodes a query string or urlencoded body with PHP parse_str
// rules: a[b][c]=v nests, a[]=v appends, a map whose keys are exactly
// 0..n-1 in order is an array, leaves are strings, a repeated plain key
// keeps the last value, "." and " " in a top-level name become "_".
// Malformed pairs are skipped; at most maxInputVars pairs are read.
func ParseQuery(s string) Input {
	root := newOmap()
	n := 0
	for _, pair := range strings.Split(s, "&") {
		if pair == "" {
			continue
		}
		if n++; n > maxInputVars {
			break
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		base, segs := splitKey(key)
		if base == "" {
			continue
		}
		root.set(append([]segment{{name: base}}, segs...), val)
	}
	out, _ := root.value().(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// segment is one part of a nested key: a name, or append ("[]").
type segment struct {
	name   string
	append bool
}

// splitKey splits "a[b][]" into "a" and [b, append], as PHP does: leading
// spaces dropped; in the base name "." and " " become "_"; a "[" that is
// never closed makes it part of the base name (as "_").
func splitKey(key string) (string, []segment) {
	key = strings.TrimLeft(key, " ")
	i := strings.IndexByte(key, '[')
	if i < 0 || !strings.Contains(key[i:], "]") {
		return phpName(key), nil
	}
	base := phpName(key[:i])
	var segs []segment
	rest := key[i:]
	for len(rest) > 0 && rest[0] == '[' {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			break
		}
		inner := rest[1:j]
		if inner == "" {
			segs = append(segs, segment{append: true})
		} else {
			segs = append(segs, segment{name: inner})
		}
		rest = rest[j+1:]
		if len(segs) >= maxInputDepth {
			break
		}
	}
	return base, segs
}

func phpName(s string) string {
	return strings.NewReplacer(".", "_", " ", "_", "[", "_").Replace(s)
}

// omap is an ordered map (PHP array) used while decoding.
type omap struct {
	keys []string
	vals map[string]any // string or *omap
	next int64
}

func newOmap() *omap { return &omap{vals: map[string]any{}} }

func (m *omap) put(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
	if i, err := strconv.ParseInt(k, 10, 64); err == nil && strconv.FormatInt(i, 10) == k && i >= m.next {
		m.next = i + 1
	}
}

func (m *omap) set(segs []segment, val string) {
	cur := m
	for i, s := range segs {
		k := s.name
		if s.append {
			k = strconv.FormatInt(cur.next, 10)
		}
		if i == len(segs)-1 {
			cur.put(k, val)
			return
		}
		child, ok := cur.vals[k].(*omap)
		if !ok {
			child = newOmap()
			cur.put(k, child)
		}
		cur = child
	}
}

// value converts to JSON-shaped values: a map with keys 0..n-1 in order
// is an array.
func (m *omap) value() any {
	isList := true
	for i, k := range m.keys {
		if k != strconv.Itoa(i) {
			isList = false
			break
		}
	}
	conv := func(v any) any {
		if c, ok := v.(*omap); ok {
			return c.value()
		}
		return v
	}
	if isList && len(m.keys) > 0 {
		out := make([]any, len(m.keys))
		for i, k := range m.keys {
			out[i] = conv(m.vals[k])
		}
		return out
	}
	out := make(map[string]any, len(m.keys))
	for _, k := range m.keys {
		out[k] = conv(m.vals[k])
	}
	return out
}

// Str returns in[k] as a string: strings as they are, numbers in decimal,
// booleans as "1"/"" (PHP), anything else "".
func (in Input) Str(k string) string { return ToStr(in[k]) }

// Has reports whether k was sent.
func (in Input) Has(k string) bool { _, ok := in[k]; return ok }

// ToStr renders a scalar input value as PHP would cast it to a string.
func ToStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "1"
		}
		return ""
	}
	return ""
}

// Empty is PHP's empty(): absent, nil, "", "0", 0, false, empty array or map.
func Empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == "" || x == "0"
	case int64:
		return x == 0
	case int:
		return x == 0
	case float64:
		return x == 0
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// IntOf casts v to an integer as PHP's (int) does: leading digits of a
// string ("2x" → 2, "abc" → 0), numbers truncated, true → 1.
func IntOf(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		s := strings.TrimLeft(x, " \t\n\r")
		end := 0
		if end < len(s) && (s[end] == '-' || s[end] == '+') {
			end++
		}
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
		i, _ := strconv.ParseInt(s[:end], 10, 64)
		return i
	}
	return 0
}

// Structured returns a structured parameter (search, order_by,
// formSearchParams): a string is JSON-decoded (invalid JSON or "" =
// absent, nil); an array or object is used unchanged (§1.2).
func Structured(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	return normNumbers(out)
}
