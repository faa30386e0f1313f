package app

import (
	"strings"
	"testing"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
)

// TestPackagesDefaultToTheRepositorysPackage runs a rule without packages
// (and without policy-file): it covers the package named like the
// repository, GITHUB_REPOSITORY's name part lower-cased, in action mode
// and on the command line; without GITHUB_REPOSITORY the command line
// says so, exit 2, nothing sent.
func TestPackagesDefaultToTheRepositorysPackage(t *testing.T) {
	t.Run("action", func(t *testing.T) {
		gh := fakegh.New(fakegh.WithToken(testToken))
		seedWidgets(gh, clock.Real{}.Now())
		gh.AddPackage("acme", "npm", "other", "private")
		gh.AddVersions("acme", "npm", "other", 3, nil)
		srv := newCountingServer(t, gh)
		r := newRunner(t, srv.URL, map[string]string{"package-type": "npm", "older-than": "30d", "max-deletes-per-minute": "1000"})
		r.env["GITHUB_REPOSITORY"] = "acme/Widgets"
		r.run(t)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
		}
		r.checkOutputs(t, map[string]string{outDeleted: "3", outProtected: "1", outFailed: "0"})
		if got := activeNames(gh, "acme", "npm", "widgets"); strings.Join(got, " ") != "1.0.0 1.4.0 1.5.0" {
			t.Errorf("widgets after the run: %v", got)
		}
		if n := len(gh.Active("acme", "npm", "other")); n != 3 {
			t.Errorf("other: %d active versions, want 3: the default covers the repository's package only", n)
		}
	})
	t.Run("command line", func(t *testing.T) {
		gh := fakegh.New(fakegh.WithToken(testToken))
		seedWidgets(gh, clock.Real{}.Now())
		srv := newCountingServer(t, gh)
		env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY_OWNER": "acme", "GITHUB_REPOSITORY": "acme/widgets"}
		code, stdout, stderr := cli(t, env, "--package-type", "npm", "--older-than", "30d", "--dry-run")
		if code != ExitOK || !strings.Contains(stdout, "npm acme/widgets (public): 6 versions: 4 delete, 2 keep") {
			t.Errorf("exit %d, want 0 and the plan of widgets:\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("command line without GITHUB_REPOSITORY", func(t *testing.T) {
		gh := fakegh.New(fakegh.WithToken(testToken))
		srv := newCountingServer(t, gh)
		env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY_OWNER": "acme"}
		code, _, stderr := cli(t, env, "--package-type", "npm", "--older-than", "30d")
		want := "retention: packages: no package given, and GITHUB_REPOSITORY is not set to default to the repository's package"
		if code != ExitInvalid || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, want %d with %q:\n%s", code, ExitInvalid, want, stderr)
		}
		if n := srv.requests(); n != 0 {
			t.Errorf("%d requests sent on an input error", n)
		}
	})
}
