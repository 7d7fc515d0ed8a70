package entity

import (
	"strings"

	"github.com/eimshub/eimshub/core/record"

	"github.com/eimshub/eimshub/core/query"
)

// PropType is the type of an entity property (spec §6.2).
type PropType int

// The property types.
const (
	TString   PropType = iota + 1 // string
	TInt                          // integral number, stored int64
	TNumber                       // number, stored float64 (int64 when integral)
	TBool                         // boolean
	TTime                         // epoch ms, stored int64
	TEnum                         // enum: int64 code, accepted as int or name
	TOperator                     // {id, value, label}
	TObject                       // free-form object (nested objects replaced whole)
	TArray                        // free-form array
	TStrings                      // array of strings
	TObjects                      // array of objects with known Sub properties (e.g. user.roles)
	TJSON                         // a JSON object, or a string holding one, stored as given (wfdefinition content)
)

// Prop is one property of an entity kind.
type Prop struct {
	// Name is the canonical (stored and output) camelCase name.
	Name string
	Type PropType
	// Enum maps lower-case names to codes (TEnum).
	Enum map[string]int64
	// Input reports whether callers may set the property on POST/PUT/PATCH.
	Input bool
	// Hidden properties are never output, selected or filtered (passwordHash).
	Hidden bool
	// Sub lists the element properties of a TObjects property.
	Sub []Prop
}

// Nav is a navigation property usable in $expand (spec §7.5).
type Nav struct {
	Name string
	// Target is the entity kind name the navigation leads to.
	Target string
	// Key is the storage path of the joined id in the source document; for a
	// collection (Many) it is the path of the id inside each element of Array.
	Key query.Path
	// Array, for a collection navigation, is the path of the source array.
	Array query.Path
	// Many reports a collection navigation (rendered as an array).
	Many bool
}

// Kind is one entity kind of the catalogue (spec §6.2).
type Kind struct {
	// Name is the canonical entity name (the URL segment in docs).
	Name string
	// Aliases are further names (matched case-insensitively, like Name).
	Aliases []string
	// Coll is the store collection.
	Coll string
	// Props are the kind's own properties (the common ones are added by kind()).
	Props []Prop
	// Writable allows POST/PUT/PATCH; Deletable allows DELETE.
	Writable, Deletable bool
	// AdminOnly restricts writes to principals with the admin role.
	AdminOnly bool
	// NoCreate refuses POST on a Writable kind (its documents come from the
	// system; callers only update them).
	NoCreate bool
	// Owner, when set, is the path of the user id a document belongs to:
	// only that user reads it (administrators read every one) and only
	// that user updates it; to anyone else it does not exist.
	Owner query.Path
	// Navs are the navigations besides creator/updater.
	Navs []Nav
	// AdminRead restricts reads to principals with the admin role (the
	// outbox); see privacy.go.
	AdminRead bool
	// Private are personal properties (a user's phone and e-mail) that only
	// administrators and the document's own user read, filter or sort by;
	// see privacy.go.
	Private []string

	props map[string]*Prop // lower-case name → prop
}

// Prop returns the property named name (case-insensitively).
func (k *Kind) Prop(name string) (*Prop, bool) {
	p, ok := k.props[strings.ToLower(name)]
	return p, ok
}

// Nav returns the navigation named name (case-insensitively).
func (k *Kind) Nav(name string) (*Nav, bool) {
	for i := range k.Navs {
		if strings.EqualFold(k.Navs[i].Name, name) {
			return &k.Navs[i], true
		}
	}
	return nil, false
}

// IsRecord reports whether k is the formdata kind.
func (k *Kind) IsRecord() bool { return k.Coll == collFormData }

// Collections and kind names used by the service's own rules.
const (
	collApp        = "app"
	collForm       = "form"
	collFormData   = "formdata"
	collUser       = "user"
	collDepartment = "department"
	collRole       = "role"
)

// Enums (spec §6.2, §6.3, §7.2 rule 5).
var (
	enumFlowStatus = record.FlowStatusEnum
	enumUserStatus = map[string]int64{"active": 0, "disabled": 1}
	enumCategory   = map[string]int64{"data": 0, "app": 1, "system": 2}
	enumResult     = map[string]int64{"approve": 1, "reject": 2, "return": 3, "withdraw": 8, "transfer": 9}
	enumAction     = map[string]int64{"insert": 1, "update": 2, "delete": 3}
)

