package containers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pkgretention/retention/containers"
	"github.com/pkgretention/retention/internal/fakeregistry"
)

// verifyFixture pushes a tagged multi-arch index with attestations, a
// tagged single image and a signature, and reads the structure.
func verifyFixture(t *testing.T, e *env) (idx, img fakeregistry.Pushed) {
	t.Helper()
	idx = must[fakeregistry.Pushed](t)(e.reg.PushIndex(repo, fakeregistry.IndexOptions{
		Tags: []string{"v1", "latest"}, Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}, Attestations: true,
	}))
	img = must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"tool"}}))
	must[fakeregistry.Pushed](t)(e.reg.PushSignature(repo, idx.Digest))
	e.structure(t, e.versions())
	return idx, img
}

func TestVerifyIntactPackage(t *testing.T) {
	e := newEnv(t)
	idx, img := verifyFixture(t, e)
	e.reg.ResetCounts()
	problems, err := e.r.Verify(context.Background(), owner, pkg, []string{"v1", "latest", "tool"}, []string{idx.Digest, img.Digest})
	if err != nil || len(problems) != 0 {
		t.Fatalf("Verify = %v, %v", problems, err)
	}
	// One HEAD per tag, one per child; the kept manifests are confirmed by
	// their tags and their content is known from Structure.
	want := fakeregistry.Counts{ManifestHeadByTag: 3, ManifestHeadByDigest: len(idx.Children)}
	if c := e.reg.Counts(); c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
}

func TestVerifyFindsBrokenImages(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		name := "after Structure"
		if fresh {
			name = "new process"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			idx, img := verifyFixture(t, e)
			missing := idx.Children[1]
			for _, d := range []string{missing.Digest, img.Digest} {
				if err := e.reg.DeleteManifest(repo, d); err != nil {
					t.Fatal(err)
				}
			}
			r := e.r
			if fresh {
				r = must[*containers.Reader](t)(containers.NewReader(containers.Options{RegistryURL: e.reg.URL(), Token: "ghp_test", Clock: e.clk}))
			}
			e.reg.ResetCounts()
			problems, err := r.Verify(context.Background(), owner, pkg, []string{"v1", "tool"}, []string{idx.Digest, img.Digest})
			if err != nil {
				t.Fatal(err)
			}
			want := []containers.Problem{
				{Digest: missing.Digest, Index: idx.Digest, Reason: containers.ReasonChildGone},
				{Digest: img.Digest, Reason: containers.ReasonManifestGone},
				{Tag: "tool", Reason: containers.ReasonTagGone},
			}
			sortProblems(want)
			if !slices.Equal(problems, want) {
				t.Errorf("problems:\n got %v\nwant %v", problems, want)
			}
			wantReads := 0
			if fresh {
				wantReads = 2 // the index and the image, whose content it did not know
			}
			if c := e.reg.Counts(); c.ManifestGets() != wantReads {
				t.Errorf("manifest GETs %d, want %d", c.ManifestGets(), wantReads)
			}
			for _, p := range problems {
				if !strings.Contains(p.String(), p.Reason) {
					t.Errorf("String() %q lacks the reason", p)
				}
			}
		})
	}
}

func sortProblems(ps []containers.Problem) {
	slices.SortFunc(ps, func(a, b containers.Problem) int {
		if c := strings.Compare(a.Tag, b.Tag); c != 0 {
			return c
		}
		if c := strings.Compare(a.Index, b.Index); c != 0 {
			return c
		}
		return strings.Compare(a.Digest, b.Digest)
	})
}

func TestVerifyUncheckableChildIsAProblem(t *testing.T) {
	e := newEnv(t)
	idx, _ := verifyFixture(t, e)
	e.reg.FailManifest(repo, idx.Children[0].Digest, -1)
	problems, err := e.r.Verify(context.Background(), owner, pkg, []string{"v1"}, []string{idx.Digest})
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].Digest != idx.Children[0].Digest || !strings.Contains(problems[0].Reason, "could not check") || !strings.Contains(problems[0].Reason, "HTTP 500") {
		t.Errorf("problems %v", problems)
	}
}

func TestVerifyWithBadTokenIsAnError(t *testing.T) {
	e := newEnv(t, func(o *containers.Options) { o.Token = "ghp_wrong" })
	img := must[fakeregistry.Pushed](t)(e.reg.PushImage(repo, fakeregistry.ImageOptions{Tags: []string{"v1"}}))
	if _, err := e.r.Verify(context.Background(), owner, pkg, []string{"v1"}, []string{img.Digest}); err == nil {
		t.Error("no error with a refused token")
	}
	if problems, err := e.r.Verify(context.Background(), owner, pkg, nil, nil); err != nil || problems != nil {
		t.Errorf("nothing to verify: %v %v", problems, err)
	}
}

func TestRunReader(t *testing.T) {
	e := newEnv(t)
	idx, img := verifyFixture(t, e)
	var lines []string
	rr := e.r.ForRun(func(format string, args ...any) { lines = append(lines, format) })
	st, err := rr.Structure(context.Background(), owner, pkg, e.versions(), nil)
	if err != nil || len(st.Parents) != len(idx.Children)+1 || len(lines) != 1 {
		t.Fatalf("Structure: %v %v, log %q", st, err, lines)
	}
	if err := e.reg.DeleteManifest(repo, img.Digest); err != nil {
		t.Fatal(err)
	}
	problems, err := rr.Verify(context.Background(), owner, pkg, []string{"tool"}, nil, nil)
	if err != nil || len(problems) != 1 || problems[0] != "tag tool: "+containers.ReasonTagGone {
		t.Errorf("Verify = %q, %v", problems, err)
	}
}
