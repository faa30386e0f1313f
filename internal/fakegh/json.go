package fakegh

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// The JSON shapes below follow the schemas of GitHub's OpenAPI description
// (package, package-version, simple-user, minimal-repository,
// public-user, private-user, organization-full); contract_test.go checks
// them against testdata/openapi/packages.json.

const webBase = "https://github.com"

type jsonPackage struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	PackageType  string      `json:"package_type"`
	Owner        *simpleUser `json:"owner"`
	VersionCount int         `json:"version_count"`
	Visibility   string      `json:"visibility"`
	URL          string      `json:"url"`
	CreatedAt    string      `json:"created_at"`
	UpdatedAt    string      `json:"updated_at"`
	Repository   any         `json:"repository,omitempty"`
	HTMLURL      string      `json:"html_url"`
}

type jsonVersion struct {
	ID             int64        `json:"id"`
	Name           string       `json:"name"`
	URL            string       `json:"url"`
	PackageHTMLURL string       `json:"package_html_url"`
	CreatedAt      string       `json:"created_at"`
	UpdatedAt      string       `json:"updated_at"`
	DeletedAt      string       `json:"deleted_at,omitempty"`
	HTMLURL        string       `json:"html_url"`
	Metadata       jsonMetadata `json:"metadata"`
}

type jsonMetadata struct {
	PackageType string         `json:"package_type"`
	Container   *jsonContainer `json:"container,omitempty"`
}

type jsonContainer struct {
	Tags []string `json:"tags"`
}

type simpleUser struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	UserViewType      string `json:"user_view_type"`
	SiteAdmin         bool   `json:"site_admin"`
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func kind(a *account) string {
	if a.org {
		return "Organization"
	}
	return "User"
}

// ownerPath is the API path of an owner's packages: /orgs/{org} or
// /users/{username} (also for the authenticated user, as GitHub does).
func ownerPath(a *account) string {
	if a.org {
		return "/orgs/" + url.PathEscape(a.login)
	}
	return "/users/" + url.PathEscape(a.login)
}

func (c *call) simpleUser(a *account) *simpleUser {
	api := c.base() + "/users/" + url.PathEscape(a.login)
	return &simpleUser{
		Login:             a.login,
		ID:                a.id,
		NodeID:            nodeID(a),
		AvatarURL:         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.id),
		GravatarID:        "",
		URL:               api,
		HTMLURL:           webBase + "/" + url.PathEscape(a.login),
		FollowersURL:      api + "/followers",
		FollowingURL:      api + "/following{/other_user}",
		GistsURL:          api + "/gists{/gist_id}",
		StarredURL:        api + "/starred{/owner}{/repo}",
		SubscriptionsURL:  api + "/subscriptions",
		OrganizationsURL:  api + "/orgs",
		ReposURL:          api + "/repos",
		EventsURL:         api + "/events{/privacy}",
		ReceivedEventsURL: api + "/received_events",
		Type:              kind(a),
		UserViewType:      "public",
		SiteAdmin:         false,
	}
}

func nodeID(a *account) string {
	if a.org {
		return fmt.Sprintf("O_fake%d", a.id)
	}
	return fmt.Sprintf("U_fake%d", a.id)
}

// webPackage is the package's page on github.com.
func webPackage(p *pkg) string {
	scope := "users"
	if p.owner.org {
		scope = "orgs"
	}
	return fmt.Sprintf("%s/%s/%s/packages/%s/package/%s", webBase, scope, url.PathEscape(p.owner.login), p.typ, url.PathEscape(p.name))
}

func (c *call) packageAPI(p *pkg) string {
	return c.base() + ownerPath(p.owner) + "/packages/" + p.typ + "/" + url.PathEscape(p.name)
}

func (c *call) packageJSON(p *pkg) jsonPackage {
	j := jsonPackage{
		ID:           p.id,
		Name:         p.name,
		PackageType:  p.typ,
		Owner:        c.simpleUser(p.owner),
		VersionCount: p.nActive,
		Visibility:   p.visibility,
		URL:          c.packageAPI(p),
		CreatedAt:    ts(p.createdAt),
		UpdatedAt:    ts(p.updatedAt),
		HTMLURL:      webPackage(p),
	}
	if p.repo != "" {
		j.Repository = c.repositoryJSON(p)
	}
	return j
}

// versionURLs holds the addresses every version of a package shares.
type versionURLs struct{ api, web string }

func (c *call) versionURLs(p *pkg) versionURLs {
	return versionURLs{api: c.packageAPI(p) + "/versions/", web: webPackage(p)}
}

func versionJSON(p *pkg, v *version, u versionURLs) jsonVersion {
	id := strconv.FormatInt(v.ID, 10)
	j := jsonVersion{
		ID:             v.ID,
		Name:           v.Name,
		URL:            u.api + id,
		PackageHTMLURL: u.web,
		CreatedAt:      ts(v.CreatedAt),
		UpdatedAt:      ts(v.UpdatedAt),
		HTMLURL:        u.web + "/" + id,
		Metadata:       jsonMetadata{PackageType: p.typ},
	}
	if !v.DeletedAt.IsZero() {
		j.DeletedAt = ts(v.DeletedAt)
	}
	if p.typ == "container" {
		j.Metadata.Container = &jsonContainer{Tags: v.Tags}
	}
	return j
}

