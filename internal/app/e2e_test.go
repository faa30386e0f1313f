package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
)

func TestActionEndToEnd(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)

	r := newRunner(t, srv.URL, map[string]string{
		"packages":               "widgets",
		"package-type":           "npm",
		"keep-latest":            "2",
		"older-than":             "30d",
		"max-deletes-per-minute": "1000", // 60 ms apart: the test stays fast
	})
	r.run(t)

	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdoutText, r.stderrText)
	}
	want := map[string]string{outDeleted: "3", outKept: "2", outProtected: "1", outFailed: "0", outDeferred: "0"}
	r.checkOutputs(t, want)
	if got := activeNames(gh, "acme", "npm", "widgets"); !slices.Equal(got, []string{"1.0.0", "1.4.0", "1.5.0"}) {
		t.Errorf("active versions after the run: %v, want 1.0.0 (protected), 1.4.0 and 1.5.0 (keep-latest)", got)
	}

	// The plan file: under RUNNER_TEMP, named by the start time, every
	// version with its decision and result.
	if dir, base := filepath.Split(r.planPath); filepath.Clean(dir) != r.temp || !regexp.MustCompile(`^package-retention-plan-\d{8}T\d{6}Z\.json$`).MatchString(base) {
		t.Errorf("plan output %q: want $RUNNER_TEMP/package-retention-plan-<start>.json", r.planPath)
	}
	plan := readPlan(t, r.planPath)
	results := map[string]string{}
	for _, pkg := range plan.Packages {
		for _, v := range pkg.Versions {
			results[v.Name] = string(v.Decision) + "/" + v.Result
		}
	}
	wantResults := map[string]string{
		"1.5.0": "keep/", "1.4.0": "keep/", "1.3.0": "delete/deleted", "1.2.0": "delete/deleted",
		"1.1.0": "delete/deleted", "1.0.0": "delete/protected",
	}
	if !mapsEqual(results, wantResults) {
		t.Errorf("plan results %v, want %v", results, wantResults)
	}

	// The summary: totals first, then the package's table.
	for _, s := range []string{
		"## Package retention\n",
		"| deleted | kept | protected | failed | deferred |",
		"| 3 | 2 | 1 | 0 | 0 |",
		"### npm acme/widgets (public)",
		"| 1.0.0 |  | 100d | delete | selected | protected |",
	} {
		if !strings.Contains(r.summaryText, s) {
			t.Errorf("step summary lacks %q:\n%s", s, r.summaryText)
		}
	}
	if strings.Index(r.summaryText, "| 3 | 2 | 1 | 0 | 0 |") > strings.Index(r.summaryText, "###") {
		t.Errorf("totals are not first in the summary")
	}
	// The log: grouped per package, no error annotation.
	if !strings.Contains(r.stdoutText, "::group::npm acme/widgets") || !strings.Contains(r.stdoutText, "::endgroup::") {
		t.Errorf("no ::group:: for the package in the log:\n%s", r.stdoutText)
	}
	if strings.Contains(r.stdoutText, "::error") {
		t.Errorf("error annotation in a successful run:\n%s", r.stdoutText)
	}
}

func TestActionDryRunSendsNoMutation(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{
		"packages": "widgets", "package-type": "npm", "keep-latest": "2", "older-than": "30d", "dry-run": "true",
	})
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdoutText, r.stderrText)
	}
	if n := gh.Mutations(); n != 0 {
		t.Errorf("a dry run sent %d mutating requests", n)
	}
	if got := len(gh.Active("acme", "npm", "widgets")); got != 6 {
		t.Errorf("%d active versions after a dry run, want 6", got)
	}
	if r.outputs[outDeleted] != "4" || r.outputs[outKept] != "2" {
		t.Errorf("dry-run outputs %v: want deleted-count 4 (would delete), kept-count 2", r.outputs)
	}
	if !strings.Contains(r.summaryText, "(dry run)") || !strings.Contains(r.summaryText, "| to delete |") {
		t.Errorf("the summary does not say it is a dry run:\n%s", r.summaryText)
	}
	if p := readPlan(t, r.planPath); !p.DryRun {
		t.Errorf("plan file of a dry run has dry_run false")
	}
}

