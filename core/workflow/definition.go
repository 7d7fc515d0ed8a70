// Package workflow is the hub's approval engine (spec eims-native.md §4, §5.2):
// definitions attached to a form, one instance per record run, pending tasks
// (`wftodo`), the task history (`wfapprovallog`) and the record's flowStatus.
//
// The engine is free of HTTP. Every step (start, agree, reject, transfer,
// withdraw) runs in ONE store transaction together with its record update,
// and the instance document is written with a compare-and-set on its
// revision, so concurrent decisions on one task have exactly one winner (the
// others get errs.Conflict). Which action is allowed in which instance state
// is decided by one table (state.go).
package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
)

// Node types of the §5.2 workflow format.
const (
	NodeStart   = "start"
	NodeApprove = "approve"
	NodeEnd     = "end"
	// NodeCC is a copy-to node (the web client's designer, §12.11): when
	// the flow reaches it, its assignees get an in-system message; it
	// creates no task and the flow moves on.
	NodeCC = "cc"
)

// Approval modes of an approve node (Node.Mode).
const (
	// ModeAny: the first decision closes the node (the default).
	ModeAny = "any"
	// ModeAll: every assignee must agree; one rejection rejects.
	ModeAll = "all"
)

// Assignees names who gets a task at an approval node (§5.2).
type Assignees struct {
	// Users are login names (userName) or user ids.
	Users []string `json:"users,omitempty"`
	// Roles are role codes (user.roles[].roleCode).
	Roles []string `json:"roles,omitempty"`
	// InitiatorManager adds the manager of the initiator's department
	// (department.managerId).
	InitiatorManager bool `json:"initiatorManager,omitempty"`
	// RoleIDs are role ids (user.roles[].roleId), as the web client's
	// designer names roles.
	RoleIDs []string `json:"roleIds,omitempty"`
	// Departments are department ids: their users (departmentId).
	Departments []string `json:"departments,omitempty"`
	// DepartmentTrees are department ids: the users of the department and
	// of all its sub-departments.
	DepartmentTrees []string `json:"departmentTrees,omitempty"`
	// Initiator adds the instance's initiator.
	Initiator bool `json:"initiator,omitempty"`
}

func (a Assignees) empty() bool {
	return len(a.Users) == 0 && len(a.Roles) == 0 && !a.InitiatorManager && len(a.RoleIDs) == 0 &&
		len(a.Departments) == 0 && len(a.DepartmentTrees) == 0 && !a.Initiator
}

// Node is one node of a definition.
type Node struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Name      string    `json:"name,omitempty"`
	Assignees Assignees `json:"assignees,omitempty"`
	// When is a $filter over the record; a false condition skips the node.
	When string `json:"when,omitempty"`
	// Guards are further conditions (all must hold, like When) in the
	// DynamicFilter form of §7.8, compiled onto the same query AST: the
	// branch conditions of the web client's designer (designer.go).
	Guards []Guard `json:"guards,omitempty"`
	// Mode is ModeAny ("" = any) or ModeAll (approve nodes).
	Mode string `json:"mode,omitempty"`
}

// Guard is one condition of Node.Guards: a DynamicFilter (§7.8) over the
// record, negated when Not is set.
type Guard struct {
	Filter json.RawMessage `json:"filter"`
	Not    bool            `json:"not,omitempty"`
}

// Definition is a parsed workflow definition content (§5.2).
type Definition struct {
	Nodes []Node `json:"nodes"`
	// NoWithdraw forbids the initiator's withdraw (§4.3 "if the definition
	// allows"); the default allows it. Written as "allowWithdraw": false.
	NoWithdraw bool `json:"-"`
}

// Limits of a definition.
const (
	MaxNodes   = 100
	MaxWhenLen = 4096 // max length of a `when` condition (the $filter limit)
)

