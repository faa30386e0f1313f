package policy

import "slices"

// Input names: the public contract of policy.md, used as action inputs
// (INPUT_<NAME>), as CLI flags (--name), as the keys of a rule in a policy
// file and in the README.
const (
	InPackages            = "packages"
	InPackageType         = "package-type"
	InOwner               = "owner"
	InTagState            = "tag-state"
	InImageState          = "image-state"
	InDeleteTags          = "delete-tags"
	InDeleteSemver        = "delete-semver"
	InKeepLatest          = "keep-latest"
	InOlderThan           = "older-than"
	InAgeBasis            = "age-basis"
	InKeepTags            = "keep-tags"
	InKeepSemver          = "keep-semver"
	InMaxDeletions        = "max-deletions"
	InMaxDeletesPerMinute = "max-deletes-per-minute"
	InDryRun              = "dry-run"
	InPolicyFile          = "policy-file"
	InRegistryURL         = "registry-url"
	InRestoreFrom         = "restore-from"
	InToken               = "token"
	InVerify              = "verify"
	InRepair              = "repair"
	InCachePath           = "cache-path"
)

// InputDef describes one input of the action. The one table of them,
// InputDefs, drives the policy parser (which keys a rule and a policy file
// take), the action mode (INPUT_<NAME>), the CLI flags, the environment
// and --help; tests check that action.yml and the README declare exactly
// these inputs.
type InputDef struct {
	// Name is the input's name, also the CLI flag (--Name).
	Name string
	// Description is the one-paragraph meaning shown in action.yml, the
	// README and --help.
	Description string
	// Default is the default action.yml declares ("" for none: the program
	// applies its own default, see policy.md on why rule inputs have none).
	Default string
	// Arg names the value in --help ("N", "PATTERNS"); empty for booleans.
	Arg string
	// Bool inputs take true/false; as flags, --name alone means true.
	Bool bool
	// Rule inputs are the inputs of one rule: exclusive with policy-file,
	// and the keys of a rule in a policy file. Every other input is an
	// input of the action only.
	Rule bool
	// List rule inputs take several patterns: a YAML list in a policy
	// file, one flag given several times on the command line.
	List bool
	// Policy inputs are read by Parse (the rule inputs, max-deletions,
	// dry-run and policy-file).
	Policy bool
	// Env, when set, is the environment variable the CLI reads this input
	// from instead of a flag (the token never goes on a command line).
	Env string
}

