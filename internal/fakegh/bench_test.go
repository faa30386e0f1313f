package fakegh

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// bigFake serves one container package with n versions over loopback;
// when deleteEvery > 0, every deleteEvery-th version is deleted.
func bigFake(b *testing.B, n, deleteEvery int) (*Server, *httptest.Server) {
	b.Helper()
	s := New(WithRateLimit(RateLimit{Limit: 1 << 30}))
	s.AddOrg("acme")
	s.AddPackage("acme", "container", "app", "private")
	s.AddVersions("acme", "container", "app", n, func(i int) Version {
		if i%10 == 0 {
			return Version{Tags: []string{fmt.Sprintf("v%d", i)}}
		}
		return Version{}
	})
	if deleteEvery > 0 {
		s.mu.Lock()
		p := s.accounts["acme"].packages["container/app"]
		p.index()
		for i, v := range p.vers {
			if i%deleteEvery == 0 {
				p.remove(v, start)
			}
		}
		s.mu.Unlock()
	}
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	return s, srv
}

func get(b *testing.B, c *http.Client, url string) {
	res, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", url, res.StatusCode)
	}
}

// BenchmarkListAllVersions lists every page of a 100,000-version package
// (per_page=100, one page after the other) with a plain http.Client over
// loopback.
func BenchmarkListAllVersions(b *testing.B) {
	const n = 100_000
	_, srv := bigFake(b, n, 0)
	c := &http.Client{}
	b.ResetTimer()
	for b.Loop() {
		for page := 1; page <= n/100; page++ {
			get(b, c, fmt.Sprintf("%s/orgs/acme/packages/container/app/versions?per_page=100&page=%d", srv.URL, page))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "versions/s")
}

// BenchmarkListPage serves one page of 100 versions: its cost must not
// depend on the package's size, the page's position, or deletions.
func BenchmarkListPage(b *testing.B) {
	for _, bc := range []struct {
		versions, deleteEvery, page int
	}{
		{1_000, 0, 1},
		{100_000, 0, 1},
		{100_000, 0, 1000},
		{100_000, 2, 500},
	} {
		name := fmt.Sprintf("versions=%d/deleted=%d/page=%d", bc.versions, 0, bc.page)
		if bc.deleteEvery > 0 {
			name = fmt.Sprintf("versions=%d/deleted=%d/page=%d", bc.versions, bc.versions/bc.deleteEvery, bc.page)
		}
		b.Run(name, func(b *testing.B) {
			_, srv := bigFake(b, bc.versions, bc.deleteEvery)
			c := &http.Client{}
			url := fmt.Sprintf("%s/orgs/acme/packages/container/app/versions?per_page=100&page=%d", srv.URL, bc.page)
			get(b, c, url) // build the index outside the timing
			b.ResetTimer()
			for b.Loop() {
				get(b, c, url)
			}
		})
	}
}

// BenchmarkAddVersions seeds a 100,000-version package and lists its first
// page (which builds the index).
func BenchmarkAddVersions(b *testing.B) {
	for b.Loop() {
		s := New()
		s.AddOrg("acme")
		s.AddPackage("acme", "container", "app", "private")
		s.AddVersions("acme", "container", "app", 100_000, nil)
		s.mu.Lock()
		s.accounts["acme"].packages["container/app"].page(stateActive, 0, 100)
		s.mu.Unlock()
	}
}
