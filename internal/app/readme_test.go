package app

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
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

// ghWorkflow is the part of a workflow file the README's workflow tests
// read.
type ghWorkflow struct {
	Name string               `yaml:"name"`
	On   map[string]yaml.Node `yaml:"on"`
	Jobs map[string]struct {
		Steps []ghStep `yaml:"steps"`
	} `yaml:"jobs"`
}

type ghStep struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

// readmeWorkflow returns the README's workflow named name, as a user
// copies it.
func readmeWorkflow(t *testing.T, name string) ghWorkflow {
	t.Helper()
	for _, b := range fencedBlocks(string(repoFile(t, "README.md"))) {
		if b[0] != "yaml" || !strings.HasPrefix(b[1], "name: "+name+"\n") {
			continue
		}
		var wf ghWorkflow
		if err := yaml.Unmarshal([]byte(b[1]), &wf); err != nil {
			t.Fatalf("README workflow %q: %v", name, err)
		}
		if len(wf.Jobs) != 1 {
			t.Fatalf("README workflow %q has %d jobs, want 1", name, len(wf.Jobs))
		}
		return wf
	}
	t.Fatalf("the README has no workflow named %q", name)
	return ghWorkflow{}
}

// dispatchInput is an input of workflow_dispatch.
type dispatchInput struct {
	Type    string   `yaml:"type"`
	Options []string `yaml:"options"`
	Default string   `yaml:"default"`
}

// dispatchInputs returns the inputs of the workflow's workflow_dispatch.
func (wf ghWorkflow) dispatchInputs(t *testing.T) map[string]dispatchInput {
	t.Helper()
	n, ok := wf.On["workflow_dispatch"]
	if !ok {
		t.Fatalf("workflow %q cannot be started by hand", wf.Name)
	}
	var d struct {
		Inputs map[string]dispatchInput `yaml:"inputs"`
	}
	if err := n.Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Inputs
}

// steps returns the workflow's only job's steps.
func (wf ghWorkflow) steps() []ghStep {
	for _, j := range wf.Jobs {
		return j.Steps
	}
	return nil
}

// step returns the step that uses the action (pkgretention/retention@…)
// or whose id is id.
func (wf ghWorkflow) step(t *testing.T, id string) ghStep {
	t.Helper()
	var found []ghStep
	for _, s := range wf.steps() {
		if (id == "" && strings.HasPrefix(s.Uses, "pkgretention/retention@")) || (id != "" && s.ID == id) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("workflow %q: %d steps match %q, want 1", wf.Name, len(found), id)
	}
	return found[0]
}

// stepUsing returns the step that uses the action named (without @ref).
func (wf ghWorkflow) stepUsing(t *testing.T, action string) ghStep {
	t.Helper()
	for _, s := range wf.steps() {
		if strings.HasPrefix(s.Uses, action+"@") {
			return s
		}
	}
	t.Fatalf("workflow %q uses no %s", wf.Name, action)
	return ghStep{}
}

// evalWith evaluates a step's with: as a runner does.
func evalWith(t *testing.T, s ghStep, ctx exprContexts) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range s.With {
		got, err := evalTemplate(v, ctx)
		if err != nil {
			t.Fatalf("step %q, with.%s: %v", s.Name, k, err)
		}
		out[k] = got
	}
	return out
}

// hostRoutes is the network of the README's workflow tests: requests to
// GitHub's hosts go to the fakes on loopback, loopback stays loopback, and
// anything else fails.
type hostRoutes map[string]string // host → http://127.0.0.1:port

func (h hostRoutes) RoundTrip(req *http.Request) (*http.Response, error) {
	if to, ok := h[req.URL.Host]; ok {
		u, err := url.Parse(to)
		if err != nil {
			return nil, err
		}
		r := req.Clone(req.Context())
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		// The fake names itself in its token realm and redirects: name
		// the host it stands for, as ghcr.io's realm is https://ghcr.io/token.
		for _, k := range []string{"Www-Authenticate", "Location"} {
			if v := resp.Header.Get(k); v != "" {
				resp.Header.Set(k, strings.ReplaceAll(v, to, "https://"+req.URL.Host))
			}
		}
		return resp, nil
	}
	if strings.HasPrefix(req.URL.Host, "127.0.0.1:") {
		return http.DefaultTransport.RoundTrip(req)
	}
	return nil, fmt.Errorf("no network in tests: %s", req.URL)
}

