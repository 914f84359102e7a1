package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportRules keeps the layout honest, on the non-test Go files:
// internal/ imports no role package (producers, processors, sinks); no
// sandbox imports a vendor client; and the roles never import each other.
func TestImportRules(t *testing.T) {
	const module = "github.com/ferry-data/ferry/"
	role := func(path string) string {
		for _, r := range []string{"producers", "processors", "sinks"} {
			if path == r || strings.HasPrefix(path, r+"/") {
				return r
			}
		}
		return ""
	}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			switch {
			case strings.HasPrefix(pkg, "internal/") && role(dep) != "":
				t.Errorf("%s: internal package %s imports the role package %s", rel, pkg, dep)
			case strings.Contains(pkg, "sandbox") && role(dep) != "":
				t.Errorf("%s: a sandbox imports %s: sandboxes read the vendor's documents, not its client", rel, dep)
			case role(pkg) != "" && role(dep) != "" && role(pkg) != role(dep):
				t.Errorf("%s: %s imports %s: the roles never import each other", rel, pkg, dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
