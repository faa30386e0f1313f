package app

import (
	"fmt"
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
	// Unresolved counts the failed packages that are names or patterns
	// the run could not resolve to packages (a subset of FailedPackages).
	Unresolved int
	// DeferredPackages counts packages GitHub's rate limits kept from
	// being listed: left for the next run, not failed, and not counted in
	// Deferred (a count of versions).
	DeferredPackages int
	// Broken counts the broken images the run saw (policy.BrokenImage),
	// healed ones included: reported, never a failure. BrokenLeft counts
	// those neither healed by repair nor deleted by the plan.
	Broken, BrokenLeft int
	// Repaired counts the missing children a repair restored (in a dry
	// run: would restore), apart from deletions and from Restored.
	Repaired int
}

// countTotals turns the plan's totals (policy.Plan.Totals) into the
// disjoint counts of the outputs: every version counts once, as deleted
// (404 included; in a dry run, what would be deleted), protected (by a
// guard or refused by GitHub), failed, deferred, restored, restore-skipped
// or kept. A package that failed as a whole counts once in Failed; one
// left for the next run by the rate limits counts in DeferredPackages.
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
		t.Broken += len(pkg.Broken)
		t.BrokenLeft += len(stillBroken(pkg))
		for i := range pkg.Broken {
			for _, m := range pkg.Broken[i].Missing {
				if m.Repair == policy.RepairRestored || m.Repair == policy.RepairWouldRestore {
					t.Repaired++
				}
			}
		}
		switch {
		case packageDeferred(pkg):
			t.DeferredPackages++
		case packageFailed(pkg):
			t.FailedPackages++
			if pkg.Unresolved {
				t.Unresolved++
			}
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

// packageFailed reports whether a package failed: it could not be listed
// or planned, or its post-run check failed. A deferred package did not
// fail.
func packageFailed(pkg policy.PackagePlan) bool {
	return !packageDeferred(pkg) && (!pkg.Complete || pkg.Error != "")
}

// packageDeferred reports whether GitHub's rate limits kept a package from
// being listed: nothing in it was decided, and the next run lists it again.
func packageDeferred(pkg policy.PackagePlan) bool {
	return !pkg.Complete && pkg.Deferred
}

// deferredNote says which packages were deferred to the next run, naming
// at most a few: "2 packages deferred to the next run (GitHub's rate
// limits): container acme/app, npm acme/widgets". It is "" when none was.
func deferredNote(p *policy.Plan) string {
	const named = 5
	var names []string
	n := 0
	for _, pkg := range p.Packages {
		if !packageDeferred(pkg) {
			continue
		}
		if n++; n <= named {
			names = append(names, fmt.Sprintf("%s %s/%s", pkg.Type, pkg.Owner, pkg.Name))
		}
	}
	if n == 0 {
		return ""
	}
	list := strings.Join(names, ", ")
	if n > named {
		list += fmt.Sprintf(" and %s more", thousands(n-named))
	}
	return fmt.Sprintf("%s deferred to the next run (GitHub's rate limits): %s", plural(n, "package"), list)
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

// brokenNote names the broken images the run saw, at most a few: "2 broken
// images (deleted platform manifests, the tags no longer pull): acme/app:v1,
// acme/app:v2". It is "" when there are none.
func brokenNote(p *policy.Plan) string {
	const named = 5
	var names []string
	n := 0
	for _, pkg := range p.Packages {
		for _, b := range stillBroken(pkg) {
			if n++; n <= named {
				names = append(names, pkg.Owner+"/"+pkg.Name+brokenLabel(b))
			}
		}
	}
	if n == 0 {
		return ""
	}
	list := strings.Join(names, ", ")
	if n > named {
		list += fmt.Sprintf(" and %s more", thousands(n-named))
	}
	return fmt.Sprintf("%s: %s (platform manifests deleted before this run, so the image does not pull; what to do is in the summary's \"Broken images\")",
		pick(n, "1 broken image", thousands(n)+" broken images"), list)
}

// brokenLabel names a broken image by its first tag (":v1"), else by its
// digest ("@sha256:…").
func brokenLabel(b policy.BrokenImage) string {
	if len(b.Tags) > 0 {
		return ":" + b.Tags[0]
	}
	return "@" + b.Digest
}

// stillBroken returns the broken images of pkg that stay broken after the
// run (in a dry run: would): neither healed by repair nor deleted by the
// plan.
func stillBroken(pkg policy.PackagePlan) []policy.BrokenImage {
	if len(pkg.Broken) == 0 {
		return nil
	}
	gone := map[int64]bool{}
	for i := range pkg.Versions {
		v := &pkg.Versions[i]
		if v.Decision == policy.Delete && (v.Result == "" || v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone) {
			gone[v.ID] = true
		}
	}
	var out []policy.BrokenImage
	for _, b := range pkg.Broken {
		if !b.WouldHeal() && !gone[b.ID] {
			out = append(out, b)
		}
	}
	return out
}
