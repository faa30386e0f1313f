package policy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// tv is a test version: ages before testNow; upd overrides updated_at's
// age when not zero.
type tv struct {
	id      int64
	tags    []string
	name    string
	age     time.Duration
	upd     time.Duration
	parents []int64
}

func testPackage(typ PackageType, name string, vs []tv) PackageInput {
	in := PackageInput{Owner: "acme", Type: typ, Name: name, Complete: true}
	st := &Structure{Parents: map[int64][]int64{}}
	for _, v := range vs {
		ver := Version{ID: v.id, Name: v.name, Tags: v.tags, CreatedAt: testNow.Add(-v.age)}
		if ver.Name == "" {
			ver.Name = digestOf(v.id)
		}
		ver.UpdatedAt = ver.CreatedAt
		if v.upd != 0 {
			ver.UpdatedAt = testNow.Add(-v.upd)
		}
		if len(v.parents) > 0 {
			st.Parents[v.id] = v.parents
		}
		in.Versions = append(in.Versions, ver)
	}
	in.Structure = st
	return in
}

// outcome renders a package plan as id -> "decision reason", with digests
// of child-of written as #id.
func outcome(pp *PackagePlan) map[int64]string {
	ids := map[string]int64{}
	for _, v := range pp.Versions {
		ids[v.Name] = v.ID
	}
	out := map[int64]string{}
	for _, v := range pp.Versions {
		r := v.Reason
		if d, ok := strings.CutPrefix(r, ReasonChildOfPrefix); ok {
			r = fmt.Sprintf("%s#%d", ReasonChildOfPrefix, ids[d])
		}
		out[v.ID] = string(v.Decision) + " " + r
	}
	return out
}

const (
	d = 24 * time.Hour
)

