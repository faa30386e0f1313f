package app

import (
	"context"
	"fmt"
	"io"
)

// runDemo runs the whole job offline against a built-in sample
// organisation.
//
// TODO(fakegh): serve the sample organisation with internal/fakegh and
// internal/fakeregistry once they land.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	_, _, _ = ctx, args, stdout
	fmt.Fprintln(stderr, "retention demo: not available in this build yet")
	return ExitFailed
}
