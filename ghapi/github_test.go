package ghapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

func TestLookupOwner(t *testing.T) {
	tests := []struct {
		name         string
		login        string
		accountType  string // "" answers 404
		want         Owner
		wantErr      string
		wantRequests int
	}{
		{name: "organisation", login: "acme", accountType: "Organization", want: Owner{Login: "acme", Kind: Organization}, wantRequests: 1},
		{name: "user", login: "octocat", accountType: "User", want: Owner{Login: "octocat", Kind: User}, wantRequests: 1},
		{name: "bot", login: "deploy-bot", accountType: "Bot", want: Owner{Login: "deploy-bot", Kind: User}, wantRequests: 1},
		{name: "authenticated user", login: "@me", want: Owner{Login: "@me", Kind: AuthenticatedUser}, wantRequests: 0},
		{name: "missing", login: "ghost", wantErr: `owner "ghost" not found (or the token cannot see it)`, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGHServer(t, clock.NewFake(ghEpoch))
			if tt.login != "@me" {
				s.handle("GET", "/users/"+tt.login, func(w http.ResponseWriter, r *http.Request) {
					if tt.accountType == "" {
						ghError(w, http.StatusNotFound, "Not Found")
						return
					}
					ghJSON(w, map[string]any{"login": tt.login, "id": 1, "type": tt.accountType})
				})
			}
			got, err := ghClient(t, s, nil).LookupOwner(context.Background(), tt.login)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("errors.Is(%v, ErrNotFound) = false", err)
				}
			} else if err != nil {
				t.Fatalf("LookupOwner: %v", err)
			}
			if got != tt.want {
				t.Errorf("owner = %+v, want %+v", got, tt.want)
			}
			if n := s.count(); n != tt.wantRequests {
				t.Errorf("requests = %d, want %d", n, tt.wantRequests)
			}
		})
	}
}

// ghHold holds every list page after page 1 until release is closed, then
// lets the fake answer: a test inside testing/synctest then sees, with
// synctest.Wait, exactly as many pages in flight as the client sends at
// once.
func ghHold(release <-chan struct{}) fakegh.Interceptor {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if ghPage(r) > 1 {
			<-release
		}
		next.ServeHTTP(w, r)
	}
}

// ghPage is the page a list request asks for.
func ghPage(r *http.Request) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil {
		return n
	}
	return 1
}

// ghPageRequests returns how many requests for page of the list endpoint
// path the fake received.
func ghPageRequests(s *ghServer, path string, page int) int {
	n := 0
	for _, r := range s.Requests() {
		q, _ := url.ParseQuery(r.RawQuery)
		p, err := strconv.Atoi(q.Get("page"))
		if err != nil {
			p = 1
		}
		if r.Method == "GET" && r.Path == path && p == page {
			n++
		}
	}
	return n
}

// ghEditLink passes list requests to the fake and rewrites its Link
// header with edit (page is the page asked for).
func ghEditLink(edit func(link string, page int) string) fakegh.Interceptor {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		page := ghPage(r)
		next.ServeHTTP(&ghHeaderEdit{ResponseWriter: w, edit: func(h http.Header) {
			if l := edit(h.Get("Link"), page); l != "" {
				h.Set("Link", l)
			} else {
				h.Del("Link")
			}
		}}, r)
	}
}

// ghHeaderEdit edits the headers of an answer before they are written.
type ghHeaderEdit struct {
	http.ResponseWriter
	edit  func(http.Header)
	wrote bool
}

