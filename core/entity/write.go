package entity

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// input is a decoded write body.
type input struct {
	// vals are the settable properties given, by canonical name (nil = clear).
	vals map[string]any
	// extra are the unknown top-level keys (record fields of a flat body).
	extra map[string]any
	// id is the body's id, if any.
	id string
}

// decodeInput maps body keys case-insensitively to the kind's properties,
// coerces their values, and collects problems as validation details.
// Server-set properties are ignored; unknown keys are errors unless flat.
func decodeInput(k *Kind, body map[string]any, flat bool) (*input, error) {
	var details []errs.Detail
	checkKeys(body, "", 0, &details)
	if len(details) > 0 {
		return nil, validation("the body has disallowed property names", details...)
	}
	in := &input{vals: map[string]any{}, extra: map[string]any{}}
	for key, v := range body {
		p, ok := k.Prop(key)
		if !ok || (p.Hidden && !p.Input) {
			if flat {
				in.extra[key] = v
			} else {
				details = append(details, detail("unknown_property", key, "unknown property %q", key))
			}
			continue
		}
		if p.Name == "id" {
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				details = append(details, detail("invalid_type", "id", "id must be a string"))
				continue
			}
			in.id = s
			continue
		}
		if !p.Input {
			continue // server-set (§6.1)
		}
		if _, dup := in.vals[p.Name]; dup {
			details = append(details, detail("duplicate_property", key, "property %q given twice", p.Name))
			continue
		}
		cv, d := coerce(p, v)
		if d != nil {
			details = append(details, *d)
			continue
		}
		in.vals[p.Name] = cv
	}
	if len(details) > 0 {
		return nil, validation("the body failed validation", details...)
	}
	return in, nil
}

func (s *Service) operator(p *principal.Principal) map[string]any {
	return map[string]any{"id": p.UserID, "value": p.UserCode, "label": p.DisplayName}
}

// checkWrite applies the catalogue's write permissions.
func checkWrite(p *principal.Principal, k *Kind, del bool) error {
	if (del && !k.Deletable) || (!del && !k.Writable) {
		return errs.Newf(errs.MethodNotAllowed, "%s is read-only", k.Name)
	}
	if k.AdminOnly && !p.IsAdmin() {
		return errs.Forbiddenf("writing %s needs the admin role", k.Name)
	}
	return nil
}

// Create serves POST /{entity} (§6.1): it returns the created entity.
func (s *Service) Create(ctx context.Context, p *principal.Principal, entity string, body map[string]any) (map[string]any, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, err
	}
	return s.createIn(ctx, p, tenant, t, body)
}

// createIn is Create once the target is resolved.
func (s *Service) createIn(ctx context.Context, p *principal.Principal, tenant string, t *target, body map[string]any) (map[string]any, error) {
	if err := s.checkCreate(p, t.kind); err != nil {
		return nil, err
	}
	if err := checkWrite(p, t.kind, false); err != nil {
		return nil, err
	}
	if t.kind.NoCreate {
		return nil, errs.Newf(errs.MethodNotAllowed, "%s documents are written by the system; only updates are allowed", t.kind.Name)
	}
	var rr recordRequest
	if t.kind.IsRecord() {
		var err error
		if body, rr, err = takeRecordRequest(body); err != nil {
			return nil, err
		}
	}
	in, err := decodeInput(t.kind, body, t.kind.IsRecord())
	if err != nil {
		return nil, err
	}
	ctx = withViewer(ctx, p) // complete() reads the acting principal
	if t.kind.Coll == collOutbox {
		return s.createOutbox(ctx, p, tenant, in)
	}
	if t.kind.IsRecord() {
		return s.createRecord(ctx, p, tenant, t, in, rr)
	}
	now := s.now().UnixMilli()
	doc := store.Doc{"id": store.NewID(), "corpId": tenant,
		"createBy": s.operator(p), "createTime": now, "updateBy": s.operator(p), "updateTime": now}
	var after func(ctx context.Context)
	err = s.st.Tx(ctx, func(ctx context.Context) error {
		for k, v := range in.vals {
			if v != nil {
				doc[k] = v
			}
		}
		var err error
		if after, err = s.complete(ctx, tenant, t, in, doc, nil); err != nil {
			return err
		}
		return s.st.Insert(ctx, t.kind.Coll, doc)
	})
	if err != nil {
		return nil, err
	}
	if after != nil {
		after(ctx)
	}
	return clean(doc), nil
}

