package h3yun

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// H3Yun ids are GUIDs (spec §5.4) and clients parse them as such. The hub's
// ids are 24 hex digits; every one has a computed GUID spelling
// (sdk.GUID), which is what this connector shows — ObjectId, OwnerId,
// CreatedBy, ModifiedBy, OwnerDeptId, WorkflowInstanceId, AttachmentId,
// child-row ids and user/department/attachment values — and what it reads
// back (sdk.FromGUID). Input in the hub's own spelling is accepted too, so
// an id copied from the native API works here; ids that are neither (a
// foreign GUID an old client still holds) pass through unchanged and name
// nothing.

// extID is how H3Yun shows a hub id. The spelling is a hash of the id
// (sdk.GUID: a SHA-256 per id, several per row of a page — ≈ 5 % of a
// 50-row LoadBizObjects), a pure function of it, so spellings are
// remembered (guids): an entry can never be wrong.
func extID(id string) string {
	m := guids.m.Load()
	if g, ok := m.Load(id); ok {
		return g.(string)
	}
	g := sdk.GUID(id)
	if g == id {
		return g // not a hub id: nothing to remember
	}
	if guids.n.Add(1) > maxGUIDs {
		// Full: start over (bounded memory; spellings are recomputed).
		guids.m.Store(new(sync.Map))
		guids.n.Store(0)
	}
	m.Store(id, g)
	return g
}

// maxGUIDs bounds the remembered spellings (≈ 100 bytes each).
const maxGUIDs = 50000

var guids = func() *guidMemo {
	g := &guidMemo{}
	g.m.Store(new(sync.Map))
	return g
}()

type guidMemo struct {
	m atomic.Pointer[sync.Map]
	n atomic.Int64
}

// hubID reads an id an H3Yun client sent.
func hubID(s string) string { return sdk.FromGUID(strings.TrimSpace(s)) }
