// Package cleanup lists package versions from GitHub, asks the policy for a
// plan, and executes or dry-runs it.
package cleanup

import (
	"context"

	"github.com/pkgretention/retention/ghapi"
	"github.com/pkgretention/retention/policy"
)

// API is what cleanup needs from GitHub's Packages REST API. The ghapi
// client (ghapi.NewGitHub) implements it over HTTP; retries of 5xx, network
// errors, 429 and secondary limits happen inside it.
type API interface {
	// LookupOwner finds out whether login is an organisation or a user
	// ("@me" is the authenticated user and needs no request).
	LookupOwner(ctx context.Context, login string) (ghapi.Owner, error)
	// ListPackages lists every package of the owner and type (all pages).
	ListPackages(ctx context.Context, owner ghapi.Owner, typ policy.PackageType) ([]ghapi.Package, error)
	// GetPackage fetches one package by name (a literal name in the
	// policy): one request, which works where listing does not (a
	// workflow's GITHUB_TOKEN cannot list an organisation's container
	// packages). A package that does not exist, or that the token cannot
	// see, is ghapi.ErrNotFound.
	GetPackage(ctx context.Context, owner ghapi.Owner, typ policy.PackageType, name string) (ghapi.Package, error)
	// ListVersions lists every version of the package in the given state
	// ("active" or "deleted"), all pages. Any error means the listing is
	// incomplete.
	ListVersions(ctx context.Context, pkg ghapi.Package, state string) ([]policy.Version, error)
	// DeleteVersion deletes one version. It returns ghapi.ErrAlreadyGone,
	// ghapi.ErrDownloadRule, ghapi.ErrLastVersion, ghapi.ErrBudgetExhausted
	// or another error.
	DeleteVersion(ctx context.Context, pkg ghapi.Package, id int64) error
	// RestoreVersion restores one deleted version.
	RestoreVersion(ctx context.Context, pkg ghapi.Package, id int64) error
	// Budget returns the primary rate-limit budget last reported.
	Budget() ghapi.Budget
}

var _ API = (*ghapi.GitHub)(nil)
