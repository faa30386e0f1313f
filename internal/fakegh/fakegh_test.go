package fakegh

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pkgretention/retention/internal/clock"
)

var start = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newFake returns a fake on a fake clock with the org "acme", served over
// loopback.
func newFake(t *testing.T, opts ...Option) (*Server, *httptest.Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(start)
	s := New(append([]Option{WithClock(clk)}, opts...)...)
	s.AddOrg("acme")
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, clk
}

// do sends one request and returns the response with its body read.
func do(t *testing.T, srv *httptest.Server, method, path string) (*http.Response, string) {
	t.Helper()
	res, body := doRequest(t, srv, method, path, "-")
	return res, string(body)
}

func ghClient(t *testing.T, srv *httptest.Server) *github.Client {
	t.Helper()
	c := github.NewClient(srv.Client())
	u, err := url.Parse(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	c.BaseURL = u
	return c
}

func versionIDs(vs []Version) []int64 {
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	return ids
}

// listAll lists every version of acme's container "team/app" in a state
// through go-github, following the Link headers, and returns the ids and
// the number of pages fetched.
func listAll(t *testing.T, srv *httptest.Server, state string, perPage int) ([]int64, int, int) {
	t.Helper()
	c := ghClient(t, srv)
	opts := &github.PackageListOptions{State: github.String(state), ListOptions: github.ListOptions{PerPage: perPage}}
	var ids []int64
	pages, last := 0, 0
	for {
		vs, resp, err := c.Organizations.PackageGetAllVersions(context.Background(), "acme", "container", "team/app", opts)
		if err != nil {
			t.Fatalf("list page %d: %v", opts.Page, err)
		}
		pages++
		if pages == 1 {
			last = resp.LastPage
		}
		for _, v := range vs {
			ids = append(ids, v.GetID())
		}
		if resp.NextPage == 0 {
			return ids, pages, last
		}
		opts.Page = resp.NextPage
	}
}

func TestPaginationRoundTrip(t *testing.T) {
	cases := []struct {
		name      string
		versions  int
		perPage   int
		wantPages int
		wantLast  int // rel="last" of page 1; 0 when there is no Link header
	}{
		{"empty", 0, 100, 1, 0},
		{"one version", 1, 100, 1, 0},
		{"exactly one page", 100, 100, 1, 0},
		{"one more than a page", 101, 100, 2, 2},
		{"several pages", 250, 100, 3, 3},
		{"default page size", 65, 0, 3, 3},
		{"per_page above 100 is capped", 250, 500, 3, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, srv, _ := newFake(t)
			s.AddPackage("acme", "container", "team/app", "private")
			s.AddVersions("acme", "container", "team/app", tc.versions, nil)
			got, pages, last := listAll(t, srv, "active", tc.perPage)
			if want := versionIDs(s.Active("acme", "container", "team/app")); !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}
			if pages != tc.wantPages || last != tc.wantLast {
				t.Errorf("fetched %d pages with rel=last %d, want %d and %d", pages, last, tc.wantPages, tc.wantLast)
			}
		})
	}
}

func TestLinkHeader(t *testing.T) {
	s, srv, _ := newFake(t)
	s.AddPackage("acme", "container", "team/app", "private")
	s.AddVersions("acme", "container", "team/app", 250, nil)
	u := func(page int) string {
		return fmt.Sprintf("<%s/orgs/acme/packages/container/team%%2Fapp/versions?page=%d&per_page=100>", srv.URL, page)
	}
	cases := []struct {
		page  int
		want  string
		count int
	}{
		{1, u(2) + `; rel="next", ` + u(3) + `; rel="last"`, 100},
		{2, u(1) + `; rel="prev", ` + u(3) + `; rel="next", ` + u(3) + `; rel="last", ` + u(1) + `; rel="first"`, 100},
		{3, u(2) + `; rel="prev", ` + u(1) + `; rel="first"`, 50},
	}
	for _, tc := range cases {
		t.Run("page "+strconv.Itoa(tc.page), func(t *testing.T) {
			res, body := do(t, srv, "GET", fmt.Sprintf("/orgs/acme/packages/container/team%%2Fapp/versions?per_page=100&page=%d", tc.page))
			if got := res.Header.Get("Link"); got != tc.want {
				t.Errorf("Link:\n got %s\nwant %s", got, tc.want)
			}
			if n := strings.Count(body, `"package_html_url"`); n != tc.count {
				t.Errorf("page has %d versions, want %d", n, tc.count)
			}
		})
	}
}

