package sdktest

import (
	"context"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/plugins/sdk"
	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
)

// SwitchHost is the Host API a test serves to a connector's plugin
// process: it forwards every call to the host Set last (the host of the
// request in flight), so golden files can give each request its own
// RecordingHost. It offers sdk.DialectTokenStore and
// sdk.WorkflowInspector too, forwarded when that host offers them and
// Unavailable otherwise.
type SwitchHost struct {
	mu sync.Mutex
	h  sdk.Host
}

// Set installs the host calls are forwarded to (nil between requests).
func (s *SwitchHost) Set(h sdk.Host) { s.mu.Lock(); s.h = h; s.mu.Unlock() }

func (s *SwitchHost) get() sdk.Host { s.mu.Lock(); defer s.mu.Unlock(); return s.h }

var (
	_ sdk.Host              = (*SwitchHost)(nil)
	_ sdk.DialectTokenStore = (*SwitchHost)(nil)
	_ sdk.WorkflowInspector = (*SwitchHost)(nil)
)

func (s *SwitchHost) ListForms(ctx context.Context, p *sdk.Principal) ([]sdk.Form, error) {
	return s.get().ListForms(ctx, p)
}
func (s *SwitchHost) GetForm(ctx context.Context, p *sdk.Principal, k string) (*sdk.Form, error) {
	return s.get().GetForm(ctx, p, k)
}
func (s *SwitchHost) GetRecord(ctx context.Context, p *sdk.Principal, f, id string, o ...sdk.ReadOption) (sdk.Doc, error) {
	return s.get().GetRecord(ctx, p, f, id, o...)
}
func (s *SwitchHost) FindRecords(ctx context.Context, p *sdk.Principal, f string, q sdk.Query, c bool, o ...sdk.ReadOption) (sdk.Page, error) {
	return s.get().FindRecords(ctx, p, f, q, c, o...)
}
func (s *SwitchHost) EntityFind(ctx context.Context, p *sdk.Principal, e string, q sdk.Query, o sdk.EntityOptions) (sdk.Page, error) {
	return s.get().EntityFind(ctx, p, e, q, o)
}
func (s *SwitchHost) EntityGet(ctx context.Context, p *sdk.Principal, e, id string, o sdk.EntityOptions) (sdk.Doc, error) {
	return s.get().EntityGet(ctx, p, e, id, o)
}
func (s *SwitchHost) EntityCreate(ctx context.Context, p *sdk.Principal, e string, b sdk.Doc) (sdk.Doc, error) {
	return s.get().EntityCreate(ctx, p, e, b)
}
func (s *SwitchHost) EntityUpdate(ctx context.Context, p *sdk.Principal, e, id string, b sdk.Doc, o sdk.EntityOptions) (sdk.Doc, error) {
	return s.get().EntityUpdate(ctx, p, e, id, b, o)
}
func (s *SwitchHost) EntityDelete(ctx context.Context, p *sdk.Principal, e, id string, o sdk.EntityOptions) error {
	return s.get().EntityDelete(ctx, p, e, id, o)
}
func (s *SwitchHost) WorkflowTasks(ctx context.Context, p *sdk.Principal, q sdk.TaskQuery) (sdk.TaskPage, error) {
	return s.get().WorkflowTasks(ctx, p, q)
}
func (s *SwitchHost) WorkflowAct(ctx context.Context, p *sdk.Principal, a sdk.WorkflowAction) (*sdk.WorkflowResult, error) {
	return s.get().WorkflowAct(ctx, p, a)
}
func (s *SwitchHost) Aliases(ctx context.Context, p *sdk.Principal, r sdk.AliasRequest) (*sdk.AliasResult, error) {
	return s.get().Aliases(ctx, p, r)
}
func (s *SwitchHost) CreateRecord(ctx context.Context, p *sdk.Principal, f string, d map[string]any) (sdk.Doc, error) {
	return s.get().CreateRecord(ctx, p, f, d)
}
func (s *SwitchHost) UpdateRecord(ctx context.Context, p *sdk.Principal, f, id string, d map[string]any, o ...sdk.WriteOption) (sdk.Doc, error) {
	return s.get().UpdateRecord(ctx, p, f, id, d, o...)
}
func (s *SwitchHost) DeleteRecord(ctx context.Context, p *sdk.Principal, f, id string) error {
	return s.get().DeleteRecord(ctx, p, f, id)
}
func (s *SwitchHost) BatchCreateRecords(ctx context.Context, p *sdk.Principal, f string, d []map[string]any) ([]sdk.Doc, error) {
	return s.get().BatchCreateRecords(ctx, p, f, d)
}
func (s *SwitchHost) BatchGetRecords(ctx context.Context, p *sdk.Principal, f string, ids []string) ([]sdk.Doc, error) {
	return s.get().BatchGetRecords(ctx, p, f, ids)
}
func (s *SwitchHost) CreateRecords(ctx context.Context, p *sdk.Principal, f string, d []map[string]any, o sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	return s.get().CreateRecords(ctx, p, f, d, o)
}
func (s *SwitchHost) UploadFile(ctx context.Context, p *sdk.Principal, f sdk.FileUpload) (sdk.Doc, error) {
	return s.get().UploadFile(ctx, p, f)
}
func (s *SwitchHost) ReadFile(ctx context.Context, p *sdk.Principal, id string) (*sdk.File, error) {
	return s.get().ReadFile(ctx, p, id)
}
func (s *SwitchHost) DeleteFile(ctx context.Context, p *sdk.Principal, id string) error {
	return s.get().DeleteFile(ctx, p, id)
}
func (s *SwitchHost) RunDataflow(ctx context.Context, p *sdk.Principal, key string, in map[string]any) (*sdk.DataflowResult, error) {
	return s.get().RunDataflow(ctx, p, key, in)
}
func (s *SwitchHost) VerifyClient(ctx context.Context, id, sec string) (*sdk.Principal, error) {
	return s.get().VerifyClient(ctx, id, sec)
}
func (s *SwitchHost) IssueToken(ctx context.Context, p *sdk.Principal, u string, sc []string) (*sdk.Token, error) {
	return s.get().IssueToken(ctx, p, u, sc)
}
func (s *SwitchHost) RefreshToken(ctx context.Context, id, rt string) (*sdk.Token, error) {
	return s.get().RefreshToken(ctx, id, rt)
}
func (s *SwitchHost) RevokeToken(ctx context.Context, p *sdk.Principal, tok string) error {
	return s.get().RevokeToken(ctx, p, tok)
}
func (s *SwitchHost) ResolveToken(ctx context.Context, tok string) (*sdk.Principal, error) {
	return s.get().ResolveToken(ctx, tok)
}
func (s *SwitchHost) FindUsers(ctx context.Context, p *sdk.Principal, q sdk.Query, c bool) (sdk.Page, error) {
	return s.get().FindUsers(ctx, p, q, c)
}
func (s *SwitchHost) FindDepartments(ctx context.Context, p *sdk.Principal, q sdk.Query, c bool) (sdk.Page, error) {
	return s.get().FindDepartments(ctx, p, q, c)
}
func (s *SwitchHost) FindRoles(ctx context.Context, p *sdk.Principal, q sdk.Query, c bool) (sdk.Page, error) {
	return s.get().FindRoles(ctx, p, q, c)
}

