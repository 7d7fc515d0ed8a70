// Package storetest is the conformance suite of the store.Store port. Every
// adapter runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newTestStore(t) })
//	}
//
// newStore must return a fresh, empty store for each call (a new temporary
// file, a new database name); the suite closes it.
package storetest

import (
	"testing"

	"github.com/eimshub/eimshub/core/store"
)

// NewStore makes a fresh, empty store for one subtest.
type NewStore func(t *testing.T) store.Store

// Run runs the whole conformance suite against stores made by newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	_ = newStore // filled in by the suite's author
}
