package files

import (
	"context"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Collections of the records that may reference files (spec §6.2).
const (
	collForm   = "form"
	collRecord = "formdata"
)

// mayRead decides whether p may read the file d (spec §3.2, core/access): a
// public file is public; a private one is readable by its uploader, tenant
// administrators, and users who can read a record that references it (a
// fileupload/imageupload value, also inside a child table). Anyone else gets
// NotFound, as for an unknown id.
func (s *Service) mayRead(ctx context.Context, p *principal.Principal, d store.Doc) error {
	if pub, _ := d["isPublic"].(bool); pub || access.IsOwner(p, d) || p.IsAdmin() {
		return nil
	}
	id, _ := d["id"].(string)
	ok, err := s.referenced(ctx, p, id)
	if err != nil {
		return err
	}
	if !ok {
		return errs.NotFoundf("file %s not found", id)
	}
	return nil
}

// referenced reports whether a record p can read (its tenant, its data
// scope) references file id.
func (s *Service) referenced(ctx context.Context, p *principal.Principal, id string) (bool, error) {
	forms, err := s.st.Find(ctx, collForm, p.Tenant, query.Query{Limit: -1})
	if err != nil {
		return false, err
	}
	ref := query.Cmp{Path: query.Path{"id"}, Op: query.Eq, Value: id}
	var perForm []query.Expr
	for _, doc := range forms {
		f, err := schema.FormFromDoc(doc)
		if err != nil {
			continue // a form with invalid content has no usable file fields
		}
		var fields []query.Expr
		for _, fd := range f.Fields {
			switch fd.Type {
			case schema.FileUpload, schema.ImageUpload:
				fields = append(fields, query.AnyRow{Array: query.Path{"data", fd.Field}, Pred: ref})
			case schema.TableForm:
				for _, c := range fd.Columns {
					if c.Type == schema.FileUpload || c.Type == schema.ImageUpload {
						fields = append(fields, query.AnyRow{Array: query.Path{"data", fd.Field},
							Pred: query.AnyRow{Array: query.Path{c.Field}, Pred: ref}})
					}
				}
			}
		}
		if len(fields) > 0 {
			perForm = append(perForm, query.AndOf(
				query.Cmp{Path: query.Path{"formId"}, Op: query.Eq, Value: f.ID}, query.Or{Items: fields}))
		}
	}
	if len(perForm) == 0 {
		return false, nil
	}
	scope, err := s.acc.RecordScope(ctx, p)
	if err != nil {
		return false, err
	}
	n, err := s.st.Find(ctx, collRecord, p.Tenant, query.Query{
		Filter: query.AndOf(query.Or{Items: perForm}, scope), Limit: 1})
	if err != nil {
		return false, err
	}
	return len(n) > 0, nil
}
