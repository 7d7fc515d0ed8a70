package eoffice

import (
	"strings"

	"github.com/eimshub/eimshub/plugins/sdk"
)

// This file is the connector's one place for error codes (spec §6): every
// code it emits with its HTTP status and its en / zh-CN messages, and the
// mapping of Host API errors onto them.

// Error is an e-office business error: Code is the catalogue code
// ("0x003003"), Message a dynamic text replacing the catalogue's (empty =
// the catalogue's in the call's language), Field fills the catalogue's
// {field} placeholder. Handlers return it as an error; the envelope
// helpers render it.
type Error struct {
	Code    string
	Message string
	Field   string
	// Messages are further entries of a validation failure (one per
	// failed rule, all with Code).
	Messages []string
	// Status overrides the catalogue's HTTP status (0 = the catalogue's).
	Status int
	// Err is the cause (logs only).
	Err error
}

func (e *Error) Error() string {
	if e.Message != "" {
		return e.Code + ": " + e.Message
	}
	return e.Code + ": " + message(e.Code, LangEN, e.Field)
}

func (e *Error) Unwrap() error { return e.Err }

// Fail returns the catalogue error code.
func Fail(code string) *Error { return &Error{Code: code} }

// FailField returns the catalogue error code with its {field} filled in
// (0x000007 "Field {field} is illegal").
func FailField(code, field string) *Error { return &Error{Code: code, Field: field} }

// FailMsg returns the error code with a dynamic message (0x016021 "…is
// required", validation texts).
func FailMsg(code, msg string) *Error { return &Error{Code: code, Message: msg} }

// Languages of messages (§1.2).
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// NormLang maps a client's language code to LangEN or LangZH (default).
func NormLang(s string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "en") {
		return LangEN
	}
	return LangZH
}

type entry struct {
	status int
	en, zh string
}

// Catalogue codes (§6). Exported names only for the codes other files
// branch on; the table below is the source of truth.
const (
	CodeNoToken        = "0x003001"
	CodeInvalidToken   = "0x003003"
	CodeTokenExpired   = "0x003008"
	CodeNoUser         = "0x003009"
	CodeSessionExpired = "0x003068"
	CodeAPIError       = "0x000013"
	CodeIllegalField   = "0x000007"
	CodeMissing        = "0x000001"
	CodeUnknown        = "0x000003"
	CodePermission     = "0x000006"
	CodeRateLimited    = "0x000018"
	CodeExists         = "0x000020"
	CodeNotExists      = "0x000021"
	CodeMySQL          = "0x000022"
	CodeRedis          = "0x000023"
	CodeValidation     = "0x000111"
)

