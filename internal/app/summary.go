package app

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pkgretention/retention/policy"
)

// summaryLimits cap the step summary well under GitHub's 1 MiB per step.
type summaryLimits struct {
	// RowsPerPackage is the most version rows shown for one package.
	RowsPerPackage int
	// Bytes is the size the summary stays under; past it, packages are
	// listed by their counts only, then only counted.
	Bytes int
}

// defaultSummaryLimits leave half of GitHub's 1 MiB per-step limit unused.
var defaultSummaryLimits = summaryLimits{RowsPerPackage: 200, Bytes: 512 << 10}

// renderSummary renders the step summary of a run (Markdown): totals first,
// then a table per package. restore says the plan is a restore run's
// (restore-from). planPath, when known, is named in the notes about what
// was left out.
func renderSummary(p *policy.Plan, restore bool, planPath string, lim summaryLimits) string {
	var b strings.Builder
	t := countTotals(p, restore)

	switch {
	case restore && p.DryRun:
		b.WriteString("## Package retention: restore (dry run)\n\nNothing was restored: the counts say what a real run would do.\n\n")
	case restore:
		b.WriteString("## Package retention: restore\n\n")
	case p.DryRun:
		b.WriteString("## Package retention (dry run)\n\nNothing was deleted: the counts say what a real run would do.\n\n")
	default:
		b.WriteString("## Package retention\n\n")
	}
	if restore {
		restored := "restored"
		if p.DryRun {
			restored = "would restore"
		}
		fmt.Fprintf(&b, "| %s | skipped | failed | deferred |\n|---:|---:|---:|---:|\n", restored)
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n\n", thousands(t.Restored), thousands(t.RestoreSkipped), thousands(t.Failed), thousands(t.Deferred))
	} else {
		deleted := "deleted"
		if p.DryRun {
			deleted = "to delete"
		}
		fmt.Fprintf(&b, "| %s | kept | protected | failed | deferred |\n|---:|---:|---:|---:|---:|\n", deleted)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n\n", thousands(t.Deleted), thousands(t.Kept), thousands(t.Protected), thousands(t.Failed), thousands(t.Deferred))
	}
	if t.DeferredPackages > 0 {
		it := pick(t.DeferredPackages, "it", "them")
		fmt.Fprintf(&b, "%s deferred to the next run: GitHub's rate limits stopped %s listing, so nothing in %s was decided or deleted; the next run lists %s again.\n\n",
			plural(t.DeferredPackages, "package"), pick(t.DeferredPackages, "its", "their"), it, it)
	}
	if t.Repaired > 0 {
		verb, left := "restored", pick(t.BrokenLeft, "1 image is", thousands(t.BrokenLeft)+" images are")+" still broken"
		if p.DryRun {
			verb, left = "would restore", pick(t.BrokenLeft, "1 image", thousands(t.BrokenLeft)+" images")+" would still be broken"
		}
		fmt.Fprintf(&b, "**Repair** %s %s that broken images missed (not deletions; once restored, versions of the plan like any other). %s: see \"Broken images\" below.\n\n",
			verb, plural(t.Repaired, "platform manifest"), left)
	}
	if len(p.Packages) == 0 {
		b.WriteString("No package matched the policy.\n")
		return b.String()
	}

	seeFile := "see the plan file"
	if planPath != "" {
		seeFile = "see the plan file (`plan` output)"
	}
	basis := ageBasis(p)
	for i, pkg := range p.Packages {
		section := renderPackageSection(pkg, p, restore, basis, lim.RowsPerPackage, seeFile)
		if b.Len()+len(section) > lim.Bytes {
			short := fmt.Sprintf("### %s\n\n%s. Table left out to keep the summary small: %s.\n\n", cell(packageTitle(pkg)), decisionCounts(pkg, restore), seeFile)
			if b.Len()+len(short) > lim.Bytes {
				left := len(p.Packages) - i
				fmt.Fprintf(&b, "… and %s more %s: %s.\n", thousands(left), pluralNoun(left, "package"), seeFile)
				break
			}
			section = short
		}
		b.WriteString(section)
	}
	return b.String()
}

