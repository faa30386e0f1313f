package app

import (
	"strconv"

	"github.com/pkgretention/retention/cleanup"
)

// Input names: the public contract of policy.md, used as action inputs
// (INPUT_<NAME>), as CLI flags (--name) and in the README.
const (
	inPackages            = "packages"
	inPackageType         = "package-type"
	inOwner               = "owner"
	inTagState            = "tag-state"
	inDeleteTags          = "delete-tags"
	inDeleteSemver        = "delete-semver"
	inKeepLatest          = "keep-latest"
	inOlderThan           = "older-than"
	inAgeBasis            = "age-basis"
	inKeepTags            = "keep-tags"
	inKeepSemver          = "keep-semver"
	inMaxDeletions        = "max-deletions"
	inMaxDeletesPerMinute = "max-deletes-per-minute"
	inDryRun              = "dry-run"
	inPolicyFile          = "policy-file"
	inRegistryURL         = "registry-url"
	inRestoreFrom         = "restore-from"
	inToken               = "token"
	inVerify              = "verify"
)

// Output names of the action.
const (
	outDeleted   = "deleted-count"
	outKept      = "kept-count"
	outProtected = "protected-count"
	outFailed    = "failed-count"
	outDeferred  = "deferred-count"
	outPlan      = "plan"
)

// Input describes one input of the action. The same table drives the
// action mode (INPUT_<NAME>), the CLI flags and --help; tests check that
// action.yml and the README declare exactly these inputs.
type Input struct {
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
	// Rule inputs are the inputs of one rule: exclusive with policy-file.
	Rule bool
	// Policy inputs are handed to policy.Parse.
	Policy bool
	// Env, when set, is the environment variable the CLI reads this input
	// from instead of a flag (the token never goes on a command line).
	Env string
}

// Inputs is the table of every action input, in the order action.yml,
// the README and --help list them.
var Inputs = []Input{
	{Name: inPackages, Arg: "PATTERNS", Rule: true, Policy: true,
		Description: "Package names or glob patterns, one per line or comma-separated; `!pattern` excludes. A name is fetched by name; a pattern lists the owner's packages, which a workflow's GITHUB_TOKEN may not do for containers. Default: the package named like the repository (GITHUB_REPOSITORY's name part, lower-cased)."},
	{Name: inPackageType, Arg: "TYPE", Rule: true, Policy: true,
		Description: "Package type: container, npm, maven, rubygems, nuget or docker. Default: container."},
	{Name: inOwner, Arg: "LOGIN", Rule: true, Policy: true,
		Description: "Organisation or user owning the packages; `@me` for the token's own user. Default: the repository owner."},
	{Name: inTagState, Arg: "STATE", Rule: true, Policy: true,
		Description: "Which container versions are candidates: any, tagged or untagged. Default: any."},
	{Name: inDeleteTags, Arg: "PATTERNS", Rule: true, Policy: true,
		Description: "Only versions with a tag (containers) or name matching one of these globs or /regex/ patterns are candidates."},
	{Name: inDeleteSemver, Arg: "RANGE", Rule: true, Policy: true,
		Description: "Only versions with a tag or name satisfying this semver range (e.g. `<2.0.0`) are candidates."},
	{Name: inKeepLatest, Arg: "N", Rule: true, Policy: true,
		Description: "Keep the N newest selected versions. Default: 0."},
	{Name: inOlderThan, Arg: "DURATION", Rule: true, Policy: true,
		Description: "Only delete versions older than this: 90m, 36h, 30d, 2w or a combination like 1w3d. Default: any age."},
	{Name: inAgeBasis, Arg: "BASIS", Rule: true, Policy: true,
		Description: "Timestamp that ages a version: updated or created. Default: updated."},
	{Name: inKeepTags, Arg: "PATTERNS", Rule: true, Policy: true,
		Description: "Always keep versions with a tag or name matching one of these patterns. Keep wins."},
	{Name: inKeepSemver, Arg: "RANGE", Rule: true, Policy: true,
		Description: "Always keep versions with a tag or name satisfying this semver range. Keep wins."},
	{Name: inMaxDeletions, Arg: "N", Policy: true,
		Description: "Delete at most N versions per run, oldest first, whole images only (an oldest image larger than N goes alone); the rest are deferred to the next run. Empty or 0: no cap."},
	{Name: inMaxDeletesPerMinute, Arg: "N", Default: strconv.Itoa(cleanup.DefaultDeletesPerMinute),
		Description: "Pacing of DELETE requests, 1 to 1000 per minute, one at a time and evenly spaced. The default stays within GitHub's secondary rate limits; raise it only with a token that allows it."},
	{Name: inDryRun, Bool: true, Default: "false", Policy: true,
		Description: "Plan and report only: send no DELETE or restore request."},
	{Name: inPolicyFile, Arg: "PATH", Policy: true,
		Description: "Path to a YAML policy file with several rules; exclusive with the rule inputs."},
	{Name: inRegistryURL, Arg: "URL",
		Description: "Container registry read for image manifests. Default: https://ghcr.io, or https://containers.HOST on GitHub Enterprise Server."},
	{Name: inRestoreFrom, Arg: "PATH",
		Description: "Path to the plan file of an earlier run: restore every version that run deleted (within GitHub's 30-day window) instead of cleaning up."},
	{Name: inToken, Default: "${{ github.token }}", Env: "GITHUB_TOKEN",
		Description: "Token with read:packages and delete:packages (GITHUB_TOKEN needs `permissions: packages: write`). Masked at once, never printed."},
	{Name: inVerify, Bool: true, Default: "true",
		Description: "After a real run, check that every kept container image still resolves: its tags and the children of its indexes."},
}

// Outputs lists the action's outputs with their meaning, in the order
// action.yml and the README list them.
var Outputs = []struct{ Name, Description string }{
	{outDeleted, "Versions deleted (404 on delete counts as deleted). In a dry run: versions the plan would delete. 0 in a restore run."},
	{outKept, "Versions kept by the policy."},
	{outProtected, "Versions GitHub refuses to delete (5,000-download rule) or the guards keep: never a failure."},
	{outFailed, "Versions or packages that failed; the run exits 1 when this is not 0."},
	{outDeferred, "Planned deletions (in a restore run, restores) left for the next run (max-deletions, rate-limit budget)."},
	{outPlan, "Path to the plan file (JSON): every package and version with decision, reason and result."},
}

// lookupInput returns the table entry of an input name.
func lookupInput(name string) (Input, bool) {
	for _, in := range Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}
