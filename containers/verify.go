package containers

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	"golang.org/x/sync/errgroup"
)

// Problem is something the post-run check found broken.
type Problem struct {
	// Tag is the kept tag concerned, if any.
	Tag string
	// Digest is the manifest concerned: a kept manifest, or a child of a
	// kept index.
	Digest string
	// Index is, for a missing child, the kept index that lists it.
	Index string
	// Reason says what is wrong.
	Reason string
}

// String describes the problem in one line.
func (p Problem) String() string {
	switch {
	case p.Tag != "":
		return fmt.Sprintf("tag %s: %s", p.Tag, p.Reason)
	case p.Index != "":
		return fmt.Sprintf("manifest %s listed by kept index %s: %s", p.Digest, p.Index, p.Reason)
	default:
		return fmt.Sprintf("manifest %s: %s", p.Digest, p.Reason)
	}
}

// Reasons of problems.
const (
	ReasonTagGone      = "tag no longer resolves"
	ReasonManifestGone = "kept manifest no longer exists"
	ReasonChildGone    = "missing: the image no longer pulls"
)

// Verify is the post-run check of a container package: every tag in
// keptTags still resolves (HEAD by tag), and every manifest listed by the
// kept manifests keptIndexes (digests; images are accepted and have
// nothing to check) still exists (HEAD by digest). The children of a kept
// index come from the read Structure made in this process, or from one GET
// of it. A kept manifest is checked by HEAD only when no kept tag resolved
// to it. Every request is retried like Structure's; a check that still
// fails is a Problem, as is anything missing. The error is for a registry
// that cannot be read at all (authentication, no such repository).
func (r *Reader) Verify(ctx context.Context, owner, pkgName string, keptTags, keptIndexes []string) ([]Problem, error) {
	return r.VerifyKnowing(ctx, owner, pkgName, keptTags, keptIndexes, nil)
}

// VerifyKnowing is Verify told which manifests were missing before the
// run (missingBefore: children of broken images, as the structure read at
// planning time found them). Those are neither checked nor reported: the
// run did not break them, and a run fails only for what it broke.
func (r *Reader) VerifyKnowing(ctx context.Context, owner, pkgName string, keptTags, keptIndexes, missingBefore []string) ([]Problem, error) {
	if len(keptTags) == 0 && len(keptIndexes) == 0 {
		return nil, nil
	}
	c := &call{r: r}
	s, err := r.session(ctx, c, owner, pkgName)
	if err != nil {
		return nil, err
	}
	v := &verification{r: r, c: c, s: s, tags: dedupe(keptTags), indexes: dedupe(keptIndexes),
		confirmed: map[string]bool{}, failed: map[string]bool{}, before: map[string]bool{}}
	for _, d := range missingBefore {
		v.before[d] = true
	}
	if err := v.tagsAndUnknownIndexes(ctx); err != nil {
		return nil, fmt.Errorf("verify %s: %w", s.repo, err)
	}
	if err := v.children(ctx); err != nil {
		return nil, fmt.Errorf("verify %s: %w", s.repo, err)
	}
	sort.Slice(v.problems, func(a, b int) bool {
		pa, pb := v.problems[a], v.problems[b]
		if pa.Tag != pb.Tag {
			return pa.Tag < pb.Tag
		}
		if pa.Index != pb.Index {
			return pa.Index < pb.Index
		}
		return pa.Digest < pb.Digest
	})
	return v.problems, nil
}

// verification is one Verify call: what it checks and what it found.
type verification struct {
	r *Reader
	c *call
	s *session

	tags, indexes []string // kept, deduplicated
	problems      []Problem
	// confirmed are the manifests a tag resolved to or a read found;
	// failed are the kept indexes that could not be read.
	confirmed, failed map[string]bool
	// before are the manifests missing before the run.
	before map[string]bool
}

