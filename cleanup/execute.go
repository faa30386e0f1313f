package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// executor carries out a plan's deletions: one request at a time, evenly
// paced, roots before their members, oldest images first, within the
// primary rate-limit budget.
type executor struct {
	cfg      Config
	prog     *progress
	pkgs     map[string]ghapi.Package
	interval time.Duration
	last     time.Time // start of the previous mutating request
	sent     bool
	// denied holds, per package, the permission error that refused a
	// deletion: the package's other deletions are not sent, they would be
	// refused the same way.
	denied map[string]error
	// rc re-checks the container package being deleted in (nil outside
	// containers, or without a registry reader).
	rc *recheck
}

func newExecutor(cfg Config, prog *progress, pkgs map[string]ghapi.Package) *executor {
	return &executor{
		cfg:      cfg,
		prog:     prog,
		pkgs:     pkgs,
		interval: time.Minute / time.Duration(cfg.DeletesPerMinute),
		denied:   map[string]error{},
	}
}

// budgetReserve is what a run keeps of the primary budget for retries and
// the requests after it: it never spends the last of it.
func budgetReserve(remaining int) int {
	r := remaining / 50
	if r < 10 {
		r = 10
	}
	return r
}

// group is one image (or one version, outside containers): a root planned
// for deletion and the members that go with it.
type group struct {
	pkg     *policy.PackagePlan
	root    int   // index into pkg.Versions
	members []int // in deletion order: parents before children
	// byName finds a package's versions by digest, to check a member's
	// parents; shared by the package's groups.
	byName map[string]*policy.VersionPlan
}

func (g group) size() int { return 1 + len(g.members) }

// deletionGroups returns a package's deletions as policy.Groups orders
// them: oldest image first, each root before its members.
func deletionGroups(pp *policy.PackagePlan) []group {
	gs := policy.Groups(pp)
	var byName map[string]*policy.VersionPlan
	out := make([]group, len(gs))
	for i, g := range gs {
		if len(g) > 1 && byName == nil {
			byName = make(map[string]*policy.VersionPlan, len(pp.Versions))
			for j := range pp.Versions {
				byName[pp.Versions[j].Name] = &pp.Versions[j]
			}
		}
		out[i] = group{pkg: pp, root: g[0], members: g[1:], byName: byName}
	}
	return out
}

