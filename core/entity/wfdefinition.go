package entity

import (
	"context"
	"maps"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/record"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// Workflow definitions as the EIMSNext web client's designer writes them
// (spec eims-native.md §12.11): versions per form (externalId), one current
// version, released versions that cannot be deleted, the designer's content
// kept as the exact string and compiled by core/workflow.

// Enums of wfdefinition (§12.11, §12.13).
var (
	enumWfFlowType    = map[string]int64{"workflow": 0, "dataflow": 1}
	enumWfEventSource = map[string]int64{"none": 0, "form": 1, "button": 2}
)

// wfDefinitionProps are the wfdefinition properties: the §5.2 ones plus
// the original's (externalId, description, eventSource, eventSetting,
// disabled); version, isCurrent and released are server-set.
var wfDefinitionProps = []Prop{in("appId", TString), in("sourceId", TString), in("externalId", TString),
	in("name", TString), in("description", TString), out("version", TInt), out("isCurrent", TBool),
	out("released", TBool), enumIn("flowType", enumWfFlowType), enumIn("eventSource", enumWfEventSource),
	in("eventSetting", TObject), in("disabled", TBool), in("content", TJSON), in("key", TString)}

// completeWfDefinition applies the wfdefinition rules (old nil = create):
//   - flowType is the workflow's (0); a dataflow (1) is a dfdefinition;
//   - externalId and sourceId name the form and are kept equal (either may
//     be given);
//   - on create, version = the highest version of the same form (or key) + 1,
//     isCurrent and released false; on update they are kept;
//   - content is required: designer flow data is checked leniently (a draft
//     may hold what activation refuses) unless this is the current version,
//     which must compile; any other content must be the §5.2 format;
//   - name defaults to the form's name.
func (s *Service) completeWfDefinition(ctx context.Context, tenant string, doc, old store.Doc) error {
	if ft, ok := doc["flowType"].(int64); ok && ft != 0 {
		return validation("the body failed validation",
			detail("invalid_value", "flowType", "wfdefinition holds workflows (flowType 0); dataflows are dfdefinition"))
	}
	doc["flowType"] = int64(0)
	ext, _ := doc["externalId"].(string)
	src, _ := doc["sourceId"].(string)
	switch {
	case ext == "" && src != "":
		doc["externalId"] = src
	case src == "" && ext != "":
		doc["sourceId"] = ext
	case ext != src && old != nil && old["sourceId"] == src:
		doc["sourceId"] = ext // externalId changed by the caller
	case ext != src && old != nil && old["externalId"] == ext:
		doc["externalId"] = src // sourceId changed by the caller
	case ext != src:
		return validation("the body failed validation",
			detail("invalid_value", "externalId", "externalId and sourceId name the same form and must be equal"))
	}
	if _, ok := doc["eventSource"]; !ok {
		doc["eventSource"] = int64(0)
	}
	if _, ok := doc["disabled"]; !ok {
		doc["disabled"] = false
	}
	if doc["content"] == nil {
		return validation("the body failed validation", detail("required", "content", "content is required"))
	}
	current, _ := doc["isCurrent"].(bool)
	var err error
	if workflow.IsDesignerContent(doc["content"]) && !current {
		err = workflow.CheckDesigner(doc["content"])
	} else {
		_, err = workflow.ParseDefinition(doc["content"])
	}
	if err != nil {
		return err
	}
	if name, _ := doc["name"].(string); strings.TrimSpace(name) == "" {
		doc["name"] = s.definitionName(ctx, tenant, doc)
	}
	if old == nil {
		v, err := s.nextVersion(ctx, tenant, doc)
		if err != nil {
			return err
		}
		doc["version"], doc["isCurrent"], doc["released"] = v, false, false
	}
	return nil
}

// definitionName is the default name of a definition: its form's name,
// else its key, else "workflow".
func (s *Service) definitionName(ctx context.Context, tenant string, doc store.Doc) string {
	if src, _ := doc["sourceId"].(string); src != "" {
		if f, err := s.formByID(ctx, tenant, src); err == nil && f.Name != "" {
			return f.Name
		}
	}
	if k, _ := doc["key"].(string); k != "" {
		return k
	}
	return "workflow"
}

// versionGroup is the filter selecting the versions of doc's workflow: the
// same form (sourceId), else the same key; nil when it has neither.
func versionGroup(doc store.Doc) query.Expr {
	if src, _ := doc["sourceId"].(string); src != "" {
		return query.Cmp{Path: query.Path{"sourceId"}, Op: query.Eq, Value: src}
	}
	if k, _ := doc["key"].(string); k != "" {
		return query.Cmp{Path: query.Path{"key"}, Op: query.Eq, Value: k}
	}
	return nil
}

// versionGroupKey names the workflow of doc for claims ("" when it has
// neither a form nor a key), as versionGroup selects it.
func versionGroupKey(doc store.Doc) string {
	if src, _ := doc["sourceId"].(string); src != "" {
		return "sourceId:" + src
	}
	if k, _ := doc["key"].(string); k != "" {
		return "key:" + k
	}
	return ""
}

// nextVersion is one more than the highest version of doc's workflow,
// claimed for doc (claim.go): two concurrent new versions of one workflow
// cannot both take it.
func (s *Service) nextVersion(ctx context.Context, tenant string, doc store.Doc) (int64, error) {
	g := versionGroup(doc)
	if g == nil {
		return 1, nil
	}
	found, err := s.st.Find(ctx, collWfDefinition, tenant, query.Query{Filter: g,
		Sort: []query.Sort{{Path: query.Path{"version"}, Desc: true}}, Limit: 1})
	if err != nil {
		return 0, err
	}
	v := int64(1)
	if len(found) > 0 {
		last, _ := toInt(found[0]["version"])
		v = last + 1
	}
	id, _ := doc["id"].(string)
	if err := s.claim(ctx, tenant, collWfDefinition, "version", versionGroupKey(doc)+"#"+strconv.FormatInt(v, 10), id, "version"); err != nil {
		return 0, err
	}
	return v, nil
}

// wfDefinitionDeletable refuses to delete a released version (the
// original's rule: 已启用或历史版本不允许删除).
func wfDefinitionDeletable(old store.Doc) error {
	if r, _ := old["released"].(bool); r {
		return errs.Conflictf("a released workflow version cannot be deleted (已启用或历史版本不允许删除)").WithTarget("released")
	}
	return nil
}

// wfDefinitionOf loads definition id for an admin's version action.
func (s *Service) wfDefinitionOf(ctx context.Context, p *principal.Principal, id string) (string, *Kind, store.Doc, error) {
	tenant, err := tenantOf(p)
	if err != nil {
		return "", nil, nil, err
	}
	k, _ := Builtin(collWfDefinition)
	if err := checkWrite(p, k, false); err != nil {
		return "", nil, nil, err
	}
	if strings.TrimSpace(id) == "" {
		return "", nil, nil, validation("the body failed validation", detail("required", "id", "id is required"))
	}
	d, err := s.st.Get(ctx, collWfDefinition, tenant, id)
	if errs.CodeOf(err) == errs.NotFound {
		return "", nil, nil, errs.NotFoundf("workflow definition %q not found", id).WithTarget("id")
	}
	return tenant, k, d, err
}

// CreateVersion serves POST /api/v1/WfDefinition/CreateVersion {id}
// (§12.11): a copy of definition id as the workflow's next version, neither
// current nor released. It answers the new definition.
func (s *Service) CreateVersion(ctx context.Context, p *principal.Principal, id string) (map[string]any, error) {
	var doc store.Doc
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		tenant, _, src, err := s.wfDefinitionOf(ctx, p, id)
		if err != nil {
			return err
		}
		doc = maps.Clone(src)
		now := s.now().UnixMilli()
		doc["id"] = store.NewID()
		doc["createBy"], doc["updateBy"] = s.operator(p), s.operator(p)
		doc["createTime"], doc["updateTime"] = now, now
		v, err := s.nextVersion(ctx, tenant, doc)
		if err != nil {
			return err
		}
		doc["version"], doc["isCurrent"], doc["released"] = v, false, false
		return s.st.Insert(ctx, collWfDefinition, doc)
	})
	if err != nil {
		return nil, err
	}
	return clean(doc), nil
}

