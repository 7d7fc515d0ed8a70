package eoffice

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// Field codes ↔ hub form fields, for form-modeling tables (field_<n>) and
// flow form data (DATA_<n>, detail DATA_<n>_<m>): an explicit mapping from
// the configuration wins; else DATA_<n> / field_<n> is the form's n-th
// field (1-based, in form order) and DATA_<n>_<m> the m-th column of the
// n-th field (a child table); else the code is the hub field key itself.

// FormMap maps the e-office field codes of one form.
type FormMap struct {
	Form *sdk.Form
	// toHub: code → hub key; toExt: hub key → code (top-level fields);
	// cols: child table hub key → (column code → column key) and back.
	toHub    map[string]string
	toExt    map[string]string
	colHub   map[string]map[string]string
	colExt   map[string]map[string]string
	byKey    map[string]*sdk.Field
	explicit map[string]string
}

var positional = regexp.MustCompile(`^(?:DATA|field)_([1-9][0-9]{0,3})(?:_([1-9][0-9]{0,3}))?$`)

// NewFormMap builds the map of f with explicit code → hub key entries
// (a child column as "table.column").
func NewFormMap(f *sdk.Form, explicit map[string]string) *FormMap {
	m := &FormMap{Form: f, toHub: map[string]string{}, toExt: map[string]string{}, colHub: map[string]map[string]string{},
		colExt: map[string]map[string]string{}, byKey: map[string]*sdk.Field{}, explicit: explicit}
	for i := range f.Fields {
		m.byKey[f.Fields[i].Field] = &f.Fields[i]
	}
	bind := func(code, key string) {
		if parent, col, ok := strings.Cut(key, "."); ok {
			if m.colHub[parent] == nil {
				m.colHub[parent], m.colExt[parent] = map[string]string{}, map[string]string{}
			}
			if _, dup := m.colExt[parent][col]; !dup {
				m.colHub[parent][code], m.colExt[parent][col] = col, code
			}
			return
		}
		if _, dup := m.toExt[key]; !dup {
			m.toHub[code], m.toExt[key] = key, code
		}
	}
	for code, key := range explicit {
		bind(code, key)
	}
	return m
}

// HubKey returns the hub field of a top-level code ("" when none).
func (m *FormMap) HubKey(code string) string {
	if k, ok := m.toHub[code]; ok {
		return k
	}
	if sm := positional.FindStringSubmatch(code); sm != nil && sm[2] == "" {
		n, _ := strconv.Atoi(sm[1])
		if n <= len(m.Form.Fields) {
			return m.Form.Fields[n-1].Field
		}
		return ""
	}
	if f := m.byKey[code]; f != nil {
		if _, mapped := m.toExt[code]; !mapped {
			return code
		}
	}
	return ""
}

// ExtCode returns the e-office code of a hub field: the explicit one, else
// the hub key.
func (m *FormMap) ExtCode(key string) string {
	if c, ok := m.toExt[key]; ok {
		return c
	}
	return key
}

// colKey returns the hub column of a child-table code: the explicit one,
// else DATA_<n>_<m> is the m-th column, else the column key itself.
func (m *FormMap) colKey(table *sdk.Field, code string) string {
	if k, ok := m.colHub[table.Field][code]; ok {
		return k
	}
	if sm := positional.FindStringSubmatch(code); sm != nil && sm[2] != "" {
		n, _ := strconv.Atoi(sm[2])
		if n <= len(table.Columns) {
			return table.Columns[n-1].Field
		}
		return ""
	}
	for _, c := range table.Columns {
		if c.Field == code {
			return code
		}
	}
	return ""
}

// colCode returns the e-office code of a child column.
func (m *FormMap) colCode(table *sdk.Field, key string) string {
	if c, ok := m.colExt[table.Field][key]; ok {
		return c
	}
	return key
}

// ToHub converts e-office field values to record data; an unknown code is
// 0x000007 naming it. loc reads date strings of timestamp fields.
func (m *FormMap) ToHub(in map[string]any, loc *time.Location) (map[string]any, error) {
	out := map[string]any{}
	for code, v := range in {
		key := m.HubKey(code)
		f := m.byKey[key]
		if f == nil {
			return nil, FailField(CodeIllegalField, code)
		}
		val, err := m.valueToHub(f, code, v, loc)
		if err != nil {
			return nil, err
		}
		out[key] = val
	}
	return out, nil
}

