package cleanup_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// epoch is the fake clock's start in these tests.
var epoch = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// world is a fake GitHub on real HTTP, a fake clock shared by the server
// and the client, and the real API client.
type world struct {
	clk *clock.Fake
	gh  *fakegh.Server
	srv *httptest.Server
	api *ghapi.GitHub
	log *recLog
}

func newWorld(t *testing.T, opts ...fakegh.Option) *world {
	t.Helper()
	clk := clock.NewFake(epoch)
	gh := fakegh.New(append([]fakegh.Option{fakegh.WithClock(clk), fakegh.WithToken("s3cret")}, opts...)...)
	srv := httptest.NewServer(gh)
	t.Cleanup(srv.Close)
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{BaseURL: srv.URL, Token: "s3cret", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &world{clk: clk, gh: gh, srv: srv, api: api, log: &recLog{}}
}

// npmPackage adds an npm package with n versions 1.0.0 … 1.0.(n-1), one
// day apart, the newest a day before the epoch.
func (w *world) npmPackage(owner, name string, n int) {
	w.gh.AddPackage(owner, "npm", name, "private")
	w.gh.AddVersions(owner, "npm", name, n, func(i int) fakegh.Version {
		at := epoch.Add(-time.Duration(n-i) * 24 * time.Hour)
		return fakegh.Version{Name: fmt.Sprintf("1.0.%d", i), CreatedAt: at, UpdatedAt: at}
	})
}

func mustPolicy(t *testing.T, values map[string]string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse(policy.Inputs{Values: values, DefaultOwner: "acme"})
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return p
}

func (w *world) run(t *testing.T, p *policy.Policy) *policy.Plan {
	t.Helper()
	plan, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Clock: w.clk, Log: w.log})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return plan
}

// activeIDs returns the ids of a package's active versions.
func (w *world) activeIDs(owner, typ, name string) map[int64]bool {
	out := map[int64]bool{}
	for _, v := range w.gh.Active(owner, typ, name) {
		out[v.ID] = true
	}
	return out
}

// snapshot records the active versions of every package named.
func (w *world) snapshot(pkgs ...[3]string) map[[3]string]map[int64]bool {
	out := map[[3]string]map[int64]bool{}
	for _, p := range pkgs {
		out[p] = w.activeIDs(p[0], p[1], p[2])
	}
	return out
}

// checkEndState asserts that every package ends with exactly its versions
// before the run minus the versions the plan deleted (deleted or
// already-gone): nothing outside the plan is gone, nothing planned and
// reported deleted is left.
func (w *world) checkEndState(t *testing.T, plan *policy.Plan, before map[[3]string]map[int64]bool) {
	t.Helper()
	gone := map[[3]string]map[int64]bool{}
	for _, pp := range plan.Packages {
		k := [3]string{pp.Owner, string(pp.Type), pp.Name}
		gone[k] = map[int64]bool{}
		for _, v := range pp.Versions {
			if v.Result == policy.ResultDeleted || v.Result == policy.ResultAlreadyGone {
				if v.Decision != policy.Delete {
					t.Errorf("%v: version %d has result %q but decision %q", k, v.ID, v.Result, v.Decision)
				}
				gone[k][v.ID] = true
			}
		}
	}
	for k, ids := range before {
		after := w.activeIDs(k[0], k[1], k[2])
		for id := range ids {
			switch {
			case gone[k][id] && after[id]:
				t.Errorf("%v: version %d reported deleted but still active", k, id)
			case !gone[k][id] && !after[id]:
				t.Errorf("%v: version %d is gone but the plan did not delete it", k, id)
			}
		}
	}
}