// ActivateDefinition serves POST /api/v1/WfDefinition/Activate {id}
// (§12.11): the definition must compile (designer constructs without a core
// equivalent → 400 naming the node) and its branch conditions must fit its
// form; then every version of its workflow loses isCurrent and this one
// becomes current and released, in one transaction. It answers the
// definition.
func (s *Service) ActivateDefinition(ctx context.Context, p *principal.Principal, id string) (map[string]any, error) {
	var doc store.Doc
	err := s.st.Tx(ctx, func(ctx context.Context) error {
		tenant, _, d, err := s.wfDefinitionOf(ctx, p, id)
		if err != nil {
			return err
		}
		def, err := workflow.ParseDefinition(d["content"])
		if err != nil {
			return err
		}
		if src, _ := d["sourceId"].(string); src != "" {
			f, err := s.formByID(ctx, tenant, src)
			if errs.CodeOf(err) == errs.NotFound {
				return validation("the definition cannot be activated",
					detail("not_found", "sourceId", "form %q of the definition not found", src))
			}
			if err != nil {
				return err
			}
			if err := workflow.CheckAgainstForm(def, f); err != nil {
				return err
			}
		}
		now := s.now().UnixMilli()
		// Concurrent activations of one workflow's versions write the same
		// claim (claim.go): one of them fails instead of both becoming
		// current.
		if k := versionGroupKey(d); k != "" {
			if err := s.claim(ctx, tenant, collWfDefinition, "current", k, id, "id"); err != nil {
				return err
			}
		}
		if g := versionGroup(d); g != nil {
			others, err := s.st.Find(ctx, collWfDefinition, tenant, query.Query{Filter: query.AndOf(g,
				query.Cmp{Path: query.Path{"isCurrent"}, Op: query.Eq, Value: true}), Limit: -1})
			if err != nil {
				return err
			}
			for _, o := range others {
				if o["id"] == d["id"] {
					continue
				}
				o["isCurrent"] = false
				o["updateBy"], o["updateTime"] = s.operator(p), record.NextTime(o, now)
				oid, _ := o["id"].(string)
				if err := s.st.Update(ctx, collWfDefinition, tenant, oid, o, nil); err != nil {
					return err
				}
			}
		}
		doc = maps.Clone(d)
		doc["isCurrent"], doc["released"] = true, true
		doc["updateBy"], doc["updateTime"] = s.operator(p), record.NextTime(d, now)
		return s.st.Update(ctx, collWfDefinition, tenant, id, doc, nil)
	})
	if err != nil {
		return nil, err
	}
	return clean(doc), nil
}
