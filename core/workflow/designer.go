package workflow

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/eimshub/eimshub/core/errs"
	"github.com/eimshub/eimshub/core/query"
	"github.com/eimshub/eimshub/core/schema"
)

// The web client's workflow designer (spec eims-native.md §12.11, D-12.5)
// saves a definition's content as its own flow data, a JSON string:
//
//	{startNode, nodes: [...], endNode, eventSource?, workflowMeta?}
//
// a node being {id, name, nodeType, metadata, conditionData?, childNodes?}.
// The hub keeps that string as it is and compiles it onto its own linear
// model (§5.2) whenever it needs the definition:
//
//	nodeType 7 approval   → an approve node; metadata.approveMeta.approvalCandidates
//	                        → assignees (1 department, 2 employee, 3 role,
//	                        4 dynamic "starter"; cascadedDept → the department's
//	                        tree); approveMode 1 → mode any, 2 → mode all
//	nodeType 8 copy-to    → a cc node (metadata.copytoMeta.approvalCandidates)
//	nodeType 3 branch     → its branch items (4) in order: the nodes of item i
//	                        get the guards "condition i holds and no earlier
//	                        condition holds"; the "otherwise" item (6) gets
//	                        "no other condition holds". Conditions are the
//	                        designer's condition lists (§7.8 DynamicFilter),
//	                        evaluated on the same query AST as `when`.
//
// Constructs without a core equivalent — parallel branches (17), dataflow
// nodes (9–16), automatic approval (approveMode 3), dynamic candidates other
// than "starter", an approval node without candidates — fail the compile
// with a validation error naming the node (CompileDesigner; the entity layer
// lets such drafts be saved and refuses them on activation).

// Designer node types (FlowNodeType of the web client).
const (
	dnStart      = 1
	dnEnd        = 2
	dnBranch     = 3
	dnBranchItem = 4
	dnCondition  = 5
	dnOtherwise  = 6
	dnApprove    = 7
	dnCopyTo     = 8
	dnParallel   = 17
)

// Designer candidate types (CandidateType of the web client).
const (
	candDepartment = 1
	candEmployee   = 2
	candRole       = 3
	candDynamic    = 4
)

// maxDesignerDepth bounds branch nesting.
const maxDesignerDepth = 16

// IsDesignerFlow reports whether a definition content object is the web
// client designer's flow data (it has startNode or endNode) rather than the
// §5.2 format.
func IsDesignerFlow(m map[string]any) bool {
	_, s := m["startNode"]
	_, e := m["endNode"]
	return s || e
}

// IsDesignerContent is IsDesignerFlow for a content as stored or sent (an
// object, or a string holding one); false when it is neither.
func IsDesignerContent(content any) bool {
	m, err := contentObject(content)
	return err == nil && IsDesignerFlow(m)
}

// CheckDesigner is the lenient check of designer flow data made when a
// draft is saved: the content must be a JSON object with a nodes array of
// node objects; what the compile would refuse (unsupported constructs) is
// not an error yet.
func CheckDesigner(content any) error {
	m, err := contentObject(content)
	if err != nil {
		return err
	}
	var p problems
	if nodes, ok := m["nodes"].([]any); !ok && m["nodes"] != nil {
		p.add("content/nodes", "invalid_type", "nodes must be an array of nodes")
	} else {
		for i, n := range nodes {
			if _, ok := n.(map[string]any); !ok {
				p.add(fmt.Sprintf("content/nodes/%d", i), "invalid_type", "a node must be an object")
			}
		}
	}
	return p.err()
}

// CompileDesigner compiles designer flow data (see the comment above) to a
// Definition. Problems are one errs.Invalid (Reason validation_failed) with
// a detail per node at fault, its target "content/nodes/<node id>".
func CompileDesigner(m map[string]any) (*Definition, error) {
	c := &compiler{seen: map[string]bool{}}
	nodes, ok := m["nodes"].([]any)
	if !ok && m["nodes"] != nil {
		c.p.add("content/nodes", "invalid_type", "nodes must be an array of nodes")
		return nil, c.p.err()
	}
	start, _ := m["startNode"].(map[string]any)
	startID, _ := start["id"].(string)
	if startID == "" {
		startID = "start"
	}
	c.def.Nodes = append(c.def.Nodes, Node{ID: startID, Type: NodeStart, Name: nameOf(start, "")})
	c.seen[startID] = true
	c.list(nodes, nil, 0)
	end, _ := m["endNode"].(map[string]any)
	endID, _ := end["id"].(string)
	if endID == "" || c.seen[endID] {
		endID = "end"
	}
	if !c.seen[endID] {
		c.def.Nodes = append(c.def.Nodes, Node{ID: endID, Type: NodeEnd, Name: nameOf(end, "")})
	}
	if len(c.def.Nodes) > MaxNodes {
		c.p.add("content/nodes", "too_many", "at most %d nodes", MaxNodes)
	}
	if err := c.p.err(); err != nil {
		return nil, err
	}
	return &c.def, nil
}

type compiler struct {
	def  Definition
	p    problems
	seen map[string]bool
}

