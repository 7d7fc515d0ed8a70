// Command gen writes the key reference of docs/CONFIG.md from the field
// comments of package config (STYLE.md practice 11: one source for the
// defaults, the docs and the checks). It replaces the text between the
// BEGIN/END GENERATED markers and leaves the hand-written rest alone.
//
//	go run ./config/gen            # rewrite docs/CONFIG.md
//	go run ./config/gen -check     # fail if docs/CONFIG.md is stale
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

const (
	beginMarker = "<!-- BEGIN GENERATED: go run ./config/gen -->"
	endMarker   = "<!-- END GENERATED -->"
)

func main() {
	dir := flag.String("dir", "config", "directory of package config")
	out := flag.String("out", "docs/CONFIG.md", "Markdown file to update")
	check := flag.Bool("check", false, "report a stale file instead of writing it")
	flag.Parse()
	if err := run(*dir, *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "config/gen:", err)
		os.Exit(1)
	}
}

func run(dir, out string, check bool) error {
	ref, err := reference(dir)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	updated, err := splice(string(old), ref)
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if check {
		if updated != string(old) {
			return fmt.Errorf("%s is stale: run go run ./config/gen", out)
		}
		return nil
	}
	return os.WriteFile(out, []byte(updated), 0o644)
}

// splice replaces the generated region of doc with ref.
func splice(doc, ref string) (string, error) {
	b := strings.Index(doc, beginMarker)
	e := strings.Index(doc, endMarker)
	if b < 0 || e < b {
		return "", errors.New("missing generated-region markers")
	}
	return doc[:b+len(beginMarker)] + "\n\n" + strings.TrimRight(ref, "\n") + "\n\n" + doc[e:], nil
}

// structDoc is a struct type of package config and its doc comment.
type structDoc struct {
	doc string
	st  *ast.StructType
}

// reference renders the key reference of the Config type found in dir.
func reference(dir string) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return "", err
	}
	types := map[string]structDoc{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return "", err
		}
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				doc := ts.Doc
				if doc == nil {
					doc = gd.Doc
				}
				types[ts.Name.Name] = structDoc{doc: oneLine(doc.Text()), st: st}
			}
		}
	}
	if _, ok := types["Config"]; !ok {
		return "", fmt.Errorf("no Config type in %s", dir)
	}
	g := &gen{types: types, done: map[string]string{}}
	g.section("", "Top level", "Config")
	return g.buf.String(), nil
}

type gen struct {
	types map[string]structDoc
	buf   bytes.Buffer
	done  map[string]string // struct type -> path where it is documented
}

type nested struct {
	path, title, typ string
}

// section writes the table of struct typ at path, then its nested structs.
func (g *gen) section(path, title, typ string) {
	sd := g.types[typ]
	g.done[typ] = path
	fmt.Fprintf(&g.buf, "### %s\n\n", title)
	if sd.doc != "" {
		fmt.Fprintf(&g.buf, "%s\n\n", sd.doc)
	}
	g.buf.WriteString("| Key | Type | Default | Meaning |\n|---|---|---|---|\n")
	var subs []nested
	for _, f := range sd.st.Fields.List {
		if len(f.Names) == 0 || !f.Names[0].IsExported() || f.Tag == nil {
			continue
		}
		key := yamlKey(f.Tag.Value)
		if key == "" || key == "-" {
			continue
		}
		full := key
		if path != "" {
			full = path + "." + key
		}
		text := trimSubject(oneLine(f.Doc.Text()), f.Names[0].Name)
		meaning, def := text, ""
		if i := strings.LastIndex(text, "Default:"); i >= 0 {
			meaning, def = strings.TrimSpace(text[:i]), code(strings.TrimSuffix(strings.TrimSpace(text[i+len("Default:"):]), "."))
		} else if m, ok := strings.CutSuffix(text, " Required."); ok {
			meaning, def = m, "*required*"
		}
		typName, sub := g.describe(f.Type)
		if _, isStruct := f.Type.(*ast.Ident); isStruct && sub != "" {
			subs = append(subs, nested{full, "`" + full + "`", sub})
			g.done[sub] = full
			continue // documented by its own section
		}
		if at, ok := g.done[sub]; ok && sub != "" {
			meaning += fmt.Sprintf(" Same keys as `%s`.", at)
			sub = ""
		}
		if sub != "" {
			subPath := full
			switch f.Type.(type) {
			case *ast.ArrayType:
				subPath += "[]"
			case *ast.MapType:
				subPath += ".<id>"
			}
			subs = append(subs, nested{subPath, "`" + subPath + "`", sub})
			g.done[sub] = subPath
		}
		fmt.Fprintf(&g.buf, "| `%s` | %s | %s | %s |\n", full, cell(typName), cell(def), cell(meaning))
	}
	g.buf.WriteString("\n")
	for _, s := range subs {
		g.section(s.path, s.title, s.typ)
	}
}

// describe names a field type for readers and returns the struct type to
// document separately, if any.
func (g *gen) describe(e ast.Expr) (string, string) {
	switch t := e.(type) {
	case *ast.Ident:
		switch t.Name {
		case "string", "bool", "int":
			return t.Name, ""
		case "Duration":
			return "duration", ""
		case "ByteSize":
			return "size", ""
		case "SpaceList":
			return "list of strings, or one space-separated string", ""
		case "Option":
			return "string or {value, label}", ""
		}
		if _, ok := g.types[t.Name]; ok {
			return "mapping", t.Name
		}
		return t.Name, ""
	case *ast.SelectorExpr:
		if t.Sel.Name == "Node" {
			return "any YAML (raw)", ""
		}
	case *ast.ArrayType:
		name, sub := g.describe(t.Elt)
		if sub != "" {
			return "list of mappings", sub
		}
		if name == "string" {
			return "list of strings", ""
		}
		return "list of " + name, ""
	case *ast.MapType:
		_, sub := g.describe(t.Value)
		return "mapping of id to mapping", sub
	}
	return fmt.Sprintf("%T", e), ""
}

func yamlKey(tag string) string {
	tag = strings.Trim(tag, "`")
	i := strings.Index(tag, `yaml:"`)
	if i < 0 {
		return ""
	}
	v := tag[i+len(`yaml:"`):]
	v = v[:strings.IndexByte(v, '"')]
	name, _, _ := strings.Cut(v, ",")
	return name
}

// code marks up a default: a leading quoted string, number, bool or
// <placeholder> path as code, prose ("none", "the id") as it is.
func code(def string) string {
	if def == "" {
		return ""
	}
	if def[0] == '"' {
		if end := strings.Index(def[1:], `"`); end >= 0 {
			return "`" + def[:end+2] + "`" + def[end+2:]
		}
	}
	first, rest, _ := strings.Cut(def, " ")
	if first == "true" || first == "false" || first[0] >= '0' && first[0] <= '9' || first[0] == '<' {
		if rest != "" {
			rest = " " + rest
		}
		return "`" + first + "`" + rest
	}
	return def
}

// trimSubject turns "Listen is the address" into "The address" and
// "BodyLimit caps a body" into "Caps a body".
func trimSubject(text, name string) string {
	rest, ok := strings.CutPrefix(text, name+" ")
	if !ok {
		return text
	}
	for _, verb := range []string{"is ", "are "} {
		if r, ok := strings.CutPrefix(rest, verb); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return text
	}
	return strings.ToUpper(rest[:1]) + rest[1:]
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
