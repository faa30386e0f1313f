package containers

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/pkgretention/retention/policy"
)

// Stats says what one Structure call cost and found.
type Stats struct {
	// Versions is the number of versions given.
	Versions int
	// ManifestsRead is the number of manifests read (GET by digest, or
	// served by the cache); each GET may count as a download of its
	// version on ghcr.io.
	ManifestsRead int
	// FromCache is the number of manifests of ManifestsRead served by the
	// manifest cache (Options.Cache) rather than the registry.
	FromCache int
	// Bytes is the size of the manifests read.
	Bytes int64
	// Failures is the number of manifests that could not be read after
	// retries (the versions in Structure.Unreadable).
	Failures int
	// Retries is the number of requests sent again after a 5xx, a 429 or
	// a network error.
	Retries int
	// Requests is the number of HTTP requests sent, authentication,
	// retries and the HEADs that confirm a missing child included.
	Requests int
	// ByTag is the number of versions whose only tags are cosign
	// attachment tags (sha256-<hex>.sig, .att, .sbom): tied to the image
	// they name, when it is among the versions, without a read.
	ByTag int
	// Gone is the number of untagged versions read that the plan deletes
	// (StructureAlso's alsoRead, true) whose manifest the registry no
	// longer has (404): such a version references nothing and is no
	// referrer, so it stays a root.
	Gone int
	// Unlisted is the number of manifests listed by an index read that
	// are not among the versions given but that the registry has (a HEAD
	// by digest found them): GitHub's listing has no snapshot and may lag
	// a push, so they are not missing and the index is not broken.
	Unlisted int
	// NotRead is the number of versions not read because they have no tag
	// of their own.
	NotRead int
}

// Structure reads which versions of the container package pkgName of owner
// belong to which, and returns it for the planner: Parents maps a version
// ID to the IDs of the versions that reference it. It reads only what
// decides a version's parents:
//
//   - An attachment tag names its subject, so it needs no read. A version
//     tagged sha256-<hex>.sig, .att or .sbom (cosign's signature,
//     attestation, SBOM) is a child of the version named sha256:<hex>; so
//     is a referrers fallback index tagged sha256-<hex>. When no version
//     has that name, the attachment is an orphan and stays a root.
//   - A referrers fallback index is read to find the referrers it lists
//     (OCI 1.1 artifacts such as build-provenance attestations), which
//     become its children.
//   - A version with a tag of its own is read by digest. An image index
//     makes each version it lists (platform manifests, buildx attestation
//     manifests) its child, and an index it lists is read in turn; a
//     manifest with a subject is a child of it.
//   - A version with no tag of its own is never read. Whatever references
//     it is tagged (an index, a fallback index), and those are read. An
//     untagged index is a superseded build: its children are untagged
//     too, no tagged index lists them, and they go with it under any
//     policy that deletes untagged versions; if a tagged index also lists
//     one of them, reading that index protects it. The exception is
//     StructureAlso's alsoRead: untagged versions a rule keeps on purpose,
//     which may be superseded indexes whose children must stay with them.
//   - A manifest an index lists that is not among the versions is asked
//     about with a HEAD by digest: GitHub's listing has no snapshot (its
//     pages shift while another tool deletes) and may lag a push by
//     seconds. Only a 404 makes it missing (Structure.Missing: the index
//     is a broken image); one the registry has is not missing (counted in
//     Stats.Unlisted); a HEAD that fails otherwise makes the index
//     unreadable.
//
// Reads run concurrently (Options.Concurrency), each retried on 5xx, 429
// and network errors. A manifest still unreadable after that is reported
// in Unreadable with the reason, not as an error: the planner keeps what
// depends on it. An error is returned only when nothing can be read: the
// registry URL or the authentication is wrong, or the repository does not
// exist, so the whole package must be treated as unreadable.
func (r *Reader) Structure(ctx context.Context, owner, pkgName string, versions []policy.Version) (*policy.Structure, Stats, error) {
	return r.StructureAlso(ctx, owner, pkgName, versions, nil)
}