// repositoryJSON is the minimal-repository object of a linked package.
func (c *call) repositoryJSON(p *pkg) map[string]any {
	full := p.owner.login + "/" + p.repo
	api := c.base() + "/repos/" + full
	m := map[string]any{
		"id":          p.repoID,
		"node_id":     fmt.Sprintf("R_fake%d", p.repoID),
		"name":        p.repo,
		"full_name":   full,
		"owner":       c.simpleUser(p.owner),
		"private":     p.visibility != "public",
		"visibility":  p.visibility,
		"html_url":    webBase + "/" + full,
		"description": nil,
		"fork":        false,
		"url":         api,
	}
	for k, v := range map[string]string{
		"archive_url":       "/{archive_format}{/ref}",
		"assignees_url":     "/assignees{/user}",
		"blobs_url":         "/git/blobs{/sha}",
		"branches_url":      "/branches{/branch}",
		"collaborators_url": "/collaborators{/collaborator}",
		"comments_url":      "/comments{/number}",
		"commits_url":       "/commits{/sha}",
		"compare_url":       "/compare/{base}...{head}",
		"contents_url":      "/contents/{+path}",
		"contributors_url":  "/contributors",
		"deployments_url":   "/deployments",
		"downloads_url":     "/downloads",
		"events_url":        "/events",
		"forks_url":         "/forks",
		"git_commits_url":   "/git/commits{/sha}",
		"git_refs_url":      "/git/refs{/sha}",
		"git_tags_url":      "/git/tags{/sha}",
		"hooks_url":         "/hooks",
		"issue_comment_url": "/issues/comments{/number}",
		"issue_events_url":  "/issues/events{/number}",
		"issues_url":        "/issues{/number}",
		"keys_url":          "/keys{/key_id}",
		"labels_url":        "/labels{/name}",
		"languages_url":     "/languages",
		"merges_url":        "/merges",
		"milestones_url":    "/milestones{/number}",
		"notifications_url": "/notifications{?since,all,participating}",
		"pulls_url":         "/pulls{/number}",
		"releases_url":      "/releases{/id}",
		"stargazers_url":    "/stargazers",
		"statuses_url":      "/statuses/{sha}",
		"subscribers_url":   "/subscribers",
		"subscription_url":  "/subscription",
		"tags_url":          "/tags",
		"teams_url":         "/teams",
		"trees_url":         "/git/trees{/sha}",
	} {
		m[k] = api + v
	}
	return m
}

// userJSON is the public-user object of GET /users/{username}, or with
// private the private-user object of GET /user.
func (c *call) userJSON(a *account, private bool) map[string]any {
	su := c.simpleUser(a)
	m := map[string]any{
		"login":               su.Login,
		"id":                  su.ID,
		"node_id":             su.NodeID,
		"avatar_url":          su.AvatarURL,
		"gravatar_id":         su.GravatarID,
		"url":                 su.URL,
		"html_url":            su.HTMLURL,
		"followers_url":       su.FollowersURL,
		"following_url":       su.FollowingURL,
		"gists_url":           su.GistsURL,
		"starred_url":         su.StarredURL,
		"subscriptions_url":   su.SubscriptionsURL,
		"organizations_url":   su.OrganizationsURL,
		"repos_url":           su.ReposURL,
		"events_url":          su.EventsURL,
		"received_events_url": su.ReceivedEventsURL,
		"type":                su.Type,
		"user_view_type":      su.UserViewType,
		"site_admin":          false,
		"name":                nil,
		"company":             nil,
		"blog":                "",
		"location":            nil,
		"email":               nil,
		"hireable":            nil,
		"bio":                 nil,
		"public_repos":        0,
		"public_gists":        0,
		"followers":           0,
		"following":           0,
		"created_at":          ts(a.createdAt),
		"updated_at":          ts(a.createdAt),
	}
	if private {
		m["private_gists"] = 0
		m["total_private_repos"] = 0
		m["owned_private_repos"] = 0
		m["disk_usage"] = 0
		m["collaborators"] = 0
		m["two_factor_authentication"] = true
	}
	return m
}

// orgJSON is the organization-full object of GET /orgs/{org}.
func (c *call) orgJSON(a *account) map[string]any {
	api := c.base() + "/orgs/" + url.PathEscape(a.login)
	return map[string]any{
		"login":                     a.login,
		"id":                        a.id,
		"node_id":                   nodeID(a),
		"url":                       api,
		"repos_url":                 api + "/repos",
		"events_url":                api + "/events",
		"hooks_url":                 api + "/hooks",
		"issues_url":                api + "/issues",
		"members_url":               api + "/members{/member}",
		"public_members_url":        api + "/public_members{/member}",
		"avatar_url":                fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", a.id),
		"description":               nil,
		"html_url":                  webBase + "/" + url.PathEscape(a.login),
		"has_organization_projects": true,
		"has_repository_projects":   true,
		"public_repos":              0,
		"public_gists":              0,
		"followers":                 0,
		"following":                 0,
		"type":                      "Organization",
		"created_at":                ts(a.createdAt),
		"updated_at":                ts(a.createdAt),
		"archived_at":               nil,
	}
}

// VersionJSON returns v in the package-version schema exactly as the fake
// serves it for the package typ/name of the organisation org: for a
// benchmark that serves pre-encoded pages, so that it measures the client
// and not the fake.
func VersionJSON(org, typ, name string, v Version) any {
	p := &pkg{owner: &account{login: org, org: true}, typ: typ, name: name}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	u := versionURLs{api: "https://api.github.com" + ownerPath(p.owner) + "/packages/" + typ + "/" + url.PathEscape(name) + "/versions/", web: webPackage(p)}
	return versionJSON(p, &version{Version: v, pkg: p}, u)
}
