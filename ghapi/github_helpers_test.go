package ghapi

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/pipenet"
)

// ghEpoch is the fake clock's start in these tests.
var ghEpoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// ghServer is the fake GitHub (internal/fakegh) on loopback for one test,
// on the test's clock. handle scripts the answer of one endpoint, keyed by
// its escaped path (so that a name escaped zero or two times is not
// scripted); every request is logged and counted by the fake.
type ghServer struct {
	*fakegh.Server
	srv *httptest.Server // nil for newPipeGHServer
	clk clock.Clock
	// url and transport reach the server: its loopback address and the
	// default transport, or in-memory connections.
	url       string
	transport http.RoundTripper
}

func newGHServer(t *testing.T, clk clock.Clock, opts ...fakegh.Option) *ghServer {
	t.Helper()
	gh := fakegh.New(append([]fakegh.Option{fakegh.WithClock(clk)}, opts...)...)
	s := &ghServer{Server: gh, srv: httptest.NewServer(gh), clk: clk}
	s.url = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// newPipeGHServer is newGHServer over in-memory connections
// (internal/pipenet) instead of loopback, so that a test can run inside
// testing/synctest. close ends the server and the client's connections;
// call it before the bubble ends.
func newPipeGHServer(clk clock.Clock) (s *ghServer, close func()) {
	gh := fakegh.New(fakegh.WithClock(clk))
	tr, closeAll := pipenet.Serve(gh)
	return &ghServer{Server: gh, clk: clk, url: "http://api.github.test", transport: tr}, closeAll
}

// handle answers method and escapedPath with h instead of the fake.
func (s *ghServer) handle(method, escapedPath string, h http.HandlerFunc) {
	s.Intercept(method, escapedPath, func(w http.ResponseWriter, r *http.Request, _ http.Handler) { h(w, r) })
}

// count returns how many requests arrived.
func (s *ghServer) count() int { return s.CountRequests("") }

// ghClient returns a client for s with a fixed jitter source; mod may
// change the options.
func ghClient(t *testing.T, s *ghServer, mod func(*GitHubOptions)) *GitHub {
	t.Helper()
	opts := GitHubOptions{
		BaseURL:   s.url,
		Token:     "test-token",
		Clock:     s.clk,
		Rand:      rand.NewPCG(1, 2),
		Transport: s.transport,
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

// ghVersions makes n container versions, newest first, ids from first
// down; every tenth is tagged.
func ghVersions(n int, first int64) []fakegh.Version {
	vs := make([]fakegh.Version, n)
	for i := range vs {
		id := first - int64(i)
		created := ghEpoch.Add(-time.Duration(i) * time.Hour)
		tags := []string{}
		if i%10 == 0 {
			tags = []string{"v" + strconv.FormatInt(id, 10)}
		}
		vs[i] = fakegh.Version{ID: id, Name: fmt.Sprintf("sha256:%064x", id), Tags: tags, CreatedAt: created, UpdatedAt: created.Add(time.Minute)}
	}
	return vs
}

// ghVersionsJSON encodes versions of acme's container package app as the
// fake serves them, for the benchmarks that serve pre-encoded pages so
// that they measure the client alone.
func ghVersionsJSON(vs []fakegh.Version) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = fakegh.VersionJSON("acme", "container", "app", v)
	}
	return out
}

func ghURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
