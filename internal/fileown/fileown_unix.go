//go:build unix

package fileown

import (
	"fmt"
	"os"
	"syscall"
)

// adopt gives path the owner of folder when run as root.
func adopt(path, folder string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(folder)
	if err != nil {
		return fmt.Errorf("owner of %s: %w", folder, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if err := os.Lchown(path, int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("give %s the owner of %s: %w", path, folder, err)
	}
	return nil
}
