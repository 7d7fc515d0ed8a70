package h3yun

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/plugins/sdk"
)

func testForm(workflow bool) *sdk.Form {
	return &sdk.Form{Key: "D000024demo", UsingWorkflow: workflow, Fields: []sdk.Field{
		{Field: "F0000001", Type: tInput},
		{Field: "F0000002", Type: tNumber},
		{Field: "F0000003", Type: tTimestamp},
		{Field: "F0000005", Type: tFileUpload},
		{Field: "F0000006", Type: tSelect, Props: sdk.FieldProps{Options: []sdk.Option{{Value: "hi", Label: "高"}, {Value: "lo", Label: "低"}}}},
		{Field: "F0000007", Type: tEmployee2},
		{Field: "F0000008", Type: tEmployee1},
		{Field: "F0000009", Type: tCheckbox, Props: sdk.FieldProps{Options: []sdk.Option{{Value: "a", Label: "甲"}, {Value: "b", Label: "乙"}}}},
		{Field: "D000024Fitems", Type: tTableForm, Columns: []sdk.Field{{Field: "F0000004", Type: tInput}, {Field: "F0000010", Type: tNumber}}},
	}}
}

func testConverter(workflow bool) *converter {
	return &converter{form: testForm(workflow), loc: defaultLocation, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func item(name string, op int, value any) *matcher {
	return &matcher{typ: "item", name: name, op: op, value: value}
}

func TestOperatorCodes(t *testing.T) {
	cv := testConverter(false)
	for code := 0; code <= 30; code++ {
		_, assigned := operators[code]
		_, err := cv.compile(item("F0000001", code, "a"))
		switch {
		case assigned && err != nil:
			t.Errorf("operator %d: %v", code, err)
		case !assigned && (err == nil || sdk.AsError(err).Reason != reasonQuery):
			t.Errorf("unassigned operator %d: err = %v, want %s", code, err, reasonQuery)
		}
	}
}

func TestCompile(t *testing.T) {
	f1, f2 := sdk.Path{"data", "F0000001"}, sdk.Path{"data", "F0000002"}
	flow := sdk.Path{"flowStatus"}
	for _, tc := range []struct {
		name     string
		workflow bool
		m        *matcher
		want     sdk.Expr
		reason   string
	}{
		{name: "eq text", m: item("F0000001", 2, "a"), want: sdk.Cmp{Path: f1, Op: sdk.Eq, Value: "a"}},
		{name: "number coerced", m: item("F0000002", 0, json.Number("5")), want: sdk.Cmp{Path: f2, Op: sdk.Gt, Value: 5.0}},
		{name: "numeric string", m: item("F0000002", 4, " 5.5"), want: sdk.Cmp{Path: f2, Op: sdk.Lt, Value: 5.5}},
		{name: "in array", m: item("F0000002", 6, []any{json.Number("1"), "2"}), want: sdk.In{Path: f2, Values: []sdk.Value{1.0, 2.0}}},
		{name: "in ;-string", m: item("F0000001", 6, "x; y"), want: sdk.In{Path: f1, Values: []sdk.Value{"x", "y"}}},
		{name: "in empty", m: item("F0000001", 6, []any{}), want: sdk.Const{Value: false}},
		{name: "not in empty", m: item("F0000001", 7, nil), want: sdk.Const{Value: true}},
		{name: "not in", m: item("F0000001", 7, []any{"x"}), want: sdk.Not{X: sdk.In{Path: f1, Values: []sdk.Value{"x"}}}},
		{name: "contains", m: item("F0000001", 8, "b"), want: sdk.Str{Path: f1, Fn: sdk.Contains, Value: "b"}},
		{name: "not contains", m: item("F0000001", 24, "b"), want: sdk.Not{X: sdk.Str{Path: f1, Fn: sdk.Contains, Value: "b"}}},
		{name: "not starts", m: item("F0000001", 22, "b"), want: sdk.Not{X: sdk.Str{Path: f1, Fn: sdk.StartsWith, Value: "b"}}},
		{name: "ends", m: item("F0000001", 14, "b"), want: sdk.Str{Path: f1, Fn: sdk.EndsWith, Value: "b"}},
		{name: "is null", m: item("F0000002", 18, nil), want: sdk.Null{Path: f2, IsNull: true}},
		{name: "not null", m: item("F0000002", 19, "ignored"), want: sdk.Null{Path: f2, IsNull: false}},
		{name: "is none text", m: item("F0000001", 20, nil), want: sdk.Or{Items: []sdk.Expr{sdk.Null{Path: f1, IsNull: true}, sdk.Cmp{Path: f1, Op: sdk.Eq, Value: ""}}}},
		{name: "not none number", m: item("F0000002", 21, nil), want: sdk.Not{X: sdk.Null{Path: f2, IsNull: true}}},
		{name: "select by label", m: item("F0000006", 2, "高"), want: sdk.Cmp{Path: sdk.Path{"data", "F0000006", "value"}, Op: sdk.Eq, Value: "hi"}},
		{name: "multi null", m: item("F0000007", 18, nil),
			want: sdk.Not{X: sdk.AnyRow{Array: sdk.Path{"data", "F0000007"}, Pred: sdk.Const{Value: true}}}},
		{name: "multi not none", m: item("F0000005", 21, nil),
			want: sdk.AnyRow{Array: sdk.Path{"data", "F0000005"}, Pred: sdk.Const{Value: true}}},
		{name: "select null at root", m: item("F0000006", 18, nil), want: sdk.Null{Path: sdk.Path{"data", "F0000006"}, IsNull: true}},
		{name: "user", m: item("F0000008", 2, " u1 "), want: sdk.Cmp{Path: sdk.Path{"data", "F0000008", "id"}, Op: sdk.Eq, Value: "u1"}},
		{name: "multi-user contains item", m: item("F0000007", 8, "u1"),
			want: sdk.AnyRow{Array: sdk.Path{"data", "F0000007"}, Pred: sdk.Cmp{Path: sdk.Path{"id"}, Op: sdk.Eq, Value: "u1"}}},
		{name: "multi-select in", m: item("F0000009", 6, "甲;乙"),
			want: sdk.AnyRow{Array: sdk.Path{"data", "F0000009"}, Pred: sdk.In{Path: sdk.Path{"value"}, Values: []sdk.Value{"a", "b"}}}},
		{name: "multi-select ne", m: item("F0000009", 5, "甲"),
			want: sdk.Not{X: sdk.AnyRow{Array: sdk.Path{"data", "F0000009"}, Pred: sdk.Cmp{Path: sdk.Path{"value"}, Op: sdk.Eq, Value: "a"}}}},
		{name: "date", m: item("CreatedTime", 1, "2025-01-02"), want: sdk.Cmp{Path: sdk.Path{"createTime"}, Op: sdk.Ge, Value: int64(1735747200000)}},
		{name: "date field rfc3339", m: item("F0000003", 4, "2025-01-02T00:00:00Z"), want: sdk.Cmp{Path: sdk.Path{"data", "F0000003"}, Op: sdk.Lt, Value: int64(1735776000000)}},
		{name: "owner", m: item("OwnerId", 2, "u1"), want: sdk.Cmp{Path: sdk.Path{"createBy", "id"}, Op: sdk.Eq, Value: "u1"}},
		{name: "status effective", m: item("Status", 2, json.Number("1")), want: sdk.In{Path: flow, Values: []sdk.Value{int64(0), int64(3)}}},
		{name: "status effective wf", workflow: true, m: item("Status", 2, 1.0), want: sdk.In{Path: flow, Values: []sdk.Value{int64(3)}}},
		{name: "status draft wf", workflow: true, m: item("Status", 2, "0"), want: sdk.In{Path: flow, Values: []sdk.Value{int64(0), int64(1)}}},
		{name: "status above 1", m: item("Status", 0, json.Number("1")), want: sdk.In{Path: flow, Values: []sdk.Value{int64(2), int64(4), int64(5), int64(6)}}},
		{name: "status not in", m: item("Status", 7, []any{json.Number("0"), json.Number("1"), json.Number("2")}), want: sdk.In{Path: flow, Values: []sdk.Value{int64(4), int64(6)}}},
		{name: "status none", m: item("Status", 2, json.Number("9")), want: sdk.Const{Value: false}},
		{name: "status not null", m: item("Status", 19, nil), want: sdk.Const{Value: true}},
		{name: "empty group", m: &matcher{typ: "or"}, want: nil},
		{name: "group of one", m: &matcher{typ: "and", children: []*matcher{item("F0000001", 2, "a")}}, want: sdk.Cmp{Path: f1, Op: sdk.Eq, Value: "a"}},
		{name: "nested", m: &matcher{typ: "and", children: []*matcher{item("F0000001", 2, "a"), {typ: "or", children: []*matcher{item("F0000002", 2, "1"), item("F0000002", 2, "2")}}}},
			want: sdk.And{Items: []sdk.Expr{sdk.Cmp{Path: f1, Op: sdk.Eq, Value: "a"}, sdk.Or{Items: []sdk.Expr{
				sdk.Cmp{Path: f2, Op: sdk.Eq, Value: 1.0}, sdk.Cmp{Path: f2, Op: sdk.Eq, Value: 2.0}}}}}},

		{name: "unknown control", m: item("F9", 2, "a"), reason: reasonControl},
		{name: "seqno", m: item("SeqNo", 2, "1"), reason: reasonUnsupported},
		{name: "child table", m: item("D000024Fitems", 18, nil), reason: reasonUnsupported},
		{name: "text op on number", m: item("F0000002", 8, "1"), reason: reasonQuery},
		{name: "text op on status", m: item("Status", 13, "1"), reason: reasonQuery},
		{name: "missing value", m: item("F0000001", 2, nil), reason: reasonQuery},
		{name: "bad number", m: item("F0000002", 2, "five"), reason: reasonQuery},
		{name: "bad date", m: item("F0000003", 2, "yesterday"), reason: reasonQuery},
		{name: "object value", m: item("F0000001", 2, map[string]any{"$ne": 1}), reason: reasonQuery},
		{name: "in of objects", m: item("F0000001", 6, map[string]any{}), reason: reasonQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := testConverter(tc.workflow).compile(tc.m)
			if tc.reason != "" {
				if err == nil || sdk.AsError(err).Reason != tc.reason {
					t.Fatalf("err = %v, want reason %s", err, tc.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestStatusRoundTrip(t *testing.T) {
	for _, wf := range []bool{false, true} {
		for f := int64(0); f <= maxFlowStatus; f++ {
			s := statusOf(f, wf)
			if s < 0 || s > 3 {
				t.Errorf("statusOf(%d, %v) = %d", f, wf, s)
			}
			found := false
			for _, v := range flowStatuses([]int64{s}, wf) {
				found = found || v == f
			}
			if !found {
				t.Errorf("flowStatus %d (workflow %v) → Status %d does not map back", f, wf, s)
			}
		}
	}
	if statusOf(0, false) != 1 || statusOf(1, true) != 0 || statusOf(2, true) != 2 || statusOf(3, true) != 1 || statusOf(6, true) != 3 {
		t.Error("statusOf disagrees with the documented table")
	}
}

func TestDecodeFilter(t *testing.T) {
	for _, tc := range []struct {
		raw      string
		from, to int
		reason   string
	}{
		{raw: ``, from: 0, to: 500},
		{raw: `"{\"FromRowNum\":10}"`, from: 10, to: 510},
		{raw: `{"FromRowNum":"5","ToRowNum":"7","SortByCollection":"[]","ReturnItems":[]}`, from: 5, to: 7},
		{raw: `{"FromRowNum":0,"ToRowNum":500}`, from: 0, to: 500},
		{raw: `{"FromRowNum":0,"ToRowNum":501}`, reason: reasonQuery},
		{raw: `{"FromRowNum":5,"ToRowNum":5}`, reason: reasonQuery},
		{raw: `{"FromRowNum":-1,"ToRowNum":5}`, reason: reasonQuery},
		{raw: `{"FromRowNum":1.5}`, reason: reasonFormat},
		{raw: `{"FromRowNum":0,"ToRowNum":10,"RequireCount":"maybe"}`, reason: reasonFormat},
		{raw: `"{not json"`, reason: reasonFormat},
		{raw: `{"Matcher":{"Type":"Item","Name":"F0000001"}}`, reason: reasonQuery},
		{raw: `{"SortByCollection":[{"ItemName":"F0000001","Direction":"Sideways"}]}`, reason: reasonQuery},
		{raw: `{"Matcher":` + strings.Repeat(`{"Type":"And","Matchers":[`, 40) + strings.Repeat(`]}`, 40) + `}`, reason: reasonFormat},
	} {
		f, err := decodeFilter(json.RawMessage(tc.raw))
		if tc.reason != "" {
			if err == nil || sdk.AsError(err).Reason != tc.reason {
				t.Errorf("%s: err = %v, want %s", tc.raw, err, tc.reason)
			}
			continue
		}
		if err != nil || f.from != tc.from || f.to != tc.to {
			t.Errorf("%s: %+v %v, want window %d–%d", tc.raw, f, err, tc.from, tc.to)
		}
	}
}

func TestMatcherNodeLimit(t *testing.T) {
	items := strings.Repeat(`{"Type":"Item","Name":"F0000001","Operator":2,"Value":"a"},`, maxNodes)
	raw := `{"Matcher":{"Type":"Or","Matchers":[` + strings.TrimSuffix(items, ",") + `]}}`
	if _, err := decodeFilter(json.RawMessage(raw)); err == nil || sdk.AsError(err).Reason != reasonQuery {
		t.Errorf("err = %v, want the node limit", err)
	}
}

func TestBizObjectRoundTrip(t *testing.T) {
	cv := testConverter(false)
	obj, err := decodeBizObject(json.RawMessage(q(`{"OwnerId":"u1","CreateBy":"x","F0000001":12,"F0000002":"3.5","F0000003":"2025/01/02 08:30:00",`+
		`"F0000006":"低","F0000007":"u1; u2","F0000008":" u3 ","F0000009":["甲","b"],"F0000005":"f1",`+
		`"D000024Fitems":[{"ObjectId":"row1","F0000004":"a","F0000010":"2","Extra":1},{"F0000004":"b"}]}`)), "BizObject")
	if err != nil {
		t.Fatal(err)
	}
	data, err := cv.toData(obj, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"F0000001": "12", "F0000002": 3.5, "F0000003": int64(1735777800000), "F0000006": "lo",
		"F0000007": []any{map[string]any{"id": "u1"}, map[string]any{"id": "u2"}}, "F0000008": map[string]any{"id": "u3"},
		"F0000009": []any{"a", "b"}, "F0000005": []any{map[string]any{"id": "f1"}},
		"D000024Fitems": []any{map[string]any{"id": "row1", "F0000004": "a", "F0000010": 2.0}, map[string]any{"F0000004": "b"}},
	}
	if !reflect.DeepEqual(data, want) {
		t.Fatalf("toData:\n got  %#v\n want %#v", data, want)
	}
	// As the store hands it back: the hub's stored shapes.
	rec := sdk.Doc{"id": "r1", "flowStatus": int64(0), "createTime": int64(1735777800000), "updateTime": int64(1735777800000),
		"createBy": map[string]any{"id": "u1", "label": "张三"}, "data": data}
	out := cv.toBizObject(rec, nil).Map()
	for k, w := range map[string]any{"F0000001": "12", "F0000002": 3.5, "F0000003": "2025/01/02 08:30:00", "F0000006": "低",
		"F0000007": "u1;u2", "F0000008": "u3", "F0000009": "甲;乙", "Status": int64(1), "OwnerId": "u1", "CreatedTime": "2025/01/02 08:30:00"} {
		if !reflect.DeepEqual(out[k], w) {
			t.Errorf("%s = %#v, want %#v", k, out[k], w)
		}
	}
	rows := out["D000024Fitems"].([]any)
	if r := rows[0].(map[string]any); r["ObjectId"] != "row1" || r["ParentObjectId"] != "r1" || r["F0000010"] != 2.0 || r["Name"] != nil {
		t.Errorf("row = %v", r)
	}
	// Update keeps nulls (they clear fields).
	upd, err := cv.toData(map[string]any{"F0000001": nil, "F0000002": ""}, true)
	if err != nil || len(upd) != 2 || upd["F0000001"] != nil || upd["F0000002"] != nil {
		t.Errorf("partial = %v, %v", upd, err)
	}
}

func TestDecodeBizObjectRejects(t *testing.T) {
	for raw, reason := range map[string]string{
		``:                         reasonMissing,
		`""`:                       reasonMissing,
		`"{\"a\":"`:                reasonFormat,
		`"[1,2]"`:                  reasonFormat,
		`{"$where":"1"}`:           reasonFormat,
		`{"a.b":"1"}`:              reasonFormat,
		`{"":"1"}`:                 reasonFormat,
		`{"T":[{"$gt":1}]}`:        reasonFormat,
		`{"a":1} {"b":2}`:          reasonFormat,
		`"{\"F0000001\":\"a\"} x"`: reasonFormat,
		`7`:                        reasonFormat,
	} {
		_, err := decodeBizObject(json.RawMessage(raw), "BizObject")
		if err == nil || sdk.AsError(err).Reason != reason {
			t.Errorf("%s: err = %v, want %s", raw, err, reason)
		}
	}
}

func TestCatalogue(t *testing.T) {
	for _, r := range []string{reasonSchema, reasonRecord, reasonMissing, reasonFormat, reasonData, reasonControl, reasonQuery, reasonAction, reasonUnsupported} {
		e := fail(r, "X")
		if e.Reason != r || e.Msg == "" || strings.Contains(e.Msg, "%") {
			t.Errorf("fail(%s) = %+v", r, e)
		}
		_, _, body := renderer.Render(e, "rid")
		var env struct{ ErrorMessage string }
		if err := json.Unmarshal(body, &env); err != nil || env.ErrorMessage != e.Msg {
			t.Errorf("%s renders %s", r, body)
		}
	}
	codes := map[sdk.Code]bool{}
	for _, m := range catalogue {
		if m.reason == "" {
			codes[m.code] = true
		}
	}
	for c := sdk.Internal; c <= sdk.MethodNotAllowed; c++ {
		if !codes[c] {
			t.Errorf("code %v has no ErrorMessage", c)
		}
	}
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// isClean reports whether err is a connector error a client may see.
func isClean(err error) bool {
	var e *sdk.Error
	if !errors.As(err, &e) {
		return false
	}
	return strings.HasPrefix(e.Reason, "h3yun_") && e.Msg != "" && (e.Code == sdk.Invalid || e.Code == sdk.NotFound)
}

func FuzzDecodeBizObject(f *testing.F) {
	for _, s := range []string{
		`"{\"OwnerId\":\"u\",\"F0000001\":\"a\",\"F0000002\":5,\"D000024Fitems\":[{\"F0000004\":\"a\"}]}"`,
		`{"F0000003":"2025-01-02 08:30","F0000006":"高","F0000007":["u1","u2"],"F0000009":"甲;乙"}`,
		`{"F0000002":"1e400","F0000003":1e300,"D000024Fitems":"[{\"ObjectId\":\" r \"}]"}`,
		`{"$set":{}}`, `"null"`, `[]`, `{"F0000001":{"$gt":1}}`, `{"D000024Fitems":[1,[2],{"F0000010":true}]}`,
	} {
		f.Add([]byte(s))
	}
	cv := testConverter(false)
	f.Fuzz(func(t *testing.T, raw []byte) {
		obj, err := decodeBizObject(raw, "BizObject")
		if err != nil {
			if !isClean(err) {
				t.Fatalf("unclean error %T %v", err, err)
			}
			return
		}
		for _, partial := range []bool{false, true} {
			data, err := cv.toData(obj, partial)
			if err != nil {
				if !isClean(err) {
					t.Fatalf("unclean error %T %v", err, err)
				}
				continue
			}
			for k := range data {
				if _, ok := cv.field(k); !ok {
					t.Fatalf("data key %q is not a control of the form", k)
				}
			}
			_ = cv.toBizObject(sdk.Doc{"id": "r", "data": data}, nil)
		}
	})
}

func FuzzDecodeFilter(f *testing.F) {
	for _, s := range []string{
		`"{\"FromRowNum\":0,\"ToRowNum\":10,\"RequireCount\":true,\"ReturnItems\":[\"F0000001\"],\"SortByCollection\":[{\"ItemName\":\"F0000002\",\"Direction\":\"Descending\"}],\"Matcher\":{\"Type\":\"And\",\"Matchers\":[{\"Type\":\"Item\",\"Name\":\"F0000002\",\"Operator\":1,\"Value\":5}]}}"`,
		`{"Matcher":{"Type":"Or","Matchers":[{"Type":"Item","Name":"Status","Operator":6,"Value":"0;1"},{"Type":"Item","Name":"F0000007","Operator":24,"Value":"u"}]}}`,
		`{"Matcher":{"Type":"Item","Name":"F0000003","Operator":"19"}}`,
		`{"FromRowNum":"x"}`, `{"SortByCollection":"[]"}`, `null`, `"{}"`,
	} {
		f.Add([]byte(s))
	}
	cv := testConverter(true)
	f.Fuzz(func(t *testing.T, raw []byte) {
		flt, err := decodeFilter(raw)
		if err != nil {
			if !isClean(err) {
				t.Fatalf("unclean error %T %v", err, err)
			}
			return
		}
		qy, err := cv.query(flt)
		if err != nil {
			if !isClean(err) {
				t.Fatalf("unclean error %T %v", err, err)
			}
			return
		}
		if qy.Limit < 1 || qy.Limit > maxRows || qy.Offset < 0 {
			t.Fatalf("window offset %d limit %d", qy.Offset, qy.Limit)
		}
		if _, err := sdk.ToProto().Query(qy); err != nil {
			t.Fatalf("compiled query does not cross the plugin boundary: %v", err)
		}
	})
}

func TestFieldOf(t *testing.T) {
	for _, tc := range []struct {
		target string
		batch  bool
		want   string
	}{
		{"data/F0000001", false, "F0000001"},
		{"data", false, ""},
		{"data[0]/F0000001", false, "F0000001"},
		{"data[2]/F0000001", true, "BizObjectArray[2].F0000001"},
		{"data[2/F0000001", true, "data[2/F0000001"},
	} {
		if got := fieldOf(tc.target, tc.batch); got != tc.want {
			t.Errorf("fieldOf(%q, %v) = %q, want %q", tc.target, tc.batch, got, tc.want)
		}
	}
}

// An attachment over maxAttachment is refused before anything is stored.
func TestUploadTooLarge(t *testing.T) {
	body := "--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"big.txt\"\r\n\r\n" +
		strings.Repeat("x", 2048) + "\r\n--b--\r\n"
	req := &sdk.Request{Headers: http.Header{"Content-Type": {"multipart/form-data; boundary=b"}}, Body: []byte(body)}
	if _, _, err := readMedia(req, 1024); sdk.CodeOf(err) != sdk.TooLarge || sdk.AsError(err).Msg != "附件大小不能超过1K" {
		t.Fatalf("readMedia over the limit: %v", err)
	}
	if sizeText(3<<20) != "3M" || sizeText(1000) != "1000字节" {
		t.Error("sizeText")
	}
	name, content, err := readMedia(req, 4096)
	if err != nil || name != "big.txt" || len(content) != 2048 {
		t.Fatalf("readMedia = %q, %d bytes, %v", name, len(content), err)
	}
	// A file part under another name is accepted when it is the only one.
	req.Body = []byte(strings.Replace(body, `name="media"`, `name="file"`, 1))
	if name, _, err := readMedia(req, 4096); err != nil || name != "big.txt" {
		t.Fatalf("readMedia of a lone file part = %q, %v", name, err)
	}
}

// Hub ids (24 hex) show as GUIDs everywhere H3Yun shows an id, and are
// read back in either spelling.
func TestGUIDIds(t *testing.T) {
	const rec, user, dept, row, file, inst = "65a1f0c2e4b0a1b2c3d4e5f6", "65a1f0c2e4b0a1b2c3d4e5f7", "65a1f0c2e4b0a1b2c3d4e5f8",
		"65a1f0c2e4b0a1b2c3d4e5f9", "65a1f0c2e4b0a1b2c3d4e5fa", "65a1f0c2e4b0a1b2c3d4e5fb"
	g := sdk.GUID
	cv := testConverter(false)
	doc := sdk.Doc{"id": rec, "flowStatus": int64(0), "wfInstanceId": inst,
		"createBy": map[string]any{"id": user, "label": "张三"}, "updateBy": map[string]any{"id": user},
		"data": map[string]any{"F0000007": []any{map[string]any{"id": user}}, "F0000008": map[string]any{"id": user},
			"F0000005":      []any{map[string]any{"id": file, "fileName": "a.txt"}},
			"D000024Fitems": []any{map[string]any{"id": row, "F0000004": "a"}}}}
	dir := &directory{userDept: map[string]string{user: dept}, deptName: map[string]string{dept: "总部"}}
	out := cv.toBizObject(doc, dir).Map()
	for k, w := range map[string]any{"ObjectId": g(rec), "OwnerId": g(user), "CreatedBy": g(user), "ModifiedBy": g(user),
		"OwnerDeptId": g(dept), "WorkflowInstanceId": g(inst), "F0000007": g(user), "F0000008": g(user), "F0000005": []string{g(file)}} {
		if !reflect.DeepEqual(out[k], w) {
			t.Errorf("%s = %#v, want %#v", k, out[k], w)
		}
	}
	if o := out["OwnerIdObject"].(map[string]any); o["ObjectId"] != g(user) {
		t.Errorf("OwnerIdObject = %v", o)
	}
	r := out["D000024Fitems"].([]any)[0].(map[string]any)
	if r["ObjectId"] != g(row) || r["ParentObjectId"] != g(rec) {
		t.Errorf("row = %v", r)
	}
	// Back: GUIDs (any case) and hub ids both name the hub id; foreign ids pass.
	data, err := cv.toData(map[string]any{"F0000008": strings.ToUpper(g(user)), "F0000007": g(user) + ";" + user + ";aea4d7a7-d162-4c77-9c44-7bd9cb8316a5",
		"D000024Fitems": []any{map[string]any{"ObjectId": g(row), "F0000004": "b"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"F0000008": map[string]any{"id": user},
		"F0000007":      []any{map[string]any{"id": user}, map[string]any{"id": user}, map[string]any{"id": "aea4d7a7-d162-4c77-9c44-7bd9cb8316a5"}},
		"D000024Fitems": []any{map[string]any{"id": row, "F0000004": "b"}}}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("toData:\n got  %#v\n want %#v", data, want)
	}
	// Matcher values on id terms.
	e, err := cv.compile(&matcher{typ: "item", name: "ObjectId", op: 2, value: g(rec)})
	if err != nil || !strings.Contains(fmt.Sprint(e), rec) {
		t.Errorf("ObjectId matcher = %v, %v", e, err)
	}
	if hubID(" "+g(rec)+" ") != rec || hubID(rec) != rec || extID("r1") != "r1" {
		t.Error("hubID/extID")
	}
}

// FuzzReadMedia: hostile multipart bodies never panic, and an accepted file
// respects the limit and has a name with an extension.
func FuzzReadMedia(f *testing.F) {
	f.Add("b", "--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n")
	f.Add("b", "--b\r\nContent-Disposition: form-data; name=\"media\"; filename=\"../../x\"\r\n\r\n\r\n--b--\r\n")
	f.Add("x", "--x--")
	f.Fuzz(func(t *testing.T, boundary, body string) {
		req := &sdk.Request{Headers: http.Header{"Content-Type": {"multipart/form-data; boundary=" + boundary}}, Body: []byte(body)}
		name, content, err := readMedia(req, 64)
		if err != nil {
			if sdk.AsError(err) == nil {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(content) > 64 || name == "" || !strings.Contains(name, ".") {
			t.Fatalf("accepted %q with %d bytes", name, len(content))
		}
	})
}
