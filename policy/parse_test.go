package policy

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, values map[string]string, file string) (*Policy, error) {
	t.Helper()
	in := Inputs{Values: values, DefaultOwner: "acme"}
	if file != "" {
		in.PolicyFile = []byte(file)
	}
	return Parse(in)
}

func mustParse(t *testing.T, values map[string]string) *Policy {
	t.Helper()
	p, err := parse(t, values, "")
	if err != nil {
		t.Fatalf("Parse(%v): %v", values, err)
	}
	return p
}

func ruleJSONOf(t *testing.T, p *Policy) string {
	t.Helper()
	b, err := marshalJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		// want is the JSON encoding of the policy
		want string
	}{
		{
			name:   "packages only, defaults filled",
			values: map[string]string{"packages": "app"},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name: "every rule input",
			values: map[string]string{
				"packages":      "app, app-*\n!app-legacy",
				"package-type":  "container",
				"owner":         "globex",
				"tag-state":     "tagged",
				"delete-tags":   "pr-*, /feature-.+/",
				"delete-semver": "<2.0.0",
				"keep-latest":   "10",
				"older-than":    "1w3d",
				"age-basis":     "created",
				"keep-tags":     "latest\nv*",
				"keep-semver":   ">=1.0.0-0 <1.5.0",
				"max-deletions": "500",
				"dry-run":       "true",
			},
			want: `{"rules":[{"packages":["app","app-*","!app-legacy"],"package-type":"container","owner":"globex","tag-state":"tagged","delete-tags":["pr-*","/feature-.+/"],"delete-semver":"<2.0.0","keep-latest":10,"older-than":"1w3d","age-basis":"created","keep-tags":["latest","v*"],"keep-semver":">=1.0.0-0 <1.5.0"}],"max-deletions":500,"dry-run":true}`,
		},
		{
			name:   "letter case of enums and booleans",
			values: map[string]string{"packages": "lib", "package-type": "NPM", "tag-state": "Any", "age-basis": "UPDATED", "dry-run": "False"},
			want:   `{"rules":[{"packages":["lib"],"package-type":"npm","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "dry-run TRUE",
			values: map[string]string{"packages": "app", "dry-run": " TRUE "},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme"}],"max-deletions":0,"dry-run":true}`,
		},
		{
			name:   "authenticated user",
			values: map[string]string{"packages": "app", "owner": "@me"},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"@me"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "zero counts mean none",
			values: map[string]string{"packages": "app", "keep-latest": "0", "max-deletions": "0"},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "inputs of other layers are ignored",
			values: map[string]string{"packages": "app", "token": "x", "registry-url": "https://ghcr.io", "restore-from": "", "max-deletes-per-minute": "banana", "policy-file": ""},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "blank values are not given",
			values: map[string]string{"packages": "app", "older-than": "  ", "tag-state": "\n"},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "regex with a comma is one pattern",
			values: map[string]string{"packages": "app", "keep-tags": `/v{1,2}\..*/, latest`},
			want:   `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme","keep-tags":["/v{1,2}\\..*/","latest"]}],"max-deletions":0,"dry-run":false}`,
		},
		{
			name:   "every package type",
			values: map[string]string{"packages": "x", "package-type": "rubygems"},
			want:   `{"rules":[{"packages":["x"],"package-type":"rubygems","owner":"acme"}],"max-deletions":0,"dry-run":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.values)
			if got := ruleJSONOf(t, p); got != tt.want {
				t.Errorf("policy\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	p := mustParse(t, map[string]string{
		"packages": "app", "older-than": "36h", "keep-latest": "3", "delete-semver": "^1",
		"delete-tags": "sha256:abc*", "max-deletions": "7",
	})
	r := p.Rules[0]
	if r.OlderThan != 36*time.Hour || r.KeepLatest != 3 || p.MaxDeletions != 7 {
		t.Errorf("older-than %v keep-latest %d max-deletions %d", r.OlderThan, r.KeepLatest, p.MaxDeletions)
	}
	if !r.DeleteSemver.Match("1.9.0") || r.DeleteSemver.Match("2.0.0") {
		t.Errorf("delete-semver ^1 matches wrongly")
	}
	if len(r.DeleteTags) != 1 || !r.DeleteTags[0].IsDigest() {
		t.Errorf("delete-tags %v: want one digest pattern", r.DeleteTags)
	}
	if r.TagState != AnyState || r.AgeBasis != Updated || r.PackageType != Container || r.Owner != "acme" {
		t.Errorf("defaults: %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		owner  string // default owner; "acme" unless "-"
		want   []string
	}{
		{"packages missing", map[string]string{}, "", []string{
			"packages: no package given, and GITHUB_REPOSITORY is not set to default to the repository's package; name one or more packages or glob patterns, e.g. app or app-*"}},
		{"packages blank entries", map[string]string{"packages": " , \n"}, "", []string{
			"packages: no package given; name one or more packages or glob patterns, e.g. app or app-*"}},
		{"packages only exclusions", map[string]string{"packages": "!legacy"}, "", []string{
			"packages: only exclusions given; name the packages to include too, e.g. * and !legacy"}},
		{"packages bare exclusion", map[string]string{"packages": "app, !"}, "", []string{
			`packages: "!" excludes nothing; write !name or !pattern`}},
		{"packages digest", map[string]string{"packages": "sha256:abc"}, "", []string{
			`packages: "sha256:abc" is a digest pattern, which matches versions; name packages here`}},
		{"packages bad glob", map[string]string{"packages": "app-[a"}, "", []string{
			`packages: "app-[a" is not a valid pattern: a [ has no closing ]`}},
		{"package-type", map[string]string{"packages": "app", "package-type": "pip"}, "", []string{
			`package-type: "pip" is not a package type; use container, npm, maven, rubygems, nuget or docker`}},
		{"owner missing", map[string]string{"packages": "app"}, "-", []string{
			"owner: no owner given and GITHUB_REPOSITORY_OWNER is not set"}},
		{"owner invalid", map[string]string{"packages": "app", "owner": "acme/app"}, "", []string{
			`owner: "acme/app" is not an organisation or user name; use a login such as acme, or @me for the authenticated user`}},
		{"tag-state", map[string]string{"packages": "app", "tag-state": "some"}, "", []string{
			`tag-state: "some" is not a tag state; use any, tagged or untagged`}},
		{"tag-state for npm", map[string]string{"packages": "lib", "package-type": "npm", "tag-state": "untagged"}, "", []string{
			`tag-state: "untagged" applies to container packages only; every npm version is tagged by its name, so leave tag-state empty or use delete-tags`}},
		{"delete-tags reversed range", map[string]string{"packages": "app", "delete-tags": "v[9-0]"}, "", []string{
			`delete-tags: "v[9-0]" is not a valid pattern: the range 9-0 is reversed`}},
		{"delete-tags bad regex", map[string]string{"packages": "app", "delete-tags": "/(/"}, "", []string{
			`delete-tags: "/(/" is not a valid regular expression: missing closing ): ` + "`(`"}},
		{"delete-tags unterminated regex", map[string]string{"packages": "app", "delete-tags": "/abc"}, "", []string{
			`delete-tags: "/abc" starts a regular expression with / but has no closing / before the next comma or line`}},
		{"delete-tags exclusion", map[string]string{"packages": "app", "delete-tags": "*, !latest"}, "", []string{
			`delete-tags: "!latest": exclusions with ! are only for packages; to spare versions use keep-tags`}},
		{"delete-tags trailing backslash", map[string]string{"packages": "app", "delete-tags": `v\`}, "", []string{
			`delete-tags: "v\\" is not a valid pattern: it ends with a lone \`}},
		{"delete-semver", map[string]string{"packages": "app", "delete-semver": ">>1"}, "", []string{
			`delete-semver: ">>1" is not a valid range; use a range such as <2.0.0 or >=1.0.0-0 <1.5.0`}},
		{"keep-latest negative", map[string]string{"packages": "app", "keep-latest": "-1"}, "", []string{
			`keep-latest: "-1" is not a whole number, 0 or more; use a number such as 10`}},
		{"keep-latest fraction", map[string]string{"packages": "app", "keep-latest": "1.5"}, "", []string{
			`keep-latest: "1.5" is not a whole number, 0 or more; use a number such as 10`}},
		{"older-than unit", map[string]string{"packages": "app", "older-than": "3x"}, "", []string{
			`older-than: "3x" is not a duration; use a number with m, h, d or w (e.g. 30d)`}},
		{"older-than no unit", map[string]string{"packages": "app", "older-than": "30"}, "", []string{
			`older-than: "30" is not a duration; use a number with m, h, d or w (e.g. 30d)`}},
		{"older-than upper case", map[string]string{"packages": "app", "older-than": "1M"}, "", []string{
			`older-than: "1M" is not a duration; use a number with m, h, d or w (e.g. 30d)`}},
		{"older-than zero", map[string]string{"packages": "app", "older-than": "0d"}, "", []string{
			`older-than: "0d" is zero; use a duration above zero (e.g. 30d), or leave older-than empty to delete at any age`}},
		{"age-basis", map[string]string{"packages": "app", "age-basis": "modified"}, "", []string{
			`age-basis: "modified" is not an age basis; use updated or created`}},
		{"keep-tags", map[string]string{"packages": "app", "keep-tags": "[]"}, "", []string{
			`keep-tags: "[]" is not a valid pattern: write \] for a literal ] inside [...]`}},
		{"keep-semver", map[string]string{"packages": "app", "keep-semver": "one"}, "", []string{
			`keep-semver: "one" is not a valid range; use a range such as <2.0.0 or >=1.0.0-0 <1.5.0`}},
		{"max-deletions", map[string]string{"packages": "app", "max-deletions": "lots"}, "", []string{
			`max-deletions: "lots" is not a whole number, 0 or more; use a number such as 500, or 0 for no cap`}},
		{"max-deletions negative", map[string]string{"packages": "app", "max-deletions": "-5"}, "", []string{
			`max-deletions: "-5" is not a whole number, 0 or more; use a number such as 500, or 0 for no cap`}},
		{"dry-run", map[string]string{"packages": "app", "dry-run": "yes"}, "", []string{
			`dry-run: "yes" is not a boolean; use true or false`}},
		{"rule inputs beside policy-file", map[string]string{"policy-file": "retention.yml", "packages": "app", "older-than": "7d", "dry-run": "true"}, "", []string{
			"packages: cannot be given beside policy-file; write it in the rules of retention.yml instead",
			"older-than: cannot be given beside policy-file; write it in the rules of retention.yml instead",
		}},
		{"every problem at once", map[string]string{"packages": "app", "older-than": "soon", "keep-latest": "many", "dry-run": "maybe", "tag-state": "x"}, "", []string{
			`dry-run: "maybe" is not a boolean; use true or false`,
			`tag-state: "x" is not a tag state; use any, tagged or untagged`,
			`keep-latest: "many" is not a whole number, 0 or more; use a number such as 10`,
			`older-than: "soon" is not a duration; use a number with m, h, d or w (e.g. 30d)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inputs{Values: tt.values, DefaultOwner: "acme"}
			if tt.owner == "-" {
				in.DefaultOwner = ""
			}
			if tt.values["policy-file"] != "" {
				in.PolicyFile = []byte("rules:\n  - packages: app\n")
			}
			p, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse accepted it: %s", ruleJSONOf(t, p))
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestParsePolicyFile(t *testing.T) {
	file := `
# retention of the app images
rules:
  - packages: app
    tag-state: untagged
    older-than: 7d
  - packages: [app, "tools-*"]
    tag-state: tagged
    keep-latest: 10
    keep-tags: [latest, "v*", '/v{1,2}\..*/']
    owner: globex
  - packages: lib
    package-type: npm
    delete-semver: <1.0.0
    keep-tags: 0.0.1, 0.0.2
  - &base
    packages: shared
    older-than: 30d
`
	p, err := parse(t, map[string]string{"policy-file": "retention.yml", "max-deletions": "100", "dry-run": "true"}, file)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rules":[` +
		`{"packages":["app"],"package-type":"container","owner":"acme","tag-state":"untagged","older-than":"7d"},` +
		`{"packages":["app","tools-*"],"package-type":"container","owner":"globex","tag-state":"tagged","keep-latest":10,"keep-tags":["latest","v*","/v{1,2}\\..*/"]},` +
		`{"packages":["lib"],"package-type":"npm","owner":"acme","delete-semver":"<1.0.0","keep-tags":["0.0.1","0.0.2"]},` +
		`{"packages":["shared"],"package-type":"container","owner":"acme","older-than":"30d"}` +
		`],"max-deletions":100,"dry-run":true}`
	if got := ruleJSONOf(t, p); got != want {
		t.Errorf("policy\n got %s\nwant %s", got, want)
	}
	if !p.Rules[1].Covers("GLOBEX", Container, "tools-x") || p.Rules[1].Covers("acme", Container, "tools-x") {
		t.Errorf("rule 1 covers the wrong packages")
	}
}

func TestParsePolicyFileErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"empty", "", []string{"policy-file retention.yml: the file is empty; write rules: with at least one rule"}},
		{"comments only", "# nothing\n", []string{"policy-file retention.yml: the file is empty; write rules: with at least one rule"}},
		{"no rules key", "other: 1\n", []string{`policy-file retention.yml: line 1: unknown key "other"; the file has one key, rules`}},
		{"rules empty list", "rules: []\n", []string{"policy-file retention.yml: rules is empty; give at least one rule"}},
		{"rules null", "rules:\n", []string{"policy-file retention.yml: rules is empty; give at least one rule"}},
		{"rules not a list", "rules: app\n", []string{"policy-file retention.yml: line 1: rules must be a list of rules"}},
		{"not a mapping", "- packages: app\n", []string{"policy-file retention.yml: the file must be a mapping with one key, rules"}},
		{"action input at top", "dry-run: true\nrules:\n  - packages: app\n", []string{
			"policy-file retention.yml: line 1: dry-run is an input of the action, not a key of the policy file"}},
		// Every input of the action gets the same answer, wherever it
		// is handled (policy, cleanup or the action itself).
		{"token at top", "token: x\nrules:\n  - packages: app\n", []string{
			"policy-file retention.yml: line 1: token is an input of the action, not a key of the policy file"}},
		{"verify at top", "verify: false\nrules:\n  - packages: app\n", []string{
			"policy-file retention.yml: line 1: verify is an input of the action, not a key of the policy file"}},
		{"rule input at top", "packages: app\n", []string{"policy-file retention.yml: line 1: packages belongs in a rule, in the list under rules"}},
		{"rule not a mapping", "rules:\n  - app\n", []string{
			"policy-file retention.yml: rules[0]: line 2: a rule must be a mapping of rule inputs (packages, older-than, ...)"}},
		{"unknown key in rule", "rules:\n  - packages: app\n    keep-lastest: 3\n", []string{
			"policy-file retention.yml: rules[0].keep-lastest: unknown key; the keys of a rule are packages, package-type, owner, tag-state, image-state, delete-tags, delete-semver, keep-latest, older-than, age-basis, keep-tags, keep-semver"}},
		{"action input in rule", "rules:\n  - packages: app\n    max-deletions: 3\n", []string{
			"policy-file retention.yml: rules[0].max-deletions: max-deletions is an input of the action, not a key of a rule"}},
		{"verify in rule", "rules:\n  - packages: app\n    verify: false\n", []string{
			"policy-file retention.yml: rules[0].verify: verify is an input of the action, not a key of a rule"}},
		{"token in rule", "rules:\n  - packages: app\n    token: x\n", []string{
			"policy-file retention.yml: rules[0].token: token is an input of the action, not a key of a rule"}},
		{"duplicate key", "rules:\n  - packages: app\n    older-than: 7d\n    older-than: 1d\n", []string{
			"policy-file retention.yml: rules[0].older-than: given twice"}},
		{"list for a single value", "rules:\n  - packages: app\n    older-than: [7d]\n", []string{
			"policy-file retention.yml: rules[0].older-than: expects one value, not a list"}},
		{"mapping value", "rules:\n  - packages: {name: app}\n", []string{
			"policy-file retention.yml: rules[0].packages: line 2: expects a string or a list of strings, not a mapping"}},
		{"bad value names the rule", "rules:\n  - packages: app\n  - packages: app\n    keep-latest: ten\n", []string{
			`policy-file retention.yml: rules[1].keep-latest: "ten" is not a whole number, 0 or more; use a number such as 10`}},
		{"rule without packages", "rules:\n  - older-than: 7d\n", []string{
			"policy-file retention.yml: rules[0].packages: no package given; name one or more packages or glob patterns, e.g. app or app-*"}},
		{"bad pattern in a list", "rules:\n  - packages: app\n    keep-tags: [latest, 'v[']\n", []string{
			`policy-file retention.yml: rules[0].keep-tags: "v[" is not a valid pattern: a [ has no closing ]`}},
		{"tag-state for maven", "rules:\n  - packages: app\n    package-type: maven\n    tag-state: tagged\n", []string{
			`policy-file retention.yml: rules[0].tag-state: "tagged" applies to container packages only; every maven version is tagged by its name, so leave tag-state empty or use delete-tags`}},
		{"yaml syntax", "rules:\n  - packages: [app\n", []string{
			"policy-file retention.yml: line 2: YAML syntax error: did not find expected ',' or ']'"}},
		{"yaml syntax on line 4", "rules:\n  - packages: app\n    tag-state: untagged\n   older-than: 7d\n", []string{
			"policy-file retention.yml: line 4: YAML syntax error: did not find expected '-' indicator"}},
		{"yaml tab on line 3", "rules:\n  - packages: app\n\ttag-state: untagged\n    older-than: 7d\n", []string{
			"policy-file retention.yml: line 3: YAML syntax error: found a tab character that violates indentation"}},
		{"yaml syntax after a multi-line list", "rules:\n  - packages: [\n      app,\n      web]\n    keep-tags: [latest\n", []string{
			"policy-file retention.yml: line 5: YAML syntax error: did not find expected ',' or ']'"}},
		{"two documents", "rules:\n  - packages: app\n---\nrules:\n  - packages: lib\n", []string{
			"policy-file retention.yml: the file holds more than one YAML document; write all rules under one rules: key"}},
		{"several problems", "rules:\n  - packages: app\n    older-than: 3x\n  - tag-state: none\n", []string{
			`policy-file retention.yml: rules[0].older-than: "3x" is not a duration; use a number with m, h, d or w (e.g. 30d)`,
			"policy-file retention.yml: rules[1].packages: no package given; name one or more packages or glob patterns, e.g. app or app-*",
			`policy-file retention.yml: rules[1].tag-state: "none" is not a tag state; use any, tagged or untagged`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inputs{Values: map[string]string{"policy-file": "retention.yml"}, PolicyFile: []byte(tt.file), DefaultOwner: "acme"}
			p, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse accepted it: %s", ruleJSONOf(t, p))
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors\n got: %q\nwant: %q", got, tt.want)
			}
			checkInputErrors(t, err)
		})
	}
}

