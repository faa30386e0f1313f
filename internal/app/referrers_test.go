package app

import (
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// referrerWorld holds a kept tagged image, an untagged image the plan
// deletes, and OCI 1.1 referrers no fallback index lists: one of each
// image, and one whose image is gone (an orphan).
type referrerWorld struct {
	*registryWorld
	kept, old                fakeregistry.Pushed
	keptRef, oldRef, orphRef fakeregistry.Pushed
}

func newReferrerWorld(t *testing.T, oldDownloads int) *referrerWorld {
	t.Helper()
	visibility := "private"
	if oldDownloads > 5000 {
		visibility = "public" // GitHub's download rule applies to public packages
	}
	w := &referrerWorld{registryWorld: newRegistryWorld(t, visibility)}
	must := func(p fakeregistry.Pushed, err error) fakeregistry.Pushed {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	day := 24 * time.Hour
	w.kept = must(w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{"v1"}, Platforms: []string{"linux/amd64", "linux/arm64"}}))
	w.record(w.kept, 40*day)
	w.keptRef = must(w.reg.PushBareReferrer(w.repo, w.kept.Digest, ""))
	w.record(w.keptRef, 40*day)
	w.old = must(w.reg.PushImage(w.repo, fakeregistry.ImageOptions{}))
	w.record(w.old, 30*day)
	w.oldRef = must(w.reg.PushBareReferrer(w.repo, w.old.Digest, "application/vnd.in-toto+json"))
	w.record(w.oldRef, 30*day)
	gone := must(w.reg.PushImage(w.repo, fakeregistry.ImageOptions{}))
	w.orphRef = must(w.reg.PushBareReferrer(w.repo, gone.Digest, ""))
	w.record(w.orphRef, 20*day)
	if err := w.reg.DeleteManifest(w.repo, gone.Digest); err != nil {
		t.Fatal(err)
	}
	for _, m := range w.reg.Manifests(w.repo) {
		if len(m.Tags) > 0 && m.Digest != w.kept.Digest {
			t.Fatalf("%s has tags %v: the referrers are not bare", m.Digest, m.Tags)
		}
		at := w.created[m.Digest]
		dl := 0
		if m.Digest == w.old.Digest {
			dl = oldDownloads
		}
		w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: at, Downloads: dl})
	}
	return w
}

func planned(plan *policy.Plan, digest string) policy.VersionPlan {
	for _, v := range plan.Packages[0].Versions {
		if v.Name == digest {
			return v
		}
	}
	return policy.VersionPlan{}
}

// A bare OCI 1.1 referrer (no fallback index lists it, as ghcr.io can
// leave one) is kept with its kept image, goes after its deleted image,
// and goes as untagged when its image is gone; the untagged roots the
// plan deletes are each read once, nothing kept is read beyond today's.
func TestBareReferrersStayWithTheirImage(t *testing.T) {
	for _, api := range []bool{false, true} {
		name := "no referrers API (ghcr.io)"
		if api {
			name = "referrers API"
		}
		t.Run(name, func(t *testing.T) {
			w := newReferrerWorld(t, 0)
			w.reg.SetReferrersAPI(api)
			before := w.reg.Counts()

			plan := w.run(t, map[string]string{"tag-state": "untagged"})

			if v := planned(plan, w.keptRef.Digest); v.Decision != policy.Keep || v.Reason != policy.ReasonChildOfPrefix+w.kept.Digest {
				t.Errorf("referrer of the kept image: %s %q, want keep %q", v.Decision, v.Reason, policy.ReasonChildOfPrefix+w.kept.Digest)
			}
			w.intact(t, w.kept)
			w.intact(t, w.keptRef)
			if v := planned(plan, w.oldRef.Digest); v.Decision != policy.Delete || v.Reason != policy.ReasonChildOfPrefix+w.old.Digest {
				t.Errorf("referrer of the deleted image: %s %q, want delete %q", v.Decision, v.Reason, policy.ReasonChildOfPrefix+w.old.Digest)
			}
			w.gone(t, w.old)
			w.gone(t, w.oldRef)
			if v := planned(plan, w.orphRef.Digest); v.Decision != policy.Delete || v.Result != policy.ResultDeleted {
				t.Errorf("orphan referrer: %s %q %s, want deleted", v.Decision, v.Reason, v.Result)
			}
			w.gone(t, w.orphRef)
			w.rootsBeforeMembers(t, plan)

			// Read: the tagged index (as today), and the four untagged
			// roots the first plan deletes (the three referrers and the
			// old image), each once. The platform
			// manifests of the kept image are never read.
			c := w.reg.Counts()
			if got, want := c.ManifestGetByDigest-before.ManifestGetByDigest, 1+4; got != want {
				t.Errorf("manifest reads by digest = %d, want %d", got, want)
			}
			for _, p := range []fakeregistry.Pushed{w.keptRef, w.old, w.oldRef, w.orphRef} {
				if n := w.reg.Reads(w.repo, p.Digest); n != 1 {
					t.Errorf("%s read %d times, want 1", p.Digest[:19], n)
				}
			}
			// The referrers API is asked about the kept image once; a
			// registry without it answers 404 once and is not asked again.
			if got := c.Referrers - before.Referrers; got != 1 {
				t.Errorf("referrers API requests = %d, want 1", got)
			}
		})
	}
}

// A referrer goes with its deleted image only if the image's DELETE
// succeeded: GitHub refuses an image with more than 5,000 downloads, and
// its referrer stays.
func TestBareReferrerOfARefusedImageStays(t *testing.T) {
	w := newReferrerWorld(t, 9000)
	plan := w.run(t, map[string]string{"tag-state": "untagged"})
	if v := planned(plan, w.old.Digest); v.Result != policy.ResultProtected {
		t.Fatalf("old image: result %q, want %q", v.Result, policy.ResultProtected)
	}
	w.intact(t, w.old)
	w.intact(t, w.oldRef)
	if v := planned(plan, w.oldRef.Digest); v.Result == policy.ResultDeleted {
		t.Errorf("referrer of the refused image deleted")
	}
	w.gone(t, w.orphRef)
}
