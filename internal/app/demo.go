package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// The demo's sample organisation, its token (accepted by the demo's own
// servers only) and the time the demo runs at, fixed so that every run
// shows the same plan.
const (
	demoOwner = "acme"
	demoToken = "demo-token-accepted-by-the-demo-servers-only"
)

var demoNow = time.Date(2026, 11, 20, 3, 17, 0, 0, time.UTC)

// demoPolicy is the demo's policy file.
const demoPolicy = `rules:
  # Untagged images (superseded builds, leftovers, orphan signatures)
  # after a week. The platform manifests and attestations of a tagged
  # image are never "untagged": they go only with their image.
  - packages: app
    tag-state: untagged
    older-than: 7d
  # Pull-request images after two weeks.
  - packages: app
    delete-tags: pr-*
    older-than: 14d
  # Releases: the 3 newest v* images, and latest, are kept.
  - packages: app
    delete-tags: v*
    keep-latest: 3
    keep-tags: latest
  # A package another cleanup tool damaged: it deleted "untagged"
  # platform manifests of tagged multi-arch images. The run reports the
  # broken images; with repair it restores what is still restorable.
  - packages: api
    tag-state: untagged
    older-than: 7d
  # npm: pre-releases older than 30 days; every release is kept.
  - packages: widgets
    package-type: npm
    delete-semver: ">=0.0.0-0"
    keep-semver: ">=0.0.0"
    older-than: 30d
`

// demoEnv is the sample organisation, served on loopback: the fake GitHub
// API and a real OCI registry behind ghcr's token flow, kept in sync (a
// version deleted through the API takes its manifest with it).
type demoEnv struct {
	clock  *clock.Fake
	gh     *fakegh.Server
	reg    *fakeregistry.Registry
	srv    *http.Server
	apiURL string
	// described lists the sample's packages for the introduction.
	described []string
}

// startDemo seeds the sample organisation and starts its servers.
func startDemo() (*demoEnv, error) {
	// The clock starts before demoNow: the damage another tool did to
	// the sample happens at its time (seed), then the clock reaches
	// demoNow.
	d := &demoEnv{clock: clock.NewFake(demoNow.Add(-demoDamageAge))}
	d.gh = fakegh.New(fakegh.WithClock(d.clock), fakegh.WithToken(demoToken))
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: demoToken, Seed: 1})
	if err != nil {
		return nil, fmt.Errorf("start the demo registry: %w", err)
	}
	d.reg = reg
	if err := d.seed(); err != nil {
		d.Close()
		return nil, fmt.Errorf("seed the demo organisation: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("start the demo API: %w", err)
	}
	d.srv = &http.Server{Handler: d.gh, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = d.srv.Serve(ln) }()
	d.apiURL = "http://" + ln.Addr().String()
	return d, nil
}

// Close stops the servers.
func (d *demoEnv) Close() {
	if d.srv != nil {
		_ = d.srv.Close()
	}
	if d.reg != nil {
		_ = d.reg.Close()
	}
}