// TestPaginationAfterChanges checks listings in both states against a
// simple model after random deletions, restorations and out-of-order
// additions.
func TestPaginationAfterChanges(t *testing.T) {
	s, srv, clk := newFake(t)
	s.AddPackage("acme", "container", "team/app", "private")
	s.AddVersions("acme", "container", "team/app", 1000, nil)
	all := versionIDs(s.Active("acme", "container", "team/app"))
	rng := rand.New(rand.NewPCG(7, 7))
	deleted := map[int64]bool{}
	for _, i := range rng.Perm(len(all))[:600] {
		clk.Advance(time.Second)
		if res, body := do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/container/team%%2Fapp/versions/%d", all[i])); res.StatusCode != 204 {
			t.Fatalf("delete %d: %d %s", all[i], res.StatusCode, body)
		}
		deleted[all[i]] = true
	}
	for _, i := range rng.Perm(len(all))[:200] {
		if deleted[all[i]] {
			if res, body := do(t, srv, "POST", fmt.Sprintf("/orgs/acme/packages/container/team%%2Fapp/versions/%d/restore", all[i])); res.StatusCode != 204 {
				t.Fatalf("restore %d: %d %s", all[i], res.StatusCode, body)
			}
			delete(deleted, all[i])
		}
	}
	// A version older than all others, added last, goes to the end.
	old := s.AddVersion("acme", "container", "team/app", Version{CreatedAt: start.Add(-24 * time.Hour)})
	var wantActive, wantDeleted []int64
	for _, id := range all {
		if deleted[id] {
			wantDeleted = append(wantDeleted, id)
		} else {
			wantActive = append(wantActive, id)
		}
	}
	wantActive = append(wantActive, old.ID)
	for _, perPage := range []int{1, 7, 100} {
		if got, _, _ := listAll(t, srv, "active", perPage); !slices.Equal(got, wantActive) {
			t.Errorf("per_page %d: active listing differs from the model (%d versions, want %d)", perPage, len(got), len(wantActive))
		}
		if got, _, _ := listAll(t, srv, "deleted", perPage); !slices.Equal(got, wantDeleted) {
			t.Errorf("per_page %d: deleted listing differs from the model (%d versions, want %d)", perPage, len(got), len(wantDeleted))
		}
	}
	if got := versionIDs(s.Active("acme", "container", "team/app")); !slices.Equal(got, wantActive) {
		t.Errorf("Active differs from the model")
	}
	if got := versionIDs(s.Deleted("acme", "container", "team/app")); !slices.Equal(got, wantDeleted) {
		t.Errorf("Deleted differs from the model")
	}
}

func TestEscapedPackageNames(t *testing.T) {
	s, srv, _ := newFake(t)
	s.AddUser("alice")
	for _, o := range []string{"acme", "alice"} {
		s.AddPackage(o, "container", "team/app", "private")
		s.AddVersions(o, "container", "team/app", 2, nil)
	}
	c := ghClient(t, srv)
	ctx := context.Background()
	if _, _, err := c.Organizations.GetPackage(ctx, "acme", "container", "team/app"); err != nil {
		t.Errorf("organisation method (escapes the name): %v", err)
	}
	if _, _, err := c.Users.GetPackage(ctx, "alice", "container", url.PathEscape("team/app")); err != nil {
		t.Errorf("user method with the name escaped by the caller: %v", err)
	}
	if len(s.Violations()) != 0 {
		t.Fatalf("violations before the unescaped request: %v", s.Violations())
	}
	_, resp, err := c.Users.GetPackage(ctx, "alice", "container", "team/app")
	if resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("user method with the name not escaped: %v, want 404", err)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "no such endpoint") {
		t.Errorf("violations %q, want one for the unknown endpoint", v)
	}
}