func TestRunRequestCountsAreTheLowerBound(t *testing.T) {
	tests := []struct {
		name    string
		owner   string
		dryRun  bool
		lookups int
	}{
		{"organisation", "acme", false, 1},
		{"organisation dry run", "acme", true, 1},
		{"user", "bob", false, 1},
		{"authenticated user", "@me", false, 0},
		{"authenticated user dry run", "@me", true, 0},
	}
	// Names are fetched one request each; a pattern takes one listing
	// page for the owner, which also resolves the names beside it.
	forms := []struct {
		name      string
		packages  string
		resolving int
		route     string
	}{
		{"names", "app, lib, tiny", 3, "/packages/{package_type}/{package_name}"},
		{"a pattern", "app, lib, t*", 1, "/packages"},
	}
	for _, form := range forms {
		for _, tt := range tests {
			t.Run(form.name+"/"+tt.name, func(t *testing.T) {
				w := newWorld(t, fakegh.WithAuthenticatedUser("me"))
				w.gh.AddOrg("acme")
				w.gh.AddUser("bob")
				owner := tt.owner
				if owner == "@me" {
					owner = "me"
				}
				sizes := map[string]int{"app": 250, "lib": 100, "tiny": 1, "other": 7}
				for name, n := range sizes {
					w.npmPackage(owner, name, n)
				}
				p := mustPolicy(t, map[string]string{
					"owner": tt.owner, "package-type": "npm", "packages": form.packages,
					"keep-latest": "10", "dry-run": fmt.Sprint(tt.dryRun),
				})
				plan := w.run(t, p)

				deletes := 0
				for _, pp := range plan.Packages {
					for _, v := range pp.Versions {
						if v.Decision == policy.Delete {
							deletes++
						}
					}
				}
				if want := 240 + 90; deletes != want {
					t.Fatalf("planned deletions = %d, want %d", deletes, want)
				}
				// One owner lookup, one GET per name or one page of
				// packages, ⌈n/100⌉ pages per package, one DELETE per
				// deletion; nothing else.
				pages := 3 + 1 + 1
				wantGET := tt.lookups + form.resolving + pages
				prefix := map[string]string{"acme": "/orgs/{org}", "bob": "/users/{username}", "@me": "/user"}[tt.owner]
				if got := w.gh.CountRoute("GET " + prefix + form.route); got != form.resolving {
					t.Errorf("GET %s%s: %d requests, want %d", prefix, form.route, got, form.resolving)
				}
				wantDELETE := deletes
				if tt.dryRun {
					wantDELETE = 0
				}
				if got := w.gh.CountRequests("GET"); got != wantGET {
					t.Errorf("GET requests = %d, want %d", got, wantGET)
				}
				if got := w.gh.CountRequests("DELETE"); got != wantDELETE {
					t.Errorf("DELETE requests = %d, want %d", got, wantDELETE)
				}
				if got, want := w.gh.CountRequests(""), wantGET+wantDELETE; got != want {
					t.Errorf("requests = %d, want the lower bound %d", got, want)
				}
				if tt.dryRun && w.gh.Mutations() != 0 {
					t.Errorf("dry run sent %d mutating requests", w.gh.Mutations())
				}
				if v := w.gh.Violations(); len(v) > 0 {
					t.Errorf("violations: %v", v)
				}
			})
		}
	}
}

func TestDryRunPlanEqualsRealPlanButForResults(t *testing.T) {
	setup := func(t *testing.T) *world {
		w := newWorld(t)
		w.gh.AddOrg("acme")
		w.npmPackage("acme", "app", 120)
		w.npmPackage("acme", "web", 30)
		return w
	}
	values := map[string]string{"package-type": "npm", "packages": "*", "keep-latest": "5", "older-than": "20d", "keep-semver": "1.0.7"}

	dry := setup(t)
	dv := copyMap(values)
	dv["dry-run"] = "true"
	dryPlan := dry.run(t, mustPolicy(t, dv))
	if n := dry.gh.Mutations(); n != 0 {
		t.Fatalf("dry run sent %d mutating requests", n)
	}

	real := setup(t)
	realPlan := real.run(t, mustPolicy(t, values))
	if real.gh.Mutations() == 0 {
		t.Fatal("real run deleted nothing: the test proves nothing")
	}
	for i := range realPlan.Packages {
		for j := range realPlan.Packages[i].Versions {
			v := &realPlan.Packages[i].Versions[j]
			if v.Decision == policy.Delete && v.Result != policy.ResultDeleted {
				t.Errorf("version %d: result %q, want deleted", v.ID, v.Result)
			}
			v.Result = ""
		}
	}
	if !dryPlan.DryRun || !dryPlan.Policy.DryRun {
		t.Error("the dry run's plan does not say it is a dry run")
	}
	dryPlan.DryRun, dryPlan.Policy.DryRun = false, false
	dj, rj := planJSON(t, dryPlan), planJSON(t, realPlan)
	if dj != rj {
		i := 0
		for i < len(dj) && i < len(rj) && dj[i] == rj[i] {
			i++
		}
		t.Errorf("dry-run plan and real plan differ beyond results, from byte %d:\n dry: %.300s\nreal: %.300s", i, dj[max(0, i-200):], rj[max(0, i-200):])
	}
}

