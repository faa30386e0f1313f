package app

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pkgretention/retention/policy"
)

// writeTable prints the plan for a terminal: per package a table of every
// version (version, tags, age, decision, reason, result), then the totals.
// restore says the plan is a restore run's (restore-from).
func writeTable(w io.Writer, p *policy.Plan, restore bool) error {
	bw := &errWriter{w: w}
	basis := ageBasis(p)
	if len(p.Packages) == 0 {
		fmt.Fprintln(bw, "No package matched the policy.")
	}
	for _, pkg := range p.Packages {
		fmt.Fprintf(bw, "%s: %s\n", packageTitle(pkg), decisionCounts(pkg, restore))
		switch {
		case packageDeferred(pkg):
			fmt.Fprintf(bw, "  DEFERRED: %s; %s\n", oneLine(packageError(pkg)), deferredOutcome(restore))
		case packageFailed(pkg):
			fmt.Fprintf(bw, "  FAILED: %s; %s\n", oneLine(packageError(pkg)), oneLine(failureOutcome(pkg, restore)))
		}
		if len(pkg.Versions) > 0 {
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  VERSION\tTAGS\tAGE\tDECISION\tREASON\tRESULT")
			for _, v := range pkg.Versions {
				tags := tagsLabel(v)
				if tags == "" {
					tags = "-"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n",
					oneLine(versionLabel(v)), oneLine(tags), ageLabel(v, basis, p.StartedAt),
					v.Decision, oneLine(short(v.Reason)), oneLine(resultLabel(v)))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if err := writeBrokenTable(bw, pkg); err != nil {
			return err
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, totalsLine(p, restore))
	return bw.err
}

// writeBrokenTable prints a package's broken images, one line per missing
// child: the image's tags and digest, the child, when it was deleted
// (known when repair listed the deleted versions) and what repair did or
// would do with it ("-" without repair).
func writeBrokenTable(w io.Writer, pkg policy.PackagePlan) error {
	if len(pkg.Broken) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n  Broken images (platform manifests deleted before this run, so they did not pull): %s\n", thousands(len(pkg.Broken)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TAGS\tIMAGE\tMISSING\tDELETED\tREPAIR")
	for _, im := range pkg.Broken {
		tags := strings.Join(im.Tags, ",")
		if tags == "" {
			tags = "-"
		}
		for _, m := range im.Missing {
			deleted, repair := "unknown", m.Repair
			if m.DeletedAt != nil {
				deleted = m.DeletedAt.UTC().Format("2006-01-02")
			}
			if repair == "" {
				repair = "-"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", oneLine(tags), short(im.Digest), short(m.Digest), deleted, oneLine(repair))
		}
	}
	return tw.Flush()
}

// totalsLine is the one-line totals of a run, for logs and terminals.
// restore says the plan is a restore run's (restore-from).
func totalsLine(p *policy.Plan, restore bool) string {
	t := countTotals(p, restore)
	if restore {
		if p.DryRun {
			return fmt.Sprintf("Restore (dry run, nothing restored): would restore %s, %s skipped, %s failed, %s deferred.",
				thousands(t.Restored), thousands(t.RestoreSkipped), thousands(t.Failed), thousands(t.Deferred))
		}
		return fmt.Sprintf("Restore: %s restored, %s skipped, %s failed, %s deferred.",
			thousands(t.Restored), thousands(t.RestoreSkipped), thousands(t.Failed), thousands(t.Deferred))
	}
	deleted := "deleted"
	prefix := "Totals"
	if p.DryRun {
		deleted = "to delete"
		prefix = "Totals (dry run, nothing deleted)"
	}
	line := fmt.Sprintf("%s: %s %s, %s kept, %s protected, %s failed, %s deferred", prefix,
		thousands(t.Deleted), deleted, thousands(t.Kept), thousands(t.Protected), thousands(t.Failed), thousands(t.Deferred))
	if t.DeferredPackages > 0 {
		line += fmt.Sprintf("; %s deferred to the next run", plural(t.DeferredPackages, "package"))
	}
	if t.Repaired > 0 {
		verb := "restored"
		if p.DryRun {
			verb = "would restore"
		}
		line += fmt.Sprintf("; repair: %s %s", verb, thousands(t.Repaired))
	}
	if t.Broken > 0 {
		line += fmt.Sprintf("; %s, %s left broken", pick(t.Broken, "1 broken image", thousands(t.Broken)+" broken images"), thousands(t.BrokenLeft))
	}
	return line + "."
}

// oneLine flattens line breaks and tabs, which would break the table.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// errWriter remembers the first write error so that a run of Fprintf
// calls can be checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