// StructureAlso is Structure reading also the versions alsoRead names,
// tagged or not, true for those the plan deletes: an untagged version the
// policy keeps may be an image index (a superseded build kept by
// keep-latest, or pinned by digest), whose platform manifests must then be
// kept with it; one it deletes may be an OCI 1.1 referrer of a kept image.
// A 404 on a version the plan deletes means it is gone (it lists nothing,
// it stays a root); on a kept one it makes the version unreadable, as
// any failure does: a 404 may be a registry replica behind, and the
// platform manifests of a kept index must not become roots.
func (r *Reader) StructureAlso(ctx context.Context, owner, pkgName string, versions []policy.Version, alsoRead map[int64]bool) (_ *policy.Structure, stats Stats, _ error) {
	sb := newStructureBuild(versions, &stats)
	toRead := sb.fromTags(alsoRead)

	c := &call{r: r}
	defer func() {
		stats.Requests = int(c.requests.Load())
		stats.Retries = int(c.retries.Load())
		stats.NotRead = len(versions) - stats.ByTag - stats.ManifestsRead - stats.Failures - stats.Gone
	}()
	defer func() { stats.FromCache = int(c.fromCache.Load()) }()
	r.opts.Cache.markLive(versions)
	if len(toRead) == 0 {
		return sb.st, stats, nil
	}
	// Authenticate now unless every first read is cached: a package whose
	// manifests are all cached is planned without a registry request, and
	// a wrong token or repository is reported here, before any read.
	s, err := r.lazySession(owner, pkgName)
	if err != nil {
		return nil, stats, err
	}
	for _, i := range toRead {
		if !r.opts.Cache.has(versions[i].Name) {
			if err := r.authenticate(ctx, c, s); err != nil {
				return nil, stats, err
			}
			break
		}
	}

	// Read in waves: an index listed by an index read (an index of
	// indexes) is read in the next wave, whether tagged or not.
	unreadable := func(v *policy.Version, why string) {
		r.logf("manifest %s of %s (id %d) unreadable, keeping what depends on it: %s", v.Name, s.repo, v.ID, why)
	}
	for wave := toRead; len(wave) > 0; {
		results := make([]readResult, len(wave))
		err = r.each(ctx, len(wave), func(ctx context.Context, j int) error {
			res, err := s.read(ctx, c, versions[wave[j]].Name)
			results[j] = res
			return err
		})
		if err != nil {
			return nil, stats, fmt.Errorf("read manifests of %s: %w", s.repo, err)
		}
		wave = sb.fromManifests(wave, results, unreadable, func(v *policy.Version) {
			r.logf("manifest %s of %s (id %d, untagged, deleted by the plan) is not in the registry (404): it references nothing, it stays a root", v.Name, s.repo, v.ID)
		})
	}
	if err := r.confirmMissing(ctx, c, s, sb, unreadable); err != nil {
		return nil, stats, fmt.Errorf("check manifests of %s: %w", s.repo, err)
	}
	for id, ps := range sb.st.Parents {
		sort.Slice(ps, func(a, b int) bool { return ps[a] < ps[b] })
		sb.st.Parents[id] = ps
	}
	return sb.st, stats, nil
}

// structureBuild is the structure of one package as StructureAlso learns
// it, from the tags first, then from the manifests read.
type structureBuild struct {
	versions []policy.Version
	st       *policy.Structure
	stats    *Stats
	pos      map[string]int // digest -> index in versions
	read     []bool         // versions read or to be read
	alsoRead map[int64]bool // untagged versions read on request
}

func newStructureBuild(versions []policy.Version, stats *Stats) *structureBuild {
	b := &structureBuild{
		versions: versions,
		st:       &policy.Structure{Parents: map[int64][]int64{}, Unreadable: map[int64]string{}, Missing: map[int64][]string{}},
		stats:    stats,
		pos:      make(map[string]int, len(versions)),
		read:     make([]bool, len(versions)),
	}
	stats.Versions = len(versions)
	for i := range versions {
		if _, dup := b.pos[versions[i].Name]; !dup {
			b.pos[versions[i].Name] = i
		}
	}
	return b
}

// link records parent as a parent of child, once.
func (b *structureBuild) link(child, parent int64) {
	if child == parent || slices.Contains(b.st.Parents[child], parent) {
		return
	}
	b.st.Parents[child] = append(b.st.Parents[child], parent)
}

// fromTags links what the tags tell (cosign-style attachment tags name
// their image) and returns the versions to read first: those with a tag
// of their own, referrers fallback indexes, and those alsoRead names.
func (b *structureBuild) fromTags(alsoRead map[int64]bool) []int {
	b.alsoRead = alsoRead
	var toRead []int // indexes into versions
	for i := range b.versions {
		v := &b.versions[i]
		_, also := alsoRead[v.ID]
		own, attached, fallback := false, false, false
		for _, t := range v.Tags {
			subject, ok := policy.IsAttachmentTag(t)
			if !ok {
				own = true
				continue
			}
			attached = true
			if len(t) == len("sha256-")+64 {
				fallback = true
			}
			if p, ok := b.pos[subject]; ok {
				b.link(v.ID, b.versions[p].ID)
			}
		}
		switch {
		case own || fallback || also:
			toRead = append(toRead, i)
			b.read[i] = true
		case attached:
			b.stats.ByTag++
		}
	}
	return toRead
}

