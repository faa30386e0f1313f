// Command retention enforces retention policies on GitHub Packages. It runs
// as a GitHub Action (GITHUB_ACTIONS=true: inputs from INPUT_*) or from the
// command line with flags named like the inputs; see README.md and
// `retention --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pkgretention/retention/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