func (w *ghHeaderEdit) WriteHeader(status int) {
	if !w.wrote {
		w.wrote = true
		w.edit(w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *ghHeaderEdit) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ghLinkRels keeps the parts of a Link header whose rel is one of rels.
func ghLinkRels(link string, rels ...string) string {
	var keep []string
	for _, part := range strings.Split(link, ", ") {
		for _, rel := range rels {
			if strings.HasSuffix(part, `rel="`+rel+`"`) {
				keep = append(keep, part)
			}
		}
	}
	return strings.Join(keep, ", ")
}

// ghSeedApp adds acme's container package app with vs.
func ghSeedApp(s *ghServer, vs []fakegh.Version) {
	s.AddOrg("acme")
	s.AddPackage("acme", "container", "app", "private")
	for _, v := range vs {
		s.AddVersion("acme", "container", "app", v)
	}
}

const ghAppVersions = "/orgs/acme/packages/container/app/versions"

func TestListVersionsConcurrentPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 4
		s, closeServer := newPipeGHServer(clock.NewFake(ghEpoch))
		defer closeServer()
		items := ghVersions(1050, 5000)
		ghSeedApp(s, items)
		release := make(chan struct{})
		hold := ghHold(release)
		s.Intercept("GET", ghAppVersions, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if q := r.URL.Query(); q.Get("state") != "active" || q.Get("per_page") != "100" {
				t.Errorf("%s: want state=active and per_page=100", r.URL)
			}
			hold(w, r, next)
		})
		g := ghClient(t, s, func(o *GitHubOptions) { o.ListConcurrency = limit })

		pkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}
		var got []policy.Version
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err = g.ListVersions(context.Background(), pkg, "active")
		}()
		synctest.Wait() // the client sent all it will while pages are held
		if n := s.InFlight(); n != limit {
			t.Errorf("pages in flight = %d, want the limit %d", n, limit)
		}
		close(release)
		<-done
		if err != nil {
			t.Fatalf("ListVersions: %v", err)
		}
		if n := s.count(); n != 11 {
			t.Errorf("requests = %d, want 11 pages", n)
		}
		for p := 1; p <= 11; p++ {
			if n := ghPageRequests(s, ghAppVersions, p); n != 1 {
				t.Errorf("page %d requested %d times, want 1", p, n)
			}
		}
		if m := s.MaxInFlight(); m != limit {
			t.Errorf("max requests in flight = %d, want %d", m, limit)
		}
		ghCheckVersions(t, got, items)
	})
}

// ghCheckVersions checks that got holds every item exactly once, converted.
func ghCheckVersions(t *testing.T, got []policy.Version, items []fakegh.Version) {
	t.Helper()
	if len(got) != len(items) {
		t.Errorf("got %d versions, want %d", len(got), len(items))
	}
	byID := make(map[int64]policy.Version, len(got))
	for _, v := range got {
		if _, dup := byID[v.ID]; dup {
			t.Errorf("version %d listed twice", v.ID)
		}
		byID[v.ID] = v
	}
	for _, it := range items {
		v, ok := byID[it.ID]
		if !ok {
			t.Errorf("version %d missing", it.ID)
			continue
		}
		tags := it.Tags
		if v.Name != it.Name || !v.CreatedAt.Equal(it.CreatedAt) || !v.UpdatedAt.Equal(it.UpdatedAt) || strings.Join(v.Tags, ",") != strings.Join(tags, ",") {
			t.Errorf("version %d = %+v, want name %s created %s updated %s tags %v", it.ID, v, it.Name, it.CreatedAt, it.UpdatedAt, tags)
		}
	}
}

// A listing whose Link headers name only the next page is fetched one
// page after the other, with the state asked for.
func TestListVersionsNextOnly(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	s.AddUser("octocat")
	s.AddPackage("octocat", "container", "app", "private")
	items := ghVersions(251, 900)
	for _, v := range items {
		s.AddVersion("octocat", "container", "app", v)
	}
	items = items[1:] // the newest stays: the last version cannot be deleted
	g := ghClient(t, s, nil)
	pkg := Package{Owner: Owner{Login: "octocat", Kind: User}, Type: policy.Container, Name: "app"}
	for _, v := range items {
		if err := g.DeleteVersion(context.Background(), pkg, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	s.ResetLog()
	s.Intercept("GET", "/users/octocat/packages/container/app/versions", ghEditLink(func(link string, _ int) string {
		return ghLinkRels(link, "next", "prev")
	}))

	got, err := g.ListVersions(context.Background(), pkg, "deleted")
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if n := s.count(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if m := s.MaxInFlight(); m != 1 {
		t.Errorf("max in flight = %d, want 1 (rel=next only: one page after the other)", m)
	}
	ghCheckVersions(t, got, items)
}

func TestListVersionsSinglePage(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	s.AddOrg("acme")
	s.AddPackage("acme", "npm", "lib", "private")
	items := ghVersions(40, 40)
	for i := range items {
		items[i].Name = fmt.Sprintf("1.0.%d", items[i].ID)
		items[i].Tags = nil // an npm version has no tags
		s.AddVersion("acme", "npm", "lib", items[i])
	}
	got, err := ghClient(t, s, nil).ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Npm, Name: "lib"}, "active")
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if n := s.count(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
	ghCheckVersions(t, got, items)
	for _, v := range got {
		if len(v.Tags) != 0 {
			t.Errorf("npm version %d has tags %v", v.ID, v.Tags)
		}
	}
}

// A version pushed while listing shifts every version one place down: the
// version at a page boundary is served twice and must be listed once.
func TestListVersionsShiftedWhileListing(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	items := ghVersions(300, 1000)
	ghSeedApp(s, items)
	var once sync.Once
	noLast := ghEditLink(func(link string, _ int) string { return ghLinkRels(link, "next", "prev", "first") })
	s.Intercept("GET", ghAppVersions, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if ghPage(r) == 2 {
			once.Do(func() { s.AddVersion("acme", "container", "app", ghVersions(1, 1001)[0]) })
		}
		noLast(w, r, next)
	})
	got, err := ghClient(t, s, nil).ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}, "active")
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	// 301 versions now: page 4 holds the last one.
	if n := s.count(); n != 4 {
		t.Errorf("requests = %d, want 4", n)
	}
	ghCheckVersions(t, got, items)
}

