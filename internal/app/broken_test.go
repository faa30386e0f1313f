package app

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// otherToolDeletes deletes the version named digest of acme/app through
// the API, as a cleanup tool that does not know image indexes does: the
// fake registry then answers 404 for its manifest, as ghcr.io does.
func (w *registryWorld) otherToolDeletes(t testing.TB, digest string) {
	t.Helper()
	var id int64
	for _, v := range w.gh.Active("acme", "container", "app") {
		if v.Name == digest {
			id = v.ID
		}
	}
	if id == 0 {
		t.Fatalf("no active version %s", digest)
	}
	req, err := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/orgs/acme/packages/container/app/versions/%d", w.srv.URL, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d", digest, resp.StatusCode)
	}
}

// platformOf returns the first platform manifest (not an attestation
// manifest) an index lists.
func platformOf(t testing.TB, idx fakeregistry.Pushed) string {
	t.Helper()
	for _, c := range idx.Children {
		if c.Platform != nil && c.Platform.OS != "unknown" {
			return c.Digest
		}
	}
	t.Fatalf("index %s lists no platform manifest", idx.Digest)
	return ""
}

// The README's nightly workflow on a package whose release another tool
// broke three days ago: the run deletes what it should, reports the broken
// image, and exits 0, since it did not break it.
func TestDamageFromBeforeTheRunIsReportedNotFailed(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	missing := platformOf(t, w.releases[2])
	w.otherToolDeletes(t, missing)
	w.clk.Advance(3 * 24 * time.Hour)

	r := w.runOnApp(t, map[string]string{"tag-state": "untagged", "older-than": "7d"})

	if r.code != ExitOK {
		t.Fatalf("exit %d, want %d: damage from before the run is no failure of it\n%s", r.code, ExitOK, r.stdoutText)
	}
	plan := readPlan(t, r.planPath)
	pp := plan.Packages[0]
	if pp.Error != "" || plan.Totals().Deleted == 0 {
		t.Fatalf("package error %q, %d deleted: want a clean run that deleted something", pp.Error, plan.Totals().Deleted)
	}
	if len(pp.Broken) != 1 || pp.Broken[0].Digest != w.releases[2].Digest ||
		len(pp.Broken[0].Missing) != 1 || pp.Broken[0].Missing[0].Digest != missing {
		t.Fatalf("broken images %+v, want %s missing %s", pp.Broken, w.releases[2].Digest, missing)
	}
	for _, v := range pp.Versions {
		if v.Name == w.releases[2].Digest && v.Decision != policy.Keep {
			t.Errorf("broken release decided %s (%s), want keep: a broken image is judged like any other", v.Decision, v.Reason)
		}
	}
}

// brokenWorld is a seeded world whose releases another tool broke: a
// platform manifest of v1.0.0 deleted 40 days ago (past GitHub's 30-day
// window), one of v1.1.0 and one of v1.2.0 deleted 3 days ago.
func brokenWorld(t *testing.T) (w *registryWorld, old, recent []string) {
	t.Helper()
	w = newRegistryWorld(t, "private")
	w.seed(t, -1)
	old = []string{platformOf(t, w.releases[0])}
	w.otherToolDeletes(t, old[0])
	w.clk.Advance(37 * 24 * time.Hour)
	recent = []string{platformOf(t, w.releases[1]), platformOf(t, w.releases[2])}
	for _, d := range recent {
		w.otherToolDeletes(t, d)
	}
	w.clk.Advance(3 * 24 * time.Hour)
	w.gh.ResetLog()
	return w, old, recent
}

// nightly runs the README's nightly rule on acme/app, with repair as given.
func (w *registryWorld) nightly(t *testing.T, repair string) *runner {
	t.Helper()
	return w.runOnApp(t, map[string]string{"tag-state": "untagged", "older-than": "7d", "repair": repair})
}

