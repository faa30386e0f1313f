package fakegh

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// The contract test checks the fake against GitHub's OpenAPI description
// (testdata/openapi/packages.json, extracted from @octokit/openapi): every
// endpoint the fake serves is described there and every described endpoint
// is served, and every response the fake gives over HTTP, success and
// error alike, matches the schema documented for its status. Errors GitHub
// gives but does not document for an endpoint (the DELETE refusals, 422,
// rate limits, 5xx) must match the basic-error schema.

func TestContractRoutes(t *testing.T) {
	spec := loadSpec(t)
	var served []string
	for _, rt := range routes {
		served = append(served, rt.name)
	}
	slices.Sort(served)
	described := spec.operations()
	for _, op := range served {
		if !slices.Contains(described, op) {
			t.Errorf("the fake serves %s, which GitHub's OpenAPI description does not have", op)
		}
	}
	for _, op := range described {
		if !slices.Contains(served, op) {
			t.Errorf("GitHub's OpenAPI description has %s, which the fake does not serve", op)
		}
	}
	if len(described) != 27 {
		t.Errorf("the extract describes %d operations, want the 24 package endpoints and 3 owner lookups", len(described))
	}
}

// contractFake is a fake seeded with every kind of thing the endpoints can
// answer about.
func contractFake(t *testing.T) (*Server, *httptest.Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	s := New(WithClock(clk), WithToken("t0k"), WithAuthenticatedUser("me"))
	s.AddOrg("acme")
	s.AddUser("alice")
	for _, o := range []string{"acme", "alice", "me"} {
		s.AddPackage(o, "container", "team/app", "public")
		s.SetRepository(o, "container", "team/app", "app")
		s.AddVersion(o, "container", "team/app", Version{Tags: []string{"v1"}, CreatedAt: clk.Now().Add(-3 * time.Hour)})
		s.AddVersion(o, "container", "team/app", Version{Tags: []string{"v2", "latest"}, CreatedAt: clk.Now().Add(-2 * time.Hour)})
		s.AddVersion(o, "container", "team/app", Version{CreatedAt: clk.Now().Add(-time.Hour)})
		s.AddVersion(o, "container", "team/app", Version{Tags: []string{"popular"}, Downloads: 9000})
		s.AddPackage(o, "npm", "lib", "private")
		s.AddVersions(o, "npm", "lib", 3, nil)
		s.AddPackage(o, "maven", "doomed", "private")
		s.AddVersions(o, "maven", "doomed", 2, nil)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, clk
}

type contractCase struct {
	name   string
	method string
	path   string // escaped, with query
	route  string // the operation the request must reach, "" for none
	status int
	token  string // "" for the right one
}

func TestContractResponses(t *testing.T) {
	spec := loadSpec(t)
	s, srv, clk := contractFake(t)
	ids := func(owner, typ, name string) []int64 {
		var out []int64
		for _, v := range s.Active(owner, typ, name) {
			out = append(out, v.ID)
		}
		return out
	}

	var cases []contractCase
	for _, sc := range []struct{ prefix, pattern, owner string }{
		{"/orgs/acme", "/orgs/{org}", "acme"},
		{"/users/alice", "/users/{username}", "alice"},
		{"/user", "/user", "me"},
	} {
		app := ids(sc.owner, "container", "team/app") // newest first: popular, untagged, v2, v1
		lib := ids(sc.owner, "npm", "lib")            // 3 versions
		pkgP := sc.pattern + "/packages/{package_type}/{package_name}"
		verP := pkgP + "/versions/{package_version_id}"
		appURL := sc.prefix + "/packages/container/team%2Fapp"
		libURL := sc.prefix + "/packages/npm/lib"
		v := func(base string, id int64) string { return fmt.Sprintf("%s/versions/%d", base, id) }
		first := len(cases)
		cases = append(cases,
			contractCase{"list containers", "GET", sc.prefix + "/packages?package_type=container", "GET " + sc.pattern + "/packages", 200, ""},
			contractCase{"list npm, one per page", "GET", sc.prefix + "/packages?package_type=npm&per_page=1&page=1", "GET " + sc.pattern + "/packages", 200, ""},
			contractCase{"list bad type", "GET", sc.prefix + "/packages?package_type=pip", "GET " + sc.pattern + "/packages", 422, ""},
			contractCase{"list beyond 10000", "GET", sc.prefix + "/packages?package_type=npm&per_page=100&page=101", "GET " + sc.pattern + "/packages", 422, ""},
			contractCase{"bad credentials", "GET", sc.prefix + "/packages?package_type=npm", "GET " + sc.pattern + "/packages", 401, "wrong"},
			contractCase{"get linked package", "GET", appURL, "GET " + pkgP, 200, ""},
			contractCase{"get unlinked package", "GET", libURL, "GET " + pkgP, 200, ""},
			contractCase{"get unknown package", "GET", sc.prefix + "/packages/npm/nope", "GET " + pkgP, 404, ""},
			contractCase{"list versions", "GET", appURL + "/versions?per_page=2", "GET " + pkgP + "/versions", 200, ""},
			contractCase{"get tagged version", "GET", v(appURL, app[2]), "GET " + verP, 200, ""},
			contractCase{"get untagged version", "GET", v(appURL, app[1]), "GET " + verP, 200, ""},
			contractCase{"get npm version", "GET", v(libURL, lib[0]), "GET " + verP, 200, ""},
			contractCase{"get unknown version", "GET", v(libURL, 999999), "GET " + verP, 404, ""},
			contractCase{"delete downloaded version", "DELETE", v(appURL, app[0]), "DELETE " + verP, 400, ""},
			contractCase{"delete untagged version", "DELETE", v(appURL, app[1]), "DELETE " + verP, 204, ""},
			contractCase{"delete gone version", "DELETE", v(appURL, app[1]), "DELETE " + verP, 404, ""},
			contractCase{"get deleted version", "GET", v(appURL, app[1]), "GET " + verP, 200, ""},
			contractCase{"list deleted versions", "GET", appURL + "/versions?state=deleted", "GET " + pkgP + "/versions", 200, ""},
			contractCase{"restore version", "POST", v(appURL, app[1]) + "/restore", "POST " + verP + "/restore", 204, ""},
			contractCase{"restore active version", "POST", v(appURL, app[1]) + "/restore", "POST " + verP + "/restore", 404, ""},
			contractCase{"delete newest npm version", "DELETE", v(libURL, lib[0]), "DELETE " + verP, 204, ""},
			contractCase{"delete second npm version", "DELETE", v(libURL, lib[1]), "DELETE " + verP, 204, ""},
			contractCase{"delete last npm version", "DELETE", v(libURL, lib[2]), "DELETE " + verP, 400, ""},
			contractCase{"delete package", "DELETE", sc.prefix + "/packages/maven/doomed", "DELETE " + pkgP, 204, ""},
			contractCase{"get deleted package", "GET", sc.prefix + "/packages/maven/doomed", "GET " + pkgP, 404, ""},
			contractCase{"restore package", "POST", sc.prefix + "/packages/maven/doomed/restore", "POST " + pkgP + "/restore", 204, ""},
			contractCase{"restore active package", "POST", sc.prefix + "/packages/maven/doomed/restore", "POST " + pkgP + "/restore", 404, ""},
			contractCase{"unescaped name", "GET", sc.prefix + "/packages/container/team/app", "", 404, ""},
		)
		for i := first; i < len(cases); i++ {
			cases[i].name = sc.pattern + ": " + cases[i].name
		}
	}
	cases = append(cases,
		contractCase{"get org as user", "GET", "/users/acme", "GET /users/{username}", 200, ""},
		contractCase{"get user", "GET", "/users/alice", "GET /users/{username}", 200, ""},
		contractCase{"get unknown user", "GET", "/users/nobody", "GET /users/{username}", 404, ""},
		contractCase{"get authenticated user", "GET", "/user", "GET /user", 200, ""},
		contractCase{"get org", "GET", "/orgs/acme", "GET /orgs/{org}", 200, ""},
		contractCase{"get user as org", "GET", "/orgs/alice", "GET /orgs/{org}", 404, ""},
	)

	covered := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRequest(t, srv, tc.method, tc.path, tc.token)
			if res.StatusCode != tc.status {
				t.Fatalf("%s %s: status %d, want %d; body %s", tc.method, tc.path, res.StatusCode, tc.status, body)
			}
			reqs := s.Requests()
			if got := reqs[len(reqs)-1].Route; got != tc.route {
				t.Fatalf("%s %s reached route %q, want %q", tc.method, tc.path, got, tc.route)
			}
			if tc.route == "" {
				tc.route = "GET /users/{username}" // any operation: only its undocumented-error rule is used
			}
			checkAgainstSpec(t, spec, tc.route, res, body)
			if res.StatusCode < 300 {
				covered[tc.route] = true
			}
		})
	}

	// Rate-limit refusals are errors too.
	s.SetRateLimit(RateLimit{Limit: 1, Used: 1})
	res, body := doRequest(t, srv, "GET", "/orgs/acme/packages?package_type=npm", "")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("exhausted budget: status %d, want 403", res.StatusCode)
	}
	checkAgainstSpec(t, spec, "GET /orgs/{org}/packages", res, body)
	s.SetRateLimit(RateLimit{})
	s.SetSecondaryLimit(SecondaryLimit{Every: 1, RetryAfter: time.Minute, Status: 429})
	res, body = doRequest(t, srv, "DELETE", fmt.Sprintf("/orgs/acme/packages/container/team%%2Fapp/versions/%d", ids("acme", "container", "team/app")[1]), "")
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("secondary limit: status %d, want 429", res.StatusCode)
	}
	checkAgainstSpec(t, spec, "DELETE /orgs/{org}/packages/{package_type}/{package_name}/versions/{package_version_id}", res, body)
	clk.Advance(time.Minute)

	for _, op := range spec.operations() {
		if !covered[op] {
			t.Errorf("no successful response of %s was checked", op)
		}
	}
}

