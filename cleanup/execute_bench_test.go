package cleanup

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/policy"
)

// nullAPI answers every DELETE with success at once: the benchmark below
// measures the executor's own work, not HTTP.
type nullAPI struct{ API }

func (nullAPI) DeleteVersion(context.Context, ghapi.Package, int64) error { return nil }
func (nullAPI) Budget() ghapi.Budget                                      { return ghapi.Budget{} }

// BenchmarkExecute50kVersionsIn10kImages executes a plan deleting 10,000
// images of 5 versions each (an index, 3 platform manifests, a
// signature): executor overhead must stay linear in the versions.
func BenchmarkExecute50kVersionsIn10kImages(b *testing.B) {
	const images, per = 10_000, 5
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	build := func() *policy.Plan {
		pp := policy.PackagePlan{Owner: "acme", Type: policy.Container, Name: "app", Complete: true}
		for i := images - 1; i >= 0; i-- { // newest first
			at := base.Add(time.Duration(i) * time.Minute)
			root := fmt.Sprintf("sha256:%064d", i*per)
			pp.Versions = append(pp.Versions, policy.VersionPlan{ID: int64(i * per), Name: root, Tags: []string{fmt.Sprint("v", i)}, UpdatedAt: at, Decision: policy.Delete})
			for k := 1; k < per; k++ {
				pp.Versions = append(pp.Versions, policy.VersionPlan{ID: int64(i*per + k), Name: fmt.Sprintf("sha256:%064d", i*per+k), UpdatedAt: at, Decision: policy.Delete, Parents: []string{root}})
			}
		}
		return &policy.Plan{Packages: []policy.PackagePlan{pp}}
	}
	pkg := ghapi.Package{Owner: ghapi.Owner{Login: "acme", Kind: ghapi.Organization}, Type: policy.Container, Name: "app"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		plan := build()
		cfg := Config{API: nullAPI{}, Clock: clock.NewFake(base), DeletesPerMinute: 1000}
		cfg.defaults()
		ex := newExecutor(cfg, newProgress(cfg.Clock, cfg.Log, cfg.ProgressEvery), map[string]ghapi.Package{packageKey("acme", policy.Container, "app"): pkg})
		b.StartTimer()
		if err := ex.execute(context.Background(), plan); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := plan.Totals().Deleted; n != images*per {
			b.Fatalf("deleted %d, want %d", n, images*per)
		}
	}
}