// tagsAndUnknownIndexes is the first phase: HEAD every kept tag, and read
// the kept indexes whose children this process does not know yet.
func (v *verification) tagsAndUnknownIndexes(ctx context.Context) error {
	var unknown []string
	for _, d := range v.indexes {
		if _, ok := v.s.known(d); !ok {
			unknown = append(unknown, d)
		}
	}
	tags := v.tags
	tagDigest := make([]string, len(tags))
	tagProblem := make([]string, len(tags))
	readProblem := make([]string, len(unknown))
	readMissing := make([]bool, len(unknown))
	err := v.r.each(ctx, len(tags)+len(unknown), func(ctx context.Context, i int) error {
		if i < len(tags) {
			d, problem, err := v.s.head(ctx, v.c, v.s.repo.Tag(tags[i]))
			tagDigest[i], tagProblem[i] = d, problem
			return err
		}
		i -= len(tags)
		res, err := v.s.read(ctx, v.c, unknown[i])
		if err != nil {
			return err
		}
		readProblem[i], readMissing[i] = res.unreadable, res.missing
		return nil
	})
	if err != nil {
		return err
	}
	for i, t := range tags {
		if tagProblem[i] != "" {
			v.problems = append(v.problems, Problem{Tag: t, Reason: tagProblem[i]})
			continue
		}
		v.confirmed[tagDigest[i]] = true
	}
	for i, d := range unknown {
		if readProblem[i] == "" {
			v.confirmed[d] = true
			continue
		}
		v.failed[d] = true
		reason := "could not check: " + readProblem[i]
		if readMissing[i] {
			reason = ReasonManifestGone
		}
		v.problems = append(v.problems, Problem{Digest: d, Reason: reason})
	}
	return nil
}

// children is the second phase: HEAD every child of a kept index, and
// each kept manifest no tag or read confirmed.
func (v *verification) children(ctx context.Context) error {
	var heads []string
	listedBy := map[string][]string{}
	seen := map[string]bool{}
	for _, d := range v.indexes {
		if v.failed[d] {
			continue
		}
		if !v.confirmed[d] && !seen[d] {
			seen[d] = true
			heads = append(heads, d)
		}
		children, _ := v.s.known(d)
		for _, child := range children {
			if v.before[child] {
				continue
			}
			listedBy[child] = append(listedBy[child], d)
			if !seen[child] {
				seen[child] = true
				heads = append(heads, child)
			}
		}
	}
	headProblem := make([]string, len(heads))
	err := v.r.each(ctx, len(heads), func(ctx context.Context, i int) error {
		ref, perr := name.NewDigest(v.s.repo.Name()+"@"+heads[i], name.StrictValidation)
		if perr != nil {
			headProblem[i] = "not a manifest digest"
			return nil
		}
		ref.Repository = v.s.repo
		_, problem, err := v.s.head(ctx, v.c, ref)
		headProblem[i] = problem
		return err
	})
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, d := range v.indexes {
		kept[d] = true
	}
	for i, d := range heads {
		if headProblem[i] == "" {
			continue
		}
		if kept[d] {
			reason := headProblem[i]
			if reason == ReasonTagGone {
				reason = ReasonManifestGone
			}
			v.problems = append(v.problems, Problem{Digest: d, Reason: reason})
		}
		for _, idx := range listedBy[d] {
			reason := headProblem[i]
			if reason == ReasonTagGone {
				reason = ReasonChildGone
			}
			v.problems = append(v.problems, Problem{Digest: d, Index: idx, Reason: reason})
		}
	}
	return nil
}

// head checks that ref exists. It returns the digest it resolves to, or
// the problem: ReasonTagGone for a 404 (callers rename it), "could not
// check: …" for other failures. The error is for repository-wide failures.
func (s *session) head(ctx context.Context, c *call, ref name.Reference) (digest, problem string, err error) {
	err = c.retry(ctx, "check "+ref.String(), func(ctx context.Context) error {
		d, err := s.puller.Head(ctx, ref)
		if err != nil {
			return err
		}
		digest = d.Digest.String()
		return nil
	})
	if err == nil {
		return digest, "", nil
	}
	if ctx.Err() != nil {
		return "", "", ctx.Err()
	}
	switch classify(err) {
	case failAuth:
		return "", "", fmt.Errorf("%s: %w%s", ref, err, authHint(err))
	case failNotFound, failNoRepo:
		return "", ReasonTagGone, nil
	}
	return "", "could not check: " + describeErr(err), nil
}

// each runs f for 0..n-1, Concurrency at a time, and returns the first
// error (which stops the rest).
func (r *Reader) each(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Concurrency)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return f(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
