package cleanup

import (
	"context"
	"strings"

	"github.com/pkgretention/retention/policy"
)

// verify runs the post-run check on every container package the run
// touched: every kept tag still resolves and every child of a kept index
// still exists. A problem is recorded as the package's error, which makes
// the run fail. Children of broken images, missing before the run (as the
// structure read at planning time found), are not problems of this run.
func verify(ctx context.Context, cfg Config, plan *policy.Plan) {
	for i := range plan.Packages {
		pp := &plan.Packages[i]
		if pp.Type != policy.Container || !pp.Complete || !touched(pp) {
			continue
		}
		var tags, indexes []string
		for _, v := range pp.Versions {
			if v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone {
				continue
			}
			real := false
			for _, t := range v.Tags {
				if _, ok := policy.IsAttachmentTag(t); !ok {
					tags = append(tags, t)
					real = true
				}
			}
			if real {
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
			cfg.Log.Infof("post-run check of %s/%s: %d kept tags resolve", pp.Owner, pp.Name, len(tags))
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

func touched(pp *policy.PackagePlan) bool {
	for _, v := range pp.Versions {
		if v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone {
			return true
		}
	}
	return false
}
