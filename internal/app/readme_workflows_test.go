package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/internal/fakegh"
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
				whole := s.With[policy.InRestoreFrom] == ""
				for k, v := range s.With {
					def, ok := policy.LookupInput(k)
					if !ok {
						t.Errorf("README workflow job %s: %q is not an input", name, k)
						continue
					}
					if s.With[policy.InPolicyFile] != "" && def.Rule {
						t.Errorf("README workflow job %s: rule input %s beside policy-file is an input error", name, k)
					}
					switch {
					case !def.Policy || k == policy.InPolicyFile:
					case strings.Contains(v, "${{"):
						whole = whole && !def.Rule
					default:
						values[k] = v
					}
				}
				if s.With[policy.InPolicyFile] != "" || !whole {
					continue
				}
				if _, err := policy.Parse(policy.Inputs{Values: values, DefaultOwner: "acme", DefaultPackage: "app"}); err != nil {
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

// TestReadmeDrainRecipeStopsWhenNothingIsDeferred runs the backlog recipe
// hour after hour against a fake GitHub whose budget is 200 requests an
// hour: the first run deletes what the budget allows and defers the rest,
// the next one finishes, and the recipe's last step (run by bash with a
// stand-in gh that records its arguments) disables the workflow only then.
func TestReadmeDrainRecipeStopsWhenNothingIsDeferred(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	var name, stop string
	var with map[string]string
	for _, text := range readmeWorkflows(t) {
		if !strings.Contains(text, "name: Drain the package backlog\n") {
			continue
		}
		var wf struct {
			Name string `yaml:"name"`
			Jobs map[string]struct {
				Steps []struct {
					Name string            `yaml:"name"`
					Uses string            `yaml:"uses"`
					Run  string            `yaml:"run"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
			t.Fatal(err)
		}
		name = wf.Name
		for _, s := range wf.Jobs["drain"].Steps {
			if s.Uses == "pkgretention/retention@v1" {
				with = s.With
			}
			if s.Name == "Stop when nothing is left" {
				stop = s.Run
			}
		}
	}
	if with == nil || stop == "" {
		t.Fatal("the README has no drain recipe with the action and a stop step")
	}

	w := newPeerWorld(t, "acme", false, fakegh.WithRateLimit(fakegh.RateLimit{Limit: 200, Window: time.Hour}))
	for i := range 250 {
		w.npmVersion("widgets", fmt.Sprintf("1.0.%d", i), time.Duration(300-i)*day) // every one older than 30 days
	}
	w.publish(t)
	policyFile := filepath.Join(t.TempDir(), "package-retention.yml")
	if err := os.WriteFile(policyFile, []byte("rules:\n  - packages: widgets\n    package-type: npm\n    older-than: 30d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	if err := os.WriteFile(filepath.Join(bin, "gh"), []byte("#!/bin/sh\necho \"$@\" >> "+calls+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hour := func(n int) (deleted, deferred string, ghCalls string) {
		t.Helper()
		in := map[string]string{}
		for k, v := range with {
			in[k] = v
		}
		in["policy-file"] = policyFile
		r := newRunner(t, w.srv.URL, in)
		r.clock = w.clk
		r.run(t)
		if r.code != ExitOK {
			t.Fatalf("hour %d: exit %d\n%s", n, r.code, r.stdoutText)
		}
		deleted, deferred = r.outputs[outDeleted], r.outputs[outDeferred]
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", stop)
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "DELETED=" + deleted, "DEFERRED=" + deferred,
			"GITHUB_WORKFLOW=" + name, "GITHUB_STEP_SUMMARY=" + filepath.Join(t.TempDir(), "summary")}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hour %d: stop step: %v\n%s", n, err, out)
		}
		b, _ := os.ReadFile(calls)
		return deleted, deferred, string(b)
	}

	deleted, deferred, calls1 := hour(1)
	if deleted == "0" || deferred == "0" || deferred == "" {
		t.Fatalf("hour 1: deleted %s, deferred %s; want some of each (200 requests for 249 deletions)", deleted, deferred)
	}
	if calls1 != "" {
		t.Errorf("hour 1 left %s deferred and still ran gh %q", deferred, calls1)
	}
	w.clk.Advance(time.Hour)
	deleted2, deferred2, calls2 := hour(2)
	if deferred2 != "0" {
		t.Fatalf("hour 2: deferred %s, want 0", deferred2)
	}
	if calls2 != "workflow disable "+name+"\n" {
		t.Errorf("hour 2: gh called with %q, want workflow disable %q", calls2, name)
	}
	t.Logf("hour 1: deleted %s, deferred %s; hour 2: deleted %s, deferred %s", deleted, deferred, deleted2, deferred2)
	if left := len(w.gh.Active("acme", "npm", "widgets")); left != 1 {
		t.Errorf("%d versions left, want 1 (the last version of a package is never deleted); deleted %s then %s", left, deleted, deleted2)
	}
}
