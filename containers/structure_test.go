package containers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// The package "App" of owner "Acme" lives in repository acme/app.
const (
	owner = "Acme"
	pkg   = "App"
	repo  = "acme/app"
)

type env struct {
	reg *fakeregistry.Registry
	clk *clock.Fake
	r   *containers.Reader

	mu   sync.Mutex
	logs []string
}

func newEnv(t *testing.T, change ...func(*containers.Options)) *env {
	t.Helper()
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: "ghp_test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	e := &env{reg: reg, clk: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	opts := containers.Options{
		RegistryURL: reg.URL(),
		Token:       "ghp_test",
		Transport:   &http.Transport{},
		Clock:       e.clk,
		Logf: func(format string, args ...any) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.logs = append(e.logs, fmt.Sprintf(format, args...))
		},
	}
	for _, f := range change {
		f(&opts)
	}
	e.r, err = containers.NewReader(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// versions lists the repository as the Packages API would: one version per
// manifest, ID 1000+push order, the digest as name, the tags.
func (e *env) versions() []policy.Version {
	var vs []policy.Version
	for _, m := range e.reg.Manifests(repo) {
		vs = append(vs, policy.Version{ID: id(m.Seq), Name: m.Digest, Tags: m.Tags})
	}
	return vs
}

func id(seq int) int64 { return int64(1000 + seq) }

// idOf returns the version ID of digest.
func (e *env) idOf(t *testing.T, digest string) int64 {
	t.Helper()
	for _, m := range e.reg.Manifests(repo) {
		if m.Digest == digest {
			return id(m.Seq)
		}
	}
	t.Fatalf("no version %s", digest)
	return 0
}

func (e *env) structure(t *testing.T, vs []policy.Version) (*policy.Structure, containers.Stats) {
	t.Helper()
	e.reg.ResetCounts()
	st, stats, err := e.r.Structure(context.Background(), owner, pkg, vs)
	if err != nil {
		t.Fatalf("Structure: %v", err)
	}
	return st, stats
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantParents checks the parents of every version: want lists the versions
// that have any, every other version must be a root.
func wantParents(t *testing.T, st *policy.Structure, vs []policy.Version, want map[int64][]int64) {
	t.Helper()
	for _, v := range vs {
		got := st.Parents[v.ID]
		w := want[v.ID]
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("version %d (%s %v): parents %v, want %v", v.ID, v.Name[:15], v.Tags, got, w)
		}
	}
	for id := range st.Parents {
		if !slices.ContainsFunc(vs, func(v policy.Version) bool { return v.ID == id }) {
			t.Errorf("parents given for unknown version %d", id)
		}
	}
}

func TestMultiArchIndexWithAttestations(t *testing.T) {
	for _, docker := range []bool{false, true} {
		t.Run(fmt.Sprintf("docker=%v", docker), func(t *testing.T) {
			e := newEnv(t)
			idx := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{
				Tags: []string{"v1.0.0", "latest"}, Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"},
				Attestations: !docker, Docker: docker,
			}))
			vs := e.versions()
			st, stats := e.structure(t, vs)
			want := map[int64][]int64{}
			for _, c := range idx.Children {
				want[e.idOf(t, c.Digest)] = []int64{e.idOf(t, idx.Digest)}
			}
			if n := len(want); n != len(vs)-1 {
				t.Fatalf("%d children among %d versions", n, len(vs))
			}
			wantParents(t, st, vs, want)
			if len(st.Unreadable) != 0 {
				t.Errorf("unreadable: %v", st.Unreadable)
			}
			c := e.reg.Counts()
			if c.ManifestGets() != 1 || e.reg.Reads(repo, idx.Digest) != 1 || stats.ManifestsRead != 1 {
				t.Errorf("reads: %+v, stats %+v; want the index only", c, stats)
			}
			if stats.NotRead != len(idx.Children) || stats.Bytes != idx.Size {
				t.Errorf("stats %+v", stats)
			}
		})
	}
}

