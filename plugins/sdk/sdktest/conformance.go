package sdktest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
)

var validMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodHead: true, http.MethodOptions: true,
}

// Conformance checks the contract every connector must keep, without a hub:
//   - Info has an ID, a version and at least one route; routes have a valid
//     method, a path starting with "/", a known auth scheme, and no duplicates;
//   - the error envelope compiles and renders;
//   - Handle on every route, with an empty request and a Host that fails
//     every call with Unavailable, neither panics nor returns a status
//     outside 100–599, and an error it returns is an *sdk.Error;
//   - Handle honours a canceled context (returns).
//
// Options: SkipHandle("GET /panic") leaves a route out of the Handle checks
// (for routes that panic or block on purpose).
func Conformance(t *testing.T, c sdk.Connector, opts ...ConformanceOption) {
	t.Helper()
	var o conformanceOptions
	for _, opt := range opts {
		opt(&o)
	}
	info := c.Info()
	t.Run("info", func(t *testing.T) {
		if info.ID == "" {
			t.Error("Info().ID is empty")
		}
		if info.Version == "" {
			t.Error("Info().Version is empty")
		}
		if len(info.Routes) == 0 {
			t.Error("Info().Routes is empty")
		}
		seen := map[string]bool{}
		for _, r := range info.Routes {
			key := r.Method + " " + r.Path
			if !validMethods[r.Method] {
				t.Errorf("route %s: invalid method %q", key, r.Method)
			}
			if !strings.HasPrefix(r.Path, "/") {
				t.Errorf("route %s: path must start with /", key)
			}
			if r.Auth < sdk.AuthNone || r.Auth > sdk.AuthClientSecret {
				t.Errorf("route %s: unknown auth scheme %d", key, r.Auth)
			}
			if cr := r.Credentials; r.Auth == sdk.AuthClientSecret &&
				(len(cr.IDHeaders)+len(cr.IDQuery) == 0 || len(cr.SecretHeaders)+len(cr.SecretQuery) == 0) {
				t.Errorf("route %s: AuthClientSecret needs a client id source and a secret source in Credentials", key)
			}
			if seen[key] {
				t.Errorf("route %s declared twice", key)
			}
			seen[key] = true
		}
	})
	t.Run("envelope", func(t *testing.T) {
		r, err := info.ErrorEnvelope.Compile()
		if err != nil {
			t.Fatalf("ErrorEnvelope: %v", err)
		}
		status, ct, body := r.Render(errs.New(errs.Unavailable, `quote " and <tag>`), "rid")
		if status < 100 || status > 599 || ct == "" || len(body) == 0 {
			t.Errorf("Render = %d %q %q", status, ct, body)
		}
		// Every code the hub may render for the connector: its own
		// refusals and what its HTTP edge refuses on the connector's paths
		// (docs/PLUGINS.md "Errors the hub renders for you"). A JSON
		// envelope must stay JSON whatever the message holds.
		for c := errs.Internal; c <= errs.MethodNotAllowed; c++ {
			status, ct, body := r.Render(errs.New(c, `Content-Encoding "br" is not supported <x>`), "rid")
			if status < 100 || status > 599 || ct == "" || len(body) == 0 ||
				(strings.Contains(ct, "json") && !json.Valid(body)) {
				t.Errorf("Render(%v) = %d %q %q", c, status, ct, body)
			}
		}
	})
	t.Run("handle", func(t *testing.T) {
		for _, r := range info.Routes {
			if o.skip[r.Method+" "+r.Path] {
				continue
			}
			t.Run(r.Method+" "+r.Path, func(t *testing.T) {
				req := &sdk.Request{
					Method: r.Method, Path: r.Path, Route: r.Path, PathParams: map[string]string{},
					Query: url.Values{}, Headers: http.Header{}, RequestID: "conformance",
				}
				if r.Auth == sdk.AuthBearer || r.Auth == sdk.AuthClientSecret {
					req.Principal = &sdk.Principal{Tenant: "t-conformance", ClientID: "c", Scopes: []string{"api.readwrite"}}
				}
				resp, err := callNoRecover(c, context.Background(), req, failingHost{})
				if err != nil {
					t.Fatal(err)
				}
				_ = resp
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if _, err := callNoRecover(c, ctx, req, failingHost{}); err != nil {
					t.Fatalf("canceled context: %v", err)
				}
			})
		}
	})
}

// callNoRecover calls Handle and reports contract violations as an error.
func callNoRecover(c sdk.Connector, ctx context.Context, req *sdk.Request, h sdk.Host) (resp *sdk.Response, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Handle panicked: %v", p)
		}
	}()
	resp, herr := c.Handle(ctx, req, h)
	if herr != nil {
		var e *errs.Error
		if !asError(herr, &e) {
			return nil, fmt.Errorf("Handle returned a non-*sdk.Error error (%T: %v); wrap it with an error code", herr, herr)
		}
		return nil, nil
	}
	if resp != nil && resp.Status != 0 && (resp.Status < 100 || resp.Status > 599) {
		return nil, fmt.Errorf("Handle returned status %d", resp.Status)
	}
	return resp, nil
}

