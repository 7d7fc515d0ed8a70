// Package sdk is everything a connector author imports: the Connector and Host
// interfaces, the Request/Response/Info types, Register for built-in
// connectors, and Serve for a plugin's main. It re-exports the hub's error
// model (core/errs) and query AST (core/query) through type aliases, so a
// connector shares them without importing the rest of the core.
//
// A connector is one Go type:
//
//	type Acme struct{}
//
//	func (Acme) Info() sdk.Info { return sdk.Info{ID: "acme", Version: "0.1.0", Routes: ...} }
//	func (Acme) Handle(ctx context.Context, req *sdk.Request, host sdk.Host) (*sdk.Response, error) { ... }
//
//	func main() { sdk.Serve(func() sdk.Connector { return Acme{} }) }
//
// The connector holds no state of its own: every read and write goes through
// Host, which the hub serves back to the plugin process (or calls directly
// when the connector runs in-process).
package sdk

import (
	"context"
	"net/http"
	"net/url"
)

// Connector is what a plugin implements.
type Connector interface {
	// Info describes the connector: id, version, routes, error envelope.
	// It is called once at start-up and must be cheap and constant.
	Info() Info
	// Handle serves one HTTP request routed to one of Info().Routes. It
	// returns either a response or an error; the host renders an error with
	// the connector's ErrorEnvelope (a connector that wants its own dialect
	// envelope for expected failures returns a Response instead).
	// Handle is called concurrently and must honour ctx.
	Handle(ctx context.Context, req *Request, host Host) (*Response, error)
}

// Configurer is implemented by connectors that take configuration. The host
// calls Configure once, before the first Handle, with the connector's YAML
// `config:` block encoded as JSON (nil when there is none). An error refuses
// the connector (it is logged with the connector id; the hub keeps running).
type Configurer interface {
	Configure(raw []byte) error
}

// AuthScheme says who authenticates a route's caller, and how. The host
// enforces it before the plugin hop, so a request that fails it never
// reaches the connector and spends no one's rate budget but its source
// IP's.
type AuthScheme int

const (
	// AuthNone: the host authenticates nothing; Request.Principal is nil.
	// The host's rate limiter counts such requests per source IP.
	AuthNone AuthScheme = iota
	// AuthBearer: the host resolves the `Authorization: Bearer` token (a
	// hub access token) before the plugin hop (401 in the connector's
	// envelope when it fails) and fills Request.Principal. Rate-limited
	// per verified client.
	AuthBearer
	// AuthConnector: the connector verifies its dialect's own token scheme
	// (e.g. a token it issued itself); Request.Principal is nil and the
	// host limits the route per source IP only.
	AuthConnector
	// AuthClientSecret: the host verifies a hub client's id and secret,
	// read from the sources Route.Credentials names (e.g. H3Yun's
	// EngineCode/EngineSecret headers), before the plugin hop: the secret
	// is compared with the client's stored hash in constant time, a
	// success is cached briefly, failures are throttled per source IP,
	// and the rate limiter is keyed by the verified client. A failure is
	// Unauthorized (or RateLimited) in the connector's envelope and never
	// reaches the connector. Request.Principal is the client's principal
	// (as Host.VerifyClient returns it); the secret is removed from the
	// request the connector sees.
	AuthClientSecret
)

// AuthCustom is the v1 name of AuthConnector.
//
// Deprecated: use AuthConnector, or AuthClientSecret when the dialect's
// credentials are a hub client's id and secret.
const AuthCustom = AuthConnector

func (a AuthScheme) String() string {
	switch a {
	case AuthNone:
		return "none"
	case AuthBearer:
		return "bearer"
	case AuthConnector:
		return "connector"
	case AuthClientSecret:
		return "client-secret"
	}
	return "unknown"
}

// ClientCredentials names where an AuthClientSecret route's caller sends
// its hub client id and secret. Each list is tried in order and the first
// non-empty value wins; headers are tried before query parameters. Header
// names are case-insensitive. At least one source of each is required.
type ClientCredentials struct {
	// IDHeaders carry the client id, e.g. {"EngineCode"}.
	IDHeaders []string
	// SecretHeaders carry the secret, e.g. {"EngineSecret"}. The host
	// removes them from the request the connector sees.
	SecretHeaders []string
	// IDQuery are query parameters carrying the client id.
	IDQuery []string
	// SecretQuery are query parameters carrying the secret (removed from
	// the request the connector sees).
	SecretQuery []string
}