func TestCosignAttachmentsNeedNoRead(t *testing.T) {
	e := newEnv(t)
	idx := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}, Attestations: true}))
	sig := must[fakeregistry.Pushed](t)(e.reg.PushSignature(repo, idx.Digest))
	att := must[fakeregistry.Pushed](t)(e.reg.PushAttestation(repo, idx.Digest))
	sbom := must[fakeregistry.Pushed](t)(e.reg.PushSBOM(repo, idx.Digest))
	// cosign sign --recursive also signs each platform manifest.
	childSig := must[fakeregistry.Pushed](t)(e.reg.PushSignature(repo, idx.Children[0].Digest))
	vs := e.versions()
	st, stats := e.structure(t, vs)

	root := e.idOf(t, idx.Digest)
	want := map[int64][]int64{
		e.idOf(t, sig.Digest):      {root},
		e.idOf(t, att.Digest):      {root},
		e.idOf(t, sbom.Digest):     {root},
		e.idOf(t, childSig.Digest): {e.idOf(t, idx.Children[0].Digest)},
	}
	for _, c := range idx.Children {
		want[e.idOf(t, c.Digest)] = []int64{root}
	}
	wantParents(t, st, vs, want)
	for _, p := range []fakeregistry.Pushed{sig, att, sbom, childSig} {
		if n := e.reg.Reads(repo, p.Digest); n != 0 {
			t.Errorf("%s read %d times; its tag names its subject", p.Kind, n)
		}
	}
	if c := e.reg.Counts(); c.ManifestGets() != 1 || c.ManifestHeadByDigest+c.ManifestHeadByTag != 0 {
		t.Errorf("counts %+v, want one manifest GET", c)
	}
	if stats.ByTag != 4 {
		t.Errorf("ByTag %d, want 4", stats.ByTag)
	}
}

func TestOrphanSignatureHasNoParent(t *testing.T) {
	e := newEnv(t)
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"old"}}))
	must[fakeregistry.Pushed](t)(e.reg.PushSignature(repo, img.Digest))
	if err := e.reg.DeleteManifest(repo, img.Digest); err != nil {
		t.Fatal(err)
	}
	vs := e.versions()
	if len(vs) != 1 {
		t.Fatalf("versions %v", vs)
	}
	st, stats := e.structure(t, vs)
	wantParents(t, st, vs, nil)
	if c := e.reg.Counts(); c != (fakeregistry.Counts{}) || stats.Requests != 0 {
		t.Errorf("an orphan signature alone needs no request: %+v, stats %+v", c, stats)
	}
}

func TestReferrersFallbackIndex(t *testing.T) {
	e := newEnv(t)
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v2"}}))
	// Each referrer pushed replaces the fallback index by one listing it
	// too, leaving the previous index untagged.
	var superseded []string
	for _, at := range []string{"", "application/vnd.in-toto+json"} {
		_, idx, err := e.reg.PushReferrer(repo, img.Digest, at)
		if err != nil {
			t.Fatal(err)
		}
		superseded = append(superseded, idx.Digest)
	}
	// A referrer tagged on its own (an SBOM artifact pushed under a tag)
	// is read, and its subject is its parent too.
	tagged, cur, err := e.reg.PushReferrer(repo, img.Digest, "application/spdx+json")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Tag(repo, "v2-sbom", tagged.Digest); err != nil {
		t.Fatal(err)
	}
	vs := e.versions()
	st, stats := e.structure(t, vs)

	root, fb := e.idOf(t, img.Digest), e.idOf(t, cur.Digest)
	want := map[int64][]int64{fb: {root}}
	for _, c := range cur.Children {
		want[e.idOf(t, c.Digest)] = []int64{fb}
	}
	want[e.idOf(t, tagged.Digest)] = []int64{root, fb}
	if len(want) != 4 || len(vs) != 7 {
		t.Fatalf("%d versions, %d with parents", len(vs), len(want))
	}
	wantParents(t, st, vs, want) // the superseded fallback indexes are roots
	for _, d := range superseded {
		if n := e.reg.Reads(repo, d); n != 0 {
			t.Errorf("superseded fallback index read %d times", n)
		}
	}
	// Reads: the image and the tagged referrer (own tags), the fallback index.
	if c := e.reg.Counts(); c.ManifestGets() != 3 || stats.ManifestsRead != 3 {
		t.Errorf("manifest GETs %d (stats %+v), want 3", c.ManifestGets(), stats)
	}
}

