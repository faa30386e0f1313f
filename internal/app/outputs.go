package app

// Output names of the action.
const (
	outDeleted   = "deleted-count"
	outKept      = "kept-count"
	outProtected = "protected-count"
	outFailed    = "failed-count"
	outDeferred  = "deferred-count"
	outBroken    = "broken-count"
	outPlan      = "plan"
)

// Outputs lists the action's outputs with their meaning, in the order
// action.yml and the README list them.
var Outputs = []struct{ Name, Description string }{
	{outDeleted, "Versions deleted (404 on delete counts as deleted). In a dry run: versions the plan would delete. 0 in a restore run."},
	{outKept, "Versions kept by the policy."},
	{outProtected, "Versions GitHub refuses to delete (5,000-download rule) or the guards keep: never a failure."},
	{outFailed, "Versions or packages that failed; the run exits 1 when this is not 0."},
	{outDeferred, "Planned deletions (in a restore run, restores) left for the next run (max-deletions, rate-limit budget)."},
	{outBroken, "Broken images seen: tagged (or kept) image indexes whose platform manifests were deleted before this run, those repair healed included (the summary and the plan say what it restored). Never a failure."},
	{outPlan, "Path to the plan file (JSON): every package and version with decision, reason and result."},
}
