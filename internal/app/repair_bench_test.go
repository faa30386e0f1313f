package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/internal/fakeregistry"
)

// BenchmarkRepair1000Versions100Broken runs the action with repair on a
// package of 1,000 active versions (220 multi-arch images: an index, two
// platform manifests and their two buildx attestation manifests), 100 of
// whose images miss a platform manifest another tool deleted 3 days ago.
// It reports the GitHub requests of the run, the restores among them, the
// manifest requests to the registry, and the time the run spends paced on the fake clock
// (restores at the default 60 a minute); ns/op is this program's own time
// over loopback HTTP.
func BenchmarkRepair1000Versions100Broken(b *testing.B) {
	const images, broken = 220, 100
	var ghRequests, restores, regRequests int
	var paced time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := newRegistryWorld(b, "private")
		var idx []fakeregistry.Pushed
		for k := range images {
			p, err := w.reg.PushIndex(w.repo, fakeregistry.IndexOptions{Tags: []string{fmt.Sprintf("v1.%d.0", k)}, Platforms: []string{"linux/amd64", "linux/arm64"}, Attestations: true})
			if err != nil {
				b.Fatal(err)
			}
			idx = append(idx, p)
		}
		for _, m := range w.reg.Manifests(w.repo) {
			w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: m.Digest, Tags: m.Tags, CreatedAt: epoch.Add(-time.Hour)})
		}
		for k := range broken {
			w.otherToolDeletes(b, platformOf(b, idx[k]))
		}
		w.clk.Advance(3 * 24 * time.Hour)
		if n := len(w.gh.Active("acme", "container", "app")); n != images*5-broken {
			b.Fatalf("%d active versions, want %d", n, images*5-broken)
		}
		w.gh.ResetLog()
		w.reg.ResetCounts()
		r := newRunner(b, w.srv.URL, map[string]string{
			"package-type": "container", "packages": "app", "registry-url": w.reg.URL(),
			"tag-state": "untagged", "older-than": "7d", "repair": "true",
		})
		r.clock = w.clk
		start := w.clk.Now()
		b.StartTimer()
		r.run(b)
		b.StopTimer()
		if r.code != ExitOK || r.outputs[outBroken] != "100" || strings.Contains(r.stdoutText, "::warning::") {
			b.Fatalf("exit %d, broken-count %q\n%s", r.code, r.outputs[outBroken], r.stdoutText)
		}
		ghRequests = len(w.gh.Requests())
		restores = w.countRequests("POST", "/restore")
		c := w.reg.Counts()
		regRequests = c.ManifestGetByDigest + c.ManifestGetByTag + c.ManifestHeadByDigest + c.ManifestHeadByTag
		paced = w.clk.Now().Sub(start)
		if restores != broken {
			b.Fatalf("%d restores, want %d", restores, broken)
		}
	}
	b.ReportMetric(float64(ghRequests), "github-requests")
	b.ReportMetric(float64(restores), "restores")
	b.ReportMetric(float64(regRequests), "manifest-requests")
	b.ReportMetric(paced.Seconds(), "paced-s")
}
