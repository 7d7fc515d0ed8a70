// Package errs is the hub's one error model: a small set of codes that every
// surface (the native API, each dialect connector, the plugin boundary) maps to
// its own status and envelope in exactly one place.
//
// It is a leaf package: it imports only the standard library, so connectors can
// share it through the plugin SDK without importing the rest of core.
package errs

import (
	"errors"
	"fmt"
)

// Code classifies an error. The zero value is Internal.
type Code int

// The codes. Keep in sync with String and with every surface's mapping table.
const (
	Internal Code = iota
	Invalid
	NotFound
	Conflict
	Unauthorized
	Forbidden
	RateLimited
	Unavailable
	TooLarge
	UnsupportedMedia
	MethodNotAllowed
)

var codeNames = [...]string{
	Internal:         "internal",
	Invalid:          "invalid",
	NotFound:         "not_found",
	Conflict:         "conflict",
	Unauthorized:     "unauthorized",
	Forbidden:        "forbidden",
	RateLimited:      "rate_limited",
	Unavailable:      "unavailable",
	TooLarge:         "payload_too_large",
	UnsupportedMedia: "unsupported_media_type",
	MethodNotAllowed: "method_not_allowed",
}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Detail is one further problem attached to an error (e.g. one per invalid field).
type Detail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// Error is the typed error every core package returns for expected failures.
//
// Msg is English and safe to show to a caller. Reason is a finer machine code
// (e.g. "invalid_filter", "validation_failed") that surfaces may expose; Target
// names the parameter or property at fault; Pos is a 0-based byte offset into
// Target's text when the error came from a parser (-1 when unknown).
type Error struct {
	Code    Code
	Reason  string
	Msg     string
	Target  string
	Pos     int
	Details []Detail
	// RetryAfter is set on RateLimited errors (seconds).
	RetryAfter int
	// Err is an optional cause; it is never shown to callers.
	Err error
}

func (e *Error) Error() string {
	s := e.Code.String()
	if e.Reason != "" {
		s = e.Reason
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code (and, when the
// target sets one, the same Reason). It lets callers write errors.Is(err, errs.E(errs.NotFound)).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

// New returns an error with the given code and message.
func New(code Code, msg string) *Error { return &Error{Code: code, Msg: msg, Pos: -1} }

// Newf is New with formatting.
func Newf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...), Pos: -1}
}

// E returns a bare error of the code, useful as an errors.Is target.
func E(code Code) *Error { return &Error{Code: code, Pos: -1} }

// Wrap returns an error of the code with msg that keeps err as its cause.
func Wrap(code Code, err error, msg string) *Error {
	return &Error{Code: code, Msg: msg, Err: err, Pos: -1}
}

// WithReason sets Reason and returns e.
func (e *Error) WithReason(r string) *Error { e.Reason = r; return e }

// WithTarget sets Target and returns e.
func (e *Error) WithTarget(t string) *Error { e.Target = t; return e }

// WithPos sets Pos and returns e.
func (e *Error) WithPos(p int) *Error { e.Pos = p; return e }

// WithDetails appends details and returns e.
func (e *Error) WithDetails(d ...Detail) *Error { e.Details = append(e.Details, d...); return e }

// Convenience constructors for the common codes.
func NotFoundf(format string, args ...any) *Error { return Newf(NotFound, format, args...) }
func Invalidf(format string, args ...any) *Error  { return Newf(Invalid, format, args...) }
func Conflictf(format string, args ...any) *Error { return Newf(Conflict, format, args...) }
func Forbiddenf(format string, args ...any) *Error {
	return Newf(Forbidden, format, args...)
}
func Unauthorizedf(format string, args ...any) *Error {
	return Newf(Unauthorized, format, args...)
}
func Unavailablef(format string, args ...any) *Error {
	return Newf(Unavailable, format, args...)
}

// CodeOf returns the Code of the first *Error in err's chain, Internal when
// there is none, and -1 never: a nil err has no code and returns Internal too,
// so check err != nil first.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, or an Internal error wrapping err.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Msg: "internal error", Err: err, Pos: -1}
}