// workflowRun runs the README workflow's action step as a runner would:
// its with: evaluated in the event's contexts, every input action.yml
// declares set as INPUT_<NAME> (its default, itself an expression, when
// the step gives none), a runner's environment (GITHUB_REPOSITORY,
// GITHUB_API_URL of github.com…), the network routed to the fakes.
func workflowRun(t *testing.T, w *registryWorld, s ghStep, ctx exprContexts) *runner {
	t.Helper()
	var a actionYML
	if err := yaml.Unmarshal(repoFile(t, "action.yml"), &a); err != nil {
		t.Fatal(err)
	}
	names, declared := ordered[actionInput](t, a.Inputs)
	with := evalWith(t, s, ctx)
	r := newRunner(t, "https://api.github.com", nil)
	for _, name := range names {
		v, given := with[name]
		if !given && declared[name].Default != nil {
			var err error
			if v, err = evalTemplate(*declared[name].Default, ctx); err != nil {
				t.Fatalf("action.yml default of %s: %v", name, err)
			}
		}
		r.env["INPUT_"+strings.ToUpper(name)] = v
		delete(with, name)
	}
	for name := range with {
		t.Errorf("step %q gives %q, which action.yml does not declare", s.Name, name)
	}
	github := ctx["github"].(map[string]any)
	r.env["GITHUB_REPOSITORY"] = github["repository"].(string)
	r.env["GITHUB_REPOSITORY_OWNER"] = github["repository_owner"].(string)
	r.env["GITHUB_EVENT_NAME"] = github["event_name"].(string)
	r.env["RUNNER_TEMP"] = ctx["runner"].(map[string]any)["temp"].(string)
	r.temp = r.env["RUNNER_TEMP"]
	r.token = github["token"].(string)
	r.clock = w.clk
	r.transport = hostRoutes{"api.github.com": w.srv.URL, "ghcr.io": w.reg.URL()}
	// A docker action starts in the workspace (GITHUB_WORKSPACE), where
	// its relative paths (cache-path, policy-file) land.
	workspace := github["workspace"].(string)
	r.env["GITHUB_WORKSPACE"] = workspace
	back, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(workspace); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.Chdir(back); err != nil {
			t.Fatal(err)
		}
	}()
	r.run(t)
	return r
}

// workflowContexts are the contexts of a run of the README's workflows on
// event: github.event of a schedule has no repository (observed: its
// payload carries only the cron; igorjs/gh-actions-clean-workflow#33,
// zephyrproject-rtos/zephyr#49041), inputs are empty but on
// workflow_dispatch, and github.token is the workflow's GITHUB_TOKEN, an
// installation token (ghs_). github.workspace is a new empty folder,
// owned (when the test runs as root, as a docker action does) by the
// runner's user, uid 1001 on GitHub's images.
func workflowContexts(t *testing.T, event string, inputs map[string]any, runID, temp string) exprContexts {
	workspace := t.TempDir()
	if os.Geteuid() == 0 {
		if err := os.Chown(workspace, runnerUID, runnerUID); err != nil {
			t.Fatal(err)
		}
	}
	payload := map[string]any{"schedule": "17 3 * * *"}
	if event == "workflow_dispatch" {
		payload = map[string]any{
			"inputs":     inputs,
			"repository": map[string]any{"name": "app", "full_name": "acme/app"},
		}
	}
	if inputs == nil {
		inputs = map[string]any{}
	}
	return exprContexts{
		"github": map[string]any{
			"event":            payload,
			"event_name":       event,
			"token":            testToken,
			"repository":       "acme/app",
			"repository_owner": "acme",
			"run_id":           runID,
			"api_url":          "https://api.github.com",
			"workspace":        workspace,
		},
		"inputs": inputs,
		"runner": map[string]any{"temp": temp},
		"steps":  map[string]any{},
	}
}

