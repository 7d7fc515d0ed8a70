package h3yun

import (
	"strings"

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

// extID is how H3Yun shows a hub id.
func extID(id string) string { return sdk.GUID(id) }

// hubID reads an id an H3Yun client sent.
func hubID(s string) string { return sdk.FromGUID(strings.TrimSpace(s)) }
