package app

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// The README's "Coming from" sections translate the inputs of three other
// actions. peerInputs lists every input each one's action.yml declares, as
// read from their repositories (actions/delete-package-versions at 4dbb860,
// v5; dataaxiom/ghcr-cleanup-action at f092b48, v1.2.1+;
// snok/container-retention-policy at 54bd23d, v3.1.0, action.yaml), so
// that a test can check that every one of them has a row.
var peerInputs = map[string][]string{
	"actions/delete-package-versions": {"package-version-ids", "owner", "package-name", "package-type",
		"num-old-versions-to-delete", "min-versions-to-keep", "ignore-versions",
		"delete-only-pre-release-versions", "delete-only-untagged-versions", "token"},
	"dataaxiom/ghcr-cleanup-action": {"token", "owner", "repository", "package", "packages", "expand-packages",
		"delete-tags", "tags", "exclude-tags", "keep-n-untagged", "keep-n-tagged", "delete-untagged",
		"delete-ghost-images", "delete-partial-images", "delete-orphaned-images", "older-than",
		"use-regex", "validate", "dry-run", "log-level", "registry-url", "github-api-url"},
	"snok/container-retention-policy": {"account", "token", "cut-off", "image-names", "image-tags",
		"skip-shas", "tag-selection", "keep-n-most-recent", "timestamp-to-use", "dry-run", "rust-log"},
}

// peerWorld is a fake GitHub and a real OCI registry holding the packages
// of one owner; every container version is a manifest in the registry,
// pushed with the tags and ages a case gives.
type peerWorld struct {
	owner   string
	clk     *clock.Fake
	gh      *fakegh.Server
	srv     *httptest.Server
	reg     *fakeregistry.Registry
	pushed  map[string]fakeregistry.Pushed // by the case's name for it
	created map[string]time.Time           // by digest
	updated map[string]time.Time           // by digest, when not created
	pkgs    []string                       // container packages, in order
	npm     map[string][]fakegh.Version
}

func newPeerWorld(t *testing.T, owner string, user bool, more ...fakegh.Option) *peerWorld {
	t.Helper()
	clk := clock.NewFake(epoch)
	opts := append([]fakegh.Option{fakegh.WithToken(testToken), fakegh.WithClock(clk)}, more...)
	if user {
		opts = append(opts, fakegh.WithAuthenticatedUser(owner))
	}
	w := &peerWorld{owner: owner, clk: clk, pushed: map[string]fakeregistry.Pushed{},
		created: map[string]time.Time{}, updated: map[string]time.Time{}, npm: map[string][]fakegh.Version{}}
	w.gh = fakegh.New(opts...)
	w.srv = httptest.NewServer(w.gh)
	t.Cleanup(w.srv.Close)
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: testToken, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	w.reg = reg
	if !user { // WithAuthenticatedUser adds the user
		w.gh.AddOrg(owner)
	}
	w.gh.OnDelete(func(owner, typ, name string, v fakegh.Version) {
		_ = reg.DeleteManifest(containers.Repository(owner, name), v.Name)
	})
	return w
}

const day = 24 * time.Hour

func (w *peerWorld) repo(pkg string) string {
	if !slices.Contains(w.pkgs, pkg) {
		w.pkgs = append(w.pkgs, pkg)
	}
	return containers.Repository(w.owner, pkg)
}

func (w *peerWorld) record(t *testing.T, key string, p fakeregistry.Pushed, err error, age time.Duration) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	w.pushed[key] = p
	for _, m := range p.All() {
		if _, ok := w.created[m.Digest]; !ok {
			w.created[m.Digest] = epoch.Add(-age)
		}
	}
}

// image pushes a single-platform image; no tags: untagged.
func (w *peerWorld) image(t *testing.T, pkg, key string, age time.Duration, tags ...string) {
	t.Helper()
	p, err := w.reg.PushImage(w.repo(pkg), fakeregistry.ImageOptions{Tags: tags})
	w.record(t, key, p, err, age)
}

// multi pushes a multi-arch image: an index of two platforms with buildx
// attestations, each a version of its own on ghcr.io.
func (w *peerWorld) multi(t *testing.T, pkg, key string, age time.Duration, tags ...string) {
	t.Helper()
	p, err := w.reg.PushIndex(w.repo(pkg), fakeregistry.IndexOptions{Tags: tags, Attestations: true})
	w.record(t, key, p, err, age)
}

