package entity

import (
	"context"

	"github.com/eimshub/eimshub/core/dataflow"
	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/files"
	"github.com/eimshub/eimshub/core/principal"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/store"
	"github.com/eimshub/eimshub/core/workflow"
)

// Rules of the workflow/dataflow entities (spec §5.2, §6.2): definition
// content is validated by the engines' own parsers, wftodo lists are scoped
// to the caller, and deleting a record cancels its running instance (§6.1).

const (
	collWfDefinition = workflow.CollDefinition
	collDfDefinition = dataflow.CollDefinition
	collWfTodo       = workflow.CollTodo
	collMessage      = workflow.CollMessage
	collFile         = files.CollFile
)

// completeDefinition checks a wfdefinition/dfdefinition document: content
// is required and must parse (§5.2: unknown node types → 400), flowType is
// fixed by the kind, version defaults to 1.
func completeDefinition(k *Kind, doc store.Doc) error {
	flowType, parse := "workflow", func(c any) error { _, err := workflow.ParseDefinition(c); return err }
	if k.Coll == collDfDefinition {
		flowType, parse = "dataflow", func(c any) error { _, err := dataflow.ParseDefinition(c); return err }
	}
	if ft, _ := doc["flowType"].(string); ft != "" && ft != flowType {
		return validation("the body failed validation", detail("invalid_value", "flowType", "flowType of %s must be %q", k.Name, flowType))
	}
	doc["flowType"] = flowType
	if err := required(doc, "name"); err != nil {
		return err
	}
	if doc["content"] == nil {
		return validation("the body failed validation", detail("required", "content", "content is required"))
	}
	if err := parse(doc["content"]); err != nil {
		return err
	}
	if v, ok := doc["version"].(int64); !ok || v <= 0 {
		doc["version"] = int64(1)
	}
	return nil
}

// readScope is the row-level restriction of a read of a kind other than
// records: an owned kind (Kind.Owner) shows a non-admin only its own
// documents; wftodo listings default to the caller's tasks (todoScope).
func readScope(p *principal.Principal, k *Kind, filter query.Expr) query.Expr {
	if k.Owner != nil && !p.IsAdmin() {
		return query.Cmp{Path: k.Owner, Op: query.Eq, Value: p.UserID}
	}
	return todoScope(p, k, filter)
}

// ownedBy reports whether doc of an owned kind belongs to p (always true
// for kinds without an owner); admin reads pass, admin writes only on
// AdminWrites kinds.
func ownedBy(p *principal.Principal, k *Kind, doc store.Doc, write bool) bool {
	if k.Owner == nil || p.IsAdmin() && (!write || k.AdminWrites) {
		return true
	}
	v, _ := at(doc, k.Owner).(string)
	return v != "" && v == p.UserID
}

// todoScope restricts wftodo listings to the caller's own tasks; an admin
// whose filter names employeeId sees the tasks it asks for ("the caller's
// own by default; admins may filter by assignee").
func todoScope(p *principal.Principal, k *Kind, filter query.Expr) query.Expr {
	if k.Coll != collWfTodo {
		return nil
	}
	if p.IsAdmin() {
		named := false
		query.Walk(filter, func(e query.Expr) bool {
			if c, ok := e.(query.Cmp); ok && c.Path.String() == "employeeId" {
				named = true
			}
			if c, ok := e.(query.In); ok && c.Path.String() == "employeeId" {
				named = true
			}
			return !named
		})
		if named {
			return nil
		}
	}
	return query.Cmp{Path: query.Path{"employeeId"}, Op: query.Eq, Value: p.UserID}
}

// deleteFileIndex lets only the owner or an admin delete a file's metadata
// and drops its public index entry in the same transaction. The blob stays
// on storage (unreachable); files.Service.Delete also removes it.
func (s *Service) deleteFileIndex(ctx context.Context, p *principal.Principal, old store.Doc) error {
	by, _ := old["createBy"].(map[string]any)
	if owner, _ := by["id"].(string); owner != p.UserID && !p.IsAdmin() {
		return errs.Forbiddenf("only the owner or an admin may delete this file")
	}
	if pub, _ := old["isPublic"].(bool); pub {
		id, _ := old["id"].(string)
		if err := s.st.Delete(ctx, files.CollPublic, "", id); err != nil && errs.CodeOf(err) != errs.NotFound {
			return err
		}
	}
	return nil
}
