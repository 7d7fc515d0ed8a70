package h3yun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file translates H3Yun BizObjects (spec §5) to hub records (native
// spec §6.3) and back. The hub's field types and their H3Yun encodings:
//
//	hub type                 H3Yun input                     H3Yun output
//	input, textarea          string (numbers accepted)       string
//	number                   number or numeric string        number
//	timestamp                §5.2 date strings, epoch ms     "yyyy/MM/dd HH:mm:ss"
//	radio, select            option text (or value)          option text
//	checkbox, select2        texts joined with ";" or array  texts joined with ";"
//	employee1, department1   id                              id
//	employee2, department2   ids joined with ";" or array    ids joined with ";"
//	imageupload, fileupload  attachment ids (";" or array)   array of ids
//	tableform                array of rows                   rows with ObjectId, Name, ParentObjectId

// Hub field types (native spec §6.3).
const (
	tInput       = "input"
	tTextarea    = "textarea"
	tNumber      = "number"
	tTimestamp   = "timestamp"
	tRadio       = "radio"
	tSelect      = "select"
	tCheckbox    = "checkbox"
	tSelect2     = "select2"
	tEmployee1   = "employee1"
	tEmployee2   = "employee2"
	tDepartment1 = "department1"
	tDepartment2 = "department2"
	tImageUpload = "imageupload"
	tFileUpload  = "fileupload"
	tTableForm   = "tableform"
)

// outputLayout is how H3Yun renders dates (spec §5.2, §11.9).
const outputLayout = "2006/01/02 15:04:05"

// inputLayouts are the zone-less date spellings accepted on input (§5.2);
// one-digit months, days and hours are accepted too. RFC 3339 is tried
// first.
var inputLayouts = []string{
	"2006-1-2 15:04:05", "2006-1-2 15:04", "2006-1-2", "2006-1-2T15:04:05",
	"2006/1/2 15:04:05", "2006/1/2 15:04", "2006/1/2",
}

// defaultLocation is China Standard Time, the zone H3Yun works in.
var defaultLocation = time.FixedZone("CST", 8*60*60)

// identRE is a plain identifier: the only BizObject keys that may reach the
// form check (spec §3: "$"-prefixed, dotted or empty keys are rejected).
var identRE = regexp.MustCompile(`^[\p{L}_][\p{L}\p{N}_]*$`)

// System fields of a BizObject (§5.1) and of a child row (§5.3).
const (
	fObjectID       = "ObjectId"
	fName           = "Name"
	fSeqNo          = "SeqNo"
	fCreatedBy      = "CreatedBy"
	fOwnerID        = "OwnerId"
	fOwnerDeptID    = "OwnerDeptId"
	fCreatedTime    = "CreatedTime"
	fModifiedBy     = "ModifiedBy"
	fModifiedTime   = "ModifiedTime"
	fWorkflowInstID = "WorkflowInstanceId"
	fStatus         = "Status"
	fParentObjectID = "ParentObjectId"
)

// systemFields are the keys every main record carries, companions included.
var systemFields = []string{fObjectID, fName, fSeqNo, fCreatedBy, fOwnerID, fOwnerDeptID, fCreatedTime,
	fModifiedBy, fModifiedTime, fWorkflowInstID, fStatus,
	"CreatedByObject", "OwnerIdObject", "OwnerDeptIdObject", "ModifiedByObject"}

func isSystemField(k string) bool { return slices.Contains(systemFields, k) || k == fParentObjectID }

// ---- JSON-in-a-string decoding (§3 tolerance rules) ----

// maxDepth bounds the nesting of decoded documents and Matcher trees.
const maxDepth = 32

// unwrap returns the JSON document raw holds: raw itself, or the content of
// a JSON string (clients send BizObject and Filter both ways).
func unwrap(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return bytes.TrimSpace([]byte(s)), nil
	}
	return raw, nil
}