// checkInputErrors checks that every problem joined in err is an
// *InputError that errors.As reaches.
func checkInputErrors(t *testing.T, err error) {
	t.Helper()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("%T is not a joined error", err)
	}
	for _, e := range joined.Unwrap() {
		var ie *InputError
		if !errors.As(e, &ie) {
			t.Errorf("%q is a %T, not an *InputError", e, e)
		}
	}
}

// An *InputError carries where the problem is, so that a caller can act
// on it without reading the message.
func TestInputErrorFields(t *testing.T) {
	file := "rules:\n  - packages: app\n  - packages: app\n    keep-latest: ten\n"
	_, err := Parse(Inputs{Values: map[string]string{InPolicyFile: "p.yml", InDryRun: "maybe"}, PolicyFile: []byte(file), DefaultOwner: "acme"})
	checkInputErrors(t, err)
	var got []InputError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ie *InputError
		if errors.As(e, &ie) {
			got = append(got, *ie)
		}
	}
	want := []InputError{
		{Rule: -1, Input: InDryRun, Msg: `"maybe" is not a boolean; use true or false`},
		{File: "p.yml", Rule: 1, Input: InKeepLatest, Msg: `"ten" is not a whole number, 0 or more; use a number such as 10`},
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors\n got: %+v\nwant: %+v", got, want)
	}
}