// Update serves PUT and PATCH /{entity}/{id}: a partial merge (§6.1).
// ifMatch is the If-Match header ("" = none).
func (s *Service) Update(ctx context.Context, p *principal.Principal, entity, id string, body map[string]any, ifMatch string) (map[string]any, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return nil, err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return nil, err
	}
	return s.updateIn(ctx, p, tenant, t, id, body, ifMatch)
}

// updateIn is Update once the target is resolved.
func (s *Service) updateIn(ctx context.Context, p *principal.Principal, tenant string, t *target, id string, body map[string]any, ifMatch string) (map[string]any, error) {
	if err := checkUpdate(t.kind); err != nil {
		return nil, err
	}
	if err := checkWrite(p, t.kind, false); err != nil {
		return nil, err
	}
	var rr recordRequest
	if t.kind.IsRecord() {
		var err error
		if body, rr, err = takeRecordRequest(body); err != nil {
			return nil, err
		}
	}
	in, err := decodeInput(t.kind, body, t.kind.IsRecord())
	if err != nil {
		return nil, err
	}
	ctx = withViewer(ctx, p) // complete() reads the acting principal
	if in.id != "" && in.id != id {
		return nil, errs.Invalidf("body id %q differs from the path id %q", in.id, id).
			WithReason("invalid_request").WithTarget("id")
	}
	want, cond, err := parseIfMatch(ifMatch)
	if err != nil {
		return nil, err
	}
	if t.kind.IsRecord() {
		return s.updateRecord(ctx, p, tenant, t, id, in, want, cond, rr)
	}
	var doc store.Doc
	var after func(ctx context.Context)
	err = s.st.Tx(ctx, func(ctx context.Context) error {
		old, err := s.getDoc(ctx, tenant, t, id)
		if err != nil {
			return err
		}
		if !ownedBy(p, t.kind, old, true) {
			return errs.NotFoundf("%s %q not found", t.kind.Name, id)
		}
		if cond && !sameTime(old["updateTime"], want) {
			return errs.Conflictf("%s %q was modified (If-Match does not match updateTime)", t.kind.Name, id)
		}
		doc = maps.Clone(old)
		for k, v := range in.vals {
			if v == nil {
				delete(doc, k)
			} else {
				doc[k] = v
			}
		}
		doc["updateBy"] = s.operator(p)
		doc["updateTime"] = max(s.now().UnixMilli(), record.TimeOf(old["updateTime"])+1)
		if after, err = s.complete(ctx, tenant, t, in, doc, old); err != nil {
			return err
		}
		// Compare-and-set on the updateTime read above: a concurrent writer → 409.
		var c query.Expr = query.Null{Path: query.Path{"updateTime"}, IsNull: true}
		if ut, ok := old["updateTime"]; ok && ut != nil {
			c = query.Cmp{Path: query.Path{"updateTime"}, Op: query.Eq, Value: record.TimeOf(ut)}
		}
		return s.st.Update(ctx, t.kind.Coll, tenant, id, doc, c)
	})
	if err != nil {
		return nil, err
	}
	if after != nil {
		after(ctx)
	}
	return clean(doc), nil
}

// Delete serves DELETE /{entity}/{id}: a soft delete (§6.1).
func (s *Service) Delete(ctx context.Context, p *principal.Principal, entity, id, ifMatch string) error {
	tenant, err := tenantOf(p)
	if err != nil {
		return err
	}
	t, err := s.resolve(ctx, tenant, entity)
	if err != nil {
		return err
	}
	return s.deleteIn(ctx, p, tenant, t, id, ifMatch)
}