func TestIncompleteListingDeletesNothingInThatPackage(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 250)
	w.npmPackage("acme", "web", 50)
	w.gh.FailPage("acme", "npm", "app", 2, -1)
	before := w.snapshot([3]string{"acme", "npm", "app"}, [3]string{"acme", "npm", "web"})

	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app,web", "keep-latest": "3"}))

	for _, pp := range plan.Packages {
		switch pp.Name {
		case "app":
			if pp.Complete || pp.Error == "" || len(pp.Versions) != 0 {
				t.Errorf("app: complete=%v error=%q versions=%d, want incomplete with an error and no decisions", pp.Complete, pp.Error, len(pp.Versions))
			}
		case "web":
			if tot := (&policy.Plan{Packages: []policy.PackagePlan{pp}}).Totals(); tot.Deleted != 47 {
				t.Errorf("web: deleted %d, want 47", tot.Deleted)
			}
		}
	}
	for _, r := range w.gh.Requests() {
		if r.Method != "GET" && strings.Contains(r.Path, "/npm/app/") {
			t.Errorf("request %s %s touched the incompletely listed package", r.Method, r.Path)
		}
	}
	if got := len(w.activeIDs("acme", "npm", "app")); got != 250 {
		t.Errorf("app has %d active versions, want all 250", got)
	}
	w.checkEndState(t, plan, before)
	if tot := plan.Totals(); tot.Incomplete != 1 {
		t.Errorf("incomplete packages = %d, want 1", tot.Incomplete)
	}
}

func TestEndStateEqualsPlanUnderFaults(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			w := newWorld(t, fakegh.WithSeed(seed), fakegh.WithFaults(fakegh.Faults{FailRate: 0.05, AmbiguousDeleteRate: 0.05, NetworkFailRate: 0.02}))
			w.gh.AddOrg("acme")
			w.npmPackage("acme", "app", 300)
			w.npmPackage("acme", "web", 80)
			w.npmPackage("acme", "keepme", 20)
			before := w.snapshot([3]string{"acme", "npm", "app"}, [3]string{"acme", "npm", "web"}, [3]string{"acme", "npm", "keepme"})

			plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app,web", "keep-latest": "25"}))

			w.checkEndState(t, plan, before)
			tot := plan.Totals()
			if tot.Deleted+tot.AlreadyGone != 275+55 {
				t.Errorf("deleted %d + already gone %d, want %d", tot.Deleted, tot.AlreadyGone, 275+55)
			}
			if tot.Failed != 0 || tot.Incomplete != 0 {
				t.Errorf("failed %d, incomplete %d: faults of 5%% must be retried away", tot.Failed, tot.Incomplete)
			}
			if len(w.activeIDs("acme", "npm", "keepme")) != 20 {
				t.Error("a package no rule covers lost versions")
			}
			if v := w.gh.Violations(); len(v) > 0 {
				t.Errorf("violations: %v", v)
			}
		})
	}
}

