package fakeregistry

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const repo = "acme/app"

func start(t *testing.T, opts Options) *Registry {
	t.Helper()
	r, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// do sends one request with an optional Authorization header and returns
// the status, the headers and the body.
func do(t *testing.T, method, url, auth string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func token(t *testing.T, r *Registry, scope, password string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.URL()+"/token?service=ghcr.io&scope="+scope, nil)
	if password != "" {
		req.SetBasicAuth("token", password)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Token
}

func TestTokenFlowLikeGHCR(t *testing.T) {
	r := start(t, Options{Token: "s3cret"})
	img, err := r.PushImage(repo, ImageOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}

	status, h, _ := do(t, http.MethodGet, r.URL()+"/v2/", "")
	want := `Bearer realm="` + r.URL() + `/token",service="ghcr.io",scope="repository:user/image:pull"`
	if status != http.StatusUnauthorized || h.Get("WWW-Authenticate") != want {
		t.Fatalf("anonymous /v2/: %d %q, want 401 %q", status, h.Get("WWW-Authenticate"), want)
	}
	status, h, _ = do(t, http.MethodGet, r.URL()+"/v2/"+repo+"/manifests/"+img.Digest, "")
	if status != http.StatusUnauthorized || !strings.Contains(h.Get("WWW-Authenticate"), `scope="repository:acme/app:pull"`) {
		t.Fatalf("anonymous manifest: %d %q", status, h.Get("WWW-Authenticate"))
	}

	if status, _ := token(t, r, "repository:acme/app:pull", "wrong"); status != http.StatusUnauthorized {
		t.Fatalf("token with a wrong password: %d, want 401", status)
	}
	if status, _ := token(t, r, "repository:acme/app:pull", ""); status != http.StatusUnauthorized {
		t.Fatalf("anonymous token without AllowAnonymous: %d, want 401", status)
	}
	status, tok := token(t, r, "repository:acme/app:pull", "s3cret")
	if status != http.StatusOK || tok == "" {
		t.Fatalf("token: %d %q", status, tok)
	}
	for _, c := range []struct {
		name, method, path string
		want               int
	}{
		{"ping", http.MethodGet, "/v2/", http.StatusOK},
		{"manifest by digest", http.MethodGet, "/v2/acme/app/manifests/" + img.Digest, http.StatusOK},
		{"manifest by tag", http.MethodHead, "/v2/acme/app/manifests/v1", http.StatusOK},
		{"other repository", http.MethodGet, "/v2/acme/other/manifests/v1", http.StatusUnauthorized},
		{"delete", http.MethodDelete, "/v2/acme/app/manifests/" + img.Digest, http.StatusMethodNotAllowed},
	} {
		if status, _, body := do(t, c.method, r.URL()+c.path, "Bearer "+tok); status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
	}
	got := r.Counts()
	want2 := Counts{Ping: 1, Token: 1, TokenDenied: 2, Unauthorized: 3, ManifestGetByDigest: 1, ManifestHeadByTag: 1, Refused: 1}
	if got != want2 {
		t.Errorf("counts %+v, want %+v", got, want2)
	}
	if n := r.Reads(repo, img.Digest); n != 1 {
		t.Errorf("reads of the image: %d, want 1", n)
	}

	r.ExpireTokens()
	if status, _, _ := do(t, http.MethodGet, r.URL()+"/v2/", "Bearer "+tok); status != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", status)
	}
}

func TestAnonymousTokens(t *testing.T) {
	r := start(t, Options{AllowAnonymous: true})
	if status, tok := token(t, r, "repository:acme/app:pull", ""); status != http.StatusOK || tok == "" {
		t.Fatalf("anonymous token: %d %q", status, tok)
	}
}

func TestIndexWithAttestationsAndSupersededBuild(t *testing.T) {
	r := start(t, Options{})
	old, err := r.PushIndex(repo, IndexOptions{Tags: []string{"latest"}, Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, Attestations: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Children) != 6 {
		t.Fatalf("children: %d, want 3 platforms + 3 attestations", len(old.Children))
	}
	for i, c := range old.Children {
		wantKind := KindPlatform
		if i >= 3 {
			wantKind = KindAttestationManifest
			if c.Platform.OS != "unknown" || c.Subject != old.Children[i-3].Digest {
				t.Errorf("attestation %d: platform %v subject %s", i, c.Platform, c.Subject)
			}
		}
		if c.Kind != wantKind || !r.Has(repo, c.Digest) {
			t.Errorf("child %d: kind %s, stored %v", i, c.Kind, r.Has(repo, c.Digest))
		}
	}
	if got := len(old.All()); got != 7 {
		t.Errorf("All: %d manifests, want 7", got)
	}

	cur, err := r.PushIndex(repo, IndexOptions{Tags: []string{"latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.TagDigest(repo, "latest") != cur.Digest {
		t.Errorf("latest does not point at the new index")
	}
	ms := r.Manifests(repo)
	if len(ms) != 7+3 {
		t.Fatalf("manifests: %d, want 10", len(ms))
	}
	for _, m := range ms {
		want := []string(nil)
		if m.Digest == cur.Digest {
			want = []string{"latest"}
		}
		if !slices.Equal(m.Tags, want) {
			t.Errorf("%s tags %v, want %v", m.Digest, m.Tags, want)
		}
	}
	if ms[len(ms)-1].Digest != cur.Digest || ms[6].Digest != old.Digest {
		t.Errorf("manifests not in push order")
	}
}

func TestCosignAndReferrers(t *testing.T) {
	r := start(t, Options{})
	img, err := r.PushImage(repo, ImageOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		push   func(string, string) (Pushed, error)
		suffix string
		kind   Kind
	}{{r.PushSignature, ".sig", KindSignature}, {r.PushAttestation, ".att", KindAttestation}, {r.PushSBOM, ".sbom", KindSBOM}} {
		p, err := c.push(repo, img.Digest)
		if err != nil {
			t.Fatal(err)
		}
		tag := "sha256-" + strings.TrimPrefix(img.Digest, "sha256:") + c.suffix
		if p.Kind != c.kind || p.Subject != img.Digest || !slices.Equal(p.Tags, []string{tag}) || r.TagDigest(repo, tag) != p.Digest {
			t.Errorf("%s: %+v", c.kind, p)
		}
	}

	ref1, idx1, err := r.PushReferrer(repo, img.Digest, "")
	if err != nil {
		t.Fatal(err)
	}
	ref2, idx2, err := r.PushReferrer(repo, img.Digest, "application/vnd.in-toto+json")
	if err != nil {
		t.Fatal(err)
	}
	if idx1.Digest == idx2.Digest || len(idx2.Children) != 2 || idx2.Tags[0] != FallbackTag(img.Digest) {
		t.Fatalf("fallback index not replaced: %+v then %+v", idx1, idx2)
	}
	got := []string{idx2.Children[0].Digest, idx2.Children[1].Digest}
	if !slices.Contains(got, ref1.Digest) || !slices.Contains(got, ref2.Digest) {
		t.Errorf("fallback index lists %v, want %s and %s", got, ref1.Digest, ref2.Digest)
	}
	for _, m := range r.Manifests(repo) {
		if m.Digest == idx1.Digest && len(m.Tags) != 0 {
			t.Errorf("superseded fallback index still tagged %v", m.Tags)
		}
	}
	if _, _, err := r.PushReferrer(repo, "sha256:"+strings.Repeat("0", 64), ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("referrer of a missing subject: %v", err)
	}
}

func TestDeleteRestoreAndTags(t *testing.T) {
	r := start(t, Options{})
	idx, err := r.PushIndex(repo, IndexOptions{Tags: []string{"v1", "latest"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteManifest(repo, idx.Digest); err != nil {
		t.Fatal(err)
	}
	if r.Has(repo, idx.Digest) || r.TagDigest(repo, "v1") != "" || r.TagDigest(repo, "latest") != "" {
		t.Fatal("delete left the manifest or a tag")
	}
	if !r.Has(repo, idx.Children[0].Digest) {
		t.Error("delete of an index removed its child")
	}
	if err := r.DeleteManifest(repo, idx.Digest); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if err := r.Restore(repo, idx.Digest); err != nil {
		t.Fatal(err)
	}
	if !r.Has(repo, idx.Digest) || r.TagDigest(repo, "v1") != idx.Digest || r.TagDigest(repo, "latest") != idx.Digest {
		t.Fatal("restore did not bring back the manifest and its tags")
	}
	if ms := r.Manifests(repo); ms[len(ms)-1].Digest != idx.Digest {
		t.Error("restored index lost its place")
	}

	if err := r.DeleteManifest(repo, idx.Digest); err != nil {
		t.Fatal(err)
	}
	other, err := r.PushImage(repo, ImageOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(repo, idx.Digest); err == nil || !strings.Contains(err.Error(), "v1") {
		t.Errorf("restore over a reused tag: %v", err)
	}
	if err := r.Untag(repo, "v1"); err != nil {
		t.Fatal(err)
	}
	if r.TagDigest(repo, "v1") != "" || !r.Has(repo, other.Digest) {
		t.Error("untag removed the manifest or kept the tag")
	}
	if err := r.Tag(repo, "stable", other.Digest); err != nil {
		t.Fatal(err)
	}
	if r.TagDigest(repo, "stable") != other.Digest {
		t.Error("tag did not point at the manifest")
	}
	if err := r.Untag(repo, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("untag of a missing tag: %v", err)
	}
}

func TestInjectedFaults(t *testing.T) {
	r := start(t, Options{})
	img, err := r.PushImage(repo, ImageOptions{Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, tok := token(t, r, "repository:acme/app:pull", r.Token())
	auth := "Bearer " + tok
	r.FailManifest(repo, img.Digest, 2)
	for i, want := range []int{500, 500, 200} {
		if status, _, _ := do(t, http.MethodGet, r.URL()+"/v2/acme/app/manifests/v1", auth); status != want {
			t.Errorf("request %d by tag: %d, want %d", i, status, want)
		}
	}
	r.ThrottleManifest(repo, img.Digest, -1, 30*time.Second)
	for range 3 {
		status, h, _ := do(t, http.MethodHead, r.URL()+"/v2/acme/app/manifests/"+img.Digest, auth)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") != "30" {
			t.Errorf("throttled: %d Retry-After %q", status, h.Get("Retry-After"))
		}
	}
	r.ThrottleManifest(repo, img.Digest, 0, 0)
	if status, _, _ := do(t, http.MethodHead, r.URL()+"/v2/acme/app/manifests/"+img.Digest, auth); status != http.StatusOK {
		t.Errorf("healed: %d", status)
	}
	if c := r.Counts(); c.Injected != 5 || c.ManifestGetByTag != 3 || c.ManifestHeadByDigest != 4 {
		t.Errorf("counts %+v", c)
	}
	if n := r.Reads(repo, img.Digest); n != 3 {
		t.Errorf("reads: %d, want 3 (GETs by tag count for the digest)", n)
	}
	r.MissManifest(repo, img.Digest, 1)
	if status, _, body := do(t, http.MethodGet, r.URL()+"/v2/acme/app/manifests/"+img.Digest, auth); status != http.StatusNotFound || !strings.Contains(body, "MANIFEST_UNKNOWN") {
		t.Errorf("missed once: %d %s", status, body)
	}
	if status, _, _ := do(t, http.MethodGet, r.URL()+"/v2/acme/app/manifests/"+img.Digest, auth); status != http.StatusOK {
		t.Errorf("after the miss: %d", status)
	}
	r.FailTokens(1)
	if status, _ := token(t, r, "repository:acme/app:pull", r.Token()); status != http.StatusServiceUnavailable {
		t.Errorf("failed token: %d", status)
	}
	r.ResetCounts()
	if c := r.Counts(); c != (Counts{}) || r.Reads(repo, img.Digest) != 0 {
		t.Errorf("after reset: %+v", c)
	}
}

func TestSeedMakesContentDeterministic(t *testing.T) {
	push := func() []string {
		r := New(Options{Seed: 42})
		idx, err := r.PushIndex(repo, IndexOptions{Tags: []string{"v1"}, Attestations: true})
		if err != nil {
			t.Fatal(err)
		}
		sig, err := r.PushSignature(repo, idx.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return []string{idx.Digest, sig.Digest}
	}
	a, b := push(), push()
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different digests: %v and %v", a, b)
	}
}

func TestDockerMediaTypes(t *testing.T) {
	r := New(Options{})
	idx, err := r.PushIndex(repo, IndexOptions{Docker: true, Tags: []string{"v1"}})
	if err != nil {
		t.Fatal(err)
	}
	if idx.MediaType != "application/vnd.docker.distribution.manifest.list.v2+json" ||
		idx.Children[0].MediaType != "application/vnd.docker.distribution.manifest.v2+json" {
		t.Errorf("media types %s, %s", idx.MediaType, idx.Children[0].MediaType)
	}
}