func (ex *executor) execute(ctx context.Context, plan *policy.Plan) error {
	var all []group
	perPkg := make([][]group, len(plan.Packages))
	for i := range plan.Packages {
		pp := &plan.Packages[i]
		if !pp.Complete {
			continue
		}
		perPkg[i] = deletionGroups(pp)
		all = append(all, perPkg[i]...)
	}
	needed := 0
	for _, g := range all {
		needed += g.size()
	}
	ex.prog.planned(needed, ex.interval)
	if ex.cfg.Journal != nil && needed > 0 {
		if err := ex.cfg.Journal.Begin(plan); err != nil {
			for _, g := range all {
				markGroup(g, policy.ResultDeferred)
			}
			return fmt.Errorf("journal: %w (nothing was deleted)", err)
		}
	}

	// Budget: when the primary rate limit will not cover the plan, delete
	// the oldest images that fit and defer the rest to the next run.
	deferred := map[*policy.VersionPlan]bool{}
	if b := ex.cfg.API.Budget(); b.Known && needed > 0 {
		avail := b.Remaining - budgetReserve(b.Remaining)
		if avail < needed {
			sort.SliceStable(all, func(a, c int) bool {
				va, vc := all[a].pkg.Versions[all[a].root], all[c].pkg.Versions[all[c].root]
				if !va.UpdatedAt.Equal(vc.UpdatedAt) {
					return va.UpdatedAt.Before(vc.UpdatedAt)
				}
				return va.ID < vc.ID
			})
			used, full := 0, false
			for _, g := range all {
				if !full && used+g.size() <= avail {
					used += g.size()
					continue
				}
				full = true
				deferred[&g.pkg.Versions[g.root]] = true
			}
			ex.cfg.Log.Warningf("the rate-limit budget (%d requests left until %s) does not cover the %d planned deletions: deleting %d, the oldest, and deferring the rest to the next run",
				b.Remaining, b.Reset.UTC().Format(time.RFC3339), needed, used)
		}
	}

	stopped := false // budget spent or context done: defer everything left
	var stopErr error
	for i := range plan.Packages {
		pp := &plan.Packages[i]
		if len(perPkg[i]) == 0 {
			continue
		}
		p, ok := ex.pkgs[packageKey(pp.Owner, pp.Type, pp.Name)]
		if !ok {
			return fmt.Errorf("plan names %s package %q of %s that was not listed", pp.Type, pp.Name, pp.Owner)
		}
		ex.cfg.Log.Group(fmt.Sprintf("%s %s/%s", pp.Type, pp.Owner, pp.Name))
		ex.rc = nil
		pkgDeferred := false
		if !stopped && pp.Type == policy.Container && ex.cfg.Containers != nil {
			ex.rc = newRecheck(pp, perPkg[i])
			if err := ex.rc.run(ctx, ex); err != nil {
				if ctx.Err() != nil {
					stopped, stopErr = true, ctx.Err()
				} else {
					pkgDeferred = true
					ex.recheckFailed(pp, err)
				}
			}
		}
		for _, g := range perPkg[i] {
			if stopped || pkgDeferred || deferred[&pp.Versions[g.root]] {
				markGroup(g, policy.ResultDeferred)
				continue
			}
			err := ex.deleteGroup(ctx, p, g)
			var rf recheckError
			switch {
			case errors.As(err, &rf):
				pkgDeferred = true
				ex.recheckFailed(pp, rf.err)
				markGroup(g, policy.ResultDeferred)
			case err != nil:
				stopped, stopErr = true, err
				markGroup(g, policy.ResultDeferred)
			}
		}
		ex.rc = nil
		ex.cfg.Log.EndGroup()
	}
	switch {
	case errors.Is(stopErr, ghapi.ErrBudgetExhausted):
		ex.cfg.Log.Warningf("the primary rate limit is spent: the remaining deletions are deferred to the next run")
		return nil
	case errors.Is(stopErr, ghapi.ErrSecondaryRateLimit):
		ex.cfg.Log.Warningf("GitHub's secondary rate limit kept refusing deletions (%v): the remaining deletions are deferred to the next run", stopErr)
		return nil
	}
	return stopErr
}

// markGroup sets result on every version of the group still planned for
// deletion that has none yet.
func markGroup(g group, result string) {
	set := func(i int) {
		if v := &g.pkg.Versions[i]; v.Result == "" && v.Decision == policy.Delete {
			g.pkg.Versions[i].Result = result
		}
	}
	set(g.root)
	for _, m := range g.members {
		set(m)
	}
}

// deleteGroup deletes a root, then each member whose parents are all gone.
// It returns an error only when the run must stop (budget spent, context
// done); everything else is recorded in the versions' results.
func (ex *executor) deleteGroup(ctx context.Context, p ghapi.Package, g group) error {
	vs := g.pkg.Versions
	if err := ex.deleteOne(ctx, p, g.pkg, &vs[g.root]); err != nil {
		return err
	}
	for _, m := range g.members {
		v := &vs[m]
		if v.Decision != policy.Delete {
			continue // found in use since the listing
		}
		if r := parentsBlock(v, g.byName); r != "" {
			v.Result = r
			continue
		}
		if err := ex.deleteOne(ctx, p, g.pkg, v); err != nil {
			return err
		}
	}
	return nil
}

// parentsBlock returns the result a member gets when one of its parents
// planned for deletion is still there: protected if that parent is
// protected (deleting the member would break a protected image), deferred
// otherwise. It returns "" when the member may go.
func parentsBlock(v *policy.VersionPlan, byName map[string]*policy.VersionPlan) string {
	block := ""
	for _, d := range v.Parents {
		p := byName[d]
		if p == nil || p.Decision != policy.Delete {
			continue
		}
		switch p.Result {
		case policy.ResultDeleted, policy.ResultAlreadyGone:
		case policy.ResultProtected:
			return policy.ResultProtected
		default:
			block = policy.ResultDeferred
		}
	}
	return block
}