func TestDeleteRefusals(t *testing.T) {
	cases := []struct {
		name       string
		typ        string
		visibility string
		versions   []Version // oldest first
		forbidden  bool
		target     int // index in versions; -1 for an unknown id
		wantStatus int
		wantMsg    string
	}{
		{"success", "npm", "private", []Version{{}, {}}, false, 0, 204, ""},
		{"public, more than 5000 downloads", "npm", "public", []Version{{}, {Downloads: 5001}}, false, 1, 400, msgDownloadRule},
		{"public, exactly 5000 downloads", "npm", "public", []Version{{}, {Downloads: 5000}}, false, 1, 204, ""},
		{"private, more than 5000 downloads", "npm", "private", []Version{{}, {Downloads: 90000}}, false, 1, 204, ""},
		{"last version of npm", "npm", "private", []Version{{}}, false, 0, 400, msgLastVersion},
		{"last tagged container version", "container", "private", []Version{{Tags: []string{"v1"}}, {}}, false, 0, 400, msgLastTagged},
		{"untagged container version beside the last tagged", "container", "private", []Version{{Tags: []string{"v1"}}, {}}, false, 1, 204, ""},
		{"one of two tagged container versions", "container", "private", []Version{{Tags: []string{"v1"}}, {Tags: []string{"v2"}}}, false, 0, 204, ""},
		{"last untagged container version", "container", "private", []Version{{}}, false, 0, 400, msgLastVersion},
		{"unknown version", "npm", "private", []Version{{}, {}}, false, -1, 404, msgVersionNotFound},
		{"no permission", "npm", "private", []Version{{}, {}}, true, 0, 403, msgNotAccessible},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, srv, _ := newFake(t)
			s.AddPackage("acme", tc.typ, "pkg", tc.visibility)
			var ids []int64
			for i, v := range tc.versions {
				v.CreatedAt = start.Add(time.Duration(i-10) * time.Minute)
				ids = append(ids, s.AddVersion("acme", tc.typ, "pkg", v).ID)
			}
			s.SetForbidden("acme", tc.typ, "pkg", tc.forbidden)
			id := int64(424242)
			if tc.target >= 0 {
				id = ids[tc.target]
			}
			res, body := do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/%s/pkg/versions/%d", tc.typ, id))
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", res.StatusCode, tc.wantStatus, body)
			}
			if tc.wantMsg == "" {
				if body != "" {
					t.Errorf("body %q, want none", body)
				}
			} else if !strings.Contains(body, `"message":"`+tc.wantMsg+`"`) {
				t.Errorf("body %s, want message %q", body, tc.wantMsg)
			}
			wantActive := len(tc.versions)
			if tc.wantStatus == 204 {
				wantActive--
			}
			if n := len(s.Active("acme", tc.typ, "pkg")); n != wantActive {
				t.Errorf("%d active versions, want %d", n, wantActive)
			}
		})
	}
}

func rateHeaders(res *http.Response) string {
	h := res.Header
	return fmt.Sprintf("limit=%s remaining=%s used=%s reset=%s resource=%s",
		h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Used"), h.Get("X-RateLimit-Reset"), h.Get("X-RateLimit-Resource"))
}

func TestPrimaryRateLimit(t *testing.T) {
	for _, status := range []int{403, 429} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			s, srv, clk := newFake(t, WithRateLimit(RateLimit{Limit: 3, Status: status}))
			reset := start.Add(time.Hour).Unix()
			for i := 1; i <= 3; i++ {
				res, _ := do(t, srv, "GET", "/users/acme")
				want := fmt.Sprintf("limit=3 remaining=%d used=%d reset=%d resource=core", 3-i, i, reset)
				if res.StatusCode != 200 || rateHeaders(res) != want {
					t.Fatalf("request %d: %d %s, want 200 %s", i, res.StatusCode, rateHeaders(res), want)
				}
			}
			res, body := do(t, srv, "GET", "/users/acme")
			if res.StatusCode != status || !strings.Contains(body, msgPrimaryLimit) || res.Header.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("exhausted: %d %s %s, want %d with remaining 0", res.StatusCode, rateHeaders(res), body, status)
			}
			if v := s.Violations(); len(v) != 0 {
				t.Fatalf("learning of the limit from a refusal is no violation: %v", v)
			}
			clk.Advance(59 * time.Minute)
			if res, _ := do(t, srv, "GET", "/users/acme"); res.StatusCode != status {
				t.Errorf("before the reset: %d, want %d", res.StatusCode, status)
			}
			if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "primary rate limit") {
				t.Errorf("violations %q, want one for the request before the reset", v)
			}
			clk.Advance(time.Minute)
			res, _ = do(t, srv, "GET", "/users/acme")
			want := fmt.Sprintf("limit=3 remaining=2 used=1 reset=%d resource=core", start.Add(2*time.Hour).Unix())
			if res.StatusCode != 200 || rateHeaders(res) != want {
				t.Errorf("after the reset: %d %s, want 200 %s", res.StatusCode, rateHeaders(res), want)
			}
		})
	}
}

