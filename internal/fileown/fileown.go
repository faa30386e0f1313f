// Package fileown gives what the action writes into a runner's folders
// the owner of the folder it is written in.
//
// A docker action runs as root, and the runner's own steps run as its
// user. On a self-hosted runner, which keeps its workspace between jobs, a
// root-owned folder left in the workspace makes the next checkout fail to
// clean it ("rm: cannot remove …: Permission denied", actions/runner#434);
// a root-owned file in it cannot be changed by a later step. Run as root,
// MkdirAll and Adopt hand what they create to the owner of the folder it
// is in, as if the runner's user had written it. Run as anyone else, or on
// a system without file owners, they change no owner.
package fileown

import (
	"fmt"
	"os"
	"path/filepath"
)

// MkdirAll creates dir and any missing parents (mode 0755), each owned,
// when run as root, by the owner of the nearest folder that existed.
func MkdirAll(dir string) error {
	dir = filepath.Clean(dir)
	var created []string // the missing folders, innermost first
	existing := dir
	for {
		fi, err := os.Stat(existing)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("create %s: %s is not a folder", dir, existing)
			}
			break
		}
		if !os.IsNotExist(err) {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		created = append(created, existing)
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := len(created) - 1; i >= 0; i-- {
		if err := adopt(created[i], existing); err != nil {
			return err
		}
	}
	return nil
}

// Adopt gives path, when run as root, the owner of the folder it is in.
func Adopt(path string) error {
	return adopt(path, filepath.Dir(path))
}
