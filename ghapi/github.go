package ghapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v60/github"
	"golang.org/x/oauth2"
	"golang.org/x/sync/errgroup"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/policy"
)

// More errors the client classifies answers into, next to the sentinels
// of api.go.
var (
	// ErrNotFound: 404 on a read (owner, package, version).
	ErrNotFound = errors.New("not found")
	// ErrListRefused: 400 "Invalid argument." to a listing of an
	// organisation's container packages, GitHub's answer to a workflow's
	// GITHUB_TOKEN (observed: https://github.com/cli/cli/issues/9606,
	// https://github.com/actions/github-script/issues/449,
	// https://github.com/octokit/octokit.js/issues/2606). Packages named
	// literally are fetched by name and are not affected; patterns are.
	ErrListRefused = errors.New("listing refused")
	// ErrNoPermission: 403 (other than a rate limit), 404 "Resource not
	// accessible by integration", or a DELETE's 404 for a version that a
	// GET shows still exists: the token may not do this.
	ErrNoPermission = errors.New("permission denied")
)

// DefaultBaseURL is GitHub.com's REST API, used when GitHubOptions.BaseURL
// is empty.
const DefaultBaseURL = "https://api.github.com"

// DefaultListConcurrency is the default number of list pages in flight per
// client: fast enough to list 100,000 versions in seconds, far below
// GitHub's 100 concurrent requests, and kind to a token shared by a matrix
// of jobs.
const DefaultListConcurrency = 8

// GitHubOptions configures NewGitHub. Only BaseURL and Token matter in
// production; the rest have defaults and exist for tuning and tests.
type GitHubOptions struct {
	// BaseURL is the REST API root as GITHUB_API_URL gives it, used as it
	// is: https://api.github.com, or https://HOST/api/v3 on GHES (default
	// DefaultBaseURL).
	BaseURL string
	// Token is sent as "Authorization: Bearer <token>"; empty sends none.
	Token string
	// UserAgent of every request (default "pkgretention").
	UserAgent string
	// Transport sends the requests under the retrying transport and the
	// token (default defaultBaseTransport(ListConcurrency)).
	Transport http.RoundTripper
	// Clock is used for every wait (default the wall clock).
	Clock clock.Clock
	// ListConcurrency bounds the list pages in flight across the whole
	// client, however many packages are listed at once (default
	// DefaultListConcurrency, at most 50).
	ListConcurrency int
	// Retry tunes retries and waits (see RetryOptions for the defaults).
	Retry RetryOptions
	// Notify, if set, receives a line whenever a request waits because
	// GitHub said so ("secondary rate limit: waiting 60s before …"), and
	// whenever a wait of the client's own lasts RetryOptions.NoticeAfter or
	// more (an answer that is slow to come, a retry after a fault).
	Notify func(msg string)
	// Rand is the source of backoff jitter (default: math/rand/v2's).
	Rand rand.Source
}

// GitHub implements API over GitHub's REST API with go-github.
type GitHub struct {
	client    *github.Client
	transport *Transport
	sem       chan struct{} // list pages in flight
	conc      int
}

// NewGitHub returns a GitHub API client. It sends no request.
func NewGitHub(opts GitHubOptions) (*GitHub, error) {
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("api url %q: want an absolute URL such as %s or https://HOST/api/v3", base, DefaultBaseURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	conc := opts.ListConcurrency
	if conc <= 0 {
		conc = DefaultListConcurrency
	}
	conc = min(conc, 50) // GitHub allows 100 concurrent requests per token, shared
	rt := opts.Transport
	if rt == nil {
		rt = defaultBaseTransport(conc)
	}
	tr := newTransport(transportOptions{
		Base:   rt,
		Clock:  opts.Clock,
		Retry:  opts.Retry,
		Notify: opts.Notify,
		Rand:   opts.Rand,
	})
	var top http.RoundTripper = tr
	if opts.Token != "" {
		top = &oauth2.Transport{
			Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: opts.Token}),
			Base:   tr,
		}
	}
	client := github.NewClient(&http.Client{Transport: top})
	client.BaseURL = u
	client.UserAgent = "pkgretention"
	if opts.UserAgent != "" {
		client.UserAgent = opts.UserAgent
	}
	return &GitHub{client: client, transport: tr, sem: make(chan struct{}, conc), conc: conc}, nil
}

