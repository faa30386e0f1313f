package ghapi

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// ghEpoch is the fake clock's start in these tests.
var ghEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// ghServer is a per-test GitHub stand-in: handlers keyed by
// "METHOD escaped-path" (r.URL.EscapedPath(), so a name escaped zero or
// two times finds no handler), every request counted and its arrival time
// on the test's clock recorded.
type ghServer struct {
	t   *testing.T
	srv *httptest.Server
	clk clock.Clock

	mu       sync.Mutex
	routes   map[string]http.HandlerFunc
	requests []ghRequest

	inFlight, maxInFlight atomic.Int64
}

type ghRequest struct {
	Method, Path, Query string
	At                  time.Time // on the test's clock
	Auth, UserAgent     string
}

func newGHServer(t *testing.T, clk clock.Clock) *ghServer {
	t.Helper()
	s := &ghServer{t: t, clk: clk, routes: map[string]http.HandlerFunc{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// handle registers h for method and escaped path (the server's path
// prefix, if any, included).
func (s *ghServer) handle(method, escapedPath string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes[method+" "+escapedPath] = h
}

func (s *ghServer) serve(w http.ResponseWriter, r *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	key := r.Method + " " + r.URL.EscapedPath()
	s.mu.Lock()
	s.requests = append(s.requests, ghRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, At: s.clk.Now(), Auth: r.Header.Get("Authorization"), UserAgent: r.Header.Get("User-Agent")})
	h := s.routes[key]
	s.mu.Unlock()
	if h == nil {
		s.t.Errorf("unexpected request %s", key)
		ghError(w, http.StatusNotFound, "Not Found")
		return
	}
	h(w, r)
}

// count returns how many requests arrived.
func (s *ghServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// log returns a copy of the requests received.
func (s *ghServer) log() []ghRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ghRequest(nil), s.requests...)
}

// ghClient returns a client for s with a fixed jitter source; mod may
// change the options.
func ghClient(t *testing.T, s *ghServer, mod func(*GitHubOptions)) *GitHub {
	t.Helper()
	opts := GitHubOptions{
		BaseURL: s.srv.URL,
		Token:   "test-token",
		Clock:   s.clk,
		Rand:    rand.NewPCG(1, 2),
	}
	if mod != nil {
		mod(&opts)
	}
	g, err := NewGitHub(opts)
	if err != nil {
		t.Fatalf("NewGitHub: %v", err)
	}
	return g
}

// ghError writes a GitHub error body.
func ghError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"message":%q,"documentation_url":"https://docs.github.com/rest"}`, msg)
}

// ghJSON writes v as JSON with status 200.
func ghJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// ghVersion is a package version as GitHub's package-version schema has it.
type ghVersion struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	URL            string     `json:"url"`
	PackageHTMLURL string     `json:"package_html_url"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	HTMLURL        string     `json:"html_url"`
	Metadata       ghMetadata `json:"metadata"`
}

type ghMetadata struct {
	PackageType string       `json:"package_type"`
	Container   *ghContainer `json:"container,omitempty"`
}

type ghContainer struct {
	Tags []string `json:"tags"`
}

// ghVersions makes n container versions, newest first, ids from first
// down; every tenth is tagged.
func ghVersions(n int, first int64) []ghVersion {
	vs := make([]ghVersion, n)
	for i := range vs {
		id := first - int64(i)
		created := ghEpoch.Add(-time.Duration(i) * time.Hour)
		tags := []string{}
		if i%10 == 0 {
			tags = []string{"v" + strconv.FormatInt(id, 10)}
		}
		vs[i] = ghVersion{
			ID:             id,
			Name:           fmt.Sprintf("sha256:%064x", id),
			URL:            fmt.Sprintf("https://api.github.com/orgs/acme/packages/container/app/versions/%d", id),
			PackageHTMLURL: "https://github.com/orgs/acme/packages/container/package/app",
			CreatedAt:      created,
			UpdatedAt:      created.Add(time.Minute),
			HTMLURL:        fmt.Sprintf("https://github.com/orgs/acme/packages/container/app/%d", id),
			Metadata:       ghMetadata{PackageType: "container", Container: &ghContainer{Tags: tags}},
		}
	}
	return vs
}

// ghPager serves a list endpoint from items, per_page=100 enforced, with
// GitHub's Link header: next, last (unless noLast), prev, first.
type ghPager[T any] struct {
	t      *testing.T
	items  []T
	noLast bool
	// state, if set, is the state query value every request must carry.
	state string
	// before, if set, runs first and may answer instead (returns true).
	before func(w http.ResponseWriter, r *http.Request, page int) bool
	// pages counts requests per page.
	mu    sync.Mutex
	pages map[int]int
}

func (p *ghPager[T]) lastPage() int { return max(1, (len(p.items)+99)/100) }

func (p *ghPager[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("per_page") != "100" {
		p.t.Errorf("%s: per_page = %q, want 100", r.URL, q.Get("per_page"))
	}
	if p.state != "" && q.Get("state") != p.state {
		p.t.Errorf("%s: state = %q, want %q", r.URL, q.Get("state"), p.state)
	}
	page := 1
	if v := q.Get("page"); v != "" {
		page, _ = strconv.Atoi(v)
	}
	p.mu.Lock()
	if p.pages == nil {
		p.pages = map[int]int{}
	}
	p.pages[page]++
	p.mu.Unlock()
	if p.before != nil && p.before(w, r, page) {
		return
	}
	last := p.lastPage()
	link := func(n int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("page", strconv.Itoa(n))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"))
		if !p.noLast {
			links = append(links, link(last, "last"))
		}
	}
	if page > 1 {
		links = append(links, link(page-1, "prev"), link(1, "first"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo := min((page-1)*100, len(p.items))
	hi := min(page*100, len(p.items))
	ghJSON(w, p.items[lo:hi])
}

// requestsFor returns how many times page was requested.
func (p *ghPager[T]) requestsFor(page int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pages[page]
}

func ghURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
