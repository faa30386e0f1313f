package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxReferrersBody bounds the referrers list read for one image.
const maxReferrersBody = 4 << 20

// Referrers asks the registry's referrers API (GET
// /v2/<repo>/referrers/<digest>, OCI distribution 1.1) which manifests
// have each of subjects as their subject, and returns their digests by
// subject. It catches an OCI 1.1 referrer (a signature, an SBOM, a build
// provenance attestation) that no referrers fallback index lists.
//
// ghcr.io has no referrers API (it answers 404, or a redirect to a
// rate-limited page), so it is never asked there; another registry that
// answers 404 is not asked again by this Reader, and until it has answered
// once, packages read at the same time ask one after the other. A request
// that fails otherwise, after retries, is logged and answers nothing for
// its subject: the referrers the fallback indexes and the reads of
// untagged versions find still count. The error is for a cancelled context only.
func (r *Reader) Referrers(ctx context.Context, owner, pkgName string, subjects []string) (_ map[string][]string, stats Stats, _ error) {
	if r.noReferrersAPI.Load() || len(subjects) == 0 {
		return nil, stats, nil
	}
	release := func() {}
	if !r.referrersAnswered.Load() {
		select {
		case r.probe <- struct{}{}:
		case <-ctx.Done():
			return nil, stats, ctx.Err()
		}
		var once sync.Once
		release = func() { once.Do(func() { <-r.probe }) }
		defer release()
		if r.noReferrersAPI.Load() { // another package's probe found none
			return nil, stats, nil
		}
	}
	c := &call{r: r}
	defer func() {
		stats.Requests = int(c.requests.Load())
		stats.Retries = int(c.retries.Load())
	}()
	s, err := r.session(ctx, c, owner, pkgName)
	if err != nil {
		if ctx.Err() != nil {
			return nil, stats, ctx.Err()
		}
		r.logf("referrers API of %s not asked: %v", Repository(owner, pkgName), err)
		return nil, stats, nil
	}
	out := make([][]string, len(subjects))
	// The first subject alone: a registry without the API answers 404
	// once, and the others are not asked.
	first, err := s.referrers(ctx, c, subjects[0])
	if err != nil {
		if ctx.Err() != nil {
			return nil, stats, ctx.Err()
		}
		r.logf("referrers of %s in %s not listed: %v", subjects[0], s.repo, err)
	}
	out[0] = first
	release() // the registry answered, or this package gave up: others may ask
	rest := subjects[1:]
	err = r.each(ctx, len(rest), func(ctx context.Context, j int) error {
		j++
		if r.noReferrersAPI.Load() {
			return nil
		}
		refs, err := s.referrers(ctx, c, subjects[j])
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.logf("referrers of %s in %s not listed: %v", subjects[j], s.repo, err)
			return nil
		}
		out[j] = refs
		return nil
	})
	if err != nil {
		return nil, stats, err
	}
	found := map[string][]string{}
	for j, refs := range out {
		if len(refs) > 0 {
			found[subjects[j]] = refs
		}
	}
	return found, stats, nil
}

// referrers lists the referrers of one subject; a 404 turns the API off
// for the Reader.
func (s *session) referrers(ctx context.Context, c *call, subject string) ([]string, error) {
	u := fmt.Sprintf("https://%s/v2/%s/referrers/%s", s.repo.RegistryStr(), s.repo.RepositoryStr(), subject)
	var im v1.IndexManifest
	off := false
	err := c.retry(ctx, "list referrers of "+subject+" of "+s.repo.RepositoryStr(), func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", string(types.OCIImageIndex))
		resp, err := s.tr.RoundTrip(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			off = true
			return nil
		}
		if err := transport.CheckError(resp, http.StatusOK); err != nil {
			return err
		}
		im = v1.IndexManifest{}
		return json.NewDecoder(io.LimitReader(resp.Body, maxReferrersBody)).Decode(&im)
	})
	if err != nil {
		return nil, err
	}
	if off {
		c.r.noReferrersAPI.Store(true)
		return nil, nil
	}
	c.r.referrersAnswered.Store(true)
	refs := make([]string, 0, len(im.Manifests))
	for _, d := range im.Manifests {
		refs = append(refs, d.Digest.String())
	}
	return refs, nil
}