func nameOf(n map[string]any, def string) string {
	if s, _ := n["name"].(string); s != "" {
		return s
	}
	return def
}

// list compiles a node list under the guards inherited from enclosing branches.
func (c *compiler) list(nodes []any, guards []Guard, depth int) {
	for i, raw := range nodes {
		n, ok := raw.(map[string]any)
		if !ok {
			c.p.add(fmt.Sprintf("content/nodes/%d", i), "invalid_type", "a node must be an object")
			continue
		}
		c.node(n, guards, depth)
	}
}

func (c *compiler) node(n map[string]any, guards []Guard, depth int) {
	id, _ := n["id"].(string)
	t := "content/nodes/" + id
	if id == "" {
		c.p.add("content/nodes", "required", "a node needs an id")
		return
	}
	if c.seen[id] {
		c.p.add(t, "duplicate", "node id %q is used twice", id)
		return
	}
	c.seen[id] = true
	typ, _ := intOf(n["nodeType"])
	meta, _ := n["metadata"].(map[string]any)
	name := nameOf(n, id)
	switch typ {
	case dnApprove:
		am, _ := meta["approveMeta"].(map[string]any)
		out := Node{ID: id, Type: NodeApprove, Name: name, Guards: guards}
		mode, _ := intOf(am["approveMode"])
		switch mode {
		case 0, 1:
		case 2:
			out.Mode = ModeAll
		case 3:
			c.p.add(t, "unsupported", "node %q (%s): automatic approval (approveMode 3) is not supported", name, id)
			return
		default:
			c.p.add(t, "invalid_value", "node %q (%s): unknown approveMode %d", name, id, mode)
			return
		}
		a, ok := c.candidates(am["approvalCandidates"], t, name, id)
		if !ok {
			return
		}
		if a.empty() {
			c.p.add(t, "required", "node %q (%s) has no approver", name, id)
			return
		}
		out.Assignees = a
		c.def.Nodes = append(c.def.Nodes, out)
		// An approval node may copy its decision to others: a cc node after it.
		if en, _ := am["enableCopyto"].(bool); en {
			cc, ok := c.candidates(am["copytoCandidates"], t, name, id)
			if ok && !cc.empty() {
				c.def.Nodes = append(c.def.Nodes, Node{ID: id + ".cc", Type: NodeCC, Name: name, Guards: guards, Assignees: cc})
			}
		}
	case dnCopyTo:
		cm, _ := meta["copytoMeta"].(map[string]any)
		a, ok := c.candidates(cm["approvalCandidates"], t, name, id)
		if !ok || a.empty() {
			return // a copy-to node without receivers copies to nobody
		}
		c.def.Nodes = append(c.def.Nodes, Node{ID: id, Type: NodeCC, Name: name, Guards: guards, Assignees: a})
	case dnBranch:
		if depth >= maxDesignerDepth {
			c.p.add(t, "too_deep", "node %q (%s): branches nested deeper than %d", name, id, maxDesignerDepth)
			return
		}
		c.branch(n, guards, depth)
	case dnParallel:
		c.p.add(t, "unsupported", "node %q (%s): parallel branches are not supported", name, id)
	case dnStart, dnEnd, dnBranchItem, dnCondition, dnOtherwise:
		c.p.add(t, "invalid_value", "node %q (%s): node type %d is not allowed here", name, id, typ)
	default:
		c.p.add(t, "unsupported", "node %q (%s): node type %d is not a workflow node", name, id, typ)
	}
}

// branch compiles an exclusive branch: item i's nodes run when its
// condition holds and no earlier item's does; the otherwise item's when no
// other item's condition holds.
func (c *compiler) branch(n map[string]any, guards []Guard, depth int) {
	items, _ := n["childNodes"].([]any)
	type arm struct {
		cond      json.RawMessage
		otherwise bool
		nodes     []any
	}
	var arms []arm
	for _, raw := range items {
		it, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		id, _ := it["id"].(string)
		t := "content/nodes/" + id
		if typ, _ := intOf(it["nodeType"]); typ != dnBranchItem {
			c.p.add(t, "invalid_value", "a branch holds branch items (node type 4), not %d", typ)
			continue
		}
		if id != "" {
			if c.seen[id] {
				c.p.add(t, "duplicate", "node id %q is used twice", id)
				continue
			}
			c.seen[id] = true
		}
		var a arm
		a.nodes, _ = it["childNodes"].([]any)
		cd, _ := it["conditionData"].(map[string]any)
		switch typ, _ := intOf(cd["nodeType"]); typ {
		case dnOtherwise:
			a.otherwise = true
		case dnCondition, 0:
			meta, _ := cd["metadata"].(map[string]any)
			cm, _ := meta["conditionMeta"].(map[string]any)
			raw, err := json.Marshal(cm["condition"])
			if err != nil || cm["condition"] == nil {
				raw = json.RawMessage(`{}`)
			}
			a.cond = raw
		default:
			c.p.add(t, "invalid_value", "a branch item's condition has node type %d", typ)
			continue
		}
		arms = append(arms, a)
	}
	for i, a := range arms {
		g := append([]Guard(nil), guards...)
		for j, b := range arms {
			switch {
			case b.otherwise || j == i:
			case a.otherwise || j < i:
				g = append(g, Guard{Filter: b.cond, Not: true})
			}
		}
		if !a.otherwise {
			g = append(g, Guard{Filter: a.cond})
		}
		c.list(a.nodes, g, depth+1)
	}
}

