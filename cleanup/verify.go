package cleanup

import (
	"context"
	"slices"
	"strings"

	"github.com/pkgretention/retention/policy"
)

// verify runs the post-run check on every container package the run
// touched, for what the run could have broken (see atRisk): their tags
// still resolve and the children of their indexes still exist. A problem
// is recorded as the package's error, which makes the run fail.
func verify(ctx context.Context, cfg Config, plan *policy.Plan) {
	for i := range plan.Packages {
		pp := &plan.Packages[i]
		if pp.Type != policy.Container || !pp.Complete || !touched(pp) {
			continue
		}
		risk, all := atRisk(pp)
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
		problems, err := cfg.Containers.Verify(ctx, pp.Owner, pp.Name, tags, indexes)
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

// atRisk returns the kept versions (by digest) a deletion of this run
// could have broken: the kept parents of a deleted version (an index that
// lost a member), the kept parents of a version that also had a deleted
// parent (an image that shared a member with a deleted image), and the
// kept ancestors of those (an index of indexes). Other kept images share
// nothing with what was deleted: manifests are immutable, so their tags
// and children are as the listing found them. When the structure is not
// fully known (an unreadable manifest), all is true: check every kept tag.
func atRisk(pp *policy.PackagePlan) (risk map[string]bool, all bool) {
	byName := make(map[string]*policy.VersionPlan, len(pp.Versions))
	deleted := map[string]bool{}
	for i := range pp.Versions {
		v := &pp.Versions[i]
		byName[v.Name] = v
		if gone(*v) {
			deleted[v.Name] = true
		}
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
		if deleted[v.Name] {
			for _, p := range v.Parents {
				add(p)
			}
			continue
		}
		if slices.ContainsFunc(v.Parents, func(p string) bool { return deleted[p] }) {
			for _, p := range v.Parents {
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