// The last page named on page 1 may itself announce a next page (versions
// pushed while listing): it is fetched too.
func TestListVersionsBeyondAnnouncedLast(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	items := ghVersions(300, 1000)
	ghSeedApp(s, items)
	// The client may ask for pages 2 and 3 as soon as page 1's headers
	// arrive: they wait until the push is done.
	pushed := make(chan struct{})
	s.Intercept("GET", ghAppVersions, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if ghPage(r) != 1 {
			<-pushed
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
		// Page 1 said the last page is 3; 50 versions pushed now
		// make it 4, which page 3 announces.
		for _, v := range ghVersions(50, 1050) {
			s.AddVersion("acme", "container", "app", v)
		}
		close(pushed)
	})
	got, err := ghClient(t, s, nil).ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}, "active")
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if n := s.count(); n != 4 {
		t.Errorf("requests = %d, want 4", n)
	}
	// The versions pushed went on top, onto page 1, already read: they are
	// for the next run.
	ghCheckVersions(t, got, items)
}

func TestListVersionsPageFailsAfterRetries(t *testing.T) {
	clk := clock.NewFake(ghEpoch)
	s := newGHServer(t, clk)
	ghSeedApp(s, ghVersions(1050, 5000))
	s.FailPage("acme", "container", "app", 5, -1)
	g := ghClient(t, s, func(o *GitHubOptions) { o.ListConcurrency = 2 })
	got, err := g.ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}, "active")
	if err == nil {
		t.Fatalf("ListVersions succeeded with %d versions, want an error", len(got))
	}
	if got != nil {
		t.Errorf("got %d versions with the error, want none", len(got))
	}
	for _, want := range []string{`list active versions of container "app": listing incomplete`, "page 5 of 11", "500 Server Error"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusInternalServerError {
		t.Errorf("errors.As(*APIError) = %v, %+v", errors.As(err, &ae), ae)
	}
	if n := ghPageRequests(s, ghAppVersions, 5); n != 4 {
		t.Errorf("page 5 requested %d times, want 4 (the default attempts)", n)
	}
	if clk.Slept() <= 0 {
		t.Errorf("no backoff went through the clock")
	}
}

// When one page fails for good, the pages still in flight are cancelled:
// the listing is incomplete anyway.
func TestListVersionsFailureCancelsOtherPages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, closeServer := newPipeGHServer(clock.NewFake(ghEpoch))
		defer closeServer()
		ghSeedApp(s, ghVersions(1050, 5000))
		var cancelled atomic.Int64
		arrived := make(chan struct{}, 2)
		var page2 atomic.Int64
		s.Intercept("GET", ghAppVersions, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			switch ghPage(r) {
			case 1:
				next.ServeHTTP(w, r)
			case 2:
				if page2.Add(1) == 1 { // let pages 3 and 4 go out first
					<-arrived
					<-arrived
				}
				ghError(w, http.StatusBadGateway, "Bad Gateway")
			default:
				arrived <- struct{}{}
				<-r.Context().Done()
				cancelled.Add(1)
			}
		})
		g := ghClient(t, s, func(o *GitHubOptions) { o.ListConcurrency = 3 })
		_, err := g.ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}, "active")
		if err == nil || !strings.Contains(err.Error(), "page 2 of 11") {
			t.Fatalf("err = %v, want page 2 to fail the listing", err)
		}
		synctest.Wait() // the handlers of the cancelled pages have returned
		if n := cancelled.Load(); n != 2 {
			t.Errorf("%d pages cancelled, want the 2 others in flight", n)
		}
		if n := ghPageRequests(s, ghAppVersions, 2); n != 4 {
			t.Errorf("page 2 requested %d times, want 4", n)
		}
	})
}

