package app

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/golden"
	"github.com/pkgretention/retention/policy"
)

// checkGolden compares got with the golden file testdata/name, or rewrites it
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), []byte(got))
}

// digest makes a sha256 digest from a seed.
func digest(seed string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(seed)))
}

// samplePlan is a real run's plan over a container package with a
// multi-arch index, its platform manifests and a signature, an npm package,
// a package whose listing failed and one the rate limits left for the next
// run.
func samplePlan() *policy.Plan {
	start := time.Date(2026, 11, 20, 3, 17, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return start.Add(-d) }
	day := 24 * time.Hour
	idx := digest("index-v2")
	old := digest("index-v1")
	return &policy.Plan{
		StartedAt: start,
		Policy:    &policy.Policy{Rules: []policy.Rule{{AgeBasis: policy.Updated}}},
		Packages: []policy.PackagePlan{
			{
				Owner: "acme", Type: policy.Container, Name: "app", Visibility: "public", Complete: true,
				Versions: []policy.VersionPlan{
					{ID: 9, Name: idx, Tags: []string{"v2.0.0", "latest"}, CreatedAt: ago(2 * day), UpdatedAt: ago(2 * day), Decision: policy.Keep, Reason: policy.ReasonKeepLatest},
					{ID: 8, Name: digest("amd64-v2"), CreatedAt: ago(2 * day), UpdatedAt: ago(2 * day), Decision: policy.Keep, Reason: "child-of:" + idx, Parents: []string{idx}},
					{ID: 7, Name: digest("sig-v2"), Tags: []string{"sha256-" + strings.TrimPrefix(idx, "sha256:") + ".sig"}, CreatedAt: ago(2 * day), UpdatedAt: ago(2 * day), Decision: policy.Keep, Reason: "child-of:" + idx, Parents: []string{idx}},
					{ID: 6, Name: old, Tags: []string{"pr-12|x"}, CreatedAt: ago(40 * day), UpdatedAt: ago(40 * day), Decision: policy.Delete, Reason: policy.ReasonSelected, Result: policy.ResultDeleted},
					{ID: 5, Name: digest("amd64-v1"), CreatedAt: ago(40 * day), UpdatedAt: ago(40 * day), Decision: policy.Delete, Reason: "child-of:" + old, Parents: []string{old}, Result: policy.ResultAlreadyGone},
					{ID: 4, Name: digest("big"), Tags: []string{"v1.0.0"}, CreatedAt: ago(90 * day), UpdatedAt: ago(90 * day), Decision: policy.Delete, Reason: policy.ReasonSelected, Result: policy.ResultProtected},
					{ID: 3, Name: digest("leftover"), CreatedAt: ago(3 * time.Hour), UpdatedAt: ago(3 * time.Hour), Decision: policy.Keep, Reason: policy.ReasonYoungerThan},
					{ID: 2, Name: digest("oldest"), CreatedAt: ago(120 * day), UpdatedAt: ago(120 * day), Decision: policy.Delete, Reason: policy.ReasonSelected, Result: "failed:500 `Internal` <error>\nretried 3 times"},
				},
			},
			{
				Owner: "acme", Type: policy.Npm, Name: "widgets", Visibility: "private", Complete: true,
				Versions: []policy.VersionPlan{
					{ID: 22, Name: "2.1.0", CreatedAt: ago(5 * day), UpdatedAt: ago(5 * day), Decision: policy.Keep, Reason: "keep-semver:>=2.0.0"},
					{ID: 21, Name: "2.1.0-rc.1", CreatedAt: ago(35 * day), UpdatedAt: ago(35 * day), Decision: policy.Keep, Reason: policy.ReasonMaxDeletions},
					{ID: 21, Name: "2.0.0-rc.1", CreatedAt: ago(45 * day), UpdatedAt: ago(45 * day), Decision: policy.Delete, Reason: policy.ReasonSelected, Result: policy.ResultDeferred},
					{ID: 20, Name: "1.0.0", CreatedAt: ago(400 * day), UpdatedAt: ago(400 * day), Decision: policy.Protected, Reason: policy.ReasonLastVersion},
				},
			},
			{
				Owner: "acme", Type: policy.Container, Name: "broken", Complete: false,
				Error: "list versions: 502 Bad Gateway after 5 tries", Versions: []policy.VersionPlan{},
			},
			{
				Owner: "acme", Type: policy.Npm, Name: "later", Complete: false, Deferred: true,
				Error: "left for the next run, nothing deleted: GitHub's rate limit stopped the listing: secondary rate limit: retry after 20m0s", Versions: []policy.VersionPlan{},
			},
		},
	}
}

