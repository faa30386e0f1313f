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

	// The CA roots the image's scratch base lacks: used only when the
	// system has none (SSL_CERT_FILE and SSL_CERT_DIR still win).
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/pkgretention/retention/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
