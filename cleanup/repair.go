package cleanup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// repair restores, before the policy is applied, the manifests that
// broken images miss: for every container package whose structure shows
// a broken image, it lists the package's deleted versions (all pages,
// lctx: a listing like any other) and restores each missing child found
// there by digest, paced like deletions (ex). It restores nothing a broken
// image does not name. A package with a restore then has its structure
// read again, so that the policy judges a healed image whole. What was
// done for each missing child is recorded in in.Broken (the plan's
// broken images). In a dry run nothing is restored: each restorable child
// is marked would-restore. The error is for a cancelled run only; the
// package in repair then is deferred, with what was restored recorded.
func repair(ctx, lctx context.Context, cfg Config, ex *executor, inputs []policy.PackageInput, pkgs map[string]ghapi.Package, now time.Time) error {
	stopped := false // a rate limit stopped the restores: defer the rest
	for i := range inputs {
		in := &inputs[i]
		if in.Type != policy.Container || !in.Complete || in.Structure == nil || len(in.Structure.Missing) == 0 {
			continue
		}
		p, ok := pkgs[packageKey(in.Owner, in.Type, in.Name)]
		if !ok {
			continue
		}
		pl := planAlone(cfg.Policy, *in, now)
		var vps []policy.VersionPlan
		if pl != nil {
			vps = pl.Versions
		}
		broken := policy.BrokenImages(in, vps)
		if len(broken) == 0 {
			continue
		}
		if markNotNeeded(cfg.Policy, *in, broken, now) == len(broken) {
			in.Broken = broken // nothing to restore: no listing either
			continue
		}
		cfg.Log.Group(fmt.Sprintf("repair %s package %s/%s: %d broken %s", in.Type, in.Owner, in.Name, len(broken), plural(len(broken), "image", "images")))
		restored, listErr, err := repairPackage(ctx, lctx, cfg, ex, p, broken, &stopped)
		cfg.Log.EndGroup()
		if err != nil {
			// Cancelled: the plan records what was restored, and that
			// the rest waits for the next run; nothing here is decided.
			markUndone(broken, policy.RepairDeferred)
			in.Broken = broken
			in.Complete, in.Versions, in.Structure, in.Deferred = false, nil, nil, true
			in.Error = "left for the next run, nothing deleted: the run was cancelled during repair"
			return err
		}
		if listErr != nil {
			// Without the deleted versions the package cannot be
			// repaired as asked, and a broken image that could have been
			// healed must not be judged broken: like an incomplete
			// listing, nothing in the package is deleted.
			in.Complete, in.Versions, in.Structure = false, nil, nil
			in.Error = fmt.Sprintf("repair: deleted versions not listed, nothing deleted: %v", listErr)
			if rateLimited(listErr) {
				in.Deferred = true
				in.Error = fmt.Sprintf("left for the next run, nothing deleted: GitHub's rate limit stopped the listing of deleted versions for repair: %v", listErr)
			}
			continue
		}
		if anyDeferred(broken) {
			// A rate limit stopped the restores: deciding now would judge
			// healable images broken. The package waits for the next run;
			// the plan records what was restored.
			in.Broken = broken
			in.Complete, in.Versions, in.Structure, in.Deferred = false, nil, nil, true
			in.Error = "left for the next run, nothing deleted: GitHub's rate limit stopped the restores of repair"
			continue
		}
		in.Broken = broken
		if len(restored) > 0 {
			in.Versions = append(in.Versions, restored...)
			if cfg.Policy.DryRun {
				previewHealed(in.Structure, broken, restored)
			} else {
				readStructure(lctx, cfg, p, in, now)
			}
		}
	}
	return nil
}

// markNotNeeded marks the missing children of the broken images that the
// policy deletes whole, healed or not (a rule selects them by tag or age)
// as not needing a restore, and returns how many images it marked.
// Restoring them would send each manifest to be deleted again in the same
// run. An image a rule would keep while broken (image-state: broken with
// keep-latest) is restored.
func markNotNeeded(p *policy.Policy, in policy.PackageInput, broken []policy.BrokenImage, now time.Time) int {
	// First every broken image as if healed; then the images found
	// deleted stay broken, as they will once not restored, and any the
	// plan then keeps (a rule for broken images keeping the latest) is
	// restored after all; until the set stops shrinking.
	orig := in.Structure.Missing
	doomed := map[int64]bool{}
	for b := range broken {
		doomed[broken[b].ID] = true
	}
	for first := true; ; first = false {
		st := *in.Structure
		st.Missing = map[int64][]string{}
		if !first {
			for id := range doomed {
				st.Missing[id] = orig[id]
			}
		}
		in.Structure = &st
		pl := planAlone(p, in, now)
		if pl == nil {
			return 0
		}
		deleted := map[int64]bool{}
		for _, v := range pl.Versions {
			if v.Decision == policy.Delete {
				deleted[v.ID] = true
			}
		}
		shrunk := false
		for id := range doomed {
			if !deleted[id] {
				delete(doomed, id)
				shrunk = true
			}
		}
		if !first && !shrunk {
			break
		}
	}
	n := 0
	for b := range broken {
		if !doomed[broken[b].ID] {
			continue
		}
		n++
		for m := range broken[b].Missing {
			broken[b].Missing[m].Repair = policy.RepairNotNeeded
		}
	}
	return n
}