// seed fills the sample organisation: a public container package with
// multi-arch releases (buildx attestations, cosign signatures), superseded
// builds of a moving tag, pull-request images, untagged leftovers and an
// orphan signature; and a private npm package with releases and
// pre-releases.
func (d *demoEnv) seed() error {
	const day = 24 * time.Hour
	d.gh.AddOrg(demoOwner)
	d.gh.AddPackage(demoOwner, "container", "app", "public")
	repo := containers.Repository(demoOwner, "app")
	created := map[string]time.Time{}
	record := func(p fakeregistry.Pushed, age time.Duration) {
		for _, m := range p.All() {
			if _, ok := created[m.Digest]; !ok {
				created[m.Digest] = demoNow.Add(-age)
			}
		}
	}
	downloads := map[string]int{}

	// Releases: multi-arch indexes with attestations, each signed.
	releases := []struct {
		tag  string
		age  time.Duration
		more []string
	}{
		{"v1.0.0", 150 * day, nil}, {"v1.1.0", 120 * day, nil}, {"v1.2.0", 90 * day, nil},
		{"v1.3.0", 45 * day, nil}, {"v1.4.0", 10 * day, []string{"latest"}},
	}
	for i, r := range releases {
		p, err := d.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: append([]string{r.tag}, r.more...), Attestations: true})
		if err != nil {
			return err
		}
		record(p, r.age)
		sig, err := d.reg.PushSignature(repo, p.Digest)
		if err != nil {
			return err
		}
		record(sig, r.age-time.Minute)
		if i == 0 {
			// The first release is popular: GitHub refuses to delete a
			// public version with more than 5,000 downloads.
			downloads[p.Digest] = 12000
		}
	}
	// Builds of the main branch: each push moves the tag and leaves the
	// previous multi-arch image untagged, children and all.
	for _, age := range []time.Duration{30 * day, 21 * day, 12 * day, 2 * day} {
		p, err := d.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"main"}})
		if err != nil {
			return err
		}
		record(p, age)
	}
	// Pull-request images and untagged leftovers.
	for _, img := range []struct {
		tags []string
		age  time.Duration
	}{{[]string{"pr-41"}, 40 * day}, {[]string{"pr-57"}, 3 * day}, {nil, 60 * day}, {nil, 2 * day}} {
		p, err := d.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: img.tags})
		if err != nil {
			return err
		}
		record(p, img.age)
	}
	// An orphan: the signature of an image deleted long ago.
	gone, err := d.reg.PushImage(repo, fakeregistry.ImageOptions{})
	if err != nil {
		return err
	}
	sig, err := d.reg.PushSignature(repo, gone.Digest)
	if err != nil {
		return err
	}
	record(sig, 80*day)
	if err := d.reg.DeleteManifest(repo, gone.Digest); err != nil {
		return err
	}

	manifests := d.reg.Manifests(repo)
	for _, m := range manifests {
		at, ok := created[m.Digest]
		if !ok {
			return fmt.Errorf("no push time for %s", m.Digest)
		}
		d.gh.AddVersion(demoOwner, "container", "app", fakegh.Version{
			Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: at, Downloads: downloads[m.Digest],
		})
	}
	d.described = append(d.described, fmt.Sprintf("container %s/app (public, %d versions): 5 multi-arch releases v1.0.0…v1.4.0 with buildx attestations and cosign signatures, 4 builds of the moving tag main, pull-request images, untagged leftovers, an orphan signature", demoOwner, len(manifests)))

	// npm: releases and pre-releases.
	d.gh.AddPackage(demoOwner, "npm", "widgets", "private")
	npm := []struct {
		name string
		age  time.Duration
	}{
		{"0.9.0", 300 * day}, {"1.0.0-beta.1", 260 * day}, {"1.0.0-beta.2", 250 * day}, {"1.0.0", 240 * day},
		{"1.1.0-rc.1", 200 * day}, {"1.1.0", 190 * day}, {"1.2.0-rc.1", 75 * day}, {"1.2.0-rc.2", 70 * day},
		{"1.2.0", 60 * day}, {"2.0.0-alpha.1", 40 * day}, {"2.0.0-rc.1", 12 * day}, {"2.0.0", 5 * day},
	}
	for _, v := range npm {
		at := demoNow.Add(-v.age)
		d.gh.AddVersion(demoOwner, "npm", "widgets", fakegh.Version{Name: v.name, CreatedAt: at, UpdatedAt: at})
	}
	d.described = append(d.described, fmt.Sprintf("npm %s/widgets (private, %d versions): releases 0.9.0…2.0.0 and their pre-releases", demoOwner, len(npm)))

	mirrorToRegistry(d.gh, d.reg)
	return d.seedDamaged()
}

// demoDamageAge is how long before demoNow the oldest damage was done:
// past GitHub's 30-day restore window.
const demoDamageAge = 45 * 24 * time.Hour