// deleteIn is Delete once the target is resolved.
func (s *Service) deleteIn(ctx context.Context, p *principal.Principal, tenant string, t *target, id, ifMatch string) error {
	if err := checkWrite(p, t.kind, true); err != nil {
		return err
	}
	want, cond, err := parseIfMatch(ifMatch)
	if err != nil {
		return err
	}
	if t.kind.IsRecord() {
		return s.st.Tx(ctx, func(ctx context.Context) error {
			old, err := s.getDoc(ctx, tenant, t, id)
			if err != nil {
				return err
			}
			return s.rec.Delete(ctx, p, old, want, cond)
		})
	}
	var after func(context.Context)
	err = s.st.Tx(ctx, func(ctx context.Context) error {
		old, err := s.getDoc(ctx, tenant, t, id)
		if err != nil {
			return err
		}
		if !deletableBy(p, t.kind, old) {
			return errs.NotFoundf("%s %q not found", t.kind.Name, id)
		}
		if cond && !sameTime(old["updateTime"], want) {
			return errs.Conflictf("%s %q was modified (If-Match does not match updateTime)", t.kind.Name, id)
		}
		if t.kind.Coll == collDepartment {
			n, err := s.st.Count(ctx, collDepartment, tenant, query.Cmp{Path: query.Path{"parentId"}, Op: query.Eq, Value: id})
			if err != nil {
				return err
			}
			if n > 0 {
				return errs.Conflictf("department %q has sub-departments", id)
			}
		}
		if t.kind.Coll == collFile {
			if err := s.deleteFileIndex(ctx, p, old); err != nil {
				return err
			}
		}
		switch t.kind.Coll {
		case collUser:
			after, err = s.userWritten(ctx, tenant, old, nil)
		case collRole:
			after, err = s.roleWritten(ctx, tenant, old, nil)
		case collForm:
			err = s.formDeleted(ctx, p, tenant, old)
		case collWfDefinition:
			err = wfDefinitionDeletable(old)
		}
		if err != nil {
			return err
		}
		return s.st.Delete(ctx, t.kind.Coll, tenant, id)
	})
	if err == nil && after != nil {
		after(ctx)
	}
	if err == nil && t.kind.Coll == collForm {
		s.rec.FormsChanged(ctx, tenant)
	}
	return err
}

func sameTime(v any, want int64) bool { return v != nil && record.TimeOf(v) == want }

// complete applies the kind's rules to doc (old is nil on create): derived
// fields, references, uniqueness. It may return a function to run after the
// transaction commits.
func (s *Service) complete(ctx context.Context, tenant string, t *target, in *input, doc, old store.Doc) (func(context.Context), error) {
	switch t.kind.Coll {
	case collForm:
		return s.completeForm(ctx, tenant, doc, old)
	case collUser:
		if err := s.completeUser(ctx, tenant, in, doc, old); err != nil {
			return nil, err
		}
		return s.userWritten(ctx, tenant, old, doc)
	case collDepartment:
		return nil, s.completeDepartment(ctx, tenant, doc, old)
	case collRole:
		if err := required(doc, "name"); err != nil {
			return nil, err
		}
		if err := s.unique(ctx, tenant, collRole, "code", doc, false); err != nil {
			return nil, err
		}
		return s.roleWritten(ctx, tenant, old, doc)
	case collApp:
		if doc["appMenus"] == nil {
			doc["appMenus"] = []any{} // the web client reads the list (§12.6.1)
		}
		return nil, required(doc, "name")
	case collWfDefinition:
		return nil, s.completeWfDefinition(ctx, tenant, doc, old)
	case collDfDefinition:
		return nil, completeDefinition(t.kind, doc)
	case collMessage:
		return nil, s.completeMessage(ctx, tenant, doc, old)
	case collAuditLog:
		return nil, completeAuditLog(ctx, doc)
	case collSchedule:
		return nil, s.completeSchedule(ctx, tenant, doc, old)
	}
	return nil, nil
}

func required(doc store.Doc, names ...string) error {
	var details []errs.Detail
	for _, n := range names {
		if s, _ := doc[n].(string); strings.TrimSpace(s) == "" {
			details = append(details, detail("required", n, "%s is required", n))
		}
	}
	if len(details) > 0 {
		return validation("the body failed validation", details...)
	}
	return nil
}

