package containers_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/fakeregistry"
)

func TestReferrersAPI(t *testing.T) {
	for _, tc := range []struct {
		name     string
		api      bool
		want     bool // the bare referrer is listed
		requests int  // referrers requests over two calls
	}{
		{"registry with the API lists a referrer no fallback index lists", true, true, 2},
		{"registry without it answers 404 once and is not asked again", false, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.reg.SetReferrersAPI(tc.api)
			img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
			ref := must[fakeregistry.Pushed](t)(e.reg.PushBareReferrer(repo, img.Digest, ""))
			for call := 0; call < 2; call++ {
				found, _, err := e.r.Referrers(context.Background(), owner, pkg, []string{img.Digest})
				if err != nil {
					t.Fatal(err)
				}
				if got := slices.Contains(found[img.Digest], ref.Digest); got != tc.want {
					t.Errorf("call %d: referrer listed = %v, want %v (found %v)", call, got, tc.want, found)
				}
			}
			if got := e.reg.Counts().Referrers; got != tc.requests {
				t.Errorf("referrers requests = %d, want %d", got, tc.requests)
			}
		})
	}
}

// TestReferrersAPIProbedOnceForConcurrentPackages: packages whose
// structure is read at the same time ask a registry without the API once
// between them, not once each.
func TestReferrersAPIProbedOnceForConcurrentPackages(t *testing.T) {
	e := newEnv(t, func(o *containers.Options) {
		// Referrers answers come late: every package has asked by then
		// unless one probe holds the others back.
		o.Transport = slowReferrers{http.DefaultTransport}
	})
	e.reg.SetReferrersAPI(false)
	names := []string{"a", "b", "c", "d"}
	subjects := map[string]string{}
	for _, n := range names {
		img := must[fakeregistry.Pushed](t)(e.reg.PushImage(containers.Repository(owner, n), fakeregistry.ImageOptions{Tags: []string{"v1"}}))
		subjects[n] = img.Digest
	}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			if _, _, err := e.r.Referrers(context.Background(), owner, n, []string{subjects[n]}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := e.reg.Counts().Referrers; got != 1 {
		t.Errorf("referrers requests = %d for %d packages, want 1", got, len(names))
	}
}

// slowReferrers delays the answers to referrers requests.
type slowReferrers struct{ inner http.RoundTripper }

func (s slowReferrers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.inner.RoundTrip(req)
	if strings.Contains(req.URL.Path, "/referrers/") {
		time.Sleep(100 * time.Millisecond)
	}
	return resp, err
}

func TestReferrersAPIIsNeverAskedOnGHCR(t *testing.T) {
	r, err := containers.NewReader(containers.Options{RegistryURL: "https://ghcr.io", Transport: failTransport{t}})
	if err != nil {
		t.Fatal(err)
	}
	found, stats, err := r.Referrers(context.Background(), owner, pkg, []string{"sha256:" + strings.Repeat("0", 64)})
	if err != nil || found != nil || stats.Requests != 0 {
		t.Errorf("found %v, %d requests, err %v: want nothing asked", found, stats.Requests, err)
	}
}

// failTransport fails the test on any request.
type failTransport struct{ t *testing.T }

func (f failTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.t.Errorf("request sent to %s", req.URL)
	return nil, http.ErrHandlerTimeout
}

// An untagged version read on request (a root the plan would delete) whose
// manifest the registry no longer has references nothing: it stays a root,
// and does not make the package unreadable. A referrer read that way
// becomes a child of its subject.
func TestUntaggedReadOnRequest(t *testing.T) {
	e := newEnv(t)
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
	ref := must[fakeregistry.Pushed](t)(e.reg.PushBareReferrer(repo, img.Digest, ""))
	gone := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{}))
	vs := e.versions()
	if err := e.reg.DeleteManifest(repo, gone.Digest); err != nil {
		t.Fatal(err)
	}
	also := map[int64]bool{e.idOf(t, ref.Digest): true, id(len(vs)): true}
	st, stats, err := e.r.StructureAlso(context.Background(), owner, pkg, vs, also)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Unreadable) != 0 || stats.Gone != 1 || stats.ManifestsRead != 2 {
		t.Errorf("unreadable %v, stats %+v: want the gone version neither unreadable nor read", st.Unreadable, stats)
	}
	wantParents(t, st, vs, map[int64][]int64{e.idOf(t, ref.Digest): {e.idOf(t, img.Digest)}})
}