func TestBuildRuleSteps(t *testing.T) {
	sig := func(id int64) string { return "sha256-" + digestOf(id)[7:] + ".sig" }
	tests := []struct {
		name       string
		inputs     map[string]string
		typ        PackageType
		versions   []tv
		unreadable map[int64]string
		protected  []int64
		want       map[int64]string
	}{
		{
			name:     "no selector selects every version",
			inputs:   map[string]string{"packages": "p", "package-type": "npm"},
			typ:      Npm,
			versions: []tv{{id: 1, name: "1.0.0", age: 3 * d}, {id: 2, name: "1.1.0", age: 2 * d}, {id: 3, name: "1.2.0", age: d}},
			want:     map[int64]string{1: "delete selected", 2: "delete selected", 3: "protected last-version"},
		},
		{
			name:   "tag-state tagged",
			inputs: map[string]string{"packages": "p", "tag-state": "tagged", "keep-tags": "latest"},
			versions: []tv{{id: 1, tags: []string{"a"}, age: 3 * d}, {id: 2, age: 3 * d}, {id: 3, tags: []string{sig(2)}, age: 3 * d},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "delete selected", 2: "keep not-selected", 3: "keep not-selected", 9: "keep keep-tags:latest"},
		},
		{
			name:   "tag-state untagged counts orphan signatures as untagged",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 1, tags: []string{"a"}, age: 3 * d}, {id: 2, age: 3 * d}, {id: 3, tags: []string{sig(99)}, age: 3 * d},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "keep not-selected", 2: "delete selected", 3: "delete selected", 9: "keep not-selected"},
		},
		{
			name:   "an untagged root younger than an hour is a build in flight, whatever the policy",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 1, age: 59 * time.Minute}, {id: 2, age: 61 * time.Minute}, {id: 3, age: time.Minute},
				{id: 4, parents: []int64{5}, age: time.Minute}, {id: 5, tags: []string{"pr-1"}, age: 3 * d},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "keep build-in-flight", 2: "delete selected", 3: "keep build-in-flight",
				4: "keep child-of:#5", 5: "keep not-selected", 9: "keep not-selected"},
		},
		{
			name:   "a tagged version younger than an hour is not a build in flight",
			inputs: map[string]string{"packages": "p", "delete-tags": "pr-*"},
			versions: []tv{{id: 1, tags: []string{"pr-1"}, age: time.Minute}, {id: 2, parents: []int64{1}, age: time.Minute},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "delete selected", 2: "delete child-of:#1", 9: "keep not-selected"},
		},
		{
			name:   "delete-tags and delete-semver must both match",
			inputs: map[string]string{"packages": "p", "delete-tags": "v*", "delete-semver": "<2", "keep-tags": "latest"},
			versions: []tv{{id: 1, tags: []string{"v1.0.0"}, age: 3 * d}, {id: 2, tags: []string{"v3.0.0"}, age: 3 * d},
				{id: 3, tags: []string{"1.5.0"}, age: 3 * d}, {id: 4, age: 3 * d}, {id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "delete selected", 2: "keep not-selected", 3: "keep not-selected", 4: "keep not-selected", 9: "keep keep-tags:latest"},
		},
		{
			name:   "delete-tags matches any label",
			inputs: map[string]string{"packages": "p", "delete-tags": "pr-*", "keep-tags": "latest"},
			versions: []tv{{id: 1, tags: []string{"main", "pr-1"}, age: 3 * d}, {id: 2, tags: []string{"main-2"}, age: 3 * d},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "delete selected", 2: "keep not-selected", 9: "keep keep-tags:latest"},
		},
		{
			name:   "keep-latest counts the selection only",
			inputs: map[string]string{"packages": "p", "tag-state": "tagged", "keep-latest": "2"},
			versions: []tv{{id: 1, tags: []string{"a"}, age: 4 * d}, {id: 2, tags: []string{"b"}, age: 3 * d}, {id: 3, age: 2 * d},
				{id: 4, tags: []string{"c"}, age: d}, {id: 5, age: 0}},
			want: map[int64]string{1: "delete selected", 2: "keep keep-latest", 3: "keep not-selected", 4: "keep keep-latest", 5: "keep not-selected"},
		},
		{
			name:     "keep-latest larger than the selection",
			inputs:   map[string]string{"packages": "p", "package-type": "npm", "keep-latest": "10"},
			typ:      Npm,
			versions: []tv{{id: 1, name: "1", age: 4 * d}, {id: 2, name: "2", age: 3 * d}},
			want:     map[int64]string{1: "keep keep-latest", 2: "keep keep-latest"},
		},
		{
			name:     "keep-latest ties broken by id",
			inputs:   map[string]string{"packages": "p", "package-type": "npm", "keep-latest": "2"},
			typ:      Npm,
			versions: []tv{{id: 1, name: "1", age: d}, {id: 4, name: "4", age: d}, {id: 3, name: "3", age: d}, {id: 2, name: "2", age: d}},
			want:     map[int64]string{1: "delete selected", 2: "delete selected", 3: "keep keep-latest", 4: "keep keep-latest"},
		},
		{
			name:   "keep-latest with age-basis created orders by created_at",
			inputs: map[string]string{"packages": "p", "package-type": "npm", "keep-latest": "1", "age-basis": "created"},
			typ:    Npm,
			versions: []tv{{id: 1, name: "1", age: 10 * d, upd: time.Hour}, {id: 2, name: "2", age: 5 * d},
				{id: 3, name: "3", age: 8 * d}},
			want: map[int64]string{1: "delete selected", 2: "keep keep-latest", 3: "delete selected"},
		},
		{
			name:   "older-than: not older is younger-than, a future timestamp is young",
			inputs: map[string]string{"packages": "p", "package-type": "npm", "older-than": "7d", "keep-latest": "0"},
			typ:    Npm,
			versions: []tv{{id: 1, name: "1", age: 7 * d}, {id: 2, name: "2", age: 7*d + time.Minute},
				{id: 3, name: "3", age: -d}, {id: 4, name: "4", age: 100 * d, upd: 6 * d}},
			want: map[int64]string{1: "keep younger-than", 2: "delete selected", 3: "keep younger-than", 4: "keep younger-than"},
		},
		{
			name:   "keep-tags keeps versions that are not selected",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged", "keep-tags": "v1"},
			versions: []tv{{id: 1, tags: []string{"v1"}, age: 3 * d}, {id: 2, tags: []string{"v2"}, age: 3 * d},
				{id: 3, age: 3 * d}},
			want: map[int64]string{1: "keep keep-tags:v1", 2: "keep not-selected", 3: "delete selected"},
		},
		{
			name:   "keep-tags gives the reason and still counts for keep-latest",
			inputs: map[string]string{"packages": "p", "keep-latest": "1", "keep-tags": "latest"},
			versions: []tv{{id: 1, tags: []string{"a"}, age: 3 * d}, {id: 2, tags: []string{"b"}, age: 2 * d},
				{id: 3, tags: []string{"latest"}, age: d}},
			want: map[int64]string{1: "delete selected", 2: "delete selected", 3: "keep keep-tags:latest"},
		},
		{
			name:   "first keep-tags pattern, then keep-semver",
			inputs: map[string]string{"packages": "p", "keep-tags": "v*, v1*", "keep-semver": ">=1"},
			versions: []tv{{id: 1, tags: []string{"v1.0.0"}, age: 3 * d}, {id: 2, tags: []string{"2.0.0"}, age: 2 * d},
				{id: 3, tags: []string{"x"}, age: 2 * d}},
			want: map[int64]string{1: "keep keep-tags:v*", 2: "keep keep-semver:>=1", 3: "delete selected"},
		},
		{
			name:   "digest keep-tags keeps a pure child",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged", "keep-tags": digestOf(11)},
			versions: []tv{{id: 10, age: 3 * d}, {id: 11, age: 3 * d, parents: []int64{10}}, {id: 12, age: 3 * d, parents: []int64{10}},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{10: "delete selected", 11: "keep keep-tags:" + digestOf(11), 12: "delete child-of:#10", 9: "keep not-selected"},
		},
		{
			name:   "a tagged child is judged on its own",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 10, age: 3 * d}, {id: 11, tags: []string{"v1-amd64"}, age: 3 * d, parents: []int64{10}},
				{id: 12, age: 3 * d, parents: []int64{10}}},
			want: map[int64]string{10: "delete selected", 11: "keep not-selected", 12: "delete child-of:#10"},
		},
		{
			name:   "a child its rules delete stays while a parent is kept",
			inputs: map[string]string{"packages": "p", "delete-tags": "pr-*", "keep-tags": "latest"},
			versions: []tv{{id: 10, tags: []string{"latest"}, age: 3 * d}, {id: 11, tags: []string{"pr-1"}, age: 3 * d, parents: []int64{10}},
				{id: 12, tags: []string{"pr-2"}, age: 3 * d}, {id: 13, age: 3 * d, parents: []int64{11, 12}}},
			want: map[int64]string{10: "keep keep-tags:latest", 11: "keep child-of:#10", 12: "delete selected", 13: "keep child-of:#11"},
		},
		{
			name:   "a child whose parent is missing is an orphan root",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 11, age: 3 * d, parents: []int64{999}}, {id: 12, age: 3 * d, parents: []int64{12}},
				{id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{11: "delete selected", 12: "delete selected", 9: "keep not-selected"},
		},
		{
			name:   "members of a cycle are never deleted",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 10, age: 3 * d, parents: []int64{11}}, {id: 11, age: 3 * d, parents: []int64{10}},
				{id: 12, age: 3 * d, parents: []int64{10}}, {id: 20, age: 3 * d}, {id: 21, age: 3 * d, parents: []int64{20, 22}},
				{id: 22, age: 3 * d, parents: []int64{21}}, {id: 30, age: 3 * d}, {id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{10: "keep child-of:#11", 11: "keep child-of:#10", 12: "keep child-of:#10",
				20: "delete selected", 21: "keep child-of:#22", 22: "keep child-of:#21", 30: "delete selected", 9: "keep not-selected"},
		},
		{
			name:   "structure is ignored for other types",
			inputs: map[string]string{"packages": "p", "package-type": "npm", "delete-tags": "1.*"},
			typ:    Npm,
			versions: []tv{{id: 1, name: "1.0", age: 3 * d}, {id: 2, name: "2.0", age: 3 * d, parents: []int64{1}},
				{id: 3, name: "1.1", age: 3 * d, parents: []int64{2}}},
			want: map[int64]string{1: "delete selected", 2: "keep not-selected", 3: "delete selected"},
		},
		{
			name:       "an unreadable manifest keeps every version of the package",
			inputs:     map[string]string{"packages": "p", "delete-tags": "pr-*, sha256:*"},
			unreadable: map[int64]string{10: "500", 777: "not in the package"},
			versions: []tv{{id: 10, tags: []string{"v1"}, age: 3 * d}, {id: 20, age: 3 * d}, {id: 21, age: 3 * d, parents: []int64{20}},
				{id: 30, tags: []string{"pr-1"}, age: 3 * d}, {id: 31, age: 3 * d, parents: []int64{30}}},
			want: map[int64]string{10: "keep manifest-unreadable", 20: "keep manifest-unreadable", 21: "keep child-of:#20",
				30: "keep manifest-unreadable", 31: "keep child-of:#30"},
		},
		{
			name:       "an unreadable id outside the package changes nothing",
			inputs:     map[string]string{"packages": "p", "tag-state": "untagged"},
			unreadable: map[int64]string{777: "gone"},
			versions:   []tv{{id: 20, age: 3 * d}, {id: 9, tags: []string{"latest"}, age: d}},
			want:       map[int64]string{20: "delete selected", 9: "keep not-selected"},
		},
		{
			name:      "download-rule protects a root and keeps its members",
			inputs:    map[string]string{"packages": "p", "tag-state": "untagged"},
			protected: []int64{20, 9},
			versions: []tv{{id: 20, age: 3 * d}, {id: 21, age: 3 * d, parents: []int64{20}},
				{id: 22, tags: []string{sig(20)}, age: 3 * d, parents: []int64{20}}, {id: 9, tags: []string{"latest"}, age: d}},
			want: map[int64]string{20: "protected download-rule", 21: "keep child-of:#20", 22: "keep child-of:#20", 9: "keep not-selected"},
		},
		{
			name:      "no last-version guard beside a protected version",
			inputs:    map[string]string{"packages": "p", "package-type": "npm"},
			typ:       Npm,
			protected: []int64{1},
			versions:  []tv{{id: 1, name: "1", age: 3 * d}, {id: 2, name: "2", age: d}},
			want:      map[int64]string{1: "protected download-rule", 2: "delete selected"},
		},
		{
			name:   "last tagged version: the newest tagged root stays with its members",
			inputs: map[string]string{"packages": "p", "tag-state": "tagged"},
			versions: []tv{{id: 10, tags: []string{"a"}, age: 3 * d}, {id: 20, tags: []string{"b"}, age: 2 * d},
				{id: 21, age: 2 * d, parents: []int64{20}}, {id: 22, tags: []string{sig(20)}, age: 2 * d, parents: []int64{20}},
				{id: 30, age: d}},
			want: map[int64]string{10: "delete selected", 20: "protected last-version", 21: "keep child-of:#20",
				22: "keep child-of:#20", 30: "keep not-selected"},
		},
		{
			name:   "last tagged version is a child: its root stays",
			inputs: map[string]string{"packages": "p", "tag-state": "untagged"},
			versions: []tv{{id: 10, age: 3 * d}, {id: 11, tags: []string{sig(10)}, age: 3 * d, parents: []int64{10}},
				{id: 20, age: 2 * d}, {id: 21, age: 2 * d, parents: []int64{20}}},
			want: map[int64]string{10: "protected last-version", 11: "keep child-of:#10", 20: "delete selected", 21: "delete child-of:#20"},
		},
		{
			name:   "every version would go: the newest root stays",
			inputs: map[string]string{"packages": "p"},
			versions: []tv{{id: 10, age: 3 * d}, {id: 20, age: 2 * d}, {id: 21, age: d, parents: []int64{20}},
				{id: 30, age: 3 * d, parents: []int64{20}}},
			want: map[int64]string{10: "delete selected", 20: "protected last-version", 21: "keep child-of:#20", 30: "keep child-of:#20"},
		},
		{
			name:   "empty package",
			inputs: map[string]string{"packages": "p"},
			want:   map[int64]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.typ
			if typ == "" {
				typ = Container
			}
			in := testPackage(typ, "p", tt.versions)
			in.Structure.Unreadable = tt.unreadable
			for _, id := range tt.protected {
				if in.Protected == nil {
					in.Protected = map[int64]bool{}
				}
				in.Protected[id] = true
			}
			pol := mustParse(t, tt.inputs)
			pkgs := []PackageInput{in}
			plan := Build(pol, pkgs, testNow)
			if len(plan.Packages) != 1 {
				t.Fatalf("%d packages planned", len(plan.Packages))
			}
			if got := outcome(&plan.Packages[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan\n got %v\nwant %v", got, tt.want)
			}
			checkInvariants(t, pol, pkgs, plan)
		})
	}
}