func TestActionFailureExits1(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	gh.AddPackage("acme", "npm", "gadgets", "private")
	gh.AddVersion("acme", "npm", "gadgets", fakegh.Version{Name: "0.1.0"})
	gh.AddVersion("acme", "npm", "gadgets", fakegh.Version{Name: "0.2.0"})
	gh.FailPage("acme", "npm", "gadgets", 1, 1000) // the listing of gadgets fails, whatever the retries
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{
		"packages": "widgets, gadgets", "package-type": "npm", "keep-latest": "2", "older-than": "30d",
	})
	r.clock = clock.NewFake(time.Now()) // the retries of the failing listing wait on it
	r.run(t)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want 1\n%s\n%s", r.code, r.stdoutText, r.stderrText)
	}
	if r.outputs[outFailed] == "0" || r.outputs[outFailed] == "" {
		t.Errorf("failed-count %q, want at least 1", r.outputs[outFailed])
	}
	if !regexp.MustCompile(`(?m)^::error::.*gadgets`).MatchString(r.stdoutText) {
		t.Errorf("no ::error:: annotation naming the failed package:\n%s", r.stdoutText)
	}
	if got := len(gh.Active("acme", "npm", "gadgets")); got != 2 {
		t.Errorf("%d versions of the failed package left, want 2: nothing may be deleted on an incomplete listing", got)
	}
	if !strings.Contains(r.summaryText, "**Failed**") {
		t.Errorf("the summary does not report the failed package:\n%s", r.summaryText)
	}
	// The rest of the run went on.
	if got := activeNames(gh, "acme", "npm", "widgets"); !slices.Equal(got, []string{"1.0.0", "1.4.0", "1.5.0"}) {
		t.Errorf("widgets after the run: %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCLIRun(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, clock.Real{}.Now())
	srv := newCountingServer(t, gh)
	env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY_OWNER": "acme"}
	planFile := filepath.Join(t.TempDir(), "out", "plan.json")

	t.Run("dry run table", func(t *testing.T) {
		code, stdout, stderr := cli(t, env, "--packages", "widgets", "--package-type", "npm", "--keep-latest", "2", "--older-than", "30d", "--dry-run", "--plan-file", planFile)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		for _, want := range []string{"npm acme/widgets (public): 6 versions: 4 delete, 2 keep, 0 protected", "1.3.0", "keep-latest", "Totals (dry run, nothing deleted): 4 to delete, 2 kept"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, stdout)
			}
		}
		if !strings.Contains(stderr, "Plan file: "+planFile) {
			t.Errorf("stderr does not name the plan file:\n%s", stderr)
		}
		if p := readPlan(t, planFile); len(p.Packages) != 1 || !p.DryRun {
			t.Errorf("plan file: %+v", p)
		}
		if gh.Mutations() != 0 {
			t.Errorf("a dry run sent %d mutations", gh.Mutations())
		}
	})
	t.Run("inputs from the environment", func(t *testing.T) {
		env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY_OWNER": "acme",
			"INPUT_PACKAGES": "widgets", "INPUT_PACKAGE-TYPE": "npm", "INPUT_KEEP-LATEST": "5", "INPUT_DRY-RUN": "true"}
		// The flag wins over INPUT_KEEP-LATEST.
		code, stdout, stderr := cli(t, env, "--keep-latest", "2", "--plan-file", planFile)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "6 versions: 4 delete, 2 keep") || gh.Mutations() != 0 {
			t.Errorf("want the dry-run plan of keep-latest 2 from the flag; mutations %d:\n%s", gh.Mutations(), stdout)
		}
	})
	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := cli(t, env, "--packages=widgets", "--package-type=npm", "--keep-latest=2", "--dry-run=true", "--json", "--plan-file", planFile)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		file, err := os.ReadFile(planFile)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(file) {
			t.Errorf("--json output differs from the plan file:\n%s\n---\n%s", stdout, file)
		}
	})
	t.Run("real run", func(t *testing.T) {
		code, stdout, stderr := cli(t, env, "--packages", "widgets", "--package-type", "npm", "--keep-latest", "2", "--older-than", "30d", "--dry-run=false", "--max-deletes-per-minute", "1000", "--plan-file", planFile)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "Totals: 3 deleted, 2 kept, 1 protected, 0 failed, 0 deferred.") {
			t.Errorf("stdout:\n%s", stdout)
		}
		if got := activeNames(gh, "acme", "npm", "widgets"); strings.Join(got, " ") != "1.0.0 1.4.0 1.5.0" {
			t.Errorf("active after the run: %v", got)
		}
	})
}

