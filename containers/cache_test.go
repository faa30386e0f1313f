package containers_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// cachedReader is a Reader of reg using the cache at path, loaded now.
func cachedReader(t testing.TB, reg *fakeregistry.Registry, path string) (*containers.Reader, *containers.Cache) {
	t.Helper()
	var cache *containers.Cache
	if path != "" {
		cache = containers.LoadCache(path, t.Logf, t.Logf)
	}
	r, err := containers.NewReader(containers.Options{
		RegistryURL: reg.URL(), Token: reg.Token(), Clock: clock.NewFake(time.Now()), Cache: cache,
		Transport: &http.Transport{MaxIdleConnsPerHost: containers.DefaultConcurrency},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, cache
}

func listed(reg *fakeregistry.Registry) []policy.Version {
	var vs []policy.Version
	for _, m := range reg.Manifests(repo) {
		vs = append(vs, policy.Version{ID: id(m.Seq), Name: m.Digest, Tags: m.Tags})
	}
	return vs
}

func structureWith(t testing.TB, reg *fakeregistry.Registry, path string, vs []policy.Version, alsoRead map[int64]bool) (*policy.Structure, containers.Stats, *containers.Cache) {
	t.Helper()
	r, cache := cachedReader(t, reg, path)
	st, stats, err := r.StructureAlso(context.Background(), owner, pkg, vs, alsoRead)
	if err != nil {
		t.Fatalf("StructureAlso: %v", err)
	}
	if cache != nil {
		if _, _, err := cache.Save(); err != nil {
			t.Fatal(err)
		}
	}
	return st, stats, cache
}

// TestCacheWarmRunReadsNothing: a second run on an unchanged package of
// 20,000 versions sends no request to the registry at all (not even the
// token exchange); after new pushes it reads only the new tagged versions.
// With the race detector (the CI's test command) the package has 2,000
// versions: the same code path, in seconds instead of minutes.
func TestCacheWarmRunReadsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 20,000 versions")
	}
	total, untagged := 20_000, 62
	if raceDetector {
		total = 2_000
	}
	tagged := total - untagged
	reg := startRegistry(t)
	for i := range tagged {
		if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("b%d", i)}, LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for range untagged {
		if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir() + "/"
	vs := listed(reg)
	if len(vs) != total {
		t.Fatalf("%d versions", len(vs))
	}

	reg.ResetCounts()
	_, cold, _ := structureWith(t, reg, dir, vs, nil)
	if got := reg.Counts().ManifestGets(); got != tagged || cold.FromCache != 0 {
		t.Fatalf("cold run: %d manifest GETs, %d from cache; want %d, 0", got, cold.FromCache, tagged)
	}

	reg.ResetCounts()
	_, warm, cache := structureWith(t, reg, dir, vs, nil)
	if c := reg.Counts(); c != (fakeregistry.Counts{}) {
		t.Errorf("warm run sent requests: %+v", c)
	}
	if warm.ManifestsRead != tagged || warm.FromCache != tagged || warm.Requests != 0 {
		t.Errorf("warm run: %+v", warm)
	}
	if st := cache.Stats(); st.Hits != tagged || st.Stored != 0 || st.Rejected != 0 {
		t.Errorf("cache stats %+v", st)
	}

	// Five new pushes: a 2-platform index with attestations (1 tagged
	// read, its untagged members are not read) and 4 tagged images.
	if _, err := reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"new"}, Attestations: true, LayerSize: 1}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("n%d", i)}, LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	vs = listed(reg)
	reg.ResetCounts()
	_, after, _ := structureWith(t, reg, dir, vs, nil)
	if got := reg.Counts().ManifestGetByDigest; got != 5 {
		t.Errorf("after 5 new tagged versions: %d manifest GETs, want 5", got)
	}
	if after.FromCache != tagged {
		t.Errorf("after: %d from cache", after.FromCache)
	}
}

// TestCacheTamperedEntry: an entry altered in the file is rejected, read
// again, and the structure is the one a run without cache finds. Altered
// are the index's bytes (a platform manifest removed, which would expose
// that platform to deletion), or only its stored media type (an index
// stored as an image lists no children: its bytes still hash to the
// digest, so the check of the bytes alone would not see it).
func TestCacheTamperedEntry(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, e map[string]string)
	}{
		{"bytes", func(t *testing.T, e map[string]string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(e["manifest"]), &m); err != nil {
				t.Fatal(err)
			}
			m["manifests"] = m["manifests"].([]any)[:1]
			b, _ := json.Marshal(m)
			e["manifest"] = string(b)
		}},
		{"media type", func(t *testing.T, e map[string]string) {
			e["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := startRegistry(t)
			idx, err := reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"v1"}, Attestations: true, LayerSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			vs := listed(reg)
			want, _, _ := structureWith(t, reg, "", vs, nil)
			path := filepath.Join(t.TempDir(), "cache.json.gz")
			structureWith(t, reg, path, vs, nil)

			rewriteCacheEntries(t, path, func(e map[string]string) {
				if e["digest"] == idx.Digest {
					tc.tamper(t, e)
				}
			})

			reg.ResetCounts()
			got, _, cache := structureWith(t, reg, path, vs, nil)
			if st := cache.Stats(); st.Rejected != 1 || st.Hits != 0 || st.Stored != 1 {
				t.Errorf("cache stats %+v, want 1 rejected, 1 stored", st)
			}
			if n := reg.Reads(repo, idx.Digest); n != 1 {
				t.Errorf("index read %d times, want 1", n)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("structure with tampered cache\n%v\nwant\n%v", got, want)
			}
			// The entry saved after the re-read is good again.
			reg.ResetCounts()
			structureWith(t, reg, path, vs, nil)
			if n := reg.Counts().ManifestGets(); n != 0 {
				t.Errorf("third run: %d GETs", n)
			}
		})
	}
}

