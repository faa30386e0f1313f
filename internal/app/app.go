// Package app is the retention command: the GitHub Action (GITHUB_ACTIONS
// set to true) and the command line, one binary with the same input names.
// It reads and validates the inputs, builds the GitHub client and the
// registry reader, runs or restores through package cleanup, and reports
// the plan: outputs, step summary and plan file on a runner; a table or JSON
// on a terminal.
package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pkgretention/retention/internal/clock"
)

// Exit codes of Main.
const (
	// ExitOK: every planned deletion ended deleted or protected.
	ExitOK = 0
	// ExitFailed: something failed (a package, a version, the post-run
	// check, or the run itself).
	ExitFailed = 1
	// ExitInvalid: an input was invalid; nothing was sent.
	ExitInvalid = 2
)

// Main runs the command with the given arguments (without the program
// name) and environment, writing to stdout and stderr, and returns the exit
// code. With GITHUB_ACTIONS=true it runs as the GitHub Action, reading
// INPUT_* variables; otherwise it reads flags named like the inputs.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return mainWith(ctx, args, getenv, stdout, stderr, deps{clock: clock.Real{}})
}

// deps are what a run is built from besides its inputs: the demo and the
// tests replace them.
type deps struct {
	clock clock.Clock
	// transport carries the requests to the API and the registry; nil
	// means the clients' defaults.
	transport http.RoundTripper
	// progressEvery is the interval of progress lines (0: cleanup's
	// default). The demo, whose clock is simulated, sets it beyond its
	// run: an estimate of time left in simulated seconds would mislead.
	progressEvery time.Duration
}

func mainWith(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, d deps) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(ctx, args[1:], stdout, stderr)
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		return runAction(ctx, args, getenv, stdout, d)
	}
	return runCLI(ctx, args, getenv, stdout, stderr, d)
}

// errorLines prints an error, one line per joined error.
func errorLines(w io.Writer, prefix string, err error) {
	for _, line := range splitErr(err) {
		fmt.Fprintf(w, "%s%s\n", prefix, line)
	}
}
