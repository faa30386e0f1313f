package app

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// afterDeletes runs push once, right after the n-th version the run
// deletes (while that DELETE is answered), keeping the registry in step
// with the API as mirrorToRegistry does: CI pushing while the cleanup runs.
func (w *registryWorld) afterDeletes(n int, push func()) {
	var mu sync.Mutex
	count := 0
	w.gh.OnDelete(func(owner, typ, name string, v fakegh.Version) {
		_ = w.reg.DeleteManifest(containers.Repository(owner, name), v.Name)
		mu.Lock()
		count++
		now := count == n
		mu.Unlock()
		if now {
			push()
		}
	})
}

// addPushed lists what a push added to the registry as new versions of
// acme/app, created now, as ghcr.io does.
func (w *registryWorld) addPushed(p fakeregistry.Pushed) {
	for _, m := range p.All() {
		if slices.ContainsFunc(w.gh.Active("acme", "container", "app"), func(v fakegh.Version) bool { return v.Name == m.Digest }) {
			continue
		}
		tags := m.Tags
		if m.Digest == p.Digest {
			tags = p.Tags
		}
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: tags, CreatedAt: w.clk.Now()})
	}
}

// versionOf returns the plan's entry for digest.
func versionOf(t *testing.T, plan *policy.Plan, digest string) policy.VersionPlan {
	t.Helper()
	for _, v := range plan.Packages[0].Versions {
		if v.Name == digest {
			return v
		}
	}
	t.Fatalf("%s is not in the plan", digest)
	return policy.VersionPlan{}
}

// untaggedWeek is the policy of these tests: untagged images after a
// week, one DELETE a minute, so that the run re-checks the package's tags
// before every DELETE (cleanup.RecheckEvery).
func untaggedWeek(perMinute string) map[string]string {
	return map[string]string{"tag-state": "untagged", "older-than": "7d", "max-deletes-per-minute": perMinute}
}

// A re-assembly: `docker buildx imagetools create -t app:v2` of the
// platform manifests of an old superseded build, pushed after the run's
// first DELETE, while the plan deletes those manifests with their old
// index. They are kept (in-use-since-listing) and v2 pulls; the old index,
// which v2 does not list, still goes.
func TestReassemblyDuringTheRunKeepsItsManifests(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	old := w.old[len(w.old)-1] // the newest superseded build: deleted last
	var platforms []string
	for _, c := range old.Children {
		if c.Kind == fakeregistry.KindPlatform {
			platforms = append(platforms, c.Digest)
		}
	}
	var v2 fakeregistry.Pushed
	w.afterDeletes(1, func() {
		var err error
		if v2, err = w.reg.PushIndexOf(w.repo, []string{"v2"}, platforms); err != nil {
			t.Error(err)
		}
		w.addPushed(v2)
	})
	plan := w.run(t, untaggedWeek("1"))

	if v2.Digest == "" {
		t.Fatal("the run deleted nothing: no push happened")
	}
	w.intact(t, v2)
	for _, d := range platforms {
		if v := versionOf(t, plan, d); v.Decision != policy.Keep || v.Reason != policy.ReasonInUseSinceListing || v.Result != "" {
			t.Errorf("platform manifest %s listed by v2: %s %s %s, want keep %s", d[:19], v.Decision, v.Reason, v.Result, policy.ReasonInUseSinceListing)
		}
	}
	if v := versionOf(t, plan, old.Digest); v.Result != policy.ResultDeleted {
		t.Errorf("the superseded index v2 does not list: result %q, want deleted", v.Result)
	}
}

// A retag: `crane tag app@sha256:<old> hotfix` on an old untagged image the
// plan deletes, after the run's first DELETE. The image is kept whole.
func TestRetagDuringTheRunKeepsTheImage(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	old := w.old[len(w.old)-1]
	w.afterDeletes(1, func() {
		if err := w.reg.Tag(w.repo, "hotfix", old.Digest); err != nil {
			t.Error(err)
		}
		w.gh.MoveTag("acme", "container", "app", "hotfix", old.Digest)
	})
	plan := w.run(t, untaggedWeek("1"))

	w.intact(t, old)
	for _, m := range old.All() {
		if v := versionOf(t, plan, m.Digest); v.Decision != policy.Keep || v.Reason != policy.ReasonInUseSinceListing {
			t.Errorf("%s %s of the retagged image: %s %s, want keep %s", m.Kind, m.Digest[:19], v.Decision, v.Reason, policy.ReasonInUseSinceListing)
		}
	}
	// The other superseded build, not retagged, still goes.
	w.gone(t, w.old[0])
}

