package host

import (
	"context"
	"encoding/binary"
	"encoding/hex"

	"github.com/eimshub/eimshub/core/alias"
	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/dialecttoken"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/identity"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// bridge is the Host API over the hub's real core: records and the
// directory through the entity service, tokens through the identity
// service. It adds no rules of its own beyond scopes: tenancy, validation,
// Operator refs and output cleaning are the services' (the same code the
// native API runs).
type bridge struct {
	ents  *entity.Service
	ident *identity.Service
	wf    *workflow.Engine
	flows *dataflow.Engine
	files *files.Service
	// aliases may be nil (Aliases answers Unavailable).
	aliases *alias.Service
	// st is the store the services share: CreateRecords runs its steps in
	// one of its transactions.
	st store.Store
	// dtokens may be nil (the dialect token calls answer Unavailable).
	dtokens *dialecttoken.Service
}

// Services are the core services a bridge serves connectors from.
// Workflow and Files may be nil: the calls that need them then answer
// Unavailable.
type Services struct {
	Entities *entity.Service
	Identity *identity.Service
	Workflow *workflow.Engine
	Dataflow *dataflow.Engine
	Files    *files.Service
	// Aliases (v2) may be nil: Aliases then answers Unavailable.
	Aliases *alias.Service
	// Store is the store the services share.
	Store store.Store
	// DialectTokens (sdk.DialectTokenStore) may be nil: the dialect token
	// calls then answer Unavailable.
	DialectTokens *dialecttoken.Service
}

// NewBridge returns the Core the plugin manager serves to connectors, over
// the hub's core services.
//
// Scopes: reads need api.read or api.readwrite, writes api.readwrite, as on
// the native API (Forbidden otherwise). A principal from VerifyClient
// carries its client's scopes; one from a bearer token its token's.
func NewBridge(s Services) Core {
	return &bridge{ents: s.Entities, ident: s.Identity, wf: s.Workflow, flows: s.Dataflow, files: s.Files, aliases: s.Aliases, st: s.Store, dtokens: s.DialectTokens}
}

// reader and writer convert p and check its scope. A nil p or an empty
// tenant is Unauthorized.
func reader(p *sdk.Principal) (*principal.Principal, error) { return acting(p, false) }
func writer(p *sdk.Principal) (*principal.Principal, error) { return acting(p, true) }

func acting(p *sdk.Principal, write bool) (*principal.Principal, error) {
	cp := FromSDKPrincipal(p)
	if cp == nil || cp.Tenant == "" {
		return nil, errs.New(errs.Unauthorized, "no authenticated tenant").WithReason("no_principal")
	}
	if write && !cp.CanWrite() || !write && !cp.CanRead() {
		return nil, errs.New(errs.Forbidden, "the principal lacks the scope this call needs").WithReason("insufficient_scope")
	}
	return cp, nil
}

// ListForms implements sdk.Host.
func (b *bridge) ListForms(ctx context.Context, p *sdk.Principal) ([]sdk.Form, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	forms, err := b.ents.Forms(ctx, cp)
	if err != nil {
		return nil, err
	}
	out := make([]sdk.Form, len(forms))
	for i, f := range forms {
		out[i] = toSDKForm(f)
	}
	return out, nil
}

// GetForm implements sdk.Host.
func (b *bridge) GetForm(ctx context.Context, p *sdk.Principal, keyOrID string) (*sdk.Form, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	f, err := b.ents.Form(ctx, cp, keyOrID)
	if err != nil {
		return nil, err
	}
	out := toSDKForm(f)
	return &out, nil
}

// GetRecord implements sdk.Host (v2: with a native $expand).
func (b *bridge) GetRecord(ctx context.Context, p *sdk.Principal, form, id string, opts ...sdk.ReadOption) (sdk.Doc, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	if o := sdk.ReadOpts(opts...); o.Expand != "" {
		return b.ents.GetRecordExpand(ctx, cp, form, id, o.Expand)
	}
	return b.ents.GetRecord(ctx, cp, form, id)
}

// StoreVersion is the store's committed version for sdk.Request.StoreVersion
// ("" when the store names none: connectors then reuse nothing).
func (b *bridge) StoreVersion(ctx context.Context) string {
	v, ok := b.st.(committedVersioner)
	if !ok {
		return ""
	}
	h, ok := v.CommittedVersion(ctx)
	if !ok {
		return ""
	}
	var raw [6 * 8]byte
	for i, w := range h {
		binary.BigEndian.PutUint64(raw[8*i:], w)
	}
	return hex.EncodeToString(raw[:])
}

// committedVersioner is a store that names its committed state
// (adapters/sqlite CommittedVersion): ok is false inside a transaction,
// with the store's caches off, or when the state cannot be read.
type committedVersioner interface {
	CommittedVersion(ctx context.Context) (v [6]uint64, ok bool)
}

// FindRecords implements sdk.Host (v2: with a native $expand and the form).
func (b *bridge) FindRecords(ctx context.Context, p *sdk.Principal, form string, q sdk.Query, count bool, opts ...sdk.ReadOption) (sdk.Page, error) {
	cp, err := reader(p)
	if err != nil {
		return sdk.Page{}, err
	}
	o := sdk.ReadOpts(opts...)
	items, total, err := b.ents.FindRecordsExpand(ctx, cp, form, q, count, o.Expand)
	if err != nil {
		return sdk.Page{}, err
	}
	pg := sdk.Page{Items: items, Total: total}
	if o.Form {
		f, err := b.ents.Form(ctx, cp, form)
		if err != nil {
			return sdk.Page{}, err
		}
		sf := toSDKForm(f)
		pg.Form = &sf
	}
	if o.Aliases != "" {
		if pg.Aliases, err = b.pageAliases(ctx, cp.Tenant, o.Aliases, items); err != nil {
			return sdk.Page{}, err
		}
	}
	return pg, nil
}

// CreateRecord implements sdk.Host.
func (b *bridge) CreateRecord(ctx context.Context, p *sdk.Principal, form string, data map[string]any) (sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	return b.ents.CreateRecord(ctx, cp, form, data)
}

// UpdateRecord implements sdk.Host; IfFormVersion is the record core's
// CheckFormVersion against the (cached) form.
func (b *bridge) UpdateRecord(ctx context.Context, p *sdk.Principal, form, id string, data map[string]any, opts ...sdk.WriteOption) (sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if v := sdk.WriteOpts(opts...).FormVersion; v != 0 {
		f, err := b.ents.Form(ctx, cp, form)
		if err != nil {
			return nil, err
		}
		if err := record.CheckFormVersion(f, v); err != nil {
			return nil, err
		}
	}
	return b.ents.UpdateRecord(ctx, cp, form, id, data)
}

// DeleteRecord implements sdk.Host.
func (b *bridge) DeleteRecord(ctx context.Context, p *sdk.Principal, form, id string) error {
	cp, err := writer(p)
	if err != nil {
		return err
	}
	return b.ents.DeleteRecord(ctx, cp, form, id)
}

// BatchCreateRecords implements sdk.Host.
func (b *bridge) BatchCreateRecords(ctx context.Context, p *sdk.Principal, form string, data []map[string]any) ([]sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	return b.ents.BatchCreate(ctx, cp, form, data)
}

// BatchGetRecords implements sdk.Host.
func (b *bridge) BatchGetRecords(ctx context.Context, p *sdk.Principal, form string, ids []string) ([]sdk.Doc, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	return b.ents.BatchGet(ctx, cp, form, ids)
}

// VerifyClient implements sdk.Host.
func (b *bridge) VerifyClient(ctx context.Context, clientID, secret string) (*sdk.Principal, error) {
	p, err := b.ident.VerifyClient(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	return ToSDKPrincipal(p), nil
}

// IssueToken implements sdk.Host: the token is of p's client, in p's
// tenant, acting as userID (else p's user, else the client itself).
func (b *bridge) IssueToken(ctx context.Context, p *sdk.Principal, userID string, scopes []string) (*sdk.Token, error) {
	cp := FromSDKPrincipal(p)
	if cp == nil || cp.Tenant == "" {
		return nil, errs.New(errs.Unauthorized, "no authenticated tenant").WithReason("no_principal")
	}
	if cp.ClientID == "" {
		return nil, errs.New(errs.Forbidden, "the principal has no client to issue a token for").WithTarget("clientId")
	}
	if userID == "" {
		userID = cp.UserID
	}
	resp, err := b.ident.IssueFor(ctx, cp.ClientID, cp.Tenant, userID, scopes)
	if err != nil {
		return nil, err
	}
	return toSDKToken(resp), nil
}

// RefreshToken implements sdk.Host.
func (b *bridge) RefreshToken(ctx context.Context, clientID, refreshToken string) (*sdk.Token, error) {
	resp, err := b.ident.RefreshFor(ctx, clientID, refreshToken)
	if err != nil {
		return nil, err
	}
	return toSDKToken(resp), nil
}

// RevokeToken implements sdk.Host.
func (b *bridge) RevokeToken(ctx context.Context, p *sdk.Principal, token string) error {
	cp := FromSDKPrincipal(p)
	if cp == nil || cp.Tenant == "" {
		return errs.New(errs.Unauthorized, "no authenticated tenant").WithReason("no_principal")
	}
	return b.ident.RevokeFor(ctx, cp.Tenant, token)
}

// ResolveToken implements sdk.Host.
func (b *bridge) ResolveToken(ctx context.Context, token string) (*sdk.Principal, error) {
	p, err := b.ident.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	return ToSDKPrincipal(p), nil
}

// FindUsers implements sdk.Host.
func (b *bridge) FindUsers(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return b.directory(ctx, p, "user", q, count)
}

// FindDepartments implements sdk.Host.
func (b *bridge) FindDepartments(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return b.directory(ctx, p, "department", q, count)
}

// FindRoles implements sdk.Host.
func (b *bridge) FindRoles(ctx context.Context, p *sdk.Principal, q sdk.Query, count bool) (sdk.Page, error) {
	return b.directory(ctx, p, "role", q, count)
}

func (b *bridge) directory(ctx context.Context, p *sdk.Principal, kind string, q query.Query, count bool) (sdk.Page, error) {
	cp, err := reader(p)
	if err != nil {
		return sdk.Page{}, err
	}
	items, total, err := b.ents.FindKind(ctx, cp, kind, q, count)
	if err != nil {
		return sdk.Page{}, err
	}
	return sdk.Page{Items: items, Total: total}, nil
}

func toSDKToken(r *identity.TokenResponse) *sdk.Token {
	return &sdk.Token{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, TokenType: r.TokenType,
		ExpiresIn: r.ExpiresIn, Scope: r.Scope}
}

func toSDKForm(f *schema.Form) sdk.Form {
	return sdk.Form{ID: f.ID, Key: f.Key, Name: f.Name, AppID: f.AppID, UsingWorkflow: f.UsingWorkflow,
		Fields: toSDKFields(f.Fields), Version: f.Version}
}

func toSDKFields(defs []schema.FieldDef) []sdk.Field {
	if defs == nil {
		return nil
	}
	out := make([]sdk.Field, len(defs))
	for i, d := range defs {
		var opts []sdk.Option
		for _, o := range d.Props.Options {
			opts = append(opts, sdk.Option{Value: o.Value, Label: o.Label})
		}
		out[i] = sdk.Field{Field: d.Field, Type: string(d.Type), Title: d.Title, Required: d.Required,
			Props: sdk.FieldProps{Options: opts, Format: d.Props.Format}, Columns: toSDKFields(d.Columns), Hidden: d.Hidden}
	}
	return out
}

var _ Core = (*bridge)(nil)
