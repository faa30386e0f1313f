package cleanup

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pkgretention/retention/ghapi"
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
	// DeletesPerMinute paces DELETE (and restore) requests: serial, each
	// starting 60s/DeletesPerMinute after the previous one started.
	DeletesPerMinute int
	// Verify runs the post-run check on touched container packages after a
	// real run.
	Verify bool
	// Repair restores, before the policy is applied, the children that
	// broken images miss (repair.go).
	Repair bool
	Log    Logger
	// ProgressEvery is the interval of progress lines on long runs
	// (default 10 s).
	ProgressEvery time.Duration
	// PackageConcurrency bounds how many packages are listed at once
	// (default 4); pages within a package are bounded by the API client.
	PackageConcurrency int
	// ListResetWait is how long listing may wait for the primary budget's
	// reset (default 61 minutes: one window). Nothing is deleted on an
	// incomplete listing, so a backlog larger than one hour's budget is
	// listed across the reset; deletions never wait for it, they are
	// deferred to the next run.
	ListResetWait time.Duration
	// Journal, when set, records each DELETE as it is sent and as GitHub
	// answers it, so that a run killed before it writes its plan file can
	// be undone.
	Journal Journal
}

// Journal records a run's deletions as they happen.
type Journal interface {
	// Begin is called once, before the first DELETE of the run; an error
	// stops the run before anything is deleted.
	Begin(plan *policy.Plan) error
	// Record records v, a version of pp, twice: just before its DELETE is
	// sent (v.Result empty) and once GitHub answered it (v.Result set). It
	// returns once the record is on disk, so that a version deleted by a
	// run killed at any moment is in the journal: answered "deleted", or
	// sent with no answer. An error stops the run: what is left is
	// deferred.
	Record(pp *policy.PackagePlan, v *policy.VersionPlan) error
}

// Containers is what a run needs from the container registry.
type Containers interface {
	// Structure reads which versions of a container package belong to
	// which (index children, signatures, attestations): the manifests of
	// versions with tags of their own, and of the versions alsoRead names,
	// true for those the plan deletes. A 404 on one the plan deletes means
	// it is gone; on a kept one, its manifest is unreadable.
	Structure(ctx context.Context, owner, pkgName string, versions []policy.Version, alsoRead map[int64]bool) (*policy.Structure, error)
	// Verify checks that every kept tag still resolves and every child of
	// each kept index still exists, and returns the problems found. The
	// manifests in missingBefore were missing before the run (children of
	// broken images): they are not problems of this run.
	Verify(ctx context.Context, owner, pkgName string, keptTags, keptIndexes, missingBefore []string) ([]string, error)
	// InUse re-reads the package's tags from the registry (no API
	// budget) and returns the manifests in use that known (each tag's
	// digest at the listing) does not account for: what a tag new or moved
	// since points at, and what such an index lists. An error means the
	// re-check could not be made.
	InUse(ctx context.Context, owner, pkgName string, known map[string]string) (map[string]bool, error)
}

// DefaultDeletesPerMinute is the default pacing of DELETE requests: one a
// second, GitHub's advice for mutating requests and well under the
// secondary limit of about 180 DELETEs a minute (900 points, 5 each).
const DefaultDeletesPerMinute = 60

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.DeletesPerMinute <= 0 {
		c.DeletesPerMinute = DefaultDeletesPerMinute
	}
	if c.Log == nil {
		c.Log = nopLogger{}
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 10 * time.Second
	}
	if c.PackageConcurrency <= 0 {
		c.PackageConcurrency = 4
	}
	if c.ListResetWait <= 0 {
		c.ListResetWait = 61 * time.Minute
	}
}

