package sdk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	pb "github.com/eimshub/eimshub/plugins/proto"
)

// ConvertToProto converts SDK types to their protobuf messages. Connector
// authors do not need it; the host and the SDK's gRPC plumbing use it.
type ConvertToProto struct{}

// ToProto returns the SDK → protobuf converter.
func ToProto() ConvertToProto { return ConvertToProto{} }

var codeToProto = map[errs.Code]pb.Code{
	errs.Internal:         pb.Code_CODE_INTERNAL,
	errs.Invalid:          pb.Code_CODE_INVALID,
	errs.NotFound:         pb.Code_CODE_NOT_FOUND,
	errs.Conflict:         pb.Code_CODE_CONFLICT,
	errs.Unauthorized:     pb.Code_CODE_UNAUTHORIZED,
	errs.Forbidden:        pb.Code_CODE_FORBIDDEN,
	errs.RateLimited:      pb.Code_CODE_RATE_LIMITED,
	errs.Unavailable:      pb.Code_CODE_UNAVAILABLE,
	errs.TooLarge:         pb.Code_CODE_TOO_LARGE,
	errs.UnsupportedMedia: pb.Code_CODE_UNSUPPORTED_MEDIA,
	errs.MethodNotAllowed: pb.Code_CODE_METHOD_NOT_ALLOWED,
}

// Code converts an error code (unknown codes become CODE_INTERNAL).
func (ConvertToProto) Code(c errs.Code) pb.Code { return codeToProto[c] }

// Error converts any error (nil → nil). A non-*errs.Error becomes an
// Internal error with a generic message: causes never cross the boundary.
func (t ConvertToProto) Error(err error, src pb.Source) *pb.Error {
	if err == nil {
		return nil
	}
	e := errs.As(err)
	pos := int32(e.Pos)
	out := &pb.Error{
		Code:       t.Code(e.Code),
		Reason:     e.Reason,
		Message:    e.Msg,
		Target:     e.Target,
		Pos:        &pos,
		RetryAfter: int32(e.RetryAfter),
		Source:     src,
	}
	for _, d := range e.Details {
		out.Details = append(out.Details, &pb.ErrorDetail{Code: d.Code, Message: d.Message, Target: d.Target})
	}
	return out
}

// Principal converts a principal (nil → nil).
func (ConvertToProto) Principal(p *Principal) *pb.Principal {
	if p == nil {
		return nil
	}
	return &pb.Principal{
		Tenant: p.Tenant, UserId: p.UserID, UserCode: p.UserCode, DisplayName: p.DisplayName,
		Login: p.Login, ClientId: p.ClientID, Scopes: p.Scopes, Roles: p.Roles,
		TokenId: p.TokenID, AuthTime: p.AuthTime,
	}
}

// Value converts a typed literal. int and int32 are accepted as int64.
func (ConvertToProto) Value(v query.Value) (*pb.Value, error) {
	switch x := v.(type) {
	case string:
		return &pb.Value{Kind: &pb.Value_S{S: x}}, nil
	case float64:
		return &pb.Value{Kind: &pb.Value_N{N: x}}, nil
	case int64:
		return &pb.Value{Kind: &pb.Value_I{I: x}}, nil
	case int:
		return &pb.Value{Kind: &pb.Value_I{I: int64(x)}}, nil
	case int32:
		return &pb.Value{Kind: &pb.Value_I{I: int64(x)}}, nil
	case bool:
		return &pb.Value{Kind: &pb.Value_B{B: x}}, nil
	}
	return nil, errs.Newf(errs.Invalid, "query value of type %T cannot cross the plugin boundary", v).WithReason("invalid_query")
}

var opToProto = map[query.Op]pb.Op{
	query.Eq: pb.Op_OP_EQ, query.Ne: pb.Op_OP_NE, query.Gt: pb.Op_OP_GT,
	query.Ge: pb.Op_OP_GE, query.Lt: pb.Op_OP_LT, query.Le: pb.Op_OP_LE,
}