func in(name string, t PropType) Prop  { return Prop{Name: name, Type: t, Input: true} }
func out(name string, t PropType) Prop { return Prop{Name: name, Type: t} }
func enumIn(name string, m map[string]int64) Prop {
	return Prop{Name: name, Type: TEnum, Enum: m, Input: true}
}
func enumOut(name string, m map[string]int64) Prop { return Prop{Name: name, Type: TEnum, Enum: m} }

// commonProps are every entity's properties (§6.2); all are server-set.
var commonProps = []Prop{
	out("id", TString),
	out("corpId", TString),
	out("createBy", TOperator),
	out("createTime", TTime),
	out("updateBy", TOperator),
	out("updateTime", TTime),
}

var userNavs = []Nav{
	{Name: "creator", Target: collUser, Key: query.Path{"createBy", "id"}},
	{Name: "updater", Target: collUser, Key: query.Path{"updateBy", "id"}},
}

// kinds is the catalogue. Built-in names win over form keys (§6.2).
var kinds = buildKinds([]*Kind{
	{Name: collApp, Aliases: []string{"App"}, Coll: collApp, Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("name", TString), in("description", TString), in("icon", TString),
			in("iconColor", TString), in("groupId", TString), in("sortIndex", TInt), in("appMenus", TArray),
			in("key", TString)}},
	{Name: collForm, Aliases: []string{"formdef"}, Coll: collForm, Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("appId", TString), in("name", TString), in("key", TString), in("usingWorkflow", TBool),
			in("isLedger", TBool), in("content", TObject), in("templateId", TString), in("formSettings", TObject)},
		Navs: []Nav{{Name: "app", Target: collApp, Key: query.Path{"appId"}}}},
	{Name: collFormData, Aliases: []string{"record"}, Coll: collFormData, Writable: true, Deletable: true,
		Props: []Prop{in("formId", TString), out("appId", TString), enumOut("flowStatus", enumFlowStatus),
			out("dataTitle", TString), in("data", TObject)},
		Navs: []Nav{{Name: "form", Target: collForm, Key: query.Path{"formId"}},
			{Name: "app", Target: collApp, Key: query.Path{"appId"}}}},
	{Name: collUser, Aliases: []string{"employee"}, Coll: collUser, Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("userName", TString), in("code", TString), in("empName", TString),
			in("workPhone", TString), in("workEmail", TString), enumIn("status", enumUserStatus),
			in("departmentId", TString), in("isManager", TBool),
			{Name: "roles", Type: TObjects, Input: true, Sub: []Prop{out("roleId", TString), out("roleName", TString), out("roleCode", TString)}},
			{Name: "password", Type: TString, Input: true, Hidden: true},
			{Name: "passwordHash", Type: TString, Hidden: true}},
		Navs: []Nav{{Name: "department", Target: collDepartment, Key: query.Path{"departmentId"}},
			{Name: "roles", Target: collRole, Array: query.Path{"roles"}, Key: query.Path{"roleId"}, Many: true}},
		Private: []string{"workPhone", "workEmail"}},
	{Name: collDepartment, Coll: collDepartment, Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("code", TString), in("name", TString), in("isCompany", TBool), in("parentId", TString),
			out("parentName", TString), out("heriarchyId", TString), out("heriarchyName", TString),
			in("managerId", TString)},
		Navs: []Nav{{Name: "parent", Target: collDepartment, Key: query.Path{"parentId"}}}},
	{Name: collRole, Coll: collRole, Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("code", TString), in("name", TString), in("description", TString),
			in("roleGroupId", TString), in("sortValue", TInt)}},
	// Workflow and dataflow definitions (§5.2; content validated in flows.go).
	{Name: collWfDefinition, Aliases: []string{"workflowdefinition"}, Coll: collWfDefinition, Writable: true, Deletable: true, AdminOnly: true,
		Props: wfDefinitionProps}, // wfdefinition.go
	{Name: collDfDefinition, Aliases: []string{"dataflowdefinition"}, Coll: collDfDefinition, Writable: true, Deletable: true, AdminOnly: true,
		Props: definitionProps},
	// Read-only listings (their writers come later).
	{Name: "wftodo", Aliases: []string{"task"}, Coll: "wftodo",
		Props: []Prop{out("wfInstanceId", TString), out("approveNodeId", TString), out("approveNodeName", TString),
			out("employeeId", TString), out("appId", TString), out("formId", TString), out("dataId", TString),
			out("starter", TOperator), out("approveNodeStartTime", TTime), out("expireTime", TTime)},
		Navs: []Nav{{Name: "user", Target: collUser, Key: query.Path{"employeeId"}},
			{Name: "record", Target: collFormData, Key: query.Path{"dataId"}}}},
	{Name: "wfapprovallog", Coll: "wfapprovallog",
		Props: []Prop{out("appId", TString), out("formId", TString), out("formName", TString), out("dataId", TString),
			out("wfVersion", TInt), out("nodeId", TString), out("nodeName", TString), out("round", TInt),
			out("approver", TOperator), enumOut("result", enumResult), out("comment", TString),
			out("signature", TString), out("approvalTime", TTime)}},
	{Name: "file", Aliases: []string{"uploadedfile"}, Coll: "file", Deletable: true,
		Props: []Prop{out("fileName", TString), out("savePath", TString), out("thumbPath", TString),
			out("fileExt", TString), out("fileSize", TInt), out("size", TInt), out("contentType", TString),
			out("folder", TString), out("isPublic", TBool), out("url", TString)},
		Navs: []Nav{{Name: "user", Target: collUser, Key: query.Path{"createBy", "id"}}}},
	// In-system messages (§6.2): the system writes them (workflow tasks);
	// their receiver reads them and PATCHes isRead.
	{Name: "message", Aliases: []string{"systemmessage"}, Coll: collMessage, Writable: true, NoCreate: true,
		Owner: query.Path{"receiverEmpId"},
		Props: []Prop{out("title", TString), out("detail", TString), out("url", TString),
			out("receiverEmpId", TString), out("receiverName", TString), in("isRead", TBool),
			out("dataId", TString), out("wfInstanceId", TString),
			out("readTime", TTime), out("expireTime", TTime), enumOut("category", enumCategory)},
		Navs: []Nav{{Name: "user", Target: collUser, Key: query.Path{"receiverEmpId"}}}},
	{Name: "auditlog", Coll: "auditlog",
		Props: []Prop{enumOut("action", enumAction), out("entityType", TString), out("dataId", TString),
			out("detail", TString), out("oldData", TObject), out("newData", TObject)}},
	// Menus and schedules (§6.2, shared with the apicenter dialect): written by admins.
	{Name: "menu", Coll: "menu", Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("name", TString), in("title", TString), in("icon", TString), in("url", TString),
			in("parentId", TString), in("appId", TString), in("sortIndex", TInt)},
		Navs: []Nav{{Name: "parent", Target: "menu", Key: query.Path{"parentId"}},
			{Name: "app", Target: collApp, Key: query.Path{"appId"}}}},
	{Name: "schedule", Coll: "schedule", Writable: true, Deletable: true, AdminOnly: true,
		Props: []Prop{in("name", TString), in("title", TString), in("cron", TString),
			in("startTime", TTime), in("endTime", TTime)}},
	// Outgoing messages: administrators only, codes masked (issue 10 #1).
	{Name: "outbox", Coll: "outbox", AdminRead: true,
		Props: []Prop{out("channel", TString), out("to", TString), out("subject", TString),
			out("body", TString), out("status", TString), out("template", TString), out("purpose", TString)}},
})

