package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/internal/golden"
)

const goldenDir = "../testdata/policy"

// scenario is the YAML shape of a golden test case: a policy (action inputs
// and an optional policy file), now, and the packages the lister would
// hand to the planner.
type scenario struct {
	Description  string            `yaml:"description"`
	Now          time.Time         `yaml:"now"`
	DefaultOwner *string           `yaml:"default-owner"`
	Inputs       map[string]string `yaml:"inputs"`
	PolicyFile   string            `yaml:"policy-file"`
	Packages     []scenarioPackage `yaml:"packages"`
}

type scenarioPackage struct {
	Owner      string           `yaml:"owner"`
	Type       PackageType      `yaml:"type"`
	Name       string           `yaml:"name"`
	Visibility string           `yaml:"visibility"`
	Complete   *bool            `yaml:"complete"`
	Error      string           `yaml:"error"`
	Protected  []int64          `yaml:"protected"`
	Unreadable map[int64]string `yaml:"unreadable"`
	Versions   []scenarioVer    `yaml:"versions"`
}

// scenarioVer is one version. Container names default to a digest made of
// the id (sha256:000…0id); "{N}" in a tag stands for the hex of version N's
// digest, so "sha256-{5}.sig" is the cosign signature tag of version 5.
// Ages are durations before now (ParseDuration syntax); age sets both
// timestamps, updated-age overrides updated_at.
type scenarioVer struct {
	ID         int64    `yaml:"id"`
	Name       string   `yaml:"name"`
	Tags       []string `yaml:"tags"`
	Age        string   `yaml:"age"`
	UpdatedAge string   `yaml:"updated-age"`
	Parents    []int64  `yaml:"parents"`
}

func digestOf(id int64) string { return fmt.Sprintf("sha256:%064x", id) }

func loadScenario(t *testing.T, path string) (scenario, Inputs, []PackageInput) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	owner := "acme"
	if sc.DefaultOwner != nil {
		owner = *sc.DefaultOwner
	}
	in := Inputs{Values: map[string]string{}, DefaultOwner: owner}
	for k, v := range sc.Inputs {
		in.Values[k] = v
	}
	if sc.PolicyFile != "" {
		in.Values["policy-file"] = ".github/retention.yml"
		in.PolicyFile = []byte(sc.PolicyFile)
	}
	age := func(s string) time.Time {
		t.Helper()
		if s == "" {
			t.Fatalf("%s: a version has no age", path)
		}
		d, err := ParseDuration(s)
		if err != nil {
			t.Fatalf("%s: age %q: %v", path, s, err)
		}
		return sc.Now.Add(-d)
	}
	var pkgs []PackageInput
	for _, sp := range sc.Packages {
		pi := PackageInput{
			Owner:      sp.Owner,
			Type:       sp.Type,
			Name:       sp.Name,
			Visibility: sp.Visibility,
			Complete:   sp.Complete == nil || *sp.Complete,
			Error:      sp.Error,
		}
		if pi.Owner == "" {
			pi.Owner = owner
		}
		if pi.Type == "" {
			pi.Type = Container
		}
		if pi.Visibility == "" {
			pi.Visibility = "private"
		}
		names := map[int64]string{}
		for _, v := range sp.Versions {
			names[v.ID] = v.Name
			if v.Name == "" && pi.Type == Container {
				names[v.ID] = digestOf(v.ID)
			}
		}
		st := &Structure{Parents: map[int64][]int64{}, Unreadable: sp.Unreadable}
		for _, v := range sp.Versions {
			ver := Version{ID: v.ID, Name: names[v.ID], CreatedAt: age(v.Age)}
			ver.UpdatedAt = ver.CreatedAt
			if v.UpdatedAge != "" {
				ver.UpdatedAt = age(v.UpdatedAge)
			}
			for _, tag := range v.Tags {
				if i := strings.Index(tag, "{"); i >= 0 {
					j := strings.Index(tag, "}")
					id, err := strconv.ParseInt(tag[i+1:j], 10, 64)
					if err != nil {
						t.Fatalf("%s: tag %q: %v", path, tag, err)
					}
					d, ok := names[id]
					if !ok {
						d = digestOf(id)
					}
					tag = tag[:i] + strings.TrimPrefix(d, "sha256:") + tag[j+1:]
				}
				ver.Tags = append(ver.Tags, tag)
			}
			if len(v.Parents) > 0 {
				st.Parents[v.ID] = v.Parents
			}
			pi.Versions = append(pi.Versions, ver)
		}
		if pi.Type == Container {
			pi.Structure = st
		}
		if len(sp.Protected) > 0 {
			pi.Protected = map[int64]bool{}
			for _, id := range sp.Protected {
				pi.Protected[id] = true
			}
		}
		pkgs = append(pkgs, pi)
	}
	return sc, in, pkgs
}

func scenarioFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("%d scenarios in %s, want at least 12", len(files), goldenDir)
	}
	sort.Strings(files)
	return files
}

func encodePlan(t *testing.T, p *Plan) []byte {
	t.Helper()
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGolden(t *testing.T) {
	for _, file := range scenarioFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			sc, in, pkgs := loadScenario(t, file)
			pol, err := Parse(in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			plan := Build(pol, pkgs, sc.Now)
			checkInvariants(t, pol, pkgs, plan)
			got := encodePlan(t, plan)
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden.json", got)
			// The plan file reads back to the same plan.
			var back Plan
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("plan does not decode: %v", err)
			}
			if again := encodePlan(t, &back); !bytes.Equal(again, got) {
				t.Errorf("plan changes through a JSON round trip:\n%s", golden.Diff(string(got), string(again)))
			}
		})
	}
}

// TestGoldenReasons checks that every reason of policy.md is produced by at
// least one golden scenario.
func TestGoldenReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, file := range scenarioFiles(t) {
		data, err := os.ReadFile(strings.TrimSuffix(file, ".yaml") + ".golden.json")
		if err != nil {
			t.Fatal(err)
		}
		var p Plan
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, pp := range p.Packages {
			for _, v := range pp.Versions {
				r := v.Reason
				if i := strings.Index(r, ":"); i >= 0 {
					r = r[:i+1]
				}
				seen[r] = true
			}
		}
	}
	for _, r := range []string{
		ReasonKeepLatest, ReasonYoungerThan, ReasonNotSelected, ReasonLastVersion,
		ReasonDownloadRule, ReasonMaxDeletions, ReasonSelected, ReasonUnreadable, ReasonBuildInFlight,
		ReasonKeepTagsPrefix, ReasonKeepSemverPrefix, ReasonChildOfPrefix,
	} {
		if !seen[r] {
			t.Errorf("no golden plan has reason %q", r)
		}
	}
}

// TestPureImports keeps the package free of I/O: its non-test files import
// only packages from this list.
func TestPureImports(t *testing.T) {
	allowed := map[string]bool{
		"bytes": true, "encoding/json": true, "errors": true, "fmt": true, "io": true, "math": true,
		"regexp": true, "slices": true, "sort": true, "strconv": true, "strings": true, "time": true, "unicode/utf8": true,
		"github.com/Masterminds/semver/v3": true, "go.yaml.in/yaml/v3": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !allowed[p] {
				t.Errorf("%s imports %s, which is not on the list of pure packages", file, p)
			}
		}
	}
}