func (m *FormMap) valueToHub(f *sdk.Field, code string, v any, loc *time.Location) (any, error) {
	switch f.Type {
	case "tableform":
		rows := ListValues(v)
		out := make([]any, 0, len(rows))
		for _, r := range rows {
			rm, ok := r.(map[string]any)
			if !ok {
				return nil, FailField(CodeIllegalField, code)
			}
			row := map[string]any{}
			for cc, cv := range rm {
				if cc == "detail_data_id" || cc == "id" {
					continue
				}
				ck := m.colKey(f, cc)
				var col *sdk.Field
				for i := range f.Columns {
					if f.Columns[i].Field == ck {
						col = &f.Columns[i]
					}
				}
				if col == nil {
					return nil, FailField(CodeIllegalField, cc)
				}
				val, err := m.valueToHub(col, cc, cv, loc)
				if err != nil {
					return nil, err
				}
				row[ck] = val
			}
			out = append(out, row)
		}
		return out, nil
	case "number":
		switch x := v.(type) {
		case int64, float64:
			return x, nil
		case nil:
			return nil, nil
		}
		s := strings.TrimSpace(ToStr(v))
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, FailField(CodeIllegalField, code)
		}
		if n == float64(int64(n)) {
			return int64(n), nil
		}
		return n, nil
	case "timestamp":
		s := strings.TrimSpace(ToStr(v))
		if s == "" {
			return nil, nil
		}
		t, ok := parseDate(s, loc)
		if !ok {
			return nil, FailField(CodeIllegalField, code)
		}
		return t.UnixMilli(), nil
	case "checkbox", "select2", "employee2", "department2", "fileupload", "imageupload":
		vals := ListValues(v)
		out := make([]any, 0, len(vals))
		for _, x := range vals {
			out = append(out, ToStr(x))
		}
		return out, nil
	}
	if v == nil {
		return nil, nil
	}
	switch v.(type) {
	case []any, map[string]any:
		return nil, FailField(CodeIllegalField, code)
	}
	return ToStr(v), nil
}

