package cleanup

import (
	"context"
	"strings"

	"github.com/pkgretention/retention/policy"
)

// verify runs the post-run check on every container package the run
// touched, for what the run could have broken (see atRisk): their tags
// still resolve and the children of their indexes still exist. A problem
// is recorded as the package's error, which makes the run fail. Children
// of broken images, missing before the run (as the structure read at
// planning time found), are not problems of this run.
func verify(ctx context.Context, cfg Config, plan *policy.Plan) {
	for i := range plan.Packages {
		pp := &plan.Packages[i]
		if pp.Type != policy.Container || !pp.Complete || !touched(pp) {
			continue
		}
		risk, all := atRisk(pp, knownChildren(cfg, pp))
		var tags, indexes []string
		keptTags := 0
		for _, v := range pp.Versions {
			if gone(v) {
				continue
			}
			real := false
			for _, t := range v.Tags {
				if _, ok := policy.IsAttachmentTag(t); !ok {
					keptTags++
					if all || risk[v.Name] {
						tags = append(tags, t)
					}
					real = true
				}
			}
			if (real && all) || risk[v.Name] {
				indexes = append(indexes, v.Name)
			}
		}
		var before []string
		for _, b := range pp.Broken {
			for _, m := range b.Missing {
				if m.Repair != policy.RepairRestored {
					before = append(before, m.Digest)
				}
			}
		}
		problems, err := cfg.Containers.Verify(ctx, pp.Owner, pp.Name, tags, indexes, before)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if len(problems) == 0 {
			cfg.Log.Infof("post-run check of %s/%s: %d kept %s resolve (%d kept %s and their children checked: those that shared a member with a deleted version or lost one; %d kept tags in all)",
				pp.Owner, pp.Name, len(tags), plural(len(tags), "tag", "tags"), len(indexes), plural(len(indexes), "manifest", "manifests"), keptTags)
			continue
		}
		msg := "post-run check failed: " + strings.Join(problems, "; ")
		cfg.Log.Errorf("%s package %s/%s: %s", pp.Type, pp.Owner, pp.Name, msg)
		if pp.Error != "" {
			msg = pp.Error + "; " + msg
		}
		pp.Error = msg
	}
}

func gone(v policy.VersionPlan) bool {
	return v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone
}

// childrenKnower is implemented by registry readers that can say, without
// a request, which manifests an index lists (from this run's reads or the
// manifest cache).
type childrenKnower interface {
	KnownChildren(owner, pkgName, digest string) ([]string, bool)
}

// knownChildren returns the lookup of a deleted manifest's children for
// atRisk; without one, every deleted manifest is unknown.
func knownChildren(cfg Config, pp *policy.PackagePlan) func(digest string) ([]string, bool) {
	k, ok := cfg.Containers.(childrenKnower)
	if !ok {
		return func(string) ([]string, bool) { return nil, false }
	}
	return func(d string) ([]string, bool) { return k.KnownChildren(pp.Owner, pp.Name, d) }
}

// atRisk returns the kept versions (by digest) a deletion of this run
// could have broken: the kept parents of a deleted version (an index that
// lost a member), a kept member of a deleted index and the kept indexes
// that also list it (images that shared a member with a deleted image),
// and the kept ancestors of those (an index of indexes). Other kept
// images share nothing with what was deleted: manifests are immutable, so
// their tags and children are as the listing found them. When a manifest
// was unreadable, all is true: check every kept tag, as before.
func atRisk(pp *policy.PackagePlan, children func(digest string) ([]string, bool)) (risk map[string]bool, all bool) {
	byName := make(map[string]*policy.VersionPlan, len(pp.Versions))
	for i := range pp.Versions {
		v := &pp.Versions[i]
		byName[v.Name] = v
		if v.Reason == policy.ReasonUnreadable {
			all = true
		}
	}
	risk = map[string]bool{}
	var queue []string
	add := func(name string) {
		if v := byName[name]; v != nil && !gone(*v) && !risk[name] {
			risk[name] = true
			queue = append(queue, name)
		}
	}
	for _, v := range pp.Versions {
		if !gone(v) {
			continue
		}
		for _, p := range v.Parents {
			add(p)
		}
		// A deleted index neither read nor cached: its members that
		// were deleted too are covered above through their Parents;
		// deleting the index itself breaks no other image.
		members, _ := children(v.Name)
		for _, m := range members {
			mv := byName[m]
			if mv == nil || gone(*mv) {
				continue
			}
			add(m)
			for _, p := range mv.Parents {
				add(p)
			}
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		for _, p := range byName[name].Parents {
			add(p)
		}
	}
	return risk, all
}

func touched(pp *policy.PackagePlan) bool {
	for _, v := range pp.Versions {
		if gone(v) {
			return true
		}
	}
	return false
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
