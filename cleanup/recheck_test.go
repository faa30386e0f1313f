package cleanup_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pkgretention/retention/cleanup"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakegh"
	"github.com/pkgretention/retention/policy"
)

// slowRegistry is a registry whose re-checks take a given time on the
// fake clock and find nothing in use.
type slowRegistry struct {
	clk    *clock.Fake
	take   time.Duration
	checks int
}

func (s *slowRegistry) Structure(context.Context, string, string, []policy.Version, map[int64]bool) (*policy.Structure, error) {
	return &policy.Structure{}, nil
}

func (s *slowRegistry) InUse(context.Context, string, string, map[string]string) (map[string]bool, error) {
	s.checks++
	s.clk.Advance(s.take)
	return nil, nil
}

func (s *slowRegistry) Verify(context.Context, string, string, []string, []string, []string) ([]string, error) {
	return nil, nil
}

// The re-check runs before a container package's first DELETE and then
// at least every cleanup.RecheckEvery; one that takes that long itself
// defers the package (the residual window would not hold).
func TestRecheckCadence(t *testing.T) {
	tests := []struct {
		name        string
		perMinute   int
		take        time.Duration
		wantChecks  int
		wantDeletes int
	}{
		// 10 DELETEs 1 s apart: one re-check covers them all.
		{name: "fast pace", perMinute: 60, take: 0, wantChecks: 1, wantDeletes: 10},
		// 10 DELETEs 20 s apart: a re-check before the 1st, 4th, 7th, 10th.
		{name: "slow pace", perMinute: 3, take: 0, wantChecks: 4, wantDeletes: 10},
		// 10 DELETEs 60 s apart: a re-check before each.
		{name: "one a minute", perMinute: 1, take: 0, wantChecks: 10, wantDeletes: 10},
		// A re-check of a full minute fails: nothing is deleted.
		{name: "re-check too slow", perMinute: 60, take: cleanup.RecheckEvery, wantChecks: 1, wantDeletes: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.gh.AddOrg("acme")
			w.gh.AddPackage("acme", "container", "app", "private")
			w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: "sha256:" + fmt.Sprintf("%064x", 999), Tags: []string{"v1"}, CreatedAt: epoch.Add(-time.Hour)})
			for i := range 10 {
				at := epoch.Add(-time.Duration(100-i) * 24 * time.Hour)
				w.gh.AddVersion("acme", "container", "app", fakegh.Version{Name: fmt.Sprintf("sha256:%064d", i), CreatedAt: at, UpdatedAt: at})
			}
			reg := &slowRegistry{clk: w.clk, take: tt.take}
			p := mustPolicy(t, map[string]string{"packages": "app", "tag-state": "untagged"})
			plan, err := cleanup.Run(context.Background(), cleanup.Config{Policy: p, API: w.api, Containers: reg, Clock: w.clk, DeletesPerMinute: tt.perMinute})
			if err != nil {
				t.Fatal(err)
			}
			if reg.checks != tt.wantChecks {
				t.Errorf("%d re-checks, want %d", reg.checks, tt.wantChecks)
			}
			if n := w.gh.Mutations(); n != tt.wantDeletes {
				t.Errorf("%d DELETEs, want %d", n, tt.wantDeletes)
			}
			for _, v := range plan.Packages[0].Versions {
				if v.Decision == policy.Delete && tt.wantDeletes == 0 && v.Result != policy.ResultDeferred {
					t.Errorf("%s: result %q, want deferred", v.Name, v.Result)
				}
			}
		})
	}
}