// previewHealed makes a dry run's structure what the real run's is after
// its restores and the structure's re-read: each child repair would
// restore is a member of the images that list it, no longer missing from
// them, so the policy judges a healable image whole in the preview too.
// restored are the versions repair would restore (all of them
// would-restore children of broken).
func previewHealed(st *policy.Structure, broken []policy.BrokenImage, restored []policy.Version) {
	ids := make(map[string]int64, len(restored))
	for _, v := range restored {
		ids[v.Name] = v.ID
	}
	if st.Parents == nil {
		st.Parents = map[int64][]int64{}
	}
	for _, b := range broken {
		var still []string
		for _, d := range st.Missing[b.ID] {
			id, ok := ids[d]
			if !ok {
				still = append(still, d)
				continue
			}
			if !slices.Contains(st.Parents[id], b.ID) {
				st.Parents[id] = append(st.Parents[id], b.ID)
			}
		}
		if len(still) == 0 {
			delete(st.Missing, b.ID)
		} else {
			st.Missing[b.ID] = still
		}
	}
}

// repairPackage fills in what repair does for each missing child of the
// broken images of p and returns the versions it restored (in a dry run:
// would restore), as active versions. listErr is the failure of the
// deleted-version listing (then nothing is restored); err is for a
// cancelled run.
func repairPackage(ctx, lctx context.Context, cfg Config, ex *executor, p ghapi.Package, broken []policy.BrokenImage, stopped *bool) (_ []policy.Version, listErr, err error) {
	if *stopped {
		markUndone(broken, policy.RepairDeferred)
		return nil, nil, nil
	}
	deleted, err := cfg.API.ListVersions(lctx, p, "deleted")
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, err, nil
	}
	// A digest deleted more than once (pushed again, deleted again): the
	// latest deletion is the one GitHub can still restore.
	byName := make(map[string]policy.Version, len(deleted))
	for _, v := range deleted {
		if w, ok := byName[v.Name]; !ok || v.DeletedAt.After(w.DeletedAt) || (v.DeletedAt.Equal(w.DeletedAt) && v.ID > w.ID) {
			byName[v.Name] = v
		}
	}
	done := map[string]string{} // digest -> outcome, each restored once
	var restored []policy.Version
	for b := range broken {
		for m := range broken[b].Missing {
			mc := &broken[b].Missing[m]
			if mc.Repair != "" { // not needed: the policy deletes the image
				continue
			}
			v, ok := byName[mc.Digest]
			if ok {
				mc.VersionID = v.ID
				if !v.DeletedAt.IsZero() {
					at := v.DeletedAt.UTC()
					mc.DeletedAt = &at
				}
			}
			if outcome, seen := done[mc.Digest]; seen {
				mc.Repair = outcome
				continue
			}
			switch {
			case !ok:
				mc.Repair = policy.RepairNotRestorable
			case *stopped:
				mc.Repair = policy.RepairDeferred
			case cfg.Policy.DryRun:
				mc.Repair = policy.RepairWouldRestore
				cfg.Log.Infof("would restore %s (id %d), missing from %s", v.Name, v.ID, broken[b].Digest)
				v.DeletedAt = time.Time{}
				restored = append(restored, v)
			default:
				outcome, err := restoreOne(ctx, cfg, ex, p, v)
				if err != nil {
					return nil, nil, err
				}
				mc.Repair = outcome
				switch {
				case outcome == policy.RepairRestored:
					cfg.Log.Infof("restored %s (id %d), missing from %s", v.Name, v.ID, broken[b].Digest)
					v.DeletedAt = time.Time{}
					restored = append(restored, v)
				case outcome == policy.RepairDeferred:
					*stopped = true
					cfg.Log.Warningf("rate limit: the remaining restores are left for the next run")
				default:
					cfg.Log.Warningf("restore of %s (id %d) of %s package %s/%s refused: %s", v.Name, v.ID, p.Type, p.Owner.Login, p.Name, outcome)
				}
			}
			done[mc.Digest] = mc.Repair
		}
	}
	return restored, nil, nil
}

// restoreOne sends one restore, paced like a deletion, and returns its
// outcome. A refusal is not retried. The error is for a cancelled run.
func restoreOne(ctx context.Context, cfg Config, ex *executor, p ghapi.Package, v policy.Version) (string, error) {
	if err := ex.pace(ctx); err != nil {
		return "", err
	}
	err := cfg.API.RestoreVersion(ctx, p, v.ID)
	ex.sentLate()
	switch {
	case err == nil:
		return policy.RepairRestored, nil
	case ctx.Err() != nil:
		return "", ctx.Err()
	case errors.Is(err, ghapi.ErrBudgetExhausted), errors.Is(err, ghapi.ErrSecondaryRateLimit):
		return policy.RepairDeferred, nil
	}
	return policy.RepairRefusedPrefix + err.Error(), nil
}

// markUndone gives outcome to every missing child of broken that has
// none yet.
func markUndone(broken []policy.BrokenImage, outcome string) {
	for b := range broken {
		for m := range broken[b].Missing {
			if broken[b].Missing[m].Repair == "" {
				broken[b].Missing[m].Repair = outcome
			}
		}
	}
}

func anyDeferred(broken []policy.BrokenImage) bool {
	for _, b := range broken {
		for _, m := range b.Missing {
			if m.Repair == policy.RepairDeferred {
				return true
			}
		}
	}
	return false
}
