// Package containers reads the structure of container packages from their
// registry (ghcr.io, or containers.HOST on GitHub Enterprise Server) with
// go-containerregistry: which versions are platform manifests or attestation
// manifests of an image index, and which are signatures, attestations, SBOMs
// or referrers of an image. The planner decides on roots and expands each
// decision to its members; see Reader.Structure for what is read and why.
package containers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/retry"
)

// DefaultRegistryURL is the registry of github.com.
const DefaultRegistryURL = "https://ghcr.io"

// Defaults of Options.
const (
	DefaultConcurrency = 8
	DefaultMaxAttempts = 4
	// DefaultAttemptTimeout bounds one attempt of a registry request.
	DefaultAttemptTimeout = 30 * time.Second
	DefaultBackoff        = time.Second
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxRetryAfter  = 2 * time.Minute
	// DefaultUsername is the user of the Basic credentials sent to the
	// token endpoint; ghcr.io accepts any user with a token as password.
	DefaultUsername = "token"
)

// Options configure a Reader. The zero value reads ghcr.io anonymously.
type Options struct {
	// RegistryURL is the registry's base URL: https://ghcr.io (the
	// default), https://containers.HOST on GHES, or http://HOST:PORT for a
	// registry without TLS (tests, the demo).
	RegistryURL string
	// Token is the GitHub token, sent as the Basic password of the token
	// flow (401 challenge, GET /token, Bearer). Empty reads anonymously.
	Token string
	// Username goes with Token; default DefaultUsername.
	Username string
	// Transport is the base round tripper (proxy, TLS settings); nil means
	// a clone of go-containerregistry's remote.DefaultTransport.
	Transport http.RoundTripper
	// Concurrency is the number of requests in flight; default 8.
	Concurrency int
	// MaxAttempts bounds the attempts of one request on 5xx, 429 and
	// network errors; default 4.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each
	// following one (with jitter) up to MaxBackoff; defaults 1s and 30s.
	Backoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt of a request: a registry that
	// accepts the connection and never answers is abandoned after it and
	// retried like a 5xx. Default DefaultAttemptTimeout; negative: none.
	// It runs on the runtime's timers (testing/synctest drives it), not on
	// Clock, whose fake jumps forward for every caller at once.
	AttemptTimeout time.Duration
	// MaxRetryAfter is the longest Retry-After the reader waits for; a
	// longer one fails the request, and no request of the Reader goes to
	// the registry for MaxRetryAfter. Default 2 minutes.
	MaxRetryAfter time.Duration
	// Clock times every wait; default the wall clock.
	Clock clock.Clock
	// Logf receives warnings (retries, unreadable manifests); nil discards.
	Logf func(format string, args ...any)
	// Cache, when not nil, serves manifests read in earlier runs and keeps
	// those read in this one (see Cache). A package whose manifests are all
	// cached is planned without a request to the registry.
	Cache *Cache
}

// Reader reads manifests from one registry. It is safe for concurrent use
// and keeps, per repository, its authenticated transport and the children
// of the indexes it has read (an index's content never changes under its
// digest), so Verify after Structure re-reads nothing.
//
// A Retry-After holds every request of the Reader, whichever package or
// call it belongs to: the registry's limits are per host, and a run reads
// several packages at once.
type Reader struct {
	opts     Options
	registry name.Registry
	auth     authn.Authenticator
	base     http.RoundTripper

	mu       sync.Mutex
	sessions map[string]*session // repository -> session

	// gate holds every request to the registry after a Retry-After.
	gate *retry.Gate
	// noReferrersAPI is set once the registry answers the referrers API
	// with 404 (or is ghcr.io, which does): it is not asked again.
	noReferrersAPI atomic.Bool
	// referrersAnswered is set once the registry has answered a referrers
	// request (with a list); until then probe lets one package ask at a
	// time, so a registry without the API is asked once, not once per
	// package read at the same time.
	referrersAnswered atomic.Bool
	probe             chan struct{}
}

// session is the authenticated access to one repository.
type session struct {
	repo      name.Repository
	cache     *Cache
	once      sync.Once
	puller    *remote.Puller
	tr        http.RoundTripper // authenticated: Bearer on every request
	err       error
	mu        sync.Mutex
	manifests map[string]readResult // manifests read, by digest
	r         *Reader
}