func doRequest(t *testing.T, srv *httptest.Server, method, path, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token == "" {
		token = "t0k"
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res, body
}

// checkAgainstSpec validates a response against the operation's
// documented response for its status, or against basic-error for an
// undocumented error status.
func checkAgainstSpec(t *testing.T, spec *apiSpec, opName string, res *http.Response, body []byte) {
	t.Helper()
	op := spec.operation(opName)
	if op == nil {
		t.Fatalf("%s is not in the OpenAPI description", opName)
	}
	status := fmt.Sprint(res.StatusCode)
	var schema any
	if doc, ok := op.Responses[status]; ok {
		media, hasBody := doc.Content["application/json"]
		if !hasBody {
			if len(body) != 0 {
				t.Fatalf("%s %s: documented without a body, got %q", opName, status, body)
			}
			return
		}
		schema = media.Schema
	} else {
		if res.StatusCode < 400 {
			t.Fatalf("%s: status %s is not documented", opName, status)
		}
		schema = map[string]any{"$ref": "#/components/schemas/basic-error"}
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want application/json", opName, status, ct)
	}
	v, err := decodeJSON(body)
	if err != nil {
		t.Fatalf("%s %s: body is not JSON: %v: %s", opName, status, err, body)
	}
	if errs := spec.validate(schema, v); len(errs) > 0 {
		t.Errorf("%s %s: body does not match GitHub's schema:\n  %s\nbody: %s", opName, status, strings.Join(errs, "\n  "), body)
	}
	if res.StatusCode >= 400 {
		if m, _ := v.(map[string]any); m == nil || m["message"] == nil {
			t.Errorf("%s %s: error without a message: %s", opName, status, body)
		}
	}
}

// TestValidatorRejects proves the contract test can fail: bodies broken in
// the ways a drifting fake would break them are rejected, and a schema
// keyword the validator does not know is reported.
func TestValidatorRejects(t *testing.T) {
	spec := loadSpec(t)
	_, srv, _ := contractFake(t)
	_, body := doRequest(t, srv, "GET", "/orgs/acme/packages/container/team%2Fapp/versions?per_page=1", "")
	list, err := decodeJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	good := list.([]any)[0].(map[string]any)
	versionSchema := map[string]any{"$ref": "#/components/schemas/package-version"}
	if errs := spec.validate(versionSchema, good); len(errs) > 0 {
		t.Fatalf("the fake's own version does not validate: %v", errs)
	}
	_, body = doRequest(t, srv, "GET", "/users/alice", "")
	user, _ := decodeJSON(body)
	userSchema := spec.Paths["/users/{username}"]["get"].Responses["200"].Content["application/json"].Schema

	broken := func(base any, edit func(m map[string]any)) any {
		b, _ := json.Marshal(base)
		c, _ := decodeJSON(b)
		edit(c.(map[string]any))
		return c
	}
	metadata := func(m map[string]any) map[string]any { return m["metadata"].(map[string]any) }
	cases := []struct {
		name   string
		schema any
		value  any
		want   string
	}{
		{"missing id", versionSchema, broken(good, func(m map[string]any) { delete(m, "id") }), `required property "id" is missing`},
		{"id not an integer", versionSchema, broken(good, func(m map[string]any) { m["id"] = json.Number("1.5") }), "number where integer is required"},
		{"id a string", versionSchema, broken(good, func(m map[string]any) { m["id"] = "1" }), "string where integer is required"},
		{"timestamp not a date-time", versionSchema, broken(good, func(m map[string]any) { m["created_at"] = "yesterday" }), "not a valid date-time"},
		{"name null", versionSchema, broken(good, func(m map[string]any) { m["name"] = nil }), "null where string is required"},
		{"unknown package type", versionSchema, broken(good, func(m map[string]any) { metadata(m)["package_type"] = "pip" }), "is not one of"},
		{"tags not an array", versionSchema, broken(good, func(m map[string]any) { metadata(m)["container"] = map[string]any{"tags": "v1"} }), "string where array is required"},
		{"tag not a string", versionSchema, broken(good, func(m map[string]any) { metadata(m)["container"] = map[string]any{"tags": []any{json.Number("1")}} }), "integer where string is required"},
		{"container without tags", versionSchema, broken(good, func(m map[string]any) { metadata(m)["container"] = map[string]any{} }), `required property "tags" is missing`},
		{"array for object", versionSchema, []any{good}, "array where object is required"},
		{"public user with a private field", userSchema, broken(user, func(m map[string]any) { m["two_factor_authentication"] = true }), "matches 0 of oneOf"},
		{"unknown keyword", map[string]any{"type": "string", "maxLength": 3}, "abcd", `schema keyword "maxLength" is not supported`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := spec.validate(tc.schema, tc.value)
			if len(errs) == 0 {
				t.Fatalf("validator accepted a broken body")
			}
			if joined := strings.Join(errs, "\n"); !strings.Contains(joined, tc.want) {
				t.Errorf("errors %q do not mention %q", joined, tc.want)
			}
		})
	}
}