// ParseDefinition parses a definition's `content`: a JSON object, or a JSON
// string holding one (§5.2). Problems are one errs.Invalid with Reason
// "validation_failed" and one detail per problem (target "content/nodes/<i>…").
func ParseDefinition(content any) (*Definition, error) {
	m, err := contentObject(content)
	if err != nil {
		return nil, err
	}
	if IsDesignerFlow(m) {
		return CompileDesigner(m)
	}
	var p problems
	def := &Definition{}
	if v, ok := m["allowWithdraw"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			p.add("content/allowWithdraw", "invalid_type", "allowWithdraw must be a boolean")
		}
		def.NoWithdraw = isBool && !b
	}
	for k := range m {
		switch k {
		case "nodes", "allowWithdraw":
		default:
			p.add("content/"+k, "unknown_property", "unknown property %q", k)
		}
	}
	raw, ok := m["nodes"].([]any)
	if !ok {
		p.add("content/nodes", "required", "nodes must be an array of nodes")
		return nil, p.err()
	}
	if len(raw) > MaxNodes {
		p.add("content/nodes", "too_many", "at most %d nodes", MaxNodes)
		return nil, p.err()
	}
	seen := map[string]bool{}
	for i, r := range raw {
		t := fmt.Sprintf("content/nodes/%d", i)
		obj, ok := r.(map[string]any)
		if !ok {
			p.add(t, "invalid_type", "a node must be an object")
			continue
		}
		n, ok := parseNode(obj, t, &p)
		if !ok {
			continue
		}
		if seen[n.ID] {
			p.add(t+"/id", "duplicate", "node id %q is used twice", n.ID)
		}
		seen[n.ID] = true
		def.Nodes = append(def.Nodes, n)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return def, nil
}

func parseNode(obj map[string]any, t string, p *problems) (Node, bool) {
	var n Node
	str := func(k string) string {
		v, present := obj[k]
		if !present || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			p.add(t+"/"+k, "invalid_type", "%s must be a string", k)
		}
		return s
	}
	n.ID, n.Type, n.Name, n.When, n.Mode = str("id"), str("type"), str("name"), str("when"), str("mode")
	ok := true
	if strings.TrimSpace(n.ID) == "" {
		p.add(t+"/id", "required", "a node needs an id")
		ok = false
	}
	switch n.Type {
	case NodeStart, NodeEnd:
	case NodeApprove, NodeCC:
		a, good := parseAssignees(obj["assignees"], t+"/assignees", p)
		n.Assignees = a
		ok = ok && good
		if len(n.When) > MaxWhenLen {
			p.add(t+"/when", "too_long", "when is longer than %d characters", MaxWhenLen)
			ok = false
		}
		g, good := parseGuards(obj["guards"], t+"/guards", p)
		n.Guards = g
		ok = ok && good
		switch n.Mode {
		case "", ModeAny:
			n.Mode = ""
		case ModeAll:
			if n.Type != NodeApprove {
				p.add(t+"/mode", "invalid_value", "only approve nodes have a mode")
				ok = false
			}
		default:
			p.add(t+"/mode", "invalid_value", "mode must be %q or %q", ModeAny, ModeAll)
			ok = false
		}
	default:
		p.add(t+"/type", "unknown_node_type", "unknown node type %q (start, approve, cc, end)", n.Type)
		ok = false
	}
	for k := range obj {
		switch k {
		case "id", "type", "name", "assignees", "when", "guards", "mode":
		default:
			p.add(t+"/"+k, "unknown_property", "unknown node property %q", k)
			ok = false
		}
	}
	return n, ok
}