func TestActionRestoreFromUndoesARun(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)
	before := activeNames(gh, "acme", "npm", "widgets")

	run := newRunner(t, srv.URL, map[string]string{
		"packages": "widgets", "package-type": "npm", "keep-latest": "2", "older-than": "30d",
		"max-deletes-per-minute": "1000",
	})
	run.run(t)
	if run.code != ExitOK || run.outputs[outDeleted] != "3" {
		t.Fatalf("cleanup run: exit %d, outputs %v\n%s", run.code, run.outputs, run.stdoutText)
	}

	undo := newRunner(t, srv.URL, map[string]string{"restore-from": run.planPath, "max-deletes-per-minute": "1000"})
	undo.run(t)
	if undo.code != ExitOK {
		t.Fatalf("restore run: exit %d\n%s", undo.code, undo.stdoutText)
	}
	if after := activeNames(gh, "acme", "npm", "widgets"); !slices.Equal(after, before) {
		t.Errorf("after the restore: %v, want the versions before the run %v", after, before)
	}
	if !strings.Contains(undo.summaryText, "## Package retention: restore\n") || !strings.Contains(undo.summaryText, "| restored | skipped | failed | deferred |\n|---:|---:|---:|---:|\n| 3 | 0 | 0 | 0 |") {
		t.Errorf("restore summary:\n%s", undo.summaryText)
	}
	if !strings.Contains(undo.stdoutText, "Restore: 3 restored, 0 skipped, 0 failed, 0 deferred.") {
		t.Errorf("restore log lacks the totals:\n%s", undo.stdoutText)
	}
	// A restore deletes and keeps nothing: its outputs say so.
	want := map[string]string{outDeleted: "0", outKept: "0", outProtected: "0", outFailed: "0", outDeferred: "0"}
	undo.checkOutputs(t, want)
}

// A restore dry run sends no mutation and reports what it would restore,
// never a deletion.
func TestActionRestoreDryRunReportsWhatItWouldRestore(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)
	run := newRunner(t, srv.URL, map[string]string{
		"packages": "widgets", "package-type": "npm", "keep-latest": "2", "older-than": "30d",
		"max-deletes-per-minute": "1000",
	})
	run.run(t)
	if run.code != ExitOK || run.outputs[outDeleted] != "3" {
		t.Fatalf("cleanup run: exit %d, outputs %v\n%s", run.code, run.outputs, run.stdoutText)
	}
	mutations := gh.Mutations()

	undo := newRunner(t, srv.URL, map[string]string{"restore-from": run.planPath, "dry-run": "true"})
	undo.run(t)
	if undo.code != ExitOK {
		t.Fatalf("restore dry run: exit %d\n%s", undo.code, undo.stdoutText)
	}
	if n := gh.Mutations() - mutations; n != 0 {
		t.Errorf("restore dry run sent %d mutations", n)
	}
	want := map[string]string{outDeleted: "0", outKept: "0", outProtected: "0", outFailed: "0", outDeferred: "0"}
	undo.checkOutputs(t, want)
	for _, s := range []string{
		"## Package retention: restore (dry run)\n\nNothing was restored",
		"| would restore | skipped | failed | deferred |\n|---:|---:|---:|---:|\n| 3 | 0 | 0 | 0 |",
	} {
		if !strings.Contains(undo.summaryText, s) {
			t.Errorf("restore dry run summary lacks %q:\n%s", s, undo.summaryText)
		}
	}
	for _, s := range []string{"to delete", "| deleted |", "Nothing was deleted"} {
		if strings.Contains(undo.summaryText, s) {
			t.Errorf("restore dry run summary speaks of deletion (%q):\n%s", s, undo.summaryText)
		}
	}
	if !strings.Contains(undo.stdoutText, "Restore (dry run, nothing restored): would restore 3, 0 skipped, 0 failed, 0 deferred.") {
		t.Errorf("restore dry run log lacks the totals:\n%s", undo.stdoutText)
	}
}

func TestActionGHES(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken), fakegh.WithBasePath("/api/v3"))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL+"/api/v3", map[string]string{
		"packages": "widgets", "package-type": "npm", "keep-latest": "2", "dry-run": "true",
	})
	r.run(t)
	if r.code != ExitOK || r.outputs[outDeleted] != "4" {
		t.Errorf("exit %d, outputs %v\n%s", r.code, r.outputs, r.stdoutText)
	}
}