// renderPackageSection renders one package: title, counts, error, table.
func renderPackageSection(pkg policy.PackagePlan, p *policy.Plan, restore bool, basis policy.AgeBasis, maxRows int, seeFile string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n%s.\n\n", cell(packageTitle(pkg)), capitalize(decisionCounts(pkg, restore)))
	switch {
	case packageDeferred(pkg):
		fmt.Fprintf(&b, "**Deferred**: %s. %s.\n\n", cell(packageError(pkg)), capitalize(deferredOutcome(restore)))
	case packageFailed(pkg):
		fmt.Fprintf(&b, "**Failed**: %s. %s.\n\n", cell(packageError(pkg)), capitalize(cell(failureOutcome(pkg, restore))))
	}
	b.WriteString(brokenSection(pkg))
	if len(pkg.Versions) == 0 {
		return b.String()
	}
	shown := pickRows(pkg.Versions, maxRows)
	b.WriteString("| version | tags | age | decision | reason | result |\n|---|---|---|---|---|---|\n")
	for i, v := range pkg.Versions {
		if !shown[i] {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n",
			cell(versionLabel(v)), cell(tagsLabel(v)), ageLabel(v, basis, p.StartedAt),
			cell(string(v.Decision)), cell(short(v.Reason)), cell(resultLabel(v)))
	}
	if left := len(pkg.Versions) - len(shown); left > 0 {
		fmt.Fprintf(&b, "\n… and %s more %s: %s.\n", thousands(left), pluralNoun(left, "version"), seeFile)
	}
	b.WriteString("\n")
	return b.String()
}

// pickRows chooses which versions a capped table shows: all of them when
// they fit. Else failures first; then, on a quarter of the rows, versions
// a rule kept on purpose (keep-latest, keep-tags, keep-semver), so that a
// table of thousands of deletions still shows what was spared and why;
// then deletions, protected and deferred versions; then the other kept
// versions with what rows are left; each newest first. The table keeps
// plan order.
func pickRows(vs []policy.VersionPlan, maxRows int) map[int]bool {
	shown := make(map[int]bool, min(len(vs), maxRows))
	if len(vs) <= maxRows {
		for i := range vs {
			shown[i] = true
		}
		return shown
	}
	const (
		failed = iota
		acted
		onPurpose
		other
	)
	rank := func(v policy.VersionPlan) int {
		switch {
		case strings.HasPrefix(v.Result, policy.ResultFailedPrefix):
			return failed
		case v.Decision == policy.Delete, v.Decision == policy.Protected, v.Result == policy.ResultDeferred,
			v.Reason == policy.ReasonInUseSinceListing: // planned, then spared by the run
			return acted
		case keptOnPurpose(v.Reason):
			return onPurpose
		default:
			return other
		}
	}
	byRank := make([][]int, other+1)
	for i := range vs {
		r := rank(vs[i])
		byRank[r] = append(byRank[r], i)
	}
	take := func(idx []int, n int) []int {
		for len(idx) > 0 && n > 0 && len(shown) < maxRows {
			shown[idx[0]] = true
			idx, n = idx[1:], n-1
		}
		return idx
	}
	take(byRank[failed], maxRows)
	byRank[onPurpose] = take(byRank[onPurpose], max(maxRows/4, 1))
	take(byRank[acted], maxRows)
	take(byRank[onPurpose], maxRows)
	take(byRank[other], maxRows)
	return shown
}

// keptOnPurpose reports whether a reason is a rule's choice to keep
// (keep-latest, keep-tags or keep-semver) or the build-in-flight guard's.
func keptOnPurpose(reason string) bool {
	return reason == policy.ReasonKeepLatest || reason == policy.ReasonBuildInFlight ||
		strings.HasPrefix(reason, policy.ReasonKeepTagsPrefix) || strings.HasPrefix(reason, policy.ReasonKeepSemverPrefix)
}