func TestSecondaryLimitNoRequestWhileBlocked(t *testing.T) {
	tests := []struct {
		name string
		sl   fakegh.SecondaryLimit
		min  time.Duration // the least the run must have waited
	}{
		{"429 with retry-after", fakegh.SecondaryLimit{Every: 20, RetryAfter: 45 * time.Second, Status: 429}, 4 * 45 * time.Second},
		{"403 without retry-after", fakegh.SecondaryLimit{Every: 20, Status: 403}, 4 * time.Minute},
		{"points per minute", fakegh.SecondaryLimit{PointsPerMinute: 200, RetryAfter: 30 * time.Second, Status: 403}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, fakegh.WithSecondaryLimit(tt.sl))
			w.gh.AddOrg("acme")
			w.npmPackage("acme", "app", 110)
			before := w.snapshot([3]string{"acme", "npm", "app"})
			start := w.clk.Now()
			plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10", "max-deletes-per-minute": "1000"}))

			w.checkEndState(t, plan, before)
			if tot := plan.Totals(); tot.Deleted != 100 || tot.Failed != 0 {
				t.Errorf("deleted %d failed %d, want 100 deleted and none failed", tot.Deleted, tot.Failed)
			}
			if v := w.gh.Violations(); len(v) > 0 {
				t.Errorf("requests sent while told to wait: %v", v)
			}
			if waited := w.clk.Now().Sub(start); waited < tt.min {
				t.Errorf("run took %s of clock time, want at least %s of waiting", waited, tt.min)
			}
		})
	}
}

func TestBudgetDefersTheNewestAndStopsBeforeRunningOut(t *testing.T) {
	w := newWorld(t, fakegh.WithRateLimit(fakegh.RateLimit{Limit: 100}))
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 250)
	before := w.snapshot([3]string{"acme", "npm", "app"})

	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"}))

	w.checkEndState(t, plan, before)
	tot := plan.Totals()
	// 5 requests listed (lookup, packages, 3 pages); 95 left, 10 kept in
	// reserve: 85 deletions fit.
	if tot.Deleted != 85 || tot.Deferred != 240-85 || tot.Failed != 0 {
		t.Errorf("deleted %d deferred %d failed %d, want 85, %d, 0", tot.Deleted, tot.Deferred, tot.Failed, 240-85)
	}
	// The oldest go first: every deleted version is older than every
	// deferred one.
	var newestDeleted, oldestDeferred time.Time
	for _, v := range plan.Packages[0].Versions {
		switch v.Result {
		case policy.ResultDeleted:
			if v.UpdatedAt.After(newestDeleted) {
				newestDeleted = v.UpdatedAt
			}
		case policy.ResultDeferred:
			if oldestDeferred.IsZero() || v.UpdatedAt.Before(oldestDeferred) {
				oldestDeferred = v.UpdatedAt
			}
		}
	}
	if !newestDeleted.Before(oldestDeferred) {
		t.Errorf("newest deleted %s is not older than oldest deferred %s", newestDeleted, oldestDeferred)
	}
	for _, r := range w.gh.Requests() {
		if r.Status == 403 || r.Status == 429 {
			t.Errorf("the run ran into the limit: %s %s answered %d", r.Method, r.Path, r.Status)
		}
	}

	// The next run, an hour later, continues where this one stopped.
	w.clk.Advance(time.Hour)
	w.gh.ResetLog()
	before = w.snapshot([3]string{"acme", "npm", "app"})
	plan = w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"}))
	w.checkEndState(t, plan, before)
	// 4 requests listed (lookup, packages, 2 pages of 165): 96 left, 10
	// in reserve.
	if tot := plan.Totals(); tot.Deleted != 86 {
		t.Errorf("second run deleted %d, want another 86", tot.Deleted)
	}
}

func TestDeletesAreSerialAndEvenlyPaced(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 40)
	values := map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10", "max-deletes-per-minute": "30"}
	p := mustPolicy(t, values)
	plan, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Clock: w.clk, DeletesPerMinute: 30})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Totals().Deleted != 30 {
		t.Fatalf("deleted %d, want 30", plan.Totals().Deleted)
	}
	var prev time.Time
	n := 0
	for _, r := range w.gh.Requests() {
		if r.Method != "DELETE" {
			continue
		}
		if n > 0 && r.At.Sub(prev) < 2*time.Second {
			t.Errorf("DELETE %d started %s after the previous one, want at least 2s at 30 a minute", n, r.At.Sub(prev))
		}
		prev = r.At
		n++
	}
	if got := w.gh.MaxMutationsInFlight(); got != 1 {
		t.Errorf("mutating requests in flight at once: %d, want 1", got)
	}
}