func TestSupersededIndexIsNotRead(t *testing.T) {
	e := newEnv(t)
	old := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"latest"}, Attestations: true}))
	cur := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"latest"}, Attestations: true}))
	vs := e.versions()
	st, stats := e.structure(t, vs)
	want := map[int64][]int64{}
	for _, c := range cur.Children {
		want[e.idOf(t, c.Digest)] = []int64{e.idOf(t, cur.Digest)}
	}
	wantParents(t, st, vs, want) // the old index and its children are roots
	if n := e.reg.Reads(repo, old.Digest); n != 0 {
		t.Errorf("superseded index read %d times", n)
	}
	if c := e.reg.Counts(); c.ManifestGets() != 1 || stats.NotRead != 1+len(old.Children)+len(cur.Children) {
		t.Errorf("counts %+v stats %+v", c, stats)
	}
}

func TestChildSharedByTwoIndexes(t *testing.T) {
	e := newEnv(t)
	a := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}}))
	extra := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Platform: "linux/s390x"}))
	// A rebuild reuses the unchanged amd64 image.
	b := must[fakeregistry.Pushed](t)(e.reg.PushIndexOf(repo, []string{"v2"}, []string{a.Children[0].Digest, extra.Digest}))
	vs := e.versions()
	st, _ := e.structure(t, vs)
	ia, ib := e.idOf(t, a.Digest), e.idOf(t, b.Digest)
	wantParents(t, st, vs, map[int64][]int64{
		e.idOf(t, a.Children[0].Digest): {ia, ib},
		e.idOf(t, a.Children[1].Digest): {ia},
		e.idOf(t, extra.Digest):         {ib},
	})
}

func TestUnreadableManifestFailsClosed(t *testing.T) {
	e := newEnv(t)
	bad := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}}))
	good := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v2"}}))
	e.reg.FailManifest(repo, bad.Digest, -1)
	vs := e.versions()
	st, stats := e.structure(t, vs)
	badID := e.idOf(t, bad.Digest)
	if reason := st.Unreadable[badID]; !strings.Contains(reason, "500") {
		t.Errorf("Unreadable[%d] = %q, want the 500", badID, reason)
	}
	if len(st.Unreadable) != 1 {
		t.Errorf("unreadable %v", st.Unreadable)
	}
	want := map[int64][]int64{}
	for _, c := range good.Children {
		want[e.idOf(t, c.Digest)] = []int64{e.idOf(t, good.Digest)}
	}
	wantParents(t, st, vs, want)
	if n := e.reg.Reads(repo, bad.Digest); n != containers.DefaultMaxAttempts {
		t.Errorf("bad manifest read %d times, want %d attempts", n, containers.DefaultMaxAttempts)
	}
	if stats.Failures != 1 || stats.Retries != containers.DefaultMaxAttempts-1 || stats.ManifestsRead != 1 {
		t.Errorf("stats %+v", stats)
	}
	if e.clk.Slept() == 0 {
		t.Error("retries did not wait on the clock")
	}
	if !slices.ContainsFunc(e.logs, func(l string) bool { return strings.Contains(l, "unreadable") }) {
		t.Errorf("no warning logged: %q", e.logs)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	e := newEnv(t)
	idx := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}}))
	e.reg.FailTokens(1)
	e.reg.FailManifest(repo, idx.Digest, 2)
	vs := e.versions()
	st, stats := e.structure(t, vs)
	if len(st.Unreadable) != 0 || len(st.Parents) != 2 {
		t.Fatalf("structure %+v", st)
	}
	if stats.Retries != 3 || e.reg.Reads(repo, idx.Digest) != 3 {
		t.Errorf("stats %+v, reads %d", stats, e.reg.Reads(repo, idx.Digest))
	}
	// 1s then 2s (at least half of each, with jitter), the token retry 1s.
	if s := e.clk.Slept(); s < 2*time.Second || s > 4*time.Second {
		t.Errorf("slept %s", s)
	}
}

