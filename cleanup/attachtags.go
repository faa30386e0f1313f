package cleanup

import (
	"fmt"

	"github.com/pkgretention/retention/policy"
)

// AttachmentTagMiss is a delete-tags or keep-tags pattern that matches no
// label of a container package but matches attachment tags there
// (sha256-<hex> referrers indexes, sha256-<hex>.sig, .att, .sbom), which
// patterns never see: what users of other cleanup actions write to remove
// orphaned signatures (delete-tags: sha256-*) does nothing here.
type AttachmentTagMiss struct {
	Input   string // policy.InDeleteTags or policy.InKeepTags
	Pattern string
	Rule    int // index of the rule, from 0
	Owner   string
	Package string
	// Met is the number of attachment tags of the package the pattern
	// matches.
	Met int
}

// attachmentTagMisses finds, in each complete container package of plan,
// the delete-tags and keep-tags patterns of the rules covering it that
// match no label but match attachment tags. Digest patterns (sha256:...)
// match digests, never tags, and are left out.
func attachmentTagMisses(pol *policy.Policy, plan *policy.Plan) []AttachmentTagMiss {
	var out []AttachmentTagMiss
	for _, pp := range plan.Packages {
		if pp.Type != policy.Container || !pp.Complete || pp.Unresolved {
			continue
		}
		for ri := range pol.Rules {
			r := &pol.Rules[ri]
			if !r.Covers(pp.Owner, pp.Type, pp.Name) {
				continue
			}
			for _, in := range []struct {
				name     string
				patterns []policy.Pattern
			}{{policy.InDeleteTags, r.DeleteTags}, {policy.InKeepTags, r.KeepTags}} {
				for _, pat := range in.patterns {
					if pat.IsDigest() {
						continue
					}
					if met := attachmentOnly(pat, pp.Versions); met > 0 {
						out = append(out, AttachmentTagMiss{Input: in.name, Pattern: pat.String(), Rule: ri,
							Owner: pp.Owner, Package: pp.Name, Met: met})
					}
				}
			}
		}
	}
	return out
}

// attachmentOnly returns the number of attachment tags pat matches among
// versions, or 0 if it matches a label (a tag of a version's own).
func attachmentOnly(pat policy.Pattern, versions []policy.VersionPlan) int {
	met := 0
	for _, v := range versions {
		for _, t := range v.Tags {
			if !pat.Match(t) {
				continue
			}
			if _, ok := policy.IsAttachmentTag(t); !ok {
				return 0
			}
			met++
		}
	}
	return met
}

// warnAttachmentTags writes one warning per pattern that only ever met
// attachment tags, saying what to write instead. The plan is unchanged.
func warnAttachmentTags(log Logger, pol *policy.Policy, plan *policy.Plan) {
	for _, m := range attachmentTagMisses(pol, plan) {
		where := "" // rules counted from 0, as in input errors and the plan's "rule"
		if len(pol.Rules) > 1 {
			where = fmt.Sprintf("rules[%d].", m.Rule)
		}
		log.Warningf("%s%s: pattern %q matches no tag of container package %s/%s, only %d attachment %s "+
			"(sha256-<digest>, .sig, .att, .sbom: signatures, attestations, SBOMs and referrers indexes), which tag patterns never match. "+
			"To delete orphaned signatures and attestations, write `tag-state: untagged`; an image's own signatures and attestations go with it",
			where, m.Input, m.Pattern, m.Owner, m.Package, m.Met, tagsWord(m.Met))
	}
}

func tagsWord(n int) string {
	if n == 1 {
		return "tag"
	}
	return "tags"
}