func parseDate(s string, loc *time.Location) (time.Time, bool) {
	for _, layout := range []string{dateTime, "2006-01-02 15:04", "2006-01-02", "2006/01/02 15:04:05", "2006/01/02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

// FromHub renders record data with e-office codes: dates as
// "YYYY-MM-DD HH:MM:SS", child tables as arrays of row objects.
func (m *FormMap) FromHub(data map[string]any, loc *time.Location) map[string]any {
	out := map[string]any{}
	for _, f := range m.Form.Fields {
		v, ok := data[f.Field]
		if !ok {
			v = nil
		}
		out[m.ExtCode(f.Field)] = m.valueFromHub(&f, v, loc)
	}
	return out
}

func (m *FormMap) valueFromHub(f *sdk.Field, v any, loc *time.Location) any {
	switch f.Type {
	case "tableform":
		rows := []any{}
		for _, r := range anyList(v) {
			rm, _ := r.(map[string]any)
			row := map[string]any{}
			if id, ok := rm["id"]; ok {
				row["detail_data_id"] = id
			}
			for _, c := range f.Columns {
				row[m.colCode(f, c.Field)] = m.valueFromHub(&c, rm[c.Field], loc)
			}
			rows = append(rows, row)
		}
		return rows
	case "timestamp":
		if v == nil {
			return nil
		}
		return timeStr(v, loc)
	}
	return v
}

// Column returns the search column of a code (nil when none).
func (m *FormMap) Column(code string) *Column {
	key := m.HubKey(code)
	f := m.byKey[key]
	if f == nil || f.Type == "tableform" {
		return nil
	}
	col := Column{Path: sdk.Path{"data", key}}
	switch f.Type {
	case "number":
		col.Type = TNumber
	case "timestamp":
		col.Type = TInt
	}
	return &col
}

// isFile reports whether f holds attachments.
func isFile(f *sdk.Field) bool { return f.Type == "fileupload" || f.Type == "imageupload" }

// FilesToHub replaces the attachment ids in record data (built by ToHub)
// with hub file ids, in place: one alias call; an unknown attachment id is
// 0x000007 naming its field.
func (m *FormMap) FilesToHub(ctx context.Context, c *Call, data map[string]any) error {
	type ref struct {
		list  []any
		i     int
		field string
	}
	var refs []ref
	var ext []string
	collect := func(fields []sdk.Field, row map[string]any) {
		for i := range fields {
			f := &fields[i]
			if !isFile(f) {
				continue
			}
			l, _ := row[f.Field].([]any)
			for j, v := range l {
				refs = append(refs, ref{l, j, f.Field})
				ext = append(ext, ToStr(v))
			}
		}
	}
	collect(m.Form.Fields, data)
	for _, f := range m.Form.Fields {
		if f.Type == "tableform" {
			for _, r := range anyList(data[f.Field]) {
				if rm, ok := r.(map[string]any); ok {
					collect(f.Columns, rm)
				}
			}
		}
	}
	if len(ext) == 0 {
		return nil
	}
	hub, err := c.HubIDs(ctx, kindFile, ext)
	if err != nil {
		return err
	}
	for k, r := range refs {
		id := hub[ext[k]]
		if id == "" {
			return FailField(CodeIllegalField, m.ExtCode(r.field))
		}
		r.list[r.i] = id
	}
	return nil
}

// FilesToExt replaces hub file references ([id] or [{id,…}]) in rendered
// rows (FromHub output) with attachment ids: one alias call for all rows.
func (m *FormMap) FilesToExt(ctx context.Context, c *Call, rows []map[string]any) error {
	var ids []string
	var sets []func(map[string]string)
	visit := func(fields []sdk.Field, row map[string]any, code func(string) string) {
		for i := range fields {
			f := &fields[i]
			if !isFile(f) {
				continue
			}
			key := code(f.Field)
			l := anyList(row[key])
			out := make([]any, len(l))
			var mine []string
			for _, v := range l {
				id := ToStr(v)
				if mm, ok := v.(map[string]any); ok {
					id = ToStr(mm["id"])
				}
				mine = append(mine, id)
			}
			ids = append(ids, mine...)
			sets = append(sets, func(ext map[string]string) {
				for j, id := range mine {
					out[j] = ext[id]
				}
				row[key] = out
			})
		}
	}
	for _, row := range rows {
		visit(m.Form.Fields, row, m.ExtCode)
		for _, f := range m.Form.Fields {
			if f.Type != "tableform" {
				continue
			}
			table := f
			for _, r := range anyList(row[m.ExtCode(f.Field)]) {
				if rm, ok := r.(map[string]any); ok {
					visit(table.Columns, rm, func(k string) string { return m.colCode(&table, k) })
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ext, err := attachIDs(ctx, c, ids)
	if err != nil {
		return err
	}
	for _, set := range sets {
		set(ext)
	}
	return nil
}

// ---- form modeling (§5.7) ----

func registerFormRoutes(r *Router) {
	r.Add("GET", "form-modeling/data/:tableKey", formList)
	r.Add("GET", "form-modeling/data/:tableKey/:dataId", formGet)
	r.Add("POST", "form-modeling/data/:tableKey", formCreate)
	r.Add("POST", "form-modeling/data/:tableKey/:dataId", formEdit)
	r.Add("DELETE", "form-modeling/data/:tableKey/:dataId", formDelete)
	r.Add("GET", "form-modeling/fields/:tableKey", formFields)
}

// tableForm resolves a table key: a configured table, else a hub form key;
// nil when unknown.
func tableForm(ctx context.Context, c *Call) (*FormMap, error) {
	key := c.Params["tableKey"]
	var explicit map[string]string
	form := key
	for _, fc := range c.Cfg.Forms {
		if fc.TableKey == key {
			form, explicit = fc.Form, fc.Fields
		}
	}
	f, err := c.Host.GetForm(ctx, c.P, form)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return nil, nil
		}
		return nil, FromHost(err, nil)
	}
	return NewFormMap(f, explicit), nil
}

// transport keys are request parameters, not field values.
var transport = map[string]bool{"api_token": true, "_method": true, "local": true, "creator": true}

// formValues are the field values of a create or edit body.
func formValues(in Input) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		if !transport[k] {
			out[k] = v
		}
	}
	return out
}

// formColumns are the searchable columns of a form-modeling table.
type formColumns struct {
	m *FormMap
	c *Call
}

func (fc formColumns) columns() Columns {
	cols := Columns{
		"data_id":    {Path: sdk.Path{"createTime"}, Type: TInt}, // sort: ids follow creation
		"created_at": {Path: sdk.Path{"createTime"}, Type: TInt},
		"updated_at": {Path: sdk.Path{"updateTime"}, Type: TInt},
	}
	for _, f := range fc.m.Form.Fields {
		code := fc.m.ExtCode(f.Field)
		if col := fc.m.Column(code); col != nil {
			cols[code] = *col
		}
	}
	return cols
}

// dateValue turns date strings of time columns into epoch ms.
func dateValue(v any, loc *time.Location) any {
	if s, ok := v.(string); ok {
		if t, ok := parseDate(s, loc); ok {
			return t.UnixMilli()
		}
	}
	if l, ok := v.([]any); ok {
		out := make([]any, len(l))
		for i, x := range l {
			out[i] = dateValue(x, loc)
		}
		return out
	}
	return v
}

// formList serves GET form-modeling/data/{tableKey}.
func formList(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return []any{}, nil
	}
	cols := formColumns{m, c}.columns()
	virtual := func(key string, v any, op string) (sdk.Expr, bool, error) {
		if key == "data_id" {
			ext := []string{}
			for _, x := range ListValues(v) {
				ext = append(ext, ToStr(x))
			}
			if op != "in" && op != "not_in" {
				ext = []string{ToStr(v)}
			}
			hub, err := c.HubIDs(ctx, kindData, ext)
			if err != nil {
				return nil, true, err
			}
			ids := []sdk.Value{}
			for _, e := range ext {
				if h := hub[e]; h != "" {
					ids = append(ids, h)
				}
			}
			var e sdk.Expr = sdk.In{Path: sdk.Path{"id"}, Values: ids}
			if len(ids) == 0 {
				e = sdk.Const{Value: false}
			}
			if op == "!=" || op == "<>" || op == "not_in" {
				e = sdk.Not{X: e}
			}
			return e, true, nil
		}
		if col, ok := cols[key]; ok && col.Type == TInt && (key == "created_at" || key == "updated_at" || isTimestamp(m, key)) {
			e, err := Cond(col, key, dateValue(v, c.Cfg.loc), op)
			return e, true, err
		}
		return nil, false, nil
	}
	l, err := ParseList(c, SearchOptions{Columns: cols, Virtual: virtual, Multi: true, FormModeling: true})
	if err != nil {
		return nil, err
	}
	if !l.OrderGiven {
		l.Sort = []sdk.Sort{{Path: sdk.Path{"createTime"}, Desc: true}}
	}
	l.AutoFixPage = true
	find := func(q sdk.Query, count bool) (sdk.Page, error) {
		return c.Host.FindRecords(ctx, c.P, m.Form.Key, q, count)
	}
	q := l.Query()
	pg, err := find(q, true)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	before := l.Page
	l.FixPage(pg.Total)
	if l.Page != before && l.Page >= 1 {
		if pg, err = find(l.Query(), true); err != nil {
			return nil, FromHost(err, nil)
		}
	}
	if l.Response != "" && l.Response != "data" {
		return pg.Total, nil
	}
	rows, err := formRows(ctx, c, m, pg.Items, true)
	if err != nil {
		return nil, err
	}
	if l.Response == "data" {
		return rows, nil
	}
	return Obj{{"total", pg.Total}, {"list", rows}}, nil
}

func isTimestamp(m *FormMap, code string) bool {
	f := m.byKey[m.HubKey(code)]
	return f != nil && f.Type == "timestamp"
}

// rowsOf is what formRows and documentRows render records from: the
// records' hub ids, their external data ids, their creators' external user
// ids (by hub user id) and their data in the e-office shape (file ids
// external).
type rowsOf struct {
	ids       []string
	ext, uext map[string]string
	vals      []map[string]any
}

// loadRows allocates the external ids of recs and their creators and
// converts their data to the e-office shape.
func loadRows(ctx context.Context, c *Call, m *FormMap, recs []sdk.Doc) (*rowsOf, error) {
	ids, users := make([]string, len(recs)), []string{}
	for i, r := range recs {
		ids[i] = str(r, "id")
		if cb, ok := r["createBy"].(map[string]any); ok {
			users = append(users, ToStr(cb["id"]))
		}
	}
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kindData, ids)
	if err != nil {
		return nil, err
	}
	uext, err := ExtIDs(ctx, c.Host, c.Svc, kindUser, users)
	if err != nil {
		return nil, err
	}
	vals := make([]map[string]any, len(recs))
	for i, r := range recs {
		data, _ := r["data"].(map[string]any)
		vals[i] = m.FromHub(data, c.Cfg.loc)
	}
	if err := m.FilesToExt(ctx, c, vals); err != nil {
		return nil, err
	}
	return &rowsOf{ids: ids, ext: ext, uext: uext, vals: vals}, nil
}

