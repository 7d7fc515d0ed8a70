package sdk

import "context"

// Host is the hub's core as a connector sees it (the Host API). Out of
// process every method is one gRPC round trip back to the hub, so prefer the
// batch and find methods over loops of single calls.
//
// Every method that reads or writes tenant data takes the acting principal p
// explicitly: the tenant is p.Tenant and nothing crosses tenants (a document
// of another tenant is NotFound). A nil p, or one with an empty Tenant, is
// errs.Unauthorized. form names a form by its key or its id.
//
// Errors are *Error (core/errs) with these codes: Invalid (bad input; Details
// name each field as Target "data/<field>"), NotFound, Conflict, Unauthorized
// (bad credentials or token), Forbidden (the principal may not do this),
// Unavailable (the hub or a backing service is down), Internal.
type Host interface {
	// ListForms returns the tenant's forms (fields included), ordered by key.
	ListForms(ctx context.Context, p *Principal) ([]Form, error)
	// GetForm returns the form with that key or id; NotFound when there is none.
	GetForm(ctx context.Context, p *Principal, keyOrID string) (*Form, error)

	// GetRecord returns the record id of form; NotFound when it is absent,
	// deleted, of another form or of another tenant. Expand (v2) adds
	// navigations (e.g. OwnerExpand) in the same call.
	GetRecord(ctx context.Context, p *Principal, form, id string, opts ...ReadOption) (Doc, error)
	// FindRecords returns form's records matching q (paths are storage paths,
	// e.g. {"data","amount"}; q.Limit < 0 = no limit, 0 = none returned) and,
	// when count is true, the total ignoring paging (else Total = -1).
	// Invalid when q names an unknown field. Expand (v2) adds navigations
	// to each record and WithForm returns the form in Page.Form, so a read
	// that needs the schema and the owners is one call.
	FindRecords(ctx context.Context, p *Principal, form string, q Query, count bool, opts ...ReadOption) (Page, error)
	// CreateRecord validates data against the form, stores a new record
	// (flowStatus 3 "effective" on a form without workflow, 1 on a workflow
	// form; Operator and times filled from p) and returns it.
	CreateRecord(ctx context.Context, p *Principal, form string, data map[string]any) (Doc, error)
	// UpdateRecord merges data into the record's data (a partial update: keys
	// absent from data are kept, null clears) and returns the updated record.
	// IfFormVersion (v2) makes it refuse (Conflict, ReasonFormChanged) when
	// the form changed since the connector read it.
	UpdateRecord(ctx context.Context, p *Principal, form, id string, data map[string]any, opts ...WriteOption) (Doc, error)
	// DeleteRecord soft-deletes the record; NotFound when it is absent.
	DeleteRecord(ctx context.Context, p *Principal, form, id string) error
	// BatchCreateRecords creates every record or none (one transaction) and
	// returns them in input order. Invalid details carry Target
	// "data[i]/<field>".
	BatchCreateRecords(ctx context.Context, p *Principal, form string, data []map[string]any) ([]Doc, error)
	// BatchGetRecords returns the records with these ids in ids order,
	// skipping ids that do not exist (no error for them).
	BatchGetRecords(ctx context.Context, p *Principal, form string, ids []string) ([]Doc, error)
	// CreateRecords creates every record or none, like BatchCreateRecords,
	// and in the same transaction gives them the lifecycle opts asks for:
	// drafts, or a started (and submitted) workflow per record. A failure
	// in any step leaves nothing. Invalid when opts.StartWorkflow names a
	// form without workflow or opts.Initiators has the wrong length;
	// NotFound when the form has no workflow definition; Forbidden when an
	// initiator other than p's user needs a permission p lacks.
	CreateRecords(ctx context.Context, p *Principal, form string, data []map[string]any, opts CreateOptions) ([]CreatedRecord, error)

	// UploadFile stores a file of p's tenant (name and folder sanitised as
	// the native upload does: Invalid for path tricks; TooLarge above the
	// hub's upload limit or MaxFileSize) and returns its file entity (id, fileName, size,
	// contentType, hash, folder, isPublic, url, …).
	UploadFile(ctx context.Context, p *Principal, f FileUpload) (Doc, error)
	// ReadFile returns a file of p's tenant, metadata and content; NotFound
	// when it is absent or of another tenant.
	ReadFile(ctx context.Context, p *Principal, id string) (*File, error)
	// DeleteFile removes a file of p's tenant and its content; NotFound
	// when it is absent.
	DeleteFile(ctx context.Context, p *Principal, id string) error

	// RunDataflow runs the dataflow definition key (id or key) of p's
	// tenant with input as inputData, acting as p (native spec §5.1). A run
	// that fails (script error, limit, refused write) is not an error: the
	// result has Status "failed" and ErrMsg, and the run wrote nothing.
	// NotFound for an unknown definition; Invalid for a bad input.
	RunDataflow(ctx context.Context, p *Principal, key string, input map[string]any) (*DataflowResult, error)

	// VerifyClient checks an OAuth client's id and secret and returns the
	// principal its client_credentials token would act as (tenant, client,
	// service user). Unauthorized for an unknown client, a wrong secret or a
	// disabled client (one error for all three).
	// Routes whose credentials arrive in headers or the query declare
	// AuthClientSecret instead: the host verifies them before the hop
	// (cached, failures throttled per IP) and fills Request.Principal, so
	// no call is needed per request. Use VerifyClient for credentials the
	// host cannot read (a token endpoint's body).
	VerifyClient(ctx context.Context, clientID, secret string) (*Principal, error)
	// IssueToken issues an access (+ refresh) token for p's client, acting as
	// userID of p's tenant when set (else as p's user, if any), with scopes
	// (nil = the client's default scopes). Forbidden when the client may not
	// have those scopes; NotFound when the user does not exist.
	IssueToken(ctx context.Context, p *Principal, userID string, scopes []string) (*Token, error)
	// RefreshToken rotates a refresh token of clientID; Unauthorized when it
	// is unknown, expired, revoked or reused.
	RefreshToken(ctx context.Context, clientID, refreshToken string) (*Token, error)
	// RevokeToken revokes an access or refresh token of p's tenant. Revoking
	// an unknown token is not an error (RFC 7009).
	RevokeToken(ctx context.Context, p *Principal, token string) error
	// ResolveToken verifies an access token and returns its principal;
	// Unauthorized when it is invalid, expired or revoked.
	ResolveToken(ctx context.Context, token string) (*Principal, error)

	// FindUsers, FindDepartments and FindRoles query the tenant's directory
	// (document shapes in the hub's DATA notes: user, department, role;
	// secrets such as passwordHash are never returned or filterable).
	FindUsers(ctx context.Context, p *Principal, q Query, count bool) (Page, error)
	FindDepartments(ctx context.Context, p *Principal, q Query, count bool) (Page, error)
	FindRoles(ctx context.Context, p *Principal, q Query, count bool) (Page, error)

	// ---- v2 ----

	// EntityFind, EntityGet, EntityCreate, EntityUpdate and EntityDelete
	// are the native entity API (/api/v1/{entity}, native spec §6) acting
	// as p, for every entity of the catalogue — users, departments, roles,
	// menus, schedules, apps, messages, wftodo, wfapprovallog, auditlog,
	// outbox, files, definitions — and form keys (records). They run the
	// native code path: the same tenancy, admin-only kinds, owner rules,
	// record locks, data scope, private properties and read-only kinds
	// (MethodNotAllowed), so a connector can do exactly what p could do
	// through /api/v1. q's paths are storage paths; a record listing
	// names its form by key as entity. EntityFind with Limit 0 and Count
	// is a count.
	EntityFind(ctx context.Context, p *Principal, entity string, q Query, o EntityOptions) (Page, error)
	EntityGet(ctx context.Context, p *Principal, entity, id string, o EntityOptions) (Doc, error)
	EntityCreate(ctx context.Context, p *Principal, entity string, body Doc) (Doc, error)
	// EntityUpdate is a partial merge (null clears; a record's data merges
	// key by key), as PATCH.
	EntityUpdate(ctx context.Context, p *Principal, entity, id string, body Doc, o EntityOptions) (Doc, error)
	EntityDelete(ctx context.Context, p *Principal, entity, id string, o EntityOptions) error

	// WorkflowTasks lists a task list (todo, done, started, cc) of p's
	// user, or of another user with workflow.actAs.
	WorkflowTasks(ctx context.Context, p *Principal, q TaskQuery) (TaskPage, error)
	// WorkflowAct performs a workflow action (start, approve, reject,
	// return, transfer, withdraw, cc) as p, with the native rules: the
	// task must be pending (Conflict) and p's (Forbidden; acting for
	// another user needs workflow.actAs); withdraw is the initiator's.
	// The approval log is EntityFind("wfapprovallog", dataId eq …).
	WorkflowAct(ctx context.Context, p *Principal, a WorkflowAction) (*WorkflowResult, error)

	// Aliases resolves external ids of a dialect namespace to hub ids and
	// back, in batch, and allocates sequence aliases (r.Allocate).
	Aliases(ctx context.Context, p *Principal, r AliasRequest) (*AliasResult, error)
}