// decodeJSON decodes b keeping numbers as json.Number, rejecting trailing
// data and documents nested deeper than maxDepth.
func decodeJSON(b []byte, v any) error {
	if depth(b) > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// depth is the maximum bracket nesting of a JSON text (strings skipped).
func depth(b []byte) int {
	d, maxD, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			maxD = max(maxD, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

// parseBool reads IsSubmit/RequireCount: JSON true/false or the strings
// "true"/"false" in any case (§3). Absent is def.
func parseBool(raw json.RawMessage, name string, def bool) (bool, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, fail(reasonFormat, name)
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1":
			return true, nil
		case "false", "0", "":
			return false, nil
		}
	case float64:
		return x != 0, nil
	}
	return false, fail(reasonFormat, name)
}

// decodeBizObject decodes a BizObject (a JSON object, possibly serialised
// into a string) and checks its keys are plain identifiers. name is the
// parameter for error messages.
func decodeBizObject(raw json.RawMessage, name string) (map[string]any, error) {
	b, err := unwrap(raw)
	if err != nil || len(b) == 0 || string(b) == "null" {
		if err == nil {
			return nil, fail(reasonMissing, name)
		}
		return nil, fail(reasonFormat, name)
	}
	var obj map[string]any
	if err := decodeJSON(b, &obj); err != nil || obj == nil {
		return nil, fail(reasonFormat, name)
	}
	if err := checkKeys(obj, name); err != nil {
		return nil, err
	}
	return obj, nil
}

// checkKeys rejects keys that are not plain identifiers, in the object and
// in the rows of its child tables.
func checkKeys(obj map[string]any, name string) error {
	for k, v := range obj {
		if !identRE.MatchString(k) {
			return failf(reasonFormat, "%s 中的键 %q 不合法", name, k)
		}
		if rows, ok := v.([]any); ok {
			for _, r := range rows {
				if row, ok := r.(map[string]any); ok {
					if err := checkKeys(row, name); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// decodeBizObjectArray decodes BizObjectArray: an array whose elements are
// BizObjects serialised as strings or plain objects (the array itself may
// also arrive as a string).
func decodeBizObjectArray(raw json.RawMessage) ([]map[string]any, error) {
	b, err := unwrap(raw)
	if err != nil {
		return nil, fail(reasonFormat, "BizObjectArray")
	}
	if len(b) == 0 || string(b) == "null" {
		return nil, fail(reasonMissing, "BizObjectArray")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fail(reasonFormat, "BizObjectArray")
	}
	if len(items) == 0 {
		return nil, fail(reasonMissing, "BizObjectArray")
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		obj, err := decodeBizObject(it, fmt.Sprintf("BizObjectArray[%d]", i))
		if err != nil {
			return nil, err
		}
		out[i] = obj
	}
	return out, nil
}

// ---- BizObject → record data ----

// converter converts values between H3Yun and the hub for one form.
type converter struct {
	form *sdk.Form
	loc  *time.Location
	log  *slog.Logger
	// deptUsers maps the department ids a Matcher's OwnerDeptId items name
	// to their users (ownerdept.go); nil when the Matcher has none.
	deptUsers map[string][]string
	// aliases are the read's aliases (kind → hub id → H3Yun id), nil
	// when it brought none (aliases.go).
	aliases map[string]map[string]string
	// cached: form came from the connector's form cache; first: this is
	// the write's first attempt (see call.withWriteForm).
	cached, first bool
	// bizLayout and rowLayouts are the output layouts (bizobject.go),
	// built on first use.
	bizLayout  *bizLayout
	rowLayouts map[string]*bizLayout
}

func (c *converter) field(key string) (*sdk.Field, bool) {
	for i := range c.form.Fields {
		if c.form.Fields[i].Field == key {
			return &c.form.Fields[i], true
		}
	}
	return nil, false
}

// toData converts a decoded BizObject to record data. System fields are
// left out (the caller reads OwnerId/CreatedBy itself); keys that are not
// controls of the form are ignored and logged (§3). partial keeps nulls
// (an update clears those fields) where a create drops them.
func (c *converter) toData(obj map[string]any, partial bool) (map[string]any, error) {
	data := map[string]any{}
	var ignored []string
	for k, v := range obj {
		if isSystemField(k) {
			continue
		}
		f, ok := c.field(k)
		if !ok {
			ignored = append(ignored, k)
			continue
		}
		hv, err := c.toHub(f, v, k)
		if err != nil {
			return nil, err
		}
		if hv == nil && !partial {
			continue
		}
		data[f.Field] = hv
	}
	if len(ignored) > 0 {
		slices.Sort(ignored)
		c.log.Info("h3yun: ignoring BizObject keys that are not controls of the form", "form", c.form.Key, "keys", ignored)
	}
	return data, nil
}

// toHub converts one value of field f; target names it in errors. nil
// means empty.
func (c *converter) toHub(f *sdk.Field, v any, target string) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() error { return failf(reasonData, "%s: 值 %s 不合法", target, short(v)) }
	switch f.Type {
	case tNumber:
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, nil
		}
		n, ok := toFloat(v)
		if !ok {
			return nil, bad()
		}
		return n, nil
	case tTimestamp:
		if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
			return nil, nil
		}
		ms, ok := c.toMillis(v)
		if !ok {
			return nil, bad()
		}
		return ms, nil
	case tRadio, tSelect:
		s, ok := scalarString(v)
		if !ok {
			return nil, bad()
		}
		if s == "" {
			return nil, nil
		}
		return optionValue(f, s), nil
	case tCheckbox, tSelect2:
		items, ok := splitList(v)
		if !ok {
			return nil, bad()
		}
		if len(items) == 0 {
			return nil, nil
		}
		out := make([]any, len(items))
		for i, s := range items {
			out[i] = optionValue(f, s)
		}
		return out, nil
	case tEmployee1, tDepartment1:
		s, ok := scalarString(v)
		if !ok {
			return nil, bad()
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil, nil
		}
		return map[string]any{"id": hubID(s)}, nil
	case tEmployee2, tDepartment2, tImageUpload, tFileUpload:
		items, ok := splitList(v)
		if !ok {
			return nil, bad()
		}
		if len(items) == 0 {
			return nil, nil
		}
		out := make([]any, len(items))
		for i, s := range items {
			out[i] = map[string]any{"id": hubID(s)}
		}
		return out, nil
	case tTableForm:
		return c.rowsToHub(f, v, target)
	default: // input, textarea and anything unknown: text
		s, ok := scalarString(v)
		if !ok {
			return nil, bad()
		}
		return s, nil
	}
}

// rowsToHub converts a child table: an array of row objects (or that array
// serialised into a string). A row's ObjectId becomes its hub "id".
func (c *converter) rowsToHub(f *sdk.Field, v any, target string) (any, error) {
	if s, ok := v.(string); ok {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		var arr []any
		if err := decodeJSON([]byte(s), &arr); err != nil {
			return nil, failf(reasonData, "%s: 子表必须是数组", target)
		}
		v = arr
	}
	rows, ok := v.([]any)
	if !ok {
		return nil, failf(reasonData, "%s: 子表必须是数组", target)
	}
	child := &converter{form: &sdk.Form{Key: f.Field, Fields: f.Columns}, loc: c.loc, log: c.log}
	out := make([]any, 0, len(rows))
	for i, r := range rows {
		row, ok := r.(map[string]any)
		if !ok {
			return nil, failf(reasonData, "%s[%d]: 子表行必须是对象", target, i)
		}
		if err := checkKeys(row, target); err != nil {
			return nil, err
		}
		hr, err := child.toData(row, false)
		if err != nil {
			return nil, err
		}
		if id, ok := row[fObjectID].(string); ok && strings.TrimSpace(id) != "" {
			hr["id"] = hubID(id)
		}
		out = append(out, hr)
	}
	return out, nil
}

// short renders a value for an error message, truncated.
func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// scalarString accepts a string or a number (rendered in JSON form).
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// splitList reads a multi-value input: a ";"-joined string or an array of
// strings. Items are trimmed; empty items are dropped.
func splitList(v any) ([]string, bool) {
	var items []string
	switch x := v.(type) {
	case string:
		items = strings.Split(x, ";")
	case []any:
		for _, e := range x {
			s, ok := scalarString(e)
			if !ok {
				return nil, false
			}
			items = append(items, s)
		}
	default:
		return nil, false
	}
	out := items[:0]
	for _, s := range items {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, true
}

// optionValue maps an H3Yun option text to the hub option value: a label
// match first, then a value match; anything else passes through (the hub
// validates it against the options).
func optionValue(f *sdk.Field, s string) string {
	for _, o := range f.Props.Options {
		if o.Label == s {
			return o.Value
		}
	}
	return s
}

// optionText is the H3Yun text of a stored option of f: its label, else
// the label of the option with its value, else the value itself.
func optionText(f *sdk.Field, v any) (string, bool) {
	var value string
	switch x := v.(type) {
	case string:
		value = x
	case map[string]any:
		if l, ok := x["label"].(string); ok && l != "" {
			return l, true
		}
		s, ok := x["value"].(string)
		if !ok {
			return "", false
		}
		value = s
	default:
		return "", false
	}
	for _, o := range f.Props.Options {
		if o.Value == value && o.Label != "" {
			return o.Label, true
		}
	}
	return value, true
}

// toFloat converts a JSON/Go number or a numeric string to a finite float64.
func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return 0, false
		}
		f = n
	case float64:
		f = x
	case int64:
		f = float64(x)
	case int:
		f = float64(x)
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0, false
		}
		f = n
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// toMillis reads a date: a §5.2 string in c.loc, RFC 3339, or epoch ms.
func (c *converter) toMillis(v any) (int64, bool) {
	if s, ok := v.(string); ok {
		s = strings.TrimSpace(s)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UnixMilli(), true
		}
		for _, l := range inputLayouts {
			if t, err := time.ParseInLocation(l, s, c.loc); err == nil {
				return t.UnixMilli(), true
			}
		}
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return 0, false
		}
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1e15 {
		return 0, false
	}
	return int64(f), true
}

// ---- record → BizObject ----

// directory resolves owners to departments for OwnerDeptId (§5.1).
type directory struct {
	userDept map[string]string // user id → department id
	deptName map[string]string // department id → name
}

// statusOf maps the hub's flowStatus to H3Yun's Status (§5.1, §6):
//
//	flowStatus      0 none   1 draft  2 approving  3 approved  4 rejected  5 suspended  6 discarded
//	Status (no wf)  1        0        2            1           3           2            3
//	Status (wf)     0        0        2            1           3           2            3
//
// A record of a form without workflow is effective from creation; on a
// workflow form flowStatus 0 means "not started", a draft.
func statusOf(flowStatus int64, usingWorkflow bool) int64 {
	switch flowStatus {
	case 0:
		if usingWorkflow {
			return 0
		}
		return 1
	case 1:
		return 0
	case 2, 5:
		return 2
	case 3:
		return 1
	case 4, 6:
		return 3
	}
	return 0
}

// maxFlowStatus is the largest hub flowStatus (native spec §6.3).
const maxFlowStatus = 6

// flowStatuses returns the flowStatus values that map to one of statuses.
func flowStatuses(statuses []int64, usingWorkflow bool) []sdk.Value {
	var out []sdk.Value
	for f := int64(0); f <= maxFlowStatus; f++ {
		if slices.Contains(statuses, statusOf(f, usingWorkflow)) {
			out = append(out, f)
		}
	}
	return out
}

func int64Of(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == math.Trunc(x)
	case int:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func (c *converter) date(v any) any {
	ms, ok := int64Of(v)
	if !ok {
		return nil
	}
	return time.UnixMilli(ms).In(c.loc).Format(outputLayout)
}

// operator returns the id and display name of an Operator {id, value, label}.
func operator(v any) (id, name string) {
	m, _ := v.(map[string]any)
	id, _ = m["id"].(string)
	name, _ = m["label"].(string)
	return id, name
}

// companion is a resolved user/department {ObjectId, Name}, null when id is
// empty. It is never changed once built (a BizObject only gets encoded or
// projected), so one value may appear under several keys.
func companion(id, name string) any {
	if id == "" {
		return nil
	}
	c := &companionObj{v: [2]any{name, id}} // keys sorted: Name, ObjectId
	c.b = bizObject{l: companionLayout, vals: c.v[:]}
	return &c.b
}

// companionObj is a companion's BizObject and its values in one allocation.
type companionObj struct {
	b bizObject
	v [2]any
}

// toBizObject renders a record in BizObject format (§5.1–5.3). dir may be
// nil when OwnerDeptId is not wanted.
func (c *converter) toBizObject(rec sdk.Doc, dir *directory) *bizObject {
	id, _ := rec["id"].(string)
	title, _ := rec["dataTitle"].(string)
	createdBy, createdName := operator(rec["createBy"])
	modifiedBy, modifiedName := operator(rec["updateBy"])
	flow, _ := int64Of(rec["flowStatus"])
	// The workflow engine names the record's latest instance (as wftodo does).
	wfID, _ := rec["wfInstanceId"].(string)
	createdExt, modifiedExt := c.ext(sdk.AliasKindUser, createdBy), c.ext(sdk.AliasKindUser, modifiedBy)
	out := c.layout().object()
	out.set(fObjectID, c.ext(sdk.AliasKindRecord, id))
	out.set(fName, title)
	out.set(fSeqNo, "")
	out.set(fCreatedBy, createdExt)
	out.set(fOwnerID, createdExt)
	out.set(fOwnerDeptID, "")
	out.set(fCreatedTime, c.date(rec["createTime"]))
	out.set(fModifiedBy, modifiedExt)
	out.set(fModifiedTime, c.date(rec["updateTime"]))
	out.set(fWorkflowInstID, extID(wfID))
	out.set(fStatus, statusOf(flow, c.form.UsingWorkflow))
	owner := companion(createdExt, createdName)
	out.set("CreatedByObject", owner)
	out.set("OwnerIdObject", owner)
	out.set("OwnerDeptIdObject", nil)
	if modifiedExt == createdExt && modifiedName == createdName {
		out.set("ModifiedByObject", owner)
	} else {
		out.set("ModifiedByObject", companion(modifiedExt, modifiedName))
	}
	if dir != nil {
		if dept := dir.userDept[createdBy]; dept != "" {
			out.set(fOwnerDeptID, c.ext(sdk.AliasKindDepartment, dept))
			out.set("OwnerDeptIdObject", companion(c.ext(sdk.AliasKindDepartment, dept), dir.deptName[dept]))
		}
	}
	data, _ := rec["data"].(map[string]any)
	c.fieldsOut(out, data, id)
	return out
}

// fieldsOut writes every field of the form (null when unset) into out.
func (c *converter) fieldsOut(out *bizObject, data map[string]any, parentID string) {
	for i := range c.form.Fields {
		f := &c.form.Fields[i]
		out.set(f.Field, c.toH3(f, data[f.Field], parentID))
	}
}

// rowOut renders one child-table row (§5.3).
func (c *converter) rowOut(f *sdk.Field, row map[string]any, parentID string) *bizObject {
	rid, _ := row["id"].(string)
	out := c.rowLayout(f).object()
	out.set(fObjectID, extID(rid))
	out.set(fName, nil)
	out.set(fParentObjectID, extID(parentID))
	child := &converter{form: &sdk.Form{Key: f.Field, Fields: f.Columns}, loc: c.loc, log: c.log, rowLayouts: c.rowLayouts}
	child.fieldsOut(out, row, parentID)
	return out
}

// toH3 converts one stored value of field f to its H3Yun encoding.
func (c *converter) toH3(f *sdk.Field, v any, parentID string) any {
	if v == nil {
		return nil
	}
	switch f.Type {
	case tTimestamp:
		return c.date(v)
	case tRadio, tSelect:
		if s, ok := optionText(f, v); ok {
			return s
		}
		return nil
	case tCheckbox, tSelect2:
		return joinList(v, func(e any) (string, bool) { return optionText(f, e) })
	case tEmployee1, tDepartment1:
		if s, ok := refID(v); ok {
			return s
		}
		return nil
	case tEmployee2, tDepartment2:
		return joinList(v, refID)
	case tImageUpload, tFileUpload:
		arr, _ := v.([]any)
		ids := []string{}
		for _, e := range arr {
			if s, ok := refID(e); ok {
				ids = append(ids, s)
			}
		}
		return ids
	case tTableForm:
		arr, _ := v.([]any)
		rows := make([]any, 0, len(arr))
		for _, e := range arr {
			if row, ok := e.(map[string]any); ok {
				rows = append(rows, c.rowOut(f, row, parentID))
			}
		}
		return rows
	}
	return v
}

// refID is the id of a stored reference {id, …} (or a bare id), as H3Yun
// shows it.
func refID(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return extID(x), true
	case map[string]any:
		s, ok := x["id"].(string)
		return extID(s), ok
	}
	return "", false
}

func joinList(v any, item func(any) (string, bool)) any {
	arr, ok := v.([]any)
	if !ok {
		return nil
	}
	parts := make([]string, 0, len(arr))
	for _, e := range arr {
		if s, ok := item(e); ok {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ";")
}

// project keeps the ReturnItems of a rendered BizObject (plus ObjectId).
func project(obj *bizObject, items []string) any {
	if len(items) == 0 {
		return obj
	}
	id, _ := obj.get(fObjectID)
	out := map[string]any{fObjectID: id}
	for _, k := range items {
		if v, ok := obj.get(k); ok {
			out[k] = v
		}
	}
	return out
}