// runOnApp runs the action on the container package acme/app of w's
// registry, at w's clock, with inputs besides those.
func (w *registryWorld) runOnApp(t *testing.T, inputs map[string]string) *runner {
	t.Helper()
	all := map[string]string{"package-type": "container", "packages": "app", "registry-url": w.reg.URL()}
	maps.Copy(all, inputs)
	r := newRunner(t, w.srv.URL, all)
	r.clock = w.clk
	r.run(t)
	return r
}

// pulls checks over HTTP that every tag of the releases resolves and
// every child of their indexes is served, and returns the problems.
func (w *registryWorld) pulls(t *testing.T, releases ...fakeregistry.Pushed) []containers.Problem {
	t.Helper()
	rd, err := containers.NewReader(containers.Options{RegistryURL: w.reg.URL(), Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	var tags, idx []string
	for _, p := range releases {
		tags = append(tags, p.Tags...)
		idx = append(idx, p.Digest)
	}
	problems, err := rd.Verify(context.Background(), "acme", "app", tags, idx)
	if err != nil {
		t.Fatal(err)
	}
	return problems
}

func repairOutcomes(pp policy.PackagePlan) map[string]string {
	out := map[string]string{}
	for _, b := range pp.Broken {
		for _, m := range b.Missing {
			out[m.Digest] = m.Repair
		}
	}
	return out
}

const deletedListing = "state=" + deletedState

func (w *registryWorld) countRequests(method, contains string) int {
	n := 0
	for _, r := range w.gh.Requests() {
		if r.Method == method && strings.Contains(r.Path+"?"+r.RawQuery, contains) {
			n++
		}
	}
	return n
}

func TestRepairHealsWhatTheWindowAllowsAndReportsTheRest(t *testing.T) {
	// The same damage, once without repair: the requests repair adds are
	// counted against it.
	base, _, _ := brokenWorld(t)
	if r := base.nightly(t, "false"); r.code != ExitOK {
		t.Fatalf("without repair: exit %d\n%s", r.code, r.stdoutText)
	}
	baseRequests := len(base.gh.Requests())

	w, old, recent := brokenWorld(t)
	if problems := w.pulls(t, w.releases...); len(problems) != 3 {
		t.Fatalf("before: %d problems, want 3 (one missing child per release): %v", len(problems), problems)
	}
	r := w.nightly(t, "true")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	if problems := w.pulls(t, w.releases[1], w.releases[2]); len(problems) != 0 {
		t.Errorf("images broken 3 days ago still do not pull: %v", problems)
	}
	pp := readPlan(t, r.planPath).Packages[0]
	got := repairOutcomes(pp)
	want := map[string]string{old[0]: policy.RepairNotRestorable, recent[0]: policy.RepairRestored, recent[1]: policy.RepairRestored}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("repair outcomes %v, want %v", got, want)
	}
	for _, b := range pp.Broken {
		for _, m := range b.Missing {
			if m.Repair == policy.RepairRestored && (m.DeletedAt == nil || !m.DeletedAt.Equal(epoch.Add(37*24*time.Hour))) {
				t.Errorf("restored %s: deleted_at %v, want 3 days ago", m.Digest, m.DeletedAt)
			}
		}
	}
	if r.outputs[outBroken] != "3" {
		t.Errorf("broken-count %q, want 3: the broken images seen", r.outputs[outBroken])
	}
	if !strings.Contains(r.stdoutText, "::warning::1 broken image: acme/app:v1.0.0") {
		t.Errorf("no warning naming the image left broken:\n%s", r.stdoutText)
	}
	for _, s := range []string{"Broken images", "v1.0.0", "**Repair** restored 2 platform manifests", "1 image is still broken", "healed: restored 1", "not restorable"} {
		if !strings.Contains(r.summaryText, s) {
			t.Errorf("summary lacks %q:\n%s", s, r.summaryText)
		}
	}
	// Requests: one page of deleted versions and one POST per restore,
	// nothing more.
	if n := w.countRequests("GET", deletedListing); n != 1 {
		t.Errorf("%d deleted-version listings, want 1 page", n)
	}
	if n := w.countRequests("POST", "/restore"); n != 2 {
		t.Errorf("%d restores sent, want 2", n)
	}
	// Paced like deletions: at the default 60 a minute, a second apart.
	var last time.Time
	for _, req := range w.gh.Requests() {
		if req.Method != "POST" {
			continue
		}
		if !last.IsZero() && req.At.Sub(last) < time.Second {
			t.Errorf("restores %v apart, want at least 1s (60 a minute)", req.At.Sub(last))
		}
		last = req.At
	}
	if n := len(w.gh.Requests()); n != baseRequests+3 {
		t.Errorf("%d requests with repair, %d without: want 3 more (1 listing page, 2 restores)", n, baseRequests)
	}

	// A second run finds nothing more to heal and restores nothing.
	w.gh.ResetLog()
	r2 := w.nightly(t, "true")
	if r2.code != ExitOK {
		t.Fatalf("second run: exit %d\n%s", r2.code, r2.stdoutText)
	}
	if n := w.countRequests("POST", "/restore"); n != 0 {
		t.Errorf("second run sent %d restores, want 0", n)
	}
	pp2 := readPlan(t, r2.planPath).Packages[0]
	if got := repairOutcomes(pp2); fmt.Sprint(got) != fmt.Sprint(map[string]string{old[0]: policy.RepairNotRestorable}) {
		t.Errorf("second run: repair outcomes %v, want only %s not restorable", got, old[0])
	}
}

func TestRepairDryRunRestoresNothingAndSaysWhatItWould(t *testing.T) {
	w, old, recent := brokenWorld(t)
	r := w.runOnApp(t, map[string]string{"tag-state": "untagged", "older-than": "7d", "repair": "true", "dry-run": "true"})
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	if n := w.gh.Mutations(); n != 0 {
		t.Errorf("dry run sent %d mutating requests", n)
	}
	got := repairOutcomes(readPlan(t, r.planPath).Packages[0])
	want := map[string]string{old[0]: policy.RepairNotRestorable, recent[0]: policy.RepairWouldRestore, recent[1]: policy.RepairWouldRestore}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("repair outcomes %v, want %v", got, want)
	}
	// The preview says what the real run then reports (see
	// TestRepairHealsWhatTheWindowAllowsAndReportsTheRest): the images
	// repair would heal are not named as left broken.
	if !strings.Contains(r.stdoutText, "::warning::1 broken image: acme/app:v1.0.0") {
		t.Errorf("no warning naming only the image a repair would leave broken:\n%s", r.stdoutText)
	}
	for _, s := range []string{"**Repair** would restore 2 platform manifests", "1 image would still be broken", "3 broken images, 1 left broken"} {
		if !strings.Contains(r.summaryText+r.stdoutText, s) {
			t.Errorf("dry run lacks %q:\n%s\n%s", s, r.summaryText, r.stdoutText)
		}
	}
	if r.outputs[outBroken] != "3" {
		t.Errorf("broken-count %q, want 3: the broken images seen", r.outputs[outBroken])
	}
}

