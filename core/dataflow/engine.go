package dataflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dop251/goja"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
)

// CollDefinition holds dataflow definitions (§6.2 dfdefinition).
const CollDefinition = "dfdefinition"

// PermRunAs lets a caller run a dataflow as another user (§5.1).
const PermRunAs = "dataflow.runAs"

// Run statuses (§5.1).
const (
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Options configure an Engine.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	Limits Limits
	// Can reports whether p holds a permission (PermRunAs). Default:
	// administrators hold every permission.
	Can func(p *principal.Principal, perm string) bool
	// Records is the record core a run reads forms from and applies its
	// writes through (share the process's one). Default: a new one over
	// st (without a workflow engine: removing a record then cancels no
	// instance).
	Records *record.Service
}

// Engine runs dataflows.
type Engine struct {
	st  store.Store
	log *slog.Logger
	now func() time.Time
	lim Limits
	can func(p *principal.Principal, perm string) bool
	rec *record.Service
}

// New returns an Engine over st.
func New(st store.Store, opts Options) *Engine {
	e := &Engine{st: st, log: opts.Logger, now: opts.Now, lim: opts.Limits.withDefaults(), can: opts.Can, rec: opts.Records}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.can == nil {
		e.can = func(p *principal.Principal, _ string) bool { return p.IsAdmin() }
	}
	if e.rec == nil {
		// The run stamps its records with e.now itself (record.Build/Merge).
		e.rec = record.New(st, record.Options{Logger: e.log})
	}
	return e
}

// RunRequest is §5.1's body.
type RunRequest struct {
	// DefinitionID is the definition id or key.
	DefinitionID string
	// Input is inputData (required; exposed to scripts as `input`).
	Input map[string]any
	// Operator is the user the flow acts as ("" = the caller).
	Operator string
}

// RunResult is §5.1's response.
type RunResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	ErrMsg string `json:"errMsg"`
	Output any    `json:"output,omitempty"`
}

// Run runs a dataflow. Errors are returned for requests that cannot run
// (unknown definition 404, invalid input 400, permission 403); a run that
// fails (a script error, a limit, a refused write) returns a RunResult with
// Status "failed" and ErrMsg, and writes nothing.
func (e *Engine) Run(ctx context.Context, p *principal.Principal, req RunRequest) (*RunResult, error) {
	if p == nil || p.Tenant == "" {
		return nil, errs.Unauthorizedf("no caller")
	}
	if req.DefinitionID == "" {
		return nil, errs.Invalidf("dataFlowDefinitionId is required").WithTarget("dataFlowDefinitionId")
	}
	if req.Input == nil {
		return nil, errs.Invalidf("inputData must be an object").WithTarget("inputData")
	}
	op := req.Operator
	if op == "" {
		op = p.UserID
	}
	if op != p.UserID && !e.can(p, PermRunAs) {
		return nil, errs.Forbiddenf("running a dataflow as another user needs the %s permission", PermRunAs)
	}
	inJSON, err := json.Marshal(req.Input)
	if err != nil {
		return nil, errs.Invalidf("inputData is not JSON").WithTarget("inputData")
	}
	if len(inJSON) > e.lim.IO {
		return nil, errs.Newf(errs.TooLarge, "inputData exceeds %d bytes", e.lim.IO).WithTarget("inputData")
	}
	def, err := e.definition(ctx, p.Tenant, req.DefinitionID)
	if err != nil {
		return nil, err
	}
	if err := def.checkInputs(req.Input); err != nil {
		return nil, err
	}
	actor, err := e.actor(ctx, p, op)
	if err != nil {
		return nil, err
	}
	res := &RunResult{ID: store.NewID(), Status: StatusSucceeded}
	runCtx, cancel := context.WithTimeout(ctx, e.lim.Run)
	defer cancel()
	// The scripts run outside any transaction; their writes are applied
	// afterwards in one short one (pending.go).
	output, pend, err := e.execute(runCtx, actor, def, string(inJSON))
	if err == nil {
		err = pend.commit(ctx, e.st, e.rec, actor)
	}
	if err != nil {
		if !scriptFailure(err) {
			return nil, err
		}
		e.log.InfoContext(ctx, "dataflow run failed", "definition", req.DefinitionID, "run", res.ID, "err", err)
		res.Status, res.ErrMsg = StatusFailed, err.Error()
		return res, nil
	}
	res.Output = output
	return res, nil
}

// runError marks a failure of the run itself (reported as status failed).
type runError struct{ msg string }

func (e *runError) Error() string { return e.msg }

// scriptFailure reports whether err is the run's own failure rather than an
// infrastructure error (store unavailable), which is returned as such.
func scriptFailure(err error) bool {
	var re *runError
	if errors.As(err, &re) {
		return true
	}
	switch errs.CodeOf(err) {
	case errs.Unavailable, errs.Conflict:
		return false
	}
	return true
}

