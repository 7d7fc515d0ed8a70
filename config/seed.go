package config

import "gopkg.in/yaml.v3"

// Tenant is one seeded tenant (corporation) with everything it owns. Seeding
// creates what is missing and leaves existing records alone; references
// between entries use codes, user names and keys, never store ids.
type Tenant struct {
	// ID is the tenant id (JWT `corp`). Required.
	ID string `yaml:"id"`
	// Name is the display name. Default: the id.
	Name string `yaml:"name"`
	// RateLimit is the default rate of this tenant's clients that set none
	// ("<n>-<S|M|H|D>"). Default: "" (limits.defaultRate).
	RateLimit string `yaml:"rateLimit"`
	// AllowRegister lets /auth/sendcode send type=register codes to numbers
	// that belong to no user of this tenant (self-registration); such codes
	// are limited by auth.smsUnknownNumbersPerIP and
	// auth.smsUnknownNumbersPerHour. Default: false (400 for type=register).
	AllowRegister bool `yaml:"allowRegister"`
	// Clients are the OAuth clients of this tenant. Default: none.
	Clients []Client `yaml:"clients"`
	// Roles are the roles users refer to by code. Default: none.
	Roles []Role `yaml:"roles"`
	// Departments form the department tree. Default: none.
	Departments []Department `yaml:"departments"`
	// Users are the tenant's users. Default: none.
	Users []User `yaml:"users"`
	// Apps group forms. Default: none.
	Apps []App `yaml:"apps"`
	// Forms are the form schemas. Default: none.
	Forms []Form `yaml:"forms"`
	// Workflows are workflow definitions (start, approve and end nodes with
	// assignees and `when` conditions; docs/FLOWS.md walks one), created at start-up when their key is missing. Default: none.
	Workflows []Flow `yaml:"workflows"`
	// Dataflows are dataflow definitions (inputs and script nodes run in the
	// sandboxed script engine), created at start-up when
	// their key is missing. Default: none.
	Dataflows []Flow `yaml:"dataflows"`
}

// Flow is a workflow or dataflow definition to seed.
type Flow struct {
	// Key is the API name clients pass as flowDefinitionId or
	// dataFlowDefinitionId. Required.
	Key string `yaml:"key"`
	// Name is the display name. Default: the key.
	Name string `yaml:"name"`
	// Form is the key of the form a workflow runs on (workflows only).
	// Default: "".
	Form string `yaml:"form"`
	// Version is the definition version. Default: 1.
	Version int64 `yaml:"version"`
	// Content is the definition (nodes, inputs; the [definition format](spec/eims-native.md#52-definition-content-hub-format-design)),
	// validated by the engine at start-up. Required.
	Content yaml.Node `yaml:"content"`
}

// Client is an OAuth client of the token endpoint (/connect/token). Client ids are unique across all
// tenants: the token endpoint finds the tenant from the client.
type Client struct {
	// ID is the client_id. Required.
	ID string `yaml:"id"`
	// Secret is the client_secret in plain text (stored hashed); use
	// "${ENV}" to keep it out of the file. Required unless public.
	// Default: "".
	Secret string `yaml:"secret"`
	// Public marks a client without a secret (e.g. a browser app).
	// Default: false.
	Public bool `yaml:"public"`
	// Name is the display name. Default: the id.
	Name string `yaml:"name"`
	// Grants are the allowed grant types: password, code,
	// verification_code, refresh_token, client_credentials, sso. Required.
	Grants []string `yaml:"grants"`
	// Scopes are the allowed scopes, as a list or one space-separated
	// string (e.g. "openid profile api.readwrite"). Required.
	Scopes SpaceList `yaml:"scopes"`
	// AccessTokenTTL overrides auth.accessTokenTTL for this client.
	// Default: 0 (auth.accessTokenTTL).
	AccessTokenTTL Duration `yaml:"accessTokenTTL"`
	// RateLimit overrides limits.defaultRate for this client ("5-S").
	// Default: "" (limits.defaultRate).
	RateLimit string `yaml:"rateLimit"`
	// ConnectorRates override the client's rate on one connector, keyed by
	// connector id (e.g. {h3yun: "2-S"}); each has its own budget.
	// Default: none.
	ConnectorRates map[string]string `yaml:"connectorRates"`
	// ServiceUser is the userName a client_credentials token acts as;
	// required with that grant. Default: "".
	ServiceUser string `yaml:"serviceUser"`
}

// Role is a role users hold (entity `role`); the code "admin" grants administration.
type Role struct {
	// Code is the role's key, used by users.roles. Required.
	Code string `yaml:"code"`
	// Name is the display name. Default: the code.
	Name string `yaml:"name"`
	// Description is free text. Default: "".
	Description string `yaml:"description"`
	// Aliases are this role's ids in other systems, keyed by dialect
	// namespace, e.g. {eoffice: "1"} (an e-office role_id): the connectors
	// of that namespace show and accept them (core/alias). Unique per
	// tenant, namespace and kind; a value already bound to another role
	// stops the start-up. Default: none.
	Aliases map[string]string `yaml:"aliases"`
}

