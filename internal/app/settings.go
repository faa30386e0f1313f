package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// settings is everything a run needs, validated.
type settings struct {
	policy           *policy.Policy
	token            string
	apiURL           string
	registryURL      string
	deletesPerMinute int
	verify           bool
	repair           bool
	// cachePath is the cache-path input: the manifest cache's file or
	// folder ("" = no cache).
	cachePath string
	// cacheLine, set by runJob, says what the manifest cache did.
	cacheLine string
	// restoreFrom is the plan to restore (nil: clean up).
	restoreFrom *policy.Plan
}

// rawInputs are the raw values of the inputs by name, as a runner or the
// command line gave them; "" means not given.
type rawInputs map[string]string

// loadSettings validates every input and returns the settings, or every
// problem found, each naming its input, joined with errors.Join. It reads
// the files named by policy-file and restore-from and sends nothing.
// needToken is false for the demo, which brings its own server.
func loadSettings(in rawInputs, getenv func(string) string, needToken bool) (*settings, error) {
	var errs []error
	s := &settings{token: in[policy.InToken], verify: true, deletesPerMinute: cleanup.DefaultDeletesPerMinute}

	s.apiURL = getenv("GITHUB_API_URL")
	if s.apiURL == "" {
		s.apiURL = ghapi.DefaultBaseURL
	}
	apiURL, err := parseHTTPURL(s.apiURL)
	if err != nil {
		errs = append(errs, policy.InputErrorf("GITHUB_API_URL", "%v", err))
	}

	if in[policy.InRestoreFrom] != "" {
		// A restore run restores what the plan's run deleted: no rules.
		var given []string
		for _, def := range policy.InputDefs {
			if def.Policy && def.Name != policy.InDryRun && in[def.Name] != "" {
				given = append(given, def.Name)
			}
		}
		if len(given) > 0 {
			errs = append(errs, policy.InputErrorf(policy.InRestoreFrom, "cannot be combined with %s: a restore run restores every version the plan's run deleted; leave them empty", strings.Join(given, ", ")))
		}
		s.policy = &policy.Policy{}
		if v := in[policy.InDryRun]; v != "" {
			b, err := parseBool(v)
			if err != nil {
				errs = append(errs, policy.InputErrorf(policy.InDryRun, "%v", err))
			}
			s.policy.DryRun = b
		}
	} else {
		p, err := parsePolicy(in, getenv)
		if err != nil {
			errs = append(errs, err)
		}
		s.policy = p
	}

	if v := in[policy.InMaxDeletesPerMinute]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, policy.InputErrorf(policy.InMaxDeletesPerMinute, "%q is not a whole number from 1 to 1000; leave it empty for the default (%d)", v, cleanup.DefaultDeletesPerMinute))
		} else {
			s.deletesPerMinute = n
		}
	}

	if v := in[policy.InVerify]; v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, policy.InputErrorf(policy.InVerify, "%v", err))
		}
		s.verify = b
	}

	if v := in[policy.InRepair]; v != "" {
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, policy.InputErrorf(policy.InRepair, "%v", err))
		}
		s.repair = b
	}

	if v := in[policy.InRegistryURL]; v != "" {
		// The reader checks the URL as it will use it; it sends nothing.
		if _, err := containers.NewReader(containers.Options{RegistryURL: v}); err != nil {
			errs = append(errs, err) // "registry-url ...: ..."
		} else {
			s.registryURL = strings.TrimRight(v, "/")
		}
	} else if apiURL != nil {
		s.registryURL = defaultRegistryURL(apiURL)
	}

	s.cachePath = strings.TrimSpace(in[policy.InCachePath])

	if path := in[policy.InRestoreFrom]; path != "" {
		plan, err := readPlanFile(path)
		if err != nil {
			errs = append(errs, policy.InputErrorf(policy.InRestoreFrom, "%v", err))
		}
		s.restoreFrom = plan
	}

	if needToken && strings.TrimSpace(s.token) == "" {
		errs = append(errs, policy.InputErrorf(policy.InToken, "no token given; in a workflow the token input defaults to ${{ github.token }} (grant `permissions: packages: write`), on the command line export GITHUB_TOKEN (a token with read:packages and delete:packages)"))
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// parsePolicy builds the policy from the rule inputs or the policy file,
// plus max-deletions and dry-run, through policy.Parse.
func parsePolicy(in rawInputs, getenv func(string) string) (*policy.Policy, error) {
	pin := policy.Inputs{
		Values:         map[string]string{},
		DefaultOwner:   getenv("GITHUB_REPOSITORY_OWNER"),
		DefaultPackage: policy.DefaultPackage(getenv("GITHUB_REPOSITORY")),
	}
	for _, def := range policy.InputDefs {
		if def.Policy && def.Name != policy.InPolicyFile && in[def.Name] != "" {
			pin.Values[def.Name] = in[def.Name]
		}
	}
	if path := in[policy.InPolicyFile]; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			// Without the file the rule inputs cannot be checked against
			// it: report the file alone.
			return nil, policy.InputErrorf(policy.InPolicyFile, "cannot read %q: %v; give the path of a YAML file in the repository (relative to the workspace)", path, unwrapPathError(err))
		}
		pin.Values[policy.InPolicyFile] = path
		pin.PolicyFile = b
	}
	p, err := policy.Parse(pin)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("policy: the inputs gave no policy")
	}
	return p, nil
}