// signature pushes a cosign signature of the image pushed as key.
func (w *peerWorld) signature(t *testing.T, pkg, key, of string, age time.Duration) {
	t.Helper()
	p, err := w.reg.PushSignature(w.repo(pkg), w.pushed[of].Digest)
	w.record(t, key, p, err, age)
}

// orphan pushes a signature of an image that is then deleted.
func (w *peerWorld) orphan(t *testing.T, pkg, key string, age time.Duration) {
	t.Helper()
	gone, err := w.reg.PushImage(w.repo(pkg), fakeregistry.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.reg.PushSignature(w.repo(pkg), gone.Digest)
	w.record(t, key, p, err, age)
	if err := w.reg.DeleteManifest(w.repo(pkg), gone.Digest); err != nil {
		t.Fatal(err)
	}
}

// touch makes a version look re-pushed: updated age ago, created as before.
func (w *peerWorld) touch(key string, age time.Duration) {
	w.updated[w.pushed[key].Digest] = epoch.Add(-age)
}

// npmVersion adds a version of an npm package.
func (w *peerWorld) npmVersion(pkg, name string, age time.Duration) {
	at := epoch.Add(-age)
	w.npm[pkg] = append(w.npm[pkg], fakegh.Version{Name: name, CreatedAt: at, UpdatedAt: at})
}

// publish lists in the fake API every manifest of the registry and every
// npm version, as ghcr.io and npm.pkg.github.com do.
func (w *peerWorld) publish(t *testing.T) {
	t.Helper()
	for _, pkg := range w.pkgs {
		w.gh.AddPackage(w.owner, "container", pkg, "private")
		for _, m := range w.reg.Manifests(w.repo(pkg)) {
			at, ok := w.created[m.Digest]
			if !ok {
				t.Fatalf("no push time for %s", m.Digest)
			}
			up := at
			if u, ok := w.updated[m.Digest]; ok {
				up = u
			}
			w.gh.AddVersion(w.owner, "container", pkg, fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: up})
		}
	}
	names := make([]string, 0, len(w.npm))
	for pkg := range w.npm {
		names = append(names, pkg)
	}
	sort.Strings(names)
	for _, pkg := range names {
		w.gh.AddPackage(w.owner, "npm", pkg, "private")
		for _, v := range w.npm[pkg] {
			w.gh.AddVersion(w.owner, "npm", pkg, v)
		}
	}
}

// peerCase runs our side of one translated row (or example) of a "Coming
// from" table: theirs names the inputs of the other action whose row it
// backs; ours gives our inputs (or a policy file); want gives the decision
// for the versions the world named (every manifest of a container image).
type peerCase struct {
	name   string
	peer   string
	theirs []string
	user   bool // the owner is the token's own user account
	world  func(t *testing.T, w *peerWorld)
	ours   func(w *peerWorld) map[string]string
	policy string // a policy file, given as policy-file
	want   map[string]policy.Decision
	// npm decisions by version name, package "widgets".
	wantNpm map[string]policy.Decision
	// packages, when set, are the only packages the plan may hold.
	packages []string
}

// Worlds the cases share.

// npmWidgets: releases and pre-releases of an npm package, oldest first.
func npmWidgets(t *testing.T, w *peerWorld) {
	for i, name := range []string{"1.0.0", "1.1.0-rc.1", "1.1.0", "2.0.0-beta.1", "2.0.0-beta.2", "2.0.0", "2.1.0"} {
		w.npmVersion("widgets", name, time.Duration(200-20*i)*day)
	}
}

// ghcrApp: two signed multi-arch releases, a superseded multi-arch build
// (untagged index), untagged single images of several ages, an orphan
// signature.
func ghcrApp(t *testing.T, w *peerWorld) {
	w.multi(t, "app", "v1.0.0", 90*day, "v1.0.0")
	w.signature(t, "app", "v1.0.0.sig", "v1.0.0", 90*day)
	w.multi(t, "app", "v1.1.0", 60*day, "v1.1.0", "latest")
	w.signature(t, "app", "v1.1.0.sig", "v1.1.0", 60*day)
	w.multi(t, "app", "old-build", 30*day)
	w.image(t, "app", "untagged-50d", 50*day)
	w.image(t, "app", "untagged-40d", 40*day)
	w.image(t, "app", "untagged-10d", 10*day)
	w.orphan(t, "app", "orphan-sig", 70*day)
}