// unique fails with 409 when another document of the tenant has the same
// non-empty value of prop (fold: compared case-insensitively).
func (s *Service) unique(ctx context.Context, tenant, coll, prop string, doc store.Doc, fold bool) error {
	v, _ := doc[prop].(string)
	if v == "" {
		return nil
	}
	f := query.Expr(query.Cmp{Path: query.Path{prop}, Op: query.Eq, Value: v})
	if fold {
		f = query.Null{Path: query.Path{prop}, IsNull: false}
	}
	docs, err := s.st.Find(ctx, coll, tenant, query.Query{Filter: f, Limit: -1})
	if err != nil {
		return err
	}
	for _, d := range docs {
		dv, _ := d[prop].(string)
		if d["id"] != doc["id"] && (dv == v || fold && strings.EqualFold(dv, v)) {
			return errs.Conflictf("%s %q already exists", prop, v).WithTarget(prop)
		}
	}
	key := v
	if fold {
		key = strings.ToLower(v)
	}
	id, _ := doc["id"].(string)
	return s.claim(ctx, tenant, coll, prop, key, id, prop)
}

// createRecord creates a record (§6.3) through the record core: the form
// is the entity's (a form-key entity) or the body's formId; data is the
// body's data object plus, for a flat body, its unknown top-level keys.
func (s *Service) createRecord(ctx context.Context, p *principal.Principal, tenant string, t *target, in *input, rr recordRequest) (map[string]any, error) {
	form := t.form
	given, _ := in.vals["formId"].(string)
	switch {
	case form == nil && given == "":
		return nil, validation("the body failed validation", detail("required", "formId", "formId is required"))
	case form == nil:
		f, err := s.formByID(ctx, tenant, given)
		if errs.CodeOf(err) == errs.NotFound {
			return nil, validation("the body failed validation", detail("not_found", "formId", "form %q not found", given))
		}
		if err != nil {
			return nil, err
		}
		form = f
	case given != "" && given != form.ID:
		return nil, validation("the body failed validation",
			detail("invalid_value", "formId", "formId %q is not the form of this entity", given))
	}
	if err := rr.checkApp(form.AppID); err != nil {
		return nil, err
	}
	var doc store.Doc
	// Create and submit (action 2) are one transaction: a failing start
	// stores nothing.
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		var err error
		if doc, err = s.rec.Create(ctx, p, form, recordData(in), record.CreateOptions{}); err != nil {
			return err
		}
		if rr.action == actionSubmit {
			doc, err = s.submit(ctx, p, form, doc)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return clean(doc), nil
}

// updateRecord merges a change into record id through the record core
// (access rules, If-Match, data merged key by key, compare-and-set).
func (s *Service) updateRecord(ctx context.Context, p *principal.Principal, tenant string, t *target, id string, in *input, want int64, cond bool, rr recordRequest) (map[string]any, error) {
	given, _ := in.vals["formId"].(string)
	var doc store.Doc
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		old, err := s.getDoc(ctx, tenant, t, id)
		if err != nil {
			return err
		}
		appID, _ := old["appId"].(string)
		if err := rr.checkApp(appID); err != nil {
			return err
		}
		doc, err = s.rec.Update(ctx, p, record.Change{Old: old, Form: t.form, FormID: given,
			Data: recordData(in), IfMatch: want, HasIfMatch: cond})
		if err != nil || rr.action != actionSubmit {
			return err
		}
		fid, _ := doc["formId"].(string)
		f, err := s.formByID(ctx, tenant, fid)
		if err != nil {
			return err
		}
		doc, err = s.submit(ctx, p, f, doc)
		return err
	})
	if err != nil {
		return nil, err
	}
	return clean(doc), nil
}

// recordData is a record body's data: its data object plus the unknown
// top-level keys of a flat body.
func recordData(in *input) map[string]any {
	data := map[string]any{}
	if v, ok := in.vals["data"]; ok && v != nil {
		maps.Copy(data, v.(map[string]any))
	}
	maps.Copy(data, in.extra)
	return data
}

var keyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

func validKey(k string) bool { return keyPattern.MatchString(k) }