func TestCovers(t *testing.T) {
	p := mustParse(t, map[string]string{"packages": "app, team/*, /svc-[0-9]+/\n!team/old*", "owner": "Acme"})
	r := &p.Rules[0]
	tests := []struct {
		owner string
		typ   PackageType
		name  string
		want  bool
	}{
		{"acme", Container, "app", true},
		{"ACME", Container, "app", true},
		{"globex", Container, "app", false},
		{"acme", Npm, "app", false},
		{"acme", Container, "app2", false},
		{"acme", Container, "team/a/b", true},
		{"acme", Container, "team/old-x", false},
		{"acme", Container, "svc-12", true},
		{"acme", Container, "svc-12x", false},
	}
	for _, tt := range tests {
		if got := r.Covers(tt.owner, tt.typ, tt.name); got != tt.want {
			t.Errorf("Covers(%q, %q, %q) = %v, want %v", tt.owner, tt.typ, tt.name, got, tt.want)
		}
	}
	// A rule built by hand (no Parse) compiles its packages on the fly.
	hand := Rule{Packages: []string{"app-*", "!app-x"}, Owner: "acme"}
	if !hand.Covers("acme", Container, "app-y") || hand.Covers("acme", Container, "app-x") {
		t.Errorf("hand-made rule covers the wrong packages")
	}
	inc, exc := r.PackagePatterns()
	var lits []string
	for _, p := range inc {
		if s, ok := p.Literal(); ok {
			lits = append(lits, s)
		}
	}
	if len(inc) != 3 || len(exc) != 1 || strings.Join(lits, ",") != "app" {
		t.Errorf("PackagePatterns: include %v exclude %v literals %v", inc, exc, lits)
	}
}