// rewriteCache applies f to every entry's manifest of the cache file.
func rewriteCache(t *testing.T, path string, f func(digest, manifest string) string) {
	t.Helper()
	rewriteCacheEntries(t, path, func(e map[string]string) {
		e["manifest"] = f(e["digest"], e["manifest"])
	})
}

// rewriteCacheEntries applies f to every entry of the cache file.
func rewriteCacheEntries(t *testing.T, path string, f func(e map[string]string)) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var cf struct {
		Format  int                 `json:"format"`
		Entries []map[string]string `json:"entries"`
	}
	if err := json.NewDecoder(zr).Decode(&cf); err != nil {
		t.Fatal(err)
	}
	for _, e := range cf.Entries {
		f(e)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(cf); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCacheColdStarts: a missing, empty, truncated or foreign file is a
// cold start with a notice, and the run reads from the registry.
func TestCacheColdStarts(t *testing.T) {
	reg := startRegistry(t)
	if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}, LayerSize: 1}); err != nil {
		t.Fatal(err)
	}
	vs := listed(reg)
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte // nil: no file
		notice  string
	}{
		{"missing", nil, "none yet"},
		{"empty", []byte{}, "unreadable"},
		{"not gzip", []byte("{}"), "unreadable"},
		{"truncated", gzipped(t, `{"format":1,"entries":[{"digest":`), "unreadable"},
		{"other format", gzipped(t, `{"format":99,"entries":[]}`), "unreadable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if tc.content != nil {
				if err := os.WriteFile(path, tc.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var notes []string
			cache := containers.LoadCache(path, func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }, t.Errorf)
			if len(notes) != 1 || !strings.Contains(notes[0], tc.notice) || !strings.Contains(notes[0], "cold start") {
				t.Errorf("notices %q, want one with %q", notes, tc.notice)
			}
			reg.ResetCounts()
			r, err := containers.NewReader(containers.Options{RegistryURL: reg.URL(), Token: reg.Token(), Cache: cache})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := r.Structure(context.Background(), owner, pkg, vs); err != nil {
				t.Fatal(err)
			}
			if n := reg.Counts().ManifestGets(); n != 1 {
				t.Errorf("%d GETs, want 1", n)
			}
			if n, _, err := cache.Save(); err != nil || n != 1 {
				t.Errorf("Save: %d entries, %v", n, err)
			}
		})
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

// TestCachePrunesUnlisted: entries of digests no longer listed are not
// saved.
func TestCachePrunesUnlisted(t *testing.T) {
	reg := startRegistry(t)
	for i := range 3 {
		if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("v%d", i)}, LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	vs := listed(reg)
	path := filepath.Join(t.TempDir(), "c")
	structureWith(t, reg, path, vs, nil)
	r, cache := cachedReader(t, reg, path)
	if _, _, err := r.Structure(context.Background(), owner, pkg, vs[1:]); err != nil {
		t.Fatal(err)
	}
	if n, _, err := cache.Save(); err != nil || n != 2 {
		t.Errorf("saved %d entries (%v), want 2", n, err)
	}
}