func TestBuildAcrossRules(t *testing.T) {
	file := `rules:
  - packages: p
    tag-state: untagged
    older-than: 7d
  - packages: p
    delete-tags: pr-*
    older-than: 1d
  - packages: p
    tag-state: tagged
    keep-latest: 1
    delete-tags: rc-*
  - packages: p
    keep-tags: keep-*
    delete-tags: none
`
	pol, err := parse(t, map[string]string{"policy-file": "f"}, file)
	if err != nil {
		t.Fatal(err)
	}
	in := testPackage(Container, "p", []tv{
		{id: 1, age: 3 * d},                                    // rule 0 too young, others no opinion
		{id: 2, age: 10 * d},                                   // rule 0 deletes
		{id: 3, tags: []string{"pr-1"}, age: 2 * d},            // rule 1 deletes
		{id: 4, tags: []string{"pr-2"}, age: 12 * time.Hour},   // young for rule 1
		{id: 5, tags: []string{"rc-2"}, age: 5 * d},            // rule 2 keep-latest
		{id: 6, tags: []string{"rc-1", "pr-3"}, age: 6 * d},    // rule 2 deletes, rule 1 deletes
		{id: 7, tags: []string{"keep-me", "pr-4"}, age: 9 * d}, // rule 3 keeps, rule 1 deletes: keep wins
		{id: 8, tags: []string{"rc-0", "keep-x"}, age: 9 * d},  // rule 2 deletes, rule 3 keeps
		{id: 9, tags: []string{"main"}, age: 30 * d},           // no rule selects it
	})
	plan := Build(pol, []PackageInput{in}, testNow)
	want := map[int64]string{
		1: "keep younger-than", 2: "delete selected", 3: "delete selected", 4: "keep younger-than",
		5: "keep keep-latest", 6: "delete selected", 7: "keep keep-tags:keep-*", 8: "keep keep-tags:keep-*",
		9: "keep not-selected",
	}
	if got := outcome(&plan.Packages[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("plan\n got %v\nwant %v", got, want)
	}
	checkInvariants(t, pol, []PackageInput{in}, plan)
}

func TestBuildPackages(t *testing.T) {
	pol := mustParse(t, map[string]string{"packages": "a*, !ax", "tag-state": "untagged", "dry-run": "true"})
	mk := func(owner, name string, complete bool) PackageInput {
		in := testPackage(Container, name, []tv{{id: 1, tags: []string{"latest"}, age: d}, {id: 2, age: 3 * d}})
		in.Owner, in.Complete = owner, complete
		if !complete {
			in.Error = "list versions: 502"
		}
		return in
	}
	pkgs := []PackageInput{mk("acme", "ab", true), mk("acme", "aa", false), mk("acme", "ax", true),
		mk("globex", "aa", true), mk("acme", "b", true)}
	pkgs = append(pkgs, mk("acme", "ac", true))
	pkgs[5].Type = Npm
	plan := Build(pol, pkgs, testNow)
	var names []string
	for _, pp := range plan.Packages {
		names = append(names, pp.Owner+"/"+pp.Name)
	}
	if got, want := strings.Join(names, " "), "acme/aa acme/ab"; got != want {
		t.Fatalf("packages %q, want %q", got, want)
	}
	if !plan.DryRun || plan.Policy != pol || !plan.StartedAt.Equal(testNow) {
		t.Errorf("plan header: dry run %v, policy %p, started %v", plan.DryRun, plan.Policy, plan.StartedAt)
	}
	inc := plan.Packages[0]
	if inc.Complete || inc.Error != "list versions: 502" || inc.Versions == nil || len(inc.Versions) != 0 {
		t.Errorf("incomplete package planned as %+v", inc)
	}
	b, err := plan.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"versions": []`) || strings.Contains(string(b), "null") {
		t.Errorf("plan JSON has null lists:\n%s", b)
	}
	checkInvariants(t, pol, pkgs, plan)

	empty := Build(nil, pkgs, testNow)
	if b, _ := empty.JSON(); !strings.Contains(string(b), `"packages": []`) {
		t.Errorf("plan without policy: %s", b)
	}
}

// TestBuildKeepsUnresolvedEntries checks that a name or pattern that
// could not be resolved is in the plan whether or not it matches a rule
// (a /regex/ or an excluded-looking text does not match itself), marked
// unresolved, and that a complete input marked unresolved is not.
func TestBuildKeepsUnresolvedEntries(t *testing.T) {
	pol := mustParse(t, map[string]string{"packages": "/^web-.*/, api, !legacy", "tag-state": "untagged"})
	unresolved := func(name string) PackageInput {
		return PackageInput{Owner: "acme", Type: Container, Name: name, Error: "list container packages: 403", Unresolved: true}
	}
	covered := testPackage(Container, "api", []tv{{id: 1, age: 3 * d}})
	covered.Owner = "acme"
	covered.Unresolved = true // ignored: the package is complete
	plan := Build(pol, []PackageInput{unresolved("/^web-.*/"), unresolved("api"), covered}, testNow)
	got := map[string]PackagePlan{}
	for _, pp := range plan.Packages {
		if _, dup := got[pp.Name]; dup && pp.Complete {
			got[pp.Name+" complete"] = pp
			continue
		}
		got[pp.Name] = pp
	}
	for _, name := range []string{"/^web-.*/", "api"} {
		pp, ok := got[name]
		if !ok || pp.Complete || !pp.Unresolved || pp.Error == "" || len(pp.Versions) != 0 {
			t.Errorf("%s: %+v, want an incomplete unresolved entry with its error", name, pp)
		}
	}
	if len(plan.Packages) != 3 {
		t.Fatalf("%d plan entries, want 3", len(plan.Packages))
	}
	for _, pp := range plan.Packages {
		if pp.Complete && pp.Unresolved {
			t.Errorf("complete package %s marked unresolved", pp.Name)
		}
	}
	b, err := plan.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"unresolved": true`); n != 2 {
		t.Errorf("%d entries marked unresolved in the plan file, want 2:\n%s", n, b)
	}
}

