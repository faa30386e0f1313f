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

// countTotals turns the plan's totals (policy.Plan.Totals) into the
// disjoint counts of the outputs: every version counts once, as deleted
// (404 included; in a dry run, what would be deleted), protected (by a
// guard or refused by GitHub), failed, deferred, restored, restore-skipped
// or kept. A package that failed as a whole counts once in Failed.
func countTotals(p *policy.Plan) totals {
	pt := p.Totals()
	t := totals{
		Deleted:        pt.Deleted + pt.AlreadyGone,
		Protected:      pt.Protected + pt.Refused,
		Failed:         pt.Failed,
		Deferred:       pt.Deferred,
		Restored:       pt.Restored,
		RestoreSkipped: pt.RestoreSkipped,
	}
	notRun := pt.Pending // delete decisions with no result
	if p.DryRun {
		t.Deleted += pt.Pending
		notRun = 0
	}
	t.Kept = max(0, pt.Versions-t.Deleted-t.Protected-t.Failed-t.Deferred-t.Restored-t.RestoreSkipped-notRun)
	for _, pkg := range p.Packages {
		if packageFailed(pkg) {
			t.FailedPackages++
			t.Failed++
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
