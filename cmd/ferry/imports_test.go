package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestImportRules keeps the layout honest, on the non-test Go files:
// internal/ and vendors import no role package (producers, processors,
// sinks); no sandbox imports a vendor client, nor do its tests (they sign
// with the sandbox's own reading of the vendor's documents); and the
// roles never import each other.
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
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		if strings.HasSuffix(path, "_test.go") && !strings.HasSuffix(pkg, "sandbox") {
			return nil
		}
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
			case (strings.HasPrefix(pkg, "internal/") || pkg == "vendors") && role(dep) != "":
				t.Errorf("%s: %s imports the role package %s", rel, pkg, dep)
			case strings.Contains(pkg, "sandbox") && role(dep) != "" && !strings.Contains(dep, "sandbox"):
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

// TestVendorsNamedOnlyInTheirFolders: outside its own package folders, the
// flow files and the vendor table (table.go), no non-test Go file names a
// vendor of the table, in code or in comments: a sixth vendor then touches
// only its own files.
func TestVendorsNamedOnlyInTheirFolders(t *testing.T) {
	type vendor struct {
		name  string
		words *regexp.Regexp
		home  string // the folder of its connector's package
	}
	var vs []vendor
	for _, v := range table.vendors() {
		words := []string{regexp.QuoteMeta(v.Name), regexp.QuoteMeta(strings.ToLower(v.Env))}
		for _, w := range strings.Fields(v.Title) {
			words = append(words, regexp.QuoteMeta(strings.ToLower(w)))
		}
		fn := runtime.FuncForPC(reflect.ValueOf(v.Connect).Pointer()).Name()
		pkg, _, _ := strings.Cut(fn[strings.LastIndex(fn, "/")+1:], ".")
		home := strings.TrimPrefix(fn[:strings.LastIndex(fn, "/")+1]+pkg, "github.com/ferry-data/ferry/")
		vs = append(vs, vendor{v.Name, regexp.MustCompile(`(^|[^a-z])(` + strings.Join(words, "|") + `)`), home})
	}
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel("../..", path)
		rel = filepath.ToSlash(rel)
		if rel == "cmd/ferry/table.go" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := strings.ToLower(string(data))
		for _, v := range vs {
			if strings.HasPrefix(rel, v.home+"/") {
				continue
			}
			for _, m := range v.words.FindAllStringSubmatchIndex(text, -1) {
				line := strings.Count(text[:m[4]], "\n") + 1
				t.Errorf("%s:%d names the vendor %s (%q): only %s/, its flow files and cmd/ferry/table.go may", rel, line, v.name, text[m[4]:m[5]], v.home)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
