package h3yun

import (
	"slices"
	"sync"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// bizObject is a rendered BizObject (or child row, or {ObjectId, Name}
// companion): its values in the order of its layout's keys, which is the
// order json.Marshal writes a map's keys in (sorted). Encoding it
// therefore neither builds nor sorts a map: a 50-row LoadBizObjects spent
// most of the connector's time doing both. Its JSON is exactly that of the
// map[string]any it stands for (TestBizObjectIsItsMap).
type bizObject struct {
	l    *bizLayout
	vals []any
}

// bizLayout is the key set of a form's BizObjects (or a child table's
// rows): sorted, unique, each key's `"key":` encoded once.
type bizLayout struct {
	keys  []string
	heads [][]byte
	pos   map[string]int
	// fields are the form's field (or the table's column) names it was
	// built from, in form order: a cached layout is used only for a form
	// with exactly these fields.
	fields []string
}

// layouts caches the layouts of forms (and their child tables) across
// requests, by form id and version; an entry is used only when its field
// names match the form's, so a form edited without a version change still
// gets a layout of its own. Bounded: cleared when full.
var layouts = struct {
	sync.RWMutex
	m map[layoutKey]*bizLayout
}{m: map[layoutKey]*bizLayout{}}

type layoutKey struct {
	form, table string
	version     int64
}

const layoutsMax = 1024

func fieldNames(fs []sdk.Field) []string {
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = fs[i].Field
	}
	return out
}

// cachedLayout returns the layout of fields under k, building it from
// system keys and the field names when none matches.
func cachedLayout(k layoutKey, system []string, fs []sdk.Field) *bizLayout {
	if k.form != "" && k.version != 0 {
		layouts.RLock()
		l := layouts.m[k]
		layouts.RUnlock()
		if l != nil && len(l.fields) == len(fs) && slices.EqualFunc(l.fields, fs, func(n string, f sdk.Field) bool { return n == f.Field }) {
			return l
		}
	}
	names := fieldNames(fs)
	l := newLayout(append(slices.Clone(system), names...))
	l.fields = names
	if k.form != "" && k.version != 0 {
		layouts.Lock()
		if len(layouts.m) >= layoutsMax {
			clear(layouts.m)
		}
		layouts.m[k] = l
		layouts.Unlock()
	}
	return l
}

func newLayout(keys []string) *bizLayout {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	l := &bizLayout{keys: keys, heads: make([][]byte, len(keys)), pos: make(map[string]int, len(keys))}
	for i, k := range keys {
		var h []byte
		if i > 0 {
			h = append(h, ',')
		}
		h, _ = sdk.AppendJSON(h, k) // a string: never an error
		h = append(h, ':')
		l.heads[i], l.pos[k] = h, i
	}
	return l
}

func (l *bizLayout) object() *bizObject { return &bizObject{l: l, vals: make([]any, len(l.keys))} }

// set sets key (one of the layout's) to v.
func (o *bizObject) set(key string, v any) { o.vals[o.l.pos[key]] = v }

func (o *bizObject) get(key string) (any, bool) {
	i, ok := o.l.pos[key]
	if !ok {
		return nil, false
	}
	return o.vals[i], true
}

// AppendJSON implements sdk.JSONAppender.
func (o *bizObject) AppendJSON(dst []byte) ([]byte, error) {
	if o == nil {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '{')
	for i, v := range o.vals {
		dst = append(dst, o.l.heads[i]...)
		var err error
		if dst, err = sdk.AppendJSON(dst, v); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// MarshalJSON is AppendJSON for encoding/json.
func (o *bizObject) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil) }

// Map returns o as the map it stands for (nested objects too).
func (o *bizObject) Map() map[string]any {
	if o == nil {
		return nil
	}
	m := make(map[string]any, len(o.vals))
	for i, v := range o.vals {
		m[o.l.keys[i]] = plain(v)
	}
	return m
}

func plain(v any) any {
	switch x := v.(type) {
	case *bizObject:
		return x.Map()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// Layouts of the fixed shapes.
var (
	companionLayout = newLayout([]string{fObjectID, fName})
	bizSystemKeys   = []string{fObjectID, fName, fSeqNo, fCreatedBy, fOwnerID, fOwnerDeptID, fCreatedTime, fModifiedBy,
		fModifiedTime, fWorkflowInstID, fStatus, "CreatedByObject", "OwnerIdObject", "OwnerDeptIdObject", "ModifiedByObject"}
	rowSystemKeys = []string{fObjectID, fName, fParentObjectID}
)

// layout returns the converter's BizObject layout: the system keys and
// the form's fields (a field named like a system key overrides it, as in
// a map the fields are written last).
func (c *converter) layout() *bizLayout {
	if c.bizLayout == nil {
		c.bizLayout = cachedLayout(layoutKey{form: c.form.ID, version: c.form.Version}, bizSystemKeys, c.form.Fields)
	}
	return c.bizLayout
}

// rowLayout returns the layout of child table f's rows.
func (c *converter) rowLayout(f *sdk.Field) *bizLayout {
	if l, ok := c.rowLayouts[f.Field]; ok {
		return l
	}
	l := cachedLayout(layoutKey{form: c.form.ID, table: f.Field, version: c.form.Version}, rowSystemKeys, f.Columns)
	if c.rowLayouts == nil {
		c.rowLayouts = map[string]*bizLayout{}
	}
	c.rowLayouts[f.Field] = l
	return l
}
