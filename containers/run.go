package containers

import (
	"context"
	"fmt"

	"github.com/pkgretention/retention/policy"
)

// RunReader adapts a Reader to what a cleanup run asks of the registry
// (cleanup.Containers): Structure logs its Stats instead of returning them,
// Verify returns its problems as lines.
type RunReader struct {
	r    *Reader
	logf func(format string, args ...any)
}

// ForRun returns r as a cleanup run uses it; logf (nil: discard) receives
// one line per package with what was read.
func (r *Reader) ForRun(logf func(format string, args ...any)) RunReader {
	return RunReader{r: r, logf: logf}
}

// Structure is Reader.StructureAlso with its Stats logged; alsoRead is
// true for the versions the plan deletes (see StructureAlso).
func (a RunReader) Structure(ctx context.Context, owner, pkgName string, versions []policy.Version, alsoRead map[int64]bool) (*policy.Structure, error) {
	st, stats, err := a.r.StructureAlso(ctx, owner, pkgName, versions, alsoRead)
	if a.logf == nil || err != nil {
		return st, err
	}
	unlisted := ""
	if stats.Unlisted > 0 {
		unlisted = fmt.Sprintf(", %d listed by an index but not (yet) in GitHub's listing: not judged broken", stats.Unlisted)
	}
	if len(alsoRead) > 0 {
		// A later round of the same run: say why the package is read
		// again, and that only the versions it adds are fetched.
		n := len(alsoRead)
		a.logf("image structure of %s, read again for %d untagged %s a rule keeps or the plan deletes: a kept one may be a superseded multi-arch image whose platform manifests stay with it, a deleted one a signature or attestation (OCI 1.1 referrer) of a kept image that stays with it (%d %s, %d retries; manifests read before come from this run's cache), %d unreadable%s",
			Repository(owner, pkgName), n, plural(n, "version", "versions"), stats.Requests, plural(stats.Requests, "request", "requests"), stats.Retries, stats.Failures, unlisted)
		return st, err
	}
	a.logf("image structure of %s: %d of %d versions read (%d from the manifest cache; %d bytes, %d requests, %d retries), %d attached by tag, %d untagged not read, %d unreadable%s",
		Repository(owner, pkgName), stats.ManifestsRead, stats.Versions, stats.FromCache, stats.Bytes, stats.Requests, stats.Retries, stats.ByTag, stats.NotRead, stats.Failures, unlisted)
	return st, err
}

// Verify is Reader.VerifyKnowing with each problem as one line.
func (a RunReader) Verify(ctx context.Context, owner, pkgName string, keptTags, keptIndexes, missingBefore []string) ([]string, error) {
	problems, err := a.r.VerifyKnowing(ctx, owner, pkgName, keptTags, keptIndexes, missingBefore)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(problems))
	for i, p := range problems {
		out[i] = p.String()
	}
	return out, nil
}

// KeepCached keeps the manifest cache's entries of versions, a package
// listed whole whose structure this run does not read: the entries are
// saved for the next run, which may need them. It sends no request.
func (a RunReader) KeepCached(versions []policy.Version) {
	a.r.opts.Cache.markLive(versions)
}

// KnownChildren returns the manifests an image index lists (none for an
// image) when this run read it or the manifest cache holds it; it sends no
// request. The post-run check uses it for deleted versions, which can no
// longer be read.
func (a RunReader) KnownChildren(owner, pkgName, digest string) ([]string, bool) {
	s, err := a.r.lazySession(owner, pkgName)
	if err != nil {
		return nil, false
	}
	if children, ok := s.known(digest); ok {
		return children, true
	}
	if e, ok := a.r.opts.Cache.peek(digest); ok {
		if res, err := parse(e.mediaType, e.raw); err == nil {
			return res.children, true
		}
	}
	return nil, false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Referrers is Reader.Referrers with what it cost logged when it asked.
func (a RunReader) Referrers(ctx context.Context, owner, pkgName string, subjects []string) (map[string][]string, error) {
	found, stats, err := a.r.Referrers(ctx, owner, pkgName, subjects)
	if a.logf == nil || err != nil || stats.Requests == 0 {
		return found, err
	}
	if a.r.noReferrersAPI.Load() && len(found) == 0 {
		a.logf("referrers API of %s: the registry answers 404 (no referrers API), not asked again in this run (%d %s)",
			Repository(owner, pkgName), stats.Requests, plural(stats.Requests, "request", "requests"))
		return found, err
	}
	n := 0
	for _, refs := range found {
		n += len(refs)
	}
	a.logf("referrers API of %s: %d kept %s asked about, %d %s listed (%d %s, %d retries)",
		Repository(owner, pkgName), len(subjects), plural(len(subjects), "image", "images"), n, plural(n, "referrer", "referrers"),
		stats.Requests, plural(stats.Requests, "request", "requests"), stats.Retries)
	return found, err
}

// InUse is Reader.InUse with its cost logged, returning the digests only.
func (a RunReader) InUse(ctx context.Context, owner, pkgName string, listed map[string]string) (map[string]bool, error) {
	res, err := a.r.InUse(ctx, owner, pkgName, listed)
	if err != nil {
		return nil, err
	}
	if a.logf != nil {
		a.logf("re-checked %s before deleting: %d %s, %d %s in use that the listing did not show (%d registry %s, no API budget)",
			Repository(owner, pkgName), res.Tags, plural(res.Tags, "tag", "tags"), len(res.Digests), plural(len(res.Digests), "manifest", "manifests"),
			res.Requests, plural(res.Requests, "request", "requests"))
	}
	return res.Digests, nil
}
