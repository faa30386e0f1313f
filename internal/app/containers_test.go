package app

import (
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// epoch is the fake clock's start in these tests.
var epoch = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// registryWorld is the fake API and a real OCI registry (ghcr's token
// flow) holding the manifests of one container package, acme/app, whose
// versions the fake API lists with the same digests and tags. Deleting a
// version through the API deletes its manifest, as on ghcr.io. The action
// runs against both as a runner starts it, on a fake clock.
type registryWorld struct {
	clk     *clock.Fake
	gh      *fakegh.Server
	srv     *httptest.Server
	reg     *fakeregistry.Registry
	repo    string
	created map[string]time.Time
	// pushed by role, for assertions
	releases []fakeregistry.Pushed // tagged multi-arch indexes, oldest first
	sigs     map[string]fakeregistry.Pushed
	old      []fakeregistry.Pushed // superseded builds of "main", untagged
	main     fakeregistry.Pushed
	orphan   fakeregistry.Pushed
}

func newRegistryWorld(t testing.TB, visibility string, opts ...fakegh.Option) *registryWorld {
	t.Helper()
	clk := clock.NewFake(epoch)
	w := &registryWorld{clk: clk, created: map[string]time.Time{}, sigs: map[string]fakeregistry.Pushed{}}
	w.gh = fakegh.New(append([]fakegh.Option{fakegh.WithToken(testToken), fakegh.WithClock(clk)}, opts...)...)
	w.srv = httptest.NewServer(w.gh)
	t.Cleanup(w.srv.Close)
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: testToken, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	w.reg = reg
	w.repo = containers.Repository("acme", "app")
	w.gh.AddOrg("acme")
	w.gh.AddPackage("acme", "container", "app", visibility)
	mirrorToRegistry(w.gh, reg)
	return w
}

func (w *registryWorld) record(p fakeregistry.Pushed, age time.Duration) {
	for _, m := range p.All() {
		if _, ok := w.created[m.Digest]; !ok {
			w.created[m.Digest] = epoch.Add(-age)
		}
	}
}

// seed pushes what real packages hold: three signed multi-arch releases
// with buildx attestations (the newest also with a provenance attestation
// in a referrers fallback index), a moving tag "main" whose superseded
// builds are untagged indexes with untagged children, an untagged
// leftover image and an orphan signature. The release numbered popular
// (from 0, oldest first; -1: none) has more than 5,000 downloads.
func (w *registryWorld) seed(t *testing.T, popular int) {
	t.Helper()
	must := func(p fakeregistry.Pushed, err error) fakeregistry.Pushed {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	day := 24 * time.Hour
	for i, tag := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
		age := time.Duration(90-30*i) * day
		idx := must(w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{tag}, Platforms: []string{"linux/amd64", "linux/arm64", "linux/s390x"}, Attestations: true}))
		w.record(idx, age)
		w.releases = append(w.releases, idx)
		sig := must(w.reg.PushSignature(w.repo, idx.Digest))
		w.record(sig, age-time.Minute)
		w.sigs[idx.Digest] = sig
	}
	newest := w.releases[len(w.releases)-1]
	ref, fallback, err := w.reg.PushReferrer(w.repo, newest.Digest, "application/vnd.in-toto+json")
	if err != nil {
		t.Fatal(err)
	}
	w.record(ref, 30*day)
	w.record(fallback, 30*day)
	for _, age := range []time.Duration{20 * day, 10 * day, 1 * day} {
		p := must(w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{"main"}, Platforms: []string{"linux/amd64", "linux/arm64"}, Attestations: true}))
		w.record(p, age)
		if w.main.Digest != "" {
			w.old = append(w.old, w.main)
		}
		w.main = p
	}
	w.record(must(w.reg.PushImage(w.repo, fakeregistry.ImageOptions{})), 50*day)
	gone := must(w.reg.PushImage(w.repo, fakeregistry.ImageOptions{}))
	w.orphan = must(w.reg.PushSignature(w.repo, gone.Digest))
	w.record(w.orphan, 70*day)
	if err := w.reg.DeleteManifest(w.repo, gone.Digest); err != nil {
		t.Fatal(err)
	}
	downloads := map[string]int{}
	if popular >= 0 {
		downloads[w.releases[popular].Digest] = 9000
	}
	for _, m := range w.reg.Manifests(w.repo) {
		at, ok := w.created[m.Digest]
		if !ok {
			t.Fatalf("no push time for %s", m.Digest)
		}
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: at, Downloads: downloads[m.Digest]})
	}
}

