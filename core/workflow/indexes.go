package workflow

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/eimshub/eimshub/core/query"
)

// Indexes returns, per collection, the paths the engine's queries (and the
// native API's reads of the approval log) filter on by equality, for
// store.EnsureIndex:
//
//   - instances by record (latestInstance, InstanceOf, every action given a
//     dataId; the flow start reads it first) and by initiator (the started
//     list);
//   - pending tasks by assignee (the to-do and overtime lists, Pending), by
//     instance and by record (list filters);
//   - copies by recipient (the cc list) and by instance (CC's duplicate
//     check);
//   - the approval log by record and by instance (the native and dialect
//     approval-log reads).
//
// The lists over instances whose only filter is a task's assignee inside
// the tasks array (done, handled, finished, search) have no single path to
// index.
func Indexes() map[string][]query.Path {
	return map[string][]query.Path{
		CollInstance:    {{"dataId"}, {"initiator", "id"}},
		CollTodo:        {{"employeeId"}, {"wfInstanceId"}, {"dataId"}},
		CollCC:          {{"employeeId"}, {"wfInstanceId"}},
		CollApprovalLog: {{"dataId"}, {"wfInstanceId"}},
	}
}

// EnsureIndexes declares Indexes on the engine's store, collection by
// collection in name order. Idempotent; the hub calls it once at start.
func (e *Engine) EnsureIndexes(ctx context.Context) error {
	ix := Indexes()
	for _, coll := range slices.Sorted(maps.Keys(ix)) {
		if err := e.st.EnsureIndex(ctx, coll, ix[coll]); err != nil {
			return fmt.Errorf("workflow: indexes of %s: %w", coll, err)
		}
	}
	return nil
}