// fromManifests links what the manifests of one wave say (an index's
// children, an OCI 1.1 subject), records the unreadable ones, and returns
// the next wave: indexes listed by an index and not read yet.
func (b *structureBuild) fromManifests(wave []int, results []readResult, unreadable func(v *policy.Version, why string), gone func(v *policy.Version)) []int {
	var next []int
	for j, i := range wave {
		v, res := &b.versions[i], &results[j]
		if res.unreadable != "" && res.missing && len(v.Tags) == 0 && b.alsoRead[v.ID] {
			// An untagged version read on request that the plan
			// deletes, whose manifest is gone from the registry, lists
			// no child and names no subject: nothing depends on what
			// it would say. A kept one (alsoRead false) that answers
			// 404 is unreadable: were it a superseded index, its
			// platform manifests would become roots the policy may
			// delete. (An index listed by an index and gone still
			// counts as unreadable.)
			b.stats.Gone++
			gone(v)
			continue
		}
		if res.unreadable != "" {
			b.st.Unreadable[v.ID] = res.unreadable
			b.stats.Failures++
			unreadable(v, res.unreadable)
			continue
		}
		b.stats.ManifestsRead++
		b.stats.Bytes += res.size
		for k, d := range res.children {
			p, ok := b.pos[d]
			if !ok {
				// Listed but not an active version: deleted before
				// this run, and the index no longer pulls, unless the
				// registry still has it (see confirmMissing).
				if !slices.Contains(b.st.Missing[v.ID], d) {
					b.st.Missing[v.ID] = append(b.st.Missing[v.ID], d)
				}
				continue
			}
			b.link(b.versions[p].ID, v.ID)
			if res.childIsIndex[k] && !b.read[p] {
				b.read[p] = true
				next = append(next, p)
			}
		}
		if res.subject != "" {
			if p, ok := b.pos[res.subject]; ok {
				b.link(v.ID, b.versions[p].ID)
			}
		}
	}
	return next
}

// confirmMissing asks the registry about each manifest an index lists that
// is not among the versions (Structure.Missing), with a HEAD by digest,
// Concurrency at a time, retried like a read: GitHub's listing has no
// snapshot, and a manifest pushed seconds before the run may not be listed
// yet. A 404 confirms it missing. One the registry has is dropped from
// Missing and counted in Stats.Unlisted: the image is not broken. Any
// other failure makes the indexes that list it unreadable (fail closed).
// The manifest cache is not asked: it says what a manifest holds, not
// whether the registry still has it.
func (r *Reader) confirmMissing(ctx context.Context, c *call, s *session, b *structureBuild, unreadable func(v *policy.Version, why string)) error {
	var digests []string
	seen := map[string]bool{}
	for _, ds := range b.st.Missing {
		for _, d := range ds {
			if !seen[d] {
				seen[d] = true
				digests = append(digests, d)
			}
		}
	}
	if len(digests) == 0 {
		return nil
	}
	sort.Strings(digests)
	if err := r.authenticate(ctx, c, s); err != nil {
		return err
	}
	problems := make([]string, len(digests)) // "" present, ReasonTagGone missing, else why unchecked
	err := r.each(ctx, len(digests), func(ctx context.Context, i int) error {
		ref, err := name.NewDigest(s.repo.Name()+"@"+digests[i], name.StrictValidation)
		if err != nil {
			problems[i] = fmt.Sprintf("could not check: %q is not a manifest digest", digests[i])
			return nil
		}
		ref.Repository = s.repo // keep the registry's Insecure flag
		_, problems[i], err = s.head(ctx, c, ref)
		return err
	})
	if err != nil {
		return err
	}
	problem := make(map[string]string, len(digests))
	for i, d := range digests {
		problem[d] = problems[i]
		if problems[i] == "" {
			b.stats.Unlisted++
		}
	}
	ids := make([]int64, 0, len(b.st.Missing))
	for id := range b.st.Missing {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var still []string
		why := ""
		for _, d := range b.st.Missing[id] {
			switch p := problem[d]; p {
			case "":
				// The registry has it: not (yet) in GitHub's listing.
			case ReasonTagGone:
				still = append(still, d)
			default:
				if why == "" {
					why = fmt.Sprintf("manifest %s it lists, not in GitHub's listing: %s", d, p)
				}
			}
		}
		switch {
		case why != "":
			// Read, but what it lists is not known to pull: it counts
			// as unreadable, not as read.
			delete(b.st.Missing, id)
			b.st.Unreadable[id] = why
			b.stats.ManifestsRead--
			b.stats.Failures++
			unreadable(b.version(id), why)
		case len(still) == 0:
			delete(b.st.Missing, id)
		default:
			b.st.Missing[id] = still
		}
	}
	return nil
}

