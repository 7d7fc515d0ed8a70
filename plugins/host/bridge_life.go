package host

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/entity"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// collUser is the users' collection (native spec §6.2).
const collUser = "user"

// CreateRecords implements sdk.Host: the records, their drafts or workflow
// instances and the submissions are one store transaction.
func (b *bridge) CreateRecords(ctx context.Context, p *sdk.Principal, form string, data []map[string]any, opts sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if n := len(opts.Initiators); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d initiators for %d records (want none, one, or one per record)", n, len(data)).WithTarget("initiators")
	}
	if n := len(opts.Owners); n > 1 && n != len(data) {
		return nil, errs.Invalidf("%d owners for %d records (want none, one, or one per record)", n, len(data)).WithTarget("owners")
	}
	f, err := b.ents.Form(ctx, cp, form)
	if err != nil {
		return nil, err
	}
	if opts.StartWorkflow {
		if !f.UsingWorkflow {
			return nil, errs.Invalidf("form %s has no workflow", f.Key).WithTarget("form")
		}
		if b.wf == nil {
			return nil, errs.New(errs.Unavailable, "the workflow engine is not available to connectors")
		}
	}
	var out []sdk.CreatedRecord
	err = b.st.Tx(ctx, func(ctx context.Context) error {
		as, err := b.owners(ctx, cp, opts.Owners, len(data))
		if err != nil {
			return err
		}
		docs, err := b.ents.BatchCreateAs(ctx, cp, f.ID, data,
			entity.BatchOptions{As: as, Draft: opts.Draft && !opts.StartWorkflow})
		if err != nil {
			return err
		}
		out = make([]sdk.CreatedRecord, len(docs))
		if !opts.StartWorkflow {
			for i, d := range docs {
				out[i].Record = d
			}
			return nil
		}
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i], _ = d["id"].(string)
			initiator := pick(opts.Initiators, i)
			if initiator == "" && as[i] != nil {
				initiator = as[i].UserID
			}
			inst, err := b.start(ctx, cp, f.ID, ids[i], initiator, opts.Submit)
			if err != nil {
				return err
			}
			out[i].WorkflowInstanceID = inst
		}
		// The starts changed the records (flowStatus, wfInstanceId): read them back.
		fresh, err := b.ents.BatchGet(ctx, cp, f.ID, ids)
		if err != nil {
			return err
		}
		if len(fresh) != len(ids) {
			return errs.Newf(errs.Internal, "created %d records, read back %d", len(ids), len(fresh))
		}
		for i, d := range fresh {
			out[i].Record = d
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// owners resolves CreateOptions.Owners to the principals the records are
// created as: p acting as each user (nil where the owner is p's own user).
func (b *bridge) owners(ctx context.Context, p *principal.Principal, owners []string, n int) ([]*principal.Principal, error) {
	as := make([]*principal.Principal, n)
	seen := map[string]*principal.Principal{}
	for i := range as {
		id := pick(owners, i)
		if id == "" || id == p.UserID {
			continue
		}
		if acting, ok := seen[id]; ok {
			as[i] = acting
			continue
		}
		if !p.IsAdmin() {
			return nil, errs.Forbiddenf("creating records as another user needs a tenant administrator").WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		u, err := b.st.Get(ctx, collUser, p.Tenant, id)
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.Invalidf("user %s not found", id).WithTarget(fmt.Sprintf("owners[%d]", i))
		}
		if err != nil {
			return nil, err
		}
		acting := *p
		acting.UserID = id
		acting.UserCode, _ = u["code"].(string)
		acting.DisplayName, _ = u["empName"].(string)
		acting.Login, _ = u["userName"].(string)
		seen[id], as[i] = &acting, &acting
	}
	return as, nil
}

// pick is item i of a none / one-for-all / one-per-item list ("" for none).
func pick(vals []string, i int) string {
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	return vals[i]
}

// start starts the form's workflow for record id waiting at the start node
// and, when submit, completes the start task as the initiator.
func (b *bridge) start(ctx context.Context, cp *principal.Principal, formID, id, initiator string, submit bool) (string, error) {
	res, err := b.wf.Start(ctx, cp, workflow.StartRequest{Form: formID, BusinessKey: id, Initiator: initiator, AtStart: true})
	if err != nil {
		return "", err
	}
	if submit {
		if len(res.Tasks) != 1 {
			return "", errs.Newf(errs.Internal, "workflow %s started with %d start tasks", res.ID, len(res.Tasks))
		}
		t := res.Tasks[0]
		if _, err := b.wf.Decide(ctx, cp, workflow.DecideRequest{InstanceID: res.ID, TaskID: t.TaskID,
			Result: workflow.ActAgree, Approver: t.AssigneeID}); err != nil {
			return "", err
		}
	}
	return res.ID, nil
}

// UploadFile implements sdk.Host through the files service (the native
// upload's checks and limits).
func (b *bridge) UploadFile(ctx context.Context, p *sdk.Principal, f sdk.FileUpload) (sdk.Doc, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if b.files == nil {
		return nil, errs.New(errs.Unavailable, "file storage is not available to connectors")
	}
	if len(f.Content) > sdk.MaxFileSize {
		return nil, errs.Newf(errs.TooLarge, "file %q is larger than the Host API's %d bytes", f.Name, sdk.MaxFileSize).WithTarget("file")
	}
	docs, err := b.files.Upload(ctx, cp, files.UploadRequest{Folder: f.Folder, IsPublic: f.Public,
		Files: []files.Upload{{FileName: f.Name, Content: bytes.NewReader(f.Content), Size: int64(len(f.Content))}}})
	if err != nil {
		return nil, err
	}
	return fileInfo(docs[0]), nil
}

// ReadFile implements sdk.Host.
func (b *bridge) ReadFile(ctx context.Context, p *sdk.Principal, id string) (*sdk.File, error) {
	cp, err := reader(p)
	if err != nil {
		return nil, err
	}
	if b.files == nil {
		return nil, errs.New(errs.Unavailable, "file storage is not available to connectors")
	}
	meta, err := b.st.Get(ctx, files.CollFile, cp.Tenant, id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return nil, errs.NotFoundf("file %s not found", id).WithTarget("id")
		}
		return nil, err
	}
	f, err := b.files.Open(ctx, cp, id)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Content.Close() }()
	if f.Size > sdk.MaxFileSize {
		return nil, errs.Newf(errs.TooLarge, "file %s is larger than the Host API's %d bytes; download it natively", id, sdk.MaxFileSize)
	}
	content, err := io.ReadAll(io.LimitReader(f.Content, sdk.MaxFileSize+1))
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "read file "+id)
	}
	return &sdk.File{Info: fileInfo(meta), Content: content}, nil
}