// taggedApp: single images with tags, oldest first, and one untagged.
func taggedApp(t *testing.T, w *peerWorld) {
	w.image(t, "app", "v1", 90*day, "v1")
	w.image(t, "app", "v2", 60*day, "v2")
	w.image(t, "app", "v3", 20*day, "v3")
	w.image(t, "app", "v4", 10*day, "v4")
	w.image(t, "app", "untagged", 40*day)
}

const (
	del  = policy.Delete
	keep = policy.Keep
	prot = policy.Protected
)

func inputs(kv ...string) func(*peerWorld) map[string]string {
	return func(*peerWorld) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
}

var peerCases = []peerCase{
	// actions/delete-package-versions
	{
		name: "keep the 2 newest versions", peer: "actions/delete-package-versions",
		theirs: []string{"package-name", "package-type", "owner", "token", "min-versions-to-keep"},
		world:  npmWidgets,
		ours:   inputs("packages", "widgets", "package-type", "npm", "owner", "acme", "token", testToken, "keep-latest", "2"),
		wantNpm: map[string]policy.Decision{"1.0.0": del, "1.1.0-rc.1": del, "1.1.0": del, "2.0.0-beta.1": del, "2.0.0-beta.2": del,
			"2.0.0": keep, "2.1.0": keep},
	},
	{
		// There, ignored versions are left out before counting; here they
		// take their keep-latest places: 2.0.0 is one of the 3 newest.
		name: "ignore major versions, keep 3", peer: "actions/delete-package-versions",
		theirs: []string{"ignore-versions"},
		world:  npmWidgets,
		ours:   inputs("packages", "widgets", "package-type", "npm", "keep-latest", "3", "keep-tags", `/(0|[1-9]\d*)\.0\.0/`),
		wantNpm: map[string]policy.Decision{"1.0.0": keep, "1.1.0-rc.1": del, "1.1.0": del, "2.0.0-beta.1": del, "2.0.0-beta.2": keep,
			"2.0.0": keep, "2.1.0": keep},
	},
	{
		name: "pre-releases only, keep the newest", peer: "actions/delete-package-versions",
		theirs: []string{"delete-only-pre-release-versions"},
		world:  npmWidgets,
		ours:   inputs("packages", "widgets", "package-type", "npm", "delete-tags", `/.*[^0-9.].*/`, "keep-latest", "1"),
		wantNpm: map[string]policy.Decision{"1.0.0": keep, "1.1.0-rc.1": del, "1.1.0": keep, "2.0.0-beta.1": del, "2.0.0-beta.2": keep,
			"2.0.0": keep, "2.1.0": keep},
	},
	{
		// The 3 oldest go; the rest are deferred to the next run (kept,
		// reason max-deletions), the newest is never deleted.
		name: "the 3 oldest versions", peer: "actions/delete-package-versions",
		theirs: []string{"num-old-versions-to-delete"},
		world:  npmWidgets,
		ours:   inputs("packages", "widgets", "package-type", "npm", "max-deletions", "3"),
		wantNpm: map[string]policy.Decision{"1.0.0": del, "1.1.0-rc.1": del, "1.1.0": del, "2.0.0-beta.1": keep, "2.0.0-beta.2": keep,
			"2.0.0": keep, "2.1.0": prot},
	},
	{
		// There, every untagged version counts, platform manifests of the
		// releases included: deleting them breaks v1.0.0 and v1.1.0. Here
		// the releases are intact and the superseded build goes whole.
		name: "untagged, keep the newest", peer: "actions/delete-package-versions",
		theirs: []string{"delete-only-untagged-versions"},
		world:  ghcrApp,
		ours:   inputs("packages", "app", "tag-state", "untagged", "keep-latest", "1"),
		want: map[string]policy.Decision{"v1.0.0": keep, "v1.0.0.sig": keep, "v1.1.0": keep, "v1.1.0.sig": keep,
			"old-build": del, "untagged-50d": del, "untagged-40d": del, "untagged-10d": keep, "orphan-sig": del},
	},

	// dataaxiom/ghcr-cleanup-action
	{
		name: "untagged images", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"package", "packages", "owner", "token", "delete-untagged", "dry-run", "registry-url", "github-api-url"},
		world:  ghcrApp,
		ours:   inputs("packages", "app", "owner", "acme", "tag-state", "untagged", "dry-run", "true"),
		want: map[string]policy.Decision{"v1.0.0": keep, "v1.0.0.sig": keep, "v1.1.0": keep, "v1.1.0.sig": keep,
			"old-build": del, "untagged-50d": del, "untagged-40d": del, "untagged-10d": del, "orphan-sig": del},
	},
	{
		name: "orphan signatures are untagged", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"delete-orphaned-images"},
		world: func(t *testing.T, w *peerWorld) {
			w.multi(t, "app", "v1", 30*day, "v1")
			w.signature(t, "app", "v1.sig", "v1", 30*day)
			w.orphan(t, "app", "orphan-sig", 20*day)
		},
		ours: inputs("packages", "app", "tag-state", "untagged"),
		want: map[string]policy.Decision{"v1": keep, "v1.sig": keep, "orphan-sig": del},
	},
	{
		// An image with a pull-request tag and a release tag is deleted
		// whole here unless a keep protects it; there the tag is removed
		// and the image stays.
		name: "pull-request tags, releases kept", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"delete-tags", "tags", "exclude-tags"},
		world: func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "pr-1+v1.0.0", 30*day, "pr-1", "v1.0.0")
			w.image(t, "app", "pr-2", 20*day, "pr-2")
			w.image(t, "app", "pr-3+dev", 15*day, "pr-3", "dev")
			w.image(t, "app", "latest", 10*day, "latest")
		},
		ours: inputs("packages", "app", "delete-tags", "pr-*", "keep-tags", "v*"),
		want: map[string]policy.Decision{"pr-1+v1.0.0": keep, "pr-2": del, "pr-3+dev": del, "latest": keep},
	},
	{
		name: "a digest where a tag is expected", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"delete-tags"},
		world:  taggedApp,
		ours: func(w *peerWorld) map[string]string {
			return map[string]string{"packages": "app", "delete-tags": w.pushed["untagged"].Digest + ", " + w.pushed["v2"].Digest}
		},
		want: map[string]policy.Decision{"v1": keep, "v2": del, "v3": keep, "v4": keep, "untagged": del},
	},
	{
		name: "keep the 2 newest tagged images", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"keep-n-tagged"},
		world:  taggedApp,
		ours:   inputs("packages", "app", "tag-state", "tagged", "keep-latest", "2"),
		want:   map[string]policy.Decision{"v1": del, "v2": del, "v3": keep, "v4": keep, "untagged": keep},
	},
	{
		name: "keep the newest untagged image", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"keep-n-untagged"},
		world:  ghcrApp,
		ours:   inputs("packages", "app", "tag-state", "untagged", "keep-latest", "1"),
		want: map[string]policy.Decision{"v1.0.0": keep, "v1.1.0": keep, "old-build": del,
			"untagged-50d": del, "untagged-40d": del, "untagged-10d": keep, "orphan-sig": del},
	},
	{
		name: "untagged images older than 30 days", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"older-than"},
		world:  ghcrApp,
		ours:   inputs("packages", "app", "tag-state", "untagged", "older-than", "30d"),
		want: map[string]policy.Decision{"v1.0.0": keep, "v1.1.0": keep, "old-build": keep,
			"untagged-50d": del, "untagged-40d": del, "untagged-10d": keep, "orphan-sig": del},
	},
	{
		name: "a regular expression per pattern", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"use-regex"},
		world: func(t *testing.T, w *peerWorld) {
			for i, tag := range []string{"mytag1", "mytag2", "mytag3", "mytag12", "latest"} {
				w.image(t, "app", tag, time.Duration(50-10*i)*day, tag)
			}
		},
		ours: inputs("packages", "app", "delete-tags", `/^mytag[12]$/`),
		want: map[string]policy.Decision{"mytag1": del, "mytag2": del, "mytag3": keep, "mytag12": keep, "latest": keep},
	},
	{
		// A real run: verify checks every kept tag and every child of a
		// kept index after the deletions, and the run succeeds.
		name: "a real run, checked after", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"validate"},
		world:  ghcrApp,
		ours:   inputs("packages", "app", "tag-state", "untagged", "dry-run", "false", "verify", "true"),
		want: map[string]policy.Decision{"v1.0.0": keep, "v1.0.0.sig": keep, "v1.1.0": keep, "v1.1.0.sig": keep,
			"old-build": del, "untagged-50d": del, "orphan-sig": del},
	},
	{
		// Their example "keep 10 tagged images plus dev, drop everything
		// else" (with 2 here): several options in one run are two rules.
		name: "keep tagged plus dev, delete untagged", peer: "dataaxiom/ghcr-cleanup-action",
		theirs: []string{"keep-n-tagged", "exclude-tags", "delete-untagged"},
		world: func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "dev", 100*day, "dev")
			taggedApp(t, w)
		},
		policy: "rules:\n  - packages: app\n    tag-state: untagged\n  - packages: app\n    tag-state: tagged\n    keep-latest: 2\n    keep-tags: dev\n",
		want:   map[string]policy.Decision{"dev": keep, "v1": del, "v2": del, "v3": keep, "v4": keep, "untagged": del},
	},

	// snok/container-retention-policy
	{
		name: "an organisation, two packages", peer: "snok/container-retention-policy",
		theirs: []string{"account", "token", "image-names", "dry-run"},
		world: func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "app:v1", 10*day, "v1")
			w.image(t, "app", "app:untagged", 5*day)
			w.image(t, "lib", "lib:v1", 10*day, "v1")
			w.image(t, "lib", "lib:untagged", 5*day)
		},
		ours: inputs("owner", "acme", "token", testToken, "packages", "app, lib", "tag-state", "untagged", "dry-run", "true"),
		want: map[string]policy.Decision{"app:v1": keep, "app:untagged": del, "lib:v1": keep, "lib:untagged": del},
	},
	{
		// Globs and exclusions, on npm packages: a workflow's GITHUB_TOKEN
		// may list those, not container packages (api-facts.md).
		name: "package globs and exclusions", peer: "snok/container-retention-policy",
		theirs: []string{"image-names"},
		world: func(t *testing.T, w *peerWorld) {
			w.npmVersion("widgets", "1.0.0", 30*day)
			w.npmVersion("widgets", "1.1.0", 20*day)
			w.npmVersion("widgets-legacy", "0.1.0", 30*day)
			w.npmVersion("widgets-legacy", "0.2.0", 20*day)
			w.npmVersion("gadgets", "5.0.0", 30*day)
			w.npmVersion("gadgets", "5.1.0", 20*day)
		},
		ours:     inputs("packages", "widgets*, !widgets-legacy", "package-type", "npm", "older-than", "7d"),
		wantNpm:  map[string]policy.Decision{"1.0.0": del, "1.1.0": prot},
		packages: []string{"widgets"},
	},
	{
		name: "the token's own account", peer: "snok/container-retention-policy",
		theirs: []string{"account"},
		user:   true,
		world: func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "v1", 10*day, "v1")
			w.image(t, "app", "untagged", 5*day)
		},
		// "@me" would do for the API, but the registry reads need the login
		// (the run fails closed on "@me/app"): name the user.
		ours: inputs("owner", "octo", "packages", "app", "tag-state", "untagged"),
		want: map[string]policy.Decision{"v1": keep, "untagged": del},
	},
	{
		// There a version is selected only when all its tags match and
		// untagged ones are selected anyway (tag-selection: both); here
		// one matching tag selects it, and untagged versions need a rule
		// of their own.
		name: "tags to delete and tags to spare", peer: "snok/container-retention-policy",
		theirs: []string{"image-tags"},
		world: func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "test-1", 30*day, "test-1")
			w.image(t, "app", "dev-1", 30*day, "dev-1")
			w.image(t, "app", "test-2+v1.0.0", 30*day, "test-2", "v1.0.0")
			w.image(t, "app", "test-3+prod", 30*day, "test-3", "prod")
			w.image(t, "app", "untagged", 30*day)
			w.image(t, "app", "prod", 5*day, "latest")
		},
		ours: inputs("packages", "app", "delete-tags", "test*, dev*", "keep-tags", "prod"),
		want: map[string]policy.Decision{"test-1": del, "dev-1": del, "test-2+v1.0.0": del, "test-3+prod": keep, "untagged": keep, "prod": keep},
	},
	{
		name: "skip a digest", peer: "snok/container-retention-policy",
		theirs: []string{"skip-shas"},
		world:  ghcrApp,
		ours: func(w *peerWorld) map[string]string {
			return map[string]string{"packages": "app", "tag-state": "untagged", "keep-tags": w.pushed["untagged-50d"].Digest}
		},
		want: map[string]policy.Decision{"v1.0.0": keep, "old-build": del, "untagged-50d": keep, "untagged-40d": del, "untagged-10d": del},
	},
	{
		name: "tagged only, older than 2w3d, keep 1", peer: "snok/container-retention-policy",
		theirs: []string{"tag-selection", "cut-off", "keep-n-most-recent"},
		world:  taggedApp,
		ours:   inputs("packages", "app", "tag-state", "tagged", "older-than", "2w3d", "keep-latest", "1"),
		// keep-latest keeps v4 (the newest); v3 is 20 days old, older than
		// 17 days: deleted. There, cut-off comes first and keep-n-most-recent
		// would keep v3, the newest of those older than the cut-off.
		want: map[string]policy.Decision{"v1": del, "v2": del, "v3": del, "v4": keep, "untagged": keep},
	},
	{
		name: "age by creation", peer: "snok/container-retention-policy",
		theirs: []string{"timestamp-to-use"},
		world: func(t *testing.T, w *peerWorld) {
			taggedApp(t, w)
			w.image(t, "app", "retagged", 40*day, "stable")
			w.touch("retagged", 1*day)
		},
		ours: inputs("packages", "app", "tag-state", "tagged", "older-than", "30d", "age-basis", "created"),
		want: map[string]policy.Decision{"v1": del, "v2": del, "v3": keep, "v4": keep, "retagged": del},
	},
}

