package cleanup

import (
	"context"
	"fmt"
	"time"

	"github.com/pkgretention/retention/policy"
)

// RecheckEvery is how often a run re-reads a container package's tags
// from the registry while it deletes in it (besides once before its first
// deletion): every DELETE is sent less than RecheckEvery after the start
// of the latest re-check (a re-check that itself takes that long fails).
// A push or retag that puts a planned version in use less than
// RecheckEvery before its DELETE may not be seen: the residual window of
// the in-use guard.
const RecheckEvery = time.Minute

// recheck guards one container package's deletions against pushes and
// retags since the listing: before the first deletion and at least every
// RecheckEvery, it asks the registry which manifests are in use that the
// listing did not show (Containers.InUse), and keeps every planned version
// among them (policy.ReasonInUseSinceListing).
type recheck struct {
	pp     *policy.PackagePlan
	groups []group
	// listed is each tag's digest at the listing.
	listed map[string]string
	// last is when the latest re-check started.
	last time.Time
}

func newRecheck(pp *policy.PackagePlan, groups []group) *recheck {
	listed := map[string]string{}
	for _, v := range pp.Versions {
		for _, t := range v.Tags {
			listed[t] = v.Name
		}
	}
	return &recheck{pp: pp, groups: groups, listed: listed}
}

// recheckError is a re-check that failed: the package's deletions left
// are deferred, as nothing tells what is in use.
type recheckError struct{ err error }

func (e recheckError) Error() string { return e.err.Error() }

// run re-checks the package and keeps what is found in use: a planned
// root with its members, or a planned member alone (its root, if not in
// use, still goes).
func (rc *recheck) run(ctx context.Context, ex *executor) error {
	rc.last = ex.cfg.Clock.Now()
	inUse, err := ex.cfg.Containers.InUse(ctx, rc.pp.Owner, rc.pp.Name, rc.listed)
	if err != nil {
		return err
	}
	if took := ex.cfg.Clock.Now().Sub(rc.last); took >= RecheckEvery {
		// A DELETE sent now would act on tags read more than the window
		// ago: the window would no longer hold.
		return fmt.Errorf("the re-check took %s, not under %s (registry slow or retrying)", took.Round(time.Second), RecheckEvery)
	}
	if len(inUse) == 0 {
		return nil
	}
	vs := rc.pp.Versions
	pending := func(i int) bool { return vs[i].Decision == policy.Delete && vs[i].Result == "" }
	keep := func(i int, why string) {
		v := &vs[i]
		v.Decision, v.Reason, v.Rule = policy.Keep, policy.ReasonInUseSinceListing, nil
		ex.cfg.Log.Warningf("kept %s: %s since the listing; the next run judges it afresh", describe(v), why)
	}
	for _, g := range rc.groups {
		if pending(g.root) && inUse[vs[g.root].Name] {
			keep(g.root, "tagged, or listed by a tagged index,")
			for _, m := range g.members {
				if pending(m) {
					keep(m, fmt.Sprintf("part of %s, in use", vs[g.root].Name))
				}
			}
			continue
		}
		for _, m := range g.members {
			if pending(m) && inUse[vs[m].Name] {
				keep(m, "tagged, or listed by a tagged index,")
			}
		}
	}
	return nil
}

// recheckFailed warns that pp's deletions left are deferred because its
// re-check failed.
func (ex *executor) recheckFailed(pp *policy.PackagePlan, err error) {
	ex.cfg.Log.Warningf("%s package %s/%s: could not re-check its tags before deleting (%v): its deletions left are deferred to the next run", pp.Type, pp.Owner, pp.Name, err)
}