// run runs the action on acme/app with the given rule inputs and returns
// the plan file it wrote.
func (w *registryWorld) run(t *testing.T, values map[string]string) *policy.Plan {
	t.Helper()
	values["package-type"] = "container"
	values["packages"] = "app"
	values["registry-url"] = w.reg.URL()
	r := newRunner(t, w.srv.URL, values)
	r.clock = w.clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s", r.code, r.stdoutText)
	}
	return readPlan(t, r.planPath)
}

// intact asserts that an image and everything it references still exists.
func (w *registryWorld) intact(t *testing.T, p fakeregistry.Pushed) {
	t.Helper()
	for _, m := range p.All() {
		if !w.reg.Has(w.repo, m.Digest) {
			t.Errorf("%s %s of kept image %v is gone: the image is broken", m.Kind, m.Digest[:19], p.Tags)
		}
	}
}

// gone asserts that an image and everything it references was deleted.
func (w *registryWorld) gone(t *testing.T, p fakeregistry.Pushed) {
	t.Helper()
	for _, m := range p.All() {
		if w.reg.Has(w.repo, m.Digest) {
			t.Errorf("%s %s of deleted image %v is left behind", m.Kind, m.Digest[:19], p.Tags)
		}
	}
}

// noOrphanSignatures asserts that no signature outlives its image, but
// for the orphan seeded on purpose when keepSeeded.
func (w *registryWorld) noOrphanSignatures(t *testing.T, keepSeeded bool) {
	t.Helper()
	for _, m := range w.reg.Manifests(w.repo) {
		if keepSeeded && m.Digest == w.orphan.Digest {
			continue
		}
		for _, tag := range m.Tags {
			if subject, ok := policy.IsAttachmentTag(tag); ok && !w.reg.Has(w.repo, subject) {
				t.Errorf("signature %s (%s) outlives its image", m.Digest[:19], tag)
			}
		}
	}
}

// rootsBeforeMembers asserts that every DELETE of a member came after the
// DELETE of each of its deleted parents.
func (w *registryWorld) rootsBeforeMembers(t *testing.T, plan *policy.Plan) {
	t.Helper()
	at := map[string]int{}
	byID := map[string]string{}
	for _, v := range plan.Packages[0].Versions {
		byID[strconv.FormatInt(v.ID, 10)] = v.Name
	}
	for i, r := range w.gh.Requests() {
		if r.Method == "DELETE" {
			id := r.Path[strings.LastIndex(r.Path, "/")+1:]
			if _, seen := at[byID[id]]; !seen {
				at[byID[id]] = i
			}
		}
	}
	for _, v := range plan.Packages[0].Versions {
		if v.Result != policy.ResultDeleted {
			continue
		}
		for _, p := range v.Parents {
			if pi, ok := at[p]; ok && pi > at[v.Name] {
				t.Errorf("member %s was deleted before its parent %s", v.Name[:19], p[:19])
			}
		}
	}
}

func TestDeleteUntaggedBreaksNoImageAndLeavesNoOrphan(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	before := w.reg.Counts()

	plan := w.run(t, map[string]string{"tag-state": "untagged"})

	if pp := plan.Packages[0]; !pp.Complete || pp.Error != "" {
		t.Fatalf("package: complete=%v error=%q", pp.Complete, pp.Error)
	}
	for _, r := range w.releases {
		w.intact(t, r)
		w.intact(t, w.sigs[r.Digest])
	}
	w.intact(t, w.main)
	for _, o := range w.old {
		w.gone(t, o) // superseded builds go whole: index, platforms, attestations
	}
	w.noOrphanSignatures(t, false)
	if w.reg.Has(w.repo, w.orphan.Digest) {
		t.Error("the orphan signature was not cleaned")
	}
	w.rootsBeforeMembers(t, plan)
	tot := plan.Totals()
	if tot.Failed != 0 || tot.Deleted == 0 {
		t.Errorf("deleted %d failed %d", tot.Deleted, tot.Failed)
	}
	// Read: the versions with tags of their own (3 releases, main) and
	// the referrers fallback index; then, of the 11 untagged roots the
	// plan deletes, the newest of each burst of pushes: the 2 superseded
	// indexes (which makes their 8 platform and attestation manifests
	// members, not roots, so they need no read) and the leftover image.
	// Never the signatures, whose tags name their image, nor any member
	// of a kept image.
	reads := w.reg.Counts().ManifestGetByDigest - before.ManifestGetByDigest
	if want := 3 + 1 + 1 + 3; reads != want {
		t.Errorf("manifest reads by digest = %d, want %d (tagged versions and deleted untagged roots)", reads, want)
	}
	for _, m := range w.main.All() {
		if n := w.reg.Reads(w.repo, m.Digest); m.Digest != w.main.Digest && n != 0 {
			t.Errorf("member %s of the kept image main read %d times", m.Digest[:19], n)
		}
	}
}

