// Package fakeregistry runs a real OCI registry (go-containerregistry's
// pkg/registry) on loopback behind the token flow of ghcr.io, with helpers
// that push realistic content: single-platform images, multi-arch indexes
// with buildx attestation manifests, cosign signatures, attestations and
// SBOMs, OCI 1.1 referrers with their fallback index, and superseded builds.
//
// It serves the tests of the container reader and the offline demo, so it
// has no dependency on package testing. Clients reach it only over HTTP and
// only to read (GET and HEAD, as a token scoped to pull allows); content is
// written by the helpers, in process, and deleted by DeleteManifest, the way
// ghcr deletes a manifest and its tags when a package version is deleted.
//
// Every request is counted by kind (Counts) and every manifest read by digest
// (Reads), so a test can assert that a client read only what it needed.
package fakeregistry

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// DefaultService is the service named in the challenge and expected by the
// token endpoint, as ghcr.io names itself.
const DefaultService = "ghcr.io"

// DefaultToken is the password the token endpoint accepts when
// Options.Token is empty.
const DefaultToken = "fake-registry-token"

// Options configure a Registry.
type Options struct {
	// Token is the password the token endpoint accepts (any user name), as
	// ghcr accepts a GitHub token. Empty means DefaultToken.
	Token string
	// AllowAnonymous lets the token endpoint issue pull tokens without
	// credentials, as ghcr does for public packages.
	AllowAnonymous bool
	// Service is the service of the challenge; empty means DefaultService.
	Service string
	// Seed, when not zero, makes the content the helpers push deterministic:
	// the same calls in the same order push the same digests.
	Seed int64
	// Logf, when set, receives one line per request served.
	Logf func(format string, args ...any)
}

// Counts are the requests a Registry answered, by kind. Requests refused
// with 401 are counted in Unauthorized only; all others in their kind.
type Counts struct {
	Ping                 int // GET /v2/ with a valid token
	Token                int // tokens issued
	TokenDenied          int // token requests refused (bad credentials)
	Unauthorized         int // requests answered 401 with a challenge
	ManifestGetByDigest  int
	ManifestGetByTag     int
	ManifestHeadByDigest int
	ManifestHeadByTag    int
	Blob                 int
	Referrers            int // GET /v2/<repo>/referrers/<digest>, answered or not
	Other                int // tag lists, catalog, unknown paths
	Refused              int // writes and deletes over HTTP (405)
	Injected             int // failures injected by FailManifest, ThrottleManifest, MissManifest or FailTokens
}

// ManifestGets is the number of manifest GETs, by digest and by tag.
func (c Counts) ManifestGets() int { return c.ManifestGetByDigest + c.ManifestGetByTag }

// Registry is a running fake registry. Its methods are safe for concurrent
// use.
type Registry struct {
	opts  Options
	inner http.Handler // go-containerregistry's registry
	admin http.RoundTripper
	ln    net.Listener
	srv   *http.Server
	url   string
	done  chan struct{}

	pushMu sync.Mutex // serialises the helpers (and the random source)
	rng    *lockedSource

	mu          sync.Mutex
	tokens      map[string]map[string]bool // token -> repositories it may pull
	repos       map[string]*repoState
	graveyard   map[string]*buried // repo@digest -> deleted manifest
	faults      map[string]*fault  // repo@digest -> injected failure
	tokenFaults int
	counts      Counts
	reads       map[string]int // repo@digest -> manifest GETs
	seq         int
	// referrersAPI serves GET /v2/<repo>/referrers/<digest> to clients;
	// off (the default), it answers 404 as ghcr.io does.
	referrersAPI bool
	// bareReferrer makes the inner registry's referrers API answer the
	// helpers' pushes, so that a referrer is pushed without touching the
	// fallback tag (guarded by pushMu).
	bareReferrer bool
}

type repoState struct {
	manifests map[string]*stored // digest -> manifest
	tags      map[string]string  // tag -> digest
}

