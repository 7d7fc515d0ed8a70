package sqlite

import (
	"bytes"
	"encoding/json"
	"io"
	"math"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/store"
)

// encodeDoc renders doc as compact JSON (HTML characters unescaped).
func encodeDoc(doc store.Doc) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", errs.Wrap(errs.Invalid, err, "document is not representable as JSON")
	}
	return string(bytes.TrimRight(b.Bytes(), "\n")), nil
}

// decodeDoc parses stored JSON, turning numbers into int64 when integral
// and float64 otherwise, as the store.Doc contract asks.
func decodeDoc(data []byte) (store.Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "stored document is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errs.Newf(errs.Internal, "stored document has trailing data")
	}
	return fixNumbers(m).(store.Doc), nil
}

func fixNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = fixNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fixNumbers(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, err := x.Float64()
		if err != nil {
			return f // out of range: ±Inf cannot be stored; keep the closest value
		}
		// Integral numbers written as 1e3 or 5.0 are int64 too.
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return int64(f)
		}
		return f
	}
	return v
}
