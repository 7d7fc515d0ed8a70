// Package dataflow runs dataflow definitions (spec eims-native.md §5): nodes
// executed in order, their writes applied at the end in ONE short store
// transaction (scripts run outside it, pending.go), script nodes in a
// sandboxed goja (ECMAScript) runtime that sees only `input`, `prev` and the
// tenant-scoped `records` functions. A failing or runaway run writes nothing
// and is reported as status "failed" with errMsg (§5.1, §10 item 15).
package dataflow

import (
	"encoding/json"
	"fmt"

	"github.com/dop251/goja"

	"github.com/eimshub/eimshub/core/errs"
)

// Node types (§5.2). Only script nodes exist so far; other kinds of the
// original (query, insert, update, delete, copy, formula) are conveniences
// over the same records functions and may be added.
const NodeScript = "script"

// MaxScript is the maximum size of one script (§8: 64 KiB).
const MaxScript = 64 << 10

// MaxNodes caps the nodes of a definition.
const MaxNodes = 50

// Input types a definition may declare (`inputs`: name → type).
var inputTypes = map[string]bool{"string": true, "number": true, "boolean": true, "array": true,
	"object": true, "any": true}

// Node is one node of a dataflow definition.
type Node struct {
	ID     string
	Type   string
	Script string

	prog *goja.Program
}

// Definition is a parsed dataflow definition (§5.2).
type Definition struct {
	// Inputs declares input names and their types (string, number,
	// boolean, array, object, any).
	Inputs map[string]string
	Nodes  []Node
}

// ParseDefinition parses and compiles a definition's `content` (object or
// JSON string). Problems → errs.Invalid, Reason validation_failed.
func ParseDefinition(content any) (*Definition, error) {
	m, err := contentObject(content)
	if err != nil {
		return nil, err
	}
	var p problems
	def := &Definition{Inputs: map[string]string{}}
	for k := range m {
		if k != "inputs" && k != "nodes" {
			p.add("content/"+k, "unknown_property", "unknown property %q", k)
		}
	}
	if raw, ok := m["inputs"]; ok && raw != nil {
		in, ok := raw.(map[string]any)
		if !ok {
			p.add("content/inputs", "invalid_type", "inputs must be an object of name → type")
		}
		for name, t := range in {
			ts, _ := t.(string)
			if !inputTypes[ts] {
				p.add("content/inputs/"+name, "invalid_value", "unknown input type %v (string, number, boolean, array, object, any)", t)
				continue
			}
			def.Inputs[name] = ts
		}
	}
	nodes, ok := m["nodes"].([]any)
	switch {
	case !ok || len(nodes) == 0:
		p.add("content/nodes", "required", "nodes must be a non-empty array")
	case len(nodes) > MaxNodes:
		p.add("content/nodes", "too_many", "at most %d nodes", MaxNodes)
	default:
		seen := map[string]bool{}
		for i, r := range nodes {
			t := fmt.Sprintf("content/nodes/%d", i)
			obj, ok := r.(map[string]any)
			if !ok {
				p.add(t, "invalid_type", "a node must be an object")
				continue
			}
			n := Node{}
			n.ID, _ = obj["id"].(string)
			n.Type, _ = obj["type"].(string)
			n.Script, _ = obj["script"].(string)
			if n.ID == "" {
				p.add(t+"/id", "required", "a node needs an id")
			} else if seen[n.ID] {
				p.add(t+"/id", "duplicate", "node id %q is used twice", n.ID)
			}
			seen[n.ID] = true
			for k := range obj {
				if k != "id" && k != "type" && k != "script" && k != "name" {
					p.add(t+"/"+k, "unknown_property", "unknown node property %q", k)
				}
			}
			if n.Type != NodeScript {
				p.add(t+"/type", "unknown_node_type", "unknown node type %q (script)", n.Type)
				continue
			}
			if len(n.Script) > MaxScript {
				p.add(t+"/script", "too_long", "a script may have at most %d bytes", MaxScript)
				continue
			}
			prog, err := compile(n.ID, n.Script)
			if err != nil {
				p.add(t+"/script", "syntax", "%v", err)
				continue
			}
			n.prog = prog
			def.Nodes = append(def.Nodes, n)
		}
	}
	if len(p) > 0 {
		return nil, errs.Invalidf("the dataflow definition is invalid").WithReason("validation_failed").
			WithTarget("content").WithDetails(p...)
	}
	return def, nil
}

// compile wraps a script body as a function of (input, prev, records).
func compile(id, body string) (*goja.Program, error) {
	return goja.Compile("node:"+id, "(function (input, prev, records) {\n"+body+"\n})", false)
}

// checkInputs validates inputData against the declared inputs: a declared
// input that is present and not null must have its type.
func (d *Definition) checkInputs(in map[string]any) error {
	var p problems
	for name, t := range d.Inputs {
		v, ok := in[name]
		if !ok || v == nil || t == "any" {
			continue
		}
		good := false
		switch t {
		case "string":
			_, good = v.(string)
		case "number":
			switch v.(type) {
			case float64, int64, int, json.Number:
				good = true
			}
		case "boolean":
			_, good = v.(bool)
		case "array":
			_, good = v.([]any)
		case "object":
			_, good = v.(map[string]any)
		}
		if !good {
			p.add("inputData/"+name, "invalid_type", "%s must be of type %s", name, t)
		}
	}
	if len(p) > 0 {
		return errs.Invalidf("inputData does not match the dataflow's inputs").WithReason("validation_failed").
			WithTarget("inputData").WithDetails(p...)
	}
	return nil
}

func contentObject(content any) (map[string]any, error) {
	bad := errs.Invalidf("content is not a JSON object").WithReason("validation_failed").WithTarget("content")
	switch c := content.(type) {
	case map[string]any:
		return c, nil
	case string:
		var m map[string]any
		if err := json.Unmarshal([]byte(c), &m); err != nil || m == nil {
			return nil, bad
		}
		return m, nil
	case nil:
		return nil, errs.Invalidf("content is required").WithReason("validation_failed").WithTarget("content")
	}
	b, err := json.Marshal(content)
	if err != nil {
		return nil, bad
	}
	return contentObject(string(b))
}

type problems []errs.Detail

func (p *problems) add(target, code, format string, args ...any) {
	*p = append(*p, errs.Detail{Code: code, Message: fmt.Sprintf(format, args...), Target: target})
}