// Route is one HTTP route a connector serves.
type Route struct {
	// Method is an HTTP method ("GET", "POST", ...).
	Method string
	// Path is a Fiber-style pattern relative to the connector's mount point,
	// e.g. "/OpenApi/Invoke" or "/api/v1/records/:id".
	Path string
	// Auth is the route's authentication scheme. Default: AuthNone.
	Auth AuthScheme
	// Credentials say where the client id and secret are (AuthClientSecret
	// only).
	Credentials ClientCredentials
	// ErrorStatusByCode makes the errors the host renders for this route
	// (refused credentials, rate limit, plugin down or busy) use the HTTP
	// status of their code (HTTPStatus) instead of ErrorEnvelope.Status:
	// for a route of a 200-for-errors dialect whose failures are non-2xx
	// (H3Yun's file download).
	ErrorStatusByCode bool
}

// ErrorEnvelope tells the host how to render an error for this connector
// when the connector cannot render it itself: the plugin is dead or timed
// out, too many requests are in flight, the bearer token or the rate limit
// refused the caller, or Handle returned an error.
//
// BodyTemplate is a text/template executed with ErrorData; use {{json .X}}
// for a JSON-quoted value. Example:
//
//	ErrorEnvelope{ContentType: "application/json",
//	    BodyTemplate: `{"Successful":false,"ErrorMessage":{{json .Message}},"Code":{{json .Code}}}`}
type ErrorEnvelope struct {
	// ContentType of the error body. Default: "application/json".
	ContentType string
	// Status is the HTTP status of every error; 0 = by code (HTTPStatus).
	// Dialects that always answer 200 set 200.
	Status int
	// BodyTemplate renders the body. Default: DefaultErrorTemplate.
	BodyTemplate string
}

// Info describes a connector.
type Info struct {
	// ID is the connector's unique name ("h3yun"); it is the YAML key.
	ID string
	// Version is the connector's version, shown at /admin/connectors.
	Version string
	// Description is one line for listings.
	Description string
	// Routes the connector serves.
	Routes []Route
	// ErrorEnvelope renders host-side errors in the dialect's shape.
	ErrorEnvelope ErrorEnvelope
	// New returns a fresh connector. Required by Register; ignored elsewhere.
	New func() Connector
}

// Request is one HTTP request routed to a connector.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the request path as received (including the mount point).
	Path string
	// Route is the matched route's Path pattern (without the mount point).
	Route string
	// PathParams holds the route's named parameters (":id" → "id").
	PathParams map[string]string
	// Query is the parsed query string.
	Query url.Values
	// Headers are the request headers (canonical keys).
	Headers http.Header
	// Body is the raw request body.
	Body []byte
	// Principal is the authenticated caller on AuthBearer and
	// AuthClientSecret routes, nil otherwise.
	Principal *Principal
	// ClientIP is the caller's IP address as the hub sees it.
	ClientIP string
	// RequestID correlates logs across the hub and the plugin.
	RequestID string
	// StoreVersion names the store's committed state when the host
	// received the request, taken after the caller was authenticated and
	// before the connector runs: any write to the store — records, forms,
	// users, roles, aliases, by any process — changes it. "" when the store
	// names none (MongoDB, MemHost). A connector that kept the answer it
	// built for an identical request (same route, body, principal and
	// configuration) under the same StoreVersion may send it again without
	// reading anything: nothing it could read has changed since. See
	// docs/PLUGINS.md, "Reusing answers".
	StoreVersion string
}

// Response is a connector's HTTP response.
type Response struct {
	// Status is the HTTP status. Default: 200.
	Status int
	// Headers to set on the response.
	Headers http.Header
	// Body is the raw response body.
	Body []byte
}

// Principal is the authenticated caller every Host call acts as. It mirrors
// the core's principal: Tenant scopes every read and write.
type Principal struct {
	Tenant      string
	UserID      string
	UserCode    string
	DisplayName string
	Login       string
	ClientID    string
	Scopes      []string
	Roles       []string
	TokenID     string
	AuthTime    int64
}

// Doc is a stored document as JSON-shaped values: nil, bool, string, int64
// (integral numbers, epoch-ms times, enums), float64, []any, map[string]any.
// A record (`formdata`) has id, corpId, appId, formId, flowStatus, dataTitle,
// data {field → value}, createBy/updateBy {id, value, label},
// createTime/updateTime (spec eims-native.md §6).
type Doc = map[string]any

// Page is one page of documents.
type Page struct {
	// Items in query order.
	Items []Doc
	// Total is the number of matching documents ignoring paging, or -1 when
	// the caller did not ask for a count.
	Total int64
	// Form is the records' form when FindRecords was called WithForm.
	// Read-only: out of process its Fields may be shared with the forms of
	// earlier pages (the plugin remembers them, see formmemory.go).
	Form *Form `json:",omitempty"`
	// Aliases (FindRecords WithAliases) maps kind → hub id → external id
	// for the ids of the page that have an alias in the namespace asked.
	Aliases map[string]map[string]string `json:",omitempty"`
}

