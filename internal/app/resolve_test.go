package app

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// Routes a failing resolution goes through.
const (
	routeGetOrgPackage   = "GET /orgs/{org}/packages/{package_type}/{package_name}"
	routeListOrgPackages = "GET /orgs/{org}/packages"
)

// TestUnresolvedNamesAndPatternsFailTheRun checks that a name or pattern
// that cannot be resolved fails the run (exit 1, failed-count), whatever
// the number of names and patterns in the rule, and that the summary and
// the plan say which and why. Before names were fetched and every
// unresolved entry kept, a failed listing with two or more names ended in
// "No package matched the policy." and exit 0.
func TestUnresolvedNamesAndPatternsFailTheRun(t *testing.T) {
	kinds := []struct {
		name   string
		status int // 0: the connection is refused
		says   string
	}{
		{"400", 400, "400 Invalid argument."},
		{"403", 403, "403 Resource not accessible by integration"},
		{"502", 502, "502 Server Error"},
		{"503", 503, "503 Server Error"},
		{"refused connection", 0, "connection refused"},
	}
	forms := []struct {
		name     string
		packages string
		entries  []string // what cannot be resolved
	}{
		{"one name", "api", []string{"api"}},
		{"two names", "api, web", []string{"api", "web"}},
		{"a name and a pattern", "api, web-*", []string{"api", "web-*"}},
	}
	for _, kind := range kinds {
		for _, form := range forms {
			t.Run(kind.name+"/"+form.name, func(t *testing.T) {
				t.Parallel()
				clk := clock.NewFake(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
				gh := fakegh.New(fakegh.WithToken(patToken), fakegh.WithClock(clk))
				gh.AddOrg("acme")
				for _, name := range []string{"api", "web", "web-ui"} {
					gh.AddPackage("acme", "npm", name, "private")
					gh.AddVersions("acme", "npm", name, 5, nil)
				}
				srv := newCountingServer(t, gh)
				url := srv.URL
				if kind.status == 0 {
					url = refusedURL(t)
				} else {
					gh.FailRoute(routeGetOrgPackage, kind.status, -1)
					gh.FailRoute(routeListOrgPackages, kind.status, -1)
				}
				r := newRunner(t, url, map[string]string{
					"packages": form.packages, "package-type": "npm", "keep-latest": "1",
				})
				r.env["INPUT_TOKEN"] = patToken
				r.token = patToken
				r.clock = clk
				r.run(t)

				if r.code != ExitFailed {
					t.Fatalf("exit %d, want %d\nstdout:\n%s", r.code, ExitFailed, r.stdoutText)
				}
				r.checkOutputs(t, map[string]string{outFailed: strconv.Itoa(len(form.entries)), outDeleted: "0"})
				if n := strings.Count(r.summaryText, ". Nothing was deleted on its account."); n != len(form.entries) {
					t.Errorf("%d entries say nothing was deleted on their account, want %d:\n%s", n, len(form.entries), r.summaryText)
				}
				if want := "::error::" + pick(len(form.entries), "1 name or pattern", strconv.Itoa(len(form.entries))+" names or patterns") + " failed: see the errors above"; !strings.Contains(r.stdoutText, want) {
					t.Errorf("the log lacks %q:\n%s", want, r.stdoutText)
				}
				if strings.Contains(r.summaryText, "No package matched") {
					t.Errorf("the summary says no package matched:\n%s", r.summaryText)
				}
				plan := readPlan(t, r.planPath)
				got := map[string]policy.PackagePlan{}
				for _, pp := range plan.Packages {
					got[pp.Name] = pp
				}
				for _, e := range form.entries {
					pp, ok := got[e]
					if !ok || pp.Complete || !pp.Unresolved || !strings.Contains(pp.Error, kind.says) {
						t.Errorf("plan entry for %q: %+v, want incomplete, unresolved, with an error saying %q", e, pp, kind.says)
					}
					section := "### npm acme/" + e + " (not resolved)\n\nNo package found for it, nothing decided.\n\n**Failed**: "
					if !strings.Contains(r.summaryText, section) {
						t.Errorf("the summary does not name %q as not resolved:\n%s", e, r.summaryText)
					}
				}
				for _, name := range []string{"api", "web", "web-ui"} {
					if n := len(gh.Active("acme", "npm", name)); n != 5 {
						t.Errorf("npm %s: %d active versions, want all 5", name, n)
					}
				}
			})
		}
	}
}

// TestInstallationTokenPatternFailsWithAHint runs a container pattern with
// a workflow's GITHUB_TOKEN (prefix ghs_): GitHub refuses the listing
// (cli/cli#9606, actions/github-script#449, octokit/octokit.js#2606), the
// pattern fails the run with what to do, and the names beside it are
// fetched and cleaned all the same.
func TestInstallationTokenPatternFailsWithAHint(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	w.gh.AddPackage("acme", "container", "app-tools", "private")
	w.gh.AddVersions("acme", "container", "app-tools", 4, func(i int) fakegh.Version {
		return fakegh.Version{CreatedAt: epoch.Add(-time.Duration(30+i) * 24 * time.Hour)}
	})
	before := len(w.gh.Active("acme", "container", "app"))
	r := newRunner(t, w.srv.URL, map[string]string{
		"packages": "app, app-*", "tag-state": "untagged", "older-than": "7d", "registry-url": w.reg.URL(),
	})
	r.clock = w.clk
	r.run(t)

	if r.code != ExitFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s", r.code, ExitFailed, r.stdoutText)
	}
	r.checkOutputs(t, map[string]string{outFailed: "1"})
	for _, s := range []string{"### container acme/app-* (not resolved)", "400 Invalid argument.", "GITHUB_TOKEN", "name the packages", "personal access token", "\\`token:\\`"} {
		if !strings.Contains(r.summaryText, s) {
			t.Errorf("the summary lacks %q:\n%s", s, r.summaryText)
		}
	}
	if n := len(w.gh.Active("acme", "container", "app")); n >= before || r.outputs[outDeleted] == "0" {
		t.Errorf("container app: %d active versions of %d, deleted-count %s: the named package was not cleaned", n, before, r.outputs[outDeleted])
	}
	if n := len(w.gh.Active("acme", "container", "app-tools")); n != 4 {
		t.Errorf("container app-tools: %d active versions, want 4 (nothing deleted on an unresolved pattern)", n)
	}
	if n := w.gh.CountRoute(routeListOrgPackages); n != 1 {
		t.Errorf("%d listings, want 1 (tried once: a 400 is not retried)", n)
	}
}

