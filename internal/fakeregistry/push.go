package fakeregistry

import (
	"bytes"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Kind says what a pushed manifest is.
type Kind string

// The kinds of manifest the helpers push.
const (
	KindImage               Kind = "image"                // a single-platform image
	KindIndex               Kind = "index"                // a multi-arch image index
	KindPlatform            Kind = "platform-manifest"    // an image inside an index
	KindAttestationManifest Kind = "attestation-manifest" // buildx attestation, unknown/unknown
	KindSignature           Kind = "signature"            // cosign sha256-<hex>.sig
	KindAttestation         Kind = "attestation"          // cosign sha256-<hex>.att
	KindSBOM                Kind = "sbom"                 // cosign sha256-<hex>.sbom
	KindReferrer            Kind = "referrer"             // OCI 1.1 manifest with a subject
	KindReferrersIndex      Kind = "referrers-index"      // fallback index tagged sha256-<hex>
)

// Annotations buildx puts on an attestation manifest's descriptor.
const (
	AnnotationReferenceType   = "vnd.docker.reference.type"
	AnnotationReferenceDigest = "vnd.docker.reference.digest"
	ReferenceTypeAttestation  = "attestation-manifest"
)

// Pushed is what a helper pushed: one manifest and, for an index, the
// manifests it lists. Each becomes a package version on ghcr with Digest as
// its name and Tags as its tags.
type Pushed struct {
	Kind      Kind
	Digest    string
	MediaType types.MediaType
	Size      int64
	// Tags are the tags given at push time (a later push may move them).
	Tags []string
	// Platform is set on an index's children ("unknown/unknown" for
	// attestation manifests).
	Platform *v1.Platform
	// Subject is the digest this manifest is attached to: the image a
	// signature, attestation, SBOM or referrer signs, the platform manifest
	// an attestation manifest describes, the image a referrers index lists
	// referrers of.
	Subject string
	// Children are the manifests an index lists, in its order.
	Children []Pushed
}

// All returns the manifests of p, children first and p last: the order they
// were pushed in.
func (p Pushed) All() []Pushed {
	var out []Pushed
	for _, c := range p.Children {
		out = append(out, c.All()...)
	}
	c := p
	c.Children = nil
	return append(out, c)
}

// ImageOptions shape a single-platform image.
type ImageOptions struct {
	// Tags of the image; none pushes it untagged.
	Tags []string
	// Platform as os/arch[/variant]; default linux/amd64.
	Platform string
	// Docker uses Docker's media types instead of OCI's.
	Docker bool
	// LayerSize is the size of its one random layer; default 256 bytes.
	LayerSize int64
}

// IndexOptions shape a multi-arch image index.
type IndexOptions struct {
	// Tags of the index; none pushes it untagged.
	Tags []string
	// Platforms as os/arch[/variant]; default linux/amd64 and linux/arm64.
	Platforms []string
	// Attestations adds one buildx attestation manifest per platform.
	Attestations bool
	// Docker uses a Docker manifest list and Docker media types.
	Docker bool
	// LayerSize is the size of each image's random layer; default 256.
	LayerSize int64
}

// registryHost is the host in the references the helpers push to; their
// transport ignores it and talks to the registry in process.
const registryHost = "fakeregistry.invalid"

// PushImage pushes a single-platform image of random content to repo.
func (r *Registry) PushImage(repo string, o ImageOptions) (Pushed, error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	img, err := r.randomImage(orDefault(o.Platform, "linux/amd64"), o.Docker, o.LayerSize)
	if err != nil {
		return Pushed{}, fmt.Errorf("make image: %w", err)
	}
	p, err := r.write(repo, img, o.Tags)
	if err != nil {
		return Pushed{}, err
	}
	p.Kind = KindImage
	return p, nil
}

// PushIndex pushes a multi-arch image index of random images to repo, with
// buildx attestation manifests if asked. Pushing under a tag another index
// has leaves that one, and its children, untagged: a superseded build.
func (r *Registry) PushIndex(repo string, o IndexOptions) (Pushed, error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	platforms := o.Platforms
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64", "linux/arm64"}
	}
	var idx v1.ImageIndex = empty.Index
	if o.Docker {
		idx = mutate.IndexMediaType(idx, types.DockerManifestList)
	} else {
		idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	}
	var children []Pushed
	var atts []mutate.IndexAddendum
	var attChildren []Pushed
	for _, ps := range platforms {
		plat, err := v1.ParsePlatform(ps)
		if err != nil {
			return Pushed{}, fmt.Errorf("platform %q: %w", ps, err)
		}
		img, err := r.randomImage(ps, o.Docker, o.LayerSize)
		if err != nil {
			return Pushed{}, fmt.Errorf("make image: %w", err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
		c, err := describe(img)
		if err != nil {
			return Pushed{}, err
		}
		c.Kind, c.Platform = KindPlatform, plat
		children = append(children, c)
		if !o.Attestations {
			continue
		}
		att, err := r.buildxAttestation(c.Digest)
		if err != nil {
			return Pushed{}, err
		}
		unknown := &v1.Platform{OS: "unknown", Architecture: "unknown"}
		atts = append(atts, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
			Platform: unknown,
			Annotations: map[string]string{
				AnnotationReferenceType:   ReferenceTypeAttestation,
				AnnotationReferenceDigest: c.Digest,
			},
		}})
		a, err := describe(att)
		if err != nil {
			return Pushed{}, err
		}
		a.Kind, a.Platform, a.Subject = KindAttestationManifest, unknown, c.Digest
		attChildren = append(attChildren, a)
	}
	// buildx lists the platform images first, then their attestations.
	idx = mutate.AppendManifests(idx, atts...)
	p, err := r.write(repo, idx, o.Tags)
	if err != nil {
		return Pushed{}, err
	}
	p.Kind = KindIndex
	p.Children = append(children, attChildren...)
	return p, nil
}