// seedDamaged adds the package "api", which another cleanup tool damaged
// by deleting the platform manifests of tagged multi-arch images as
// "untagged": v2.0.0 lost one 45 days ago (no longer restorable), v2.1.0
// lost both 4 days ago (restorable); v2.2.0 is whole. The deletions go
// through the API at their time, so GitHub lists them as deleted then and
// the registry answers 404 for them, as on ghcr.io. The clock ends at
// demoNow.
func (d *demoEnv) seedDamaged() error {
	const day = 24 * time.Hour
	d.gh.AddPackage(demoOwner, "container", "api", "private")
	repo := containers.Repository(demoOwner, "api")
	var images []fakeregistry.Pushed
	for i, tag := range []string{"v2.0.0", "v2.1.0", "v2.2.0"} {
		p, err := d.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{tag}, Platforms: []string{"linux/amd64", "linux/arm64"}})
		if err != nil {
			return err
		}
		at := demoNow.Add(-time.Duration(80-20*i) * day)
		for _, m := range p.All() {
			d.gh.AddVersion(demoOwner, "container", "api", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: at, UpdatedAt: at})
		}
		images = append(images, p)
	}
	// 45 days ago: one platform manifest of v2.0.0.
	if err := d.otherToolDeletes("api", images[0].Children[1].Digest); err != nil {
		return err
	}
	d.clock.Advance(demoDamageAge - 4*day)
	// 4 days ago: both platform manifests of v2.1.0.
	for _, c := range images[1].Children {
		if err := d.otherToolDeletes("api", c.Digest); err != nil {
			return err
		}
	}
	d.clock.Advance(4 * day)
	d.described = append(d.described, fmt.Sprintf("container %s/api (private): 3 multi-arch releases v2.0.0…v2.2.0; another cleanup tool deleted platform manifests of v2.1.0 4 days ago and of v2.0.0 45 days ago, so neither pulls", demoOwner))
	return nil
}

// otherToolDeletes deletes the container version named digest of pkgName
// through the demo API, as a cleanup tool that does not know image
// indexes does.
func (d *demoEnv) otherToolDeletes(pkgName, digest string) error {
	var id int64
	for _, v := range d.gh.Active(demoOwner, "container", pkgName) {
		if v.Name == digest {
			id = v.ID
		}
	}
	if id == 0 {
		return fmt.Errorf("no active version %s in %s", digest, pkgName)
	}
	req, err := http.NewRequest(http.MethodDelete, fmt.Sprintf("/orgs/%s/packages/container/%s/versions/%d", demoOwner, pkgName, id), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+demoToken)
	rec := &statusRecorder{header: http.Header{}}
	d.gh.ServeHTTP(rec, req)
	if rec.status != http.StatusNoContent {
		return fmt.Errorf("delete %s in %s: status %d", digest, pkgName, rec.status)
	}
	return nil
}

// statusRecorder is the ResponseWriter of a request the demo sends to its
// fake API in process: it keeps the status and drops the body.
type statusRecorder struct {
	header http.Header
	status int
}

func (r *statusRecorder) Header() http.Header { return r.header }

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// mirrorToRegistry makes deleting or restoring a container version through
// gh's API delete or restore its manifest in reg, as on ghcr.io.
func mirrorToRegistry(gh *fakegh.Server, reg *fakeregistry.Registry) {
	gh.OnDelete(func(owner, typ, name string, v fakegh.Version) {
		if typ == "container" {
			_ = reg.DeleteManifest(containers.Repository(owner, name), v.Name)
		}
	})
	gh.OnRestore(func(owner, typ, name string, v fakegh.Version) {
		if typ == "container" {
			_ = reg.Restore(containers.Repository(owner, name), v.Name)
		}
	})
}

// settings are the demo's run settings: its policy file, its servers.
func (d *demoEnv) settings(execute bool) (*settings, error) {
	p, err := policy.Parse(policy.Inputs{
		Values:       map[string]string{policy.InDryRun: strconv.FormatBool(!execute), policy.InPolicyFile: "the demo's policy file"},
		PolicyFile:   []byte(demoPolicy),
		DefaultOwner: demoOwner,
	})
	if err != nil {
		return nil, fmt.Errorf("the demo's policy: %w", err)
	}
	if p == nil {
		return nil, errors.New("the demo's policy: policy.Parse returned no policy")
	}
	return &settings{
		policy:           p,
		token:            demoToken,
		apiURL:           d.apiURL,
		registryURL:      d.reg.URL(),
		deletesPerMinute: cleanup.DefaultDeletesPerMinute,
		verify:           true,
		repair:           true,
	}, nil
}

