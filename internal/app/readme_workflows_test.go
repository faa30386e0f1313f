package app

import (
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/policy"
)

// readmeWorkflows returns the README's yaml blocks that are whole workflows
// (a top-level jobs:). .ci/run runs actionlint on the same blocks.
func readmeWorkflows(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, b := range fencedBlocks(string(repoFile(t, "README.md"))) {
		if b[0] == "yaml" && regexp.MustCompile(`(?m)^jobs:`).MatchString(b[1]) {
			out = append(out, b[1])
		}
	}
	return out
}

// TestReadmeWorkflowsUseRealInputs checks every step of a README workflow
// that uses this action: each with: key is an input, a policy given as
// inputs parses, and no rule input stands beside policy-file. Workflows
// other than the repository's own also stay off github.event.repository,
// which is empty on scheduled runs.
func TestReadmeWorkflowsUseRealInputs(t *testing.T) {
	t.Parallel()
	own := map[string]bool{}
	for _, f := range []string{".github/workflows/retention.yml", ".github/workflows/retention-undo.yml"} {
		own[readmeCopy(string(repoFile(t, f)))+"\n"] = true
	}
	workflows := readmeWorkflows(t)
	if len(workflows) < 8 {
		t.Fatalf("found %d workflows in the README, want at least 8 (use it, undo, 3 recipes, 3 translations)", len(workflows))
	}
	steps := 0
	for _, text := range workflows {
		if !own[text] && strings.Contains(text, "github.event.repository") {
			t.Errorf("README workflow uses github.event.repository (empty on schedule):\n%s", text)
		}
		var wf struct {
			On   yaml.Node `yaml:"on"`
			Jobs map[string]struct {
				RunsOn string `yaml:"runs-on"`
				Steps  []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
			t.Errorf("README workflow does not parse: %v\n%s", err, text)
			continue
		}
		for name, job := range wf.Jobs {
			for _, s := range job.Steps {
				if s.Uses != "pkgretention/retention@v1" {
					continue
				}
				steps++
				if !strings.HasPrefix(job.RunsOn, "ubuntu-") {
					t.Errorf("job %s runs a Docker action on %q: Linux runners only", name, job.RunsOn)
				}
				values := map[string]string{}
				// An expression stands for a value only the runner knows;
				// a restore needs no policy.
				whole := s.With[inRestoreFrom] == ""
				for k, v := range s.With {
					def, ok := lookupInput(k)
					if !ok {
						t.Errorf("README workflow job %s: %q is not an input", name, k)
						continue
					}
					if s.With[inPolicyFile] != "" && def.Rule {
						t.Errorf("README workflow job %s: rule input %s beside policy-file is an input error", name, k)
					}
					switch {
					case !def.Policy || k == inPolicyFile:
					case strings.Contains(v, "${{"):
						whole = whole && !def.Rule
					default:
						values[k] = v
					}
				}
				if s.With[inPolicyFile] != "" || !whole {
					continue
				}
				if _, err := policy.Parse(policy.Inputs{Values: values, DefaultOwner: "acme"}); err != nil {
					t.Errorf("README workflow job %s: %v", name, err)
				}
			}
		}
	}
	if steps < 8 {
		t.Errorf("found %d steps using the action in the README's workflows, want at least 8", steps)
	}
}