// PushIndexOf pushes an image index listing manifests already in repo
// (digests), under tags (none: untagged): what a rebuild that reuses an
// unchanged platform image pushes, two indexes sharing a child.
func (r *Registry) PushIndexOf(repo string, tags []string, digests []string) (Pushed, error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	var children []Pushed
	for _, d := range digests {
		h, err := v1.NewHash(d)
		if err != nil {
			return Pushed{}, fmt.Errorf("digest %q: %w", d, err)
		}
		r.mu.Lock()
		var m *stored
		if rs := r.repos[repo]; rs != nil {
			m = rs.manifests[d]
		}
		r.mu.Unlock()
		if m == nil {
			return Pushed{}, fmt.Errorf("push index of %s: manifest %s: %w", repo, d, ErrNotFound)
		}
		desc := v1.Descriptor{MediaType: m.mediaType, Size: int64(len(m.raw)), Digest: h}
		im.Manifests = append(im.Manifests, desc)
		children = append(children, Pushed{Kind: KindPlatform, Digest: d, MediaType: m.mediaType, Size: desc.Size})
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return Pushed{}, err
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Pushed{}, err
	}
	targets := tags
	if len(targets) == 0 {
		targets = []string{h.String()}
	}
	for _, t := range targets {
		if err := r.adminDo(http.MethodPut, repo, t, raw, types.OCIImageIndex); err != nil {
			return Pushed{}, fmt.Errorf("push index to %s: %w", repo, err)
		}
	}
	p := Pushed{Kind: KindIndex, Digest: h.String(), MediaType: types.OCIImageIndex, Size: size, Children: children}
	p.Tags = append([]string(nil), tags...)
	sort.Strings(p.Tags)
	return p, nil
}

// PushSignature pushes a cosign signature of subject, tagged
// sha256-<hex>.sig. Signing again moves the tag to a new manifest.
func (r *Registry) PushSignature(repo, subject string) (Pushed, error) {
	return r.pushCosign(repo, subject, KindSignature)
}

// PushAttestation pushes a cosign attestation of subject, tagged
// sha256-<hex>.att.
func (r *Registry) PushAttestation(repo, subject string) (Pushed, error) {
	return r.pushCosign(repo, subject, KindAttestation)
}

// PushSBOM pushes a cosign-attached SBOM of subject, tagged
// sha256-<hex>.sbom.
func (r *Registry) PushSBOM(repo, subject string) (Pushed, error) {
	return r.pushCosign(repo, subject, KindSBOM)
}

// CosignTag is the tag cosign gives the signature (".sig"), attestation
// (".att") or SBOM (".sbom") of digest.
func CosignTag(digest, suffix string) string {
	return strings.Replace(digest, ":", "-", 1) + suffix
}

// FallbackTag is the tag of the OCI referrers fallback index of digest.
func FallbackTag(digest string) string { return strings.Replace(digest, ":", "-", 1) }

