package h3yun

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file is the connector's one place for errors (STYLE.md practice 14):
// a table from error code (and, for the connector's own errors, reason) to
// H3Yun's ErrorMessage (spec §8). Handlers return *sdk.Error values; the hub
// renders them with the ErrorEnvelope built from the same table, which is
// also what it uses when the plugin is down, busy or the limiter refuses.

// Reasons of the errors the connector raises itself. Each has one message
// format in catalogue; its %s takes the detail given to fail.
const (
	reasonSchema      = "h3yun_schema_not_found"
	reasonRecord      = "h3yun_record_not_found"
	reasonMissing     = "h3yun_missing_parameter"
	reasonFormat      = "h3yun_bad_format"
	reasonData        = "h3yun_invalid_data"
	reasonControl     = "h3yun_unknown_control"
	reasonQuery       = "h3yun_bad_query"
	reasonAction      = "h3yun_unknown_action"
	reasonUnsupported = "h3yun_not_supported"
	reasonController  = "h3yun_controller_failed"
	reasonAttachment  = "h3yun_attachment_too_large"
	reasonLocked      = "h3yun_record_locked"
	reasonNotOwner    = "h3yun_not_record_owner"
)

// Detail codes of the hub's record access refusals (core/access): a record
// in approval or approved (409), a record of another user (403).
const (
	hostRecordLocked   = "record_locked"
	hostNotRecordOwner = "not_record_owner"
)

// message is one row of the catalogue.
type message struct {
	code sdk.Code
	// reason is a connector reason, or "" for the message of every error of
	// code without one (Host API errors, and errors the hub raises: plugin
	// down, busy, rate limited).
	reason string
	// text is the ErrorMessage. A %s verb takes the detail (connector
	// reasons) or the error's caller-safe message (code rows).
	text string
}

// catalogue maps errors to H3Yun ErrorMessages (spec §8). Order matters
// only in that reason rows are matched before code rows.
var catalogue = []message{
	{sdk.NotFound, reasonSchema, "根据 SchemaCode 获取 BizObjectSchema 失败"}, // verbatim from the real service
	{sdk.NotFound, reasonRecord, "业务数据不存在：%s"},
	{sdk.Invalid, reasonMissing, "参数%s不能为空"},
	{sdk.Invalid, reasonFormat, "参数格式错误：%s"},
	{sdk.Invalid, reasonData, "数据校验失败：%s"},
	{sdk.Invalid, reasonControl, "表单中不存在控件：%s"},
	{sdk.Invalid, reasonQuery, "查询条件不合法：%s"},
	{sdk.NotFound, reasonAction, "未找到接口：%s"},
	{sdk.Invalid, reasonUnsupported, "暂不支持：%s"},
	{sdk.Invalid, reasonController, "%s"}, // a custom controller's own error (§4.7)
	{sdk.TooLarge, reasonAttachment, "附件大小不能超过%s"},
	{sdk.Conflict, reasonLocked, "业务数据正在审批中或已生效，不能修改"},
	{sdk.Forbidden, reasonNotOwner, "没有权限：只有数据的创建人或管理员可以修改或删除"},

	{sdk.Unauthorized, "", "认证失败：EngineCode 或 EngineSecret 不正确"},
	{sdk.RateLimited, "", "调用频率过高，请稍后再试"},
	{sdk.Forbidden, "", "没有权限"},
	{sdk.Conflict, "", "数据冲突，请重试"},
	{sdk.Unavailable, "", "服务暂不可用，请稍后再试"},
	{sdk.NotFound, "", "数据不存在"},
	{sdk.Invalid, "", "参数格式错误：%s"},
	{sdk.TooLarge, "", "请求内容过大"},
	{sdk.UnsupportedMedia, "", "参数格式错误：%s"}, // only the hub's edge raises it: an unsupported Content-Encoding
	{sdk.MethodNotAllowed, "", "请求方式错误：只支持 POST"},
	{sdk.Internal, "", "服务器内部错误"},
}

// fail returns the connector error of reason with detail filled in.
func fail(reason, detail string) *sdk.Error {
	for _, m := range catalogue {
		if m.reason != reason {
			continue
		}
		msg := m.text
		if strings.Contains(msg, "%s") {
			msg = fmt.Sprintf(msg, detail)
		}
		return (&sdk.Error{Code: m.code, Msg: msg, Pos: -1}).WithReason(reason)
	}
	panic("h3yun: unknown error reason " + reason) // a programming error, caught by tests
}

// failf is fail with a formatted detail.
func failf(reason, format string, args ...any) *sdk.Error {
	return fail(reason, fmt.Sprintf(format, args...))
}

