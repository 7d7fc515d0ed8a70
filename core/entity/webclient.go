package entity

import (
	"context"
	"sort"

	"github.com/eimshub/eimshub/core/access"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
)

// The EIMSNext web client (spec eims-native.md §12).

func init() {
	// §12.7: the client's entity sets and API controllers, so that no form
	// key can shadow them (some are aliases already; listing them again is
	// harmless).
	reservedNames = append(reservedNames, "system", "corporate", "authgroup", "printtemplate", "customprint",
		"aggregate", "formdef", "wftodo", "wfapprovallog", "systemmessage", "employee")
	// A file's savePath (and thumbPath, the same path) is its tokenless
	// capability URL (§12.12, D-12.2): only the uploader and administrators
	// see it or filter by it (privacy.go); record readers get the URL from
	// the record's file reference, as the client stores it.
	if k, ok := Builtin("file"); ok {
		k.Private = append(k.Private, "savePath", "thumbPath")
	}
}

// seesFilePaths reports whether p may see the capability paths of file
// document doc: its uploader may.
func seesFilePaths(p *principal.Principal, k *Kind, doc store.Doc) bool {
	return k.Coll == collFile && access.IsOwner(p, doc)
}

// appScope is the app listing of a user who is not a tenant administrator
// (§12.9.1, D-12.3): the apps that have a form the user may read records
// of — every form, while the hub has no permission groups — or a task of
// the user, so an approver can reach the task. Administrators see every
// app (nil).
func (s *Service) appScope(ctx context.Context, p *principal.Principal, k *Kind) (query.Expr, error) {
	if k.Coll != collApp || p.IsAdmin() {
		return nil, nil
	}
	ids := map[string]bool{}
	forms, err := s.st.Find(ctx, collForm, p.Tenant, query.Query{Limit: -1})
	if err != nil {
		return nil, err
	}
	for _, f := range forms {
		if a, _ := f["appId"].(string); a != "" {
			ids[a] = true
		}
	}
	if p.UserID != "" {
		todos, err := s.st.Find(ctx, collWfTodo, p.Tenant, query.Query{
			Filter: query.Cmp{Path: query.Path{"employeeId"}, Op: query.Eq, Value: p.UserID}, Limit: -1})
		if err != nil {
			return nil, err
		}
		for _, t := range todos {
			if a, _ := t["appId"].(string); a != "" {
				ids[a] = true
			}
		}
	}
	vals := make([]query.Value, 0, len(ids))
	for id := range ids {
		vals = append(vals, id)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].(string) < vals[j].(string) })
	return query.In{Path: query.Path{"id"}, Values: vals}, nil
}