// Option is one choice of a select-like field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// FieldProps are a field's type-specific properties.
type FieldProps struct {
	Options []Option `json:"options,omitempty"`
	Format  string   `json:"format,omitempty"`
}

// Field is one form field (`content.items[]`, spec §6.3); it has the JSON
// shape of the core's schema.FieldDef.
type Field struct {
	Field    string     `json:"field"`
	Type     string     `json:"type"`
	Title    string     `json:"title,omitempty"`
	Required bool       `json:"required,omitempty"`
	Props    FieldProps `json:"props,omitempty"`
	Columns  []Field    `json:"columns,omitempty"`
	Hidden   bool       `json:"hidden,omitempty"`
}

// Form is a form schema.
type Form struct {
	ID            string
	Key           string
	Name          string
	AppID         string
	UsingWorkflow bool
	Fields        []Field
	// Version (v2) is the form's version (its updateTime): it changes with
	// every change of the form. A connector that caches forms sends it
	// with a write (CreateOptions.FormVersion, IfFormVersion) and the host
	// refuses the write with Conflict/ReasonFormChanged when the form
	// changed since. 0 = unknown (do not cache).
	Version int64 `json:",omitempty"`
}

// Token is an issued OAuth token pair.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	// ExpiresIn is the access token's lifetime in seconds.
	ExpiresIn int64
	// Scope is the space-separated granted scope.
	Scope string
}

// CreateOptions give records created through Host.CreateRecords their
// lifecycle (spec eims-native.md §4, h3yun.md §6).
type CreateOptions struct {
	// Draft stores the records as drafts (flowStatus 1) even on a form
	// without workflow. Ignored with StartWorkflow.
	Draft bool `json:"draft,omitempty"`
	// StartWorkflow starts the form's current workflow definition for each
	// record. Without Submit the instance waits at its start node with a
	// task of the initiator's; the record is approving (flowStatus 2).
	StartWorkflow bool `json:"startWorkflow,omitempty"`
	// Submit (with StartWorkflow) completes each start task as its
	// initiator, so the first approval node has the pending tasks.
	Submit bool `json:"submit,omitempty"`
	// Initiators are the initiating user ids: none (the record's owner),
	// one for every record, or one per record. "" is the record's owner.
	Initiators []string `json:"initiators,omitempty"`
	// Owners are the users the records are created as (createBy and
	// updateBy): none (p's user), one for every record, or one per record;
	// "" is p's user. A user other than p's needs p to administer the
	// tenant (Forbidden otherwise); an unknown user is Invalid with Target
	// "owners[i]".
	Owners []string `json:"owners,omitempty"`
	// FormVersion (v2) is the Form.Version the data was built for: when
	// the form's version differs, nothing is written and the error is
	// Conflict with Reason ReasonFormChanged (refetch the form, rebuild
	// the data, retry). 0 = no check.
	FormVersion int64 `json:"formVersion,omitempty"`
}

// CreatedRecord is one record created by Host.CreateRecords.
type CreatedRecord struct {
	Record Doc `json:"record"`
	// WorkflowInstanceID is the started instance ("" when none).
	WorkflowInstanceID string `json:"workflowInstanceId,omitempty"`
}

// MaxFileSize bounds a file's content through the Host API (one gRPC
// message carries it whole). Larger files go through the native upload.
const MaxFileSize = 16 << 20

// FileUpload is a file to store through Host.UploadFile.
type FileUpload struct {
	// Name is the file name the client sent (kept as metadata; the
	// extension drives the content type with the sniffed bytes).
	Name string `json:"name"`
	// Folder is an optional virtual folder ("a/b").
	Folder string `json:"folder,omitempty"`
	// Public files are also served without a token at an unguessable URL.
	Public  bool   `json:"public,omitempty"`
	Content []byte `json:"content"`
}

// File is a stored file read through Host.ReadFile.
type File struct {
	// Info is the file entity: id, fileName, size, contentType, hash,
	// folder, isPublic, url, createBy, createTime, ….
	Info    Doc    `json:"info"`
	Content []byte `json:"content"`
}

// DataflowResult is one dataflow run (native spec §5.1).
type DataflowResult struct {
	ID string `json:"id"`
	// Status is "succeeded" or "failed".
	Status string `json:"status"`
	ErrMsg string `json:"errMsg,omitempty"`
	// Output is the last node's result (JSON-shaped values; nil when none).
	Output any `json:"output,omitempty"`
}