// parseHTTPURL accepts an absolute http or https URL.
func parseHTTPURL(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL (e.g. https://ghcr.io)", v)
	}
	return u, nil
}

// defaultRegistryURL is https://ghcr.io for github.com and
// https://containers.HOST for a GitHub Enterprise Server whose API is at
// https://HOST/api/v3.
func defaultRegistryURL(api *url.URL) string {
	host := api.Hostname()
	if host == "api.github.com" || host == "github.com" {
		return containers.DefaultRegistryURL
	}
	return "https://containers." + host
}

// parseBool accepts true and false, nothing else: a typo must not pick a
// side silently.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false", v)
}

// readPlanFile reads and decodes a plan file written by an earlier run.
func readPlanFile(path string) (*policy.Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w; download the plan artifact of the run to undo and give its path", path, unwrapPathError(err))
	}
	if isJournal(b) {
		return readJournal(path, b)
	}
	// The policy of the earlier run is not needed to restore it: decode
	// everything else, so that a plan stays readable whatever its policy.
	var f struct {
		Packages  []policy.PackagePlan `json:"packages"`
		Policy    json.RawMessage      `json:"policy"`
		StartedAt time.Time            `json:"started_at"`
		DryRun    bool                 `json:"dry_run"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		what := "not JSON"
		if json.Valid(b) {
			what = "JSON, but not an object"
		}
		return nil, notPlanFile(path, what)
	}
	switch {
	case keys["packages"] == nil:
		return nil, notPlanFile(path, `it has no "packages"`)
	case keys["started_at"] == nil:
		return nil, notPlanFile(path, `it has no "started_at"`)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, notPlanFile(path, fmt.Sprintf("its fields do not decode: %v", err))
	}
	if f.Packages == nil || f.StartedAt.IsZero() {
		return nil, notPlanFile(path, `its "packages" is not a list, or its "started_at" is not a time`)
	}
	if f.DryRun {
		return nil, fmt.Errorf("%q is the plan of a dry run, which deleted nothing; give the plan of a real run", path)
	}
	return &policy.Plan{Packages: f.Packages, StartedAt: f.StartedAt, DryRun: f.DryRun}, nil
}

// notPlanFile says that path is not a plan file, why, and what one is.
func notPlanFile(path, why string) error {
	return fmt.Errorf("%q is not a plan file (%s); give the plan file an earlier run wrote: the JSON file its plan output names (package-retention-plan-<time>.json under RUNNER_TEMP, uploaded as an artifact by the README's workflow; package-retention-journal-<time>.jsonl beside it if the run was killed), with the run's \"started_at\" and its \"packages\", each with the versions it deleted", path, why)
}

// unwrapPathError drops the operation and path from an *os.PathError, which
// the caller's message already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