// pluralNoun is noun or noun+"s".
func pluralNoun(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// cellEscaper makes a string safe inside a Markdown table cell: pipes and
// backticks escaped, HTML brackets neutralised, line breaks flattened.
var cellEscaper = strings.NewReplacer(
	`\`, `\\`,
	"|", `\|`,
	"`", "\\`",
	"<", "&lt;",
	">", "&gt;",
	"\r\n", " ",
	"\n", " ",
	"\r", " ",
)

// cell escapes a Markdown table cell.
func cell(s string) string { return cellEscaper.Replace(s) }

// brokenSection renders a package's broken images: tags, digest, the
// children missing, since when (where the deleted versions were listed)
// and what was done or is to be done. It is "" when the package has none.
func brokenSection(pkg policy.PackagePlan) string {
	if len(pkg.Broken) == 0 {
		return ""
	}
	var b strings.Builder
	n := len(pkg.Broken)
	fmt.Fprintf(&b, "**Broken images**: %s platform manifests were deleted before this run, so %s did not pull. Not a failure of this run.\n\n",
		pick(n, "this image's", "these images'"), pick(n, "it", "they"))
	b.WriteString("| tags | digest | missing | since | what to do |\n|---|---|---|---|---|\n")
	decided := map[int64]policy.Decision{}
	for i := range pkg.Versions {
		decided[pkg.Versions[i].ID] = pkg.Versions[i].Decision
	}
	for _, im := range pkg.Broken {
		var missing, since []string
		for _, m := range im.Missing {
			missing = append(missing, short(m.Digest))
			if m.DeletedAt != nil {
				since = append(since, m.DeletedAt.UTC().Format("2006-01-02"))
			}
		}
		if len(since) == 0 {
			since = []string{"unknown"}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(strings.Join(im.Tags, ", ")), cell(short(im.Digest)),
			cell(strings.Join(missing, ", ")), cell(strings.Join(since, ", ")), cell(repairAdvice(im, decided[im.ID])))
	}
	b.WriteString("\n")
	return b.String()
}

// repairAdvice says what a repair did for a broken image, or what to do;
// decision is the plan's for the image.
func repairAdvice(im policy.BrokenImage, decision policy.Decision) string {
	var restored, would, lost, refused, deferred, notNeeded int
	for _, m := range im.Missing {
		switch {
		case m.Repair == policy.RepairNotNeeded:
			notNeeded++
		case m.Repair == policy.RepairRestored:
			restored++
		case m.Repair == policy.RepairWouldRestore:
			would++
		case m.Repair == policy.RepairNotRestorable:
			lost++
		case m.Repair == policy.RepairDeferred:
			deferred++
		case strings.HasPrefix(m.Repair, policy.RepairRefusedPrefix):
			refused++
		}
	}
	const rebuild = "push the tag again (rebuild), or delete the broken tag"
	var parts []string
	if restored > 0 {
		parts = append(parts, fmt.Sprintf("restored %d", restored))
	}
	if would > 0 {
		parts = append(parts, fmt.Sprintf("repair would restore %d", would))
	}
	if deferred > 0 {
		parts = append(parts, fmt.Sprintf("%d left for the next run (rate limit, or the run was cancelled)", deferred))
	}
	if refused > 0 {
		parts = append(parts, fmt.Sprintf("%d restore refused by GitHub", refused))
	}
	if lost > 0 {
		parts = append(parts, fmt.Sprintf("%d not restorable (deleted over 30 days ago, or never in this package)", lost))
	}
	switch {
	case notNeeded > 0 && decision == policy.Delete:
		return "not restored: the policy deletes this image"
	case notNeeded > 0:
		return "not restored: the policy deletes this image in a later run (max-deletions)"
	case im.Healed():
		return "healed: restored " + strconv.Itoa(restored)
	case lost > 0 || refused > 0:
		return strings.Join(parts, "; ") + ": " + rebuild
	case len(parts) == 0:
		return "repair: true restores it within 30 days of the deletion; else " + rebuild
	}
	return strings.Join(parts, "; ")
}