// InputDefs is the table of every action input, in the order action.yml,
// the README and --help list them.
var InputDefs = []InputDef{
	{Name: InPackages, Arg: "PATTERNS", Rule: true, List: true, Policy: true,
		Description: "Package names or glob patterns, one per line or comma-separated; `!pattern` excludes. A name is fetched by name; a pattern lists the owner's packages, which a workflow's GITHUB_TOKEN may not do for containers. Default: the package named like the repository (GITHUB_REPOSITORY's name part, lower-cased)."},
	{Name: InPackageType, Arg: "TYPE", Rule: true, Policy: true,
		Description: "Package type: container, npm, maven, rubygems, nuget or docker. Default: container."},
	{Name: InOwner, Arg: "LOGIN", Rule: true, Policy: true,
		Description: "Organisation or user owning the packages; `@me` for the token's own user. Default: the repository owner."},
	{Name: InTagState, Arg: "STATE", Rule: true, Policy: true,
		Description: "Which container versions are candidates: any, tagged or untagged. Default: any."},
	{Name: InImageState, Arg: "STATE", Rule: true, Policy: true,
		Description: "Which container images are candidates: any, or broken (image indexes whose platform manifests were deleted before this run, so they no longer pull). Default: any."},
	{Name: InDeleteTags, Arg: "PATTERNS", Rule: true, List: true, Policy: true,
		Description: "Only versions with a tag (containers) or name matching one of these globs or /regex/ patterns are candidates."},
	{Name: InDeleteSemver, Arg: "RANGE", Rule: true, Policy: true,
		Description: "Only versions with a tag or name satisfying this semver range (e.g. `<2.0.0`) are candidates."},
	{Name: InKeepLatest, Arg: "N", Rule: true, Policy: true,
		Description: "Keep the N newest selected versions. Default: 0."},
	{Name: InOlderThan, Arg: "DURATION", Rule: true, Policy: true,
		Description: "Only delete versions older than this: 90m, 36h, 30d, 2w or a combination like 1w3d. Default: any age."},
	{Name: InAgeBasis, Arg: "BASIS", Rule: true, Policy: true,
		Description: "Timestamp that ages a version: updated or created. Default: updated."},
	{Name: InKeepTags, Arg: "PATTERNS", Rule: true, List: true, Policy: true,
		Description: "Always keep versions with a tag or name matching one of these patterns. Keep wins."},
	{Name: InKeepSemver, Arg: "RANGE", Rule: true, Policy: true,
		Description: "Always keep versions with a tag or name satisfying this semver range. Keep wins."},
	{Name: InMaxDeletions, Arg: "N", Policy: true,
		Description: "Delete at most N versions per run, oldest first, whole images only (an oldest image larger than N goes alone); the rest are deferred to the next run. Empty or 0: no cap."},
	{Name: InMaxDeletesPerMinute, Arg: "N", Default: "60", // cleanup.DefaultDeletesPerMinute, which a test keeps equal
		Description: "Pacing of DELETE requests, 1 to 1000 per minute, one at a time and evenly spaced. The default stays within GitHub's secondary rate limits; raise it only with a token that allows it."},
	{Name: InDryRun, Bool: true, Default: "false", Policy: true,
		Description: "Plan and report only: send no DELETE or restore request."},
	{Name: InPolicyFile, Arg: "PATH", Policy: true,
		Description: "Path to a YAML policy file with several rules; exclusive with the rule inputs."},
	{Name: InRegistryURL, Arg: "URL",
		Description: "Container registry read for image manifests. Default: https://ghcr.io, or https://containers.HOST on GitHub Enterprise Server."},
	{Name: InRestoreFrom, Arg: "PATH",
		Description: "Path to the plan file of an earlier run: restore every version that run deleted (within GitHub's 30-day window) instead of cleaning up."},
	{Name: InToken, Default: "${{ github.token }}", Env: "GITHUB_TOKEN",
		Description: "Token with read:packages and delete:packages (GITHUB_TOKEN needs `permissions: packages: write`). Masked at once, never printed."},
	{Name: InVerify, Bool: true, Default: "true",
		Description: "After a real run, check that every kept container image the run could have broken (one that lost a member or shared one with a deleted image) still resolves: its tags and the children of its indexes."},
	{Name: InRepair, Bool: true, Default: "false",
		Description: "Before applying the policy, restore the platform manifests that broken images (tagged or kept image indexes) miss, from the package's deleted versions, within GitHub's 30-day window. In a dry run: report what would be restored."},
	{Name: InCachePath, Arg: "PATH", // containers.CacheFileName, which a test keeps equal
		Description: "File or folder for the manifest cache kept across runs (a folder holds `manifests.json.gz`); restore and save it with actions/cache. Content-addressed: an entry is used only if its bytes hash to its digest. Missing or unreadable: a cold start. Empty: no cache."},
}

// LookupInput returns the table entry of an input name.
func LookupInput(name string) (InputDef, bool) {
	i := slices.IndexFunc(InputDefs, func(d InputDef) bool { return d.Name == name })
	if i < 0 {
		return InputDef{}, false
	}
	return InputDefs[i], true
}

// RuleInputs are the names of the inputs of one rule, in the order of
// policy.md. They are also the keys of a rule in a policy file and in the
// JSON encoding of a Rule.
var RuleInputs = func() []string {
	var names []string
	for _, d := range InputDefs {
		if d.Rule {
			names = append(names, d.Name)
		}
	}
	return names
}()

// isListInput reports whether an input takes a list of patterns.
func isListInput(name string) bool {
	d, _ := LookupInput(name)
	return d.List
}
