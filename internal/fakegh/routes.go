package fakegh

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type scope int

const (
	scopeNone scope = iota
	scopeOrg        // /orgs/{org}/...
	scopeUser       // /users/{username}/...
	scopeMe         // /user/...
)

// route is one endpoint, named as in GitHub's OpenAPI description.
type route struct {
	method  string
	pattern string // "/orgs/{org}/packages"
	name    string // "GET /orgs/{org}/packages"
	segs    []string
	scope   scope
	handle  func(*call) *reply
}

// routes is every endpoint the fake serves: the 24 package endpoints and
// the three owner lookups.
var routes = buildRoutes()

func buildRoutes() []*route {
	var rs []*route
	add := func(method, pattern string, sc scope, h func(*call) *reply) {
		rs = append(rs, &route{
			method: method, pattern: pattern, name: method + " " + pattern,
			segs: strings.Split(pattern, "/")[1:], scope: sc, handle: h,
		})
	}
	for _, sc := range []struct {
		prefix string
		scope  scope
	}{{"/orgs/{org}", scopeOrg}, {"/users/{username}", scopeUser}, {"/user", scopeMe}} {
		pkg := sc.prefix + "/packages/{package_type}/{package_name}"
		ver := pkg + "/versions/{package_version_id}"
		add("GET", sc.prefix+"/packages", sc.scope, (*call).listPackages)
		add("GET", pkg, sc.scope, (*call).getPackage)
		add("DELETE", pkg, sc.scope, (*call).deletePackage)
		add("POST", pkg+"/restore", sc.scope, (*call).restorePackage)
		add("GET", pkg+"/versions", sc.scope, (*call).listVersions)
		add("GET", ver, sc.scope, (*call).getVersion)
		add("DELETE", ver, sc.scope, (*call).deleteVersion)
		add("POST", ver+"/restore", sc.scope, (*call).restoreVersion)
	}
	add("GET", "/users/{username}", scopeNone, (*call).getUser)
	add("GET", "/user", scopeNone, (*call).getAuthenticatedUser)
	add("GET", "/orgs/{org}", scopeNone, (*call).getOrg)
	return rs
}

// match finds the route of an escaped path. Parameters are unescaped one
// segment at a time, so "team%2Fapp" is the package "team/app" while an
// unescaped "team/app" matches nothing, as on GitHub.
func (s *Server) match(method, escaped string) (*route, map[string]string) {
	rest, ok := strings.CutPrefix(escaped, s.basePath)
	if !ok || !strings.HasPrefix(rest, "/") {
		return nil, nil
	}
	segs := strings.Split(rest, "/")[1:]
next:
	for _, rt := range routes {
		if rt.method != method || len(rt.segs) != len(segs) {
			continue
		}
		var params map[string]string
		for i, want := range rt.segs {
			if name, ok := strings.CutPrefix(want, "{"); ok {
				v, err := url.PathUnescape(segs[i])
				if err != nil || v == "" {
					continue next
				}
				if params == nil {
					params = map[string]string{}
				}
				params[strings.TrimSuffix(name, "}")] = v
			} else if segs[i] != want {
				continue next
			}
		}
		return rt, params
	}
	return nil, nil
}

// call is one request being answered, under the server's lock.
type call struct {
	s      *Server
	r      *http.Request
	now    time.Time
	route  *route
	params map[string]string
	origin string // scheme://host of the request
}

// base is the API's base URL as the request reached it.
func (c *call) base() string { return c.origin + c.s.basePath }

// owner resolves the account of the request's scope.
func (c *call) owner() (*account, *reply) {
	switch c.route.scope {
	case scopeMe:
		if c.s.me == nil {
			return nil, errReply(http.StatusForbidden, msgNotAccessible, docsPackages)
		}
		return c.s.me, nil
	case scopeOrg:
		if a := c.s.accounts[strings.ToLower(c.params["org"])]; a != nil && a.org {
			return a, nil
		}
	case scopeUser:
		if a := c.s.accounts[strings.ToLower(c.params["username"])]; a != nil && !a.org {
			return a, nil
		}
	}
	return nil, errReply(http.StatusNotFound, msgNotFound, docsPackages)
}