var catalogue = map[string]entry{
	// 6.1 transport and auth
	"0x003001": {401, "No token provided", "没有提供令牌"},
	"0x003003": {401, "Invalid token", "无效令牌"},
	"0x003008": {401, "Token expired", "令牌过期"},
	"0x003068": {401, "Session expiration", "会话过期"},
	"0x500003": {200, "Failed to get token, please try again", "获取token失败，请重试"},
	"0x500001": {200, "Missing or null necessary parameters, please check carefully", "缺少必要参数或必要参数为空，请仔细检查"},
	"0x500002": {200, "Application parameters are wrong or the application is closed. Please check carefully", "应用相关参数错误或应用被关闭，请仔细检查"},
	"0x003009": {200, "No user found", "没有找到用户"},
	"0x000009": {200, "Ip restricted", "ip受限制"},
	"0x003070": {401, "refresh_token get token empty", "refresh_token获取token为空"},
	"0x000024": {200, "There is no access to the :module", "暂无访问:module模块的权限"},
	"0x000006": {200, "Permission denied", "没有权限"},
	// 6.2 generic
	"0x000013": {200, "Api error", "api错误"},
	"0x000007": {200, "Field {field} is illegal", "字段{field}不合法"},
	"0x000001": {200, "Missing required items", "缺少必填项"},
	"0x000003": {200, "Unknown mistake", "未知错误"},
	"0x000017": {200, "No operation authority", "没有操作权限"},
	"0x000018": {200, "Request failed", "请求失败"},
	"0x000020": {200, "The data already exists and does not need to be added", "数据已存在,不需要新增"},
	"0x000021": {200, "Data does not exist and cannot be updated", "数据不存在,无法更新"},
	"0x000022": {200, "Mysql connection failed, check if MySQL service is turned on", "mysql连接失败，请检查MySQL服务是否开启"},
	"0x000023": {200, "Service connection such as redis failed. Please check if services such as redis are enabled", "redis等服务连接失败，请检查redis等服务是否开启"},
	// 6.3 workflow
	"0x030001":                {200, "Workflow does not exist", "流程不存在"},
	"0x030002":                {200, "The serial number has reached the set upper limit, please contact the administrator", "流水号已经达到设置的上限，请联系管理员"},
	"0x030003":                {200, "The serial number is the same as the historical serial number, please modify", "流水号跟历史流水号重复，请修改"},
	"0x030005":                {200, "Workflow submitted or commissioned", "流程已提交或委托"},
	"0x030006":                {200, "This workflow has been processed", "此流程已经办理，建议刷新列表或页面"},
	"0x030012":                {200, "Please specify the next person", "请指定下一步的办理人员"},
	"0x030022":                {200, "No permission for this workflow", "没有此流程的办理权限"},
	"0x030024":                {200, "Workflow creation failed", "流程创建失败"},
	"0x030127":                {200, "Not meeting the export conditions", "不满足出口条件"},
	"0x030128":                {200, "The current node needs countersigning and some people have not handled", "当前节点需要会签且有人员未办理"},
	"0x030161":                {200, "The workflow title is ncorrect", "流程标题有误"},
	"0x030162":                {200, "Please fill in the workflow title", "请填写流程标题"},
	"0x030163":                {200, "Detail layout control【:control_title】has required fields that are not filled in", "明细控件【:control_title】有必填字段未填写"},
	"0x030164":                {200, "Required field【:control_title】is empty", "必填字段【:control_title】未填写"},
	"0x030165":                {200, "Please fill in the feedback form", "请填写签办反馈"},
	"0x030166":                {200, "Please upload relevant attachments", "请上传相关附件"},
	"0x030168":                {200, "Data validation failed", "数据验证失败"},
	"0x030169":                {200, "The urging time cannot be earlier than the current time", "超时时间不能早于当前时间"},
	"flow_have_end":           {200, "This flow had been closed", "此流程已提交"},
	"flow_have_takeback":      {200, "This flow had been submit", "此流程已提交"},
	"already_overtime_submit": {200, "The process has been submitted automatically after timeout, it is recommended to refresh the list or page", "流程已被超时自动提交，建议刷新列表或页面"},
	// 6.4 other modules
	"0x002001": {200, "Department ID is empty", "部门ID为空"},
	"0x002004": {200, "Users under this department", "该部门下存在用户"},
	"0x002005": {200, "There is a subsector under this department", "该部门下存在子部门"},
	"0x002006": {200, "Department name is empty", "部门名称为空"},
	"0x002007": {200, "Department name can not repeat under the same level", "同一级下部门名不能重复！"},
	"0x002008": {200, "Cannot set subsector to upper department", "不能设置子部门为上级部门"},
	"0x002011": {200, "The name of the parent department cannot be the same as the name of the direct subordinate department", "父级部门名称不能和直接下级部门名称相同"},
	"0x005003": {200, "Username already exists", "用户名已存在"},
	"0x005005": {200, "Job number already exists", "工号已存在"},
	"0x005006": {200, "Phone number already exists", "手机号码已存在"},
	"0x005008": {200, "Do not leave blank for real name", "真实姓名不能为空"},
	"0x005009": {200, "Username can not be empty", "用户名不能为空"},
	"0x005010": {200, "Role ID cannot be empty", "角色ID不能为空"},
	"0x005011": {200, "Department ID cannot be empty", "部门ID不能为空"},
	"0x005087": {200, "System administrator cannot be deleted", "系统管理员不能被删除"},
	"0x006002": {200, "Submit data exception", "提交数据异常"},
	"0x011006": {200, "No temporary folder found", "找不到临时文件夹"},
	"0x011007": {200, "File write failed", "文件写入失败"},
	"0x011011": {200, "The file type is illegal", "文件类型不合法"},
	"0x011012": {200, "file size too big", "文件太大"},
	"0x011017": {200, "file does not exist", "文件不存在"},
	"0x011028": {200, "Unsafe file suffix", "非法的文件后缀"},
	"0x016019": {200, "Custom field data table does not exist", "自定义字段数据表不存在"},
	"0x016020": {200, "Deleted data ID cannot be empty", "删除的数据ID不能为空"},
	"0x016021": {200, "Required field is empty", "必填字段为空"},
	"0x016022": {200, "Attachment is a single upload", "附件为单个上传"},
	"0x016026": {200, "No view permission", "没有查看权限"},
	"0x016027": {200, "No edit permission", "没有编辑权限"},
	"0x016028": {200, "No delete permission", "没有删除权限"},
	"0x016029": {200, "No new permissions", "没有新建权限"},
	"0x016031": {200, "Field already exists", "字段已存在"},
	"0x016035": {200, "The data does not exist", "数据不存在"},
	"0x016038": {200, "Attachment upload failed", "附件上传失败"},
	"0x041016": {200, "You do not have permission to create new documents under this folder", "您没有在该文件夹下新建文档的权限"},
	"0x041017": {200, "Document id cannot be empty", "文档id不能为空"},
	"0x041027": {200, "You do not have permission to view this document or the document has been deleted", "您没有该文档的查看权限或该文档已删除"},
	"0x041033": {200, "Document does not exist", "文档不存在"},
}