func TestDownloadRuleIsProtectedAndTheRunGoesOn(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.gh.AddPackage("acme", "npm", "pub", "public")
	for i := 0; i < 6; i++ {
		at := epoch.Add(-time.Duration(10-i) * 24 * time.Hour)
		dl := 10
		if i == 1 {
			dl = 6000
		}
		w.gh.AddVersion("acme", "npm", "pub", fakegh.Version{ID: int64(100 + i), Name: fmt.Sprintf("2.0.%d", i), CreatedAt: at, UpdatedAt: at, Downloads: dl})
	}
	before := w.snapshot([3]string{"acme", "npm", "pub"})
	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "pub", "keep-latest": "2"}))
	w.checkEndState(t, plan, before)
	tot := plan.Totals()
	if tot.Deleted != 3 || tot.Refused != 1 || tot.Failed != 0 {
		t.Errorf("deleted %d protected %d failed %d, want 3, 1, 0", tot.Deleted, tot.Refused, tot.Failed)
	}
	for _, v := range plan.Packages[0].Versions {
		if v.ID == 101 && v.Result != policy.ResultProtected {
			t.Errorf("the popular version has result %q, want protected", v.Result)
		}
	}
}

func TestRestoreUndoesARun(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 130)
	w.npmPackage("acme", "web", 12)
	pkgs := [][3]string{{"acme", "npm", "app"}, {"acme", "npm", "web"}}
	original := w.snapshot(pkgs...)

	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "*", "keep-latest": "4"}))
	if plan.Totals().Deleted != 126+8 {
		t.Fatalf("deleted %d, want %d", plan.Totals().Deleted, 126+8)
	}
	w.clk.Advance(48 * time.Hour)
	w.gh.ResetLog()

	restored, err := cleanup.Restore(context.Background(), cleanup.Config{API: w.api, Clock: w.clk}, plan)
	if err != nil {
		t.Fatal(err)
	}
	if tot := restored.Totals(); tot.Restored != 134 || tot.Failed != 0 {
		t.Errorf("restored %d failed %d, want 134, 0", tot.Restored, tot.Failed)
	}
	if after := w.snapshot(pkgs...); !equalSets(after, original) {
		t.Error("after restore the packages differ from before the run")
	}
	if got := w.gh.CountRequests("POST"); got != 134 {
		t.Errorf("restore requests = %d, want 134", got)
	}

	// Restoring the same plan again restores nothing: all are active.
	w.gh.ResetLog()
	again, err := cleanup.Restore(context.Background(), cleanup.Config{API: w.api, Clock: w.clk}, plan)
	if err != nil {
		t.Fatal(err)
	}
	if tot := again.Totals(); tot.RestoreSkipped != 134 || w.gh.Mutations() != 0 {
		t.Errorf("second restore: skipped %d, mutations %d; want 134 skipped and none sent", tot.RestoreSkipped, w.gh.Mutations())
	}
}

func TestRestoreOutsideTheWindowIsReportedNotFatal(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 5)
	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "2"}))
	w.clk.Advance(31 * 24 * time.Hour)
	out, err := cleanup.Restore(context.Background(), cleanup.Config{API: w.api, Clock: w.clk}, plan)
	if err != nil {
		t.Fatal(err)
	}
	if tot := out.Totals(); tot.Failed != 3 || tot.Restored != 0 {
		t.Errorf("failed %d restored %d, want 3 reported failures", tot.Failed, tot.Restored)
	}
}

func equalSets(a, b map[[3]string]map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, ids := range a {
		if len(ids) != len(b[k]) {
			return false
		}
		for id := range ids {
			if !b[k][id] {
				return false
			}
		}
	}
	return true
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func planJSON(t *testing.T, p *policy.Plan) string {
	t.Helper()
	p.StartedAt = time.Time{}
	b, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// recLog records log lines for assertions.
type recLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *recLog) add(kind, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, kind+": "+fmt.Sprintf(format, args...))
}
func (l *recLog) Infof(f string, a ...any)    { l.add("info", f, a...) }
func (l *recLog) Warningf(f string, a ...any) { l.add("warning", f, a...) }
func (l *recLog) Errorf(f string, a ...any)   { l.add("error", f, a...) }
func (l *recLog) Group(t string)              { l.add("group", "%s", t) }
func (l *recLog) EndGroup()                   { l.add("endgroup", "") }

