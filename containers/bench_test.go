package containers_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/clock"
	"github.com/pkgretention/retention/internal/fakeregistry"
	"github.com/pkgretention/retention/policy"
)

// seedLarge pushes a package of about 2,000 versions as a busy project has
// them: releases (3-platform indexes with attestations, signed and
// attested), superseded nightly builds, single-platform PR images with
// SBOMs, and build-provenance referrers.
func seedLarge(b *testing.B, reg *fakeregistry.Registry) (versions []policy.Version, needed int) {
	b.Helper()
	check := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 110 {
		idx, err := reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{fmt.Sprintf("v1.%d.0", i)}, Attestations: true,
			Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, LayerSize: 32})
		check(idx, err)
		check(reg.PushSignature(repo, idx.Digest))
		check(reg.PushAttestation(repo, idx.Digest))
		if i%4 == 0 {
			_, _, err := reg.PushReferrer(repo, idx.Digest, "")
			check(nil, err)
		}
	}
	for range 140 {
		check(reg.PushIndex(repo, fakeregistry.IndexOptions{Tags: []string{"nightly"}, Attestations: true, LayerSize: 32}))
	}
	for i := range 150 {
		img, err := reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{fmt.Sprintf("pr-%d", i)}, LayerSize: 32})
		check(img, err)
		check(reg.PushSBOM(repo, img.Digest))
	}
	for _, m := range reg.Manifests(repo) {
		versions = append(versions, policy.Version{ID: id(m.Seq), Name: m.Digest, Tags: m.Tags})
		for _, t := range m.Tags {
			if _, ok := policy.IsAttachmentTag(t); !ok || len(t) == 71 {
				needed++ // a tag of its own, or a referrers fallback index
				break
			}
		}
	}
	return versions, needed
}

func BenchmarkStructure2000(b *testing.B) {
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: "ghp_test", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	vs, needed := seedLarge(b, reg)
	reg.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	var stats containers.Stats
	for b.Loop() {
		r := benchReader(b, reg)
		var st *policy.Structure
		st, stats, err = r.Structure(context.Background(), owner, pkg, vs)
		if err != nil || len(st.Unreadable) != 0 {
			b.Fatalf("Structure: %v %v", err, st.Unreadable)
		}
	}
	b.StopTimer()
	if stats.ManifestsRead != needed {
		b.Errorf("read %d manifests, want %d", stats.ManifestsRead, needed)
	}
	b.ReportMetric(float64(len(vs)), "versions")
	b.ReportMetric(float64(stats.ManifestsRead), "reads/op")
	b.ReportMetric(float64(stats.Requests), "requests/op")
}

// BenchmarkStructure2000UntaggedRoots is what a run with tag-state:
// untagged reads on the package of BenchmarkStructure2000: the tagged
// versions, then, in a second round, the untagged roots the plan deletes
// (superseded nightly builds and their children, here), each once, to find
// any OCI 1.1 referrer of a kept image among them.
func BenchmarkStructure2000UntaggedRoots(b *testing.B) {
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: "ghp_test", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	vs, needed := seedLarge(b, reg)
	reg.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	var first, second containers.Stats
	var roots int
	for b.Loop() {
		r := benchReader(b, reg)
		st, stats, err := r.Structure(context.Background(), owner, pkg, vs)
		if err != nil || len(st.Unreadable) != 0 {
			b.Fatalf("Structure: %v %v", err, st.Unreadable)
		}
		first = stats
		untagged := map[int64]bool{}
		for _, v := range vs {
			if len(v.Tags) == 0 && len(st.Parents[v.ID]) == 0 {
				untagged[v.ID] = true
			}
		}
		roots = len(untagged)
		st, second, err = r.StructureAlso(context.Background(), owner, pkg, vs, untagged)
		if err != nil || len(st.Unreadable) != 0 {
			b.Fatalf("StructureAlso: %v %v", err, st.Unreadable)
		}
	}
	b.StopTimer()
	if first.ManifestsRead != needed {
		b.Errorf("first round read %d manifests, want %d", first.ManifestsRead, needed)
	}
	b.ReportMetric(float64(len(vs)), "versions")
	b.ReportMetric(float64(roots), "untagged-roots")
	b.ReportMetric(float64(first.ManifestsRead+roots), "reads/op")
	b.ReportMetric(float64(first.Requests+second.Requests), "requests/op")
}

// BenchmarkInUse2000 is the re-check a run makes while deleting in the
// package of BenchmarkStructure2000, nothing having changed since the
// listing: the tags list and one HEAD per tag that is not an attachment
// tag, no manifest read.
func BenchmarkInUse2000(b *testing.B) {
	reg, err := fakeregistry.Start(fakeregistry.Options{Token: "ghp_test", Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	vs, _ := seedLarge(b, reg)
	listed := map[string]string{}
	for _, v := range vs {
		for _, t := range v.Tags {
			listed[t] = v.Name
		}
	}
	reg.ResetCounts()
	b.ReportAllocs()
	b.ResetTimer()
	var res containers.InUseResult
	for b.Loop() {
		r := benchReader(b, reg)
		if res, err = r.InUse(context.Background(), owner, pkg, listed); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(res.Digests) != 0 {
		b.Errorf("%d manifests in use since the listing, want none", len(res.Digests))
	}
	b.ReportMetric(float64(len(vs)), "versions")
	b.ReportMetric(float64(res.Tags), "tags")
	b.ReportMetric(float64(res.Requests), "requests/op")
}

// benchReader is a new reader of reg, as a run starts with: its token
// exchange is counted in the requests.
func benchReader(b *testing.B, reg *fakeregistry.Registry) *containers.Reader {
	b.Helper()
	r, err := containers.NewReader(containers.Options{
		RegistryURL: reg.URL(), Token: "ghp_test", Clock: clock.NewFake(time.Now()),
		Transport: &http.Transport{MaxIdleConnsPerHost: containers.DefaultConcurrency},
	})
	if err != nil {
		b.Fatal(err)
	}
	return r
}