// Several packages listed at once share the client's limit.
func TestListVersionsShareTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const limit = 3
		s, closeServer := newPipeGHServer(clock.NewFake(ghEpoch))
		defer closeServer()
		s.AddOrg("acme")
		release := make(chan struct{})
		items := map[string][]fakegh.Version{}
		for i, name := range []string{"a", "b", "c"} {
			items[name] = ghVersions(520, int64(10000*(i+1)))
			s.AddPackage("acme", "container", name, "private")
			for _, v := range items[name] {
				s.AddVersion("acme", "container", name, v)
			}
			s.Intercept("GET", "/orgs/acme/packages/container/"+name+"/versions", ghHold(release))
		}
		g := ghClient(t, s, func(o *GitHubOptions) { o.ListConcurrency = limit })
		var wg sync.WaitGroup
		for name, want := range items {
			wg.Go(func() {
				got, err := g.ListVersions(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: name}, "active")
				if err != nil {
					t.Errorf("ListVersions(%s): %v", name, err)
					return
				}
				ghCheckVersions(t, got, want)
			})
		}
		synctest.Wait() // every package's pages after the first are held
		if n := s.InFlight(); n != limit {
			t.Errorf("pages in flight = %d, want the shared limit %d", n, limit)
		}
		close(release)
		wg.Wait()
		if m := s.MaxInFlight(); m != limit {
			t.Errorf("max in flight = %d, want %d", m, limit)
		}
		if n := s.count(); n != 18 {
			t.Errorf("requests = %d, want 18 (3 packages × 6 pages)", n)
		}
	})
}

// ghOwnerKinds are the three kinds of owner, each with the fake server
// that knows it.
var ghOwnerKinds = []ghOwnerKind{
	{"organisation", Owner{Login: "acme", Kind: Organization}},
	{"user", Owner{Login: "octocat", Kind: User}},
	{"authenticated user", Owner{Login: "@me", Kind: AuthenticatedUser}},
}

type ghOwnerKind struct {
	name  string
	owner Owner
}

// server returns a fake GitHub that has the owner, and the owner's login
// (the authenticated user is octocat).
func (k ghOwnerKind) server(t *testing.T) (*ghServer, string) {
	switch k.owner.Kind {
	case Organization:
		s := newGHServer(t, clock.NewFake(ghEpoch))
		s.AddOrg(k.owner.Login)
		return s, k.owner.Login
	case User:
		s := newGHServer(t, clock.NewFake(ghEpoch))
		s.AddUser(k.owner.Login)
		return s, k.owner.Login
	}
	return newGHServer(t, clock.NewFake(ghEpoch), fakegh.WithAuthenticatedUser("octocat")), "octocat"
}

func TestListPackages(t *testing.T) {
	for _, tt := range ghOwnerKinds {
		t.Run(tt.name, func(t *testing.T) {
			s, login := tt.server(t)
			for i := range 150 {
				name := fmt.Sprintf("team/app-%03d", i)
				s.AddPackage(login, "container", name, "private")
				s.AddVersions(login, "container", name, i, nil)
			}
			s.AddPackage(login, "npm", "not-a-container", "private")
			got, err := ghClient(t, s, nil).ListPackages(context.Background(), tt.owner, policy.Container)
			if err != nil {
				t.Fatalf("ListPackages: %v", err)
			}
			if n := s.count(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
			if len(got) != 150 {
				t.Fatalf("got %d packages, want 150", len(got))
			}
			want := Package{Owner: tt.owner, Type: policy.Container, Name: "team/app-007", Visibility: "private", VersionCount: 7}
			if got[7] != want {
				t.Errorf("package 7 = %+v, want %+v", got[7], want)
			}
		})
	}
}

// Names with "/" are escaped exactly once on every endpoint of every
// owner kind: an unescaped ("team/app") or double-escaped ("team%252Fapp")
// name would not reach the package and fail the test.
func TestEscapedPackageNames(t *testing.T) {
	for _, tt := range ghOwnerKinds {
		t.Run(tt.name, func(t *testing.T) {
			s, login := tt.server(t)
			s.AddPackage(login, "container", "team/app", "private")
			items := ghVersions(120, 500)
			for _, v := range items {
				s.AddVersion(login, "container", "team/app", v)
			}
			g := ghClient(t, s, nil)
			pkg := Package{Owner: tt.owner, Type: policy.Container, Name: "team/app"}
			got, err := g.ListVersions(context.Background(), pkg, "active")
			if err != nil {
				t.Fatalf("ListVersions: %v", err)
			}
			ghCheckVersions(t, got, items)
			if err := g.DeleteVersion(context.Background(), pkg, 420); err != nil {
				t.Errorf("DeleteVersion: %v", err)
			}
			if err := g.RestoreVersion(context.Background(), pkg, 420); err != nil {
				t.Errorf("RestoreVersion: %v", err)
			}
			if n := len(s.Active(login, "container", "team/app")); n != 120 {
				t.Errorf("%d versions active after delete and restore, want 120", n)
			}
			if n := s.count(); n != 4 {
				t.Errorf("requests = %d, want 4", n)
			}
		})
	}
}

func TestBaseURLUsedAsIs(t *testing.T) {
	for _, suffix := range []string{"/api/v3", "/api/v3/"} {
		t.Run(suffix, func(t *testing.T) {
			s := newGHServer(t, clock.NewFake(ghEpoch))
			s.handle("GET", "/api/v3/users/acme", func(w http.ResponseWriter, r *http.Request) {
				ghJSON(w, map[string]any{"login": "acme", "type": "Organization"})
			})
			s.handle("DELETE", "/api/v3/orgs/acme/packages/container/team%2Fapp/versions/7", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusNoContent)
			})
			g := ghClient(t, s, func(o *GitHubOptions) { o.BaseURL = s.srv.URL + suffix })
			owner, err := g.LookupOwner(context.Background(), "acme")
			if err != nil {
				t.Fatalf("LookupOwner: %v", err)
			}
			if err := g.DeleteVersion(context.Background(), Package{Owner: owner, Type: policy.Container, Name: "team/app"}, 7); err != nil {
				t.Fatalf("DeleteVersion: %v", err)
			}
			if n := s.count(); n != 2 {
				t.Errorf("requests = %d, want 2", n)
			}
		})
	}
}

