// Package fakegh is an in-process fake of GitHub's Packages REST API that
// behaves as GitHub does: the 24 package endpoints for organisations, users
// and the authenticated user, GET /users/{username}, GET /user and
// GET /orgs/{org}; pagination with GitHub's Link headers; the refusals of
// DELETE with their exact messages; the 30-day restore window; primary and
// secondary rate limits with their headers; and injected faults (502s,
// deletes that succeed but answer 502, failing listing pages, dropped
// connections).
//
// A *Server is an http.Handler: serve it with httptest.NewServer or on a
// loopback listener and point a client's base URL at it. Seed it with
// AddOrg, AddUser, AddPackage and AddVersion (or AddVersions for large
// packages), then inspect what the client did with Active, Deleted,
// Requests, Violations and the counters.
//
// Response shapes follow the package and package-version schemas of
// GitHub's OpenAPI description; the package's contract test checks them
// against testdata/openapi/packages.json. Behaviour follows
// shared/api-facts.md; where GitHub's behaviour is not documented the
// choice made here is stated on the method or option concerned.
//
// A request whose token has the prefix ghs_ (an installation token, such
// as a workflow's GITHUB_TOKEN) is refused what GitHub refuses such a
// token: listing an organisation's container packages answers 400
// "Invalid argument." (see listPackages). The /user/... endpoints answer
// 403 unless WithAuthenticatedUser names the token's account, as they do
// for GITHUB_TOKEN, whose account is the workflow's bot.
//
// Everything that depends on time reads the injected clock (WithClock), and
// every random fault draws from one generator seeded by WithSeed, so a run
// is reproducible for a given clock and request order. A Server is safe for
// concurrent use.
//
// Listing is O(page size · log n) per request whatever the number of
// versions and deletions: each package keeps its versions in one slice,
// oldest first, with a Fenwick tree per state (active, deleted) to find the
// k-th version of a state; deleting or restoring a version is O(log n).
package fakegh

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// RestoreWindow is how long after its deletion a version (or package) can
// be restored. After it, the version is gone for good: it is no longer
// listed with state=deleted and restoring it answers 404.
const RestoreWindow = 30 * 24 * time.Hour

// PackageTypes are the package types GitHub Packages knows, in the order
// of GitHub's OpenAPI description.
var PackageTypes = []string{"npm", "maven", "rubygems", "docker", "nuget", "container"}

// Version is one package version as seeded into the fake and as reported
// by Active and Deleted.
type Version struct {
	// ID is the version's id; AddVersion assigns the next free one when 0.
	ID int64
	// Name is the manifest digest for containers, the version string
	// otherwise; AddVersion makes one up when empty.
	Name string
	// Tags are a container version's tags (ignored for other types).
	Tags []string
	// CreatedAt and UpdatedAt default to the clock's time (UpdatedAt to
	// CreatedAt).
	CreatedAt time.Time
	UpdatedAt time.Time
	// Downloads is never served (GitHub reports no download counts); a
	// public package's version with more than 5,000 is refused on DELETE.
	Downloads int
	// DeletedAt is set by the server when the version is deleted; zero
	// while active.
	DeletedAt time.Time
}

// Request is one request the server received.
type Request struct {
	Method   string
	Path     string // escaped path as received, base path included
	RawQuery string
	// Route is the endpoint the request matched, as "METHOD /path/{param}"
	// in OpenAPI's spelling without the base path; empty when none did.
	Route  string
	Status int // 0 while in flight or when the connection was dropped
	At     time.Time
}

// RateLimit configures the primary rate limit. Every request that reaches
// the API (not dropped connections, not injected 502s, not 401s, not
// requests refused because the client was already told to wait) uses one
// unit of the budget; the window starts at the first request and resets
// Window after it.
type RateLimit struct {
	Limit  int           // requests per window; default 5000
	Used   int           // units already used when the first window starts
	Window time.Duration // default one hour
	Status int           // status of the refusal when exhausted: 403 (default) or 429
}