func (r *Registry) pushCosign(repo, subject string, kind Kind) (Pushed, error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	if _, err := v1.NewHash(subject); err != nil {
		return Pushed{}, fmt.Errorf("subject %q: %w", subject, err)
	}
	nonce := make([]byte, 32)
	r.rng.read(nonce)
	var (
		suffix string
		layer  v1.Layer
		ann    map[string]string
	)
	switch kind {
	case KindSignature:
		suffix = ".sig"
		payload := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":"ghcr.io/%s"},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, repo, subject)
		layer = static.NewLayer([]byte(payload), "application/vnd.dev.cosign.simplesigning.v1+json")
		ann = map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(nonce)}
	case KindAttestation:
		suffix = ".att"
		payload := fmt.Sprintf(`{"payloadType":"application/vnd.in-toto+json","payload":%q,"signatures":[{"sig":%q}]}`,
			base64.StdEncoding.EncodeToString([]byte(`{"subject":[{"digest":{"sha256":"`+strings.TrimPrefix(subject, "sha256:")+`"}}]}`)),
			base64.StdEncoding.EncodeToString(nonce))
		layer = static.NewLayer([]byte(payload), "application/vnd.dsse.envelope.v1+json")
		ann = map[string]string{"predicateType": "https://slsa.dev/provenance/v1"}
	case KindSBOM:
		suffix = ".sbom"
		payload := fmt.Sprintf(`{"spdxVersion":"SPDX-2.3","name":"%s@%s","documentNamespace":"urn:uuid:%x"}`, repo, subject, nonce[:16])
		layer = static.NewLayer([]byte(payload), "text/spdx+json")
	default:
		return Pushed{}, fmt.Errorf("not a cosign kind: %s", kind)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, Annotations: ann})
	if err != nil {
		return Pushed{}, fmt.Errorf("make %s: %w", kind, err)
	}
	p, err := r.write(repo, img, []string{CosignTag(subject, suffix)})
	if err != nil {
		return Pushed{}, err
	}
	p.Kind, p.Subject = kind, subject
	return p, nil
}

// PushReferrer pushes an OCI 1.1 artifact whose subject is subject (which
// must exist in repo), untagged, as actions/attest-build-provenance and
// cosign's OCI mode do on a registry with no referrers API: the referrers
// fallback index tagged sha256-<hex> is created, or replaced by one that
// also lists the new artifact (leaving the previous index untagged).
// artifactType defaults to a Sigstore bundle. It returns the referrer and
// the fallback index as it is now, its Children being every referrer listed.
func (r *Registry) PushReferrer(repo, subject, artifactType string) (referrer, index Pushed, err error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	referrer, err = r.pushReferrer(repo, subject, artifactType)
	if err != nil {
		return Pushed{}, Pushed{}, err
	}
	index, err = r.describeStored(repo, FallbackTag(subject))
	if err != nil {
		return Pushed{}, Pushed{}, fmt.Errorf("read fallback index of %s: %w", subject, err)
	}
	return referrer, index, nil
}

// pushReferrer pushes a Sigstore-bundle-like artifact whose subject is
// subject; the caller holds pushMu.
func (r *Registry) pushReferrer(repo, subject, artifactType string) (Pushed, error) {
	if artifactType == "" {
		artifactType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	}
	r.mu.Lock()
	var subj *stored
	if rs := r.repos[repo]; rs != nil {
		subj = rs.manifests[subject]
	}
	r.mu.Unlock()
	if subj == nil {
		return Pushed{}, fmt.Errorf("push referrer of %s in %s: subject %w", subject, repo, ErrNotFound)
	}
	h, err := v1.NewHash(subject)
	if err != nil {
		return Pushed{}, fmt.Errorf("subject %q: %w", subject, err)
	}
	nonce := make([]byte, 16)
	r.rng.read(nonce)
	bundle := fmt.Sprintf(`{"mediaType":%q,"verificationMaterial":{},"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[{"sig":"%x"}]}}`, artifactType, nonce)
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	// An artifact's config is its type (the OCI 1.0 way to say
	// artifactType, which go-containerregistry then reports as such).
	base = mutate.ConfigMediaType(base, types.MediaType(artifactType))
	img, err := mutate.Append(base, mutate.Addendum{Layer: static.NewLayer([]byte(bundle), types.MediaType(artifactType))})
	if err != nil {
		return Pushed{}, fmt.Errorf("make referrer: %w", err)
	}
	withSubject, ok := mutate.Subject(img, v1.Descriptor{MediaType: subj.mediaType, Size: int64(len(subj.raw)), Digest: h}).(v1.Image)
	if !ok {
		return Pushed{}, fmt.Errorf("make referrer: subject did not keep an image")
	}
	referrer, err := r.write(repo, withSubject, nil)
	if err != nil {
		return Pushed{}, err
	}
	referrer.Kind, referrer.Subject = KindReferrer, subject
	return referrer, nil
}