func TestNewGitHubRejectsRelativeURL(t *testing.T) {
	for _, u := range []string{"api.github.com", "/api/v3", "://x"} {
		if _, err := NewGitHub(GitHubOptions{BaseURL: u}); err == nil {
			t.Errorf("NewGitHub(%q) succeeded, want an error", u)
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	tests := []struct {
		name, token, wantAuth string
	}{
		{"token", "ghp_secret", "Bearer ghp_secret"},
		{"no token", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGHServer(t, clock.NewFake(ghEpoch))
			var auth, agent string
			s.handle("GET", "/users/acme", func(w http.ResponseWriter, r *http.Request) {
				auth, agent = r.Header.Get("Authorization"), r.Header.Get("User-Agent")
				if got := r.Header.Get("X-GitHub-Api-Version"); got != "2022-11-28" {
					t.Errorf("X-GitHub-Api-Version = %q", got)
				}
				if got := r.Header.Get("Accept"); got != "application/vnd.github.v3+json" {
					t.Errorf("Accept = %q", got)
				}
				ghJSON(w, map[string]any{"login": "acme", "type": "Organization"})
			})
			g := ghClient(t, s, func(o *GitHubOptions) { o.Token = tt.token; o.UserAgent = "retention-test/1" })
			if _, err := g.LookupOwner(context.Background(), "acme"); err != nil {
				t.Fatal(err)
			}
			if auth != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", auth, tt.wantAuth)
			}
			if agent != "retention-test/1" {
				t.Errorf("User-Agent = %q", agent)
			}
		})
	}
}

// GitHub's refusals, with their exact messages (api-facts.md), are
// classified, keep GitHub's text, and are never retried.
func TestDeleteVersionRefusals(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		message  string
		want     error
		wantText string
	}{
		{name: "deleted", status: http.StatusNoContent},
		{name: "download rule", status: 400, message: "Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.", want: ErrDownloadRule},
		{name: "last tagged version", status: 400, message: "You cannot delete the last tagged version of a package. You must delete the package instead.", want: ErrLastVersion},
		{name: "last version", status: 400, message: "You cannot delete the last version of a package. You must delete the package instead.", want: ErrLastVersion},
		{name: "already gone", status: 404, message: "Package version not found.", want: ErrAlreadyGone},
		{name: "GITHUB_TOKEN without access, 403", status: 403, message: "Resource not accessible by integration", want: ErrNoPermission, wantText: "permissions: packages: write"},
		{name: "GITHUB_TOKEN without access, 404", status: 404, message: "Resource not accessible by integration", want: ErrNoPermission, wantText: "delete:packages"},
		{name: "bad credentials", status: 401, message: "Bad credentials", want: ErrNoPermission, wantText: "invalid or expired"},
		{name: "other client error", status: 422, message: "Validation Failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGHServer(t, clock.NewFake(ghEpoch))
			s.handle("DELETE", "/orgs/acme/packages/container/app/versions/77", func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusNoContent {
					w.WriteHeader(tt.status)
					return
				}
				ghError(w, tt.status, tt.message)
			})
			pkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}
			err := ghClient(t, s, nil).DeleteVersion(context.Background(), pkg, 77)
			switch {
			case tt.status == http.StatusNoContent:
				if err != nil {
					t.Fatalf("DeleteVersion: %v", err)
				}
			case err == nil:
				t.Fatalf("DeleteVersion succeeded, want %v", tt.want)
			default:
				if tt.want != nil && !errors.Is(err, tt.want) {
					t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
				}
				for _, sentinel := range []error{ErrAlreadyGone, ErrDownloadRule, ErrLastVersion, ErrNoPermission, ErrBudgetExhausted} {
					if sentinel != tt.want && errors.Is(err, sentinel) {
						t.Errorf("errors.Is(%v, %v) = true", err, sentinel)
					}
				}
				for _, want := range []string{`delete version id 77 of container "app"`, tt.message, tt.wantText} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %q, want it to contain %q", err, want)
					}
				}
			}
			if n := s.count(); n != 1 {
				t.Errorf("requests = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestRestoreVersionErrors(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	s.handle("POST", "/users/octocat/packages/npm/lib/versions/5/restore", func(w http.ResponseWriter, r *http.Request) {
		ghError(w, http.StatusNotFound, "Not Found")
	})
	err := ghClient(t, s, nil).RestoreVersion(context.Background(), Package{Owner: Owner{Login: "octocat", Kind: User}, Type: policy.Npm, Name: "lib"}, 5)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrAlreadyGone) {
		t.Errorf("err = %v, want ErrNotFound (and not ErrAlreadyGone: that is for DELETE)", err)
	}
	if !strings.Contains(fmt.Sprint(err), `restore version id 5 of npm "lib": 404 Not Found`) {
		t.Errorf("err = %v", err)
	}
}