// message returns code's message in lang with {field} filled in. A code
// without an entry is its own message (the framework's untranslated key).
func message(code, lang, field string) string {
	e, ok := catalogue[code]
	if !ok {
		return code
	}
	m := e.zh
	if lang == LangEN {
		m = e.en
	}
	if field != "" {
		m = strings.ReplaceAll(m, "{field}", field)
	}
	return m
}

// StatusOf returns the HTTP status of code (200 except the token codes).
func StatusOf(code string) int {
	if e, ok := catalogue[code]; ok && e.status != 0 {
		return e.status
	}
	return 200
}

// FromHost maps a Host API error onto the catalogue (§6 "core-error
// mapping"): notFound is the module's not-found error (nil = 0x000021),
// Invalid with a data target names the field (0x000007), Conflict is
// 0x000020, Forbidden 0x000006, Unavailable 0x000022, anything else
// 0x000013. An *Error passes through.
func FromHost(err error, notFound *Error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if as(err, &e) {
		return e
	}
	he := sdk.AsError(err)
	switch he.Code {
	case sdk.NotFound:
		if notFound != nil {
			return &Error{Code: notFound.Code, Message: notFound.Message, Field: notFound.Field, Err: err}
		}
		return &Error{Code: CodeNotExists, Err: err}
	case sdk.Invalid:
		field := strings.TrimPrefix(he.Target, "data/")
		if field == "" {
			return &Error{Code: CodeUnknown, Message: he.Msg, Err: err}
		}
		return &Error{Code: CodeIllegalField, Field: field, Err: err}
	case sdk.Conflict:
		return &Error{Code: CodeExists, Err: err}
	case sdk.Forbidden:
		return &Error{Code: CodePermission, Err: err}
	case sdk.RateLimited:
		return &Error{Code: CodeRateLimited, Err: err}
	case sdk.Unauthorized:
		return &Error{Code: CodeInvalidToken, Err: err}
	case sdk.Unavailable:
		return &Error{Code: CodeMySQL, Err: err}
	}
	return &Error{Code: CodeAPIError, Err: err}
}