func TestRetryAfterHoldsEveryRequest(t *testing.T) {
	e := newEnv(t)
	a := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"a"}}))
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"b"}}))
	e.reg.ThrottleManifest(repo, a.Digest, 1, 40*time.Second)
	st, stats := e.structure(t, e.versions())
	if len(st.Unreadable) != 0 || stats.Retries != 1 || stats.ManifestsRead != 2 {
		t.Errorf("structure %+v stats %+v", st, stats)
	}
	if s := e.clk.Slept(); s < 40*time.Second {
		t.Errorf("slept %s, want the 40s Retry-After", s)
	}

	// A manifest already read is not read again (manifests are
	// immutable); a new one told to wait an hour is not read again either.
	c := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"c"}}))
	e.reg.ThrottleManifest(repo, c.Digest, -1, time.Hour)
	st, _ = e.structure(t, e.versions())
	if r := st.Unreadable[e.idOf(t, c.Digest)]; !strings.Contains(r, "asked to wait 1h0m0s") {
		t.Errorf("a Retry-After beyond MaxRetryAfter: %q", r)
	}
	if n := e.reg.Reads(repo, c.Digest); n != 1 {
		t.Errorf("read %d times after being told to wait an hour", n)
	}
	if r, ok := st.Unreadable[e.idOf(t, a.Digest)]; ok {
		t.Errorf("the manifest read before is unreadable now: %q", r)
	}
}

func TestTokenFlow(t *testing.T) {
	e := newEnv(t)
	must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}}))
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v2"}}))
	vs := e.versions()
	_, stats := e.structure(t, vs)
	c := e.reg.Counts()
	// Anonymous ping answered 401, one token with the Basic password, then
	// both reads with the Bearer token.
	want := fakeregistry.Counts{Unauthorized: 1, Token: 1, ManifestGetByDigest: 2}
	if c != want || stats.Requests != 4 {
		t.Errorf("counts %+v (stats %+v), want %+v and 4 requests", c, stats, want)
	}

	// A second package read reuses nothing of the first's token: its own
	// scope. The same package again reuses the session.
	e.reg.ResetCounts()
	if _, _, err := e.r.Structure(context.Background(), owner, pkg, vs); err != nil {
		t.Fatal(err)
	}
	if c := e.reg.Counts(); c.Token != 0 || c.Unauthorized != 0 {
		t.Errorf("second read of the same package authenticated again: %+v", c)
	}

	// An expired token is renewed on the 401 (two new manifests to read:
	// the ones read before are not read again).
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v3"}}))
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v4"}}))
	e.reg.ExpireTokens()
	e.reg.ResetCounts()
	st, _, err := e.r.Structure(context.Background(), owner, pkg, e.versions())
	if err != nil || len(st.Unreadable) != 0 {
		t.Fatalf("after expiry: %v %v", err, st)
	}
	// Each read in flight when the token expired renews it (two here).
	if c := e.reg.Counts(); c.Token < 1 || c.Token > 2 || c.ManifestGets() != 2 {
		t.Errorf("expired token not renewed: %+v", c)
	}
}