// A DELETE's 404 is "already gone" only when GitHub says so ("Package
// version not found."); any other 404, which GitHub also answers to a token
// that may not delete, is checked with one GET of the version.
func TestDeleteVersionNotFoundIsConfirmed(t *testing.T) {
	const (
		del  = "/orgs/acme/packages/container/app/versions/77"
		docs = "https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization"
	)
	version := func(deletedAt string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v := map[string]any{"id": 77, "name": "sha256:" + strings.Repeat("a", 64), "created_at": ghEpoch, "updated_at": ghEpoch,
				"metadata": map[string]any{"package_type": "container", "container": map[string]any{"tags": []string{}}}}
			switch deletedAt {
			case "":
			case "null":
				v["deleted_at"] = nil
			default:
				v["deleted_at"] = deletedAt
			}
			ghJSON(w, v)
		}
	}
	tests := []struct {
		name     string
		delete   http.HandlerFunc
		get      http.HandlerFunc // nil: no GET expected
		want     error            // nil: neither ErrAlreadyGone nor ErrNoPermission
		wantText []string
		wantReqs int
	}{
		{
			name:     "GitHub's message: gone, no GET",
			delete:   ghStatus(404, "Package version not found."),
			want:     ErrAlreadyGone,
			wantText: []string{"404 Package version not found."},
			wantReqs: 1,
		},
		{
			name:     "Not Found, the version is still there",
			delete:   ghStatus(404, "Not Found"),
			get:      version(""),
			want:     ErrNoPermission,
			wantText: []string{"404 Not Found", "not found (404) though the version exists: the token cannot delete it", "permissions: packages: write", "Manage Actions access", "delete:packages"},
			wantReqs: 2,
		},
		{
			name:     "Not Found, the version is there with deleted_at null",
			delete:   ghStatus(404, "Not Found"),
			get:      version("null"),
			want:     ErrNoPermission,
			wantText: []string{"the token cannot delete it"},
			wantReqs: 2,
		},
		{
			name:     "Not Found, the version is gone",
			delete:   ghStatus(404, "Not Found"),
			get:      ghStatus(404, "Package version not found."),
			want:     ErrAlreadyGone,
			wantText: []string{"404 Not Found"},
			wantReqs: 2,
		},
		{
			name:     "Not Found, the version is deleted (restorable)",
			delete:   ghStatus(404, "Not Found"),
			get:      version(ghEpoch.Add(-time.Minute).Format(time.RFC3339)),
			want:     ErrAlreadyGone,
			wantReqs: 2,
		},
		{
			name:     "Not Found, the check is refused",
			delete:   ghStatus(404, "Not Found"),
			get:      ghStatus(403, "Resource not accessible by integration"),
			wantText: []string{"404 Not Found", "checking whether it still exists failed", "403 Resource not accessible by integration"},
			wantReqs: 2,
		},
		{
			name:     "Not Found, the check fails after retries",
			delete:   ghStatus(404, "Not Found"),
			get:      ghStatus(502, "Bad Gateway"),
			wantText: []string{"404 Not Found", "checking whether it still exists failed", "502 Bad Gateway"},
			wantReqs: 1 + 4,
		},
		{
			name:     "ambiguous 502, then GitHub's 404: gone, no GET",
			delete:   ghSequence(ghStatus(502, "Bad Gateway"), ghStatus(404, "Package version not found.")),
			want:     ErrAlreadyGone,
			wantReqs: 2,
		},
		{
			name:     "ambiguous 502, then Not Found: gone after the GET",
			delete:   ghSequence(ghStatus(502, "Bad Gateway"), ghStatus(404, "Not Found")),
			get:      ghStatus(404, "Package version not found."),
			want:     ErrAlreadyGone,
			wantReqs: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGHServer(t, clock.NewFake(ghEpoch))
			s.handle("DELETE", del, tt.delete)
			if tt.get != nil {
				s.handle("GET", del, tt.get)
			}
			err := ghClient(t, s, nil).DeleteVersion(context.Background(), ghTestPkg, 77)
			if err == nil {
				t.Fatal("DeleteVersion succeeded")
			}
			for _, sentinel := range []error{ErrAlreadyGone, ErrNoPermission} {
				if got := errors.Is(err, sentinel); got != (sentinel == tt.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, sentinel, got)
				}
			}
			for _, want := range append([]string{`delete version id 77 of container "app": `}, tt.wantText...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
			}
			if n := s.count(); n != tt.wantReqs {
				t.Errorf("requests = %d, want %d", n, tt.wantReqs)
			}
			for _, r := range s.Requests() {
				if r.Method == "GET" && r.Path != del {
					t.Errorf("GET %s, want the version's own path", r.Path)
				}
			}
		})
	}
}