// describeStored describes the index tag points at, with its children.
func (r *Registry) describeStored(repo, tag string) (Pushed, error) {
	r.mu.Lock()
	var m *stored
	digest := ""
	if rs := r.repos[repo]; rs != nil {
		digest = rs.tags[tag]
		m = rs.manifests[digest]
	}
	r.mu.Unlock()
	if m == nil {
		return Pushed{}, ErrNotFound
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(m.raw))
	if err != nil {
		return Pushed{}, err
	}
	subject := strings.Replace(tag, "-", ":", 1)
	p := Pushed{Kind: KindReferrersIndex, Digest: digest, MediaType: m.mediaType, Size: int64(len(m.raw)), Tags: []string{tag}, Subject: subject}
	for _, d := range im.Manifests {
		p.Children = append(p.Children, Pushed{Kind: KindReferrer, Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size, Subject: subject})
	}
	return p, nil
}

// write pushes img (a v1.Image or v1.ImageIndex) by digest, or under its
// first tag, then adds the other tags.
func (r *Registry) write(repo string, t partial.Describable, tags []string) (Pushed, error) {
	p, err := describe(t)
	if err != nil {
		return Pushed{}, err
	}
	rp, err := name.NewRepository(registryHost + "/" + repo)
	if err != nil {
		return Pushed{}, fmt.Errorf("repository %q: %w", repo, err)
	}
	var ref name.Reference = rp.Digest(p.Digest)
	if len(tags) > 0 {
		ref = rp.Tag(tags[0])
	}
	opts := []remote.Option{remote.WithTransport(r.admin)}
	switch v := t.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, v, opts...)
	case v1.Image:
		err = remote.Write(ref, v, opts...)
	default:
		err = fmt.Errorf("cannot push %T", t)
	}
	if err != nil {
		return Pushed{}, fmt.Errorf("push %s to %s: %w", p.Digest, repo, err)
	}
	for _, tag := range tags[min(1, len(tags)):] {
		if err := remote.Tag(rp.Tag(tag), t.(remote.Taggable), opts...); err != nil {
			return Pushed{}, fmt.Errorf("tag %s of %s: %w", tag, repo, err)
		}
	}
	p.Tags = append([]string(nil), tags...)
	sort.Strings(p.Tags)
	return p, nil
}

func describe(t partial.Describable) (Pushed, error) {
	d, err := t.Digest()
	if err != nil {
		return Pushed{}, fmt.Errorf("digest: %w", err)
	}
	mt, err := t.MediaType()
	if err != nil {
		return Pushed{}, fmt.Errorf("media type: %w", err)
	}
	size, err := t.Size()
	if err != nil {
		return Pushed{}, fmt.Errorf("size: %w", err)
	}
	return Pushed{Digest: d.String(), MediaType: mt, Size: size}, nil
}

func (r *Registry) randomImage(platform string, docker bool, size int64) (v1.Image, error) {
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	if size <= 0 {
		size = 256
	}
	manifestType, configType, layerType := types.OCIManifestSchema1, types.OCIConfigJSON, types.OCILayer
	if docker {
		manifestType, configType, layerType = types.DockerManifestSchema2, types.DockerConfigJSON, types.DockerLayer
	}
	layer, err := random.Layer(size, layerType, random.WithSource(r.rng))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, manifestType), configType), layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	return mutate.ConfigFile(img, cf)
}

// buildxAttestation is an in-toto provenance manifest as buildx attaches
// to each platform image of an index.
func (r *Registry) buildxAttestation(platformDigest string) (v1.Image, error) {
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"_","digest":{"sha256":%q}}],"predicate":{"builder":{"id":""}}}`,
		strings.TrimPrefix(platformDigest, "sha256:"))
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       static.NewLayer([]byte(statement), "application/vnd.in-toto+json"),
		Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
	})
	if err != nil {
		return nil, fmt.Errorf("make attestation manifest: %w", err)
	}
	return img, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// lockedSource is a math/rand source safe for concurrent use: random
// content, deterministic when seeded.
type lockedSource struct {
	mu  sync.Mutex
	src rand.Source
}

func newLockedSource(seed int64) *lockedSource {
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]))
	}
	return &lockedSource{src: rand.NewSource(seed)}
}

func (s *lockedSource) Int63() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.src.Int63()
}

func (s *lockedSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src.Seed(seed)
}

func (s *lockedSource) read(b []byte) {
	for i := range b {
		b[i] = byte(s.Int63())
	}
}

// PushBareReferrer pushes an OCI 1.1 artifact whose subject is subject
// (which must exist in repo), untagged and listed by no referrers fallback
// index: what is left on ghcr.io when two referrers are pushed close
// together and the read-modify-write of the fallback tag keeps only one of
// them. The registry's referrers API (SetReferrersAPI) lists it all the
// same.
func (r *Registry) PushBareReferrer(repo, subject, artifactType string) (Pushed, error) {
	r.pushMu.Lock()
	defer r.pushMu.Unlock()
	r.mu.Lock()
	r.bareReferrer = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.bareReferrer = false
		r.mu.Unlock()
	}()
	return r.pushReferrer(repo, subject, artifactType)
}
