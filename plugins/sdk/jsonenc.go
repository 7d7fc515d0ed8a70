package sdk

import "github.com/eimshub/eimshub/core/jsonenc"

// AppendJSON appends the JSON encoding of v to dst: byte for byte what
// json.Marshal(v) returns (keys sorted, HTML-safe escaping, the same
// number formatting and errors), several times faster for the shapes
// documents and dialect answers are made of — map[string]any, []any,
// strings, float64, int64, int, bool, nil, []string, []map[string]any,
// map[string]string — and for a JSONAppender. Any other value (a struct, a
// json.Number, a typed slice, a Marshaler) is encoded by encoding/json
// itself, in place. On an error dst is returned as it was given.
//
// Every document the Host API sends and every response body sdk.JSON
// builds goes through it: on the plugin hop each record is encoded once
// per request, and encoding/json's reflection and key sorting were the
// largest single cost of a 50-row dialect page. It is the hub's own
// encoder (core/jsonenc) with HTML escaping on.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	b, err := jsonenc.AppendEscapeHTML(dst, v)
	if err != nil {
		return dst, err
	}
	return b, nil
}

// JSONAppender is a value that encodes itself for AppendJSON (which calls
// it instead of encoding/json). Its encoding must be the one json.Marshal
// gives it, so it should also implement json.Marshaler with the same bytes
// (compact, keys in json.Marshal's order, values encoded by AppendJSON).
// It is core/jsonenc.Appender (the same method set).
type JSONAppender interface {
	AppendJSON(dst []byte) ([]byte, error)
}

var _ jsonenc.Appender = JSONAppender(nil)