func (l *recLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]string(nil), l.lines...)
	sort.Strings(out)
	return out
}

func TestPermissionErrorStopsThatPackageOnly(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "locked", 20)
	w.npmPackage("acme", "open", 20)
	w.gh.SetForbidden("acme", "npm", "locked", true)
	before := w.snapshot([3]string{"acme", "npm", "locked"}, [3]string{"acme", "npm", "open"})

	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "*", "keep-latest": "5"}))

	w.checkEndState(t, plan, before)
	tot := plan.Totals()
	if tot.Failed != 15 || tot.Deleted != 15 {
		t.Errorf("failed %d deleted %d, want 15 and 15", tot.Failed, tot.Deleted)
	}
	sent := 0
	for _, r := range w.gh.Requests() {
		if r.Method == "DELETE" && strings.Contains(r.Path, "/locked/") {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("DELETEs sent to the forbidden package: %d, want 1", sent)
	}
	for _, pp := range plan.Packages {
		for _, v := range pp.Versions {
			if pp.Name == "locked" && v.Decision == policy.Delete && !strings.Contains(v.Result, "packages: write") {
				t.Errorf("version %d: result %q does not say what permission is missing", v.ID, v.Result)
				break
			}
		}
	}
}

func TestBacklogLargerThanTheBudgetIsListedAcrossTheReset(t *testing.T) {
	w := newWorld(t, fakegh.WithRateLimit(fakegh.RateLimit{Limit: 10}))
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 1500) // 15 pages: more than one window
	before := w.snapshot([3]string{"acme", "npm", "app"})
	start := w.clk.Now()

	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"}))

	if pp := plan.Packages[0]; !pp.Complete || len(pp.Versions) != 1500 {
		t.Fatalf("complete=%v versions=%d error=%q, want the whole listing", pp.Complete, len(pp.Versions), pp.Error)
	}
	if waited := w.clk.Now().Sub(start); waited < time.Hour {
		t.Errorf("listing took %s of clock time, want it to wait for the reset", waited)
	}
	tot := plan.Totals()
	if tot.Failed != 0 || tot.Deleted+tot.Deferred != 1490 {
		t.Errorf("deleted %d deferred %d failed %d, want 1490 deleted or deferred, none failed", tot.Deleted, tot.Deferred, tot.Failed)
	}
	if v := w.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	w.checkEndState(t, plan, before)
}

func TestProgressLinesOnLongRunsWithoutFlooding(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 310)
	start := w.clk.Now()
	w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"}))
	took := w.clk.Now().Sub(start) // 300 deletions, one a second

	var progress []string
	for _, l := range w.log.all() {
		if strings.HasPrefix(l, "info: progress:") {
			progress = append(progress, l)
		}
	}
	// One line per 10 s of a 5-minute run: about 30, never more than one
	// per interval.
	if max := int(took / (10 * time.Second)); len(progress) < max-2 || len(progress) > max {
		t.Errorf("%d progress lines over %s, want about %d", len(progress), took, max)
	}
	if len(progress) > 0 && !strings.Contains(progress[0], "remaining") {
		t.Errorf("progress line %q does not say what remains", progress[0])
	}
}

func TestOwnersAreCaseInsensitiveAndListedOnce(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 30)
	w.npmPackage("acme", "web", 30)
	file := `rules:
  - packages: app
    package-type: npm
    owner: Acme
    keep-latest: 5
  - packages: web
    package-type: npm
    owner: acme
    keep-latest: 10
`
	p, err := policy.Parse(policy.Inputs{Values: map[string]string{"policy-file": "p.yaml"}, PolicyFile: []byte(file), DefaultOwner: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	plan := w.run(t, p)
	if tot := plan.Totals(); tot.Deleted != 25+20 || tot.Failed != 0 {
		t.Errorf("deleted %d failed %d, want 45 and 0", tot.Deleted, tot.Failed)
	}
	// One owner lookup, one GET per named package, one page per package.
	if got := w.gh.CountRequests("GET"); got != 1+2+2 {
		t.Errorf("GET requests = %d, want 5", got)
	}
}

func TestMissingNamedPackageIsAnErrorForThatPackageOnly(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 12)
	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app, ghost", "keep-latest": "2"}))

	var ghost *policy.PackagePlan
	for i := range plan.Packages {
		if plan.Packages[i].Name == "ghost" {
			ghost = &plan.Packages[i]
		}
	}
	if ghost == nil || ghost.Complete || !strings.Contains(ghost.Error, "not found") {
		t.Fatalf("the missing package is not reported as failed: %+v", ghost)
	}
	if tot := plan.Totals(); tot.Deleted != 10 || tot.Incomplete != 1 {
		t.Errorf("deleted %d incomplete %d, want 10 deleted in app and 1 failed package", tot.Deleted, tot.Incomplete)
	}
}