// SecondaryLimit configures GitHub's secondary rate limits. When one
// triggers, the request is refused (not performed) with Status and the
// message "You have exceeded a secondary rate limit. Please wait a few
// minutes before you try again.", and the server blocks every request for
// RetryAfter (sent as retry-after in seconds), or for 60 seconds without a
// retry-after header when RetryAfter is 0. A request that arrives while
// blocked is refused the same way and recorded as a violation.
type SecondaryLimit struct {
	// Every refuses every Every-th mutating request (DELETE or POST);
	// 0 disables it.
	Every int
	// PointsPerMinute limits the points spent per endpoint (route) per
	// minute window, a GET costing 1 point and any other method 5, as
	// GitHub counts them (GitHub's limit is 900); 0 disables it.
	PointsPerMinute int
	// MaxConcurrent is the number of requests allowed in flight at once
	// (default 100, GitHub's limit); a request above it is refused and
	// recorded as a violation.
	MaxConcurrent int
	RetryAfter    time.Duration
	Status        int // 403 (default) or 429
}

// Faults configures injected failures. Each is a probability in [0, 1],
// drawn from the server's seeded generator.
type Faults struct {
	// FailRate answers a request 502 before doing anything (no rate-limit
	// headers, no budget used, as from GitHub's front end).
	FailRate float64
	// AmbiguousDeleteRate performs a version DELETE and then answers 502
	// (with the rate-limit headers: the API did the work).
	AmbiguousDeleteRate float64
	// NetworkFailRate closes the connection without an answer. Go's
	// http.Transport may retry such a GET by itself on a reused
	// connection; the server then sees the request twice.
	NetworkFailRate float64
}

// Option configures a Server.
type Option func(*Server)

// WithClock sets the clock used for timestamps, rate-limit windows,
// retry-after blocks and the restore window (default clock.Real{}).
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clock = c } }

// WithToken makes the server require "Authorization: Bearer <token>" (or
// "token <token>"); other requests get 401 "Bad credentials". Without it
// no authorization is checked.
func WithToken(token string) Option { return func(s *Server) { s.token = token } }

// WithSeed seeds the generator of injected faults (default 1).
func WithSeed(seed int64) Option {
	return func(s *Server) { s.rng = rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)) }
}

// WithAuthenticatedUser makes login (created as a user if unknown) the
// owner of the token: GET /user and the /user/... endpoints act on it.
// Without it they answer 403 "Resource not accessible by integration", as
// GitHub does for a workflow's GITHUB_TOKEN.
func WithAuthenticatedUser(login string) Option { return func(s *Server) { s.meLogin = login } }

// WithInstallationRepository makes an installation token (prefix ghs_,
// such as a workflow's GITHUB_TOKEN) the token of a workflow in repo
// ("owner/name"): it reaches only the packages linked to that repository
// (SetRepository). Any other package answers 404 "Package not found." to
// it, on every endpoint, and is left out of listings, as GitHub answers a
// GITHUB_TOKEN a personal access token would be shown the package for
// (observed: https://github.com/bots-house/ghcr-delete-image-action/issues/105,
// https://github.com/actions/delete-package-versions/issues/57). Without
// this option an installation token reaches every package.
func WithInstallationRepository(repo string) Option {
	return func(s *Server) { s.installRepo = strings.ToLower(repo) }
}

// WithBasePath serves the API under a path prefix, such as "/api/v3" for a
// GitHub Enterprise Server base URL. Requests outside it answer 404.
func WithBasePath(prefix string) Option {
	return func(s *Server) { s.basePath = strings.TrimSuffix(prefix, "/") }
}

// WithRateLimit sets the primary rate limit (see SetRateLimit).
func WithRateLimit(rl RateLimit) Option { return func(s *Server) { s.setRateLimit(rl) } }

// WithSecondaryLimit sets the secondary rate limits (see SetSecondaryLimit).
func WithSecondaryLimit(sl SecondaryLimit) Option { return func(s *Server) { s.secondary = sl } }

// WithFaults sets the injected faults (see SetFaults).
func WithFaults(f Faults) Option { return func(s *Server) { s.faults = f } }