func TestSummaryGolden(t *testing.T) {
	p := samplePlan()
	checkGolden(t, "summary.md", renderSummary(p, false, "/tmp/plan.json", defaultSummaryLimits))

	dry := samplePlan()
	dry.DryRun = true
	for i := range dry.Packages {
		for j := range dry.Packages[i].Versions {
			dry.Packages[i].Versions[j].Result = ""
		}
	}
	checkGolden(t, "summary-dry-run.md", renderSummary(dry, false, "/tmp/plan.json", defaultSummaryLimits))
}

func TestTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := writeTable(&buf, samplePlan(), false); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "table.txt", buf.String())
}

// bigPlan has packages packages of n versions each, the oldest half
// planned for deletion.
func bigPlan(packages, n int) *policy.Plan {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	p := &policy.Plan{StartedAt: start}
	for k := 0; k < packages; k++ {
		pkg := policy.PackagePlan{Owner: "acme", Type: policy.Container, Name: fmt.Sprintf("app-%03d", k), Complete: true}
		for i := 0; i < n; i++ {
			v := policy.VersionPlan{
				ID: int64(n - i), Name: digest(fmt.Sprintf("%d-%d", k, i)), Tags: []string{fmt.Sprintf("build-%d", n-i)},
				UpdatedAt: start.Add(-time.Duration(i) * time.Hour), Decision: policy.Keep, Reason: policy.ReasonKeepLatest,
			}
			if i >= n/2 {
				v.Decision, v.Reason, v.Result = policy.Delete, policy.ReasonSelected, policy.ResultDeleted
			}
			pkg.Versions = append(pkg.Versions, v)
		}
		p.Packages = append(p.Packages, pkg)
	}
	return p
}