// version returns the version of ID id.
func (b *structureBuild) version(id int64) *policy.Version {
	for i := range b.versions {
		if b.versions[i].ID == id {
			return &b.versions[i]
		}
	}
	return &policy.Version{ID: id}
}

// readResult is what one manifest says about structure.
type readResult struct {
	size         int64
	children     []string // an index's manifests
	childIsIndex []bool   // which of them are indexes themselves
	subject      string   // an OCI 1.1 subject
	unreadable   string   // why it could not be read
	missing      bool     // the registry answered 404
}

// read fetches the manifest digest and parses it with go-containerregistry.
// Failures of this manifest alone land in unreadable; the error is for
// failures of the whole repository (authentication, no such repository).
func (s *session) read(ctx context.Context, c *call, digest string) (readResult, error) {
	if res, ok := s.recall(digest); ok {
		return res, nil // manifests are immutable: read once per run
	}
	if e, ok := s.cache.get(digest); ok {
		// The cache holds only bytes that hash to their digest: they are
		// what the registry would serve.
		if res, err := parse(e.mediaType, e.raw); err == nil {
			c.fromCache.Add(1)
			s.remember(digest, res)
			return res, nil
		}
	}
	ref, err := name.NewDigest(s.repo.Name()+"@"+digest, name.StrictValidation)
	if err != nil {
		return readResult{unreadable: fmt.Sprintf("version name %q is not a manifest digest", digest)}, nil
	}
	ref.Repository = s.repo // keep the registry's Insecure flag
	if err := s.r.authenticate(ctx, c, s); err != nil {
		return readResult{}, err
	}
	var desc *readDesc
	err = c.retry(ctx, "read manifest "+digest+" of "+s.repo.RepositoryStr(), func(ctx context.Context) error {
		d, err := s.puller.Get(ctx, ref)
		if err != nil {
			return err
		}
		desc = &readDesc{mediaType: d.MediaType, raw: d.Manifest}
		return nil
	})
	if err != nil {
		switch classify(err) {
		case failAuth, failNoRepo:
			return readResult{}, fmt.Errorf("manifest %s: %w%s", digest, err, authHint(err))
		}
		if ctx.Err() != nil {
			return readResult{}, ctx.Err()
		}
		return readResult{unreadable: describeErr(err), missing: classify(err) == failNotFound}, nil
	}
	res, err := parse(desc.mediaType, desc.raw)
	if err != nil {
		return readResult{unreadable: fmt.Sprintf("parse manifest: %v", err)}, nil
	}
	s.cache.put(digest, desc.mediaType, desc.raw)
	s.remember(digest, res)
	return res, nil
}

type readDesc struct {
	mediaType types.MediaType
	raw       []byte
}

// parse reads the children or the subject of a manifest. The media type is
// the response's Content-Type, or when that is not a manifest type, the
// manifest's own mediaType field.
func parse(mt types.MediaType, raw []byte) (readResult, error) {
	res := readResult{size: int64(len(raw))}
	if !mt.IsIndex() && !mt.IsImage() {
		if im, err := v1.ParseIndexManifest(bytes.NewReader(raw)); err == nil && im.MediaType != "" {
			mt = im.MediaType
		}
	}
	switch {
	case mt.IsIndex():
		im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return res, err
		}
		res.children = make([]string, 0, len(im.Manifests))
		res.childIsIndex = make([]bool, 0, len(im.Manifests))
		for _, d := range im.Manifests {
			res.children = append(res.children, d.Digest.String())
			res.childIsIndex = append(res.childIsIndex, d.MediaType.IsIndex())
		}
		if im.Subject != nil {
			res.subject = im.Subject.Digest.String()
		}
	case mt.IsImage():
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return res, err
		}
		if m.Subject != nil {
			res.subject = m.Subject.Digest.String()
		}
	case mt.IsSchema1():
		// Docker schema 1 has neither children nor subject.
	default:
		return res, fmt.Errorf("unknown manifest media type %q", mt)
	}
	return res, nil
}

// remember keeps what a manifest read says, so that a later Structure or
// Verify of the same package does not read it again.
func (s *session) remember(digest string, res readResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manifests[digest] = res
}

func (s *session) recall(digest string) (readResult, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, ok := s.manifests[digest]
	return res, ok
}

// known returns the children of a manifest already read (none for an
// image).
func (s *session) known(digest string) ([]string, bool) {
	res, ok := s.recall(digest)
	return res.children, ok
}
