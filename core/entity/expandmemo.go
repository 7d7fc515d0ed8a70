package entity

import (
	"sync"

	"github.com/eimshub/eimshub/core/query"
)

// parsedExpands remembers valid $expand options by kind and text. A
// connector sends the same expand with every read (sdk.OwnerExpand on each
// H3Yun LoadBizObject), and parsing and checking it was ≈ 4 % of such a
// request's CPU (issue 11, second pass). The result depends on nothing but
// the kind (the catalogue's kinds are static: Builtin returns the same
// *Kind for the process's life) and the text, so entries never go stale;
// only successful parses are kept, so every invalid option is parsed and
// reported as before. The items are shared: read only (render and
// checkExpand only read them).
var parsedExpands = &expandMemo{m: map[expandKey][]query.ExpandItem{}, mine: map[*query.ExpandItem]struct{}{}}

// maxParsedExpands bounds the memo; when full it starts over (callers'
// option texts are few; a client varying them only costs the parse).
const maxParsedExpands = 256

// maxMemoExpandLen keeps long option texts out of the memo.
const maxMemoExpandLen = 512

type expandKey struct {
	k   *Kind
	src string
}

type expandMemo struct {
	mu sync.RWMutex
	m  map[expandKey][]query.ExpandItem
	// mine holds the first item of every slice in m: owns tells the
	// memo's (immutable) options from others.
	mine map[*query.ExpandItem]struct{}
}

func (e *expandMemo) get(k *Kind, src string) ([]query.ExpandItem, bool) {
	e.mu.RLock()
	items, ok := e.m[expandKey{k, src}]
	e.mu.RUnlock()
	return items, ok
}

func (e *expandMemo) put(k *Kind, src string, items []query.ExpandItem) {
	if len(src) > maxMemoExpandLen {
		return
	}
	if len(items) == 0 {
		return
	}
	e.mu.Lock()
	if len(e.m) >= maxParsedExpands {
		clear(e.m)
		clear(e.mine)
	}
	e.m[expandKey{k, src}] = items
	e.mine[&items[0]] = struct{}{}
	e.mu.Unlock()
}

// owns reports whether items is an option the memo handed out (then its
// items are immutable and their addresses identify them).
func (e *expandMemo) owns(items []query.ExpandItem) bool {
	if len(items) == 0 {
		return false
	}
	e.mu.RLock()
	_, ok := e.mine[&items[0]]
	e.mu.RUnlock()
	return ok
}