func TestAuthenticationFailures(t *testing.T) {
	for _, c := range []struct {
		name  string
		token string
		want  string
	}{
		{"wrong token", "ghp_wrong", "UNAUTHORIZED"},
		{"no token", "", "UNAUTHORIZED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(o *containers.Options) { o.Token = c.token })
			must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
			e.reg.ResetCounts()
			st, _, err := e.r.Structure(context.Background(), owner, pkg, e.versions())
			if err == nil || st != nil {
				t.Fatalf("Structure = %v, %v; want an error", st, err)
			}
			for _, w := range []string{"authenticate to registry", "acme/app", c.want, "read:packages"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "ghp_") {
				t.Errorf("error shows the token: %v", err)
			}
			if got := e.reg.Counts(); got.ManifestGets() != 0 || got.TokenDenied != 1 {
				t.Errorf("counts %+v: want one refused token request, no reads", got)
			}
		})
	}
}

func TestUnknownRepositoryIsAnError(t *testing.T) {
	e := newEnv(t)
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
	vs := e.versions()
	_, _, err := e.r.Structure(context.Background(), owner, "other", vs)
	if err == nil || !strings.Contains(err.Error(), "NAME_UNKNOWN") {
		t.Errorf("reading a package the registry does not have: %v", err)
	}
}

func TestRegistryDownIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	clk := clock.NewFake(time.Now())
	r, err := containers.NewReader(containers.Options{RegistryURL: "http://" + addr, Clock: clk, Transport: &http.Transport{}})
	if err != nil {
		t.Fatal(err)
	}
	vs := []policy.Version{{ID: 1, Name: "sha256:" + strings.Repeat("a", 64), Tags: []string{"v1"}}}
	_, stats, err := r.Structure(context.Background(), owner, pkg, vs)
	if err == nil || !strings.Contains(err.Error(), "authenticate to registry") {
		t.Fatalf("error %v", err)
	}
	if stats.Retries != containers.DefaultMaxAttempts-1 {
		t.Errorf("stats %+v", stats)
	}
}

// The manifest GETs are exactly the versions with a tag of their own plus
// the referrers fallback indexes.
func TestReadsOnlyWhatIsNeeded(t *testing.T) {
	e := newEnv(t)
	tagged, fallbacks := 0, 0
	for i := range 5 {
		idx := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{fmt.Sprintf("v%d", i)}, Attestations: true, Platforms: []string{"linux/amd64", "linux/arm64", "linux/ppc64le"}}))
		tagged++
		must[fakeregistry.Pushed](t)(e.reg.PushSignature(repo, idx.Digest))
		must[fakeregistry.Pushed](t)(e.reg.PushAttestation(repo, idx.Digest))
		if i%2 == 0 {
			if _, _, err := e.reg.PushReferrer(repo, idx.Digest, ""); err != nil {
				t.Fatal(err)
			}
			fallbacks++
		}
		// A superseded nightly.
		must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"nightly"}}))
	}
	tagged++ // the last nightly
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"tool"}}))
	tagged++
	must[fakeregistry.Pushed](t)(e.reg.PushSBOM(repo, img.Digest))
	vs := e.versions()
	st, stats := e.structure(t, vs)
	c := e.reg.Counts()
	if c.ManifestGets() != tagged+fallbacks || stats.ManifestsRead != tagged+fallbacks {
		t.Errorf("manifest GETs %d (stats %+v), want %d tagged + %d fallback indexes", c.ManifestGets(), stats, tagged, fallbacks)
	}
	if stats.Requests != 2+tagged+fallbacks {
		t.Errorf("requests %d, want 2 to authenticate + %d reads", stats.Requests, tagged+fallbacks)
	}
	t.Logf("%d versions: %d manifest GETs, %d requests in all, %d parents", len(vs), c.ManifestGets(), stats.Requests, len(st.Parents))
}