// patToken stands for a personal access token: the fake lists container
// packages for it.
const patToken = "ghp_e2eSecretTokenValue0123456789"

// refusedURL returns the URL of a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// TestInstallationTokenCannotSeeAnUnlinkedPackage names, with a
// workflow's GITHUB_TOKEN, a package that does not give the workflow's
// repository access: GitHub answers 404 (bots-house/ghcr-delete-image-action#105,
// actions/delete-package-versions#57); the name fails the run with what to
// do, and the linked package beside it is cleaned.
func TestInstallationTokenCannotSeeAnUnlinkedPackage(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken), fakegh.WithInstallationRepository("acme/app"))
	gh.AddOrg("acme")
	for _, name := range []string{"app", "other"} {
		gh.AddPackage("acme", "npm", name, "private")
		gh.AddVersions("acme", "npm", name, 5, func(i int) fakegh.Version {
			return fakegh.Version{CreatedAt: time.Now().Add(-time.Duration(50-i) * 24 * time.Hour)}
		})
	}
	gh.SetRepository("acme", "npm", "app", "app")
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{"packages": "app, other", "package-type": "npm", "keep-latest": "2", "max-deletes-per-minute": "1000"})
	r.run(t)
	if r.code != ExitFailed {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitFailed, r.stdoutText)
	}
	r.checkOutputs(t, map[string]string{outFailed: "1", outDeleted: "3"})
	for _, want := range []string{"### npm acme/other (not resolved)", "not found (or the token cannot see it", "Manage Actions access", "404 Package not found."} {
		if !strings.Contains(r.summaryText, want) {
			t.Errorf("the summary lacks %q:\n%s", want, r.summaryText)
		}
	}
	if n := len(gh.Active("acme", "npm", "other")); n != 5 {
		t.Errorf("npm other: %d active versions, want 5", n)
	}
}

// TestRateLimitedResolutionIsDeferred checks that a name GitHub's rate
// limits kept from being fetched is left for the next run, as a listing
// is: not failed, exit 0, shown deferred and not resolved.
func TestRateLimitedResolutionIsDeferred(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	gh := fakegh.New(fakegh.WithToken(testToken), fakegh.WithClock(clk))
	gh.AddOrg("acme")
	gh.AddPackage("acme", "npm", "api", "private")
	gh.AddVersions("acme", "npm", "api", 5, nil)
	gh.FailRoute(routeGetOrgPackage, 429, -1)
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{"packages": "api", "package-type": "npm", "keep-latest": "1"})
	r.clock = clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0: a rate limit does not fail the run\n%s", r.code, r.stdoutText)
	}
	r.checkOutputs(t, map[string]string{outFailed: "0", outDeleted: "0"})
	for _, want := range []string{"### npm acme/api (not resolved)\n\nNot resolved yet, nothing decided.\n\n**Deferred**: left for the next run"} {
		if !strings.Contains(r.summaryText, want) {
			t.Errorf("the summary lacks %q:\n%s", want, r.summaryText)
		}
	}
	if m := gh.Mutations(); m != 0 {
		t.Errorf("%d mutating requests", m)
	}
}