// Budget returns the primary rate-limit budget the last responses
// reported (see Transport.Budget).
func (g *GitHub) Budget() Budget { return g.transport.Budget() }

// LookupOwner finds out whether login is an organisation or a user with
// one request, GET /users/{login} (whose "type" says which). "@me" is the
// authenticated user and needs no request.
//
// GitHub API docs: https://docs.github.com/rest/users/users#get-a-user
func (g *GitHub) LookupOwner(ctx context.Context, login string) (Owner, error) {
	if login == "@me" {
		return Owner{Login: login, Kind: AuthenticatedUser}, nil
	}
	if login == "" || strings.Contains(login, "/") {
		return Owner{}, fmt.Errorf("owner %q: not a user or organisation name", login)
	}
	req, err := g.client.NewRequest(http.MethodGet, "users/"+url.PathEscape(login), nil)
	if err != nil {
		return Owner{}, fmt.Errorf("look up owner %q: %w", login, err)
	}
	var user struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	}
	if _, err := g.client.Do(ctx, req, &user); err != nil {
		err = classify(err, http.MethodGet)
		if errors.Is(err, ErrNotFound) {
			return Owner{}, fmt.Errorf("owner %q not found (or the token cannot see it): %w", login, err)
		}
		return Owner{}, fmt.Errorf("look up owner %q: %w", login, err)
	}
	if user.Login == "" {
		user.Login = login
	}
	switch user.Type {
	case "Organization":
		return Owner{Login: user.Login, Kind: Organization}, nil
	case "User", "Bot":
		return Owner{Login: user.Login, Kind: User}, nil
	}
	return Owner{}, fmt.Errorf("owner %q: unexpected account type %q", login, user.Type)
}