// NewReader checks opts and returns a Reader. It sends no request.
func NewReader(opts Options) (*Reader, error) {
	if opts.RegistryURL == "" {
		opts.RegistryURL = DefaultRegistryURL
	}
	u, err := url.Parse(opts.RegistryURL)
	if err != nil {
		return nil, fmt.Errorf("registry-url %q: %w", opts.RegistryURL, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("registry-url %q: use https://HOST[:PORT] (or http:// for a registry without TLS), with no path", opts.RegistryURL)
	}
	nameOpts := []name.Option{name.StrictValidation}
	if u.Scheme == "http" {
		nameOpts = append(nameOpts, name.Insecure)
	}
	reg, err := name.NewRegistry(u.Host, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("registry-url %q: %w", opts.RegistryURL, err)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if opts.AttemptTimeout == 0 {
		opts.AttemptTimeout = DefaultAttemptTimeout
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Username == "" {
		opts.Username = DefaultUsername
	}
	base := opts.Transport
	if base == nil {
		if t, ok := remote.DefaultTransport.(*http.Transport); ok {
			base = t.Clone()
		} else {
			base = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
	}
	var auth authn.Authenticator = authn.Anonymous
	if opts.Token != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: opts.Username, Password: opts.Token})
	}
	rd := &Reader{
		opts:     opts,
		registry: reg,
		auth:     auth,
		base:     &baseTransport{inner: base, plainHTTP: u.Scheme == "http", host: u.Host},
		sessions: map[string]*session{},
		gate:     retry.NewGate(opts.Clock),
		probe:    make(chan struct{}, 1),
	}
	if strings.EqualFold(reg.RegistryStr(), "ghcr.io") {
		rd.noReferrersAPI.Store(true)
	}
	return rd, nil
}

// Repository returns the registry repository of a container package: the
// owner and package name, lower case (ghcr.io/OWNER/NAME). A package name
// may contain "/" ("team/app" is OWNER/team/app).
func Repository(owner, pkgName string) string {
	return strings.ToLower(owner + "/" + strings.Trim(pkgName, "/"))
}

// session returns the authenticated session of a repository, running the
// token flow once: ping (401 challenge), GET the realm with the token as
// Basic password, then Bearer on every request. A failure is not kept:
// the next call tries again.
func (r *Reader) session(ctx context.Context, c *call, owner, pkgName string) (*session, error) {
	s, err := r.lazySession(owner, pkgName)
	if err != nil {
		return nil, err
	}
	return s, r.authenticate(ctx, c, s)
}

// lazySession returns the session of a repository without authenticating:
// reads served by the cache need none (see session.read).
func (r *Reader) lazySession(owner, pkgName string) (*session, error) {
	repoName := Repository(owner, pkgName)
	repo, err := name.NewRepository(r.registry.RegistryStr()+"/"+repoName, name.StrictValidation)
	if err != nil {
		return nil, fmt.Errorf("repository %q: %w", repoName, err)
	}
	// name.NewRepository drops the registry's Insecure flag: restore it.
	repo.Registry = r.registry
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sessions[repoName]
	if s == nil {
		s = &session{repo: repo, cache: r.opts.Cache, manifests: map[string]readResult{}, r: r}
		r.sessions[repoName] = s
	}
	return s, nil
}

// authenticate runs the token flow of s once; a failure is not kept.
func (r *Reader) authenticate(ctx context.Context, c *call, s *session) error {
	s.once.Do(func() {
		var tr http.RoundTripper
		err := c.retry(ctx, "authenticate to "+r.registry.RegistryStr(), func(ctx context.Context) error {
			var err error
			tr, err = transport.NewWithContext(ctx, r.registry, r.auth, r.base, []string{s.repo.Scope(transport.PullScope)})
			return err
		})
		if err != nil {
			s.err = fmt.Errorf("authenticate to registry %s for repository %s: %w%s", r.registry.RegistryStr(), s.repo.RepositoryStr(), err, authHint(err))
			return
		}
		// tr is a transport.Wrapper: go-containerregistry adds no retries
		// (ours go through the clock) and does not authenticate again.
		s.tr = tr
		s.puller, s.err = remote.NewPuller(remote.WithTransport(tr))
	})
	if s.err != nil {
		r.mu.Lock()
		if r.sessions[s.repo.RepositoryStr()] == s {
			delete(r.sessions, s.repo.RepositoryStr())
		}
		r.mu.Unlock()
		return s.err
	}
	return nil
}

func authHint(err error) string {
	if classify(err) == failAuth {
		return " (check that the token can read packages: scope read:packages, or packages: read for GITHUB_TOKEN)"
	}
	return ""
}

// failure classifies a failed request.
type failure int

const (
	failPermanent failure = iota // this request will not succeed: give up on it
	failTransient                // 5xx, 429, network: retry
	failAuth                     // 401/403: the token cannot read the repository
	failNotFound                 // 404 of a manifest
	failNoRepo                   // 404 NAME_UNKNOWN: no such repository
)

func classify(err error) failure {
	var te *transport.Error
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden:
			return failAuth
		case te.StatusCode == http.StatusNotFound:
			for _, d := range te.Errors {
				if d.Code == transport.NameUnknownErrorCode {
					return failNoRepo
				}
			}
			return failNotFound
		case te.StatusCode == http.StatusTooManyRequests || te.StatusCode == http.StatusRequestTimeout || te.StatusCode >= 500:
			return failTransient
		}
		return failPermanent
	}
	var (
		certErr *tls.CertificateVerificationError
		dnsErr  *net.DNSError
		opErr   *net.OpError
		ne      net.Error
	)
	switch {
	case errors.As(err, &certErr):
		return failPermanent // a wrong certificate stays wrong
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return failPermanent
		}
		return failTransient
	case errors.As(err, &opErr), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return failTransient
	}
	return failPermanent
}