// The residual window: a retag less than cleanup.RecheckEvery after the
// latest re-check is not seen before the DELETE. At 60 DELETEs a minute
// the whole run fits between the re-check before its first deletion and
// the next one, so the image retagged after the first DELETE (and deleted
// a few seconds later) is lost, tag and all: the limit the README states.
func TestRetagWithinTheResidualWindowIsNotSeen(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	old := w.old[len(w.old)-1]
	var retagged, deleted time.Time
	w.afterDeletes(1, func() {
		retagged = w.clk.Now()
		if err := w.reg.Tag(w.repo, "hotfix", old.Digest); err != nil {
			t.Error(err)
		}
		w.gh.MoveTag("acme", "container", "app", "hotfix", old.Digest)
	})
	plan := w.run(t, untaggedWeek("60"))
	for _, r := range w.gh.Requests() {
		if r.Method == "DELETE" && strings.HasSuffix(r.Path, "/"+strconv.FormatInt(versionOf(t, plan, old.Digest).ID, 10)) {
			deleted = r.At
		}
	}
	if v := versionOf(t, plan, old.Digest); v.Result != policy.ResultDeleted {
		t.Fatalf("the image retagged inside the window: %s %s %q; the window is closed, update this test and the README", v.Decision, v.Reason, v.Result)
	}
	if gap := deleted.Sub(retagged); gap <= 0 || gap >= cleanup.RecheckEvery {
		t.Errorf("retag %s before its DELETE, want inside (0, %s)", gap, cleanup.RecheckEvery)
	}
}

// A build in flight: a matrix build pushed its platform manifests by
// digest 10 minutes ago and has not merged them into a tagged index yet.
// "Delete every untagged image" keeps them (build-in-flight).
func TestBuildInFlightIsNotDeleted(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	var young []fakeregistry.Pushed
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		p, err := w.reg.PushImage(w.repo, fakeregistry.ImageOptions{Platform: platform})
		if err != nil {
			t.Fatal(err)
		}
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: p.Digest, CreatedAt: epoch.Add(-10 * time.Minute)})
		young = append(young, p)
	}
	plan := w.run(t, map[string]string{"tag-state": "untagged"})

	for _, p := range young {
		w.intact(t, p)
		if v := versionOf(t, plan, p.Digest); v.Decision != policy.Keep || v.Reason != policy.ReasonBuildInFlight {
			t.Errorf("platform manifest pushed 10 minutes ago: %s %s, want keep %s", v.Decision, v.Reason, policy.ReasonBuildInFlight)
		}
	}
	w.gone(t, w.old[0]) // an old superseded build still goes
}

// A re-check that fails (the registry keeps failing the HEAD of a tag)
// defers the package's deletions left, with a warning: nothing tells what
// is in use, so nothing more is deleted on the listing's word.
func TestFailedRecheckDefersThePackage(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	w.afterDeletes(1, func() { w.reg.FailManifest(w.repo, w.main.Digest, 1000) })
	values := untaggedWeek("1")
	values["verify"] = "false" // the post-run check would meet the same failures
	values["package-type"], values["packages"], values["registry-url"] = "container", "app", w.reg.URL()
	r := newRunner(t, w.srv.URL, values)
	r.clock = w.clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0 (deferred is not failed)\n%s", r.code, r.stdoutText)
	}
	if !strings.Contains(r.stdoutText, "::warning::container package acme/app: could not re-check its tags before deleting") {
		t.Errorf("no warning for the failed re-check:\n%s", r.stdoutText)
	}
	if n := w.gh.CountRequests("DELETE"); n != 1 {
		t.Errorf("%d DELETEs, want 1 (the one before the failure)", n)
	}
	plan := readPlan(t, r.planPath)
	deleted, deferred := 0, 0
	for _, v := range plan.Packages[0].Versions {
		switch {
		case v.Result == policy.ResultDeleted:
			deleted++
		case v.Decision == policy.Delete && v.Result == policy.ResultDeferred:
			deferred++
		case v.Decision == policy.Delete:
			t.Errorf("planned deletion %s ended %q, want deferred", v.Name[:19], v.Result)
		}
	}
	if deleted != 1 || deferred == 0 {
		t.Errorf("%d deleted, %d deferred; want 1 deleted and the rest deferred", deleted, deferred)
	}
}

// A dry run sends no re-check: no tags list, no HEAD by tag.
func TestDryRunSendsNoRecheck(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	w.reg.ResetCounts()
	values := untaggedWeek("1")
	values["dry-run"] = "true"
	plan := w.run(t, values)
	if v := versionOf(t, plan, w.old[0].Digest); v.Decision != policy.Delete {
		t.Fatalf("the dry run plans no deletion of the old build: %s %s", v.Decision, v.Reason)
	}
	if c := w.reg.Counts(); c.Other != 0 || c.ManifestHeadByTag != 0 {
		t.Errorf("a dry run sent %d tags-list and %d HEAD-by-tag requests, want 0", c.Other, c.ManifestHeadByTag)
	}
}
