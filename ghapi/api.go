// Package ghapi is the client of GitHub's Packages REST API that a run
// needs: it looks up owners, lists packages and versions, deletes and
// restores versions, and makes every request survive GitHub's rate limits
// and faults (Transport). It builds on go-github and knows nothing of
// policies beyond the types of package and version.
package ghapi

import (
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
