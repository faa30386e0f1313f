package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

const testToken = "ghs_e2eSecretTokenValue0123456789"

// countingServer serves a fake GitHub over HTTP on loopback; requests()
// is the fake's own count of every request that reached it, routed or not.
type countingServer struct {
	*httptest.Server
	gh *fakegh.Server
}

func newCountingServer(t *testing.T, gh *fakegh.Server) *countingServer {
	t.Helper()
	cs := &countingServer{Server: httptest.NewServer(gh), gh: gh}
	t.Cleanup(cs.Close)
	return cs
}

// requests returns how many requests reached the server.
func (cs *countingServer) requests() int { return cs.gh.CountRequests("") }

// runner is the environment a GitHub runner gives a docker action: every
// input action.yml declares as INPUT_<NAME> (hyphens kept, defaults
// applied), GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP,
// GITHUB_REPOSITORY (acme/app), GITHUB_REPOSITORY_OWNER and GITHUB_API_URL.
type runner struct {
	env                    map[string]string
	output, summary, temp  string
	workspace              string
	stdout, stderr         bytes.Buffer
	code                   int
	outputs                map[string]string
	summaryText            string
	planPath               string
	stdoutText, stderrText string
	// token is the token the run is given (default testToken, a
	// workflow's GITHUB_TOKEN): the log must mask it and nothing may show
	// it.
	token string
	// clock, when set, replaces the wall clock (Main itself uses the wall
	// clock; tests that would wait for retries use a fake one).
	clock clock.Clock
	// ctx, when set, is the run's context (a test cancels it, as a
	// cancelled job's SIGTERM does).
	ctx context.Context
	// transport, when set, carries every request of the run (the tests of
	// the README's workflows route api.github.com and ghcr.io to the fakes).
	transport http.RoundTripper
}

func newRunner(t testing.TB, apiURL string, inputs map[string]string) *runner {
	t.Helper()
	dir := t.TempDir()
	r := &runner{
		output:    filepath.Join(dir, "file_commands", "set_output"),
		summary:   filepath.Join(dir, "file_commands", "step_summary"),
		temp:      filepath.Join(dir, "runner_temp"),
		workspace: filepath.Join(dir, "workspace"),
	}
	for _, d := range []string{filepath.Dir(r.output), r.temp, r.workspace} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The runner creates the file-command files empty.
	for _, f := range []string{r.output, r.summary} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.env = map[string]string{
		"GITHUB_ACTIONS":          "true",
		"GITHUB_API_URL":          apiURL,
		"GITHUB_REPOSITORY_OWNER": "acme",
		"GITHUB_REPOSITORY":       "acme/app",
		"GITHUB_OUTPUT":           r.output,
		"GITHUB_STEP_SUMMARY":     r.summary,
		"RUNNER_TEMP":             r.temp,
		"GITHUB_WORKSPACE":        r.workspace,
		"HOME":                    "/github/home",
	}
	for _, def := range policy.InputDefs {
		v := def.Default
		if def.Name == policy.InToken {
			v = testToken // ${{ github.token }}
		}
		r.env["INPUT_"+strings.ToUpper(def.Name)] = v
	}
	for name, v := range inputs {
		key := "INPUT_" + strings.ToUpper(name)
		if _, ok := r.env[key]; !ok {
			t.Fatalf("input %q is not declared in the inputs table", name)
		}
		r.env[key] = v
	}
	return r
}

// run runs Main as the runner would start the action's container.
func (r *runner) run(t testing.TB) {
	t.Helper()
	parent := r.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, 2*time.Minute)
	defer cancel()
	getenv := func(k string) string { return r.env[k] }
	if r.clock != nil || r.transport != nil {
		d := deps{clock: r.clock, transport: r.transport}
		if d.clock == nil {
			d.clock = clock.Real{}
		}
		r.code = mainWith(ctx, nil, getenv, &r.stdout, &r.stderr, d)
	} else {
		r.code = Main(ctx, nil, getenv, &r.stdout, &r.stderr)
	}
	r.stdoutText, r.stderrText = r.stdout.String(), r.stderr.String()
	b, err := os.ReadFile(r.output)
	if err != nil {
		t.Fatal(err)
	}
	r.outputs = parseOutputFile(t, string(b))
	s, err := os.ReadFile(r.summary)
	if err != nil {
		t.Fatal(err)
	}
	r.summaryText = string(s)
	r.planPath = r.outputs[outPlan]

	// The token may appear once: in the ::add-mask:: command that tells the
	// runner to hide it, which must come before anything else.
	token := r.token
	if token == "" {
		token = testToken
	}
	rest, masked := strings.CutPrefix(r.stdoutText, "::add-mask::"+token+"\n")
	if !masked {
		t.Errorf("stdout does not start with ::add-mask:: of the token:\n%.300s", r.stdoutText)
	}
	for name, text := range map[string]string{"stdout": rest, "stderr": r.stderrText, "step summary": r.summaryText, "outputs": string(b)} {
		if strings.Contains(text, token) {
			t.Errorf("the token appears in %s", name)
		}
	}
	if r.planPath != "" {
		if p, err := os.ReadFile(r.planPath); err == nil && bytes.Contains(p, []byte(token)) {
			t.Errorf("the token appears in the plan file")
		}
	}
}

// checkOutputs compares the outputs the run set with want.
func (r *runner) checkOutputs(t *testing.T, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if r.outputs[name] != v {
			t.Errorf("output %s = %q, want %q (outputs %v)", name, r.outputs[name], v, r.outputs)
		}
	}
}

// parseOutputFile reads GITHUB_OUTPUT as the runner does: name=value lines
// and name<<DELIMITER heredocs.
func parseOutputFile(t testing.TB, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var val []string
			for i++; i < len(lines) && lines[i] != delim; i++ {
				val = append(val, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("GITHUB_OUTPUT: heredoc of %q not closed", name)
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("GITHUB_OUTPUT: malformed line %q", line)
		}
		out[name] = val
	}
	return out
}

// readPlan decodes a plan file.
func readPlan(t testing.TB, path string) *policy.Plan {
	t.Helper()
	p, err := readPlanFile(path)
	if err != nil && !strings.Contains(err.Error(), "plan of a dry run") {
		t.Fatal(err)
	}
	if p == nil { // a dry run's plan: decode it plainly
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Packages []policy.PackagePlan `json:"packages"`
			DryRun   bool                 `json:"dry_run"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		p = &policy.Plan{Packages: f.Packages, DryRun: f.DryRun}
	}
	return p
}

// seedWidgets adds the npm package acme/widgets: six releases, 1.0.0 the
// oldest (100 days) and popular, 1.5.0 one day old.
func seedWidgets(gh *fakegh.Server, now time.Time) {
	gh.AddOrg("acme")
	gh.AddPackage("acme", "npm", "widgets", "public")
	for i, age := range []int{100, 80, 60, 40, 20, 1} {
		at := now.Add(-time.Duration(age) * 24 * time.Hour)
		v := fakegh.Version{Name: "1." + string(rune('0'+i)) + ".0", CreatedAt: at, UpdatedAt: at}
		if i == 0 {
			v.Downloads = 9000 // GitHub refuses: the 5,000-download rule
		}
		gh.AddVersion("acme", "npm", "widgets", v)
	}
}

func activeNames(gh *fakegh.Server, owner, typ, name string) []string {
	var names []string
	for _, v := range gh.Active(owner, typ, name) {
		names = append(names, v.Name)
	}
	slices.Sort(names)
	return names
}