// Against the fake GitHub, with its DELETE refusals answered as the terse
// 404 "Not Found" that GitHub sometimes sends: a version deleted by
// someone else is already gone (the fake's GET shows its deleted_at), one
// the token may not delete is a permission error and stays.
func TestDeleteVersionNotFoundAgainstFakeGitHub(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	gh := s.Server
	gh.AddOrg("acme")
	gh.AddPackage("acme", "container", "app", "private")
	gh.AddPackage("acme", "container", "locked", "private")
	var app, locked []fakegh.Version
	for range 3 {
		app = append(app, gh.AddVersion("acme", "container", "app", fakegh.Version{Tags: []string{"t"}}))
		locked = append(locked, gh.AddVersion("acme", "container", "locked", fakegh.Version{}))
	}
	gh.SetForbidden("acme", "container", "locked", true)
	terse := func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusForbidden {
			ghError(w, http.StatusNotFound, "Not Found")
			return
		}
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
	for _, v := range app {
		gh.Intercept("DELETE", fmt.Sprintf("/orgs/acme/packages/container/app/versions/%d", v.ID), terse)
	}
	for _, v := range locked {
		gh.Intercept("DELETE", fmt.Sprintf("/orgs/acme/packages/container/locked/versions/%d", v.ID), terse)
	}
	g := ghClient(t, s, nil)
	ctx := context.Background()
	appPkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}
	lockedPkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "locked"}
	if err := g.DeleteVersion(ctx, appPkg, app[0].ID); err != nil {
		t.Fatalf("first delete: %v", err)
	}
	if err := g.DeleteVersion(ctx, appPkg, app[0].ID); !errors.Is(err, ErrAlreadyGone) || errors.Is(err, ErrNoPermission) {
		t.Errorf("second delete of a deleted version: err = %v, want ErrAlreadyGone", err)
	}
	if err := g.DeleteVersion(ctx, lockedPkg, locked[0].ID); !errors.Is(err, ErrNoPermission) || errors.Is(err, ErrAlreadyGone) {
		t.Errorf("delete without permission: err = %v, want ErrNoPermission", err)
	}
	if n := gh.CountRequests("GET"); n != 2 {
		t.Errorf("GETs = %d, want one per ambiguous 404", n)
	}
	if n := len(gh.Active("acme", "container", "locked")); n != 3 {
		t.Errorf("%d active versions of locked, want 3", n)
	}
}

