package ghapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
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

// newPipeGHServer is newGHServer over in-memory connections (net.Pipe)
// instead of loopback, so that a test can run inside testing/synctest: a
// goroutine that waits on such a connection is durably blocked, and
// synctest.Wait returns once the client and the server both wait. close
// ends the server and the client's connections; call it before the bubble
// ends.
func newPipeGHServer(clk clock.Clock) (s *ghServer, close func()) {
	gh := fakegh.New(fakegh.WithClock(clk))
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: gh}
	go func() { _ = srv.Serve(l) }()
	tr := &http.Transport{DialContext: l.dial}
	s = &ghServer{Server: gh, clk: clk, url: "http://api.github.test", transport: tr}
	return s, func() {
		tr.CloseIdleConnections()
		_ = srv.Close()
	}
}

// pipeListener hands the server one end of each net.Pipe a client dials.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

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