// ListPackages lists every package of the owner and type, all pages.
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#list-packages-for-an-organization
func (g *GitHub) ListPackages(ctx context.Context, owner Owner, typ policy.PackageType) ([]Package, error) {
	op, err := ownerPath(owner)
	if err != nil {
		return nil, err
	}
	q := url.Values{"package_type": {string(typ)}, "per_page": {"100"}}
	var out []Package
	err = listPages(ctx, g, op+"/packages", q, func(n int) { out = slices.Grow(out, n) }, func(page []apiPackage) {
		for _, p := range page {
			out = append(out, Package{Owner: owner, Type: typ, Name: p.Name, Visibility: p.Visibility, VersionCount: p.VersionCount})
		}
	})
	if err != nil {
		var ae *APIError
		if typ == policy.Container && errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Kind == nil &&
			strings.Contains(strings.ToLower(ae.Message), msgInvalidArgument) {
			// A new error: the wrapping messages were made before.
			refused := *ae
			refused.Kind, refused.Hint = ErrListRefused, hintListRefused
			return nil, fmt.Errorf("list %s packages of %q: %w", typ, owner.Login, &refused)
		}
		return nil, fmt.Errorf("list %s packages of %q: %w", typ, owner.Login, err)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	out = slices.CompactFunc(out, func(a, b Package) bool { return a.Name == b.Name })
	return out, nil
}

// GetPackage fetches one package by name with one request,
// GET /orgs/{org}/packages/{type}/{name} (or the /users/{user} and /user
// forms). A 404 is ErrNotFound.
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#get-a-package-for-an-organization
func (g *GitHub) GetPackage(ctx context.Context, owner Owner, typ policy.PackageType, name string) (Package, error) {
	pp, err := packagePath(Package{Owner: owner, Type: typ, Name: name})
	if err != nil {
		return Package{}, err
	}
	req, err := g.client.NewRequest(http.MethodGet, pp, nil)
	if err != nil {
		return Package{}, fmt.Errorf("get %s package %q of %s: %w", typ, name, owner.Login, err)
	}
	var p apiPackage
	if _, err := g.client.Do(ctx, req, &p); err != nil {
		err = classify(err, http.MethodGet)
		if errors.Is(err, ErrNotFound) {
			return Package{}, fmt.Errorf("%s package %q of %s not found (or the token cannot see it: a workflow's GITHUB_TOKEN sees only the packages that give its repository access, in the package settings under Manage Actions access; otherwise use a personal access token with read:packages): %w", typ, name, owner.Login, err)
		}
		return Package{}, fmt.Errorf("get %s package %q of %s: %w", typ, name, owner.Login, err)
	}
	if p.Name == "" {
		p.Name = name
	}
	return Package{Owner: owner, Type: typ, Name: p.Name, Visibility: p.Visibility, VersionCount: p.VersionCount}, nil
}

// ListVersions lists every version of pkg in state ("active" or
// "deleted"), all pages, per_page=100. Once page 1 names the last page,
// pages 2..last are fetched concurrently within the client's
// ListConcurrency; with only rel="next" they are fetched one after the
// other. Any page failing after retries fails the whole listing (the
// other pages in flight are cancelled).
//
// Each version appears exactly once: versions created or deleted while
// listing shift the others between pages, so a version can be seen twice
// (deduplicated by ID) or not at all. A version missed that way is simply
// not acted on in this run. The result is sorted by ID.
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#list-package-versions-for-a-package-owned-by-an-organization
func (g *GitHub) ListVersions(ctx context.Context, pkg Package, state string) ([]policy.Version, error) {
	pp, err := packagePath(pkg)
	if err != nil {
		return nil, err
	}
	if state == "" {
		state = "active"
	}
	q := url.Values{"per_page": {"100"}, "state": {state}}
	var out []policy.Version
	onPage := pageHook(ctx)
	err = listPages(ctx, g, pp+"/versions", q, func(n int) { out = slices.Grow(out, n) }, func(page []apiVersion) {
		if onPage != nil {
			onPage(len(page))
		}
		for i := range page {
			v := &page[i]
			pv := policy.Version{ID: v.ID, Name: v.Name, Tags: v.Metadata.Container.Tags, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
			if v.DeletedAt != nil {
				pv.DeletedAt = *v.DeletedAt
			}
			out = append(out, pv)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("list %s versions of %s %q: listing incomplete: %w", state, pkg.Type, pkg.Name, err)
	}
	slices.SortFunc(out, func(a, b policy.Version) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	out = slices.CompactFunc(out, func(a, b policy.Version) bool { return a.ID == b.ID })
	return slices.Clip(out), nil
}

// DeleteVersion deletes one version. See API for the errors.
//
// A 404 does not always mean the version is gone: GitHub also answers 404
// to a token that may not delete it. A 404 with GitHub's own "Package
// version not found." is ErrAlreadyGone; any other 404 is checked with one
// GET of the version: still there (no deleted_at) is ErrNoPermission,
// gone (404, or deleted_at set) is ErrAlreadyGone, and a GET that fails is
// an error that is neither (the deletion failed).
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization
func (g *GitHub) DeleteVersion(ctx context.Context, pkg Package, id int64) error {
	err := g.mutate(ctx, http.MethodDelete, "delete", pkg, id, "")
	var ae *APIError
	if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Kind != nil {
		return err
	}
	return g.confirmGone(ctx, pkg, id, ae)
}

// confirmGone decides what a DELETE's 404 without GitHub's "Package
// version not found." means, with one GET of the version.
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#get-a-package-version-for-an-organization
func (g *GitHub) confirmGone(ctx context.Context, pkg Package, id int64, del *APIError) error {
	failed := func(err error) error {
		return fmt.Errorf("delete version id %d of %s %q: %w, and checking whether it still exists failed: %w", id, pkg.Type, pkg.Name, del, err)
	}
	pp, err := packagePath(pkg)
	if err != nil {
		return failed(err)
	}
	req, err := g.client.NewRequest(http.MethodGet, pp+"/versions/"+strconv.FormatInt(id, 10), nil)
	if err != nil {
		return failed(err)
	}
	var v struct {
		DeletedAt *string `json:"deleted_at"`
	}
	_, err = g.client.Do(ctx, req, &v)
	switch {
	case err == nil && (v.DeletedAt == nil || *v.DeletedAt == ""):
		del.Kind = ErrNoPermission
		del.Hint = hintDeleteNotFound
	case err == nil:
		del.Kind = ErrAlreadyGone
	default:
		err = classify(err, http.MethodGet)
		if !errors.Is(err, ErrNotFound) {
			// Rate limits and cancellation keep their meaning (stop
			// sending); any other failure is only text, so that it reads
			// neither as gone nor as a permission to fix.
			if errors.Is(err, ErrBudgetExhausted) || errors.Is(err, ErrSecondaryRateLimit) || ctx.Err() != nil {
				return failed(err)
			}
			return failed(errors.New(err.Error()))
		}
		del.Kind = ErrAlreadyGone
	}
	return fmt.Errorf("delete version id %d of %s %q: %w", id, pkg.Type, pkg.Name, del)
}

// RestoreVersion restores one deleted version.
//
// GitHub API docs: https://docs.github.com/rest/packages/packages#restore-package-version-for-an-organization
func (g *GitHub) RestoreVersion(ctx context.Context, pkg Package, id int64) error {
	return g.mutate(ctx, http.MethodPost, "restore", pkg, id, "/restore")
}

func (g *GitHub) mutate(ctx context.Context, method, verb string, pkg Package, id int64, suffix string) error {
	pp, err := packagePath(pkg)
	if err != nil {
		return err
	}
	req, err := g.client.NewRequest(method, pp+"/versions/"+strconv.FormatInt(id, 10)+suffix, nil)
	if err != nil {
		return fmt.Errorf("%s version id %d of %s %q: %w", verb, id, pkg.Type, pkg.Name, err)
	}
	if _, err := g.client.Do(ctx, req, nil); err != nil {
		return fmt.Errorf("%s version id %d of %s %q: %w", verb, id, pkg.Type, pkg.Name, classify(err, method))
	}
	return nil
}

// apiVersion is the part of GitHub's package-version schema the policy
// needs. Decoding into it instead of github.PackageVersion skips the URLs
// and other fields nobody reads.
type apiVersion struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	DeletedAt *time.Time `json:"deleted_at"`
	Metadata  struct {
		Container struct {
			Tags []string `json:"tags"`
		} `json:"container"`
	} `json:"metadata"`
}

// apiPackage is the part of GitHub's package schema cleanup needs.
type apiPackage struct {
	Name         string `json:"name"`
	Visibility   string `json:"visibility"`
	VersionCount int    `json:"version_count"`
}

// maxPrealloc caps what a server-announced last page may make us allocate
// up front.
const maxPrealloc = 1 << 18

// listPages fetches every page of a list endpoint and hands each page to
// add, one page at a time (add needs no locking). grow is called once with
// the expected number of items when page 1 names the last page.
func listPages[T any](ctx context.Context, g *GitHub, path string, q url.Values, grow func(n int), add func([]T)) error {
	first, resp, err := getPage[T](ctx, g, path, q, 1)
	if err != nil {
		return fmt.Errorf("page 1: %w", err)
	}
	last := resp.LastPage
	if last > 1 {
		grow(min(last*100, maxPrealloc))
	}
	add(first)
	next := resp.NextPage
	if last > 1 {
		next, err = concurrentPages(ctx, g, path, q, last, add)
		if err != nil {
			return err
		}
	}
	// Sequential: only rel="next" is known, or the last page itself said
	// there is more (versions were added while listing). A next page that
	// does not move forward ends the listing rather than looping.
	for prev := max(last, 1); next > prev; {
		page, resp, err := getPage[T](ctx, g, path, q, next)
		if err != nil {
			return fmt.Errorf("page %d: %w", next, err)
		}
		add(page)
		prev, next = next, resp.NextPage
	}
	return nil
}

// concurrentPages fetches pages 2..last with at most ListConcurrency
// workers (and requests in flight across the client). It returns the next
// page the last page announced, if any.
func concurrentPages[T any](ctx context.Context, g *GitHub, path string, q url.Values, last int, add func([]T)) (int, error) {
	eg, ctx := errgroup.WithContext(ctx)
	var (
		mu      sync.Mutex
		counter atomic.Int64
		after   int
	)
	counter.Store(1)
	workers := min(g.conc, last-1)
	for range workers {
		eg.Go(func() error {
			for {
				n := int(counter.Add(1))
				if n > last {
					return nil
				}
				page, resp, err := getPage[T](ctx, g, path, q, n)
				if err != nil {
					return fmt.Errorf("page %d of %d: %w", n, last, err)
				}
				mu.Lock()
				add(page)
				if n == last && resp.NextPage > last {
					after = resp.NextPage
				}
				mu.Unlock()
			}
		})
	}
	return after, eg.Wait()
}

// getPage fetches one page, holding a slot of the client's semaphore.
func getPage[T any](ctx context.Context, g *GitHub, path string, q url.Values, n int) ([]T, *github.Response, error) {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	defer func() { <-g.sem }()
	qq := make(url.Values, len(q)+1)
	for k, v := range q {
		qq[k] = v
	}
	qq.Set("page", strconv.Itoa(n))
	req, err := g.client.NewRequest(http.MethodGet, path+"?"+qq.Encode(), nil)
	if err != nil {
		return nil, nil, err
	}
	// go-github copies the body into buf (to EOF, so the connection is
	// reused); decoding from a pooled buffer avoids a json.Decoder's
	// growing buffers on every page.
	buf := pageBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 4<<20 {
			pageBuffers.Put(buf)
		}
	}()
	resp, err := g.client.Do(ctx, req, buf)
	if err != nil {
		return nil, resp, classify(err, http.MethodGet)
	}
	items := make([]T, 0, 100)
	if err := json.Unmarshal(buf.Bytes(), &items); err != nil {
		return nil, resp, fmt.Errorf("decode %s: %w", req.URL.Path, err)
	}
	return items, resp, nil
}

var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// ownerPath is the path of an owner's packages family, without a slash.
func ownerPath(o Owner) (string, error) {
	switch o.Kind {
	case Organization:
		return "orgs/" + url.PathEscape(o.Login), nil
	case User:
		return "users/" + url.PathEscape(o.Login), nil
	case AuthenticatedUser:
		return "user", nil
	}
	return "", fmt.Errorf("owner %q: kind not looked up", o.Login)
}

// packagePath is the path of one package, its name escaped exactly once
// ("team/app" → "team%2Fapp"). go-github v60 escapes names on the
// Organizations methods but not on the Users ones, so every request is
// built here the same way for the three owner kinds.
func packagePath(p Package) (string, error) {
	op, err := ownerPath(p.Owner)
	if err != nil {
		return "", err
	}
	if p.Name == "" {
		return "", errors.New("package without a name")
	}
	return op + "/packages/" + url.PathEscape(string(p.Type)) + "/" + url.PathEscape(p.Name), nil
}

// APIError is a refusal from GitHub: its status and message, what it was
// classified as (Kind: ErrAlreadyGone, ErrDownloadRule, ErrLastVersion,
// ErrNotFound, ErrNoPermission or nil), and what the user can do about it.
// errors.Is matches Kind; errors.As also reaches go-github's error.
type APIError struct {
	Status  int
	Message string // GitHub's message, as it is
	Hint    string // what to do, for permission errors
	Kind    error
	Err     error // go-github's *github.ErrorResponse
}

func (e *APIError) Error() string {
	s := strconv.Itoa(e.Status) + " " + e.Message
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns Kind and go-github's error.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// The exact texts of GitHub's refusals (api-facts.md), matched
// case-insensitively on a distinctive part.
const (
	msgDownloadRule      = "more than 5000 downloads"
	msgLastTagged        = "last tagged version of a package"
	msgLastVersion       = "last version of a package"
	msgNotAccessible     = "resource not accessible by integration"
	msgVersionNotFound   = "Package version not found." // matched exactly
	msgInvalidArgument   = "invalid argument"
	hintListRefused      = "GitHub does not let a workflow's GITHUB_TOKEN list an organisation's container packages, so patterns cannot be resolved with it: name the packages (a name is fetched, not listed), or pass a personal access token with read:packages and delete:packages, or a GitHub App installation token, as `token:`"
	hintDeleteHow        = "in a workflow grant `permissions: packages: write` and give the repository admin access in the package settings (Manage Actions access); for a package not linked to the repository use a personal access token with delete:packages"
	hintDeletePermission = "the token may not change this package: " + hintDeleteHow
	hintDeleteNotFound   = "GitHub answered not found (404) though the version exists: the token cannot delete it; " + hintDeleteHow
	hintReadPermission   = "the token may not read this owner's packages: in a workflow grant `permissions: packages: read` (or write) and give the repository access in the package settings; otherwise use a personal access token with read:packages"
)

// classify turns a go-github error into the errors of this package.
func classify(err error, method string) error {
	// The transport's own verdicts travel inside *url.Error: unwrap them
	// so that the message is the verdict, not a URL.
	var be *BudgetError
	if errors.As(err, &be) {
		return be
	}
	var ue *url.Error
	if errors.As(err, &ue) && errors.Is(ue.Err, ErrSecondaryRateLimit) {
		return ue.Err
	}
	// go-github's own rate-limit verdicts. The transport keeps its
	// pre-checks from firing, but classify them should they ever come.
	var rle *github.RateLimitError
	if errors.As(err, &rle) {
		return &BudgetError{Limit: rle.Rate.Limit, Reset: rle.Rate.Reset.Time, Message: rle.Message}
	}
	var are *github.AbuseRateLimitError
	if errors.As(err, &are) {
		return fmt.Errorf("%w: %s", ErrSecondaryRateLimit, are.Message)
	}
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	ae := &APIError{Status: er.Response.StatusCode, Message: er.Message, Err: er}
	if ae.Message == "" {
		ae.Message = http.StatusText(ae.Status)
	}
	msg := strings.ToLower(ae.Message)
	mutating := method != http.MethodGet
	switch {
	case ae.Status == http.StatusUnauthorized:
		ae.Kind = ErrNoPermission
		ae.Hint = "the token is missing, invalid or expired"
	case strings.Contains(msg, msgNotAccessible) || ae.Status == http.StatusForbidden:
		ae.Kind = ErrNoPermission
		ae.Hint = hintReadPermission
		if mutating {
			ae.Hint = hintDeletePermission
		}
	case ae.Status == http.StatusNotFound && method == http.MethodDelete:
		// GitHub's own text says the version is gone; any other 404 may
		// be a token without permission (DeleteVersion checks it).
		if ae.Message == msgVersionNotFound {
			ae.Kind = ErrAlreadyGone
		}
	case ae.Status == http.StatusNotFound:
		ae.Kind = ErrNotFound
	case ae.Status == http.StatusBadRequest && strings.Contains(msg, msgDownloadRule):
		ae.Kind = ErrDownloadRule
	case ae.Status == http.StatusBadRequest && (strings.Contains(msg, msgLastTagged) || strings.Contains(msg, msgLastVersion)):
		ae.Kind = ErrLastVersion
	}
	return ae
}

type pageHookKey struct{}

// WithPageHook returns a context whose version listings call fn with the
// number of versions of each page as it arrives, so that a long listing
// shows progress before it ends.
func WithPageHook(ctx context.Context, fn func(n int)) context.Context {
	return context.WithValue(ctx, pageHookKey{}, fn)
}

func pageHook(ctx context.Context) func(n int) {
	fn, _ := ctx.Value(pageHookKey{}).(func(n int))
	return fn
}
