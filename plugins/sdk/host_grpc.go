package sdk

import (
	"context"

	pb "github.com/eimshub/eimshub/plugins/proto"
)

// This file is the Host API on the wire: hostClient (plugin side, an
// ordinary Host over gRPC) and hostServer (host side, gRPC over a Host).
// Each Host method is exactly one round trip.

var (
	to   = ToProto()
	from = FromProto()
)

// ---- plugin side ----

type hostClient struct {
	c     pb.HostClient
	forms formMemory
}

func (h *hostClient) ListForms(ctx context.Context, p *Principal) ([]Form, error) {
	res, err := h.c.ListForms(ctx, &pb.ListFormsRequest{Principal: to.Principal(p)})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	out := make([]Form, 0, len(res.Forms))
	for _, pf := range res.Forms {
		f, err := from.Form(pf)
		if err != nil {
			return nil, err
		}
		out = append(out, *f)
	}
	return out, nil
}

func (h *hostClient) GetForm(ctx context.Context, p *Principal, keyOrID string) (*Form, error) {
	res, err := h.c.GetForm(ctx, &pb.GetFormRequest{Principal: to.Principal(p), KeyOrId: keyOrID})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	f, err := from.Form(res.Form)
	if err == nil {
		h.forms.put(p, keyOrID, f)
	}
	return f, err
}

func docResult(res *pb.DocResponse, err error) (Doc, error) {
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	return from.Doc(res.Doc)
}

func docsResult(res *pb.DocsResponse, err error) ([]Doc, int64, error) {
	if err != nil {
		return nil, 0, TransportError(err)
	}
	if res.Error != nil {
		return nil, 0, from.Error(res.Error)
	}
	docs, derr := from.Docs(res.Docs)
	return docs, res.Total, derr
}

func pageResult(res *pb.DocsResponse, err error) (Page, error) {
	docs, total, err := docsResult(res, err)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: docs, Total: total}, nil
}

func errResult(res *pb.ErrorResponse, err error) error {
	if err != nil {
		return TransportError(err)
	}
	return from.ErrorOrNil(res.Error)
}

func principalResult(res *pb.PrincipalResponse, err error) (*Principal, error) {
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	return from.Principal(res.Principal), nil
}

func tokenResult(res *pb.TokenResponse, err error) (*Token, error) {
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	return from.Token(res.Token), nil
}

func (h *hostClient) GetRecord(ctx context.Context, p *Principal, form, id string, opts ...ReadOption) (Doc, error) {
	o := ReadOpts(opts...)
	return docResult(h.c.GetRecord(ctx, &pb.RecordRequest{Principal: to.Principal(p), Form: form, Id: id, Expand: o.Expand}))
}

func (h *hostClient) FindRecords(ctx context.Context, p *Principal, form string, q Query, count bool, opts ...ReadOption) (Page, error) {
	pq, err := to.Query(q)
	if err != nil {
		return Page{}, err
	}
	o := ReadOpts(opts...)
	req := &pb.FindRecordsRequest{Principal: to.Principal(p), Form: form, Query: pq, Count: count,
		Expand: o.Expand, WithForm: o.Form, Aliases: o.Aliases}
	var known *Form
	if o.Form {
		if known = h.forms.get(p, form); known != nil {
			req.KnownFormId, req.KnownFormVersion = known.ID, known.Version
		}
	}
	res, err := h.c.FindRecords(ctx, req)
	pg, err := pageResult(res, err)
	if err != nil {
		return pg, err
	}
	if len(res.Aliases) > 0 {
		pg.Aliases = make(map[string]map[string]string, len(res.Aliases))
		for kind, m := range res.Aliases {
			pg.Aliases[kind] = m.GetToExt()
		}
	}
	if res.Form == nil {
		return pg, nil
	}
	if pg.Form, err = h.forms.pageForm(p, form, res, known); err != nil {
		return Page{}, err
	}
	return pg, nil
}

func (h *hostClient) CreateRecord(ctx context.Context, p *Principal, form string, data map[string]any) (Doc, error) {
	b, err := to.Doc(data)
	if err != nil {
		return nil, err
	}
	return docResult(h.c.CreateRecord(ctx, &pb.WriteRecordRequest{Principal: to.Principal(p), Form: form, Data: b}))
}