func TestLastVersionRefusalIsReportedNotRetried(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 3) // 1.0.0, 1.0.1, 1.0.2 (newest)
	// Another job deletes the newest version while this run deletes the
	// oldest (the hook runs before GitHub answers this run's DELETE): the
	// next deletion meets GitHub's last-version refusal.
	w.gh.OnDelete(func(owner, typ, name string, v fakegh.Version) {
		if v.Name != "1.0.0" {
			return
		}
		for _, a := range w.gh.Active("acme", "npm", "app") {
			if a.Name != "1.0.2" {
				continue
			}
			req, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/orgs/acme/packages/npm/app/versions/%d", w.srv.URL, a.ID), nil)
			req.Header.Set("Authorization", "Bearer s3cret")
			resp, err := w.srv.Client().Do(req)
			if err != nil || resp.StatusCode != http.StatusNoContent {
				t.Errorf("the other job's delete failed: %v %v", err, resp)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	})
	plan := w.run(t, mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "1"}))

	res := map[string]string{}
	for _, v := range plan.Packages[0].Versions {
		res[v.Name] = v.Result
	}
	if res["1.0.0"] != policy.ResultDeleted || !strings.HasPrefix(res["1.0.1"], policy.ResultFailedPrefix) || !strings.Contains(res["1.0.1"], "last version") {
		t.Errorf("results %v: want 1.0.0 deleted and 1.0.1 failed with the last-version refusal", res)
	}
	n := 0
	for _, r := range w.gh.Requests() {
		if r.Method == "DELETE" && r.Status == 400 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the refused DELETE was sent %d times, want once (no retry)", n)
	}
}

// slowTransport makes every request take a second of the fake clock.
type slowTransport struct {
	clk  *clock.Fake
	base http.RoundTripper
}

func (s slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s.clk.Advance(time.Second)
	return s.base.RoundTrip(r)
}

func TestProgressLinesWhileListing(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 3000) // 30 pages, a second each
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{BaseURL: w.srv.URL, Token: "s3cret", Clock: w.clk,
		Transport: slowTransport{w.clk, http.DefaultTransport}, ListConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10", "dry-run": "true"})
	if _, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: api, Clock: w.clk, Log: w.log}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range w.log.all() {
		if strings.HasPrefix(l, "info: progress:") && strings.Contains(l, "versions listed") {
			lines = append(lines, l)
		}
	}
	// 32 seconds of listing: a line at 10, 20 and 30 s.
	if len(lines) != 3 {
		t.Errorf("%d progress lines while listing for 32 s, want 3: %v", len(lines), lines)
	}
}

func TestPacingHoldsAfterAWaitForTheLimit(t *testing.T) {
	w := newWorld(t, fakegh.WithSecondaryLimit(fakegh.SecondaryLimit{Every: 5, RetryAfter: 60 * time.Second, Status: 429}))
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "app", 20)
	p := mustPolicy(t, map[string]string{"package-type": "npm", "packages": "app", "keep-latest": "10"})
	if _, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Clock: w.clk, DeletesPerMinute: 60}); err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	n := 0
	for _, r := range w.gh.Requests() {
		if r.Method != "DELETE" {
			continue
		}
		if n > 0 && r.At.Sub(prev) < time.Second {
			t.Errorf("DELETE %d (status %d) started %s after the previous one, want at least 1s at 60 a minute", n, r.Status, r.At.Sub(prev))
		}
		prev = r.At
		n++
	}
	if n < 12 {
		t.Fatalf("%d DELETEs: the limit was never met, the test proves nothing", n)
	}
}