// deleteOne sends one paced DELETE and records its result.
func (ex *executor) deleteOne(ctx context.Context, p ghapi.Package, pp *policy.PackagePlan, v *policy.VersionPlan) error {
	key := packageKey(p.Owner.Login, p.Type, p.Name)
	if v.Decision != policy.Delete {
		return nil // found in use since the listing
	}
	if err := ex.denied[key]; err != nil {
		v.Result = policy.ResultFailedPrefix + err.Error()
		return nil
	}
	if err := ex.pace(ctx); err != nil {
		return err
	}
	if ex.rc != nil && ex.cfg.Clock.Now().Sub(ex.rc.last) >= RecheckEvery {
		if err := ex.rc.run(ctx, ex); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return recheckError{err}
		}
		if v.Decision != policy.Delete {
			return nil
		}
	}
	if ex.cfg.Journal != nil {
		if err := ex.cfg.Journal.Record(pp, v); err != nil {
			return fmt.Errorf("journal: %w (the deletions left are deferred)", err)
		}
	}
	err := ex.cfg.API.DeleteVersion(ctx, p, v.ID)
	ex.sentLate()
	label := describe(v)
	switch {
	case errors.Is(err, ghapi.ErrNoPermission):
		ex.denied[key] = err
		v.Result = policy.ResultFailedPrefix + err.Error()
		ex.cfg.Log.Errorf("delete %s of %s package %s/%s: %v (the package's other deletions are not sent)", label, p.Type, p.Owner.Login, p.Name, err)
	case err == nil:
		v.Result = policy.ResultDeleted
		ex.cfg.Log.Infof("deleted %s: %s", label, v.Reason)
	case errors.Is(err, ghapi.ErrAlreadyGone):
		v.Result = policy.ResultAlreadyGone
		ex.cfg.Log.Infof("already gone: %s", label)
	case errors.Is(err, ghapi.ErrDownloadRule):
		v.Result = policy.ResultProtected
		ex.cfg.Log.Infof("protected by GitHub's 5,000-download rule: %s", label)
	case errors.Is(err, ghapi.ErrBudgetExhausted), errors.Is(err, ghapi.ErrSecondaryRateLimit):
		return err
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		v.Result = policy.ResultFailedPrefix + err.Error()
		ex.cfg.Log.Errorf("delete %s of %s package %s/%s: %v", label, p.Type, p.Owner.Login, p.Name, err)
	}
	ex.prog.deleted()
	if ex.cfg.Journal != nil {
		if err := ex.cfg.Journal.Record(pp, v); err != nil {
			return fmt.Errorf("journal: %w (the deletions left are deferred)", err)
		}
	}
	return nil
}

// pace waits until one interval has passed since the previous mutating
// request started, so requests are evenly spaced with no bursts.
func (ex *executor) pace(ctx context.Context) error {
	now := ex.cfg.Clock.Now()
	if ex.sent {
		if wait := ex.last.Add(ex.interval).Sub(now); wait > 0 {
			if err := ex.cfg.Clock.Sleep(ctx, wait); err != nil {
				return err
			}
			now = ex.cfg.Clock.Now()
		}
	}
	ex.sent, ex.last = true, now
	return ctx.Err()
}

// sentLate is called when a paced request returns: one that took longer
// than the interval (it waited because GitHub said so, or was retried) went
// out late, so the next one is spaced from its end and a wait is never
// followed by a burst.
func (ex *executor) sentLate() {
	if end := ex.cfg.Clock.Now(); end.Sub(ex.last) > ex.interval {
		ex.last = end
	}
}

// describe names a version in a log line: name, tags and GitHub's id
// ("1.4.2 (id 39)"; "version 39" would read as a version number).
func describe(v *policy.VersionPlan) string {
	s := v.Name
	if len(v.Tags) > 0 {
		s += " [" + strings.Join(v.Tags, ", ") + "]"
	}
	return s + fmt.Sprintf(" (id %d)", v.ID)
}

// logPlan writes a dry run's decisions, grouped per package.
func logPlan(log Logger, plan *policy.Plan) {
	for _, pp := range plan.Packages {
		if !pp.Complete {
			continue
		}
		log.Group(fmt.Sprintf("%s %s/%s", pp.Type, pp.Owner, pp.Name))
		for i := range pp.Versions {
			v := &pp.Versions[i]
			if v.Decision == policy.Delete {
				log.Infof("would delete %s: %s", describe(v), v.Reason)
			}
		}
		log.EndGroup()
	}
}
