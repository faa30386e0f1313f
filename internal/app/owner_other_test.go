//go:build !unix

package app

import "testing"

const runnerUID = 1001

// ownerOf is 0 where files have no unix owner.
func ownerOf(t *testing.T, path string) int { return 0 }
