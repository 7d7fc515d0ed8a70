package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	"google.golang.org/protobuf/encoding/protojson"
)

// Call is one Host call: the method, its arguments and its result, each as
// JSON. It is the unit golden files list under "--- host".
type Call struct {
	Method string          `json:"method"`
	Args   json.RawMessage `json:"args"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *CallError      `json:"error,omitempty"`
}

// CallError is an error result of a Call.
type CallError struct {
	Code    string        `json:"code"`
	Reason  string        `json:"reason,omitempty"`
	Message string        `json:"message"`
	Target  string        `json:"target,omitempty"`
	Details []errs.Detail `json:"details,omitempty"`
}

func callError(err error) *CallError {
	if err == nil {
		return nil
	}
	e := errs.As(err)
	return &CallError{Code: e.Code.String(), Reason: e.Reason, Message: e.Msg, Target: e.Target, Details: e.Details}
}

func (c *CallError) toError() error {
	code := errs.Internal
	for i := errs.Internal; i <= errs.MethodNotAllowed; i++ {
		if i.String() == c.Code {
			code = i
		}
	}
	return &errs.Error{Code: code, Reason: c.Reason, Msg: c.Message, Target: c.Target, Details: c.Details, Pos: -1}
}

// RecordingHost is an sdk.Host that records every call. With Inner set it
// forwards calls there; otherwise it replays Canned in order: the i-th call
// gets Canned[i]'s result or error when the methods match, and an Internal
// "unexpected host call" error otherwise (so a missing canned result shows
// up as a failing response, and in Calls).
type RecordingHost struct {
	Inner  sdk.Host
	Canned []Call

	mu    sync.Mutex
	calls []Call
}

// Calls returns the calls made so far.
func (r *RecordingHost) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// do records one call; inner performs it against Inner.
func do[T any](r *RecordingHost, method string, args any, inner func(sdk.Host) (T, error)) (T, error) {
	var zero T
	a, err := json.Marshal(args)
	if err != nil {
		return zero, errs.Wrap(errs.Invalid, err, "host call arguments are not JSON-encodable")
	}
	r.mu.Lock()
	i := len(r.calls)
	r.calls = append(r.calls, Call{Method: method, Args: a})
	r.mu.Unlock()

	var res T
	if r.Inner != nil {
		res, err = inner(r.Inner)
	} else {
		res, err = replayT[T](r, i, method)
	}
	call := Call{Method: method, Args: a, Error: callError(err)}
	if err == nil {
		call.Result = mustJSON(res)
	}
	r.mu.Lock()
	r.calls[i] = call
	r.mu.Unlock()
	return res, err
}

func (r *RecordingHost) replayRaw(i int, method string) (json.RawMessage, error) {
	if i >= len(r.Canned) || r.Canned[i].Method != method {
		return nil, errs.Newf(errs.Internal, "unexpected host call #%d %s (no canned result)", i+1, method).WithReason("unexpected_host_call")
	}
	c := r.Canned[i]
	if c.Error != nil {
		return nil, c.Error.toError()
	}
	return c.Result, nil
}

func (r *RecordingHost) replayInto(i int, method string, out any) error {
	raw, err := r.replayRaw(i, method)
	if err != nil {
		return err
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := decodeStrict(raw, out); err != nil {
		return errs.Wrap(errs.Internal, err, fmt.Sprintf("canned result of host call #%d %s does not decode", i+1, method))
	}
	return nil
}

func replayT[T any](r *RecordingHost, i int, method string) (T, error) {
	var out T
	err := r.replayInto(i, method, &out)
	return out, err
}

func decodeStrict(raw json.RawMessage, out any) error {
	// Documents keep the store's number convention.
	if d, ok := out.(*sdk.Doc); ok {
		doc, err := sdk.FromProto().Doc(raw)
		*d = doc
		return err
	}
	if ds, ok := out.(*[]sdk.Doc); ok {
		var raws []json.RawMessage
		if err := json.Unmarshal(raw, &raws); err != nil {
			return err
		}
		bs := make([][]byte, len(raws))
		for i := range raws {
			bs[i] = raws[i]
		}
		docs, err := sdk.FromProto().Docs(bs)
		*ds = docs
		return err
	}
	if pg, ok := out.(*sdk.Page); ok {
		var w struct {
			Items []json.RawMessage
			Total int64
			Form  *sdk.Form
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return err
		}
		bs := make([][]byte, len(w.Items))
		for i := range w.Items {
			bs[i] = w.Items[i]
		}
		docs, err := sdk.FromProto().Docs(bs)
		*pg = sdk.Page{Items: docs, Total: w.Total, Form: w.Form}
		return err
	}
	return json.Unmarshal(raw, out)
}

// queryJSON renders a query as its protobuf JSON (unambiguous node kinds),
// normalised so it compares byte for byte.
func queryJSON(q sdk.Query) any {
	pq, err := sdk.ToProto().Query(q)
	if err != nil {
		return fmt.Sprintf("invalid query: %v", err)
	}
	b, err := protojson.Marshal(pq)
	if err != nil {
		return fmt.Sprintf("invalid query: %v", err)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

type args = map[string]any

// ListForms implements sdk.Host.
func (r *RecordingHost) ListForms(ctx context.Context, p *sdk.Principal) ([]sdk.Form, error) {
	return do(r, "ListForms", args{"principal": p}, func(h sdk.Host) ([]sdk.Form, error) { return h.ListForms(ctx, p) })
}

// GetForm implements sdk.Host.
func (r *RecordingHost) GetForm(ctx context.Context, p *sdk.Principal, keyOrID string) (*sdk.Form, error) {
	return do(r, "GetForm", args{"principal": p, "form": keyOrID}, func(h sdk.Host) (*sdk.Form, error) { return h.GetForm(ctx, p, keyOrID) })
}

// GetRecord implements sdk.Host.
func (r *RecordingHost) GetRecord(ctx context.Context, p *sdk.Principal, form, id string, opts ...sdk.ReadOption) (sdk.Doc, error) {
	a := args{"principal": p, "form": form, "id": id}
	readArgs(a, opts)
	return do(r, "GetRecord", a, func(h sdk.Host) (sdk.Doc, error) { return h.GetRecord(ctx, p, form, id, opts...) })
}

// FindRecords implements sdk.Host.
func (r *RecordingHost) FindRecords(ctx context.Context, p *sdk.Principal, form string, q sdk.Query, count bool, opts ...sdk.ReadOption) (sdk.Page, error) {
	a := args{"principal": p, "form": form, "query": queryJSON(q), "count": count}
	readArgs(a, opts)
	return do(r, "FindRecords", a, func(h sdk.Host) (sdk.Page, error) {
		return h.FindRecords(ctx, p, form, q, count, opts...)
	})
}

// readArgs records the read options that are set (none: the v1 arguments).
func readArgs(a args, opts []sdk.ReadOption) {
	o := sdk.ReadOpts(opts...)
	if o.Expand != "" {
		a["expand"] = o.Expand
	}
	if o.Form {
		a["withForm"] = true
	}
	if o.Aliases != "" {
		a["aliases"] = o.Aliases
	}
}

// CreateRecord implements sdk.Host.
func (r *RecordingHost) CreateRecord(ctx context.Context, p *sdk.Principal, form string, data map[string]any) (sdk.Doc, error) {
	return do(r, "CreateRecord", args{"principal": p, "form": form, "data": data}, func(h sdk.Host) (sdk.Doc, error) { return h.CreateRecord(ctx, p, form, data) })
}

// UpdateRecord implements sdk.Host.
func (r *RecordingHost) UpdateRecord(ctx context.Context, p *sdk.Principal, form, id string, data map[string]any, opts ...sdk.WriteOption) (sdk.Doc, error) {
	a := args{"principal": p, "form": form, "id": id, "data": data}
	if o := sdk.WriteOpts(opts...); o != (sdk.WriteOptions{}) {
		a["options"] = o
	}
	return do(r, "UpdateRecord", a, func(h sdk.Host) (sdk.Doc, error) {
		return h.UpdateRecord(ctx, p, form, id, data, opts...)
	})
}

// DeleteRecord implements sdk.Host.
func (r *RecordingHost) DeleteRecord(ctx context.Context, p *sdk.Principal, form, id string) error {
	_, err := do(r, "DeleteRecord", args{"principal": p, "form": form, "id": id}, func(h sdk.Host) (any, error) { return nil, h.DeleteRecord(ctx, p, form, id) })
	return err
}

// BatchCreateRecords implements sdk.Host.
func (r *RecordingHost) BatchCreateRecords(ctx context.Context, p *sdk.Principal, form string, data []map[string]any) ([]sdk.Doc, error) {
	return do(r, "BatchCreateRecords", args{"principal": p, "form": form, "data": data}, func(h sdk.Host) ([]sdk.Doc, error) {
		return h.BatchCreateRecords(ctx, p, form, data)
	})
}

// BatchGetRecords implements sdk.Host.
func (r *RecordingHost) BatchGetRecords(ctx context.Context, p *sdk.Principal, form string, ids []string) ([]sdk.Doc, error) {
	return do(r, "BatchGetRecords", args{"principal": p, "form": form, "ids": ids}, func(h sdk.Host) ([]sdk.Doc, error) {
		return h.BatchGetRecords(ctx, p, form, ids)
	})
}

// VerifyClient implements sdk.Host.
func (r *RecordingHost) VerifyClient(ctx context.Context, clientID, secret string) (*sdk.Principal, error) {
	return do(r, "VerifyClient", args{"clientId": clientID, "secret": secret}, func(h sdk.Host) (*sdk.Principal, error) { return h.VerifyClient(ctx, clientID, secret) })
}

// IssueToken implements sdk.Host.
func (r *RecordingHost) IssueToken(ctx context.Context, p *sdk.Principal, userID string, scopes []string) (*sdk.Token, error) {
	return do(r, "IssueToken", args{"principal": p, "userId": userID, "scopes": scopes}, func(h sdk.Host) (*sdk.Token, error) {
		return h.IssueToken(ctx, p, userID, scopes)
	})
}

// RefreshToken implements sdk.Host.
func (r *RecordingHost) RefreshToken(ctx context.Context, clientID, refreshToken string) (*sdk.Token, error) {
	return do(r, "RefreshToken", args{"clientId": clientID, "refreshToken": refreshToken}, func(h sdk.Host) (*sdk.Token, error) {
		return h.RefreshToken(ctx, clientID, refreshToken)
	})
}

// RevokeToken implements sdk.Host.
func (r *RecordingHost) RevokeToken(ctx context.Context, p *sdk.Principal, token string) error {
	_, err := do(r, "RevokeToken", args{"principal": p, "token": token}, func(h sdk.Host) (any, error) { return nil, h.RevokeToken(ctx, p, token) })
	return err
}

// ResolveToken implements sdk.Host.
func (r *RecordingHost) ResolveToken(ctx context.Context, token string) (*sdk.Principal, error) {
	return do(r, "ResolveToken", args{"token": token}, func(h sdk.Host) (*sdk.Principal, error) { return h.ResolveToken(ctx, token) })
}

// FindUsers implements sdk.Host.
func (r *RecordingHost) FindUsers(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return do(r, "FindUsers", args{"principal": p, "query": queryJSON(q), "count": count}, func(h sdk.Host) (sdk.Page, error) { return h.FindUsers(ctx, p, q, count) })
}

// FindDepartments implements sdk.Host.
func (r *RecordingHost) FindDepartments(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return do(r, "FindDepartments", args{"principal": p, "query": queryJSON(q), "count": count}, func(h sdk.Host) (sdk.Page, error) {
		return h.FindDepartments(ctx, p, q, count)
	})
}

// FindRoles implements sdk.Host.
func (r *RecordingHost) FindRoles(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return do(r, "FindRoles", args{"principal": p, "query": queryJSON(q), "count": count}, func(h sdk.Host) (sdk.Page, error) { return h.FindRoles(ctx, p, q, count) })
}

var _ sdk.Host = (*RecordingHost)(nil)

// CreateRecords implements sdk.Host.
func (r *RecordingHost) CreateRecords(ctx context.Context, p *sdk.Principal, form string, data []map[string]any, opts sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	return do(r, "CreateRecords", args{"principal": p, "form": form, "data": data, "options": opts}, func(h sdk.Host) ([]sdk.CreatedRecord, error) {
		return h.CreateRecords(ctx, p, form, data, opts)
	})
}

// UploadFile implements sdk.Host.
func (r *RecordingHost) UploadFile(ctx context.Context, p *sdk.Principal, f sdk.FileUpload) (sdk.Doc, error) {
	return do(r, "UploadFile", args{"principal": p, "file": f}, func(h sdk.Host) (sdk.Doc, error) { return h.UploadFile(ctx, p, f) })
}

// ReadFile implements sdk.Host.
func (r *RecordingHost) ReadFile(ctx context.Context, p *sdk.Principal, id string) (*sdk.File, error) {
	return do(r, "ReadFile", args{"principal": p, "id": id}, func(h sdk.Host) (*sdk.File, error) { return h.ReadFile(ctx, p, id) })
}

// DeleteFile implements sdk.Host.
func (r *RecordingHost) DeleteFile(ctx context.Context, p *sdk.Principal, id string) error {
	_, err := do(r, "DeleteFile", args{"principal": p, "id": id}, func(h sdk.Host) (any, error) { return nil, h.DeleteFile(ctx, p, id) })
	return err
}

// RunDataflow implements sdk.Host.
func (r *RecordingHost) RunDataflow(ctx context.Context, p *sdk.Principal, key string, input map[string]any) (*sdk.DataflowResult, error) {
	return do(r, "RunDataflow", args{"principal": p, "key": key, "input": input}, func(h sdk.Host) (*sdk.DataflowResult, error) {
		return h.RunDataflow(ctx, p, key, input)
	})
}