// A DELETE that GitHub performed but answered 502 is retried; the retry's
// 404 means the version is gone.
func TestAmbiguousDeleteIsAlreadyGone(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	var mu sync.Mutex
	exists := true
	s.handle("DELETE", "/orgs/acme/packages/container/app/versions/9", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !exists {
			ghError(w, http.StatusNotFound, "Package version not found.")
			return
		}
		exists = false
		ghError(w, http.StatusBadGateway, "Bad Gateway")
	})
	err := ghClient(t, s, nil).DeleteVersion(context.Background(), Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}, 9)
	if !errors.Is(err, ErrAlreadyGone) {
		t.Errorf("err = %v, want ErrAlreadyGone", err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

// With nothing failing, a run's requests are the lower bound: the owner
// lookup, the list pages, one DELETE per deletion.
func TestRequestEconomy(t *testing.T) {
	s := newGHServer(t, clock.NewFake(ghEpoch))
	s.AddOrg("acme")
	for i := range 130 {
		s.AddPackage("acme", "container", fmt.Sprintf("p%03d", i), "public")
		s.AddVersions("acme", "container", fmt.Sprintf("p%03d", i), 1, nil)
	}
	sizes := map[string]int{"a": 250, "b": 100, "c": 4, "d": 1001}
	first := int64(100000)
	for name, n := range sizes {
		s.AddPackage("acme", "container", name, "public")
		for _, v := range ghVersions(n, first) {
			s.AddVersion("acme", "container", name, v)
		}
		first += 10000
	}
	ctx := context.Background()
	g := ghClient(t, s, nil)
	owner, err := g.LookupOwner(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	all, err := g.ListPackages(ctx, owner, policy.Container)
	if err != nil {
		t.Fatal(err)
	}
	wantDeletes := 0
	for _, p := range all {
		n, ok := sizes[p.Name]
		if !ok {
			continue
		}
		vs, err := g.ListVersions(ctx, p, "active")
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != n {
			t.Errorf("%s: %d versions, want %d", p.Name, len(vs), n)
		}
		// Delete the three oldest (the newest of c is its last tagged
		// version, which GitHub refuses to delete).
		for _, v := range vs[:3] {
			if err := g.DeleteVersion(ctx, p, v.ID); err != nil {
				t.Fatal(err)
			}
			wantDeletes++
		}
	}
	// 1 lookup + 2 package pages + versions pages (3+1+1+11) + deletes.
	want := 1 + 2 + 16 + wantDeletes
	if n := s.count(); n != want {
		t.Errorf("requests = %d, want the lower bound %d", n, want)
	}
	if n := s.CountRequests("DELETE"); n != wantDeletes || wantDeletes != 4*3 {
		t.Errorf("deletes = %d, planned %d", n, wantDeletes)
	}
}

// BenchmarkListVersions100k lists one package of 100,000 versions (1,000
// pages of 100) from a loopback server with the default concurrency. The
// pages are encoded once up front; allocations include the server's.
func BenchmarkListVersions100k(b *testing.B) {
	const n = 100_000
	items := ghVersions(n, 1_000_000)
	pages := make([][]byte, n/100)
	var buf strings.Builder
	for i := range pages {
		buf.Reset()
		enc := json.NewEncoder(&buf)
		if err := enc.Encode(ghVersionsJSON(items[i*100 : (i+1)*100])); err != nil {
			b.Fatal(err)
		}
		pages[i] = []byte(buf.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 1 {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=2&per_page=100&state=active>; rel="next", <http://%s%s?page=%d&per_page=100&state=active>; rel="last"`, r.Host, r.URL.Path, r.Host, r.URL.Path, len(pages)))
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(pages[page-1])
	}))
	defer srv.Close()
	g, err := NewGitHub(GitHubOptions{BaseURL: srv.URL, Token: "t"})
	if err != nil {
		b.Fatal(err)
	}
	pkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var keep []policy.Version
	b.ReportAllocs()
	for b.Loop() {
		vs, err := g.ListVersions(context.Background(), pkg, "active")
		if err != nil {
			b.Fatal(err)
		}
		if len(vs) != n {
			b.Fatalf("got %d versions", len(vs))
		}
		keep = vs
	}
	// What one listing keeps alive: the versions plus the client's pooled
	// buffers and idle connections.
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/1e6, "live-MB")
	runtime.KeepAlive(keep)
}

// BenchmarkListVersionsLatency lists 10,000 versions (100 pages) from a
// server that takes 20 ms per page, as a distant API does, with one page
// in flight and with the default eight: what concurrent pages buy.
func BenchmarkListVersionsLatency(b *testing.B) {
	const n = 10_000
	items := ghVersions(n, 1_000_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 1 {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=2&per_page=100>; rel="next", <http://%s%s?page=%d&per_page=100>; rel="last"`, r.Host, r.URL.Path, r.Host, r.URL.Path, n/100))
		}
		<-time.After(20 * time.Millisecond)
		ghJSON(w, ghVersionsJSON(items[(page-1)*100:page*100]))
	}))
	defer srv.Close()
	pkg := Package{Owner: Owner{Login: "acme", Kind: Organization}, Type: policy.Container, Name: "app"}
	for _, conc := range []int{1, DefaultListConcurrency} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			g, err := NewGitHub(GitHubOptions{BaseURL: srv.URL, ListConcurrency: conc})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				vs, err := g.ListVersions(context.Background(), pkg, "active")
				if err != nil || len(vs) != n {
					b.Fatalf("got %d versions, %v", len(vs), err)
				}
			}
		})
	}
}
