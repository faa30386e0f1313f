package release

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImageRef(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, image, digest, want, err string
	}{
		{"ghcr", "ghcr.io/pkgretention/retention", testDigest, "docker://ghcr.io/pkgretention/retention@" + testDigest, ""},
		{"host with port", "registry.example:5000/team/app", testDigest, "docker://registry.example:5000/team/app@" + testDigest, ""},
		{"upper case owner", "ghcr.io/PkgRetention/retention", testDigest, "", `image "ghcr.io/PkgRetention/retention"`},
		{"tag given", "ghcr.io/o/r:v1", testDigest, "", `image "ghcr.io/o/r:v1"`},
		{"no repository", "ghcr.io", testDigest, "", `image "ghcr.io"`},
		{"empty digest", "ghcr.io/o/r", "", "", `digest ""`},
		{"short digest", "ghcr.io/o/r", "sha256:abc", "", `digest "sha256:abc"`},
		{"upper hex", "ghcr.io/o/r", strings.ToUpper(testDigest), "", "digest"},
		{"both wrong, both named", "", "x", "", `image ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ImageRef(tt.image, tt.digest)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ImageRef(%q, %q) error %v, want one containing %q", tt.image, tt.digest, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ImageRef(%q, %q) = %q, %v; want %q", tt.image, tt.digest, got, err, tt.want)
			}
		})
	}
	if _, err := ImageRef("", "x"); err == nil || !strings.Contains(err.Error(), `digest "x"`) {
		t.Errorf("both inputs wrong: %v, want both named", err)
	}
}

// TestPinImageChangesOneLine rewrites the repository's own action.yml:
// only the runs.image line changes, and the inputs and outputs read the
// same afterwards.
func TestPinImageChangesOneLine(t *testing.T) {
	t.Parallel()
	orig := repoFile(t, "action.yml")
	ref := "docker://ghcr.io/pkgretention/retention@" + testDigest
	pinned, err := PinImage(orig, ref)
	if err != nil {
		t.Fatal(err)
	}
	a, b := strings.Split(string(orig), "\n"), strings.Split(string(pinned), "\n")
	if len(a) != len(b) {
		t.Fatalf("%d lines before, %d after", len(a), len(b))
	}
	var changed []string
	for i := range a {
		if a[i] != b[i] {
			changed = append(changed, a[i]+" -> "+b[i])
		}
	}
	if len(changed) != 1 || changed[0] != "  image: Dockerfile ->   image: "+ref {
		t.Fatalf("changed lines: %q", changed)
	}
	var before, after map[string]any
	if err := yaml.Unmarshal(orig, &before); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(pinned, &after); err != nil {
		t.Fatal(err)
	}
	after["runs"].(map[string]any)["image"] = "Dockerfile"
	for _, k := range []string{"name", "description", "inputs", "outputs", "runs", "branding"} {
		x, _ := yaml.Marshal(before[k])
		y, _ := yaml.Marshal(after[k])
		if !bytes.Equal(x, y) {
			t.Errorf("%s changed:\n%s\nto\n%s", k, x, y)
		}
	}
	// Pinning a pinned file replaces the pin (a re-run of the release).
	ref2 := "docker://ghcr.io/pkgretention/retention@sha256:" + strings.Repeat("f", 64)
	again, err := PinImage(pinned, ref2)
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Replace(string(pinned), ref, ref2, 1); string(again) != want {
		t.Errorf("re-pinning changed more than the digest:\n%s", again)
	}
}

func TestPinImageForms(t *testing.T) {
	t.Parallel()
	ref := "docker://ghcr.io/o/r@" + testDigest
	tests := []struct {
		name, in, want, err string
	}{
		{"plain", "runs:\n  using: docker\n  image: Dockerfile\n", "runs:\n  using: docker\n  image: " + ref + "\n", ""},
		{"double quoted, comment kept", "runs:\n  using: 'docker'\n  image: \"Dockerfile\" # dev\n", "runs:\n  using: 'docker'\n  image: " + ref + " # dev\n", ""},
		{"single quoted, no final newline", "runs:\n  image: 'Dockerfile'\n  using: docker", "runs:\n  image: " + ref + "\n  using: docker", ""},
		{"an input named image is not runs.image", "inputs:\n  image:\n    description: x\nruns:\n  using: docker\n  image: Dockerfile\n",
			"inputs:\n  image:\n    description: x\nruns:\n  using: docker\n  image: " + ref + "\n", ""},
		{"node action", "runs:\n  using: node20\n  main: index.js\n", "", "runs.using is not docker"},
		{"no image", "runs:\n  using: docker\n", "", "runs.image is missing"},
		{"no runs", "name: x\n", "", "no runs mapping"},
		{"folded over lines", "runs:\n  using: docker\n  image: >-\n    Dockerfile\n", "", "not written on one line"},
		{"not YAML", "runs: [\n", "", "action.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PinImage([]byte(tt.in), ref)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestReleaseWorkflowPinsWithThisProgram keeps release.yml and this package
// in step: the workflow runs pinimage on action.yml with the digest the push
// reported, on the commit it then tags.
func TestReleaseWorkflowPinsWithThisProgram(t *testing.T) {
	t.Parallel()
	wf := string(repoFile(t, ".github/workflows/release.yml"))
	for _, want := range []string{
		"go run ./internal/release/pinimage -image \"$IMAGE\" -digest \"$DIGEST\" action.yml",
		"actions/attest-build-provenance@",
		"actions/attest-sbom@",
		"push-to-registry: true",
		"SHA256SUMS",
	} {
		if !strings.Contains(wf, want) {
			t.Errorf("release.yml does not contain %q", want)
		}
	}
	if strings.Contains(wf, "github.event.repository") {
		t.Error("release.yml uses github.event.repository, which is empty on some events")
	}
}

// TestWorkflowsPinActionsBySHA reads every workflow of the repository:
// each third-party action is pinned by a full commit SHA with the tag in a
// comment, and none reads github.event.repository (empty on schedule).
func TestWorkflowsPinActionsBySHA(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows: %v", err)
	}
	uses := regexp.MustCompile(`(?m)^\s*(?:-\s+)?uses:\s*(\S+)(.*)$`)
	pinned := regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(b), -1) {
			ref, rest := m[1], m[2]
			if strings.HasPrefix(ref, "./") {
				continue
			}
			if !pinned.MatchString(ref) || !strings.Contains(rest, "# v") {
				t.Errorf("%s: uses %s%s: want owner/repo@<40-hex SHA> # vX.Y.Z", filepath.Base(f), ref, rest)
			}
		}
		if strings.Contains(string(b), "github.event.repository") && filepath.Base(f) != "retention.yml" {
			t.Errorf("%s uses github.event.repository, which is empty on scheduled runs", filepath.Base(f))
		}
	}
}

// TestReleaseBinaries: the release builds the six platforms with the
// Dockerfile's flags.
func TestReleaseBinaries(t *testing.T) {
	t.Parallel()
	wf := string(repoFile(t, ".github/workflows/release.yml"))
	d, err := parseDockerfile(string(repoFile(t, "Dockerfile")), "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	flags := "go build " + strings.Join(d.buildFlags, " ")
	flags = strings.Replace(flags, "-ldflags=-s -w", "-ldflags='-s -w'", 1)
	if !strings.Contains(wf, flags+" -o ") {
		t.Errorf("release.yml does not build with the Dockerfile's flags %q", flags)
	}
	if !strings.Contains(wf, "CGO_ENABLED=0") {
		t.Error("release.yml does not build with CGO_ENABLED=0")
	}
	for _, target := range []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64", "windows/arm64"} {
		if !strings.Contains(wf, target) {
			t.Errorf("release.yml does not build %s", target)
		}
	}
}