// runPeer runs one case as a runner runs the action (a dry run unless the
// case says otherwise) and returns the plan.
func runPeer(t *testing.T, c peerCase) (*peerWorld, *policy.Plan) {
	t.Helper()
	owner := "acme"
	if c.user {
		owner = "octo"
	}
	w := newPeerWorld(t, owner, c.user)
	c.world(t, w)
	w.publish(t)
	in := map[string]string{"dry-run": "true", "registry-url": w.reg.URL()}
	if c.ours != nil {
		for k, v := range c.ours(w) {
			in[k] = v
		}
	}
	if c.policy != "" {
		path := filepath.Join(t.TempDir(), "package-retention.yml")
		if err := os.WriteFile(path, []byte(c.policy), 0o644); err != nil {
			t.Fatal(err)
		}
		in["policy-file"] = path
	}
	r := newRunner(t, w.srv.URL, in)
	r.clock = w.clk
	r.run(t)
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s", r.code, r.stdoutText)
	}
	plan := readPlan(t, r.planPath)
	if in["dry-run"] == "true" {
		for _, req := range w.gh.Requests() {
			if req.Method != "GET" {
				t.Errorf("a dry run sent %s %s", req.Method, req.Path)
			}
		}
	}
	return w, plan
}

func TestComingFromTranslations(t *testing.T) {
	t.Parallel()
	for _, c := range peerCases {
		t.Run(c.peer+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			w, plan := runPeer(t, c)
			decisions := map[string]policy.VersionPlan{}
			for _, pp := range plan.Packages {
				if !pp.Complete {
					t.Fatalf("package %s incomplete: %s", pp.Name, pp.Error)
				}
				for _, v := range pp.Versions {
					key := v.Name
					if pp.Type == policy.Npm {
						key = "npm:" + v.Name
					}
					decisions[key] = v
				}
			}
			for key, want := range c.want {
				p, ok := w.pushed[key]
				if !ok {
					t.Fatalf("case names %q, which the world did not push", key)
				}
				// An image's manifests go together: the index, its
				// platform and attestation manifests.
				for _, m := range p.All() {
					v, ok := decisions[m.Digest]
					if !ok {
						if want == del && c.ours != nil && c.ours(w)["dry-run"] == "false" {
							continue // deleted and gone from a later listing: fine
						}
						t.Errorf("%s: %s %.19s is not in the plan", key, m.Kind, m.Digest)
						continue
					}
					if v.Decision != want {
						t.Errorf("%s: %s %.19s: %s (%s), want %s", key, m.Kind, m.Digest, v.Decision, v.Reason, want)
					}
				}
			}
			if c.packages != nil {
				var got []string
				for _, pp := range plan.Packages {
					got = append(got, pp.Name)
				}
				if !slices.Equal(got, c.packages) {
					t.Errorf("planned packages %v, want %v", got, c.packages)
				}
			}
			for name, want := range c.wantNpm {
				v, ok := decisions["npm:"+name]
				if !ok {
					t.Fatalf("npm version %s not in the plan", name)
				}
				if v.Decision != want {
					t.Errorf("npm %s: %s (%s), want %s", name, v.Decision, v.Reason, want)
				}
			}
			if c.ours != nil && c.ours(w)["dry-run"] == "false" {
				for key, want := range c.want {
					for _, m := range w.pushed[key].All() {
						if has := w.reg.Has(containers.Repository(w.owner, "app"), m.Digest); has != (want != del) {
							t.Errorf("after the run, %s %.19s of %s in the registry: %v", m.Kind, m.Digest, key, has)
						}
					}
				}
			}
		})
	}
}

