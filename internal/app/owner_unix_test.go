//go:build unix

package app

import (
	"os"
	"syscall"
	"testing"
)

// runnerUID is the runner's user on GitHub's images.
const runnerUID = 1001

// ownerOf returns the uid that owns path.
func ownerOf(t *testing.T, path string) int {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int(fi.Sys().(*syscall.Stat_t).Uid)
}