func TestSummaryCapped(t *testing.T) {
	t.Run("rows per package", func(t *testing.T) {
		p := bigPlan(1, 10)
		p.Packages[0].Versions[1].Result = "failed:boom" // a kept row that failed is still shown first
		s := renderSummary(p, false, "", summaryLimits{RowsPerPackage: 4, Bytes: 1 << 20})
		checkGolden(t, "summary-capped.md", s)
		if got := strings.Count(s, "\n| sha256:"); got != 4 {
			t.Errorf("%d version rows, want 4", got)
		}
		if !strings.Contains(s, "… and 6 more versions: see the plan file.") {
			t.Errorf("no note of the 6 versions left out:\n%s", s)
		}
		// Beside the failure and the deletions, a version a rule kept on
		// purpose is shown, with its reason.
		if !strings.Contains(s, "| keep | keep-latest | - |") {
			t.Errorf("no version kept on purpose is shown:\n%s", s)
		}
	})
	t.Run("kept on purpose among thousands of deletions", func(t *testing.T) {
		p := bigPlan(1, 4000) // 2,000 kept by keep-latest, 2,000 deleted
		vs := p.Packages[0].Versions
		for i := range vs[:1990] {
			vs[i].Reason = "not-selected"
		}
		vs[1990].Reason = "keep-tags:v*"
		vs[1991].Reason = "keep-semver:>=1.0.0"
		s := renderSummary(p, false, "", defaultSummaryLimits)
		if len(s) > defaultSummaryLimits.Bytes {
			t.Fatalf("summary is %d bytes, over the %d budget", len(s), defaultSummaryLimits.Bytes)
		}
		for _, want := range []string{"| keep | keep-tags:v* | - |", "| keep | keep-semver:&gt;=1.0.0 | - |", "| keep | keep-latest | - |", "| delete | selected | deleted |", "… and 3,800 more versions: see the plan file."} {
			if !strings.Contains(s, want) {
				t.Errorf("the summary lacks %q", want)
			}
		}
		if strings.Contains(s, "not-selected") {
			t.Errorf("versions no rule chose to keep crowd out the deletions")
		}
		if got := strings.Count(s, "| keep | keep-"); got != 10 {
			t.Errorf("%d rows kept on purpose, want the 10 there are", got)
		}
	})
	t.Run("byte budget", func(t *testing.T) {
		// 60 packages of 500 versions: about 3 MiB uncapped.
		p := bigPlan(60, 500)
		s := renderSummary(p, false, "/tmp/plan.json", defaultSummaryLimits)
		if len(s) > defaultSummaryLimits.Bytes {
			t.Errorf("summary is %d bytes, over the %d budget", len(s), defaultSummaryLimits.Bytes)
		}
		if len(s) < defaultSummaryLimits.Bytes/2 {
			t.Errorf("summary is %d bytes: the budget is not used", len(s))
		}
		if !strings.Contains(s, "| 15,000 | 15,000 | 0 | 0 | 0 |") {
			t.Errorf("totals missing or wrong: %.300s", s)
		}
		if !strings.Contains(s, "Table left out to keep the summary small") {
			t.Errorf("no package is reduced to its counts")
		}
	})
	t.Run("packages left out", func(t *testing.T) {
		lim := summaryLimits{RowsPerPackage: 200, Bytes: 16 << 10}
		s := renderSummary(bigPlan(300, 20), false, "/tmp/plan.json", lim)
		if len(s) > lim.Bytes {
			t.Errorf("summary is %d bytes, over the %d budget", len(s), lim.Bytes)
		}
		m := regexp.MustCompile(`… and (\d+) more packages: see the plan file \(` + "`plan`" + ` output\)\.\n$`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no closing note of the packages left out: ...%s", s[len(s)-200:])
		}
		shown := strings.Count(s, "\n### ")
		if left, _ := strconv.Atoi(m[1]); shown+left != 300 {
			t.Errorf("%d packages shown + %s left out != 300", shown, m[1])
		}
	})
}

func TestCellEscapes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"pipe", "a|b", `a\|b`},
		{"backtick", "a`b", "a\\`b"},
		{"html", "<b>", "&lt;b&gt;"},
		{"newline", "a\nb\r\nc", "a b c"},
		{"backslash", `a\|`, `a\\\|`},
		{"plain", "v1.2.3", "v1.2.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cell(tc.in); got != tc.want {
				t.Errorf("cell(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAgeLabel(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		age  time.Duration
		want string
	}{
		{"minutes", 59 * time.Minute, "59m"},
		{"hours", 47 * time.Hour, "47h"},
		{"days", 49 * time.Hour, "2d"},
		{"future", -time.Hour, "0m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := policy.VersionPlan{UpdatedAt: now.Add(-tc.age), CreatedAt: now}
			if got := ageLabel(v, policy.Updated, now); got != tc.want {
				t.Errorf("ageLabel(%v) = %q, want %q", tc.age, got, tc.want)
			}
		})
	}
	v := policy.VersionPlan{UpdatedAt: now, CreatedAt: now.Add(-72 * time.Hour)}
	if got := ageLabel(v, policy.Created, now); got != "3d" {
		t.Errorf("age by created_at = %q, want 3d", got)
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

// restorePlan is a restore run's plan (restore-from): the versions an
// earlier run deleted, with the results of the restore; dry clears them as
// a dry run leaves them.
func restorePlan(dry bool) *policy.Plan {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	idx := digest("index-v1")
	v := func(id int64, name string, age time.Duration, result string, parents ...string) policy.VersionPlan {
		if dry && result != policy.ResultRestoreSkipped {
			result = ""
		}
		return policy.VersionPlan{ID: id, Name: name, CreatedAt: start.Add(-age), UpdatedAt: start.Add(-age),
			Decision: policy.Delete, Reason: policy.ReasonSelected, Parents: parents, Result: result}
	}
	return &policy.Plan{
		StartedAt: start,
		DryRun:    dry,
		Policy:    &policy.Policy{Rules: []policy.Rule{{AgeBasis: policy.Updated}}},
		Packages: []policy.PackagePlan{
			{
				Owner: "acme", Type: policy.Container, Name: "app", Visibility: "public", Complete: true,
				Versions: []policy.VersionPlan{
					v(6, idx, 40*day, policy.ResultRestored),
					v(5, digest("amd64-v1"), 40*day, policy.ResultRestored, idx),
					v(4, digest("arm64-v1"), 40*day, policy.ResultRestoreSkipped, idx),
				},
			},
			{
				Owner: "acme", Type: policy.Npm, Name: "widgets", Visibility: "private", Complete: true,
				Versions: []policy.VersionPlan{
					v(21, "2.0.0-rc.1", 45*day, policy.ResultFailedPrefix+"422 the version is outside the 30-day window"),
					v(20, "1.9.0", 50*day, policy.ResultDeferred),
				},
			},
		},
	}
}

func TestRestoreSummaryGolden(t *testing.T) {
	checkGolden(t, "summary-restore.md", renderSummary(restorePlan(false), true, "/tmp/plan.json", defaultSummaryLimits))
	checkGolden(t, "summary-restore-dry-run.md", renderSummary(restorePlan(true), true, "/tmp/plan.json", defaultSummaryLimits))
	var buf bytes.Buffer
	if err := writeTable(&buf, restorePlan(true), true); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "table-restore-dry-run.txt", buf.String())
}