// DeleteFile implements sdk.Host (only the file's owner or an admin may).
func (b *bridge) DeleteFile(ctx context.Context, p *sdk.Principal, id string) error {
	cp, err := writer(p)
	if err != nil {
		return err
	}
	if b.files == nil {
		return errs.New(errs.Unavailable, "file storage is not available to connectors")
	}
	return b.files.Delete(ctx, cp, id)
}

// fileInfo is a file document without its storage internals.
func fileInfo(d store.Doc) sdk.Doc {
	out := make(sdk.Doc, len(d))
	for k, v := range d {
		switch k {
		case "savePath", "deleted", "_rev":
			continue
		}
		out[k] = v
	}
	return out
}

// RunDataflow implements sdk.Host through the dataflow engine (the native
// run's sandbox, limits and transaction).
func (b *bridge) RunDataflow(ctx context.Context, p *sdk.Principal, key string, input map[string]any) (*sdk.DataflowResult, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	if b.flows == nil {
		return nil, errs.New(errs.Unavailable, "the dataflow engine is not available to connectors")
	}
	res, err := b.flows.Run(ctx, cp, dataflow.RunRequest{DefinitionID: key, Input: input})
	if err != nil {
		return nil, err
	}
	return &sdk.DataflowResult{ID: res.ID, Status: res.Status, ErrMsg: res.ErrMsg, Output: res.Output}, nil
}