// failingHost fails every call with Unavailable.
type failingHost struct{}

func unavailable() error { return errs.New(errs.Unavailable, "host unavailable (sdktest)") }

func (failingHost) ListForms(context.Context, *sdk.Principal) ([]sdk.Form, error) {
	return nil, unavailable()
}
func (failingHost) GetForm(context.Context, *sdk.Principal, string) (*sdk.Form, error) {
	return nil, unavailable()
}
func (failingHost) GetRecord(context.Context, *sdk.Principal, string, string, ...sdk.ReadOption) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) FindRecords(context.Context, *sdk.Principal, string, sdk.Query, bool, ...sdk.ReadOption) (sdk.Page, error) {
	return sdk.Page{}, unavailable()
}
func (failingHost) CreateRecord(context.Context, *sdk.Principal, string, map[string]any) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) UpdateRecord(context.Context, *sdk.Principal, string, string, map[string]any, ...sdk.WriteOption) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) DeleteRecord(context.Context, *sdk.Principal, string, string) error {
	return unavailable()
}
func (failingHost) BatchCreateRecords(context.Context, *sdk.Principal, string, []map[string]any) ([]sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) BatchGetRecords(context.Context, *sdk.Principal, string, []string) ([]sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) CreateRecords(context.Context, *sdk.Principal, string, []map[string]any, sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	return nil, unavailable()
}
func (failingHost) UploadFile(context.Context, *sdk.Principal, sdk.FileUpload) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) ReadFile(context.Context, *sdk.Principal, string) (*sdk.File, error) {
	return nil, unavailable()
}
func (failingHost) DeleteFile(context.Context, *sdk.Principal, string) error { return unavailable() }
func (failingHost) RunDataflow(context.Context, *sdk.Principal, string, map[string]any) (*sdk.DataflowResult, error) {
	return nil, unavailable()
}
func (failingHost) VerifyClient(context.Context, string, string) (*sdk.Principal, error) {
	return nil, unavailable()
}
func (failingHost) IssueToken(context.Context, *sdk.Principal, string, []string) (*sdk.Token, error) {
	return nil, unavailable()
}
func (failingHost) RefreshToken(context.Context, string, string) (*sdk.Token, error) {
	return nil, unavailable()
}
func (failingHost) RevokeToken(context.Context, *sdk.Principal, string) error { return unavailable() }
func (failingHost) ResolveToken(context.Context, string) (*sdk.Principal, error) {
	return nil, unavailable()
}
func (failingHost) FindUsers(context.Context, *sdk.Principal, sdk.Query, bool) (sdk.Page, error) {
	return sdk.Page{}, unavailable()
}
func (failingHost) FindDepartments(context.Context, *sdk.Principal, sdk.Query, bool) (sdk.Page, error) {
	return sdk.Page{}, unavailable()
}
func (failingHost) FindRoles(context.Context, *sdk.Principal, sdk.Query, bool) (sdk.Page, error) {
	return sdk.Page{}, unavailable()
}

var _ sdk.Host = failingHost{}

func (failingHost) EntityFind(context.Context, *sdk.Principal, string, sdk.Query, sdk.EntityOptions) (sdk.Page, error) {
	return sdk.Page{}, unavailable()
}
func (failingHost) EntityGet(context.Context, *sdk.Principal, string, string, sdk.EntityOptions) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) EntityCreate(context.Context, *sdk.Principal, string, sdk.Doc) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) EntityUpdate(context.Context, *sdk.Principal, string, string, sdk.Doc, sdk.EntityOptions) (sdk.Doc, error) {
	return nil, unavailable()
}
func (failingHost) EntityDelete(context.Context, *sdk.Principal, string, string, sdk.EntityOptions) error {
	return unavailable()
}
func (failingHost) WorkflowTasks(context.Context, *sdk.Principal, sdk.TaskQuery) (sdk.TaskPage, error) {
	return sdk.TaskPage{}, unavailable()
}
func (failingHost) WorkflowAct(context.Context, *sdk.Principal, sdk.WorkflowAction) (*sdk.WorkflowResult, error) {
	return nil, unavailable()
}
func (failingHost) Aliases(context.Context, *sdk.Principal, sdk.AliasRequest) (*sdk.AliasResult, error) {
	return nil, unavailable()
}

func asError(err error, target **errs.Error) bool { return errors.As(err, target) }

// ConformanceOption tunes Conformance.
type ConformanceOption func(*conformanceOptions)

type conformanceOptions struct{ skip map[string]bool }

// SkipHandle leaves the route "METHOD /path" out of the Handle checks.
func SkipHandle(route string) ConformanceOption {
	return func(o *conformanceOptions) {
		if o.skip == nil {
			o.skip = map[string]bool{}
		}
		o.skip[route] = true
	}
}