func TestCountTotalsRestore(t *testing.T) {
	allDeferred := restorePlan(false)
	for i := range allDeferred.Packages {
		for j := range allDeferred.Packages[i].Versions {
			allDeferred.Packages[i].Versions[j].Result = policy.ResultDeferred
		}
	}
	for _, tc := range []struct {
		name  string
		plan  *policy.Plan
		want  totals
		title string
		line  string
	}{
		{
			"real", restorePlan(false),
			totals{Restored: 2, RestoreSkipped: 1, Failed: 1, Deferred: 1},
			"## Package retention: restore\n",
			"Restore: 2 restored, 1 skipped, 1 failed, 1 deferred.",
		},
		{
			"dry run", restorePlan(true),
			totals{Restored: 4, RestoreSkipped: 1},
			"## Package retention: restore (dry run)\n",
			"Restore (dry run, nothing restored): would restore 4, 1 skipped, 0 failed, 0 deferred.",
		},
		{
			// Nothing restored nor skipped: still a restore, not a cleanup.
			"all deferred", allDeferred,
			totals{Deferred: 5},
			"## Package retention: restore\n",
			"Restore: 0 restored, 0 skipped, 0 failed, 5 deferred.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := countTotals(tc.plan, true); got != tc.want {
				t.Errorf("countTotals = %+v, want %+v", got, tc.want)
			}
			if s := renderSummary(tc.plan, true, "", defaultSummaryLimits); !strings.HasPrefix(s, tc.title) || strings.Contains(s, "| kept | protected |") {
				t.Errorf("summary does not open with %q or has the totals of a cleanup:\n%s", tc.title, s)
			}
			if got := totalsLine(tc.plan, true); got != tc.line {
				t.Errorf("totalsLine = %q, want %q", got, tc.line)
			}
		})
	}
}

