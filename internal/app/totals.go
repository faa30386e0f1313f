package app

import (
	"strings"

	"github.com/pkgretention/retention/policy"
)

// totals are the counts the outputs and the summary report.
type totals struct {
	Deleted, Kept, Protected, Failed, Deferred int
	// Restored and RestoreSkipped count the results of a restore run; in
	// a dry run Restored counts what a real run would restore.
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
//
// restore says the plan is a restore run's (restore-from): its versions
// carry the delete decisions of the run it undoes, and nothing in it is
// deleted or kept: a version is restored (in a dry run: would be),
// skipped, failed or deferred.
func countTotals(p *policy.Plan, restore bool) totals {
	pt := p.Totals()
	t := totals{
		Failed:         pt.Failed,
		Deferred:       pt.Deferred,
		Restored:       pt.Restored,
		RestoreSkipped: pt.RestoreSkipped,
	}
	for _, pkg := range p.Packages {
		if packageFailed(pkg) {
			t.FailedPackages++
			t.Failed++
		}
	}
	if restore {
		if p.DryRun {
			t.Restored += pt.Pending
		}
		return t
	}
	t.Deleted = pt.Deleted + pt.AlreadyGone
	t.Protected = pt.Protected + pt.Refused
	notRun := pt.Pending // delete decisions with no result
	if p.DryRun {
		t.Deleted += pt.Pending
		notRun = 0
	}
	t.Kept = max(0, pt.Versions-t.Deleted-t.Protected-pt.Failed-t.Deferred-t.Restored-t.RestoreSkipped-notRun)
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
