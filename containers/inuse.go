package containers

import (
	"context"
	"fmt"
	"sort"

	"github.com/pkgretention/retention/policy"
)

// InUse is the re-check a run makes before deleting in a container
// package, with registry requests only (they spend none of GitHub's API
// budget): it lists the repository's tags (GET /v2/<repo>/tags/list, every
// page), resolves each by HEAD (attachment tags excepted), and returns the digests that are now in
// use in a way the listing did not show: the target of every tag that is
// new or moved (its digest differs from listed[tag]), and every manifest
// an index so tagged lists (read once per run, nested indexes included).
// A re-assembly (`docker buildx imagetools create -t app:v2` of old
// untagged platform manifests) and a retag (`crane tag app@<old> hotfix`)
// both show here. A tag deleted between the list and its HEAD is skipped.
// Any other failure is an error: the caller must not trust the listing.
func (r *Reader) InUse(ctx context.Context, owner, pkgName string, listed map[string]string) (InUseResult, error) {
	c := &call{r: r}
	s, err := r.session(ctx, c, owner, pkgName)
	if err != nil {
		return InUseResult{}, err
	}
	var tags []string
	err = c.retry(ctx, "list the tags of "+s.repo.RepositoryStr(), func(ctx context.Context) error {
		var err error
		tags, err = s.puller.List(ctx, s.repo)
		return err
	})
	if err != nil {
		return InUseResult{}, fmt.Errorf("list the tags of %s: %w", s.repo, err)
	}
	// An attachment tag (sha256-<digest>.sig, a referrers fallback index)
	// puts nothing in use: it names the image it is attached to, and a
	// signature of an old untagged image does not make it pullable by tag.
	all := tags
	tags = tags[:0:0]
	for _, t := range all {
		if _, attached := policy.IsAttachmentTag(t); !attached {
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	digests := make([]string, len(tags))
	problems := make([]string, len(tags))
	err = r.each(ctx, len(tags), func(ctx context.Context, i int) error {
		var err error
		digests[i], problems[i], err = s.head(ctx, c, s.repo.Tag(tags[i]))
		return err
	})
	if err != nil {
		return InUseResult{}, fmt.Errorf("re-check the tags of %s: %w", s.repo, err)
	}
	inUse := map[string]bool{}
	var changed []string
	for i, t := range tags {
		switch {
		case problems[i] == ReasonTagGone:
			continue
		case problems[i] != "":
			return InUseResult{}, fmt.Errorf("re-check tag %s of %s: %s", t, s.repo, problems[i])
		case digests[i] == listed[t]:
			continue
		}
		if !inUse[digests[i]] {
			inUse[digests[i]] = true
			changed = append(changed, digests[i])
		}
	}
	// Read what the new and moved tags name, and what those indexes list.
	for len(changed) > 0 {
		d := changed[0]
		changed = changed[1:]
		res, err := s.read(ctx, c, d)
		if err != nil {
			return InUseResult{}, fmt.Errorf("re-check manifest %s of %s: %w", d, s.repo, err)
		}
		if res.unreadable != "" && !res.missing {
			return InUseResult{}, fmt.Errorf("re-check manifest %s of %s: %s", d, s.repo, res.unreadable)
		}
		for k, ch := range res.children {
			if !inUse[ch] {
				inUse[ch] = true
				if res.childIsIndex[k] { // an image lists nothing: not read
					changed = append(changed, ch)
				}
			}
		}
	}
	return InUseResult{Tags: len(tags), Digests: inUse, Requests: int(c.requests.Load())}, nil
}

// InUseResult is what Reader.InUse found.
type InUseResult struct {
	// Tags is the number of tags the repository has now.
	Tags int
	// Digests are the manifests in use since the listing: targets of new
	// or moved tags and what those indexes list.
	Digests map[string]bool
	// Requests is the number of HTTP requests sent, retries included.
	Requests int
}