var strFnToProto = map[query.StrFn]pb.StrFn{
	query.Contains:   pb.StrFn_STR_FN_CONTAINS,
	query.StartsWith: pb.StrFn_STR_FN_STARTS_WITH,
	query.EndsWith:   pb.StrFn_STR_FN_ENDS_WITH,
}

// Expr converts a filter tree (nil → nil). Pointer nodes (*query.Cmp, ...)
// are accepted as well as values.
func (t ConvertToProto) Expr(e query.Expr) (*pb.Expr, error) {
	switch x := e.(type) {
	case nil:
		return nil, nil
	case query.And:
		items, err := t.exprs(x.Items)
		return &pb.Expr{Node: &pb.Expr_And{And: items}}, err
	case *query.And:
		return t.Expr(*x)
	case query.Or:
		items, err := t.exprs(x.Items)
		return &pb.Expr{Node: &pb.Expr_Or{Or: items}}, err
	case *query.Or:
		return t.Expr(*x)
	case query.Not:
		if x.X == nil {
			return nil, invalidExpr("not without an operand")
		}
		inner, err := t.Expr(x.X)
		return &pb.Expr{Node: &pb.Expr_Not{Not: inner}}, err
	case *query.Not:
		return t.Expr(*x)
	case query.Cmp:
		op, ok := opToProto[x.Op]
		if !ok {
			return nil, invalidExpr(fmt.Sprintf("unknown operator %d", x.Op))
		}
		v, err := t.Value(x.Value)
		return &pb.Expr{Node: &pb.Expr_Cmp{Cmp: &pb.Cmp{Path: x.Path, Op: op, Value: v}}}, err
	case *query.Cmp:
		return t.Expr(*x)
	case query.In:
		vals := make([]*pb.Value, 0, len(x.Values))
		for _, v := range x.Values {
			pv, err := t.Value(v)
			if err != nil {
				return nil, err
			}
			vals = append(vals, pv)
		}
		return &pb.Expr{Node: &pb.Expr_In{In: &pb.In{Path: x.Path, Values: vals}}}, nil
	case *query.In:
		return t.Expr(*x)
	case query.Str:
		fn, ok := strFnToProto[x.Fn]
		if !ok {
			return nil, invalidExpr(fmt.Sprintf("unknown string function %d", x.Fn))
		}
		return &pb.Expr{Node: &pb.Expr_Str{Str: &pb.Str{Path: x.Path, Fn: fn, Value: x.Value}}}, nil
	case *query.Str:
		return t.Expr(*x)
	case query.Null:
		return &pb.Expr{Node: &pb.Expr_Null{Null: &pb.Null{Path: x.Path, IsNull: x.IsNull}}}, nil
	case *query.Null:
		return t.Expr(*x)
	case query.AnyRow:
		if x.Pred == nil {
			return nil, invalidExpr("anyrow without a predicate")
		}
		pred, err := t.Expr(x.Pred)
		return &pb.Expr{Node: &pb.Expr_AnyRow{AnyRow: &pb.AnyRow{Array: x.Array, Pred: pred}}}, err
	case *query.AnyRow:
		return t.Expr(*x)
	case query.Const:
		return &pb.Expr{Node: &pb.Expr_Const{Const: x.Value}}, nil
	case *query.Const:
		return t.Expr(*x)
	}
	return nil, invalidExpr(fmt.Sprintf("unknown node %T", e))
}

func (t ConvertToProto) exprs(items []query.Expr) (*pb.Exprs, error) {
	out := &pb.Exprs{Items: make([]*pb.Expr, 0, len(items))}
	for _, it := range items {
		if it == nil {
			return nil, invalidExpr("nil item in and/or")
		}
		pe, err := t.Expr(it)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, pe)
	}
	return out, nil
}

func invalidExpr(msg string) *errs.Error {
	return errs.New(errs.Invalid, "query filter: "+msg).WithReason("invalid_query")
}

// Query converts a query.
func (t ConvertToProto) Query(q query.Query) (*pb.Query, error) {
	f, err := t.Expr(q.Filter)
	if err != nil {
		return nil, err
	}
	out := &pb.Query{Filter: f, Limit: int64(q.Limit), Offset: int64(q.Offset)}
	for _, s := range q.Sort {
		out.Sort = append(out.Sort, &pb.Sort{Path: s.Path, Desc: s.Desc})
	}
	return out, nil
}