// completeForm validates a form (§6.2): name, app, content, and its API key
// (unique per tenant, not a built-in entity name). After commit it declares
// the form's record index paths.
func (s *Service) completeForm(ctx context.Context, tenant string, doc, old store.Doc) (func(context.Context), error) {
	if err := required(doc, "name", "appId"); err != nil {
		return nil, err
	}
	if old == nil || doc["appId"] != old["appId"] {
		if err := s.mustExist(ctx, tenant, collApp, "appId", doc["appId"].(string)); err != nil {
			return nil, err
		}
	}
	if err := designForm(doc); err != nil {
		return nil, err
	}
	if key, _ := doc["key"].(string); key != "" {
		if !validKey(key) {
			return nil, validation("the body failed validation",
				detail("invalid_value", "key", "key must be a letter or _ followed by up to 63 letters, digits or _"))
		}
		if Reserved(key) {
			return nil, validation("the body failed validation",
				detail("reserved", "key", "key %q is a built-in entity name", key))
		}
		if err := s.unique(ctx, tenant, collForm, "key", doc, true); err != nil {
			return nil, err
		}
	}
	f, err := schema.FormFromDoc(doc)
	if err != nil {
		return nil, err
	}
	if err := s.formMenus(ctx, tenant, doc, old); err != nil {
		return nil, err
	}
	return func(ctx context.Context) { s.rec.FormSaved(ctx, tenant, f) }, nil
}

func (s *Service) mustExist(ctx context.Context, tenant, coll, prop, id string) error {
	if _, err := s.st.Get(ctx, coll, tenant, id); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return validation("the body failed validation",
				detail("not_found", prop, "%s %q not found", coll, id))
		}
		return err
	}
	return nil
}

// completeUser applies the user rules: password → passwordHash, userName
// required and unique, department and roles must exist in the tenant.
func (s *Service) completeUser(ctx context.Context, tenant string, in *input, doc, old store.Doc) error {
	delete(doc, "password")
	if v, ok := in.vals["password"]; ok && v != nil {
		pw, _ := v.(string)
		if pw == "" {
			return validation("the body failed validation", detail("invalid_value", "password", "password must not be empty"))
		}
		h, err := s.hash(pw)
		if err != nil {
			return validation("the body failed validation", detail("invalid_value", "password", "password is not acceptable"))
		}
		doc["passwordHash"] = h
	}
	if err := required(doc, "userName"); err != nil {
		return err
	}
	if old == nil {
		if _, ok := doc["status"]; !ok {
			doc["status"] = int64(0)
		}
	}
	if err := s.unique(ctx, tenant, collUser, "userName", doc, false); err != nil {
		return err
	}
	if dep, _ := doc["departmentId"].(string); dep != "" && (old == nil || old["departmentId"] != dep) {
		if err := s.mustExist(ctx, tenant, collDepartment, "departmentId", dep); err != nil {
			return err
		}
	}
	if v, ok := in.vals["roles"]; ok && v != nil {
		roles, err := s.resolveRoles(ctx, tenant, v.([]any))
		if err != nil {
			return err
		}
		doc["roles"] = roles
	}
	return nil
}