// peerSection returns the README's table rows of the "Coming from" section
// of peer: first cell, second cell.
func peerSection(t *testing.T, readme, peer string) (rows [][2]string, body string) {
	t.Helper()
	head := "### From " + peer + "\n"
	i := strings.Index(readme, head)
	if i < 0 {
		t.Fatalf("README has no section %q", strings.TrimSpace(head))
	}
	body = readme[i+len(head):]
	if j := strings.Index(body, "\n### "); j >= 0 {
		body = body[:j]
	}
	if j := strings.Index(body, "\n## "); j >= 0 {
		body = body[:j]
	}
	in := false
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "| input there |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.SplitN(strings.Trim(line, "|"), " | ", 2)
		if len(cells) != 2 {
			t.Fatalf("README %s row %q: want two cells", peer, line)
		}
		rows = append(rows, [2]string{strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])})
	}
	return rows, body
}

var backticked = regexp.MustCompile("`([^`]+)`")

// TestComingFromTablesAreBacked checks the README's tables: every input of
// each peer has a row; a row that gives an equivalent (not "no
// equivalent") is backed by a case above that runs our side of it; every
// input of ours a row names exists.
func TestComingFromTablesAreBacked(t *testing.T) {
	t.Parallel()
	readme := string(repoFile(t, "README.md"))
	backed := map[string]bool{}
	for _, c := range peerCases {
		for _, in := range c.theirs {
			backed[c.peer+" "+in] = true
		}
	}
	for peer, theirs := range peerInputs {
		rows, _ := peerSection(t, readme, peer)
		covered := map[string]bool{}
		for _, row := range rows {
			var names []string
			for _, m := range backticked.FindAllStringSubmatch(row[0], -1) {
				name, _, _ := strings.Cut(m[1], ":")
				if !slices.Contains(theirs, name) {
					t.Errorf("%s: row %q names %q, which is not an input of %s", peer, row[0], name, peer)
					continue
				}
				names = append(names, name)
				covered[name] = true
			}
			equivalent := !strings.HasPrefix(row[1], "no equivalent")
			for _, name := range names {
				if equivalent && !backed[peer+" "+name] {
					t.Errorf("%s: the row of %s claims an equivalent, and no case runs it", peer, name)
				}
			}
			for _, m := range backticked.FindAllStringSubmatch(row[1], -1) {
				name, _, _ := strings.Cut(m[1], ":")
				if _, ok := policy.LookupInput(name); !ok && regexp.MustCompile(`^[a-z]+(-[a-z]+)+$`).MatchString(name) && !slices.Contains(theirs, name) && !isOutput(name) {
					t.Errorf("%s: row %q names %q, which is not one of our inputs", peer, row[0], name)
				}
			}
		}
		for _, in := range theirs {
			if !covered[in] {
				t.Errorf("%s: input %s has no row in the README", peer, in)
			}
		}
	}
	for key := range backed {
		peer, in, _ := strings.Cut(key, " ")
		if !slices.Contains(peerInputs[peer], in) {
			t.Errorf("a case backs %s of %s, which is not one of its inputs", in, peer)
		}
	}
}