// lookup resolves the package of the request, deleted ones included.
func (c *call) lookup() (*pkg, *reply) {
	a, rep := c.owner()
	if rep != nil {
		return nil, rep
	}
	typ := c.params["package_type"]
	if !validType(typ) {
		return nil, errReply(http.StatusNotFound, msgNotFound, docsPackages)
	}
	p := a.packages[typ+"/"+c.params["package_name"]]
	if p == nil || !c.reaches(p) {
		return nil, errReply(http.StatusNotFound, msgPackageNotFound, docsPackages)
	}
	return p, nil
}

// reaches reports whether the request's token may see p: always, but for
// an installation token under WithInstallationRepository, which sees only
// the packages linked to its repository.
func (c *call) reaches(p *pkg) bool {
	if c.s.installRepo == "" || !installationToken(c.r) {
		return true
	}
	return p.repo != "" && strings.ToLower(p.owner.login+"/"+p.repo) == c.s.installRepo
}

// pkg resolves the active package of the request.
func (c *call) pkg() (*pkg, *reply) {
	p, rep := c.lookup()
	if rep != nil {
		return nil, rep
	}
	if p.deleted {
		return nil, errReply(http.StatusNotFound, msgPackageNotFound, docsPackages)
	}
	return p, nil
}

// version resolves the version id of the request within p.
func (c *call) version(p *pkg) *version {
	id, err := strconv.ParseInt(c.params["package_version_id"], 10, 64)
	if err != nil {
		return nil
	}
	v := c.s.versions[id]
	if v == nil || v.pkg != p || v.state == statePurged {
		return nil
	}
	return v
}

// paging reads page and per_page as GitHub does: per_page defaults to 30
// and is capped at 100, page defaults to 1; values that are not positive
// integers are ignored.
func (c *call) paging() (page, perPage int) {
	q := c.r.URL.Query()
	page, perPage = 1, 30
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		page = min(n, 1_000_000_000) // far beyond any listing, and no overflow
	}
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	return page, perPage
}