func (h *hostClient) UpdateRecord(ctx context.Context, p *Principal, form, id string, data map[string]any, opts ...WriteOption) (Doc, error) {
	b, err := to.Doc(data)
	if err != nil {
		return nil, err
	}
	return docResult(h.c.UpdateRecord(ctx, &pb.WriteRecordRequest{Principal: to.Principal(p), Form: form, Id: id, Data: b,
		FormVersion: WriteOpts(opts...).FormVersion}))
}

func (h *hostClient) DeleteRecord(ctx context.Context, p *Principal, form, id string) error {
	return errResult(h.c.DeleteRecord(ctx, &pb.RecordRequest{Principal: to.Principal(p), Form: form, Id: id}))
}

func (h *hostClient) BatchCreateRecords(ctx context.Context, p *Principal, form string, data []map[string]any) ([]Doc, error) {
	bs, err := to.Docs(data)
	if err != nil {
		return nil, err
	}
	docs, _, err := docsResult(h.c.BatchCreateRecords(ctx, &pb.BatchCreateRequest{Principal: to.Principal(p), Form: form, Data: bs}))
	return docs, err
}

func (h *hostClient) BatchGetRecords(ctx context.Context, p *Principal, form string, ids []string) ([]Doc, error) {
	docs, _, err := docsResult(h.c.BatchGetRecords(ctx, &pb.BatchGetRequest{Principal: to.Principal(p), Form: form, Ids: ids}))
	return docs, err
}

func (h *hostClient) VerifyClient(ctx context.Context, clientID, secret string) (*Principal, error) {
	return principalResult(h.c.VerifyClient(ctx, &pb.VerifyClientRequest{ClientId: clientID, Secret: secret}))
}

func (h *hostClient) IssueToken(ctx context.Context, p *Principal, userID string, scopes []string) (*Token, error) {
	return tokenResult(h.c.IssueToken(ctx, &pb.IssueTokenRequest{Principal: to.Principal(p), UserId: userID, Scopes: scopes}))
}

func (h *hostClient) RefreshToken(ctx context.Context, clientID, refreshToken string) (*Token, error) {
	return tokenResult(h.c.RefreshToken(ctx, &pb.RefreshTokenRequest{ClientId: clientID, RefreshToken: refreshToken}))
}

func (h *hostClient) RevokeToken(ctx context.Context, p *Principal, token string) error {
	return errResult(h.c.RevokeToken(ctx, &pb.RevokeTokenRequest{Principal: to.Principal(p), Token: token}))
}

func (h *hostClient) ResolveToken(ctx context.Context, token string) (*Principal, error) {
	return principalResult(h.c.ResolveToken(ctx, &pb.ResolveTokenRequest{Token: token}))
}

func (h *hostClient) directory(ctx context.Context, call func(context.Context, *pb.DirectoryRequest) (*pb.DocsResponse, error), p *Principal, q Query, count bool) (Page, error) {
	pq, err := to.Query(q)
	if err != nil {
		return Page{}, err
	}
	return pageResult(call(ctx, &pb.DirectoryRequest{Principal: to.Principal(p), Query: pq, Count: count}))
}

func (h *hostClient) FindUsers(ctx context.Context, p *Principal, q Query, count bool) (Page, error) {
	return h.directory(ctx, func(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
		return h.c.FindUsers(ctx, r)
	}, p, q, count)
}

func (h *hostClient) FindDepartments(ctx context.Context, p *Principal, q Query, count bool) (Page, error) {
	return h.directory(ctx, func(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
		return h.c.FindDepartments(ctx, r)
	}, p, q, count)
}

func (h *hostClient) FindRoles(ctx context.Context, p *Principal, q Query, count bool) (Page, error) {
	return h.directory(ctx, func(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
		return h.c.FindRoles(ctx, r)
	}, p, q, count)
}

var _ Host = (*hostClient)(nil)

// ---- host side ----

type hostServer struct {
	pb.UnimplementedHostServer
	h Host
}

func hostErr(err error) *pb.Error { return to.Error(err, pb.Source_SOURCE_HOST) }

func (s *hostServer) ListForms(ctx context.Context, r *pb.ListFormsRequest) (*pb.FormsResponse, error) {
	forms, err := s.h.ListForms(ctx, from.Principal(r.Principal))
	if err != nil {
		return &pb.FormsResponse{Error: hostErr(err)}, nil
	}
	out := &pb.FormsResponse{Forms: make([]*pb.Form, 0, len(forms))}
	for i := range forms {
		pf, err := to.Form(&forms[i])
		if err != nil {
			return &pb.FormsResponse{Error: hostErr(err)}, nil
		}
		out.Forms = append(out.Forms, pf)
	}
	return out, nil
}