func TestSecondaryLimit(t *testing.T) {
	cases := []struct {
		name       string
		limit      SecondaryLimit
		okDeletes  int    // deletes allowed before the refusal
		retryAfter string // header of the refusal
		block      time.Duration
		refill     time.Duration // further wait before a DELETE is allowed again
	}{
		{"every 3rd mutation, retry-after", SecondaryLimit{Every: 3, RetryAfter: 30 * time.Second}, 2, "30", 30 * time.Second, 0},
		{"every 2nd mutation, no retry-after", SecondaryLimit{Every: 2, Status: 429}, 1, "", time.Minute, 0},
		{"points per minute", SecondaryLimit{PointsPerMinute: 20, RetryAfter: 5 * time.Second}, 4, "5", 5 * time.Second, 55 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, srv, clk := newFake(t, WithSecondaryLimit(tc.limit))
			s.AddPackage("acme", "npm", "lib", "private")
			s.AddVersions("acme", "npm", "lib", 20, nil)
			ids := versionIDs(s.Active("acme", "npm", "lib"))
			del := func(i int) (*http.Response, string) {
				return do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", ids[i]))
			}
			for i := range tc.okDeletes {
				if res, body := del(i); res.StatusCode != 204 {
					t.Fatalf("delete %d: %d %s", i, res.StatusCode, body)
				}
			}
			res, body := del(tc.okDeletes)
			wantStatus := cmp0(tc.limit.Status, 403)
			if res.StatusCode != wantStatus || !strings.Contains(body, msgSecondaryLimit) || !strings.Contains(body, "secondary-rate-limits") {
				t.Fatalf("refusal: %d %s, want %d with the secondary-limit message", res.StatusCode, body, wantStatus)
			}
			if got := res.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			if n := len(s.Active("acme", "npm", "lib")); n != 20-tc.okDeletes {
				t.Errorf("the refused delete was performed: %d active", n)
			}
			if v := s.Violations(); len(v) != 0 {
				t.Fatalf("violations before any request while blocked: %v", v)
			}
			clk.Advance(tc.block - time.Second)
			if res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib"); res.StatusCode != wantStatus {
				t.Errorf("request while blocked: %d, want %d", res.StatusCode, wantStatus)
			}
			if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "secondary rate limit") {
				t.Errorf("violations %q, want one", v)
			}
			clk.Advance(time.Second)
			if tc.refill > 0 {
				if res, _ := del(tc.okDeletes); res.StatusCode != wantStatus {
					t.Errorf("delete after the block, points spent: %d, want %d", res.StatusCode, wantStatus)
				}
				clk.Advance(tc.refill)
			}
			if res, body := del(tc.okDeletes); res.StatusCode != 204 {
				t.Errorf("delete after the block: %d %s", res.StatusCode, body)
			}
		})
	}
}

// TestConcurrencyViolations holds a DELETE in flight (its OnDelete hook
// waits) and sends other requests meanwhile.
func TestConcurrencyViolations(t *testing.T) {
	s, srv, _ := newFake(t, WithSecondaryLimit(SecondaryLimit{MaxConcurrent: 2}))
	s.AddPackage("acme", "npm", "lib", "private")
	s.AddVersions("acme", "npm", "lib", 5, nil)
	ids := versionIDs(s.Active("acme", "npm", "lib"))
	entered, release := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	s.OnDelete(func(owner, typ, name string, v Version) {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-release
		}
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", ids[0]))
	}()
	<-entered
	if res, _ := do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", ids[1])); res.StatusCode != 204 {
		t.Errorf("second DELETE: %d, want 204 (2 in flight is within the limit)", res.StatusCode)
	}
	close(release)
	<-done
	if got := s.CountRoute("DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}"); got != 2 {
		t.Errorf("CountRoute of version DELETEs %d, want 2", got)
	}
	if got := s.MaxMutationsInFlight(); got != 2 {
		t.Errorf("MaxMutationsInFlight %d, want 2", got)
	}
	v := s.Violations()
	if len(v) != 1 || !strings.Contains(v[0], "mutating request sent while 1 other(s) were in flight") {
		t.Errorf("violations %q, want one for the concurrent DELETE", v)
	}

	// Three in flight with MaxConcurrent 2: the third is refused.
	s.ResetLog()
	entered2, release2 := make(chan struct{}), make(chan struct{})
	var n sync.WaitGroup
	s.OnDelete(func(owner, typ, name string, v Version) {
		entered2 <- struct{}{}
		<-release2
	})
	for _, id := range ids[2:4] {
		n.Add(1)
		go func() {
			defer n.Done()
			do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", id))
		}()
		<-entered2
	}
	res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib")
	close(release2)
	n.Wait()
	if res.StatusCode != 403 {
		t.Errorf("third request in flight: %d, want 403", res.StatusCode)
	}
	if s.MaxInFlight() != 3 {
		t.Errorf("MaxInFlight %d, want 3", s.MaxInFlight())
	}
	if v := strings.Join(s.Violations(), "\n"); !strings.Contains(v, "3 requests in flight, above the secondary limit of 2") {
		t.Errorf("violations %q, want one for the concurrency", v)
	}
}

