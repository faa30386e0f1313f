package app

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// otherToolDeletes deletes the version named digest of acme/app through
// the API, as a cleanup tool that does not know image indexes does: the
// fake registry then answers 404 for its manifest, as ghcr.io does.
func (w *registryWorld) otherToolDeletes(t *testing.T, digest string) {
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
func platformOf(t *testing.T, idx fakeregistry.Pushed) string {
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

	r := newRunner(t, w.srv.URL, map[string]string{
		"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
		"tag-state": "untagged", "older-than": "7d",
	})
	r.clock = w.clk
	r.run(t)

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