func TestKeepLatestOnTaggedDeletesEachOldImageWhole(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)

	plan := w.run(t, map[string]string{"tag-state": "tagged", "keep-latest": "2"})

	// Tagged images by age: v1.0.0, v1.1.0, v1.2.0, main. Keep 2: v1.2.0 and main.
	w.gone(t, w.releases[0])
	w.gone(t, w.sigs[w.releases[0].Digest])
	w.gone(t, w.releases[1])
	w.gone(t, w.sigs[w.releases[1].Digest])
	w.intact(t, w.releases[2])
	w.intact(t, w.sigs[w.releases[2].Digest])
	w.intact(t, w.main)
	for _, o := range w.old {
		w.intact(t, o) // untagged: this policy does not touch them
	}
	// The seeded orphan is untagged too: only the signatures of the
	// deleted images must have gone with them.
	w.noOrphanSignatures(t, true)
	w.rootsBeforeMembers(t, plan)
	if tot := plan.Totals(); tot.Failed != 0 || plan.Packages[0].Error != "" {
		t.Errorf("failed %d, package error %q", tot.Failed, plan.Packages[0].Error)
	}
}

func TestProtectedIndexKeepsItsChildren(t *testing.T) {
	w := newRegistryWorld(t, "public")
	// v1.0.0 is popular: GitHub refuses to delete it.
	w.seed(t, 0)
	popular := w.releases[0]

	plan := w.run(t, map[string]string{"tag-state": "tagged", "keep-latest": "2"})

	w.intact(t, popular)
	w.intact(t, w.sigs[popular.Digest])
	w.gone(t, w.releases[1])
	tot := plan.Totals()
	if tot.Failed != 0 || tot.Refused == 0 {
		t.Errorf("failed %d protected %d: the refusal must be protected, not failed", tot.Failed, tot.Refused)
	}
	for _, v := range plan.Packages[0].Versions {
		for _, p := range v.Parents {
			if p == popular.Digest && v.Result != policy.ResultProtected {
				t.Errorf("member %s of the protected index: result %q, want protected", v.Name[:19], v.Result)
			}
		}
	}
	if plan.Packages[0].Error != "" {
		t.Errorf("post-run check: %s", plan.Packages[0].Error)
	}
}

func TestUnreadableManifestDeletesNothingThatDependsOnIt(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	w.reg.FailManifest(w.repo, w.main.Digest, -1)

	plan := w.run(t, map[string]string{"tag-state": "untagged"})

	w.intact(t, w.main)
	for _, o := range w.old {
		w.intact(t, o)
	}
	for _, r := range w.gh.Requests() {
		if r.Method == "DELETE" {
			t.Errorf("%s %s sent although an index could not be read", r.Method, r.Path)
		}
	}
	found := false
	for _, v := range plan.Packages[0].Versions {
		if v.Reason == policy.ReasonUnreadable {
			found = true
		}
	}
	if !found {
		t.Error("no version is kept with reason manifest-unreadable")
	}
}

func TestRestoreBringsBackWholeImagesMembersFirst(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	before := activeNames(w.gh, "acme", "container", "app")

	plan := w.run(t, map[string]string{"tag-state": "tagged", "keep-latest": "2"})
	w.gone(t, w.releases[0])
	planFile := filepath.Join(t.TempDir(), "plan.json")
	if err := writePlanFile(planFile, plan); err != nil {
		t.Fatal(err)
	}
	w.gh.ResetLog()

	r := newRunner(t, w.srv.URL, map[string]string{"restore-from": planFile})
	r.clock = w.clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("restore: exit %d\n%s", r.code, r.stdoutText)
	}
	if after := activeNames(w.gh, "acme", "container", "app"); !slices.Equal(after, before) {
		t.Errorf("after the restore %d versions are active, want the %d before the run", len(after), len(before))
	}
	for _, rel := range w.releases {
		w.intact(t, rel)
		w.intact(t, w.sigs[rel.Digest])
	}
	// Every member was restored before the image that references it.
	at := map[string]int{}
	byID := map[string]string{}
	for _, v := range plan.Packages[0].Versions {
		byID[strconv.FormatInt(v.ID, 10)] = v.Name
	}
	for i, req := range w.gh.Requests() {
		if req.Method == "POST" {
			id := strings.TrimSuffix(req.Path, "/restore")
			at[byID[id[strings.LastIndex(id, "/")+1:]]] = i
		}
	}
	for _, v := range plan.Packages[0].Versions {
		for _, p := range v.Parents {
			pi, pok := at[p]
			vi, vok := at[v.Name]
			if pok && vok && vi > pi {
				t.Errorf("member %s restored after its image %s", v.Name[:19], p[:19])
			}
		}
	}
	if len(at) == 0 {
		t.Fatal("no restore request was sent")
	}
}

