package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// Restore undoes the run that wrote from: it restores every version whose
// result there is "deleted", members before their roots so that an image
// index never comes back before its platform manifests. Versions already
// active are skipped; versions GitHub refuses (outside the 30-day window,
// name reused) are reported as failed and the rest go on. The returned plan
// holds the versions it considered, each with its restore result. With
// Policy.DryRun it sends no mutating request.
func Restore(ctx context.Context, cfg Config, from *policy.Plan) (*policy.Plan, error) {
	cfg.defaults()
	prog := newProgress(cfg.Clock, cfg.Log, cfg.ProgressEvery)
	out := &policy.Plan{Policy: from.Policy, StartedAt: cfg.Clock.Now(), DryRun: cfg.Policy != nil && cfg.Policy.DryRun}
	owners := map[string]ghapi.Owner{}
	ex := newExecutor(cfg, prog, nil)

	for _, src := range from.Packages {
		pp := policy.PackagePlan{Owner: src.Owner, Type: src.Type, Name: src.Name, Visibility: src.Visibility, Complete: true, Versions: []policy.VersionPlan{}}
		for _, v := range src.Versions {
			if v.Result == policy.ResultDeleted {
				v.Result = ""
				pp.Versions = append(pp.Versions, v)
			}
		}
		if len(pp.Versions) == 0 {
			continue
		}
		out.Packages = append(out.Packages, pp)
	}
	total := 0
	for _, pp := range out.Packages {
		total += len(pp.Versions)
	}
	prog.planned(total, ex.interval)

	stopped := false
	for i := range out.Packages {
		pp := &out.Packages[i]
		cfg.Log.Group(fmt.Sprintf("restore %s %s/%s", pp.Type, pp.Owner, pp.Name))
		err := restorePackage(ctx, cfg, ex, owners, pp, stopped)
		cfg.Log.EndGroup()
		if err != nil {
			if errors.Is(err, ghapi.ErrBudgetExhausted) || errors.Is(err, ghapi.ErrSecondaryRateLimit) {
				cfg.Log.Warningf("rate limit: the remaining restores are deferred (%v)", err)
				stopped = true
				continue
			}
			return out, err
		}
	}
	return out, nil
}

func restorePackage(ctx context.Context, cfg Config, ex *executor, owners map[string]ghapi.Owner, pp *policy.PackagePlan, stopped bool) error {
	setAll := func(result string) {
		for j := range pp.Versions {
			if pp.Versions[j].Result == "" {
				pp.Versions[j].Result = result
			}
		}
	}
	if stopped {
		setAll(policy.ResultDeferred)
		return nil
	}
	owner, ok := owners[pp.Owner]
	if !ok {
		o, err := cfg.API.LookupOwner(ghapi.WithResetWait(ctx, cfg.ListResetWait), pp.Owner)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pp.Complete, pp.Error = false, err.Error()
			setAll(policy.ResultFailedPrefix + err.Error())
			return nil
		}
		owners[pp.Owner], owner = o, o
	}
	p := ghapi.Package{Owner: owner, Type: pp.Type, Name: pp.Name, Visibility: pp.Visibility}
	active, err := cfg.API.ListVersions(ghapi.WithResetWait(ctx, cfg.ListResetWait), p, "active")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pp.Complete, pp.Error = false, fmt.Sprintf("list active versions: %v", err)
		setAll(policy.ResultFailedPrefix + pp.Error)
		return nil
	}
	isActive := make(map[int64]bool, len(active))
	for _, v := range active {
		isActive[v.ID] = true
	}
	for _, j := range restoreOrder(pp.Versions) {
		v := &pp.Versions[j]
		if isActive[v.ID] {
			v.Result = policy.ResultRestoreSkipped
			cfg.Log.Infof("already active, skipped: %s", describe(v))
			continue
		}
		if cfg.Policy != nil && cfg.Policy.DryRun {
			cfg.Log.Infof("would restore %s", describe(v))
			continue
		}
		if err := ex.pace(ctx); err != nil {
			setAll(policy.ResultDeferred)
			return err
		}
		err := cfg.API.RestoreVersion(ctx, p, v.ID)
		ex.sentLate()
		switch {
		case err == nil:
			v.Result = policy.ResultRestored
			cfg.Log.Infof("restored %s", describe(v))
		case errors.Is(err, ghapi.ErrBudgetExhausted), errors.Is(err, ghapi.ErrSecondaryRateLimit):
			setAll(policy.ResultDeferred)
			return err
		case ctx.Err() != nil:
			setAll(policy.ResultDeferred)
			return ctx.Err()
		default:
			v.Result = policy.ResultFailedPrefix + err.Error()
			cfg.Log.Errorf("restore %s of %s package %s/%s: %v", describe(v), p.Type, p.Owner.Login, p.Name, err)
		}
		ex.prog.deleted()
	}
	return nil
}

// restoreOrder returns the indexes of versions deepest member first, so a
// version is restored before every version that references it.
func restoreOrder(vs []policy.VersionPlan) []int {
	idx := make(map[string]int, len(vs))
	for i, v := range vs {
		idx[v.Name] = i
	}
	depth := make([]int, len(vs))
	for i := range depth {
		depth[i] = -1
	}
	var depthOf func(i int, seen map[int]bool) int
	depthOf = func(i int, seen map[int]bool) int {
		if depth[i] >= 0 {
			return depth[i]
		}
		if seen[i] {
			return 0 // a cycle: stop here
		}
		seen[i] = true
		d := 0
		for _, p := range vs[i].Parents {
			if j, ok := idx[p]; ok {
				if pd := depthOf(j, seen) + 1; pd > d {
					d = pd
				}
			}
		}
		depth[i] = d
		return d
	}
	order := make([]int, len(vs))
	for i := range vs {
		order[i] = i
		depthOf(i, map[int]bool{})
	}
	sort.SliceStable(order, func(a, b int) bool {
		if depth[order[a]] != depth[order[b]] {
			return depth[order[a]] > depth[order[b]]
		}
		// Oldest first within a depth: plan order is newest first.
		return order[a] > order[b]
	})
	return order
}