func TestGraceForConcurrentListing(t *testing.T) {
	s, srv, _ := newFake(t, WithRateLimit(RateLimit{Limit: 3}))
	s.AddPackage("acme", "npm", "lib", "private")
	s.mu.Lock()
	s.maxGets = 3 // as if a client had listed three pages at once
	s.mu.Unlock()
	for range 4 {
		do(t, srv, "GET", "/orgs/acme/packages/npm/lib")
	}
	for range 2 {
		do(t, srv, "GET", "/orgs/acme/packages/npm/lib") // in the race window: forgiven
	}
	if v := s.Violations(); len(v) != 0 {
		t.Fatalf("violations %q, want the first two GETs forgiven", v)
	}
	do(t, srv, "GET", "/orgs/acme/packages/npm/lib")
	do(t, srv, "DELETE", "/orgs/acme/packages/npm/lib/versions/1")
	if v := s.Violations(); len(v) != 2 {
		t.Errorf("violations %q, want the third GET and the DELETE", v)
	}
}

func TestRestore(t *testing.T) {
	s, srv, clk := newFake(t)
	s.AddPackage("acme", "container", "app", "private")
	v1 := s.AddVersion("acme", "container", "app", Version{Tags: []string{"v1"}, CreatedAt: start.Add(-3 * time.Hour)})
	v2 := s.AddVersion("acme", "container", "app", Version{Tags: []string{"v2"}, CreatedAt: start.Add(-2 * time.Hour)})
	v3 := s.AddVersion("acme", "container", "app", Version{Tags: []string{"v3"}, CreatedAt: start.Add(-time.Hour)})
	var restored []int64
	s.OnRestore(func(owner, typ, name string, v Version) { restored = append(restored, v.ID) })
	path := func(v Version, suffix string) string {
		return fmt.Sprintf("/orgs/acme/packages/container/app/versions/%d%s", v.ID, suffix)
	}
	step := func(method, p string, want int) {
		t.Helper()
		if res, body := do(t, srv, method, p); res.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, p, res.StatusCode, body, want)
		}
	}
	step("DELETE", path(v1, ""), 204)
	step("DELETE", path(v2, ""), 204)
	step("POST", path(v3, "/restore"), 404) // active
	clk.Advance(RestoreWindow - time.Second)
	step("POST", path(v1, "/restore"), 204)
	clk.Advance(time.Second)
	if d := s.Deleted("acme", "container", "app"); len(d) != 0 {
		t.Errorf("deleted versions past the window are still listed: %v", versionIDs(d))
	}
	step("POST", path(v2, "/restore"), 404) // past the window
	step("GET", path(v2, ""), 404)

	// A tag now on another version blocks the restore.
	step("DELETE", path(v3, ""), 204)
	s.AddVersion("acme", "container", "app", Version{Tags: []string{"v3"}})
	res, body := do(t, srv, "POST", path(v3, "/restore"))
	if res.StatusCode != 409 || !strings.Contains(body, msgRestoreConflict) {
		t.Errorf("restore with its tag reused: %d %s, want 409", res.StatusCode, body)
	}
	if !slices.Equal(restored, []int64{v1.ID}) {
		t.Errorf("OnRestore saw %v, want [%d]", restored, v1.ID)
	}
}

