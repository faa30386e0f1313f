package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// badInputs gives every input a bad value (files are made in dir).
func badInputs(t *testing.T, dir string) []struct{ name, input, value string } {
	t.Helper()
	notPlan := filepath.Join(dir, "not-a-plan.json")
	if err := os.WriteFile(notPlan, []byte(`{"hello": "world"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	badPolicy := filepath.Join(dir, "policy.yml")
	if err := os.WriteFile(badPolicy, []byte("rules:\n  - packages: app\n    keep-latset: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []struct{ name, input, value string }{
		{"packages bad glob", policy.InPackages, "app-["},
		{"owner not a login", policy.InOwner, "acme corp"},
		{"package-type unknown", policy.InPackageType, "gem"},
		{"tag-state unknown", policy.InTagState, "both"},
		{"delete-tags bad regex", policy.InDeleteTags, "/(/"},
		{"delete-semver not a range", policy.InDeleteSemver, "two point oh"},
		{"keep-latest negative", policy.InKeepLatest, "-1"},
		{"keep-latest not a number", policy.InKeepLatest, "ten"},
		{"older-than bad unit", policy.InOlderThan, "3x"},
		{"age-basis unknown", policy.InAgeBasis, "modified"},
		{"keep-tags bad regex", policy.InKeepTags, "/[/"},
		{"keep-semver not a range", policy.InKeepSemver, ">>1"},
		{"max-deletions not a number", policy.InMaxDeletions, "many"},
		{"max-deletes-per-minute zero", policy.InMaxDeletesPerMinute, "0"},
		{"max-deletes-per-minute too high", policy.InMaxDeletesPerMinute, "5000"},
		{"max-deletes-per-minute not a number", policy.InMaxDeletesPerMinute, "fast"},
		{"dry-run not a boolean", policy.InDryRun, "yes"},
		{"verify not a boolean", policy.InVerify, "maybe"},
		{"policy-file missing", policy.InPolicyFile, filepath.Join(dir, "missing.yml")},
		{"policy-file with an unknown key", policy.InPolicyFile, badPolicy},
		{"registry-url not a URL", policy.InRegistryURL, "ghcr.io"},
		{"registry-url not http", policy.InRegistryURL, "ftp://ghcr.io"},
		{"restore-from missing", policy.InRestoreFrom, filepath.Join(dir, "missing.json")},
		{"restore-from not a plan", policy.InRestoreFrom, notPlan},
	}
}

// goodRule is a valid rule; a bad value of one input replaces its part.
var goodRule = map[string]string{policy.InPackages: "widgets", policy.InPackageType: "npm", policy.InOlderThan: "30d"}

func TestActionBadInputs(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	seedWidgets(gh, clock.Real{}.Now())
	srv := newCountingServer(t, gh)
	dir := t.TempDir()

	cases := badInputs(t, dir)
	cases = append(cases, struct{ name, input, value string }{"token empty", policy.InToken, ""})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inputs := map[string]string{}
			switch tc.input {
			case policy.InPolicyFile, policy.InRestoreFrom:
				// Alone: beside rule inputs they are refused for that reason.
			default:
				for k, v := range goodRule {
					inputs[k] = v
				}
			}
			inputs[tc.input] = tc.value
			r := newRunner(t, srv.URL, inputs)
			if tc.input == policy.InToken {
				r.env["INPUT_TOKEN"] = ""
			}
			before := srv.requests()
			r.stdout.Reset()
			ctx := context.Background()
			r.code = Main(ctx, nil, func(k string) string { return r.env[k] }, &r.stdout, &r.stderr)
			out := r.stdout.String() + r.stderr.String()
			if r.code != ExitInvalid {
				t.Errorf("exit %d, want %d\n%s", r.code, ExitInvalid, out)
			}
			if !strings.Contains(out, "::error::"+tc.input) {
				t.Errorf("no ::error:: annotation naming %s:\n%s", tc.input, out)
			}
			if tc.value != "" && tc.input != policy.InPolicyFile && tc.input != policy.InRestoreFrom && !strings.Contains(out, tc.value) {
				t.Errorf("the message does not quote the bad value %q:\n%s", tc.value, out)
			}
			if n := srv.requests() - before; n != 0 {
				t.Errorf("%d requests reached the API after an input error", n)
			}
			if b, _ := os.ReadFile(r.output); len(b) != 0 {
				t.Errorf("outputs were set after an input error: %q", b)
			}
		})
	}
}

func TestActionReportsEveryBadInputAtOnce(t *testing.T) {
	srv := newCountingServer(t, fakegh.New())
	inputs := map[string]string{policy.InPackages: "widgets"}
	bad := map[string]string{
		policy.InPackageType: "gem", policy.InTagState: "both", policy.InKeepLatest: "-1", policy.InOlderThan: "3x",
		policy.InDryRun: "yes", policy.InMaxDeletesPerMinute: "0", policy.InRegistryURL: "ghcr.io", policy.InVerify: "maybe",
	}
	for k, v := range bad {
		inputs[k] = v
	}
	r := newRunner(t, srv.URL, inputs)
	r.code = Main(context.Background(), nil, func(k string) string { return r.env[k] }, &r.stdout, &r.stderr)
	if r.code != ExitInvalid {
		t.Fatalf("exit %d, want 2", r.code)
	}
	for name := range bad {
		if !strings.Contains(r.stdout.String(), "::error::"+name) {
			t.Errorf("%s not reported:\n%s", name, r.stdout.String())
		}
	}
	if n := srv.requests(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestActionRestoreFromExclusive(t *testing.T) {
	srv := newCountingServer(t, fakegh.New())
	plan := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(plan, []byte(`{"packages":[],"policy":null,"started_at":"2026-11-20T03:17:00Z","dry_run":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, srv.URL, map[string]string{policy.InRestoreFrom: plan, policy.InPackages: "app", policy.InKeepLatest: "3"})
	r.code = Main(context.Background(), nil, func(k string) string { return r.env[k] }, &r.stdout, &r.stderr)
	if r.code != ExitInvalid || !strings.Contains(r.stdout.String(), "::error::restore-from: cannot be combined with packages, keep-latest") {
		t.Errorf("exit %d:\n%s", r.code, r.stdout.String())
	}
	if n := srv.requests(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// cli runs the command line with env and returns the exit code and output.
func cli(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := mainWith(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr, deps{clock: clock.Real{}})
	return code, stdout.String(), stderr.String()
}

func TestCLIBadInputs(t *testing.T) {
	gh := fakegh.New(fakegh.WithToken(testToken))
	srv := newCountingServer(t, gh)
	env := map[string]string{"GITHUB_API_URL": srv.URL, "GITHUB_TOKEN": testToken, "GITHUB_REPOSITORY_OWNER": "acme"}
	dir := t.TempDir()

	for _, tc := range badInputs(t, dir) {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.input != policy.InPolicyFile && tc.input != policy.InRestoreFrom {
				for _, k := range []string{policy.InPackages, policy.InPackageType, policy.InOlderThan} {
					if k != tc.input {
						args = append(args, "--"+k, goodRule[k])
					}
				}
			}
			args = append(args, "--"+tc.input+"="+tc.value)
			code, stdout, stderr := cli(t, env, args...)
			if code != ExitInvalid {
				t.Errorf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "retention: "+tc.input) {
				t.Errorf("no message naming %s:\n%s", tc.input, stderr)
			}
			if n := srv.requests(); n != 0 {
				t.Errorf("%d requests reached the API", n)
			}
		})
	}

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"--packages", "app", "--keep-newest", "3"}, env, "--keep-newest: unknown flag"},
		{"flag without value", []string{"--packages", "app", "--keep-latest"}, env, "keep-latest: needs a value"},
		{"input given twice", []string{"--packages", "app", "--keep-latest", "1", "--keep-latest", "2"}, env, "keep-latest: given twice"},
		{"boolean with a separate value", []string{"--packages", "app", "--dry-run", "false"}, env, `unexpected argument "false"`},
		{"token as a flag", []string{"--packages", "app", "--token=" + testToken}, env, "token: not a flag; export GITHUB_TOKEN"},
		{"no token", []string{"--packages", "app"}, map[string]string{"GITHUB_API_URL": srv.URL}, "token: no token given"},
		{"bad API URL", []string{"--packages", "app"}, map[string]string{"GITHUB_API_URL": "api.github.com", "GITHUB_TOKEN": testToken}, "GITHUB_API_URL:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, tc.env, tc.args...)
			if code != ExitInvalid {
				t.Errorf("exit %d, want 2\n%s%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			if strings.Contains(stdout+stderr, testToken) {
				t.Errorf("the token was printed")
			}
			if n := srv.requests(); n != 0 {
				t.Errorf("%d requests reached the API", n)
			}
		})
	}
}

func TestRegistryURLDefault(t *testing.T) {
	for _, tc := range []struct{ name, api, registry, want string }{
		{"github.com", "", "", "https://ghcr.io"},
		{"github.com explicit", "https://api.github.com", "", "https://ghcr.io"},
		{"GHES", "https://ghe.example.com/api/v3", "", "https://containers.ghe.example.com"},
		{"GHES with a port", "https://ghe.example.com:8443/api/v3", "", "https://containers.ghe.example.com"},
		{"given", "https://ghe.example.com/api/v3", "https://registry.example.com/", "https://registry.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"GITHUB_API_URL": tc.api}
			s, err := loadSettings(rawInputs{policy.InPackages: "app", policy.InOwner: "acme", policy.InToken: "t", policy.InRegistryURL: tc.registry}, func(k string) string { return env[k] }, true)
			if err != nil {
				t.Fatal(err)
			}
			if s.registryURL != tc.want {
				t.Errorf("registry %q, want %q", s.registryURL, tc.want)
			}
		})
	}
}