func TestRateLimitWhileListingDefersThePackage(t *testing.T) {
	// Six GETs a minute on the versions endpoint, then GitHub asks to wait
	// 20 minutes: longer than a run waits for a secondary limit.
	w := newWorld(t, fakegh.WithSecondaryLimit(fakegh.SecondaryLimit{PointsPerMinute: 6, RetryAfter: 20 * time.Minute, Status: 429}))
	w.gh.AddOrg("acme")
	w.npmPackage("acme", "big", 1000)
	// Pages one at a time, so that the server's log tells exactly whether
	// a request went out after GitHub said to wait.
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{BaseURL: w.srv.URL, Token: "s3cret", Clock: w.clk, ListConcurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := mustPolicy(t, map[string]string{"package-type": "npm", "packages": "big", "keep-latest": "10"})
	plan, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: api, Clock: w.clk})
	if err != nil {
		t.Fatal(err)
	}

	tot := plan.Totals()
	if tot.DeferredPackages != 1 || tot.Incomplete != 1 || tot.Deleted != 0 {
		t.Fatalf("deferred packages %d, incomplete %d, deleted %d: want the package deferred and nothing deleted", tot.DeferredPackages, tot.Incomplete, tot.Deleted)
	}
	if pp := plan.Packages[0]; !pp.Deferred || !strings.Contains(pp.Error, "next run") {
		t.Errorf("package: deferred=%v error=%q", pp.Deferred, pp.Error)
	}
	if w.gh.Mutations() != 0 {
		t.Errorf("%d mutating requests for a package whose listing is incomplete", w.gh.Mutations())
	}
	if v := w.gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// driftingRegistry answers the k-th Structure call with only the first k
// untagged versions as roots, every other one a member of the tagged
// image: each round reveals an untagged root not read before, so the
// structure never settles.
type driftingRegistry struct {
	taggedID int64
	calls    int
}

func (d *driftingRegistry) Structure(_ context.Context, _, _ string, versions []policy.Version, _ map[int64]bool) (*policy.Structure, error) {
	d.calls++
	st := &policy.Structure{Parents: map[int64][]int64{}}
	n := 0
	for _, v := range versions {
		if v.ID == d.taggedID {
			continue
		}
		if n++; n > d.calls {
			st.Parents[v.ID] = []int64{d.taggedID}
		}
	}
	return st, nil
}

func (d *driftingRegistry) InUse(context.Context, string, string, map[string]string) (map[string]bool, error) {
	return nil, nil
}

func (d *driftingRegistry) Verify(context.Context, string, string, []string, []string, []string) ([]string, error) {
	return nil, nil
}

func TestStructureThatNeverSettlesDeletesNothing(t *testing.T) {
	w := newWorld(t)
	w.gh.AddOrg("acme")
	w.gh.AddPackage("acme", "container", "app", "private")
	tagged := w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: "sha256:" + strings.Repeat("f", 64), Tags: []string{"v1"}, CreatedAt: epoch.Add(-time.Hour)})
	for i := 0; i < 12; i++ {
		at := epoch.Add(-time.Duration(100-i) * 24 * time.Hour)
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: fmt.Sprintf("sha256:%064d", i), CreatedAt: at, UpdatedAt: at})
	}
	reg := &driftingRegistry{taggedID: tagged.ID}
	p := mustPolicy(t, map[string]string{"packages": "app", "tag-state": "untagged", "keep-latest": "1"})
	plan, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Containers: reg, Clock: w.clk})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.gh.Mutations(); n != 0 {
		t.Errorf("%d deletions although the image structure never settled", n)
	}
	if reg.calls < 3 {
		t.Errorf("%d structure rounds: the test did not exercise the rounds", reg.calls)
	}
	found := false
	for _, v := range plan.Packages[0].Versions {
		found = found || v.Reason == policy.ReasonUnreadable
	}
	if !found {
		t.Error("no version kept as manifest-unreadable")
	}
}
