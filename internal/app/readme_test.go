package app

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/policy"
)

// testCommand is the README's test command; .ci/run and CI run exactly it.
const testCommand = "go test -race -shuffle=on ./..."

// fencedBlocks returns the README's fenced code blocks: language, text.
func fencedBlocks(readme string) [][2]string {
	re := regexp.MustCompile("(?ms)^```(\\w*)\\n(.*?)^```$")
	var out [][2]string
	for _, m := range re.FindAllStringSubmatch(readme, -1) {
		out = append(out, [2]string{m[1], m[2]})
	}
	return out
}

func TestReadmeOpensWithTwoCommands(t *testing.T) {
	readme := string(repoFile(t, "README.md"))
	title, rest, _ := strings.Cut(readme, "\n\n")
	if !strings.HasPrefix(title, "# ") || strings.Contains(title, "\n") {
		t.Fatalf("README does not start with a one-line title: %q", title)
	}
	want := "```sh\ngo run . demo\n" + testCommand + "\n```\n"
	if !strings.HasPrefix(rest, want) {
		t.Errorf("README does not open with exactly the demo and the test command:\n%.200s", rest)
	}
	ci := string(repoFile(t, ".ci/run"))
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(testCommand) + `$`).MatchString(ci) {
		t.Errorf(".ci/run does not run the README's test command %q", testCommand)
	}
	if !strings.Contains(string(repoFile(t, ".github/workflows/ci.yml")), "run: "+testCommand+"\n") {
		t.Errorf("ci.yml does not run the README's test command %q", testCommand)
	}
}

// tableRows returns the rows of the Markdown table whose header starts
// with header, cells trimmed.
func tableRows(t *testing.T, readme, header string) [][]string {
	t.Helper()
	i := strings.Index(readme, "\n"+header)
	if i < 0 {
		t.Fatalf("README has no table starting %q", header)
	}
	lines := strings.Split(readme[i+1:], "\n")
	var rows [][]string
	for _, line := range lines[2:] { // header and separator
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		rows = append(rows, cells)
	}
	return rows
}

func TestReadmeTablesMatchInputs(t *testing.T) {
	readme := string(repoFile(t, "README.md"))
	rows := tableRows(t, readme, "| input | default | meaning |")
	if len(rows) != len(policy.InputDefs) {
		t.Fatalf("README lists %d inputs, the table has %d", len(rows), len(policy.InputDefs))
	}
	for i, def := range policy.InputDefs {
		wantDefault := ""
		if def.Default != "" {
			wantDefault = "`" + def.Default + "`"
		}
		want := []string{"`" + def.Name + "`", wantDefault, def.Description}
		if strings.Join(rows[i], "\x00") != strings.Join(want, "\x00") {
			t.Errorf("README input row %d:\n%q\nwant\n%q", i, rows[i], want)
		}
	}
	outRows := tableRows(t, readme, "| output | meaning |")
	if len(outRows) != len(Outputs) {
		t.Fatalf("README lists %d outputs, want %d", len(outRows), len(Outputs))
	}
	for i, o := range Outputs {
		if outRows[i][0] != "`"+o.Name+"`" || outRows[i][1] != o.Description {
			t.Errorf("README output row %d: %q, want %s: %s", i, outRows[i], o.Name, o.Description)
		}
	}
}

// readmeCopy is a workflow file as the README shows it: without its
// opening comment, using the published action instead of ./.
func readmeCopy(workflow string) string {
	lines := strings.Split(workflow, "\n")
	i := 0
	for i < len(lines) && strings.HasPrefix(lines[i], "#") {
		i++
	}
	s := strings.Join(lines[i:], "\n")
	return strings.Trim(strings.ReplaceAll(s, "uses: ./\n", "uses: pkgretention/retention@v1\n"), "\n")
}

