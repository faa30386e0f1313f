package cleanup

import (
	"context"
	"errors"
	"time"

	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/policy"
)

// Logger is where a run writes its log: *githubactions.Action satisfies it,
// so lines grouped per package become ::group:: blocks on a runner.
type Logger interface {
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
	Group(title string)
	EndGroup()
}

// Config is everything a run needs.
type Config struct {
	Policy *policy.Policy
	API    API
	// Containers reads image structure from the registry and verifies
	// kept images after a run. Nil: no registry reads (every container
	// version is its own root).
	Containers Containers
	Clock      clock.Clock
	// DeletesPerMinute paces DELETE requests (evenly spaced, serial).
	DeletesPerMinute int
	// Verify runs the post-run check on touched container packages after a
	// real run.
	Verify bool
	Log    Logger
	// ProgressEvery is the interval of progress lines on long runs.
	ProgressEvery time.Duration
}

// Containers is what a run needs from the container registry.
type Containers interface {
	Structure(ctx context.Context, owner, pkgName string, versions []policy.Version) (*policy.Structure, error)
	Verify(ctx context.Context, owner, pkgName string, keptTags, keptIndexes []string) ([]string, error)
}

// DefaultDeletesPerMinute is the default pacing of DELETE requests.
const DefaultDeletesPerMinute = 60

// Run lists, plans and executes (or dry-runs) the policy. The returned plan
// carries every decision and, after a real run, every result. The error is
// non-nil only when the run could not go on at all (context cancelled);
// failures of single packages or versions are recorded in the plan.
func Run(ctx context.Context, cfg Config) (*policy.Plan, error) {
	return nil, errors.New("not implemented")
}

// Restore restores every version the plan's run deleted, members before
// their roots, and returns the plan with restore results.
func Restore(ctx context.Context, cfg Config, from *policy.Plan) (*policy.Plan, error) {
	return nil, errors.New("not implemented")
}
