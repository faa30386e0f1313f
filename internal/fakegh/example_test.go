package fakegh_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
)

// A fake organisation with one container package, listed and cleaned
// through go-github as the action does.
func Example() {
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	api := fakegh.New(fakegh.WithClock(clk))
	api.AddOrg("acme")
	api.AddPackage("acme", "container", "team/app", "public")
	api.AddVersions("acme", "container", "team/app", 250, func(i int) fakegh.Version {
		if i == 249 {
			return fakegh.Version{Tags: []string{"latest"}}
		}
		return fakegh.Version{}
	})
	srv := httptest.NewServer(api)
	defer srv.Close()

	gh := github.NewClient(srv.Client())
	gh.BaseURL, _ = url.Parse(srv.URL + "/")
	ctx := context.Background()
	opts := &github.PackageListOptions{ListOptions: github.ListOptions{PerPage: 100}}
	vs, resp, _ := gh.Organizations.PackageGetAllVersions(ctx, "acme", "container", "team/app", opts)
	fmt.Println("page 1:", len(vs), "versions, last page", resp.LastPage)

	_, err := gh.Organizations.PackageDeleteVersion(ctx, "acme", "container", "team/app", vs[0].GetID())
	fmt.Println("delete the only tagged version:", err.(*github.ErrorResponse).Message)
	_, err = gh.Organizations.PackageDeleteVersion(ctx, "acme", "container", "team/app", vs[1].GetID())
	fmt.Println("delete an untagged version:", err)

	fmt.Println("active:", len(api.Active("acme", "container", "team/app")),
		"requests:", api.CountRequests(""), "mutations:", api.Mutations(), "violations:", len(api.Violations()))
	// Output:
	// page 1: 100 versions, last page 3
	// delete the only tagged version: You cannot delete the last tagged version of a package. You must delete the package instead.
	// delete an untagged version: <nil>
	// active: 249 requests: 3 mutations: 2 violations: 0
}