func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		deleted bool
	}{
		{"dry run", nil, []string{"Dry run: nothing is deleted", "Totals (dry run, nothing deleted):", "keep-tags:latest", "child-of:sha256:", "| to delete |",
			"Broken images (platform manifests deleted before this run", "  v2.0.0  sha256:"}, false},
		{"execute", []string{"--execute"}, []string{"Executing:", "deleted", "protected", "active versions before the run", "Broken images"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runDemoIn(context.Background(), tc.args, &stdout, &stderr, t.TempDir())
			if code != ExitOK {
				t.Fatalf("demo exit %d\n%s\n%s", code, stdout.String(), stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("demo output lacks %q:\n%s", w, stdout.String())
				}
			}
			if got := strings.Contains(stderr.String(), "post-run check of acme/app"); got != tc.deleted {
				t.Errorf("post-run check ran: %v, want %v\n%s", got, tc.deleted, stderr.String())
			}
			// The clock is simulated: no estimate of time left, which
			// would count simulated seconds for a run of milliseconds.
			if strings.Contains(stderr.String(), " left") {
				t.Errorf("the demo prints an estimate of time left:\n%s", stderr.String())
			}
			// A second read of the image structure says why, and that it
			// reads only what it adds.
			if n := strings.Count(stderr.String(), "image structure of acme/app"); n > 1 && !strings.Contains(stderr.String(), "image structure of acme/app, read again for ") {
				t.Errorf("the structure is read %d times without saying why:\n%s", n, stderr.String())
			}
		})
	}
}

// A package whose listing GitHub's secondary rate limit stops (asked to
// wait longer than a run waits) is left for the next run: the run
// succeeds, warns, and shows the package as deferred, not failed.
func TestActionRateLimitedListingIsDeferredNotFailed(t *testing.T) {
	clk := clock.NewFake(epoch)
	gh := fakegh.New(fakegh.WithToken(testToken), fakegh.WithClock(clk),
		fakegh.WithSecondaryLimit(fakegh.SecondaryLimit{PointsPerMinute: 3, RetryAfter: 20 * time.Minute, Status: 429}))
	gh.AddOrg("acme")
	gh.AddPackage("acme", "npm", "widgets", "private")
	gh.AddVersions("acme", "npm", "widgets", 1000, func(i int) fakegh.Version {
		at := epoch.Add(-time.Duration(1000-i) * time.Hour)
		return fakegh.Version{Name: fmt.Sprintf("1.0.%d", i), CreatedAt: at, UpdatedAt: at}
	})
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{"packages": "widgets", "package-type": "npm", "keep-latest": "900"})
	r.clock = clk
	r.run(t)

	if r.code != ExitOK {
		t.Errorf("exit %d, want 0: a run does not fail because of a rate limit\n%s", r.code, r.stdoutText)
	}
	if gh.Mutations() != 0 {
		t.Errorf("%d mutations sent for a package whose listing is incomplete", gh.Mutations())
	}
	plan := readPlan(t, r.planPath)
	if pp := plan.Packages[0]; pp.Complete || !pp.Deferred || !strings.HasPrefix(pp.Error, "left for the next run") {
		t.Fatalf("package: complete=%v deferred=%v error=%q, want an incomplete deferred package", pp.Complete, pp.Deferred, pp.Error)
	}
	want := map[string]string{outDeleted: "0", outKept: "0", outProtected: "0", outFailed: "0", outDeferred: "0"}
	r.checkOutputs(t, want)
	for _, s := range []string{
		"| 0 | 0 | 0 | 0 | 0 |\n\n1 package deferred to the next run: GitHub's rate limits stopped its listing",
		"### npm acme/widgets (private)",
		"**Deferred**: left for the next run",
	} {
		if !strings.Contains(r.summaryText, s) {
			t.Errorf("summary lacks %q:\n%s", s, r.summaryText)
		}
	}
	if strings.Contains(r.summaryText, "**Failed**") {
		t.Errorf("summary shows a failure:\n%s", r.summaryText)
	}
	for _, s := range []string{
		"Totals: 0 deleted, 0 kept, 0 protected, 0 failed, 0 deferred; 1 package deferred to the next run.\n",
		"::warning::1 package deferred to the next run (GitHub's rate limits): npm acme/widgets\n",
	} {
		if !strings.Contains(r.stdoutText, s) {
			t.Errorf("log lacks %q:\n%s", s, r.stdoutText)
		}
	}
	if strings.Contains(r.stdoutText, "failed: see the errors above") {
		t.Errorf("the run reports a failure:\n%s", r.stdoutText)
	}
}