func TestPolicyJSONRoundTrip(t *testing.T) {
	p := mustParse(t, map[string]string{
		"packages": "app, !x", "tag-state": "untagged", "older-than": "1w3d", "keep-tags": `/v{1,2}\..*/`,
		"keep-semver": ">=1.0.0-0", "delete-semver": "<2", "keep-latest": "4", "age-basis": "created",
		"max-deletions": "9", "dry-run": "true", "owner": "@me",
	})
	b1, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := json.Unmarshal(b1, &back); err != nil {
		t.Fatalf("decode %s: %v", b1, err)
	}
	b2, _ := json.Marshal(&back)
	if string(b1) != string(b2) {
		t.Errorf("round trip\n got %s\nwant %s", b2, b1)
	}
	if back.Rules[0].OlderThan != 10*24*time.Hour || !back.Rules[0].Covers("@me", Container, "app") {
		t.Errorf("decoded rule differs: %+v", back.Rules[0])
	}
	// An invalid rule in a plan file is reported, not taken as is.
	if err := json.Unmarshal([]byte(`{"rules":[{"packages":["app"],"owner":"acme","older-than":"3x"}]}`), &back); err == nil ||
		!strings.Contains(err.Error(), `older-than: "3x" is not a duration`) {
		t.Errorf("invalid rule decoded: %v", err)
	}
	// A hand-made rule encodes with FormatDuration and default names.
	hand := Policy{Rules: []Rule{{Packages: []string{"app"}, Owner: "acme", OlderThan: 36 * time.Hour}}}
	if got, want := ruleJSONOf(t, &hand), `{"rules":[{"packages":["app"],"package-type":"container","owner":"acme","older-than":"36h"}],"max-deletions":0,"dry-run":false}`; got != want {
		t.Errorf("hand-made policy\n got %s\nwant %s", got, want)
	}
}