func TestGHESRegistryOverTLS(t *testing.T) {
	reg := fakeregistry.New(fakeregistry.Options{Token: "ghs_test"})
	srv := httptest.NewTLSServer(reg)
	t.Cleanup(srv.Close)
	idx := must[fakeregistry.Pushed](t)(reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}}))
	must[fakeregistry.Pushed](t)(reg.PushSignature(repo, idx.Digest))

	// containers.ghes.test resolves to the test server; its certificate is
	// for example.com.
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.TLSClientConfig = tr.TLSClientConfig.Clone()
	tr.TLSClientConfig.ServerName = "example.com"
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	r, err := containers.NewReader(containers.Options{
		RegistryURL: "https://containers.ghes.test",
		Token:       "ghs_test",
		Transport:   tr,
		Clock:       clock.NewFake(time.Now()),
	})
	if err != nil {
		t.Fatal(err)
	}
	var vs []policy.Version
	for _, m := range reg.Manifests(repo) {
		vs = append(vs, policy.Version{ID: id(m.Seq), Name: m.Digest, Tags: m.Tags})
	}
	st, stats, err := r.Structure(context.Background(), owner, pkg, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Parents) != len(idx.Children)+1 || stats.ManifestsRead != 1 {
		t.Errorf("structure %+v stats %+v", st, stats)
	}
	problems, err := r.Verify(context.Background(), owner, pkg, []string{"v1"}, []string{idx.Digest})
	if err != nil || len(problems) != 0 {
		t.Errorf("Verify: %v %v", problems, err)
	}
}

func TestStructureOfNothingSendsNothing(t *testing.T) {
	e := newEnv(t)
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{}))
	st, stats := e.structure(t, []policy.Version{{ID: 1, Name: img.Digest}})
	if len(st.Parents) != 0 || stats.Requests != 0 || e.reg.Counts() != (fakeregistry.Counts{}) {
		t.Errorf("untagged only: %+v %+v %+v", st, stats, e.reg.Counts())
	}
}

func TestCanceledContext(t *testing.T) {
	e := newEnv(t)
	must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := e.r.Structure(ctx, owner, pkg, e.versions()); err == nil {
		t.Error("no error with a canceled context")
	}
}

func TestIndexOfIndexes(t *testing.T) {
	e := newEnv(t)
	inner := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Attestations: true}))
	outer := must[fakeregistry.Pushed](t)(e.reg.PushIndexOf(repo, []string{"v1"}, []string{inner.Digest}))
	vs := e.versions()
	st, stats := e.structure(t, vs)
	want := map[int64][]int64{e.idOf(t, inner.Digest): {e.idOf(t, outer.Digest)}}
	for _, c := range inner.Children {
		want[e.idOf(t, c.Digest)] = []int64{e.idOf(t, inner.Digest)}
	}
	wantParents(t, st, vs, want)
	if stats.ManifestsRead != 2 || stats.NotRead != len(inner.Children) {
		t.Errorf("stats %+v: want the outer index, then the untagged inner index it lists", stats)
	}
}

// registryRequests is the number of requests the fake registry answered,
// every kind counted once (Injected failures are counted by kind too).
func registryRequests(c fakeregistry.Counts) int {
	return c.Ping + c.Token + c.TokenDenied + c.Unauthorized + c.ManifestGetByDigest + c.ManifestGetByTag +
		c.ManifestHeadByDigest + c.ManifestHeadByTag + c.Blob + c.Referrers + c.Other + c.Refused
}

