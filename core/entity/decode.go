package entity

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/eimshub/eimshub/core/errs"
)

// MaxBodyDepth bounds the nesting of a JSON request body.
const MaxBodyDepth = 32

// DecodeJSON strictly decodes a request body that must be one JSON object
// (malformed, trailing data or nesting deeper than MaxBodyDepth → 400
// invalid_request). Numbers become float64, except integers beyond
// float64's exact range, which become int64.
func DecodeJSON(b []byte) (map[string]any, error) {
	if err := checkDepth(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest("malformed JSON body", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("trailing data after the JSON body", nil)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest("the body must be a JSON object", nil)
	}
	return fromNumbers(m).(map[string]any), nil
}

func badRequest(msg string, cause error) *errs.Error {
	e := errs.New(errs.Invalid, msg).WithReason("invalid_request")
	e.Err = cause
	return e
}

// checkDepth rejects bodies nested deeper than MaxBodyDepth before any
// decoding work is spent on them (strings are skipped correctly).
func checkDepth(b []byte) error {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxBodyDepth {
				return badRequest(fmt.Sprintf("the body is nested deeper than %d levels", MaxBodyDepth), nil)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// fromNumbers converts json.Number values to int64 (integers) or float64.
func fromNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			if i > -(1<<53) && i < 1<<53 {
				return float64(i)
			}
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = fromNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromNumbers(e)
		}
		return x
	}
	return v
}

// checkKeys rejects, anywhere in v, object keys that a document store could
// read as an operator or a path ("$where", "a.b", "") and nesting deeper than
// MaxBodyDepth. path is v's location for the error target.
func checkKeys(v any, path string, depth int, details *[]errs.Detail) {
	if depth > MaxBodyDepth {
		*details = append(*details, errs.Detail{Code: "too_deep", Message: "nested too deeply", Target: path})
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if path != "" {
				p = path + "/" + k
			}
			if k == "" || strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\x00") {
				*details = append(*details, errs.Detail{Code: "invalid_key",
					Message: fmt.Sprintf("property name %q is not allowed", k), Target: p})
				continue
			}
			checkKeys(e, p, depth+1, details)
		}
	case []any:
		for _, e := range x {
			checkKeys(e, path, depth+1, details)
		}
	}
}

func validation(msg string, details ...errs.Detail) *errs.Error {
	return errs.New(errs.Invalid, msg).WithReason("validation_failed").WithDetails(details...)
}

func detail(code, target, format string, args ...any) errs.Detail {
	return errs.Detail{Code: code, Message: fmt.Sprintf(format, args...), Target: target}
}

// toInt reads an integral number sent as a number or a string (§1.2).
func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	case int64:
		return x, true
	case int:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

// coerce converts an input value to the property's stored shape. nil stays
// nil (clears on update).
func coerce(p *Prop, v any) (any, *errs.Detail) {
	if v == nil {
		return nil, nil
	}
	bad := func(want string) (any, *errs.Detail) {
		d := detail("invalid_type", p.Name, "%s must be %s", p.Name, want)
		return nil, &d
	}
	switch p.Type {
	case TString:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return bad("a string")
	case TInt:
		if i, ok := toInt(v); ok {
			return i, nil
		}
		return bad("an integer")
	case TTime:
		if i, ok := toInt(v); ok {
			return i, nil
		}
		if s, ok := v.(string); ok {
			if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return tm.UnixMilli(), nil
			}
		}
		return bad("epoch milliseconds or an RFC 3339 time")
	case TNumber:
		if f, ok := toFloat(v); ok {
			return f, nil
		}
		return bad("a number")
	case TBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
		return bad("a boolean")
	case TEnum:
		if s, ok := v.(string); ok {
			if c, ok := p.Enum[strings.ToLower(strings.TrimSpace(s))]; ok {
				return c, nil
			}
		}
		if i, ok := toInt(v); ok {
			for _, c := range p.Enum {
				if c == i {
					return i, nil
				}
			}
		}
		return bad("one of the enum's codes or names")
	case TObject:
		if m, ok := v.(map[string]any); ok {
			return m, nil
		}
		if str, ok := v.(string); ok { // an object sent as a JSON string (form content)
			if m, err := DecodeJSON([]byte(str)); err == nil {
				var details []errs.Detail
				if checkKeys(m, p.Name, 1, &details); len(details) == 0 {
					return m, nil
				}
			}
		}
		return bad("an object")
	case TJSON:
		switch x := v.(type) {
		case map[string]any:
			return x, nil
		case string:
			if m, err := DecodeJSON([]byte(x)); err == nil && m != nil {
				return x, nil
			}
			d := detail("invalid_value", p.Name, "%s must be a JSON object or a string holding one (the string is not valid JSON)", p.Name)
			return nil, &d
		}
		return bad("a JSON object or a string holding one")
	case TArray, TObjects:
		if a, ok := v.([]any); ok {
			return a, nil
		}
		return bad("an array")
	case TStrings:
		if a, ok := v.([]any); ok {
			for _, e := range a {
				if _, ok := e.(string); !ok {
					return bad("an array of strings")
				}
			}
			return a, nil
		}
		return bad("an array of strings")
	}
	return bad("settable")
}