func TestDefaultPackage(t *testing.T) {
	tests := []struct{ repo, want string }{
		{"acme/app", "app"},
		{"Acme/My-App", "my-app"},
		{" acme/app.js ", "app.js"},
		{"", ""},
		{"app", ""},
		{"acme/", ""},
		{"/app", ""},
		{"acme/app/x", ""},
	}
	for _, tt := range tests {
		if got := DefaultPackage(tt.repo); got != tt.want {
			t.Errorf("DefaultPackage(%q) = %q, want %q", tt.repo, got, tt.want)
		}
	}
}

// TestParseDefaultPackage checks that a rule given as inputs without
// packages covers the repository's package, and that the rules of a policy
// file still name theirs.
func TestParseDefaultPackage(t *testing.T) {
	p, err := Parse(Inputs{Values: map[string]string{"tag-state": "untagged"}, DefaultOwner: "acme", DefaultPackage: "my-app"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Rules[0].Packages; len(got) != 1 || got[0] != "my-app" {
		t.Errorf("packages = %q, want the default [my-app]", got)
	}
	if !p.Rules[0].Covers("acme", Container, "my-app") || p.Rules[0].Covers("acme", Container, "other") {
		t.Errorf("the rule does not cover exactly acme's container my-app")
	}
	p, err = Parse(Inputs{Values: map[string]string{"packages": "web"}, DefaultOwner: "acme", DefaultPackage: "my-app"})
	if err != nil || p.Rules[0].Packages[0] != "web" {
		t.Errorf("packages given: %v, %v; want web", err, p)
	}
	file := "rules:\n  - tag-state: untagged\n"
	_, err = Parse(Inputs{Values: map[string]string{"policy-file": "p.yml"}, PolicyFile: []byte(file), DefaultOwner: "acme", DefaultPackage: "my-app"})
	if err == nil || !strings.Contains(err.Error(), "packages: no package given") {
		t.Errorf("a policy file rule without packages: %v, want packages: no package given", err)
	}
}