// When the post-run check fails after deletions (here the registry loses
// the platform image a kept "rebuild" index shares with the deleted
// release v1.0.0 as the run deletes), the run fails, and the summary says
// the deletions stand rather than that nothing was deleted.
func TestPostRunCheckFailureKeepsTheDeletionsInTheSummary(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	shared := w.releases[0].Children[0].Digest
	rebuild, err := w.reg.PushIndexOf(w.repo, []string{"rebuild"}, []string{shared})
	if err != nil {
		t.Fatal(err)
	}
	w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: rebuild.Digest, Tags: rebuild.Tags, CreatedAt: epoch, UpdatedAt: epoch})
	w.gh.OnDelete(func(owner, typ, name string, v fakegh.Version) {
		repo := containers.Repository(owner, name)
		_ = w.reg.DeleteManifest(repo, v.Name)
		_ = w.reg.DeleteManifest(repo, shared) // lost behind the run's back
	})
	// Keep 3 tagged: rebuild, main, v1.2.0; v1.0.0 goes but for the
	// platform image rebuild lists.
	r := newRunner(t, w.srv.URL, map[string]string{
		"package-type": "container", "packages": "app", "registry-url": w.reg.URL(), "tag-state": "tagged", "keep-latest": "3",
	})
	r.clock = w.clk
	r.run(t)

	if r.code != ExitFailed {
		t.Errorf("exit %d, want %d: a failed post-run check fails the run\n%s", r.code, ExitFailed, r.stdoutText)
	}
	plan := readPlan(t, r.planPath)
	pp := plan.Packages[0]
	if !pp.Complete || !strings.Contains(pp.Error, "post-run check failed") {
		t.Fatalf("package: complete=%v error=%q, want complete with the post-run check's error", pp.Complete, pp.Error)
	}
	deleted := plan.Totals().Deleted
	if deleted == 0 || r.outputs[outDeleted] != strconv.Itoa(deleted) {
		t.Errorf("deleted-count %q, plan file %d deleted", r.outputs[outDeleted], deleted)
	}
	if r.outputs[outFailed] != "1" {
		t.Errorf("failed-count %q, want 1 (the package)", r.outputs[outFailed])
	}
	want := "**Failed**: post-run check failed: "
	if !strings.Contains(r.summaryText, want) {
		t.Errorf("summary lacks %q:\n%s", want, r.summaryText)
	}
	stand := fmt.Sprintf("The deletions of this run stand: %d versions deleted in this package", deleted)
	if !strings.Contains(r.summaryText, stand) || strings.Contains(r.summaryText, "Nothing in this package was deleted") {
		t.Errorf("summary does not say the %d deletions stand:\n%s", deleted, r.summaryText)
	}
	if !strings.Contains(r.stdoutText, "::error::1 package failed") {
		t.Errorf("no error annotation for the failed package:\n%s", r.stdoutText)
	}
}