// links builds GitHub's Link header for page of last: prev, next, last,
// first, in GitHub's order; none when everything fits on one page.
func (c *call) links(page, last int) http.Header {
	if last <= 1 && page <= 1 {
		return nil
	}
	q := c.r.URL.Query()
	link := func(n int, rel string) string {
		q.Set("page", strconv.Itoa(n))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", c.origin, c.r.URL.EscapedPath(), q.Encode(), rel)
	}
	var parts []string
	if page > 1 {
		parts = append(parts, link(page-1, "prev"))
	}
	if page < last {
		parts = append(parts, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		parts = append(parts, link(1, "first"))
	}
	return http.Header{"Link": {strings.Join(parts, ", ")}}
}

func lastPage(total, perPage int) int { return max((total+perPage-1)/perPage, 1) }

// listPackages lists an owner's packages of one type, by name. A page
// reaching beyond the 10,000th package answers 422, as observed on GitHub
// (its OpenAPI description documents 400).
//
// A workflow's GITHUB_TOKEN, an installation token (prefix ghs_), cannot
// list an organisation's container packages: GitHub answers
// 400 {"message":"Invalid argument."} while other package types, and a
// personal access token, list fine, and fetching a container package by
// name works. Observed, not documented:
// https://github.com/cli/cli/issues/9606,
// https://github.com/actions/github-script/issues/449,
// https://github.com/octokit/octokit.js/issues/2606.
func (c *call) listPackages() *reply {
	a, rep := c.owner()
	if rep != nil {
		return rep
	}
	q := c.r.URL.Query()
	typ := q.Get("package_type")
	if !validType(typ) {
		return errReply(http.StatusUnprocessableEntity,
			fmt.Sprintf("Invalid value %q for package_type: must be one of %s.", typ, strings.Join(PackageTypes, ", ")), docsPackages)
	}
	vis := q.Get("visibility")
	switch vis {
	case "", "public", "private", "internal":
	default:
		return errReply(http.StatusUnprocessableEntity,
			fmt.Sprintf("Invalid value %q for visibility: must be one of public, private, internal.", vis), docsPackages)
	}
	if c.route.scope == scopeOrg && typ == "container" && installationToken(c.r) {
		return errReply(http.StatusBadRequest, msgInvalidArgument, docsPackages)
	}
	page, perPage := c.paging()
	if page*perPage > 10000 {
		return errReply(http.StatusUnprocessableEntity, msgPageLimit, docsPackages)
	}
	var all []*pkg
	for _, p := range a.packages {
		if p.typ == typ && !p.deleted && (vis == "" || p.visibility == vis) && c.reaches(p) {
			all = append(all, p)
		}
	}
	slices.SortFunc(all, func(x, y *pkg) int { return cmp.Compare(x.name, y.name) })
	from := min((page-1)*perPage, len(all))
	body := make([]jsonPackage, 0, perPage)
	for _, p := range all[from:min(from+perPage, len(all))] {
		body = append(body, c.packageJSON(p))
	}
	return &reply{status: http.StatusOK, body: body, header: c.links(page, lastPage(len(all), perPage))}
}

func (c *call) getPackage() *reply {
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	return &reply{status: http.StatusOK, body: c.packageJSON(p)}
}

// deletePackage deletes a whole package: a violation (the action must
// never do it unasked), performed all the same.
func (c *call) deletePackage() *reply {
	c.s.violate(c.r, "deleted a whole package")
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	if p.forbidden {
		return errReply(http.StatusForbidden, msgNotAccessible, docsPackages)
	}
	p.deleted, p.deletedAt = true, c.now
	return &reply{status: http.StatusNoContent, hooks: c.hooks(p, c.s.onDelete)}
}

// restorePackage restores a package deleted less than RestoreWindow ago;
// any other package answers 404 "Package not found.".
func (c *call) restorePackage() *reply {
	p, rep := c.lookup()
	if rep != nil {
		return rep
	}
	if !p.deleted || c.now.Sub(p.deletedAt) >= RestoreWindow {
		return errReply(http.StatusNotFound, msgPackageNotFound, docsPackages)
	}
	if p.forbidden {
		return errReply(http.StatusForbidden, msgNotAccessible, docsPackages)
	}
	p.deleted, p.deletedAt = false, time.Time{}
	return &reply{status: http.StatusNoContent, hooks: c.hooks(p, c.s.onRestore)}
}

// hooks prepares fn's calls for every active version of p.
func (c *call) hooks(p *pkg, fn func(owner, typ, name string, v Version)) []func() {
	if fn == nil {
		return nil
	}
	vs := p.page(stateActive, 0, p.nActive)
	hs := make([]func(), 0, len(vs))
	for _, v := range vs {
		vc := v.copy()
		hs = append(hs, func() { fn(p.owner.login, p.typ, p.name, vc) })
	}
	return hs
}

func (c *call) listVersions() *reply {
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	st := stateActive
	switch s := c.r.URL.Query().Get("state"); s {
	case "", "active":
	case "deleted":
		st = stateDeleted
	default:
		return errReply(http.StatusUnprocessableEntity,
			fmt.Sprintf("Invalid value %q for state: must be one of active, deleted.", s), docsPackages)
	}
	page, perPage := c.paging()
	if n := p.failPages[page]; n != 0 {
		if n > 0 {
			p.failPages[page] = n - 1
			if n == 1 {
				delete(p.failPages, page)
			}
		}
		return errReply(http.StatusInternalServerError, msgServerError, docsREST)
	}
	p.purge(c.now)
	total := p.count(st)
	vs := p.page(st, (page-1)*perPage, perPage)
	body := make([]jsonVersion, len(vs))
	urls := c.versionURLs(p)
	for i, v := range vs {
		body[i] = versionJSON(p, v, urls)
	}
	return &reply{status: http.StatusOK, body: body, header: c.links(page, lastPage(total, perPage))}
}

// getVersion answers an active version, or a deleted one that can still
// be restored (with deleted_at).
func (c *call) getVersion() *reply {
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	p.purge(c.now)
	v := c.version(p)
	if v == nil {
		return errReply(http.StatusNotFound, msgVersionNotFound, docsPackages)
	}
	return &reply{status: http.StatusOK, body: versionJSON(p, v, c.versionURLs(p))}
}

// deleteVersion applies GitHub's refusals in this order: permission (403),
// existence (404), the 5,000-download rule (400), the last (tagged)
// version (400).
func (c *call) deleteVersion() *reply {
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	if p.forbidden {
		return errReply(http.StatusForbidden, msgNotAccessible, docsPackages)
	}
	v := c.version(p)
	if v == nil || v.state != stateActive {
		return errReply(http.StatusNotFound, msgVersionNotFound, docsPackages)
	}
	if p.visibility == "public" && v.Downloads > 5000 {
		return errReply(http.StatusBadRequest, msgDownloadRule, docsPackages)
	}
	if p.typ == "container" && len(v.Tags) > 0 && p.nActiveTagged == 1 {
		return errReply(http.StatusBadRequest, msgLastTagged, docsPackages)
	}
	if p.nActive == 1 {
		return errReply(http.StatusBadRequest, msgLastVersion, docsPackages)
	}
	p.remove(v, c.now)
	rep = &reply{status: http.StatusNoContent}
	if fn := c.s.onDelete; fn != nil {
		vc := v.copy()
		rep.hooks = []func(){func() { fn(p.owner.login, p.typ, p.name, vc) }}
	}
	if c.s.chance(c.s.faults.AmbiguousDeleteRate) {
		amb := errReply(http.StatusBadGateway, msgServerError, docsREST)
		amb.hooks = rep.hooks
		return amb
	}
	return rep
}

// restoreVersion restores a version deleted less than RestoreWindow ago.
// An active, purged or unknown version answers 404 "Package version not
// found." (only deleted versions can be restored). A version whose name or
// one of whose tags an active version now has answers 409 (GitHub
// documents the rule, not the answer; 409 is this fake's choice).
func (c *call) restoreVersion() *reply {
	p, rep := c.pkg()
	if rep != nil {
		return rep
	}
	if p.forbidden {
		return errReply(http.StatusForbidden, msgNotAccessible, docsPackages)
	}
	p.purge(c.now)
	v := c.version(p)
	if v == nil || v.state != stateDeleted {
		return errReply(http.StatusNotFound, msgVersionNotFound, docsPackages)
	}
	if p.conflict(v) {
		return errReply(http.StatusConflict, msgRestoreConflict, docsPackages)
	}
	p.restore(v)
	rep = &reply{status: http.StatusNoContent}
	if fn := c.s.onRestore; fn != nil {
		vc := v.copy()
		rep.hooks = []func(){func() { fn(p.owner.login, p.typ, p.name, vc) }}
	}
	return rep
}

// getUser answers GET /users/{username} for users and organisations alike
// (type "User" or "Organization"), which tells a client the owner's kind
// in one request.
func (c *call) getUser() *reply {
	a := c.s.accounts[strings.ToLower(c.params["username"])]
	if a == nil {
		return errReply(http.StatusNotFound, msgNotFound, "https://docs.github.com/rest/users/users#get-a-user")
	}
	return &reply{status: http.StatusOK, body: c.userJSON(a, false)}
}

func (c *call) getAuthenticatedUser() *reply {
	if c.s.me == nil {
		return errReply(http.StatusForbidden, msgNotAccessible, "https://docs.github.com/rest/users/users#get-the-authenticated-user")
	}
	return &reply{status: http.StatusOK, body: c.userJSON(c.s.me, true)}
}

func (c *call) getOrg() *reply {
	a := c.s.accounts[strings.ToLower(c.params["org"])]
	if a == nil || !a.org {
		return errReply(http.StatusNotFound, msgNotFound, "https://docs.github.com/rest/orgs/orgs#get-an-organization")
	}
	return &reply{status: http.StatusOK, body: c.orgJSON(a)}
}

// installationToken reports whether the request carries an installation
// token (prefix ghs_), such as a workflow's GITHUB_TOKEN, whatever the
// server's WithToken.
func installationToken(r *http.Request) bool {
	_, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.HasPrefix(strings.TrimSpace(tok), "ghs_")
}
