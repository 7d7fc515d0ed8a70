package record

import (
	"maps"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/schema"
	"github.com/eimshub/eimshub/core/store"
)

// Build returns a new record of form f in tenant from data (normalised by
// the form's schema: errs.Invalid with "data/<field>" details when it does
// not fit), created by `by` at now (epoch ms). Its flowStatus is draft (1)
// when the form uses a workflow or draft is set, else approved (3,
// "effective": a form without workflow, as the original EIMSNext writes it,
// spec §12.17 D-12.1).
func Build(f *schema.Form, tenant string, data map[string]any, by map[string]any, now int64, draft bool) (store.Doc, error) {
	if data == nil {
		data = map[string]any{}
	}
	norm, err := f.Normalize(data, false)
	if err != nil {
		return nil, err
	}
	flow := access.FlowApproved
	if f.UsingWorkflow || draft {
		flow = access.FlowDraft
	}
	return store.Doc{
		"id": store.NewID(), "corpId": tenant, "formId": f.ID, "appId": f.AppID,
		"flowStatus": flow, "dataTitle": f.Title(norm), "data": norm,
		"createBy": by, "updateBy": by, "createTime": now, "updateTime": now,
	}, nil
}

// Merge returns old changed by patch (field → value; keys absent are kept,
// null or empty clears a field, §6.1) under form f, updated by `by` at now:
// data merged key by key, dataTitle recomputed, formId/appId the form's,
// updateTime strictly after old's (the record's version). old is not
// modified; flowStatus, createBy/createTime and workflow fields are kept.
func Merge(f *schema.Form, old store.Doc, patch map[string]any, by map[string]any, now int64) (store.Doc, error) {
	merged := map[string]any{}
	if od, ok := old["data"].(map[string]any); ok {
		merged = maps.Clone(od)
	}
	if len(patch) > 0 {
		norm, err := f.Normalize(patch, true)
		if err != nil {
			return nil, err
		}
		for k, v := range patch {
			if v == nil { // null clears, whatever the key's spelling
				if fd, ok := f.Lookup(k); ok {
					delete(merged, fd.Field)
				}
				delete(merged, k)
			}
		}
		for k, v := range norm {
			if v == nil {
				delete(merged, k)
			} else {
				merged[k] = v
			}
		}
	}
	doc := maps.Clone(old)
	doc["data"] = merged
	doc["formId"] = f.ID
	doc["appId"] = f.AppID
	doc["dataTitle"] = f.Title(merged)
	doc["updateBy"] = by
	doc["updateTime"] = NextTime(old, now)
	return doc, nil
}

// NextTime is the updateTime of the next version of old: now, or one
// millisecond after old's updateTime when the clock has not moved past it,
// so every write changes the version.
func NextTime(old store.Doc, now int64) int64 { return max(now, TimeOf(old["updateTime"])+1) }
