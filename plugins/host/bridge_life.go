package host

import (
	"bytes"
	"context"
	"io"

	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/plugins/sdk"
)

// CreateRecords implements sdk.Host: record.Service.CreateMany through the
// entity service (the records, their drafts or workflow instances and the
// submissions are one store transaction; the rules are the record core's).
func (b *bridge) CreateRecords(ctx context.Context, p *sdk.Principal, form string, data []map[string]any, opts sdk.CreateOptions) ([]sdk.CreatedRecord, error) {
	cp, err := writer(p)
	if err != nil {
		return nil, err
	}
	created, err := b.ents.CreateRecords(ctx, cp, form, data, record.ManyOptions{Owners: opts.Owners,
		Initiators: opts.Initiators, Draft: opts.Draft, StartWorkflow: opts.StartWorkflow, Submit: opts.Submit,
		FormVersion: opts.FormVersion})
	if err != nil {
		return nil, err
	}
	out := make([]sdk.CreatedRecord, len(created))
	for i, c := range created {
		out[i] = sdk.CreatedRecord{Record: c.Record, WorkflowInstanceID: c.InstanceID}
	}
	return out, nil
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
		case "savePath", "thumbPath", "deleted", "_rev": // thumbPath = savePath, a capability URL (spec §12.12)
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
