package app

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestReadmePreviewRecipeDiffsTwoPlans runs the pull-request preview recipe
// as a runner would: the action with the base branch's policy, the
// recipe's step that sets that plan apart, the action with the pull
// request's policy (both plans land in one RUNNER_TEMP), then the recipe's
// own script, under bash -eo pipefail as a runner runs it, with jq.
func TestReadmePreviewRecipeDiffsTwoPlans(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "jq", "diff", "cmp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (it is on GitHub's Ubuntu runners)", tool)
		}
	}
	var steps map[string]string
	for _, text := range readmeWorkflows(t) {
		if !strings.Contains(text, "name: Preview package retention\n") {
			continue
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Name string `yaml:"name"`
					Run  string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
			t.Fatal(err)
		}
		steps = map[string]string{}
		for _, s := range wf.Jobs["preview"].Steps {
			if s.Run != "" {
				steps[s.Name] = s.Run
			}
		}
	}
	setApart, compare := steps["Keep that plan apart"], steps["What the change changes"]
	if setApart == "" || compare == "" {
		t.Fatalf("the README's preview recipe lacks its two run steps: %v", steps)
	}

	w := newPeerWorld(t, "acme", false)
	taggedApp(t, w)
	w.publish(t)
	shared := t.TempDir()
	summary := filepath.Join(shared, "summary.md")
	bash := func(script string, env ...string) {
		t.Helper()
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "RUNNER_TEMP=" + shared, "GITHUB_STEP_SUMMARY=" + summary}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("recipe step: %v\n%s\n%s", err, out, script)
		}
	}
	dryRun := func(policyFile string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "package-retention.yml")
		if err := os.WriteFile(path, []byte(policyFile), 0o644); err != nil {
			t.Fatal(err)
		}
		r := newRunner(t, w.srv.URL, map[string]string{"policy-file": path, "dry-run": "true", "registry-url": w.reg.URL()})
		r.clock = w.clk
		r.env["RUNNER_TEMP"] = shared
		r.run(t)
		if r.code != ExitOK || r.planPath == "" {
			t.Fatalf("exit %d, plan %q\n%s", r.code, r.planPath, r.stdoutText)
		}
		// The action's container sees /github/runner_temp; the step after
		// it only uses the file's name.
		return "/github/runner_temp/" + filepath.Base(r.planPath)
	}

	basePlan := dryRun("rules:\n  - packages: app\n    tag-state: untagged\n")
	bash(setApart, "PLAN="+basePlan)
	headPlan := dryRun("rules:\n  - packages: app\n    tag-state: untagged\n  - packages: app\n    tag-state: tagged\n    keep-latest: 2\n")
	if err := os.WriteFile(summary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bash(compare, "PLAN="+headPlan)
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v1", "v2"} {
		d := w.pushed[tag].Digest[:19]
		if want := "| acme/app | " + d + " | " + tag + " | keep | delete (selected) |"; !strings.Contains(string(got), want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	for _, tag := range []string{"v3", "v4", "untagged"} {
		if strings.Contains(string(got), w.pushed[tag].Digest[:19]) {
			t.Errorf("summary lists %s, whose decision did not change:\n%s", tag, got)
		}
	}

	// The same policy on both sides: no change to report.
	if err := os.WriteFile(summary, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// (Both runs wrote one file name: the fake clock stood still. The
	// recipe's copy is what kept the base plan.)
	b, err := os.ReadFile(filepath.Join(shared, "base-plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shared, "same.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	bash(compare, "PLAN=/github/runner_temp/same.json")
	if got, _ := os.ReadFile(summary); !strings.Contains(string(got), "None: both policies decide the same") {
		t.Errorf("same policy, summary:\n%s", got)
	}
}