// TestReadmeWorkflowsRunAsOnARunner runs the README's nightly workflow as
// GitHub runs it on a schedule and by hand (workflow_dispatch, each dry-run
// choice), with the workflow's GITHUB_TOKEN, against the fake API and a
// real registry: it must delete what its comment says (the untagged
// versions of the image named like the repository, older than a week) and
// exit 0. Then the undo workflow restores what the nightly run deleted.
func TestReadmeWorkflowsRunAsOnARunner(t *testing.T) {
	nightly := readmeWorkflow(t, "Package retention")
	undo := readmeWorkflow(t, "Undo package retention")
	if _, ok := undo.dispatchInputs(t)["run-id"]; !ok {
		t.Fatal("the undo workflow has no run-id input")
	}
	if _, ok := nightly.On["schedule"]; !ok {
		t.Fatal("the nightly workflow has no schedule")
	}
	choice := nightly.dispatchInputs(t)["dry-run"]
	if !slices.Equal(choice.Options, []string{"true", "false"}) || choice.Default != "true" {
		t.Fatalf("the nightly workflow's dry-run choice is %+v, want options true and false, default true", choice)
	}

	cases := []struct {
		name   string
		event  string
		inputs map[string]any
		dryRun bool
	}{
		{"schedule", "schedule", nil, false},
		{"workflow_dispatch dry run", "workflow_dispatch", map[string]any{"dry-run": "true"}, true},
		{"workflow_dispatch real run", "workflow_dispatch", map[string]any{"dry-run": "false"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The workflow's GITHUB_TOKEN reaches the packages linked to
			// its repository, acme/app.
			w := newRegistryWorld(t, "private", fakegh.WithInstallationRepository("acme/app"))
			w.gh.SetRepository("acme", "container", "app", "app")
			w.seed(t, -1)
			young, err := w.reg.PushImage(w.repo, fakeregistry.ImageOptions{})
			if err != nil {
				t.Fatal(err)
			}
			at := epoch.Add(-3 * 24 * time.Hour)
			w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: young.Digest, CreatedAt: at, UpdatedAt: at})
			// Another package of the organisation, which the workflow
			// does not name: untouched.
			w.gh.AddPackage("acme", "container", "other", "private")
			w.gh.AddVersions("acme", "container", "other", 3, nil)
			before := activeNames(w.gh, "acme", "container", "app")

			temp := filepath.Join(t.TempDir(), "runner_temp")
			ctx := workflowContexts(t, tc.event, tc.inputs, "1001", temp)
			r := workflowRun(t, w, nightly.step(t, ""), ctx)

			if r.code != ExitOK {
				t.Fatalf("exit %d, want 0\n%s", r.code, r.stdoutText)
			}
			r.checkOutputs(t, map[string]string{outFailed: "0"})
			if r.outputs[outDeleted] == "0" {
				t.Errorf("deleted-count 0: the run found nothing to delete")
			}
			plan := readPlan(t, r.planPath)
			if len(plan.Packages) != 1 || plan.Packages[0].Name != "app" || plan.DryRun != tc.dryRun {
				t.Fatalf("plan: %d packages, first %q, dry run %v; want the repository's package app, dry run %v", len(plan.Packages), plan.Packages[0].Name, plan.DryRun, tc.dryRun)
			}
			// What the comment says: untagged, older than a week.
			for _, v := range plan.Packages[0].Versions {
				if v.Decision != policy.Delete {
					continue
				}
				if len(v.Parents) == 0 && (ownTags(v.Tags) > 0 || epoch.Sub(v.UpdatedAt) <= 7*24*time.Hour) {
					t.Errorf("version %s (tags %v, %s old) is deleted: not an untagged image older than a week", v.Name[:19], v.Tags, epoch.Sub(v.UpdatedAt))
				}
			}
			if tc.dryRun {
				if m := w.gh.Mutations(); m != 0 {
					t.Errorf("a dry run sent %d mutating requests", m)
				}
				if after := activeNames(w.gh, "acme", "container", "app"); !slices.Equal(after, before) {
					t.Errorf("a dry run changed the package")
				}
			} else {
				for _, rel := range w.releases {
					w.intact(t, rel)
					w.intact(t, w.sigs[rel.Digest])
				}
				w.intact(t, w.main)
				w.intact(t, young)
				for _, o := range w.old {
					w.gone(t, o)
				}
				if w.reg.Has(w.repo, w.orphan.Digest) {
					t.Error("the orphan signature was not cleaned")
				}
			}
			if n := len(w.gh.Active("acme", "container", "other")); n != 3 {
				t.Errorf("container other: %d active versions, want 3", n)
			}
			// GITHUB_TOKEN cannot list the organisation's containers: the
			// package is fetched by name, never listed.
			if n := w.gh.CountRoute(routeListOrgPackages); n != 0 {
				t.Errorf("%d listings of the organisation's packages, want 0", n)
			}
			// The manifest cache is where the save step looks, and readable
			// by it: actions/cache/save runs tar as the runner's user, and
			// the action wrote the file as root (a docker action runs as
			// root; actions/runner#1282). Run as root here, the folder and
			// file belong to the workspace's owner, so that a self-hosted
			// runner's next checkout can clean them (actions/runner#434).
			save := evalWith(t, nightly.stepUsing(t, "actions/cache/save"), ctx)
			cacheDir := filepath.Join(ctx["github"].(map[string]any)["workspace"].(string), save["path"])
			files, err := os.ReadDir(cacheDir)
			if err != nil || len(files) == 0 {
				t.Errorf("no manifest cache in %s, where the save step looks: %v", save["path"], err)
			}
			wsOwner := ownerOf(t, ctx["github"].(map[string]any)["workspace"].(string))
			if o := ownerOf(t, cacheDir); os.Geteuid() == 0 && o != wsOwner {
				t.Errorf("%s owned by %d, the workspace by %d: the runner's next checkout cannot clean it", save["path"], o, wsOwner)
			}
			for _, f := range files {
				fi, err := f.Info()
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm()&0o044 != 0o044 {
					t.Errorf("%s has mode %v: another user (the save step's tar) cannot read it", f.Name(), fi.Mode())
				}
				if o := ownerOf(t, filepath.Join(cacheDir, f.Name())); os.Geteuid() == 0 && o != wsOwner {
					t.Errorf("%s owned by %d, the workspace by %d", f.Name(), o, wsOwner)
				}
			}
			// The next step uploads the plan file: its path pattern finds it.
			upload := evalWith(t, nightly.stepUsing(t, "actions/upload-artifact"), ctx)
			if ok, err := filepath.Match(upload["path"], r.planPath); !ok || err != nil {
				t.Errorf("the upload step's path %q does not match the plan file %q", upload["path"], r.planPath)
			}
			if tc.dryRun || tc.event != "schedule" {
				return
			}

			// Undo the scheduled run, first as a dry run, then for real, as
			// the undo workflow does it given the run's ID.
			for _, dry := range []string{"true", "false"} {
				w.gh.ResetLog()
				uctx := workflowContexts(t, "workflow_dispatch", map[string]any{"run-id": "1001", "dry-run": dry}, "2002", filepath.Join(t.TempDir(), "runner_temp"))
				workspace := uctx["github"].(map[string]any)["workspace"].(string)
				download := evalWith(t, undo.stepUsing(t, "actions/download-artifact"), uctx)
				if download["name"] != upload["name"] || download["run-id"] != "1001" {
					t.Fatalf("the undo workflow downloads %q of run %q, the nightly uploaded %q", download["name"], download["run-id"], upload["name"])
				}
				dir := filepath.Join(workspace, download["path"])
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(r.planPath)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, filepath.Base(r.planPath)), b, 0o644); err != nil {
					t.Fatal(err)
				}
				find := undo.step(t, "plan")
				uctx["steps"] = map[string]any{"plan": map[string]any{"outputs": runStep(t, find, workspace)}}
				// The action's container starts in the workspace: a
				// relative restore-from is relative to it.
				ur := workflowRun(t, w, undo.step(t, ""), uctx)
				if ur.code != ExitOK {
					t.Fatalf("undo (dry-run %s): exit %d\n%s", dry, ur.code, ur.stdoutText)
				}
				if dry == "true" {
					if m := w.gh.Mutations(); m != 0 {
						t.Errorf("the undo's dry run sent %d mutating requests", m)
					}
					continue
				}
				if after := activeNames(w.gh, "acme", "container", "app"); !slices.Equal(after, before) {
					t.Errorf("after the undo %d versions are active, want the %d before the nightly run", len(after), len(before))
				}
			}
		})
	}
}

// ownTags counts the tags of a version that are labels, not attachment
// tags naming another image.
func ownTags(tags []string) int {
	n := 0
	for _, tag := range tags {
		if _, ok := policy.IsAttachmentTag(tag); !ok {
			n++
		}
	}
	return n
}

// runStep runs a step's shell script as a runner does (bash -e, in the
// workspace, GITHUB_OUTPUT a fresh file) and returns the outputs it set.
func runStep(t *testing.T, s ghStep, workspace string) map[string]any {
	t.Helper()
	out := filepath.Join(t.TempDir(), "step_output")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-e", "-c", s.Run)
	cmd.Dir = workspace
	cmd.Env = []string{"GITHUB_OUTPUT=" + out, "PATH=" + os.Getenv("PATH")}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("step %q: %v\n%s", s.Name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]any{}
	for k, v := range parseOutputFile(t, string(b)) {
		outputs[k] = v
	}
	return outputs
}