// The post-run check sends its HEADs only for what the run could have
// broken: here the kept "rebuild" index, which shares a platform image
// with the deleted v1.0.0 (its tag and that child: 2 HEADs). Before, it
// checked every kept tag and every child of the kept indexes.
func TestPostRunCheckHeadsOnlyWhatTheRunCouldBreak(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		heads  int
	}{
		// Untagged superseded builds go whole: no kept image shares a
		// member with them (their members are theirs alone).
		{"untagged", map[string]string{"tag-state": "untagged"}, 0},
		{"keep latest", map[string]string{"tag-state": "tagged", "keep-latest": "3"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The run also sends HEADs by tag while deleting (the
			// re-check for versions put in use since the listing): the
			// post-run check's are what a run with verify sends beyond
			// the same run without it.
			heads := func(verify string) int {
				w := newRegistryWorld(t, "private")
				w.seed(t, -1)
				shared := w.releases[0].Children[0].Digest
				rebuild, err := w.reg.PushIndexOf(w.repo, []string{"rebuild"}, []string{shared})
				if err != nil {
					t.Fatal(err)
				}
				w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: rebuild.Digest, Tags: rebuild.Tags, CreatedAt: epoch, UpdatedAt: epoch})
				w.reg.ResetCounts()
				inputs := map[string]string{"verify": verify}
				for k, v := range tc.inputs {
					inputs[k] = v
				}
				plan := w.run(t, inputs)
				if tot := plan.Totals(); tot.Deleted == 0 || tot.Failed != 0 {
					t.Fatalf("deleted %d, failed %d", tot.Deleted, tot.Failed)
				}
				w.intact(t, rebuild)
				c := w.reg.Counts()
				return c.ManifestHeadByTag + c.ManifestHeadByDigest
			}
			if got := heads("true") - heads("false"); got != tc.heads {
				t.Errorf("post-run check: %d HEADs, want %d", got, tc.heads)
			}
		})
	}
}

func TestKeptUntaggedIndexKeepsItsMembers(t *testing.T) {
	// keep-latest over untagged versions keeps the newest untagged root:
	// here a superseded multi-arch build, whose platform and attestation
	// manifests must stay with it.
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	newestOld := w.old[len(w.old)-1]
	before := w.reg.Counts()
	w.run(t, map[string]string{"tag-state": "untagged", "keep-latest": "1"})
	// The 3 releases, main, the referrers index, then the one untagged
	// root keep-latest keeps and, of the 10 untagged roots the first plan
	// deletes, the newest of each burst of pushes: the other superseded
	// index, one manifest of the kept one's burst, the leftover image. No
	// member of a kept image is read.
	if reads := w.reg.Counts().ManifestGetByDigest - before.ManifestGetByDigest; reads != 6+3 {
		t.Errorf("manifest reads by digest = %d, want 9", reads)
	}
	if !w.reg.Has(w.repo, newestOld.Digest) {
		t.Fatalf("the newest untagged root %s was deleted; keep-latest 1 keeps it", newestOld.Digest[:19])
	}
	w.intact(t, newestOld)
	for _, o := range w.old[:len(w.old)-1] {
		w.gone(t, o)
	}
}

// A superseded index keep-latest keeps, whose manifest the registry
// answers 404 for (a replica behind, once or for the whole run), is
// unreadable as any failed read is: its platform manifests do not become
// untagged roots the rule deletes (half an image), nothing in the package
// is deleted, and the next run reads it again.
func TestKeptUntaggedIndexAnswering404DeletesNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		times int // 404s the registry answers; -1: every one
	}{
		{"once", 1},
		{"for the whole run", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newRegistryWorld(t, "private")
			w.seed(t, -1)
			newestOld := w.old[len(w.old)-1]
			w.reg.MissManifest(w.repo, newestOld.Digest, tc.times)
			plan := w.run(t, map[string]string{"tag-state": "untagged", "keep-latest": "1"})
			w.intact(t, newestOld)
			if n := w.gh.Mutations(); n != 0 {
				t.Errorf("%d mutating requests beside a kept index that could not be read", n)
			}
			unreadable := false
			for _, v := range plan.Packages[0].Versions {
				if v.Name == newestOld.Digest && v.Reason == policy.ReasonUnreadable {
					unreadable = true
				}
			}
			if !unreadable {
				t.Errorf("the kept index answering 404 is not reported %s", policy.ReasonUnreadable)
			}
		})
	}
}

func TestIndexPinnedByDigestKeepsItsMembers(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	pinned := w.old[0]
	w.run(t, map[string]string{"tag-state": "untagged", "keep-tags": pinned.Digest})
	w.intact(t, pinned)
	w.gone(t, w.old[1])
}