// Run lists, plans and executes (or dry-runs) the policy. The returned plan
// carries every decision and, after a real run, every result. The error is
// non-nil only when the run could not go on at all (context cancelled). If
// that happens while repairing or deleting, the plan is returned too, with
// what was not done marked deferred; before the plan exists (while
// listing), the plan is nil.
// Failures of single packages or versions are recorded in the plan.
func Run(ctx context.Context, cfg Config) (*policy.Plan, error) {
	cfg.defaults()
	now := cfg.Clock.Now()
	prog := newProgress(cfg.Clock, cfg.Log, cfg.ProgressEvery)

	lctx := ghapi.WithPageHook(ghapi.WithResetWait(ctx, cfg.ListResetWait), prog.listed)
	inputs, pkgs, err := inventory(lctx, cfg, now)
	if err != nil {
		return nil, err
	}
	ex := newExecutor(cfg, prog, pkgs)
	var repairErr error
	if cfg.Repair {
		repairErr = repair(ctx, lctx, cfg, ex, inputs, pkgs, now)
	}
	plan := policy.Build(cfg.Policy, inputs, now)
	if plan == nil {
		return nil, fmt.Errorf("policy produced no plan")
	}
	if repairErr != nil {
		// Cancelled during repair: nothing is deleted, and the plan says
		// what was restored and what was left for the next run.
		for i := range plan.Packages {
			if plan.Packages[i].Complete {
				for _, g := range deletionGroups(&plan.Packages[i]) {
					markGroup(g, policy.ResultDeferred)
				}
			}
		}
		return plan, repairErr
	}
	warnAttachmentTags(cfg.Log, cfg.Policy, plan)
	for _, pp := range plan.Packages {
		what := fmt.Sprintf("%s package %s/%s", pp.Type, pp.Owner, pp.Name)
		if pp.Unresolved {
			what = fmt.Sprintf("%s packages %s/%s (name or pattern not resolved)", pp.Type, pp.Owner, pp.Name)
		}
		switch {
		case !pp.Complete && pp.Deferred:
			cfg.Log.Warningf("%s: %s", what, pp.Error)
		case !pp.Complete:
			cfg.Log.Errorf("%s: %s", what, pp.Error)
		}
	}
	if cfg.Policy.DryRun {
		logPlan(cfg.Log, plan)
		return plan, nil
	}
	err = ex.execute(ctx, plan)
	if err == nil && cfg.Verify && cfg.Containers != nil {
		verify(ctx, cfg, plan)
	}
	return plan, err
}

// cacheKeeper is a Containers with a manifest cache across runs: the
// entries of versions listed but not read this run are kept.
type cacheKeeper interface {
	KeepCached(versions []policy.Version)
}

// target is one (owner, package type) pair some rule covers.
type target struct {
	owner string
	typ   policy.PackageType
}

