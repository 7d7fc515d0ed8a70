package record_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every writer of records goes through core/record: no package of the
// module other than core/record, the store adapters and the store's
// conformance suite passes the "formdata" collection to a store's Insert,
// Update or Delete (tests excepted: fixtures may seed records directly).
func TestNoOtherPackageWritesRecords(t *testing.T) {
	root := moduleRoot(t)
	allowed := []string{"core/record/", "adapters/", "core/store/"}
	bad, err := recordWriters(root, "github.com/eimshub/eimshub", allowed)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s writes formdata directly; use core/record", b)
	}
}

// The scanner itself finds the shapes a writer could take: a literal, a
// package constant, another package's constant, a local variable.
func TestRecordWritersScanner(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("names/names.go", "package names\nconst Records = \"formdata\"\n")
	write("a/a.go", `package a
import n "example.com/m/names"
const coll = "formdata"
func f(st S) {
	st.Insert(ctx, "formdata", doc)
	st.Update(ctx, coll, "t", "id", doc, nil)
	st.Delete(ctx, n.Records, "t", "id")
	c := "formdata"
	st.Delete(ctx, c, "t", "id")
	st.Insert(ctx, "user", doc)
	st.Get(ctx, "formdata", "t", "id")
}
`)
	write("a/a_test.go", "package a\nfunc g() { st.Insert(ctx, \"formdata\", doc) }\n")
	write("ok/ok.go", "package ok\nfunc h() { st.Insert(ctx, \"formdata\", doc) }\n")
	bad, err := recordWriters(dir, "example.com/m", []string{"ok/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 4 {
		t.Fatalf("found %d writers, want 4: %v", len(bad), bad)
	}
	for _, b := range bad {
		if !strings.HasPrefix(b, "a/a.go:") {
			t.Errorf("unexpected %s", b)
		}
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

// recordWriters parses every non-test Go file under root (module path
// mod) and returns "file:line" of each Insert/Update/Delete call whose
// collection argument is "formdata": a literal, a string constant of the
// file's package or of an imported package of the module, or a local
// variable initialised with one. Files under an allowed prefix are skipped.
func recordWriters(root, mod string, allowed []string) ([]string, error) {
	fset := token.NewFileSet()
	type file struct {
		rel string
		pkg string // import path
		f   *ast.File
	}
	var files []file
	consts := map[string]string{} // import path + "." + name → value
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		pkg := mod + "/" + filepath.ToSlash(filepath.Dir(rel))
		files = append(files, file{rel: rel, pkg: pkg, f: f})
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLit(vs.Values[i]); ok {
							consts[pkg+"."+name.Name] = s
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, fl := range files {
		skip := false
		for _, a := range allowed {
			skip = skip || strings.HasPrefix(fl.rel, a)
		}
		if skip {
			continue
		}
		imports := map[string]string{}
		for _, im := range fl.f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		locals := map[string]string{} // variables assigned a string literal or constant
		var value func(e ast.Expr) (string, bool)
		value = func(e ast.Expr) (string, bool) {
			switch x := e.(type) {
			case *ast.BasicLit:
				return stringLit(x)
			case *ast.Ident:
				if v, ok := locals[x.Name]; ok {
					return v, true
				}
				v, ok := consts[fl.pkg+"."+x.Name]
				return v, ok
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok {
					v, ok := consts[imports[id.Name]+"."+x.Sel.Name]
					return v, ok
				}
			case *ast.ParenExpr:
				return value(x.X)
			}
			return "", false
		}
		ast.Inspect(fl.f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.AssignStmt:
				for i, lhs := range x.Lhs {
					if id, ok := lhs.(*ast.Ident); ok && i < len(x.Rhs) {
						if v, ok := value(x.Rhs[i]); ok {
							locals[id.Name] = v
						}
					}
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || len(x.Args) < 2 {
					return true
				}
				switch sel.Sel.Name {
				case "Insert", "Update", "Delete":
					if v, ok := value(x.Args[1]); ok && v == "formdata" {
						bad = append(bad, fl.rel+":"+strconv.Itoa(fset.Position(x.Pos()).Line))
					}
				}
			}
			return true
		})
	}
	return bad, nil
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}
