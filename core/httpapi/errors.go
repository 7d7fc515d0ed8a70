package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/eimshub/eimshub/core/errs"
)

// This file is the ONE place that renders errors as the native envelope
// (spec eims-native.md §1.5):
//
//	{"errorCode": 400, "message": "<zh or en>",
//	 "error": {"code": "invalid_filter", "message": "<en>", "target": "$filter", "details": [...]}}
//
// Status and error.code come from codeTable (by errs.Code); errs.Error.Reason,
// when set, refines error.code. The Chinese message comes from zhMessages by
// error.code. Internal errors never show their text to the client; they are
// logged with the request id instead.

// envelope is the §1.5 error body.
type envelope struct {
	ErrorCode int          `json:"errorCode"`
	Message   string       `json:"message"`
	Error     envelopeBody `json:"error"`
}

type envelopeBody struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Target  string        `json:"target,omitempty"`
	Details []errs.Detail `json:"details,omitempty"`
}

// codeInfo is one row of the §1.5 table.
type codeInfo struct {
	status int
	code   string // error.code when the error has no Reason
	en     string // English message when the error has none
}

// codeTable maps every errs.Code to its HTTP status and error.code (§1.5).
var codeTable = map[errs.Code]codeInfo{
	errs.Internal:         {http.StatusInternalServerError, "internal", "an unexpected error occurred"},
	errs.Invalid:          {http.StatusBadRequest, "invalid_request", "the request is invalid"},
	errs.NotFound:         {http.StatusNotFound, "not_found", "resource not found"},
	errs.Conflict:         {http.StatusConflict, "conflict", "the resource is in a conflicting state"},
	errs.Unauthorized:     {http.StatusUnauthorized, "unauthorized", "authentication required or the token is invalid"},
	errs.Forbidden:        {http.StatusForbidden, "forbidden", "access denied"},
	errs.RateLimited:      {http.StatusTooManyRequests, "rate_limited", "too many requests"},
	errs.Unavailable:      {http.StatusServiceUnavailable, "unavailable", "the service is temporarily unavailable"},
	errs.TooLarge:         {http.StatusRequestEntityTooLarge, "payload_too_large", "the request body is too large"},
	errs.UnsupportedMedia: {http.StatusUnsupportedMediaType, "unsupported_media_type", "unsupported content type"},
	errs.MethodNotAllowed: {http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"},
}

// internalZH is the original's generic message (§1.5); internalEN its English twin.
const (
	internalZH = "抱歉，出错了"
	internalEN = "Sorry, something went wrong."
)

// zhMessages are the Chinese messages by error.code.
var zhMessages = map[string]string{
	"internal":               internalZH,
	"invalid_request":        "请求无效",
	"invalid_filter":         "$filter 无效",
	"invalid_orderby":        "$orderby 无效",
	"invalid_select":         "$select 无效",
	"invalid_expand":         "$expand 无效",
	"invalid_query_option":   "查询选项无效",
	"validation_failed":      "数据校验失败",
	"invalid_token":          "未授权或令牌无效",
	"unauthorized":           "未授权或令牌无效",
	"forbidden":              "无权访问",
	"not_found":              "资源不存在",
	"method_not_allowed":     "不支持该请求方法",
	"conflict":               "状态冲突",
	"payload_too_large":      "请求体过大",
	"unsupported_media_type": "不支持的内容类型",
	"rate_limited":           "请求过于频繁",
	"unavailable":            "服务暂不可用",
	// The original's approval errors (§12.9.2, workflow.go).
	reasonApprovalNoData:        "审批流程失败：数据不存在",
	reasonApprovalNoPermission:  "审批流程失败：没有审批权限",
	reasonApprovalNotApprovable: "审批流程失败：指定数据/流程节点不可审批",
}

// queryOptionOf names the query option a query-language Reason is about
// (§7), used as the default target and message prefix.
var queryOptionOf = map[string]string{
	"invalid_filter":  "$filter",
	"invalid_orderby": "$orderby",
	"invalid_select":  "$select",
	"invalid_expand":  "$expand",
}

// fiberStatusCode maps a *fiber.Error status (router 404/405, body limit
// 413, …) to an errs.Code, so it renders through codeTable like the rest.
func fiberStatusCode(status int) errs.Code {
	switch status {
	case http.StatusNotFound:
		return errs.NotFound
	case http.StatusMethodNotAllowed:
		return errs.MethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return errs.TooLarge
	case http.StatusUnsupportedMediaType:
		return errs.UnsupportedMedia
	case http.StatusUnauthorized:
		return errs.Unauthorized
	case http.StatusForbidden:
		return errs.Forbidden
	case http.StatusConflict:
		return errs.Conflict
	case http.StatusTooManyRequests:
		return errs.RateLimited
	case http.StatusServiceUnavailable:
		return errs.Unavailable
	}
	if status >= 400 && status < 500 {
		return errs.Invalid
	}
	return errs.Internal
}

// coreError is err as an *errs.Error: itself, a *fiber.Error by its status
// (without fiber's message for 404/405/413: "Cannot GET /x" adds nothing
// and is HTML-escaped), anything else (a panic included) Internal without a
// message. The original error stays the cause (Err) for logs.
func coreError(err error) *errs.Error {
	var e *errs.Error
	if errors.As(err, &e) {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		e = &errs.Error{Code: fiberStatusCode(fe.Code), Pos: -1, Err: err}
		switch e.Code {
		case errs.NotFound, errs.MethodNotAllowed, errs.TooLarge, errs.Internal:
		default:
			e.Msg = fe.Message
		}
		return e
	}
	return &errs.Error{Code: errs.Internal, Pos: -1, Err: err}
}

// edgeHooks maps an app built by New to its Options.EdgeError (writeError
// finds it through c.App(), as Serve finds the connection tracker).
var edgeHooks sync.Map // *fiber.App → func(*fiber.Ctx, error) bool

// rendered is an error resolved against the table, ready to write.
type rendered struct {
	status     int
	body       envelope
	retryAfter int
	internal   bool
}

// render resolves err (an *errs.Error, a *fiber.Error, or anything else =
// internal) into its status and envelope for the given language.
func render(err error, english bool) rendered {
	e := coreError(err)
	info, ok := codeTable[e.Code]
	if !ok {
		info, e = codeTable[errs.Internal], &errs.Error{Code: errs.Internal, Pos: -1}
	}
	r := rendered{status: info.status, internal: e.Code == errs.Internal}
	if r.internal {
		// Never show the text of an unexpected error (§1.5).
		msg := internalZH
		if english {
			msg = internalEN
		}
		r.body = envelope{ErrorCode: info.status, Message: msg,
			Error: envelopeBody{Code: info.code, Message: internalEN}}
		return r
	}
	code := info.code
	if e.Reason != "" {
		code = e.Reason
	}
	en := e.Msg
	if en == "" {
		en = info.en
	}
	target := e.Target
	if target == "" {
		target = queryOptionOf[code]
	}
	msg := en
	if !english {
		msg = zhMessage(code, e, info)
	}
	r.body = envelope{ErrorCode: info.status, Message: msg,
		Error: envelopeBody{Code: code, Message: en, Target: target, Details: e.Details}}
	if e.Code == errs.RateLimited {
		r.retryAfter = e.RetryAfter
	}
	return r
}

// zhMessage is the Chinese message for error.code code: the table text, or
// for a parser error with a position "<option>: 第 N 个字符处有误" (N is the
// 1-based character position, Pos being a 0-based byte offset).
func zhMessage(code string, e *errs.Error, info codeInfo) string {
	if e.Pos >= 0 {
		name := queryOptionOf[code]
		if name == "" {
			name = e.Target
		}
		if name != "" {
			return name + ": 第 " + strconv.Itoa(e.Pos+1) + " 个字符处有误"
		}
	}
	if m, ok := zhMessages[code]; ok {
		return m
	}
	return zhMessages[info.code]
}

// wantsEnglish reports whether the caller prefers English: the
// Accept-Language entry with the highest q (first on ties) is en or en-*.
// Everything else, including no header, gets Chinese (§1.5).
func wantsEnglish(header string) bool {
	best, bestQ := "", -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" {
			continue
		}
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				continue
			}
			q = f
		}
		if q > bestQ {
			best, bestQ = tag, q
		}
	}
	return bestQ > 0 && (best == "en" || strings.HasPrefix(best, "en-"))
}

