package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	pb "github.com/eimshub/eimshub/plugins/proto"
)

// ConvertFromProto converts protobuf messages to SDK types. Connector
// authors do not need it; the host and the SDK's gRPC plumbing use it.
type ConvertFromProto struct{}

// FromProto returns the protobuf → SDK converter.
func FromProto() ConvertFromProto { return ConvertFromProto{} }

var codeFromProto = func() map[pb.Code]errs.Code {
	m := make(map[pb.Code]errs.Code, len(codeToProto))
	for k, v := range codeToProto {
		m[v] = k
	}
	return m
}()

// Code converts an error code (unknown codes become Internal).
func (ConvertFromProto) Code(c pb.Code) errs.Code { return codeFromProto[c] }

// Error converts an error message (nil → nil, so `return nil, f.Error(x)`
// must be written with care: use ErrorOrNil).
func (f ConvertFromProto) Error(e *pb.Error) *errs.Error {
	if e == nil {
		return nil
	}
	out := &errs.Error{
		Code: f.Code(e.Code), Reason: e.Reason, Msg: e.Message, Target: e.Target,
		Pos: -1, RetryAfter: int(e.RetryAfter),
	}
	if e.Pos != nil {
		out.Pos = int(*e.Pos)
	}
	for _, d := range e.Details {
		out.Details = append(out.Details, errs.Detail{Code: d.Code, Message: d.Message, Target: d.Target})
	}
	return out
}

// ErrorOrNil is Error returning an untyped nil error for a nil message, so
// the result can be returned as an error.
func (f ConvertFromProto) ErrorOrNil(e *pb.Error) error {
	if e == nil {
		return nil
	}
	return f.Error(e)
}

// Principal converts a principal (nil → nil).
func (ConvertFromProto) Principal(p *pb.Principal) *Principal {
	if p == nil {
		return nil
	}
	return &Principal{
		Tenant: p.Tenant, UserID: p.UserId, UserCode: p.UserCode, DisplayName: p.DisplayName,
		Login: p.Login, ClientID: p.ClientId, Scopes: p.Scopes, Roles: p.Roles,
		TokenID: p.TokenId, AuthTime: p.AuthTime,
	}
}

// Value converts a typed literal.
func (ConvertFromProto) Value(v *pb.Value) (query.Value, error) {
	switch x := v.GetKind().(type) {
	case *pb.Value_S:
		return x.S, nil
	case *pb.Value_N:
		return x.N, nil
	case *pb.Value_I:
		return x.I, nil
	case *pb.Value_B:
		return x.B, nil
	}
	return nil, invalidExpr("value without a kind")
}

var opFromProto = func() map[pb.Op]query.Op {
	m := map[pb.Op]query.Op{}
	for k, v := range opToProto {
		m[v] = k
	}
	return m
}()

var strFnFromProto = func() map[pb.StrFn]query.StrFn {
	m := map[pb.StrFn]query.StrFn{}
	for k, v := range strFnToProto {
		m[v] = k
	}
	return m
}()

// maxExprDepth bounds the nesting a filter may have on the wire.
const maxExprDepth = 2 * query.MaxDepth

// Expr converts a filter tree (nil → nil). Nodes come back as values
// (query.Cmp, not *query.Cmp).
func (f ConvertFromProto) Expr(e *pb.Expr) (query.Expr, error) {
	return f.expr(e, 0)
}

