package policy

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// benchPackages builds about n versions: 88% in 8 container packages of
// multi-arch images (index, 2 platform manifests, an attestation manifest,
// a signature on tagged images; one image in 5 tagged), 12% in 2 npm
// packages with releases and pre-releases.
func benchPackages(n int) []PackageInput {
	now := testNow
	var pkgs []PackageInput
	id := int64(1)
	containerVersions := n * 88 / 100 / 8
	for p := 0; p < 8; p++ {
		in := PackageInput{Owner: "acme", Type: Container, Name: fmt.Sprintf("app-%d", p), Complete: true,
			Structure: &Structure{Parents: map[int64][]int64{}}}
		for img := 0; len(in.Versions) < containerVersions; img++ {
			at := now.Add(-time.Duration(img) * 37 * time.Minute)
			root := id
			v := Version{ID: id, Name: digestOf(id), CreatedAt: at, UpdatedAt: at}
			tagged := img%5 == 0
			if tagged {
				v.Tags = []string{fmt.Sprintf("main-%d", img)}
				if img%50 == 0 {
					v.Tags = append(v.Tags, fmt.Sprintf("v1.%d.0", img/50))
				}
				if img == 0 {
					v.Tags = append(v.Tags, "latest")
				}
			}
			in.Versions = append(in.Versions, v)
			id++
			for c := 0; c < 3; c++ {
				in.Versions = append(in.Versions, Version{ID: id, Name: digestOf(id), CreatedAt: at, UpdatedAt: at})
				in.Structure.Parents[id] = []int64{root}
				id++
			}
			if tagged {
				in.Versions = append(in.Versions, Version{ID: id, Name: digestOf(id), CreatedAt: at, UpdatedAt: at,
					Tags: []string{"sha256-" + digestOf(root)[7:] + ".sig"}})
				in.Structure.Parents[id] = []int64{root}
				id++
			}
		}
		pkgs = append(pkgs, in)
	}
	npmVersions := n * 12 / 100 / 2
	for p := 0; p < 2; p++ {
		in := PackageInput{Owner: "acme", Type: Npm, Name: fmt.Sprintf("lib-%d", p), Complete: true}
		for i := 0; i < npmVersions; i++ {
			at := now.Add(-time.Duration(i) * time.Hour)
			name := fmt.Sprintf("%d.%d.%d", 3-i/2000, (i/100)%20, i%100)
			if i%7 == 0 {
				name += "-rc.1"
			}
			in.Versions = append(in.Versions, Version{ID: id, Name: name, CreatedAt: at, UpdatedAt: at})
			id++
		}
		pkgs = append(pkgs, in)
	}
	return pkgs
}

func benchPolicy(b *testing.B) *Policy {
	b.Helper()
	file := `rules:
  - packages: "*"
    tag-state: untagged
    older-than: 7d
  - packages: "*"
    tag-state: tagged
    keep-latest: 10
    keep-tags: [latest, "v*"]
  - packages: "*"
    package-type: npm
    delete-semver: <3.0.0
    keep-latest: 5
    keep-semver: ^2.19
`
	p, err := Parse(Inputs{Values: map[string]string{"policy-file": "f", "max-deletions": "20000"},
		PolicyFile: []byte(file), DefaultOwner: "acme"})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func benchBuild(b *testing.B, n int) {
	pol := benchPolicy(b)
	pkgs := benchPackages(n)
	total := 0
	for _, p := range pkgs {
		total += len(p.Versions)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var plan *Plan
	for i := 0; i < b.N; i++ {
		plan = Build(pol, pkgs, testNow)
	}
	b.StopTimer()
	t := plan.Totals()
	if t.Versions != total || t.Delete == 0 || t.Delete > 20000 {
		b.Fatalf("plan of %d versions: %+v", total, t)
	}
	b.ReportMetric(float64(total), "versions")
	// What the finished plan holds: the heap with the plan alive, less the
	// heap with only its input.
	var withPlan, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&withPlan)
	runtime.KeepAlive(plan)
	plan = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	runtime.KeepAlive(pkgs)
	b.ReportMetric(float64(int64(withPlan.HeapAlloc)-int64(without.HeapAlloc))/(1<<20), "plan-MB")
}

// BenchmarkBuild100k plans 100,000 versions: 8 container packages with
// structure and 2 npm packages, 3 rules, max-deletions.
func BenchmarkBuild100k(b *testing.B) { benchBuild(b, 100_000) }

// BenchmarkBuild10k is the same at a tenth of the size, to see the growth.
func BenchmarkBuild10k(b *testing.B) { benchBuild(b, 10_000) }

// BenchmarkPlanJSON100k encodes the plan of BenchmarkBuild100k.
func BenchmarkPlanJSON100k(b *testing.B) {
	plan := Build(benchPolicy(b), benchPackages(100_000), testNow)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data, err := plan.JSON()
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(data)))
	}
}

// BenchmarkPlanWriteJSON100k streams the plan of BenchmarkBuild100k to a
// writer, as the plan file is written.
func BenchmarkPlanWriteJSON100k(b *testing.B) {
	plan := Build(benchPolicy(b), benchPackages(100_000), testNow)
	var n countWriter
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n = 0
		if err := plan.WriteJSON(&n); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(n))
}

// countWriter counts what is written to it and keeps nothing.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