// resolveRoles turns [{roleId}] or role codes into stored {roleId, roleName, roleCode}.
func (s *Service) resolveRoles(ctx context.Context, tenant string, given []any) ([]any, error) {
	type ref struct{ id, code string }
	refs := make([]ref, 0, len(given))
	var ids, codes []any
	var details []errs.Detail
	for _, g := range given {
		switch x := g.(type) {
		case string:
			refs = append(refs, ref{code: x})
			codes = append(codes, x)
		case map[string]any:
			var r ref
			for k, v := range x {
				sv, _ := v.(string)
				switch strings.ToLower(k) {
				case "roleid", "id":
					r.id = sv
				case "rolecode", "code":
					r.code = sv
				}
			}
			switch {
			case r.id != "":
				ids = append(ids, r.id)
			case r.code != "":
				codes = append(codes, r.code)
			default:
				details = append(details, detail("invalid_value", "roles", "a role needs roleId or roleCode"))
				continue
			}
			refs = append(refs, r)
		default:
			details = append(details, detail("invalid_type", "roles", "roles must be role codes or {roleId} objects"))
		}
	}
	if len(details) > 0 {
		return nil, validation("the body failed validation", details...)
	}
	byID, byCode := map[string]store.Doc{}, map[string]store.Doc{}
	for _, q := range []struct {
		prop string
		vals []any
		into map[string]store.Doc
	}{{"id", ids, byID}, {"code", codes, byCode}} {
		if len(q.vals) == 0 {
			continue
		}
		docs, err := s.st.Find(ctx, collRole, tenant, query.Query{
			Filter: query.In{Path: query.Path{q.prop}, Values: q.vals}, Limit: -1})
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			k, _ := d[q.prop].(string)
			q.into[k] = d
		}
	}
	out := []any{}
	var seen []string
	for _, r := range refs {
		d, ok := byID[r.id]
		if r.id == "" {
			d, ok = byCode[r.code]
		}
		if !ok {
			details = append(details, detail("not_found", "roles", "role %q not found", r.id+r.code))
			continue
		}
		id, _ := d["id"].(string)
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		out = append(out, map[string]any{"roleId": id, "roleName": d["name"], "roleCode": d["code"]})
	}
	if len(details) > 0 {
		return nil, validation("the body failed validation", details...)
	}
	return out, nil
}

// completeDepartment checks the parent and computes parentName, heriarchyId
// and heriarchyName (§6.2); on update it rewrites the descendants' paths.
func (s *Service) completeDepartment(ctx context.Context, tenant string, doc, old store.Doc) error {
	if err := required(doc, "name"); err != nil {
		return err
	}
	id, _ := doc["id"].(string)
	name, _ := doc["name"].(string)
	parentID, _ := doc["parentId"].(string)
	doc["parentId"] = parentID
	hid, hname, pname := id, name, ""
	if parentID != "" {
		if parentID == id {
			return validation("the body failed validation", detail("invalid_value", "parentId", "a department cannot be its own parent"))
		}
		parent, err := s.st.Get(ctx, collDepartment, tenant, parentID)
		if errs.CodeOf(err) == errs.NotFound {
			return validation("the body failed validation", detail("not_found", "parentId", "department %q not found", parentID))
		}
		if err != nil {
			return err
		}
		ph, _ := parent["heriarchyId"].(string)
		if slices.Contains(strings.Split(ph, "/"), id) {
			return validation("the body failed validation", detail("invalid_value", "parentId", "the parent is a sub-department"))
		}
		phn, _ := parent["heriarchyName"].(string)
		pname, _ = parent["name"].(string)
		if ph == "" {
			ph = parentID
		}
		if phn == "" {
			phn = pname
		}
		hid, hname = ph+"/"+id, phn+"/"+name
	}
	doc["parentName"], doc["heriarchyId"], doc["heriarchyName"] = pname, hid, hname
	if m, _ := doc["managerId"].(string); m != "" && (old == nil || old["managerId"] != m) {
		if err := s.mustExist(ctx, tenant, collUser, "managerId", m); err != nil {
			return err
		}
	}
	if old == nil {
		return nil
	}
	oldH, _ := old["heriarchyId"].(string)
	oldHN, _ := old["heriarchyName"].(string)
	if oldH == hid && oldHN == hname || oldH == "" {
		return nil
	}
	subs, err := s.st.Find(ctx, collDepartment, tenant, query.Query{
		Filter: query.Str{Path: query.Path{"heriarchyId"}, Fn: query.StartsWith, Value: oldH + "/"}, Limit: -1})
	if err != nil {
		return err
	}
	for _, d := range subs {
		dh, _ := d["heriarchyId"].(string)
		dhn, _ := d["heriarchyName"].(string)
		d["heriarchyId"] = hid + strings.TrimPrefix(dh, oldH)
		if strings.HasPrefix(dhn, oldHN) {
			d["heriarchyName"] = hname + strings.TrimPrefix(dhn, oldHN)
		}
		if d["parentId"] == id {
			d["parentName"] = name
		}
		did, _ := d["id"].(string)
		if err := s.st.Update(ctx, collDepartment, tenant, did, d, nil); err != nil {
			return err
		}
	}
	return nil
}
