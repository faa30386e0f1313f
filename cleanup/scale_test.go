package cleanup_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// scaleWorld is a fake API on loopback holding packages of n versions each.
func scaleWorld(b *testing.B, packages, n int) (*fakegh.Server, *httptest.Server, *clock.Fake) {
	b.Helper()
	clk := clock.NewFake(epoch)
	gh := fakegh.New(fakegh.WithClock(clk), fakegh.WithRateLimit(fakegh.RateLimit{Limit: 1 << 30}))
	gh.AddOrg("acme")
	for p := 0; p < packages; p++ {
		name := fmt.Sprintf("pkg-%02d", p)
		gh.AddPackage("acme", "npm", name, "private")
		gh.AddVersions("acme", "npm", name, n, func(i int) fakegh.Version {
			at := epoch.Add(-time.Duration(n-i) * time.Minute)
			return fakegh.Version{Name: fmt.Sprintf("1.%d.%d", i/1000, i%1000), CreatedAt: at, UpdatedAt: at}
		})
	}
	srv := httptest.NewServer(gh)
	b.Cleanup(srv.Close)
	return gh, srv, clk
}

// BenchmarkListVersions100kFakeAPI lists one package of 100,000 versions
// (1,000 pages) over loopback HTTP through the real client: pages after
// the first are fetched concurrently.
func BenchmarkListVersions100kFakeAPI(b *testing.B) {
	gh, srv, clk := scaleWorld(b, 1, 100_000)
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{BaseURL: srv.URL, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	pkg := ghapi.Package{Owner: ghapi.Owner{Login: "acme", Kind: ghapi.Organization}, Type: policy.Npm, Name: "pkg-00"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		vs, err := api.ListVersions(context.Background(), pkg, "active")
		if err != nil || len(vs) != 100_000 {
			b.Fatalf("listed %d versions, err %v", len(vs), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(gh.CountRequests("GET"))/float64(b.N), "requests/op")
}

// benchmarkDryRun lists and plans every package through Run (a dry run:
// the plan is the product) and reports the heap the finished plan holds.
func benchmarkDryRun(b *testing.B, packages, n int) {
	_, srv, clk := scaleWorld(b, packages, n)
	api, err := ghapi.NewGitHub(ghapi.GitHubOptions{BaseURL: srv.URL, Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	p, err := policy.Parse(policy.Inputs{Values: map[string]string{"package-type": "npm", "packages": "*", "keep-latest": "100", "older-than": "30d", "dry-run": "true"}, DefaultOwner: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	var plan *policy.Plan
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan, err = cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: api, Clock: clk})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if got := plan.Totals().Versions; got != packages*n {
		b.Fatalf("planned %d versions, want %d", got, packages*n)
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(plan)
}

// BenchmarkDryRun100k: one package of 100,000 versions.
func BenchmarkDryRun100k(b *testing.B) { benchmarkDryRun(b, 1, 100_000) }

// BenchmarkDryRun10x20k: ten packages of 20,000 versions each.
func BenchmarkDryRun10x20k(b *testing.B) { benchmarkDryRun(b, 10, 20_000) }
