package app

import (
	"strings"

	"github.com/pkgretention/retention/policy"
)

// totals are the counts the outputs and the summary report.
type totals struct {
	Deleted, Kept, Protected, Failed, Deferred int
	// Restored and RestoreSkipped count the results of a restore run.
	Restored, RestoreSkipped int
	// FailedPackages counts packages whose listing or planning failed; each
	// also counts once in Failed.
	FailedPackages int
}

// countTotals counts a plan's versions by what happened to them, or, before
// execution and in a dry run, by what the plan says would happen.
//
// TODO(policy): use policy.Plan.Totals once it lands, so that the outputs
// and the policy agree by construction; keep FailedPackages and the restore
// counts here if Totals does not report them.
func countTotals(p *policy.Plan) totals {
	var t totals
	for _, pkg := range p.Packages {
		if packageFailed(pkg) {
			t.FailedPackages++
			t.Failed++
		}
		for _, v := range pkg.Versions {
			switch {
			case v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone:
				t.Deleted++
			case v.Result == policy.ResultProtected:
				t.Protected++
			case strings.HasPrefix(v.Result, policy.ResultFailedPrefix):
				t.Failed++
			case v.Result == policy.ResultDeferred:
				t.Deferred++
			case v.Result == policy.ResultRestored:
				t.Restored++
			case v.Result == policy.ResultRestoreSkipped:
				t.RestoreSkipped++
			case v.Reason == policy.ReasonMaxDeletions:
				t.Deferred++
			case v.Decision == policy.Delete:
				t.Deleted++
			case v.Decision == policy.Protected:
				t.Protected++
			default:
				t.Kept++
			}
		}
	}
	return t
}

// packageFailed reports whether a package could not be listed or planned.
func packageFailed(pkg policy.PackagePlan) bool {
	return !pkg.Complete || pkg.Error != ""
}

// planFailed reports whether anything in the plan failed: the run exits 1.
func planFailed(p *policy.Plan) bool {
	for _, pkg := range p.Packages {
		if packageFailed(pkg) {
			return true
		}
		for _, v := range pkg.Versions {
			if strings.HasPrefix(v.Result, policy.ResultFailedPrefix) {
				return true
			}
		}
	}
	return false
}