// runDemo runs the whole job offline against the sample organisation: the
// real policy parser, GitHub client, registry reader, planner and executor,
// with the fake API and registry on loopback and a simulated clock (the
// pacing of deletions takes no real time). Dry run unless --execute.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runDemoIn(ctx, args, stdout, stderr, os.TempDir())
}

// runDemoIn is runDemo writing its plan and summary files to dir.
func runDemoIn(ctx context.Context, args []string, stdout, stderr io.Writer, dir string) int {
	_, opts, err := parseCLI(args, true)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, demoHelp)
		return ExitOK
	}
	if err != nil {
		errorLines(stderr, "retention demo: ", err)
		return ExitInvalid
	}
	env, err := startDemo()
	if err != nil {
		fmt.Fprintf(stderr, "retention demo: %v\n", err)
		return ExitFailed
	}
	defer env.Close()
	s, err := env.settings(opts.execute)
	if err != nil {
		fmt.Fprintf(stderr, "retention demo: %v\n", err)
		return ExitFailed
	}
	s.cachePath = opts.cachePath

	intro := stdout
	if opts.json {
		intro = stderr // stdout is the plan JSON alone
	}
	fmt.Fprintf(intro, "retention demo: the sample organisation %q, served offline by a fake GitHub API at %s\nand a real OCI registry at %s (no token, no network).\n\n", demoOwner, env.apiURL, env.reg.URL())
	for _, line := range env.described {
		fmt.Fprintf(intro, "  - %s\n", line)
	}
	fmt.Fprintf(intro, "\nPolicy (policy-file), evaluated as of %s:\n\n%s\n", demoNow.Format(time.RFC3339), indent(demoPolicy, "    "))
	if opts.execute {
		fmt.Fprint(intro, "Executing: versions are deleted in the sample organisation, paced as on GitHub (60 a minute)\non a simulated clock, so the run takes no real time and prints no estimate of time left.\n\n")
	} else {
		fmt.Fprint(intro, "Dry run: nothing is deleted (run `go run . demo --execute` to delete in the sample).\n\n")
	}

	before := len(env.gh.Active(demoOwner, "container", "app"))
	planFile := filepath.Join(dir, planFileName(demoNow))
	code, rep := report(ctx, s, deps{clock: env.clock, progressEvery: demoProgressEvery}, cliOptions{json: opts.json, planFile: planFile}, stdout, stderr, newTextLogger(stderr))
	if rep == nil || opts.json {
		return code
	}
	summary := renderSummary(rep.plan, rep.restore, rep.path, defaultSummaryLimits)
	if rep.path != "" {
		path := strings.TrimSuffix(rep.path, ".json") + "-summary.md"
		if err := os.WriteFile(path, []byte(summary), 0o644); err != nil {
			fmt.Fprintf(stderr, "retention demo: %v\n", err)
			return ExitFailed
		}
		fmt.Fprintf(stdout, "\nThe step summary a runner would show (Markdown) is in %s; it opens with:\n\n", path)
		head, _, _ := strings.Cut(summary, "\n### ")
		fmt.Fprint(stdout, indent(head, "    "))
	}
	if opts.execute {
		after := len(env.gh.Active(demoOwner, "container", "app"))
		fmt.Fprintf(stdout, "\ncontainer %s/app: %d active versions before the run, %d after.\n", demoOwner, before, after)
		fmt.Fprint(stdout, "The plan file records every result: on GitHub, `--restore-from` with it would undo the run.\n")
	} else {
		fmt.Fprint(stdout, "\nNext: `go run . demo --execute` deletes in the sample and shows each result; `go run . --help` lists every flag.\n")
	}
	return code
}

// demoProgressEvery is the demo's interval of progress lines: longer than
// its run on the simulated clock, so none is printed.
const demoProgressEvery = 24 * time.Hour

// demoHelp is demo --help.
const demoHelp = `Usage: retention demo [--execute] [--json]

Runs the whole job offline against a built-in sample organisation: a fake
GitHub API and a real OCI registry on loopback, a policy file with several
rules, the real planner and executor. No token, no network.

  --execute   really delete (in the sample organisation) and show the results
  --json      print the plan as JSON instead of the table and summary
`

// indent prefixes every non-empty line of s.
func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	return b.String()
}