func parseAssignees(v any, t string, p *problems) (Assignees, bool) {
	var a Assignees
	m, ok := v.(map[string]any)
	if !ok {
		p.add(t, "required", "an approve node needs assignees {users, roles, roleIds, departments, departmentTrees, initiator, initiatorManager}")
		return a, false
	}
	good := true
	list := func(k string) []string {
		raw, present := m[k]
		if !present || raw == nil {
			return nil
		}
		arr, ok := raw.([]any)
		if !ok {
			p.add(t+"/"+k, "invalid_type", "%s must be an array of strings", k)
			good = false
			return nil
		}
		out := make([]string, 0, len(arr))
		for _, x := range arr {
			s, ok := x.(string)
			if !ok || s == "" {
				p.add(t+"/"+k, "invalid_type", "%s must be an array of non-empty strings", k)
				good = false
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	a.Users, a.Roles = list("users"), list("roles")
	a.RoleIDs, a.Departments, a.DepartmentTrees = list("roleIds"), list("departments"), list("departmentTrees")
	flag := func(k string) bool {
		v, present := m[k]
		if !present || v == nil {
			return false
		}
		b, ok := v.(bool)
		if !ok {
			p.add(t+"/"+k, "invalid_type", "%s must be a boolean", k)
			good = false
		}
		return b
	}
	a.InitiatorManager, a.Initiator = flag("initiatorManager"), flag("initiator")
	for k := range m {
		switch k {
		case "users", "roles", "initiatorManager", "roleIds", "departments", "departmentTrees", "initiator":
		default:
			p.add(t+"/"+k, "unknown_property", "unknown assignee kind %q", k)
			good = false
		}
	}
	if good && a.empty() {
		p.add(t, "required", "an approve node needs at least one assignee")
		good = false
	}
	return a, good
}

// contentObject accepts an object or a JSON string holding one.
func contentObject(content any) (map[string]any, error) {
	switch c := content.(type) {
	case map[string]any:
		return c, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(c), &m); err != nil || m == nil {
			return nil, errs.Invalidf("content is not a JSON object").WithReason("validation_failed").WithTarget("content")
		}
		return m, nil
	case nil:
		return nil, errs.Invalidf("content is required").WithReason("validation_failed").WithTarget("content")
	}
	// Typed Go values (e.g. a seed): round-trip through JSON.
	b, err := json.Marshal(content)
	if err != nil {
		return nil, errs.Invalidf("content is not a JSON object").WithReason("validation_failed").WithTarget("content")
	}
	return contentObject(string(b))
}

// ToContent renders d in the §5.2 format (an object).
func (d *Definition) ToContent() map[string]any {
	nodes := make([]any, 0, len(d.Nodes))
	for _, n := range d.Nodes {
		m := map[string]any{"id": n.ID, "type": n.Type}
		if n.Name != "" {
			m["name"] = n.Name
		}
		if n.When != "" {
			m["when"] = n.When
		}
		if n.Type == NodeApprove || n.Type == NodeCC {
			a := map[string]any{}
			for k, v := range map[string][]string{"users": n.Assignees.Users, "roles": n.Assignees.Roles,
				"roleIds": n.Assignees.RoleIDs, "departments": n.Assignees.Departments,
				"departmentTrees": n.Assignees.DepartmentTrees} {
				if len(v) > 0 {
					a[k] = toAny(v)
				}
			}
			if n.Assignees.InitiatorManager {
				a["initiatorManager"] = true
			}
			if n.Assignees.Initiator {
				a["initiator"] = true
			}
			m["assignees"] = a
			if n.Mode != "" {
				m["mode"] = n.Mode
			}
			if len(n.Guards) > 0 {
				gs := make([]any, 0, len(n.Guards))
				for _, g := range n.Guards {
					var f any
					_ = json.Unmarshal(g.Filter, &f)
					gm := map[string]any{"filter": f}
					if g.Not {
						gm["not"] = true
					}
					gs = append(gs, gm)
				}
				m["guards"] = gs
			}
		}
		nodes = append(nodes, m)
	}
	out := map[string]any{"nodes": nodes}
	if d.NoWithdraw {
		out["allowWithdraw"] = false
	}
	return out
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// problems collects validation details.
type problems []errs.Detail

func (p *problems) add(target, code, format string, args ...any) {
	*p = append(*p, errs.Detail{Code: code, Message: fmt.Sprintf(format, args...), Target: target})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return errs.Invalidf("the workflow definition is invalid").WithReason("validation_failed").
		WithTarget("content").WithDetails(p...)
}