func (s *hostServer) GetForm(ctx context.Context, r *pb.GetFormRequest) (*pb.FormResponse, error) {
	f, err := s.h.GetForm(ctx, from.Principal(r.Principal), r.KeyOrId)
	if err != nil {
		return &pb.FormResponse{Error: hostErr(err)}, nil
	}
	pf, err := to.Form(f)
	if err != nil {
		return &pb.FormResponse{Error: hostErr(err)}, nil
	}
	return &pb.FormResponse{Form: pf}, nil
}

func docResponse(d Doc, err error) (*pb.DocResponse, error) {
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	b, err := to.Doc(d)
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	return &pb.DocResponse{Doc: b}, nil
}

func docsResponse(ds []Doc, total int64, err error) (*pb.DocsResponse, error) {
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	bs, err := to.Docs(ds)
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	return &pb.DocsResponse{Docs: bs, Total: total}, nil
}

func pageResponse(pg Page, err error) (*pb.DocsResponse, error) {
	return docsResponse(pg.Items, pg.Total, err)
}

func principalResponse(p *Principal, err error) (*pb.PrincipalResponse, error) {
	if err != nil {
		return &pb.PrincipalResponse{Error: hostErr(err)}, nil
	}
	return &pb.PrincipalResponse{Principal: to.Principal(p)}, nil
}

func tokenResponse(t *Token, err error) (*pb.TokenResponse, error) {
	if err != nil {
		return &pb.TokenResponse{Error: hostErr(err)}, nil
	}
	return &pb.TokenResponse{Token: to.Token(t)}, nil
}

func (s *hostServer) GetRecord(ctx context.Context, r *pb.RecordRequest) (*pb.DocResponse, error) {
	var opts []ReadOption
	if r.Expand != "" {
		opts = append(opts, Expand(r.Expand))
	}
	return docResponse(s.h.GetRecord(ctx, from.Principal(r.Principal), r.Form, r.Id, opts...))
}

func (s *hostServer) FindRecords(ctx context.Context, r *pb.FindRecordsRequest) (*pb.DocsResponse, error) {
	q, err := from.Query(r.Query)
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	var opts []ReadOption
	if r.Expand != "" {
		opts = append(opts, Expand(r.Expand))
	}
	if r.WithForm {
		opts = append(opts, WithForm())
	}
	if r.Aliases != "" {
		opts = append(opts, WithAliases(r.Aliases))
	}
	pg, err := s.h.FindRecords(ctx, from.Principal(r.Principal), r.Form, q, r.Count, opts...)
	res, _ := pageResponse(pg, err)
	if err == nil && len(pg.Aliases) > 0 {
		res.Aliases = make(map[string]*pb.AliasMap, len(pg.Aliases))
		for kind, m := range pg.Aliases {
			res.Aliases[kind] = &pb.AliasMap{ToExt: m}
		}
	}
	if pf := unchangedForm(pg.Form, r); err == nil && pf != nil {
		res.Form, res.FormUnchanged = pf, true
	} else if err == nil && pg.Form != nil {
		pf, ferr := to.Form(pg.Form)
		if ferr != nil {
			return &pb.DocsResponse{Error: hostErr(ferr)}, nil
		}
		res.Form = pf
	}
	return res, nil
}

func (s *hostServer) CreateRecord(ctx context.Context, r *pb.WriteRecordRequest) (*pb.DocResponse, error) {
	data, err := from.Doc(r.Data)
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	return docResponse(s.h.CreateRecord(ctx, from.Principal(r.Principal), r.Form, data))
}

func (s *hostServer) UpdateRecord(ctx context.Context, r *pb.WriteRecordRequest) (*pb.DocResponse, error) {
	data, err := from.Doc(r.Data)
	if err != nil {
		return &pb.DocResponse{Error: hostErr(err)}, nil
	}
	var opts []WriteOption
	if r.FormVersion != 0 {
		opts = append(opts, IfFormVersion(r.FormVersion))
	}
	return docResponse(s.h.UpdateRecord(ctx, from.Principal(r.Principal), r.Form, r.Id, data, opts...))
}

func (s *hostServer) DeleteRecord(ctx context.Context, r *pb.RecordRequest) (*pb.ErrorResponse, error) {
	if err := s.h.DeleteRecord(ctx, from.Principal(r.Principal), r.Form, r.Id); err != nil {
		return &pb.ErrorResponse{Error: hostErr(err)}, nil
	}
	return &pb.ErrorResponse{}, nil
}