// formRows renders records as form-modeling rows (ids allocated).
func formRows(ctx context.Context, c *Call, m *FormMap, recs []sdk.Doc, list bool) ([]any, error) {
	rs, err := loadRows(ctx, c, m, recs)
	if err != nil {
		return nil, err
	}
	ids, ext, uext, all := rs.ids, rs.ext, rs.uext, rs.vals
	out := make([]any, len(recs))
	for i, r := range recs {
		row := Obj{{"data_id", numeric(ext[ids[i]])}}
		vals := all[i]
		for _, f := range m.Form.Fields {
			code := m.ExtCode(f.Field)
			if list && len(f.Props.Options) > 0 {
				// list rows show the option's text; the stored value is raw_<code> (§5.7)
				row = append(row, KV{code, optionText(&f, vals[code])}, KV{"raw_" + code, vals[code]})
				continue
			}
			row = append(row, KV{code, vals[code]})
		}
		creator := ""
		if cb, ok := r["createBy"].(map[string]any); ok {
			creator = uext[ToStr(cb["id"])]
		}
		row = append(row, KV{"creator", creator}, KV{"created_at", timeStr(r["createTime"], c.Cfg.loc)},
			KV{"updated_at", timeStr(r["updateTime"], c.Cfg.loc)}, KV{"edit", 1}, KV{"delete", 1})
		out[i] = row
	}
	return out, nil
}