func TestPackageDeleteAndRestore(t *testing.T) {
	s, srv, _ := newFake(t)
	s.AddPackage("acme", "npm", "lib", "private")
	s.AddVersions("acme", "npm", "lib", 3, nil)
	var gone int
	s.OnDelete(func(owner, typ, name string, v Version) { gone++ })
	if res, _ := do(t, srv, "DELETE", "/orgs/acme/packages/npm/lib"); res.StatusCode != 204 {
		t.Fatalf("delete package: %d", res.StatusCode)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "deleted a whole package") {
		t.Errorf("violations %q, want the package deletion", v)
	}
	if gone != 3 || s.Active("acme", "npm", "lib") != nil {
		t.Errorf("after the package deletion: %d hooks, active %v", gone, s.Active("acme", "npm", "lib"))
	}
	if res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib/versions"); res.StatusCode != 404 {
		t.Errorf("versions of a deleted package: %d, want 404", res.StatusCode)
	}
	if res, _ := do(t, srv, "POST", "/orgs/acme/packages/npm/lib/restore?token=x"); res.StatusCode != 204 {
		t.Errorf("restore package: %d", res.StatusCode)
	}
	if n := len(s.Active("acme", "npm", "lib")); n != 3 {
		t.Errorf("%d active versions after the restore, want 3", n)
	}
}

func TestFaults(t *testing.T) {
	statuses := func(seed int64) []int {
		s, srv, _ := newFake(t, WithSeed(seed), WithFaults(Faults{FailRate: 0.3}))
		_ = s
		var out []int
		for range 100 {
			res, _ := do(t, srv, "GET", "/users/acme")
			out = append(out, res.StatusCode)
		}
		return out
	}
	a, b, c := statuses(1), statuses(1), statuses(2)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults")
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same faults")
	}
	if n := strings.Count(fmt.Sprint(a), "502"); n < 15 || n > 45 {
		t.Errorf("%d of 100 requests failed at a 30%% rate", n)
	}

	t.Run("ambiguous delete", func(t *testing.T) {
		s, srv, _ := newFake(t, WithFaults(Faults{AmbiguousDeleteRate: 1}))
		s.AddPackage("acme", "npm", "lib", "private")
		s.AddVersions("acme", "npm", "lib", 2, nil)
		id := s.Active("acme", "npm", "lib")[0].ID
		if res, _ := do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", id)); res.StatusCode != 502 {
			t.Errorf("status %d, want 502", res.StatusCode)
		}
		if d := s.Deleted("acme", "npm", "lib"); len(d) != 1 || d[0].ID != id {
			t.Errorf("the version was not deleted behind the 502")
		}
		if res, _ := do(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/npm/lib/versions/%d", id)); res.StatusCode != 404 {
			t.Errorf("retry: %d, want 404", res.StatusCode)
		}
	})

	t.Run("failing page", func(t *testing.T) {
		s, srv, _ := newFake(t)
		s.AddPackage("acme", "npm", "lib", "private")
		s.AddVersions("acme", "npm", "lib", 150, nil)
		s.FailPage("acme", "npm", "lib", 2, 2)
		var got []int
		for range 3 {
			res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib/versions?per_page=100&page=2")
			got = append(got, res.StatusCode)
		}
		if !slices.Equal(got, []int{500, 500, 200}) {
			t.Errorf("statuses %v, want [500 500 200]", got)
		}
		if res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib/versions?per_page=100&page=1"); res.StatusCode != 200 {
			t.Errorf("page 1: %d", res.StatusCode)
		}
	})

	t.Run("dropped connection", func(t *testing.T) {
		s, srv, _ := newFake(t, WithFaults(Faults{NetworkFailRate: 1}))
		s.AddPackage("acme", "npm", "lib", "private")
		s.AddVersions("acme", "npm", "lib", 2, nil)
		req, _ := http.NewRequest("DELETE", srv.URL+"/orgs/acme/packages/npm/lib/versions/1", nil)
		if res, err := srv.Client().Do(req); err == nil {
			res.Body.Close()
			t.Fatalf("got status %d, want a transport error", res.StatusCode)
		}
		if n := len(s.Active("acme", "npm", "lib")); n != 2 {
			t.Errorf("a dropped request changed state: %d active", n)
		}
		if r := s.Requests(); len(r) != 1 || r[0].Status != 0 {
			t.Errorf("requests %+v, want one with status 0", r)
		}
	})
}

