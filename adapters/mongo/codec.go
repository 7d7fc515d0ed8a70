package mongo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// This file maps store.Doc to BSON and back (spec §8: string ids, the
// document's own layout otherwise). Doc["id"] is stored as "_id"; every other
// key is stored as is, in sorted order so the documents sent are
// deterministic.

// encodeDoc renders doc for an insert (withID: "_id" first) or for a
// replacement (no "_id": the stored one is kept).
func encodeDoc(doc store.Doc, withID bool) (bson.D, error) {
	id, ok := doc["id"].(string)
	if !ok || id == "" {
		return nil, errs.Invalidf("document has no string id").WithReason("invalid_document")
	}
	if _, ok := doc["corpId"].(string); !ok {
		return nil, errs.Invalidf("document %q has no string corpId", id).WithReason("invalid_document")
	}
	if _, ok := doc["_id"]; ok {
		return nil, errs.Invalidf("document %q has a reserved key _id", id).WithReason("invalid_document")
	}
	out := make(bson.D, 0, len(doc))
	if withID {
		out = append(out, bson.E{Key: "_id", Value: id})
	}
	for _, k := range sortedKeys(doc) {
		if k == "id" {
			continue
		}
		if err := checkKey(k); err != nil {
			return nil, err
		}
		v, err := encodeValue(doc[k], 1)
		if err != nil {
			return nil, fmt.Errorf("document %q key %q: %w", id, k, err)
		}
		out = append(out, bson.E{Key: k, Value: v})
	}
	return out, nil
}

// maxNesting bounds document nesting (BSON allows 100 levels on the server).
const maxNesting = 100

// checkKey rejects keys MongoDB would read as an operator ('$' prefix) or
// cannot encode (NUL, invalid UTF-8).
func checkKey(k string) error {
	if strings.HasPrefix(k, "$") || strings.IndexByte(k, 0) >= 0 || !utf8.ValidString(k) {
		return errs.Invalidf("key %q cannot be stored", k).WithReason("invalid_document")
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// encodeValue converts a Doc value to its BSON form: maps become bson.D with
// sorted, checked keys; slices become bson.A; Go integers int64, floats
// float64. Other values (time.Time, …) go to the driver's default encoder.
func encodeValue(v any, depth int) (any, error) {
	if depth > maxNesting {
		return nil, errs.Invalidf("document nested too deeply").WithReason("invalid_document")
	}
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return v, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		f, err := x.Float64()
		if err != nil {
			return nil, errs.Invalidf("number %s is out of range", x).WithReason("invalid_document")
		}
		return f, nil
	case map[string]any:
		out := make(bson.D, 0, len(x))
		for _, k := range sortedKeys(x) {
			if err := checkKey(k); err != nil {
				return nil, err
			}
			e, err := encodeValue(x[k], depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, bson.E{Key: k, Value: e})
		}
		return out, nil
	case []any:
		out := make(bson.A, len(x))
		for i, e := range x {
			var err error
			if out[i], err = encodeValue(e, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []byte:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		return rv.Int(), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, errs.Invalidf("number %d is out of range", u).WithReason("invalid_document")
		}
		return int64(u), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice, reflect.Array:
		out := make(bson.A, rv.Len())
		for i := range out {
			var err error
			if out[i], err = encodeValue(rv.Index(i).Interface(), depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, errs.Invalidf("map with %s keys cannot be stored", rv.Type().Key()).WithReason("invalid_document")
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return encodeValue(m, depth)
	case reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return encodeValue(rv.Elem().Interface(), depth)
	}
	return v, nil
}

// decodeDoc converts a stored document to the store.Doc contract: "_id"
// becomes "id", integral numbers int64, other numbers float64, nested
// documents map[string]any and arrays []any.
func decodeDoc(raw bson.Raw) (store.Doc, error) {
	m, err := decodeMap(raw, true)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "mongo: stored document is not valid BSON")
	}
	return m, nil
}

func decodeMap(raw bson.Raw, root bool) (map[string]any, error) {
	elems, err := raw.Elements()
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(elems))
	for _, e := range elems {
		k := e.Key()
		v, err := decodeValue(e.Value())
		if err != nil {
			return nil, err
		}
		if root && k == "_id" {
			k = "id"
			if v != nil {
				v = fmt.Sprint(v) // string ids; an ObjectId is already its hex form
			}
		}
		m[k] = v
	}
	return m, nil
}

// decodeValue converts one BSON value. BSON dates and timestamps become epoch
// milliseconds (the Doc convention for times), ObjectIds their hex string,
// Decimal128 a number; types without a JSON shape (MinKey, MaxKey,
// undefined, DBPointer, code with scope) become nil.
func decodeValue(v bson.RawValue) (any, error) {
	switch v.Type {
	case bsontype.Double:
		return number(v.Double()), nil
	case bsontype.String:
		return v.StringValue(), nil
	case bsontype.EmbeddedDocument:
		return decodeMap(v.Document(), false)
	case bsontype.Array:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, e := range vals {
			if out[i], err = decodeValue(e); err != nil {
				return nil, err
			}
		}
		return out, nil
	case bsontype.Binary:
		_, data := v.Binary()
		return slices.Clone(data), nil
	case bsontype.ObjectID:
		return v.ObjectID().Hex(), nil
	case bsontype.Boolean:
		return v.Boolean(), nil
	case bsontype.DateTime:
		return v.DateTime(), nil
	case bsontype.Int32:
		return int64(v.Int32()), nil
	case bsontype.Int64:
		return v.Int64(), nil
	case bsontype.Timestamp:
		t, _ := v.Timestamp()
		return int64(t) * 1000, nil
	case bsontype.Decimal128:
		f, err := strconv.ParseFloat(v.Decimal128().String(), 64)
		if err != nil && !isRangeErr(err) {
			return nil, err
		}
		return number(f), nil
	case bsontype.Symbol:
		return v.Symbol(), nil
	case bsontype.JavaScript:
		return v.JavaScript(), nil
	case bsontype.Regex:
		p, o := v.Regex()
		return primitive.Regex{Pattern: p, Options: o}.String(), nil
	}
	return nil, v.Validate()
}

func isRangeErr(err error) bool {
	var ne *strconv.NumError
	return errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

// number returns f as int64 when it is integral and in range, else f.
func number(f float64) any {
	if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return f
}