// Server is the fake API. Create it with New.
type Server struct {
	clock    clock.Clock
	token    string
	basePath string
	meLogin  string
	// installRepo is WithInstallationRepository's "owner/name", lower case.
	installRepo string

	mu       sync.Mutex
	rng      *rand.Rand
	accounts map[string]*account // by lower-case login
	me       *account
	versions map[int64]*version // every version ever added, by id
	nextVer  int64
	nextPkg  int64
	nextAcct int64

	rate             RateLimit
	used             int
	resetAt          time.Time
	primaryWaitUntil time.Time // set when a request was refused for the exhausted budget

	secondary    SecondaryLimit
	mutCount     int
	points       map[string]*pointWindow
	blockedUntil time.Time
	blockHeader  bool // send retry-after while blocked
	grace        int  // GETs forgiven after a new block (see Violations)

	faults     Faults
	failRoutes map[string]*routeFault

	requests     []Request
	logGen       int
	violations   []string
	inFlight     int
	maxInFlight  int
	getsInFlight int
	maxGets      int
	mutInFlight  int
	maxMut       int
	reqSeq       int64

	onDelete  func(owner, typ, name string, v Version)
	onRestore func(owner, typ, name string, v Version)

	intercepts map[string]Interceptor // by "METHOD escaped-path"
}

type pointWindow struct {
	start  time.Time
	points int
}

// New returns a Server with no owners, no faults, a primary limit of 5,000
// requests an hour and GitHub's secondary limit of 100 requests in flight.
func New(opts ...Option) *Server {
	s := &Server{
		clock:    clock.Real{},
		accounts: map[string]*account{},
		versions: map[int64]*version{},
		nextVer:  1,
		nextPkg:  100001,
		nextAcct: 1001,
		points:   map[string]*pointWindow{},
	}
	s.setRateLimit(RateLimit{})
	WithSeed(1)(s)
	for _, o := range opts {
		o(s)
	}
	if s.meLogin != "" {
		a := s.accounts[strings.ToLower(s.meLogin)]
		if a == nil {
			s.AddUser(s.meLogin)
			a = s.accounts[strings.ToLower(s.meLogin)]
		}
		if a.org {
			panic(fmt.Sprintf("fakegh: authenticated user %q is an organisation", s.meLogin))
		}
		s.me = a
	}
	return s
}

// SetRateLimit replaces the primary rate limit; the current window ends
// and the next request starts a new one with rl.Used units used.
func (s *Server) SetRateLimit(rl RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRateLimit(rl)
}

func (s *Server) setRateLimit(rl RateLimit) {
	if rl.Limit <= 0 {
		rl.Limit = 5000
	}
	if rl.Window <= 0 {
		rl.Window = time.Hour
	}
	if rl.Status == 0 {
		rl.Status = 403
	}
	s.rate = rl
	s.used = rl.Used
	s.resetAt = time.Time{}
	s.primaryWaitUntil = time.Time{}
}

