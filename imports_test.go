package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/pkgretention/retention"

// allowedImports reads the README's "Where things are" table: each
// package of the module and the packages of the module it may import.
func allowedImports(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| package | owns | may import |\n|---|---|---|\n")
	if !ok {
		t.Fatal(`README has no "| package | owns | may import |" table`)
	}
	allowed := map[string][]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| ") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 3 {
			t.Fatalf("README table row %q: want 3 cells", line)
		}
		pkg, _, _ := strings.Cut(strings.Trim(cells[0], "`"), "`")
		var deps []string
		for _, d := range strings.Split(cells[2], ", ") {
			if d = strings.Trim(d, "`"); !strings.HasPrefix(d, "nothing") {
				deps = append(deps, d)
			}
		}
		allowed[pkg] = deps
	}
	return allowed
}

// TestImportGraph keeps the arrows between the module's packages to the
// ones the README's table allows, and the table to the packages that
// exist. Test files may import more (fakes, golden files).
func TestImportGraph(t *testing.T) {
	allowed := allowedImports(t)
	seen := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		seen[pkg] = true
		deps, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s is not in the README's \"Where things are\" table", pkg)
			return nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module+"/")
			if ok && !slices.Contains(deps, dep) {
				t.Errorf("%s imports %s; the README's table does not allow %s → %s", path, dep, pkg, dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("the README's table lists %s, which is not a package", pkg)
		}
	}
}