var authToProto = map[AuthScheme]pb.AuthScheme{
	AuthNone: pb.AuthScheme_AUTH_NONE, AuthBearer: pb.AuthScheme_AUTH_BEARER, AuthConnector: pb.AuthScheme_AUTH_CUSTOM,
	AuthClientSecret: pb.AuthScheme_AUTH_CLIENT_SECRET,
}

// Info converts a connector description (New is not sent).
func (ConvertToProto) Info(i Info) *pb.Info {
	out := &pb.Info{
		Id: i.ID, Version: i.Version, Description: i.Description,
		ErrorEnvelope: &pb.ErrorEnvelope{
			ContentType: i.ErrorEnvelope.ContentType, Status: int32(i.ErrorEnvelope.Status),
			BodyTemplate: i.ErrorEnvelope.BodyTemplate,
		},
	}
	for _, r := range i.Routes {
		pr := &pb.Route{Method: r.Method, Path: r.Path, Auth: authToProto[r.Auth], ErrorStatusByCode: r.ErrorStatusByCode}
		if cr := r.Credentials; r.Auth == AuthClientSecret {
			pr.ClientCredentials = &pb.ClientCredentials{IdHeaders: cr.IDHeaders, SecretHeaders: cr.SecretHeaders,
				IdQuery: cr.IDQuery, SecretQuery: cr.SecretQuery}
		}
		out.Routes = append(out.Routes, pr)
	}
	return out
}

func valuesToProto(m map[string][]string) map[string]*pb.Values {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*pb.Values, len(m))
	for k, v := range m {
		out[k] = &pb.Values{Values: v}
	}
	return out
}

// Request converts an HTTP request.
func (t ConvertToProto) Request(r *Request) *pb.HTTPRequest {
	return &pb.HTTPRequest{
		Method: r.Method, Path: r.Path, Route: r.Route, PathParams: r.PathParams,
		Query: valuesToProto(url.Values(r.Query)), Headers: valuesToProto(http.Header(r.Headers)),
		Body: r.Body, Principal: t.Principal(r.Principal), ClientIp: r.ClientIP, RequestId: r.RequestID, StoreVersion: r.StoreVersion,
	}
}

// Response converts an HTTP response.
func (ConvertToProto) Response(r *Response) *pb.HTTPResponse {
	return &pb.HTTPResponse{Status: int32(r.Status), Headers: valuesToProto(r.Headers), Body: r.Body}
}

// Form converts a form.
func (ConvertToProto) Form(f *Form) (*pb.Form, error) {
	if f == nil {
		return nil, nil
	}
	fields, err := json.Marshal(f.Fields)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "encode form fields")
	}
	return &pb.Form{Id: f.ID, Key: f.Key, Name: f.Name, AppId: f.AppID, UsingWorkflow: f.UsingWorkflow, FieldsJson: fields,
		Version: f.Version}, nil
}

// Token converts a token (nil → nil).
func (ConvertToProto) Token(tk *Token) *pb.Token {
	if tk == nil {
		return nil
	}
	return &pb.Token{AccessToken: tk.AccessToken, RefreshToken: tk.RefreshToken, TokenType: tk.TokenType, ExpiresIn: tk.ExpiresIn, Scope: tk.Scope}
}

// Doc encodes a document (or record data) as JSON.
func (ConvertToProto) Doc(d map[string]any) ([]byte, error) {
	b, err := AppendJSON(nil, d)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "document is not JSON-encodable")
	}
	return b, nil
}

// Docs encodes documents as JSON.
func (t ConvertToProto) Docs(ds []Doc) ([][]byte, error) {
	out := make([][]byte, len(ds))
	for i, d := range ds {
		b, err := t.Doc(d)
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// JSONValue encodes any JSON-shaped value (a dataflow output) as JSON.
func (ConvertToProto) JSONValue(v any) ([]byte, error) {
	b, err := AppendJSON(nil, v)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "value is not JSON-encodable")
	}
	return b, nil
}