// A manifest an index lists that is not among the versions given is
// confirmed with a HEAD by digest before the index is called broken:
// GitHub's listing has no snapshot (pages shift while another tool
// deletes) and may lag a push by seconds. Only a 404 makes the child
// missing; a child the registry serves is not; a HEAD failing otherwise
// leaves the index unreadable (fail closed).
func TestUnlistedChildIsConfirmedByTheRegistry(t *testing.T) {
	for _, tc := range []struct {
		name           string
		registry       func(t *testing.T, e *env, child string) // what the registry holds of the unlisted child
		wantMissing    bool
		wantUnreadable string // in the index's Unreadable reason
		wantUnlisted   int
		wantHeads      int
	}{
		{name: "served: not missing", wantUnlisted: 1, wantHeads: 1},
		{name: "404: missing", registry: func(t *testing.T, e *env, child string) {
			if err := e.reg.DeleteManifest(repo, child); err != nil {
				t.Fatal(err)
			}
		}, wantMissing: true, wantHeads: 1},
		{name: "HEAD fails: unreadable", registry: func(_ *testing.T, e *env, child string) {
			e.reg.FailManifest(repo, child, -1)
		}, wantUnreadable: "500", wantHeads: containers.DefaultMaxAttempts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			idx := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}, Attestations: true}))
			unlisted := idx.Children[0].Digest
			var vs []policy.Version
			for _, v := range e.versions() {
				if v.Name != unlisted {
					vs = append(vs, v)
				}
			}
			if tc.registry != nil {
				tc.registry(t, e, unlisted)
			}
			st, stats := e.structure(t, vs)
			idxID := e.idOf(t, idx.Digest)
			if got := slices.Contains(st.Missing[idxID], unlisted); got != tc.wantMissing {
				t.Errorf("missing %v, want the unlisted child missing=%v", st.Missing, tc.wantMissing)
			}
			if reason, ok := st.Unreadable[idxID]; ok != (tc.wantUnreadable != "") || !strings.Contains(reason, tc.wantUnreadable) {
				t.Errorf("unreadable %v, want the index unreadable=%v (%q)", st.Unreadable, tc.wantUnreadable != "", tc.wantUnreadable)
			}
			if stats.Unlisted != tc.wantUnlisted {
				t.Errorf("stats.Unlisted = %d, want %d", stats.Unlisted, tc.wantUnlisted)
			}
			c := e.reg.Counts()
			if c.ManifestHeadByDigest != tc.wantHeads {
				t.Errorf("%d HEADs by digest, want %d", c.ManifestHeadByDigest, tc.wantHeads)
			}
			if n := registryRequests(c); stats.Requests != n {
				t.Errorf("stats.Requests = %d, the registry answered %d", stats.Requests, n)
			}
			if stats.NotRead+stats.ManifestsRead+stats.Failures+stats.ByTag+stats.Gone != len(vs) {
				t.Errorf("stats %+v do not add up to %d versions", stats, len(vs))
			}
			// The listed children are children of the index, whatever
			// became of the unlisted one.
			want := map[int64][]int64{}
			for _, ch := range idx.Children[1:] {
				want[e.idOf(t, ch.Digest)] = []int64{idxID}
			}
			wantParents(t, st, vs, want)
		})
	}
}

// An untagged version read on request that answers 404 is gone (a root
// with no children) only when the plan deletes it. A kept one, such as a
// superseded index keep-latest keeps, is unreadable: a 404 may be a
// registry replica behind, and its platform manifests must not become
// roots the policy may delete.
func TestKeptUntaggedVersionAnswering404IsUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name           string
		deletes        bool // the plan deletes the version (alsoRead's value)
		wantUnreadable bool
		wantGone       int
	}{
		{name: "kept", deletes: false, wantUnreadable: true},
		{name: "deleted", deletes: true, wantGone: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"latest"}}))
			old := must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{}))
			vs := e.versions()
			e.reg.MissManifest(repo, old.Digest, 1)
			oldID := e.idOf(t, old.Digest)
			st, stats, err := e.r.StructureAlso(context.Background(), owner, pkg, vs, map[int64]bool{oldID: tc.deletes})
			if err != nil {
				t.Fatal(err)
			}
			if reason, ok := st.Unreadable[oldID]; ok != tc.wantUnreadable || ok && !strings.Contains(reason, "404") {
				t.Errorf("unreadable %v, want the index unreadable=%v with the 404", st.Unreadable, tc.wantUnreadable)
			}
			if stats.Gone != tc.wantGone {
				t.Errorf("stats.Gone = %d, want %d", stats.Gone, tc.wantGone)
			}
		})
	}
}