func TestAuthAndOwners(t *testing.T) {
	s, srv, _ := newFake(t, WithToken("sekret"), WithAuthenticatedUser("me"))
	s.AddUser("alice")
	cases := []struct {
		name, method, path, auth string
		want                     int
		bodyHas                  string
	}{
		{"no token", "GET", "/users/alice", "", 401, msgBadCredentials},
		{"wrong token", "GET", "/users/alice", "Bearer nope", 401, msgBadCredentials},
		{"bearer token", "GET", "/users/alice", "Bearer sekret", 200, `"type":"User"`},
		{"token scheme", "GET", "/users/acme", "token sekret", 200, `"type":"Organization"`},
		{"authenticated user", "GET", "/user", "token sekret", 200, `"login":"me"`},
		{"unknown user", "GET", "/users/nobody", "token sekret", 404, msgNotFound},
		{"org endpoints for a user", "GET", "/orgs/alice/packages?package_type=npm", "token sekret", 404, msgNotFound},
		{"user endpoints for an org", "GET", "/users/acme/packages?package_type=npm", "token sekret", 404, msgNotFound},
		{"login case does not matter", "GET", "/orgs/ACME/packages?package_type=npm", "token sekret", 200, "[]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.want || !strings.Contains(string(body), tc.bodyHas) {
				t.Errorf("%d %s, want %d containing %q", res.StatusCode, body, tc.want, tc.bodyHas)
			}
		})
	}

	t.Run("no authenticated user", func(t *testing.T) {
		_, srv, _ := newFake(t)
		res, body := do(t, srv, "GET", "/user/packages?package_type=container")
		if res.StatusCode != 403 || !strings.Contains(body, msgNotAccessible) {
			t.Errorf("%d %s, want 403 %q", res.StatusCode, body, msgNotAccessible)
		}
	})
}