// SetSecondaryLimit replaces the secondary rate limits. A block already
// in force stays in force.
func (s *Server) SetSecondaryLimit(sl SecondaryLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secondary = sl
	s.mutCount = 0
	clear(s.points)
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// OnDelete registers fn to be called, before the answer is written, for
// every version a request deletes (and for every active version of a
// package a request deletes), so that a fake container registry can be
// kept in sync. fn may call the Server's methods.
func (s *Server) OnDelete(fn func(owner, typ, name string, v Version)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onDelete = fn
}

// OnRestore registers fn to be called for every version a request
// restores (and every active version of a restored package).
func (s *Server) OnRestore(fn func(owner, typ, name string, v Version)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRestore = fn
}

// Interceptor answers a request in place of the fake; next writes the
// fake's own answer, which it may call (with the request as it is or
// changed) to pass the request on, or not call.
type Interceptor func(w http.ResponseWriter, r *http.Request, next http.Handler)

// Intercept hands the requests with method and escapedPath (as received,
// without the base path: "/orgs/acme/packages/container/team%2Fapp") to
// h: a test scripts an exact answer (a refusal with given headers, a
// hang-up, a page held back) or edits the fake's. The request is logged,
// counted and timed as any other; a path escaped otherwise is not
// intercepted. A nil h removes the interceptor.
func (s *Server) Intercept(method, escapedPath string, h Interceptor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.intercepts == nil {
		s.intercepts = map[string]Interceptor{}
	}
	key := method + " " + escapedPath
	if h == nil {
		delete(s.intercepts, key)
		return
	}
	s.intercepts[key] = h
}

// InFlight returns how many requests are in flight now.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}

// account is an organisation or a user.
type account struct {
	login     string
	id        int64
	org       bool
	createdAt time.Time
	packages  map[string]*pkg // by type + "/" + name
}

// AddOrg adds an organisation. It panics if the login is taken.
func (s *Server) AddOrg(login string) { s.addAccount(login, true) }

// AddUser adds a user. It panics if the login is taken.
func (s *Server) AddUser(login string) { s.addAccount(login, false) }

func (s *Server) addAccount(login string, org bool) {
	if login == "" || strings.ContainsAny(login, "/ ") {
		panic(fmt.Sprintf("fakegh: invalid login %q", login))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(login)
	if s.accounts[key] != nil {
		panic(fmt.Sprintf("fakegh: login %q already exists", login))
	}
	s.accounts[key] = &account{login: login, id: s.nextAcct, org: org, createdAt: s.clock.Now(), packages: map[string]*pkg{}}
	s.nextAcct++
}

// AddPackage adds a package. typ is one of PackageTypes; visibility is
// "public", "private" or "internal" (GitHub reports "internal" for
// internal packages although its OpenAPI description lists only the other
// two). It panics if the owner is unknown, an argument is invalid, or an
// active package of that name exists; a deleted one is replaced.
func (s *Server) AddPackage(owner, typ, name, visibility string) {
	if !validType(typ) {
		panic(fmt.Sprintf("fakegh: invalid package type %q", typ))
	}
	switch visibility {
	case "public", "private", "internal":
	default:
		panic(fmt.Sprintf("fakegh: invalid visibility %q", visibility))
	}
	if name == "" {
		panic("fakegh: empty package name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.mustAccount(owner)
	key := typ + "/" + name
	if p := a.packages[key]; p != nil && !p.deleted {
		panic(fmt.Sprintf("fakegh: package %s %q of %s already exists", typ, name, owner))
	}
	now := s.clock.Now()
	a.packages[key] = &pkg{
		id: s.nextPkg, owner: a, typ: typ, name: name, visibility: visibility,
		createdAt: now, updatedAt: now,
		names: map[string]int{}, tags: map[string]int{}, failPages: map[int]int{},
	}
	s.nextPkg++
}

// SetRepository links a package to a repository of its owner: the package
// is then served with a "repository" object.
func (s *Server) SetRepository(owner, typ, name, repo string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPackage(owner, typ, name)
	p.repo = repo
	p.repoID = p.id + 5_000_000
}

// AddVersion adds a version to a package and returns it as stored (with
// its ID and defaults filled in). Versions may be added in any order; they
// are served newest first (by CreatedAt, then ID). It panics if the
// package is unknown or the ID is taken.
func (s *Server) AddVersion(owner, typ, name string, v Version) Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPackage(owner, typ, name)
	return s.addVersion(p, v, s.clock.Now())
}

// AddVersions adds n versions to a package cheaply (100,000 take well
// under a second). Version i (0 is the oldest) is fn(i), or the zero
// Version when fn is nil; zero fields get defaults as in AddVersion,
// except that CreatedAt defaults to n-i minutes before the clock's time,
// so that the versions are one minute apart and the last is the newest.
func (s *Server) AddVersions(owner, typ, name string, n int, fn func(i int) Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPackage(owner, typ, name)
	now := s.clock.Now()
	p.vers = slices.Grow(p.vers, n)
	for i := range n {
		var v Version
		if fn != nil {
			v = fn(i)
		}
		if v.CreatedAt.IsZero() {
			v.CreatedAt = now.Add(-time.Duration(n-i) * time.Minute)
		}
		s.addVersion(p, v, now)
	}
}

func (s *Server) addVersion(p *pkg, v Version, now time.Time) Version {
	if v.ID == 0 {
		for s.versions[s.nextVer] != nil {
			s.nextVer++
		}
		v.ID = s.nextVer
		s.nextVer++
	} else if s.versions[v.ID] != nil {
		panic(fmt.Sprintf("fakegh: version id %d already exists", v.ID))
	}
	if v.Name == "" {
		if p.typ == "container" || p.typ == "docker" {
			sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%s#%d", p.owner.login, p.typ, p.name, v.ID))
			v.Name = "sha256:" + hex.EncodeToString(sum[:])
		} else {
			v.Name = fmt.Sprintf("1.0.%d", len(p.vers))
		}
	}
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now
	}
	if v.UpdatedAt.IsZero() {
		v.UpdatedAt = v.CreatedAt
	}
	v.CreatedAt = v.CreatedAt.UTC()
	v.UpdatedAt = v.UpdatedAt.UTC()
	if p.typ == "container" {
		v.Tags = slices.Clone(v.Tags)
		if v.Tags == nil {
			v.Tags = []string{}
		}
	} else {
		v.Tags = []string{}
	}
	v.DeletedAt = time.Time{}
	ver := &version{Version: v, pkg: p}
	s.versions[v.ID] = ver
	if n := len(p.vers); n > 0 && ver.less(p.vers[n-1]) {
		p.unsorted = true
	}
	p.vers = append(p.vers, ver)
	p.stale = true
	p.activate(ver)
	if v.UpdatedAt.After(p.updatedAt) {
		p.updatedAt = v.UpdatedAt
	}
	return v
}

// MoveTag gives tag to the active container version named digest and
// takes it from any other version of the package, as ghcr.io does when a
// tag is pushed again or set on an existing manifest (`crane tag
// app@sha256:<old> hotfix`, `docker buildx imagetools create -t`): a tag
// names one manifest. It panics if no active version has that name.
func (s *Server) MoveTag(owner, typ, name, tag, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPackage(owner, typ, name)
	var target *version
	for _, v := range p.vers {
		if !v.DeletedAt.IsZero() {
			continue
		}
		if v.Name == digest {
			target = v
		}
	}
	if target == nil {
		panic(fmt.Sprintf("fakegh: no active version %s in %s/%s", digest, owner, name))
	}
	for _, v := range p.vers {
		v.Tags = slices.DeleteFunc(slices.Clone(v.Tags), func(t string) bool { return t == tag })
	}
	target.Tags = append(target.Tags, tag)
	slices.Sort(target.Tags)
}

// SetForbidden makes every mutating request (DELETE, restore) on the
// package answer 403 "Resource not accessible by integration", as GitHub
// does for a GITHUB_TOKEN without admin access to the package; reads still
// work. forbidden=false lifts it.
func (s *Server) SetForbidden(owner, typ, name string, forbidden bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustPackage(owner, typ, name).forbidden = forbidden
}

// FailPage makes page `page` (counted as the client asks for it, in either
// state) of the package's version listing answer 500 the next `times`
// times it is requested; times < 0 fails it always, times = 0 lifts it.
func (s *Server) FailPage(owner, typ, name string, page, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPackage(owner, typ, name)
	if times == 0 {
		delete(p.failPages, page)
		return
	}
	p.failPages[page] = times
}

// routeFault is what FailRoute set for one endpoint.
type routeFault struct {
	status int
	times  int // < 0: always
}

// FailRoute makes the endpoint route, named as in Request.Route ("GET
// /orgs/{org}/packages/{package_type}/{package_name}"), answer status the
// next times times it is reached, whoever the owner or package; times < 0
// fails it always, times = 0 lifts it. The answer carries GitHub's message
// for the status: 400 "Invalid argument.", 403 "Resource not accessible by
// integration", 404 "Not Found", 5xx "Server Error" (as GitHub's front end
// answers: no rate-limit headers, no budget used).
func (s *Server) FailRoute(route string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failRoutes == nil {
		s.failRoutes = map[string]*routeFault{}
	}
	if times == 0 {
		delete(s.failRoutes, route)
		return
	}
	s.failRoutes[route] = &routeFault{status: status, times: times}
}

// routeFailure answers c as FailRoute said, or returns nil; it runs
// under s.mu.
func (s *Server) routeFailure(c *call) *reply {
	if c.route == nil {
		return nil
	}
	f := s.failRoutes[c.route.name]
	if f == nil {
		return nil
	}
	if f.times > 0 {
		f.times--
		if f.times == 0 {
			delete(s.failRoutes, c.route.name)
		}
	}
	switch {
	case f.status == http.StatusBadRequest:
		return errReply(f.status, msgInvalidArgument, docsPackages)
	case f.status == http.StatusForbidden:
		return errReply(f.status, msgNotAccessible, docsPackages)
	case f.status == http.StatusNotFound:
		return errReply(f.status, msgNotFound, docsPackages)
	case f.status >= 500:
		return errReply(f.status, msgServerError, docsREST)
	}
	return errReply(f.status, http.StatusText(f.status), docsREST)
}

func (s *Server) mustAccount(login string) *account {
	a := s.accounts[strings.ToLower(login)]
	if a == nil {
		panic(fmt.Sprintf("fakegh: unknown owner %q", login))
	}
	return a
}

func (s *Server) mustPackage(owner, typ, name string) *pkg {
	p := s.mustAccount(owner).packages[typ+"/"+name]
	if p == nil || p.deleted {
		panic(fmt.Sprintf("fakegh: unknown package %s %q of %s", typ, name, owner))
	}
	return p
}

// Active returns the package's active versions, newest first, or nil when
// the package is unknown or deleted.
func (s *Server) Active(owner, typ, name string) []Version {
	return s.inState(owner, typ, name, stateActive)
}

// Deleted returns the package's deleted versions that can still be
// restored (deleted less than RestoreWindow ago), newest first.
func (s *Server) Deleted(owner, typ, name string) []Version {
	return s.inState(owner, typ, name, stateDeleted)
}

func (s *Server) inState(owner, typ, name string, st state) []Version {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[strings.ToLower(owner)]
	if a == nil {
		return nil
	}
	p := a.packages[typ+"/"+name]
	if p == nil || p.deleted {
		return nil
	}
	p.purge(s.clock.Now())
	total := p.count(st)
	out := make([]Version, 0, total)
	for _, v := range p.page(st, 0, total) {
		out = append(out, v.copy())
	}
	return out
}

// Requests returns every request received since New or ResetLog, in the
// order they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// CountRequests returns how many requests with that method arrived ("" for
// all of them).
func (s *Server) CountRequests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if method == "" || r.Method == method {
			n++
		}
	}
	return n
}

