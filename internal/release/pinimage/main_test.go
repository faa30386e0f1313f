package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		name     string
		args     func(path string) []string
		code     int
		stderr   string
		rewrites bool
	}{
		{"rewrites in place", func(p string) []string { return []string{"-image", "ghcr.io/o/r", "-digest", digest, p} }, 0, "", true},
		{"bad digest, file untouched", func(p string) []string { return []string{"-image", "ghcr.io/o/r", "-digest", "latest", p} }, 2, `digest "latest"`, false},
		{"missing image", func(p string) []string { return []string{"-digest", digest, p} }, 2, `image ""`, false},
		{"two files", func(p string) []string { return []string{"-image", "ghcr.io/o/r", "-digest", digest, p, p} }, 2, "at most one file", false},
		{"no such file", func(p string) []string {
			return []string{"-image", "ghcr.io/o/r", "-digest", digest, filepath.Join(filepath.Dir(p), "nope.yml")}
		}, 1, "nope.yml", false},
	}
	const action = "name: x\nruns:\n  using: docker\n  image: Dockerfile\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "action.yml")
			if err := os.WriteFile(path, []byte(action), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run(tt.args(path), &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.stderr)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := action
			if tt.rewrites {
				want = strings.Replace(action, "Dockerfile", "docker://ghcr.io/o/r@"+digest, 1)
				if !strings.Contains(stdout.String(), "docker://ghcr.io/o/r@"+digest) {
					t.Errorf("stdout %q does not name the new image", stdout.String())
				}
			}
			if string(got) != want {
				t.Errorf("file now\n%s\nwant\n%s", got, want)
			}
		})
	}
}