// recordOf resolves a data id of the path to a hub record id ("" when
// unknown).
func recordOf(ctx context.Context, c *Call, ext string) (string, error) {
	return c.hubID(ctx, kindData, ext)
}

// formGet serves GET form-modeling/data/{tableKey}/{dataId}: a missing
// row (or table) is {"status":1,"data":[]}.
func formGet(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil || m == nil {
		return []any{}, err
	}
	id, err := recordOf(ctx, c, c.Params["dataId"])
	if err != nil || id == "" {
		return []any{}, err
	}
	rec, err := c.Host.GetRecord(ctx, c.P, m.Form.Key, id)
	if err != nil {
		if sdk.CodeOf(err) == sdk.NotFound {
			return []any{}, nil
		}
		if sdk.CodeOf(err) == sdk.Forbidden {
			return nil, Fail("0x016026")
		}
		return nil, FromHost(err, nil)
	}
	rows, err := formRows(ctx, c, m, []sdk.Doc{rec}, false)
	if err != nil {
		return nil, err
	}
	row := rows[0].(Obj)
	row[0].V = c.Params["dataId"]
	return row[:len(row)-2], nil
}

// formWriteError maps a record write failure (§5.7 codes).
func formWriteError(err error, perm string) error {
	e := sdk.AsError(err)
	switch e.Code {
	case sdk.Forbidden:
		return &Error{Code: perm, Err: err}
	case sdk.NotFound:
		return &Error{Code: "0x016035", Err: err}
	case sdk.Invalid:
		if len(e.Details) > 0 || strings.HasPrefix(e.Target, "data/") {
			field := strings.TrimPrefix(e.Target, "data/")
			if field == "" && len(e.Details) > 0 {
				field = strings.TrimPrefix(e.Details[0].Target, "data/")
			}
			return &Error{Code: "0x016021", Message: field + " " + e.Msg, Err: err}
		}
	case sdk.Conflict:
		return &Error{Code: "0x016031", Message: e.Msg, Err: err}
	}
	return FromHost(err, nil)
}