func (f ConvertFromProto) expr(e *pb.Expr, depth int) (query.Expr, error) {
	if e == nil {
		return nil, nil
	}
	if depth > maxExprDepth {
		return nil, invalidExpr("filter nested too deeply")
	}
	switch x := e.Node.(type) {
	case *pb.Expr_And:
		items, err := f.exprs(x.And, depth)
		return query.And{Items: items}, err
	case *pb.Expr_Or:
		items, err := f.exprs(x.Or, depth)
		return query.Or{Items: items}, err
	case *pb.Expr_Not:
		if x.Not == nil {
			return nil, invalidExpr("not without an operand")
		}
		inner, err := f.expr(x.Not, depth+1)
		if err != nil {
			return nil, err
		}
		return query.Not{X: inner}, nil
	case *pb.Expr_Cmp:
		op, ok := opFromProto[x.Cmp.GetOp()]
		if !ok {
			return nil, invalidExpr(fmt.Sprintf("unknown operator %v", x.Cmp.GetOp()))
		}
		v, err := f.Value(x.Cmp.GetValue())
		if err != nil {
			return nil, err
		}
		return query.Cmp{Path: x.Cmp.Path, Op: op, Value: v}, nil
	case *pb.Expr_In:
		vals := make([]query.Value, 0, len(x.In.GetValues()))
		for _, pv := range x.In.GetValues() {
			v, err := f.Value(pv)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		return query.In{Path: x.In.Path, Values: vals}, nil
	case *pb.Expr_Str:
		fn, ok := strFnFromProto[x.Str.GetFn()]
		if !ok {
			return nil, invalidExpr(fmt.Sprintf("unknown string function %v", x.Str.GetFn()))
		}
		return query.Str{Path: x.Str.Path, Fn: fn, Value: x.Str.Value}, nil
	case *pb.Expr_Null:
		return query.Null{Path: x.Null.Path, IsNull: x.Null.IsNull}, nil
	case *pb.Expr_AnyRow:
		if x.AnyRow.GetPred() == nil {
			return nil, invalidExpr("anyrow without a predicate")
		}
		pred, err := f.expr(x.AnyRow.Pred, depth+1)
		if err != nil {
			return nil, err
		}
		return query.AnyRow{Array: x.AnyRow.Array, Pred: pred}, nil
	case *pb.Expr_Const:
		return query.Const{Value: x.Const}, nil
	}
	return nil, invalidExpr("node without a kind")
}

func (f ConvertFromProto) exprs(p *pb.Exprs, depth int) ([]query.Expr, error) {
	out := make([]query.Expr, 0, len(p.GetItems()))
	for _, it := range p.GetItems() {
		e, err := f.expr(it, depth+1)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, invalidExpr("empty item in and/or")
		}
		out = append(out, e)
	}
	return out, nil
}

// Query converts a query (nil → the zero Query).
func (f ConvertFromProto) Query(q *pb.Query) (query.Query, error) {
	if q == nil {
		return query.Query{}, nil
	}
	filter, err := f.Expr(q.Filter)
	if err != nil {
		return query.Query{}, err
	}
	out := query.Query{Filter: filter, Limit: int(q.Limit), Offset: int(q.Offset)}
	for _, s := range q.Sort {
		out.Sort = append(out.Sort, query.Sort{Path: s.Path, Desc: s.Desc})
	}
	return out, nil
}

var authFromProto = map[pb.AuthScheme]AuthScheme{
	pb.AuthScheme_AUTH_NONE: AuthNone, pb.AuthScheme_AUTH_BEARER: AuthBearer, pb.AuthScheme_AUTH_CUSTOM: AuthConnector,
	pb.AuthScheme_AUTH_CLIENT_SECRET: AuthClientSecret,
}