func TestUnreadableIndexKeepsItsTaggedPlatformImages(t *testing.T) {
	// v1 is a manifest list whose platform images are tagged v1-amd64 and
	// v1-arm64, as `docker manifest create` builds them; its manifest
	// cannot be read, so nothing in the package may be deleted.
	w := newRegistryWorld(t, "private")
	day := 24 * time.Hour
	v1, err := w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	w.record(v1, 60*day)
	for i, c := range v1.Children {
		if err := w.reg.Tag(w.repo, []string{"v1-amd64", "v1-arm64"}[i], c.Digest); err != nil {
			t.Fatal(err)
		}
	}
	v2, err := w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{"v2"}})
	if err != nil {
		t.Fatal(err)
	}
	w.record(v2, 10*day)
	for _, m := range w.reg.Manifests(w.repo) {
		at := w.created[m.Digest]
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: at})
	}
	w.reg.FailManifest(w.repo, v1.Digest, -1)

	w.run(t, map[string]string{"keep-latest": "1", "keep-tags": "v1"})

	w.intact(t, v1)
	w.intact(t, v2)
	if n := w.gh.Mutations(); n != 0 {
		t.Errorf("%d mutating requests beside an unreadable index", n)
	}
}

// With cache-path, a second run of the action on an unchanged package
// reads no manifest and sends no registry request, plans the same, and
// says so in the log and the summary.
func TestActionManifestCacheSecondRunReadsNothing(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	cacheDir := t.TempDir() + "/"
	runOnce := func() (*runner, *policy.Plan) {
		r := newRunner(t, w.srv.URL, map[string]string{
			"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
			"tag-state": "untagged", "dry-run": "true", "cache-path": cacheDir,
		})
		r.clock = w.clk
		r.run(t)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
		}
		return r, readPlan(t, r.planPath)
	}
	w.reg.ResetCounts()
	coldRun, cold := runOnce()
	if n := w.reg.Counts().ManifestGets(); n == 0 {
		t.Fatal("cold run read no manifest")
	}
	read := regexp.MustCompile(`Manifest cache: (\d+) manifests read from the registry`).FindStringSubmatch(coldRun.summaryText)
	if read == nil {
		t.Fatalf("cold run's summary lacks the cache line:\n%s", coldRun.summaryText)
	}
	w.reg.ResetCounts()
	r, warm := runOnce()
	// This registry is not ghcr.io by name, so the run asks its referrers
	// API once (404: none) and logs in for that; on ghcr.io it is never
	// asked and a warm run sends no registry request at all
	// (TestCacheWarmRunReadsNothing in containers). No manifest is read.
	c := w.reg.Counts()
	c.Referrers, c.Token, c.Unauthorized = 0, 0, 0
	if c != (fakeregistry.Counts{}) {
		t.Errorf("warm run sent registry requests beside the referrers API: %+v", c)
	}
	for i := range cold.Packages[0].Versions {
		a, b := cold.Packages[0].Versions[i], warm.Packages[0].Versions[i]
		if a.Name != b.Name || a.Decision != b.Decision || a.Reason != b.Reason {
			t.Errorf("version %s: %s %s cold, %s %s warm", a.Name, a.Decision, a.Reason, b.Decision, b.Reason)
		}
	}
	want := "Manifest cache: 0 manifests read from the registry, " + read[1] + " served from the cache, 0 rejected"
	if !strings.Contains(r.summaryText, want) || !strings.Contains(r.stdoutText, want) {
		t.Errorf("log or summary lacks %q:\n%s\n%s", want, r.stdoutText, r.summaryText)
	}
}

// TestActionManifestCacheKeptByARunThatReadsNothing: a run whose policy
// deletes nothing in the package reads no manifest, and keeps the cache's
// entries of the package's versions, so the next run that does delete
// reads nothing again.
func TestActionManifestCacheKeptByARunThatReadsNothing(t *testing.T) {
	w := newRegistryWorld(t, "private")
	w.seed(t, -1)
	cacheDir := t.TempDir() + "/"
	runOnce := func(olderThan string) {
		r := newRunner(t, w.srv.URL, map[string]string{
			"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
			"tag-state": "untagged", "older-than": olderThan, "dry-run": "true", "cache-path": cacheDir,
		})
		r.clock = w.clk
		r.run(t)
		if r.code != ExitOK {
			t.Fatalf("exit %d\n%s", r.code, r.stdoutText)
		}
	}
	runOnce("1d") // reads, and fills the cache
	w.reg.ResetCounts()
	runOnce("3650d") // nothing that old: nothing to read
	if n := w.reg.Counts().ManifestGets(); n != 0 {
		t.Fatalf("a run that deletes nothing read %d manifests", n)
	}
	w.reg.ResetCounts()
	runOnce("1d")
	if n := w.reg.Counts().ManifestGets(); n != 0 {
		t.Errorf("after a run that read nothing, %d manifests read again: its cache entries were dropped", n)
	}
}