// A package whose post-run check failed is complete: its deletions
// happened and the summary must say they stand, not that nothing was
// deleted; it still fails the run.
func TestFailedPackageSaysWhatWasDone(t *testing.T) {
	start := time.Date(2026, 11, 20, 3, 17, 0, 0, time.UTC)
	version := func(id int64, decision policy.Decision, result string) policy.VersionPlan {
		return policy.VersionPlan{ID: id, Name: digest(strconv.FormatInt(id, 10)), UpdatedAt: start.Add(-40 * 24 * time.Hour),
			Decision: decision, Reason: policy.ReasonSelected, Result: result}
	}
	checked := []policy.VersionPlan{
		version(3, policy.Keep, ""),
		version(2, policy.Delete, policy.ResultDeleted),
		version(1, policy.Delete, policy.ResultAlreadyGone),
	}
	const checkErr = "post-run check failed: tag v1.2.0 does not resolve"
	for _, tc := range []struct {
		name        string
		pkg         policy.PackagePlan
		restore     bool
		summary     string // the failure line of the summary
		table       string // the failure line of the table
		deletedText bool   // the summary may say nothing was deleted
	}{
		{
			name:    "post-run check failed after deletions",
			pkg:     policy.PackagePlan{Complete: true, Error: checkErr, Versions: checked},
			summary: "**Failed**: post-run check failed: tag v1.2.0 does not resolve. The deletions of this run stand: 2 versions deleted in this package, see the results; to undo them, give the plan file to restore-from.\n",
			table:   "  FAILED: post-run check failed: tag v1.2.0 does not resolve; the deletions of this run stand: 2 versions deleted in this package, see the results; to undo them, give the plan file to restore-from\n",
		},
		{
			name:        "complete with an error, nothing deleted",
			pkg:         policy.PackagePlan{Complete: true, Error: checkErr, Versions: []policy.VersionPlan{version(3, policy.Keep, ""), version(2, policy.Delete, "failed:500")}},
			summary:     "**Failed**: post-run check failed: tag v1.2.0 does not resolve. Nothing in this package was deleted.\n",
			table:       "  FAILED: post-run check failed: tag v1.2.0 does not resolve; nothing in this package was deleted\n",
			deletedText: true,
		},
		{
			name:        "listing incomplete",
			pkg:         policy.PackagePlan{Error: "list versions: 502 Bad Gateway after 5 tries"},
			summary:     "**Failed**: list versions: 502 Bad Gateway after 5 tries. Nothing in this package was deleted.\n",
			table:       "  FAILED: list versions: 502 Bad Gateway after 5 tries; nothing in this package was deleted\n",
			deletedText: true,
		},
		{
			name:    "restore, owner not found",
			pkg:     policy.PackagePlan{Error: "owner \"acme\" not found", Versions: []policy.VersionPlan{version(2, policy.Delete, "failed:owner \"acme\" not found")}},
			restore: true,
			summary: "**Failed**: owner \"acme\" not found. Nothing in this package was restored.\n",
			table:   "  FAILED: owner \"acme\" not found; nothing in this package was restored\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.pkg.Owner, tc.pkg.Type, tc.pkg.Name = "acme", policy.Container, "app"
			p := &policy.Plan{StartedAt: start, Packages: []policy.PackagePlan{tc.pkg}}
			s := renderSummary(p, tc.restore, "", defaultSummaryLimits)
			if !strings.Contains(s, "\n"+tc.summary) {
				t.Errorf("summary lacks %q:\n%s", tc.summary, s)
			}
			if !tc.deletedText && strings.Contains(s, "Nothing in this package was deleted") {
				t.Errorf("summary says nothing was deleted:\n%s", s)
			}
			var buf bytes.Buffer
			if err := writeTable(&buf, p, tc.restore); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "\n"+tc.table) {
				t.Errorf("table lacks %q:\n%s", tc.table, buf.String())
			}
			if !planFailed(p) {
				t.Error("planFailed = false: a failed package must fail the run")
			}
			if got := countTotals(p, tc.restore).FailedPackages; got != 1 {
				t.Errorf("FailedPackages = %d, want 1", got)
			}
		})
	}
}

