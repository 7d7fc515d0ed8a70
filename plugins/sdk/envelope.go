package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"text/template"

	"github.com/eimshub/eimshub/core/errs"
)

// DefaultErrorTemplate is the body of errors for a connector that declares
// no envelope.
const DefaultErrorTemplate = `{"error":{"code":{{json .Code}},"message":{{json .Message}}}}`

// HTTPStatus is the default HTTP status of an error code.
func HTTPStatus(c Code) int {
	switch c {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.RateLimited:
		return http.StatusTooManyRequests
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case errs.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// ErrorData is what an ErrorEnvelope's BodyTemplate is executed with.
type ErrorData struct {
	// Code is the code's name ("not_found", "unavailable", ...).
	Code string
	// Status is the HTTP status the error is sent with.
	Status int
	// HTTPStatus is the status by code, even when the envelope fixes Status.
	HTTPStatus int
	// Reason is the finer machine code, may be empty.
	Reason string
	// Message is the caller-safe English message.
	Message string
	// Target names the parameter at fault, may be empty.
	Target string
	// RequestID correlates the error with the hub's logs.
	RequestID string
}

// ErrorRenderer renders errors with a compiled ErrorEnvelope.
type ErrorRenderer struct {
	contentType string
	status      int
	tmpl        *template.Template
}

var envelopeFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// Compile checks the envelope's template and returns its renderer. The host
// compiles each connector's envelope once, at start-up.
func (e ErrorEnvelope) Compile() (*ErrorRenderer, error) {
	body := e.BodyTemplate
	if body == "" {
		body = DefaultErrorTemplate
	}
	ct := e.ContentType
	if ct == "" {
		ct = "application/json"
	}
	t, err := template.New("error").Funcs(envelopeFuncs).Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "error envelope template does not parse").WithTarget("ErrorEnvelope.BodyTemplate")
	}
	// Execute once with sample data so a template naming an unknown field
	// fails now rather than on the first error.
	if err := t.Execute(&bytes.Buffer{}, ErrorData{}); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "error envelope template does not execute").WithTarget("ErrorEnvelope.BodyTemplate")
	}
	return &ErrorRenderer{contentType: ct, status: e.Status, tmpl: t}, nil
}

// Render renders err (any error; non-*Error errors are Internal with a
// generic message) and returns the HTTP status, content type and body.
func (r *ErrorRenderer) Render(err error, requestID string) (status int, contentType string, body []byte) {
	e := errs.As(err)
	msg := e.Msg
	if msg == "" {
		msg = e.Code.String()
	}
	d := ErrorData{
		Code:       e.Code.String(),
		HTTPStatus: HTTPStatus(e.Code),
		Reason:     e.Reason,
		Message:    msg,
		Target:     e.Target,
		RequestID:  requestID,
	}
	d.Status = d.HTTPStatus
	if r.status != 0 {
		d.Status = r.status
	}
	var buf bytes.Buffer
	if xerr := r.tmpl.Execute(&buf, d); xerr != nil {
		// Compile executed the template once; a failure here is a bug in a
		// template func. Fall back to plain text rather than a half body.
		return d.Status, "text/plain; charset=utf-8", []byte(fmt.Sprintf("%s: %s", d.Code, d.Message))
	}
	return d.Status, r.contentType, buf.Bytes()
}

// JSON returns a response with status and v encoded as JSON.
func JSON(status int, v any) (*Response, error) {
	b, err := AppendJSON(nil, v)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "encode response")
	}
	return &Response{Status: status, Headers: http.Header{"Content-Type": {"application/json"}}, Body: b}, nil
}