func TestRefusedRestoreIsReportedNotRetried(t *testing.T) {
	w, _, recent := brokenWorld(t)
	var id int64
	for _, v := range w.gh.Deleted("acme", "container", "app") {
		if v.Name == recent[0] {
			id = v.ID
		}
	}
	path := fmt.Sprintf("/orgs/acme/packages/container/app/versions/%d/restore", id)
	w.gh.Intercept("POST", path, func(rw http.ResponseWriter, _ *http.Request, _ http.Handler) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusConflict)
		_, _ = rw.Write([]byte(`{"message":"Package version cannot be restored: another version now has its name or one of its tags."}`))
	})
	r := w.nightly(t, "true")
	if r.code != ExitOK {
		t.Fatalf("exit %d: a refused restore is reported, not a failure\n%s", r.code, r.stdoutText)
	}
	got := repairOutcomes(readPlan(t, r.planPath).Packages[0])
	if !strings.HasPrefix(got[recent[0]], policy.RepairRefusedPrefix) || got[recent[1]] != policy.RepairRestored {
		t.Errorf("repair outcomes %v: want %s refused, %s restored", got, recent[0], recent[1])
	}
	if n := w.countRequests("POST", path); n != 1 {
		t.Errorf("refused restore sent %d times, want once", n)
	}
}

