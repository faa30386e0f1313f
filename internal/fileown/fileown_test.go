//go:build unix

package fileown_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pkgretention/retention/internal/fileown"
)

// runnerUser stands for the runner's user (uid 1001 on GitHub's images).
const runnerUser = 1001

// workspace returns a folder owned by runnerUser, as a runner's workspace
// is, seen from a docker action running as root.
func workspace(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root, as a docker action runs: only root gives files away")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, runnerUser, runnerUser); err != nil {
		t.Fatal(err)
	}
	return dir
}

func owner(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}

func TestMkdirAllGivesNewFoldersTheWorkspaceOwner(t *testing.T) {
	ws := workspace(t)
	dir := filepath.Join(ws, ".cache", "a", "b")
	if err := fileown.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".cache", ".cache/a", ".cache/a/b"} {
		if got := owner(t, filepath.Join(ws, p)); got != runnerUser {
			t.Errorf("%s owned by %d, want %d", p, got, runnerUser)
		}
	}
	// Existing folders keep their owner; running again changes nothing.
	if err := os.Chown(filepath.Join(ws, ".cache"), 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := fileown.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	if got := owner(t, filepath.Join(ws, ".cache")); got != 0 {
		t.Errorf("existing folder's owner changed to %d", got)
	}
}

func TestAdoptGivesAFileItsFoldersOwner(t *testing.T) {
	ws := workspace(t)
	f := filepath.Join(ws, "plan.json")
	if err := os.WriteFile(f, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := owner(t, f); got != 0 {
		t.Fatalf("the file was created owned by %d, want root", got)
	}
	if err := fileown.Adopt(f); err != nil {
		t.Fatal(err)
	}
	if got := owner(t, f); got != runnerUser {
		t.Errorf("file owned by %d, want %d", got, runnerUser)
	}
}

func TestMkdirAllRefusesAFileInThePath(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fileown.MkdirAll(filepath.Join(f, "sub")); err == nil {
		t.Error("no error for a folder below a file")
	}
}