// A package GitHub's rate limits kept from being listed is left for the
// next run: it is shown and warned about, but it is no failure.
func TestDeferredPackageIsNoFailure(t *testing.T) {
	start := time.Date(2026, 11, 20, 3, 17, 0, 0, time.UTC)
	const why = "left for the next run: GitHub's rate limit stopped the run: list packages: primary rate limit spent"
	deferred := func(name string) policy.PackagePlan {
		return policy.PackagePlan{Owner: "acme", Type: policy.Npm, Name: name, Deferred: true, Error: why}
	}
	done := policy.PackagePlan{Owner: "acme", Type: policy.Npm, Name: "done", Complete: true, Versions: []policy.VersionPlan{
		{ID: 2, Name: "2.0.0", UpdatedAt: start, Decision: policy.Keep, Reason: policy.ReasonKeepLatest},
		{ID: 1, Name: "1.0.0", UpdatedAt: start, Decision: policy.Delete, Reason: policy.ReasonSelected, Result: policy.ResultDeleted},
	}}
	broken := policy.PackagePlan{Owner: "acme", Type: policy.Npm, Name: "broken", Error: "list versions: 502 Bad Gateway"}
	for _, tc := range []struct {
		name     string
		packages []policy.PackagePlan
		failed   bool
		want     totals
		line     string
		note     string
	}{
		{
			name:     "one deferred",
			packages: []policy.PackagePlan{done, deferred("later")},
			want:     totals{Deleted: 1, Kept: 1, DeferredPackages: 1},
			line:     "Totals: 1 deleted, 1 kept, 0 protected, 0 failed, 0 deferred; 1 package deferred to the next run.",
			note:     "1 package deferred to the next run (GitHub's rate limits): npm acme/later",
		},
		{
			name:     "many deferred",
			packages: []policy.PackagePlan{deferred("a"), deferred("b"), deferred("c"), deferred("d"), deferred("e"), deferred("f"), deferred("g")},
			want:     totals{DeferredPackages: 7},
			line:     "Totals: 0 deleted, 0 kept, 0 protected, 0 failed, 0 deferred; 7 packages deferred to the next run.",
			note:     "7 packages deferred to the next run (GitHub's rate limits): npm acme/a, npm acme/b, npm acme/c, npm acme/d, npm acme/e and 2 more",
		},
		{
			name:     "deferred and failed",
			packages: []policy.PackagePlan{deferred("later"), broken},
			failed:   true,
			want:     totals{Failed: 1, FailedPackages: 1, DeferredPackages: 1},
			line:     "Totals: 0 deleted, 0 kept, 0 protected, 1 failed, 0 deferred; 1 package deferred to the next run.",
			note:     "1 package deferred to the next run (GitHub's rate limits): npm acme/later",
		},
		{
			// Deferred marks incomplete packages only: a complete one
			// with an error failed.
			name:     "complete with deferred set",
			packages: []policy.PackagePlan{{Owner: "acme", Type: policy.Npm, Name: "odd", Complete: true, Deferred: true, Error: "post-run check failed: x"}},
			failed:   true,
			want:     totals{Failed: 1, FailedPackages: 1},
			line:     "Totals: 0 deleted, 0 kept, 0 protected, 1 failed, 0 deferred.",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &policy.Plan{StartedAt: start, Packages: tc.packages}
			if got := planFailed(p); got != tc.failed {
				t.Errorf("planFailed = %v, want %v", got, tc.failed)
			}
			if got := countTotals(p, false); got != tc.want {
				t.Errorf("countTotals = %+v, want %+v", got, tc.want)
			}
			if got := totalsLine(p, false); got != tc.line {
				t.Errorf("totalsLine = %q, want %q", got, tc.line)
			}
			if got := deferredNote(p); got != tc.note {
				t.Errorf("deferredNote = %q, want %q", got, tc.note)
			}
			s := renderSummary(p, false, "", defaultSummaryLimits)
			var buf bytes.Buffer
			if err := writeTable(&buf, p, false); err != nil {
				t.Fatal(err)
			}
			deferredShown := strings.Count(s, "**Deferred**: "+why+". Nothing in this package was deleted; the next run lists it again.\n")
			tableShown := strings.Count(buf.String(), "  DEFERRED: "+why+"; nothing in this package was deleted; the next run lists it again\n")
			if deferredShown != tc.want.DeferredPackages || tableShown != tc.want.DeferredPackages {
				t.Errorf("%d deferred packages shown in the summary, %d in the table, want %d:\n%s\n%s", deferredShown, tableShown, tc.want.DeferredPackages, s, buf.String())
			}
			if got := strings.Count(s, "**Failed**"); got != tc.want.FailedPackages {
				t.Errorf("%d packages shown failed, want %d:\n%s", got, tc.want.FailedPackages, s)
			}
			if tc.want.DeferredPackages > 0 && !strings.Contains(s, plural(tc.want.DeferredPackages, "package")+" deferred to the next run: GitHub's rate limits stopped") {
				t.Errorf("summary totals do not mention the deferred packages:\n%s", s)
			}
		})
	}
}
