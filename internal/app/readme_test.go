package app

import (
	"regexp"
	"strings"
	"testing"

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
	if len(rows) != len(Inputs) {
		t.Fatalf("README lists %d inputs, the table has %d", len(rows), len(Inputs))
	}
	for i, def := range Inputs {
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
				Values:       map[string]string{inPolicyFile: "README"},
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
				def, ok := lookupInput(k)
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