// Department is a node of the department tree.
type Department struct {
	// Code is the department's key, used by parent and users.department.
	// Required.
	Code string `yaml:"code"`
	// Name is the display name. Default: the code.
	Name string `yaml:"name"`
	// Parent is the parent department's code. Default: "" (top level).
	Parent string `yaml:"parent"`
	// Manager is the userName of the department's manager. Default: "".
	Manager string `yaml:"manager"`
	// Aliases are this department's ids in other systems, keyed by dialect
	// namespace (a lower-case name such as h3yun or eoffice), e.g.
	// {h3yun: 6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40, eoffice: WV00000418}:
	// the connectors of that namespace show and accept them (core/alias).
	// Unique per tenant, namespace and kind; a value already bound to
	// another department stops the start-up. Default: none.
	Aliases map[string]string `yaml:"aliases"`
}

// User is a user (employee) of the tenant.
type User struct {
	// UserName is the login name, unique in the tenant. Required.
	UserName string `yaml:"userName"`
	// Password is the password in plain text (stored hashed); use "${ENV}"
	// to keep it out of the file. Empty means no password login (SMS code
	// only). Default: "".
	Password string `yaml:"password"`
	// Code is the employee code (Operator `value`). Default: "".
	Code string `yaml:"code"`
	// Name is the display name (`empName`). Default: the userName.
	Name string `yaml:"name"`
	// Phone is the mobile number (`workPhone`), used by SMS code login;
	// unique in the tenant. Default: "".
	Phone string `yaml:"phone"`
	// Email is the e-mail address (`workEmail`). Default: "".
	Email string `yaml:"email"`
	// Department is the code of the user's department. Default: "".
	Department string `yaml:"department"`
	// Roles are role codes. Default: none.
	Roles []string `yaml:"roles"`
	// Manager marks the user as a manager (`isManager`). Default: false.
	Manager bool `yaml:"manager"`
	// Aliases are this user's ids in other systems, keyed by dialect
	// namespace (a lower-case name such as h3yun or eoffice), e.g.
	// {h3yun: 6c0a4b3e-2f1d-4e55-9a77-0b8c1d2e3f40, eoffice: WV00000418}:
	// the connectors of that namespace show and accept them (core/alias).
	// Unique per tenant, namespace and kind; a value already bound to
	// another user stops the start-up. Default: none.
	Aliases map[string]string `yaml:"aliases"`
}

// App groups forms.
type App struct {
	// Key is the app's key, used by forms.app. Required.
	Key string `yaml:"key"`
	// Name is the display name. Default: the key.
	Name string `yaml:"name"`
	// Description is free text. Default: "".
	Description string `yaml:"description"`
}

// Form is a form schema (entity `form`; its records are entity `formdata`
// and, by the form's key, `/api/v1/<key>`).
type Form struct {
	// Key is the form's API name (the entity name of its records, e.g.
	// /api/v1/contract); unique in the tenant, not a built-in entity name.
	// Required.
	Key string `yaml:"key"`
	// Name is the display name. Default: the key.
	Name string `yaml:"name"`
	// App is the key of the form's app. Required.
	App string `yaml:"app"`
	// UsingWorkflow makes records start as drafts for approval.
	// Default: false.
	UsingWorkflow bool `yaml:"usingWorkflow"`
	// Fields are the form's fields. Required.
	Fields []Field `yaml:"fields"`
	// Aliases are this form's names in other systems, keyed by dialect
	// namespace, e.g. {h3yun: D000123contract} (an H3Yun SchemaCode): the
	// connectors of that namespace accept them in place of the key.
	// Unique per tenant and namespace; a value already bound to another
	// form stops the start-up. Default: none.
	Aliases map[string]string `yaml:"aliases"`
}

// Field is one field of a form (an item of the form's `content.items`).
type Field struct {
	// Field is the key in record `data`: letters, digits and "_", not
	// starting with a digit. Required.
	Field string `yaml:"field"`
	// Type is one of input, textarea, number, timestamp, radio, select,
	// checkbox, select2, employee1, employee2, department1, department2,
	// imageupload, fileupload, tableform. Required.
	Type string `yaml:"type"`
	// Title is the label. Default: the field key.
	Title string `yaml:"title"`
	// Required makes the field mandatory on create. Default: false.
	Required bool `yaml:"required"`
	// Hidden hides the field in forms. Default: false.
	Hidden bool `yaml:"hidden"`
	// Options are the choices of radio, select, checkbox and select2
	// fields (required there), each a string or {value, label}.
	// Default: none.
	Options []Option `yaml:"options"`
	// Columns are the child fields of a tableform (required there; no
	// nested tableform). Default: none.
	Columns []Field `yaml:"columns"`
}
