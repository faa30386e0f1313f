package app

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
)

// TestActionCleansAThreePackageOrganisation runs the action as a runner
// starts it on an organisation of three packages and 500 versions — a
// container package with multi-arch images in a real registry, an npm and
// a Maven package — under a policy file of four rules, and checks that
// exactly the versions the policy names are gone.
func TestActionCleansAThreePackageOrganisation(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	clk := clock.NewFake(now)
	gh := fakegh.New(fakegh.WithToken(testToken), fakegh.WithClock(clk))
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: testToken, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	mirrorToRegistry(gh, reg)
	gh.AddOrg("acme")

	// container acme/app: 20 tagged two-platform images (60 versions), one
	// a day, and 40 untagged leftovers aged 1 to 40 days and an hour.
	gh.AddPackage("acme", "container", "app", "private")
	repo := containers.Repository("acme", "app")
	created := map[string]time.Time{}
	var images []fakeregistry.Pushed // oldest first
	for i := 0; i < 20; i++ {
		p, err := reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{fmt.Sprintf("v1.%d.0", i)}, Platforms: []string{"linux/amd64", "linux/arm64"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.All() {
			created[m.Digest] = now.Add(-time.Duration(60-i) * day)
		}
		images = append(images, p)
	}
	var leftovers []fakeregistry.Pushed
	for age := 1; age <= 40; age++ {
		p, err := reg.PushImage(repo, fakeregistry.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		created[p.Digest] = now.Add(-time.Duration(age)*day - time.Hour)
		leftovers = append(leftovers, p)
	}
	for _, m := range reg.Manifests(repo) {
		gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: created[m.Digest], UpdatedAt: created[m.Digest]})
	}
	// npm acme/web: 250 versions, one a day, the newest a day old.
	gh.AddPackage("acme", "npm", "web", "private")
	gh.AddVersions("acme", "npm", "web", 250, func(i int) fakegh.Version {
		at := now.Add(-time.Duration(250-i) * day)
		return fakegh.Version{Name: fmt.Sprintf("3.0.%d", i), CreatedAt: at, UpdatedAt: at}
	})
	// maven acme/lib: 1.0.0 … 1.9.9 and 2.0.0 … 2.4.9.
	gh.AddPackage("acme", "maven", "lib", "private")
	gh.AddVersions("acme", "maven", "lib", 150, func(i int) fakegh.Version {
		at := now.Add(-time.Duration(150-i) * day)
		return fakegh.Version{Name: fmt.Sprintf("%d.%d.%d", 1+i/100, i%100/10, i%10), CreatedAt: at, UpdatedAt: at}
	})
	if n := len(gh.Active("acme", "container", "app")) + 250 + 150; n != 500 {
		t.Fatalf("seeded %d versions, want 500", n)
	}

	srv := newCountingServer(t, gh)
	// A docker action runs in the workspace; the test names the file by
	// its full path instead of changing the process's directory.
	dir := t.TempDir()
	r := newRunner(t, srv.URL, map[string]string{
		"policy-file":  filepath.Join(dir, "retention.yml"),
		"registry-url": reg.URL(),
	})
	r.clock = clk
	policyFile := `rules:
  - packages: app
    tag-state: untagged
    older-than: 7d
  - packages: app
    tag-state: tagged
    keep-latest: 5
  - packages: web
    package-type: npm
    keep-latest: 20
    older-than: 30d
  - packages: lib
    package-type: maven
    delete-semver: "<2.0.0"
`
	if err := os.WriteFile(filepath.Join(dir, "retention.yml"), []byte(policyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdoutText, r.stderrText)
	}

	// What the policy says, worked out from the seed alone.
	var wantApp []string
	for _, p := range images[15:] { // the 5 newest images, whole
		for _, m := range p.All() {
			wantApp = append(wantApp, m.Digest)
		}
	}
	for _, p := range leftovers[:6] { // untagged, aged 1 to 6 days and an hour: younger than 7d
		wantApp = append(wantApp, p.Digest)
	}
	var wantWeb, wantLib []string
	for i := 220; i < 250; i++ { // the 20 newest, and 10 more younger than 30 days
		wantWeb = append(wantWeb, fmt.Sprintf("3.0.%d", i))
	}
	for i := 100; i < 150; i++ {
		wantLib = append(wantLib, fmt.Sprintf("2.%d.%d", i%100/10, i%10))
	}
	for _, c := range []struct {
		typ, name string
		want      []string
	}{{"container", "app", wantApp}, {"npm", "web", wantWeb}, {"maven", "lib", wantLib}} {
		got := activeNames(gh, "acme", c.typ, c.name)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %d active versions after the run, want %d:\n got %v\nwant %v", c.typ, c.name, len(got), len(c.want), got, c.want)
		}
	}
	for _, p := range images[15:] {
		for _, m := range p.All() {
			if !reg.Has(repo, m.Digest) {
				t.Errorf("manifest %s of kept image %v is gone from the registry", m.Digest, p.Tags)
			}
		}
	}
	wantDeleted := 500 - len(wantApp) - len(wantWeb) - len(wantLib)
	if r.outputs[outDeleted] != fmt.Sprint(wantDeleted) || r.outputs[outFailed] != "0" {
		t.Errorf("outputs %v, want deleted-count %d and failed-count 0", r.outputs, wantDeleted)
	}
	if v := gh.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
	// Requests: one owner lookup, one page of packages per type, the
	// version pages (1 + 3 + 2), one DELETE per deletion.
	if got, want := gh.CountRequests(""), 1+3+6+wantDeleted; got != want {
		t.Errorf("API requests = %d, want %d", got, want)
	}
}