// fromHost translates a Host API error in the context of one action:
// NotFound becomes notFound (when not nil), validation problems become
// reasonData naming each field. Anything else passes through and is
// rendered by code.
func fromHost(err error, notFound *sdk.Error) error { return fromHostItems(err, notFound, false) }

// fromHostItems is fromHost for a call on several BizObjects (batch): the
// fields of validation problems name their item.
func fromHostItems(err error, notFound *sdk.Error, batch bool) error {
	if err == nil {
		return nil
	}
	e := sdk.AsError(err)
	switch {
	case e.Code == sdk.NotFound && notFound != nil:
		notFound.Err = err
		return notFound
	case e.Code == sdk.Conflict && hasDetail(e, hostRecordLocked):
		f := fail(reasonLocked, "")
		f.Err = err
		return f
	case e.Code == sdk.Forbidden && hasDetail(e, hostNotRecordOwner):
		f := fail(reasonNotOwner, "")
		f.Err = err
		return f
	case e.Code == sdk.Invalid && len(e.Details) > 0:
		parts := make([]string, 0, len(e.Details))
		for _, d := range e.Details {
			parts = append(parts, fieldOf(d.Target, batch)+": "+d.Message)
		}
		f := fail(reasonData, strings.Join(parts, "; "))
		f.Err = err
		return f
	}
	return err
}

func hasDetail(e *sdk.Error, code string) bool {
	for _, d := range e.Details {
		if d.Code == code {
			return true
		}
	}
	return false
}

// envelopeTemplate builds the ErrorEnvelope body from catalogue: the
// connector's own errors carry their final message; every other error is
// rendered by code.
func envelopeTemplate() string {
	var reasons []string
	for _, m := range catalogue {
		if m.reason != "" {
			reasons = append(reasons, strconv.Quote(m.reason))
		}
	}
	var b strings.Builder
	b.WriteString(`{"Successful":false,"ErrorMessage":`)
	b.WriteString(`{{if eq .Reason ` + strings.Join(reasons, " ") + `}}{{json .Message}}`)
	for _, m := range catalogue {
		if m.reason != "" || m.code == sdk.Internal {
			continue
		}
		b.WriteString(`{{else if eq .Code ` + strconv.Quote(m.code.String()) + `}}`)
		if strings.Contains(m.text, "%s") {
			b.WriteString(`{{json (printf ` + strconv.Quote(m.text) + ` .Message)}}`)
		} else {
			b.WriteString(`{{json ` + strconv.Quote(m.text) + `}}`)
		}
	}
	b.WriteString(`{{else}}{{json ` + strconv.Quote(internalMessage()) + `}}{{end}}`)
	b.WriteString(`,"Logined":false,"ReturnData":null,"DataType":0}`)
	return b.String()
}

func internalMessage() string {
	for _, m := range catalogue {
		if m.code == sdk.Internal && m.reason == "" {
			return m.text
		}
	}
	return "服务器内部错误"
}

// errorEnvelope is the connector's sdk.ErrorEnvelope: H3Yun answers
// business errors with HTTP 200 and Successful:false (spec §1.1, §8).
func errorEnvelope() sdk.ErrorEnvelope {
	return sdk.ErrorEnvelope{ContentType: "application/json; charset=utf-8", Status: http.StatusOK, BodyTemplate: envelopeTemplate()}
}

// renderer renders errors the connector answers itself with a non-200
// status (DownloadBizObjectFile, spec §4.9).
var renderer = func() *sdk.ErrorRenderer {
	r, err := errorEnvelope().Compile()
	if err != nil {
		panic("h3yun: error envelope: " + err.Error())
	}
	return r
}()

// errorResponse renders err in the H3Yun envelope with the HTTP status of
// its code (download failures are non-2xx, spec §4.9 and §11.14).
func errorResponse(err error, requestID string) *sdk.Response {
	_, ct, body := renderer.Render(err, requestID)
	var e *sdk.Error
	status := http.StatusInternalServerError
	if errors.As(err, &e) {
		status = sdk.HTTPStatus(e.Code)
	}
	return &sdk.Response{Status: status, Headers: http.Header{"Content-Type": {ct}}, Body: body}
}

// fieldOf turns a Host API detail target into what an H3Yun caller knows:
// "data/F0000001" → "F0000001"; a batch item's "data[2]/F0000001" →
// "BizObjectArray[2].F0000001" when batch; a single create's "data[0]/…"
// (a batch of one) → the field alone.
func fieldOf(target string, batch bool) string {
	rest, ok := strings.CutPrefix(target, "data[")
	if !ok {
		return strings.TrimPrefix(strings.TrimPrefix(target, "data/"), "data")
	}
	idx, field, ok := strings.Cut(rest, "]")
	if !ok {
		return target
	}
	field = strings.TrimPrefix(field, "/")
	if !batch {
		return field
	}
	return "BizObjectArray[" + idx + "]." + field
}
