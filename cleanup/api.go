// Package cleanup lists package versions from GitHub, asks the policy for a
// plan, and executes or dry-runs it.
package cleanup

import (
	"context"
	"errors"
	"time"

	"github.com/pkgretention/retention/policy"
)

// OwnerKind says which family of endpoints reaches an owner's packages.
type OwnerKind int

// The three kinds of owner.
const (
	Organization      OwnerKind = iota + 1 // /orgs/{org}/...
	User                                   // /users/{user}/...
	AuthenticatedUser                      // /user/... (owner "@me")
)

// Owner is an organisation or user whose kind has been looked up.
type Owner struct {
	Login string
	Kind  OwnerKind
}

// Package is one package of one owner.
type Package struct {
	Owner        Owner
	Type         policy.PackageType
	Name         string
	Visibility   string
	VersionCount int
}

// Budget is the primary rate-limit budget as the last response reported it.
// Known is false until a response carried the headers.
type Budget struct {
	Known     bool
	Limit     int
	Remaining int
	Reset     time.Time
}

// API is what cleanup needs from GitHub's Packages REST API. The go-github
// adapter (NewGitHub) implements it over HTTP; retries of 5xx, network
// errors, 429 and secondary limits happen inside it.
type API interface {
	// LookupOwner finds out whether login is an organisation or a user
	// ("@me" is the authenticated user and needs no request).
	LookupOwner(ctx context.Context, login string) (Owner, error)
	// ListPackages lists every package of the owner and type (all pages).
	ListPackages(ctx context.Context, owner Owner, typ policy.PackageType) ([]Package, error)
	// GetPackage fetches one package by name (a literal name in the
	// policy): one request, which works where listing does not (a
	// workflow's GITHUB_TOKEN cannot list an organisation's container
	// packages). A package that does not exist, or that the token cannot
	// see, is ErrNotFound.
	GetPackage(ctx context.Context, owner Owner, typ policy.PackageType, name string) (Package, error)
	// ListVersions lists every version of the package in the given state
	// ("active" or "deleted"), all pages. Any error means the listing is
	// incomplete.
	ListVersions(ctx context.Context, pkg Package, state string) ([]policy.Version, error)
	// DeleteVersion deletes one version. It returns ErrAlreadyGone,
	// ErrDownloadRule, ErrLastVersion, ErrBudgetExhausted or another error.
	DeleteVersion(ctx context.Context, pkg Package, id int64) error
	// RestoreVersion restores one deleted version.
	RestoreVersion(ctx context.Context, pkg Package, id int64) error
	// Budget returns the primary rate-limit budget last reported.
	Budget() Budget
}

// Errors DeleteVersion and RestoreVersion classify GitHub's answers into.
var (
	// ErrAlreadyGone: 404 on DELETE, the version no longer exists. A 404
	// without GitHub's own "Package version not found." is checked with a
	// GET first: a version that still exists makes it ErrNoPermission.
	ErrAlreadyGone = errors.New("package version not found")
	// ErrDownloadRule: 400, a public version with more than 5,000 downloads.
	ErrDownloadRule = errors.New("publicly visible package versions with more than 5000 downloads cannot be deleted")
	// ErrLastVersion: 400, the last (tagged) version of a package.
	ErrLastVersion = errors.New("the last version of a package cannot be deleted")
	// ErrBudgetExhausted: the primary rate limit is spent until its reset.
	ErrBudgetExhausted = errors.New("primary rate limit exhausted")
)