func (s *hostServer) BatchCreateRecords(ctx context.Context, r *pb.BatchCreateRequest) (*pb.DocsResponse, error) {
	data, err := from.Docs(r.Data)
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	docs, err := s.h.BatchCreateRecords(ctx, from.Principal(r.Principal), r.Form, data)
	return docsResponse(docs, -1, err)
}

func (s *hostServer) BatchGetRecords(ctx context.Context, r *pb.BatchGetRequest) (*pb.DocsResponse, error) {
	docs, err := s.h.BatchGetRecords(ctx, from.Principal(r.Principal), r.Form, r.Ids)
	return docsResponse(docs, -1, err)
}

func (s *hostServer) VerifyClient(ctx context.Context, r *pb.VerifyClientRequest) (*pb.PrincipalResponse, error) {
	return principalResponse(s.h.VerifyClient(ctx, r.ClientId, r.Secret))
}

func (s *hostServer) IssueToken(ctx context.Context, r *pb.IssueTokenRequest) (*pb.TokenResponse, error) {
	return tokenResponse(s.h.IssueToken(ctx, from.Principal(r.Principal), r.UserId, r.Scopes))
}

func (s *hostServer) RefreshToken(ctx context.Context, r *pb.RefreshTokenRequest) (*pb.TokenResponse, error) {
	return tokenResponse(s.h.RefreshToken(ctx, r.ClientId, r.RefreshToken))
}

func (s *hostServer) RevokeToken(ctx context.Context, r *pb.RevokeTokenRequest) (*pb.ErrorResponse, error) {
	if err := s.h.RevokeToken(ctx, from.Principal(r.Principal), r.Token); err != nil {
		return &pb.ErrorResponse{Error: hostErr(err)}, nil
	}
	return &pb.ErrorResponse{}, nil
}

func (s *hostServer) ResolveToken(ctx context.Context, r *pb.ResolveTokenRequest) (*pb.PrincipalResponse, error) {
	return principalResponse(s.h.ResolveToken(ctx, r.Token))
}

func (s *hostServer) directory(ctx context.Context, find func(context.Context, *Principal, Query, bool) (Page, error), r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
	q, err := from.Query(r.Query)
	if err != nil {
		return &pb.DocsResponse{Error: hostErr(err)}, nil
	}
	return pageResponse(find(ctx, from.Principal(r.Principal), q, r.Count))
}

func (s *hostServer) FindUsers(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
	return s.directory(ctx, s.h.FindUsers, r)
}

func (s *hostServer) FindDepartments(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
	return s.directory(ctx, s.h.FindDepartments, r)
}

func (s *hostServer) FindRoles(ctx context.Context, r *pb.DirectoryRequest) (*pb.DocsResponse, error) {
	return s.directory(ctx, s.h.FindRoles, r)
}

var _ pb.HostServer = (*hostServer)(nil)

// ---- lifecycle and files (both sides) ----

func (h *hostClient) CreateRecords(ctx context.Context, p *Principal, form string, data []map[string]any, opts CreateOptions) ([]CreatedRecord, error) {
	bs, err := to.Docs(data)
	if err != nil {
		return nil, err
	}
	res, err := h.c.CreateRecords(ctx, &pb.CreateRecordsRequest{Principal: to.Principal(p), Form: form, Data: bs,
		Draft: opts.Draft, StartWorkflow: opts.StartWorkflow, Submit: opts.Submit, Initiators: opts.Initiators,
		Owners: opts.Owners, FormVersion: opts.FormVersion})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	out := make([]CreatedRecord, len(res.Records))
	for i, r := range res.Records {
		d, err := from.Doc(r.Doc)
		if err != nil {
			return nil, err
		}
		out[i] = CreatedRecord{Record: d, WorkflowInstanceID: r.WorkflowInstanceId}
	}
	return out, nil
}

func (h *hostClient) UploadFile(ctx context.Context, p *Principal, f FileUpload) (Doc, error) {
	if len(f.Content) > MaxFileSize {
		return nil, Errorf(TooLarge, "file %q is larger than the Host API's %d bytes", f.Name, MaxFileSize)
	}
	return docResult(h.c.UploadFile(ctx, &pb.UploadFileRequest{Principal: to.Principal(p), Name: f.Name,
		Folder: f.Folder, Public: f.Public, Content: f.Content}))
}

