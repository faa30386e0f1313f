package app

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// TestPolicyFileSyntaxErrorNamesFileAndLine runs the action with a policy
// file whose YAML is broken on line 4: the error names policy-file, the
// file and line 4 (go-yaml alone says line 1), exit 2, nothing sent.
func TestPolicyFileSyntaxErrorNamesFileAndLine(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	srv := newCountingServer(t, gh)
	file := filepath.Join(t.TempDir(), "retention.yml")
	if err := os.WriteFile(file, []byte("rules:\n  - packages: app\n    tag-state: untagged\n   older-than: 7d\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, srv.URL, map[string]string{policy.InPolicyFile: file})
	r.run(t)
	want := "::error::policy-file " + file + ": line 4: YAML syntax error: "
	if r.code != ExitInvalid || !strings.Contains(r.stdoutText, want) {
		t.Errorf("exit %d, want %d and %q:\n%s", r.code, ExitInvalid, want, r.stdoutText)
	}
	if n := srv.requests(); n != 0 {
		t.Errorf("%d requests sent on an input error", n)
	}
}

// TestRestoreFromNotAPlanFile gives restore-from files that are not plan
// files: each is an input error naming restore-from, saying why and what
// a plan file is, exit 2, nothing sent.
func TestRestoreFromNotAPlanFile(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	srv := newCountingServer(t, gh)
	tests := []struct{ name, content, why string }{
		{"not JSON", "package-retention-plan\n", "(not JSON)"},
		{"a JSON list", "[]", "(JSON, but not an object)"},
		{"no started_at", `{"packages":[]}`, `(it has no "started_at")`},
		{"no packages", `{"started_at":"2026-11-26T03:00:00Z"}`, `(it has no "packages")`},
		{"packages not a list", `{"packages":{},"started_at":"2026-11-26T03:00:00Z"}`, "(its fields do not decode: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "plan.json")
			if err := os.WriteFile(file, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			r := newRunner(t, srv.URL, map[string]string{policy.InRestoreFrom: file})
			r.run(t)
			for _, want := range []string{
				"::error::restore-from: \"" + file + "\" is not a plan file " + tt.why,
				"give the plan file an earlier run wrote: the JSON file its plan output names",
			} {
				if !strings.Contains(r.stdoutText, want) {
					t.Errorf("the log lacks %q:\n%s", want, r.stdoutText)
				}
			}
			if r.code != ExitInvalid {
				t.Errorf("exit %d, want %d", r.code, ExitInvalid)
			}
		})
	}
	if n := srv.requests(); n != 0 {
		t.Errorf("%d requests sent on input errors", n)
	}
}

// TestLogCallsVersionIDsIDs checks that the log names GitHub's version
// ids as ids ("1.1.0 (id 2)"), never "version 2", which reads as a
// version number.
func TestLogCallsVersionIDsIDs(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, time.Now())
	srv := newCountingServer(t, gh)
	r := newRunner(t, srv.URL, map[string]string{
		"packages": "widgets", "package-type": "npm", "older-than": "30d", "max-deletes-per-minute": "1000",
	})
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	if !regexp.MustCompile(`deleted 1\.1\.0 \(id \d+\)`).MatchString(r.stdoutText) {
		t.Errorf("the log does not name a deleted version with its id:\n%s", r.stdoutText)
	}
	if m := regexp.MustCompile(`version \d+`).FindString(r.stdoutText); m != "" {
		t.Errorf("the log says %q:\n%s", m, r.stdoutText)
	}
}