func TestBasePath(t *testing.T) {
	s, srv, _ := newFake(t, WithBasePath("/api/v3"))
	s.AddPackage("acme", "npm", "lib", "private")
	s.AddVersions("acme", "npm", "lib", 3, nil)
	c, err := github.NewClient(srv.Client()).WithEnterpriseURLs(srv.URL, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	vs, resp, err := c.Organizations.PackageGetAllVersions(context.Background(), "acme", "npm", "lib", &github.PackageListOptions{ListOptions: github.ListOptions{PerPage: 2}})
	if err != nil || len(vs) != 2 || resp.NextPage != 2 {
		t.Fatalf("GHES-style listing: %d versions, next page %d, %v", len(vs), resp.NextPage, err)
	}
	if link := resp.Header.Get("Link"); !strings.Contains(link, srv.URL+"/api/v3/orgs/acme/packages/npm/lib/versions?page=2&per_page=2") {
		t.Errorf("Link %q does not keep the base path", link)
	}
	if !strings.HasPrefix(vs[0].GetURL(), srv.URL+"/api/v3/orgs/acme/") {
		t.Errorf("version url %q does not use the base path", vs[0].GetURL())
	}
	if res, _ := do(t, srv, "GET", "/orgs/acme/packages/npm/lib"); res.StatusCode != 404 {
		t.Errorf("outside the base path: %d, want 404", res.StatusCode)
	}
}

// An interceptor answers in the fake's place or edits its answer; the
// request is logged either way, and a path escaped otherwise is not
// intercepted.
func TestIntercept(t *testing.T) {
	s, srv, _ := newFake(t)
	s.AddPackage("acme", "container", "team/app", "private")
	s.AddVersion("acme", "container", "team/app", Version{ID: 7})
	s.Intercept("DELETE", "/orgs/acme/packages/container/team%2Fapp/versions/7", func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	s.Intercept("GET", "/orgs/acme/packages/container/team%2Fapp/versions", func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		w.Header().Set("X-Intercepted", "yes")
		next.ServeHTTP(w, r)
	})
	res, _ := do(t, srv, "DELETE", "/orgs/acme/packages/container/team%2Fapp/versions/7")
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "20" {
		t.Errorf("intercepted DELETE: %d, retry-after %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if len(s.Active("acme", "container", "team/app")) != 1 {
		t.Error("the intercepted DELETE reached the fake")
	}
	res, body := do(t, srv, "GET", "/orgs/acme/packages/container/team%2Fapp/versions")
	if res.StatusCode != http.StatusOK || res.Header.Get("X-Intercepted") != "yes" || !strings.Contains(body, `"id":7`) {
		t.Errorf("passed-on GET: %d %q %s", res.StatusCode, res.Header.Get("X-Intercepted"), body)
	}
	res, _ = do(t, srv, "DELETE", "/orgs/acme/packages/container/team%252Fapp/versions/7")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("double-escaped DELETE: %d, want the fake's 404", res.StatusCode)
	}
	if n := s.CountRequests(""); n != 3 {
		t.Errorf("requests logged = %d, want 3", n)
	}
	if got := s.Requests()[0].Status; got != http.StatusServiceUnavailable {
		t.Errorf("logged status of the intercepted request = %d, want 503", got)
	}
	if n := s.InFlight(); n != 0 {
		t.Errorf("in flight = %d after every answer, want 0", n)
	}
}

// TestInstallationTokenCannotListOrgContainers checks the fake's model of
// a workflow's GITHUB_TOKEN (prefix ghs_): listing an organisation's
// container packages is refused with 400 "Invalid argument." (observed:
// cli/cli#9606, actions/github-script#449, octokit/octokit.js#2606), while
// fetching the package by name, listing other types, a user's containers,
// and any listing with a personal access token work.
func TestInstallationTokenCannotListOrgContainers(t *testing.T) {
	s, srv, _ := newFake(t)
	s.AddUser("bob")
	s.AddPackage("acme", "container", "app", "private")
	s.AddPackage("acme", "npm", "lib", "private")
	s.AddPackage("bob", "container", "tool", "private")
	cases := []struct {
		name, path, auth string
		want             int
		bodyHas          string
	}{
		{"ghs_ lists org containers", "/orgs/acme/packages?package_type=container", "Bearer ghs_abc", 400, `"message":"Invalid argument."`},
		{"ghs_ with the token scheme", "/orgs/acme/packages?package_type=container&per_page=100", "token ghs_abc", 400, `"message":"Invalid argument."`},
		{"ghs_ fetches an org container by name", "/orgs/acme/packages/container/app", "Bearer ghs_abc", 200, `"name":"app"`},
		{"ghs_ lists org npm packages", "/orgs/acme/packages?package_type=npm", "Bearer ghs_abc", 200, `"name":"lib"`},
		{"ghs_ lists a user's containers", "/users/bob/packages?package_type=container", "Bearer ghs_abc", 200, `"name":"tool"`},
		{"personal access token lists org containers", "/orgs/acme/packages?package_type=container", "Bearer ghp_abc", 200, `"name":"app"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+tc.path, nil)
			req.Header.Set("Authorization", tc.auth)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.want || !strings.Contains(string(body), tc.bodyHas) {
				t.Errorf("%d %s, want %d containing %q", res.StatusCode, body, tc.want, tc.bodyHas)
			}
		})
	}
}

// TestInstallationTokenReachesItsRepositorysPackages checks
// WithInstallationRepository: a ghs_ token reaches the packages linked to
// its repository only (404 "Package not found." for the others, which
// listings leave out), and a personal access token reaches them all.
func TestInstallationTokenReachesItsRepositorysPackages(t *testing.T) {
	s, srv, _ := newFake(t, WithInstallationRepository("acme/app"))
	for _, name := range []string{"app", "other"} {
		s.AddPackage("acme", "npm", name, "private")
		s.AddVersions("acme", "npm", name, 2, nil)
	}
	s.SetRepository("acme", "npm", "app", "app")
	s.SetRepository("acme", "npm", "other", "other")
	cases := []struct {
		name, method, path, auth string
		want                     int
		bodyHas                  string
	}{
		{"ghs_ gets its package", "GET", "/orgs/acme/packages/npm/app", "Bearer ghs_abc", 200, `"name":"app"`},
		{"ghs_ lists its package's versions", "GET", "/orgs/acme/packages/npm/app/versions", "Bearer ghs_abc", 200, `"name":"1.0.1"`},
		{"ghs_ gets another package", "GET", "/orgs/acme/packages/npm/other", "Bearer ghs_abc", 404, msgPackageNotFound},
		{"ghs_ lists another package's versions", "GET", "/orgs/acme/packages/npm/other/versions", "Bearer ghs_abc", 404, msgPackageNotFound},
		{"ghs_ deletes in another package", "DELETE", "/orgs/acme/packages/npm/other/versions/3", "Bearer ghs_abc", 404, msgPackageNotFound},
		{"ghs_ lists packages", "GET", "/orgs/acme/packages?package_type=npm", "Bearer ghs_abc", 200, `"name":"app"`},
		{"personal access token gets another package", "GET", "/orgs/acme/packages/npm/other", "Bearer ghp_abc", 200, `"name":"other"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			req.Header.Set("Authorization", tc.auth)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.want || !strings.Contains(string(body), tc.bodyHas) {
				t.Errorf("%d %s, want %d containing %q", res.StatusCode, body, tc.want, tc.bodyHas)
			}
			if tc.name == "ghs_ lists packages" && strings.Contains(string(body), `"name":"other"`) {
				t.Errorf("the listing shows a package the token cannot reach: %s", body)
			}
		})
	}
}