// definitionProps are the wfdefinition/dfdefinition properties (§6.2).
var definitionProps = []Prop{in("appId", TString), in("sourceId", TString), in("name", TString), in("version", TInt),
	in("flowType", TString), in("content", TObject), in("key", TString)}

// reservedNames are route segments under /api/v1 that belong to other
// families (or to entities still to come); a form key may not take them.
var reservedNames = []string{"workflow", "dataflow", "upload", "files", "ping", "wfdefinition",
	"workflowdefinition", "dfdefinition", "dataflowdefinition", "connect", "auth", "odata", "api"}

var kindByName map[string]*Kind

func buildKinds(list []*Kind) []*Kind {
	kindByName = map[string]*Kind{}
	for _, k := range list {
		k.Props = append(append([]Prop{}, commonProps...), k.Props...)
		k.Navs = append(append([]Nav{}, userNavs...), k.Navs...)
		k.props = map[string]*Prop{}
		for i := range k.Props {
			k.props[strings.ToLower(k.Props[i].Name)] = &k.Props[i]
		}
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			kindByName[strings.ToLower(n)] = k
		}
	}
	return list
}

// Builtin returns the built-in kind named name (case-insensitive, aliases
// included).
func Builtin(name string) (*Kind, bool) {
	k, ok := kindByName[strings.ToLower(name)]
	return k, ok
}

// Reserved reports whether name is a built-in entity name or alias or
// another reserved route segment (a form key may not use it).
func Reserved(name string) bool {
	if _, ok := Builtin(name); ok {
		return true
	}
	for _, r := range reservedNames {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	return false
}