func TestBuildMaxDeletions(t *testing.T) {
	pkg := func() []PackageInput {
		return []PackageInput{testPackage(Container, "p", []tv{
			{id: 1, tags: []string{"latest"}, age: d},
			{id: 10, age: 10 * d}, {id: 11, age: 10 * d, parents: []int64{10}}, {id: 12, age: 10 * d, parents: []int64{10}},
			{id: 20, age: 9 * d},
			{id: 30, age: 8 * d}, {id: 31, age: 8 * d, parents: []int64{30}},
		})}
	}
	tests := []struct {
		cap  string
		want map[int64]string
	}{
		{"3", map[int64]string{1: "keep not-selected", 10: "delete selected", 11: "delete child-of:#10", 12: "delete child-of:#10",
			20: "keep max-deletions", 30: "keep max-deletions", 31: "keep max-deletions"}},
		// The oldest image (3 versions) is larger than the cap: it goes
		// whole, alone, rather than blocking every run.
		{"2", map[int64]string{1: "keep not-selected", 10: "delete selected", 11: "delete child-of:#10", 12: "delete child-of:#10",
			20: "keep max-deletions", 30: "keep max-deletions", 31: "keep max-deletions"}},
		{"1", map[int64]string{1: "keep not-selected", 10: "delete selected", 11: "delete child-of:#10", 12: "delete child-of:#10",
			20: "keep max-deletions", 30: "keep max-deletions", 31: "keep max-deletions"}},
		{"6", map[int64]string{1: "keep not-selected", 10: "delete selected", 11: "delete child-of:#10", 12: "delete child-of:#10",
			20: "delete selected", 30: "delete selected", 31: "delete child-of:#30"}},
		{"0", map[int64]string{1: "keep not-selected", 10: "delete selected", 11: "delete child-of:#10", 12: "delete child-of:#10",
			20: "delete selected", 30: "delete selected", 31: "delete child-of:#30"}},
	}
	for _, tt := range tests {
		t.Run("max-deletions "+tt.cap, func(t *testing.T) {
			pol := mustParse(t, map[string]string{"packages": "p", "tag-state": "untagged", "max-deletions": tt.cap})
			pkgs := pkg()
			plan := Build(pol, pkgs, testNow)
			if got := outcome(&plan.Packages[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan\n got %v\nwant %v", got, tt.want)
			}
			checkInvariants(t, pol, pkgs, plan)
		})
	}
}

func TestGroups(t *testing.T) {
	at := func(days int) time.Time { return testNow.Add(-time.Duration(days) * d) }
	vp := func(id int64, dec Decision, days int, parents ...int64) VersionPlan {
		v := VersionPlan{ID: id, Name: digestOf(id), Decision: dec, UpdatedAt: at(days)}
		for _, p := range parents {
			v.Parents = append(v.Parents, digestOf(p))
		}
		return v
	}
	pp := &PackagePlan{Versions: []VersionPlan{
		vp(1, Keep, 1),
		vp(50, Delete, 5), vp(51, Delete, 5, 50), vp(52, Delete, 5, 51), // chain
		vp(40, Delete, 6), vp(41, Delete, 6, 40, 50), // shared with the newer group of 50
		vp(30, Delete, 7), vp(60, Delete, 1, 1), // 60's parent is kept: never executed
		vp(70, Delete, 2, 71), vp(71, Delete, 2, 70), // a cycle: never executed
		vp(80, Delete, 8, 999), // parent not in the plan: a root
	}}
	var got [][]int64
	for _, g := range Groups(pp) {
		var ids []int64
		for _, i := range g {
			ids = append(ids, pp.Versions[i].ID)
		}
		got = append(got, ids)
	}
	want := [][]int64{{80}, {30}, {40}, {50, 51, 41, 52}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups %v, want %v", got, want)
	}
	flat := &PackagePlan{Versions: []VersionPlan{vp(3, Delete, 1), vp(2, Keep, 2), vp(1, Delete, 3)}}
	if g := Groups(flat); !reflect.DeepEqual(g, []Group{{2}, {0}}) {
		t.Errorf("groups without structure %v", g)
	}
}

func TestTotals(t *testing.T) {
	p := &Plan{Packages: []PackagePlan{
		{Complete: true, Versions: []VersionPlan{
			{Decision: Delete, Result: ResultDeleted},
			{Decision: Delete, Result: ResultAlreadyGone},
			{Decision: Delete, Result: ResultProtected},
			{Decision: Delete, Result: ResultFailedPrefix + "500"},
			{Decision: Delete, Result: ResultDeferred},
			{Decision: Delete},
			{Decision: Keep, Reason: ReasonMaxDeletions},
			{Decision: Keep, Reason: ReasonKeepLatest},
			{Decision: Protected, Reason: ReasonLastVersion},
			{Decision: Delete, Result: ResultRestored},
			{Decision: Delete, Result: ResultRestoreSkipped},
		}},
		{Complete: false, Versions: []VersionPlan{}},
	}}
	want := Totals{Packages: 2, Incomplete: 1, Versions: 11, Delete: 8, Keep: 2, Protected: 1,
		Deleted: 1, AlreadyGone: 1, Refused: 1, Failed: 1, Restored: 1, RestoreSkipped: 1, Deferred: 2, Pending: 1}
	if got := p.Totals(); got != want {
		t.Errorf("totals\n got %+v\nwant %+v", got, want)
	}
}

func TestPlanJSONLists(t *testing.T) {
	p := &Plan{Packages: []PackagePlan{
		{Name: "a", Versions: []VersionPlan{{ID: 1, Name: "1.0.0", Decision: Keep, Reason: ReasonNotSelected}}},
		{Name: "b"},
	}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"packages":[{"owner":"","type":"","name":"a","visibility":"","complete":false,"versions":[{"id":1,"name":"1.0.0","tags":[],"created_at":"0001-01-01T00:00:00Z","updated_at":"0001-01-01T00:00:00Z","decision":"keep","reason":"not-selected"}]},{"owner":"","type":"","name":"b","visibility":"","complete":false,"versions":[]}],"policy":null,"started_at":"0001-01-01T00:00:00Z","dry_run":false}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	if p.Packages[0].Versions[0].Tags != nil || p.Packages[1].Versions != nil {
		t.Errorf("encoding changed the plan")
	}
	if b, _ := (&Plan{}).JSON(); string(b) != "{\n  \"packages\": [],\n  \"policy\": null,\n  \"started_at\": \"0001-01-01T00:00:00Z\",\n  \"dry_run\": false\n}\n" {
		t.Errorf("empty plan file %q", b)
	}
}