// execute runs the nodes in order in a fresh sandbox.
func (e *Engine) execute(ctx context.Context, actor *principal.Principal, def *Definition, input string) (any, *pending, error) {
	out, rec, err := e.executeNodes(ctx, actor, def, input)
	if err != nil {
		return nil, nil, err
	}
	return out, rec.pend, nil
}

func (e *Engine) executeNodes(ctx context.Context, actor *principal.Principal, def *Definition, input string) (any, *records, error) {
	rt, err := newRuntime(e.lim)
	if err != nil {
		return nil, nil, fmt.Errorf("dataflow: sandbox: %w", err)
	}
	// The run's deadline interrupts whatever is running.
	stop := context.AfterFunc(ctx, func() {
		rt.Interrupt(&evalLimit{fmt.Sprintf("run exceeded %s or was cancelled", e.lim.Run)})
	})
	defer stop()
	parse, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("parse"))
	stringify, _ := goja.AssertFunction(rt.Get("JSON").ToObject(rt).Get("stringify"))
	in, err := parse(goja.Undefined(), rt.ToValue(input))
	if err != nil {
		return nil, nil, &runError{"input: " + err.Error()}
	}
	rec := newRecords(ctx, e, rt, actor, parse)
	prev := goja.Null()
	var outJSON string
	for _, n := range def.Nodes {
		what := "node " + n.ID
		v, err := guard(rt, e.lim, what, func() (goja.Value, error) {
			fnv, err := rt.RunProgram(n.prog)
			if err != nil {
				return nil, err
			}
			fn, ok := goja.AssertFunction(fnv)
			if !ok {
				return nil, &runError{what + ": the script is not a function body"}
			}
			v, err := fn(goja.Undefined(), in, prev, rec.obj)
			if err != nil {
				return nil, err
			}
			// JSON is the only way out: results are plain data within the size limit.
			s, err := stringify(goja.Undefined(), v)
			if err != nil {
				return nil, err
			}
			if goja.IsUndefined(s) {
				outJSON = "null"
			} else {
				outJSON = s.String()
			}
			return v, nil
		})
		rt.ClearInterrupt()
		if err != nil {
			if rec.err != nil { // a store outage inside a records call
				return nil, nil, rec.err
			}
			return nil, nil, &runError{scriptMessage(what, err)}
		}
		if len(outJSON) > e.lim.IO {
			return nil, nil, &runError{fmt.Sprintf("%s: result exceeds %d bytes", what, e.lim.IO)}
		}
		prev = v
	}
	var out any
	if err := json.Unmarshal([]byte(outJSON), &out); err != nil {
		return nil, nil, &runError{"output is not JSON: " + err.Error()}
	}
	return out, rec, nil
}

// scriptMessage renders a script error for errMsg.
func scriptMessage(what string, err error) string {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		if el, ok := ie.Value().(*evalLimit); ok {
			return el.msg
		}
		return what + ": interrupted"
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return what + ": call stack exceeded"
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return what + ": " + ex.Value().String()
	}
	return what + ": " + err.Error()
}

// actor is the principal the flow acts as.
func (e *Engine) actor(ctx context.Context, p *principal.Principal, id string) (*principal.Principal, error) {
	if id == p.UserID {
		return p, nil
	}
	u, err := e.st.Get(ctx, "user", p.Tenant, id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.Invalidf("operator %s is not a user of this tenant", id).WithTarget("operator")
		}
		return nil, err
	}
	a := &principal.Principal{Tenant: p.Tenant, UserID: id, ClientID: p.ClientID, Scopes: p.Scopes}
	a.UserCode, _ = u["code"].(string)
	a.DisplayName, _ = u["empName"].(string)
	a.Login, _ = u["userName"].(string)
	if roles, ok := u["roles"].([]any); ok {
		for _, r := range roles {
			if m, ok := r.(map[string]any); ok {
				if c, ok := m["roleCode"].(string); ok {
					a.Roles = append(a.Roles, c)
				}
			}
		}
	}
	return a, nil
}

// definition loads a definition by id, else by key (highest version).
func (e *Engine) definition(ctx context.Context, tenant, ref string) (*Definition, error) {
	d, err := e.st.Get(ctx, CollDefinition, tenant, ref)
	if errs.CodeOf(err) == errs.NotFound {
		found, ferr := e.st.Find(ctx, CollDefinition, tenant, query.Query{
			Filter: query.Cmp{Path: query.Path{"key"}, Op: query.Eq, Value: ref},
			Sort:   []query.Sort{{Path: query.Path{"version"}, Desc: true}}, Limit: 1})
		if ferr != nil {
			return nil, ferr
		}
		if len(found) == 0 {
			return nil, errs.NotFoundf("dataflow definition %s not found", ref).WithTarget("dataFlowDefinitionId")
		}
		d, err = found[0], nil
	}
	if err != nil {
		return nil, err
	}
	return ParseDefinition(d["content"])
}
