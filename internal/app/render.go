package app

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pkgretention/retention/policy"
)

// digestRE finds sha256 digests (sha256:<hex>) and cosign-style tags
// (sha256-<hex>) in names, tags and reasons, to shorten them for display.
// The plan file keeps them whole.
var digestRE = regexp.MustCompile(`sha256([:-])([0-9a-f]{12})[0-9a-f]{52}`)

// short shortens every digest in s to its first 12 hex digits.
func short(s string) string {
	return digestRE.ReplaceAllString(s, "sha256$1$2…")
}

// versionLabel is the version column: the shortened digest of a container
// version, the version string of any other.
func versionLabel(v policy.VersionPlan) string { return short(v.Name) }

// tagsLabel is the tags column.
func tagsLabel(v policy.VersionPlan) string {
	tags := make([]string, len(v.Tags))
	for i, t := range v.Tags {
		tags[i] = short(t)
	}
	return strings.Join(tags, ", ")
}

// resultLabel is the result column: what happened, "-" when nothing was
// executed (dry run or not reached).
func resultLabel(v policy.VersionPlan) string {
	if v.Result == "" {
		return "-"
	}
	return short(v.Result)
}

// ageBasis is the timestamp the summary ages versions by: created when every
// rule of the policy asks for it, else updated (policy.md's default).
func ageBasis(p *policy.Plan) policy.AgeBasis {
	if p.Policy == nil || len(p.Policy.Rules) == 0 {
		return policy.Updated
	}
	for _, r := range p.Policy.Rules {
		if r.AgeBasis != policy.Created {
			return policy.Updated
		}
	}
	return policy.Created
}

// ageLabel formats a version's age at now: minutes, hours or days.
func ageLabel(v policy.VersionPlan, basis policy.AgeBasis, now time.Time) string {
	ts := v.UpdatedAt
	if basis == policy.Created {
		ts = v.CreatedAt
	}
	if ts.IsZero() || now.IsZero() {
		return "?"
	}
	d := now.Sub(ts)
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", max(0, int(d/time.Minute)))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// packageTitle names a package: "container acme/app (public)".
func packageTitle(pkg policy.PackagePlan) string {
	s := fmt.Sprintf("%s %s/%s", pkg.Type, pkg.Owner, pkg.Name)
	if pkg.Unresolved {
		// Name is the name or pattern as the policy wrote it.
		return s + " (not resolved)"
	}
	if pkg.Visibility != "" {
		s += " (" + pkg.Visibility + ")"
	}
	return s
}

// decisionCounts is "12 versions: 5 delete, 6 keep, 1 protected"; in a
// restore run (restore true), whose versions are those the earlier run
// deleted, "5 versions the earlier run deleted". A name or pattern that
// could not be resolved has none.
func decisionCounts(pkg policy.PackagePlan, restore bool) string {
	if pkg.Unresolved && pkg.Deferred {
		return "not resolved yet, nothing decided"
	}
	if pkg.Unresolved {
		return "no package found for it, nothing decided"
	}
	if restore {
		return plural(len(pkg.Versions), "version") + " the earlier run deleted"
	}
	var del, keep, prot int
	for _, v := range pkg.Versions {
		switch v.Decision {
		case policy.Delete:
			del++
		case policy.Protected:
			prot++
		default:
			keep++
		}
	}
	return fmt.Sprintf("%s: %d delete, %d keep, %d protected", plural(len(pkg.Versions), "version"), del, keep, prot)
}

// plural is "1 version", "1,234 versions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// thousands formats n with comma separators: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// packageError is the error of a failed package, or what is known when it
// has none.
func packageError(pkg policy.PackagePlan) string {
	if pkg.Error == "" {
		return "the listing is incomplete"
	}
	return pkg.Error
}

// failureOutcome says what a run did in a failed package, as a clause
// without a final period. An incomplete package had nothing executed; a
// complete one (the post-run check failed after its deletions) keeps what
// the run did, and says how to undo it.
func failureOutcome(pkg policy.PackagePlan, restore bool) string {
	verb, done := "deleted", 0
	for _, v := range pkg.Versions {
		switch {
		case restore && v.Result == policy.ResultRestored,
			!restore && (v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone):
			done++
		}
	}
	if restore {
		verb = "restored"
	}
	if pkg.Unresolved {
		return "nothing was " + verb + " on its account"
	}
	if !pkg.Complete || done == 0 {
		return "nothing in this package was " + verb
	}
	if restore {
		return fmt.Sprintf("the restores of this run stand: %s restored in this package", plural(done, "version"))
	}
	return fmt.Sprintf("the deletions of this run stand: %s deleted in this package, see the results; to undo them, give the plan file to restore-from", plural(done, "version"))
}

// deferredOutcome says what a run did in a deferred package, as a clause
// without a final period.
func deferredOutcome(restore bool) string {
	if restore {
		return "nothing in this package was restored; run the restore again"
	}
	return "nothing in this package was deleted; the next run lists it again"
}

// pick is one when n is 1, else many.
func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// capitalize upper-cases the first letter of an ASCII sentence.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