func TestReadmeWorkflowsAreTheRepositorysOwn(t *testing.T) {
	readme := string(repoFile(t, "README.md"))
	for _, f := range []string{".github/workflows/retention.yml", ".github/workflows/retention-undo.yml"} {
		want := "```yaml\n" + readmeCopy(string(repoFile(t, f))) + "\n```"
		if !strings.Contains(readme, want) {
			t.Errorf("README does not show %s as it is (with uses: pkgretention/retention@v1)", f)
		}
	}
	if !strings.Contains(readme, "```yaml\n"+demoPolicy+"```") {
		t.Errorf("README does not show the demo's policy as it is")
	}
}

// TestReadmeRecipesAreValid parses every policy file and every `with:` of
// the README with the real parser.
func TestReadmeRecipesAreValid(t *testing.T) {
	readme := string(repoFile(t, "README.md"))
	var files, withs int
	for _, b := range fencedBlocks(readme) {
		if b[0] != "yaml" {
			continue
		}
		text := b[1]
		switch {
		case regexp.MustCompile(`(?m)^rules:`).MatchString(text):
			files++
			if _, err := policy.Parse(policy.Inputs{
				Values:       map[string]string{policy.InPolicyFile: "README"},
				PolicyFile:   []byte(text),
				DefaultOwner: "acme",
			}); err != nil {
				t.Errorf("README policy file does not parse: %v\n%s", err, text)
			}
		case strings.HasPrefix(strings.TrimSpace(text), "with:"):
			withs++
			var step struct {
				With map[string]string `yaml:"with"`
			}
			if err := yaml.Unmarshal([]byte(dedent(text)), &step); err != nil {
				t.Fatalf("README with: block: %v\n%s", err, text)
			}
			values := map[string]string{}
			for k, v := range step.With {
				def, ok := policy.LookupInput(k)
				if !ok {
					t.Errorf("README with: block names %q, which is not an input", k)
					continue
				}
				if def.Policy {
					values[k] = v
				}
			}
			if _, err := policy.Parse(policy.Inputs{Values: values, DefaultOwner: "acme"}); err != nil {
				t.Errorf("README recipe does not parse: %v\n%s", err, text)
			}
		}
	}
	if files < 2 || withs < 2 {
		t.Errorf("found %d policy files and %d with: recipes in the README, want at least 2 of each", files, withs)
	}
}

// dedent removes the indentation of the first line from every line.
func dedent(s string) string {
	first := s[:len(s)-len(strings.TrimLeft(s, " "))]
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		b.WriteString(strings.TrimPrefix(line, first))
	}
	return b.String()
}