// inventory finds the owners and packages the policy covers and lists
// every version of every package, building the planner's input. The map
// it returns takes a package's key to the Package the API knows.
func inventory(ctx context.Context, cfg Config, now time.Time) ([]policy.PackageInput, map[string]ghapi.Package, error) {
	// Logins are case-insensitive: "Acme" and "acme" are one owner,
	// listed once.
	var targets []target
	seen := map[target]bool{}
	for _, r := range cfg.Policy.Rules {
		t := target{r.Owner, r.PackageType}
		key := target{strings.ToLower(r.Owner), r.PackageType}
		if !seen[key] {
			seen[key] = true
			targets = append(targets, t)
		}
	}

	owners := map[string]ghapi.Owner{} // by lower-case login
	ownerErr := map[string]error{}
	for _, t := range targets {
		key := strings.ToLower(t.owner)
		if _, done := owners[key]; done || ownerErr[key] != nil {
			continue
		}
		o, err := cfg.API.LookupOwner(ctx, t.owner)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			ownerErr[key] = err
			continue
		}
		owners[key] = o
	}

	var inputs []policy.PackageInput
	var jobs []resolveJob
	for _, t := range targets {
		if err := ownerErr[strings.ToLower(t.owner)]; err != nil {
			for _, pat := range resolvable(cfg.Policy, t) {
				inputs = append(inputs, unresolvedInput(t.owner, t.typ, pat, err))
			}
			continue
		}
		owner := owners[strings.ToLower(t.owner)]
		names, globs := literalNames(cfg.Policy, t), globPatterns(cfg.Policy, t)
		if len(globs) == 0 {
			// Names only: each is fetched by name, one request each,
			// which a workflow's GITHUB_TOKEN may do where listing an
			// organisation's container packages is refused.
			for _, name := range names {
				jobs = append(jobs, resolveJob{owner: owner, typ: t.typ, name: name})
			}
			continue
		}
		all, err := cfg.API.ListPackages(ctx, owner, t.typ)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			// The patterns cannot be resolved; the names still can be,
			// one by one.
			for _, pat := range globs {
				inputs = append(inputs, unresolvedInput(t.owner, t.typ, pat, err))
			}
			for _, name := range names {
				jobs = append(jobs, resolveJob{owner: owner, typ: t.typ, name: name})
			}
			continue
		}
		found := map[string]bool{}
		for _, p := range all {
			found[p.Name] = true
			if covered(cfg.Policy, t.owner, t.typ, p.Name) {
				jobs = append(jobs, resolveJob{pkg: p})
			}
		}
		for _, name := range names {
			if !found[name] {
				inputs = append(inputs, unresolvedInput(t.owner, t.typ, name, fmt.Errorf("%s package %q of %s not found (or the token cannot see it)", t.typ, name, t.owner)))
			}
		}
	}

	listed := make([]policy.PackageInput, len(jobs))
	found := make([]*ghapi.Package, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.PackageConcurrency)
	for i, j := range jobs {
		g.Go(func() error {
			p := j.pkg
			if j.name != "" {
				var err error
				p, err = cfg.API.GetPackage(gctx, j.owner, j.typ, j.name)
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err != nil {
					listed[i] = unresolvedInput(j.owner.Login, j.typ, j.name, err)
					return nil
				}
				if !covered(cfg.Policy, j.owner.Login, j.typ, p.Name) {
					// GitHub spelled the name otherwise (case): keep the
					// policy's spelling, which it answered to, so that the
					// rules cover the package.
					p.Name = j.name
				}
			}
			in := listPackage(gctx, cfg, p, now)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			listed[i], found[i] = in, &p
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	inputs = append(inputs, listed...)

	pkgs := make(map[string]ghapi.Package, len(jobs))
	for _, p := range found {
		if p != nil {
			pkgs[packageKey(p.Owner.Login, p.Type, p.Name)] = *p
		}
	}
	return inputs, pkgs, nil
}

// resolveJob is one package to list: known from a listing (pkg), or named
// literally (name) and fetched first.
type resolveJob struct {
	pkg   ghapi.Package
	owner ghapi.Owner
	typ   policy.PackageType
	name  string
}

// listPackage lists one package and, for containers whose plan could
// delete something, reads its structure from the registry.
func listPackage(ctx context.Context, cfg Config, p ghapi.Package, now time.Time) policy.PackageInput {
	in := policy.PackageInput{
		Owner:      p.Owner.Login,
		Type:       p.Type,
		Name:       p.Name,
		Visibility: p.Visibility,
		Complete:   true,
	}
	versions, err := cfg.API.ListVersions(ctx, p, "active")
	if err != nil {
		in.Complete = false
		in.Error = fmt.Sprintf("listing incomplete, nothing deleted: %v", err)
		if rateLimited(err) {
			in.Deferred = true
			in.Error = fmt.Sprintf("left for the next run, nothing deleted: GitHub's rate limit stopped the listing: %v", err)
		}
		return in
	}
	in.Versions = versions
	if p.Type != policy.Container || cfg.Containers == nil {
		return in
	}
	// Without the structure no image is broken, so a rule selecting
	// broken images deletes nothing in the preliminary plan: read it.
	if !cfg.Repair && !selectsBroken(cfg.Policy, p) && !deletesAny(planAlone(cfg.Policy, in, now)) {
		if k, ok := cfg.Containers.(cacheKeeper); ok {
			k.KeepCached(in.Versions) // not read now, still needed later
		}
		return in
	}
	readStructure(ctx, cfg, p, &in, now)
	return in
}

// readStructure reads the structure of the container package p into in.
// On failure in is incomplete: nothing in it is deleted.
func readStructure(ctx context.Context, cfg Config, p ghapi.Package, in *policy.PackageInput, now time.Time) {
	versions := in.Versions
	// unreadable leaves in incomplete: nothing in it is deleted.
	unreadable := func(err error) {
		in.Complete = false
		in.Versions = nil
		in.Error = fmt.Sprintf("image structure unreadable, nothing deleted: %v", err)
	}
	// Read the tagged versions first; then the untagged roots a rule keeps
	// on purpose, which may be superseded indexes, and the untagged roots
	// the plan deletes, which may be OCI 1.1 referrers (signatures,
	// attestations, SBOMs) of a kept image that no fallback index lists.
	// Each read can change the plan (a referrer joins its image, and
	// keep-latest counts roots only), so plan again and read the newly
	// kept or deleted ones, until nothing new needs reading. read holds
	// what was read, true for the versions the plan deleted: a 404 on
	// those means gone, on a kept one it is unreadable. One read as
	// deleted that the plan now keeps is read again as kept.
	var read map[int64]bool
	headsRead := false // the newest of each burst of deleted roots was read
	var api *referrersAPI
	if rl, ok := cfg.Containers.(ReferrersLister); ok {
		api = &referrersAPI{lister: rl, asked: map[int64]bool{}}
	}
	for round := 0; ; round++ {
		st, err := cfg.Containers.Structure(ctx, p.Owner.Login, p.Name, versions, read)
		if err != nil {
			unreadable(err)
			return
		}
		api.addTo(st)
		in.Structure = st
		pp := planAlone(cfg.Policy, *in, now)
		var more, deleted []int64
		toRead := untaggedToRead(pp)
		for id, del := range toRead {
			wasDeleted, done := read[id]
			switch {
			case done && (del || !wasDeleted):
			case del && !headsRead:
				deleted = append(deleted, id)
			default:
				more = append(more, id)
			}
		}
		if len(deleted) > 0 {
			// First only the newest of each burst of pushes: a
			// superseded multi-arch build is pushed children first,
			// index last, and reading the index makes its children
			// members, which then need no read. What is still an
			// untagged root after that is read in the next round.
			headsRead = true
			more = append(more, burstHeads(pp, deleted)...)
		}
		if len(more) == 0 && api != nil {
			// Settled: ask the registry's referrers API, where it
			// answers, for what refers to each kept image, and plan
			// again if it names a version the plan deletes.
			found, err := api.ask(ctx, p.Owner.Login, p.Name, versions, pp)
			if err != nil {
				unreadable(err)
				return
			}
			if found {
				api.addTo(st)
				continue
			}
		}
		if len(more) == 0 {
			return
		}
		if round == maxStructureRounds {
			// Not settled: the versions still to read count as
			// unreadable, and nothing in the package is deleted.
			if st.Unreadable == nil {
				st.Unreadable = map[int64]string{}
			}
			for _, id := range more {
				st.Unreadable[id] = "not read: the image structure did not settle"
			}
			return
		}
		if read == nil {
			read = map[int64]bool{}
		}
		for _, id := range more {
			read[id] = toRead[id]
		}
	}
}

// selectsBroken reports whether a rule covering p selects broken images
// (image-state: broken).
func selectsBroken(pol *policy.Policy, p ghapi.Package) bool {
	for i := range pol.Rules {
		r := &pol.Rules[i]
		if r.ImageState == policy.Broken && r.Covers(p.Owner.Login, p.Type, p.Name) {
			return true
		}
	}
	return false
}

// maxStructureRounds bounds the rounds of reading kept untagged versions;
// each round reads only versions not read before, and one or two settle it
// in practice.
const maxStructureRounds = 5

// planAlone plans the package as if no version belonged to another. The
// structure can only turn its deletions into keeps (or add the members of
// an image it deletes), so a package in which it deletes nothing needs no
// registry reads.
func planAlone(p *policy.Policy, in policy.PackageInput, now time.Time) *policy.PackagePlan {
	prelim := *p
	prelim.MaxDeletions = 0
	plan := policy.Build(&prelim, []policy.PackageInput{in}, now)
	if plan == nil || len(plan.Packages) == 0 {
		return nil
	}
	return &plan.Packages[0]
}

func deletesAny(pp *policy.PackagePlan) bool {
	if pp == nil {
		return true // no plan to go by: read
	}
	for _, v := range pp.Versions {
		if v.Decision == policy.Delete {
			return true
		}
	}
	return false
}

// untaggedToRead returns the untagged roots whose manifests decide the
// plan, true for those the plan deletes: those a rule keeps on purpose
// (keep-latest, keep-tags such as a sha256: pin, keep-semver, too young
// to delete, or a build in flight), any of which may be an image index, a superseded build, whose
// platform manifests must be read to be kept with it; and those the plan
// deletes, any of which may be an OCI 1.1 referrer of a kept image (listed
// by no fallback index), which must be read to be kept with its image.
// Members of a known image and untagged roots kept for no rule of their own
// are not read: nothing deletes members on their account.
func untaggedToRead(pp *policy.PackagePlan) map[int64]bool {
	if pp == nil {
		return nil
	}
	var out map[int64]bool
	for _, v := range pp.Versions {
		if len(v.Tags) > 0 || len(v.Parents) > 0 {
			continue
		}
		r := v.Reason
		if v.Decision == policy.Delete || v.Decision == policy.Keep && (r == policy.ReasonKeepLatest || r == policy.ReasonYoungerThan ||
			r == policy.ReasonBuildInFlight || strings.HasPrefix(r, policy.ReasonKeepTagsPrefix) || strings.HasPrefix(r, policy.ReasonKeepSemverPrefix)) {
			if out == nil {
				out = map[int64]bool{}
			}
			out[v.ID] = v.Decision == policy.Delete
		}
	}
	return out
}

// burstGap separates bursts of pushes: the manifests of one build are
// pushed within seconds.
const burstGap = 2 * time.Minute

// burstHeads returns, of the versions ids, the newest of each burst: those
// no other of ids follows within burstGap (ties broken by ID, which GitHub
// gives in push order). Which versions it returns decides only how many
// reads a package takes, never what is deleted: every version still an
// untagged root afterwards is read too.
func burstHeads(pp *policy.PackagePlan, ids []int64) []int64 {
	at := make(map[int64]time.Time, len(ids))
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for _, v := range pp.Versions {
		if want[v.ID] {
			at[v.ID] = v.CreatedAt
		}
	}
	sorted := append([]int64(nil), ids...)
	sort.Slice(sorted, func(a, b int) bool {
		ta, tb := at[sorted[a]], at[sorted[b]]
		if !ta.Equal(tb) {
			return ta.Before(tb)
		}
		return sorted[a] < sorted[b]
	})
	var heads []int64
	for k, id := range sorted {
		if k == len(sorted)-1 || at[sorted[k+1]].Sub(at[id]) > burstGap {
			heads = append(heads, id)
		}
	}
	return heads
}

func failedInput(owner string, typ policy.PackageType, name string, err error) policy.PackageInput {
	in := policy.PackageInput{Owner: owner, Type: typ, Name: name, Complete: false, Error: err.Error()}
	if rateLimited(err) {
		in.Deferred = true
		in.Error = "left for the next run: GitHub's rate limit stopped the run: " + in.Error
	}
	return in
}

// rateLimited reports whether err is GitHub's rate limit, primary or
// secondary, rather than a failure: what it stopped is deferred to the next
// run, never failed.
func rateLimited(err error) bool {
	return errors.Is(err, ghapi.ErrBudgetExhausted) || errors.Is(err, ghapi.ErrSecondaryRateLimit)
}

func covered(p *policy.Policy, owner string, typ policy.PackageType, name string) bool {
	for i := range p.Rules {
		if p.Rules[i].Covers(owner, typ, name) {
			return true
		}
	}
	return false
}

func patternsFor(p *policy.Policy, t target) []string {
	var out []string
	for _, r := range p.Rules {
		if strings.EqualFold(r.Owner, t.owner) && r.PackageType == t.typ {
			out = append(out, r.Packages...)
		}
	}
	return out
}

// literalNames returns the package names the rules of t name without any
// pattern syntax, and that no exclusion removes: each is fetched by name
// (unless a listing for a pattern found it) and must exist.
func literalNames(p *policy.Policy, t target) []string {
	var out []string
	seen := map[string]bool{}
	for _, pat := range patternsFor(p, t) {
		if strings.HasPrefix(pat, "!") || isPattern(pat) || seen[pat] {
			continue
		}
		seen[pat] = true
		if covered(p, t.owner, t.typ, pat) {
			out = append(out, pat)
		}
	}
	sort.Strings(out)
	return out
}

// globPatterns returns the patterns (globs and /regex/, not exclusions)
// the rules of t give: resolving them takes a listing of the owner's
// packages.
func globPatterns(p *policy.Policy, t target) []string {
	var out []string
	seen := map[string]bool{}
	for _, pat := range patternsFor(p, t) {
		if strings.HasPrefix(pat, "!") || !isPattern(pat) || seen[pat] {
			continue
		}
		seen[pat] = true
		out = append(out, pat)
	}
	sort.Strings(out)
	return out
}

// resolvable returns every name and pattern of t that must be resolved.
func resolvable(p *policy.Policy, t target) []string {
	return append(globPatterns(p, t), literalNames(p, t)...)
}

// isPattern reports whether a package entry is a glob or a /regex/ rather
// than a name.
func isPattern(pat string) bool {
	return strings.ContainsAny(pat, "*?[") || (strings.HasPrefix(pat, "/") && strings.HasSuffix(pat, "/") && len(pat) > 1)
}

// unresolvedInput is a name or pattern that could not be resolved to
// packages: it is in the plan, incomplete, under the name or pattern as
// the policy wrote it, so that the run fails (or, for a rate limit,
// defers) and says which and why.
func unresolvedInput(owner string, typ policy.PackageType, pattern string, err error) policy.PackageInput {
	in := failedInput(owner, typ, pattern, err)
	in.Unresolved = true
	return in
}

func packageKey(owner string, typ policy.PackageType, name string) string {
	return owner + "\x00" + string(typ) + "\x00" + name
}

type nopLogger struct{}

func (nopLogger) Infof(string, ...any)    {}
func (nopLogger) Warningf(string, ...any) {}
func (nopLogger) Errorf(string, ...any)   {}
func (nopLogger) Group(string)            {}
func (nopLogger) EndGroup()               {}