type stored struct {
	mediaType types.MediaType
	raw       []byte
	seq       int
}

type buried struct {
	stored
	tags []string
}

// Start starts a Registry on 127.0.0.1 on a free port. Close stops it.
func Start(opts Options) (*Registry, error) {
	r := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	r.ln = ln
	r.url = "http://" + ln.Addr().String()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()
	return r, nil
}

// New returns a Registry that is not listening: serve it with any server
// (its ServeHTTP is the registry with the token flow), for instance behind
// TLS. URL and Close then concern that server, not the Registry.
func New(opts Options) *Registry {
	if opts.Token == "" {
		opts.Token = DefaultToken
	}
	if opts.Service == "" {
		opts.Service = DefaultService
	}
	r := &Registry{
		opts:      opts,
		inner:     registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(true)),
		tokens:    map[string]map[string]bool{},
		repos:     map[string]*repoState{},
		graveyard: map[string]*buried{},
		faults:    map[string]*fault{},
		reads:     map[string]int{},
	}
	r.admin = &adminTransport{r: r}
	r.rng = newLockedSource(opts.Seed)
	return r
}

// URL is the base URL of a started Registry, http://127.0.0.1:PORT.
func (r *Registry) URL() string { return r.url }

// Host is host:port of a started Registry.
func (r *Registry) Host() string { return strings.TrimPrefix(r.url, "http://") }

// Token is the password the token endpoint accepts.
func (r *Registry) Token() string { return r.opts.Token }

// Close stops a started Registry and closes its connections.
func (r *Registry) Close() error {
	if r.srv == nil {
		return nil
	}
	err := r.srv.Close()
	<-r.done
	return err
}

// Counts returns the requests answered so far.
func (r *Registry) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// ResetCounts sets every counter, and the reads of every manifest, to zero.
func (r *Registry) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = Counts{}
	r.reads = map[string]int{}
}

// Reads returns how many times the manifest digest of repository repo was
// fetched (GET, by digest or by a tag pointing at it).
func (r *Registry) Reads(repo, digest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads[repo+"@"+digest]
}

// fault is a failure injected on a manifest.
type fault struct {
	status     int
	retryAfter string
	left       int // <0: always
}

// FailManifest makes GET and HEAD of the manifest digest (by digest or by a
// tag pointing at it) answer 500 the next times requests; times < 0 means
// always, 0 heals it.
func (r *Registry) FailManifest(repo, digest string, times int) {
	r.setFault(repo, digest, &fault{status: http.StatusInternalServerError, left: times})
}

// ThrottleManifest makes GET and HEAD of the manifest digest answer 429
// with Retry-After (whole seconds) the next times requests; times < 0
// means always, 0 heals it.
func (r *Registry) ThrottleManifest(repo, digest string, times int, retryAfter time.Duration) {
	r.setFault(repo, digest, &fault{status: http.StatusTooManyRequests, retryAfter: fmt.Sprint(int(retryAfter.Seconds())), left: times})
}

// MissManifest makes GET and HEAD of the manifest digest (by digest or by
// a tag pointing at it) answer 404 MANIFEST_UNKNOWN the next times
// requests, as a registry replica that has not caught up does; times < 0
// means always, 0 heals it. The manifest stays stored.
func (r *Registry) MissManifest(repo, digest string, times int) {
	r.setFault(repo, digest, &fault{status: http.StatusNotFound, left: times})
}

func (r *Registry) setFault(repo, digest string, f *fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f.left == 0 {
		delete(r.faults, repo+"@"+digest)
		return
	}
	r.faults[repo+"@"+digest] = f
}

// FailTokens makes the next times token requests answer 503.
func (r *Registry) FailTokens(times int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokenFaults = times
}

// ExpireTokens invalidates every token issued so far: the next request
// with one gets a 401 challenge, as when a ghcr token expires.
func (r *Registry) ExpireTokens() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = map[string]map[string]bool{}
}