// formCreate serves POST form-modeling/data/{tableKey}: the new data_id.
func formCreate(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, Fail("0x016019")
	}
	vals := formValues(c.In)
	if len(vals) == 0 {
		return "", nil
	}
	data, err := m.ToHub(vals, c.Cfg.loc)
	if err != nil {
		return nil, err
	}
	if err := m.FilesToHub(ctx, c, data); err != nil {
		return nil, err
	}
	rec, err := c.Host.CreateRecord(ctx, c.P, m.Form.Key, data)
	if err != nil {
		return nil, formWriteError(err, "0x016029")
	}
	id := str(rec, "id")
	ext, err := ExtIDs(ctx, c.Host, c.Svc, kindData, []string{id})
	if err != nil {
		return nil, err
	}
	return numeric(ext[id]), nil
}

// formEdit serves POST form-modeling/data/{tableKey}/{dataId}: no data.
func formEdit(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, Fail("0x016019")
	}
	id, err := recordOf(ctx, c, c.Params["dataId"])
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Fail("0x016035")
	}
	data, err := m.ToHub(formValues(c.In), c.Cfg.loc)
	if err != nil {
		return nil, err
	}
	if err := m.FilesToHub(ctx, c, data); err != nil {
		return nil, err
	}
	if _, err := c.Host.UpdateRecord(ctx, c.P, m.Form.Key, id, data); err != nil {
		return nil, formWriteError(err, "0x016027")
	}
	return NoData, nil
}

// formDelete serves DELETE form-modeling/data/{tableKey}/{dataId} (a
// comma list): the number of deleted rows. Every id is resolved and
// checked before anything is deleted.
func formDelete(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return nil, Fail("0x016019")
	}
	var ext []string
	for _, s := range strings.Split(c.Params["dataId"], ",") {
		if s = strings.TrimSpace(s); s != "" && s != "0" {
			ext = append(ext, s)
		}
	}
	if len(ext) == 0 {
		return nil, Fail("0x016020")
	}
	hub, err := c.HubIDs(ctx, kindData, ext)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(ext))
	for _, e := range ext {
		if hub[e] == "" {
			return nil, Fail("0x016035")
		}
		ids = append(ids, hub[e])
	}
	found, err := c.Host.BatchGetRecords(ctx, c.P, m.Form.Key, ids)
	if err != nil {
		return nil, FromHost(err, nil)
	}
	if len(found) != len(ids) {
		return nil, Fail("0x016035")
	}
	n := 0
	for _, id := range ids {
		if err := c.Host.DeleteRecord(ctx, c.P, m.Form.Key, id); err != nil {
			if n == 0 {
				return nil, formWriteError(err, "0x016028")
			}
			break
		}
		n++
	}
	return n, nil
}

// fieldDirective maps hub field types to e-office control kinds.
var fieldDirective = map[string]string{"input": "text", "textarea": "textarea", "number": "number", "timestamp": "date",
	"radio": "radio", "select": "select", "checkbox": "checkbox", "select2": "select", "employee1": "selector",
	"employee2": "selector", "department1": "selector", "department2": "selector", "imageupload": "upload",
	"fileupload": "upload", "tableform": "detail-layout"}

// formFields serves GET form-modeling/fields/{tableKey}.
func formFields(ctx context.Context, c *Call) (any, error) {
	m, err := tableForm(ctx, c)
	if err != nil || m == nil {
		return []any{}, err
	}
	out := []any{}
	for _, f := range m.Form.Fields {
		dt := "varchar"
		if f.Type == "number" {
			dt = "decimal"
		}
		out = append(out, Obj{{"field_code", m.ExtCode(f.Field)}, {"field_name", f.Title}, {"field_directive", fieldDirective[f.Type]},
			{"field_data_type", dt}, {"field_options", "{}"}, {"is_system", 0}})
	}
	return out, nil
}

// optionText renders a select-like value as its options' labels (a list
// joined with ","); a value without an option shows as it is.
func optionText(f *sdk.Field, v any) any {
	label := func(x any) string {
		s := ToStr(x)
		for _, o := range f.Props.Options {
			if o.Value == s {
				return o.Label
			}
		}
		return s
	}
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = label(e)
		}
		return strings.Join(parts, ",")
	}
	return label(v)
}