// writeError renders err on c and logs internal errors (with their cause,
// the request id and the panic stack when there was one). Options.EdgeError
// may answer instead of the native envelope.
func writeError(c *fiber.Ctx, err error, logger *slog.Logger) error {
	r := render(err, wantsEnglish(c.Get(fiber.HeaderAcceptLanguage)))
	if logger == nil {
		logger = slog.Default()
	}
	if !r.internal && r.status >= 500 {
		// 503: the message is safe to send; the cause is only logged.
		logger.WarnContext(c.UserContext(), "service unavailable", "request_id", requestIDOf(c),
			"method", c.Method(), "path", c.Path(), "err", err)
	}
	if r.internal {
		attrs := []any{"request_id", requestIDOf(c), "method", c.Method(), "path", c.Path(), "err", err}
		var pe *panicError
		if errors.As(err, &pe) {
			attrs = append(attrs, "stack", string(pe.stack))
		}
		logger.ErrorContext(c.UserContext(), "internal error", attrs...)
	}
	if hook, ok := edgeHooks.Load(c.App()); ok {
		e := coreError(err)
		if r.internal {
			e = &errs.Error{Code: errs.Internal, Pos: -1, Err: err} // its text stays in the log
		}
		if hook.(func(*fiber.Ctx, error) bool)(c, e) {
			return nil // answered in the envelope of the path's owner (Options.EdgeError)
		}
	}
	if r.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(r.retryAfter))
	}
	return c.Status(r.status).JSON(r.body)
}

// WriteError renders err as the §1.5 envelope on c, for handlers that must
// answer inline instead of returning the error (returning it is preferred:
// the server's error handler renders it the same way).
func WriteError(c *fiber.Ctx, err error) error {
	logger, _ := c.Locals(loggerLocal).(*slog.Logger)
	return writeError(c, err, logger)
}

// errorHandler is the app's fiber.ErrorHandler. It sees the errors that do
// not pass through the observe middleware (fasthttp-level ones such as a
// body over the limit); the rest are rendered there with writeError.
func errorHandler(d *Deps) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		return writeError(c, err, d.Logger)
	}
}