func (h *hostClient) ReadFile(ctx context.Context, p *Principal, id string) (*File, error) {
	res, err := h.c.ReadFile(ctx, &pb.FileRequest{Principal: to.Principal(p), Id: id})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	info, err := from.Doc(res.Info)
	if err != nil {
		return nil, err
	}
	return &File{Info: info, Content: res.Content}, nil
}

func (h *hostClient) DeleteFile(ctx context.Context, p *Principal, id string) error {
	return errResult(h.c.DeleteFile(ctx, &pb.FileRequest{Principal: to.Principal(p), Id: id}))
}

func (s *hostServer) CreateRecords(ctx context.Context, r *pb.CreateRecordsRequest) (*pb.CreateRecordsResponse, error) {
	data, err := from.Docs(r.Data)
	if err != nil {
		return &pb.CreateRecordsResponse{Error: hostErr(err)}, nil
	}
	recs, err := s.h.CreateRecords(ctx, from.Principal(r.Principal), r.Form, data, CreateOptions{Draft: r.Draft,
		StartWorkflow: r.StartWorkflow, Submit: r.Submit, Initiators: r.Initiators, Owners: r.Owners,
		FormVersion: r.FormVersion})
	if err != nil {
		return &pb.CreateRecordsResponse{Error: hostErr(err)}, nil
	}
	out := make([]*pb.CreatedRecord, len(recs))
	for i, rec := range recs {
		b, err := to.Doc(rec.Record)
		if err != nil {
			return &pb.CreateRecordsResponse{Error: hostErr(err)}, nil
		}
		out[i] = &pb.CreatedRecord{Doc: b, WorkflowInstanceId: rec.WorkflowInstanceID}
	}
	return &pb.CreateRecordsResponse{Records: out}, nil
}

func (s *hostServer) UploadFile(ctx context.Context, r *pb.UploadFileRequest) (*pb.DocResponse, error) {
	return docResponse(s.h.UploadFile(ctx, from.Principal(r.Principal), FileUpload{Name: r.Name, Folder: r.Folder,
		Public: r.Public, Content: r.Content}))
}

func (s *hostServer) ReadFile(ctx context.Context, r *pb.FileRequest) (*pb.FileResponse, error) {
	f, err := s.h.ReadFile(ctx, from.Principal(r.Principal), r.Id)
	if err != nil {
		return &pb.FileResponse{Error: hostErr(err)}, nil
	}
	b, err := to.Doc(f.Info)
	if err != nil {
		return &pb.FileResponse{Error: hostErr(err)}, nil
	}
	return &pb.FileResponse{Info: b, Content: f.Content}, nil
}

func (s *hostServer) DeleteFile(ctx context.Context, r *pb.FileRequest) (*pb.ErrorResponse, error) {
	if err := s.h.DeleteFile(ctx, from.Principal(r.Principal), r.Id); err != nil {
		return &pb.ErrorResponse{Error: hostErr(err)}, nil
	}
	return &pb.ErrorResponse{}, nil
}

func (h *hostClient) RunDataflow(ctx context.Context, p *Principal, key string, input map[string]any) (*DataflowResult, error) {
	b, err := to.Doc(input)
	if err != nil {
		return nil, err
	}
	res, err := h.c.RunDataflow(ctx, &pb.RunDataflowRequest{Principal: to.Principal(p), Key: key, Input: b})
	if err != nil {
		return nil, TransportError(err)
	}
	if res.Error != nil {
		return nil, from.Error(res.Error)
	}
	out := &DataflowResult{ID: res.Id, Status: res.Status, ErrMsg: res.ErrMsg}
	if len(res.Output) > 0 {
		if out.Output, err = from.JSONValue(res.Output); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *hostServer) RunDataflow(ctx context.Context, r *pb.RunDataflowRequest) (*pb.RunDataflowResponse, error) {
	input, err := from.Doc(r.Input)
	if err != nil {
		return &pb.RunDataflowResponse{Error: hostErr(err)}, nil
	}
	res, err := s.h.RunDataflow(ctx, from.Principal(r.Principal), r.Key, input)
	if err != nil {
		return &pb.RunDataflowResponse{Error: hostErr(err)}, nil
	}
	out := &pb.RunDataflowResponse{Id: res.ID, Status: res.Status, ErrMsg: res.ErrMsg}
	if res.Output != nil {
		if out.Output, err = to.JSONValue(res.Output); err != nil {
			return &pb.RunDataflowResponse{Error: hostErr(err)}, nil
		}
	}
	return out, nil
}