// CountRoute returns how many requests reached an endpoint, named as in
// Request.Route ("GET /orgs/{org}/packages/{package_type}/{package_name}/versions").
func (s *Server) CountRoute(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Route == route {
			n++
		}
	}
	return n
}

// Mutations returns how many mutating requests (any method but GET and
// HEAD) arrived, whatever their answer.
func (s *Server) Mutations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if mutating(r.Method) {
			n++
		}
	}
	return n
}

// MaxInFlight returns the largest number of requests in flight at once.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

// MaxMutationsInFlight returns the largest number of mutating requests in
// flight at once (GitHub asks for 1).
func (s *Server) MaxMutationsInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxMut
}

// Violations returns what clients did that GitHub asks them not to, one
// line each, in order:
//   - a request sent while a secondary limit, or an exhausted primary
//     limit the client had been refused for, told it to wait;
//   - more requests in flight than SecondaryLimit.MaxConcurrent;
//   - a mutating request sent while another was in flight;
//   - a DELETE of a whole package (performed all the same);
//   - a request to an endpoint that does not exist (such as a package name
//     with "/" not escaped).
//
// Because a client listing pages concurrently may send a few GETs before
// it reads the refusal of another, the GETs that arrive right after a new
// block are forgiven, up to the largest number of GETs seen in flight at
// once minus one; mutating requests never are.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// ResetLog forgets the requests, violations and in-flight maxima recorded
// so far (state, rate limits and blocks are kept).
func (s *Server) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
	s.violations = nil
	s.logGen++
	s.maxInFlight = s.inFlight
	s.maxGets = s.getsInFlight
	s.maxMut = s.mutInFlight
}

func validType(t string) bool { return slices.Contains(PackageTypes, t) }

func mutating(method string) bool { return method != "GET" && method != "HEAD" }