func (s *SwitchHost) dialectTokens() (sdk.DialectTokenStore, error) {
	ts, ok := s.get().(sdk.DialectTokenStore)
	if !ok {
		return nil, errs.New(errs.Unavailable, "the request's host offers no dialect token store")
	}
	return ts, nil
}
func (s *SwitchHost) IssueDialectToken(ctx context.Context, p *sdk.Principal, u string, spec sdk.DialectTokenSpec, a map[string]string) (*sdk.DialectToken, error) {
	ts, err := s.dialectTokens()
	if err != nil {
		return nil, err
	}
	return ts.IssueDialectToken(ctx, p, u, spec, a)
}
func (s *SwitchHost) ResolveDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, tok, limit string) (*sdk.DialectToken, error) {
	ts, err := s.dialectTokens()
	if err != nil {
		return nil, err
	}
	return ts.ResolveDialectToken(ctx, spec, tok, limit)
}
func (s *SwitchHost) RefreshDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, tok, rt string) (*sdk.DialectToken, error) {
	ts, err := s.dialectTokens()
	if err != nil {
		return nil, err
	}
	return ts.RefreshDialectToken(ctx, spec, tok, rt)
}
func (s *SwitchHost) TouchDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, tok string, a map[string]string, renew bool) (*sdk.DialectToken, error) {
	ts, err := s.dialectTokens()
	if err != nil {
		return nil, err
	}
	return ts.TouchDialectToken(ctx, spec, tok, a, renew)
}
func (s *SwitchHost) RevokeDialectToken(ctx context.Context, spec sdk.DialectTokenSpec, tok string) error {
	ts, err := s.dialectTokens()
	if err != nil {
		return err
	}
	return ts.RevokeDialectToken(ctx, spec, tok)
}

// WorkflowInspect passes sdk.WorkflowInspector through to the request's
// host.
func (s *SwitchHost) WorkflowInspect(ctx context.Context, p *sdk.Principal, q sdk.InspectQuery) (*sdk.Inspection, error) {
	wi, ok := s.get().(sdk.WorkflowInspector)
	if !ok {
		return nil, sdk.Errorf(sdk.Unavailable, "the host cannot inspect workflow instances")
	}
	return wi.WorkflowInspect(ctx, p, q)
}

// StartPlugin launches a connector as a real plugin process: this test
// binary re-executed with env=1 set (its TestMain then calls sdk.Serve, the
// helperProcess pattern), with host as the Host API served to it. It
// returns the dispensed connector (not yet described or configured) and
// the plugin's process id; the process is killed when t ends.
func StartPlugin(t testing.TB, env string, host sdk.Host) (*sdk.RemoteConnector, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env+"=1")
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.PluginSets(&sdk.GRPCPlugin{Host: host}),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: io.Discard}),
	})
	t.Cleanup(client.Kill)
	proto, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	raw, err := proto.Dispense(sdk.PluginName)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	pid := 0
	if rcfg := client.ReattachConfig(); rcfg != nil {
		pid = rcfg.Pid
	}
	return raw.(*sdk.RemoteConnector), pid
}