// TestCacheSameStructureRandomised: on random packages, with a cache
// filled by an earlier run over part of the versions (some entries
// tampered), the structure, and so the plan, is the one found without a
// cache.
func TestCacheSameStructureRandomised(t *testing.T) {
	for seed := range uint64(12) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 16))
			reg := startRegistry(t)
			for i := range 5 + rng.IntN(20) {
				var tags []string
				if rng.IntN(3) > 0 {
					tags = []string{fmt.Sprintf("t%d", i)}
				}
				var p fakeregistry.Pushed
				var err error
				switch rng.IntN(3) {
				case 0:
					p, err = reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: tags, Attestations: rng.IntN(2) == 0, LayerSize: 1})
				default:
					p, err = reg.PushImage(repo, fakeregistry.ImageOptions{Tags: tags, LayerSize: 1})
				}
				if err != nil {
					t.Fatal(err)
				}
				if rng.IntN(3) == 0 {
					if _, err := reg.PushSignature(repo, p.Digest); err != nil {
						t.Fatal(err)
					}
				}
				if rng.IntN(4) == 0 {
					if _, _, err := reg.PushReferrer(repo, p.Digest, ""); err != nil {
						t.Fatal(err)
					}
				}
			}
			vs := listed(reg)
			alsoRead := map[int64]bool{}
			for _, v := range vs {
				if rng.IntN(5) == 0 {
					alsoRead[v.ID] = true
				}
			}
			want, _, _ := structureWith(t, reg, "", vs, alsoRead)

			path := filepath.Join(t.TempDir(), "c")
			var part []policy.Version
			for _, v := range vs {
				if rng.IntN(2) == 0 {
					part = append(part, v)
				}
			}
			structureWith(t, reg, path, part, nil)
			rewriteCache(t, path, func(_, m string) string {
				if rng.IntN(4) == 0 {
					return strings.Replace(m, "sha256:", "sha256:0", 1)
				}
				return m
			})
			got, _, _ := structureWith(t, reg, path, vs, alsoRead)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("with cache\n%v\nwithout\n%v", got, want)
			}
			again, stats, _ := structureWith(t, reg, path, vs, alsoRead)
			if !reflect.DeepEqual(again, want) || stats.FromCache != stats.ManifestsRead {
				t.Errorf("warm: %+v\n%v\nwithout\n%v", stats, again, want)
			}
		})
	}
}

// TestCacheFileNameInInputDescription: the cache-path input's description
// names the file a folder holds.
func TestCacheFileNameInInputDescription(t *testing.T) {
	d, ok := policy.LookupInput(policy.InCachePath)
	if !ok || !strings.Contains(d.Description, "`"+containers.CacheFileName+"`") {
		t.Errorf("cache-path description %q does not name %s", d.Description, containers.CacheFileName)
	}
}

func startRegistry(t testing.TB) *fakeregistry.Registry {
	t.Helper()
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: "ghp_test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// holdTransport holds the GET of one manifest until release is closed,
// and closes arrived when it comes.
type holdTransport struct {
	inner   http.RoundTripper
	digest  string
	once    sync.Once
	arrived chan struct{}
	release chan struct{}
}

func (h *holdTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/manifests/"+h.digest) {
		h.once.Do(func() { close(h.arrived) })
		<-h.release
	}
	return h.inner.RoundTrip(req)
}

// Two packages read at once with a warm cache each report the manifests
// the cache served them, not those it served the other meanwhile: app's
// read is held on its one uncached manifest while lib is read whole from
// the cache.
func TestFromCacheCountsItsOwnPackage(t *testing.T) {
	reg := startRegistry(t)
	const libRepo = "acme/lib"
	for i := range 3 {
		if _, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("a%d", i)}, LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := reg.PushImage(libRepo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("l%d", i)}, LayerSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	versionsOf := func(repo string) []policy.Version {
		var vs []policy.Version
		for _, m := range reg.Manifests(repo) {
			vs = append(vs, policy.Version{ID: id(m.Seq), Name: m.Digest, Tags: m.Tags})
		}
		return vs
	}
	path := filepath.Join(t.TempDir(), "c")
	warm, cache := cachedReader(t, reg, path)
	for _, p := range []string{pkg, "Lib"} {
		if _, _, err := warm.Structure(context.Background(), owner, p, versionsOf(containers.Repository(owner, p))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := cache.Save(); err != nil {
		t.Fatal(err)
	}
	fresh := must[fakeregistry.Pushed](t)(reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"a3"}, LayerSize: 1}))

	hold := &holdTransport{inner: &http.Transport{}, digest: fresh.Digest, arrived: make(chan struct{}), release: make(chan struct{})}
	r, err := containers.NewReader(containers.Options{
		RegistryURL: reg.URL(), Token: reg.Token(), Clock: clock.NewFake(time.Now()), Transport: hold,
		Cache: containers.LoadCache(path, t.Logf, t.Logf),
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		stats containers.Stats
		err   error
	}
	appDone := make(chan result, 1)
	go func() {
		_, stats, err := r.Structure(context.Background(), owner, pkg, versionsOf(repo))
		appDone <- result{stats, err}
	}()
	select {
	case <-hold.arrived:
	case res := <-appDone:
		close(hold.release)
		t.Fatalf("app read without asking for its new manifest: %+v %v", res.stats, res.err)
	}
	_, lib, err := r.Structure(context.Background(), owner, "Lib", versionsOf(libRepo))
	close(hold.release)
	if err != nil {
		t.Fatal(err)
	}
	app := <-appDone
	if app.err != nil {
		t.Fatal(app.err)
	}
	if app.stats.ManifestsRead != 4 || app.stats.FromCache != 3 {
		t.Errorf("app: %d read, %d from the cache; want 4, 3", app.stats.ManifestsRead, app.stats.FromCache)
	}
	if lib.ManifestsRead != 2 || lib.FromCache != 2 {
		t.Errorf("lib: %d read, %d from the cache; want 2, 2", lib.ManifestsRead, lib.FromCache)
	}
}