// ServeHTTP serves the registry API behind ghcr's token flow: /token issues
// pull tokens, /v2/ requires one.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == "/token" {
		r.serveToken(w, req)
		return
	}
	if req.URL.Path != "/v2" && !strings.HasPrefix(req.URL.Path, "/v2/") {
		r.count(func(c *Counts) { c.Other++ })
		writeError(w, http.StatusNotFound, "NOT_FOUND", "not found")
		return
	}
	p := parsePath(req.URL.Path)
	if !r.authorized(req, p.repo) {
		r.count(func(c *Counts) { c.Unauthorized++ })
		scope := "repository:user/image:pull" // what ghcr.io names on /v2/
		if p.repo != "" {
			scope = "repository:" + p.repo + ":pull"
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service=%q,scope=%q`,
			realmOf(req), r.opts.Service, scope))
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		r.logf("%s %s 401", req.Method, req.URL.Path)
		return
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		r.count(func(c *Counts) { c.Refused++ })
		writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "the operation is unsupported")
		r.logf("%s %s 405", req.Method, req.URL.Path)
		return
	}
	switch p.kind {
	case kindPing:
		r.count(func(c *Counts) { c.Ping++ })
	case kindManifest:
		if r.manifestRequest(w, req, p) {
			return
		}
	case kindBlob:
		r.count(func(c *Counts) { c.Blob++ })
	case kindReferrers:
		r.mu.Lock()
		r.counts.Referrers++
		on := r.referrersAPI
		r.mu.Unlock()
		if !on {
			// ghcr.io has no referrers API: it answers 404, so clients
			// fall back to the sha256-<hex> tag schema
			// (https://github.com/dataaxiom/ghcr-cleanup-action/issues/13,
			// https://github.com/rtvkiz/minimal/issues/7).
			r.logf("%s %s 404 (no referrers API)", req.Method, req.URL.Path)
			writeError(w, http.StatusNotFound, "NOT_FOUND", "not found")
			return
		}
	default:
		r.count(func(c *Counts) { c.Other++ })
	}
	r.logf("%s %s", req.Method, req.URL.Path)
	r.inner.ServeHTTP(w, req)
}

// manifestRequest counts a manifest GET or HEAD and injects a failure if one
// is due; it reports whether it answered the request.
func (r *Registry) manifestRequest(w http.ResponseWriter, req *http.Request, p regPath) bool {
	byDigest := strings.HasPrefix(p.target, "sha256:")
	r.mu.Lock()
	digest := p.target
	if !byDigest {
		digest = ""
		if rs := r.repos[p.repo]; rs != nil {
			digest = rs.tags[p.target]
		}
	}
	switch {
	case req.Method == http.MethodGet && byDigest:
		r.counts.ManifestGetByDigest++
	case req.Method == http.MethodGet:
		r.counts.ManifestGetByTag++
	case byDigest:
		r.counts.ManifestHeadByDigest++
	default:
		r.counts.ManifestHeadByTag++
	}
	key := p.repo + "@" + digest
	if req.Method == http.MethodGet && digest != "" {
		r.reads[key]++
	}
	var fail *fault
	if f, ok := r.faults[key]; ok && digest != "" {
		fail = f
		r.counts.Injected++
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				delete(r.faults, key)
			}
		}
	}
	r.mu.Unlock()
	if fail != nil {
		r.logf("%s %s %d (injected)", req.Method, req.URL.Path, fail.status)
		if fail.retryAfter != "" {
			w.Header().Set("Retry-After", fail.retryAfter)
		}
		code := "UNKNOWN"
		switch fail.status {
		case http.StatusTooManyRequests:
			code = "TOOMANYREQUESTS"
		case http.StatusNotFound:
			code = "MANIFEST_UNKNOWN"
		}
		writeError(w, fail.status, code, "injected failure")
		return true
	}
	return false
}

func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if r.tokenFaults > 0 {
		r.tokenFaults--
		r.counts.Injected++
		r.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "injected failure")
		return
	}
	r.mu.Unlock()
	q := req.URL.Query()
	if q.Get("service") != r.opts.Service {
		r.count(func(c *Counts) { c.TokenDenied++ })
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("unknown service %q", q.Get("service")))
		return
	}
	_, password, hasBasic := req.BasicAuth()
	switch {
	case hasBasic && password == r.opts.Token:
	case !hasBasic && req.Header.Get("Authorization") == "" && r.opts.AllowAnonymous:
	default:
		r.count(func(c *Counts) { c.TokenDenied++ })
		r.logf("GET /token 401")
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return
	}
	repos := map[string]bool{}
	for _, s := range q["scope"] {
		// repository:OWNER/NAME:pull[,push]
		parts := strings.Split(s, ":")
		if len(parts) == 3 && parts[0] == "repository" && strings.Contains(","+parts[2]+",", ",pull,") {
			repos[parts[1]] = true
		}
	}
	tok := randomHex(16)
	r.mu.Lock()
	r.tokens[tok] = repos
	r.counts.Token++
	r.mu.Unlock()
	r.logf("GET /token 200 (%d repositories)", len(repos))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}

// authorized reports whether req carries a token that may pull repo (any
// valid token for /v2/ itself).
func (r *Registry) authorized(req *http.Request, repo string) bool {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	repos, ok := r.tokens[tok]
	if !ok {
		return false
	}
	return repo == "" || repos[repo]
}

func (r *Registry) count(f func(*Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.counts)
}

func (r *Registry) logf(format string, args ...any) {
	if r.opts.Logf != nil {
		r.opts.Logf(format, args...)
	}
}

// realmOf is the token endpoint on the host the client asked for, so the
// challenge is right behind any listener (TLS, a GHES-style host name).
func realmOf(req *http.Request) string {
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + req.Host + "/token"
}

type pathKind int

const (
	kindOther pathKind = iota
	kindReferrers
	kindPing
	kindManifest
	kindBlob
)

type regPath struct {
	kind   pathKind
	repo   string
	target string
}

// parsePath splits /v2/<repo>/(manifests|blobs|tags|referrers)/<target>.
func parsePath(p string) regPath {
	if p == "/v2" || p == "/v2/" {
		return regPath{kind: kindPing}
	}
	rest := strings.TrimPrefix(p, "/v2/")
	for _, s := range []struct {
		sep  string
		kind pathKind
	}{{"/manifests/", kindManifest}, {"/blobs/", kindBlob}, {"/tags/", kindOther}, {"/referrers/", kindReferrers}} {
		if i := strings.LastIndex(rest, s.sep); i > 0 {
			return regPath{kind: s.kind, repo: rest[:i], target: rest[i+len(s.sep):]}
		}
	}
	return regPath{kind: kindOther}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": code, "message": msg}},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Manifest describes one manifest in a repository: what a package version of
// ghcr carries (its digest as name, its tags).
type Manifest struct {
	Repo      string
	Digest    string
	MediaType types.MediaType
	Size      int64
	// Tags are the tags pointing at it (sorted).
	Tags []string
	// Seq orders manifests by first push, from 1.
	Seq int
}

// Manifests lists every manifest of repo in the order they were first
// pushed, with the tags pointing at each now: the package versions ghcr
// would list for it.
func (r *Registry) Manifests(repo string) []Manifest {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.repos[repo]
	if rs == nil {
		return nil
	}
	tags := map[string][]string{}
	for t, d := range rs.tags {
		tags[d] = append(tags[d], t)
	}
	out := make([]Manifest, 0, len(rs.manifests))
	for d, m := range rs.manifests {
		ts := tags[d]
		sort.Strings(ts)
		out = append(out, Manifest{Repo: repo, Digest: d, MediaType: m.mediaType, Size: int64(len(m.raw)), Tags: ts, Seq: m.seq})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Has reports whether the manifest digest exists in repo.
func (r *Registry) Has(repo, digest string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.repos[repo]
	return rs != nil && rs.manifests[digest] != nil
}

// TagDigest returns the digest tag points at in repo, or "".
func (r *Registry) TagDigest(repo, tag string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rs := r.repos[repo]; rs != nil {
		return rs.tags[tag]
	}
	return ""
}

// ErrNotFound is returned for a manifest or tag that does not exist.
var ErrNotFound = errors.New("not found")

// DeleteManifest deletes the manifest digest of repo and every tag pointing
// at it, as ghcr does when the package version is deleted. The manifest is
// kept aside for Restore. Other manifests (an index's children) stay.
func (r *Registry) DeleteManifest(repo, digest string) error {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	r.mu.Lock()
	rs := r.repos[repo]
	var m *stored
	if rs != nil {
		m = rs.manifests[digest]
	}
	var tags []string
	if m != nil {
		for t, d := range rs.tags {
			if d == digest {
				tags = append(tags, t)
			}
		}
	}
	r.mu.Unlock()
	if m == nil {
		return fmt.Errorf("delete manifest %s of %s: %w", digest, repo, ErrNotFound)
	}
	sort.Strings(tags)
	for _, t := range tags {
		if err := r.adminDo(http.MethodDelete, repo, t, nil, ""); err != nil {
			return fmt.Errorf("delete tag %s of %s: %w", t, repo, err)
		}
	}
	if err := r.adminDo(http.MethodDelete, repo, digest, nil, ""); err != nil {
		return fmt.Errorf("delete manifest %s of %s: %w", digest, repo, err)
	}
	r.mu.Lock()
	r.graveyard[repo+"@"+digest] = &buried{stored: *m, tags: tags}
	r.mu.Unlock()
	return nil
}

// Restore puts back a manifest DeleteManifest deleted, with its tags. Like
// GitHub, it refuses when one of those tags now names another manifest.
func (r *Registry) Restore(repo, digest string) error {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	r.mu.Lock()
	b := r.graveyard[repo+"@"+digest]
	var reused []string
	if b != nil {
		if rs := r.repos[repo]; rs != nil {
			for _, t := range b.tags {
				if d, ok := rs.tags[t]; ok && d != digest {
					reused = append(reused, t)
				}
			}
		}
	}
	r.mu.Unlock()
	if b == nil {
		return fmt.Errorf("restore manifest %s of %s: %w", digest, repo, ErrNotFound)
	}
	if len(reused) > 0 {
		return fmt.Errorf("restore manifest %s of %s: tags %s are in use by other manifests", digest, repo, strings.Join(reused, ", "))
	}
	if err := r.adminDo(http.MethodPut, repo, digest, b.raw, b.mediaType); err != nil {
		return fmt.Errorf("restore manifest %s of %s: %w", digest, repo, err)
	}
	for _, t := range b.tags {
		if err := r.adminDo(http.MethodPut, repo, t, b.raw, b.mediaType); err != nil {
			return fmt.Errorf("restore tag %s of %s: %w", t, repo, err)
		}
	}
	r.mu.Lock()
	delete(r.graveyard, repo+"@"+digest)
	if m := r.repos[repo].manifests[digest]; m != nil {
		m.seq = b.seq // a restored version keeps its place
	}
	r.mu.Unlock()
	return nil
}

// Tag points tag of repo at the existing manifest digest (moving it if it
// pointed elsewhere, which leaves the old manifest untagged if it was its
// only tag).
func (r *Registry) Tag(repo, tag, digest string) error {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	r.mu.Lock()
	var m *stored
	if rs := r.repos[repo]; rs != nil {
		m = rs.manifests[digest]
	}
	r.mu.Unlock()
	if m == nil {
		return fmt.Errorf("tag %s of %s: manifest %s: %w", tag, repo, digest, ErrNotFound)
	}
	if err := r.adminDo(http.MethodPut, repo, tag, m.raw, m.mediaType); err != nil {
		return fmt.Errorf("tag %s of %s: %w", tag, repo, err)
	}
	return nil
}

// Untag removes tag from repo; the manifest stays.
func (r *Registry) Untag(repo, tag string) error {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	if r.TagDigest(repo, tag) == "" {
		return fmt.Errorf("untag %s of %s: %w", tag, repo, ErrNotFound)
	}
	if err := r.adminDo(http.MethodDelete, repo, tag, nil, ""); err != nil {
		return fmt.Errorf("untag %s of %s: %w", tag, repo, err)
	}
	return nil
}

// adminDo sends one manifest request to the inner registry in process.
func (r *Registry) adminDo(method, repo, target string, body []byte, mt types.MediaType) error {
	req, err := http.NewRequest(method, "http://fakeregistry/v2/"+repo+"/manifests/"+target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if mt != "" {
		req.Header.Set("Content-Type", string(mt))
	}
	resp, err := r.admin.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %s: %s", method, target, resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// adminTransport sends requests to the inner registry in process, with no
// authentication and no counting, and keeps the Registry's model of
// manifests and tags in step with the writes it carries.
type adminTransport struct{ r *Registry }

func (t *adminTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.RequestURI = in.URL.RequestURI()
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	p := parsePath(req.URL.Path)
	t.r.mu.Lock()
	bare := t.r.bareReferrer
	t.r.mu.Unlock()
	if p.kind == kindReferrers && !bare {
		// A helper's push sees no referrers API, as on ghcr.io, and
		// maintains the fallback tag.
		writeRecorded(rec, http.StatusNotFound)
	} else {
		t.r.inner.ServeHTTP(rec, in)
	}

	if p.kind == kindManifest {
		switch {
		case req.Method == http.MethodPut && rec.code == http.StatusCreated:
			t.r.recordPut(p.repo, p.target, body, types.MediaType(req.Header.Get("Content-Type")))
		case req.Method == http.MethodDelete && rec.code == http.StatusAccepted:
			t.r.recordDelete(p.repo, p.target)
		}
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", rec.code, http.StatusText(rec.code)),
		StatusCode:    rec.code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rec.header,
		Body:          io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		ContentLength: int64(rec.body.Len()),
		Request:       req,
	}, nil
}

func (r *Registry) recordPut(repo, target string, raw []byte, mt types.MediaType) {
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	digest := h.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.repos[repo]
	if rs == nil {
		rs = &repoState{manifests: map[string]*stored{}, tags: map[string]string{}}
		r.repos[repo] = rs
	}
	if rs.manifests[digest] == nil {
		r.seq++
		rs.manifests[digest] = &stored{mediaType: mt, raw: raw, seq: r.seq}
	}
	if target != digest {
		rs.tags[target] = digest
	}
}

func (r *Registry) recordDelete(repo, target string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.repos[repo]
	if rs == nil {
		return
	}
	if strings.HasPrefix(target, "sha256:") {
		delete(rs.manifests, target)
		return
	}
	delete(rs.tags, target)
}

func writeRecorded(rec *recorder, status int) {
	rec.header.Set("Content-Type", "application/json")
	rec.WriteHeader(status)
	_, _ = rec.Write([]byte(`{"errors":[{"code":"NOT_FOUND","message":"not found"}]}`))
}

// SetReferrersAPI turns the registry's referrers API on or off for clients
// (off by default, as on ghcr.io, where it answers 404). On, GET
// /v2/<repo>/referrers/<digest> lists the manifests whose subject is
// digest.
func (r *Registry) SetReferrersAPI(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.referrersAPI = on
}

// recorder is a minimal http.ResponseWriter for in-process requests.
type recorder struct {
	header http.Header
	code   int
	wrote  bool
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}