// candidates reads a designer candidate list [{candidateType, candidateId,
// cascadedDept}] as Assignees.
func (c *compiler) candidates(v any, t, name, id string) (Assignees, bool) {
	var a Assignees
	list, _ := v.([]any)
	ok := true
	for _, raw := range list {
		cm, _ := raw.(map[string]any)
		typ, _ := intOf(cm["candidateType"])
		cid, _ := cm["candidateId"].(string)
		if cid == "" {
			continue
		}
		switch typ {
		case candDepartment:
			if b, _ := cm["cascadedDept"].(bool); b {
				a.DepartmentTrees = append(a.DepartmentTrees, cid)
			} else {
				a.Departments = append(a.Departments, cid)
			}
		case candEmployee:
			a.Users = append(a.Users, cid)
		case candRole:
			a.RoleIDs = append(a.RoleIDs, cid)
		case candDynamic:
			if cid != "starter" {
				c.p.add(t, "unsupported", "node %q (%s): dynamic candidate %q is not supported (only \"starter\")", name, id, cid)
				ok = false
				continue
			}
			a.Initiator = true
		default:
			c.p.add(t, "unsupported", "node %q (%s): candidate type %d is not supported", name, id, typ)
			ok = false
		}
	}
	return a, ok
}

// intOf reads a number sent as a JSON number or a numeric string (the
// client sends enums either way).
func intOf(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), float64(int64(x)) == x
	case int64:
		return x, true
	case int:
		return int64(x), true
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return i, err == nil
	}
	return 0, false
}

// parseGuards reads the §5.2 "guards" of a node: [{filter, not}].
func parseGuards(v any, t string, p *problems) ([]Guard, bool) {
	if v == nil {
		return nil, true
	}
	arr, ok := v.([]any)
	if !ok {
		p.add(t, "invalid_type", "guards must be an array of {filter, not}")
		return nil, false
	}
	out := make([]Guard, 0, len(arr))
	good := true
	for i, g := range arr {
		gm, ok := g.(map[string]any)
		if !ok || gm["filter"] == nil {
			p.add(fmt.Sprintf("%s/%d", t, i), "invalid_type", "a guard is {filter: <condition list>, not: <bool>}")
			good = false
			continue
		}
		raw, err := json.Marshal(gm["filter"])
		if err != nil || len(raw) > MaxWhenLen*4 {
			p.add(fmt.Sprintf("%s/%d/filter", t, i), "invalid_value", "the guard's filter is not usable")
			good = false
			continue
		}
		not, isBool := gm["not"].(bool)
		if gm["not"] != nil && !isBool {
			p.add(fmt.Sprintf("%s/%d/not", t, i), "invalid_type", "not must be a boolean")
			good = false
			continue
		}
		out = append(out, Guard{Filter: raw, Not: not})
	}
	return out, good
}

// guardsExpr compiles a node's guards against form (the condition lists'
// fields are the form's, as data.<key> or the bare key, or the record's own
// properties) to one query expression (nil when the node has none).
func guardsExpr(n Node, form *schema.Form) (query.Expr, error) {
	if len(n.Guards) == 0 {
		return nil, nil
	}
	r := guardResolver(form)
	items := make([]query.Expr, 0, len(n.Guards))
	for i, g := range n.Guards {
		e, err := query.ParseDynamicFilter(g.Filter, r)
		if err != nil {
			ee := errs.As(err)
			return nil, errs.Wrap(errs.Invalid, err, "node "+n.ID+": invalid branch condition: "+ee.Msg).
				WithReason("validation_failed").WithTarget(fmt.Sprintf("content/nodes/%s/guards/%d", n.ID, i))
		}
		if e == nil {
			e = query.Const{Value: true}
		}
		if g.Not {
			e = query.Not{X: e}
		}
		items = append(items, e)
	}
	return query.AndOf(items...), nil
}

// guardResolver resolves condition-list fields: the record's properties and
// data/<key> as in `when`, and a bare field key as data/<key>.
func guardResolver(form *schema.Form) query.Resolver {
	base := form.Resolver(recordProps)
	return query.ResolverFunc(func(segs []string) (query.Field, error) {
		f, err := base.Resolve(segs)
		if err != nil && len(segs) > 0 {
			if _, ok := form.Lookup(segs[0]); ok {
				return base.Resolve(append([]string{"data"}, segs...))
			}
		}
		return f, err
	})
}

// CheckAgainstForm compiles every guard of def against form (unknown
// fields, wrong value types → errs.Invalid naming the node): the check made
// when a definition is activated.
func CheckAgainstForm(def *Definition, form *schema.Form) error {
	for _, n := range def.Nodes {
		if _, err := guardsExpr(n, form); err != nil {
			return err
		}
	}
	return nil
}