// describeErr is err with its HTTP status, if it has one.
func describeErr(err error) string {
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode != 0 {
		return fmt.Sprintf("%v (HTTP %d)", err, te.StatusCode)
	}
	return err.Error()
}

// call is the state of one Structure or Verify call: its counters. The
// time before which no request may be sent is the Reader's.
type call struct {
	r        *Reader
	requests atomic.Int64
	retries  atomic.Int64
	// fromCache counts the manifests the manifest cache served this
	// call: the cache's own counter is shared by the packages read at
	// once.
	fromCache atomic.Int64
}

type ctxKey struct{}

// hint is what the base transport reports of one attempt.
type hint struct {
	c          *call
	retryAfter time.Duration
}

// retry runs f until it succeeds, fails for good, or MaxAttempts are spent,
// waiting between attempts through the clock, and for any Retry-After
// before every attempt of the Reader. A Retry-After beyond MaxRetryAfter
// fails f and closes the Reader's gate for MaxRetryAfter.
func (c *call) retry(ctx context.Context, what string, f func(ctx context.Context) error) error {
	o := &c.r.opts
	for attempt := 1; ; attempt++ {
		if err := c.r.gate.Wait(ctx); err != nil {
			return err
		}
		h := &hint{c: c}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if o.AttemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, o.AttemptTimeout)
		}
		err := f(context.WithValue(actx, ctxKey{}, h))
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if timedOut {
			err = fmt.Errorf("no answer within %s: %w", o.AttemptTimeout, err)
		}
		if classify(err) != failTransient || attempt >= o.MaxAttempts {
			return err
		}
		wait := retry.Backoff(attempt, o.Backoff, o.MaxBackoff)
		wait = wait/2 + rand.N(wait/2+1) // jitter: between half and all of it
		if h.retryAfter > 0 {
			if h.retryAfter > o.MaxRetryAfter {
				c.r.block(o.MaxRetryAfter)
				c.r.logf("%s: registry asked to wait %s, more than %s: giving up on it, and no request to the registry for %s", what, h.retryAfter, o.MaxRetryAfter, o.MaxRetryAfter)
				return fmt.Errorf("%w (registry asked to wait %s, more than %s)", err, h.retryAfter, o.MaxRetryAfter)
			}
			c.r.block(h.retryAfter)
			wait = 0 // waitTurn waits
		}
		c.retries.Add(1)
		c.r.logf("%s: attempt %d of %d failed, retrying in %s: %v", what, attempt, o.MaxAttempts, wait.Round(100*time.Millisecond), err)
		if err := o.Clock.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// block stops every request of the Reader for d from now (it never moves
// the gate earlier).
func (r *Reader) block(d time.Duration) {
	r.gate.CloseUntil(r.opts.Clock.Now().Add(d))
}

func (r *Reader) logf(format string, args ...any) {
	if r.opts.Logf != nil {
		r.opts.Logf(format, args...)
	}
}

// baseTransport is under go-containerregistry's authentication: it counts
// requests, notes Retry-After, and for an http:// registry URL sends to the
// registry host over plain HTTP (go-containerregistry tries https first for
// any host but loopback).
type baseTransport struct {
	inner     http.RoundTripper
	plainHTTP bool
	host      string
}

func (t *baseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.plainHTTP && req.URL.Scheme == "https" && req.URL.Host == t.host {
		req = req.Clone(req.Context())
		req.URL.Scheme = "http"
	}
	h, _ := req.Context().Value(ctxKey{}).(*hint)
	if h != nil {
		h.c.requests.Add(1)
	}
	resp, err := t.inner.RoundTrip(req)
	if err != nil || h == nil {
		return resp, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := retry.ParseAfter(resp.Header.Get("Retry-After"), h.c.r.opts.Clock.Now()); ok {
			h.retryAfter = d
		}
	}
	return resp, nil
}