// Info converts a connector description. An unknown auth scheme is an error
// (a newer plugin asking for something this host cannot do).
func (ConvertFromProto) Info(i *pb.Info) (Info, error) {
	out := Info{ID: i.GetId(), Version: i.GetVersion(), Description: i.GetDescription()}
	if env := i.GetErrorEnvelope(); env != nil {
		out.ErrorEnvelope = ErrorEnvelope{ContentType: env.ContentType, Status: int(env.Status), BodyTemplate: env.BodyTemplate}
	}
	for _, r := range i.GetRoutes() {
		a, ok := authFromProto[r.Auth]
		if !ok {
			return Info{}, errs.Newf(errs.Invalid, "route %s %s: unknown auth scheme %v", r.Method, r.Path, r.Auth)
		}
		rt := Route{Method: r.Method, Path: r.Path, Auth: a, ErrorStatusByCode: r.ErrorStatusByCode}
		if cr := r.GetClientCredentials(); cr != nil && a == AuthClientSecret {
			rt.Credentials = ClientCredentials{IDHeaders: cr.IdHeaders, SecretHeaders: cr.SecretHeaders,
				IDQuery: cr.IdQuery, SecretQuery: cr.SecretQuery}
		}
		out.Routes = append(out.Routes, rt)
	}
	return out, nil
}

func valuesFromProto(m map[string]*pb.Values) map[string][]string {
	if len(m) == 0 {
		return map[string][]string{}
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = v.GetValues()
	}
	return out
}

// Request converts an HTTP request.
func (f ConvertFromProto) Request(r *pb.HTTPRequest) *Request {
	params := r.PathParams
	if params == nil {
		params = map[string]string{}
	}
	return &Request{
		Method: r.Method, Path: r.Path, Route: r.Route, PathParams: params,
		Query: url.Values(valuesFromProto(r.Query)), Headers: http.Header(valuesFromProto(r.Headers)),
		Body: r.Body, Principal: f.Principal(r.Principal), ClientIP: r.ClientIp, RequestID: r.RequestId, StoreVersion: r.StoreVersion,
	}
}

// Response converts an HTTP response.
func (ConvertFromProto) Response(r *pb.HTTPResponse) *Response {
	return &Response{Status: int(r.GetStatus()), Headers: http.Header(valuesFromProto(r.GetHeaders())), Body: r.GetBody()}
}

// Form converts a form.
func (ConvertFromProto) Form(p *pb.Form) (*Form, error) {
	if p == nil {
		return nil, errs.New(errs.NotFound, "form not found")
	}
	f := &Form{ID: p.Id, Key: p.Key, Name: p.Name, AppID: p.AppId, UsingWorkflow: p.UsingWorkflow, Version: p.Version}
	if len(p.FieldsJson) > 0 {
		if err := json.Unmarshal(p.FieldsJson, &f.Fields); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "decode form fields")
		}
	}
	return f, nil
}

// Token converts a token (nil → nil).
func (ConvertFromProto) Token(t *pb.Token) *Token {
	if t == nil {
		return nil
	}
	return &Token{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: t.TokenType, ExpiresIn: t.ExpiresIn, Scope: t.Scope}
}

// Doc decodes a JSON document with the store's number convention: integral
// numbers become int64, others float64. Empty input is a nil document.
func (ConvertFromProto) Doc(b []byte) (Doc, error) {
	if len(b) == 0 {
		return nil, nil
	}
	if m, ok := decodeDocFast(b); ok {
		return m, nil
	}
	return decodeDocStd(b)
}

// decodeDocStd is Doc with encoding/json (everything decodeDocFast leaves).
func decodeDocStd(b []byte) (Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "document is not a JSON object")
	}
	normalizeNumbers(m)
	return m, nil
}

// Docs decodes JSON documents.
func (f ConvertFromProto) Docs(bs [][]byte) ([]Doc, error) {
	out := make([]Doc, len(bs))
	keys := map[string]string{} // the page's documents share their keys
	for i, b := range bs {
		if len(b) > 0 {
			if m, ok := decodeDocFastKeys(b, keys); ok {
				out[i] = m
				continue
			}
		}
		d, err := f.Doc(b)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		s := string(x)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := x.Int64(); err == nil {
				return i
			}
		}
		fl, _ := x.Float64()
		return fl
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// JSONValue decodes a JSON value with Doc's number convention. Empty input is nil.
func (ConvertFromProto) JSONValue(b []byte) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "value is not JSON")
	}
	return normalizeNumbers(v), nil
}