// readmeRecipe returns the policy of the README's yaml block containing
// marker: a policy file, or the inputs of a with: block.
func readmeRecipe(t *testing.T, marker string) *policy.Policy {
	t.Helper()
	for _, b := range fencedBlocks(string(repoFile(t, "README.md"))) {
		if b[0] != "yaml" || !strings.Contains(b[1], marker) {
			continue
		}
		in := policy.Inputs{Values: map[string]string{}, DefaultOwner: "acme"}
		if strings.Contains(b[1], "rules:") {
			in.Values[policy.InPolicyFile] = "README"
			in.PolicyFile = []byte(b[1])
		} else {
			var step struct {
				With map[string]string `yaml:"with"`
			}
			if err := yaml.Unmarshal([]byte(dedent(b[1])), &step); err != nil {
				t.Fatal(err)
			}
			in.Values = step.With
		}
		p, err := policy.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatalf("no README recipe contains %q", marker)
	return nil
}

// TestReadmeRecipesDecide checks that the recipes do what the README says.
func TestReadmeRecipesDecide(t *testing.T) {
	now := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type v struct {
		label string // tags (comma-separated) for containers, name otherwise
		age   time.Duration
	}
	decide := func(t *testing.T, p *policy.Policy, typ policy.PackageType, name string, vs []v) map[string]policy.Decision {
		t.Helper()
		in := policy.PackageInput{Owner: "acme", Type: typ, Name: name, Visibility: "private", Complete: true}
		for i, x := range vs {
			ver := policy.Version{ID: int64(i + 1), Name: x.label, CreatedAt: now.Add(-x.age), UpdatedAt: now.Add(-x.age)}
			if typ == policy.Container {
				ver.Name = digest(x.label + string(rune(i)))
				if x.label != "" {
					ver.Tags = strings.Split(x.label, ",")
				}
			}
			in.Versions = append(in.Versions, ver)
		}
		plan := policy.Build(p, []policy.PackageInput{in}, now)
		got := map[string]policy.Decision{}
		for _, pp := range plan.Packages {
			for _, pv := range pp.Versions {
				label := pv.Name
				if typ == policy.Container {
					label = strings.Join(pv.Tags, ",")
					if label == "" {
						label = "untagged " + pv.CreatedAt.Format("Jan 2")
					}
				}
				got[label] = pv.Decision
			}
		}
		return got
	}
	check := func(t *testing.T, got map[string]policy.Decision, want map[string]policy.Decision) {
		t.Helper()
		for label, d := range want {
			if got[label] != d {
				t.Errorf("%s: %s, want %s (all: %v)", label, got[label], d, got)
			}
		}
	}

	t.Run("keep 10 newest tagged, untagged after 7 days", func(t *testing.T) {
		var vs []v
		for i := 1; i <= 15; i++ {
			vs = append(vs, v{fmt.Sprintf("build-%d", i), time.Duration(30-i) * day})
		}
		vs = append(vs, v{"", 20 * day}, v{"", 8 * day}, v{"", 2 * day})
		got := decide(t, readmeRecipe(t, "keep-latest: 10"), policy.Container, "app", vs)
		want := map[string]policy.Decision{}
		for i := 1; i <= 15; i++ {
			want[fmt.Sprintf("build-%d", i)] = policy.Keep
			if i <= 5 {
				want[fmt.Sprintf("build-%d", i)] = policy.Delete
			}
		}
		want["untagged "+now.Add(-20*day).Format("Jan 2")] = policy.Delete
		want["untagged "+now.Add(-8*day).Format("Jan 2")] = policy.Delete
		want["untagged "+now.Add(-2*day).Format("Jan 2")] = policy.Keep
		check(t, got, want)
	})
	t.Run("pre-releases after 30 days, every v* release kept", func(t *testing.T) {
		got := decide(t, readmeRecipe(t, "v*-*"), policy.Container, "app", []v{
			{"v1.3.0-rc.2,v1.3.0", 60 * day}, {"v1.4.0-rc.1", 40 * day}, {"v1.4.0", 35 * day}, {"v1.5.0-rc.1", 10 * day},
		})
		check(t, got, map[string]policy.Decision{
			"v1.3.0-rc.2,v1.3.0": policy.Keep, "v1.4.0-rc.1": policy.Delete, "v1.4.0": policy.Keep, "v1.5.0-rc.1": policy.Keep,
		})
	})
	t.Run("npm old major line", func(t *testing.T) {
		got := decide(t, readmeRecipe(t, "<2.0.0-0"), policy.Npm, "widgets", []v{
			{"1.0.0", 200 * day}, {"1.1.0-rc.1", 190 * day}, {"1.1.0", 180 * day}, {"1.2.0", 150 * day},
			{"1.3.0-rc.1", 120 * day}, {"1.3.0", 100 * day}, {"1.4.0", 80 * day}, {"2.0.0-rc.1", 70 * day}, {"2.0.0", 60 * day},
		})
		check(t, got, map[string]policy.Decision{
			"1.0.0": policy.Delete, "1.1.0-rc.1": policy.Delete, "1.1.0": policy.Delete, "1.2.0": policy.Delete,
			"1.3.0-rc.1": policy.Keep, "1.3.0": policy.Keep, "1.4.0": policy.Keep, "2.0.0-rc.1": policy.Keep, "2.0.0": policy.Keep,
		})
	})
}