// TestReadmeHealWorkflow runs the README's "Heal broken images" workflow
// step as written, dry run first (its default), then for real, on a
// package broken 3 and 40 days ago.
func TestReadmeHealWorkflow(t *testing.T) {
	var with map[string]string
	for _, text := range readmeWorkflows(t) {
		if !strings.Contains(text, "name: Heal broken images") {
			continue
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Uses string            `yaml:"uses"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
			t.Fatal(err)
		}
		for _, s := range wf.Jobs["heal"].Steps {
			if s.Uses == "pkgretention/retention@v1" {
				with = s.With
			}
		}
	}
	if with == nil {
		t.Fatal("README: no heal workflow step using the action")
	}
	w, old, recent := brokenWorld(t)
	for _, dry := range []string{"true", "false"} {
		values := map[string]string{"packages": "app", "registry-url": w.reg.URL()}
		for k, v := range with {
			values[k] = strings.ReplaceAll(v, "${{ inputs.dry-run }}", dry)
		}
		before := w.gh.Mutations()
		r := newRunner(t, w.srv.URL, values)
		r.clock = w.clk
		r.run(t)
		if r.code != ExitOK {
			t.Fatalf("dry-run %s: exit %d\n%s", dry, r.code, r.stdoutText)
		}
		got := repairOutcomes(readPlan(t, r.planPath).Packages[0])
		want, broken := policy.RepairWouldRestore, "3"
		if dry == "false" {
			want, broken = policy.RepairRestored, "3"
		} else if n := w.gh.Mutations() - before; n != 0 {
			t.Errorf("dry run sent %d mutating requests", n)
		}
		if got[recent[0]] != want || got[recent[1]] != want || got[old[0]] != policy.RepairNotRestorable {
			t.Errorf("dry-run %s: repair outcomes %v, want %s for %v", dry, got, want, recent)
		}
		if r.outputs[outBroken] != broken {
			t.Errorf("dry-run %s: broken-count %q, want %s", dry, r.outputs[outBroken], broken)
		}
	}
	if problems := w.pulls(t, w.releases[1], w.releases[2]); len(problems) != 0 {
		t.Errorf("healed images do not pull: %v", problems)
	}
}

// A rule with image-state: broken deletes the images that no longer pull
// (the structure is read for it even when nothing else would be deleted),
// and with repair only those past healing; keep-tags still wins.
func TestImageStateBrokenDeletesWhatNoLongerPulls(t *testing.T) {
	for _, tc := range []struct {
		name, repair, keep string
		gone               []int  // releases deleted
		broken             string // broken-count: the broken images seen
	}{
		{"without repair", "false", "", []int{0, 1, 2}, "3"},
		{"with repair", "true", "", []int{0}, "3"},
		{"keep-tags wins", "false", "v1.1.0", []int{0, 2}, "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _, _ := brokenWorld(t)
			r := w.runOnApp(t, map[string]string{"image-state": "broken", "repair": tc.repair, "keep-tags": tc.keep})
			if r.code != ExitOK {
				t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
			}
			active := map[string]bool{}
			for _, v := range w.gh.Active("acme", "container", "app") {
				active[v.Name] = true
			}
			want := map[int]bool{}
			for _, i := range tc.gone {
				want[i] = true
			}
			for i, rel := range w.releases {
				if active[rel.Digest] == want[i] {
					t.Errorf("release %s active=%v, want deleted=%v", rel.Tags, active[rel.Digest], want[i])
				}
			}
			if !active[w.main.Digest] {
				t.Errorf("the whole image main was deleted")
			}
			if r.outputs[outBroken] != tc.broken {
				t.Errorf("broken-count %q, want %s", r.outputs[outBroken], tc.broken)
			}
		})
	}
}

// When repair cannot list the deleted versions, the package is not
// judged without it: nothing in it is deleted and the run fails for it.
func TestRepairWithoutDeletedListingDeletesNothing(t *testing.T) {
	w, _, _ := brokenWorld(t)
	w.gh.Intercept("GET", "/orgs/acme/packages/container/app/versions", func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Query().Get("state") != "deleted" {
			next.ServeHTTP(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusForbidden)
		_, _ = rw.Write([]byte(`{"message":"Resource not accessible by integration"}`))
	})
	r := w.runOnApp(t, map[string]string{"image-state": "broken", "repair": "true"})
	if r.code != ExitFailed {
		t.Errorf("exit %d, want %d\n%s", r.code, ExitFailed, r.stdoutText)
	}
	if n := w.gh.Mutations(); n != 0 {
		t.Errorf("%d mutating requests, want none", n)
	}
	pp := readPlan(t, r.planPath).Packages[0]
	if pp.Complete || !strings.Contains(pp.Error, "repair: deleted versions not listed") {
		t.Errorf("package complete=%v error %q", pp.Complete, pp.Error)
	}
}

// TestRepairDryRunPlansWhatTheRealRunDoes: with repair and a rule that
// deletes broken images, the dry run previews the real run's decisions:
// the images repair would heal are judged whole (kept), not deleted as
// broken, and the manifests it would restore are members of their image.
func TestRepairDryRunPlansWhatTheRealRunDoes(t *testing.T) {
	decisions := func(dry string) map[string]string {
		w, _, _ := brokenWorld(t)
		r := w.runOnApp(t, map[string]string{"image-state": "broken", "repair": "true", "dry-run": dry})
		if r.code != ExitOK {
			t.Fatalf("dry-run %s: exit %d\n%s", dry, r.code, r.stdoutText)
		}
		out := map[string]string{}
		for _, v := range readPlan(t, r.planPath).Packages[0].Versions {
			out[v.Name] = fmt.Sprintf("%s %s", v.Decision, v.Reason)
		}
		return out
	}
	dry, real := decisions("true"), decisions("false")
	if len(dry) != len(real) {
		t.Errorf("dry run plans %d versions, the real run %d", len(dry), len(real))
	}
	for name, d := range real {
		if dry[name] != d {
			t.Errorf("%s: dry run %q, real run %q", name[:19], dry[name], d)
		}
	}
}

// TestRepairCancelledKeepsItsRecord: a run cancelled during repair (a
// cancelled job, timeout-minutes) deletes nothing, and still writes its
// plan file, outputs and summary, which say what was restored and what was
// left for the next run.
func TestRepairCancelledKeepsItsRecord(t *testing.T) {
	w, _, recent := brokenWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	posts := 0
	for _, v := range w.gh.Deleted("acme", "container", "app") {
		if !slices.Contains(recent, v.Name) {
			continue
		}
		path := fmt.Sprintf("/orgs/acme/packages/container/app/versions/%d/restore", v.ID)
		w.gh.Intercept("POST", path, func(rw http.ResponseWriter, req *http.Request, next http.Handler) {
			mu.Lock()
			posts++
			n := posts
			mu.Unlock()
			if n == 1 {
				next.ServeHTTP(rw, req)
				return
			}
			cancel() // the second restore: the job is cancelled
			rw.WriteHeader(http.StatusServiceUnavailable)
		})
	}
	r := newRunner(t, w.srv.URL, map[string]string{
		"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
		"tag-state": "untagged", "older-than": "7d", "repair": "true",
	})
	r.clock, r.ctx = w.clk, ctx
	r.run(t)

	if r.code != ExitFailed {
		t.Errorf("exit %d, want %d: the run stopped early", r.code, ExitFailed)
	}
	if n := w.countRequests("DELETE", "/versions/"); n != 0 {
		t.Errorf("%d DELETEs sent after the cancellation", n)
	}
	if r.planPath == "" {
		t.Fatalf("no plan file\n%s", r.stdoutText)
	}
	pp := readPlan(t, r.planPath).Packages[0]
	outcomes := map[string]int{}
	for _, o := range repairOutcomes(pp) {
		outcomes[o]++
	}
	// The first restore was answered; the second was cancelled, and the
	// third missing child (of the oldest image) was not reached.
	if outcomes[policy.RepairRestored] != 1 || outcomes[policy.RepairDeferred] != 2 {
		t.Errorf("repair outcomes %v, want 1 restored and 2 left for the next run", repairOutcomes(pp))
	}
	if !pp.Deferred {
		t.Errorf("package not deferred: %q", pp.Error)
	}
	if r.outputs[outDeleted] != "0" || r.outputs[outBroken] != "3" {
		t.Errorf("outputs %v: want deleted-count 0, broken-count 3", r.outputs)
	}
	if !strings.Contains(r.summaryText, "Broken images") {
		t.Errorf("summary lacks the broken images:\n%s", r.summaryText)
	}
}

// TestRepairSkipsImagesThePolicyDeletes: a broken image the policy deletes
// whole, healed or not, is not repaired: restoring its platform manifests
// would only send them to be deleted again (two mutating requests each).
func TestRepairSkipsImagesThePolicyDeletes(t *testing.T) {
	w, _, recent := brokenWorld(t)
	doomed := w.releases[1].Tags[0] // broken 3 days ago, like releases[2]
	r := w.runOnApp(t, map[string]string{"delete-tags": doomed, "repair": "true"})
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	pp := readPlan(t, r.planPath).Packages[0]
	got := repairOutcomes(pp)
	if got[recent[0]] != policy.RepairNotNeeded || got[recent[1]] != policy.RepairRestored {
		t.Errorf("repair outcomes %v: want %s (of %s, deleted) not needed, %s restored", got, recent[0][:19], doomed, recent[1][:19])
	}
	if n := w.countRequests("POST", "/restore"); n != 1 {
		t.Errorf("%d restores sent, want 1", n)
	}
	if !strings.Contains(r.summaryText, "not restored: the policy deletes this image") {
		t.Errorf("summary does not say why %s was not restored:\n%s", doomed, r.summaryText)
	}
	for _, v := range pp.Versions {
		if slices.Contains(v.Tags, doomed) && v.Result != policy.ResultDeleted {
			t.Errorf("%s: %s %s, result %q: want deleted", doomed, v.Decision, v.Reason, v.Result)
		}
	}
}

// listingSkips makes GitHub's listing of the active versions of acme/app
// leave out the version named digest, as a listing does whose pages
// shifted while another tool deleted, or that lags a push by seconds: the
// registry still serves its manifest.
func (w *registryWorld) listingSkips(t *testing.T, digest string) {
	t.Helper()
	w.gh.Intercept("GET", "/orgs/acme/packages/container/app/versions", func(rw http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var vs []map[string]any
		body := rec.Body.Bytes()
		if r.URL.Query().Get("state") != deletedState && json.Unmarshal(body, &vs) == nil {
			kept := vs[:0]
			for _, v := range vs {
				if v["name"] != digest {
					kept = append(kept, v)
				}
			}
			var err error
			if body, err = json.Marshal(kept); err != nil {
				t.Error(err)
			}
		}
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.Header().Del("Content-Length")
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(body)
	})
}

const deletedState = "deleted"

// A platform manifest of v1.1.0 that GitHub's listing leaves out but the
// registry serves does not make v1.1.0 broken: image-state: broken keeps
// it, and neither the broken-count, the warning nor the summary names it.
// v1.0.0, whose platform manifest another tool deleted, is still broken
// and deleted.
func TestChildOnlyLeftOutOfTheListingIsNotBroken(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	w.otherToolDeletes(t, platformOf(t, w.releases[0]))
	skipped := platformOf(t, w.releases[1])
	w.listingSkips(t, skipped)

	r := w.runOnApp(t, map[string]string{"image-state": "broken"})

	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	active := map[string]bool{}
	for _, v := range w.gh.Active("acme", "container", "app") {
		active[v.Name] = true
	}
	if !active[w.releases[1].Digest] || !active[skipped] {
		t.Errorf("v1.1.0 active=%v, its platform manifest left out of the listing active=%v: want both kept, the image pulls",
			active[w.releases[1].Digest], active[skipped])
	}
	w.intact(t, w.releases[1])
	if active[w.releases[0].Digest] {
		t.Errorf("v1.0.0, broken by another tool, was not deleted")
	}
	pp := readPlan(t, r.planPath).Packages[0]
	if len(pp.Broken) != 1 || pp.Broken[0].Digest != w.releases[0].Digest {
		t.Errorf("broken images %+v, want v1.0.0 only", pp.Broken)
	}
	r.checkOutputs(t, map[string]string{outBroken: "1"})
	if strings.Contains(r.stdoutText, "acme/app:v1.1.0") || strings.Contains(r.summaryText, "| v1.1.0 | sha256:") {
		t.Errorf("v1.1.0 reported broken:\n%s\n%s", r.stdoutText, r.summaryText)
	}
	if !strings.Contains(r.stdoutText, "1 listed by an index but not (yet) in GitHub's listing: not judged broken") {
		t.Errorf("the structure's log line does not count the manifest left out of the listing:\n%s", r.stdoutText)
	}
}

// TestRepairRestoresAnImageKeptWhileBroken: an image one rule deletes by
// tag, but that a rule for broken images would keep (keep-latest) if it
// stayed broken, is restored: left broken, it would be kept, and never
// healed. Healed, it is deleted by its tag.
func TestRepairRestoresAnImageKeptWhileBroken(t *testing.T) {
	w, _, recent := brokenWorld(t)
	doomed := w.releases[1].Tags[0]
	file := filepath.Join(t.TempDir(), "retention.yml")
	pol := fmt.Sprintf("rules:\n  - packages: app\n    package-type: container\n    delete-tags: %q\n"+
		"  - packages: app\n    package-type: container\n    image-state: broken\n    keep-latest: 3\n", doomed)
	if err := os.WriteFile(file, []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, w.srv.URL, map[string]string{"registry-url": w.reg.URL(), "policy-file": file, "repair": "true"})
	r.clock = w.clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	pp := readPlan(t, r.planPath).Packages[0]
	if got := repairOutcomes(pp)[recent[0]]; got != policy.RepairRestored {
		t.Errorf("%s's missing manifest: repair %q, want %q", doomed, got, policy.RepairRestored)
	}
	for _, v := range pp.Versions {
		if slices.Contains(v.Tags, doomed) && v.Result != policy.ResultDeleted {
			t.Errorf("%s: %s %s, result %q: want deleted, healed first", doomed, v.Decision, v.Reason, v.Result)
		}
	}
}

// TestRepairNotNeededUnderMaxDeletions: with max-deletions, a broken image
// the policy deletes but the cap leaves for a later run is not restored
// either, and the summary says it goes in a later run.
func TestRepairNotNeededUnderMaxDeletions(t *testing.T) {
	w, _, recent := brokenWorld(t)
	r := w.runOnApp(t, map[string]string{"delete-tags": w.releases[1].Tags[0] + "," + w.releases[2].Tags[0], "max-deletions": "1", "repair": "true"})
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
	}
	got := repairOutcomes(readPlan(t, r.planPath).Packages[0])
	if got[recent[0]] != policy.RepairNotNeeded || got[recent[1]] != policy.RepairNotNeeded {
		t.Errorf("repair outcomes %v, want both not needed", got)
	}
	if n := w.countRequests("POST", "/restore"); n != 0 {
		t.Errorf("%d restores sent, want none", n)
	}
	for _, s := range []string{"not restored: the policy deletes this image |", "not restored: the policy deletes this image in a later run (max-deletions)"} {
		if !strings.Contains(r.summaryText, s) {
			t.Errorf("summary lacks %q:\n%s", s, r.summaryText)
		}
	}
}