func isOutput(name string) bool {
	for _, o := range Outputs {
		if o.Name == name {
			return true
		}
	}
	return false
}

// TestComingFromExamples runs the README's translation of each peer's most
// common workflow (the yaml block after "Their most common workflow") and
// checks it decides as the section says.
func TestComingFromExamples(t *testing.T) {
	t.Parallel()
	readme := string(repoFile(t, "README.md"))
	tests := []struct {
		peer  string
		world func(t *testing.T, w *peerWorld)
		want  map[string]policy.Decision
	}{
		{"actions/delete-package-versions", func(t *testing.T, w *peerWorld) {
			// A release whose platform manifests are 4 untagged versions,
			// and 12 untagged builds: the 10 newest builds stay, and the
			// release stays whole.
			w.multi(t, "app", "v1.0.0", 60*day, "v1.0.0")
			for i := range 12 {
				w.image(t, "app", fmt.Sprintf("build-%d", i), time.Duration(40-2*i)*day)
			}
		}, map[string]policy.Decision{"v1.0.0": keep, "build-0": del, "build-1": del, "build-2": keep, "build-11": keep}},
		{"dataaxiom/ghcr-cleanup-action", ghcrApp, map[string]policy.Decision{
			"v1.0.0": keep, "v1.0.0.sig": keep, "v1.1.0": keep, "v1.1.0.sig": keep,
			"old-build": del, "untagged-50d": del, "untagged-40d": del, "untagged-10d": del, "orphan-sig": del}},
		{"snok/container-retention-policy", func(t *testing.T, w *peerWorld) {
			w.image(t, "app", "test-1", 30*day, "test-1")
			w.image(t, "app", "dev-1", 10*day, "dev-1")
			w.image(t, "app", "v1", 30*day, "v1")
			w.image(t, "app", "untagged-30d", 30*day)
			w.image(t, "app", "untagged-5d", 5*day)
		}, map[string]policy.Decision{"test-1": del, "dev-1": keep, "v1": keep, "untagged-30d": del, "untagged-5d": keep}},
	}
	for _, tt := range tests {
		t.Run(tt.peer, func(t *testing.T) {
			t.Parallel()
			_, body := peerSection(t, readme, tt.peer)
			blocks := fencedBlocks(body)
			var with map[string]string
			var policyFile string
			for _, b := range blocks {
				if b[0] != "yaml" {
					continue
				}
				if strings.HasPrefix(b[1], "rules:") || strings.Contains(b[1], "\nrules:") {
					policyFile = b[1]
					continue
				}
				if !strings.Contains(b[1], "uses: pkgretention/retention@v1") {
					continue
				}
				with = stepWith(t, b[1])
			}
			if with == nil {
				t.Fatalf("no workflow using pkgretention/retention@v1 in the %s section", tt.peer)
			}
			c := peerCase{peer: tt.peer, world: tt.world, want: tt.want, ours: func(*peerWorld) map[string]string {
				m := map[string]string{}
				for k, v := range with {
					if strings.Contains(v, "${{") { // dry-run: ${{ inputs.dry-run || 'false' }} and the like
						continue
					}
					m[k] = v
				}
				delete(m, "policy-file")
				return m
			}}
			if with["policy-file"] != "" {
				if policyFile == "" {
					t.Fatal("the example names a policy-file and the section shows none")
				}
				c.policy = policyFile
			}
			w, plan := runPeer(t, c)
			got := map[string]policy.Decision{}
			for _, v := range plan.Packages[0].Versions {
				got[v.Name] = v.Decision
			}
			for key, want := range tt.want {
				for _, m := range w.pushed[key].All() {
					if got[m.Digest] != want {
						t.Errorf("%s: %s %.19s: %s, want %s", key, m.Kind, m.Digest, got[m.Digest], want)
					}
				}
			}
		})
	}
}

// stepWith returns the with: of the step of a workflow (or a list of steps)
// that uses pkgretention/retention@v1.
func stepWith(t *testing.T, text string) map[string]string {
	t.Helper()
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal([]byte(text), &wf); err != nil {
		t.Fatalf("README workflow: %v\n%s", err, text)
	}
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if s.Uses == "pkgretention/retention@v1" {
				return s.With
			}
		}
	}
	return nil
}
